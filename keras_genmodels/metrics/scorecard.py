"""Scorecards of generated images, and a callback that logs them during `fit`.

A scorecard compares n generated images with n held-out real ones through a
dataset's feature network (`feature_networks.feature_extractor`): every metric
of `sample_quality` on the penultimate-layer features (`fid`, `kid`,
`kid_std`, `precision`, `recall`, `density`, `coverage`) and the classifier
score of the generated images (`mean_max_softmax`, `class_tv`,
`class_histogram`, and `label_accuracy` for conditional models). The
`genmodels evaluate` command, `SampleQualityCallback` and the benchmark scripts
all call `scorecard`.
"""

import numpy as np

import keras

from keras_genmodels.metrics import sample_quality


def generate_samples(model, num_samples, labels=None, seed=0, batch_size=500):
    """`num_samples` images from `model.sample` as float32 NumPy, in batches.

    Args:
        model: a model with `sample(n, labels=None, seed=None)` (GANs, VAEs).
        num_samples: int.
        labels: int array `(num_samples,)` for a conditional model (one with a
            truthy `num_classes`); None there gives `i % num_classes`.
        seed: int. Batch i uses seed `seed + i`, so the same call gives the
            same images. Defaults to `0`.
        batch_size: int. Images per `sample` call. Defaults to `500`.

    Returns:
        `(samples, labels)`: float32 `(num_samples, ...)`, and the int32 labels
        (None for an unconditional model).
    """
    if not hasattr(model, "sample"):
        raise TypeError(f"{type(model).__name__} cannot generate samples (no sample method)")
    num_classes = getattr(model, "num_classes", None) or 0
    if num_classes:
        labels = (np.arange(num_samples) % num_classes if labels is None
                  else np.asarray(labels).reshape(-1)[:num_samples])
        labels = labels.astype("int32")
        if len(labels) != num_samples:
            raise ValueError(f"expected {num_samples} labels, received {len(labels)}")
    else:
        labels = None
    out = []
    for i, start in enumerate(range(0, int(num_samples), int(batch_size))):
        n = min(int(batch_size), int(num_samples) - start)
        batch_labels = None if labels is None else labels[start:start + n]
        out.append(np.asarray(keras.ops.convert_to_numpy(
            model.sample(n, labels=batch_labels, seed=int(seed) + i)), dtype="float32"))
    return np.concatenate(out), labels


def scorecard(extractor, real, fake, fake_labels=None, real_features=None,
              kid_subsets=100, kid_subset_size=1000, seed=0):
    """Every sample-quality metric of `fake` images against `real` images.

    Args:
        extractor: a `FeatureExtractor`.
        real: images `(n, H, W, C)` in [0, 1] (held-out real data), or None when
            `real_features` is given.
        fake: images `(m, H, W, C)` in [0, 1] (generated).
        fake_labels: int array `(m,)` the fakes were generated for (conditional
            models), or None.
        real_features: precomputed `extractor.features(real)`, or None.
        kid_subsets, kid_subset_size: see `sample_quality.kernel_distance`.
        seed: int. Seed of the KID subsets.

    Returns:
        dict: `fid`, `kid`, `kid_std`, `precision`, `recall`, `density`,
        `coverage`, `mean_max_softmax`, `class_tv` (floats),
        `label_accuracy` (with `fake_labels`), `class_histogram` (list),
        `num_real`, `num_fake` (ints).
    """
    if real_features is None:
        real_features = extractor.features(real)
    fake_features, probabilities = extractor.features_and_probabilities(fake)
    scores = sample_quality.quality_scores(real_features, fake_features, kid_subsets,
                                           kid_subset_size, seed=seed)
    scores.update(extractor.classifier_score(probabilities=probabilities, labels=fake_labels))
    scores["num_real"], scores["num_fake"] = int(len(real_features)), int(len(fake_features))
    return scores


#: Scorecard entries that are not scalars per epoch (kept out of the Keras logs).
NON_SCALAR = ("class_histogram", "num_real", "num_fake")


class SampleQualityCallback(keras.callbacks.Callback):
    """Scores the model's samples against held-out real images every `every` epochs.

    Generates `num_samples` images with `model.sample` (the same noise each
    time, so changes come from the model), computes the `scorecard` against
    `real` through the feature network, and adds every scalar -- `fid`, `kid`,
    `kid_std`, `precision`, `recall`, `density`, `coverage`,
    `mean_max_softmax`, `class_tv` and, for conditional models,
    `label_accuracy` -- to the epoch logs. So they land in the `History`
    returned by `fit` (one entry per evaluated epoch), in the progress bar,
    and in TensorBoard when a `keras.callbacks.TensorBoard` comes after this
    callback in the `callbacks` list. Epochs that are not evaluated log nothing.
    Full scorecards (with the class histogram) are kept in `self.history`.

    Args:
        real: images `(n, H, W, C)` in [0, 1]: held-out real data.
        extractor: a `FeatureExtractor`, or a dataset (name, `.npz` path or
            `(x, y)`) passed to `feature_extractor`.
        num_samples: int or None. Generated images per evaluation. Default: `len(real)`.
        every: int. Evaluate after every `every`-th epoch. Defaults to `1`.
        real_labels: int array `(n,)` or None. For conditional models the
            samples are generated for these labels (so the classes come in
            the real proportions); None: `i % num_classes`.
        seed: int. Noise and KID-subset seed. Defaults to `0`.
        prefix: str. Prepended to the log keys (e.g. `"q_"`). Defaults to `""`.
        kid_subsets, kid_subset_size: see `sample_quality.kernel_distance`.
            Defaults to `100` and `1000`.

    Example:
    ```python
    fx = feature_extractor("digits")
    x_test, _ = load_images("digits", "test")
    quality = SampleQualityCallback(x_test, fx, every=5)
    history = gan.fit(ds, epochs=50, callbacks=[quality,
                      keras.callbacks.TensorBoard("logs")])
    history.history["fid"]     # one value per evaluated epoch (epochs 5, 10, ...)
    quality.history[-1]        # the last full scorecard, with its "epoch"
    ```
    """

    def __init__(self, real, extractor, num_samples=None, every=1, real_labels=None, seed=0,
                 prefix="", kid_subsets=100, kid_subset_size=1000):
        super().__init__()
        if not hasattr(extractor, "features"):
            from keras_genmodels.metrics.feature_networks import feature_extractor

            extractor = feature_extractor(extractor)
        self.extractor = extractor
        self.real = extractor.check_images(real)
        self.num_samples = int(num_samples or len(self.real))
        self.every = int(every)
        if self.every < 1:
            raise ValueError(f"expected every >= 1, received {every}")
        self.real_labels = None if real_labels is None else np.asarray(real_labels)
        self.seed = int(seed)
        self.prefix = prefix
        self.kid_subsets, self.kid_subset_size = int(kid_subsets), int(kid_subset_size)
        self.history = []
        self._real_features = None

    def evaluate(self):
        """The scorecard of the model's samples now (see `scorecard`)."""
        if self._real_features is None:
            self._real_features = self.extractor.features(self.real)
        labels = self.real_labels
        if labels is not None and getattr(self.model, "num_classes", None):
            labels = np.resize(labels, self.num_samples)
        fake, fake_labels = generate_samples(self.model, self.num_samples, labels, self.seed)
        return scorecard(self.extractor, None, fake, fake_labels, self._real_features,
                         self.kid_subsets, self.kid_subset_size, self.seed)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        scores = self.evaluate()
        self.history.append({"epoch": epoch, **scores})
        if logs is not None:
            logs.update({self.prefix + k: v for k, v in scores.items() if k not in NON_SCALAR})
