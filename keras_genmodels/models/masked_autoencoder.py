"""`MaskedSequenceAutoencoder`: a Transformer encoder trained to restore masked tokens (BERT)."""

import warnings

import keras
import numpy as np
from keras import ops

from keras_genmodels import backend as B

from keras_genmodels.layers.token_masking import check_masking, token_masking_map
from keras_genmodels.models import checks
from keras_genmodels.models.base import GenerativeModel

PAD_ID, UNK_ID, MASK_ID = 0, 1, 2
FIRST_TOKEN_ID = 3
MASK_MARKER = "[MASK]"
_LN2 = float(np.log(2.0))


@keras.saving.register_keras_serializable(package="keras_genmodels")
class TransformerEncoderBlock(keras.layers.Layer):
    """Pre-LayerNorm Transformer encoder block: x + MHA(LN(x)); then x + FFN(LN(x)).

    With `conv_kernel=k > 0` a local convolution module comes first (as in ConvBERT /
    Conformer): x + Dense(GELU(DepthwiseConv1D_k(LN(x) * mask))). It gives every position
    its neighbours' characters in one step, which attention with absolute positions
    learns slowly.

    Shapes: `x` `(batch, T, d)`, `padding_mask` bool `(batch, T)` (True = token, False = padding;
    padded keys receive no attention) -> `(batch, T, d)`.

    Args:
        d_model: int. Width.
        num_heads: int. Attention heads (`d_model` divisible by it).
        ff_dim: int. Hidden width of the feed-forward network.
        dropout: float. Dropout on the attention weights and both residual branches.
        conv_kernel: int. Width of the local depthwise convolution; 0 (default) for none.
    """

    def __init__(self, d_model, num_heads, ff_dim, dropout=0.0, conv_kernel=0, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.ff_dim = int(d_model), int(num_heads), int(ff_dim)
        self.dropout = float(dropout)
        self.conv_kernel = int(conv_kernel)
        if self.conv_kernel:
            self.norm0 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm0")
            self.conv = keras.layers.DepthwiseConv1D(self.conv_kernel, padding="same",
                                                     name="conv")
            self.conv_out = keras.layers.Dense(self.d_model, name="conv_out")
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.attention = keras.layers.MultiHeadAttention(
            num_heads, self.d_model // self.num_heads, dropout=self.dropout, name="attention")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.ff1 = keras.layers.Dense(self.ff_dim, activation="gelu", name="ff1")
        self.ff2 = keras.layers.Dense(self.d_model, name="ff2")
        self.drop = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        if self.conv_kernel:
            self.norm0.build(input_shape)
            self.conv.build(input_shape)
            self.conv_out.build(input_shape)
        self.norm1.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm2.build(input_shape)
        self.ff1.build(input_shape)
        self.ff2.build(tuple(input_shape[:-1]) + (self.ff_dim,))
        self.built = True

    def call(self, x, padding_mask=None, training=False):
        attention_mask = None if padding_mask is None else padding_mask[:, None, :]
        if self.conv_kernel:
            h = self.norm0(x)
            if padding_mask is not None:  # padded positions contribute nothing
                h = h * ops.cast(padding_mask, h.dtype)[..., None]
            h = self.conv_out(ops.gelu(self.conv(h)))
            x = x + self.drop(h, training=training)
        h = self.norm1(x)
        h = self.attention(h, h, attention_mask=attention_mask, training=training)
        x = x + self.drop(h, training=training)
        h = self.ff2(self.ff1(self.norm2(x)))
        return x + self.drop(h, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads,
                "ff_dim": self.ff_dim, "dropout": self.dropout, "conv_kernel": self.conv_kernel}


@keras.saving.register_keras_serializable(package="keras_genmodels")
class MaskedSequenceAutoencoder(GenerativeModel):
    """Masked sequence autoencoder: the denoising autoencoder behind BERT.

    A window of token ids `(batch, T)` is corrupted by `TokenMasking` (15 % of the tokens
    chosen; 80 % of those become `[MASK]`, 10 % a random token, 10 % stay; or contiguous
    spans of 3-5 tokens) and the network restores the chosen tokens:

        h_0 = E_tok[x] + E_pos[0..T-1]                       (batch, T, d)
        h_l = Block_l(h_{l-1}, padding mask),  l = 1..L      pre-LN MHA + GELU FFN
        logits = LN(h_L) E_tok^T + b   (tied)   or   Dense(LN(h_L))   (untied)

    Loss: cross-entropy on the chosen positions only (`labels != 0`), averaged over them;
    padding and unchosen positions contribute nothing. Metrics: `masked_accuracy` and
    `bits_per_token` (the cross-entropy in bits) on the chosen positions.

    Data: `fit` on `(corrupted_ids, labels)` pairs, e.g. `make_dataset(windows)` (the
    corruption is a seeded tf.data map, fresh every epoch, identical on every backend).

    Use: `fill_mask(texts)` restores "[MASK]" markers in strings ("The quick br[MASK]wn
    fox"; one marker = one token: a character, or a word with `level="word"`);
    `embed(texts)` is the mean of the final hidden states over non-padding tokens
    `(n, d_model)`. Export signatures `fill_mask` (= `serving_default`: `text` string
    `(batch,)` -> `filled` string, `masks` int32 (markers filled), `truncated` bool) and
    `embed` (`text` -> `embedding` float32 `(batch, d_model)`, `truncated`).

    Ids: 0 padding, 1 unknown token, 2 `[MASK]` (the private character U+E000 in the
    vocabulary); the vocabulary passed in excludes them and is stored in the config.

    Bad input (documented, no crash in the served graph): a query without a marker comes
    back unchanged with `masks=0` (word level: whitespace normalised); a query longer than
    `sequence_length` tokens is read up to the window (`truncated=True`): markers beyond
    it stay "[MASK]" and are not counted. The Python `fill_mask` raises `ValueError` for
    both instead (`strict=False` gives the served behaviour). Unknown characters/words map
    to `[UNK]` for the network but are copied through to the output unchanged.

    Args:
        vocabulary: list of str. Tokens (characters or words), no specials.
        sequence_length: int. Window length T in tokens.
        level: str. `"char"` or `"word"` (whitespace-separated). Defaults to `"char"`.
        d_model: int. Defaults to 128.
        num_layers: int. Encoder blocks. Defaults to 4.
        num_heads: int. Defaults to 4.
        ff_dim: int. Feed-forward width; defaults to `4 * d_model`.
        dropout: float. Defaults to 0.1.
        tie_embeddings: bool. Output head = transposed token embedding (+ bias).
            Defaults to True.
        masking: str. `"random"` (BERT) or `"span"` -- the corruption `make_dataset` uses.
            Defaults to `"random"`.
        mask_rate: float. Defaults to 0.15.
        span: `(min, max)` span length. Defaults to `(3, 5)`.
        conv_kernel: int. Local depthwise convolution width in every block (see
            `TransformerEncoderBlock`); 0 for a plain Transformer. Defaults to 0.

    Example:

    >>> from keras_genmodels.data import text_windows as tw
    >>> train_docs, test_docs = tw.split("default")
    >>> model = MaskedSequenceAutoencoder.from_documents(train_docs, sequence_length=128)
    >>> w = tw.encode_windows(model.vectorizer, train_docs, test_docs, 128)
    >>> model.compile(optimizer="adam")
    >>> model.fit(model.make_dataset(w["train"]), epochs=1)
    >>> model.fill_mask("The quick br[MASK]wn fox")

    References:
        Devlin et al. (2019). BERT, §3.1. Joshi et al. (2020). SpanBERT.
        Vincent et al. (2010). Stacked denoising autoencoders.
    """

    serving_default = "fill_mask"

    def __init__(self, vocabulary, sequence_length, level="char", d_model=128, num_layers=4,
                 num_heads=4, ff_dim=None, dropout=0.1, tie_embeddings=True,
                 masking="random", mask_rate=0.15, span=(3, 5), conv_kernel=0, **kwargs):
        checks.choice("level", level, ("char", "word"))
        if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
            raise ValueError(f"expected vocabulary as a list of tokens (strings), received "
                             f"{type(vocabulary).__name__}")
        sequence_length = checks.integer("sequence_length", sequence_length)
        d_model = checks.integer("d_model", d_model)
        num_layers = checks.integer("num_layers", num_layers)
        num_heads = checks.integer("num_heads", num_heads)
        ff_dim = checks.integer("ff_dim", 4 * d_model if ff_dim is None else ff_dim)
        dropout = checks.number("dropout", dropout, 0.0, 1.0, include_maximum=False)
        conv_kernel = checks.integer("conv_kernel", conv_kernel, minimum=0)
        if d_model % num_heads:
            raise ValueError(f"expected d_model divisible by num_heads, received d_model="
                             f"{d_model}, num_heads={num_heads}")
        span = check_masking(masking, mask_rate, 0.8, 0.1, span)
        super().__init__(**kwargs)
        from keras_genmodels.data.text_windows import MASK_CHAR

        self.vocabulary = [str(t) for t in vocabulary if str(t) != MASK_CHAR]
        if not self.vocabulary:
            raise ValueError("expected a non-empty vocabulary, received none")
        self.sequence_length = sequence_length
        self.level = level
        self.d_model = d_model
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.tie_embeddings = bool(tie_embeddings)
        self.masking = masking
        self.mask_rate = float(mask_rate)
        self.span = span
        self.conv_kernel = conv_kernel
        self.tokens = ["", "[UNK]", MASK_CHAR] + self.vocabulary
        self.vocabulary_size = len(self.tokens)

        # === Layers ===
        from keras_genmodels.data import text as text_data

        self.vectorizer = text_data.vectorizer([MASK_CHAR] + self.vocabulary, level)
        # Runs only in tf.data and the export graph; keep the train step jit-compilable.
        for layer in self.vectorizer._flatten_layers():
            layer.supports_jit = True
        self.token_embedding = keras.layers.Embedding(self.vocabulary_size, d_model,
                                                      name="token_embedding")
        self.position_embedding = keras.layers.Embedding(sequence_length, d_model,
                                                         name="position_embedding")
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.blocks = [TransformerEncoderBlock(d_model, num_heads, ff_dim, dropout, conv_kernel,
                                               name=f"block_{i}") for i in range(num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")
        self.output_head = None if self.tie_embeddings else keras.layers.Dense(
            self.vocabulary_size, name="output_head")

        # === Metrics ===
        self.masked_accuracy_tracker = keras.metrics.Mean(name="masked_accuracy")
        self.bits_tracker = keras.metrics.Mean(name="bits_per_token")

        # === Build ===
        self.token_embedding.build((None, sequence_length))
        self.position_embedding.build((sequence_length,))
        for block in self.blocks:
            block.build((None, sequence_length, d_model))
        self.final_norm.build((None, sequence_length, d_model))
        if self.output_head is not None:
            self.output_head.build((None, sequence_length, d_model))
            self.output_bias = None
        else:
            self.output_bias = self.add_weight(shape=(self.vocabulary_size,),
                                               initializer="zeros", name="output_bias")
        self.built = True

    # ------------------------------------------------------------------ network
    def hidden_states(self, ids, training=False):
        """Ids `(batch, T)` -> final hidden states `(batch, T, d)` (after the last LayerNorm)."""
        ids = ops.cast(ids, "int32")
        mask = ops.not_equal(ids, PAD_ID)
        positions = self.position_embedding(ops.arange(ops.shape(ids)[1]))
        h = self.token_embedding(ids) + positions[None]
        h = self.embedding_dropout(h, training=training)
        for block in self.blocks:
            h = block(h, padding_mask=mask, training=training)
        return self.final_norm(h)

    def logits(self, hidden):
        """Final hidden states `(batch, T, d)` -> token logits `(batch, T, V)`."""
        if self.output_head is not None:
            return self.output_head(hidden)
        return ops.matmul(hidden, ops.transpose(self.token_embedding.embeddings)) + \
            self.output_bias

    def call(self, ids, training=False):
        return self.logits(self.hidden_states(ids, training=training))

    def embed_ids(self, ids):
        """Mean of the final hidden states over non-padding tokens: `(batch, d)` (zeros for an
        all-padding row)."""
        h = self.hidden_states(ids)
        m = ops.cast(ops.not_equal(ops.cast(ids, "int32"), PAD_ID), h.dtype)[..., None]
        return ops.sum(h * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)

    def predict_tokens(self, ids):
        """Arg-max over real tokens (never padding, `[UNK]` or `[MASK]`): int32 `(batch, T)`."""
        logits = self(ids)
        banned = ops.cast(ops.arange(self.vocabulary_size) < FIRST_TOKEN_ID, logits.dtype)
        return ops.cast(ops.argmax(logits - 1e9 * banned, axis=-1), "int32")

    # ------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean cross-entropy over chosen positions (`y != 0`); other positions are ignored.

        `y` `(batch, T)`: the original id at chosen positions, 0 elsewhere (padding and
        unchosen tokens alike). `y_pred`: logits `(batch, T, V)`.
        """
        y = ops.cast(y, "int32")
        chosen = ops.cast(ops.not_equal(y, PAD_ID), "float32")
        if sample_weight is not None:
            chosen = chosen * ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
        logits = ops.cast(y_pred, "float32")
        # Unchosen rows get target 0 and weight 0: any logits there leave the loss unchanged.
        ce = ops.sparse_categorical_crossentropy(y, logits, from_logits=True)
        ce = ops.where(chosen > 0, ce, 0.0)
        loss = ops.sum(ce * chosen) / ops.maximum(ops.sum(chosen), 1.0)
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), y),
                           "float32")
        self.masked_accuracy_tracker.update_state(correct, sample_weight=chosen)
        self.bits_tracker.update_state(ce / _LN2, sample_weight=chosen)
        # Several TF replicas: this replica's share of the global mean over chosen tokens.
        return B.replica_share(loss, ops.sum(chosen))

    def make_dataset(self, windows, batch_size=64, shuffle=True, seed=0, repeat=False,
                     drop_remainder=True, masking=None, epoch=None):
        """tf.data of `(corrupted_ids, labels)` batches from windows `(n, T)` int32.

        The corruption (`masking`, default the model's) is drawn by a tf.data map seeded with
        `seed`: new masks every epoch, the same sequence in every run and on every backend.
        `epoch=e` (an int or a scalar integer tensor): the order and the masks of epoch `e`
        are a function of `(seed, e)` only -- a replayable epoch for
        `keras_genmodels.training.fit_resumable` (`genmodels train masked-ae --checkpoint-dir`).
        """
        import tensorflow as tf

        windows = np.asarray(windows, "int32")
        if windows.ndim != 2 or windows.shape[1] != self.sequence_length:
            raise ValueError(f"expected windows (n, {self.sequence_length}), received shape "
                             f"{windows.shape}")
        if epoch is not None:
            from keras_genmodels.data.images import epoch_indices

            table = tf.constant(windows)
            ds = epoch_indices(len(windows), seed, epoch, shuffle=shuffle, repeat=repeat)
            ds = ds.batch(batch_size, drop_remainder=drop_remainder)
            ds = ds.map(lambda index: tf.gather(table, index)).enumerate()
            return ds.map(self.masking_map(masking, seed, epoch)).prefetch(2)
        ds = tf.data.Dataset.from_tensor_slices(windows)
        if shuffle:
            ds = ds.shuffle(min(len(windows), 50_000), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        ds = ds.map(self.masking_map(masking, seed))
        return ds.prefetch(2)

    def masking_map(self, masking=None, seed=0, epoch=None):
        """The tf.data corruption map of this model (`token_masking_map`)."""
        return token_masking_map(self.vocabulary_size, masking or self.masking, self.mask_rate,
                                 self.span, MASK_ID, FIRST_TOKEN_ID, seed=seed, epoch=epoch)

    def corrupt_numpy(self, windows, masking=None, seed=0):
        """One fixed corruption of `windows`: `(corrupted, labels)` NumPy int32 arrays.

        Used for evaluation: every method is scored on the same masked positions.
        """
        import tensorflow as tf

        windows = np.asarray(windows, "int32")
        ds = tf.data.Dataset.from_tensor_slices(windows).batch(4096)
        ds = ds.map(self.masking_map(masking, seed))
        parts = list(ds.as_numpy_iterator())
        return (np.concatenate([p[0] for p in parts]).astype("int32"),
                np.concatenate([p[1] for p in parts]).astype("int32"))

    def evaluate_masked(self, corrupted, labels, batch_size=256):
        """`{"masked_accuracy", "bits_per_token", "positions"}` on fixed corrupted windows."""
        corrupted, labels = np.asarray(corrupted, "int32"), np.asarray(labels, "int32")
        n_correct, bits, n = 0.0, 0.0, 0
        for i in range(0, len(corrupted), batch_size):
            logits = ops.convert_to_numpy(self.predict_on_batch(corrupted[i:i + batch_size]))
            y = labels[i:i + batch_size]
            sel = y != PAD_ID
            lg = logits[sel].astype("float64")
            lg -= lg.max(-1, keepdims=True)
            logp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
            t = y[sel]
            bits += float(-logp[np.arange(len(t)), t].sum() / np.log(2.0))
            n_correct += float((logits[sel].argmax(-1) == t).sum())
            n += int(sel.sum())
        return {"masked_accuracy": n_correct / max(n, 1), "bits_per_token": bits / max(n, 1),
                "positions": n}

    # ------------------------------------------------------------------ text
    def _texts(self, texts, what):
        texts, single = checks.texts(texts, f"MaskedSequenceAutoencoder.{what}")
        return texts, single

    def tokenize_texts(self, texts):
        """Strings -> `(pieces, ids, truncated)`: per text the list of token strings (with
        "[MASK]" markers as the mask character), ids int32 `(n, T)`, truncated bool `(n,)`."""
        import tensorflow as tf

        texts = list(texts)
        if not texts:
            return [], np.zeros((0, self.sequence_length), "int32"), np.zeros((0,), bool)
        ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string)).batch(1024)
        ds = ds.map(tf.autograph.experimental.do_not_convert(self._tf_tokenize))
        pieces, ids, truncated = [], [], []
        for p, i, t in ds.as_numpy_iterator():
            pieces.extend([[s.decode("utf-8") for s in row] for row in p])
            ids.append(i)
            truncated.append(t)
        return pieces, np.concatenate(ids).astype("int32"), np.concatenate(truncated)

    def _tf_tokenize(self, text):
        """TF graph: text `(batch,)` -> (pieces ragged `(batch, None)`, ids `(batch, T)`,
        truncated `(batch,)`); pieces and ids are aligned token by token."""
        import tensorflow as tf

        from keras_genmodels.data.text_windows import MASK_CHAR

        text = tf.reshape(text, [-1])
        marker = MASK_CHAR if self.level == "char" else f" {MASK_CHAR} "
        text = tf.strings.regex_replace(text, MASK_CHAR, "")
        text = tf.strings.regex_replace(text, r"\[MASK\]", marker)
        if self.level == "char":
            pieces = tf.strings.unicode_split(text, "UTF-8", errors="replace")
        else:
            pieces = tf.strings.split(text)
        ids = tf.cast(self.vectorizer(text), tf.int32)
        length = pieces.row_lengths()
        t = self.sequence_length
        ids = tf.pad(ids, [[0, 0], [0, t]])[:, :t]
        return pieces, tf.ensure_shape(ids, [None, t]), length > t

    def _tf_fill(self, text):
        """TF graph of the `fill_mask` signature (see the class docstring)."""
        import tensorflow as tf

        pieces, ids, truncated = self._tf_tokenize(text)
        pred = self.predict_tokens(ids)
        dense = pieces.to_tensor("")
        length = tf.shape(dense)[1]
        t = self.sequence_length
        pred_full = tf.pad(pred, [[0, 0], [0, tf.maximum(length - t, 0)]])[:, :length]
        ids_full = tf.pad(ids, [[0, 0], [0, tf.maximum(length - t, 0)]])[:, :length]
        from keras_genmodels.data.text_windows import MASK_CHAR

        is_marker = tf.equal(dense, MASK_CHAR)
        inside = tf.range(length)[None, :] < t
        fill = is_marker & inside & tf.equal(ids_full, MASK_ID)
        table = tf.constant(self.tokens)
        tokens = tf.where(fill, tf.gather(table, pred_full),
                          tf.where(is_marker, MASK_MARKER, dense))
        if self.level == "char":
            filled = tf.strings.reduce_join(tokens, axis=-1)
        else:
            filled = tf.strings.strip(tf.strings.regex_replace(
                tf.strings.reduce_join(tokens, axis=-1, separator=" "), " +", " "))
        masks = tf.reduce_sum(tf.cast(fill, tf.int32), axis=1)
        return {"filled": filled, "masks": masks, "truncated": truncated}

    def fill_mask(self, texts, strict=True, batch_size=256):
        """Restore the "[MASK]" markers of a string or list of strings.

        Each marker is one token (a character at `level="char"`). With `strict` (default),
        a text without a marker or longer than `sequence_length` tokens raises
        `ValueError`; with `strict=False` such texts behave as in the exported signature
        (unchanged / read up to the window, with a `UserWarning`).

        Returns:
            a string or a list of strings.
        """
        texts, single = self._texts(texts, "fill_mask")
        if not texts:
            return []
        pieces, ids, truncated = self.tokenize_texts(texts)
        from keras_genmodels.data.text_windows import MASK_CHAR

        for text, row, trunc in zip(texts, pieces, truncated):
            if strict and MASK_CHAR not in row:
                raise ValueError(f"expected a text with at least one {MASK_MARKER} marker, "
                                 f"received {text[:80]!r}")
            if strict and trunc:
                raise ValueError(f"expected a text of at most {self.sequence_length} tokens "
                                 f"(the model's window), received {len(row)} tokens: "
                                 f"{text[:80]!r}...")
        if truncated.any():
            warnings.warn(f"{int(truncated.sum())} text(s) longer than sequence_length="
                          f"{self.sequence_length} tokens: markers beyond it are left "
                          f"unfilled", UserWarning, stacklevel=2)
        pred = self._run("tokens", ids, batch_size)
        out = []
        for row, pred_row, id_row in zip(pieces, pred, ids):
            tokens = []
            for j, piece in enumerate(row):
                if piece == MASK_CHAR:
                    inside = j < self.sequence_length and id_row[j] == MASK_ID
                    tokens.append(self.tokens[int(pred_row[j])] if inside else MASK_MARKER)
                else:
                    tokens.append(piece)
            out.append("".join(tokens) if self.level == "char" else " ".join(tokens))
        return out[0] if single else out

    def embed(self, texts, batch_size=256):
        """Strings -> `(n, d_model)` float32: the mean final hidden state over their tokens
        (the first `sequence_length`; longer texts are read up to the window)."""
        texts, single = self._texts(texts, "embed")
        _, ids, _ = self.tokenize_texts(texts)
        if not len(ids):
            return np.zeros((0, self.d_model), "float32")
        return self.embed_windows(ids, batch_size)[0] if single else \
            self.embed_windows(ids, batch_size)

    def embed_windows(self, ids, batch_size=256):
        """Token windows `(n, T)` -> embeddings `(n, d_model)` NumPy float32."""
        ids = checks.token_ids(ids, self.vocabulary_size,
                               "MaskedSequenceAutoencoder.embed_windows", "ids")
        if ids.shape[1] != self.sequence_length:
            raise ValueError(f"MaskedSequenceAutoencoder.embed_windows: expected ids of shape "
                             f"(N, {self.sequence_length}), received {ids.shape}")
        return self._run("embed", ids, batch_size).astype("float32")

    def _run(self, kind, ids, batch_size):
        """`_Predictor(kind)` over `ids` in batches; rows padded to a power of two (>= 8) so
        that few distinct shapes are compiled."""
        predictor = self._predictor(kind)
        out = []
        for i in range(0, len(ids), batch_size):
            chunk = ids[i:i + batch_size]
            rows = max(8, 1 << max(0, len(chunk) - 1).bit_length())
            padded = np.zeros((rows, ids.shape[1]), "int32")
            padded[:len(chunk)] = chunk
            out.append(ops.convert_to_numpy(predictor.predict_on_batch(padded))[:len(chunk)])
        return np.concatenate(out)

    def _predictor(self, kind="tokens"):
        cache = self.__dict__.get("__predictors")
        if cache is None:
            cache = {}
            object.__setattr__(self, "__predictors", cache)
        if kind not in cache:
            cache[kind] = _Predictor(self, kind)
        return cache[kind]

    @classmethod
    def from_documents(cls, documents, level="char", max_tokens=None, **kwargs):
        """Build the vocabulary (TextVectorization `adapt`) from `(name, text)` documents or
        strings, then the model; `kwargs` go to the constructor."""
        from keras_genmodels.data import text as text_data
        from keras_genmodels.data.text_windows import clean_text

        texts = [clean_text(d[1] if isinstance(d, (tuple, list)) else d) for d in documents]
        vocab = text_data.build_vocabulary(texts, level, None, max_tokens)
        return cls(vocab, level=level, **kwargs)

    # ------------------------------------------------------------------ export
    def export_endpoints(self):
        def fill_mask(text):
            return self._tf_fill(text)

        def embed(text):
            _, ids, truncated = self._tf_tokenize(text)
            return {"embedding": self.embed_ids(ids), "truncated": truncated}

        spec = [keras.InputSpec(shape=(None,), dtype="string")]
        return {"fill_mask": (fill_mask, spec), "embed": (embed, spec)}

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "sequence_length": self.sequence_length,
            "level": self.level,
            "d_model": self.d_model,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "tie_embeddings": self.tie_embeddings,
            "masking": self.masking,
            "mask_rate": self.mask_rate,
            "span": list(self.span),
            "conv_kernel": self.conv_kernel,
        }


class _Predictor(keras.Model):
    """Inference wrapper compiled by `predict_on_batch` on every backend. Never saved."""

    def __init__(self, model, kind):
        super().__init__(name=f"{model.name}_{kind}")
        self.owner, self.kind = model, kind
        self.built = True

    def call(self, ids):
        if self.kind == "embed":
            return self.owner.embed_ids(ids)
        return self.owner.predict_tokens(ids)
