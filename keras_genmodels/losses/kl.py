"""Gaussian KL divergence and per-sample log-likelihoods for VAEs, in `keras.ops`.

Every function returns one value per sample: it sums over all axes after the
batch axes it is told to keep (`reduce_axes`), so the result is in nats per
example, the unit in which VAE and IWAE likelihoods are reported.
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _sum_trailing(values, num_batch_axes):
    """Sums `values` over every axis after the first `num_batch_axes`."""
    axes = tuple(range(num_batch_axes, len(values.shape)))
    if not axes:
        return values
    return ops.sum(values, axis=axes)


def gaussian_kl(mean, log_var):
    """Analytic KL(N(mean, diag exp(log_var)) || N(0, I)), one value per row.

    For q = N(μ, diag σ²) and p = N(0, I) in d dimensions,

        KL(q || p) = ½ Σ_j (σ_j² + μ_j² − 1 − log σ_j²),

    which follows from E_q[log q] = −½ Σ_j (log 2π + log σ_j² + 1) and
    E_q[log p] = −½ Σ_j (log 2π + μ_j² + σ_j²).

    Args:
        mean: tensor. μ, shape `(..., latent_dim)`.
        log_var: tensor. log σ², same shape as `mean`.

    Returns:
        Tensor of shape `(...)`: the KL divergence in nats.

    Example:
    >>> from keras import ops
    >>> float(gaussian_kl(ops.zeros((1, 3)), ops.zeros((1, 3)))[0])
    0.0
    """
    mean = ops.convert_to_tensor(mean)
    log_var = ops.convert_to_tensor(log_var)
    return 0.5 * ops.sum(
        ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1
    )


def gaussian_log_prob(z, mean=None, log_var=None):
    """log N(z; mean, diag exp(log_var)), summed over the last axis.

        log N(z; μ, σ²) = −½ Σ_j (log 2π + log σ_j² + (z_j − μ_j)² / σ_j²).

    With `mean` and `log_var` left as `None` this is the standard normal prior
    log p(z) = −½ Σ_j (log 2π + z_j²). `mean`/`log_var` broadcast against `z`,
    so `z` of shape `(k, batch, d)` and statistics of shape `(batch, d)` give
    `(k, batch)`.

    Args:
        z: tensor. Points, shape `(..., latent_dim)`.
        mean: tensor or None. μ, broadcastable to `z`. Defaults to 0.
        log_var: tensor or None. log σ², broadcastable to `z`. Defaults to 0.

    Returns:
        Tensor of shape `z.shape[:-1]` in nats.
    """
    z = ops.convert_to_tensor(z)
    centred = z if mean is None else z - ops.convert_to_tensor(mean, z.dtype)
    if log_var is not None:
        log_var = ops.convert_to_tensor(log_var, z.dtype)
    if log_var is None:
        terms = LOG_2PI + ops.square(centred)
    else:
        terms = LOG_2PI + log_var + ops.square(centred) * ops.exp(-log_var)
    return -0.5 * ops.sum(terms, axis=-1)


def bernoulli_nll(x, logits, num_batch_axes=1):
    """Negative log-likelihood of `x` under independent Bernoulli(sigmoid(logits)).

    With p = sigmoid(ℓ),

        −log p(x | ℓ) = Σ_i [softplus(ℓ_i) − x_i ℓ_i]
                      = Σ_i −[x_i log p_i + (1 − x_i) log(1 − p_i)],

    the stable form of the binary cross-entropy summed over pixels. `x` may be
    grey levels in [0, 1] (the usual "continuous Bernoulli-free" practice);
    for binary `x` it is an exact log-likelihood.

    Args:
        x: tensor. Targets, e.g. `(batch, 28, 28, 1)` in [0, 1].
        logits: tensor. Decoder logits ℓ, broadcastable to `x` (e.g.
            `(k, batch, 28, 28, 1)` for k samples per image).
        num_batch_axes: int. Leading axes kept in the result. Defaults to 1.

    Returns:
        Tensor of shape `logits.shape[:num_batch_axes]` in nats.
    """
    x = ops.cast(ops.convert_to_tensor(x), logits.dtype)
    per_element = ops.softplus(logits) - x * logits
    return _sum_trailing(per_element, num_batch_axes)


def gaussian_nll(x, mean, log_var=0.0, num_batch_axes=1):
    """Negative log-likelihood of `x` under independent N(mean, exp(log_var)).

        −log p(x | μ, σ²) = ½ Σ_i (log 2π + log σ_i² + (x_i − μ_i)² / σ_i²).

    Args:
        x: tensor. Targets, e.g. `(batch, 28, 28, 1)`.
        mean: tensor. Decoder means, broadcastable to `x`.
        log_var: float or tensor. Observation log-variance, broadcastable to
            `mean` (a learned scalar, a fixed float, or per-pixel). Defaults
            to 0 (unit variance).
        num_batch_axes: int. Leading axes kept in the result. Defaults to 1.

    Returns:
        Tensor of shape `mean.shape[:num_batch_axes]` in nats.
    """
    x = ops.cast(ops.convert_to_tensor(x), mean.dtype)
    log_var = ops.cast(ops.convert_to_tensor(log_var), mean.dtype)
    per_element = 0.5 * (
        LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var)
    )
    per_element = per_element + ops.zeros_like(mean)
    return _sum_trailing(per_element, num_batch_axes)
