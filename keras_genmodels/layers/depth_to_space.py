"""`DepthToSpace`: sub-pixel up-sampling (Shi et al. 2016), channels-last, in `keras.ops`."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_genmodels")
class DepthToSpace(keras.layers.Layer):
    """Rearranges blocks of channels into spatial blocks (the "pixel shuffle").

    With block size b, a map `(batch, H, W, b * b * C)` becomes
    `(batch, H * b, W * b, C)`:

        out[n, h * b + i, w * b + j, c] = in[n, h, w, (i * b + j) * C + c]

    i.e. reshape to `(batch, H, W, b, b, C)`, move the first b-axis next to H
    and the second next to W (`(batch, H, b, W, b, C)`), and reshape. This is
    TensorFlow's `tf.nn.depth_to_space` (NHWC, "DCR" order) written in
    `keras.ops`, so it runs unchanged on TensorFlow, JAX and torch. A
    convolution with `b * b * C` filters followed by this layer is the
    efficient sub-pixel convolution of Shi et al. (2016), the up-sampling of
    SRResNet / SRGAN (Ledig et al. 2017).

    Shapes: input `(batch, H, W, b * b * C)` -> output `(batch, H * b, W * b, C)`.
    H and W may be dynamic; the channel count must be static and divisible by
    `b * b` (checked when the layer is built).

    Args:
        block_size: int >= 2. b. Defaults to 2.
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    >>> x = np.arange(16, dtype="float32").reshape(1, 1, 1, 16)
    >>> DepthToSpace(2)(x).shape
    (1, 2, 2, 4)

    References:
        Shi et al. (2016), Real-Time Single Image and Video Super-Resolution
        Using an Efficient Sub-Pixel Convolutional Neural Network.
    """

    def __init__(self, block_size=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
            raise ValueError(f"expected block_size >= 2 (an integer), received {block_size!r}")
        self.block_size = block_size

    def _out_channels(self, channels):
        b2 = self.block_size ** 2
        if channels is None or channels % b2:
            raise ValueError(f"DepthToSpace(block_size={self.block_size}): expected a static "
                             f"channel count divisible by {b2}, received {channels}")
        return channels // b2

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"DepthToSpace: expected inputs (batch, H, W, C), received shape "
                             f"{tuple(input_shape)}")
        self._out_channels(input_shape[-1])
        self.built = True

    def call(self, x):
        b = self.block_size
        c = self._out_channels(x.shape[-1])
        shape = ops.shape(x)
        h, w = shape[1], shape[2]
        x = ops.reshape(x, (-1, h, w, b, b, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, h * b, w * b, c))

    def compute_output_shape(self, input_shape):
        n, h, w, channels = input_shape
        b = self.block_size
        return (n, None if h is None else h * b, None if w is None else w * b,
                self._out_channels(channels))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}
