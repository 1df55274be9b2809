"""Crash-safe resumable training (`keras_genmodels.training.fit_resumable`) and the
replayable per-epoch data it relies on."""

import os
import random
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_genmodels.data import image_dataset, text, toy_dataset
from keras_genmodels.models.autoencoder import Autoencoder
from keras_genmodels.training import fit_resumable, latest_checkpoint

DRIVER = os.path.join(os.path.dirname(__file__), "resume_driver.py")
MODELS = ("ae", "dae", "vae", "gan", "s2s")
FINAL_STEP = 3 * 6  # resume_driver: EPOCHS * STEPS


def _env():
    return dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2",
                KERAS_BACKEND=keras.backend.backend())


def _checkpoints(out):
    found = set()
    for name in MODELS:
        d = os.path.join(out, name)
        if os.path.isdir(d):
            found.update(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))
    return found


def test_killed_runs_end_with_exactly_the_weights_of_an_uninterrupted_run(tmp_path):
    """kill -9 at random moments (3 times), re-run the same command until it completes:
    the final weights, optimizer variables and RNG states of all five models equal those
    of an uninterrupted run bit for bit."""
    ref, killed = str(tmp_path / "ref"), str(tmp_path / "killed")
    done = subprocess.run([sys.executable, DRIVER, ref], env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    # Three kills, each in a different model chosen at random: once the target model has
    # written a checkpoint in this run (so every run makes progress) with at least 10 more
    # steps (5 checkpoints) to go, after a random delay.
    rng = random.Random(20240611)
    targets = sorted(rng.sample(range(len(MODELS)), 3))
    kills, outputs = 0, []
    for target in targets + [None]:
        before = _checkpoints(killed)
        proc = subprocess.Popen([sys.executable, DRIVER, killed], env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if target is not None:
            prefix = os.path.join(killed, MODELS[target], "ckpt-")
            deadline = time.monotonic() + 600
            while proc.poll() is None and time.monotonic() < deadline and not [
                    p for p in _checkpoints(killed) - before if p.startswith(prefix)
                    and int(p[len(prefix):len(prefix) + 10]) <= FINAL_STEP - 10]:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.1))
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            proc.send_signal(signal.SIGKILL)
            outputs.append(proc.communicate()[0])
            kills += 1
            continue
        out, err = proc.communicate(timeout=600)
        outputs.append(out)
        assert proc.returncode == 0, err[-3000:]
    assert kills == 3
    # Each killed model was resumed mid-run from a checkpoint of a killed run.
    resumed = [line.split()[1] for out in outputs for line in out.splitlines()
               if "resumed_from=" in line and "resumed_from=None" not in line]
    assert resumed == [MODELS[t] for t in targets], outputs
    for name in MODELS:
        a, b = np.load(os.path.join(ref, f"{name}.npz")), np.load(
            os.path.join(killed, f"{name}.npz"))
        assert sorted(a.files) == sorted(b.files) and len(a.files) > 4, name
        for key in a.files:
            assert np.array_equal(a[key], b[key]), (f"{name}: {key} differs", outputs)
        # No temporary files anywhere; at most 2 checkpoints kept.
        files = os.listdir(os.path.join(killed, name))
        assert not [f for f in files if f.startswith(".tmp-")], files
        assert len([f for f in files if f.endswith(".json")]) <= 2, files


# ---------------------------------------------------------------- in-process tests
STEPS, BATCH = 4, 16


def _tiny_ae():
    keras.utils.set_random_seed(0)
    model = Autoencoder((8, 8, 1), 3, hidden_units=(8,), dropout=0.3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def _epoch_dataset(x):
    return lambda epoch: image_dataset(x, batch_size=BATCH, seed=1, epoch=epoch,
                                       drop_remainder=True)


def _state(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights + model.optimizer.variables]


class _StopAt(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            self.model.stop_training = True


@pytest.fixture(scope="module")
def images():
    from keras_genmodels.data import load_images

    return load_images("digits", "train")[0][:STEPS * BATCH]


@pytest.fixture(scope="module")
def finished_run(images, tmp_path_factory):
    """An uninterrupted 2-epoch run checkpointing every 2 steps: (dir, final state)."""
    out = tmp_path_factory.mktemp("finished")
    model = _tiny_ae()
    history = fit_resumable(model, _epoch_dataset(images), 2, out, checkpoint_every=2,
                            verbose=0)
    assert history.completed and history.global_step == 2 * STEPS
    assert len(history.history["loss"]) == 2
    return out, _state(model)


def test_stopped_mid_epoch_run_resumes_to_the_uninterrupted_weights(images, finished_run,
                                                                    tmp_path):
    _, reference = finished_run
    model = _tiny_ae()
    h1 = fit_resumable(model, _epoch_dataset(images), 2, tmp_path, checkpoint_every=2,
                       callbacks=[_StopAt(STEPS + 1)], verbose=0)
    assert not h1.completed and h1.global_step == STEPS + 1  # saved where it stopped
    model = _tiny_ae()  # a fresh process would rebuild the model like this
    h2 = fit_resumable(model, _epoch_dataset(images), 2, tmp_path, checkpoint_every=2,
                       verbose=0)
    assert h2.completed and h2.resumed_from.endswith(f"ckpt-{STEPS + 1:010d}.keras")
    assert h2.epoch == [0, 1]  # epoch 0's logs came from the checkpoint
    for a, b in zip(reference, _state(model)):
        assert np.array_equal(a, b)


def test_finished_run_reinvoked_is_a_quick_no_op_that_loads_the_final_state(
        images, finished_run):
    out, reference = finished_run
    files = {f: os.path.getmtime(os.path.join(out, f)) for f in os.listdir(out)}
    model = _tiny_ae()
    start = time.monotonic()
    history = fit_resumable(model, _epoch_dataset(images), 2, out, checkpoint_every=2,
                            verbose=0)
    assert time.monotonic() - start < 5
    assert history.completed and history.resumed_from.endswith(f"ckpt-{2 * STEPS:010d}.keras")
    assert {f: os.path.getmtime(os.path.join(out, f)) for f in os.listdir(out)} == files
    for a, b in zip(reference, _state(model)):
        assert np.array_equal(a, b)


def test_corrupt_latest_checkpoint_falls_back_to_the_previous_one(images, finished_run,
                                                                  tmp_path):
    import shutil

    out, reference = finished_run
    for corruption in ("truncated keras", "bad json"):
        run = tmp_path / corruption.replace(" ", "_")
        shutil.copytree(out, run)
        last = run / f"ckpt-{2 * STEPS:010d}"
        if corruption == "truncated keras":
            data = (run / f"{last.name}.keras").read_bytes()
            (run / f"{last.name}.keras").write_bytes(data[:len(data) // 2])
        else:
            (run / f"{last.name}.json").write_text('{"global_step": 8, "epo')
        with pytest.warns(UserWarning, match="corrupt checkpoint"):
            meta, path = latest_checkpoint(run)
        assert meta["global_step"] == 2 * STEPS - 2 and path.name.endswith(
            f"{2 * STEPS - 2:010d}.keras")
        model = _tiny_ae()
        with pytest.warns(UserWarning, match="corrupt checkpoint"):
            history = fit_resumable(model, _epoch_dataset(images), 2, run,
                                    checkpoint_every=2, verbose=0)
        assert history.completed and history.resumed_from == str(path)
        for a, b in zip(reference, _state(model)):  # redid the last 2 steps exactly
            assert np.array_equal(a, b)


def test_atomic_writes_leave_no_temporary_files_and_keep_two_checkpoints(images, tmp_path):
    # A killed writer's leftovers: a temporary file and an uncommitted .keras (no JSON).
    tmp_path.joinpath(".tmp-ckpt-0000000002-abc.keras").write_bytes(b"half a zip")
    tmp_path.joinpath("ckpt-0000000002.keras").write_bytes(b"uncommitted")
    model = _tiny_ae()
    history = fit_resumable(model, _epoch_dataset(images), 2, tmp_path, checkpoint_every=1,
                            verbose=0)
    assert history.completed and history.resumed_from is None
    assert sorted(os.listdir(tmp_path)) == [
        f"ckpt-{s:010d}.{ext}" for s in (2 * STEPS - 1, 2 * STEPS) for ext in ("json", "keras")]


def test_changed_steps_per_epoch_is_refused(images, finished_run):
    out, _ = finished_run
    with pytest.raises(ValueError, match="steps_per_epoch=4"):
        fit_resumable(_tiny_ae(), _epoch_dataset(images), 2, out, steps_per_epoch=3,
                      verbose=0)


def test_epoch_dataset_that_cannot_run_in_flat_map_gets_a_clear_error(images, tmp_path):
    def eager_only(epoch):
        return image_dataset(images, batch_size=BATCH, seed=1, epoch=int(epoch.numpy()))

    with pytest.raises(TypeError, match="flat_map"):
        fit_resumable(_tiny_ae(), eager_only, 2, tmp_path, steps_per_epoch=STEPS, verbose=0)


# ---------------------------------------------------------------- replayable data
def _batches(ds):
    return [np.asarray(b[0] if isinstance(b, tuple) else b) for b in ds.as_numpy_iterator()]


def test_image_epoch_order_is_a_function_of_seed_and_epoch_only(images):
    import tensorflow as tf

    a = _batches(image_dataset(images, batch_size=BATCH, seed=1, epoch=3))
    tf.random.set_seed(123)  # global seeds do not matter
    b = _batches(image_dataset(images, batch_size=BATCH, seed=1, epoch=tf.constant(3)))
    c = _batches(image_dataset(images, batch_size=BATCH, seed=1, epoch=4))
    assert all(np.array_equal(u, v) for u, v in zip(a, b)) and len(a) == STEPS
    assert not np.array_equal(np.concatenate(a), np.concatenate(c))
    # Each epoch is a permutation of the whole set.
    for batches in (a, c):
        flat = np.sort(np.concatenate(batches).reshape(len(images), -1), axis=0)
        assert np.array_equal(flat, np.sort(images.reshape(len(images), -1), axis=0))
    ds = image_dataset(images, batch_size=BATCH, seed=1, epoch=3)
    assert all(np.array_equal(u, v) for u, v in zip(_batches(ds), _batches(ds)))


def test_toy_epoch_is_that_epochs_slice_of_the_infinite_stream():
    stream = _batches(toy_dataset("ring8", batch_size=8, seed=2).take(9))
    epoch2 = _batches(toy_dataset("ring8", batch_size=8, seed=2, epoch=2, steps_per_epoch=3))
    assert len(epoch2) == 3
    assert all(np.array_equal(u, v) for u, v in zip(stream[6:9], epoch2))


def test_ids_dataset_epoch_order_is_replayable():
    src = np.arange(40, dtype="int32").reshape(20, 2) + 3
    tgt = np.arange(60, dtype="int32").reshape(20, 3) % 7 + 3
    a = [np.asarray(s) for (s, _), _ in text.ids_dataset(src, tgt, 5, seed=1, epoch=1)]
    b = [np.asarray(s) for (s, _), _ in text.ids_dataset(src, tgt, 5, seed=1, epoch=1)]
    c = [np.asarray(s) for (s, _), _ in text.ids_dataset(src, tgt, 5, seed=1, epoch=2)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b)) and len(a) == 4
    assert not np.array_equal(np.concatenate(a), np.concatenate(c))
    assert np.array_equal(np.sort(np.concatenate(a)[:, 0]), src[:, 0])
    # repeat=True: passes 0, 1, ... of the epoch, each a permutation.
    r = [np.asarray(s) for (s, _), _ in text.ids_dataset(src, tgt, 5, seed=1, epoch=1,
                                                        repeat=True).take(8)]
    assert all(np.array_equal(u, v) for u, v in zip(a, r[:4]))
    assert np.array_equal(np.sort(np.concatenate(r[4:])[:, 0]), src[:, 0])
