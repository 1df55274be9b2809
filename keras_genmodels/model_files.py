"""Open `.keras` files with clear errors: missing, truncated, foreign, wrong family.

`keras.models.load_model` reports a truncated archive as "File not found"
and an unregistered class as "Could not locate class"; the command line and
the exporter go through `load_model_file` instead, which checks the archive
first and says what was expected and what was received.
"""

import json
import os
import pathlib
import zipfile


class ModelFileError(ValueError):
    """A model file that exists but cannot be used (corrupt, foreign, wrong family)."""


def check_keras_file(path):
    """Validate a Keras v3 `.keras` archive without loading it; return its Path.

    Raises:
        FileNotFoundError: nothing (or a directory) at `path`.
        ModelFileError: not a zip archive, truncated or corrupt (bad CRC),
            or missing `config.json` / `model.weights.h5`.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expected a .keras model file, received {str(path)!r}, "
                                "which does not exist" if not path.exists() else
                                f"expected a .keras model file, received the directory "
                                f"{str(path)!r}")
    if path.suffix != ".keras":
        raise ModelFileError(f"expected a Keras v3 '.keras' archive, received {path} "
                             f"(suffix {path.suffix!r})")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"expected a Keras v3 '.keras' archive (a zip file), received "
                             f"{path} ({os.path.getsize(path)} bytes), which is not a complete "
                             "zip archive: truncated or not a model file")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
            config = json.loads(archive.read("config.json")) if "config.json" in names else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ModelFileError(f"expected a readable .keras archive, received {path}, which is "
                             f"corrupt ({err})") from None
    if bad is not None:
        raise ModelFileError(f"expected a readable .keras archive, received {path}, whose "
                             f"member {bad!r} is corrupt (CRC mismatch)")
    missing = {"config.json", "model.weights.h5"} - names
    if missing or not isinstance(config, dict):
        raise ModelFileError(f"expected a .keras archive with config.json and "
                             f"model.weights.h5, received {path} without "
                             f"{', '.join(sorted(missing)) or 'a valid config.json'}")
    return path


def saved_class_name(path):
    """The class name recorded in a `.keras` file's config (no loading)."""
    with zipfile.ZipFile(check_keras_file(path)) as archive:
        config = json.loads(archive.read("config.json"))
    return config.get("class_name")


def load_model_file(path, require=None, purpose=None):
    """Load a `.keras` file written by this package, with clear errors.

    Args:
        path: str or Path of the `.keras` file.
        require: str, tuple of str, or None. Method names the model must
            have (e.g. `"sample"`), or None.
        purpose: str or None. What the model is for, used in messages
            (e.g. `"translate"`).

    Returns:
        The loaded `keras.Model`.

    Raises:
        FileNotFoundError, ModelFileError.
    """
    path = check_keras_file(path)
    import keras

    import keras_genmodels.models.registry  # noqa: F401  (register every class)

    try:
        model = keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001 - a file we cannot load is a user error
        text = str(err).strip().splitlines()
        raise ModelFileError(f"expected a .keras file saved by keras_genmodels, received "
                             f"{path} (class {saved_class_name(path)!r}), which cannot be "
                             f"loaded: {text[0] if text else type(err).__name__}") from None
    if require:
        names = (require,) if isinstance(require, str) else tuple(require)
        missing = [n for n in names if not callable(getattr(model, n, None))]
        if missing:
            raise ModelFileError(
                f"expected a model that can {purpose or ', '.join(names)}, received "
                f"{type(model).__name__} from {path}, which has no "
                f"{', '.join(m + '()' for m in missing)}")
    return model
