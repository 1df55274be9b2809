"""Reconstruction losses, per sample: `(batch, *shape) -> (batch,)`."""

from keras import ops


def _flat(x):
    return ops.reshape(x, (ops.shape(x)[0], -1))


def mean_squared_error(x, x_hat):
    """`(1/D) * sum_i (x_i - x_hat_i)^2` over the D features of each sample."""
    return ops.mean(ops.square(_flat(x) - _flat(x_hat)), axis=-1)


def binary_crossentropy(x, x_hat, eps=1e-7):
    """`-(1/D) * sum_i [x_i log x_hat_i + (1 - x_i) log(1 - x_hat_i)]`.

    `x_hat` are probabilities (a sigmoid output), clipped to `[eps, 1-eps]`.
    """
    p = ops.clip(_flat(x_hat), eps, 1.0 - eps)
    x = _flat(x)
    return -ops.mean(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p), axis=-1)


RECONSTRUCTION_LOSSES = {"mse": mean_squared_error, "bce": binary_crossentropy}


def get(name):
    """Return the per-sample reconstruction loss called `name` ("mse"/"bce")."""
    if name not in RECONSTRUCTION_LOSSES:
        raise ValueError(
            f"Unknown reconstruction loss {name!r}; expected one of "
            f"{sorted(RECONSTRUCTION_LOSSES)}.")
    return RECONSTRUCTION_LOSSES[name]
