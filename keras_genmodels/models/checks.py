"""Checks shared by the model families: constructor arguments and inputs of the public API.

Every check raises `ValueError` before any work, with a message in the house style
"expected ..., received ...", and behaves identically on the TensorFlow, JAX and torch
backends (the checks run in NumPy on the host, not in the backend's ops).

Arguments (at construction): `integer`, `integers`, `number`, `choice`, `shape`.

Inputs (in the public inference methods: `encode`, `decode`, `generate`, ...):

- `data(x, ...)`: samples or images `(N, *sample_shape)`; a float dtype (uint8 pixels are
  refused with the hint "divide by 255"), no NaN/inf, values inside the model's range
  (e.g. [0, 1] for a sigmoid decoder) when it has one.
- `codes(z, ...)`: latent codes `(N, dim)`, any real dtype, finite.
- `labels(y, num_classes, ...)`: integers in `[0, num_classes)`, one per sample; a float
  array is accepted only when every value is a whole number.

Only concrete values are checked: NumPy arrays, Python lists and eager backend tensors.
Symbolic tensors (`keras.Input`, a `tf.function` graph such as a SavedModel export, a JAX
trace) pass through unchanged, since their values do not exist yet; exported graphs check
labels at run time with `backend.assert_in_range` instead. The training step never calls
these checks (it calls the models' private, unchecked methods).
"""

import numbers

import keras
import numpy as np
from keras import ops

from keras_genmodels import backend as B

# Inputs of a model whose output passes through one of these activations must lie in its
# range (an autoencoder reconstructs its input; a discriminator judges generator outputs).
ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
_RANGE_TOLERANCE = 1e-5


def _show(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


# --- constructor arguments ------------------------------------------------------------


def integer(name, value, minimum=1):
    """Return `value` as an int `>= minimum`, or raise ValueError.

    Accepts Python and NumPy integers (and floats holding a whole number, e.g. `16.0`);
    refuses booleans.
    """
    ok = not isinstance(value, (bool, np.bool_))
    if ok and isinstance(value, numbers.Integral):
        value_int = int(value)
    elif ok and isinstance(value, numbers.Real) and float(value).is_integer():
        value_int = int(value)
    else:
        ok = False
    if not ok or value_int < minimum:
        raise ValueError(f"expected {name} >= {minimum} (an integer), received "
                         f"{_show(value)}")
    return value_int


def integers(name, values, minimum=1):
    """Return a tuple of ints, each `>= minimum`, from a sequence (e.g. `hidden_units`)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"expected {name} as a sequence of integers >= {minimum}, received "
                         f"{_show(values)}")
    values = tuple(values)
    for v in values:
        try:
            integer(name, v, minimum)
        except ValueError:
            raise ValueError(f"expected {name} as a sequence of integers >= {minimum}, "
                             f"received {values!r}") from None
    return tuple(int(v) for v in values)


def number(name, value, minimum=None, maximum=None, include_maximum=True,
           include_minimum=True):
    """Return `value` as a finite float in the given interval, or raise ValueError."""
    lo = "" if minimum is None else ("[" if include_minimum else "(") + f"{minimum:g}"
    hi = "" if maximum is None else f"{maximum:g}" + ("]" if include_maximum else ")")
    if minimum is not None and maximum is not None:
        wanted = f"in {lo}, {hi}"
    elif minimum is not None:
        wanted = (">= " if include_minimum else "> ") + f"{minimum:g}"
    elif maximum is not None:
        wanted = ("<= " if include_maximum else "< ") + f"{maximum:g}"
    else:
        wanted = "finite"
    try:
        ok = (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
              and np.isfinite(float(value)))
    except (TypeError, ValueError):
        ok = False
    if ok:
        v = float(value)
        ok = ((minimum is None or (v >= minimum if include_minimum else v > minimum))
              and (maximum is None or (v <= maximum if include_maximum else v < maximum)))
    if not ok:
        raise ValueError(f"expected {name} {wanted} (a number), received {_show(value)}")
    return float(value)


def choice(name, value, allowed):
    """Raise ValueError unless `value` is one of `allowed`; return it."""
    if value not in tuple(allowed):
        raise ValueError(f"expected {name} to be one of {list(allowed)}, received {value!r}")
    return value


def shape(name, value, ndim=None):
    """Return a tuple of positive ints (a sample shape), or raise ValueError."""
    what = f"a tuple of {ndim} positive integers" if ndim else "a tuple of positive integers"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"expected {name} as {what}, received {_show(value)}")
    value = tuple(value)
    try:
        out = tuple(integer(name, d, 1) for d in value)
    except ValueError:
        raise ValueError(f"expected {name} as {what}, received {value!r}") from None
    if not out or (ndim and len(out) != ndim):
        raise ValueError(f"expected {name} as {what}, received {value!r}")
    return out


def conv_image_shape(name, value, architecture):
    """Shape `(H, W, C)` of a convolutional network's images, or a ValueError naming the
    architecture."""
    value = shape(name, value)
    if len(value) != 3:
        raise ValueError(f"expected {name} (H, W, C) for architecture={architecture!r}, "
                         f"received {value}")
    return value


def dcgan_image_shape(data_shape, filters=None):
    """Check `data_shape` for the DCGAN networks: n stride-2 blocks need H and W divisible
    by 2**n (n = len(filters); without filters, H and W even and >= 4, see
    `networks.gan.default_filters`)."""
    height, width, _ = conv_image_shape("data_shape", data_shape, "dcgan")
    if filters:
        n = len(filters)
        if height % 2 ** n or width % 2 ** n:
            raise ValueError(
                f"expected data_shape (H, W, C) with H and W divisible by 2**len(filters) = "
                f"{2 ** n} for architecture='dcgan' with filters={tuple(filters)}, received "
                f"{tuple(data_shape)}; resize or pad the images, or pass fewer filters")
        return
    if height % 2 or width % 2 or height < 4 or width < 4:
        raise ValueError(
            "expected data_shape (H, W, C) with H and W even and >= 4 for "
            "architecture='dcgan' (n stride-2 blocks need H and W divisible by 2**n: "
            f"8x8, 28x28, 32x32, 64x64 ...), received {tuple(data_shape)}; resize or pad "
            "the images (e.g. 33x33 -> 32x32), or use architecture='mlp'")


# --- inputs of the public API --------------------------------------------------------


def _is_tensor(x):
    return ops.is_tensor(x) or isinstance(x, keras.KerasTensor)


def _as_array(x, where, name, expected):
    """(host array or None, dtype str, shape) of a concrete input; raises for non-arrays."""
    if _is_tensor(x):
        return None, keras.backend.standardize_dtype(x.dtype), tuple(x.shape)
    try:
        array = np.asarray(x)
    except Exception:  # noqa: BLE001 - ragged lists and the like
        raise ValueError(f"{where}: expected {name} as {expected}, received "
                         f"{type(x).__name__} that is not a rectangular array") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{where}: expected {name} as {expected}, received "
                         f"{type(x).__name__} of dtype {array.dtype}")
    return array, str(array.dtype), array.shape


def _stats(x, array):
    """(number of non-finite values, min, max) over the finite values."""
    if array is not None:
        if array.size == 0:
            return 0, None, None
        finite = np.isfinite(array)
        bad = int(array.size - np.count_nonzero(finite))
        values = array[finite] if bad else array
        if values.size == 0:
            return bad, None, None
        return bad, float(values.min()), float(values.max())
    size = int(np.prod(x.shape))
    if size == 0:
        return 0, None, None
    x = ops.cast(x, "float32")
    finite = ops.isfinite(x)
    bad = size - int(ops.convert_to_numpy(ops.sum(ops.cast(finite, "int32"))))
    if bad == size:
        return bad, None, None
    lo = float(ops.convert_to_numpy(ops.min(ops.where(finite, x, np.inf))))
    hi = float(ops.convert_to_numpy(ops.max(ops.where(finite, x, -np.inf))))
    return bad, lo, hi


def _shape_text(sample_shape):
    return "(N, " + ", ".join(str(d) for d in sample_shape) + ")"


def _shape_hint(received, sample_shape):
    received, sample_shape = tuple(received), tuple(sample_shape)
    if received == sample_shape:
        return "; one sample? add a batch axis: x[None]"
    if len(sample_shape) == 3 and sample_shape[-1] == 1 and received[1:] == sample_shape[:-1]:
        return "; add a channel axis: x[..., None]"
    if (len(received) == 2 and len(sample_shape) > 1
            and received[1] == int(np.prod(sample_shape))):
        return f"; flattened samples? reshape to {_shape_text(sample_shape)}"
    if len(received) == 4 and received[1:] == sample_shape[::-1][:1] + sample_shape[:2]:
        return "; channels-first? transpose with x.transpose(0, 2, 3, 1)"
    return ""


def data(x, where, sample_shape, value_range=None, name="x", batch_multiple=1):
    """Check samples `x` `(N, *sample_shape)` given to a public method; return `x`.

    Args:
        x: array-like or tensor. Symbolic tensors are returned unchecked.
        where: str. The method, e.g. `"Autoencoder.encode"`, named in the message.
        sample_shape: tuple. Shape of one sample.
        value_range: `(lo, hi)` or None. The values the model accepts (None: any finite).
        name: str. Argument name in the message.
        batch_multiple: int. N must be a multiple of it (PacGAN packing).

    Returns:
        `x`, or a NumPy array when `x` was a list.
    """
    if B.is_symbolic(x):
        return x
    images = len(sample_shape) == 3
    kind = "float images" if images else "float samples"
    rng = "" if value_range is None else f" with values in [{value_range[0]:g}, " \
                                         f"{value_range[1]:g}]"
    expected = f"{kind} of shape {_shape_text(sample_shape)}{rng}"
    array, dtype, received_shape = _as_array(x, where, name, expected)
    if not (dtype.startswith("float") or dtype == "bfloat16"):
        if dtype == "uint8":
            hint = "; 8-bit pixels? divide by 255: x.astype('float32') / 255"
        else:
            hint = "; convert with x.astype('float32')"
        raise ValueError(f"{where}: expected {name} as {expected}, received dtype {dtype}"
                         f"{hint}")
    if received_shape[1:] != tuple(sample_shape) or len(received_shape) < 1:
        raise ValueError(f"{where}: expected {name} as {expected} (the model's shape), "
                         f"received shape {received_shape}"
                         f"{_shape_hint(received_shape, sample_shape)}")
    if batch_multiple > 1 and received_shape[0] % batch_multiple:
        raise ValueError(f"{where}: expected {name} with a number of samples divisible by "
                         f"packing={batch_multiple}, received {received_shape[0]}")
    bad, lo, hi = _stats(x, array)
    if bad:
        raise ValueError(f"{where}: expected {name} as {expected}, received {bad} NaN/inf "
                         f"value(s)")
    if value_range is not None and lo is not None and (
            lo < value_range[0] - _RANGE_TOLERANCE or hi > value_range[1] + _RANGE_TOLERANCE):
        hint = ""
        if value_range == (0.0, 1.0) and 1.0 < hi <= 255.0 and lo >= 0.0:
            hint = "; 8-bit pixels? divide by 255"
        elif value_range == (0.0, 1.0) and lo >= -1.0 and hi <= 1.0:
            hint = "; images in [-1, 1]? map them with (x + 1) / 2"
        raise ValueError(f"{where}: expected {name} as {expected}, received min {lo:g}, "
                         f"max {hi:g}{hint}")
    return x if array is None or isinstance(x, np.ndarray) else array


def codes(z, where, dim, name="z"):
    """Check latent codes `z` `(N, dim)` (any real dtype, finite); return `z`."""
    if B.is_symbolic(z):
        return z
    expected = f"a float array of shape (N, {dim}) with finite values"
    array, dtype, received_shape = _as_array(z, where, name, expected)
    if dtype == "bool" or not (dtype.startswith(("float", "int", "uint")) or
                               dtype == "bfloat16"):
        raise ValueError(f"{where}: expected {name} as {expected}, received dtype {dtype}")
    if len(received_shape) != 2 or received_shape[1] != dim:
        hint = "; one code? add a batch axis: z[None]" if received_shape == (dim,) else ""
        raise ValueError(f"{where}: expected {name} as {expected} (the model's latent size), "
                         f"received shape {received_shape}{hint}")
    bad, _, _ = _stats(z, array)
    if bad:
        raise ValueError(f"{where}: expected {name} as {expected}, received {bad} NaN/inf "
                         f"value(s)")
    return z if array is None or isinstance(z, np.ndarray) else array


def labels(y, num_classes, where, num_samples=None, allow_scalar=False, name="labels"):
    """Check class labels; return int32 NumPy `(N,)` (symbolic tensors unchanged).

    Args:
        y: int, array-like or tensor. Integers in `[0, num_classes)`; floats only when
            every value is a whole number. `(N,)` or `(N, 1)`.
        num_classes: int.
        where: str. The method named in the message.
        num_samples: int or None. N, when known (one label per sample).
        allow_scalar: bool. Accept one int for all `num_samples` samples.
    """
    if B.is_symbolic(y):
        return y
    expected = f"integers in [0, {num_classes}) (num_classes={num_classes})"
    per = "" if num_samples is None else f", one per sample: shape ({num_samples},)"
    if _is_tensor(y):
        y = ops.convert_to_numpy(y)
    try:
        array = np.asarray(y)
    except Exception:  # noqa: BLE001
        array = np.asarray(None)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{where}: expected {name} as {expected}{per}, received dtype "
                         f"{array.dtype}")
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all() or not np.all(array == np.round(array)):
            example = array[~finite | (array != np.round(array))].flat[0]
            raise ValueError(f"{where}: expected {name} as {expected}, received non-integer "
                             f"value(s) such as {example:g} (dtype {array.dtype})")
    if array.ndim == 0:
        if not allow_scalar or num_samples is None:
            raise ValueError(f"{where}: expected {name} as {expected}{per}, received a "
                             f"single value {_show(array[()])}")
        array = np.full((num_samples,), array)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or (num_samples is not None and array.shape[0] != num_samples):
        raise ValueError(f"{where}: expected {name} as {expected}{per}, received shape "
                         f"{array.shape}")
    if array.size:
        lo, hi = array.min(), array.max()
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"{where}: expected {name} as {expected}, received min "
                             f"{_show(lo)}, max {_show(hi)}")
    return array.astype("int32")


def label_message(num_classes, where="label"):
    """Message of the run-time label assertion in exported graphs."""
    return (f"expected {where} as integers in [0, {num_classes}) "
            f"(num_classes={num_classes})")


def graph_labels(y, num_classes, where="label"):
    """Labels inside an exported/traced graph: asserted in range at run time under
    TensorFlow (`InvalidArgumentError` with `label_message`); unchanged elsewhere."""
    y = ops.convert_to_tensor(y)
    return B.assert_in_range(y, 0, num_classes, label_message(num_classes, where))


def texts(values, where, name="texts"):
    """A string or a sequence of strings (bytes are decoded as UTF-8); return
    `(list of str, single)`."""
    expected = "a string or a list of strings"
    if isinstance(values, bytes):
        values = values.decode("utf-8")
    if isinstance(values, str):
        return [values], True
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{where}: expected {name} as {expected}, received an array of "
                             f"shape {values.shape}")
        values = values.tolist()
    if isinstance(values, (dict, set)) or not isinstance(values, (list, tuple)):
        raise ValueError(f"{where}: expected {name} as {expected}, received "
                         f"{type(values).__name__}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{where}: expected {name} as {expected}, received bytes "
                                 f"that are not UTF-8 at index {i}") from None
        if not isinstance(v, str):
            raise ValueError(f"{where}: expected {name} as {expected}, received "
                             f"{type(v).__name__} {v!r} at index {i}")
        out.append(v)
    return out, False


def token_ids(ids, vocabulary_size, where, name="source_ids"):
    """Integer ids `(N, T)` in `[0, vocabulary_size)`; return int32 NumPy."""
    expected = f"integer ids of shape (N, T) in [0, {vocabulary_size})"
    if _is_tensor(ids):
        ids = ops.convert_to_numpy(ids)
    try:
        array = np.asarray(ids)
    except Exception:  # noqa: BLE001
        array = np.asarray(None)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{where}: expected {name} as {expected}, received dtype "
                         f"{array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{where}: expected {name} as {expected}, received shape "
                         f"{array.shape}")
    if array.size and (array.min() < 0 or array.max() >= vocabulary_size):
        raise ValueError(f"{where}: expected {name} as {expected}, received min "
                         f"{_show(array.min())}, max {_show(array.max())}")
    return array.astype("int32")
