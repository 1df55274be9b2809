"""JAX implementations: `jax.jvp`, `jax.vjp`, `vmap(jacrev)`, and the
stateless plumbing that lets a stateful-style step run inside `jax.jit`.

The JAX trainer calls `train_step(state, data)` with the values of every
variable and expects the *new* values back. The step below maps every
variable to its traced value in a `keras.StatelessScope`, runs the model's
phases written in ordinary stateful Keras style (assignments are recorded
by the scope), and reads the new values out of the scope. Gradients are
taken by `jax.value_and_grad` of a function that reopens an inner scope.
"""

import jax
import jax.numpy as jnp
import keras


def jvp(fn, x, v):
    return jax.jvp(fn, (x,), (v,))


def vjp(fn, x, u):
    y, pullback = jax.vjp(fn, x)
    return y, pullback(u)[0]


def batch_jacobian(fn, x):
    def one(xi):
        return fn(xi[None])[0]

    return jax.vmap(jax.jacrev(one))(x)


def input_gradient(fn, x):
    return jax.grad(lambda x_: jnp.sum(fn(x_)))(x)


def _current(scope, variable):
    value = scope.get_current_value(variable)
    return variable.value if value is None else value


def value_and_grad(fn, variables):
    """Gradient of `fn()[0]` w.r.t. `variables`, inside an outer scope.

    Other model variables (non-trainable ones, seed-generator states, the
    other phases' weights) keep their current traced values; updates made to
    them inside `fn` leave through `has_aux` and are re-assigned in the outer
    scope, so nothing leaks out of the transformation.
    """
    outer, model_vars = _outer()
    targets = {id(v) for v in variables}
    others = [v for v in model_vars if id(v) not in targets]
    other_values = [_current(outer, v) for v in others]

    def pure(values):
        mapping = list(zip(variables, values)) + list(zip(others, other_values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, aux = fn()
        updated = [_current(scope, v) for v in others]
        return loss, (aux, updated)

    (loss, (aux, updated)), grads = jax.value_and_grad(pure, has_aux=True)(
        [_current(outer, v) for v in variables])
    for v, new in zip(others, updated):
        v.assign(new)
    return loss, aux, grads


# (scope, model variables) of the training step now running.
_SCOPE_STACK = []


def _outer():
    if not _SCOPE_STACK:
        raise RuntimeError(
            "value_and_grad under JAX must run inside AdversarialTrainer."
            "train_step (it needs the step's StatelessScope).")
    return _SCOPE_STACK[-1]


class AdversarialTrainer:
    """`train_step(state, data) -> (logs, new_state)` for the JAX trainer."""

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        groups = [
            (self.trainable_variables, trainable),
            (self.non_trainable_variables, non_trainable),
            (self.optimizer.variables, optimizer_vars),
            (self.metrics_variables, metrics_vars),
        ]
        mapping = [pair for vs, vals in groups for pair in zip(vs, vals)]
        model_vars = self.trainable_variables + self.non_trainable_variables
        with keras.StatelessScope(state_mapping=mapping) as scope:
            _SCOPE_STACK.append((scope, model_vars))
            try:
                logs = self.run_phases(data)
            finally:
                _SCOPE_STACK.pop()
        new_state = tuple([_current(scope, v) for v in vs] for vs, _ in groups)
        return logs, new_state


def is_symbolic(x):
    """True for a `keras.KerasTensor` or a JAX tracer (inside `jax.jit`)."""
    return isinstance(x, (keras.KerasTensor, jax.core.Tracer))


def assert_in_range(x, low, high, message):
    """`x` unchanged: nothing can stop a `jax.jit` computation with an error."""
    return x


# --- data parallelism: identities here (JAX's DataParallel runs one global
# program over the whole batch; torch has no Keras distribution support).


def num_replicas():
    return 1


def replica_share(loss, count=None):
    return loss


def replica_rows(x, axis=0):
    return x


def all_replica_rows(x):
    return x
