"""Variational autoencoder (β-VAE, IWAE objective, conditional VAE)."""

import math

import keras
import numpy as np
from keras import ops

from keras_genmodels import backend as B
from keras_genmodels import networks
from keras_genmodels.layers.sampling import GaussianSampling
from keras_genmodels.losses.kl import bernoulli_nll
from keras_genmodels.losses.kl import gaussian_kl
from keras_genmodels.losses.kl import gaussian_log_prob
from keras_genmodels.losses.kl import gaussian_nll
from keras_genmodels.models import checks
from keras_genmodels.models.base import GenerativeModel

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHITECTURES = ("dense", "conv")


def interpolate_latents(z1, z2, steps, method="linear"):
    """Points between latent codes `z1` and `z2`, endpoints included.

    Linear: z(t) = (1 − t) z1 + t z2. Spherical (slerp, Shoemake 1985;
    White 2016 for generative models): with cos ω = ⟨z1, z2⟩ / (‖z1‖ ‖z2‖),

        z(t) = sin((1 − t) ω) / sin ω · z1 + sin(t ω) / sin ω · z2,

    which keeps the norm typical of N(0, I) samples; it falls back to the
    linear path when z1 and z2 are (anti)parallel (sin ω ≈ 0).

    Args:
        z1: tensor. `(batch, latent_dim)`.
        z2: tensor. `(batch, latent_dim)`.
        steps: int. Number of points, ≥ 2.
        method: str. `"linear"` or `"spherical"`.

    Returns:
        Tensor `(batch, steps, latent_dim)`.
    """
    if method not in ("linear", "spherical"):
        raise ValueError(
            "expected method 'linear' or 'spherical', received "
            f"{method!r}"
        )
    steps = checks.integer("steps", steps, 2)
    z1 = ops.expand_dims(ops.convert_to_tensor(z1, "float32"), 1)
    z2 = ops.expand_dims(ops.convert_to_tensor(z2, "float32"), 1)
    t = ops.reshape(ops.linspace(0.0, 1.0, int(steps)), (1, -1, 1))
    linear = (1.0 - t) * z1 + t * z2
    if method == "linear":
        return linear
    norms = ops.norm(z1, axis=-1, keepdims=True) * ops.norm(
        z2, axis=-1, keepdims=True
    )
    cos = ops.sum(z1 * z2, axis=-1, keepdims=True) / ops.maximum(norms, 1e-12)
    omega = ops.arccos(ops.clip(cos, -1.0, 1.0))
    sin = ops.sin(omega)
    safe = ops.where(sin > 1e-6, sin, ops.ones_like(sin))
    spherical = (
        ops.sin((1.0 - t) * omega) / safe * z1 + ops.sin(t * omega) / safe * z2
    )
    return ops.where(sin > 1e-6, spherical, linear)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class VAE(GenerativeModel):
    """Variational autoencoder with optional IWAE objective and label conditioning.

    Encoder q(z|x[,c]) = N(μ, diag σ²) (one network emitting `[μ, log σ²]`),
    prior p(z) = N(0, I), decoder p(x|z[,c]) Bernoulli (logits) or Gaussian
    (mean, with a learned or fixed scalar log-variance). Training minimises
    the negative ELBO per example (nats):

        loss = −E_q[log p(x|z)] + β_t · KL(q(z|x) ‖ p(z)),

    with the analytic KL (`losses.kl.gaussian_kl`), one reparameterised
    sample, and β_t = β · min(1, t / kl_warmup_steps) (linear warm-up over
    training steps t; β_t = β when `kl_warmup_steps` is 0). With
    `iwae_samples=k > 1` it minimises the IWAE bound instead (Burda et al.):

        loss = −log (1/k) Σ_i w_i,   log w_i = log p(x|z_i) + β_t (log p(z_i) − log q(z_i|x)),

    computed with a stable logsumexp (β_t = 1 gives the exact IWAE bound).

    Conditional VAE (Sohn et al. 2015): with `num_classes=K`, the one-hot
    label is concatenated to the flattened image (dense) or appended as K
    constant channels (conv) for the encoder, and to z for the decoder. Its
    inputs are then a pair `(images, labels)` (or a dict with keys `"x"` and
    `"label"`): `model.fit((x, y))`; a `tf.data` pipeline of `(x, y)` pairs
    is mapped with `ds.map(lambda x, y: ((x, y),))`. (Plain `fit(x, y)`
    would hand the labels to `compute_loss` only, never to `call`.)

    Bad input raises `ValueError` before any work, identically on every
    backend: images must be float `(N, *image_shape)` without NaN/inf, in
    [0, 1] for the Bernoulli likelihood (uint8 pixels are refused: divide by
    255); latent codes finite `(N, latent_dim)`; labels integers in
    `[0, num_classes)`, one per image (a float label is accepted only when
    it is a whole number). The exported signatures check `label` at run
    time: out of range, the call fails with `InvalidArgumentError`
    ("expected label as integers in [0, K) ... received min m, max M").
    Tensors inside a traced function (`fit`, `jit`) are not checked.

    Shapes: images `(batch, *image_shape)`, labels `(batch,)` int, latent
    `(batch, latent_dim)`. `call` returns a dict: `mean`, `log_var`
    `(batch, latent_dim)`, `z` and `decoder_output` (logits or means)
    with a sample axis after the batch axis when `iwae_samples > 1`.
    Metrics: `loss`, `reconstruction` (−log p(x|z), mean over samples),
    `kl` (analytic, unweighted).

    Export signatures (`export_endpoints`): `encode` x → {mean, log_var};
    `decode` z → {x}; `reconstruct` x → {x} (decodes the mean, deterministic;
    serving default); `sample` noise ~ N(0, I) → {x}. Conditional models add
    an int32 `label` input to each. `x` outputs are pixel means (Bernoulli
    probabilities).

    Args:
        image_shape: tuple of int. Shape of one image, e.g. `(28, 28, 1)`.
        latent_dim: int. Dimension of z. Defaults to `2`.
        architecture: str. `"dense"` (MLPs) or `"conv"`. Defaults to
            `"dense"`.
        hidden_units: list of int. Dense layer widths of the encoder (the
            decoder mirrors them). Defaults to `[256, 128]`.
        filters: list of int. Conv filters for `architecture="conv"`.
            Defaults to `[32, 64]`.
        activation: str. Hidden activation. Defaults to `"relu"`.
        likelihood: str. `"bernoulli"` or `"gaussian"`. Defaults to
            `"bernoulli"`.
        observation_log_var: float or None. Gaussian decoder log-variance;
            `None` learns one scalar. Ignored for Bernoulli. Defaults to
            `None`.
        beta: float. Weight of the KL term (β-VAE). Defaults to `1.0`.
        kl_warmup_steps: int. Steps of linear KL warm-up from 0 to β;
            `0` disables it. Defaults to `0`.
        iwae_samples: int. Importance samples k of the training objective;
            `1` is the standard ELBO. Defaults to `1`.
        num_classes: int or None. Number of labels for a conditional VAE.
            Defaults to `None` (unconditional).
        seed: int or None. Seed of the sampling noise. Defaults to `None`.
        **kwargs: Standard `keras.Model` arguments (`name`, ...).

    Example:
    ```python
    vae = VAE(image_shape=(28, 28, 1), latent_dim=2, hidden_units=[512, 256])
    vae.compile(optimizer="adam")
    vae.fit(x_train, epochs=10, batch_size=128)
    mean, log_var = vae.encode(x_test[:8])
    images = vae.sample(16)
    cvae = VAE(image_shape=(8, 8, 1), latent_dim=2, num_classes=10)
    cvae.compile(optimizer="adam")
    cvae.fit((x_train, y_train), epochs=20)
    sevens = cvae.sample(16, labels=7)
    ```

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Higgins et al., "β-VAE", ICLR 2017. Bowman et al., "Generating
        Sentences from a Continuous Space", 2016 (KL warm-up).
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
        ICLR 2016. Sohn, Lee & Yan, "Learning Structured Output
        Representation using Deep Conditional Generative Models", NeurIPS 2015.
    """

    serving_default = "reconstruct"

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=2,
        architecture="dense",
        hidden_units=(256, 128),
        filters=(32, 64),
        activation="relu",
        likelihood="bernoulli",
        observation_log_var=None,
        beta=1.0,
        kl_warmup_steps=0,
        iwae_samples=1,
        num_classes=None,
        seed=None,
        **kwargs,
    ):
        checks.choice("likelihood", likelihood, LIKELIHOODS)
        checks.choice("architecture", architecture, ARCHITECTURES)
        image_shape = checks.shape("image_shape", image_shape)
        if architecture == "conv":
            checks.conv_image_shape("image_shape", image_shape, architecture)
        iwae_samples = checks.integer("iwae_samples", iwae_samples)
        latent_dim = checks.integer("latent_dim", latent_dim)
        if num_classes is not None:
            num_classes = checks.integer("num_classes", num_classes, 2)
        hidden_units = checks.integers("hidden_units", hidden_units)
        filters = checks.integers("filters", filters)
        if architecture == "conv" and not filters:
            raise ValueError("expected filters with at least one entry for "
                             "architecture='conv', received ()")
        checks.number("beta", beta, 0.0)
        kl_warmup_steps = checks.integer("kl_warmup_steps", kl_warmup_steps, 0)
        if observation_log_var is not None:
            checks.number("observation_log_var", observation_log_var)
        super().__init__(**kwargs)
        # === Config ===
        self.image_shape = image_shape
        self.latent_dim = int(latent_dim)
        self.architecture = architecture
        self.hidden_units = [int(u) for u in hidden_units]
        self.filters = [int(f) for f in filters]
        self.activation = activation
        self.likelihood = likelihood
        self.observation_log_var = observation_log_var
        self.beta = float(beta)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.iwae_samples = int(iwae_samples)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.seed = seed

        # === Layers ===
        extra = self.num_classes or 0
        if architecture == "dense":
            # Conditional: the one-hot label is appended to the flat image.
            encoder_input = (
                self.image_shape
                if extra == 0
                else (math.prod(self.image_shape) + extra,)
            )
            self.encoder = networks.dense_encoder(
                encoder_input,
                self.hidden_units,
                2 * self.latent_dim,
                activation=activation,
                name="encoder",
            )
            self.decoder = networks.dense_decoder(
                self.latent_dim + extra,
                list(reversed(self.hidden_units)),
                self.image_shape,
                activation=activation,
                name="decoder",
            )
        else:
            height, width, channels = self.image_shape
            self.encoder = networks.conv_encoder(
                (height, width, channels + extra),
                self.filters,
                2 * self.latent_dim,
                activation=activation,
                name="encoder",
            )
            self.decoder = networks.conv_decoder(
                self.latent_dim + extra,
                self.image_shape,
                list(reversed(self.filters)),
                activation=activation,
                name="decoder",
            )
        self.sampler = GaussianSampling(seed=seed, name="sampler")
        self.noise_seed = keras.random.SeedGenerator(
            None if seed is None else seed + 1
        )
        if likelihood == "gaussian" and observation_log_var is None:
            self.log_var_x = self.add_weight(
                shape=(), initializer="zeros", name="observation_log_var"
            )
        else:
            self.log_var_x = None
        # Step counter of the KL warm-up, advanced by `compute_loss` when
        # training. A model variable rather than `optimizer.iterations`:
        # JAX's trainer does not map optimizer variables into
        # `compute_loss`, where reading `self.optimizer.iterations` fails
        # (TypeError inside jax.vjp, Keras 3.15 / jax 0.10). Saved with the
        # weights, so the warm-up resumes after `load_model`.
        self.kl_step = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            name="kl_step",
        )

        # === Metrics ===
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True

    # --- helpers -----------------------------------------------------------

    def _split_inputs(self, inputs):
        if self.num_classes is None:
            if isinstance(inputs, (tuple, list)):
                if len(inputs) != 1:
                    raise ValueError(
                        "expected images for an unconditional VAE, received "
                        f"a sequence of {len(inputs)} tensors"
                    )
                inputs = inputs[0]
            if isinstance(inputs, dict):
                inputs = inputs["x"]
            return inputs, None
        if isinstance(inputs, dict):
            return inputs["x"], inputs["label"]
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError(
                "expected inputs (images, labels) for a conditional VAE "
                f"(num_classes={self.num_classes}), received "
                f"{type(inputs).__name__}; use model.fit((x, y))"
            )
        return inputs[0], inputs[1]

    def _one_hot(self, labels):
        labels = ops.convert_to_tensor(labels)
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        return ops.one_hot(labels, self.num_classes, dtype="float32")

    def _check_labels(self, labels):
        if self.num_classes is not None and labels is None:
            raise ValueError(
                f"expected labels for a conditional VAE (num_classes="
                f"{self.num_classes}), received None"
            )

    def _encoder_input(self, x, labels):
        x = ops.cast(ops.convert_to_tensor(x), "float32")
        if self.num_classes is None:
            return x
        onehot = self._one_hot(labels)
        if self.architecture == "dense":
            flat = ops.reshape(x, (-1, math.prod(self.image_shape)))
            return ops.concatenate([flat, onehot], axis=-1)
        height, width = self.image_shape[:2]
        planes = ops.broadcast_to(
            ops.reshape(onehot, (-1, 1, 1, self.num_classes)),
            (ops.shape(x)[0], height, width, self.num_classes),
        )
        return ops.concatenate([x, planes], axis=-1)

    def decoder_output(self, z, labels=None):
        """Parameters of p(x|z[,c]): logits (Bernoulli) or means (Gaussian)."""
        z = checks.codes(z, "VAE.decoder_output", self.latent_dim)
        labels = self._checked_labels(labels, self._batch_size(z), "decoder_output")
        return self._decoder_output(z, labels)

    def _decoder_output(self, z, labels=None):
        self._check_labels(labels)
        if self.num_classes is not None:
            z = ops.concatenate([z, self._one_hot(labels)], axis=-1)
        return self.decoder(z)

    def _mean_image(self, decoder_output):
        if self.likelihood == "bernoulli":
            return ops.sigmoid(decoder_output)
        return decoder_output

    def _observation_log_var(self):
        if self.log_var_x is not None:
            return self.log_var_x
        return float(self.observation_log_var or 0.0)

    def reconstruction_nll(self, x, decoder_output, num_batch_axes=1):
        """−log p(x|z) per example (nats) for decoder outputs (logits/means)."""
        if self.likelihood == "bernoulli":
            return bernoulli_nll(x, decoder_output, num_batch_axes)
        return gaussian_nll(
            x, decoder_output, self._observation_log_var(), num_batch_axes
        )

    def kl_weight(self):
        """β_t = β · min(1, t / kl_warmup_steps), t = training steps so far."""
        if self.kl_warmup_steps == 0:
            return ops.convert_to_tensor(self.beta, "float32")
        ramp = ops.minimum(
            1.0, ops.convert_to_tensor(self.kl_step) / float(self.kl_warmup_steps)
        )
        return self.beta * ramp

    # --- input checks (public API only; `call` and the losses skip them) ----

    def input_range(self):
        """`(0, 1)` for the Bernoulli likelihood, None (any finite) for Gaussian."""
        return (0.0, 1.0) if self.likelihood == "bernoulli" else None

    def _checked_images(self, x, method, name="x"):
        return checks.data(x, f"VAE.{method}", self.image_shape, self.input_range(),
                           name=name)

    def _checked_labels(self, labels, num_samples, method, allow_scalar=False):
        self._check_labels(labels)
        if labels is None:
            return None
        if self.num_classes is None:
            raise ValueError(f"VAE.{method}: expected labels=None for an unconditional "
                             f"VAE (num_classes=None), received labels")
        return checks.labels(labels, self.num_classes, f"VAE.{method}",
                             num_samples=num_samples, allow_scalar=allow_scalar)

    @staticmethod
    def _batch_size(x):
        shape = getattr(x, "shape", None)
        return None if shape is None or not shape or shape[0] is None else int(shape[0])

    def _encode(self, x, labels):
        stats = self.encoder(self._encoder_input(x, labels))
        return stats[:, : self.latent_dim], stats[:, self.latent_dim :]

    def _decode(self, z, labels):
        z = ops.cast(ops.convert_to_tensor(z), "float32")
        return self._mean_image(self._decoder_output(z, labels))

    # --- public API --------------------------------------------------------

    def encode(self, x, labels=None):
        """Returns `(mean, log_var)` of q(z|x[,c]), each `(batch, latent_dim)`."""
        x = self._checked_images(x, "encode")
        labels = self._checked_labels(labels, self._batch_size(x), "encode")
        return self._encode(x, labels)

    def decode(self, z, labels=None):
        """Pixel means of p(x|z[,c]) (Bernoulli probabilities): `(batch, *image_shape)`."""
        z = checks.codes(z, "VAE.decode", self.latent_dim)
        labels = self._checked_labels(labels, self._batch_size(z), "decode")
        return self._decode(z, labels)

    def reconstruct(self, x, labels=None):
        """Deterministic reconstruction: decode(encode(x).mean)."""
        x = self._checked_images(x, "reconstruct")
        labels = self._checked_labels(labels, self._batch_size(x), "reconstruct")
        mean, _ = self._encode(x, labels)
        return self._decode(mean, labels)

    def sample(self, n, labels=None, seed=None):
        """Draws `n` images: z ~ N(0, I), returns decoder means `(n, *image_shape)`.

        Args:
            n: int. Number of images.
            labels: int, array of `n` ints, or None. Required when conditional.
            seed: int or None. Noise seed; `None` uses the model's generator.
        """
        n = checks.integer("n", n)
        labels = self._checked_labels(labels, n, "sample", allow_scalar=True)
        noise = keras.random.normal(
            (n, self.latent_dim),
            seed=self.noise_seed if seed is None else seed,
        )
        return self._decode(noise, labels)

    def interpolate(self, x1, x2, steps=8, method="linear", labels=None):
        """Decodes `steps` points between the posterior means of `x1` and `x2`.

        Args:
            x1: array. One image `image_shape` or a batch `(batch, *image_shape)`.
            x2: array. Same shape as `x1`.
            steps: int. Points including the endpoints. Defaults to `8`.
            method: str. `"linear"` or `"spherical"` (see
                `interpolate_latents`). Defaults to `"linear"`.
            labels: int labels for a conditional VAE, one per pair.

        Returns:
            `(steps, *image_shape)` for single images, else
            `(batch, steps, *image_shape)`.
        """
        checks.choice("method", method, ("linear", "spherical"))
        steps = checks.integer("steps", steps, 2)
        x1 = x1 if ops.is_tensor(x1) else np.asarray(x1)
        x2 = x2 if ops.is_tensor(x2) else np.asarray(x2)
        single = len(x1.shape) == len(self.image_shape)
        if single:
            x1, x2 = x1[None], x2[None]
        x1 = self._checked_images(x1, "interpolate", "x1")
        x2 = self._checked_images(x2, "interpolate", "x2")
        if tuple(x1.shape) != tuple(x2.shape):
            raise ValueError(f"VAE.interpolate: expected x1 and x2 of the same shape, "
                             f"received {tuple(x1.shape)} and {tuple(x2.shape)}")
        labels = self._checked_labels(labels, self._batch_size(x1), "interpolate",
                                      allow_scalar=True)
        x1 = ops.convert_to_tensor(x1, "float32")
        x2 = ops.convert_to_tensor(x2, "float32")
        z1, _ = self._encode(x1, labels)
        z2, _ = self._encode(x2, labels)
        path = interpolate_latents(z1, z2, steps, method)
        flat = ops.reshape(path, (-1, self.latent_dim))
        flat_labels = None
        if labels is not None:
            flat_labels = ops.repeat(labels, int(steps), axis=0)
        images = ops.reshape(
            self._decode(flat, flat_labels), (-1, int(steps)) + self.image_shape
        )
        return images[0] if single else images

    def log_importance_weights(self, x, labels=None, num_samples=1, seed=None):
        """log w = log p(x|z) + log p(z) − log q(z|x) for z ~ q(z|x[,c]).

        The quantity averaged (in log-sum-exp form) by the IWAE estimator of
        log p(x); see `keras_genmodels.metrics.iwae`.

        Args:
            x: array `(batch, *image_shape)`.
            labels: int array `(batch,)` for a conditional VAE, else None.
            num_samples: int. Samples k per image.
            seed: int or `keras.random.SeedGenerator`; None uses the model's.

        Returns:
            Tensor `(num_samples, batch)` in nats.
        """
        x = self._checked_images(x, "log_importance_weights")
        labels = self._checked_labels(labels, self._batch_size(x), "log_importance_weights")
        x = ops.cast(ops.convert_to_tensor(x), "float32")
        mean, log_var = self._encode(x, labels)
        k = checks.integer("num_samples", num_samples)
        eps = keras.random.normal(
            (k,) + tuple(ops.shape(mean)),
            seed=self.noise_seed if seed is None else seed,
        )
        z = mean + ops.exp(0.5 * log_var) * eps  # (k, batch, d)
        flat_labels = None
        if labels is not None:
            labels = ops.reshape(ops.convert_to_tensor(labels, "int32"), (-1,))
            flat_labels = ops.tile(labels, (k,))
        out = self._decoder_output(ops.reshape(z, (-1, self.latent_dim)), flat_labels)
        out = ops.reshape(out, (k, -1) + self.image_shape)
        log_likelihood = -self.reconstruction_nll(ops.expand_dims(x, 0), out, 2)
        return (
            log_likelihood
            + gaussian_log_prob(z)
            - gaussian_log_prob(z, mean, log_var)
        )

    # --- Keras hooks -------------------------------------------------------

    def call(self, inputs, training=None):
        x, labels = self._split_inputs(inputs)
        self._check_labels(labels)
        mean, log_var = self._encode(x, labels)
        k = self.iwae_samples
        if k == 1:
            z = self.sampler(mean, log_var)
            out = self._decoder_output(z, labels)
        else:
            z = self.sampler(mean, log_var, num_samples=k)  # (batch, k, d)
            flat_labels = None if labels is None else ops.repeat(labels, k, axis=0)
            out = self._decoder_output(
                ops.reshape(z, (-1, self.latent_dim)), flat_labels
            )
            out = ops.reshape(out, (-1, k) + self.image_shape)
        return {"mean": mean, "log_var": log_var, "z": z, "decoder_output": out}

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        images, _ = self._split_inputs(x)
        images = ops.cast(ops.convert_to_tensor(images), "float32")
        if y_pred is None:
            y_pred = self(x, training=training)
        mean, log_var = y_pred["mean"], y_pred["log_var"]
        z, out = y_pred["z"], y_pred["decoder_output"]
        weight = self.kl_weight()
        kl = gaussian_kl(mean, log_var)
        if self.iwae_samples == 1:
            reconstruction = self.reconstruction_nll(images, out)
            per_example = reconstruction + weight * kl
        else:
            nll = self.reconstruction_nll(ops.expand_dims(images, 1), out, 2)
            log_prior = gaussian_log_prob(z)
            log_posterior = gaussian_log_prob(
                z, ops.expand_dims(mean, 1), ops.expand_dims(log_var, 1)
            )
            log_w = -nll + weight * (log_prior - log_posterior)
            per_example = -(
                ops.logsumexp(log_w, axis=1) - math.log(self.iwae_samples)
            )
            reconstruction = ops.mean(nll, axis=1)
        if sample_weight is not None:
            sw = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            count = ops.sum(sw)
            loss = ops.sum(per_example * sw) / ops.maximum(count, 1e-12)
        else:
            count = ops.shape(per_example)[0]
            loss = ops.mean(per_example)
        for extra in self.losses:
            loss = loss + ops.sum(extra)
        if training and self.kl_warmup_steps:
            self.kl_step.assign_add(1.0)
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(reconstruction))
        self.kl_tracker.update_state(ops.mean(kl))
        # Under tf.distribute: this replica's share of the global-batch mean.
        return B.replica_share(loss, count)

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    # --- export ------------------------------------------------------------

    def export_endpoints(self):
        image = keras.InputSpec(shape=(None,) + self.image_shape, dtype="float32")
        latent = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        if self.num_classes is None:

            def encode(x):
                mean, log_var = self.encode(x)
                return {"mean": mean, "log_var": log_var}

            def decode(z):
                return {"x": self.decode(z)}

            def reconstruct(x):
                return {"x": self.reconstruct(x)}

            def sample(noise):
                return {"x": self.decode(noise)}

            return {
                "encode": (encode, [image]),
                "decode": (decode, [latent]),
                "reconstruct": (reconstruct, [image]),
                "sample": (sample, [latent]),
            }

        label = keras.InputSpec(shape=(None,), dtype="int32")
        classes = self.num_classes

        # Each endpoint asserts 0 <= label < num_classes at run time (a served
        # model answers InvalidArgument instead of decoding an all-zero one-hot).
        def encode(x, label):
            mean, log_var = self.encode(x, checks.graph_labels(label, classes))
            return {"mean": mean, "log_var": log_var}

        def decode(z, label):
            return {"x": self.decode(z, checks.graph_labels(label, classes))}

        def reconstruct(x, label):
            return {"x": self.reconstruct(x, checks.graph_labels(label, classes))}

        def sample(noise, label):
            return {"x": self.decode(noise, checks.graph_labels(label, classes))}

        return {
            "encode": (encode, [image, label]),
            "decode": (decode, [latent, label]),
            "reconstruct": (reconstruct, [image, label]),
            "sample": (sample, [latent, label]),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim,
                "architecture": self.architecture,
                "hidden_units": list(self.hidden_units),
                "filters": list(self.filters),
                "activation": self.activation,
                "likelihood": self.likelihood,
                "observation_log_var": self.observation_log_var,
                "beta": self.beta,
                "kl_warmup_steps": self.kl_warmup_steps,
                "iwae_samples": self.iwae_samples,
                "num_classes": self.num_classes,
                "seed": self.seed,
            }
        )
        return config
