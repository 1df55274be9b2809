"""Readers for local image files: numpy `.npz` archives and MNIST-style IDX files.

`.npz`: arrays `x` (N, H, W[, C]) uint8 0..255 or float in [0, 1], optional `y` (N,) labels.

IDX (the MNIST release format, http://yann.lecun.com/exdb/mnist/), gzipped or not: a 4-byte
magic number `0x00 0x00 <type> <ndim>`, then `ndim` big-endian uint32 sizes, then the values,
big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64. Labels live in a second file (`train-images-idx3-ubyte.gz` ->
`train-labels-idx1-ubyte.gz`), given explicitly or found next to the images.
"""

import gzip
import os
import zlib

import numpy as np

from keras_genmodels.data.errors import DataError

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK"


def _read_bytes(path):
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"expected a readable file, received {str(path)!r} ({e})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"expected a valid gzip file, received {str(path)!r} which is corrupt "
                            f"or truncated ({type(e).__name__}: {e})") from None
    return raw


def read_idx(path):
    """Parse one IDX file (gzipped or not) into a numpy array with native byte order.

    Args:
        path: str or Path. An IDX file such as `train-images-idx3-ubyte.gz`.

    Returns:
        numpy array of the shape stored in the header (e.g. (60000, 28, 28) uint8).
    """
    raw = _read_bytes(path)
    name = os.path.basename(str(path))
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"expected an IDX file starting with magic number 0x0000<type><ndim>, "
                        f"received {name!r} starting with 0x{raw[:4].hex() or '(empty)'}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        raise DataError(f"expected an IDX type code in "
                        f"{{{', '.join(hex(c) for c in IDX_TYPES)}}}, received {hex(code)} in "
                        f"{name!r}")
    if ndim == 0:
        raise DataError(f"expected an IDX file with at least one dimension, received 0 in {name!r}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"expected an IDX header of {header} bytes, received a {len(raw)}-byte "
                        f"file {name!r} (truncated)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    received = len(raw) - header
    if received != expected:
        raise DataError(f"expected {expected} bytes of data for dims {dims} in {name!r}, "
                        f"received {received} (file truncated or corrupt)")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def label_sibling(images_path):
    """Path of the labels file next to an IDX images file, or None when there is none.

    `train-images-idx3-ubyte(.gz)` -> `train-labels-idx1-ubyte(.gz)` (gzipped or not, either
    way round), also `t10k-images.idx3-ubyte` -> `t10k-labels.idx1-ubyte`.
    """
    folder, name = os.path.split(str(images_path))
    stem = name[:-3] if name.endswith(".gz") else name
    label_stem = stem.replace("images", "labels").replace("idx3", "idx1")
    if label_stem == stem:
        return None
    for candidate in (label_stem + ".gz", label_stem):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def read_npz(path, required="x"):
    """Arrays `(x, y)` from a `.npz` archive; a missing optional array is None.

    Args:
        path: str or Path of the archive.
        required: str. The array that must be present ("x" for images, "y" for labels).
    """
    what = {"x": "images", "y": "labels"}[required]
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise DataError(f"expected a .npz archive with arrays 'x' (and optional 'y'), "
                                f"received a single .npy array in {str(path)!r}")
            keys = list(archive.files)
            if required not in keys:
                raise DataError(f"expected an array named {required!r} ({what}) in "
                                f"{str(path)!r}, received arrays {keys}")
            x = archive["x"] if "x" in keys else None
            y = archive["y"] if "y" in keys else None
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile/zlib/numpy raise many types on bad bytes
        raise DataError(f"expected a readable .npz archive, received {str(path)!r} which is "
                        f"corrupt, truncated or not a numpy archive "
                        f"({type(e).__name__}: {e})") from None
    return x, y


def file_kind(path):
    """'npz' or 'idx', from the file's first bytes (and name); raise DataError otherwise."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise DataError(f"expected a readable file, received {str(path)!r} ({e})") from None
    if head[:2] == _ZIP_MAGIC or str(path).endswith(".npz"):
        return "npz"
    if head[:2] == _GZIP_MAGIC or (len(head) == 4 and head[:2] == b"\x00\x00"):
        return "idx"
    raise DataError(f"expected a .npz archive or an IDX file (gzipped or not), received "
                    f"{str(path)!r} starting with bytes 0x{head.hex() or '(empty)'}")


def read_local(path, labels_path=None):
    """Images and labels `(x, y)` from a `.npz` or IDX file; y is None when none are found."""
    path = os.path.expanduser(str(path))
    if not os.path.exists(path):
        raise DataError(f"expected an existing .npz or IDX file, received {path!r} "
                        f"(no such file)")
    if os.path.isdir(path):
        raise DataError(f"expected a .npz or IDX file, received the directory {path!r}")
    if file_kind(path) == "npz":
        x, y = read_npz(path)
        if labels_path is not None:
            y = _read_labels_file(labels_path)
        return x, y
    x = read_idx(path)
    if x.ndim == 1:
        raise DataError(f"expected an IDX images file with 3 or 4 dimensions (N, H, W[, C]), "
                        f"received 1 dimension of size {x.shape[0]} in {path!r} (a labels file? "
                        f"pass the images file as source and this one as labels_path)")
    labels_path = labels_path if labels_path is not None else label_sibling(path)
    y = _read_labels_file(labels_path) if labels_path is not None else None
    return x, y


def _read_labels_file(labels_path):
    labels_path = os.path.expanduser(str(labels_path))
    if not os.path.isfile(labels_path):
        raise DataError(f"expected an existing labels file, received {labels_path!r} "
                        f"(no such file)")
    if file_kind(labels_path) == "npz":
        return read_npz(labels_path, required="y")[1]
    return read_idx(labels_path)
