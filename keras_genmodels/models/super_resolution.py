"""Single-image super-resolution: SRResNet (MSE) and SRGAN (Ledig et al. 2017)."""

import keras
import numpy as np
from keras import ops

from keras_genmodels.losses import adversarial as L
from keras_genmodels.models import checks
from keras_genmodels.models.adversarial import AdversarialModel, Phase
from keras_genmodels.networks import srresnet as nets

SRRESNET_LOGS = ("loss", "mse", "psnr")
SRGAN_LOGS = ("d_loss", "g_loss", "content_loss", "adversarial_loss", "mse", "psnr",
              "d_real", "d_fake")


def _image_shape(name, value):
    value = checks.shape(name, value)
    if len(value) != 3:
        raise ValueError(f"expected {name} (H, W, C), received {value}")
    return value


@keras.saving.register_keras_serializable(package="keras_genmodels")
class SuperResolution(AdversarialModel):
    """SRResNet and SRGAN: a low-resolution image in, an s times larger one out.

    The generator G is SRResNet (`networks.srresnet.srresnet_generator`: B
    residual blocks with BatchNorm and PReLU, a global skip, and log2(s)
    sub-pixel x2 up-sampling stages, convolution + `DepthToSpace`). Low-res
    inputs are the high-res images area-downsampled by s (`downsample`, an
    s x s average). Pixels are in [0, 1].

    **SRResNet** (`adversarial=False`): one phase minimising the content loss
    (pixel MSE by default, `E ||G(x_lr) - x_hr||^2 / D`), i.e. the PSNR-optimal
    regressor, which averages plausible textures into blur.

    **SRGAN** (`adversarial=True`): two phases on the adversarial engine per
    step, (1) the discriminator D on real high-res images vs G(x_lr)
    (`losses.adversarial.discriminator_loss`), (2) the generator on

        l_SR = l_content + adversarial_weight * (-log D(G(x_lr))),  weight 1e-3

    (the non-saturating adversarial loss, the paper's Eq. 6). The paper's
    content loss is a distance between VGG-19 activations; VGG weights are
    a download, so here the content loss is computed in **the package's
    in-domain feature network** instead: pass `content_network`, a frozen
    model returning intermediate activations of the classifier that
    `keras_genmodels.metrics.feature_networks.feature_extractor(dataset)`
    trains offline (build it with `in_domain_content_network(dataset)`), and

        l_content = content_weight * sum_l mean((phi_l(G(x_lr)) - phi_l(x_hr))^2)
                    + pixel_weight * MSE.

    The content network is a sub-model of this one: its architecture is in
    the config and its weights in the weight file, so a `.keras` file is
    self-contained (and loads offline on every backend). Without a content
    network the content loss is the pixel MSE (the paper's "SRGAN-MSE").
    Caveat when scoring: the in-domain FID uses the penultimate layer of the
    same classifier, so an SRGAN trained on its features is optimised in
    (part of) the space it is scored in.

    As in the paper, train SRResNet first and start SRGAN from it
    (`init_generator_from`).

    Metrics: SRResNet `loss`, `mse`, `psnr` (mean per-image PSNR of the
    clipped output, dB); SRGAN adds `d_loss`, `g_loss`, `content_loss`,
    `adversarial_loss`, `d_real`, `d_fake` (mean D probabilities).

    **Data**: `fit` on `(low_res, high_res)` pairs: low-res `(batch, H/s, W/s,
    C)`, high-res `(batch, H, W, C)`. Bad input raises `ValueError` before
    any work: a shape that does not divide by `scale`, unpaired data, pairs
    of the wrong sizes or channels (checked on arrays and on a tf.data
    `element_spec`), and in `translate` non-float, out-of-range or
    wrongly-shaped images.

    **Use and export**: `translate(x_lr)` -> numpy `(N, H, W, C)` clipped to
    [0, 1]; SavedModel signature `translate` (= `serving_default`): `image`
    float32 `(None, H/s, W/s, C)` -> `{"image": (None, H, W, C)}`.

    Args:
        image_shape: tuple `(H, W, C)` of the high-resolution images; H and W
            divisible by `scale`.
        scale: int. 2, 4 or 8. Defaults to 4.
        filters: int. Generator width F. Defaults to 64 (the paper).
        num_blocks: int. Residual blocks B. Defaults to 16 (the paper).
        adversarial: bool. SRGAN (True) or SRResNet (False). Defaults to False.
        content_network: `keras.Model` or None. Images `(H, W, C)` -> one
            feature map or a list of them; frozen. Defaults to None (pixel MSE).
        content_weight: float. Weight of the feature distance. Defaults to 1.
        pixel_weight: float. Weight of an added pixel MSE (with a content
            network). Defaults to 0.
        adversarial_weight: float. Defaults to 1e-3 (the paper).
        discriminator_filters: tuple of int. Defaults to `(32, 64)`.
        discriminator_units: int. Defaults to 256.
        output_activation: str or None. Generator output activation.
            Defaults to None (linear, clipped when served).
        upsample_skip: None, `"nearest"` or `"bilinear"`: the generator adds this
            interpolation of its input to its output and learns the residual (not in the
            paper; see `srresnet_generator`). Defaults to None.
        **kwargs: `keras.Model` arguments.

    Example:

    ```python
    sr = SuperResolution((28, 28, 1), scale=4, filters=32, num_blocks=4)
    sr.compile()                                  # Adam(1e-4) (the paper)
    sr.fit(paired_dataset, epochs=5)              # (x_lr (b,7,7,1), x_hr (b,28,28,1))
    gan = SuperResolution((28, 28, 1), scale=4, filters=32, num_blocks=4,
                          adversarial=True,
                          content_network=in_domain_content_network("fashion_mnist"))
    gan.init_generator_from(sr)
    gan.compile()
    gan.fit(paired_dataset, epochs=5)
    x_sr = gan.translate(x_lr)                    # numpy (N, 28, 28, 1)
    ```

    References:
        Ledig et al. (2017), Photo-Realistic Single Image Super-Resolution
        Using a Generative Adversarial Network.
        Shi et al. (2016), Efficient Sub-Pixel Convolutional Neural Network.
        Blau & Michaeli (2018), The Perception-Distortion Tradeoff.
    """

    serving_default = "translate"
    log_names = SRGAN_LOGS

    def __init__(self, image_shape, scale=4, filters=64, num_blocks=16, adversarial=False,
                 content_network=None, content_weight=1.0, pixel_weight=0.0,
                 adversarial_weight=1e-3, discriminator_filters=(32, 64),
                 discriminator_units=256, output_activation=None, upsample_skip=None,
                 **kwargs):
        image_shape = _image_shape("image_shape", image_shape)
        scale = checks.integer("scale", scale, 2)
        nets.upsampling_stages(scale)
        height, width, channels = image_shape
        if height % scale or width % scale:
            raise ValueError(
                f"expected image_shape with H and W divisible by scale={scale}, received "
                f"{image_shape} (a {height}x{width} image has no {scale}x smaller "
                f"integer size; crop or pad it, or choose another scale)")
        filters = checks.integer("filters", filters)
        num_blocks = checks.integer("num_blocks", num_blocks, 0)
        content_weight = checks.number("content_weight", content_weight, 0.0)
        pixel_weight = checks.number("pixel_weight", pixel_weight, 0.0)
        adversarial_weight = checks.number("adversarial_weight", adversarial_weight, 0.0)
        discriminator_filters = checks.integers("discriminator_filters",
                                                discriminator_filters)
        discriminator_units = checks.integer("discriminator_units", discriminator_units)
        if isinstance(content_network, dict):
            content_network = keras.saving.deserialize_keras_object(content_network)
        if content_network is not None:
            _check_content_network(content_network, image_shape)
        super().__init__(**kwargs)
        # === Config ===
        self.image_shape = image_shape
        self.scale = scale
        self.low_res_shape = (height // scale, width // scale, channels)
        self.filters = filters
        self.num_blocks = num_blocks
        self.adversarial = bool(adversarial)
        self.content_weight = content_weight
        self.pixel_weight = pixel_weight
        self.adversarial_weight = adversarial_weight
        self.discriminator_filters = discriminator_filters
        self.discriminator_units = discriminator_units
        self.output_activation = output_activation
        self.upsample_skip = upsample_skip
        # === Layers ===
        self.generator = nets.srresnet_generator(
            self.low_res_shape, scale, filters, num_blocks, output_activation,
            name="generator", upsample_skip=upsample_skip)
        self.discriminator = nets.srgan_discriminator(
            image_shape, discriminator_filters, discriminator_units,
            name="discriminator") if self.adversarial else None
        self.content_network = content_network
        if content_network is not None:
            content_network.trainable = False
        names = SRGAN_LOGS if self.adversarial else SRRESNET_LOGS
        self._trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True

    # --- networks ----------------------------------------------------------

    @property
    def input_image_shape(self):
        """`(H/s, W/s, C)`: what `translate` takes (`genmodels translate-image`)."""
        return self.low_res_shape

    @property
    def output_image_shape(self):
        """`(H, W, C)`: what `translate` returns."""
        return self.image_shape

    def _super_resolve(self, low_res, training=False):
        return self.generator(low_res, training=training)

    def _translate(self, low_res):
        return ops.clip(self._super_resolve(low_res), 0.0, 1.0)

    def call(self, low_res, training=False):
        """The clipped generator output (unchecked: the Keras hook)."""
        return ops.clip(self._super_resolve(low_res, training=training), 0.0, 1.0)

    def _check_low_res(self, x, where):
        shape = tuple(getattr(x, "shape", np.shape(x)))
        if shape[1:] == self.image_shape and self.image_shape != self.low_res_shape:
            raise ValueError(
                f"{where}: expected image as low-resolution images of shape (N, "
                f"{', '.join(map(str, self.low_res_shape))}) (the model's input, "
                f"{self.scale}x smaller than its {self.image_shape} output), received shape "
                f"{shape}: high-resolution images? downsample them first "
                f"(model.downsample(x))")
        return checks.data(x, where, self.low_res_shape, (0.0, 1.0), name="image")

    def translate(self, x, batch_size=256):
        """Super-resolve low-res images `(N, H/s, W/s, C)` in [0, 1] ->
        numpy `(N, H, W, C)` in [0, 1], in batches of `batch_size`."""
        x = self._check_low_res(x, "SuperResolution.translate")
        batch_size = checks.integer("batch_size", batch_size)
        x = np.asarray(ops.convert_to_numpy(x), dtype="float32")
        parts = [ops.convert_to_numpy(self._translate(x[i:i + batch_size]))
                 for i in range(0, len(x), batch_size)]
        if not parts:
            return np.zeros((0,) + self.image_shape, "float32")
        return np.concatenate(parts).astype("float32")

    def downsample(self, x):
        """Area-downsample high-res images `(N, H, W, C)` by `scale`: the mean of
        each s x s block (equal to `tf.image.resize(..., method="area")` for an
        integer factor) -> `(N, H/s, W/s, C)` tensor."""
        x = checks.data(x, "SuperResolution.downsample", self.image_shape, name="x")
        return area_downsample(x, self.scale)

    # --- the losses ----------------------------------------------------------

    def _pair(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError(
                "SuperResolution: expected (low_res, high_res) pairs, received images alone "
                "(an unpaired dataset)")
        return x, y

    def content_loss(self, fake, real):
        """`(loss, mse)`: the content loss (see the class docstring) and the pixel MSE."""
        mse = ops.mean(ops.square(fake - real))
        if self.content_network is None:
            return mse, mse
        fake_features = self.content_network(fake, training=False)
        real_features = self.content_network(real, training=False)
        if not isinstance(fake_features, (list, tuple)):
            fake_features, real_features = [fake_features], [real_features]
        distance = 0.0
        for f, r in zip(fake_features, real_features):
            distance = distance + ops.mean(ops.square(f - ops.stop_gradient(r)))
        return self.content_weight * distance + self.pixel_weight * mse, mse

    @staticmethod
    def _psnr(fake, real):
        err = ops.mean(ops.square(ops.clip(fake, 0.0, 1.0) - real), axis=(1, 2, 3))
        return ops.mean(-10.0 * ops.log(ops.maximum(err, 1e-10)) / np.log(10.0))

    def phases(self):
        def generator_step(data, index):
            low, high = self._pair(data)
            fake = self._super_resolve(low, training=True)
            content, mse = self.content_loss(fake, high)
            logs = {"mse": mse, "psnr": self._psnr(fake, high)}
            if not self.adversarial:
                logs["loss"] = content
                return content, logs
            adversarial = L.generator_non_saturating_loss(
                self.discriminator(fake, training=True))
            loss = content + self.adversarial_weight * adversarial
            logs.update(g_loss=loss, content_loss=content, adversarial_loss=adversarial)
            return loss, logs

        generator = Phase("generator", self.generator.trainable_variables, generator_step)
        if not self.adversarial:
            return [generator]

        def discriminator_step(data, index):
            low, high = self._pair(data)
            fake = ops.stop_gradient(self._super_resolve(low, training=True))
            real_logits = self.discriminator(high, training=True)
            fake_logits = self.discriminator(fake, training=True)
            loss = L.discriminator_loss(real_logits, fake_logits)
            return loss, {"d_loss": loss, "d_real": ops.mean(ops.sigmoid(real_logits)),
                          "d_fake": ops.mean(ops.sigmoid(fake_logits))}

        return [Phase("discriminator", self.discriminator.trainable_variables,
                      discriminator_step), generator]

    def compile(self, optimizers=None, **kwargs):
        """One Adam per phase; default Adam(1e-4, beta_1=0.9) (the paper)."""
        if optimizers is None:
            optimizers = {p.name: keras.optimizers.Adam(1e-4, beta_1=0.9)
                          for p in self.phases()}
        super().compile(optimizers=optimizers, **kwargs)

    # --- data checks ---------------------------------------------------------

    def check_pairs(self, low_shape, high_shape, where="SuperResolution.fit"):
        """Raise ValueError unless sample shapes `low_shape`/`high_shape` (batch axis
        included, None allowed) match the model's low- and high-res shapes."""
        want_low, want_high = self.low_res_shape, self.image_shape
        ok = (len(low_shape) == 4 and len(high_shape) == 4
              and all(a in (None, b) for a, b in zip(low_shape[1:], want_low))
              and all(a in (None, b) for a, b in zip(high_shape[1:], want_high)))
        if not ok:
            def show(s):
                return "(N, " + ", ".join(str(d) for d in s[1:]) + ")" if len(s) else "()"
            raise ValueError(
                f"{where}: expected (low_res, high_res) pairs of shapes "
                f"{show((None,) + want_low)} and {show((None,) + want_high)} (scale "
                f"{self.scale}), received {show(tuple(low_shape))} and "
                f"{show(tuple(high_shape))}")

    def _check_fit_data(self, x, y):
        spec = getattr(x, "element_spec", None)
        if spec is not None:
            if not isinstance(spec, tuple) or len(spec) < 2:
                raise ValueError(
                    "SuperResolution.fit: expected a dataset of (low_res, high_res) pairs, "
                    f"received elements {spec} (an unpaired dataset)")
            self.check_pairs(tuple(spec[0].shape), tuple(spec[1].shape))
            return
        if isinstance(x, (tuple, list)) and y is None and len(x) == 2:
            x, y = x
        if y is None and hasattr(x, "shape"):
            raise ValueError(
                "SuperResolution.fit: expected (low_res, high_res) pairs (x=low_res, "
                "y=high_res), received images alone (an unpaired dataset)")
        if hasattr(x, "shape") and hasattr(y, "shape"):
            self.check_pairs(tuple(x.shape), tuple(y.shape))
            if x.shape[0] != y.shape[0]:
                raise ValueError(
                    f"SuperResolution.fit: expected as many high-res targets as low-res "
                    f"inputs, received {x.shape[0]} and {y.shape[0]}")

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit` on `(low_res, high_res)` pairs, shapes checked first."""
        self._check_fit_data(x, y)
        return super().fit(x, y, *args, **kwargs)

    # --- SRResNet -> SRGAN -----------------------------------------------------

    def generator_config(self):
        """What two models' generators must share for weights to be copied."""
        return {"image_shape": self.image_shape, "scale": self.scale, "filters": self.filters,
                "num_blocks": self.num_blocks, "output_activation": self.output_activation,
                "upsample_skip": self.upsample_skip}

    def init_generator_from(self, other):
        """Copy the generator weights (BatchNorm statistics included) of `other`, a
        `SuperResolution` (e.g. a trained SRResNet) or a `.keras` path to one.
        Raises ValueError if the generators differ."""
        if not isinstance(other, SuperResolution):
            from keras_genmodels.model_files import load_model_file

            other = load_model_file(other)
            if not isinstance(other, SuperResolution):
                raise ValueError(f"expected a SuperResolution .keras file to start from, "
                                 f"received a {type(other).__name__}")
        if other.generator_config() != self.generator_config():
            raise ValueError(f"expected a generator like this model's "
                             f"{self.generator_config()}, received {other.generator_config()}")
        self.generator.set_weights(other.generator.get_weights())
        return self

    # --- export and config ---------------------------------------------------

    def export_endpoints(self):
        """`translate`: `image` float32 `(None, H/s, W/s, C)` -> `{"image": (None, H, W,
        C)}` in [0, 1]."""
        def translate(image):
            return {"image": self._translate(image)}

        spec = keras.InputSpec(shape=(None,) + self.low_res_shape, dtype="float32")
        return {"translate": (translate, [spec])}

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=self.image_shape, scale=self.scale, filters=self.filters,
            num_blocks=self.num_blocks, adversarial=self.adversarial,
            content_network=(None if self.content_network is None else
                             keras.saving.serialize_keras_object(self.content_network)),
            content_weight=self.content_weight, pixel_weight=self.pixel_weight,
            adversarial_weight=self.adversarial_weight,
            discriminator_filters=self.discriminator_filters,
            discriminator_units=self.discriminator_units,
            output_activation=self.output_activation, upsample_skip=self.upsample_skip)
        return config


def area_downsample(x, scale):
    """Mean of each `scale x scale` block: `(N, H, W, C)` -> `(N, H/s, W/s, C)`
    (`keras.ops.average_pool`, valid padding; H and W divisible by `scale`)."""
    return ops.average_pool(ops.convert_to_tensor(x, "float32"), scale, strides=scale,
                            padding="valid")


def _check_content_network(model, image_shape):
    if not isinstance(model, keras.Model):
        raise ValueError(f"expected content_network as a keras.Model (images -> features), "
                         f"received {type(model).__name__}")
    shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if shape != tuple(image_shape):
        raise ValueError(f"expected a content_network taking images {tuple(image_shape)} "
                         f"(the high-res shape), received one taking {model.input_shape}")


def in_domain_content_network(dataset, layers=("conv2",), **feature_extractor_kwargs):
    """The frozen content network of SRGAN from the package's in-domain classifier.

    `keras_genmodels.metrics.feature_networks.feature_extractor(dataset)` (cached, trained
    offline once) -> a model of its intermediate activations `layers` (the ReLU outputs of
    its convolutions `"conv1"`, `"conv2"`, ... or `"features"`, the FID layer).
    """
    from keras_genmodels.metrics.feature_networks import feature_extractor

    fx = feature_extractor(dataset, **feature_extractor_kwargs)
    return nets.content_network(fx.model, layers)
