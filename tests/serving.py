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
import sys
import numpy as np
import tensorflow as tf
path, sig, inp, out = sys.argv[1:5]
loaded = tf.saved_model.load(path)
fn = loaded.signatures[sig]
inputs = {k: tf.constant(v) for k, v in np.load(inp, allow_pickle=False).items()}
result = fn(**inputs)
assert not any(m.startswith("keras_genmodels") for m in sys.modules)
np.savez(out, **{k: v.numpy() for k, v in result.items()})
"""


def _env():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # `import tensorflow` imports keras; keep that keras on the TF backend.
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
               TF_ENABLE_ONEDNN_OPTS="0")
    return env


def call_saved_model(path, signature, **inputs):
    """Return `{output_name: np.ndarray}` of `signature` applied to `inputs`."""
    with tempfile.TemporaryDirectory() as d:
        inp, out = pathlib.Path(d) / "in.npz", pathlib.Path(d) / "out.npz"
        np.savez(inp, **{k: np.asarray(v) for k, v in inputs.items()})
        proc = subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(path), signature, str(inp), str(out)],
            capture_output=True, text=True, env=_env(), cwd=d)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-4000:])
        return dict(np.load(out))


def saved_model_cli_show(path):
    """Output of `saved_model_cli show --dir path --all`."""
    cli = pathlib.Path(sys.executable).with_name("saved_model_cli")
    proc = subprocess.run([str(cli), "show", "--dir", str(path), "--all"],
                          capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    return proc.stdout
