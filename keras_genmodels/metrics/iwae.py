"""Importance-weighted estimates of log p(x) for latent-variable models.

For a model with posterior q(z|x), prior p(z) and likelihood p(x|z),

    log p̂_k(x) = log (1/k) Σ_{i=1..k} w_i,   w_i = p(x|z_i) p(z_i) / q(z_i|x),
    z_i ~ q(z|x),

is the IWAE bound L_k (Burda et al. 2016): E[L_1] is the ELBO,
E[L_k] ≤ E[L_{k+1}] ≤ log p(x), and L_k → log p(x) as k → ∞. The standard
test log-likelihood of a VAE is L_5000. The mean is taken in log space with
a log-sum-exp, log Σ_i exp(a_i) = m + log Σ_i exp(a_i − m) with m = max_i a_i,
so w_i ≈ e^{−100} never underflows. Samples are drawn in chunks and each
chunk is reduced to one log-sum-exp before the next is drawn, so memory is
bounded by `max_rows` decoded images whatever k is.

The model protocol: `model.log_importance_weights(x, labels, num_samples,
seed) -> (num_samples, batch)` tensor of log w (as `keras_genmodels.models.vae.VAE`).
"""

import math

import keras
import numpy as np
from keras import ops

from keras_genmodels.losses.kl import gaussian_kl


def _batches(n, batch_size):
    for start in range(0, n, batch_size):
        yield slice(start, min(n, start + batch_size))


def iwae_log_likelihood(
    model, x, labels=None, k=5000, batch_size=100, max_rows=16384, seed=0
):
    """Per-example IWAE estimate log p̂_k(x) in nats (see module docstring).

    Args:
        model: a model with `log_importance_weights` (e.g. a `VAE`).
        x: array `(n, *image_shape)`.
        labels: int array `(n,)` for conditional models, else None.
        k: int. Importance samples per example. Defaults to `5000`.
        batch_size: int. Examples per pass. Defaults to `100`.
        max_rows: int. Upper bound on decoded images held at once
            (chunk size = max(1, max_rows // batch_size) samples).
            Defaults to `16384`.
        seed: int. Seed of the importance samples. Defaults to `0`.

    Returns:
        numpy float64 array `(n,)`; its mean is the usual "test log-likelihood"
        (the NLL is minus that).

    Example:
    ```python
    log_px = iwae_log_likelihood(vae, x_test, k=5000)
    print("test NLL", -log_px.mean())
    ```

    References:
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
        ICLR 2016, eq. (8) and §5.
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"expected k >= 1, received {k}")
    x = np.asarray(x, dtype="float32")
    if labels is not None:
        labels = np.asarray(labels, dtype="int32").reshape(-1)
        if labels.shape[0] != x.shape[0]:
            raise ValueError(
                f"expected {x.shape[0]} labels, received {labels.shape[0]}"
            )
    generator = keras.random.SeedGenerator(seed)
    results = []
    for rows in _batches(x.shape[0], int(batch_size)):
        xb = x[rows]
        lb = None if labels is None else labels[rows]
        chunk = max(1, int(max_rows) // xb.shape[0])
        partial = []
        done = 0
        while done < k:
            c = min(chunk, k - done)
            log_w = model.log_importance_weights(xb, lb, c, seed=generator)
            partial.append(ops.logsumexp(log_w, axis=0))
            done += c
        total = ops.logsumexp(ops.stack(partial, axis=0), axis=0)
        results.append(ops.convert_to_numpy(total).astype("float64") - math.log(k))
    return np.concatenate(results)


def elbo(model, x, labels=None, num_samples=100, max_rows=16384, seed=0):
    """Per-example ELBO with the analytic KL, in nats.

        ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)),

    the reconstruction expectation estimated with `num_samples` samples,
    drawn in chunks of at most `max_rows // len(x)` samples (like
    `iwae_log_likelihood`). This is the quantity `VAE` training maximises
    (with β = 1); by Jensen it is at most log p(x) and, in expectation, at
    most every IWAE_k estimate.

    Args:
        model: a `VAE` (uses `encode`, `decoder_output`, `reconstruction_nll`).
        x: array `(n, *image_shape)`.
        labels: int array `(n,)` for conditional models, else None.
        num_samples: int. Samples of z per example. Defaults to `100`.
        max_rows: int. Upper bound on decoded images held at once.
        seed: int. Defaults to `0`.

    Returns:
        numpy float64 array `(n,)`.
    """
    x = ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    generator = keras.random.SeedGenerator(seed)
    mean, log_var = model.encode(x, labels)
    n = int(x.shape[0])
    chunk = max(1, int(max_rows) // n)
    total, done = 0.0, 0
    while done < num_samples:
        c = min(chunk, int(num_samples) - done)
        eps = keras.random.normal((c,) + tuple(ops.shape(mean)), seed=generator)
        z = mean + ops.exp(0.5 * log_var) * eps
        flat_labels = None
        if labels is not None:
            flat_labels = ops.tile(ops.convert_to_tensor(labels, "int32"), (c,))
        out = model.decoder_output(ops.reshape(z, (-1, model.latent_dim)), flat_labels)
        out = ops.reshape(out, (c, -1) + tuple(model.image_shape))
        nll = model.reconstruction_nll(ops.expand_dims(x, 0), out, 2)
        total = total + ops.convert_to_numpy(ops.sum(nll, axis=0)).astype("float64")
        done += c
    kl = ops.convert_to_numpy(gaussian_kl(mean, log_var)).astype("float64")
    return -total / int(num_samples) - kl
