"""Call a SavedModel signature in a fresh process that imports only TensorFlow.

This is how a TF Serving client sees an export: no keras_genmodels, no JAX,
no torch. Inputs and outputs travel as `.npz` files.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

_SCRIPT = r"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):  # TF 2.21 imports jax itself when installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("jax", "torch", "keras_genmodels"):
            raise ImportError(f"blocked import of {name} in the serving process")
sys.meta_path.insert(0, Block())
import numpy as np
import tensorflow as tf
path, inp, out = sys.argv[1:4]
loaded = tf.saved_model.load(path)
results = {}
for key, value in np.load(inp, allow_pickle=False).items():
    sig, name = key.split("/", 1)
    results.setdefault(sig, {})[name] = tf.constant(value)
outputs = {}
for sig, inputs in results.items():
    for name, value in loaded.signatures[sig](**inputs).items():
        value = value.numpy()
        if value.dtype == object:  # tf.string -> unicode, loadable without pickle
            value = np.char.decode(value.astype(bytes), "utf-8")
        outputs[sig + "/" + name] = value
assert not any(m.split(".")[0] in ("jax", "torch", "keras_genmodels") for m in sys.modules)
np.savez(out, **outputs)
"""


def _env():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # `import tensorflow` imports keras; keep that keras on the TF backend.
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
               TF_ENABLE_ONEDNN_OPTS="0")
    return env


def call_saved_model(path, signature, **inputs):
    """Return `{output_name: np.ndarray}` of `signature` applied to `inputs`."""
    return call_signatures(path, {signature: inputs})[signature]


def call_signatures(path, calls):
    """Several signatures in one TF-only process.

    `calls` is `{signature: {input_name: array}}`; returns
    `{signature: {output_name: np.ndarray}}`.
    """
    with tempfile.TemporaryDirectory() as d:
        inp, out = pathlib.Path(d) / "in.npz", pathlib.Path(d) / "out.npz"
        np.savez(inp, **{f"{sig}/{k}": np.asarray(v)
                         for sig, inputs in calls.items() for k, v in inputs.items()})
        proc = subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(path), str(inp), str(out)],
            capture_output=True, text=True, env=_env(), cwd=d)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-4000:])
        results = {}
        for key, value in np.load(out).items():
            sig, name = key.split("/", 1)
            results.setdefault(sig, {})[name] = value
        return results


def saved_model_cli_show(path):
    """Output of `saved_model_cli show --dir path --all`."""
    cli = pathlib.Path(sys.executable).with_name("saved_model_cli")
    proc = subprocess.run([str(cli), "show", "--dir", str(path), "--all"],
                          capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    return proc.stdout
