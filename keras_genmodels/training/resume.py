"""Crash-safe, resumable training: `fit_resumable`.

A crash (even `kill -9`) costs at most the last checkpoint interval, and a
resumed run ends with *exactly* the weights of an uninterrupted one.

Recipe:

```python
import keras
from keras_genmodels.data import image_dataset, load_images
from keras_genmodels.models.autoencoder import Autoencoder
from keras_genmodels.training import fit_resumable

keras.utils.set_random_seed(0)                 # same construction in every process
x, _ = load_images("digits")                   # load data once, outside epoch_dataset
model = Autoencoder((8, 8, 1), 16, dropout=0.1)
model.compile(optimizer="adam")

def epoch_dataset(epoch):                      # epoch: scalar int64 tf.Tensor
    ds = image_dataset(x, batch_size=64, seed=1, epoch=epoch, drop_remainder=True)
    return ds.map(lambda b: (b, b))

history = fit_resumable(model, epoch_dataset, epochs=50,
                        checkpoint_dir="runs/ae", checkpoint_every=100)
# Killed at any moment? Run the same script again: it continues from the
# newest valid checkpoint. Re-run after completion: loads the final state and
# returns at once (history.completed is True, history.history is empty).
```

**What is saved.** Each checkpoint is a full `.keras` file -- weights, the
optimizer (for adversarial models the `MultiOptimizer` holding every phase
optimizer), and the state of every `SeedGenerator` reachable from the model
(see `keras_genmodels.models.base`) -- plus a JSON file with the position:
`epoch`, `step` (batches done in that epoch), `global_step`,
`steps_per_epoch`, `epochs`, `done`, the per-epoch history so far, the
backend's global RNG state (`keras_genmodels.backend.rng`: torch's global
generator, which feeds unseeded `Dropout` layers under torch), and the
SHA-256 and size of the `.keras` file. Both are written to a temporary file
in the same directory, fsynced, and renamed into place (`os.replace`, then
the directory is fsynced); the JSON is written second and commits the
checkpoint. The newest `keep` (2) committed checkpoints are kept. On resume,
checkpoints are tried newest first; one whose JSON does not parse, whose
`.keras` file is missing or fails its checksum, or that fails to load is
skipped with a warning, so a corrupt latest checkpoint falls back to the
previous one. Leftover temporary files of a killed writer are removed.

**The data position** is not saved as tf.data iterator state: it follows
from `(epoch, step)` because `epoch_dataset(epoch)` must give epoch `epoch`'s
batches deterministically, in any process (`image_dataset(..., epoch=e)`,
`toy_dataset(..., epoch=e, steps_per_epoch=n)`, `data.text.ids_dataset(...,
epoch=e)` do). `epoch_dataset` is called with a scalar int64 `tf.Tensor`,
also inside `tf.data.Dataset.flat_map`, so it must build its dataset from
TensorFlow ops and in-memory arrays (load or encode files *before*); it
must yield at least `steps_per_epoch` batches (more are cut off).

**How it trains.** One `model.fit` over
`Dataset.range(start, epochs).flat_map(lambda e: epoch_dataset(e).take(steps))`
with `steps_per_epoch` and `initial_epoch` (Keras 3 keeps one iterator across
epochs when `steps_per_epoch` is set and the cardinality is unknown, as it is
after `flat_map`); when resuming mid-epoch, first a one-epoch `fit` over
`epoch_dataset(e).take(steps).skip(step)`. User callbacks therefore see up to
two `fit` calls (two `on_train_begin`). The returned `keras.callbacks.History`
merges both, and the epochs logged before the interruption (a resumed
epoch's entry covers only the batches run after the resume).

**Why not `keras.callbacks.BackupAndRestore`.** It restores the weights and
the epoch number but not the position inside an epoch (its `batch` is written
but never used: a mid-epoch resume replays the epoch's data from its first
batch, so the run diverges from an uninterrupted one), it saves with
`save_weights`, whose `.weights.h5` holds no SeedGenerator state (nested
`Dropout` / sampler noise restarts), it overwrites its files in place (a kill
while writing leaves a corrupt file; `double_checkpoint` copies the previous
file non-atomically and only falls back on an `OSError`), and it deletes its
checkpoint when `fit` ends, so a finished run re-invoked trains again from
scratch.

Non-finite states are never checkpointed: a save whose model weights hold
NaN/inf is skipped with a warning (`history.skipped_non_finite` counts them),
so a diverged run resumes from its last finite checkpoint. Combine with
`keras_genmodels.callbacks.StopOnNonFinite` to stop at the first NaN loss.
"""

import json
import os
import pathlib
import re
import tempfile
import time
import warnings

import numpy as np

FORMAT_VERSION = 1
_NAME = re.compile(r"^ckpt-(\d{10})\.json$")
_TMP_PREFIX = ".tmp-"


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path, write, suffix):
    """`write(tmp_path)`, fsync, `os.replace(tmp_path, path)`, fsync the directory."""
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{_TMP_PREFIX}{path.stem}-",
                               suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    _fsync_dir(path.parent)


def _sha256(path):
    from keras_genmodels.files import sha256_file

    return sha256_file(path)


def _to_float(value):
    import keras

    try:
        return float(np.asarray(keras.ops.convert_to_numpy(value)))
    except Exception:  # noqa: BLE001 - a non-numeric log entry
        return None


class CheckpointStore:
    """The checkpoints of one run in `directory`: `ckpt-<global step>.{keras,json}`.

    Args:
        directory: str or Path. Created if missing; holds nothing else.
        keep: int. Committed checkpoints kept (newest). Defaults to 2.
    """

    def __init__(self, directory, keep=2):
        if int(keep) < 1:
            raise ValueError(f"keep must be >= 1; received {keep}.")
        self.directory = pathlib.Path(directory)
        self.keep = int(keep)

    def _paths(self, global_step):
        stem = f"ckpt-{int(global_step):010d}"
        return self.directory / f"{stem}.keras", self.directory / f"{stem}.json"

    def committed(self):
        """`[(global_step, json_path)]`, newest first (JSON present; not yet validated)."""
        if not self.directory.is_dir():
            return []
        found = []
        for p in self.directory.iterdir():
            m = _NAME.match(p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found, reverse=True)

    def remove_temporaries(self):
        """Delete temporary files a killed writer left behind; return their names."""
        if not self.directory.is_dir():
            return []
        removed = []
        for p in self.directory.iterdir():
            if p.name.startswith(_TMP_PREFIX) and p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p.name)
        return removed

    def write(self, model, meta):
        """Write `model` and `meta` (a dict with `global_step`) as a new checkpoint."""
        self.directory.mkdir(parents=True, exist_ok=True)
        keras_path, json_path = self._paths(meta["global_step"])

        def save(tmp):
            if _is_generative(model):  # finiteness is the checkpointer's decision
                model.save(tmp, allow_non_finite=True)
            else:
                model.save(tmp)

        _atomic_write(keras_path, save, ".keras")
        meta = dict(meta, format=FORMAT_VERSION, keras_file=keras_path.name,
                    size=keras_path.stat().st_size, sha256=_sha256(keras_path))

        def dump(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=1)

        _atomic_write(json_path, dump, ".json")
        self.prune()
        return keras_path

    def prune(self):
        """Keep the newest `keep` committed checkpoints; drop older and orphan files."""
        committed = self.committed()
        keep_steps = {step for step, _ in committed[:self.keep]}
        for step, json_path in committed[self.keep:]:
            json_path.unlink(missing_ok=True)  # uncommit first
            self._paths(step)[0].unlink(missing_ok=True)
        newest = committed[0][0] if committed else -1
        for p in self.directory.glob("ckpt-*.keras"):
            m = re.match(r"^ckpt-(\d{10})\.keras$", p.name)
            # An orphan .keras (no JSON): a writer died between the two files.
            if m and int(m.group(1)) not in keep_steps and int(m.group(1)) < newest:
                p.unlink(missing_ok=True)

    def valid(self):
        """Yield `(meta, keras_path)` of checkpoints that pass their checks, newest first."""
        for step, json_path in self.committed():
            try:
                with open(json_path, encoding="utf-8") as f:
                    meta = json.load(f)
                if not isinstance(meta, dict) or int(meta["global_step"]) != step:
                    raise ValueError("inconsistent content")
                keras_path = self.directory / meta["keras_file"]
                if not keras_path.is_file():
                    raise ValueError(f"{keras_path.name} is missing")
                if (keras_path.stat().st_size != meta["size"]
                        or _sha256(keras_path) != meta["sha256"]):
                    raise ValueError(f"{keras_path.name} fails its size/SHA-256 check")
            except (OSError, ValueError, KeyError, TypeError) as err:
                warnings.warn(f"skipping corrupt checkpoint {json_path} ({err}); trying the "
                              "previous one", stacklevel=3)
                continue
            yield meta, keras_path


def latest_checkpoint(checkpoint_dir):
    """`(meta, keras_path)` of the newest valid checkpoint in `checkpoint_dir`, or None.

    Only checks files (JSON, size, SHA-256); does not load the model.
    """
    return next(iter(CheckpointStore(checkpoint_dir).valid()), None)


def _is_generative(model):
    from keras_genmodels.models.base import GenerativeModel

    return isinstance(model, GenerativeModel)


def _build_optimizer(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)


def _restore(model, store, steps_per_epoch):
    for meta, keras_path in store.valid():
        if int(meta["steps_per_epoch"]) != steps_per_epoch:
            raise ValueError(
                f"checkpoint {keras_path} was written with steps_per_epoch="
                f"{meta['steps_per_epoch']}, this run uses {steps_per_epoch}: its position "
                "cannot be resumed. Use the same data and batch size, or a new "
                "checkpoint_dir.")
        try:
            model.load_weights(keras_path)
        except Exception as err:  # noqa: BLE001 - any failure means: try the previous one
            warnings.warn(f"skipping checkpoint {keras_path}: loading failed ({err}); trying "
                          "the previous one", stacklevel=3)
            continue
        return meta, keras_path
    return None, None


def _make_checkpointer(store, steps, epochs, every, global_step, history_so_far, rng_state):
    import keras

    from keras_genmodels.backend import rng
    from keras_genmodels.training.finite import non_finite_weights

    class Checkpointer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.offset = 0  # batches of the current epoch done before this fit
            self.epoch = global_step // steps
            self.global_step = global_step
            self.saved_step = global_step
            self.epoch_logs = dict(history_so_far)  # str(epoch) -> logs
            self.skipped_non_finite = 0
            self.final = False
            # The global RNG state after the last batch run (or from the checkpoint),
            # set again before the first batch of each `fit`: Keras's torch trainer
            # draws from torch's global generator when a `fit` starts, so without this a
            # resumed run (one or two more `fit` calls) would drift from an
            # uninterrupted one.
            self.rng_state = rng_state
            self.first_batch = True

        def on_train_begin(self, logs=None):
            self.first_batch = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if self.first_batch:
                self.first_batch = False
                if self.rng_state:
                    rng.set_state(self.rng_state)

        def on_train_batch_end(self, batch, logs=None):
            self.rng_state = rng.get_state()
            self.global_step = self.epoch * steps + self.offset + batch + 1
            if every and self.global_step // every > self.saved_step // every:
                self.save()

        def on_epoch_end(self, epoch, logs=None):
            self.offset = 0
            self.epoch_logs[str(epoch)] = {k: _to_float(v) for k, v in (logs or {}).items()}
            if not every and self.global_step > self.saved_step:
                self.save()

        def on_train_end(self, logs=None):
            if (self.final or self.model.stop_training) and self.global_step > self.saved_step:
                self.save()

        def save(self):
            model = self.model  # under JAX, this syncs the trainer's state into the variables
            bad = non_finite_weights(model)
            if bad:
                self.skipped_non_finite += 1
                warnings.warn(f"not checkpointing step {self.global_step}: {len(bad)} "
                              f"variable(s) hold NaN/inf (e.g. {bad[0][0]})", stacklevel=2)
                return
            epoch, step = divmod(self.global_step, steps)
            store.write(model, {
                "global_step": self.global_step, "epoch": epoch, "step": step,
                "steps_per_epoch": steps, "epochs": epochs,
                "done": self.global_step >= epochs * steps,
                "history": self.epoch_logs, "backend": keras.backend.backend(),
                "rng": self.rng_state,
                "time": time.time()})
            self.saved_step = self.global_step

    return Checkpointer()


def _history(model, epoch_logs, **extra):
    import keras

    history = keras.callbacks.History()
    history.set_model(model)
    epochs = sorted(int(e) for e in epoch_logs)
    history.epoch = epochs
    history.history = {}
    for e in epochs:
        for key, value in epoch_logs[str(e)].items():
            history.history.setdefault(key, []).append(value)
    for key, value in extra.items():
        setattr(history, key, value)
    return history


def _infer_steps(epoch_dataset, epoch):
    import tensorflow as tf

    card = int(epoch_dataset(tf.constant(epoch, tf.int64)).cardinality())
    if card <= 0:
        raise ValueError(
            "steps_per_epoch is required: epoch_dataset(epoch) has "
            f"{'infinite' if card == -1 else 'unknown' if card == -2 else 'zero'} "
            "cardinality, so the number of batches per epoch cannot be inferred.")
    return card


def fit_resumable(model, epoch_dataset, epochs, checkpoint_dir, steps_per_epoch=None,
                  checkpoint_every=None, callbacks=(), keep=2, verbose="auto", **fit_kwargs):
    """Train `model` for `epochs` epochs, checkpointing to `checkpoint_dir`; resume if possible.

    Args:
        model: a built, compiled Keras model (any keras_genmodels model).
            Construct and compile it the same way in every process (same seed).
        epoch_dataset: callable `epoch -> tf.data.Dataset` of that epoch's
            batches, deterministic in `epoch` (a scalar int64 `tf.Tensor`; see
            the module docstring).
        epochs: int. Total epochs of the run (not "more epochs").
        checkpoint_dir: str or Path. One directory per run.
        steps_per_epoch: int or None. Batches per epoch. None: the
            cardinality of `epoch_dataset(first epoch)` (must be finite and
            known).
        checkpoint_every: int or None. Checkpoint every this many training
            steps (global step multiples). None: at the end of every epoch.
            A checkpoint is also written when training ends or is stopped.
        callbacks: list of `keras.callbacks.Callback`, passed to `fit`.
        keep: int. Checkpoints kept. Defaults to 2.
        verbose: passed to `fit`.
        **fit_kwargs: other `fit` arguments (e.g. `validation_data`). Not
            `x`, `epochs`, `initial_epoch`, `steps_per_epoch`.

    Returns:
        `keras.callbacks.History` of all epochs (those before an
        interruption too, from the checkpoint), with extra attributes
        `completed` (bool: all epochs done), `resumed_from` (path of the
        checkpoint loaded, or None), `global_step`, `skipped_non_finite`
        (number of checkpoints not written because weights were NaN/inf) and
        `checkpoint_dir`.

    Raises:
        ValueError: the model is not compiled; `steps_per_epoch` cannot be
            inferred or differs from the one the checkpoints were written with.
        TypeError: `epoch_dataset` cannot be built inside `flat_map`.
    """
    import tensorflow as tf

    for name in ("x", "y", "epochs", "initial_epoch", "steps_per_epoch", "batch_size"):
        if name in fit_kwargs:
            raise TypeError(f"fit_resumable sets `{name}` itself; do not pass it.")
    if not getattr(model, "compiled", False):
        raise ValueError("fit_resumable needs a compiled model: call model.compile(...) first.")
    epochs = int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1; received {epochs}.")
    every = None if checkpoint_every is None else int(checkpoint_every)
    if every is not None and every < 1:
        raise ValueError(f"checkpoint_every must be None or >= 1; received {checkpoint_every}.")

    fit_kwargs.setdefault("shuffle", False)  # the epoch datasets are ordered already
    store = CheckpointStore(checkpoint_dir, keep)
    store.directory.mkdir(parents=True, exist_ok=True)
    store.remove_temporaries()
    steps = int(steps_per_epoch) if steps_per_epoch else _infer_steps(epoch_dataset, 0)
    _build_optimizer(model)
    meta, resumed_from = _restore(model, store, steps)
    global_step = int(meta["global_step"]) if meta else 0
    history_so_far = dict(meta.get("history", {})) if meta else {}
    info = dict(resumed_from=None if resumed_from is None else str(resumed_from),
                checkpoint_dir=str(store.directory))
    total = epochs * steps
    if global_step >= total:
        from keras_genmodels.backend import rng

        rng.set_state(meta.get("rng"))
        return _history(model, {k: v for k, v in history_so_far.items() if int(k) < epochs},
                        completed=True, global_step=global_step, skipped_non_finite=0, **info)

    checkpointer = _make_checkpointer(store, steps, epochs, every, global_step, history_so_far,
                                      meta.get("rng") if meta else None)
    all_callbacks = list(callbacks) + [checkpointer]
    epoch, step = divmod(global_step, steps)

    main = None
    if epoch + (1 if step else 0) < epochs:
        def one_epoch(e):
            return epoch_dataset(e).take(steps)

        try:
            main = tf.data.Dataset.range(epoch + (1 if step else 0), epochs).flat_map(one_epoch)
        except Exception as err:  # noqa: BLE001
            raise TypeError(
                "epoch_dataset(epoch) must build a tf.data.Dataset from TensorFlow ops when "
                "`epoch` is a scalar int64 tensor inside Dataset.flat_map (load or encode data "
                f"before; see keras_genmodels.training.resume); it failed: {err}") from err
    first = epoch_dataset(tf.constant(epoch, tf.int64))
    card = int(first.cardinality())
    if 0 <= card < steps:
        raise ValueError(f"epoch_dataset({epoch}) has {card} batches, fewer than "
                         f"steps_per_epoch={steps}: later epochs would be misaligned.")

    stopped = False
    if step:
        checkpointer.offset = step
        checkpointer.final = main is None
        model.fit(first.take(steps).skip(step), initial_epoch=epoch, epochs=epoch + 1,
                  steps_per_epoch=steps - step, callbacks=all_callbacks, verbose=verbose,
                  **fit_kwargs)
        stopped = bool(model.stop_training)
    if main is not None and not stopped:
        checkpointer.offset = 0
        checkpointer.final = True
        model.fit(main, initial_epoch=epoch + (1 if step else 0), epochs=epochs,
                  steps_per_epoch=steps, callbacks=all_callbacks, verbose=verbose,
                  **fit_kwargs)
    return _history(model, checkpointer.epoch_logs,
                    completed=checkpointer.global_step >= total,
                    global_step=checkpointer.global_step,
                    skipped_non_finite=checkpointer.skipped_non_finite, **info)
