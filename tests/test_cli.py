"""The `genmodels` command line: the main job end to end, bad arguments."""

import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def genmodels(*args, cwd, backend=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    env.pop("KERAS_BACKEND", None)  # --backend alone must select the backend
    cmd = [sys.executable, "-m", "keras_genmodels", *args]
    if backend:
        cmd += ["--backend", backend]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)


def test_train_saves_keras_png_and_savedmodel(tmp_path):
    backend = keras.backend.backend()
    proc = genmodels("train", "autoencoder", "--dataset", "digits", "--epochs", "3",
                     "--code-size", "8", "--verbose", "0",
                     "--name", "ae_cli", cwd=tmp_path, backend=backend)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "saved_models" / "ae_cli"
    assert (out / "1" / "saved_model.pb").is_file()
    assert (out / "model.keras").is_file()
    assert (out / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"
    assert "name: 'ae_cli'" in (tmp_path / "saved_models" / "models.config").read_text()
    mse = float(re.search(r"test reconstruction MSE: ([0-9.]+)", proc.stdout).group(1))
    assert 0 < mse < 0.06

    # reconstruct from the saved file, on the same backend
    proc = genmodels("reconstruct", "--model", str(out / "model.keras"), "--out", "r.png",
                     cwd=tmp_path, backend=backend)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_backend_flag_takes_effect(tmp_path):
    script = ("import sys; from keras_genmodels.cli import _apply_backend; "
              "_apply_backend(sys.argv[1:]); import keras; print(keras.backend.backend())")
    for backend in ("jax", "torch"):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("KERAS_BACKEND", None)
        proc = subprocess.run([sys.executable, "-c", script, "train", "autoencoder",
                               "--backend", backend], capture_output=True, text=True,
                              env=env, cwd=tmp_path)
        assert proc.stdout.strip().splitlines()[-1] == backend


@pytest.mark.parametrize("args, message", [
    (["train", "no_such_model"], "invalid choice: 'no_such_model'"),
    (["train", "autoencoder", "--epochs", "0"], "expected a positive integer"),
    (["train", "autoencoder", "--dataset", "no_such_dataset"], "no_such_dataset"),
    (["train", "autoencoder", "--dataset", "missing.npz"], "missing.npz"),
    (["frobnicate"], "invalid choice"),
    (["export", "missing.keras", "--name", "m"], "which does not exist"),
])
def test_bad_arguments_exit_2_with_usage(tmp_path, args, message):
    proc = genmodels(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr[-2000:])
    assert "usage:" in proc.stderr and message in proc.stderr
    assert not (tmp_path / "saved_models").exists()


def test_train_and_sample_a_toy_gan(tmp_path):
    backend = keras.backend.backend()
    proc = genmodels("train", "gan", "--dataset", "ring8", "--epochs", "1",
                     "--steps-per-epoch", "20", "--no-export", "--verbose", "0",
                     cwd=tmp_path, backend=backend)
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = tmp_path / "saved_models" / "gan" / "model.keras"
    assert model.is_file()
    assert not (tmp_path / "saved_models" / "gan" / "1").exists()  # --no-export
    proc = genmodels("sample", "--model", str(model), "--n", "200", "--out", "s.png",
                     cwd=tmp_path, backend=backend)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    proc = genmodels("sample", "--model", str(model), "--label", "3", cwd=tmp_path)
    assert proc.returncode == 2 and "is not conditional" in proc.stderr
