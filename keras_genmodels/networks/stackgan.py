"""Network builders of StackGAN (Zhang et al. 2017), scaled to small images.

Every builder returns a functional `keras.Model` built from `keras.Input`, its
layers created inside `keras.name_scope(name)`. Up-sampling is nearest-neighbour
`UpSampling2D` followed by a 3x3 convolution, as in the authors' code (no
transposed convolutions, hence no checkerboard artefacts). The discriminators
have no batch normalisation: each is called on three batches per step (real,
mismatched, generated), whose statistics would differ.

Shapes (H, W the final image size, divisible by 4; stage I draws H/2 x W/2):

    conditioning_augmentation: φ (batch, embedding_dim) -> [μ, log σ²], each
                               (batch, condition_dim)  (a plain compression
                               φ -> (batch, condition_dim) when `stochastic=False`)
    stage1_generator:   [z (batch, noise_dim), ĉ (batch, condition_dim)]
                        -> (batch, H/2, W/2, C)
    stage2_generator:   [stage-I image (batch, H/2, W/2, C), ĉ] -> (batch, H, W, C)
    text_discriminator: [image (batch, h, w, C), φ (batch, embedding_dim)] -> logit (batch, 1)
"""

import keras
from keras import layers


def conditioning_augmentation(embedding_dim, condition_dim, stochastic=True,
                              name="conditioning"):
    """φ -> `[μ, log σ²]`, two Dense layers (the authors' Dense(2 * condition_dim)
    split in two); ĉ = μ + exp(½ log σ²) ⊙ ε is drawn by the model.

    With `stochastic=False` (the ablation without conditioning augmentation)
    the network is a Dense compression φ -> ĉ and returns one tensor.
    """
    with keras.name_scope(name):
        phi = keras.Input((embedding_dim,), name=f"{name}_embedding")
        if not stochastic:
            return keras.Model(phi, layers.Dense(condition_dim, name="mean")(phi), name=name)
        mean = layers.Dense(condition_dim, name="mean")(phi)
        log_var = layers.Dense(condition_dim, name="log_var")(phi)
    return keras.Model(phi, [mean, log_var], name=name)


def _up_block(x, filters):
    x = layers.UpSampling2D(2)(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def stage1_generator(noise_dim, condition_dim, image_shape, filters=(128, 64),
                     name="stage1_generator"):
    """G₀(z, ĉ): `[z, ĉ] -> Dense(h0*w0*filters[0]) -> BN -> ReLU -> reshape`, one
    up-block (nearest x2, 3x3 conv, BN, ReLU) per later entry of `filters`, then a 3x3
    convolution with a sigmoid: `(h0, w0) = (h, w) / 2**(len(filters) - 1)`, e.g.
    7x7 -> 14x14 with `filters=(128, 64)`.

    `image_shape` is stage I's `(h, w, C)`.
    """
    h, w, channels = image_shape
    n = len(filters) - 1
    h0, w0 = h // 2 ** n, w // 2 ** n
    if h0 * 2 ** n != h or w0 * 2 ** n != w or h0 < 1:
        raise ValueError(f"expected stage-I height and width divisible by {2 ** n}, "
                         f"received {tuple(image_shape)}")
    with keras.name_scope(name):
        z = keras.Input((noise_dim,), name=f"{name}_noise")
        c = keras.Input((condition_dim,), name=f"{name}_condition")
        x = layers.Concatenate()([z, c])
        x = layers.Dense(h0 * w0 * filters[0], use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.Reshape((h0, w0, filters[0]))(x)
        for f in filters[1:]:
            x = _up_block(x, f)
        out = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    return keras.Model([z, c], out, name=name)


def _residual_block(x, filters):
    h = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Conv2D(filters, 3, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    return layers.ReLU()(layers.Add()([x, h]))


def stage2_generator(low_shape, condition_dim, filters=64, num_residual=2,
                     name="stage2_generator"):
    """G₁(s₀, ĉ): the stage-I image `s₀` `(h, w, C)` -> `(2h, 2w, C)`.

    Encoder: 3x3 conv (`filters`, ReLU), 4x4 stride-2 conv (`2 * filters`, BN,
    ReLU) to `(h/2, w/2)`; ĉ replicated spatially and concatenated; a 3x3 conv
    (BN, ReLU) joins them; `num_residual` residual blocks; then two up-blocks
    (`filters`, `filters / 2`) to `(2h, 2w)` and a 3x3 conv with a sigmoid.
    """
    h, w, channels = low_shape
    if h % 2 or w % 2:
        raise ValueError(f"expected an even stage-I height and width, received {tuple(low_shape)}")
    with keras.name_scope(name):
        s0 = keras.Input(tuple(low_shape), name=f"{name}_stage1_image")
        c = keras.Input((condition_dim,), name=f"{name}_condition")
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(s0)
        x = layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        cmap = layers.Reshape((1, 1, condition_dim))(c)
        cmap = layers.UpSampling2D((h // 2, w // 2))(cmap)
        x = layers.Concatenate()([x, cmap])
        x = layers.Conv2D(2 * filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        for _ in range(num_residual):
            x = _residual_block(x, 2 * filters)
        x = _up_block(x, filters)
        x = _up_block(x, max(1, filters // 2))
        out = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    return keras.Model([s0, c], out, name=name)


def text_discriminator(image_shape, embedding_dim, filters=(64, 128), compressed_dim=32,
                       name="discriminator"):
    """D(x, φ): a logit for "x is a real image described by φ".

    Image path: one 4x4 stride-2 conv + LeakyReLU(0.2) per entry of `filters`
    (down to `(h', w')`). Text path: φ compressed by `Dense(compressed_dim)` +
    LeakyReLU(0.2) (StackGAN's N_d), replicated to `(h', w')`. Joined by
    concatenation, a 1x1 conv (`filters[-1]`, LeakyReLU), Flatten, Dense(1).
    """
    with keras.name_scope(name):
        x_in = keras.Input(tuple(image_shape), name=f"{name}_image")
        phi = keras.Input((embedding_dim,), name=f"{name}_embedding")
        x = x_in
        for f in filters:
            x = layers.Conv2D(f, 4, strides=2, padding="same")(x)
            x = layers.LeakyReLU(0.2)(x)
        h, w = x.shape[1], x.shape[2]
        t = layers.Dense(compressed_dim)(phi)
        t = layers.LeakyReLU(0.2)(t)
        t = layers.Reshape((1, 1, compressed_dim))(t)
        t = layers.UpSampling2D((h, w))(t)
        x = layers.Concatenate()([x, t])
        x = layers.Conv2D(filters[-1], 1)(x)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Flatten()(x)
        out = layers.Dense(1)(x)
    return keras.Model([x_in, phi], out, name=name)
