"""Versioned, atomic SavedModel export for TF Serving, from any backend.

Layout written (the TF Serving "base path" of each model is
`<base_dir>/<name>`; the server loads the highest integer version)::

    saved_models/
      models.config             model_config_list listing every model
      <name>/<version>/saved_model.pb, variables/, assets/

A version is written to a hidden temporary directory beside its final
place and renamed into place, so a polling server never sees a half-written
version, and a failed export leaves nothing behind.

Signatures come from the model's `export_endpoints()`; `serving_default`
is an alias of the endpoint named by the model's `serving_default`. Every
signature has a dynamic batch dimension.

Under the TensorFlow backend the export runs in-process with
`keras.export.ExportArchive`. Under JAX and torch the model is saved to a
temporary `.keras` file and exported by a subprocess running the
TensorFlow backend: Keras 3.15 cannot export from torch at all, and the
JAX path would embed `XlaCallModule` ops that not every TF Serving build
runs; this way every export is a plain TensorFlow graph.

Command line (used by that subprocess, and usable by hand)::

    KERAS_BACKEND=tensorflow python -m keras_genmodels.export model.keras \
        --name autoencoder [--base-dir saved_models] [--version N]
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from keras_genmodels.files import make_tree_readable, write_text_atomically
from keras_genmodels.model_files import ModelFileError, check_keras_file, load_model_file
from keras_genmodels.training.finite import NonFiniteWeightsError, check_finite_weights

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            "Export name must be letters, digits, '_', '.', '-' (starting "
            f"with a letter or digit); received {name!r}.")


# One error type for every refusal of NaN/inf weights (save, export, checkpoints).
NonFiniteModelError = NonFiniteWeightsError


def _check_finite(model, allow_non_finite):
    """Raise `NonFiniteModelError` naming the variables with NaN/inf values."""
    if not allow_non_finite:
        check_finite_weights(model, action="export")


def versions(model_dir, complete_only=False):
    """Sorted integer versions present in `model_dir` (a model's base path).

    With `complete_only`, only versions holding a `saved_model.pb` (a
    directory left by a crashed tool is not a servable version).
    """
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir()
                  if p.is_dir() and p.name.isdigit()
                  and (not complete_only or (p / "saved_model.pb").is_file()))


def next_version(base_dir, name):
    found = versions(pathlib.Path(base_dir) / name)
    return found[-1] + 1 if found else 1


def write_models_config(base_dir, serving_root=None):
    """Write `<base_dir>/models.config` (TF Serving `model_config_list`).

    Lists every sub-directory of `base_dir` that holds at least one complete
    integer version (one with a `saved_model.pb`). `base_path` is `<serving_root>/<name>` when `serving_root` is
    given (e.g. `/models` inside a container), else the absolute path.
    Written atomically (temporary file + `os.replace`), readable by all
    (mode 0644 under the usual umask).
    """
    base_dir = pathlib.Path(base_dir).resolve()
    entries = []
    for model_dir in sorted(p for p in base_dir.iterdir() if p.is_dir()):
        if not versions(model_dir, complete_only=True):
            continue
        base_path = (f"{serving_root.rstrip('/')}/{model_dir.name}"
                     if serving_root else str(model_dir))
        entries.append(
            "  config {\n"
            f"    name: '{model_dir.name}'\n"
            f"    base_path: '{base_path}'\n"
            "    model_platform: 'tensorflow'\n"
            "  }\n")
    text = "model_config_list {\n" + "".join(entries) + "}\n"
    return write_text_atomically(base_dir / "models.config", text)


def _write_archive(model, path, allow_non_finite=False):
    """Write `model`'s endpoints as a SavedModel at `path` (TF backend)."""
    import keras

    _check_finite(model, allow_non_finite)

    endpoints = model.export_endpoints()
    default = model.serving_default
    if default not in endpoints:
        raise ValueError(
            f"{type(model).__name__}.serving_default={default!r} is not one of "
            f"its endpoints {sorted(endpoints)}.")
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (fn, specs) in endpoints.items():
        archive.add_endpoint(name, fn, input_signature=specs)
    fn, specs = endpoints[default]
    archive.add_endpoint("serving_default", fn, input_signature=specs)
    archive.write_out(str(path), verbose=False)


def export_model(model, name, base_dir="saved_models", version=None,
                 serving_root=None, allow_non_finite=False):
    """Export `model` (a keras_genmodels model or a `.keras` path).

    Args:
        model: a `GenerativeModel`, or the path of a `.keras` file.
        name: str. Model name: the directory under `base_dir` and the name
            TF Serving serves it as.
        base_dir: str or Path. Defaults to `"saved_models"`.
        version: int or None. Defaults to the next free integer.
        serving_root: str or None. Base path prefix written into
            `models.config` (see `write_models_config`).
        allow_non_finite: bool. Export even if a weight is NaN/inf.
            Defaults to False: such a model raises `NonFiniteModelError`
            and nothing is written.

    Returns:
        pathlib.Path of the new version directory.

    Raises:
        ValueError: a bad name or version; `ModelFileError` for a corrupt or
            foreign `.keras` file; `NonFiniteModelError` for NaN/inf weights.
        FileExistsError: the version exists, or `base_dir` is a file.
        All before anything is written; a failed export leaves no directory
        behind.
    """
    import keras

    _check_name(name)
    from_file = isinstance(model, (str, os.PathLike))
    if from_file:
        model = check_keras_file(model)
    elif not hasattr(model, "export_endpoints"):
        raise TypeError(
            "export_model expects a keras_genmodels model or a .keras path; "
            f"received {type(model).__name__}.")
    else:
        _check_finite(model, allow_non_finite)
    base_dir = pathlib.Path(base_dir)
    if base_dir.exists() and not base_dir.is_dir():
        raise FileExistsError(f"expected an export directory, received {base_dir}, which is "
                              "a file")
    model_dir = base_dir / name
    if version is None:
        version = next_version(base_dir, name)
    elif int(version) < 1:
        raise ValueError(f"version must be a positive int; received {version}.")
    final = model_dir / str(int(version))
    if final.exists():
        raise FileExistsError(f"{final} already exists; versions are immutable.")
    created = [d for d in (base_dir, model_dir) if not d.exists()]
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=model_dir, prefix=f".tmp-{version}-"))
    try:
        if keras.backend.backend() == "tensorflow":
            if from_file:
                model = load_model_file(model, require="export_endpoints",
                                        purpose="be exported")
            _write_archive(model, tmp / "sm", allow_non_finite)
        else:
            with tempfile.TemporaryDirectory() as work:
                path = model
                if not from_file:
                    path = pathlib.Path(work) / "model.keras"
                    model.save(path, allow_non_finite=allow_non_finite)
                _export_in_tf_subprocess(path, tmp / "sm", allow_non_finite)
        make_tree_readable(tmp / "sm")
        os.rename(tmp / "sm", final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for d in reversed(created):  # remove what this call created, if left empty
            try:
                d.rmdir()
            except OSError:
                pass
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    write_models_config(base_dir, serving_root)
    return final


_USER_ERROR_EXIT = 3  # the subprocess's exit code for a bad model (message on stderr)


def _export_in_tf_subprocess(keras_path, out_dir, allow_non_finite=False):
    env = dict(os.environ, KERAS_BACKEND="tensorflow",
               TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    proc = subprocess.run(
        [sys.executable, "-m", "keras_genmodels.export", "--write-to",
         str(out_dir), str(keras_path)] + (["--allow-non-finite"] if allow_non_finite else []),
        env=env, capture_output=True, text=True)
    if proc.returncode == _USER_ERROR_EXIT:
        kind, _, message = proc.stderr.strip().splitlines()[-1].partition(": ")
        error = NonFiniteModelError if kind == NonFiniteModelError.__name__ else ModelFileError
        raise error(message)
    if proc.returncode != 0:
        raise RuntimeError(
            "SavedModel export in the TensorFlow-backend subprocess failed "
            f"(exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_genmodels.export",
        description="Export a .keras file as a TF Serving SavedModel version.")
    parser.add_argument("keras_file")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--name", help="model name under --base-dir")
    group.add_argument("--write-to", help=argparse.SUPPRESS)
    parser.add_argument("--base-dir", default="saved_models")
    parser.add_argument("--version", type=int, default=None)
    parser.add_argument("--allow-non-finite", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    if keras.backend.backend() != "tensorflow":
        parser.error("run this module with KERAS_BACKEND=tensorflow")
    import keras_genmodels.models.registry  # noqa: F401  (register classes)

    try:
        if args.write_to:
            model = load_model_file(args.keras_file, require="export_endpoints",
                                    purpose="be exported")
            _write_archive(model, args.write_to, args.allow_non_finite)
        else:
            print(export_model(args.keras_file, args.name, args.base_dir, args.version,
                               allow_non_finite=args.allow_non_finite))
    except (ModelFileError, FileNotFoundError, NonFiniteModelError) as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(_USER_ERROR_EXIT)


if __name__ == "__main__":
    main()
