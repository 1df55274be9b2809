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
import zipfile

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            "Export name must be letters, digits, '_', '.', '-' (starting "
            f"with a letter or digit); received {name!r}.")


def _check_keras_file(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No .keras file at {path}.")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(
            f"Expected a Keras v3 '.keras' archive (a zip file); received {path}.")
    return path


def versions(model_dir):
    """Sorted integer versions present in `model_dir` (a model's base path)."""
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir()
                  if p.is_dir() and p.name.isdigit())


def next_version(base_dir, name):
    found = versions(pathlib.Path(base_dir) / name)
    return found[-1] + 1 if found else 1


def write_models_config(base_dir, serving_root=None):
    """Write `<base_dir>/models.config` (TF Serving `model_config_list`).

    Lists every sub-directory of `base_dir` that holds at least one integer
    version. `base_path` is `<serving_root>/<name>` when `serving_root` is
    given (e.g. `/models` inside a container), else the absolute path.
    Written atomically (temporary file + `os.replace`).
    """
    base_dir = pathlib.Path(base_dir).resolve()
    entries = []
    for model_dir in sorted(p for p in base_dir.iterdir() if p.is_dir()):
        if not versions(model_dir):
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
    target = base_dir / "models.config"
    fd, tmp = tempfile.mkstemp(dir=base_dir, prefix=".models.config.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, target)
    return target


def _write_archive(model, path):
    """Write `model`'s endpoints as a SavedModel at `path` (TF backend)."""
    import keras

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
                 serving_root=None):
    """Export `model` (a keras_genmodels model or a `.keras` path).

    Args:
        model: a `GenerativeModel`, or the path of a `.keras` file.
        name: str. Model name: the directory under `base_dir` and the name
            TF Serving serves it as.
        base_dir: str or Path. Defaults to `"saved_models"`.
        version: int or None. Defaults to the next free integer.
        serving_root: str or None. Base path prefix written into
            `models.config` (see `write_models_config`).

    Returns:
        pathlib.Path of the new version directory.
    """
    import keras

    _check_name(name)
    from_file = isinstance(model, (str, os.PathLike))
    if from_file:
        model = _check_keras_file(model)
    elif not hasattr(model, "export_endpoints"):
        raise TypeError(
            "export_model expects a keras_genmodels model or a .keras path; "
            f"received {type(model).__name__}.")
    base_dir = pathlib.Path(base_dir)
    model_dir = base_dir / name
    if version is None:
        version = next_version(base_dir, name)
    elif int(version) < 1:
        raise ValueError(f"version must be a positive int; received {version}.")
    final = model_dir / str(int(version))
    if final.exists():
        raise FileExistsError(f"{final} already exists; versions are immutable.")
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=model_dir, prefix=f".tmp-{version}-"))
    try:
        if keras.backend.backend() == "tensorflow":
            if from_file:
                model = keras.models.load_model(model)
            _write_archive(model, tmp / "sm")
        else:
            with tempfile.TemporaryDirectory() as work:
                path = model
                if not from_file:
                    path = pathlib.Path(work) / "model.keras"
                    model.save(path)
                _export_in_tf_subprocess(path, tmp / "sm")
        os.rename(tmp / "sm", final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_models_config(base_dir, serving_root)
    return final


def _export_in_tf_subprocess(keras_path, out_dir):
    env = dict(os.environ, KERAS_BACKEND="tensorflow",
               TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    proc = subprocess.run(
        [sys.executable, "-m", "keras_genmodels.export", "--write-to",
         str(out_dir), str(keras_path)],
        env=env, capture_output=True, text=True)
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
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    if keras.backend.backend() != "tensorflow":
        parser.error("run this module with KERAS_BACKEND=tensorflow")
    import keras_genmodels.models.registry  # noqa: F401  (register classes)

    if args.write_to:
        model = keras.models.load_model(_check_keras_file(args.keras_file))
        _write_archive(model, args.write_to)
    else:
        print(export_model(args.keras_file, args.name, args.base_dir, args.version))


if __name__ == "__main__":
    main()
