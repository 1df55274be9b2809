"""Finite-weight checks: refuse to save or publish a diverged model.

- `non_finite_weights(model)` -> `[(path, bad, size)]` for every float
  weight holding NaN or inf.
- `check_finite_weights(model)` raises `NonFiniteWeightsError` (a
  `ValueError`) naming those variables and how many values are bad.

`GenerativeModel.save` calls `check_finite_weights` (unless
`allow_non_finite=True`); so do the resumable-training checkpoints
(`keras_genmodels.training.resume`), which skip a non-finite state rather than
write it.
"""

import numpy as np


class NonFiniteWeightsError(ValueError):
    """The model has NaN/inf weights."""


def non_finite_weights(model, variables=None):
    """`[(variable path, non-finite count, size)]` over `variables` (default `model.weights`)."""
    import keras

    bad = []
    for variable in model.weights if variables is None else variables:
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        if np.issubdtype(value.dtype, np.floating):
            count = int(value.size - np.count_nonzero(np.isfinite(value)))
            if count:
                bad.append((variable.path, count, int(value.size)))
    return bad


def check_finite_weights(model, variables=None, action="save"):
    """Raise `NonFiniteWeightsError` if any weight of `model` is NaN or inf.

    Args:
        model: a Keras model (or layer).
        variables: list of variables to check instead of `model.weights`
            (e.g. `model.weights + model.optimizer.variables`).
        action: str. What is refused, for the message (`"save"`,
            `"export"`, ...).

    Raises:
        NonFiniteWeightsError: listing up to 10 variables as
            `path (bad of size)` and the totals.
    """
    bad = non_finite_weights(model, variables)
    if bad:
        total = sum(b for _, b, _ in bad)
        listed = ", ".join(f"{p} ({b} of {n})" for p, b, n in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise NonFiniteWeightsError(
            f"refusing to {action} {getattr(model, 'name', 'the model')!r}: expected finite "
            f"weights, received {total} NaN/inf value(s) in {len(bad)} variable(s): "
            f"{listed}{more}. Training diverged (or the data holds NaN/inf); pass "
            f"allow_non_finite=True to {action} it anyway.")
