"""Regularisation penalties of autoencoders, in `keras.ops`.

- Sparsity: `bernoulli_kl`, `kl_sparsity` (KL between a target activation
  rate ρ and each code unit's mean activation ρ̂_j), `l1_activity`.
- Contraction, ‖J(x)‖²_F with `J = ∂h/∂x` the encoder's Jacobian, one value
  per sample: `contractive_closed_form` (one sigmoid layer),
  `jacobian_frobenius_exact` (any encoder, full Jacobian) and
  `jacobian_frobenius_estimate` (any encoder, random projections).

Derivatives with respect to the *input* come from `keras_genmodels.backend`
(`jvp`, `vjp`, `batch_jacobian`); they are differentiable with respect to the
encoder's weights, so every penalty here can sit in a training loss.
"""

import keras
from keras import ops

from keras_genmodels import backend as B

PROJECTION_MODES = ("jvp", "vjp")
PROJECTION_DISTRIBUTIONS = ("gaussian", "rademacher")


def _flat(x):
    return ops.reshape(x, (ops.shape(x)[0], -1))


def bernoulli_kl(rho, rho_hat, eps=1e-7):
    """KL(Bernoulli(ρ) ‖ Bernoulli(ρ̂)), elementwise.

        KL(ρ ‖ ρ̂) = ρ log(ρ / ρ̂) + (1 − ρ) log((1 − ρ) / (1 − ρ̂)).

    It is 0 at ρ̂ = ρ and grows without bound as ρ̂ → 0 or 1; `rho_hat` is
    clipped to `[eps, 1 − eps]`.

    Args:
        rho: float in (0, 1). Target rate ρ.
        rho_hat: tensor of rates ρ̂ in [0, 1], any shape.
        eps: float. Clipping margin. Defaults to `1e-7`.

    Returns:
        Tensor of the shape of `rho_hat`, in nats.
    """
    rho_hat = ops.clip(ops.convert_to_tensor(rho_hat), eps, 1.0 - eps)
    return (rho * ops.log(rho / rho_hat)
            + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat)))


def kl_sparsity(code, target=0.05):
    """Sparsity penalty Σ_j KL(ρ ‖ ρ̂_j) of a sigmoid code (Ng, UFLDL).

    ρ̂_j = (1/m) Σ_b h_bj is the mean activation of code unit j over the m
    samples of the batch; the penalty pushes every unit to be active (≈ 1)
    on a fraction ρ of the inputs only.

    Args:
        code: tensor `(batch, code_size)` with values in [0, 1].
        target: float in (0, 1). ρ. Defaults to `0.05`.

    Returns:
        Scalar tensor (nats, summed over units).
    """
    rho_hat = ops.mean(ops.convert_to_tensor(code), axis=0)
    return ops.sum(bernoulli_kl(target, rho_hat))


def l1_activity(code):
    """L1 activity per sample, Σ_j |h_bj|: `(batch, code_size) -> (batch,)`."""
    return ops.sum(ops.abs(_flat(ops.convert_to_tensor(code))), axis=-1)


def contractive_closed_form(code, kernel):
    """‖∂h/∂x‖²_F of a one-layer sigmoid encoder h = σ(xW + b), per sample.

    With a_j = Σ_i x_i W_ij + b_j and h_j = σ(a_j), ∂h_j/∂x_i = h_j(1 − h_j) W_ij,
    so

        ‖J(x)‖²_F = Σ_j Σ_i (h_j(1 − h_j))² W_ij² = Σ_j (h_j(1 − h_j))² ‖W_:j‖²

    costs O(code_size) per sample once the column norms ‖W_:j‖² are known
    (Rifai et al., 2011, eq. 6). Only the code h and W are needed: no
    derivative with respect to x is taken.

    Args:
        code: tensor `(batch, code_size)`, h = σ(xW + b).
        kernel: tensor `(input_dim, code_size)`, W.

    Returns:
        Tensor `(batch,)`.
    """
    code = ops.convert_to_tensor(code)
    column_norms = ops.sum(ops.square(kernel), axis=0)  # (code_size,)
    slope = code * (1.0 - code)
    return ops.sum(ops.square(slope) * column_norms, axis=-1)


def jacobian_frobenius_exact(fn, x):
    """‖∂fn(x)_b/∂x_b‖²_F per sample, from the full per-sample Jacobian.

    `J_b` has shape `(*out, *in)` (from `backend.batch_jacobian`), and
    ‖J_b‖²_F = Σ_{o, i} (J_b)_{oi}². Exact for any encoder, but it takes one
    backward pass per output unit: 25–90× a plain training step.

    Args:
        fn: callable `(batch, *in) -> (batch, *out)`, samples independent and
            deterministic (no dropout noise).
        x: tensor `(batch, *in)`.

    Returns:
        Tensor `(batch,)`.
    """
    jac = B.batch_jacobian(fn, ops.convert_to_tensor(x))
    return ops.sum(ops.square(_flat(jac)), axis=-1)


def _projections(shape, distribution, seed, dtype):
    if distribution == "gaussian":
        return keras.random.normal(shape, dtype=dtype, seed=seed)
    signs = keras.random.uniform(shape, dtype=dtype, seed=seed) < 0.5
    return ops.where(signs, ops.ones(shape, dtype), -ops.ones(shape, dtype))


def jacobian_frobenius_estimate(fn, x, num_projections=1, mode="vjp",
                                seed=None, code_shape=None,
                                distribution="gaussian"):
    """Unbiased random-projection estimate of ‖∂fn(x)_b/∂x_b‖²_F per sample.

    For a random vector v with E[v vᵀ] = I (standard normal or Rademacher),

        E_v ‖J v‖² = E_v vᵀ JᵀJ v = tr(JᵀJ) = ‖J‖²_F          (mode="jvp")

    with v in input space and J v a forward-mode product, and likewise
    E_u ‖uᵀ J‖² = tr(J Jᵀ) = ‖J‖²_F with u in code space and uᵀJ a
    reverse-mode product (mode="vjp"). Averaging m independent projections
    keeps the estimate unbiased and divides its variance by m. Each
    projection costs about one extra encoder forward and backward pass; the
    m projections run as one batch of `m * batch` rows.

    Args:
        fn: callable `(batch, *in) -> (batch, *out)`, samples independent and
            deterministic (no dropout noise).
        x: tensor `(batch, *in)`.
        num_projections: int ≥ 1. m. Defaults to 1.
        mode: str. `"vjp"` (u in code space) or `"jvp"` (v in input space).
            Defaults to `"vjp"`.
        seed: `keras.random.SeedGenerator`, int or None. Source of the
            projections.
        code_shape: tuple. `fn`'s output shape without the batch axis;
            needed for `mode="vjp"`.
        distribution: str. `"gaussian"` or `"rademacher"` projections
            (Rademacher has lower variance). Defaults to `"gaussian"`.

    Returns:
        Tensor `(batch,)`.

    References:
        Hutchinson, "A stochastic estimator of the trace of the influence
        matrix for Laplacian smoothing splines", 1990.
    """
    if mode not in PROJECTION_MODES:
        raise ValueError(f"mode must be one of {PROJECTION_MODES}; received {mode!r}.")
    if distribution not in PROJECTION_DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {PROJECTION_DISTRIBUTIONS}; "
                         f"received {distribution!r}.")
    if int(num_projections) != num_projections or num_projections < 1:
        raise ValueError(
            f"num_projections must be a positive int; received {num_projections!r}.")
    x = ops.convert_to_tensor(x)
    batch = ops.shape(x)[0]
    m = int(num_projections)
    if m > 1:  # m copies of the batch: one product computes all projections
        x = ops.tile(x, (m,) + (1,) * (len(x.shape) - 1))
    rows = ops.shape(x)[0]
    # Under tf.distribute each replica takes its rows of the projections one
    # device draws for the global batch, seen as (m, batch, ...) (identity else).
    def draw(shape):
        if B.num_replicas() == 1:
            return _projections(shape, distribution, seed, x.dtype)
        flat = (m * batch,) + tuple(shape[1:])
        noise = B.replica_noise(
            lambda s: _projections(s, distribution, seed, x.dtype),
            (m, batch) + tuple(shape[1:]), axis=1)
        return ops.reshape(noise, flat)

    if mode == "jvp":
        v = draw(ops.shape(x))
        _, product = B.jvp(fn, x, v)
    else:
        if code_shape is None:
            raise ValueError("mode='vjp' needs code_shape (fn's output shape "
                             "without the batch axis); received None.")
        u = draw((rows,) + tuple(code_shape))
        _, product = B.vjp(fn, x, u)
    squares = ops.sum(ops.square(_flat(product)), axis=-1)  # (m * batch,)
    if m > 1:
        squares = ops.mean(ops.reshape(squares, (m, batch)), axis=0)
    return squares
