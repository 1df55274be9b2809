"""Generator and discriminator builders of the GAN family.

Every builder returns a functional `keras.Model` built from `keras.Input`
(so the GAN is built at construction), with its layers created inside
`keras.name_scope(name)`. Conditional networks take the label as a second
input, already one-hot encoded: `(batch, num_classes)` for the generator,
`(batch, packing * num_classes)` for the discriminator.

Shapes:
    generator:     `(batch, latent_dim)` [, `(batch, K)`] -> `(batch, *data_shape)`
    discriminator: `(batch, *packed_shape)` [, `(batch, packing * K)`]
                   -> logits `(batch, 1)`

where `packed_shape` is `data_shape` with its last axis multiplied by the
PacGAN packing degree (see `packed_shape`).
"""

import math

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="keras_genmodels")
class SpectralNormalization(layers.SpectralNormalization):
    """Spectral normalisation of a `Dense` or convolution layer (Miyato et al. 2018).

    The layer computes its output with the kernel W / σ(W), where σ(W) is the
    largest singular value of W reshaped to `(-1, out)`, estimated by power
    iteration with a persistent vector u (one iteration per training call;
    u is a non-trainable variable):

        v = normalize(u Wᵀ),  u = normalize(v W),  σ(W) ≈ v W uᵀ,

    u and v are constants for the gradient, σ is not (Miyato et al., Sec. 2.2).

    It is Keras's `keras.layers.SpectralNormalization` (same `vector_u`,
    power iteration and config) except for `call`: Keras *writes* W / σ into
    the trainable kernel during the forward pass and then runs the layer, so
    the gradient reaches the overwritten kernel as if no normalisation were
    there, and a traced JAX step that differentiates that kernel drops the
    write. Here the kernel variable keeps W; the normalised kernel is only
    used in the forward computation, identically on every backend. At
    inference (`training=False`) u is used without being updated.

    Shapes: those of the wrapped layer.

    Args:
        layer: a `keras.layers.Dense` or `Conv1D/2D/3D` (channels last).
        power_iterations: int. Power iterations per training call. Defaults to 1.
    """

    def build(self, input_shape):
        if not isinstance(self.layer, layers.Dense) and not hasattr(self.layer, "convolution_op"):
            raise ValueError("expected a Dense or convolution layer to spectrally normalise, "
                             f"received {type(self.layer).__name__}")
        if getattr(self.layer, "data_format", "channels_last") != "channels_last":
            raise ValueError("expected a channels_last convolution, received "
                             f"data_format={self.layer.data_format!r}")
        super().build(input_shape)

    def call(self, inputs, training=False):
        vector_u, kernel = self.normalized_weights()
        if training:
            self.vector_u.assign(vector_u)
        if isinstance(self.layer, layers.Dense):
            outputs = ops.matmul(inputs, kernel)
        else:
            outputs = self.layer.convolution_op(inputs, kernel)
        if self.layer.use_bias:
            outputs = ops.add(outputs, self.layer.bias)
        if self.layer.activation is not None:
            outputs = self.layer.activation(outputs)
        return outputs


def _maybe_sn(layer, spectral_normalization):
    return SpectralNormalization(layer) if spectral_normalization else layer


def packed_shape(data_shape, packing):
    """Shape of one packed discriminator input: last axis times `packing`.

    `(2,)` with packing 4 -> `(8,)`; `(28, 28, 1)` -> `(28, 28, 4)` (PacGAN
    concatenates images along channels, Lin et al. 2018, Sec. 3).
    """
    return tuple(data_shape[:-1]) + (data_shape[-1] * packing,)


def default_filters(data_shape, base=64):
    """DCGAN filters for an image shape: `n` stride-2 blocks, the largest
    `n <= 3` such that H and W are divisible by `2**n` and the first map is
    at least 2x2 (8x8 -> 2 blocks from 2x2; 28x28 -> 2 from 7x7; 32x32 -> 3
    from 4x4). Filters double towards the low-resolution end:
    `(base * 2**(n-1), ..., base)`.
    """
    height, width = data_shape[0], data_shape[1]
    n = 0
    for candidate in (1, 2, 3):
        if (height % 2 ** candidate == 0 and width % 2 ** candidate == 0
                and height // 2 ** candidate >= 2 and width // 2 ** candidate >= 2):
            n = candidate
    if n == 0:
        raise ValueError(
            "expected DCGAN image height and width even and >= 4, received "
            f"data_shape={tuple(data_shape)}")
    return tuple(base * 2 ** (n - 1 - i) for i in range(n))


def _inputs(first_shape, first_name, label_dim, name):
    first = keras.Input(tuple(first_shape), name=f"{name}_{first_name}")
    if not label_dim:
        return [first], first, None
    label = keras.Input((label_dim,), name=f"{name}_label")
    return [first, label], first, label


def _model(inputs, outputs, name):
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=name)


def mlp_generator(latent_dim, data_shape, hidden_units=(128, 128),
                  activation="relu", output_activation=None, num_classes=None,
                  name="generator"):
    """MLP generator: `[z, onehot(y)] -> Dense(u, activation)... ->
    Dense(prod(data_shape), output_activation) -> reshape`. With
    `hidden_units=()` it is an affine map of the noise."""
    with keras.name_scope(name):
        inputs, x, label = _inputs((latent_dim,), "latent", num_classes, name)
        if label is not None:
            x = layers.Concatenate()([x, label])
        for units in hidden_units:
            x = layers.Dense(units, activation=activation)(x)
        x = layers.Dense(math.prod(data_shape), activation=output_activation)(x)
        # No Reshape for 1-d samples: a layer call per G call saved (torch).
        outputs = x if len(data_shape) == 1 else layers.Reshape(tuple(data_shape))(x)
    return _model(inputs, outputs, name)


def mlp_discriminator(input_shape, hidden_units=(128, 128), activation="leaky_relu",
                      label_dim=None, name="discriminator", spectral_normalization=False):
    """MLP discriminator: `flatten(x) [, label] -> Dense(u, activation)... ->
    Dense(1)` (a logit). `spectral_normalization`: every Dense wrapped in
    `SpectralNormalization`."""
    with keras.name_scope(name):
        inputs, x, label = _inputs(input_shape, "input", label_dim, name)
        if len(input_shape) > 1:  # 1-d samples need no Flatten (a layer call saved)
            x = layers.Flatten()(x)
        if label is not None:
            x = layers.Concatenate()([x, label])
        for units in hidden_units:
            x = _maybe_sn(layers.Dense(units, activation=activation), spectral_normalization)(x)
        outputs = _maybe_sn(layers.Dense(1), spectral_normalization)(x)
    return _model(inputs, outputs, name)


def dcgan_generator(latent_dim, data_shape, filters, output_activation="sigmoid",
                    num_classes=None, kernel_size=4, name="generator",
                    output_kernel_size=None):
    """DCGAN generator (Radford et al. 2016).

    `[z, onehot(y)] -> Dense(h0*w0*filters[0]) -> BN -> ReLU -> reshape`,
    then for each later `f` in `filters`: `Conv2DTranspose(f, stride 2)`,
    BN, ReLU; and a last `Conv2DTranspose(C, stride 2, output_activation)`.
    `len(filters)` stride-2 blocks take `H / 2**len(filters)` to `H`.

    `output_kernel_size=k` (an int) instead makes the last stride-2 block a
    `Conv2DTranspose(filters[-1], stride 2)`, BN, ReLU block too and draws the
    image with a stride-1 `Conv2D(C, k, output_activation)` from the
    full-resolution features (the generator of the Keras conditional-GAN
    example); None keeps Radford et al.'s transposed output layer.
    """
    height, width, channels = data_shape
    n = len(filters)
    h0, w0 = height // 2 ** n, width // 2 ** n
    if h0 * 2 ** n != height or w0 * 2 ** n != width or h0 < 1:
        raise ValueError(
            f"expected H and W divisible by 2**{n} = {2 ** n} for a DCGAN generator with "
            f"{n} stride-2 blocks, received data_shape={tuple(data_shape)}")
    with keras.name_scope(name):
        inputs, x, label = _inputs((latent_dim,), "latent", num_classes, name)
        if label is not None:
            x = layers.Concatenate()([x, label])
        x = layers.Dense(h0 * w0 * filters[0], use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.Reshape((h0, w0, filters[0]))(x)
        # With a stride-1 output conv, the last upsampling is a BN-ReLU block too.
        blocks = tuple(filters[1:]) + ((filters[-1],) if output_kernel_size else ())
        for f in blocks:
            x = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same",
                                       use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        if output_kernel_size is None:
            outputs = layers.Conv2DTranspose(channels, kernel_size, strides=2,
                                             padding="same",
                                             activation=output_activation)(x)
        else:
            outputs = layers.Conv2D(channels, output_kernel_size, padding="same",
                                    activation=output_activation)(x)
    return _model(inputs, outputs, name)


def dcgan_discriminator(input_shape, filters, label_dim=None, kernel_size=4,
                        name="discriminator", spectral_normalization=False):
    """DCGAN discriminator without batch normalisation (so its input
    gradient, used by WGAN-GP, involves no batch statistics).

    `x [, label map] -> Conv2D(f, stride 2) + LeakyReLU(0.2)` for each `f`
    in `reversed(filters)`, then Flatten and `Dense(1)`. A label enters as
    one extra channel: `Dense(H*W)` of the one-hot code, reshaped to
    `(H, W, 1)`. `spectral_normalization`: every Conv2D and the output
    Dense wrapped in `SpectralNormalization` (Miyato et al. 2018).
    """
    height, width = input_shape[0], input_shape[1]
    with keras.name_scope(name):
        inputs, x, label = _inputs(input_shape, "input", label_dim, name)
        if label is not None:
            label_map = layers.Dense(height * width)(label)
            label_map = layers.Reshape((height, width, 1))(label_map)
            x = layers.Concatenate()([x, label_map])
        for f in reversed(filters):
            x = _maybe_sn(layers.Conv2D(f, kernel_size, strides=2, padding="same"),
                          spectral_normalization)(x)
            x = layers.LeakyReLU(0.2)(x)
        x = layers.Flatten()(x)
        outputs = _maybe_sn(layers.Dense(1), spectral_normalization)(x)
    return _model(inputs, outputs, name)
