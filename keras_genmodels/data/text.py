"""Sentence-pair data for the seq2seq family: dates generator, TSV reader, tfds, tokenisation.

Three sources of `(source, target)` string pairs:

- `date_pairs` / `date_split`: an offline, reproducible date-normalisation task
  ("tuesday, 5 march 1991", "05.03.91", "5 марта 1991 г." -> "1991-03-05") with English
  and Russian month and weekday names in 30+ formats.
- `read_tsv_pairs`: the `source<TAB>target[<TAB>...]` layout of public parallel corpora
  (Tatoeba / manythings.org files).
- `load_tfds_pairs`: a tensorflow-datasets translation dataset by name, e.g.
  `"ted_hrlr_translate/ru_to_en"`; fails fast with a `DataError` when it is not prepared
  locally (no network access is attempted).

Tokenisation helpers (`build_vocabulary`, `tokenize`, `make_dataset`) use Keras
`TextVectorization` inside TensorFlow graphs (tf.data or the SavedModel export), so they
work whatever the Keras backend is: the trainable model only ever sees int32 ids.

Id layout shared with `keras_genmodels.models.seq2seq`: 0 = padding (""), 1 = unknown
token ("[UNK]"); the target side adds 2 = "[START]" and 3 = "[END]".
"""

import csv
import datetime
import os
import random
import warnings

from keras_genmodels.data.errors import DataError

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
LEVELS = ("char", "word")

# ----------------------------------------------------------------------------- dates
EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
             "september", "october", "november", "december"]
EN_MONTHS_SHORT = [m[:3] for m in EN_MONTHS]
EN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
RU_MONTHS_GENITIVE = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля",
                      "августа", "сентября", "октября", "ноября", "декабря"]
RU_MONTHS_NOMINATIVE = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль",
                        "август", "сентябрь", "октябрь", "ноябрь", "декабрь"]
RU_MONTHS_SHORT = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт",
                   "ноя", "дек"]
RU_WEEKDAYS = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота",
               "воскресенье"]

DATE_RANGE = (datetime.date(1950, 1, 1), datetime.date(2049, 12, 31))
"""Years 50-99 in two-digit formats mean 19xx, 00-49 mean 20xx, so the range is 1950-2049."""


def _fields(d):
    return {
        "d": str(d.day), "dd": f"{d.day:02d}", "m": str(d.month), "mm": f"{d.month:02d}",
        "yyyy": str(d.year), "yy": f"{d.year % 100:02d}",
        "en_month": EN_MONTHS[d.month - 1], "en_mon": EN_MONTHS_SHORT[d.month - 1],
        "en_wd": EN_WEEKDAYS[d.weekday()], "en_wd3": EN_WEEKDAYS[d.weekday()][:3],
        "ru_gen": RU_MONTHS_GENITIVE[d.month - 1], "ru_nom": RU_MONTHS_NOMINATIVE[d.month - 1],
        "ru_mon": RU_MONTHS_SHORT[d.month - 1], "ru_wd": RU_WEEKDAYS[d.weekday()],
    }


EN_FORMATS = [
    "{d} {en_month} {yyyy}", "{dd} {en_month} {yyyy}", "{en_month} {d}, {yyyy}",
    "{en_month} {d} {yyyy}", "{d} {en_mon} {yyyy}", "{en_mon} {d}, {yyyy}",
    "{dd} {en_mon} {yy}", "{en_wd}, {d} {en_month} {yyyy}", "{en_wd}, {en_month} {d}, {yyyy}",
    "{en_wd3}, {d} {en_mon} {yyyy}", "{d} of {en_month}, {yyyy}", "the {d} of {en_month} {yyyy}",
    "{en_month} {dd}, {yy}",
]
RU_FORMATS = [
    "{d} {ru_gen} {yyyy} г.", "{d} {ru_gen} {yyyy}", "{dd} {ru_gen} {yyyy} года",
    "{ru_wd}, {d} {ru_gen} {yyyy} г.", "{d} {ru_mon} {yyyy}", "{dd} {ru_mon} {yy}",
    "{ru_nom} {d}, {yyyy}", "{d} {ru_gen} {yy} г.", "{ru_wd}, {dd} {ru_gen} {yyyy}",
]
NUMERIC_FORMATS = [
    "{dd}.{mm}.{yyyy}", "{dd}.{mm}.{yy}", "{d}.{m}.{yyyy}", "{yyyy}-{mm}-{dd}",
    "{yyyy}/{mm}/{dd}", "{dd}/{mm}/{yyyy}", "{d}/{m}/{yy}", "{yyyy}.{mm}.{dd}",
    "{dd}-{mm}-{yyyy}",
]
DATE_FORMATS = {"en": EN_FORMATS, "ru": RU_FORMATS, "numeric": NUMERIC_FORMATS}


def format_date(d, fmt, case="lower"):
    """Render `datetime.date` `d` with a `DATE_FORMATS` pattern; `case` in lower/title/upper."""
    text = fmt.format(**_fields(d))
    return {"lower": text, "title": text.title(), "upper": text.upper()}[case]


def _all_dates():
    first, last = DATE_RANGE
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def date_pairs(n, seed=0, dates=None, languages=("en", "ru", "numeric")):
    """Generate `n` `(source, "YYYY-MM-DD")` pairs, deterministic for a given `seed`.

    Args:
        n: int. Number of pairs.
        seed: int. Seed of the private `random.Random` (global RNG state is not touched).
        dates: optional list of `datetime.date` to draw from (default: every date in
            `DATE_RANGE`, 1950-2049).
        languages: subset of `("en", "ru", "numeric")`; formats are drawn uniformly from
            the union, and English/Russian words are lower-, title- or upper-cased.

    Returns:
        list of `(source, target)` string pairs.
    """
    unknown = set(languages) - set(DATE_FORMATS)
    if not languages or unknown:
        raise DataError(f"expected languages among {sorted(DATE_FORMATS)}, received "
                        f"{list(languages)}")
    if not isinstance(n, int) or n < 0:
        raise DataError(f"expected n to be a non-negative int, received {n!r}")
    rng = random.Random(seed)
    pool = dates if dates is not None else _all_dates()
    if not pool:
        raise DataError("expected at least one date to draw from, received an empty list")
    formats = [f for lang in languages for f in DATE_FORMATS[lang]]
    pairs = []
    for _ in range(n):
        d = rng.choice(pool)
        fmt = rng.choice(formats)
        case = rng.choices(("lower", "title", "upper"), weights=(6, 3, 1))[0]
        pairs.append((format_date(d, fmt, case), d.isoformat()))
    return pairs


def date_split(n_train, n_test, seed=0, test_dates=None, languages=("en", "ru", "numeric")):
    """Train and held-out date pairs whose calendar dates are disjoint.

    The calendar dates in `DATE_RANGE` are shuffled with `seed`; the first `test_dates`
    (default `n_test`) are reserved for the test set and never appear in training.

    Returns:
        `(train_pairs, test_pairs)`.
    """
    rng = random.Random(seed)
    dates = _all_dates()
    rng.shuffle(dates)
    k = n_test if test_dates is None else test_dates
    if not 0 < k < len(dates):
        raise DataError(f"expected between 1 and {len(dates) - 1} held-out dates, received {k}")
    test = date_pairs(n_test, seed=seed + 1, dates=dates[:k], languages=languages)
    train = date_pairs(n_train, seed=seed + 2, dates=dates[k:], languages=languages)
    return train, test


# ----------------------------------------------------------------------------- TSV
def read_tsv_pairs(path, source_column=0, target_column=1, max_pairs=None,
                   encoding="utf-8"):
    """Read `source<TAB>target[<TAB>...]` lines into a list of `(source, target)` pairs.

    Blank lines are skipped; extra columns (e.g. Tatoeba attributions) are ignored.

    Raises:
        DataError: the file is missing, not UTF-8 text, has a line with too few columns
            or an empty source/target field, or contains no pairs.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"expected a tab-separated file of sentence pairs, received "
                        f"'{path}', which does not exist")
    need = max(source_column, target_column) + 1
    pairs = []
    try:
        with open(path, encoding=encoding, newline="") as f:
            for lineno, line in enumerate(f, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                cols = line.split("\t")
                if len(cols) < need:
                    raise DataError(
                        f"expected at least {need} tab-separated columns "
                        f"(source<TAB>target) on line {lineno} of '{path}', received "
                        f"{len(cols)}: {line[:60]!r}")
                src, tgt = cols[source_column].strip(), cols[target_column].strip()
                if not src or not tgt:
                    raise DataError(f"expected non-empty source and target on line {lineno} "
                                    f"of '{path}', received {line[:60]!r}")
                pairs.append((src, tgt))
                if max_pairs is not None and len(pairs) >= max_pairs:
                    break
    except UnicodeDecodeError as e:
        raise DataError(f"expected {encoding} text in '{path}', received undecodable bytes "
                        f"({e.reason} at byte {e.start})") from None
    if not pairs:
        raise DataError(f"expected at least one sentence pair in '{path}', received none")
    return pairs


def write_tsv_pairs(pairs, path):
    """Write `(source, target)` pairs as a TSV file (inverse of `read_tsv_pairs`)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE,
                            escapechar="\\")
        writer.writerows(pairs)


# ----------------------------------------------------------------------------- tfds
def load_tfds_pairs(name, split="train", data_dir=None, max_pairs=None):
    """Load a tensorflow-datasets translation dataset as `(source, target)` string pairs.

    Like the image loaders (`keras_genmodels.data.tfds_source`): data already prepared in
    `data_dir` is read without network access; otherwise the download host is probed for a
    few seconds and a `DataError` is raised at once when it does not answer (instead of
    tfds' ~200 s of retries); only a reachable host leads to `download_and_prepare()`.

    Args:
        name: str. Builder name with config, e.g. `"ted_hrlr_translate/ru_to_en"`; the
            supervised keys give the (source, target) order.
        split: str. tfds split, e.g. `"train"`, `"validation[:500]"`.
        data_dir: optional tfds data directory.
        max_pairs: optional int cap.

    Raises:
        DataError: unknown name, not a supervised translation dataset, or not prepared and
            the download host unreachable.
    """
    from keras_genmodels.data import tfds_source

    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise DataError(f"expected tensorflow-datasets to be installed to load '{name}', "
                        f"received ImportError: {e}") from None
    if not tfds_source.is_tfds_name(name, data_dir):
        raise DataError(f"expected a tensorflow-datasets translation dataset name such as "
                        f"'ted_hrlr_translate/ru_to_en', received {name!r} (unknown)")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 - bad configs raise several tfds error types
        raise DataError(f"expected a valid tensorflow-datasets name, received {name!r} "
                        f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    keys = builder.info.supervised_keys
    if not keys:
        raise DataError(f"expected a translation dataset with supervised (source, target) "
                        f"keys, received {name!r} without them")
    tfds_source.prepare_or_fail_fast(
        builder, name,
        "--dataset dates (generated offline) or a TSV file of "
        "source<TAB>target pairs, or prepare the dataset with tfds where the "
        "network is available and pass its folder as data_dir")
    ds = builder.as_dataset(split=split, as_supervised=True)
    if max_pairs is not None:
        ds = ds.take(max_pairs)
    return [(s.decode("utf-8"), t.decode("utf-8")) for s, t in ds.as_numpy_iterator()]


def load_pairs(dataset, seed=0, n_train=20000, n_test=2000, data_dir=None):
    """Resolve a `--dataset` value to `(train_pairs, test_pairs)`.

    `"dates"` -> `date_split(n_train, n_test, seed)`; an existing file or a path ending in
    `.tsv`/`.txt` -> `read_tsv_pairs`, with the last `n_test` pairs (after a seeded shuffle) held out;
    `"tfds:<name>"` or any other name -> `load_tfds_pairs(name)` train/test splits.
    """
    if dataset == "dates":
        return date_split(n_train, n_test, seed=seed)
    if dataset.endswith((".tsv", ".txt")) or os.path.isfile(dataset):
        pairs = read_tsv_pairs(dataset)
        random.Random(seed).shuffle(pairs)
        n_test = min(n_test, len(pairs) // 10)
        return pairs[n_test:][:n_train], pairs[:n_test]
    name = dataset[5:] if dataset.startswith("tfds:") else dataset
    train = load_tfds_pairs(name, "train", data_dir=data_dir, max_pairs=n_train)
    try:
        test = load_tfds_pairs(name, "test", data_dir=data_dir, max_pairs=n_test)
    except ValueError:
        test = load_tfds_pairs(name, "validation", data_dir=data_dir, max_pairs=n_test)
    return train, test


# ----------------------------------------------------------------------------- tokens
def check_pairs(pairs):
    """Validate a list of `(source, target)` string pairs; return it as a list."""
    try:
        pairs = list(pairs)
    except TypeError:
        raise DataError(f"expected an iterable of (source, target) string pairs, received "
                        f"{type(pairs).__name__}") from None
    if not pairs:
        raise DataError("expected at least one (source, target) pair, received none")
    for i, p in enumerate(pairs):
        if (not isinstance(p, (tuple, list)) or len(p) < 2
                or not all(isinstance(s, str) for s in p[:2])):
            raise DataError(f"expected (source, target) string pairs, received {p!r} at "
                            f"index {i}")
    return pairs


def vectorizer(vocabulary, level="char", standardize=None):
    """A Keras `TextVectorization` mapping strings to ids with `vocabulary` (no specials)."""
    import keras

    if level not in LEVELS:
        raise ValueError(f"expected level in {LEVELS}, received {level!r}")
    return keras.layers.TextVectorization(
        standardize=standardize, split="character" if level == "char" else "whitespace",
        vocabulary=list(vocabulary), output_mode="int")


def build_vocabulary(texts, level="char", standardize=None, max_tokens=None):
    """Token list (most frequent first, without "" and "[UNK]") adapted with TextVectorization."""
    import keras
    import tensorflow as tf

    if level not in LEVELS:
        raise ValueError(f"expected level in {LEVELS}, received {level!r}")
    layer = keras.layers.TextVectorization(
        max_tokens=None if max_tokens is None else max_tokens + 2, standardize=standardize,
        split="character" if level == "char" else "whitespace", output_mode="int")
    layer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    vocab = [str(t) for t in layer.get_vocabulary() if t not in (PAD, UNK, START, END)]
    if not vocab:
        raise DataError("expected texts with at least one token to build a vocabulary, "
                        "received only empty strings")
    return vocab


def tokenize(layer, texts, max_length):
    """Strings -> `(ids, truncated)` in a TensorFlow graph or eagerly under TF.

    Args:
        layer: a `TextVectorization` from `vectorizer`.
        texts: string tensor `(batch,)`.
        max_length: int. Output length; longer inputs are cut and flagged.

    Returns:
        `ids` int32 `(batch, max_length)` (0-padded; unknown tokens -> 1) and `truncated`
        bool `(batch,)`.
    """
    import tensorflow as tf

    ids = tf.cast(layer(tf.reshape(texts, [-1])), tf.int32)
    lengths = tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1)
    ids = tf.pad(ids, [[0, 0], [0, max_length]])[:, :max_length]
    ids = tf.ensure_shape(ids, [None, max_length])
    return ids, lengths > max_length


def detokenize(ids, vocabulary, level="char"):
    """Target ids `(batch, length)` -> strings `(batch,)` in TensorFlow (for export graphs).

    `vocabulary` is the full id -> token list (specials included). Padding, "[START]" and
    "[END]" produce no text; tokens are joined with "" (char) or " " (word).
    """
    import tensorflow as tf

    ids = tf.convert_to_tensor(ids)
    ids = tf.where(ids == END_ID, 0, tf.where(ids == START_ID, 0, ids))
    table = tf.constant(list(vocabulary))
    tokens = tf.gather(table, ids)
    if level == "char":
        return tf.strings.reduce_join(tokens, axis=-1)
    joined = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
    return tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))


def detokenize_numpy(ids, vocabulary, level="char"):
    """NumPy twin of `detokenize`, returning a list of Python strings."""
    sep = "" if level == "char" else " "
    out = []
    for row in ids:
        toks = []
        for i in row:
            i = int(i)
            if i == END_ID:
                break
            if i in (PAD_ID, START_ID):
                continue
            toks.append(vocabulary[i])
        out.append(sep.join(toks))
    return out


def encode_numpy(layer, texts, max_length):
    """`tokenize` run through tf.data (works under every Keras backend) -> NumPy arrays."""
    import numpy as np
    import tensorflow as tf

    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        return np.zeros((0, max_length), "int32"), np.zeros((0,), bool)
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string)).batch(4096)
    ds = ds.map(tf.autograph.experimental.do_not_convert(
        lambda t: tokenize(layer, t, max_length)))
    ids, trunc = zip(*[(a, b) for a, b in ds.as_numpy_iterator()])
    return np.concatenate(ids).astype("int32"), np.concatenate(trunc)


def encode_pairs(pairs, source_layer, target_layer, max_source_length, max_target_length):
    """`(source_ids, target_ids)` int32 0-padded arrays of the pairs within the maximum lengths.

    Pairs whose source or target is longer than the maximum are dropped with a warning. Runs
    eagerly: encode once, then build per-epoch datasets with `ids_dataset(..., epoch=e)`.
    """
    pairs = check_pairs(pairs)
    src_ids, src_trunc = encode_numpy(source_layer, [p[0] for p in pairs], max_source_length)
    tgt_ids, tgt_trunc = encode_numpy(target_layer, [p[1] for p in pairs], max_target_length)
    keep = ~(src_trunc | tgt_trunc)
    if not keep.all():
        warnings.warn(f"dropped {int((~keep).sum())} of {len(pairs)} pairs longer than "
                      f"max_source_length={max_source_length} or "
                      f"max_target_length={max_target_length}", stacklevel=3)
    if not keep.any():
        raise DataError("expected pairs within the maximum lengths, received none")
    return src_ids[keep], tgt_ids[keep]


def make_dataset(pairs, source_layer, target_layer, max_source_length, max_target_length,
                 batch_size=64, shuffle=True, seed=0, repeat=False, drop_remainder=True,
                 epoch=None):
    """tf.data of `((source_ids, target_in_ids), target_out_ids)` for teacher forcing.

    Shapes: source `(batch, max_source_length)`, target in/out `(batch, max_target_length+1)`
    with target_in = [START] y and target_out = y [END]; all int32, 0-padded. Pairs whose
    source or target is longer than the maximum are dropped with a warning. `epoch`: see
    `ids_dataset` (this function encodes eagerly, so call it with a Python int; inside
    `fit_resumable`'s `epoch_dataset` use `encode_pairs` once and `ids_dataset`).
    """
    src_ids, tgt_ids = encode_pairs(pairs, source_layer, target_layer, max_source_length,
                                    max_target_length)
    return ids_dataset(src_ids, tgt_ids, batch_size=batch_size, shuffle=shuffle,
                       seed=seed, repeat=repeat, drop_remainder=drop_remainder, epoch=epoch)


def teacher_forcing_arrays(target_ids):
    """`(batch, L)` target ids -> `(target_in, target_out)`, each `(batch, L + 1)` (NumPy)."""
    import numpy as np

    target_ids = np.asarray(target_ids, "int32")
    n, length = target_ids.shape
    lengths = (target_ids != 0).sum(axis=1)
    t_in = np.concatenate([np.full((n, 1), START_ID, "int32"), target_ids], axis=1)
    t_out = np.concatenate([target_ids, np.zeros((n, 1), "int32")], axis=1)
    t_out[np.arange(n), lengths] = END_ID
    return t_in, t_out


def ids_dataset(source_ids, target_ids, batch_size=64, shuffle=True, seed=0, repeat=False,
                drop_remainder=True, epoch=None):
    """tf.data of `((source_ids, target_in), target_out)` from 0-padded id arrays.

    `epoch=None`: shuffled by tf.data (buffer of up to 20,000 pairs), reshuffled on every
    iteration. `epoch=e` (an int or a scalar integer tensor; `seed` must be an int): a full
    permutation keyed by `(seed, e)` only, the same in every process -- a replayable epoch
    for `keras_genmodels.training.fit_resumable`; with `repeat=True`, further passes
    keyed by `(seed, e, pass)` follow.
    """
    import tensorflow as tf

    t_in, t_out = teacher_forcing_arrays(target_ids)
    if epoch is not None:
        from keras_genmodels.data.images import epoch_indices

        if shuffle and (seed is None or isinstance(seed, bool)):
            raise DataError(f"expected an int seed with epoch=... (the order must be "
                            f"replayable), received seed={seed!r}")
        arrays = tuple(tf.constant(a) for a in (source_ids, t_in, t_out))

        def gather(index):
            src, t_i, t_o = (tf.gather(a, index) for a in arrays)
            return (src, t_i), t_o

        ds = epoch_indices(len(source_ids), seed, epoch, shuffle=shuffle, repeat=repeat)
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True).prefetch(2)
    ds = tf.data.Dataset.from_tensor_slices(((source_ids, t_in), t_out))
    if shuffle:
        ds = ds.shuffle(min(len(source_ids), 20000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(2)
