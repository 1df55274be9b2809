"""`genmodels translate-image`: run an image-to-image model on a PNG or a `.npy` array.

Works with any saved model that exposes `translate(images)` (float images
`(N, *input_image_shape)` in [0, 1] -> `(N, *output_image_shape)`) and the two
shape attributes: `Pix2Pix` (edges -> image, grey -> colour) and
`SuperResolution` (low -> high resolution).

Input (`--input`):
- `.png`: one image; greyscale (mode L) gives 1 channel, RGB 3 (RGBA and
  palette images are converted to RGB, LA to L); 8-bit pixels are divided by
  255, 16-bit by 65535.
- `.npy`: one image `(H, W, C)` (or `(H, W)` for one channel) or a batch
  `(N, H, W, C)` (or `(N, H, W)`); uint8 pixels are divided by 255, floats
  must lie in [0, 1].

Output (`--out`, default `<input stem>_translated.<png|npy>` in the current
folder): `.npy` holds float32 values with the input's layout (one image or a
batch); `.png` is the image itself for one input image (values clipped to
[0, 1], 8-bit), or a grid of the outputs for a batch. Written atomically.

Bad input (a suffix other than .png/.npy, an image whose size or channels
are not the model's, values outside [0, 1]) exits 2 with a message saying
what was expected and what was received, before the model runs.

Examples:
    genmodels translate-image --model saved_models/pix2pix/model.keras --input edges.png
    genmodels translate-image --model sr.keras --input low.npy --out high.npy
"""

import pathlib

import numpy as np

from keras_genmodels.tasks.common import TaskError

SUFFIXES = (".png", ".npy")


def add_arguments(parser):
    parser.add_argument("--model", type=pathlib.Path, required=True,
                        help=".keras file of a model with translate() (pix2pix, srresnet, ...)")
    parser.add_argument("--input", type=pathlib.Path, required=True,
                        help="an image .png, or a .npy image (H, W[, C]) or batch (N, H, W[, C])")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="output .png or .npy (default: <input stem>_translated with the "
                             "input's suffix, in the current folder)")
    parser.add_argument("--batch-size", type=int, default=256,
                        help="images per model call (default 256)")


def _suffix(path, what):
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise TaskError(f"expected {what} ending in .png or .npy, received {str(path)!r}")
    return suffix


def read_png(path):
    """One PNG as float32 `(H, W, C)` in [0, 1] (C = 1 or 3)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(image, dtype=np.float64) / 65535.0
            else:
                if mode not in ("L", "RGB"):
                    image = image.convert("L" if mode in ("LA", "1") else "RGB")
                array = np.asarray(image, dtype=np.float64) / 255.0
    except (OSError, ValueError) as err:
        raise TaskError(f"expected a readable PNG image, received {str(path)!r} ({err})") from None
    if array.ndim == 2:
        array = array[..., None]
    return np.clip(array, 0.0, 1.0).astype(np.float32)


def read_npy(path):
    """A `.npy` array as float32 in [0, 1] (uint8 pixels divided by 255)."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise TaskError(f"expected a readable .npy array, received {str(path)!r} ({err})") \
            from None
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype.kind not in "fiu" or array.dtype.kind in "iu" and array.size and (
            array.min() < 0 or array.max() > 1):
        raise TaskError(f"expected a .npy of uint8 pixels or floats in [0, 1], received "
                        f"dtype {array.dtype} in {str(path)!r}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise TaskError(f"expected finite values in [0, 1], received NaN/inf in {str(path)!r}")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise TaskError(f"expected values in [0, 1] in {str(path)!r}, received min "
                        f"{array.min():g}, max {array.max():g}"
                        + ("; 8-bit pixels? store them as uint8 or divide by 255"
                           if array.max() <= 255 else ""))
    return array


def as_batch(array, expected, source):
    """`(batch (N, *expected), single)` from an image or batch array, or TaskError."""
    expected = tuple(int(d) for d in expected)
    shape = tuple(array.shape)
    if shape == expected:
        return array[None], True
    if expected[-1] == 1 and shape == expected[:2]:
        return array[None, ..., None], True
    if len(shape) == 4 and shape[1:] == expected:
        return array, False
    if expected[-1] == 1 and len(shape) == 3 and shape[1:] == expected[:2]:
        return array[..., None], False
    hint = ""
    if len(shape) >= 3 and shape[-1] != expected[-1] and shape[-3:-1] == expected[:2]:
        hint = (f"; the model takes {expected[-1]}-channel images, this one has "
                f"{shape[-1]} channel(s)")
    else:
        hint = f"; the model takes {expected[0]}x{expected[1]} images"
    raise TaskError(f"expected an image of shape {expected} (or a batch (N, "
                    f"{', '.join(map(str, expected))})) for this model, received "
                    f"{source} of shape {shape}{hint}")


def write_png(image, path):
    """One float image `(H, W, C)` as an 8-bit PNG (values clipped to [0, 1])."""
    from PIL import Image

    from keras_genmodels.files import atomic_write

    pixels = np.round(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255.0).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    with atomic_write(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")
    return pathlib.Path(path)


def run(args):
    """Translate `args.input` with `args.model`; write `args.out`; return the output path."""
    in_suffix = _suffix(args.input, "--input")
    out = args.out or pathlib.Path(f"{args.input.stem}_translated{in_suffix}")
    out_suffix = _suffix(out, "--out")
    if out.exists() and out.is_dir():
        raise TaskError(f"expected --out to be a file path, received the directory {str(out)!r}")
    if args.batch_size < 1:
        raise TaskError(f"expected --batch-size >= 1, received {args.batch_size}")
    if not args.input.is_file():
        raise FileNotFoundError(f"expected an input image file, received {str(args.input)!r}, "
                                "which does not exist")
    array = read_png(args.input) if in_suffix == ".png" else read_npy(args.input)

    from keras_genmodels.model_files import load_model_file

    model = load_model_file(args.model, require="translate", purpose="translate images")
    expected = getattr(model, "input_image_shape", None)
    if expected is None:
        raise TaskError(f"expected a model with input_image_shape (an image-to-image model), "
                        f"received {type(model).__name__} from {args.model}")
    batch, single = as_batch(array, expected, repr(str(args.input)))

    import keras

    outputs = np.concatenate([
        keras.ops.convert_to_numpy(model.translate(batch[i:i + args.batch_size]))
        for i in range(0, len(batch), args.batch_size)]).astype(np.float32)
    if out_suffix == ".npy":
        from keras_genmodels.files import atomic_write

        with atomic_write(out) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, outputs[0] if single else outputs)
    elif single:
        write_png(outputs[0], out)
    else:
        from keras_genmodels.plots.grid import save_image_grid

        save_image_grid(outputs, out)
    print(f"saved {out} ({len(outputs)} image(s) {tuple(outputs.shape[1:])})")
    return out
