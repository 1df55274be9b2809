"""Attention over encoder states for the seq2seq decoder: additive and multiplicative scores.

Both layers share one call signature, `layer(query, values, mask=None)`, and return
`(context, weights)`:

    score(q_t, h_s)   (see each class)
    a_t = softmax_s(score(q_t, h_s) masked)        weights  (batch, T_q, T_s)
    c_t = sum_s a_t[s] h_s                         context  (batch, T_q, d_v)

Masked source positions get a large negative score (not -inf), so a fully masked row (an
empty source sentence) yields uniform weights instead of NaN.
"""

import keras
from keras import ops

_NEG = -1e9


def _masked_softmax(scores, mask):
    if mask is not None:
        mask = ops.cast(mask, "bool")[:, None, :]
        scores = ops.where(mask, scores, ops.full_like(scores, _NEG))
    return ops.softmax(scores, axis=-1)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class BahdanauAttention(keras.layers.Layer):
    """Additive (Bahdanau) attention: score(q, h) = v^T tanh(W_q q + W_h h).

    Shapes: query `(batch, T_q, d_q)`, values `(batch, T_s, d_v)`, mask `(batch, T_s)`
    (True/1 = real token) -> context `(batch, T_q, d_v)`, weights `(batch, T_q, T_s)`.

    Args:
        units: int. Size of the hidden scoring layer.

    Example:

    >>> att = BahdanauAttention(16)
    >>> q, h = keras.random.normal((2, 3, 8)), keras.random.normal((2, 5, 10))
    >>> c, w = att(q, h)   # c (2, 3, 10), w (2, 3, 5)

    References:
        Bahdanau, Cho, Bengio (2015). Neural Machine Translation by Jointly Learning to
        Align and Translate. ICLR.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.units = units
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="query_dense")
        self.value_dense = keras.layers.Dense(units, name="value_dense")
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="score_dense")

    def build(self, query_shape, values_shape, mask_shape=None):
        self.query_dense.build(query_shape)
        self.value_dense.build(values_shape)
        self.score_dense.build((None, None, None, self.units))
        self.built = True

    def call(self, query, values, mask=None):
        q = self.query_dense(query)[:, :, None, :]            # (B, Tq, 1, U)
        k = self.value_dense(values)[:, None, :, :]           # (B, 1, Ts, U)
        scores = ops.squeeze(self.score_dense(ops.tanh(q + k)), -1)   # (B, Tq, Ts)
        weights = _masked_softmax(scores, mask)
        return ops.matmul(weights, values), weights

    def compute_output_spec(self, query, values, mask=None):
        b, tq = query.shape[0], query.shape[1]
        return (keras.KerasTensor((b, tq, values.shape[-1]), dtype=self.compute_dtype),
                keras.KerasTensor((b, tq, values.shape[1]), dtype=self.compute_dtype))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_genmodels")
class LuongAttention(keras.layers.Layer):
    """Multiplicative (Luong "general") attention: score(q, h) = q^T W h.

    With `score="dot"` there is no weight matrix and score(q, h) = q^T h / sqrt(d)
    (requires d_q == d_v).

    Shapes: as `BahdanauAttention`.

    Args:
        score: str. `"general"` (default) or `"dot"`.

    Example:

    >>> att = LuongAttention()
    >>> c, w = att(keras.random.normal((2, 3, 8)), keras.random.normal((2, 5, 10)))

    References:
        Luong, Pham, Manning (2015). Effective Approaches to Attention-based Neural
        Machine Translation. EMNLP.
    """

    def __init__(self, score="general", **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if score not in ("general", "dot"):
            raise ValueError(f"expected score 'general' or 'dot', received {score!r}")
        self.score = score
        self.value_dense = None

    def build(self, query_shape, values_shape, mask_shape=None):
        if self.score == "general":
            self.value_dense = keras.layers.Dense(query_shape[-1], use_bias=False,
                                                  name="value_dense")
            self.value_dense.build(values_shape)
        self.built = True

    def call(self, query, values, mask=None):
        if self.score == "general":
            keys = self.value_dense(values)
        else:
            keys = values / ops.sqrt(ops.cast(ops.shape(values)[-1], values.dtype))
        scores = ops.matmul(query, ops.transpose(keys, (0, 2, 1)))   # (B, Tq, Ts)
        weights = _masked_softmax(scores, mask)
        return ops.matmul(weights, values), weights

    def compute_output_spec(self, query, values, mask=None):
        b, tq = query.shape[0], query.shape[1]
        return (keras.KerasTensor((b, tq, values.shape[-1]), dtype=self.compute_dtype),
                keras.KerasTensor((b, tq, values.shape[1]), dtype=self.compute_dtype))

    def get_config(self):
        return {**super().get_config(), "score": self.score}


ATTENTIONS = {"bahdanau": BahdanauAttention, "luong": LuongAttention}
