"""`TextImageEncoder`: a caption encoder pretrained to match images (StackGAN's phi).

Choice (and why). Captions are split into **characters**, not words: one small vocabulary
(~60 symbols) covers English and Russian together; Russian inflection ("тонкая семёрка",
"тонкий ноль", "тонкие брюки") and numerals ("7") need no word list, and a word the
vocabulary never saw still maps to known characters instead of one "[UNK]". The encoder is
Reed et al.'s (2016) char-CNN-RNN at small scale (`networks.text.char_cnn_rnn_encoder`):
convolutions find character n-grams ("thick", "влево"), a GRU reads them in order; the
masked max of the n-gram features and the masked mean of the GRU outputs are concatenated,
batch-normalised and projected to phi. The image side is a small CNN
(`networks.text.image_embedding_cnn`); only its matching role matters, StackGAN uses phi.

Matching objective (Reed et al.'s joint embedding, simplified to a symmetric InfoNCE, as in
CLIP): for a batch of B pairs with unit text embeddings t_i and image embeddings v_j,
    S_ij = t_i . v_j / tau,   T_ij = [key_i = key_j] / #{k: key_k = key_i}
    L = 1/2 [ mean_i CE(T_i., softmax_j S_ij) + mean_j CE(T_.j, softmax_i S_ij) ]
where key = the caption's content (class and the three attribute bins) when the batch has a
`"key"` entry: two pairs that say the same thing are both positives (with T = I otherwise).

Text in, ids in (the split JAX and torch need). Strings exist only in TensorFlow: the
`vectorize(strings)` half (standardise + TextVectorization + pad/truncate) runs in tf.data,
in a TF graph (the SavedModel export) or eagerly through TF (returning NumPy); the
`encode_ids(ids)` half is pure Keras and runs inside any backend's jitted train step.
`text_encoder` chains both for eager use (strings -> embeddings) on every backend.

Bad input (documented behaviour, never a crash):
- standardisation: invalid UTF-8 bytes become U+FFFD, then lowercase (Unicode-aware), "ё"
  -> "е", runs of whitespace -> one space, leading/trailing spaces removed;
- characters not in the vocabulary -> id 1 ("[UNK]");
- an empty (or all-space) caption -> all padding -> a fixed, finite embedding (the same for
  every empty caption: the "no information" caption);
- captions longer than `max_length` characters are cut to their first `max_length`
  (`vectorize(..., return_truncated=True)` flags them).
"""

import collections

import keras
import numpy as np
from keras import ops

from keras_genmodels.models import checks
from keras_genmodels.models.base import GenerativeModel
from keras_genmodels.networks.text import char_cnn_rnn_encoder, image_embedding_cnn

PAD_ID, UNK_ID = 0, 1


def standardize_captions(strings):
    """TF op: the standardisation applied before vectorising (see module docstring)."""
    import tensorflow as tf

    s = tf.strings.unicode_transcode(strings, "UTF-8", "UTF-8", errors="replace",
                                     replacement_char=0xFFFD)
    s = tf.strings.lower(s, encoding="utf-8")
    s = tf.strings.regex_replace(s, "ё", "е")
    s = tf.strings.regex_replace(s, r"\s+", " ")
    return tf.strings.strip(s)


def caption_vocabulary(captions):
    """Characters of the standardised captions, most frequent first (no specials)."""
    import tensorflow as tf

    texts, _ = checks.texts(captions, "caption_vocabulary", name="captions")
    counts = collections.Counter()
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string)).batch(4096)
    for batch in ds.map(standardize_captions).as_numpy_iterator():
        for s in batch:
            counts.update(s.decode("utf-8"))
    vocab = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if not vocab:
        raise ValueError("caption_vocabulary: expected captions with at least one character, "
                         "received only empty strings")
    return vocab


@keras.saving.register_keras_serializable(package="keras_genmodels")
class TextImageEncoder(GenerativeModel):
    """Caption and image encoders trained jointly to match (see module docstring).

    Inputs of `call`/`fit`: a dict with `"caption_ids"` int32 `(batch, max_length)`,
    `"image"` float32 `(batch, H, W, C)` in [0, 1] and optionally `"key"` int32 `(batch,)`
    (`make_dataset` builds it). `call` returns `{"text": (batch, D), "image": (batch, D)}`,
    both L2-normalised. Export signatures (`keras_genmodels.export.export_model`): `embed`
    (serving default; `text` string `(batch,)` -> `embedding` float32 `(batch, D)`) and
    `embed_ids` (`caption_ids` int32 `(batch, max_length)` -> `embedding`).

    Args:
        vocabulary: list of str. Characters (no specials; ids 0 padding, 1 "[UNK]").
        max_length: int. Caption length in characters. Defaults to 96.
        embedding_dim: int. D, the size of phi. Defaults to 128.
        image_shape: tuple. `(H, W, C)` of the images. Defaults to `(28, 28, 1)`.
        char_dim, filters, units: ints. Text encoder sizes (`char_cnn_rnn_encoder`).
        image_filters: int. Image CNN base width. Defaults to 32.
        temperature: float. tau of the matching loss. Defaults to 0.1.

    Example:

    >>> enc = pretrain_text_encoder(train.images, train.captions, keys=train.keys)
    >>> ids = enc.vectorize(["a thin seven leaning left"])    # NumPy int32 (1, 96)
    >>> phi = enc.encode_ids(ids)                             # (1, 128), any backend
    >>> phi = enc.text_encoder(["тонкая семёрка"])            # strings -> (1, 128), eager

    References:
        Reed, Akata, Lee, Schiele (2016). Learning Deep Representations of Fine-grained
        Visual Descriptions. Radford et al. (2021), CLIP (the symmetric contrastive loss).
    """

    def __init__(self, vocabulary, max_length=96, embedding_dim=128, image_shape=(28, 28, 1),
                 char_dim=32, filters=128, units=128, image_filters=32, temperature=0.1,
                 **kwargs):
        if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
            raise ValueError(f"expected vocabulary as a list of characters, received "
                             f"{type(vocabulary).__name__}")
        vocabulary = [str(t) for t in vocabulary]
        if not vocabulary or any(t in ("", "[UNK]") for t in vocabulary) \
                or len(set(vocabulary)) != len(vocabulary):
            raise ValueError("expected vocabulary as a non-empty list of distinct tokens "
                             "without '' and '[UNK]'")
        max_length = checks.integer("max_length", max_length)
        embedding_dim = checks.integer("embedding_dim", embedding_dim)
        char_dim = checks.integer("char_dim", char_dim)
        filters = checks.integer("filters", filters)
        units = checks.integer("units", units)
        image_filters = checks.integer("image_filters", image_filters)
        temperature = checks.number("temperature", temperature, minimum=0.0)
        image_shape = tuple(checks.integers("image_shape", image_shape))
        super().__init__(**kwargs)
        self.vocabulary = vocabulary
        self.max_length = max_length
        self.embedding_dim = embedding_dim
        self.image_shape = image_shape
        self.char_dim = char_dim
        self.filters = filters
        self.units = units
        self.image_filters = image_filters
        self.temperature = temperature
        self.vocabulary_size = len(vocabulary) + 2

        # === Layers ===
        from keras_genmodels.data import text as text_data

        self.vectorizer = text_data.vectorizer(vocabulary, "char")
        self.vectorizer.build((None,))
        # Runs only in tf.data / TF graphs, never in the train step: keep jit on.
        for layer in self.vectorizer._flatten_layers():
            layer.supports_jit = True
            layer.built = True
        self.id_encoder = char_cnn_rnn_encoder(self.vocabulary_size, max_length, embedding_dim,
                                               char_dim, filters, units, name="id_encoder")
        self.image_encoder = image_embedding_cnn(image_shape, embedding_dim, image_filters,
                                                 name="image_encoder")

        # === Metrics ===
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="match_accuracy")
        self.built = True
        if not self.trainable:
            # A frozen encoder read from a config (trainable=False) freezes its sub-models
            # too: Keras does not cascade a value the layer already has.
            for layer in self._flatten_layers(include_self=False):
                layer.trainable = False

    # ------------------------------------------------------------------ strings -> ids
    def _tf_vectorize(self, strings):
        import tensorflow as tf
        from keras_genmodels.data import text as text_data

        strings = standardize_captions(tf.reshape(tf.convert_to_tensor(strings, tf.string),
                                                  [-1]))
        return text_data.tokenize(self.vectorizer, strings, self.max_length)

    def vectorize(self, strings, return_truncated=False):
        """Captions -> character ids int32 `(batch, max_length)` (0-padded, "[UNK]" = 1).

        A TF string tensor (tf.data map, TF graph, TF eager) gives a TF int32 tensor; a
        Python string / list / NumPy array gives NumPy int32, whatever the backend.
        With `return_truncated=True` also returns bool `(batch,)`: longer than max_length.
        """
        import tensorflow as tf

        if tf.is_tensor(strings):
            ids, truncated = self._tf_vectorize(strings)
            return (ids, truncated) if return_truncated else ids
        texts, _ = checks.texts(strings, "TextImageEncoder.vectorize", name="strings")
        if not texts:
            ids, truncated = np.zeros((0, self.max_length), "int32"), np.zeros((0,), bool)
        else:
            ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string)).batch(4096)
            ds = ds.map(tf.autograph.experimental.do_not_convert(self._tf_vectorize))
            parts = list(ds.as_numpy_iterator())
            ids = np.concatenate([p[0] for p in parts]).astype("int32")
            truncated = np.concatenate([p[1] for p in parts])
        return (ids, truncated) if return_truncated else ids

    # ------------------------------------------------------------------ ids -> phi
    def encode_ids(self, ids, training=False):
        """Character ids `(batch, max_length)` -> phi float32 `(batch, embedding_dim)`,
        unit norm. Pure Keras: safe inside a jitted train step on every backend."""
        return self.id_encoder(ids, training=training)

    def encode_images(self, images, training=False):
        """Images `(batch, H, W, C)` in [0, 1] -> unit-norm `(batch, embedding_dim)`."""
        return self.image_encoder(images, training=training)

    @property
    def text_encoder(self):
        """Callable keras.Model: strings `(batch,)` -> phi float32 `(batch, embedding_dim)`.

        Eager on every backend (it vectorises through TF) and inside TF graphs; for a
        JAX/torch jitted step use `vectorize` outside and `encode_ids` inside.
        """
        wrapper = self.__dict__.get("__text_encoder")
        if wrapper is None:
            wrapper = _StringEncoder(self)
            # Not tracked: the layers belong to this model; the wrapper is never saved.
            object.__setattr__(self, "__text_encoder", wrapper)
        return wrapper

    def embed_texts(self, texts, batch_size=512):
        """Strings -> NumPy float32 `(n, embedding_dim)`."""
        ids = self.vectorize(texts)
        batch_size = checks.integer("batch_size", batch_size)
        out = [ops.convert_to_numpy(self.encode_ids(ids[i:i + batch_size]))
               for i in range(0, len(ids), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.embedding_dim), "float32")

    def embed_images(self, images, batch_size=512):
        """Images `(n, H, W, C)` -> NumPy float32 `(n, embedding_dim)`."""
        images = np.asarray(images, "float32")
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"TextImageEncoder.embed_images: expected images of shape "
                             f"(n, {', '.join(map(str, self.image_shape))}), received "
                             f"{images.shape}")
        out = [ops.convert_to_numpy(self.encode_images(images[i:i + batch_size]))
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.embedding_dim), "float32")

    # ------------------------------------------------------------------ training
    def call(self, inputs, training=False):
        return {"text": self.encode_ids(inputs["caption_ids"], training=training),
                "image": self.encode_images(inputs["image"], training=training)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Symmetric InfoNCE between caption and image embeddings (module docstring)."""
        loss, accuracy = matching_loss(y_pred["text"], y_pred["image"], self.temperature,
                                       None if x is None else x.get("key"))
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(accuracy)
        return loss

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def make_dataset(self, data, batch_size=128, shuffle=True, seed=0, repeat=False,
                     drop_remainder=True):
        """tf.data of `{"caption_ids", "image", "key"}` from a `CaptionedImages` (or
        `(images, captions)`, without "key"), vectorised in the pipeline."""
        from keras_genmodels.data.captions import CaptionedImages, caption_pairs_dataset

        with_labels = isinstance(data, CaptionedImages)
        ds = caption_pairs_dataset(data, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                   repeat=repeat, drop_remainder=drop_remainder,
                                   text_encoder=self, with_labels=with_labels)
        keep = ("caption_ids", "image", "key") if with_labels else ("caption_ids", "image")
        return ds.map(lambda b: {k: b[k] for k in keep})

    @classmethod
    def from_captions(cls, captions, max_length=None, margin=8, **kwargs):
        """Build the vocabulary (and, by default, `max_length`: the longest standardised
        caption plus `margin`, rounded up to a multiple of 8) from training captions."""
        vocabulary = caption_vocabulary(captions)
        if max_length is None:
            texts, _ = checks.texts(captions, "TextImageEncoder.from_captions",
                                    name="captions")
            longest = max(len(" ".join(t.split())) for t in texts)
            max_length = int(np.ceil((longest + margin) / 8) * 8)
        return cls(vocabulary, max_length=max_length, **kwargs)

    # ------------------------------------------------------------------ export
    def export_endpoints(self):
        def embed(text):
            return {"embedding": self.encode_ids(self._tf_vectorize(text)[0])}

        def embed_ids(caption_ids):
            return {"embedding": self.encode_ids(caption_ids)}

        return {"embed": (embed, [keras.InputSpec(shape=(None,), dtype="string")]),
                "embed_ids": (embed_ids, [keras.InputSpec(shape=(None, self.max_length),
                                                          dtype="int32")])}

    serving_default = "embed"

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "max_length": self.max_length,
            "embedding_dim": self.embedding_dim,
            "image_shape": list(self.image_shape),
            "char_dim": self.char_dim,
            "filters": self.filters,
            "units": self.units,
            "image_filters": self.image_filters,
            "temperature": self.temperature,
        }


class _StringEncoder(keras.Model):
    """strings -> phi through the owner's `vectorize` and `encode_ids`. Holds no weights.

    The owner is kept under a "__" key: invisible to Keras tracking and to the `.keras`
    saver's attribute walk (which would otherwise loop owner -> wrapper -> owner).
    """

    def __init__(self, owner):
        super().__init__(name=f"{owner.name}_text_encoder")
        object.__setattr__(self, "__owner", owner)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True

    def call(self, strings, training=False):
        owner = self.__dict__["__owner"]
        return owner.encode_ids(owner.vectorize(strings), training=training)

    def compute_output_spec(self, strings, training=False):
        return keras.KerasTensor((None, self.__dict__["__owner"].embedding_dim), "float32")


def matching_loss(text, image, temperature, keys=None):
    """Symmetric InfoNCE of unit embeddings `text`, `image` `(B, D)` -> (loss, accuracy).

    accuracy: share of captions whose most similar image in the batch is a positive.
    """
    text = ops.cast(text, "float32")
    image = ops.cast(image, "float32")
    logits = ops.matmul(text, ops.transpose(image)) / temperature          # (B, B)
    batch = ops.shape(logits)[0]
    if keys is None:
        positive = ops.eye(batch, dtype="float32")
    else:
        keys = ops.reshape(ops.cast(keys, "int32"), (-1,))
        positive = ops.cast(ops.equal(keys[:, None], keys[None, :]), "float32")
    targets = positive / ops.sum(positive, axis=1, keepdims=True)
    log_t2i = ops.log_softmax(logits, axis=1)
    log_i2t = ops.log_softmax(ops.transpose(logits), axis=1)
    loss_t2i = -ops.mean(ops.sum(targets * log_t2i, axis=1))
    loss_i2t = -ops.mean(ops.sum(ops.transpose(targets) * log_i2t, axis=1))
    best = ops.argmax(logits, axis=1)
    hit = ops.take_along_axis(positive, ops.expand_dims(best, 1), axis=1)
    return 0.5 * (loss_t2i + loss_i2t), ops.mean(hit)


def pretrain_text_encoder(images, captions, epochs=5, batch_size=128, seed=0, keys=None,
                          learning_rate=1e-3, verbose=0, model=None, **model_kwargs):
    """Build (from the captions' characters) and train a `TextImageEncoder` by `fit`.

    Args:
        images: float32 `(n, H, W, C)` in [0, 1], or a `CaptionedImages` (then `captions`
            may be None and `keys` default to its content keys).
        captions: n strings.
        epochs: int. Defaults to 5.
        batch_size: int. Defaults to 128 (the last incomplete batch is dropped).
        seed: int. Seeds weights and shuffling.
        keys: int `(n,)` or None. Content keys (pairs with equal keys are both positives).
        learning_rate: float. Adam learning rate. Defaults to 1e-3.
        verbose: int. `fit` verbosity.
        model: an existing `TextImageEncoder` to keep training (else a new one).
        **model_kwargs: `TextImageEncoder` arguments (`embedding_dim`, `max_length`, ...).

    Returns:
        The trained `TextImageEncoder` (its `history` attribute holds the `fit` history).
    """
    import tensorflow as tf

    from keras_genmodels.data.captions import CaptionedImages

    if isinstance(images, CaptionedImages):
        data = images
        images, captions = data.images, data.captions if captions is None else captions
        keys = data.keys if keys is None else keys
    images = np.asarray(images, "float32")
    texts, _ = checks.texts(list(captions) if isinstance(captions, np.ndarray) else captions,
                            "pretrain_text_encoder", name="captions")
    if images.ndim != 4 or len(images) != len(texts):
        raise ValueError(f"pretrain_text_encoder: expected images (n, H, W, C) and n "
                         f"captions, received images {images.shape} and {len(texts)} captions")
    epochs = checks.integer("epochs", epochs)
    batch_size = checks.integer("batch_size", batch_size)
    if batch_size > len(texts):
        raise ValueError(f"pretrain_text_encoder: expected batch_size <= {len(texts)} (the "
                         f"number of pairs), received {batch_size}")
    keras.utils.set_random_seed(int(seed))
    if model is None:
        model = TextImageEncoder.from_captions(texts, image_shape=images.shape[1:],
                                               **model_kwargs)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    table = {"caption_ids": model.vectorize(texts), "image": images}
    if keys is not None:
        table["key"] = np.asarray(keys, "int32").reshape(-1)
    ds = tf.data.Dataset.from_tensor_slices(table).shuffle(len(texts), seed=int(seed))
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    model.history = model.fit(ds, epochs=epochs, verbose=verbose)
    return model


def retrieval_accuracy(encoder, images, captions, labels, bins=None, k=(1, 5),
                       batch_size=512):
    """Caption -> image class retrieval over a set of pairs.

    For each caption i, the images of the set are ranked by cosine similarity with it;
    top-k accuracy = share of captions with an image of the caption's class among the k
    most similar. Chance (random ranking, class shares p_c, caption classes q_c):
    sum_c q_c (1 - (1 - p_c)^k). With `bins` `(n, 3)` also the share of captions whose top-1
    image has the same bin of each attribute (chance about 1/3).

    Returns:
        dict: `top{k}`, `chance_top{k}` for each k, and `attribute_top1` (dict) when bins.
    """
    labels = np.asarray(labels).reshape(-1)
    t = encoder.embed_texts(captions, batch_size)
    v = encoder.embed_images(images, batch_size)
    if not len(t) == len(v) == len(labels):
        raise ValueError(f"retrieval_accuracy: expected as many images, captions and labels, "
                         f"received {len(v)}, {len(t)}, {len(labels)}")
    sims = t @ v.T
    order = np.argsort(-sims, axis=1)
    p = np.bincount(labels, minlength=labels.max() + 1) / len(labels)
    out = {}
    for kk in k:
        hits = (labels[order[:, :kk]] == labels[:, None]).any(axis=1)
        out[f"top{kk}"] = float(hits.mean())
        out[f"chance_top{kk}"] = float((p * (1 - (1 - p) ** kk)).sum())
    if bins is not None:
        from keras_genmodels.data.captions import ATTRIBUTES

        bins = np.asarray(bins)
        top = order[:, 0]
        out["attribute_top1"] = {a: float((bins[top, i] == bins[:, i]).mean())
                                 for i, a in enumerate(ATTRIBUTES)}
    return out
