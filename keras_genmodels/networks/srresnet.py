"""SRResNet generator and SRGAN discriminator (Ledig et al. 2017), channels-last.

Both builders return functional `keras.Model`s built from `keras.Input`.

Shapes:
    generator:     low-res `(batch, H / s, W / s, C)` -> high-res `(batch, H, W, C)`
    discriminator: high-res `(batch, H, W, C)` -> logits `(batch, 1)`
"""

import math

import keras
from keras import layers

from keras_genmodels.layers.depth_to_space import DepthToSpace


#: BatchNorm moving-average momentum: 0.9 (Keras's default is 0.99) so the inference
#: statistics follow the weights within ~10 steps -- short CPU runs at a high learning rate
#: otherwise evaluate with stale statistics (measured: test PSNR 9 dB vs 15 dB in training
#: after 90 steps at 1e-3).
BN_MOMENTUM = 0.9


def upsampling_stages(scale):
    """Number of x2 sub-pixel stages for `scale` (2 -> 1, 4 -> 2, 8 -> 3); raises
    ValueError for a scale that is not a power of two >= 2."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 2 \
            or scale & (scale - 1):
        raise ValueError(f"expected scale as a power of two >= 2 (2, 4, 8), received "
                         f"{scale!r}")
    return int(math.log2(scale))


def _prelu(name):
    # One slope per channel, shared over the image (the paper's PReLU).
    return layers.PReLU(shared_axes=[1, 2], name=name)


UPSAMPLE_SKIPS = (None, "nearest", "bilinear")


def srresnet_generator(low_res_shape, scale=4, filters=64, num_blocks=16,
                       output_activation=None, name="generator", upsample_skip=None):
    """SRResNet: the generator of SRGAN (Ledig et al. 2017, Fig. 4).

        x0 = PReLU(Conv9x9(x))                               (h, w, F)
        x_b = x_{b-1} + BN(Conv3(PReLU(BN(Conv3(x_{b-1})))))  b = 1..B residual blocks
                                                             (BN momentum `BN_MOMENTUM`)
        y = x0 + BN(Conv3(x_B))                              global skip
        log2(s) times: y = PReLU(DepthToSpace_2(Conv3_{4F}(y)))   (x2 each)
        out = act(Conv9x9_C(y))                              (h * s, w * s, C)
        out = out + UpSampling2D_s(x)   only with `upsample_skip` (not in the paper)

    `upsample_skip="bilinear"` (or `"nearest"`) makes the network learn the residual over
    a fixed interpolation of its input, as VDSR (Kim et al. 2016) and EDSR-style models
    do: at initialisation the output is already the interpolated image, so short runs
    start from the interpolation's PSNR instead of from noise.

    Args:
        low_res_shape: tuple `(h, w, C)` of the low-resolution input.
        scale: int. Up-sampling factor, a power of two. Defaults to 4.
        filters: int. F. Defaults to 64 (the paper).
        num_blocks: int. B residual blocks. Defaults to 16 (the paper).
        output_activation: str or None. Defaults to None (linear; the model
            clips its served output to [0, 1]).
        name: str. Defaults to `"generator"`.
        upsample_skip: None, `"nearest"` or `"bilinear"` (`keras.layers.UpSampling2D`
            interpolation added to the output). Defaults to None (the paper).
    """
    stages = upsampling_stages(scale)
    if upsample_skip not in UPSAMPLE_SKIPS:
        raise ValueError(f"expected upsample_skip in {UPSAMPLE_SKIPS}, received "
                         f"{upsample_skip!r}")
    inputs = keras.Input(tuple(low_res_shape), name=f"{name}_low_res")
    channels = int(low_res_shape[-1])
    x = layers.Conv2D(filters, 9, padding="same", name=f"{name}_conv_in")(inputs)
    x = skip = _prelu(f"{name}_prelu_in")(x)
    for b in range(num_blocks):
        h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_block{b}_conv1")(x)
        h = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_block{b}_bn1")(h)
        h = _prelu(f"{name}_block{b}_prelu")(h)
        h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_block{b}_conv2")(h)
        h = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_block{b}_bn2")(h)
        x = layers.Add(name=f"{name}_block{b}_add")([x, h])
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv_mid")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn_mid")(x)
    x = layers.Add(name=f"{name}_global_skip")([skip, x])
    for i in range(stages):
        x = layers.Conv2D(4 * filters, 3, padding="same", name=f"{name}_up{i}_conv")(x)
        x = DepthToSpace(2, name=f"{name}_up{i}_shuffle")(x)
        x = _prelu(f"{name}_up{i}_prelu")(x)
    outputs = layers.Conv2D(channels, 9, padding="same", activation=output_activation,
                            name=f"{name}_conv_out")(x)
    if upsample_skip is not None:
        base = layers.UpSampling2D(scale, interpolation=upsample_skip,
                                   name=f"{name}_upsample_skip")(inputs)
        outputs = layers.Add(name=f"{name}_residual_out")([outputs, base])
    return keras.Model(inputs, outputs, name=name)


def srgan_discriminator(image_shape, filters=(32, 64), dense_units=256,
                        name="discriminator"):
    """A small SRGAN discriminator (the paper's Fig. 4 pattern, fewer blocks).

        Conv3_{f1} + LeakyReLU(0.2); Conv3_{f1}/2 + LeakyReLU
        for f in filters[1:]:  Conv3_f + LeakyReLU; Conv3_f/2 + LeakyReLU
        Flatten -> Dense(dense_units) + LeakyReLU -> Dense(1)   (a logit)

    Departure from the paper: no BatchNorm (real and fake batches are judged
    in separate calls, and batch statistics would let D tell them apart by
    the batch rather than the image); the paper has 8 conv layers
    (64..512 filters) and Dense(1024).

    Args:
        image_shape: tuple `(H, W, C)` of high-resolution images; H and W
            divisible by `2 ** len(filters)`.
        filters: tuple of int. Filters of each pair of (stride-1, stride-2)
            convolutions. Defaults to `(32, 64)`.
        dense_units: int. Defaults to 256.
        name: str. Defaults to `"discriminator"`.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(f"expected discriminator images with H and W divisible by {factor} "
                         f"(2 ** len(filters), filters={tuple(filters)}), received "
                         f"{tuple(image_shape)}")
    inputs = keras.Input(tuple(image_shape), name=f"{name}_image")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", name=f"{name}_conv{i}a")(x)
        x = layers.LeakyReLU(0.2, name=f"{name}_lrelu{i}a")(x)
        x = layers.Conv2D(f, 3, strides=2, padding="same", name=f"{name}_conv{i}b")(x)
        x = layers.LeakyReLU(0.2, name=f"{name}_lrelu{i}b")(x)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(dense_units, name=f"{name}_dense")(x)
    x = layers.LeakyReLU(0.2, name=f"{name}_lrelu_dense")(x)
    outputs = layers.Dense(1, name=f"{name}_logit")(x)
    return keras.Model(inputs, outputs, name=name)


def content_network(feature_model, layer_names, name="content_network"):
    """A frozen model of intermediate activations: images -> `[phi_l(x) for l in layer_names]`.

    `feature_model` is any functional image model (e.g. the in-domain
    classifier of `keras_genmodels.metrics.feature_networks.feature_extractor(...).model`);
    the result shares its layers (and weights) and has `trainable=False`.

    Raises:
        ValueError: a layer name the model does not have (the message lists them).
    """
    names = [layer.name for layer in feature_model.layers]
    layer_names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
    if not layer_names:
        raise ValueError(f"expected at least one content layer of {names}, received none")
    missing = [n for n in layer_names if n not in names]
    if missing:
        raise ValueError(f"expected content layers among {names}, received {missing}")
    outputs = [feature_model.get_layer(n).output for n in layer_names]
    model = keras.Model(feature_model.inputs[0], outputs, name=name)
    model.trainable = False
    return model
