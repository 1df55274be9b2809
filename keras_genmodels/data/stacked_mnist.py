"""Stacked MNIST: colour images whose three channels are three independent digits.

The mode-collapse benchmark of Metz et al. (2017), VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018): image i of the set has channels

    x_i[..., c] = m_{j(i, c)},   c = 0, 1, 2,   j(i, c) ~ Uniform{0, ..., N-1} independent,

where m_0..m_{N-1} are the N single-channel source digits (MNIST: 60,000 images 28x28). The
label of image i is the triple (a, b, c) of the source labels, or the mode index
100 a + 10 b + c (K^2 a + K b + c for K classes): 10^3 = 1,000 equally likely modes. The
index triples `j` are drawn with `numpy.random.default_rng(seed)`, so the set is a function of
`(source, num_images, seed)` alone; PacGAN and VEEGAN use 128,000 images (`num_images`).

The source images stay in memory once (as uint8 when stored so) and every batch is gathered
from them, so 128,000 stacked images cost only the index triples (1.5 MB).

Shapes: images float32 `(batch, H, W, 3)` in [0, 1]; labels int32 `(batch, 3)` (triple) or
`(batch,)` (mode index).
"""

import numpy as np

from keras_genmodels.data.errors import DataError

CHANNELS = 3
LABEL_FORMATS = ("triple", "mode")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"expected {name} to be a positive integer, received {value!r}")
    return int(value)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"expected seed to be a non-negative integer (the stacked set must be "
                        f"reproducible), received {seed!r}")
    return int(seed)


def load_source_digits(source="mnist", split="train", data_dir=None, labels_path=None):
    """Validated single-channel labelled source digits `(x, divisor, y)`.

    Args:
        source: what `load_images` accepts: a local `.npz`/IDX path (MNIST:
            `mnist_train.npz`), a tensorflow-datasets name (`"mnist"`), `"digits"`, or a tuple
            `(x, y)` of arrays.
        split, data_dir, labels_path: as in `load_images`.

    Returns:
        `(x, divisor, y)`: x `(N, H, W, 1)` uint8 (divisor 255 or 16) or float32 in [0, 1]
        (divisor None); y int32 `(N,)` class labels.
    """
    from keras_genmodels.data.images import _resolve

    if isinstance(source, np.ndarray):
        raise DataError("expected labelled source digits (a tuple (x, y), a labelled .npz/IDX "
                        "file or a dataset name), received an array x without labels")
    x, divisor, y = _resolve(source, split, data_dir, labels_path)
    if x.shape[-1] != 1:
        raise DataError(f"expected single-channel source digits (N, H, W) or (N, H, W, 1) to "
                        f"stack into 3 channels, received images of shape {tuple(x.shape)}")
    if y is None:
        raise DataError("expected labelled source digits (the labels give the stacked modes), "
                        "received a source without labels; give a .npz with 'y', an IDX labels "
                        "file (labels_path=...) or a tuple (x, y)")
    if y.min() < 0:
        raise DataError(f"expected non-negative class labels, received min {int(y.min())}")
    return x, divisor, y.astype(np.int32)


def stacked_indices(num_source, num_images=128000, seed=0):
    """Index triples `(num_images, 3)` int64: channel c of image i is source digit `[i, c]`.

    Drawn uniformly with replacement, independently per channel, by
    `numpy.random.default_rng(seed)`.
    """
    num_source = _positive_int("num_source", num_source)
    num_images = _positive_int("num_images", num_images)
    rng = np.random.default_rng(_check_seed(seed))
    return rng.integers(0, num_source, size=(num_images, CHANNELS), dtype=np.int64)


def mode_index(triples, num_classes=10):
    """Mode index `K^2 a + K b + c` (int64 `(n,)`) of label triples `(n, 3)` (K classes)."""
    triples = np.asarray(triples)
    if triples.ndim != 2 or triples.shape[1] != CHANNELS:
        raise ValueError(f"expected label triples of shape (n, 3), received {triples.shape}")
    k = int(num_classes)
    return (triples[:, 0].astype(np.int64) * k + triples[:, 1]) * k + triples[:, 2]


def _labels(triples, label_format, num_classes):
    if label_format == "mode":
        return mode_index(triples, num_classes).astype(np.int32)
    return triples.astype(np.int32)


def _check_format(label_format):
    if label_format not in LABEL_FORMATS:
        raise DataError(f"expected label_format in {LABEL_FORMATS}, received {label_format!r}")


def stacked_mnist(source="mnist", num_images=10000, seed=0, split="train", data_dir=None,
                  labels_path=None, label_format="triple"):
    """A Stacked MNIST set as numpy arrays (for evaluation and small sets).

    Args:
        source, split, data_dir, labels_path: the source digits (see `load_source_digits`).
        num_images: int. Stacked images to build. Defaults to 10,000 (the training set of the
            protocol is 128,000: use `stacked_mnist_dataset`, which does not materialise it).
        seed: int >= 0. Seed of the index triples.
        label_format: `"triple"` (labels `(n, 3)`) or `"mode"` (`(n,)`, `K^2 a + K b + c`).

    Returns:
        `(x, y)`: x float32 `(num_images, H, W, 3)` in [0, 1], y int32 as `label_format`.

    Example:

    >>> x, y = stacked_mnist("digits", num_images=5, seed=0)
    >>> x.shape, y.shape
    ((5, 8, 8, 3), (5, 3))
    """
    _check_format(label_format)
    num_images = _positive_int("num_images", num_images)
    seed = _check_seed(seed)
    x, divisor, y = load_source_digits(source, split, data_dir, labels_path)
    idx = stacked_indices(len(x), num_images, seed)
    images = np.concatenate([x[idx[:, c]] for c in range(CHANNELS)], axis=-1)
    images = images.astype(np.float32)
    if divisor is not None:
        images /= np.float32(divisor)
    num_classes = max(10, int(y.max()) + 1)
    return images, _labels(y[idx], label_format, num_classes)


def stacked_mnist_dataset(source="mnist", num_images=128000, seed=0, batch_size=64,
                          shuffle=True, with_labels=False, label_format="triple", split="train",
                          data_dir=None, labels_path=None, drop_remainder=False, repeat=False):
    """A batched, shuffled, prefetched `tf.data.Dataset` of Stacked MNIST.

    The set (which source digit fills each channel of each image) is fixed by `seed`
    (`stacked_indices`); the shuffle order is seeded by `seed` too and reshuffles every
    epoch, reproducibly.

    Args:
        source, split, data_dir, labels_path: the source digits (see `load_source_digits`).
        num_images: int. Size of the stacked set. Defaults to 128,000 (PacGAN/VEEGAN).
        seed: int >= 0. Seed of the set and of the shuffle order.
        batch_size: int. Images per batch. Defaults to 64.
        shuffle: bool. Shuffle the whole set each epoch. Defaults to True.
        with_labels: bool. Yield `(x, y)` instead of x. Defaults to False.
        label_format: `"triple"` (y `(batch, 3)`) or `"mode"` (y `(batch,)`).
        drop_remainder, repeat: as in `tf.data.Dataset.batch` / `repeat`.

    Returns:
        `tf.data.Dataset` of x float32 `(batch, H, W, 3)` in [0, 1], or `(x, y)`.

    Example:

    >>> ds = stacked_mnist_dataset("../shared/data/mnist_train.npz", batch_size=64,
    ...                            drop_remainder=True)
    >>> gan.fit(ds, epochs=50)   # gan: GAN(data_shape=(28, 28, 3), architecture="dcgan")
    """
    _check_format(label_format)
    num_images = _positive_int("num_images", num_images)
    batch_size = _positive_int("batch_size", batch_size)
    seed = _check_seed(seed)
    if drop_remainder and not repeat and batch_size > num_images:
        raise DataError(f"expected batch_size <= num_images={num_images} with "
                        f"drop_remainder=True, received batch_size={batch_size}: the dataset "
                        f"would be empty")
    x, divisor, y = load_source_digits(source, split, data_dir, labels_path)
    idx = stacked_indices(len(x), num_images, seed)
    num_classes = max(10, int(y.max()) + 1)
    import tensorflow as tf

    digits = tf.constant(x[..., 0])                      # (N, H, W)
    triples = tf.constant(idx)                          # (n, 3)
    labels = tf.constant(_labels(y[idx], label_format, num_classes)) if with_labels else None

    def gather(index):
        which = tf.gather(triples, index)               # (batch, 3)
        batch = tf.stack([tf.gather(digits, which[:, c]) for c in range(CHANNELS)], axis=-1)
        batch = tf.cast(batch, tf.float32)
        if divisor is not None:
            batch = batch / divisor
        return (batch, tf.gather(labels, index)) if with_labels else batch

    ds = tf.data.Dataset.range(num_images)
    if shuffle:
        ds = ds.shuffle(num_images, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
