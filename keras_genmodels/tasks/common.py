"""Pieces shared by the CLI training tasks."""

import json
import math
import os
import pathlib
import shutil
import tempfile

import numpy as np

from keras_genmodels.files import atomic_write, write_text_atomically


class TaskError(ValueError):
    """Arguments or data a task cannot use (the CLI exits 2 with this message)."""


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss or weights (the CLI exits 1; nothing is saved)."""


def run_training(task, args):
    """Run `task.train(args)` on the devices asked for (`--devices`, multi-process flags).

    Sets up data parallelism (`keras_genmodels.distribution`), then trains
    inside its scope. With several JAX processes every process runs the
    whole task in lockstep (training and the post-training computations are
    collective), but only process 0 keeps files: the others write into a
    temporary directory that is deleted, and do not export.
    """
    from keras_genmodels import distribution

    try:
        distribution.configure(devices=getattr(args, "devices", 1),
                               coordinator=getattr(args, "coordinator", None),
                               num_processes=getattr(args, "num_processes", None),
                               process_id=getattr(args, "process_id", None))
    except distribution.DistributionError as err:
        raise TaskError(str(err)) from None
    if getattr(args, "checkpoint_dir", None) and distribution.process_count() > 1:
        raise TaskError("expected --checkpoint-dir with one process, received "
                        f"--num-processes {args.num_processes}: resumable training across "
                        "several processes is not supported yet (use --devices N in one "
                        "process, or the Python API)")
    scratch = None
    if not distribution.is_chief():
        scratch = tempfile.mkdtemp(prefix="genmodels-worker-")
        args.export_dir, args.no_export = pathlib.Path(scratch), True
        if getattr(args, "checkpoint_dir", None):
            args.checkpoint_dir = pathlib.Path(scratch) / "checkpoints"
    try:
        with distribution.training_scope():
            return task.train(args)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


DEFAULT_STEPS_PER_EXECUTION = 10


def recommended_steps_per_execution(*counts, backend=None, target=DEFAULT_STEPS_PER_EXECUTION):
    """The `steps_per_execution` the CLI tasks train with (see `fit_task`).

    Keras runs `steps_per_execution` training steps per call of its compiled
    function and calls the callbacks once per call: on TensorFlow this
    removes most of `fit`'s per-step overhead (measured by
    `scripts/benchmarks/step_time.py`), on JAX a little; the steps, and so
    the weights and the epoch's logged means, are unchanged. The torch
    trainer accepts only 1. With `steps_per_epoch` (an infinite stream or a
    resumable `flat_map`), Keras draws whole executions, so the value must
    divide it -- else an epoch would run extra batches and shift the data --
    and divide `checkpoint_every` and the step of any checkpoint a run may
    resume from, so that checkpoints (written at the end of an execution)
    fall on the same steps as without it.

    Args:
        *counts: int or None. Step counts the value must divide
            (`steps_per_epoch`, `checkpoint_every`, checkpointed steps);
            None entries are ignored.
        backend: str or None. Defaults to the current Keras backend.
        target: int. The largest value returned. Defaults to 10.

    Returns:
        int. The largest divisor of every count that is at most `target`
        (`target` when no count is given); 1 under torch.
    """
    import keras

    if (backend or keras.backend.backend()) == "torch":
        return 1
    n = 0
    for count in counts:
        n = math.gcd(n, int(count or 0))
    n = n or int(target)
    return max(d for d in range(1, int(target) + 1) if n % d == 0)


def use_steps_per_execution(model, steps_per_execution):
    """Set a compiled model's `steps_per_execution` (its train function is rebuilt)."""
    if getattr(model, "steps_per_execution", 1) != steps_per_execution:
        model.steps_per_execution = int(steps_per_execution)
        model.make_train_function(force=True)


def fit_task(model, args, dataset, epoch_dataset, steps_per_epoch=None, callbacks=(),
             **fit_kwargs):
    """Train a task's model: stop on a non-finite loss; resumable with `--checkpoint-dir`.

    Without `--checkpoint-dir`: one `model.fit(dataset, ...)`. With it:
    `keras_genmodels.training.fit_resumable(model, epoch_dataset, ...)`, which
    checkpoints every `--checkpoint-every` steps (default: every epoch) and,
    run again with the same command after a crash, continues from the newest
    valid checkpoint and ends with exactly the uninterrupted run's weights.

    Trains with `recommended_steps_per_execution(steps_per_epoch,
    --checkpoint-every)` steps per compiled call (TF/JAX: up to 10; torch,
    and any run with `--devices` > 1: 1): logs and callbacks (`StopOnNonFinite`,
    `TimeLimit`, checkpoints) run after each call, on the same steps'
    running means.

    Raises:
        TrainingDiverged: a loss or weight became NaN/inf (unless
            `--allow-non-finite`); nothing has been saved.
    """
    from keras_genmodels.callbacks import StopOnNonFinite

    guard = StopOnNonFinite()
    callbacks = [guard, *callbacks]
    checkpoint_dir = getattr(args, "checkpoint_dir", None)
    if checkpoint_dir and epoch_dataset is None:
        raise TaskError(f"expected no --checkpoint-dir for {getattr(args, 'model', 'this task')}"
                        ", received one: its data pipeline cannot replay an epoch yet, so a "
                        "resumed run would not equal an uninterrupted one")
    use_steps_per_execution(model, _task_steps_per_execution(
        args, epoch_dataset, steps_per_epoch))
    if checkpoint_dir:
        from keras_genmodels.training import fit_resumable

        history = fit_resumable(model, epoch_dataset, args.epochs, checkpoint_dir,
                                steps_per_epoch=steps_per_epoch,
                                checkpoint_every=getattr(args, "checkpoint_every", None),
                                callbacks=callbacks, verbose=args.verbose, **fit_kwargs)
        if history.resumed_from:
            print(f"resumed from {history.resumed_from}")
    else:
        history = model.fit(dataset, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
                            callbacks=callbacks, verbose=args.verbose, **fit_kwargs)
    allow = getattr(args, "allow_non_finite", False)
    if guard.triggered and not allow:
        raise TrainingDiverged(
            f"training diverged: {guard.message}; nothing was saved or exported. Lower "
            "--learning-rate, check the data for NaN/inf, or pass --allow-non-finite to "
            "keep the model anyway.")
    check_finite_training(model, history, allow)
    return history


def _task_steps_per_execution(args, epoch_dataset, steps_per_epoch):
    from keras_genmodels import distribution

    if distribution.num_replicas() > 1:
        # Several steps per call fail under a distribution: TF MirroredStrategy
        # inside Keras's multi-step while loop ("You must feed a value for
        # placeholder tensor", the adversarial step), JAX DataParallel on the
        # one-loss trainer (a pytree-structure mismatch of the sharded state,
        # Keras 3.15). One step per call there.
        return 1
    counts = [steps_per_epoch, getattr(args, "checkpoint_every", None)]
    checkpoint_dir = getattr(args, "checkpoint_dir", None)
    if checkpoint_dir and recommended_steps_per_execution() > 1:
        # A resumable run always has a fixed epoch length (inferred when not given)
        # and may restart from any committed checkpoint's step.
        import tensorflow as tf

        from keras_genmodels.training.resume import CheckpointStore

        if not steps_per_epoch:
            card = int(epoch_dataset(tf.constant(0, tf.int64)).cardinality())
            counts.append(card if card > 0 else 1)
        if pathlib.Path(checkpoint_dir).is_dir():
            counts += [step for step, _ in CheckpointStore(checkpoint_dir).committed()]
    return recommended_steps_per_execution(*counts)


def build_model(build, *args, **kwargs):
    """Call a model constructor, turning its argument errors into `TaskError`.

    Models validate their arguments against the data (image size the
    architecture can produce, channels, sizes) at construction, before any
    training; on the command line those are usage errors.
    """
    try:
        return build(*args, **kwargs)
    except (ValueError, TypeError) as err:
        raise TaskError(str(err)) from None


def split_for_training(args):
    """Load `args.dataset` as (x_train, y_train, x_test, y_test).

    Named datasets use their own train/test splits; a local file (which has
    no splits) uses `--test-dataset` when given, else a seeded 90/10 split.
    """
    from keras_genmodels.data import load_images

    x_tr, y_tr = load_images(args.dataset, "train", data_dir=args.data_dir)
    if args.test_dataset:
        x_te, y_te = load_images(args.test_dataset, "test", data_dir=args.data_dir)
    elif _is_path(args.dataset):
        order = np.random.RandomState(args.seed).permutation(len(x_tr))
        cut = max(1, len(x_tr) // 10)
        x_te, x_tr = x_tr[order[:cut]], x_tr[order[cut:]]
        if y_tr is not None:
            y_te, y_tr = y_tr[order[:cut]], y_tr[order[cut:]]
        else:
            y_te = None
    else:
        x_te, y_te = load_images(args.dataset, "test", data_dir=args.data_dir)
    return x_tr, y_tr, x_te, y_te


def _is_path(source):
    return os.sep in str(source) or pathlib.Path(str(source)).suffix != ""


def find_model(model, model_dir, task):
    """The `.keras` file a command uses: `model` if given, else the newest under `model_dir`.

    Raises `FileNotFoundError` naming what was expected (`genmodels train <task>` first).
    """
    if model:
        if not os.path.isfile(model):
            raise FileNotFoundError(f"expected a .keras model file, received '{model}', "
                                    f"which does not exist")
        return pathlib.Path(model)
    found = sorted(pathlib.Path(model_dir).rglob("*.keras"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        raise FileNotFoundError(f"expected a trained model under '{model_dir}' (run "
                                f"'genmodels train {task}' first) or --model PATH, "
                                f"received none")
    return found[-1]


def save_keras_atomically(model, path, allow_non_finite=False):
    """`model.save(path)` through a temporary file and a rename (mode 0644).

    Refuses NaN/inf weights (`NonFiniteWeightsError`) unless `allow_non_finite`.
    """
    from keras_genmodels.distribution import chief_writes

    path = pathlib.Path(path)
    kwargs = {"allow_non_finite": True} if allow_non_finite else {}
    with chief_writes(), atomic_write(path, suffix=".keras") as tmp:
        model.save(tmp, **kwargs)
    return path


def json_safe(value):
    """`value` with every non-finite float replaced by None (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_json(path, data):
    """Write `data` as strict JSON (non-finite numbers become null), atomically."""
    text = json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False)
    return write_text_atomically(path, text + "\n")


def check_finite_training(model, history=None, allow_non_finite=False):
    """Raise `TrainingDiverged` if a logged loss (a key containing "loss") or a weight
    is NaN/inf.

    Called after `fit` and before anything is saved, so a diverged run
    never writes a `.keras` file or a SavedModel (unless `allow_non_finite`).
    """
    if allow_non_finite:
        return
    logs = getattr(history, "history", history) or {}
    for key, values in logs.items():
        if "loss" not in key:  # other logs (e.g. a reverse KL) may be inf by definition
            continue
        bad = [i for i, v in enumerate(values)
               if isinstance(v, (int, float, np.floating)) and not math.isfinite(float(v))]
        if bad:
            raise TrainingDiverged(
                f"training diverged: {key} became {values[bad[0]]} in epoch {bad[0] + 1}; "
                "nothing was saved or exported. Lower --learning-rate, check the data for "
                "NaN/inf, or pass --allow-non-finite to keep the model anyway.")
    from keras_genmodels.export import NonFiniteModelError, _check_finite

    try:
        _check_finite(model, False)
    except NonFiniteModelError as err:
        raise TrainingDiverged(f"training diverged: {err}") from None
