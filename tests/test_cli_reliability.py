"""Issue 11 at the CLI and export seams: each test is named after the behaviour it pins.

Argument checks run in-process (`cli.main` raises SystemExit before any work);
the end-to-end cases run `python -m keras_genmodels` in a subprocess.
"""

import json
import os
import pathlib
import stat
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels import cli
from keras_genmodels.export import export_model, write_models_config
from keras_genmodels.tasks.common import json_safe, write_json

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()


def genmodels(*args, cwd, env_extra=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    env.pop("KERAS_BACKEND", None)
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "keras_genmodels", *args]
    if "KERAS_BACKEND" not in (env_extra or {}):
        cmd += ["--backend", BACKEND]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "gan", "--dataset", "ring8", "--steps-per-epoch", "-5"], "--steps-per-epoch"),
    (["train", "gan", "--discriminator-steps", "0"], "--discriminator-steps"),
    (["train", "autoencoder", "--learning-rate", "-1"], "--learning-rate"),
    (["train", "vae", "--learning-rate", "nan"], "--learning-rate"),
    (["train", "autoencoder", "--code-size", "-1"], "--code-size"),
    (["train", "vae", "--latent-dim", "0"], "--latent-dim"),
    (["train", "autoencoder", "--hidden-units", "abc"], "--hidden-units"),
    (["train", "autoencoder", "--name", "../evil"], "--name"),
    (["train", "autoencoder", "--name", "my model"], "--name"),
    (["train", "dcgan", "--filters", "64,-2"], "--filters"),
    (["train", "sparse_autoencoder", "--sparsity-target", "1.5"], "--sparsity-target"),
    (["export", "m.keras", "--name", "a/b"], "--name"),
])
def test_bad_argument_values_exit_2_before_any_work(tmp_path, monkeypatch, capsys, argv,
                                                     message):
    monkeypatch.chdir(tmp_path)
    code, err = run_main(argv, capsys)
    assert code == 2
    assert "usage:" in err and message in err and "expected" in err
    assert not (tmp_path / "saved_models").exists()


def test_export_dir_that_is_a_file_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    code, err = run_main(["train", "autoencoder", "--export-dir", "afile"], capsys)
    assert code == 2 and "--export-dir" in err and "existing file" in err


def test_unknown_keras_backend_in_environment_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "foo")
    with pytest.raises(SystemExit) as exit_info:
        cli._apply_backend(["sample", "--model", "x.keras"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "'foo'" in err and "tensorflow, jax, torch" in err


def test_metrics_json_is_strict_json_even_with_non_finite_values(tmp_path):
    path = write_json(tmp_path / "m.json", {"loss": float("nan"), "kl": [1.0, float("inf")],
                                            "n": np.int64(3)})
    data = json.loads(path.read_text())  # json.loads accepts NaN; check the text itself
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
    assert data == {"loss": None, "kl": [1.0, None], "n": 3}
    assert json_safe({"a": np.float32(2.5)}) == {"a": 2.5}


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def trained_ae(tmp_path_factory):
    """A tiny trained Autoencoder saved as .keras (in-process, current backend)."""
    from keras_genmodels.models.autoencoder import Autoencoder
    from keras_genmodels.tasks.common import save_keras_atomically

    keras.utils.set_random_seed(0)
    model = Autoencoder((8, 8, 1), 4, hidden_units=(16,))
    model.compile(optimizer="adam")
    x = np.random.RandomState(0).rand(32, 8, 8, 1).astype("float32")
    model.fit(x, epochs=1, verbose=0)
    path = save_keras_atomically(model, tmp_path_factory.mktemp("ae") / "model.keras")
    return model, path


def test_written_files_are_readable_by_other_users(trained_ae, tmp_path):
    old = os.umask(0o022)
    try:
        model, path = trained_ae
        assert _mode(path) == 0o644
        version = export_model(model, "ae", tmp_path / "saved_models")
        assert _mode(tmp_path / "saved_models" / "models.config") == 0o644
        for root, dirs, files in os.walk(version):
            assert _mode(root) == 0o755, root
            for name in files:
                assert _mode(os.path.join(root, name)) == 0o644, name
        from keras_genmodels.plots.grid import save_image_grid

        png = save_image_grid(np.zeros((4, 8, 8, 4)), tmp_path / "rgba.png")  # RGBA draws
        assert _mode(png) == 0o644 and png.read_bytes()[:4] == b"\x89PNG"
    finally:
        os.umask(old)


def test_models_config_lists_only_versions_with_a_saved_model_pb(tmp_path):
    base = tmp_path / "saved_models"
    (base / "crashed" / "3" / "variables").mkdir(parents=True)  # no saved_model.pb
    (base / "good" / "1").mkdir(parents=True)
    (base / "good" / "1" / "saved_model.pb").write_bytes(b"pb")
    text = write_models_config(base).read_text()
    assert "name: 'good'" in text and "crashed" not in text


def test_export_refuses_non_finite_weights_and_writes_nothing(trained_ae, tmp_path):
    from keras_genmodels.export import NonFiniteModelError
    from keras_genmodels.models.autoencoder import Autoencoder

    bad = Autoencoder((8, 8, 1), 4, hidden_units=(16,))
    bad.set_weights(trained_ae[0].get_weights())
    weights = bad.get_weights()
    weights[0][0, 0] = np.nan
    bad.set_weights(weights)
    with pytest.raises(NonFiniteModelError, match="NaN/inf"):
        export_model(bad, "bad", tmp_path / "saved_models")
    assert not (tmp_path / "saved_models").exists()


def test_export_of_a_keras_file_works_under_this_backend_and_truncated_files_exit_2(
        trained_ae, tmp_path):
    _, path = trained_ae
    proc = genmodels("export", str(path), "--name", "ae", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "saved_models" / "ae" / "1" / "saved_model.pb").is_file()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    proc = genmodels("export", str(truncated), "--name", "t", cwd=tmp_path)
    assert proc.returncode == 2 and "not a complete zip archive" in proc.stderr
    assert not (tmp_path / "saved_models" / "t").exists()  # nothing left behind
    for command in (["sample", "--model"], ["reconstruct", "--model"]):
        proc = genmodels(*command, str(truncated), cwd=tmp_path)
        assert proc.returncode == 2 and "truncated" in proc.stderr
        assert "File not found" not in proc.stderr
    proc = genmodels("translate", "--model", str(path), "hello", cwd=tmp_path)
    assert proc.returncode == 2 and "seq2seq" in proc.stderr
    proc = genmodels("reconstruct", "--model", str(path), "--dataset", str(tmp_path / "rgb.npz"),
                     cwd=tmp_path)
    assert proc.returncode == 2  # missing file: clear error, no traceback
    np.savez(tmp_path / "rgb.npz", x=np.zeros((20, 10, 10, 3), "uint8"))
    proc = genmodels("reconstruct", "--model", str(path), "--dataset", str(tmp_path / "rgb.npz"),
                     cwd=tmp_path)
    assert proc.returncode == 2 and "(8, 8, 1)" in proc.stderr and "(10, 10, 3)" in proc.stderr


def test_diverged_training_exits_1_and_publishes_nothing(tmp_path):
    proc = genmodels("train", "vae", "--dataset", "digits", "--epochs", "2", "--learning-rate",
                     "1e30", "--nll-k", "0", "--verbose", "0", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "training diverged" in proc.stderr
    assert not (tmp_path / "saved_models" / "vae" / "1").exists()
    assert not (tmp_path / "saved_models" / "models.config").exists()
    assert not (tmp_path / "saved_models" / "vae" / "model.keras").exists()


def test_dcgan_on_images_it_cannot_draw_exits_2_before_training(tmp_path):
    np.savez(tmp_path / "odd.npz", x=np.zeros((64, 33, 33, 1), "uint8"))
    proc = genmodels("train", "dcgan", "--dataset", "odd.npz", "--epochs", "1", cwd=tmp_path)
    assert proc.returncode == 2 and "33" in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "saved_models").exists()


def test_killed_cli_training_resumes_with_the_same_command_to_identical_weights(tmp_path):
    """kill -9 `genmodels train gan ... --checkpoint-dir` mid-run, rerun the same command:
    the final .keras equals an uninterrupted run's exactly."""
    import signal
    import time

    from keras_genmodels.model_files import load_model_file

    def command(name):
        return [sys.executable, "-m", "keras_genmodels", "train", "gan", "--dataset", "ring8",
                "--discriminator-steps", "2", "--steps-per-epoch", "40", "--epochs", "3",
                "--units", "32,32", "--batch-size", "64", "--verbose", "0", "--no-export",
                "--checkpoint-dir", str(tmp_path / f"ckpt_{name}"), "--checkpoint-every", "5",
                "--name", name, "--backend", BACKEND]

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    env.pop("KERAS_BACKEND", None)
    ref = subprocess.run(command("ref"), cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]

    proc = subprocess.Popen(command("run"), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "ckpt_run"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list(ckpt.glob("ckpt-*.json"))) >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "saved_models" / "run" / "model.keras").exists()
    resumed = subprocess.run(command("run"), cwd=tmp_path, env=env, capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout
    a = load_model_file(tmp_path / "saved_models" / "ref" / "model.keras")
    b = load_model_file(tmp_path / "saved_models" / "run" / "model.keras")
    for wa, wb in zip(a.weights, b.weights):
        assert np.array_equal(keras.ops.convert_to_numpy(wa), keras.ops.convert_to_numpy(wb)), \
            wa.path
    for name in ("discriminator", "generator"):
        assert int(a.phase_optimizers[name].iterations) == \
            int(b.phase_optimizers[name].iterations)
