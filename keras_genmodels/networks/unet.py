"""U-Net generator of pix2pix (Isola et al. 2017, Sec. 3.2.1 and App. 6.1.1).

An encoder of n stride-2 convolution blocks and a decoder of n stride-2
transposed-convolution blocks; decoder block i is concatenated on channels
with the encoder block of the same resolution (the "skip connections" that
let low-level structure such as edge positions cross the bottleneck).
Dropout (rate 0.5) in the decoder's deepest blocks is the generator's only
noise, as in the paper; here it is active in training only, so `translate`
and the exported signature are deterministic.

Blocks (k = 4 kernels, "same" padding):

    encoder i: Conv2D(f_i, 4, stride 2) [+ BatchNorm, not on block 0] + LeakyReLU(0.2)
    decoder i: Conv2DTranspose(f_i, 4, stride 2) + BatchNorm [+ Dropout(0.5)] + ReLU,
               concatenated with encoder block i - 1
    output:    Conv2DTranspose(output_channels, 4, stride 2) + output activation

Shapes: `(batch, H, W, C_in) -> (batch, H, W, output_channels)`; H and W must be
divisible by `2**len(filters)` (28 x 28 -> 2 blocks, 14 x 14 and 7 x 7; 32 x 32 -> 3).
"""

import keras
from keras import layers


def default_unet_filters(image_shape, base=64, max_blocks=3):
    """`(base, 2 base, ...)`: the most stride-2 blocks (at most `max_blocks`) that divide H and
    W and leave a map of at least 2 x 2 (28 x 28 -> (64, 128); 32 x 32 -> (64, 128, 256))."""
    height, width = int(image_shape[0]), int(image_shape[1])
    n = 0
    for candidate in range(1, max_blocks + 1):
        size = 2 ** candidate
        if height % size == 0 and width % size == 0 and min(height, width) // size >= 2:
            n = candidate
    if n == 0:
        raise ValueError(f"expected image height and width even and >= 4 for the U-Net, "
                         f"received image shape {tuple(image_shape)}")
    return tuple(min(base * 2 ** i, 8 * base) for i in range(n))


def check_unet_shape(image_shape, filters):
    """Raise ValueError unless H and W are divisible by `2**len(filters)`."""
    height, width = int(image_shape[0]), int(image_shape[1])
    size = 2 ** len(filters)
    if height % size or width % size:
        raise ValueError(f"expected image height and width divisible by 2**len(filters) = "
                         f"{size} for a U-Net with filters={tuple(filters)}, received image "
                         f"shape {tuple(image_shape)}; pass fewer filters or resize the images")


def unet_generator(input_shape, output_channels, filters=None, dropout_blocks=1, dropout=0.5,
                   output_activation="sigmoid", seed=None, name="generator"):
    """U-Net `keras.Model`: `(batch, *input_shape) -> (batch, H, W, output_channels)`.

    Args:
        input_shape: tuple `(H, W, C_in)`.
        output_channels: int. Channels of the output image.
        filters: tuple of int or None. Filters of the encoder blocks, high resolution first
            (None: `default_unet_filters`). The decoder mirrors them.
        dropout_blocks: int. Decoder blocks (deepest first) with dropout. Defaults to 1
            (the paper: the first 3 of 7).
        dropout: float. Dropout rate. Defaults to 0.5.
        output_activation: str or None. Defaults to `"sigmoid"` (images in [0, 1]).
        seed: int or None. Seed of the dropout layers (block i gets `seed + i`).
        name: str. Model name and name scope.
    """
    filters = tuple(filters) if filters else default_unet_filters(input_shape)
    check_unet_shape(input_shape, filters)
    with keras.name_scope(name):
        inputs = keras.Input(tuple(input_shape), name=f"{name}_input")
        x, skips = inputs, []
        for i, f in enumerate(filters):
            x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=i == 0)(x)
            if i:
                x = layers.BatchNormalization()(x)
            x = layers.LeakyReLU(0.2)(x)
            skips.append(x)
        # Decoder: up from the bottleneck to the resolution of encoder block 0.
        for depth, i in enumerate(range(len(filters) - 2, -1, -1)):
            x = layers.Conv2DTranspose(filters[i], 4, strides=2, padding="same",
                                       use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            if depth < dropout_blocks and dropout:
                x = layers.Dropout(dropout, seed=None if seed is None else seed + depth)(x)
            x = layers.ReLU()(x)
            x = layers.Concatenate()([x, skips[i]])
        outputs = layers.Conv2DTranspose(output_channels, 4, strides=2, padding="same",
                                         activation=output_activation,
                                         name=f"{name}_output")(x)
    return keras.Model(inputs, outputs, name=name)
