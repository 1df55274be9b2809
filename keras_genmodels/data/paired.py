"""Paired images for image-to-image translation: tf.data pipelines of `(input, target)`.

Any image set the package loads (`"digits"`, a tensorflow-datasets name, a `.npz`/IDX path,
an array) becomes a set of pairs; the target is the image itself (float32 in [0, 1]) and the
input is computed from it inside the pipeline:

- `"edges"` (edges -> image): the Sobel gradient magnitude of the grey-level image,
  `m = sqrt(g_y^2 + g_x^2)` with `tf.image.sobel_edges` (3x3 Sobel kernels, REFLECT padding),
  thresholded: `input = 1.0 where m > threshold else 0.0`, one channel. A step edge of
  contrast c has m = 4c, so the default threshold 1.0 keeps steps of contrast > 0.25 (on
  Fashion-MNIST about 29 % of the pixels are edges; 0.5 also marks much of the texture).
  `(H, W, C) -> (H, W, 1)`; a colour image is converted to grey first
  (`tf.image.rgb_to_grayscale`).
- `"colorize"` (grey -> colour): `input = tf.image.rgb_to_grayscale(target)`,
  `(H, W, 3) -> (H, W, 1)`; needs 3-channel (RGB) images.
- `"resolution"` (low -> high resolution): `input = tf.image.resize(target, (H/s, W/s),
  method="area")`, the mean of each s x s block, `(H, W, C) -> (H/s, W/s, C)`, with scale
  s in {2, 4}; H and W must be divisible by s.

Augmentation (`augment=`, training pipelines): the target is transformed before its input
is computed, so both stay paired. `"flip"`: each image mirrored left-right with probability
1/2; `"dihedral"`: each image put through one of the 8 symmetries of the square (random
left-right flip, up-down flip and transpose, each with probability 1/2; square images only),
the standard super-resolution augmentation (EDSR, Lim et al. 2017). Random draws are
stateless (`tf.image.stateless_random_flip_*`) with seed `(seed, batch index)`, so a pipeline
replays identically.

Bad input raises `DataError` before any pipeline is built ("expected ..., received ...").

Example:

>>> ds = paired_dataset("digits", pairs="resolution", scale=2, batch_size=32)
>>> low, high = next(iter(ds))
>>> tuple(low.shape), tuple(high.shape)
((32, 4, 4, 1), (32, 8, 8, 1))
"""

import numpy as np

from keras_genmodels.data import images as _images
from keras_genmodels.data.errors import DataError

#: Kinds of pairs `paired_dataset` builds.
PAIRS = ("edges", "colorize", "resolution")
#: Down-sampling factors of `pairs="resolution"`.
SCALES = (2, 4)
#: Augmentations `paired_dataset` applies to the target before pairing.
AUGMENTATIONS = (None, "flip", "dihedral")
#: Default Sobel-magnitude threshold of `pairs="edges"` (images in [0, 1]).
EDGE_THRESHOLD = 1.0


def paired_shapes(image_shape, pairs="edges", scale=2):
    """`(input_shape, target_shape)` of the pairs made from images of `image_shape` (H, W, C).

    Raises `DataError` when the images cannot make such pairs (colorize on non-RGB images,
    H or W not divisible by `scale`, an unknown kind or scale).
    """
    if pairs not in PAIRS:
        raise DataError(f"expected pairs to be one of {list(PAIRS)}, received {pairs!r}")
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) != 3:
        raise DataError(f"expected images of shape (H, W, C), received {image_shape}")
    height, width, channels = image_shape
    if pairs == "edges":
        return (height, width, 1), image_shape
    if pairs == "colorize":
        if channels != 3:
            raise DataError(f"expected 3-channel (RGB) images for pairs='colorize' (grey -> "
                            f"colour), received images of shape {image_shape} with {channels} "
                            f"channel(s); use pairs='edges' or 'resolution', or RGB data such "
                            f"as cifar10")
        return (height, width, 1), image_shape
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale not in SCALES:
        raise DataError(f"expected scale to be one of {list(SCALES)} for pairs='resolution', "
                        f"received {scale!r}")
    if height % scale or width % scale:
        hint = "scale=2 or " if scale == 4 and not (height % 2 or width % 2) else ""
        raise DataError(f"expected image height and width divisible by scale={scale} for "
                        f"pairs='resolution', received images of shape {image_shape}; use "
                        f"{hint}crop/pad the images")
    return (height // scale, width // scale, channels), image_shape


def _threshold(value):
    try:
        ok = not isinstance(value, bool) and np.isfinite(float(value)) and float(value) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(f"expected edge_threshold to be a finite number >= 0, received "
                        f"{value!r}")
    return float(value)


def make_inputs(images, pairs="edges", scale=2, edge_threshold=EDGE_THRESHOLD):
    """The inputs paired with `images` `(N, H, W, C)` float in [0, 1] (tensor or array).

    Returns a float32 `tf.Tensor` `(N, *input_shape)` (see the module docstring for each
    kind). Shapes are checked with `paired_shapes`.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4:
        raise DataError(f"expected images of shape (N, H, W, C), received {tuple(images.shape)}")
    input_shape, _ = paired_shapes(images.shape[1:], pairs, scale)
    if pairs == "edges":
        grey = tf.image.rgb_to_grayscale(images) if images.shape[-1] == 3 else images[..., :1]
        gradients = tf.image.sobel_edges(grey)  # (N, H, W, 1, 2): d/dy, d/dx
        magnitude = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=-1))
        return tf.cast(magnitude > _threshold(edge_threshold), tf.float32)
    if pairs == "colorize":
        return tf.image.rgb_to_grayscale(images)
    return tf.image.resize(images, input_shape[:2], method="area")


def load_raw(source, split="train", data_dir=None, labels_path=None):
    """`(x, y)` of the source, x uint8 (pixels / 255) or float32 in [0, 1]."""
    x, divisor, y = _images._resolve(source, split, data_dir, labels_path)
    if divisor is not None and divisor != 255.0:  # e.g. digits: 0..16
        x = x.astype(np.float32) / np.float32(divisor)
    return x, y


def load_pairs(source, pairs="edges", split="train", scale=2, edge_threshold=EDGE_THRESHOLD,
               data_dir=None, labels_path=None, limit=None):
    """Pairs as NumPy arrays (for evaluation): `(inputs, targets, labels)`.

    `inputs` float32 `(N, *input_shape)`, `targets` float32 `(N, H, W, C)` in [0, 1],
    `labels` int32 `(N,)` or None. `limit` keeps the first `limit` images.
    """
    x, y = load_raw(source, split, data_dir, labels_path)
    paired_shapes(x.shape[1:], pairs, scale)
    _threshold(edge_threshold)
    if limit is not None:
        x, y = x[:limit], (None if y is None else y[:limit])
    targets = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x
    inputs = np.concatenate([
        make_inputs(targets[i:i + 2048], pairs, scale, edge_threshold).numpy()
        for i in range(0, len(targets), 2048)])
    return inputs, targets, y


def paired_dataset(source="digits", pairs="edges", split="train", batch_size=64, shuffle=True,
                   seed=0, scale=2, edge_threshold=EDGE_THRESHOLD, data_dir=None,
                   drop_remainder=False, repeat=False, labels_path=None, epoch=None,
                   augment=None):
    """A batched, shuffled, prefetched `tf.data.Dataset` of `(input, target)` pairs.

    Built on `image_dataset` (same sources, seeded shuffle, `epoch=e` replay of one epoch's
    order in any process, same bad-input errors); the input is computed per batch from the
    target (see the module docstring), so the pairs take no extra memory.

    Args:
        source: as in `load_images`: `"digits"`, a tfds name, a path, an array or `(x, y)`.
        pairs: str. `"edges"`, `"colorize"` or `"resolution"`. Defaults to `"edges"`.
        split: str. As in `load_images`.
        batch_size: int. Pairs per batch. Defaults to 64.
        shuffle: bool. Defaults to True.
        seed: int or None. Shuffle seed. Defaults to 0.
        scale: int. 2 or 4, `pairs="resolution"` only. Defaults to 2.
        edge_threshold: float. Sobel-magnitude threshold of `pairs="edges"`. Defaults to 1.0.
        data_dir, drop_remainder, repeat, labels_path, epoch: as in `image_dataset`.
        augment: None, `"flip"` or `"dihedral"` (see the module docstring). Defaults to None.

    Returns:
        `tf.data.Dataset` of `(input (batch, *input_shape), target (batch, H, W, C))`,
        both float32 in [0, 1].

    Raises:
        DataError: an unknown kind, scale or augmentation, colorize on non-RGB images, a
            size not divisible by `scale`, `"dihedral"` on non-square images, or any
            `image_dataset` error; before any pipeline is built.
    """
    x, _ = load_raw(source, split, data_dir, labels_path)
    paired_shapes(x.shape[1:], pairs, scale)
    threshold = _threshold(edge_threshold)
    _check_augment(augment, x.shape[1:])
    ds = _images.image_dataset(x, batch_size=batch_size, shuffle=shuffle, seed=seed,
                               drop_remainder=drop_remainder, repeat=repeat, epoch=epoch)
    import tensorflow as tf

    def pair(target):
        return make_inputs(target, pairs, scale, threshold), target

    if augment is None:
        return ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    # Draws keyed by the batch's index within this iteration of the dataset: Keras iterates
    # a finite dataset afresh every epoch, and `epoch=e` replays that epoch's shuffle order,
    # so a resumed run sees the same pairs as an uninterrupted one (the reshuffle gives each
    # image new draws every epoch).
    def augmented_pair(index, target):
        return pair(augment_images(target, augment, tf.stack([seed or 0, index])))

    return ds.enumerate().map(augmented_pair, num_parallel_calls=tf.data.AUTOTUNE,
                              deterministic=True)


def _check_augment(augment, image_shape):
    if augment not in AUGMENTATIONS:
        raise DataError(f"expected augment among {list(AUGMENTATIONS)}, received {augment!r}")
    if augment == "dihedral" and image_shape[0] != image_shape[1]:
        raise DataError("expected square images for augment='dihedral', received "
                        f"{image_shape[0]}x{image_shape[1]}")


def augment_images(images, augment, seed):
    """`images` (N, H, W, C) with each image flipped/transposed at random (see module doc).

    `seed`: int tensor of shape (2,), the stateless seed; the three draws use `seed + (0, k)`.
    """
    import tensorflow as tf

    seed = tf.cast(seed, tf.int64)
    images = tf.image.stateless_random_flip_left_right(images, seed)
    if augment == "dihedral":
        images = tf.image.stateless_random_flip_up_down(images, seed + [0, 1])
        transpose = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed + [0, 2])
        images = tf.where(transpose < 0.5, tf.transpose(images, [0, 2, 1, 3]), images)
    return images
