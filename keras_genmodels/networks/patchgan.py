"""PatchGAN discriminator of pix2pix (Isola et al. 2017, Sec. 3.2.2 and App. 6.1.2).

A fully convolutional classifier whose output is a map of logits, one per
overlapping N x N patch of its input; the loss averages over the map, so D
judges local texture ("Markovian" discriminator) and leaves the global
structure to the L1 term. Its input is a conditional pair: the translation's
input image and an output (real target or generated) concatenated on channels.

Blocks (k = 4 kernels, "same" padding), filters `(f_0, ..., f_{n-1})`:

    block i < n - 1: Conv2D(f_i, 4, stride 2) [+ BatchNorm, not on block 0] + LeakyReLU(0.2)
    block n - 1:     Conv2D(f_{n-1}, 4, stride 1) + BatchNorm + LeakyReLU(0.2)
    logits:          Conv2D(1, 4, stride 1)

The default `(64, 128)` gives a 16 x 16 receptive field (on 28 x 28 images, a
7 x 7 map of logits); the paper's 70 x 70 PatchGAN is `(64, 128, 256, 512)`.

Shapes: `(batch, H, W, C_in + C_out) -> (batch, H / 2**(n-1), W / 2**(n-1), 1)`.
"""

import keras
from keras import layers


def receptive_field(num_blocks):
    """Side N of the N x N input patch one logit sees, for `num_blocks` filters."""
    field = 4  # the logits convolution
    field += 3  # block n - 1 (stride 1)
    for _ in range(num_blocks - 1):
        field = 2 * field + 2  # a k = 4, stride-2 block
    return field


def patchgan_discriminator(input_shape, filters=(64, 128), name="discriminator"):
    """PatchGAN `keras.Model`: `(batch, H, W, C)` pairs -> logits `(batch, h, w, 1)`.

    Args:
        input_shape: tuple `(H, W, C_in + C_out)` of the concatenated pair.
        filters: tuple of int. Filters per block (see the module docstring). Defaults to
            `(64, 128)`.
        name: str. Model name and name scope.
    """
    filters = tuple(filters)
    with keras.name_scope(name):
        inputs = keras.Input(tuple(input_shape), name=f"{name}_pair")
        x = inputs
        for i, f in enumerate(filters):
            last = i == len(filters) - 1
            x = layers.Conv2D(f, 4, strides=1 if last else 2, padding="same",
                              use_bias=i == 0)(x)
            if i:
                x = layers.BatchNormalization()(x)
            x = layers.LeakyReLU(0.2)(x)
        logits = layers.Conv2D(1, 4, padding="same", name=f"{name}_logits")(x)
    return keras.Model(inputs, logits, name=name)
