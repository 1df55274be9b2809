"""BERT-style token masking: the corruption of a masked (denoising) sequence autoencoder.

Given token ids `(batch, T)` (0 = padding), choose positions to predict and corrupt them:

- **random** masking (BERT): each real token is chosen independently with probability
  `rate` (0.15);
- **span** masking (SpanBERT-like): span starts are drawn independently with probability
  `q` and each covers `L ~ Uniform{span[0], ..., span[1]}` tokens (default 3-5); `q` is
  solved so that a position is covered with probability `rate`, i.e.
  1 - prod_{k=0}^{L_max-1} (1 - q P(L > k)) = rate (a little less near the window start).
  Inside a span, short-context guessing fails: the neighbours are masked too.

Of the chosen positions, 80 % become `[MASK]`, 10 % a token drawn uniformly from the real
vocabulary, 10 % stay unchanged (`mask_fraction`, `random_fraction`; BERT's numbers,
applied per token, also inside spans). Padding (id 0) and the special ids below
`first_token_id` (unknown, mask) are never chosen.

Outputs: `corrupted` ids `(batch, T)` and `labels` `(batch, T)`: the original id at chosen
positions and 0 elsewhere -- the loss is taken only where `labels != 0`.

Like `keras_genmodels.layers.corruption` (the denoising autoencoder's input corruption),
the math is written once (`_mask_tokens`) over a few primitives, run with `keras.ops` in
the `TokenMasking` layer (any backend, a `SeedGenerator`, traceable under `jit`) and with
TensorFlow in `token_masking_map` (a tf.data map, seeded `tf.random.Generator`: fresh
masks every epoch, the same sequence in every run).

References:
    Devlin et al. (2019). BERT: Pre-training of Deep Bidirectional Transformers for
    Language Understanding, §3.1. Joshi et al. (2020). SpanBERT, §3.1.
"""

import keras
from keras import ops

MASKINGS = ("random", "span")


def span_start_rate(rate, span):
    """Start probability `q` of spans of `Uniform{span[0]..span[1]}` tokens covering `rate`."""
    lo, hi = span
    tail = [sum(1 for n in range(lo, hi + 1) if n > k) / (hi - lo + 1) for k in range(hi)]

    def covered(q):
        p = 1.0
        for t in tail:
            p *= 1.0 - q * t
        return 1.0 - p

    a, b = 0.0, 1.0
    for _ in range(60):
        m = 0.5 * (a + b)
        a, b = (m, b) if covered(m) < rate else (a, m)
    return 0.5 * (a + b)


def check_masking(masking, rate, mask_fraction, random_fraction, span):
    """Validate the masking options; return `span` as a tuple of two ints."""
    if masking not in MASKINGS:
        raise ValueError(f"expected masking to be one of {list(MASKINGS)}, received "
                         f"{masking!r}")
    if not 0.0 < float(rate) < 1.0:
        raise ValueError(f"expected mask rate in (0, 1), received {rate!r}")
    if not (0.0 <= mask_fraction and 0.0 <= random_fraction
            and mask_fraction + random_fraction <= 1.0):
        raise ValueError(f"expected mask_fraction, random_fraction >= 0 with sum <= 1, "
                         f"received {mask_fraction!r}, {random_fraction!r}")
    span = tuple(int(s) for s in span)
    if len(span) != 2 or not 1 <= span[0] <= span[1]:
        raise ValueError(f"expected span as (min_length, max_length) with "
                         f"1 <= min <= max, received {span!r}")
    return span


class _Prims:
    """The primitives `_mask_tokens` needs, from `keras.ops` or TensorFlow."""

    def __init__(self, where, pad, maximum, cast):
        self.where, self.pad, self.maximum, self.cast = where, pad, maximum, cast


def _mask_tokens(p, ids, u_select, u_kind, u_length, random_ids, masking, rate, span,
                 mask_id, first_token_id, mask_fraction, random_fraction):
    """(corrupted, labels) from ids `(B, T)` int32 and draws of the same shape.

    `u_select`, `u_kind`, `u_length` are uniform in [0, 1); `random_ids` uniform integers in
    `[first_token_id, vocabulary_size)`.
    """
    eligible = p.cast(ids >= first_token_id, "float32")
    if masking == "random":
        chosen = p.cast(u_select < rate, "float32") * eligible
    else:
        lo, hi = span
        q = span_start_rate(rate, span)
        starts = p.cast(u_select < q, "float32") * eligible
        length = lo + p.cast(u_length * (hi - lo + 1), "int32")  # lo..hi
        covered = starts
        length_t = ids.shape[1]
        for k in range(1, hi):
            longer = starts * p.cast(length > k, "float32")
            if length_t is not None and k >= length_t:
                break
            shifted = p.pad(longer[:, :-k], [[0, 0], [k, 0]])
            covered = p.maximum(covered, shifted)
        chosen = covered * eligible
    chosen = chosen > 0.5
    to_mask = chosen & (u_kind < mask_fraction)
    to_random = chosen & (u_kind >= mask_fraction) & (u_kind < mask_fraction + random_fraction)
    corrupted = p.where(to_mask, ids * 0 + mask_id, p.where(to_random, random_ids, ids))
    labels = p.where(chosen, ids, ids * 0)
    return corrupted, labels


def _keras_prims():
    return _Prims(ops.where, ops.pad, ops.maximum, ops.cast)


def _tf_prims():
    import tensorflow as tf

    return _Prims(tf.where, tf.pad, tf.maximum, tf.cast)


def mask_tokens(ids, vocabulary_size, masking="random", rate=0.15, span=(3, 5), mask_id=2,
                first_token_id=3, mask_fraction=0.8, random_fraction=0.1, seed=None):
    """Choose and corrupt positions of `ids` once, in `keras.ops` (any backend).

    Args:
        ids: int tensor `(batch, T)`; 0 is padding.
        vocabulary_size: int. Number of ids (specials included); random replacements are
            drawn from `[first_token_id, vocabulary_size)`.
        masking: str. `"random"` or `"span"`. Defaults to `"random"`.
        rate: float. Fraction of tokens chosen. Defaults to 0.15.
        span: `(min, max)` span length in tokens. Defaults to `(3, 5)`.
        mask_id: int. Id of `[MASK]`. Defaults to 2.
        first_token_id: int. Ids below it are never chosen. Defaults to 3.
        mask_fraction, random_fraction: floats. Defaults to 0.8 and 0.1.
        seed: `keras.random.SeedGenerator`, int or None.

    Returns:
        `(corrupted, labels)`, int32 `(batch, T)`; labels are 0 where not chosen.
    """
    span = check_masking(masking, rate, mask_fraction, random_fraction, span)
    ids = ops.cast(ops.convert_to_tensor(ids), "int32")
    shape = ops.shape(ids)
    u_select = keras.random.uniform(shape, seed=seed)
    u_kind = keras.random.uniform(shape, seed=seed)
    u_length = keras.random.uniform(shape, seed=seed)
    random_ids = ops.cast(keras.random.randint(shape, first_token_id, vocabulary_size,
                                               seed=seed), "int32")
    return _mask_tokens(_keras_prims(), ids, u_select, u_kind, u_length, random_ids, masking,
                        float(rate), span, mask_id, first_token_id, float(mask_fraction),
                        float(random_fraction))


@keras.saving.register_keras_serializable(package="keras_genmodels")
class TokenMasking(keras.layers.Layer):
    """BERT / span masking of token ids, drawn from the layer's own `SeedGenerator`.

    `layer(ids)` returns `(corrupted, labels)` (see the module docstring). Unlike
    `Corruption` it always draws: it makes the training targets, so it belongs where the
    data is prepared (or in a custom step), not in an inference path.

    Shapes: `ids` `(batch, T)` int -> two int32 tensors `(batch, T)`.

    Args:
        vocabulary_size: int. Number of ids, specials included.
        masking: str. `"random"` or `"span"`. Defaults to `"random"`.
        rate: float. Defaults to 0.15.
        span: `(min, max)`. Defaults to `(3, 5)`.
        mask_id: int. Defaults to 2.
        first_token_id: int. Defaults to 3.
        mask_fraction: float. Defaults to 0.8.
        random_fraction: float. Defaults to 0.1.
        seed: int or None. Defaults to None.

    Example:

    ```python
    corrupted, labels = TokenMasking(vocabulary_size=100, seed=0)(ids)
    ```
    """

    def __init__(self, vocabulary_size, masking="random", rate=0.15, span=(3, 5), mask_id=2,
                 first_token_id=3, mask_fraction=0.8, random_fraction=0.1, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.span = check_masking(masking, rate, mask_fraction, random_fraction, span)
        self.vocabulary_size = int(vocabulary_size)
        self.masking = masking
        self.rate = float(rate)
        self.mask_id = int(mask_id)
        self.first_token_id = int(first_token_id)
        self.mask_fraction = float(mask_fraction)
        self.random_fraction = float(random_fraction)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, ids):
        return mask_tokens(ids, self.vocabulary_size, self.masking, self.rate, self.span,
                           self.mask_id, self.first_token_id, self.mask_fraction,
                           self.random_fraction, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape), tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary_size=self.vocabulary_size, masking=self.masking,
                      rate=self.rate, span=self.span, mask_id=self.mask_id,
                      first_token_id=self.first_token_id, mask_fraction=self.mask_fraction,
                      random_fraction=self.random_fraction, seed=self.seed)
        return config


def token_masking_map(vocabulary_size, masking="random", rate=0.15, span=(3, 5), mask_id=2,
                      first_token_id=3, mask_fraction=0.8, random_fraction=0.1, seed=0,
                      epoch=None):
    """A `tf.data` map `ids -> (corrupted, labels)` (any Keras backend).

    Use on batches of ids `(batch, T)`: `dataset.map(token_masking_map(V))` gives what
    `MaskedSequenceAutoencoder.fit` trains on. Draws come from a `tf.random.Generator`
    seeded with `seed` (keep the map sequential for a repeatable sequence).

    With `epoch` (an int or a scalar integer tensor) the map takes `(index, ids)` -- use it
    after `Dataset.enumerate()` -- and draws statelessly from `(seed, epoch, index)` (Philox):
    the masks of batch `index` of epoch `epoch` are the same in every process, so a resumed
    run (`keras_genmodels.training.fit_resumable`) replays them exactly.
    """
    span = check_masking(masking, rate, mask_fraction, random_fraction, span)
    import tensorflow as tf

    prims = _tf_prims()

    def corrupt(ids, uniform):
        ids = tf.cast(ids, tf.int32)
        shape = tf.shape(ids)
        u_select, u_kind, u_length = (uniform(shape, i) for i in range(3))
        random_ids = uniform(shape, 3, (first_token_id, vocabulary_size))
        return _mask_tokens(prims, ids, u_select, u_kind, u_length, random_ids, masking,
                            float(rate), span, mask_id, first_token_id,
                            float(mask_fraction), float(random_fraction))

    if epoch is None:
        generator = tf.random.Generator.from_seed(int(seed))

        def draw(shape, _, bounds=None):
            if bounds is None:
                return generator.uniform(shape)
            return generator.uniform(shape, bounds[0], bounds[1], tf.int32)

        return lambda ids: corrupt(ids, draw)

    key = tf.stack([tf.constant(int(seed), tf.int64), tf.cast(epoch, tf.int64)])

    def fn(index, ids):
        batch_key = tf.random.experimental.stateless_fold_in(key, index, alg="philox")

        def draw(shape, stream, bounds=None):
            sub = tf.random.experimental.stateless_fold_in(batch_key, stream, alg="philox")
            if bounds is None:
                return tf.random.stateless_uniform(shape, seed=sub, alg="philox")
            return tf.random.stateless_uniform(shape, seed=sub, minval=bounds[0],
                                               maxval=bounds[1], dtype=tf.int32, alg="philox")

        return corrupt(ids, draw)

    return fn
