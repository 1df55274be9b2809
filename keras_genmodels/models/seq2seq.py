"""`Seq2Seq`: recurrent encoder-decoder with attention, trained by teacher forcing."""

import warnings

import keras
import numpy as np
from keras import ops

from keras_genmodels import backend as B
from keras_genmodels import decoding
from keras_genmodels.layers.attention import ATTENTIONS
from keras_genmodels.models import checks
from keras_genmodels.models.base import GenerativeModel

PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SOURCE_SPECIALS = ["", "[UNK]"]
TARGET_SPECIALS = ["", "[UNK]", "[START]", "[END]"]


def _rnn(cell, units, **kwargs):
    layer = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[cell]
    return layer(units, return_sequences=True, return_state=True, **kwargs)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class Seq2Seq(GenerativeModel):
    """Recurrent encoder-decoder with attention for translation-like string tasks.

    Encoder: embedding -> (bidirectional) GRU/LSTM over the source ids `(batch, T_s)`,
    giving states `h_s` `(batch, T_s, d)`; padding (id 0) is masked. The final encoder states
    (forward and backward concatenated, through `Dense(units, tanh)` when bidirectional)
    initialise the decoder.

    Decoder (Luong et al. 2015 data flow): for each target step t,
        s_t = RNN(s_{t-1}, E[y_{t-1}])
        c_t, a_t = attention(query=s_t, values=h_s, mask)      additive or multiplicative
        h~_t = tanh(W_c [c_t; s_t]);   p(y_t | y_<t, x) = softmax(W_o h~_t)
    Both score functions use the current decoder state as query, so teacher-forced training
    runs the decoder RNN over the whole target at once.

    Training: `fit` on `((source_ids, target_in_ids), target_out_ids)` (see
    `keras_genmodels.data.text.make_dataset`), with target_in = [START] y and
    target_out = y [END]; `compute_loss` is the cross-entropy averaged over non-padding
    target positions, and `token_accuracy` the masked arg-max accuracy.

    Inference: `translate(texts)` (greedy or beam search), `decode_ids(source_ids)`;
    export signatures `translate` (`text` string `(batch,)` -> `translation` string
    `(batch,)`, `truncated` bool `(batch,)`) and `translate_ids` (`source_ids` int32
    `(batch, T_s)` -> `ids` int32 `(batch, max_target_length + 1)`).

    Ids: 0 padding, 1 unknown token; target side 2 "[START]", 3 "[END]"; the vocabularies
    passed in exclude these specials and are stored in the config, so `.keras` files carry
    them.

    Bad input (documented behaviour, no crash): an empty string encodes to all padding and
    decodes to whatever the model outputs for an empty source (attention is then uniform);
    characters/words not in the source vocabulary map to "[UNK]" (id 1); sources longer than
    `max_source_length` tokens are cut to that length, `translate` warns
    (`UserWarning`) and the `translate` signature returns `truncated=True` for them. Outputs
    stop at "[END]" or after `max_target_length + 1` steps. Wrong types raise `ValueError`
    before any work, on every backend: `translate`/`encode_texts` take a string or a list
    of strings (bytes are decoded as UTF-8; None, numbers and nested lists are refused),
    `decode_ids` integer ids `(N, T)` in `[0, source vocabulary size)` (the exported
    `translate_ids` signature fails with `InvalidArgumentError` on ids out of that range),
    and the sizes of the constructor (`max_source_length`, `max_target_length`,
    `embedding_dim`, `units`, `beam_width`) must be positive integers.

    Args:
        source_vocabulary: list of str. Source tokens (characters or words), no specials.
        target_vocabulary: list of str. Target tokens, no specials.
        max_source_length: int. Source length in tokens (longer inputs are truncated).
        max_target_length: int. Longest target in tokens (decoding runs for at most this
            plus one steps, for "[END]").
        level: str. `"char"` or `"word"` tokenisation. Defaults to `"char"`.
        standardize: None or a `TextVectorization` standardize name (`"lower"`,
            `"lower_and_strip_punctuation"`). Defaults to `None`.
        embedding_dim: int. Defaults to 32.
        units: int. RNN size (per direction in the encoder). Defaults to 64.
        cell: str. `"gru"` or `"lstm"`. Defaults to `"gru"`.
        bidirectional: bool. Bidirectional encoder. Defaults to `True`.
        attention: str. `"luong"` (multiplicative) or `"bahdanau"` (additive).
            Defaults to `"luong"`.
        beam_width: int. Default beam width of `translate`/`decode_ids` and the exported
            signatures (1 = greedy). Defaults to 1.
        length_penalty: float. Beam-search length normalisation exponent. Defaults to 0.

    Example:

    >>> from keras_genmodels.data import text
    >>> train, test = text.date_split(2000, 100, seed=0)
    >>> model = Seq2Seq.from_pairs(train)
    >>> model.compile(optimizer="adam")
    >>> model.fit(model.make_dataset(train), epochs=1)
    >>> model.translate(["5 марта 1991 г."])

    References:
        Sutskever, Vinyals, Le (2014). Sequence to Sequence Learning with Neural Networks.
        Bahdanau, Cho, Bengio (2015). Neural Machine Translation by Jointly Learning to
        Align and Translate. Luong, Pham, Manning (2015). Effective Approaches to
        Attention-based Neural Machine Translation.
    """

    serving_default = "translate"

    def __init__(self, source_vocabulary, target_vocabulary, max_source_length,
                 max_target_length, level="char", standardize=None, embedding_dim=32,
                 units=64, cell="gru", bidirectional=True, attention="luong", beam_width=1,
                 length_penalty=0.0, **kwargs):
        checks.choice("cell", cell, ("gru", "lstm"))
        checks.choice("attention", attention, sorted(ATTENTIONS))
        checks.choice("level", level, ("char", "word"))
        for name, vocabulary in (("source_vocabulary", source_vocabulary),
                                 ("target_vocabulary", target_vocabulary)):
            if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
                raise ValueError(f"expected {name} as a list of tokens (strings), received "
                                 f"{type(vocabulary).__name__}")
        max_source_length = checks.integer("max_source_length", max_source_length)
        max_target_length = checks.integer("max_target_length", max_target_length)
        embedding_dim = checks.integer("embedding_dim", embedding_dim)
        units = checks.integer("units", units)
        beam_width = checks.integer("beam_width", beam_width)
        length_penalty = checks.number("length_penalty", length_penalty)
        super().__init__(**kwargs)
        self.source_vocabulary = [str(t) for t in source_vocabulary]
        self.target_vocabulary = [str(t) for t in target_vocabulary]
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.level = level
        self.standardize = standardize
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.bidirectional = bidirectional
        self.attention = attention
        self.beam_width = beam_width
        self.length_penalty = length_penalty
        self.target_tokens = TARGET_SPECIALS + self.target_vocabulary
        self.source_size = len(SOURCE_SPECIALS) + len(self.source_vocabulary)
        self.target_size = len(self.target_tokens)

        # === Layers ===
        from keras_genmodels.data import text as text_data

        self.source_vectorizer = text_data.vectorizer(self.source_vocabulary, level,
                                                      standardize)
        # Ids 2 and 3 are "[START]" and "[END]": the vectorizer numbers the vocabulary from 2.
        self.target_vectorizer = text_data.vectorizer(TARGET_SPECIALS[2:] +
                                                      self.target_vocabulary, level,
                                                      standardize)
        # The vectorizers run only in tf.data and in the export graph, never inside the
        # trainable step; mark them jit-safe so `jit_compile="auto"` still compiles the
        # train step (a lookup layer in the model otherwise turns XLA/jax.jit off).
        for vec in (self.source_vectorizer, self.target_vectorizer):
            for layer in vec._flatten_layers():
                layer.supports_jit = True
        self.source_embedding = keras.layers.Embedding(self.source_size, embedding_dim,
                                                       name="source_embedding")
        encoder_rnn = _rnn(cell, units, name="encoder_rnn")
        self.encoder_rnn = (keras.layers.Bidirectional(encoder_rnn, name="bidirectional")
                            if bidirectional else encoder_rnn)
        self.n_states = 1 if cell == "gru" else 2
        self.bridges = [keras.layers.Dense(units, activation="tanh", name=f"bridge_{i}")
                        for i in range(self.n_states)] if bidirectional else []
        self.target_embedding = keras.layers.Embedding(self.target_size, embedding_dim,
                                                       name="target_embedding")
        self.decoder_rnn = _rnn(cell, units, name="decoder_rnn")
        self.attention_layer = ATTENTIONS[attention](units, name="attention") \
            if attention == "bahdanau" else ATTENTIONS[attention](name="attention")
        self.combine = keras.layers.Dense(units, activation="tanh", name="combine")
        self.output_projection = keras.layers.Dense(self.target_size, name="output")

        # === Metrics ===
        self.token_accuracy_tracker = keras.metrics.Mean(name="token_accuracy")

        # === Build from symbolic inputs ===
        self.call((keras.Input((self.max_source_length,), dtype="int32"),
                   keras.Input((self.max_target_length + 1,), dtype="int32")))
        self.built = True

    # ------------------------------------------------------------------ network
    def encode(self, source_ids):
        """Source ids `(batch, T_s)` -> (encoder outputs `(batch, T_s, d)`, decoder states)."""
        mask = ops.not_equal(source_ids, PAD_ID)
        outputs = self.encoder_rnn(self.source_embedding(source_ids), mask=mask)
        seq, states = outputs[0], list(outputs[1:])
        if self.bidirectional:
            n = self.n_states
            states = [bridge(ops.concatenate([states[i], states[n + i]], axis=-1))
                      for i, bridge in enumerate(self.bridges)]
        return seq, states, mask

    def _output(self, rnn_out, seq, mask):
        context, weights = self.attention_layer(rnn_out, seq, mask=mask)
        hidden = self.combine(ops.concatenate([context, rnn_out], axis=-1))
        return self.output_projection(hidden), weights

    def call(self, inputs, training=False):
        source_ids, target_in = inputs
        seq, states, mask = self.encode(source_ids)
        outputs = self.decoder_rnn(self.target_embedding(target_in), initial_state=states)
        logits, _ = self._output(outputs[0], seq, mask)
        return logits

    def _step_fn(self, seq, mask):
        cell = self.decoder_rnn.cell

        def step(tokens, states):
            h, new_states = cell(self.target_embedding(tokens), list(states))
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) \
                else [new_states]
            logits, weights = self._output(h[:, None, :], seq, mask)
            return logits[:, 0, :], new_states, weights[:, 0, :]

        return step

    # ------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Cross-entropy over non-padding target positions (id != 0)."""
        mask = ops.cast(ops.not_equal(y, PAD_ID), "float32")
        ce = ops.sparse_categorical_crossentropy(y, ops.cast(y_pred, "float32"),
                                                 from_logits=True)
        if sample_weight is not None:
            mask = mask * ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
        loss = ops.sum(ce * mask) / ops.maximum(ops.sum(mask), 1.0)
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"),
                                     ops.cast(y, "int32")), "float32")
        self.token_accuracy_tracker.update_state(correct, sample_weight=mask)
        # Under tf.distribute: this replica's share of the global-batch mean over
        # all replicas' tokens (replicas hold unequal token counts).
        return B.replica_share(loss, ops.sum(mask))

    # ------------------------------------------------------------------ inference
    def decode_graph(self, source_ids, beam_width=None, length_penalty=None,
                     return_attention=False, search=None):
        """Decoding written in `keras.ops` (traceable; used by the export and `decode_ids`).

        Source ids `(batch, T_s)` -> output ids int32 `(batch, max_target_length + 1)`: the
        tokens, "[END]" (3), then padding. `beam_width` 1 is greedy decoding. With
        `return_attention=True` (greedy only) also returns attention weights
        `(batch, max_target_length + 1, T_s)`. `search` forces `"greedy"` or `"beam"`
        (default: greedy when `beam_width` is 1, else beam search).
        """
        k = self.beam_width if beam_width is None else int(beam_width)
        alpha = self.length_penalty if length_penalty is None else float(length_penalty)
        if return_attention and k != 1:
            raise ValueError("expected beam_width=1 with return_attention=True, received "
                             f"beam_width={k}")
        source_ids = ops.cast(ops.convert_to_tensor(source_ids), "int32")
        batch = ops.shape(source_ids)[0]
        length = self.max_target_length + 1
        if search not in (None, "greedy", "beam"):
            raise ValueError(f"expected search None, 'greedy' or 'beam', received {search!r}")
        if search == "greedy" and k != 1:
            raise ValueError(f"expected beam_width=1 for greedy search, received {k}")
        seq, states, mask = self.encode(source_ids)
        if k == 1 and search != "beam":
            return decoding.greedy_decode(
                self._step_fn(seq, mask), states, batch, START_ID, END_ID, length,
                source_length=source_ids.shape[1] if return_attention else None,
                banned_ids=(PAD_ID, START_ID))
        rep = lambda t: ops.repeat(t, k, axis=0)  # noqa: E731
        return decoding.beam_search_decode(
            self._step_fn(rep(seq), rep(mask)), [rep(s) for s in states], batch, START_ID,
            END_ID, length, beam_width=k, length_penalty=alpha,
            banned_ids=(PAD_ID, START_ID))

    def decode_ids(self, source_ids, beam_width=None, length_penalty=None,
                   return_attention=False, search=None):
        """`decode_graph` compiled by Keras's predict machinery; returns NumPy arrays.

        The compiled function is cached per (beam_width, length_penalty, attention), so
        repeated calls do not re-trace (jax.jit under JAX, tf.function under TensorFlow,
        eager under torch).
        """
        k = self.beam_width if beam_width is None else checks.integer("beam_width",
                                                                      beam_width)
        alpha = self.length_penalty if length_penalty is None else checks.number(
            "length_penalty", length_penalty)
        source_ids = checks.token_ids(source_ids, self.source_size, "Seq2Seq.decode_ids")
        key = (k, alpha, bool(return_attention), search)
        cache = self.__dict__.get("__decoders")
        if cache is None:
            cache = {}
            # Set with object.__setattr__ under a "__" name: invisible to Keras tracking,
            # `.keras` saving, torch module registration and TF checkpointing.
            object.__setattr__(self, "__decoders", cache)
        if key not in cache:
            cache[key] = _Decoder(self, *key)
        n = len(source_ids)
        rows = max(8, 1 << max(0, n - 1).bit_length())   # few distinct compiled shapes
        padded = np.zeros((rows, source_ids.shape[1]), "int32")
        padded[:n] = source_ids
        out = cache[key].predict_on_batch(padded)
        return tuple(o[:n] for o in out) if isinstance(out, (tuple, list)) else out[:n]

    def encode_texts(self, texts):
        """Strings -> (`ids` int32 `(n, max_source_length)`, `truncated` bool `(n,)`)."""
        from keras_genmodels.data import text as text_data

        texts, _ = checks.texts(texts, "Seq2Seq.encode_texts")

        return text_data.encode_numpy(self.source_vectorizer, texts, self.max_source_length)

    def ids_to_texts(self, ids):
        """Target ids `(n, L)` -> list of n strings (stops at "[END]")."""
        from keras_genmodels.data import text as text_data

        return text_data.detokenize_numpy(ops.convert_to_numpy(ids), self.target_tokens,
                                          self.level)

    def translate(self, texts, beam_width=None, length_penalty=None, batch_size=512):
        """Translate a string or a list of strings; returns a string or a list of strings.

        Over-long inputs are truncated to `max_source_length` with a `UserWarning`.
        """
        texts, single = checks.texts(texts, "Seq2Seq.translate")
        batch_size = checks.integer("batch_size", batch_size)
        if beam_width is not None:
            checks.integer("beam_width", beam_width)
        if not texts:
            return []
        ids, truncated = self.encode_texts(texts)
        if truncated.any():
            warnings.warn(f"{int(truncated.sum())} input(s) longer than max_source_length="
                          f"{self.max_source_length} tokens were truncated", UserWarning,
                          stacklevel=2)
        out = []
        for i in range(0, len(texts), batch_size):
            out.extend(self.ids_to_texts(self.decode_ids(ids[i:i + batch_size], beam_width,
                                                         length_penalty)))
        return out[0] if single else out

    def attention_map(self, text):
        """Greedy translation of one string with its attention matrix.

        Returns:
            `(source_tokens, output_tokens, weights)`, weights a NumPy array
            `(len(output_tokens), len(source_tokens))`; the output tokens include "[END]"
            when it was produced.
        """
        texts, single = checks.texts(text, "Seq2Seq.attention_map", name="text")
        if not single:
            raise ValueError("Seq2Seq.attention_map: expected text as one string, received "
                             f"{type(text).__name__}")
        ids, _ = self.encode_texts(texts)
        out, att = self.decode_ids(ids, beam_width=1, return_attention=True)
        out, att = np.asarray(out)[0], np.asarray(att)[0]
        src_tokens = [(SOURCE_SPECIALS + self.source_vocabulary)[i] for i in ids[0] if i]
        n_out = int(np.argmax(out == END_ID)) + 1 if (out == END_ID).any() else int(
            (out != 0).sum())
        out_tokens = [self.target_tokens[i] for i in out[:n_out]]
        return src_tokens, out_tokens, att[:n_out, :len(src_tokens)]

    def make_dataset(self, pairs, batch_size=64, shuffle=True, seed=0, repeat=False,
                     drop_remainder=True, epoch=None):
        """tf.data of `((source_ids, target_in), target_out)` tokenised with this model.

        `epoch=e`: the replayable order of epoch e (see `data.text.ids_dataset`).
        """
        from keras_genmodels.data import text as text_data

        return text_data.make_dataset(
            pairs, self.source_vectorizer, self.target_vectorizer, self.max_source_length,
            self.max_target_length, batch_size=batch_size, shuffle=shuffle, seed=seed,
            repeat=repeat, drop_remainder=drop_remainder, epoch=epoch)

    def encode_pairs(self, pairs):
        """`(source_ids, target_ids)` int32 arrays of `pairs` (too-long pairs dropped).

        Encode once, then `data.text.ids_dataset(source_ids, target_ids, seed=s, epoch=e)`
        gives epoch e's batches (an `epoch_dataset` for `training.fit_resumable`).
        """
        from keras_genmodels.data import text as text_data

        return text_data.encode_pairs(pairs, self.source_vectorizer, self.target_vectorizer,
                                      self.max_source_length, self.max_target_length)

    @classmethod
    def from_pairs(cls, pairs, level="char", standardize=None, max_tokens=None,
                   length_margin=0, **kwargs):
        """Build vocabularies and maximum lengths from training `(source, target)` pairs."""
        from keras_genmodels.data import text as text_data

        pairs = text_data.check_pairs(pairs)
        src_vocab = text_data.build_vocabulary([p[0] for p in pairs], level, standardize,
                                               max_tokens)
        tgt_vocab = text_data.build_vocabulary([p[1] for p in pairs], level, standardize,
                                               max_tokens)
        src_layer = text_data.vectorizer(src_vocab, level, standardize)
        tgt_layer = text_data.vectorizer(TARGET_SPECIALS[2:] + tgt_vocab, level, standardize)
        big = 1 + max(len(p[0]) for p in pairs) * 4 + max(len(p[1]) for p in pairs) * 4
        s_ids, _ = text_data.encode_numpy(src_layer, [p[0] for p in pairs], big)
        t_ids, _ = text_data.encode_numpy(tgt_layer, [p[1] for p in pairs], big)
        kwargs.setdefault("max_source_length",
                          int((s_ids != 0).sum(axis=1).max()) + length_margin)
        kwargs.setdefault("max_target_length", int((t_ids != 0).sum(axis=1).max()))
        return cls(src_vocab, tgt_vocab, level=level, standardize=standardize, **kwargs)

    # ------------------------------------------------------------------ export
    def export_endpoints(self):
        from keras_genmodels.data import text as text_data

        def translate(text):
            ids, truncated = text_data.tokenize(self.source_vectorizer, text,
                                                self.max_source_length)
            out = self.decode_graph(ids)
            return {"translation": text_data.detokenize(out, self.target_tokens, self.level),
                    "truncated": truncated}

        vocabulary_size = self.source_size

        def translate_ids(source_ids):
            # Ids out of range fail with InvalidArgument (not an opaque gather error).
            source_ids = B.assert_in_range(
                source_ids, 0, vocabulary_size,
                f"expected source_ids as integer ids in [0, {vocabulary_size})")
            return {"ids": self.decode_graph(source_ids)}

        return {
            "translate": (translate, [keras.InputSpec(shape=(None,), dtype="string")]),
            "translate_ids": (translate_ids, [keras.InputSpec(shape=(None, None),
                                                              dtype="int32")]),
        }

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {
            **super().get_config(),
            "source_vocabulary": self.source_vocabulary,
            "target_vocabulary": self.target_vocabulary,
            "max_source_length": self.max_source_length,
            "max_target_length": self.max_target_length,
            "level": self.level,
            "standardize": self.standardize,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "bidirectional": self.bidirectional,
            "attention": self.attention,
            "beam_width": self.beam_width,
            "length_penalty": self.length_penalty,
        }


class _Decoder(keras.Model):
    """Inference wrapper: `call(source_ids)` runs `Seq2Seq.decode_graph`, so that
    `predict_on_batch` compiles and caches it on every backend. Never saved."""

    def __init__(self, seq2seq, beam_width, length_penalty, return_attention, search):
        super().__init__(name=f"{seq2seq.name}_decoder")
        self.seq2seq = seq2seq
        self.options = dict(beam_width=beam_width, length_penalty=length_penalty,
                            return_attention=return_attention, search=search)
        self.built = True

    def call(self, source_ids):
        return self.seq2seq.decode_graph(source_ids, **self.options)
