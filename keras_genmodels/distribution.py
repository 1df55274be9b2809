"""Data-parallel training on several devices and several processes.

One call chooses the distribution engine Keras supports on the current
backend; the models themselves are unchanged:

- **JAX**: `keras.distribution.DataParallel` over the chosen devices (set
  globally with `keras.distribution.set_distribution`). Variables -- model
  weights, every phase optimizer's slots inside the `MultiOptimizer`, metric
  and seed-generator states -- are replicated; each batch is sharded along
  its first axis and `jit` computes the *global* step (losses are global-batch
  means, gradients need no extra reduction). Several processes (hosts):
  `keras.distribution.initialize(coordinator, num_processes, process_id)`;
  each process feeds its own share of every global batch (Keras shards a
  `tf.data.Dataset` automatically) and only process 0 writes files
  (`is_chief()`).
- **TensorFlow**: a `tf.distribute.MirroredStrategy` over N GPUs (or N
  logical CPU devices); build, compile and fit inside `training_scope()`.
  Each replica computes its share of the global-batch loss, so the summed
  gradients equal the single-device gradient (see
  `keras_genmodels.backend.replica_share`).
- **torch**: Keras 3.15 has no distribution support for torch; asking for
  several devices raises `DistributionError` saying what to use instead.

**Batch size.** The batch given to `fit` is the *global* batch on every
engine: with `--batch-size 64 --devices 4` each device sees 16 samples per
step, and training follows the same trajectory as one device with batch 64.
Use a global batch divisible by the number of devices (and, for GANs with k
discriminator steps and packing p, by k * p * devices).

Device set-up must happen before the framework initialises its devices,
hence two steps::

    # 1. before importing keras (right after setting KERAS_BACKEND):
    from keras_genmodels.distribution import prepare_devices
    prepare_devices(4)              # CPU-only host: 4 virtual devices
    # 2. after importing keras, before building the model:
    from keras_genmodels import distribution
    distribution.configure(devices=4)
    with distribution.training_scope():
        model = ...; model.compile(...); model.fit(...)
    if distribution.is_chief():
        model.save("model.keras")

This module imports no framework at import time (so `prepare_devices` can
run first).
"""

import contextlib
import os
import sys

__all__ = ["DistributionError", "chief_writes", "configure", "is_chief", "num_replicas",
           "prepare_devices", "process_count", "reset", "training_scope"]

TORCH_MESSAGE = (
    "{what} is not available with the torch backend: Keras 3.15 has no "
    "distribution support for torch. Use --backend jax (keras.distribution."
    "DataParallel, also across several processes/hosts) or --backend "
    "tensorflow (tf.distribute.MirroredStrategy), or train on one device "
    "(--devices 1).")

_FORCE_FLAG = "--xla_force_host_platform_device_count"


class DistributionError(ValueError):
    """A device request this backend or machine cannot satisfy (CLI: exit 2)."""


class _State:
    backend = None
    replicas = 1            # devices taking part in one step, all processes
    processes = 1
    process_id = 0
    strategy = None         # TF: the tf.distribute strategy
    distribution = None     # JAX: the keras.distribution.DataParallel


_STATE = _State()


def _backend():
    if "keras" in sys.modules:
        import keras
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def _check_count(name, value, minimum=1):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DistributionError(f"expected {name} as an integer >= {minimum}, "
                                f"received {value!r}")
    return value


def prepare_devices(devices, backend=None):
    """Make `devices` devices visible; call before Keras/JAX/TF are imported.

    - JAX: appends `--xla_force_host_platform_device_count=N` to `XLA_FLAGS`
      (it only affects the CPU platform: on a GPU/TPU host the accelerators
      are used and the flag is harmless). Must run before `import jax`.
    - TensorFlow: with fewer than N GPUs and none at all, splits the CPU into
      N logical devices (`tf.config.set_logical_device_configuration`);
      imports TensorFlow to do so, before any op has run.
    - torch: raises `DistributionError` for N > 1.

    Args:
        devices: int or None. Devices per process; None or 1 does nothing.
        backend: str or None. Defaults to `$KERAS_BACKEND` (or the backend of
            an already imported Keras).
    """
    devices = _check_count("devices", devices)
    if not devices or devices == 1:
        return
    backend = backend or _backend()
    if backend == "torch":
        raise DistributionError(TORCH_MESSAGE.format(what=f"--devices {devices}"))
    if backend == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        if _FORCE_FLAG not in flags:
            if "jax" in sys.modules:
                import jax
                if jax.local_device_count() >= devices:
                    return
                raise DistributionError(
                    f"asked for {devices} devices, but JAX was already initialised "
                    f"with {jax.local_device_count()}; call prepare_devices before "
                    "importing keras or jax (or set XLA_FLAGS="
                    f"{_FORCE_FLAG}={devices}).")
            os.environ["XLA_FLAGS"] = f"{flags} {_FORCE_FLAG}={devices}".strip()
        return
    if backend == "tensorflow":
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        if len(gpus) >= devices:
            return
        if gpus:
            raise DistributionError(
                f"asked for {devices} devices, but this machine has {len(gpus)} GPU(s)")
        cpus = tf.config.list_physical_devices("CPU")
        try:
            current = tf.config.get_logical_device_configuration(cpus[0])
            if current and len(current) >= devices:
                return
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * devices)
        except RuntimeError as err:  # devices already initialised
            raise DistributionError(
                f"cannot split the CPU into {devices} logical devices: TensorFlow has "
                f"already initialised its devices ({err}); call prepare_devices "
                "before running any TensorFlow op.") from None
        return
    raise DistributionError(f"unknown backend {backend!r}")


def configure(devices=None, coordinator=None, num_processes=None, process_id=None):
    """Set up data-parallel training for the current backend.

    Call after importing Keras and before building any model (variables
    created earlier are not distributed). Returns the number of replicas
    (devices over all processes) a training step runs on.

    Args:
        devices: int or None. Devices to use in this process (None: all
            local devices under JAX when several processes are asked for,
            else 1).
        coordinator: str or None. `HOST:PORT` of process 0 (JAX
            multi-process only).
        num_processes: int or None. Processes taking part (JAX only).
        process_id: int or None. This process's index in
            `[0, num_processes)`.

    Raises:
        DistributionError: torch with more than one device or process; more
            devices than the machine has; multi-process under TensorFlow;
            inconsistent process arguments.
    """
    devices = _check_count("devices", devices)
    num_processes = _check_count("num_processes", num_processes)
    process_id = _check_count("process_id", process_id, minimum=0)
    multi = bool(num_processes and num_processes > 1)
    if multi and (coordinator is None or process_id is None):
        raise DistributionError(
            "several processes need --coordinator HOST:PORT and --process-id I "
            f"(received coordinator={coordinator!r}, process_id={process_id!r})")
    if process_id is not None and process_id >= (num_processes or 1):
        raise DistributionError(
            f"expected process_id in [0, {num_processes or 1}), received {process_id}")
    if not multi and coordinator is not None:
        raise DistributionError("--coordinator needs --num-processes >= 2")
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        if (devices or 1) > 1 or multi:
            what = f"--devices {devices}" if (devices or 1) > 1 else \
                f"--num-processes {num_processes}"
            raise DistributionError(TORCH_MESSAGE.format(what=what))
        return _set(backend)
    if backend == "jax":
        return _configure_jax(keras, devices, coordinator, num_processes, process_id, multi)
    if multi:
        raise DistributionError(
            "several processes are supported under the JAX backend only "
            "(keras.distribution.initialize); under TensorFlow use one process "
            "with --devices N (MirroredStrategy). See README, 'Several devices'.")
    return _configure_tf(devices)


def _set(backend, replicas=1, processes=1, process_id=0, strategy=None, dist=None):
    _STATE.backend, _STATE.replicas = backend, replicas
    _STATE.processes, _STATE.process_id = processes, process_id
    _STATE.strategy, _STATE.distribution = strategy, dist
    return replicas


def _configure_jax(keras, devices, coordinator, num_processes, process_id, multi):
    import jax

    if multi:
        keras.distribution.initialize(coordinator, num_processes, process_id)
    local = jax.local_devices()
    wanted = devices or (len(local) if multi else 1)
    if wanted > len(local):
        raise DistributionError(
            f"asked for {wanted} devices, but JAX sees {len(local)} local "
            f"{local[0].platform.upper()} device(s). On a CPU-only machine set "
            f"XLA_FLAGS={_FORCE_FLAG}={wanted} before importing jax "
            "(keras_genmodels.distribution.prepare_devices does this).")
    if wanted == 1 and not multi:
        keras.distribution.set_distribution(None)
        return _set("jax")
    # The first `wanted` local devices of every process, in process order.
    chosen = [d for p in sorted({d.process_index for d in jax.devices()})
              for d in [x for x in jax.devices() if x.process_index == p][:wanted]]
    dist = keras.distribution.DataParallel(
        devices=[f"{d.platform}:{d.id}" for d in chosen])
    keras.distribution.set_distribution(dist)
    return _set("jax", len(chosen), jax.process_count(), jax.process_index(), dist=dist)


def _configure_tf(devices):
    import tensorflow as tf

    wanted = devices or 1
    if wanted == 1:
        return _set("tensorflow")
    gpus = tf.config.list_logical_devices("GPU")
    cpus = tf.config.list_logical_devices("CPU")
    pool = gpus if gpus else cpus
    if len(pool) < wanted:
        kind = "GPU" if gpus else "logical CPU"
        raise DistributionError(
            f"asked for {wanted} devices, but TensorFlow sees {len(pool)} {kind} "
            "device(s). On a CPU-only machine call keras_genmodels.distribution."
            f"prepare_devices({wanted}) before TensorFlow initialises its devices.")
    strategy = tf.distribute.MirroredStrategy([d.name for d in pool[:wanted]])
    return _set("tensorflow", wanted, strategy=strategy)


def reset():
    """Back to single-device training (JAX: removes the global distribution)."""
    if _STATE.backend == "jax" and _STATE.distribution is not None:
        import keras
        keras.distribution.set_distribution(None)
    _set(_STATE.backend)


def training_scope():
    """Context for building, compiling and fitting a model.

    TensorFlow: the MirroredStrategy's scope (variables become mirrored).
    JAX: the DataParallel distribution's scope (it is also set globally).
    Otherwise (one device, torch): does nothing.
    """
    if _STATE.strategy is not None:
        return _STATE.strategy.scope()
    if _STATE.distribution is not None:
        return _STATE.distribution.scope()
    return contextlib.nullcontext()


@contextlib.contextmanager
def chief_writes():
    """Context for the file writes only process 0 makes (`.keras`, export, plots).

    Under JAX with several processes every device computation on the
    distributed variables is collective: all processes must run it in
    lockstep. Keras's `save` creates throw-away optimizer variables, which
    under the global `DataParallel` would be placed on the global mesh (a
    collective that process 0 would wait on alone, forever or until an
    error). Inside this context no distribution is set, so those are local.
    Elsewhere it does nothing. Use::

        if distribution.is_chief():
            with distribution.chief_writes():
                model.save(path); export_model(model, name)
    """
    dist = _STATE.distribution
    if dist is None:
        yield
        return
    import keras
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(dist)


def num_replicas():
    """Devices (over all processes) taking part in one training step."""
    return _STATE.replicas


def process_count():
    """Processes taking part (1 unless JAX multi-process)."""
    return _STATE.processes


def is_chief():
    """True in the process that writes checkpoints, `.keras` files and
    exports: process 0 (always True with one process)."""
    return _STATE.process_id == 0
