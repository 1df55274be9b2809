"""Builders of the caption/image matching networks (Reed et al. 2016, small scale).

- `char_cnn_rnn_encoder`: character ids `(batch, L)` -> text embedding `(batch, D)`.
- `image_embedding_cnn`: images `(batch, H, W, C)` -> image embedding `(batch, D)`.

Both end in an L2 normalisation, so their dot product is a cosine similarity.
"""

import keras
from keras import ops


def l2_normalize(x, epsilon=1e-12):
    """x / sqrt(sum x^2 + epsilon) over the last axis (a zero vector stays zero)."""
    return x / ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True) + epsilon)


def char_cnn_rnn_encoder(vocabulary_size, max_length, embedding_dim=128, char_dim=32,
                         filters=128, units=128, name="char_cnn_rnn"):
    """Char-CNN-RNN text encoder: ids `(batch, max_length)` int32 -> `(batch, embedding_dim)`.

    Embedding(char_dim) -> 2 x Conv1D(filters, 5, relu) -> MaxPool1D(2) -> GRU(units) over
    the pooled sequence (padding masked: a pooled step is valid when either of its two
    characters is not padding). Two summaries are concatenated: the masked max over time of
    the convolution features (which n-grams occur: learns in a few dozen steps) and the
    masked mean of the GRU outputs (their order). Then BatchNormalization (it removes the
    component all captions share; without it training stalled at loss = log B on MNIST
    captions: measured) -> Dense(embedding_dim, no bias) -> L2 normalisation.
    Id 0 is padding. An all-padding row (empty caption) pools to zeros, so its embedding is
    a fixed, finite vector (the normalised projection of the batch-norm shift), the same for
    every empty caption.

    Args:
        vocabulary_size: int. Number of ids, padding and "[UNK]" included.
        max_length: int. Sequence length L.
        embedding_dim: int. Output size D. Defaults to 128.
        char_dim: int. Character embedding size. Defaults to 32.
        filters: int. Conv1D filters. Defaults to 128.
        units: int. GRU units. Defaults to 128.
    """
    ids = keras.Input((max_length,), dtype="int32", name="caption_ids")
    valid = ops.cast(ops.not_equal(ids, 0), "float32")[..., None]        # (B, L, 1)
    h = keras.layers.Embedding(vocabulary_size, char_dim, name="char_embedding")(ids)
    h = keras.layers.Conv1D(filters, 5, padding="same", activation="relu", name="conv_1")(h)
    h = keras.layers.Conv1D(filters, 5, padding="same", activation="relu", name="conv_2")(h)
    h = keras.layers.MaxPooling1D(2, padding="same", name="pool")(h)
    valid = keras.layers.MaxPooling1D(2, padding="same", name="pool_mask")(valid)
    mask = ops.greater(valid[..., 0], 0.5)
    seq = keras.layers.GRU(units, return_sequences=True, name="gru")(h, mask=mask)
    mean = ops.sum(seq * valid, axis=1) / ops.maximum(ops.sum(valid, axis=1), 1.0)
    peak = ops.max(h * valid, axis=1)            # relu features >= 0: padding gives 0
    pooled = ops.concatenate([peak, mean], axis=-1)
    pooled = keras.layers.BatchNormalization(momentum=0.9, name="pooled_norm")(pooled)
    out = keras.layers.Dense(embedding_dim, use_bias=False, name="projection")(pooled)
    return keras.Model(ids, l2_normalize(out), name=name)


def image_embedding_cnn(image_shape=(28, 28, 1), embedding_dim=128, filters=32,
                        name="image_encoder"):
    """Small CNN: images `(batch, H, W, C)` in [0, 1] -> L2-normalised `(batch, D)`.

    Conv(f, 3, stride 2) -> Conv(2f, 3, stride 2) -> Conv(4f, 3) -> flatten ->
    Dense(4f, relu) -> BatchNormalization -> Dense(D, no bias) -> L2 normalisation
    (LeakyReLU 0.2 after the convolutions).
    """
    images = keras.Input(tuple(image_shape), name="image")
    h = images
    for i, (f, s) in enumerate(((filters, 2), (2 * filters, 2), (4 * filters, 1))):
        h = keras.layers.Conv2D(f, 3, strides=s, padding="same", name=f"conv_{i + 1}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"act_{i + 1}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(4 * filters, activation="relu", name="dense")(h)
    h = keras.layers.BatchNormalization(momentum=0.9, name="pooled_norm")(h)
    out = keras.layers.Dense(embedding_dim, use_bias=False, name="projection")(h)
    return keras.Model(images, l2_normalize(out), name=name)
