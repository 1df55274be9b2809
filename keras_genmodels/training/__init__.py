"""Training utilities: crash-safe resumable `fit`, finite-weight checks.

- `fit_resumable(model, epoch_dataset, epochs, checkpoint_dir, ...)`: see
  `keras_genmodels.training.resume`.
- `check_finite_weights(model)`, `non_finite_weights(model)`,
  `NonFiniteWeightsError`: see `keras_genmodels.training.finite`.

Importing this package imports neither Keras nor TensorFlow.
"""

from keras_genmodels.training.finite import (NonFiniteWeightsError, check_finite_weights,
                                             non_finite_weights)


def __getattr__(name):
    if name in ("fit_resumable", "CheckpointStore", "latest_checkpoint"):
        from keras_genmodels.training import resume

        return getattr(resume, name)
    raise AttributeError(name)


__all__ = ["CheckpointStore", "NonFiniteWeightsError", "check_finite_weights",
           "fit_resumable", "latest_checkpoint", "non_finite_weights"]
