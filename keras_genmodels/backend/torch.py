"""PyTorch implementations: `torch.func` and `torch.autograd.grad`."""

import keras
import torch


def _leaf(x):
    return x if x.requires_grad else x.detach().requires_grad_(True)


def jvp(fn, x, v):
    return torch.func.jvp(fn, (x,), (v,))


def vjp(fn, x, u):
    # enable_grad: also usable under evaluate/predict, which run in no_grad.
    with torch.enable_grad():
        x = _leaf(x)
        y = fn(x)
        (g,) = torch.autograd.grad(y, x, grad_outputs=u, create_graph=True)
    return y, g


def batch_jacobian(fn, x):
    def one(xi):
        return fn(xi[None])[0]

    return torch.func.vmap(torch.func.jacrev(one))(x)


def input_gradient(fn, x):
    with torch.enable_grad():
        x = _leaf(x)
        y = fn(x)
        (g,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y),
                                   create_graph=True)
    return g


def value_and_grad(fn, variables):
    # `torch.autograd.grad` computes the gradients of `variables` only: the
    # other networks' weight gradients are never formed (backward() would
    # compute and accumulate them in `.grad`), and no `.grad` needs resetting.
    loss, aux = fn()
    grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    return loss.detach(), aux, list(grads)


class AdversarialTrainer:
    """`train_step(data)` for the torch trainer (eager)."""

    def train_step(self, data):
        return self.run_phases(data)


def is_symbolic(x):
    """True for a `keras.KerasTensor` or any tensor while `torch.compile` traces."""
    return isinstance(x, keras.KerasTensor) or torch.compiler.is_compiling()


def assert_in_range(x, low, high, message):
    """`x` unchanged: torch runs eagerly, so values were checked in Python."""
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
