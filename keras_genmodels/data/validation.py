"""Checks that turn user arrays into the package's canonical image layout, or raise `DataError`.

Canonical layout: images `(N, H, W, C)` channels-last, stored either as `uint8` pixels with a
divisor (255 for 8-bit images, 16 for scikit-learn digits) or as float32 already in [0, 1];
labels int32 `(N,)`. The divisor lets pipelines keep uint8 in memory and convert per batch.
"""

import numpy as np

from keras_genmodels.data.errors import DataError


def _describe(x):
    return f"array of shape {tuple(x.shape)} and dtype {x.dtype}"


def check_images(x, what="x"):
    """Validate an image array; return `(images, divisor)`.

    Args:
        x: array-like. `(N, H, W)` or `(N, H, W, C)` with C in 1..4; dtype uint8 (0..255) or
            float in [0, 1] with no NaN/inf.
        what: str. Name used in error messages (e.g. "x in 'train.npz'").

    Returns:
        `(images, divisor)`: images `(N, H, W, C)` as uint8 (divisor 255.0) or float32 (divisor
        None).
    """
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as e:  # noqa: BLE001 - anything unconvertible is a data error
            raise DataError(f"expected {what} to be an array of images, received "
                            f"{type(x).__name__} ({e})") from None
    if x.dtype.kind not in "uifb":
        raise DataError(f"expected {what} with dtype uint8 (0..255) or float in [0, 1], "
                        f"received {_describe(x)}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        hint = " (flattened images: reshape to (N, H, W) first)" if x.ndim == 2 else ""
        raise DataError(f"expected {what} of shape (N, H, W) or (N, H, W, C), received "
                        f"{_describe(x)}{hint}")
    if x.shape[0] == 0:
        raise DataError(f"expected {what} with at least one image, received an empty "
                        f"{_describe(x)}")
    if 0 in x.shape[1:]:
        raise DataError(f"expected {what} with non-empty images, received {_describe(x)}")
    if x.shape[-1] not in (1, 2, 3, 4):
        raise DataError(f"expected {what} channels-last with 1-4 channels (N, H, W, C), received "
                        f"{_describe(x)}; transpose channels-first data with "
                        f"x.transpose(0, 2, 3, 1)")
    if x.dtype == np.uint8:
        return x, 255.0
    if x.dtype.kind != "f":
        raise DataError(f"expected {what} with dtype uint8 (0..255) or float in [0, 1], "
                        f"received {_describe(x)}; convert with x.astype('uint8') if it holds "
                        f"0..255 pixels")
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(x.size - np.count_nonzero(finite))
        raise DataError(f"expected {what} with finite values in [0, 1], received {bad} NaN/inf "
                        f"value(s) in {_describe(x)}")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        hint = "; store 0..255 pixels as uint8 or divide by 255" if hi > 1.0 and hi <= 255 else ""
        raise DataError(f"expected {what} with values in [0, 1], received min {lo:g}, max {hi:g} "
                        f"in {_describe(x)}{hint}")
    return x.astype(np.float32, copy=False), None


def check_labels(y, num_images, what="y"):
    """Validate integer class labels for `num_images` images; return int32 `(N,)`."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"expected {what} of shape ({num_images},) (one label per image), "
                        f"received {_describe(y)}")
    if y.shape[0] != num_images:
        raise DataError(f"expected {what} with {num_images} labels (one per image), received "
                        f"{y.shape[0]}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not np.all(y == np.round(y)):
            raise DataError(f"expected {what} with integer class labels, received non-integer "
                            f"values in {_describe(y)}")
    elif y.dtype.kind not in "iub":
        raise DataError(f"expected {what} with integer class labels, received {_describe(y)}")
    if y.size and (y.min() < 0 or y.max() > np.iinfo(np.int32).max):
        raise DataError(f"expected {what} with labels in [0, 2**31), received min {y.min()}, "
                        f"max {y.max()}")
    return y.astype(np.int32)
