"""Regularised autoencoders: sparse, denoising and contractive.

Each is an `Autoencoder` that overrides one of its two hooks -- `penalties`
(a term added to the loss) or `corrupt` (the encoder's input during
training) -- and renames the logged `penalty` metric after its term.
Everything else (architectures, dropout, `fit` on (input, target) pairs,
save/load, the `encode`/`decode`/`reconstruct` export) is the Autoencoder's.
"""

import keras
from keras import ops

from keras_genmodels.layers.corruption import Corruption, check_corruption
from keras_genmodels.losses import penalties as P
from keras_genmodels.models import checks
from keras_genmodels.models.autoencoder import Autoencoder


def _rename_penalty_metric(model, name):
    # Autoencoder.compute_loss logs the sum of the penalties through
    # `self.penalty_tracker`, and `metrics` lists it: replacing the tracker
    # renames the logged value without touching call or compute_loss.
    model.penalty_tracker = keras.metrics.Mean(name=name)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class SparseAutoencoder(Autoencoder):
    """Autoencoder with a sparsity penalty on its code.

    `sparsity="kl"` (Ng's sparse autoencoder): with a sigmoid code h and
    ρ̂_j = (1/m) Σ_b h_bj the mean activation of unit j over a batch of m,

        loss = L_rec + β Σ_j KL(ρ ‖ ρ̂_j),
        KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂)),

    which drives every unit's average activation to ρ (each unit fires on
    a small fraction ρ of the inputs). `sparsity="l1"`: loss = L_rec +
    β (1/m) Σ_b Σ_j |h_bj| (an L1 activity penalty, any code activation).
    The penalty is logged as the `sparsity` metric.

    Shapes: inputs `(batch, *input_shape)`, codes `(batch, code_size)`.

    Args:
        input_shape: tuple. Shape of one sample.
        code_size: int. Number of code units (often overcomplete).
        sparsity: str. `"kl"` or `"l1"`. Defaults to `"kl"`.
        sparsity_target: float in (0, 1). ρ (KL only). Defaults to 0.05.
        sparsity_weight: float or None. β; None picks 3.0 for `"kl"` and
            1e-3 for `"l1"`.
        code_activation: str or None. Must be `"sigmoid"` for `"kl"`.
            Defaults to `"sigmoid"`.
        **kwargs: every other `Autoencoder` argument (`architecture`,
            `hidden_units`, `dropout`, `reconstruction_loss`, ...).

    Example:

    ```python
    sae = SparseAutoencoder((8, 8, 1), code_size=64, sparsity_target=0.05)
    sae.compile(optimizer="adam")
    sae.fit(x_train, epochs=50)      # logs loss, reconstruction, sparsity
    rho_hat = sae.encode(x_test).mean(axis=0)    # ≈ 0.05 per unit
    ```

    References:
        Ng, "Sparse autoencoder", CS294A lecture notes (UFLDL), 2011.
        Goodfellow, Bengio & Courville, "Deep Learning", §14.2.1 (2016).
    """

    DEFAULT_WEIGHTS = {"kl": 3.0, "l1": 1e-3}

    def __init__(self, input_shape, code_size, sparsity="kl",
                 sparsity_target=0.05, sparsity_weight=None,
                 code_activation="sigmoid", **kwargs):
        checks.choice("sparsity", sparsity, tuple(self.DEFAULT_WEIGHTS))
        if sparsity == "kl" and code_activation != "sigmoid":
            raise ValueError(
                "sparsity='kl' needs code_activation='sigmoid' (activations "
                f"in [0, 1]); received {code_activation!r}.")
        checks.number("sparsity_target", sparsity_target, 0.0, 1.0,
                      include_minimum=False, include_maximum=False)
        if sparsity_weight is None:
            sparsity_weight = self.DEFAULT_WEIGHTS[sparsity]
        checks.number("sparsity_weight", sparsity_weight, 0.0)
        super().__init__(input_shape, code_size,
                         code_activation=code_activation, **kwargs)
        _rename_penalty_metric(self, "sparsity")
        self.sparsity = sparsity
        self.sparsity_target = float(sparsity_target)
        self.sparsity_weight = float(sparsity_weight)

    def penalties(self, x, code, training=False):
        if self.sparsity == "kl":
            term = P.kl_sparsity(code, self.sparsity_target)
        else:
            term = ops.mean(P.l1_activity(code))
        return [self.sparsity_weight * term]

    def get_config(self):
        config = super().get_config()
        config.update(sparsity=self.sparsity,
                      sparsity_target=self.sparsity_target,
                      sparsity_weight=self.sparsity_weight)
        return config


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DenoisingAutoencoder(Autoencoder):
    """Autoencoder that reconstructs clean inputs from corrupted ones.

    During training the encoder sees x̃ ~ q(x̃ | x) and the loss compares
    the reconstruction with the *clean* x:

        h = f(x̃),  x̂ = g(h),  loss = E_{x, x̃} L(x, g(f(x̃))).

    Corruptions (`keras_genmodels.layers.Corruption`): additive Gaussian
    noise (clipped to `value_range`), masking (a fraction `noise_level` of
    the inputs set to 0) and salt-and-pepper. They act only in training
    (`encode`/`reconstruct` and exports see clean inputs) and are drawn
    from the layer's `SeedGenerator`, so a fixed `seed` repeats runs. With
    `corruption=None` the model corrupts nothing itself: feed it
    `(x̃, x)` pairs, e.g. from `layers.corruption.corruption_map`.

    Shapes: inputs `(batch, *input_shape)`, codes `(batch, code_size)`.

    Args:
        input_shape: tuple. Shape of one sample.
        code_size: int.
        corruption: str or None. `"gaussian"`, `"masking"`,
            `"salt_and_pepper"` or None. Defaults to `"gaussian"`.
        noise_level: float. Gaussian stddev or corruption probability.
            Defaults to 0.5.
        value_range: `(lo, hi)` or None. Defaults to `(0.0, 1.0)`.
        seed: int or None. Seed of the corruption noise. Defaults to None.
        **kwargs: every other `Autoencoder` argument.

    Example:

    ```python
    dae = DenoisingAutoencoder((28, 28, 1), 64, corruption="gaussian",
                               noise_level=0.5, seed=0)
    dae.compile(optimizer="adam")
    dae.fit(x_train, epochs=10)
    clean = dae.reconstruct(noisy_x)
    ```

    References:
        Vincent et al., "Extracting and composing robust features with
        denoising autoencoders", ICML 2008; "Stacked denoising
        autoencoders", JMLR 2010.
    """

    def __init__(self, input_shape, code_size, corruption="gaussian",
                 noise_level=0.5, value_range=(0.0, 1.0), seed=None, **kwargs):
        if corruption is not None:
            check_corruption(corruption, noise_level)
        super().__init__(input_shape, code_size, **kwargs)
        self.corruption = corruption
        self.noise_level = float(noise_level)
        self.value_range = None if value_range is None else tuple(
            float(v) for v in value_range)
        self.seed = seed
        self.corruption_layer = None if corruption is None else Corruption(
            corruption, noise_level, self.value_range, seed=seed,
            name="corruption")

    def corrupt(self, x, training=False):
        if self.corruption_layer is None:
            return x
        return self.corruption_layer(x, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(corruption=self.corruption, noise_level=self.noise_level,
                      value_range=self.value_range, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="keras_genmodels")
class ContractiveAutoencoder(Autoencoder):
    """Autoencoder penalising the encoder's sensitivity to its input.

        loss = L_rec + λ (1/m) Σ_b ‖J(x_b)‖²_F,   J(x) = ∂h/∂x,

    so the code is locally invariant along directions the data does not
    vary in. ‖J‖²_F per sample is computed by `jacobian`:

    - `"closed_form"`: one-layer sigmoid encoder h = σ(xW + b) only,
      Σ_j (h_j(1 − h_j))² Σ_i W_ij² (no input derivative at all).
    - `"exact"`: the full per-sample Jacobian (`backend.batch_jacobian`);
      any encoder, but 25–90× the cost of a plain step.
    - `"vjp"` / `"jvp"`: the unbiased estimate (1/k) Σ_k ‖u_kᵀJ‖² (or
      ‖J v_k‖²) with k = `num_projections` random projections; any encoder,
      about the cost of one extra encoder pass per projection.
    - `"auto"` (default): `"closed_form"` when the encoder is one sigmoid
      layer (`architecture="dense"`, `hidden_units=()`,
      `code_activation="sigmoid"`), else `"vjp"`.

    The Jacobian is that of the encoder in inference mode (no dropout
    noise). The penalty is logged as the `contraction` metric; except for
    the closed form it is computed in training only (`evaluate` then
    reports the reconstruction loss alone).

    Shapes: inputs `(batch, *input_shape)`, codes `(batch, code_size)`.

    Args:
        input_shape: tuple. Shape of one sample.
        code_size: int.
        contractive_weight: float. λ, relative to the per-pixel mean
            reconstruction loss. Defaults to 1e-3.
        jacobian: str. `"auto"`, `"closed_form"`, `"exact"`, `"vjp"` or
            `"jvp"`. Defaults to `"auto"`.
        num_projections: int. Projections of the estimate. Defaults to 1.
        projection_distribution: str. `"gaussian"` or `"rademacher"`.
            Defaults to `"gaussian"`.
        seed: int or None. Seed of the projections. Defaults to None.
        code_activation: str or None. Defaults to None (a linear code, as
            in `Autoencoder`; a sigmoid code after a ReLU hidden layer
            saturates on MNIST-sized inputs and learns nothing). Pass
            `"sigmoid"` with `hidden_units=()` for the classic CAE.
        **kwargs: every other `Autoencoder` argument.

    Example:

    ```python
    cae = ContractiveAutoencoder((784,), 128, hidden_units=(),
                                 code_activation="sigmoid")   # closed form
    cae.compile(optimizer="adam")
    cae.fit(x_train, epochs=10)
    jac = cae.contraction(x_test, method="exact")   # (batch,) ‖J‖²_F
    ```

    References:
        Rifai, Vincent, Muller, Glorot & Bengio, "Contractive
        auto-encoders: explicit invariance during feature extraction",
        ICML 2011.
    """

    JACOBIANS = ("auto", "closed_form", "exact", "vjp", "jvp")

    def __init__(self, input_shape, code_size, contractive_weight=1e-3,
                 jacobian="auto", num_projections=1,
                 projection_distribution="gaussian", seed=None,
                 code_activation=None, **kwargs):
        checks.choice("jacobian", jacobian, self.JACOBIANS)
        num_projections = checks.integer("num_projections", num_projections)
        checks.choice("projection_distribution", projection_distribution,
                      P.PROJECTION_DISTRIBUTIONS)
        checks.number("contractive_weight", contractive_weight, 0.0)
        super().__init__(input_shape, code_size,
                         code_activation=code_activation, **kwargs)
        one_sigmoid_layer = (self.architecture == "dense" and not self.hidden_units
                             and code_activation == "sigmoid")
        if jacobian == "closed_form" and not one_sigmoid_layer:
            raise ValueError(
                "jacobian='closed_form' needs a one-layer sigmoid encoder "
                "(architecture='dense', hidden_units=(), code_activation="
                f"'sigmoid'); received architecture={self.architecture!r}, "
                f"hidden_units={self.hidden_units}, code_activation={code_activation!r}.")
        _rename_penalty_metric(self, "contraction")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.contractive_weight = float(contractive_weight)
        self.jacobian = jacobian
        self.method = jacobian if jacobian != "auto" else (
            "closed_form" if one_sigmoid_layer else "vjp")
        self.num_projections = int(num_projections)
        self.projection_distribution = projection_distribution
        self.seed = seed

    def _encoder_fn(self, x):
        return self.encoder(x, training=False)

    def contraction(self, x, code=None, method=None, num_projections=None):
        """‖∂h/∂x‖²_F per sample: `(batch, *input_shape) -> (batch,)`.

        Args:
            x: tensor `(batch, *input_shape)`.
            code: tensor or None. `encode(x)`, if already computed (used by
                the closed form).
            method: str or None. `"closed_form"`, `"exact"`, `"vjp"` or
                `"jvp"`; defaults to the model's method.
            num_projections: int or None. Defaults to the model's.
        """
        method = self.method if method is None else method
        checks.choice("method", method, self.JACOBIANS[1:])
        if num_projections is not None:
            num_projections = checks.integer("num_projections", num_projections)
        x = self._check_x(x, "contraction")
        if code is not None:
            code = checks.codes(code, f"{type(self).__name__}.contraction",
                                self.code_size, name="code")
        return self._contraction(x, code, method, num_projections)

    def _contraction(self, x, code=None, method=None, num_projections=None):
        method = self.method if method is None else method
        x = ops.convert_to_tensor(x)
        if method == "closed_form":
            if code is None:
                code = self._encoder_fn(x)
            return P.contractive_closed_form(code, self.encoder.layers[-1].kernel)
        if method == "exact":
            return P.jacobian_frobenius_exact(self._encoder_fn, x)
        if method in P.PROJECTION_MODES:
            return P.jacobian_frobenius_estimate(
                self._encoder_fn, x,
                num_projections=num_projections or self.num_projections,
                mode=method, seed=self.seed_generator,
                code_shape=(self.code_size,),
                distribution=self.projection_distribution)
        raise ValueError(f"method must be one of {self.JACOBIANS[1:]}; received {method!r}.")

    def penalties(self, x, code, training=False):
        # The Jacobian estimates need input derivatives (unavailable under
        # torch's no_grad inference) and cost extra passes: they are
        # training-only terms. The closed form is cheap and always added.
        if not self.contractive_weight or (
                not training and self.method != "closed_form"):
            return []
        # The closed form reuses the code of the forward pass (a one-layer
        # encoder has no dropout, so it equals the inference-mode code).
        return [self.contractive_weight * ops.mean(self._contraction(x, code))]

    def get_config(self):
        config = super().get_config()
        config.update(contractive_weight=self.contractive_weight,
                      jacobian=self.jacobian,
                      num_projections=self.num_projections,
                      projection_distribution=self.projection_distribution,
                      seed=self.seed)
        return config
