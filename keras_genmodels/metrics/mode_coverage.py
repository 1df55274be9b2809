"""Mode coverage of a generator on a mixture with known modes.

The VEEGAN / PacGAN protocol (Srivastava et al. 2017; Lin et al. 2018):
generate N samples (2,500 in the papers); a sample is *high quality* when
its Euclidean distance to the nearest mode is at most 3 standard deviations
of the mixture's components; a mode is *covered* when at least one
high-quality sample has it as nearest mode. The *reverse KL* compares the
histogram q of high-quality samples over the K modes with the data's
uniform mode distribution u:

    KL(q || u) = sum_k q_k log(q_k / (1/K)) = log K - H(q),   0 log 0 = 0,

0 when every mode gets the same share, log K when one mode takes all.

Computed in NumPy (a post-hoc evaluation, not part of a training graph).
"""

import numpy as np

import keras


def _means_and_std(distribution, std=None):
    if hasattr(distribution, "means"):
        return np.asarray(distribution.means, np.float64), float(distribution.std)
    if std is None:
        raise TypeError(
            "mode_coverage expects a ToyDistribution (with .means and .std) or "
            "means (K, D) together with std=; received means without std.")
    return np.asarray(distribution, np.float64), float(std)


def mode_histogram(samples, means, std, num_std=3.0):
    """Counts `(K,)` of high-quality samples per nearest mode, and the
    high-quality mask `(N,)`."""
    x = np.asarray(samples, np.float64).reshape(len(samples), -1)
    if x.shape[1] != means.shape[1]:
        raise ValueError(
            f"expected samples of shape (N, {means.shape[1]}), received "
            f"{np.shape(samples)}.")
    dist = np.linalg.norm(x[:, None, :] - means[None], axis=-1)  # (N, K)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(x)), nearest] <= num_std * std
    return np.bincount(nearest[good], minlength=len(means)), good


def mode_coverage(samples, distribution, std=None, num_std=3.0):
    """Modes covered, high-quality fraction and reverse KL of `samples`.

    Args:
        samples: array `(N, D)`. Generated samples.
        distribution: a `keras_genmodels.data.ToyDistribution` (`.means`
            `(K, D)`, `.std`), or the means `(K, D)` with `std` given.
        std: float or None. Component std when `distribution` is an array.
        num_std: float. Quality radius in stds. Defaults to 3.

    Returns:
        dict with `modes_covered` (int, 0..K), `high_quality` (fraction of
        samples in [0, 1]), `reverse_kl` (nats; NaN when no sample is high
        quality) and `num_modes` (K).

    Example:
    >>> from keras_genmodels.data import toy_distribution
    >>> ring = toy_distribution("ring8")
    >>> m = mode_coverage(ring.sample(2500, seed=0), ring)
    >>> m["modes_covered"], m["high_quality"] > 0.98
    (8, True)
    """
    means, std = _means_and_std(distribution, std)
    counts, good = mode_histogram(samples, means, std, num_std)
    total = counts.sum()
    if total == 0:
        reverse_kl = float("nan")
    else:
        q = counts / total
        nz = q > 0
        reverse_kl = float(np.sum(q[nz] * np.log(q[nz] * len(means))))
    return {"modes_covered": int((counts > 0).sum()),
            "high_quality": float(good.mean()) if len(good) else 0.0,
            "reverse_kl": reverse_kl, "num_modes": int(len(means))}


class ModeCoverageCallback(keras.callbacks.Callback):
    """Logs mode coverage of the model's samples at the end of each epoch.

    Adds `modes_covered`, `high_quality` and `reverse_kl` to the epoch logs
    (so they appear in `History` and in later callbacks) and keeps them in
    `self.history` (a list of dicts, one per evaluated epoch).

    Args:
        distribution: `ToyDistribution` (or means `(K, D)` with `std`).
        num_samples: int. Samples generated per evaluation. Defaults to 2500.
        seed: int. Seed of the evaluation noise (the same noise every epoch,
            so changes come from the generator). Defaults to 0.
        every: int. Evaluate every `every` epochs. Defaults to 1.
        std: float or None. See `mode_coverage`.
        prefix: str. Prepended to the log keys. Defaults to `""`.

    Example:
    ```python
    ring = toy_distribution("ring8")
    gan.fit(toy_dataset(ring, 512), steps_per_epoch=200, epochs=10,
            callbacks=[ModeCoverageCallback(ring)])
    ```
    """

    def __init__(self, distribution, num_samples=2500, seed=0, every=1, std=None,
                 prefix=""):
        super().__init__()
        self.means, self.std = _means_and_std(distribution, std)
        self.num_samples = int(num_samples)
        self.seed = seed
        self.every = int(every)
        self.prefix = prefix
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        samples = self.model.sample(self.num_samples, seed=self.seed)
        result = mode_coverage(samples, self.means, std=self.std)
        result.pop("num_modes")
        self.history.append({"epoch": epoch, **result})
        if logs is not None:
            logs.update({self.prefix + k: v for k, v in result.items()})
