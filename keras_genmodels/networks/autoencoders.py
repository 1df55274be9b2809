"""Builders of the sub-networks (encoders, decoders, generators, critics).

Each builder returns a functional `keras.Model` built from `keras.Input`, so
it is built at construction time (the JAX and torch trainers otherwise try
to build a model by calling it on a data batch). Its layers are created
inside `keras.name_scope(name)`, so every variable path starts with the
network's name (e.g. `"encoder/dense/kernel"`).

Shapes: images are `(batch, H, W, C)`; codes are `(batch, code_size)`.
"""

import math

import keras
from keras import layers


def _maybe_dropout(x, rate):
    return layers.Dropout(rate)(x) if rate else x


def dense_encoder(input_shape, hidden_units, code_size, activation="relu",
                  output_activation=None, dropout=0.0, name="encoder"):
    """MLP `(batch, *input_shape) -> (batch, code_size)`.

    Flatten, then `Dense(u, activation)` for each `u` in `hidden_units`
    (each followed by dropout when `dropout > 0`), then
    `Dense(code_size, output_activation)`.
    """
    with keras.name_scope(name):
        inputs = keras.Input(tuple(input_shape), name=f"{name}_input")
        x = layers.Flatten()(inputs)
        for units in hidden_units:
            x = layers.Dense(units, activation=activation)(x)
            x = _maybe_dropout(x, dropout)
        outputs = layers.Dense(code_size, activation=output_activation)(x)
    return keras.Model(inputs, outputs, name=name)


def dense_decoder(code_size, hidden_units, output_shape, activation="relu",
                  output_activation=None, dropout=0.0, name="decoder"):
    """MLP `(batch, code_size) -> (batch, *output_shape)`.

    `Dense(u, activation)` for each `u` in `hidden_units`, then
    `Dense(prod(output_shape), output_activation)` and a Reshape.
    """
    with keras.name_scope(name):
        inputs = keras.Input((code_size,), name=f"{name}_input")
        x = inputs
        for units in hidden_units:
            x = layers.Dense(units, activation=activation)(x)
            x = _maybe_dropout(x, dropout)
        x = layers.Dense(math.prod(output_shape), activation=output_activation)(x)
        outputs = layers.Reshape(tuple(output_shape))(x)
    return keras.Model(inputs, outputs, name=name)


def conv_encoder(input_shape, filters, code_size, activation="relu",
                 output_activation=None, dropout=0.0, name="encoder"):
    """Conv net `(batch, H, W, C) -> (batch, code_size)`.

    For each `f` in `filters`: `Conv2D(f, 3, strides=2, padding="same")`
    (halving H and W, rounding up), then Flatten and
    `Dense(code_size, output_activation)`.
    """
    with keras.name_scope(name):
        inputs = keras.Input(tuple(input_shape), name=f"{name}_input")
        x = inputs
        for f in filters:
            x = layers.Conv2D(f, 3, strides=2, padding="same",
                              activation=activation)(x)
            x = _maybe_dropout(x, dropout)
        x = layers.Flatten()(x)
        outputs = layers.Dense(code_size, activation=output_activation)(x)
    return keras.Model(inputs, outputs, name=name)


def conv_decoder(code_size, output_shape, filters, activation="relu",
                 output_activation=None, dropout=0.0, name="decoder"):
    """Transposed-conv net `(batch, code_size) -> (batch, H, W, C)`.

    Mirrors `conv_encoder(output_shape, filters[::-1], ...)`: Dense to a
    `(ceil(H / 2^n), ceil(W / 2^n), filters[0])` map, `n = len(filters)`
    `Conv2DTranspose(f, 3, strides=2)` layers, a center crop to `(H, W)`,
    and a final `Conv2D(C, 3, output_activation)`.
    """
    height, width, channels = output_shape
    n = len(filters)
    h0, w0 = math.ceil(height / 2 ** n), math.ceil(width / 2 ** n)
    with keras.name_scope(name):
        inputs = keras.Input((code_size,), name=f"{name}_input")
        x = layers.Dense(h0 * w0 * filters[0], activation=activation)(inputs)
        x = layers.Reshape((h0, w0, filters[0]))(x)
        for f in filters:
            x = layers.Conv2DTranspose(f, 3, strides=2, padding="same",
                                       activation=activation)(x)
            x = _maybe_dropout(x, dropout)
        crop_h, crop_w = h0 * 2 ** n - height, w0 * 2 ** n - width
        if crop_h or crop_w:
            x = layers.Cropping2D(((crop_h // 2, crop_h - crop_h // 2),
                                   (crop_w // 2, crop_w - crop_w // 2)))(x)
        outputs = layers.Conv2D(channels, 3, padding="same",
                                activation=output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
