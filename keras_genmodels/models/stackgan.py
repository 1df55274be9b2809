"""`StackGAN`: two-stage text-to-image GAN (Zhang et al. 2017) on the adversarial engine."""

import keras
import numpy as np
from keras import ops

from keras_genmodels import backend as B
from keras_genmodels.losses import matching as M
from keras_genmodels.models import checks
from keras_genmodels.models import text_encoder as _text_encoder  # noqa: F401 (registers
# TextImageEncoder, so a saved StackGAN loads wherever this module is imported)
from keras_genmodels.models.adversarial import AdversarialModel, Phase
from keras_genmodels.networks import stackgan as nets

STAGES = (1, 2)


def _build_string_layers(encoder):
    """Mark the encoder's string layers (TextVectorization, StringLookup) built.

    They run only in tf.data and the export graph; left unbuilt, the JAX and
    torch trainers would call the whole model on a data batch to build it.
    """
    for layer in encoder._flatten_layers():
        if not layer.built:
            layer.build((None,))
        layer.supports_jit = True


def _set_trainable(network, trainable):
    """`trainable` on every nested layer and variable of `network`. (Keras's
    setter skips a layer whose flag already has the value, e.g. a text encoder
    deserialized with `trainable=False` whose sub-layers were created later.)"""
    for layer in network._flatten_layers():
        layer.trainable = not trainable
        layer.trainable = trainable


@keras.saving.register_keras_serializable(package="keras_genmodels")
class StackGAN(AdversarialModel):
    """StackGAN: a caption's embedding drawn as a rough image, then refined.

    A frozen text encoder maps a caption to φ `(batch, embedding_dim)`.

    - **Conditioning augmentation** (CA): ĉ = μ(φ) + σ(φ) ⊙ ε, ε ~ N(0, I), with
      `[μ, log σ²]` from a Dense layer of φ, and λ · KL(N(μ, σ²) || N(0, I)) / d added
      to the generator's loss (λ = `kl_weight`; the KL is averaged over the
      d = `condition_dim` dimensions as in the authors' code, which uses λ = 2.0;
      see `losses.matching.conditioning_augmentation_kl`). Each stage has its own
      CA. The default λ = 0.02 is measured: on captioned MNIST at CPU budgets
      λ = 2 drowns the caption in CA's noise (stage-I label accuracy 0.72 / 0.51
      on seen / held-out combinations after 5 minutes, 0.95 / 0.86 with 0.02;
      `scripts/benchmarks/stackgan_mnist.py --kl-study`).
    - **Stage I**: G₀(z, ĉ₀) -> `(H/2, W/2, C)`; D₀ judges a stage-I image together
      with φ (compressed inside D); real images are 2x2 average-pooled to H/2.
    - **Stage II**: G₁(G₀(z, ĉ₀), ĉ₁) -> `(H, W, C)` through a down-sampling
      encoder, residual blocks and up-sampling; D₁ judges full-size images with φ.
    - **Matching-aware discriminators** (`losses.matching`): (real, φ) is real;
      (real, φ rolled by one in the batch) and (G(z, ĉ), φ) are fake:
      L_D = BCE(real, 1) + ½ [BCE(wrong, 0) + BCE(fake, 0)]. The generator
      minimises the non-saturating BCE(D(G(z, ĉ), φ), 1) + λ KL.

    **Stages.** `stage=1` trains D₀ then G₀ + CA₀ at each step; `stage=2` trains D₁
    then G₁ + CA₁ with stage I frozen (its networks, including batch-norm
    statistics, get `trainable=False`: stage I's weights do not change). Switch
    with `set_stage(2)` and `compile` again (fresh optimizers for the new pair;
    both phase optimizers of a stage live in the one `MultiOptimizer`). The text
    encoder is always frozen. One model samples both stages.

    **Data.** `fit` takes `(images, conditions)`: images `(batch, H, W, C)` in
    [0, 1] and, with a `text_encoder`, token ids `(batch, max_length)` (from
    `text_encoder.vectorize`, in tf.data); without one, embeddings φ
    `(batch, embedding_dim)` (the paper's precomputed-embedding setting).

    **Noise.** Generation reads one latent `noise` `(batch, latent_dim)`:
    columns `[0, noise_dim)` are z; with CA, the next `condition_dim` columns are
    ε₀ (stage I's CA) and the last `condition_dim` ε₁ (stage II's), so images are
    a deterministic function of (caption, noise); zeros there give ĉ = μ(φ).
    `latent_dim = noise_dim + 2 * condition_dim` (or `noise_dim` without CA).

    Metrics: `d_loss`, `g_loss`, `kl` (KL / d of the CA being trained), `d_real`,
    `d_wrong`, `d_fake` (mean D on the three kinds of pairs, in D's update).

    **Export** (`export_endpoints`): `generate` (= serving_default) with inputs
    `text` string `(batch,)` and `noise` float32 `(batch, latent_dim)`, outputs
    `stage1` `(batch, H/2, W/2, C)` and `stage2` `(batch, H, W, C)`; without a
    text encoder the first input is `embedding` `(batch, embedding_dim)`.

    **Bad input.** Constructor arguments are checked (image H, W divisible by 4;
    positive sizes; `stage` 1 or 2; `kl_weight` >= 0; a text encoder with
    `vectorize`, `encode_ids` and `embedding_dim`, or `embedding_dim`). Captions
    are read as the text encoder reads them: an empty caption is a valid
    (uninformative) condition, characters never seen map to the encoder's
    unknown token, and a caption longer than the encoder's window is read up to
    it; each gives finite images, in Python and in the served graph alike (no
    assertion can fail there). `generate` refuses non-string captions, noise of
    the wrong shape or with NaN/inf, and caption/noise batches of different sizes.

    Args:
        image_shape: tuple `(H, W, C)`, H and W divisible by 4. Defaults to
            `(28, 28, 1)`.
        text_encoder: a frozen text encoder (e.g.
            `keras_genmodels.models.text_encoder.TextImageEncoder`) or None.
        embedding_dim: int. Size of φ; required without `text_encoder` (else
            read from it).
        noise_dim: int. Size of z. Defaults to 32.
        condition_dim: int. Size of ĉ (N_g). Defaults to 16.
        stage: int. 1 or 2, the stage trained by `fit`. Defaults to 1.
        kl_weight: float. λ. Defaults to 0.02 (the authors' code: 2.0).
        conditioning_augmentation: bool. False: ĉ = Dense(φ), no noise, no KL
            (ablation). Defaults to True.
        mismatched_pairs: bool. False: D is trained on (real, φ) and (fake, φ)
            only (ablation). Defaults to True.
        stage1_filters: tuple of int. G₀'s filters, low resolution first.
            Defaults to `(128, 64)`.
        stage2_filters: int. G₁'s base filters. Defaults to 64.
        num_residual: int. G₁'s residual blocks. Defaults to 2.
        discriminator_filters: tuple of int. Both D's stride-2 convolutions
            (D₁ adds one more, doubling the last). Defaults to `(64, 128)`.
        compressed_dim: int. N_d, D's compression of φ. Defaults to 32.
        seed: int or None. Seed of the model's SeedGenerator. Defaults to None.

    Example:

    ```python
    model = StackGAN(text_encoder=encoder, seed=0)
    model.compile()                                   # Adam(2e-4, 0.5) per phase
    model.fit(pairs, epochs=10)                       # stage I: (images, ids)
    model.set_stage(2)
    model.compile()
    model.fit(pairs, epochs=10)                       # stage II, stage I frozen
    low, high = model.generate(["a thick seven"] * 4, model.sample_noise(4, seed=0))
    ```

    References:
        Zhang et al. (2017), StackGAN: Text to Photo-realistic Image Synthesis
        with Stacked Generative Adversarial Networks.
        Reed et al. (2016), Generative Adversarial Text to Image Synthesis.
    """

    log_names = ("d_loss", "g_loss", "kl", "d_real", "d_wrong", "d_fake")
    serving_default = "generate"

    def __init__(self, image_shape=(28, 28, 1), text_encoder=None, embedding_dim=None,
                 noise_dim=32, condition_dim=16, stage=1, kl_weight=0.02,
                 conditioning_augmentation=True, mismatched_pairs=True,
                 stage1_filters=(128, 64), stage2_filters=64, num_residual=2,
                 discriminator_filters=(64, 128), compressed_dim=32, seed=None, **kwargs):
        image_shape = checks.shape("image_shape", image_shape, ndim=3)
        if image_shape[0] % 4 or image_shape[1] % 4:
            raise ValueError(f"expected image height and width divisible by 4 (stage I draws "
                             f"half of each), received image_shape={image_shape}")
        if isinstance(text_encoder, dict):
            text_encoder = keras.saving.deserialize_keras_object(text_encoder)
        if text_encoder is not None:
            missing = [a for a in ("vectorize", "encode_ids", "embedding_dim")
                       if not hasattr(text_encoder, a)]
            if missing:
                raise ValueError(f"expected a text encoder with vectorize, encode_ids and "
                                 f"embedding_dim, received {type(text_encoder).__name__} "
                                 f"without {missing}")
            if embedding_dim is not None and int(embedding_dim) != int(text_encoder.embedding_dim):
                raise ValueError(f"expected embedding_dim={text_encoder.embedding_dim} (the text "
                                 f"encoder's), received {embedding_dim}")
            embedding_dim = int(text_encoder.embedding_dim)
        elif embedding_dim is None:
            raise ValueError("expected a text_encoder or an embedding_dim, received neither")
        embedding_dim = checks.integer("embedding_dim", embedding_dim)
        noise_dim = checks.integer("noise_dim", noise_dim)
        condition_dim = checks.integer("condition_dim", condition_dim)
        stage = self._checked_stage(stage)
        kl_weight = checks.number("kl_weight", kl_weight, 0.0)
        stage1_filters = checks.integers("stage1_filters", stage1_filters)
        stage2_filters = checks.integer("stage2_filters", stage2_filters)
        num_residual = checks.integer("num_residual", num_residual, 0)
        discriminator_filters = checks.integers("discriminator_filters", discriminator_filters)
        compressed_dim = checks.integer("compressed_dim", compressed_dim)
        low = (image_shape[0] // 2, image_shape[1] // 2, image_shape[2])
        ups = 2 ** (len(stage1_filters) - 1)
        if low[0] % ups or low[1] % ups:
            raise ValueError(f"expected stage-I size {low[:2]} divisible by 2**(len(stage1_"
                             f"filters) - 1) = {ups}, received stage1_filters="
                             f"{tuple(stage1_filters)}")
        super().__init__(**kwargs)
        # === Config ===
        self.image_shape = image_shape
        self.low_shape = low
        self.embedding_dim = embedding_dim
        self.noise_dim = noise_dim
        self.condition_dim = condition_dim
        self.stage = stage
        self.kl_weight = float(kl_weight)
        self.conditioning_augmentation = bool(conditioning_augmentation)
        self.mismatched_pairs = bool(mismatched_pairs)
        self.stage1_filters = tuple(stage1_filters)
        self.stage2_filters = stage2_filters
        self.num_residual = num_residual
        self.discriminator_filters = tuple(discriminator_filters)
        self.compressed_dim = compressed_dim
        self.seed = seed
        self.latent_dim = noise_dim + (2 * condition_dim if self.conditioning_augmentation else 0)
        # === Layers ===
        self.text_encoder = text_encoder
        if text_encoder is not None:
            _build_string_layers(text_encoder)
        self.seed_generator = keras.random.SeedGenerator(seed)
        ca = self.conditioning_augmentation
        self.conditioning1 = nets.conditioning_augmentation(
            embedding_dim, condition_dim, ca, name="conditioning1")
        self.conditioning2 = nets.conditioning_augmentation(
            embedding_dim, condition_dim, ca, name="conditioning2")
        self.generator1 = nets.stage1_generator(noise_dim, condition_dim, low,
                                                self.stage1_filters)
        self.generator2 = nets.stage2_generator(low, condition_dim, stage2_filters,
                                                num_residual)
        d = self.discriminator_filters
        self.discriminator1 = nets.text_discriminator(
            low, embedding_dim, d, compressed_dim, name="discriminator1")
        self.discriminator2 = nets.text_discriminator(
            image_shape, embedding_dim, d + (2 * d[-1],), compressed_dim, name="discriminator2")
        self._apply_stage()
        self.built = True

    # --- stages -----------------------------------------------------------------

    @staticmethod
    def _checked_stage(stage):
        if isinstance(stage, bool) or stage not in STAGES:
            raise ValueError(f"expected stage 1 or 2, received {stage!r}")
        return int(stage)

    def _stage_networks(self, stage):
        if stage == 1:
            return [self.conditioning1, self.generator1, self.discriminator1]
        return [self.conditioning2, self.generator2, self.discriminator2]

    def _apply_stage(self):
        for stage in STAGES:
            for net in self._stage_networks(stage):
                _set_trainable(net, stage == self.stage)
        if self.text_encoder is not None:
            _set_trainable(self.text_encoder, False)

    def set_stage(self, stage):
        """Select the stage `fit` trains (1 or 2); call `compile` again afterwards.

        Stage 2 freezes stage I (and stage 1 freezes stage II). The model is
        marked uncompiled, so `fit` before `compile` raises.
        """
        self.stage = self._checked_stage(stage)
        self._apply_stage()
        self.compiled = False
        self._phase_optimizers = {}
        return self

    # --- conditions ---------------------------------------------------------------

    def embed(self, conditions):
        """φ `(batch, embedding_dim)` of token ids (through the frozen text
        encoder) or of embeddings given directly (no text encoder)."""
        if self.text_encoder is None:
            return ops.cast(conditions, "float32")
        return ops.stop_gradient(self.text_encoder.encode_ids(ops.cast(conditions, "int32")))

    def condition(self, stage, phi, eps=None):
        """`(ĉ, kl)` of `stage`'s CA: ĉ = μ(φ) + exp(½ log σ²) ⊙ ε (ε drawn from the
        model's SeedGenerator when None) and the batch-mean KL; without CA
        ĉ = Dense(φ) and kl = 0."""
        net = self.conditioning1 if stage == 1 else self.conditioning2
        if not self.conditioning_augmentation:
            return net(phi), ops.convert_to_tensor(0.0)
        mean, log_var = net(phi)
        if eps is None:
            eps = B.replica_noise(
                lambda s: keras.random.normal(s, seed=self.seed_generator), ops.shape(mean))
        else:
            eps = ops.cast(eps, mean.dtype)
        return mean + ops.exp(0.5 * log_var) * eps, M.conditioning_augmentation_kl(mean, log_var)

    def sample_noise(self, num_samples, seed=None):
        """Latent noise `(num_samples, latent_dim)` ~ N(0, I) (z, then ε₀, ε₁ with CA);
        the model's SeedGenerator unless `seed` is given."""
        seed = self.seed_generator if seed is None else seed
        return keras.random.normal((int(num_samples), self.latent_dim), seed=seed)

    def _split_noise(self, noise):
        z = noise[:, :self.noise_dim]
        if not self.conditioning_augmentation:
            return z, None, None
        c = self.condition_dim
        return z, noise[:, self.noise_dim:self.noise_dim + c], noise[:, self.noise_dim + c:]

    # --- generation -----------------------------------------------------------------

    def downsample(self, images):
        """Real images `(batch, H, W, C)` -> stage-I size by 2x2 average pooling."""
        return ops.average_pool(images, 2, 2, padding="valid")

    def upsample(self, stage1_images):
        """Stage-I images -> `(batch, H, W, C)` by bilinear resizing (the baseline
        stage II must beat)."""
        return ops.image.resize(stage1_images, self.image_shape[:2], interpolation="bilinear")

    def _generate_phi(self, phi, noise):
        noise = ops.cast(noise, "float32")
        z, eps1, eps2 = self._split_noise(noise)
        c1, _ = self.condition(1, phi, eps1)
        low = self.generator1([z, c1], training=False)
        c2, _ = self.condition(2, phi, eps2)
        return low, self.generator2([low, c2], training=False)

    def ids(self, captions):
        """Token ids of captions (a string or a list of strings), via the text
        encoder's `vectorize` (TensorFlow string ops), as a NumPy int32 array."""
        if self.text_encoder is None:
            raise ValueError("StackGAN: expected embeddings (no text encoder), received captions")
        texts, _ = checks.texts(captions, "StackGAN.generate", "captions")
        return np.asarray(self.text_encoder.vectorize(texts)).astype("int32")

    def _phi(self, conditions, where):
        if isinstance(conditions, (str, bytes)) or (
                isinstance(conditions, (list, tuple)) and conditions
                and isinstance(conditions[0], (str, bytes))) or (
                isinstance(conditions, np.ndarray) and conditions.dtype.kind in "USO"):
            conditions = self.ids(conditions)
        if self.text_encoder is None:
            conditions = checks.codes(conditions, where, self.embedding_dim, name="embeddings")
            return ops.cast(conditions, "float32")
        array = np.asarray(conditions)
        if array.ndim != 2 or array.dtype.kind not in "iu":
            raise ValueError(f"{where}: expected captions (strings) or token ids (an int array "
                             f"(N, length)), received {array.dtype} array of shape {array.shape}")
        return self.embed(array)

    def generate(self, conditions, noise):
        """Both stages' images for captions.

        Args:
            conditions: captions (a string or a list of N strings), token ids
                `(N, length)` int, or (no text encoder) embeddings
                `(N, embedding_dim)`.
            noise: `(N, latent_dim)` (see the class docstring; `sample_noise`).

        Returns:
            `(stage1, stage2)` tensors `(N, H/2, W/2, C)` and `(N, H, W, C)`.
        """
        phi = self._phi(conditions, "StackGAN.generate")
        noise = checks.codes(noise, "StackGAN.generate", self.latent_dim, name="noise")
        n_phi, n_noise = int(ops.shape(phi)[0]), int(ops.shape(noise)[0])
        if n_phi != n_noise:
            raise ValueError(f"StackGAN.generate: expected one noise row per caption, received "
                             f"{n_phi} caption(s) and {n_noise} noise row(s)")
        return self._generate_phi(phi, noise)

    def call(self, inputs, training=False):
        """`model((phi_or_ids, noise))` -> stage-II images (unchecked Keras hook)."""
        conditions, noise = inputs
        return self._generate_phi(self.embed(conditions), noise)[1]

    def sample(self, num_samples, labels=None, seed=None, captions=None):
        """`(stage1, stage2)` NumPy images for `captions` (one caption repeated, or
        a list of `num_samples`) with fresh noise (`seed`, or the model's
        SeedGenerator). `labels` is not used (StackGAN is conditioned on text)."""
        num_samples = checks.integer("num_samples", num_samples)
        if captions is None:
            raise ValueError("StackGAN.sample: expected captions (e.g. --text \"a thin two\"), "
                             "received none")
        texts, single = checks.texts(captions, "StackGAN.sample", "captions")
        if single or len(texts) == 1:
            texts = texts * num_samples
        if len(texts) != num_samples:
            raise ValueError(f"StackGAN.sample: expected 1 or {num_samples} captions, received "
                             f"{len(texts)}")
        low, high = self.generate(texts, self.sample_noise(num_samples, seed=seed))
        return ops.convert_to_numpy(low), ops.convert_to_numpy(high)

    # --- the game -------------------------------------------------------------------

    def _noise(self, n):
        return B.replica_noise(
            lambda s: keras.random.normal(s, seed=self.seed_generator), (n, self.noise_dim))

    def _fake(self, phi, stage, training=True):
        """Generated images of `stage` and the KL of the CA being trained."""
        n = ops.shape(phi)[0]
        c1, kl1 = self.condition(1, phi)
        low = self.generator1([self._noise(n), c1], training=training and stage == 1)
        if stage == 1:
            return low, kl1
        c2, kl2 = self.condition(2, phi)
        return self.generator2([ops.stop_gradient(low), c2], training=training), kl2

    def _real(self, images, stage):
        images = ops.cast(images, "float32")
        return self.downsample(images) if stage == 1 else images

    def discriminator_terms(self, real, fake, phi, stage=None):
        """Logits of the stage's D on (real, φ), (real, roll(φ, 1)) and (fake, φ)."""
        stage = self.stage if stage is None else stage
        d = self.discriminator1 if stage == 1 else self.discriminator2
        real, fake, phi = (ops.convert_to_tensor(t) for t in (real, fake, phi))
        wrong_phi = ops.roll(phi, 1, axis=0)
        return d([real, phi]), d([real, wrong_phi]), d([fake, phi])

    def discriminator_objective(self, real, fake, phi):
        """`(loss, logs)` of one update of the current stage's D."""
        real_l, wrong_l, fake_l = self.discriminator_terms(real, fake, phi)
        loss = M.matching_aware_discriminator_loss(
            real_l, wrong_l if self.mismatched_pairs else None, fake_l)
        return loss, {"d_loss": loss, "d_real": ops.mean(ops.sigmoid(real_l)),
                      "d_wrong": ops.mean(ops.sigmoid(wrong_l)),
                      "d_fake": ops.mean(ops.sigmoid(fake_l))}

    def generator_objective(self, fake, kl, phi):
        """`(loss, logs)`: non-saturating BCE(D(fake, φ), 1) + λ KL."""
        d = self.discriminator1 if self.stage == 1 else self.discriminator2
        fake, phi = ops.convert_to_tensor(fake), ops.convert_to_tensor(phi)
        adversarial = ops.mean(ops.softplus(-d([fake, phi])))
        loss = adversarial + self.kl_weight * kl
        return loss, {"g_loss": loss, "kl": kl}

    def _batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError("StackGAN expects batches (images, conditions); received images "
                             "only.")
        return x, self.embed(y)

    def phases(self):
        stage = self.stage

        def discriminator_step(data, index):
            x, phi = self._batch(data)
            fake, _ = self._fake(phi, stage)
            return self.discriminator_objective(self._real(x, stage), ops.stop_gradient(fake),
                                                phi)

        def generator_step(data, index):
            _, phi = self._batch(data)
            fake, kl = self._fake(phi, stage)
            return self.generator_objective(fake, kl, phi)

        conditioning, generator, discriminator = self._stage_networks(stage)
        return [Phase("discriminator", discriminator.trainable_variables, discriminator_step),
                Phase("generator", generator.trainable_variables
                      + conditioning.trainable_variables, generator_step)]

    # --- export and config ----------------------------------------------------------

    def export_endpoints(self):
        """`generate`: `text` string `(None,)` (or `embedding` float32 `(None,
        embedding_dim)` without a text encoder) and `noise` float32 `(None,
        latent_dim)` -> `{"stage1", "stage2"}` images."""
        noise_spec = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        if self.text_encoder is None:
            def generate(embedding, noise):
                low, high = self._generate_phi(embedding, noise)
                return {"stage1": low, "stage2": high}

            specs = [keras.InputSpec(shape=(None, self.embedding_dim), dtype="float32"),
                     noise_spec]
        else:
            def generate(text, noise):
                ids = self.text_encoder.vectorize(text)
                low, high = self._generate_phi(self.embed(ids), noise)
                return {"stage1": low, "stage2": high}

            specs = [keras.InputSpec(shape=(None,), dtype="string"), noise_spec]
        return {"generate": (generate, specs)}

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=self.image_shape,
            text_encoder=None if self.text_encoder is None
            else keras.saving.serialize_keras_object(self.text_encoder),
            embedding_dim=self.embedding_dim, noise_dim=self.noise_dim,
            condition_dim=self.condition_dim, stage=self.stage, kl_weight=self.kl_weight,
            conditioning_augmentation=self.conditioning_augmentation,
            mismatched_pairs=self.mismatched_pairs, stage1_filters=self.stage1_filters,
            stage2_filters=self.stage2_filters, num_residual=self.num_residual,
            discriminator_filters=self.discriminator_filters,
            compressed_dim=self.compressed_dim, seed=self.seed)
        return config
