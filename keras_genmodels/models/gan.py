"""Generative adversarial networks: GAN (minimax / non-saturating), DCGAN
networks, conditional GAN, PacGAN packing, and WGAN-GP.

One class, `GAN`, holds the algorithm of Goodfellow et al. (2014); its
options select the networks (`architecture="mlp"` or `"dcgan"`), the
generator loss, the prior, conditioning (`num_classes`) and packing
(`packing`), and the stabilisers of the DCGAN literature: hinge losses
(`discriminator_loss="hinge"`, `generator_loss="hinge"`), spectral
normalisation of D (`spectral_normalization`), a wider or deeper D
(`discriminator_filters`) and the R1 regulariser on real data (`r1_weight`,
Mescheder et al. 2018); TTUR and generator EMA are optimizer settings
(`compile`). `WGANGP` changes only the two objectives (the hooks
`discriminator_objective` and `generator_objective`).
"""

import keras
from keras import ops

from keras_genmodels import backend as B
from keras_genmodels.losses import adversarial as L
from keras_genmodels.models import checks
from keras_genmodels.networks import gan as nets
from keras_genmodels.models.adversarial import AdversarialModel, Phase

PRIORS = ("normal", "uniform")


def _check_activation(activation, architecture):
    """A Keras activation name for the MLP discriminator (default only for DCGAN)."""
    if architecture != "mlp":
        if activation != "leaky_relu":
            raise ValueError("expected discriminator_activation='leaky_relu' for "
                             f"architecture={architecture!r} (the option is MLP only), "
                             f"received {activation!r}")
        return
    try:
        ok = isinstance(activation, str) and keras.activations.get(activation) is not None
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise ValueError("expected discriminator_activation a Keras activation name "
                         f"(e.g. 'leaky_relu', 'relu', 'elu'), received {activation!r}")
ARCHITECTURES = ("mlp", "dcgan")


@keras.saving.register_keras_serializable(package="keras_genmodels")
class GAN(AdversarialModel):
    """Generative adversarial network (Goodfellow et al. 2014).

    A generator G: z -> x maps noise from the prior p(z) (standard normal,
    or uniform on [-1, 1]^d) to samples; a discriminator D: x -> [0, 1]
    (a logit followed by a sigmoid) tells data from samples. Each training
    step runs

    1. k discriminator updates, each ascending
       E_x[log D(x)] + E_z[log(1 - D(G(z)))]
       (`losses.adversarial.discriminator_loss`), on a fresh chunk of the data
       batch and fresh noise;
    2. one generator update, descending either the minimax objective
       E_z[log(1 - D(G(z)))] or the non-saturating -E_z[log D(G(z))].

    **Batches and k.** The batch given by `fit` (n samples) is split into k
    consecutive chunks of m = floor(n / (k * packing)) * packing samples;
    discriminator update i uses chunk i and m fresh noise vectors, the
    generator update m fresh noise vectors (and, conditionally, the labels of
    chunk 0). Feed batches of k * m samples; left-over samples are unused.

    **Conditional GAN** (`num_classes`; Mirza & Osindero 2014): `fit` takes
    `(x, y)` with integer labels `(batch,)`; G gets `[z, onehot(y)]`, D gets
    the label as well; fake samples in D's update reuse the real labels.

    **PacGAN** (`packing=p`; Lin et al. 2018): D judges p samples at once,
    concatenated along the last axis (features, or image channels); real packs
    hold p data samples, fake packs p generated samples.

    Metrics: `d_loss`, `g_loss`, `d_real` (mean D(x)), `d_fake`
    (mean D(G(z)), measured in the discriminator update), and `r1_penalty`
    (mean ||∇_x l(x)||^2 on real samples) when `r1_weight` > 0.

    **Bad input** raises `ValueError` before any work, identically on every
    backend. Constructor: sizes (`latent_dim`, `discriminator_steps`,
    `packing`, hidden units, filters) must be positive integers,
    `num_classes` None or >= 2, and a DCGAN's H and W even and >= 4
    (divisible by `2**len(filters)` when `filters` is given). Methods:
    `generate` takes finite latents `(N, latent_dim)`; `discriminate` float
    samples `(N, *data_shape)`, N a multiple of `packing`, no NaN/inf, in
    [0, 1] (sigmoid generator output) or [-1, 1] (tanh); labels must be
    integers in `[0, num_classes)`, one per sample (whole-number floats are
    accepted), on every backend (TF and JAX would otherwise silently encode
    an out-of-range label as an all-zero one-hot vector). The exported
    `generate(latent, label)` signature checks `label` at run time: out of
    range, the call fails with `InvalidArgumentError` ("expected label as
    integers in [0, K) (num_classes=K) ... received min m, max M").

    Shapes: data `(batch, *data_shape)`; latent `(batch, latent_dim)`.

    Args:
        data_shape: tuple of int. Shape of one sample, e.g. `(2,)` or
            `(28, 28, 1)`.
        latent_dim: int. Dimension of z. Defaults to 64.
        architecture: str. `"mlp"` or `"dcgan"` (conv nets, 3-d
            `data_shape` with H, W divisible by 4: 8x8, 28x28, 32x32x3...).
            Defaults to `"mlp"`.
        generator_units: tuple of int. MLP generator hidden layers. Defaults
            to `(128, 128)`.
        discriminator_units: tuple of int. MLP discriminator hidden layers.
            Defaults to `(128, 128)`.
        discriminator_activation: str. Activation of the MLP discriminator's
            hidden layers, any Keras activation name (`"leaky_relu"`: slope
            0.2; `"relu"`, `"elu"`, ...). MLP only. Defaults to `"leaky_relu"`.
        filters: tuple of int or None. DCGAN filters, low resolution first
            (None: `networks.gan.default_filters`). Defaults to None.
        output_activation: str or None. Generator output activation (`None`
            for real-valued data, `"sigmoid"` for images in [0, 1]).
            Defaults to None.
        generator_loss: str. `"non_saturating"`, `"minimax"` or `"hinge"`
            (-E_z[l_fake], the generator side of the hinge game). Defaults to
            `"non_saturating"`.
        discriminator_loss: str. `"logistic"` (Goodfellow et al.'s value
            function, above) or `"hinge"` (E_x[max(0, 1 - l(x))] +
            E_z[max(0, 1 + l(G(z)))], Lim & Ye 2017). Defaults to `"logistic"`.
        spectral_normalization: bool. Wrap every Conv2D/Dense of D in
            `networks.gan.SpectralNormalization` (Miyato et al. 2018).
            Defaults to False.
        discriminator_filters: tuple of int or None. DCGAN discriminator
            filters, low resolution first (a wider or deeper D than G;
            None: `filters`). Defaults to None.
        generator_output_kernel_size: int or None. DCGAN only: draw the
            image with a stride-1 k x k `Conv2D` from full-resolution
            features (the Keras conditional-GAN example's generator) instead
            of Radford et al.'s stride-2 transposed output layer (None; see
            `networks.gan.dcgan_generator`). Defaults to None.
        discriminator_steps: int. k, discriminator updates per generator
            update. Defaults to 1.
        r1_weight: float >= 0. gamma of the R1 regulariser (Mescheder et al.
            2018): D's loss gains (gamma / 2) * E_x[||∇_x l(x)||^2], the
            squared input-gradient norm of D's logit on the real (packed)
            samples of its update (`losses.adversarial.r1_penalty`, a
            double-backward through D via `backend.input_gradient`); logged
            as `r1_penalty` (the mean squared norm). 0 (off) keeps the loss
            of `discriminator_loss` alone. Defaults to 0.
        prior: str. `"normal"` or `"uniform"`. Defaults to `"normal"`.
        num_classes: int or None. Number of classes of a conditional GAN.
            Defaults to None.
        packing: int. PacGAN packing degree (1: plain GAN). Defaults to 1.
        seed: int or None. Seed of the model's noise (its `SeedGenerator`,
            whose state is a model variable and is saved). Defaults to None.
        **kwargs: `keras.Model` arguments (e.g. `name`).

    Example:

    ```python
    gan = GAN(data_shape=(2,), latent_dim=2, discriminator_steps=2, seed=0)
    gan.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-3, 0.5),
                            "generator": keras.optimizers.Adam(1e-3, 0.5)})
    gan.fit(toy_dataset("ring8", batch_size=2 * 256), steps_per_epoch=500)
    x = gan.sample(2500, seed=1)                   # numpy (2500, 2)
    ```

    References:
        Goodfellow et al. (2014), Generative Adversarial Nets.
        Radford et al. (2016), Unsupervised Representation Learning with
        Deep Convolutional GANs.
        Mirza & Osindero (2014), Conditional Generative Adversarial Nets.
        Lin et al. (2018), PacGAN: The power of two samples in GANs.
        Lim & Ye (2017), Geometric GAN (hinge loss).
        Miyato et al. (2018), Spectral Normalization for GANs.
        Mescheder et al. (2018), Which Training Methods for GANs do actually
        Converge? (R1).
    """

    log_names = ("d_loss", "g_loss", "d_real", "d_fake")
    serving_default = "generate"

    def __init__(self, data_shape, latent_dim=64, architecture="mlp",
                 generator_units=(128, 128), discriminator_units=(128, 128),
                 filters=None, output_activation=None,
                 generator_loss="non_saturating", discriminator_steps=1,
                 prior="normal", num_classes=None, packing=1, seed=None,
                 discriminator_loss="logistic", spectral_normalization=False,
                 discriminator_filters=None, discriminator_activation="leaky_relu",
                 generator_output_kernel_size=None, r1_weight=0.0, **kwargs):
        checks.choice("architecture", architecture, ARCHITECTURES)
        r1_weight = float(checks.number("r1_weight", r1_weight, 0.0))
        _check_activation(discriminator_activation, architecture)
        checks.choice("generator_loss", generator_loss, tuple(L.GENERATOR_LOSSES))
        checks.choice("discriminator_loss", discriminator_loss, tuple(L.DISCRIMINATOR_LOSSES))
        if not isinstance(spectral_normalization, bool):
            raise ValueError("expected spectral_normalization True or False, received "
                             f"{spectral_normalization!r}")
        if discriminator_filters is not None:
            discriminator_filters = checks.integers(
                "discriminator_filters", discriminator_filters) or None
            if architecture != "dcgan" and discriminator_filters:
                raise ValueError("expected discriminator_filters=None for architecture="
                                 f"{architecture!r} (DCGAN only), received "
                                 f"{tuple(discriminator_filters)}")
        checks.choice("prior", prior, PRIORS)
        data_shape = checks.shape("data_shape", data_shape)
        latent_dim = checks.integer("latent_dim", latent_dim)
        packing = checks.integer("packing", packing)
        discriminator_steps = checks.integer("discriminator_steps", discriminator_steps)
        if num_classes is not None:
            num_classes = checks.integer("num_classes", num_classes, 2)
        generator_units = checks.integers("generator_units", generator_units)
        discriminator_units = checks.integers("discriminator_units", discriminator_units)
        if filters is not None:
            filters = checks.integers("filters", filters) or None
        if architecture == "dcgan":
            checks.dcgan_image_shape(data_shape, filters)
        if generator_output_kernel_size is not None:
            generator_output_kernel_size = checks.integer(
                "generator_output_kernel_size", generator_output_kernel_size)
            if architecture != "dcgan":
                raise ValueError(
                    "expected generator_output_kernel_size=None for architecture="
                    f"{architecture!r} (DCGAN only), received {generator_output_kernel_size}")
        super().__init__(**kwargs)
        # === Config ===
        self.data_shape = data_shape
        self.latent_dim = latent_dim
        self.architecture = architecture
        self.generator_units = tuple(generator_units)
        self.discriminator_units = tuple(discriminator_units)
        self.discriminator_activation = discriminator_activation
        self.output_activation = output_activation
        self.generator_loss = generator_loss
        self.discriminator_steps = discriminator_steps
        self.prior = prior
        self.num_classes = num_classes
        self.packing = packing
        self.seed = seed
        self.discriminator_loss = discriminator_loss
        self.spectral_normalization = spectral_normalization
        self.discriminator_filters = (tuple(discriminator_filters)
                                      if discriminator_filters else None)
        self.generator_output_kernel_size = generator_output_kernel_size
        self.r1_weight = r1_weight
        if r1_weight:
            self._trackers = {**self._trackers,
                              "r1_penalty": keras.metrics.Mean(name="r1_penalty")}
        # === Layers ===
        self.seed_generator = keras.random.SeedGenerator(seed)
        d_input = nets.packed_shape(self.data_shape, packing)
        label_dim = num_classes * packing if num_classes else None
        if architecture == "dcgan":
            self.filters = tuple(filters or nets.default_filters(self.data_shape))
            self.generator = nets.dcgan_generator(
                latent_dim, self.data_shape, self.filters,
                output_activation=output_activation, num_classes=num_classes,
                output_kernel_size=generator_output_kernel_size)
            self.discriminator = nets.dcgan_discriminator(
                d_input, self.discriminator_filters or self.filters, label_dim=label_dim,
                spectral_normalization=spectral_normalization)
        else:
            self.filters = tuple(filters) if filters else None
            self.generator = nets.mlp_generator(
                latent_dim, self.data_shape, self.generator_units,
                output_activation=output_activation, num_classes=num_classes)
            self.discriminator = nets.mlp_discriminator(
                d_input, self.discriminator_units, label_dim=label_dim,
                activation=discriminator_activation,
                spectral_normalization=spectral_normalization)
        self.built = True

    # --- sampling -----------------------------------------------------------

    def sample_prior(self, num_samples, seed=None):
        """Noise z ~ p(z), `(num_samples, latent_dim)`; uses the model's
        SeedGenerator unless `seed` is given."""
        seed = self.seed_generator if seed is None else seed
        shape = (num_samples, self.latent_dim)
        # replica_noise: under tf.distribute, this replica's rows of the noise
        # one device draws for the global batch (else a plain draw).
        if self.prior == "uniform":
            return B.replica_noise(
                lambda s: keras.random.uniform(s, -1.0, 1.0, seed=seed), shape)
        return B.replica_noise(lambda s: keras.random.normal(s, seed=seed), shape)

    def _one_hot(self, labels):
        return ops.one_hot(ops.cast(ops.reshape(labels, (-1,)), "int32"),
                           self.num_classes)

    def _check_labels(self, labels, where="GAN.generate"):
        if labels is None and self.num_classes is not None:
            raise ValueError(
                f"{where}: expected labels for a conditional GAN (num_classes="
                f"{self.num_classes}), received None")
        if labels is not None and self.num_classes is None:
            raise ValueError(
                f"{where}: expected labels=None for an unconditional GAN "
                "(num_classes=None), received labels")

    def _checked_labels(self, labels, num_samples, where):
        self._check_labels(labels, where)
        if labels is None:
            return None
        return checks.labels(labels, self.num_classes, where, num_samples=num_samples)

    def input_range(self):
        """`(lo, hi)` of the samples `discriminate` accepts (the range of the
        generator's output activation), or None (any finite value)."""
        return checks.ACTIVATION_RANGES.get(self.output_activation)

    def _generate(self, latent, labels=None, training=False):
        self._check_labels(labels)
        latent = ops.convert_to_tensor(latent)
        if self.num_classes:
            return self.generator([latent, self._one_hot(labels)], training=training)
        return self.generator(latent, training=training)

    def generate(self, latent, labels=None, training=False):
        """G(z [, y]): `(batch, latent_dim)` [, int `(batch,)`] ->
        `(batch, *data_shape)`."""
        latent = checks.codes(latent, "GAN.generate", self.latent_dim, name="latent")
        shape = getattr(latent, "shape", None)
        n = None if shape is None or shape[0] is None else int(shape[0])
        labels = self._checked_labels(labels, n, "GAN.generate")
        return self._generate(latent, labels, training=training)

    def call(self, inputs, training=False):
        """`model(z)` or `model((z, labels))`: the generator (unchecked: the
        Keras hook, also run inside traced functions)."""
        if self.num_classes:
            latent, labels = inputs
            return self._generate(latent, labels, training=training)
        return self._generate(inputs, training=training)

    def sample(self, num_samples, labels=None, seed=None):
        """`num_samples` generated samples as a NumPy array.

        Args:
            num_samples: int.
            labels: int array `(num_samples,)` (conditional GAN only;
                None there: `i % num_classes`).
            seed: int or None. Seed of the noise (None: the model's
                SeedGenerator, advancing it).
        """
        num_samples = checks.integer("num_samples", num_samples)
        if self.num_classes and labels is None:
            labels = ops.mod(ops.arange(num_samples), self.num_classes)
        labels = self._checked_labels(labels, num_samples, "GAN.sample")
        z = self.sample_prior(num_samples, seed=seed)
        return ops.convert_to_numpy(self._generate(z, labels))

    # --- discriminator ------------------------------------------------------

    def pack(self, x):
        """PacGAN packing: `(n, *shape) -> (n / p, *shape[:-1], p * shape[-1])`,
        consecutive samples form one pack."""
        x = ops.convert_to_tensor(x)
        if self.packing == 1:
            return x
        p = self.packing
        shape = self.data_shape
        x = ops.reshape(x, (-1, p) + shape)
        x = ops.moveaxis(x, 1, -2)
        return ops.reshape(x, (-1,) + nets.packed_shape(shape, p))

    def discriminator_logits(self, x, labels=None, training=True):
        """Logits of D on (unpacked) samples `x` `(n, *data_shape)`; packs
        them first, so the result is `(n / packing, 1)`."""
        return self.packed_logits(self.pack(x), self._pack_labels(labels),
                                  training=training)

    def _pack_labels(self, labels):
        if labels is None or not self.num_classes:
            return None
        return ops.reshape(self._one_hot(labels), (-1, self.packing * self.num_classes))

    def packed_logits(self, packed_x, packed_labels=None, training=True):
        """D's logits on already packed inputs (one-hot labels packed too)."""
        if self.num_classes:
            return self.discriminator([packed_x, packed_labels], training=training)
        return self.discriminator(packed_x, training=training)

    def discriminate(self, x, labels=None):
        """D(x) = sigmoid(logit), `(n / packing, 1)` (probability of "data")."""
        x = checks.data(x, "GAN.discriminate", self.data_shape, self.input_range(),
                        batch_multiple=self.packing)
        shape = getattr(x, "shape", None)
        n = None if shape is None or shape[0] is None else int(shape[0])
        labels = self._checked_labels(labels, n, "GAN.discriminate")
        return ops.sigmoid(self.discriminator_logits(x, labels, training=False))

    # --- the game -----------------------------------------------------------

    def _chunk(self, data, index):
        """Chunk `index` of the k chunks of the batch: `(x, labels or None)`."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self.num_classes and y is None:
            raise ValueError(
                "A conditional GAN expects batches (x, labels); received x only.")
        # Under tf.distribute the chunks are those of the *global* batch (all
        # replicas' rows gathered), each replica keeping its 1/replicas of the
        # chunk: the step is the single-device step (identities elsewhere).
        x = B.all_replica_rows(x)
        n = ops.shape(x)[0]
        k = self.discriminator_steps
        m = (n // (k * self.packing)) * self.packing
        x = B.replica_rows(x[index * m:(index + 1) * m])
        y = B.replica_rows(B.all_replica_rows(y)[index * m:(index + 1) * m]) \
            if self.num_classes else None
        return x, y

    def _fake(self, num_samples, labels):
        return self._generate(self.sample_prior(num_samples), labels, training=True)

    def discriminator_objective(self, real, fake, labels):
        """Hook: `(loss, logs)` of one discriminator update on `real` and
        `fake` `(m, *data_shape)` with `labels` `(m,)` or None."""
        real_packed, packed_labels = self.pack(real), self._pack_labels(labels)
        real_logits = self.packed_logits(real_packed, packed_labels)
        fake_logits = self.discriminator_logits(fake, labels)
        loss = L.DISCRIMINATOR_LOSSES[self.discriminator_loss](real_logits, fake_logits)
        logs = {"d_real": ops.mean(ops.sigmoid(real_logits)),
                "d_fake": ops.mean(ops.sigmoid(fake_logits))}
        if self.r1_weight:   # R1 differentiates D at the same packed real inputs
            grads = B.input_gradient(
                lambda x: self.packed_logits(x, packed_labels), real_packed)
            logs["r1_penalty"] = L.r1_penalty(grads)
            loss = loss + 0.5 * self.r1_weight * logs["r1_penalty"]
        return loss, {"d_loss": loss, **logs}

    def generator_objective(self, fake, labels):
        """Hook: `(loss, logs)` of the generator update on `fake` samples."""
        loss = L.GENERATOR_LOSSES[self.generator_loss](
            self.discriminator_logits(fake, labels))
        return loss, {"g_loss": loss}

    def phases(self):
        def discriminator_step(data, index):
            real, labels = self._chunk(data, index)
            fake = ops.stop_gradient(self._fake(ops.shape(real)[0], labels))
            return self.discriminator_objective(real, fake, labels)

        def generator_step(data, index):
            real, labels = self._chunk(data, 0)
            return self.generator_objective(
                self._fake(ops.shape(real)[0], labels), labels)

        return [Phase("discriminator", self.discriminator.trainable_variables,
                      discriminator_step, repeat=self.discriminator_steps),
                Phase("generator", self.generator.trainable_variables,
                      generator_step)]

    # --- saving ---------------------------------------------------------------

    # --- export and config --------------------------------------------------

    def export_endpoints(self):
        """`generate`: `latent` float32 `(None, latent_dim)` [and `label`
        int32 `(None,)`] -> `{"image": (None, *data_shape)}`."""
        latent_spec = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        if self.num_classes:
            classes = self.num_classes

            # Asserts 0 <= label < num_classes at run time: a served model answers
            # InvalidArgument instead of generating from an all-zero one-hot code.
            def generate(latent, label):
                return {"image": self.generate(latent, checks.graph_labels(label, classes))}

            specs = [latent_spec, keras.InputSpec(shape=(None,), dtype="int32")]
        else:
            def generate(latent):
                return {"image": self.generate(latent)}

            specs = [latent_spec]
        return {"generate": (generate, specs)}

    def get_config(self):
        config = super().get_config()
        config.update(
            data_shape=self.data_shape, latent_dim=self.latent_dim,
            architecture=self.architecture, generator_units=self.generator_units,
            discriminator_units=self.discriminator_units, filters=self.filters,
            discriminator_activation=self.discriminator_activation,
            output_activation=self.output_activation,
            generator_loss=self.generator_loss,
            discriminator_steps=self.discriminator_steps, prior=self.prior,
            num_classes=self.num_classes, packing=self.packing, seed=self.seed,
            discriminator_loss=self.discriminator_loss,
            spectral_normalization=self.spectral_normalization,
            discriminator_filters=self.discriminator_filters,
            generator_output_kernel_size=self.generator_output_kernel_size)
        if self.r1_weight:   # only when on: older files and readers see no new key
            config["r1_weight"] = self.r1_weight
        return config


@keras.saving.register_keras_serializable(package="keras_genmodels")
class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

    The discriminator is a critic f (a real-valued score, no sigmoid) trained
    to minimise

        E_z[f(G(z))] - E_x[f(x)] + lambda * E_x̂[(||∇_x̂ f(x̂)||_2 - 1)^2],
        x̂ = eps * x + (1 - eps) * G(z),   eps ~ U[0, 1] per sample

    (the interpolation coefficient is *uniform*, one per (packed) sample),
    and the generator minimises -E_z[f(G(z))]. The input gradient comes from
    `keras_genmodels.backend.input_gradient`. Everything else (networks,
    k critic steps per generator step, conditioning, packing) is `GAN`'s;
    `generator_loss` and `discriminator_loss` are ignored (spectral
    normalisation and `discriminator_filters` apply). Defaults follow the paper: k = 5,
    lambda = 10, Adam(1e-4, beta_1=0, beta_2=0.9) for both players.

    Metrics: `d_loss` (critic loss with penalty), `g_loss`, `d_real` and
    `d_fake` (mean critic scores), `gradient_penalty`.

    Args:
        gradient_penalty_weight: float. lambda. Defaults to 10.
        discriminator_steps: int. Critic updates per generator update.
            Defaults to 5.
        **kwargs: every other `GAN` argument.

    Example:

    ```python
    wgan = WGANGP(data_shape=(2,), latent_dim=2, seed=0)
    wgan.compile()     # Adam(1e-4, 0, 0.9) for critic and generator
    wgan.fit(toy_dataset("grid25", batch_size=5 * 256), steps_per_epoch=500)
    ```

    References:
        Gulrajani et al. (2017), Improved Training of Wasserstein GANs.
    """

    log_names = GAN.log_names + ("gradient_penalty",)

    def __init__(self, data_shape, gradient_penalty_weight=10.0,
                 discriminator_steps=5, **kwargs):
        gradient_penalty_weight = checks.number("gradient_penalty_weight",
                                                gradient_penalty_weight, 0.0)
        if kwargs.get("r1_weight"):
            raise ValueError("expected r1_weight=0 for WGANGP (its critic has the "
                             "gradient penalty gradient_penalty_weight), received "
                             f"{kwargs['r1_weight']!r}")
        super().__init__(data_shape, discriminator_steps=discriminator_steps, **kwargs)
        self.gradient_penalty_weight = float(gradient_penalty_weight)

    def compile(self, optimizers=None, **kwargs):
        if optimizers is None:
            optimizers = {n: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)
                          for n in ("discriminator", "generator")}
        super().compile(optimizers=optimizers, **kwargs)

    def interpolate(self, real_packed, fake_packed, seed=None):
        """x̂ = eps * real + (1 - eps) * fake with eps ~ U[0, 1], one per
        (packed) sample, broadcast over the other axes."""
        shape = (ops.shape(real_packed)[0],) + (1,) * (len(real_packed.shape) - 1)
        seed = self.seed_generator if seed is None else seed
        eps = B.replica_noise(lambda s: keras.random.uniform(s, 0.0, 1.0, seed=seed), shape)
        return eps * real_packed + (1.0 - eps) * fake_packed

    def penalty(self, interpolated, packed_labels=None):
        """E[(||∇_x̂ f(x̂)||_2 - 1)^2] at packed inputs `interpolated`."""
        grads = B.input_gradient(
            lambda x: self.packed_logits(x, packed_labels), interpolated)
        return L.gradient_penalty(grads)

    def discriminator_objective(self, real, fake, labels):
        real_packed, fake_packed = self.pack(real), self.pack(fake)
        packed_labels = self._pack_labels(labels)
        real_scores = self.packed_logits(real_packed, packed_labels)
        fake_scores = self.packed_logits(fake_packed, packed_labels)
        gp = self.penalty(self.interpolate(real_packed, fake_packed), packed_labels)
        loss = (L.wasserstein_critic_loss(real_scores, fake_scores)
                + self.gradient_penalty_weight * gp)
        return loss, {"d_loss": loss, "d_real": ops.mean(real_scores),
                      "d_fake": ops.mean(fake_scores), "gradient_penalty": gp}

    def generator_objective(self, fake, labels):
        loss = L.wasserstein_generator_loss(self.discriminator_logits(fake, labels))
        return loss, {"g_loss": loss}

    def get_config(self):
        config = super().get_config()
        config["gradient_penalty_weight"] = self.gradient_penalty_weight
        return config
