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
