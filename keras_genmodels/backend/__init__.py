"""Backend-specific gradient code, chosen once at import.

Everything else in keras_genmodels is written in `keras.ops`. The few things
`keras.ops` cannot express -- derivatives with respect to an *input*, and a
training step with several losses and several optimizers -- live here, one
file per backend, selected from `keras.backend.backend()` exactly as Keras
selects its own Trainer class.

Public functions (identical signatures on every backend):

- `jvp(fn, x, v) -> (fn(x), J v)`: forward-mode product with the Jacobian
  `J = d fn(x) / d x`; `v` has the shape of `x`, `J v` the shape of `fn(x)`.
- `vjp(fn, x, u) -> (fn(x), u^T J)`: reverse-mode product; `u` has the shape
  of `fn(x)`, `u^T J` the shape of `x`.
- `batch_jacobian(fn, x) -> J`: per-sample Jacobian of a function whose
  samples are independent; `x` is `(batch, *in)`, `fn(x)` is `(batch, *out)`,
  `J` is `(batch, *out, *in)`.
- `input_gradient(fn, x) -> d sum(fn(x)) / d x`, shape of `x`.
- `value_and_grad(fn, variables) -> (loss, aux, grads)`: `fn()` returns
  `(loss, aux)`; gradients of `loss` with respect to `variables` only.
- `AdversarialTrainer`: mixin whose `train_step` runs a model's phases
  (see `keras_genmodels.models.adversarial`).
- `is_symbolic(x) -> bool`: True for a tensor with no value yet (a
  `keras.KerasTensor`, a tensor of a `tf.function` graph, a JAX tracer, a
  torch tensor under `torch.compile`); the input checks of
  `keras_genmodels.models.checks` let such tensors pass unchecked.
- `assert_in_range(x, low, high, message) -> x`: a run-time check, inside a
  traced graph, that the integers `x` lie in `[low, high)`. TensorFlow (so
  every exported SavedModel) adds `tf.debugging.Assert` ops that fail with
  `InvalidArgumentError: <message> ... received min, max`; JAX and torch
  return `x` unchanged (no assertion can stop a `jax.jit` computation; eager
  values are checked in Python before they get here).

All derivative helpers are differentiable with respect to the layer weights
used inside `fn`, so they may appear in a loss. `fn` must be free of state
updates (no BatchNorm statistics, no dropout noise) under JAX.
"""

import keras

name = keras.backend.backend()

if name == "tensorflow":
    from keras_genmodels.backend.tensorflow import (  # noqa: F401
        AdversarialTrainer, batch_jacobian, input_gradient, jvp,
        value_and_grad, vjp)
elif name == "jax":
    from keras_genmodels.backend.jax import (  # noqa: F401
        AdversarialTrainer, batch_jacobian, input_gradient, jvp,
        value_and_grad, vjp)
elif name == "torch":
    from keras_genmodels.backend.torch import (  # noqa: F401
        AdversarialTrainer, batch_jacobian, input_gradient, jvp,
        value_and_grad, vjp)
else:
    raise ImportError(
        "keras_genmodels supports the tensorflow, jax and torch backends; "
        f"received KERAS_BACKEND={name!r}."
    )

__all__ = ["AdversarialTrainer", "batch_jacobian", "input_gradient", "jvp",
           "name", "value_and_grad", "vjp"]

# Input-check helpers (used by keras_genmodels.models.checks and the export
# endpoints of the conditional models).
if name == "tensorflow":
    from keras_genmodels.backend.tensorflow import (  # noqa: F401,E402
        assert_in_range, is_symbolic)
elif name == "jax":
    from keras_genmodels.backend.jax import (  # noqa: F401,E402
        assert_in_range, is_symbolic)
else:
    from keras_genmodels.backend.torch import (  # noqa: F401,E402
        assert_in_range, is_symbolic)

# Data-parallel helpers (see `keras_genmodels.distribution`). Only
# TensorFlow's MirroredStrategy runs a step once per replica on that
# replica's share of the global batch; elsewhere these are identities.
# - `num_replicas() -> int`: replicas computing this step together.
# - `replica_share(loss, count=None)`: this replica's share of the global-batch
#   mean (the optimizer sums the replicas' gradients).
# - `replica_rows(x, axis=0)`: this replica's rows of a global-batch tensor
#   (noise drawn for the global batch, a chunk of the gathered batch).
# - `all_replica_rows(x)`: the global batch from every replica's rows.
if name == "tensorflow":
    from keras_genmodels.backend.tensorflow import (  # noqa: F401,E402
        all_replica_rows, num_replicas, replica_rows, replica_share)
elif name == "jax":
    from keras_genmodels.backend.jax import (  # noqa: F401,E402
        all_replica_rows, num_replicas, replica_rows, replica_share)
else:
    from keras_genmodels.backend.torch import (  # noqa: F401,E402
        all_replica_rows, num_replicas, replica_rows, replica_share)


def replica_noise(draw, shape, axis=0):
    """Noise of `shape` (this replica's rows along `axis`) that is exactly the
    replica's part of the noise one device would draw for the global batch:
    draws `draw(global_shape)` and keeps this replica's rows. `draw` is e.g.
    `lambda s: keras.random.normal(s, seed=seed_generator)`."""
    n = num_replicas()
    if n == 1:
        return draw(shape)
    shape = list(shape)
    shape[axis] = shape[axis] * n
    return replica_rows(draw(tuple(shape)), axis=axis)
