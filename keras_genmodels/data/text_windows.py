"""Plain text cut into fixed-length token windows, for the masked sequence autoencoder.

Sources of documents (`load_documents`), each a list of `(name, text)`:

- `"default"`: CPython's own documentation text, `pydoc_data.topics` (79 topics of the
  language reference, ~465k characters). Shipped with every CPython, so no download.
  Each topic is one document.
- a directory: every `*.txt` file below it (recursively, sorted) is one document;
- a file: its text, cut into `sections` contiguous sections of equal length (the held-out
  split needs more than one unit to hold out);
- `"tfds:<name>"` or a tensorflow-datasets name (e.g. `tiny_shakespeare`): the first
  string feature of every example of its `train` split (and of `test`/`validation` as
  held-out documents). Data not yet prepared in `data_dir` fails at once with a
  `DataError` when the download host does not answer (as the image loaders do).

Held-out data is split **by document**: `split_documents` holds out whole documents
(chosen with a seed, about `test_fraction` of the characters), so no held-out window
overlaps a training window, and no window is shared. Windows are cut within a document
(`windows_from_ids`): non-overlapping (stride = window) for held-out data, optionally
overlapping for training (a form of augmentation); the last window of a document is
0-padded.

Bad input raises `DataError` before any work: a missing path, an empty file or directory,
a file that is not UTF-8 text, and a corpus with fewer tokens than two windows (one to
train on, one to hold out).

Tokenisation goes through the model's Keras `TextVectorization` layer inside tf.data, so
it runs the same way under every Keras backend (`encode_documents`).
"""

import os
import pathlib
import random

import numpy as np

from keras_genmodels.data.errors import DataError

MASK_CHAR = "\ue000"
"""Private-use character that stands for the mask token inside the vocabulary. Text
markers such as "[MASK]" are replaced by it before tokenisation, and it is removed from
training text."""


def default_documents():
    """CPython's documentation topics as `[(topic, text)]` (sorted by topic name)."""
    try:
        from pydoc_data.topics import topics
    except ImportError as e:  # some minimal Python builds drop pydoc_data
        raise DataError(f"expected CPython's pydoc_data.topics for the offline default text, "
                        f"received ImportError: {e}; pass a text file instead") from None
    return [(name, topics[name]) for name in sorted(topics)]


def read_text_file(path):
    """The UTF-8 text of `path` (a `DataError` for a missing, empty or non-UTF-8 file)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise DataError(f"expected a text file, received '{path}', which does not exist")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"expected UTF-8 text in '{path}', received undecodable bytes "
                        f"({e.reason} at byte {e.start})") from None
    if not text.strip():
        raise DataError(f"expected text in '{path}', received an empty file"
                        if not data else f"expected text in '{path}', received only "
                                         f"whitespace ({len(data)} bytes)")
    return text.lstrip("\ufeff")


def _sections(text, n):
    """`text` cut into `n` contiguous sections of about equal length (at line breaks)."""
    n = max(1, min(n, len(text)))
    cuts, start = [], 0
    for i in range(1, n):
        target = len(text) * i // n
        nl = text.rfind("\n", start, target)
        cut = nl + 1 if nl > start else target
        cuts.append(cut)
        start = cut
    bounds = [0] + cuts + [len(text)]
    return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def load_documents(source="default", sections=20, data_dir=None):
    """Resolve a text source to `(train_documents, test_documents or None)`.

    Args:
        source: str or Path. `"default"`, a directory, a file, or a tfds name (see the
            module docstring).
        sections: int. A single file is cut into this many contiguous sections
            (documents) named `"<file>#<i>"`. Defaults to 20.
        data_dir: tensorflow-datasets data directory.

    Returns:
        `(documents, None)` for local sources (hold out with `split_documents`), or
        `(train_documents, test_documents)` for a tfds name with its own test split.

    Raises:
        DataError: see the module docstring.
    """
    source = os.fspath(source)
    if source == "default":
        return default_documents(), None
    path = pathlib.Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise DataError(f"expected *.txt files in the directory '{path}', received none")
        docs = [(str(p.relative_to(path)), read_text_file(p)) for p in files]
        return docs, None
    if path.is_file() or source.endswith(".txt") or os.sep in source:
        text = read_text_file(path)
        return [(f"{path.name}#{i}", s) for i, s in enumerate(_sections(text, sections))], \
            None
    name = source[5:] if source.startswith("tfds:") else source
    return load_tfds_documents(name, data_dir=data_dir)


def load_tfds_documents(name, data_dir=None, max_documents=None):
    """`(train_documents, test_documents)` from a tensorflow-datasets text dataset.

    Every example is one document: its first string feature. Prepared data is read without
    network access; otherwise the download host is probed for a few seconds and a
    `DataError` raised at once when it does not answer.
    """
    from keras_genmodels.data import tfds_source

    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise DataError(f"expected tensorflow-datasets to be installed to load '{name}', "
                        f"received ImportError: {e}") from None
    if not tfds_source.is_tfds_name(name, data_dir):
        raise DataError(f"expected 'default', a text file or directory, or a "
                        f"tensorflow-datasets text dataset name such as 'tiny_shakespeare', "
                        f"received {name!r} (not a file, not a known dataset)")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 - bad configs raise several tfds error types
        raise DataError(f"expected a valid tensorflow-datasets name, received {name!r} "
                        f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    tfds_source.prepare_or_fail_fast(
        builder, name,
        "--text default (CPython's documentation, offline) or a local text file or "
        "directory of .txt files")
    features = builder.info.features
    keys = [k for k in features.keys() if getattr(features[k], "dtype", None) is not None
            and str(features[k].dtype) in ("<dtype: 'string'>", "string", "tf.string")]
    if not keys:
        raise DataError(f"expected a text dataset with a string feature, received {name!r} "
                        f"with features {list(features.keys())}")
    key = keys[0]

    def read(split):
        ds = builder.as_dataset(split=split)
        if max_documents is not None:
            ds = ds.take(max_documents)
        return [(f"{name}/{split}/{i}", ex[key].decode("utf-8", errors="replace"))
                for i, ex in enumerate(ds.as_numpy_iterator())]

    splits = set(builder.info.splits.keys())
    test_split = next((s for s in ("test", "validation") if s in splits), None)
    train = read("train")
    test = read(test_split) if test_split else None
    return train, test


def split_documents(documents, test_fraction=0.1, seed=0):
    """Hold out whole documents: about `test_fraction` of the characters, seeded.

    Documents are taken in a seeded random order until the held-out share reaches
    `test_fraction`; at least one document is held out and at least one kept.

    Returns:
        `(train_documents, test_documents)`, each in the original order.
    """
    documents = [(n, t) for n, t in documents if t]
    if len(documents) < 2:
        raise DataError(f"expected at least 2 non-empty documents (or sections) to hold one "
                        f"out, received {len(documents)}")
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    total = sum(len(t) for _, t in documents)
    held, size = set(), 0
    for i in order:
        if held and size >= test_fraction * total:
            break
        if len(held) == len(documents) - 1:
            break
        held.add(i)
        size += len(documents[i][1])
    train = [d for i, d in enumerate(documents) if i not in held]
    test = [d for i, d in enumerate(documents) if i in held]
    return train, test


def clean_text(text):
    """Training text without the private mask character."""
    return text.replace(MASK_CHAR, "")


def encode_documents(vectorizer, documents):
    """Token ids of each document: a list of int32 NumPy arrays (no padding).

    Runs the `TextVectorization` layer in tf.data (any Keras backend), one document at a
    time, so long documents are not padded to the longest one.
    """
    import tensorflow as tf

    texts = [clean_text(t) for _, t in documents]
    if not texts:
        return []
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string)).batch(1)
    ds = ds.map(tf.autograph.experimental.do_not_convert(
        lambda t: tf.cast(vectorizer(t), tf.int32)[0]))
    return [np.asarray(a, "int32") for a in ds.as_numpy_iterator()]


def windows_from_ids(ids, window, stride=None, min_tokens=1):
    """Cut one document's ids into windows `(n, window)` int32, the last one 0-padded.

    Args:
        ids: 1-D int array.
        window: int. Window length in tokens.
        stride: int. Step between window starts; defaults to `window` (no overlap).
        min_tokens: int. A trailing window with fewer tokens is dropped. Defaults to 1.
    """
    ids = np.asarray(ids, "int32")
    stride = window if stride is None else int(stride)
    starts = list(range(0, max(len(ids) - window, 0) + 1, stride))
    if starts and starts[-1] + window < len(ids):
        starts.append(starts[-1] + stride)
    out = np.zeros((len(starts), window), "int32")
    keep = []
    for i, s in enumerate(starts):
        piece = ids[s:s + window]
        out[i, :len(piece)] = piece
        keep.append(len(piece) >= min_tokens)
    return out[np.asarray(keep, bool)] if starts else out


def make_windows(id_lists, window, stride=None, min_tokens=1):
    """Windows of several documents: `(windows (n, window), document index (n,))`."""
    rows, owner = [], []
    for d, ids in enumerate(id_lists):
        w = windows_from_ids(ids, window, stride, min_tokens)
        rows.append(w)
        owner.append(np.full(len(w), d, "int32"))
    if not rows:
        return np.zeros((0, window), "int32"), np.zeros((0,), "int32")
    return np.concatenate(rows), np.concatenate(owner)


def check_enough_tokens(id_lists, window, what="text"):
    """Raise `DataError` unless the documents hold at least two windows of tokens."""
    total = int(sum(len(i) for i in id_lists))
    if total < 2 * window:
        raise DataError(
            f"expected a {what} of at least {2 * window} tokens (two windows of {window}: one "
            f"to train on, one to hold out), received {total} tokens"
            + ("; the text is shorter than one window" if total < window else "")
            + "; use a longer text or a smaller --window")
    return total


def split(source="default", test_fraction=0.1, seed=0, sections=20, data_dir=None):
    """`(train_documents, test_documents)` of a source: its own test split (tfds) or whole
    documents held out with `split_documents`."""
    train_docs, test_docs = load_documents(source, sections=sections, data_dir=data_dir)
    if test_docs is None:
        train_docs, test_docs = split_documents(train_docs, test_fraction, seed)
    return train_docs, test_docs


def encode_windows(vectorizer, train_documents, test_documents, window, train_stride=None):
    """Windows of a split, tokenised with `vectorizer`.

    Returns a dict with `train` / `test` windows int32 `(n, window)` and `train_doc` /
    `test_doc` (the index of each window's document in its list). Held-out windows never
    overlap (stride = window); training windows use `train_stride` (default `window`).

    Raises:
        DataError: fewer than two windows of tokens in all, or no window on one side.
    """
    train_ids = encode_documents(vectorizer, train_documents)
    test_ids = encode_documents(vectorizer, test_documents)
    check_enough_tokens(train_ids + test_ids, window)
    out = {}
    out["train"], out["train_doc"] = make_windows(train_ids, window, train_stride)
    out["test"], out["test_doc"] = make_windows(test_ids, window)
    if not len(out["train"]) or not len(out["test"]):
        raise DataError("expected windows in both the training and the held-out text, "
                        "received none on one side; use a longer text")
    return out
