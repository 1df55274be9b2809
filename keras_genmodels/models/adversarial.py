"""`AdversarialModel`: several losses, several optimizers, one `fit`.

A model declares its *phases*: each phase minimises one loss, written in
`keras.ops`, over one set of variables with its own optimizer, and may be
repeated `repeat` times per training step. Goodfellow et al.'s algorithm is
two phases: the discriminator loss on D's weights repeated k times, then the
generator loss on G's weights once.

The backend-specific part (how gradients are taken, and under JAX how the
stateful-style step is run inside `jit`) is `keras_genmodels.backend`'s
`AdversarialTrainer`; everything here is backend-independent.

All phase optimizers live inside one `keras.optimizers.MultiOptimizer` set
as `self.optimizer`, so the JAX trainer carries every optimizer's state
through `jit` (a second optimizer kept as a plain attribute silently never
advances there) and `.keras` files save all of them. `optimizer.iterations`
counts training steps; each phase optimizer counts its own updates.
"""

import keras

from keras_genmodels import backend as B
from keras_genmodels.models.base import (GenerativeModel, jit_compile_for_this_backend,
                                         portable_config, portable_jit_compile)


class Phase:
    """One phase of an adversarial step.

    Args:
        name: str. Key of this phase's optimizer in `compile(optimizers=...)`.
        variables: list of variables the phase updates.
        loss_fn: callable `(data, repeat_index) -> (loss, logs)`; `loss` is a
            scalar, `logs` a dict of scalars recorded into the model's
            metrics of the same names.
        repeat: int. Updates of this phase per training step. Defaults to 1.
    """

    def __init__(self, name, variables, loss_fn, repeat=1):
        if int(repeat) < 1:
            raise ValueError(
                f"Phase {name!r}: repeat must be >= 1, received {repeat}.")
        self.name = name
        self.variables = list(variables)
        self.loss_fn = loss_fn
        self.repeat = int(repeat)


class _PhaseRouter:
    """Maps each variable to its phase's optimizer (for `MultiOptimizer`)."""

    def __init__(self, optimizers, owner):
        self._optimizers = optimizers  # dict name -> optimizer, phase order
        self._owner = owner  # dict id(variable) -> phase name
        self.default_optimizer = next(iter(optimizers.values()))

    def values(self):
        return list(self._optimizers.values())

    def __call__(self, variable):
        name = self._owner.get(id(variable))
        return self.default_optimizer if name is None else self._optimizers[name]


class _StepPlan:
    """`(phase, optimizer, repeat indices)` of each phase of a step (a plain
    object, so Keras neither tracks nor saves what it holds)."""

    def __init__(self, phases, optimizers):
        self.entries = [(p, optimizers[p.name], tuple(range(p.repeat))) for p in phases]


class AdversarialModel(B.AdversarialTrainer, GenerativeModel):
    """Base class of models trained by alternating phases (every GAN).

    Subclasses set `log_names` (metric names their phases report), build
    their sub-networks from `keras.Input` in `__init__`, and implement
    `phases()`.

    Example:

    ```python
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(2e-4),
                              "generator": keras.optimizers.Adam(2e-4)})
    model.fit(dataset, epochs=10)
    model.phase_optimizers["discriminator"].iterations  # k per step
    ```
    """

    log_names = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._trackers = {n: keras.metrics.Mean(name=n) for n in self.log_names}

    @property
    def metrics(self):
        return list(self._trackers.values())

    def phases(self):
        """Return the list of `Phase`s run, in order, at each training step."""
        raise NotImplementedError

    def compile(self, optimizers=None, **kwargs):
        """Configure one optimizer per phase.

        Args:
            optimizers: dict mapping each phase name to a `keras.Optimizer`
                (or identifier such as `"adam"`). Defaults to Adam(2e-4,
                beta_1=0.5) for every phase (Radford et al. 2016).
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`,
                `steps_per_execution`).

        Speed: on TensorFlow and JAX pass `steps_per_execution=10` (or a
        divisor of `steps_per_epoch` when `fit` is given one; see
        `keras_genmodels.tasks.common.recommended_steps_per_execution`):
        the steps and results are the same, callbacks and logs come every
        10 steps. The torch trainer accepts only 1; `jit_compile=True`
        (torch.compile) did not make the step faster on CPU
        (`scripts/benchmarks/step_time.py`).
        """
        if "optimizer" in kwargs:
            raise TypeError(
                f"{type(self).__name__}.compile takes `optimizers` (one per "
                "phase, a dict), not `optimizer`.")
        phases = self.phases()
        names = [p.name for p in phases]
        if optimizers is None:
            optimizers = {n: keras.optimizers.Adam(2e-4, beta_1=0.5) for n in names}
        if not isinstance(optimizers, dict) or set(optimizers) != set(names):
            raise ValueError(
                f"optimizers must be a dict with keys {names}; received "
                f"{optimizers if not isinstance(optimizers, dict) else list(optimizers)}.")
        optimizers = {n: keras.optimizers.get(optimizers[n]) for n in names}
        if len({id(o) for o in optimizers.values()}) != len(optimizers):
            raise ValueError("Each phase needs its own optimizer instance.")
        owner = {}
        for phase in phases:
            for v in phase.variables:
                if id(v) in owner:
                    raise ValueError(
                        f"Variable {v.path} belongs to phases {owner[id(v)]!r} "
                        f"and {phase.name!r}; phases must not share variables.")
                owner[id(v)] = phase.name
        self._phase_optimizer_configs = {
            n: keras.saving.serialize_keras_object(o) for n, o in optimizers.items()}
        self._compile_kwargs = dict(kwargs)
        multi = keras.optimizers.MultiOptimizer(_PhaseRouter(optimizers, owner))
        super().compile(optimizer=multi, **kwargs)
        self._phase_optimizers = optimizers
        # The step's plan, fixed at compile as TF and JAX fix it when they trace
        # the step (torch runs eagerly and would otherwise rebuild it each step).
        self._phase_plan = _StepPlan(phases, optimizers)
        # Build now: the TF trainer would otherwise never build it.
        multi.build(self.trainable_variables)

    def evaluate(self, *args, **kwargs):
        """Not defined: an adversarial model has no single held-out loss.

        Keras's default `test_step` would silently report zeros (there is no
        compiled loss), so this raises before reading any data. Score a
        generator with its samples instead, e.g.
        `keras_genmodels.metrics.mode_coverage` or a classifier.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.evaluate() is not defined: an adversarial model "
            "has no single loss to evaluate (its phases' losses depend on each "
            "other's networks). Score samples instead: model.sample(n) with "
            "keras_genmodels.metrics.mode_coverage.mode_coverage, or a classifier.")

    test_on_batch = evaluate

    @property
    def phase_optimizers(self):
        """dict: phase name -> its optimizer (after `compile`)."""
        return self._phase_optimizers

    def get_compile_config(self):
        if not getattr(self, "_phase_optimizers", None):
            return {}
        config = keras.saving.serialize_keras_object(self._compile_kwargs)
        config["optimizers"] = portable_config(self._phase_optimizer_configs)
        # jit_compile only when given explicitly, with the backend it was given under.
        return portable_jit_compile(config, getattr(self, "_explicit_jit_compile", None))

    def compile_from_config(self, config):
        config = jit_compile_for_this_backend(dict(config))
        if config.get("jit_compile") == "auto":
            del config["jit_compile"]
        optimizers = {n: keras.saving.deserialize_keras_object(c)
                      for n, c in config.pop("optimizers").items()}
        config = keras.saving.deserialize_keras_object(config)
        self.compile(optimizers=optimizers, **config)

    @staticmethod
    def _replica_loss(phase, data, index):
        # Under tf.distribute each replica's gradient is summed by the
        # optimizer: differentiate this replica's share of the global-batch
        # loss (an identity on one device and under JAX). Logs stay unscaled.
        loss, logs = phase.loss_fn(data, index)
        return B.replica_share(loss), logs

    def run_phases(self, data):
        """One training step: every phase, each `repeat` times, in order.

        Written in stateful Keras style; the backend's `AdversarialTrainer`
        makes it run under each trainer (JAX: inside a StatelessScope). The
        phases are those `phases()` returned at `compile` (compile again
        after changing what they depend on, as for `trainable`).
        """
        plan = getattr(self, "_phase_plan", None)
        if plan is None:
            plan = _StepPlan(self.phases(), self._phase_optimizers)
        trackers = self._trackers
        for phase, optimizer, repeats in plan.entries:
            for i in repeats:
                _, logs, grads = B.value_and_grad(
                    lambda i=i, phase=phase: self._replica_loss(phase, data, i),
                    phase.variables)
                optimizer.apply(grads, phase.variables)
                for key, value in logs.items():
                    trackers[key].update_state(value)
        self.optimizer.iterations.assign_add(1)
        return {m.name: m.result() for m in self.metrics}
