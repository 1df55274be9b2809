"""Toy distributions for GAN experiments: mixtures of isotropic Gaussians with known modes.

- `"ring8"`: 8 modes evenly spaced on a circle of radius 1, std 0.01 (2-D).
- `"grid25"`: 25 modes at {-4, -2, 0, 2, 4}^2, std 0.05 (2-D).
- `"gaussian1d"`: one Gaussian N(4, 0.5^2) (1-D).

Every mode has weight 1/K: x = mu_k + std * eps, k ~ Uniform{0..K-1}, eps ~ N(0, I).
For mode-coverage benchmarks (Srivastava et al., 2017, VEEGAN) a generated sample is
"high quality" when its Euclidean distance to the nearest mode is at most 3 std; a mode is
covered when it receives high-quality samples. Note that 3 std contains 99.7% of a 1-D
Gaussian but 98.9% of a 2-D one (P[chi2_2 <= 9] = 1 - e^-4.5).
"""

import numpy as np

from keras_genmodels.data.errors import DataError

TOY_DISTRIBUTIONS = ("ring8", "grid25", "gaussian1d")


class ToyDistribution:
    """An equal-weight mixture of isotropic Gaussians with known means.

    Args:
        name: str. Label for messages and benchmark tables.
        means: array (K, D). Mode centres.
        std: float. Standard deviation of every mode, per coordinate.

    Example:

    >>> ring = toy_distribution("ring8")
    >>> x = ring.sample(1000, seed=0)            # float32 (1000, 2)
    >>> ring.high_quality(x).mean()              # about 0.989
    """

    def __init__(self, name, means, std):
        means = np.asarray(means, dtype=np.float32)
        if means.ndim != 2 or means.shape[0] == 0:
            raise DataError(f"expected means of shape (K, D) with K >= 1, received shape "
                            f"{means.shape}")
        if not np.isfinite(means).all() or not (np.isfinite(std) and std > 0):
            raise DataError(f"expected finite means and std > 0, received std {std!r}")
        self.name = name
        self.means = means
        self.std = float(std)

    @property
    def dim(self):
        """Dimension D of a sample."""
        return int(self.means.shape[1])

    @property
    def num_modes(self):
        """Number K of modes."""
        return int(self.means.shape[0])

    def sample(self, n, seed=None, return_modes=False):
        """`n` samples, float32 (n, D); also the mode indices (n,) when `return_modes`.

        The same `seed` gives the same samples (numpy `default_rng`).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise DataError(f"expected a non-negative integer number of samples, received {n!r}")
        rng = np.random.default_rng(seed)
        modes = rng.integers(self.num_modes, size=n)
        x = self.means[modes] + self.std * rng.standard_normal((n, self.dim))
        x = x.astype(np.float32)
        return (x, modes) if return_modes else x

    def nearest_mode(self, x):
        """Index (n,) of each sample's nearest mode and the Euclidean distance (n,) to it."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if x.shape[1] != self.dim:
            raise DataError(f"expected samples of shape (n, {self.dim}), received shape "
                            f"{np.shape(x)}")
        dist = np.linalg.norm(x[:, None, :] - self.means[None].astype(np.float64), axis=-1)
        index = dist.argmin(axis=1)
        return index, dist[np.arange(len(x)), index]

    def high_quality(self, x, num_std=3.0):
        """Boolean (n,): sample within `num_std` std (Euclidean) of its nearest mode."""
        return self.nearest_mode(x)[1] <= num_std * self.std

    def __repr__(self):
        return (f"ToyDistribution({self.name!r}, num_modes={self.num_modes}, dim={self.dim}, "
                f"std={self.std:g})")


def _ring(num_modes=8, radius=1.0, std=0.01):
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1), std


def _grid(size=5, spacing=2.0, std=0.05):
    axis = (np.arange(size) - (size - 1) / 2.0) * spacing
    xx, yy = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1), std


def _gaussian1d(mean=4.0, std=0.5):
    return np.array([[mean]]), std


_BUILDERS = {"ring8": _ring, "grid25": _grid, "gaussian1d": _gaussian1d}


def toy_distribution(name, **kwargs):
    """A named toy distribution; keyword arguments override its defaults.

    Args:
        name: str. `"ring8"` (num_modes=8, radius=1.0, std=0.01), `"grid25"` (size=5,
            spacing=2.0, std=0.05) or `"gaussian1d"` (mean=4.0, std=0.5). A
            `ToyDistribution` is returned unchanged.
        **kwargs: overrides of the defaults listed above.

    Returns:
        `ToyDistribution` with `.means` float32 (K, D), `.std`, `.dim`, `.sample(n, seed)`.
    """
    if isinstance(name, ToyDistribution):
        return name
    if name not in _BUILDERS:
        raise DataError(f"expected a toy distribution in {list(TOY_DISTRIBUTIONS)}, received "
                        f"{name!r}")
    try:
        means, std = _BUILDERS[name](**kwargs)
    except TypeError as e:
        raise DataError(f"expected options of {name!r} to be keyword arguments of its builder, "
                        f"received {sorted(kwargs)} ({e})") from None
    return ToyDistribution(name, means, std)


def toy_dataset(name, batch_size=256, seed=0, num_samples=None, epoch=None,
                steps_per_epoch=None):
    """A `tf.data.Dataset` of float32 batches (batch, D) from a toy distribution.

    Args:
        name: str or `ToyDistribution`. See `toy_distribution`.
        batch_size: int. Samples per batch. Defaults to 256.
        seed: int or None. Seed of the samples (None: different every call). Defaults to 0.
        num_samples: int or None. None: an infinite stream of fresh samples (batch i drawn
            with stateless seed (seed, i); use `steps_per_epoch` in `fit`); an int: that many
            samples, drawn once with `sample(num_samples, seed)`, the same every epoch.
        epoch: int, scalar integer tensor or None. With `steps_per_epoch`, only batches
            `epoch * steps_per_epoch ... (epoch + 1) * steps_per_epoch - 1` of the infinite
            stream (the same batches a plain `fit(..., steps_per_epoch=...)` sees in that
            epoch), replayable in any process; for `keras_genmodels.training.fit_resumable`.
            Ignored with `num_samples` (that dataset is the same every epoch).
        steps_per_epoch: int or None. Batches per epoch; required with `epoch`.

    Returns:
        `tf.data.Dataset` yielding float32 (batch, D).

    Example:

    >>> ds = toy_dataset("grid25", batch_size=512)
    >>> gan.fit(ds, steps_per_epoch=100, epochs=5)
    """
    dist = toy_distribution(name)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise DataError(f"expected batch_size to be a positive integer, received {batch_size!r}")
    if num_samples is not None and (isinstance(num_samples, bool)
                                    or not isinstance(num_samples, (int, np.integer))
                                    or num_samples < 1):
        raise DataError(f"expected num_samples to be None or a positive integer, received "
                        f"{num_samples!r}")
    if epoch is not None and num_samples is None:
        if seed is None:
            raise DataError("expected an int seed with epoch=... (the stream must be "
                            "replayable), received seed=None")
        if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, (int, np.integer)) \
                or steps_per_epoch < 1:
            raise DataError(f"expected steps_per_epoch to be a positive integer with epoch=..., "
                            f"received {steps_per_epoch!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    import tensorflow as tf

    if num_samples is not None:
        x = dist.sample(int(num_samples), seed=seed)
        ds = tf.data.Dataset.from_tensor_slices(x).batch(int(batch_size))
        return ds.prefetch(tf.data.AUTOTUNE)
    means = tf.constant(dist.means)
    batch_size = int(batch_size)

    def draw(step):
        key = tf.stack([tf.constant(seed, tf.int64), step])
        keys = tf.random.experimental.stateless_split(key, 2)
        modes = tf.random.stateless_uniform((batch_size,), keys[0], maxval=dist.num_modes,
                                            dtype=tf.int32)
        noise = tf.random.stateless_normal((batch_size, dist.dim), keys[1])
        return tf.gather(means, modes) + dist.std * noise

    if epoch is None:
        steps = tf.data.Dataset.counter()
    else:
        first = tf.cast(epoch, tf.int64) * int(steps_per_epoch)
        steps = tf.data.Dataset.range(first, first + int(steps_per_epoch))
    ds = steps.map(draw, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
