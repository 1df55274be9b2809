"""Input corruption for denoising autoencoders: a Keras layer and a tf.data map.

Three corruptions q(x̃ | x) of inputs in a value range [lo, hi] (images:
[0, 1]), each with one `level` parameter:

- `"gaussian"`: x̃ = clip(x + level · ε, lo, hi), ε ~ N(0, I) (additive
  isotropic noise; no clipping when `value_range` is None).
- `"masking"`: x̃_i = 0 with probability `level`, else x_i (masking noise:
  a random fraction of the inputs is forced to 0).
- `"salt_and_pepper"`: x̃_i = lo or hi (each with probability `level / 2`),
  else x_i.

The math is written once (`_corrupt`) over two primitives, `where` and
`clip`: `keras.ops` in the layer, TensorFlow in the tf.data map (which runs
inside a TF graph whatever the Keras backend).
"""

import keras
from keras import ops

CORRUPTIONS = ("gaussian", "masking", "salt_and_pepper")


def check_corruption(kind, level):
    """Raise ValueError unless `kind` is known and `level` fits it."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"corruption must be one of {CORRUPTIONS}; received {kind!r}.")
    if kind == "gaussian" and not level >= 0:
        raise ValueError(f"gaussian noise level (stddev) must be >= 0; received {level!r}.")
    if kind != "gaussian" and not 0 <= level <= 1:
        raise ValueError(
            f"{kind} noise level (a probability) must be in [0, 1]; received {level!r}.")


def _corrupt(kind, x, noise, level, value_range, where, clip):
    """x̃ from x and one draw `noise` (normal for gaussian, else uniform)."""
    if kind == "gaussian":
        noisy = x + level * noise
        return noisy if value_range is None else clip(noisy, *value_range)
    if kind == "masking":
        return where(noise < level, x * 0.0, x)
    low, high = (0.0, 1.0) if value_range is None else value_range
    return where(noise < 0.5 * level, x * 0.0 + low,
                 where(noise < level, x * 0.0 + high, x))


def corrupt(x, kind="gaussian", level=0.5, value_range=(0.0, 1.0), seed=None):
    """Corrupt `x` once, in `keras.ops` (any backend, any shape).

    Args:
        x: tensor `(batch, ...)`.
        kind: str. `"gaussian"`, `"masking"` or `"salt_and_pepper"`.
            Defaults to `"gaussian"`.
        level: float. Gaussian stddev, or the probability that an input is
            corrupted. Defaults to 0.5.
        value_range: `(lo, hi)` or None. Clipping range of gaussian noise and
            the pepper/salt values. Defaults to `(0.0, 1.0)`.
        seed: `keras.random.SeedGenerator`, int or None.

    Returns:
        Tensor of the shape of `x`.
    """
    check_corruption(kind, level)
    x = ops.convert_to_tensor(x)
    if kind == "gaussian":
        noise = keras.random.normal(ops.shape(x), dtype=x.dtype, seed=seed)
    else:
        noise = keras.random.uniform(ops.shape(x), dtype=x.dtype, seed=seed)
    return _corrupt(kind, x, noise, level, value_range, ops.where, ops.clip)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class Corruption(keras.layers.Layer):
    """Randomly corrupts its input during training (identity at inference).

    See the module docstring for the three corruptions. Like `Dropout`, the
    layer acts only when called with `training=True`; the noise comes from
    the layer's `keras.random.SeedGenerator`, so a fixed `seed` repeats runs
    and the generator state is carried through `jit` on JAX.

    Shapes: input and output `(batch, ...)`.

    Args:
        kind: str. `"gaussian"`, `"masking"` or `"salt_and_pepper"`.
            Defaults to `"gaussian"`.
        level: float. Gaussian stddev or corruption probability. Defaults
            to 0.5.
        value_range: `(lo, hi)` or None. Defaults to `(0.0, 1.0)`.
        seed: int or None. Defaults to None.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Example:

    ```python
    noisy = Corruption("masking", 0.3, seed=0)(x, training=True)
    ```

    References:
        Vincent et al., "Stacked denoising autoencoders", JMLR 2010, §4.
    """

    def __init__(self, kind="gaussian", level=0.5, value_range=(0.0, 1.0),
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        check_corruption(kind, level)
        self.kind = kind
        self.level = float(level)
        self.value_range = None if value_range is None else tuple(
            float(v) for v in value_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, x, training=False):
        if not training:
            return x
        return corrupt(x, self.kind, self.level, self.value_range,
                       seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(kind=self.kind, level=self.level,
                      value_range=self.value_range, seed=self.seed)
        return config


def corruption_map(kind="gaussian", level=0.5, value_range=(0.0, 1.0),
                   seed=0, pairs=True):
    """A `tf.data` map function that corrupts each element (any Keras backend).

    Use `dataset.map(corruption_map(...))` on a dataset of images `x` (or of
    tuples whose first item is `x`): each element becomes `(x̃, x)` with
    `pairs=True` -- what an `Autoencoder` trains on as (input, clean target),
    i.e. denoising or input augmentation for any autoencoder -- or `x̃`.
    The noise comes from a `tf.random.Generator` seeded with `seed`: fresh
    noise every epoch, the same sequence in every run (keep the map
    sequential for that).

    Args:
        kind: str. Defaults to `"gaussian"`.
        level: float. Defaults to 0.5.
        value_range: `(lo, hi)` or None. Defaults to `(0.0, 1.0)`.
        seed: int. Defaults to 0.
        pairs: bool. Return `(x̃, x)` rather than `x̃`. Defaults to True.

    Returns:
        A function for `tf.data.Dataset.map`.

    Example:

    ```python
    ds = image_dataset("digits").map(corruption_map("masking", 0.25))
    Autoencoder((8, 8, 1), 16).fit(ds)      # denoising by data
    ```
    """
    check_corruption(kind, level)
    import tensorflow as tf  # the tf.data graph is TensorFlow on every backend

    generator = tf.random.Generator.from_seed(int(seed))
    value_range = None if value_range is None else tuple(float(v) for v in value_range)

    def fn(x, *rest):
        x = tf.convert_to_tensor(x)
        if kind == "gaussian":
            noise = generator.normal(tf.shape(x), dtype=x.dtype)
        else:
            noise = generator.uniform(tf.shape(x), dtype=x.dtype)
        noisy = _corrupt(kind, x, noise, level, value_range, tf.where,
                         tf.clip_by_value)
        return (noisy, x) if pairs else (noisy, *rest) if rest else noisy

    return fn
