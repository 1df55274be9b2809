"""Image sources and tf.data pipelines: float32 images in [0, 1], channels-last.

Sources: `"digits"` (scikit-learn's bundled 8x8 digits, offline), any tensorflow-datasets image
dataset by name (`"mnist"`, `"fashion_mnist"`, `"cifar10"`, ...), a local `.npz` or IDX file,
or in-memory arrays. Everything is validated before a pipeline is built or training starts;
problems raise `DataError` with "expected ..., received ..." messages.
"""

import os

import numpy as np

from keras_genmodels.data import digits, local_files, tfds_source
from keras_genmodels.data.errors import DataError
from keras_genmodels.data.validation import check_images, check_labels

#: Names of the built-in image sources (for CLI help). Any other tfds image dataset name works too.
DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar100", "kmnist", "emnist",
            "svhn_cropped")

_FILE_HINTS = (".npz", ".npy", ".gz", "ubyte", ".idx")


def _looks_like_path(source, data_dir):
    s = source.lower()
    return (os.path.exists(os.path.expanduser(source)) or s.endswith(_FILE_HINTS)
            or "idx" in s and "ubyte" in s or source.startswith(("/", "./", "../", "~"))
            or os.sep in source and not tfds_source.is_tfds_name(source, data_dir))


def _resolve(source, split, data_dir, labels_path):
    """Validated `(x, divisor, y)`: x (N, H, W, C) uint8 (divisor set) or float32 (None)."""
    what = "x"
    if isinstance(source, tuple):
        if len(source) != 2:
            raise DataError(f"expected a tuple (x, y) of images and labels, received a tuple of "
                            f"{len(source)} items")
        x, y = source
    elif isinstance(source, np.ndarray) or hasattr(source, "__array__") and not isinstance(
            source, (str, bytes, os.PathLike)):
        x, y = source, None
    elif isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(source, str) and text.lower() == "digits":
            x, y = digits.load_digits_split(split)
            x, _ = check_images(x, "digits images")
            return x, digits.PIXEL_MAX, y
        if isinstance(source, os.PathLike) or _looks_like_path(text, data_dir):
            x, y = local_files.read_local(text, labels_path)
            what = f"x in {text!r}"
        else:
            x, y = tfds_source.load_tfds(text, split, data_dir, builtin=DATASETS)
            what = f"images of tfds dataset {text!r}"
    else:
        raise DataError(f"expected source to be 'digits', a tfds name, a path, an array x or a "
                        f"tuple (x, y), received {type(source).__name__}")
    x, divisor = check_images(x, what)
    if y is not None:
        y = check_labels(y, x.shape[0], what.replace("x", "y", 1) if what.startswith("x")
                         else "labels")
    return x, divisor, y


def load_images(source, split="train", data_dir=None, labels_path=None):
    """Load and validate images as float32 arrays in [0, 1].

    Args:
        source: `"digits"`, a tensorflow-datasets name (`"mnist"`, `"fashion_mnist"`,
            `"cifar10"`, ...; see `DATASETS`), a path (str or Path) to a `.npz` (arrays `x`,
            optional `y`) or MNIST-style IDX file (gzipped or not), an array `x`, or `(x, y)`.
        split: str. `"train"`, `"test"` or `"all"` for digits; any tfds split expression for
            tfds names. Ignored for paths and arrays: pass the test file as another path.
        data_dir: str or None. tfds data folder (tfds names only).
        labels_path: str, Path or None. Labels for a local file: an IDX labels file or a `.npz`
            with array `y`. Default: the `.npz`'s own `y`, or the IDX sibling
            (`train-images-idx3-ubyte.gz` -> `train-labels-idx1-ubyte.gz`) when present.

    Returns:
        `(x, y)`: x float32 (N, H, W, C) in [0, 1] (channel axis always present), y int32 (N,)
        or None when the source has no labels.

    Example:

    >>> x, y = load_images("digits", split="test")
    >>> x.shape, x.dtype, y.shape
    ((360, 8, 8, 1), dtype('float32'), (360,))
    """
    x, divisor, y = _resolve(source, split, data_dir, labels_path)
    if divisor is not None:
        x = x.astype(np.float32) / np.float32(divisor)
    return x, y


def image_dataset(source, split="train", batch_size=128, shuffle=True, seed=0, with_labels=False,
                  data_dir=None, drop_remainder=False, repeat=False, labels_path=None,
                  flatten=False, epoch=None):
    """A batched, shuffled, prefetched `tf.data.Dataset` of float32 images in [0, 1].

    Images stay in memory as stored (uint8 when possible) and are converted per batch.
    Shuffling covers the whole set, reshuffles every epoch and is reproducible for a fixed
    `seed`. With `epoch=e` the dataset is instead one pass in the order of epoch `e` alone,
    a function of `(seed, e)` only: any epoch can be replayed in a fresh process (what
    `keras_genmodels.training.fit_resumable` needs; `e` may be a scalar int64 tensor).
    With `drop_remainder=False` the last batch may be smaller (under JAX that costs one
    extra compilation; pass `drop_remainder=True` to avoid it).

    Args:
        source: as in `load_images`, or an array `x` / tuple `(x, y)`.
        split: str. As in `load_images` (ignored for paths and arrays).
        batch_size: int. Images per batch. Defaults to 128.
        shuffle: bool. Shuffle the whole set each epoch. Defaults to True.
        seed: int or None. Shuffle seed. Defaults to 0.
        with_labels: bool. Yield `(x, y)` with y int32 (batch,) instead of x. Defaults to False.
        data_dir: str or None. tfds data folder.
        drop_remainder: bool. Drop the last incomplete batch. Defaults to False.
        repeat: bool. Repeat forever (use `steps_per_epoch` in `fit`). Defaults to False.
        labels_path: as in `load_images`.
        flatten: bool. Yield images as (batch, H*W*C) instead of (batch, H, W, C).
        epoch: int, scalar integer tensor or None. None: the usual dataset, reshuffled by
            tf.data on every iteration. An epoch index: one pass (`repeat` must be False)
            shuffled by a stateless permutation keyed by `(seed, epoch)` (`seed` must be an
            int), the same in every process and on every iteration.

    Returns:
        `tf.data.Dataset` of x float32 (batch, H, W, C), or `(x, y)` when `with_labels`.

    Example:

    >>> ds = image_dataset("digits", batch_size=64, seed=1)
    >>> ae.fit(ds.map(lambda x: (x, x)), epochs=2)  # ae: any keras model on (8, 8, 1) images
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise DataError(f"expected batch_size to be a positive integer, received {batch_size!r}")
    x, divisor, y = _resolve(source, split, data_dir, labels_path)
    n = x.shape[0]
    if with_labels and y is None:
        raise DataError(f"expected labels with with_labels=True, received a source without "
                        f"labels ({_short(source)}); give a .npz with 'y', an IDX labels file "
                        f"(labels_path=...) or a tuple (x, y)")
    if epoch is not None:
        if repeat:
            raise DataError("expected repeat=False with epoch=...: an epoch dataset is one "
                            "pass (fit_resumable chains the epochs), received repeat=True")
        if shuffle and (seed is None or isinstance(seed, bool)
                        or not isinstance(seed, (int, np.integer))):
            raise DataError(f"expected an int seed with epoch=... (the order must be "
                            f"replayable), received seed={seed!r}")
    if drop_remainder and not repeat and batch_size > n:
        raise DataError(f"expected batch_size <= {n} (the number of images) with "
                        f"drop_remainder=True, received batch_size={batch_size}: the dataset "
                        f"would be empty")
    import tensorflow as tf

    images = tf.constant(x)
    labels = tf.constant(y) if with_labels else None
    flat_dim = int(np.prod(x.shape[1:]))

    def gather(index):
        batch = tf.gather(images, index)
        if divisor is not None:
            batch = tf.cast(batch, tf.float32) / divisor
        if flatten:
            batch = tf.reshape(batch, (-1, flat_dim))
        return (batch, tf.gather(labels, index)) if with_labels else batch

    if epoch is not None:
        ds = epoch_indices(n, seed, epoch, shuffle=shuffle)
    else:
        ds = tf.data.Dataset.range(n)
    if shuffle and epoch is None:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(int(batch_size), drop_remainder=drop_remainder)
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def epoch_indices(n, seed, epoch, shuffle=True, repeat=False):
    """`tf.data.Dataset` of int64 indices 0..n-1 in the replayable order of epoch `epoch`.

    Pass r of epoch e is `stateless_shuffle(range(n), fold_in((seed, e), r))` (Philox): a
    function of `(seed, epoch, r)` only, identical in every process and whatever the global
    seeds. `epoch` may be a Python int or a scalar integer tensor (inside `flat_map`).
    `repeat=True` chains passes r = 0, 1, 2, ... forever; `shuffle=False` gives 0..n-1.
    """
    import tensorflow as tf

    n = int(n)
    key = tf.stack([tf.constant(0 if seed is None else int(seed), tf.int64),
                    tf.cast(epoch, tf.int64)])

    def one_pass(r):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            pass_key = tf.random.experimental.stateless_fold_in(key, r, alg="philox")
            order = tf.random.experimental.stateless_shuffle(order, seed=pass_key, alg="philox")
        return tf.data.Dataset.from_tensor_slices(order)

    if not repeat:
        return one_pass(tf.constant(0, tf.int64))
    return tf.data.Dataset.counter().flat_map(one_pass)


def _short(source):
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    return type(source).__name__
