"""`Pix2Pix`: image-to-image translation with a conditional GAN (Isola et al. 2017)."""

import keras
from keras import ops

from keras_genmodels.losses import image_translation as L
from keras_genmodels.models import checks
from keras_genmodels.models.adversarial import AdversarialModel, Phase
from keras_genmodels.networks.patchgan import patchgan_discriminator, receptive_field
from keras_genmodels.networks.unet import check_unet_shape, default_unet_filters, unet_generator

_UNPAIRED = ("expected (input, target) image pairs, e.g. "
             "keras_genmodels.data.paired.paired_dataset(...)")


@keras.saving.register_keras_serializable(package="keras_genmodels")
class Pix2Pix(AdversarialModel):
    """Pix2pix: a U-Net generator G and a PatchGAN discriminator D on image pairs.

    G translates an input image x `(H, W, C_in)` to an output `(H, W, C_out)`
    (`networks.unet`); D judges (input, output) pairs concatenated on
    channels, one logit per patch (`networks.patchgan`). Each training step on
    a batch of pairs (x, y) runs

    1. one discriminator update on `L_D = 0.5 * (E[softplus(-D(x, y))] +
       E[softplus(D(x, G(x)))])` (G's output held fixed);
    2. one generator update on `L_G = E[softplus(-D(x, G(x)))] + lambda *
       mean|y - G(x)|` (non-saturating cGAN loss plus L1; lambda = 100),

    see `losses.image_translation`. `l1_only=True` is the paper's L1-only
    ablation: no discriminator is built and each step is one generator update
    on `lambda * mean|y - G(x)|`.

    The U-Net's dropout is its only noise and is active in training only:
    `translate` (and the exported signature) is deterministic. Batch
    normalisation uses its moving statistics at inference (the paper used
    batch statistics with batch size 1).

    Metrics: `g_loss` (the total generator loss), `l1`; unless `l1_only`
    also `d_loss`, `g_adversarial`, `d_real` and `d_fake` (mean D
    probabilities on real and generated pairs).

    **Bad input** raises `ValueError` before any work: constructor sizes;
    `translate` images of another shape than `input_image_shape`, non-float,
    NaN/inf or outside [0, 1]; `fit` data that are not (input, target) pairs
    of `input_image_shape` and `output_image_shape` (checked on a
    `tf.data.Dataset`'s element spec or on arrays before the first step).

    Shapes: input `(batch, H, W, C_in)`, output and target
    `(batch, H, W, output_channels)`; H and W divisible by
    `2**len(generator_filters)` (28 x 28 and 32 x 32 with the defaults).

    Args:
        image_shape: tuple `(H, W, C_in)`. Shape of one input image.
        output_channels: int. Channels of the output image. Defaults to
            `C_in`.
        generator_filters: tuple of int or None. U-Net encoder filters, high
            resolution first (None: `default_unet_filters`). Defaults to None.
        discriminator_filters: tuple of int. PatchGAN filters; `(64, 128)`
            sees 16 x 16 patches. Defaults to `(64, 128)`.
        l1_weight: float. lambda. Defaults to 100.
        l1_only: bool. Train G on the L1 term alone (no D). Defaults to False.
        dropout: float. U-Net dropout rate. Defaults to 0.5.
        dropout_blocks: int. U-Net decoder blocks with dropout. Defaults to 1.
        seed: int or None. Seed of the dropout noise. Defaults to None.
        **kwargs: `keras.Model` arguments (e.g. `name`).

    Example:

    ```python
    ds = paired_dataset("fashion_mnist", pairs="edges", batch_size=64)
    model = Pix2Pix(image_shape=(28, 28, 1), output_channels=1, seed=0)
    model.compile()          # Adam(2e-4, beta_1=0.5) for D and G
    model.fit(ds, epochs=5)
    y = model.translate(edges)     # (N, 28, 28, 1) in [0, 1]
    ```

    References:
        Isola, Zhu, Zhou & Efros (2017), Image-to-Image Translation with
        Conditional Adversarial Networks.
    """

    log_names = ("d_loss", "g_loss", "g_adversarial", "l1", "d_real", "d_fake")
    serving_default = "translate"

    def __init__(self, image_shape, output_channels=None, generator_filters=None,
                 discriminator_filters=(64, 128), l1_weight=100.0, l1_only=False, dropout=0.5,
                 dropout_blocks=1, seed=None, **kwargs):
        image_shape = checks.conv_image_shape("image_shape", image_shape, "pix2pix")
        output_channels = checks.integer("output_channels",
                                         image_shape[-1] if output_channels is None
                                         else output_channels)
        if generator_filters is not None:
            generator_filters = checks.integers("generator_filters", generator_filters) or None
        generator_filters = generator_filters or default_unet_filters(image_shape)
        check_unet_shape(image_shape, generator_filters)
        discriminator_filters = checks.integers("discriminator_filters", discriminator_filters)
        if not discriminator_filters:
            raise ValueError("expected discriminator_filters with at least one integer, "
                             "received ()")
        l1_weight = checks.number("l1_weight", l1_weight, 0.0)
        if l1_only not in (True, False):
            raise ValueError(f"expected l1_only True or False, received {l1_only!r}")
        dropout = checks.number("dropout", dropout, 0.0, 1.0, include_maximum=False)
        dropout_blocks = checks.integer("dropout_blocks", dropout_blocks, 0)
        super().__init__(**kwargs)
        # === Config ===
        self.image_shape = tuple(image_shape)
        self.output_channels = output_channels
        self.generator_filters = tuple(generator_filters)
        self.discriminator_filters = tuple(discriminator_filters)
        self.l1_weight = float(l1_weight)
        self.l1_only = bool(l1_only)
        self.dropout = float(dropout)
        self.dropout_blocks = dropout_blocks
        self.seed = seed
        # === Layers ===
        self.generator = unet_generator(
            self.image_shape, output_channels, self.generator_filters,
            dropout_blocks=dropout_blocks, dropout=self.dropout, seed=seed)
        if self.l1_only:
            self.discriminator = None
            self._trackers = {n: self._trackers[n] for n in ("g_loss", "l1")}
        else:
            pair_shape = self.image_shape[:2] + (self.image_shape[2] + output_channels,)
            self.discriminator = patchgan_discriminator(pair_shape, self.discriminator_filters)
        self.built = True

    # --- shapes -----------------------------------------------------------------

    @property
    def input_image_shape(self):
        """`(H, W, C_in)`: one image `translate` accepts."""
        return self.image_shape

    @property
    def output_image_shape(self):
        """`(H, W, output_channels)`: one image `translate` returns."""
        return self.image_shape[:2] + (self.output_channels,)

    @property
    def patch_size(self):
        """Side of the square input patch one discriminator logit judges."""
        return receptive_field(len(self.discriminator_filters))

    # --- inference ----------------------------------------------------------------

    def translate(self, images):
        """G(x): float images `(N, H, W, C_in)` in [0, 1] -> `(N, H, W, output_channels)`
        (a backend tensor; deterministic)."""
        images = checks.data(images, "Pix2Pix.translate", self.input_image_shape, (0.0, 1.0),
                             name="images")
        return self.generator(ops.convert_to_tensor(images), training=False)

    def call(self, inputs, training=False):
        """`model(x)`: the generator (unchecked: the Keras hook)."""
        return self.generator(inputs, training=training)

    # --- data checks ----------------------------------------------------------------

    def check_pairs(self, input_shape, target_shape, where="Pix2Pix.fit"):
        """Raise ValueError unless one pair has shapes `input_image_shape` and
        `output_image_shape` (None dimensions pass)."""
        for name, shape, expected in (("input", input_shape, self.input_image_shape),
                                      ("target", target_shape, self.output_image_shape)):
            shape = None if shape is None else tuple(shape)
            ok = shape is not None and len(shape) == 3 and all(
                s is None or int(s) == e for s, e in zip(shape, expected))
            if not ok:
                raise ValueError(f"{where}: expected {name} images of shape {expected} "
                                 f"(the model's {name} shape), received {shape}")

    def _check_training_data(self, x, y):
        import numpy as np

        if x is None:
            return
        spec = getattr(x, "element_spec", None)
        if spec is not None:  # a tf.data.Dataset
            if not isinstance(spec, tuple) or len(spec) < 2:
                raise ValueError(f"Pix2Pix.fit: {_UNPAIRED}; received a dataset of "
                                 f"single elements {spec}")
            self.check_pairs(spec[0].shape[1:], spec[1].shape[1:])
            return
        if isinstance(x, (np.ndarray, list)) or ops.is_tensor(x):
            if y is None:
                raise ValueError(f"Pix2Pix.fit: {_UNPAIRED}; received images x only (y=None)")
            x_shape, y_shape = np.shape(x), np.shape(y)
            self.check_pairs(x_shape[1:], y_shape[1:])
            if x_shape[0] != y_shape[0]:
                raise ValueError(f"Pix2Pix.fit: expected as many targets as inputs, received "
                                 f"{x_shape[0]} inputs and {y_shape[0]} targets")

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit` on (input, target) pairs, checked before the first step."""
        self._check_training_data(x, y)
        return super().fit(x, y, *args, **kwargs)

    def _pair(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError(f"Pix2Pix.fit: {_UNPAIRED}; received images only")
        self.check_pairs(x.shape[1:], y.shape[1:])
        return x, y

    # --- the game -------------------------------------------------------------------

    def _logits(self, inputs, outputs):
        return self.discriminator(ops.concatenate([inputs, outputs], axis=-1), training=True)

    def discriminator_objective(self, inputs, targets, generated):
        """`(loss, logs)` of the discriminator update on real and generated pairs."""
        real = self._logits(inputs, targets)
        fake = self._logits(inputs, generated)
        loss = L.conditional_discriminator_loss(real, fake)
        return loss, {"d_loss": loss, "d_real": ops.mean(ops.sigmoid(real)),
                      "d_fake": ops.mean(ops.sigmoid(fake))}

    def generator_objective(self, inputs, targets, generated):
        """`(loss, logs)` of the generator update: cGAN + lambda * L1 (L1 on
        `generated` vs `targets` only; `inputs` only condition D)."""
        logits = None if self.l1_only else self._logits(inputs, generated)
        total, adv, l1 = L.translation_generator_loss(logits, targets, generated,
                                                      self.l1_weight)
        logs = {"g_loss": total, "l1": l1}
        if not self.l1_only:
            logs["g_adversarial"] = adv
        return total, logs

    def phases(self):
        def discriminator_step(data, index):
            inputs, targets = self._pair(data)
            generated = ops.stop_gradient(self.generator(inputs, training=True))
            return self.discriminator_objective(inputs, targets, generated)

        def generator_step(data, index):
            inputs, targets = self._pair(data)
            return self.generator_objective(inputs, targets,
                                            self.generator(inputs, training=True))

        generator = Phase("generator", self.generator.trainable_variables, generator_step)
        if self.l1_only:
            return [generator]
        return [Phase("discriminator", self.discriminator.trainable_variables,
                      discriminator_step), generator]

    # --- export and config ------------------------------------------------------------

    def export_endpoints(self):
        """`translate`: `image` float32 `(None, H, W, C_in)` -> `{"image": (None, H, W,
        output_channels)}`."""
        def translate(image):
            return {"image": self.generator(image, training=False)}

        spec = keras.InputSpec(shape=(None,) + self.input_image_shape, dtype="float32")
        return {"translate": (translate, [spec])}

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=self.image_shape, output_channels=self.output_channels,
            generator_filters=self.generator_filters,
            discriminator_filters=self.discriminator_filters, l1_weight=self.l1_weight,
            l1_only=self.l1_only, dropout=self.dropout, dropout_blocks=self.dropout_blocks,
            seed=self.seed)
        return config
