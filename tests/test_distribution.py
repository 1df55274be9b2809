"""Data-parallel training equals single-device training (issue 14).

Several devices on one CPU need the device set-up before JAX/TF initialise
(XLA_FLAGS=--xla_force_host_platform_device_count, TF logical CPU devices),
so every configuration runs `tests/distribution_driver.py` in its own
subprocess: fixed seeds and data, 20 steps of `fit` with the same *global*
batch, SGD with momentum (its step is proportional to the loss, so a
replica-count scaling error cannot hide as it would under Adam).

- JAX: 4 virtual devices (DataParallel) vs 1; 2 processes x 2 devices on
  localhost vs the 4-device run; only process 0 writes the .keras file and
  the export.
- TensorFlow: 2 logical CPU devices (MirroredStrategy) vs 1; runs with the
  replica loss scaling sabotaged (not at all / twice) must *not* match.
- Both: a file saved under N devices loads on 1 (and the reverse) with the
  same outputs (1e-5) and training continues (iterations advance).
- torch: several devices exit with code 2 and say what to use instead.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "distribution_driver.py"
BACKEND = keras.backend.backend()
# JAX's one global program makes every model exact alike; TF also checks the
# per-replica noise of the contractive projections and PacGAN's packs.
MODELS = ("ae,cae,vae,gan,wgan,seq2seq" if BACKEND == "jax"
          else "ae,cae,cae_vjp,vae,gan,pacgan,wgan,seq2seq")
SAVED = "ae,gan"                  # save/load checks
RTOL = 1e-4


def driver(out, *args, backend=BACKEND, wait=True):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    env.pop("XLA_FLAGS", None)
    cmd = [sys.executable, str(DRIVER), "--backend", backend, "--out", str(out), *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=out.parent)
    return proc.communicate(timeout=900) + (proc.returncode,) if wait else proc


def finished(result):
    out, err, rc = result
    assert rc == 0, err[-3000:]


def report(out, pid=0):
    return json.loads((out / f"report_p{pid}.json").read_text())


def weights(out, name, pid=0):
    with np.load(out / f"{name}_p{pid}.npz") as f:
        return [f[k] for k in f.files]


def relative_error(a_dir, b_dir, name, b_pid=0):
    """max over weight tensors of ||a - b|| / ||a||."""
    a, b = weights(a_dir, name), weights(b_dir, name, b_pid)
    assert len(a) == len(b)
    return max(float(np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-12))
               for x, y in zip(a, b))


def check_equal_runs(single, multi, replicas):
    ra, rb = report(single), report(multi)
    assert ra["replicas"] == 1 and rb["replicas"] == replicas
    errors = {name: relative_error(single, multi, name) for name in MODELS.split(",")}
    print(f"[{BACKEND}] relative weight error, {replicas} devices vs 1:",
          {k: f"{v:.1e}" for k, v in errors.items()})
    for name in MODELS.split(","):
        assert errors[name] <= RTOL, (name, errors[name])
        # Every optimizer (both phase optimizers of the GANs) advanced equally.
        assert rb["models"][name]["iterations"] == ra["models"][name]["iterations"], name
    it = ra["models"]
    assert it["gan"]["iterations"] == {"optimizer": 20, "discriminator": 40, "generator": 20}
    assert it["wgan"]["iterations"] == {"optimizer": 20, "discriminator": 100, "generator": 20}


def check_loaded(saved_dir, loaded_dir, saved_pid=0):
    """`loaded_dir`'s run loaded the files of `saved_dir`'s run."""
    saved, loaded = report(saved_dir, saved_pid), report(loaded_dir)
    for name in SAVED.split(","):
        got = loaded["loaded"][name]
        np.testing.assert_allclose(np.array(got["probe"]),
                                   np.array(saved["models"][name]["probe"]),
                                   atol=1e-5, rtol=1e-5)
        assert got["iterations_loaded"] == saved["models"][name]["iterations"]
        after = {k: v + 2 * (2 if k == "discriminator" and name == "gan" else 1)
                 for k, v in got["iterations_loaded"].items()}
        assert got["iterations"] == after          # training continued ...
        assert got["weight_change"] > 1e-6        # ... and moved the weights


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Single-device run A, N-device run B (also loads A's files), 1-device run
    C loading B's files; JAX also a 2-process x 2-device run."""
    base = tmp_path_factory.mktemp("dist")
    n = 4 if BACKEND == "jax" else 2
    a, b, c = base / "single", base / "multi", base / "reload"
    finished(driver(a, "--devices", "1", "--models", MODELS, "--save-dir", str(a / "save"),
                    "--save-models", SAVED))
    finished(driver(b, "--devices", str(n), "--models", MODELS, "--save-dir", str(b / "save"),
                    "--save-models", SAVED, "--load-dir", str(a / "save"),
                    "--load-models", SAVED))
    procs = {"reload": driver(c, "--devices", "1", "--models", "", "--load-dir",
                              str(b / "save"), "--load-models", SAVED, wait=False)}
    if BACKEND == "jax":
        with socket.socket() as s:
            s.bind(("localhost", 0))
            port = s.getsockname()[1]
        mp = base / "processes"
        for i in (0, 1):
            procs[f"p{i}"] = driver(
                mp, "--devices", "2", "--num-processes", "2", "--process-id", str(i),
                "--coordinator", f"localhost:{port}", "--models", "ae,gan",
                "--save-dir", str(mp / f"save{i}"), "--save-models", "ae", "--export",
                wait=False)
    elif BACKEND == "tensorflow":
        procs["bug"] = driver(base / "bug", "--devices", "2", "--models", "ae,gan,vae,wgan",
                              "--scale-bug", "ae=none,gan=none,vae=double,wgan=double",
                              wait=False)
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, (name, err[-3000:])
    return {"single": a, "multi": b, "reload": c, "n": n, "base": base}


needs_distribution = pytest.mark.skipif(
    BACKEND == "torch", reason="Keras 3.15 has no distribution support for torch "
                               "(checked by test_torch_several_devices_is_a_clear_error)")


@needs_distribution
def test_several_devices_train_like_one(runs):
    check_equal_runs(runs["single"], runs["multi"], runs["n"])


@needs_distribution
def test_save_on_n_devices_load_on_one_and_back(runs):
    check_loaded(runs["single"], runs["multi"])   # 1 device -> N devices
    check_loaded(runs["multi"], runs["reload"])   # N devices -> 1 device


@pytest.mark.skipif(BACKEND != "jax", reason="several processes: JAX only")
def test_jax_two_processes_match_one_process_and_only_process_0_writes(runs):
    mp, multi = runs["base"] / "processes", runs["multi"]
    for pid in (0, 1):
        r = report(mp, pid)
        assert r["replicas"] == 4 and r["processes"] == 2
        for name in ("ae", "gan"):
            err = relative_error(multi, mp, name, b_pid=pid)
            print(f"[jax] 2 processes x 2 devices vs 1 x 4, process {pid}, {name}: {err:.1e}")
            assert err <= RTOL, (pid, name, err)
            assert r["models"][name]["iterations"] == report(multi)["models"][name]["iterations"]
    assert (mp / "save0" / "ae.keras").is_file()
    assert list((mp / "save0" / "exports" / "ae").glob("*/saved_model.pb"))
    assert not (mp / "save1").exists()


@pytest.mark.skipif(BACKEND != "tensorflow", reason="per-replica loss scaling: tf.distribute")
def test_tf_replica_loss_scaling_errors_are_caught(runs):
    """Sabotaged runs -- loss not divided among replicas (gradients summed:
    x2), or divided twice (x1/2) -- in compute_loss (ae, vae) and in the
    adversarial engine (gan, wgan) land far outside the tolerance that the
    correct runs meet, so the equality test fails on either mistake."""
    for name in ("ae", "gan", "vae", "wgan"):
        err = relative_error(runs["single"], runs["base"] / "bug", name)
        print(f"[tensorflow] sabotaged scaling, {name}: {err:.1e}")
        assert err > 100 * RTOL, (name, err)


@pytest.mark.skipif(BACKEND != "torch", reason="torch only")
def test_torch_several_devices_is_a_clear_error(tmp_path):
    from keras_genmodels import distribution as D

    out, err, rc = driver(tmp_path / "t", "--devices", "2", "--models", "ae")
    assert rc == 2
    assert "torch" in err and "--backend jax" in err and "--backend tensorflow" in err
    with pytest.raises(D.DistributionError, match="no distribution support for torch"):
        D.configure(devices=2)
    with pytest.raises(D.DistributionError, match="--num-processes 2"):
        D.configure(num_processes=2, coordinator="localhost:1234", process_id=0)


def test_configure_checks_its_arguments():
    from keras_genmodels import distribution as D

    with pytest.raises(D.DistributionError, match="--coordinator HOST:PORT"):
        D.configure(num_processes=2)
    with pytest.raises(D.DistributionError, match="integer >= 1"):
        D.configure(devices=0)
    with pytest.raises(D.DistributionError, match=r"process_id in \[0, 2\)"):
        D.configure(num_processes=2, coordinator="localhost:1", process_id=2)
    with pytest.raises(D.DistributionError, match="needs --num-processes"):
        D.configure(coordinator="localhost:1")
    assert D.configure(devices=1) == 1
    assert D.is_chief() and D.num_replicas() == 1
    with D.training_scope():
        pass


@needs_distribution
def test_more_devices_than_the_machine_has_is_a_clear_error():
    from keras_genmodels import distribution as D

    with pytest.raises(D.DistributionError, match="asked for 64 devices"):
        D.configure(devices=64)
    D.reset()


# --- command line (needs --devices wired into `genmodels train`) -------------------

def _genmodels(*args, cwd, backend):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    env.pop("KERAS_BACKEND", None)
    env.pop("XLA_FLAGS", None)
    return subprocess.run([sys.executable, "-m", "keras_genmodels", *args, "--backend", backend],
                          cwd=cwd, capture_output=True, text=True, env=env, timeout=900)


def _cli_has_devices():
    proc = subprocess.run([sys.executable, "-m", "keras_genmodels", "train", "autoencoder",
                           "-h"], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return "--devices" in proc.stdout


cli = pytest.mark.skipif(not _cli_has_devices(), reason="--devices not wired into the CLI yet")


@cli
@needs_distribution
@pytest.mark.parametrize("model,extra", [("autoencoder", []), ("vae", []),
                                         ("dcgan", ["--steps-per-epoch", "5"])])
def test_cli_devices_4_trains_and_exports(tmp_path, model, extra):
    proc = _genmodels("train", model, "--devices", "4", "--epochs", "1", "--verbose", "0",
                      "--batch-size", "64", *extra, cwd=tmp_path, backend=BACKEND)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "saved_models" / model / "model.keras").is_file()
    assert list((tmp_path / "saved_models" / model).glob("*/saved_model.pb"))


@cli
@pytest.mark.skipif(BACKEND != "torch", reason="torch only")
def test_cli_devices_under_torch_exits_2(tmp_path):
    proc = _genmodels("train", "autoencoder", "--devices", "2", "--epochs", "1",
                      cwd=tmp_path, backend="torch")
    assert proc.returncode == 2
    assert "no distribution support for torch" in proc.stderr
    assert not (tmp_path / "saved_models").exists()
