"""Captioned images for text-to-image models (StackGAN): class + measured attributes -> text.

A labelled grayscale image set (MNIST by default, Fashion-MNIST, a labelled `.npz`, or arrays)
becomes caption/image pairs such as "a thick seven slanted to the right" or
"тонкая семёрка с наклоном влево". Every caption names the class and all three attributes,
each in one of three bins, measured from the image itself (`measure_attributes`).

Attributes (image x (H, W) in [0, 1], ink mass m = sum x, rows i downwards, columns j):

- **thickness** = 2 m / TV(x), ink mass over half the perimeter. TV is the anisotropic total
  variation sum |x[i+1, j] - x[i, j]| + sum |x[i, j+1] - x[i, j]| of the zero-padded image,
  i.e. the perimeter of the ink summed over grey levels (coarea formula). A stroke of length
  L and width w has m ~ wL and TV ~ 2(L + w), so thickness ~ w in pixels (diagonal strokes
  read ~1/sqrt(2) thinner, the same for every image). MNIST: tertiles 1.78 and 2.21 px.
- **slant** = mu11 / mu02 with central moments of the ink, y pointing up (y = -i):
  mu11 = sum x (j - j0)(y - y0), mu02 = sum x (y - y0)^2. It is the horizontal shift per unit
  of height of the best shear line (the quantity deskewing removes): > 0 leans right (the top
  is to the right of the bottom), < 0 leans left. MNIST: tertiles -0.00 and 0.24.
- **size** = sqrt((mu20 + mu02) / m), the radius of gyration of the ink in pixels (RMS
  distance of ink from its centroid). The bounding box is useless on MNIST: the digits were
  scaled to a 20-pixel box, so 2/3 of them are exactly 20 pixels high.

A blank image (m = 0) measures 0 for all three. Bins are tertiles of the training set:
bin 0 below the 1/3 quantile, 2 above the 2/3 quantile. thickness and slant use one pair of
thresholds for all classes (their meaning is absolute: "leaning left" is a sign); size uses
per-class thresholds (`DEFAULT_PER_CLASS`), since a "small seven" is small for a seven (a
one's ink spread is 20 % smaller than a zero's). Generated images must be binned with the
training thresholds: `bin_attributes(values, thresholds, labels)`.

Held-out combinations (`DEFAULT_HOLDOUT`): (7, thickness, thick), (2, slant, left),
(4, size, small) -- every training image with one of them is dropped from the training split
(about 1/3 of the sevens, twos and fours), so a text-to-image model never sees a "thick seven"
caption; the test split keeps them, flagged in `CaptionedImages.holdout`.

Captions (`make_caption`): English and Russian, with randomised realisations (adjective
before the noun or phrase after it, synonyms, word order, numerals, prefixes) and grammatical
agreement (Russian adjectives agree with the noun's gender/number: "тонкая семёрка",
"тонкий ноль", "тонкие брюки"; English "a"/"an").
"""

import dataclasses
import os
import warnings

import numpy as np

from keras_genmodels.data.errors import DataError
from keras_genmodels.data.validation import check_images, check_labels

ATTRIBUTES = ("thickness", "slant", "size")
BIN_NAMES = {"thickness": ("thin", "medium", "thick"),
             "slant": ("left", "upright", "right"),
             "size": ("small", "medium", "large")}
NUM_BINS = 3
#: (label, attribute, bin) combinations removed from training: thick sevens, left-leaning
#: twos, small fours.
DEFAULT_HOLDOUT = ((7, "thickness", 2), (2, "slant", 0), (4, "size", 0))
#: Attributes binned with per-class tertiles (the others share one pair of thresholds).
DEFAULT_PER_CLASS = ("size",)
LANGUAGES = ("en", "ru")
CLASS_SETS = ("mnist", "fashion_mnist")

# ------------------------------------------------------------------------------- vocabulary
# English nouns: (word, plural). Russian nouns: (word, gender) with gender m/f/n/pl.
_EN_NOUNS = {
    "mnist": [("zero", False), ("one", False), ("two", False), ("three", False),
              ("four", False), ("five", False), ("six", False), ("seven", False),
              ("eight", False), ("nine", False)],
    "fashion_mnist": [("t-shirt", False), ("trousers", True), ("pullover", False),
                      ("dress", False), ("coat", False), ("sandal", False), ("shirt", False),
                      ("sneaker", False), ("bag", False), ("ankle boot", False)],
}
_RU_NOUNS = {
    "mnist": [("ноль", "m"), ("единица", "f"), ("двойка", "f"), ("тройка", "f"),
              ("четвёрка", "f"), ("пятёрка", "f"), ("шестёрка", "f"), ("семёрка", "f"),
              ("восьмёрка", "f"), ("девятка", "f")],
    "fashion_mnist": [("футболка", "f"), ("брюки", "pl"), ("пуловер", "m"), ("платье", "n"),
                      ("пальто", "n"), ("сандалия", "f"), ("рубашка", "f"),
                      ("кроссовка", "f"), ("сумка", "f"), ("ботинок", "m")],
}
_GENDERS = ("m", "f", "n", "pl")

# A realisation is ("pre", text) -- an adjective before the noun -- or ("post", text), a
# phrase after it. Russian "pre" entries list the m/f/n/pl forms.
_EN_WORDS = {
    "thickness": (
        [("pre", "thin"), ("pre", "thin-stroked"), ("post", "with a thin stroke"),
         ("post", "drawn with a thin line")],
        [("pre", "medium-weight"), ("pre", "regular"), ("post", "of medium thickness"),
         ("post", "with a regular stroke")],
        [("pre", "thick"), ("pre", "bold"), ("pre", "heavy"), ("post", "with a thick stroke"),
         ("post", "drawn with a thick line")]),
    "slant": (
        [("pre", "left-leaning"), ("post", "leaning left"), ("post", "slanted to the left"),
         ("post", "tilted to the left")],
        [("pre", "upright"), ("pre", "straight"), ("post", "standing upright"),
         ("post", "with no slant")],
        [("pre", "right-leaning"), ("post", "leaning right"), ("post", "slanted to the right"),
         ("post", "tilted to the right")]),
    "size": (
        [("pre", "small"), ("pre", "little"), ("post", "of small size")],
        [("pre", "medium-sized"), ("pre", "mid-sized"), ("post", "of medium size")],
        [("pre", "large"), ("pre", "big"), ("post", "of large size")]),
}
_EN_FASHION_THICKNESS = (
    [("pre", "light"), ("pre", "thin"), ("post", "with thin lines")],
    [("pre", "medium-weight"), ("post", "of medium weight")],
    [("pre", "heavy"), ("pre", "thick"), ("post", "with thick lines")])


def _ru(m):
    """Russian adjective forms from the masculine -ый/-ий/-ой form: (m, f, n, pl)."""
    stem, end = m[:-2], m[-2:]
    soft = stem[-1] in "кгхжшчщ"
    if end == "ой":
        return m, stem + "ая", stem + "ое", stem + ("ие" if soft else "ые")
    return m, stem + "ая", stem + "ое", stem + ("ие" if soft or end == "ий" else "ые")


_RU_WORDS = {
    "thickness": (
        [("pre", _ru("тонкий")), ("post", "с тонкими линиями"), ("post", "тонким штрихом")],
        [("post", "средней толщины"), ("post", "обычной толщины")],
        [("pre", _ru("толстый")), ("pre", _ru("жирный")), ("post", "с толстыми линиями"),
         ("post", "толстым штрихом")]),
    "slant": (
        [("post", "с наклоном влево"), ("post", "наклонённая влево"),
         ("pre", tuple(f + " влево" for f in _ru("наклонённый")))],
        [("pre", _ru("прямой")), ("post", "без наклона"), ("pre", _ru("ровный"))],
        [("post", "с наклоном вправо"), ("post", "наклонённая вправо"),
         ("pre", tuple(f + " вправо" for f in _ru("наклонённый")))]),
    "size": (
        [("pre", _ru("маленький")), ("pre", _ru("небольшой")), ("post", "малого размера")],
        [("post", "среднего размера"), ("post", "средних размеров")],
        [("pre", _ru("большой")), ("pre", _ru("крупный")), ("post", "большого размера")]),
}
_RU_FASHION_THICKNESS = (
    [("pre", _ru("лёгкий")), ("post", "с тонкими линиями")],
    [("post", "средней плотности"), ("post", "обычной плотности")],
    [("pre", _ru("тяжёлый")), ("pre", _ru("плотный")), ("post", "с толстыми линиями")])
_RU_PREFIXES = ("", "", "", "на картинке ", "изображена ")
_EN_PREFIXES = ("", "", "", "a picture of ", "an image of ", "a drawing of ")


def class_words(class_set="mnist", language="en"):
    """The class nouns of `class_set` ("mnist" or "fashion_mnist") in `language`."""
    _check_choice("class_set", class_set, CLASS_SETS)
    _check_choice("language", language, LANGUAGES)
    table = _EN_NOUNS if language == "en" else _RU_NOUNS
    return [w for w, _ in table[class_set]]


# ------------------------------------------------------------------------------ attributes
def _as_gray(images, what="images"):
    x, divisor = check_images(images, what)
    if x.shape[-1] != 1:
        raise DataError(f"expected grayscale {what} (N, H, W) or (N, H, W, 1), received "
                        f"{x.shape[-1]} channels (shape {tuple(x.shape)})")
    x = x[..., 0]
    if divisor is not None:
        x = x.astype(np.float32) / np.float32(divisor)
    return x.astype(np.float32, copy=False)


def measure_attributes(images, thresholds=None, labels=None):
    """Thickness, slant and size of each image, measured from its pixels (formulas: module doc).

    Args:
        images: array `(N, H, W)` or `(N, H, W, 1)`, uint8 0..255 or float in [0, 1].
        thresholds: None or a dict from `attribute_thresholds`. When given (with `labels`
            for per-class attributes), the bins are added.
        labels: int array `(N,)` or None. Needed to bin per-class attributes.

    Returns:
        dict of float32 `(N,)` arrays `"thickness"` (px), `"slant"` (dx/dy), `"size"` (px),
        and, when `thresholds` is given, int32 `(N,)` arrays `"thickness_bin"`,
        `"slant_bin"`, `"size_bin"` in {0, 1, 2}.

    Example:

    >>> a = measure_attributes(x_train)             # x_train (N, 28, 28, 1) in [0, 1]
    >>> t = attribute_thresholds(a, y_train)
    >>> bins = bin_attributes(measure_attributes(generated), t, labels=asked_labels)
    """
    x = _as_gray(images)
    parts = [_measure_chunk(x[i:i + 8192]) for i in range(0, len(x), 8192)]
    thickness, slant, size = (np.concatenate(p) for p in zip(*parts))
    out = {"thickness": thickness.astype(np.float32), "slant": slant.astype(np.float32),
           "size": size.astype(np.float32)}
    if thresholds is not None:
        out.update({f"{k}_bin": v for k, v in
                    bin_attributes(out, thresholds, labels).items()})
    return out


def _measure_chunk(x):
    """(thickness, slant, size) float64 `(n,)` of float32 images `(n, H, W)`."""
    n, h, w = x.shape
    mass = x.sum(axis=(1, 2), dtype=np.float64)
    safe = np.maximum(mass, 1e-12)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    tv = (np.abs(np.diff(padded, axis=1)).sum(axis=(1, 2), dtype=np.float64)
          + np.abs(np.diff(padded, axis=2)).sum(axis=(1, 2), dtype=np.float64))
    thickness = np.where(mass > 0, 2.0 * mass / np.maximum(tv, 1e-12), 0.0)
    y_up = -np.arange(h, dtype=np.float64)
    cols = np.arange(w, dtype=np.float64)
    row_mass = x.sum(axis=2, dtype=np.float64)          # (n, H)
    col_mass = x.sum(axis=1, dtype=np.float64)          # (n, W)
    y0 = row_mass @ y_up / safe
    j0 = col_mass @ cols / safe
    dy = y_up[None, :] - y0[:, None]                    # (n, H)
    dj = cols[None, :] - j0[:, None]                    # (n, W)
    mu02 = (row_mass * dy ** 2).sum(1) / safe
    mu20 = (col_mass * dj ** 2).sum(1) / safe
    # mu11 = sum_ij x_ij dy_i dj_j, as a batched matrix product (float32 pixels).
    row_moment = np.matmul(x, dj[:, :, None].astype(np.float32))[..., 0]   # (n, H)
    mu11 = (row_moment.astype(np.float64) * dy).sum(1) / safe
    slant = np.where(mu02 > 1e-12, mu11 / np.maximum(mu02, 1e-12), 0.0)
    size = np.sqrt(np.maximum(mu20 + mu02, 0.0))
    return thickness, slant, size


def attribute_thresholds(values, labels=None, per_class=DEFAULT_PER_CLASS, num_classes=None):
    """Tertile thresholds of each attribute: dict attribute -> float32 array.

    Args:
        values: dict with `"thickness"`, `"slant"`, `"size"` arrays `(N,)` (from
            `measure_attributes` on the training images).
        labels: int `(N,)` or None. Required when `per_class` is not empty.
        per_class: attributes given per-class thresholds. Defaults to `("size",)`.
        num_classes: int or None. Rows of per-class thresholds (default max label + 1).

    Returns:
        dict: shape `(2,)` for shared attributes, `(num_classes, 2)` for per-class ones
        (a class with no image gets the shared thresholds).
    """
    per_class = tuple(per_class or ())
    for name in per_class:
        _check_choice("per_class attribute", name, ATTRIBUTES)
    if per_class and labels is None:
        raise DataError(f"expected labels for per-class thresholds of {list(per_class)}, "
                        f"received labels=None")
    out = {}
    for name in ATTRIBUTES:
        v = np.asarray(values[name], np.float64)
        shared = np.quantile(v, [1 / 3, 2 / 3]).astype(np.float32)
        if name not in per_class:
            out[name] = shared
            continue
        y = np.asarray(labels)
        k = int(num_classes if num_classes is not None else y.max() + 1)
        table = np.tile(shared, (k, 1))
        for c in range(k):
            if np.any(y == c):
                table[c] = np.quantile(v[y == c], [1 / 3, 2 / 3])
        out[name] = table.astype(np.float32)
    return out


def bin_attributes(values, thresholds, labels=None):
    """Bins 0/1/2 of attribute values with given thresholds: dict attribute -> int32 `(N,)`.

    bin = 0 if v < t1, 1 if t1 <= v <= t2, 2 if v > t2, with `(t1, t2)` from `thresholds`
    (the row of the image's label for per-class attributes, so `labels` is then required:
    for generated images, the class asked for).
    """
    if not isinstance(thresholds, dict) or not all(a in thresholds for a in ATTRIBUTES):
        raise DataError(f"expected thresholds as a dict with keys {list(ATTRIBUTES)} (from "
                        f"attribute_thresholds), received {_short(thresholds)}")
    out = {}
    for name in ATTRIBUTES:
        if name not in values:
            continue
        v = np.asarray(values[name], np.float32)
        t = np.asarray(thresholds[name], np.float32)
        if t.ndim == 2:
            if labels is None:
                raise DataError(f"expected labels to bin {name!r} (per-class thresholds), "
                                f"received labels=None")
            y = np.asarray(labels).astype(np.int64)
            if y.shape != v.shape or y.size and (y.min() < 0 or y.max() >= t.shape[0]):
                raise DataError(f"expected labels of shape {v.shape} in [0, {t.shape[0]}), "
                                f"received shape {y.shape}")
            t = t[y]
        else:
            t = np.broadcast_to(t, v.shape + (2,))
        out[name] = ((v >= t[..., 0]).astype(np.int32) + (v > t[..., 1]).astype(np.int32))
    return out


# -------------------------------------------------------------------------------- captions
def _check_choice(name, value, allowed):
    if value not in allowed:
        raise DataError(f"expected {name} in {list(allowed)}, received {value!r}")


def _bins_tuple(bins):
    if isinstance(bins, dict):
        bins = [bins[a] for a in ATTRIBUTES]
    bins = tuple(int(b) for b in np.asarray(bins).reshape(-1))
    if len(bins) != len(ATTRIBUTES) or any(b not in (0, 1, 2) for b in bins):
        raise DataError(f"expected bins as 3 values in {{0, 1, 2}} for {list(ATTRIBUTES)}, "
                        f"received {bins}")
    return bins


def _article(phrase):
    word = phrase.split()[0].lower() if phrase else ""
    vowel = word[:1] in tuple("aeiou8") and not word.startswith(("one", "uni", "eu"))
    return "an " if vowel else "a "


def _join(parts, conjunction, rng):
    if len(parts) <= 1:
        return "".join(parts)
    if rng.random() < 0.5:
        return ", ".join(parts)
    return ", ".join(parts[:-1]) + f" {conjunction} " + parts[-1]


def _realise(table, bins, rng):
    pre, post = [], []
    for name, b in zip(ATTRIBUTES, bins):
        options = table[name][b]
        kind, text = options[rng.integers(len(options))]
        (pre if kind == "pre" else post).append(text)
    rng.shuffle(pre)
    rng.shuffle(post)
    return pre, post


def make_caption(label, bins, language="en", rng=None, dataset="mnist"):
    """One caption naming class `label` and the three attribute bins.

    Args:
        label: int. Class index (0-9).
        bins: 3 ints in {0, 1, 2} in `ATTRIBUTES` order (thickness, slant, size), or a dict.
        language: "en" or "ru".
        rng: `numpy.random.Generator`, int seed or None (seed 0). Picks the template.
        dataset: "mnist" or "fashion_mnist" (the class nouns).

    Returns:
        str, e.g. "a small, thin seven leaning left", "an upright 8 of large size, drawn with
        a thick line", "маленькая тонкая семёрка с наклоном влево", "цифра 3 без наклона,
        толстая и крупная".
    """
    _check_choice("language", language, LANGUAGES)
    _check_choice("dataset", dataset, CLASS_SETS)
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) \
            or not 0 <= int(label) < 10:
        raise DataError(f"expected label as an int in [0, 10) for {dataset!r}, received "
                        f"{label!r}")
    label = int(label)
    bins = _bins_tuple(bins)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    digits = dataset == "mnist"
    if language == "en":
        return _caption_en(label, bins, rng, digits)
    return _caption_ru(label, bins, rng, digits)


def _caption_en(label, bins, rng, digits):
    table = dict(_EN_WORDS)
    if not digits:
        table["thickness"] = _EN_FASHION_THICKNESS
    noun, plural = _EN_NOUNS["mnist" if digits else "fashion_mnist"][label]
    if digits and rng.random() < 0.3:
        noun = str(label) if rng.random() < 0.6 else f"digit {label}"
    pre, post = _realise(table, bins, rng)
    if rng.random() < 0.2 and len(pre) + len(post) == 3:
        # List form: "seven: thin, small, leaning left".
        items = [t for t in pre] + post
        rng.shuffle(items)
        return f"{noun}: " + ", ".join(items)
    adjectives = (", " if rng.random() < 0.3 else " ").join(pre)
    head = f"{adjectives} {noun}" if adjectives else noun
    caption = head if plural else _article(head) + head
    if post:
        caption += " " + _join(post, "and", rng)
    prefix = _EN_PREFIXES[rng.integers(len(_EN_PREFIXES))]
    return prefix + caption


def _caption_ru(label, bins, rng, digits):
    table = dict(_RU_WORDS)
    if not digits:
        table["thickness"] = _RU_FASHION_THICKNESS
    noun, gender = _RU_NOUNS["mnist" if digits else "fashion_mnist"][label]
    if digits and rng.random() < 0.3:
        noun, gender = f"цифра {label}", "f"
    g = _GENDERS.index(gender)
    pre, post = _realise(table, bins, rng)
    pre = [forms[g] for forms in pre]
    # "наклонённая влево" after the noun agrees too.
    post = [_agree_participle(p, g) for p in post]
    if rng.random() < 0.2 and len(pre) + len(post) == 3:
        items = pre + post
        rng.shuffle(items)
        return f"{noun}: " + ", ".join(items)
    head = " ".join(pre + [noun])
    caption = head + (" " + _join(post, "и", rng) if post else "")
    prefix = _RU_PREFIXES[rng.integers(len(_RU_PREFIXES))]
    if prefix == "изображена " and gender != "f":
        prefix = {"m": "изображён ", "n": "изображено ", "pl": "изображены "}[gender]
    return prefix + caption


def _agree_participle(phrase, g):
    if phrase.startswith("наклонённая "):
        forms = _ru("наклонённый")
        return forms[g] + phrase[len("наклонённая"):]
    return phrase


# ----------------------------------------------------------------------------- dataset
@dataclasses.dataclass
class CaptionedImages:
    """Caption/image pairs with their labels and measured attributes (one row per caption).

    Attributes:
        images: float32 `(n, H, W, 1)` in [0, 1].
        captions: object array `(n,)` of Python `str`.
        labels: int32 `(n,)` class indices.
        bins: int32 `(n, 3)` attribute bins, columns in `ATTRIBUTES` order.
        values: float32 `(n, 3)` measured attribute values, same columns.
        languages: object array `(n,)` of "en"/"ru".
        holdout: bool `(n,)`, True where (label, attribute, bin) is a held-out combination.
        source_index: int64 `(n,)` index of the image in the source split.
        thresholds: dict from `attribute_thresholds` (computed on the training split).
        holdout_combinations: tuple of `(label, attribute, bin)` held out.
        class_set: "mnist" or "fashion_mnist" (the class nouns used).
    """

    images: np.ndarray
    captions: np.ndarray
    labels: np.ndarray
    bins: np.ndarray
    values: np.ndarray
    languages: np.ndarray
    holdout: np.ndarray
    source_index: np.ndarray
    thresholds: dict
    holdout_combinations: tuple
    class_set: str

    def __len__(self):
        return int(self.labels.shape[0])

    @property
    def keys(self):
        """int32 `(n,)` content key `label * 27 + 9 b_thickness + 3 b_slant + b_size`: rows
        with equal keys have captions that say the same thing."""
        return (self.labels * 27 + self.bins @ np.array([9, 3, 1])).astype(np.int32)

    def subset(self, mask_or_index):
        """A `CaptionedImages` of the selected rows (boolean mask or integer index)."""
        sel = np.asarray(mask_or_index)
        rows = {f.name: getattr(self, f.name)[sel] for f in dataclasses.fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)}
        return dataclasses.replace(self, **rows)


def holdout_mask(labels, bins, holdout=DEFAULT_HOLDOUT):
    """bool `(n,)`: True where `(label, attribute, bin)` matches one of `holdout`."""
    labels = np.asarray(labels)
    bins = np.asarray(bins).reshape(len(labels), len(ATTRIBUTES))
    mask = np.zeros(len(labels), bool)
    for combo in _check_holdout(holdout):
        label, name, b = combo
        mask |= (labels == label) & (bins[:, ATTRIBUTES.index(name)] == b)
    return mask


def _check_holdout(holdout):
    holdout = tuple(holdout or ())
    for combo in holdout:
        ok = (isinstance(combo, (tuple, list)) and len(combo) == 3
              and isinstance(combo[0], (int, np.integer)) and combo[1] in ATTRIBUTES
              and combo[2] in (0, 1, 2))
        if not ok:
            raise DataError(f"expected holdout as (label, attribute, bin) triples with "
                            f"attribute in {list(ATTRIBUTES)} and bin in {{0, 1, 2}}, "
                            f"received {combo!r}")
    return tuple((int(a), b, int(c)) for a, b, c in holdout)


def _class_set_of(source):
    text = os.fspath(source).lower() if isinstance(source, (str, os.PathLike)) else ""
    return "fashion_mnist" if "fashion" in text else "mnist"


def _load(source, split, data_dir):
    from keras_genmodels.data.images import load_images

    if isinstance(source, str) and source.lower() in ("mnist", "fashion_mnist"):
        return load_images(source.lower(), split, data_dir=data_dir)
    if isinstance(source, str) and not (os.path.exists(os.path.expanduser(source))
                                        or source.lower().endswith((".npz", ".gz", "ubyte"))):
        raise DataError(f"expected source 'mnist', 'fashion_mnist', a labelled .npz/IDX path "
                        f"or arrays (x, y), received {source!r} (captions exist only for the "
                        f"digit and Fashion-MNIST classes)")
    if isinstance(source, tuple):
        if len(source) != 2:
            raise DataError(f"expected source (x, y) with images and labels, received a tuple "
                            f"of {len(source)} items")
        x, y = source
        if y is None:
            raise DataError("expected labelled images (x, y), received y=None: captions name "
                            "the class")
        x = _as_gray(x, "x")
        return x[..., None], check_labels(y, x.shape[0], "y")
    if isinstance(source, np.ndarray):
        raise DataError("expected labelled images (x, y), received an array x without "
                        "labels: captions name the class")
    return load_images(source, split, data_dir=data_dir)


_THRESHOLD_CACHE = {}


def captioned_dataset(source="mnist", split="train", seed=0, languages=LANGUAGES,
                      holdout=DEFAULT_HOLDOUT, thresholds=None, limit=None,
                      all_languages=False, class_set=None, drop_holdout=None,
                      per_class=DEFAULT_PER_CLASS, data_dir=None):
    """Caption/image pairs from a labelled grayscale image set.

    Args:
        source: `"mnist"` (default), `"fashion_mnist"` (tensorflow-datasets names; offline
            they fail fast with `DataError` unless prepared in `data_dir`), a labelled `.npz`
            (arrays `x`, `y`) or IDX path, or a tuple `(x, y)` of arrays.
        split: str. tfds split for names; for paths and arrays, `"train"` drops held-out
            combinations and anything else keeps them (flagged).
        seed: int. Seeds caption wording and language choice; same seed, same captions.
        languages: tuple of "en"/"ru". Defaults to both.
        holdout: `(label, attribute, bin)` triples removed from the training split.
            Defaults to `DEFAULT_HOLDOUT`; `()` holds out nothing.
        thresholds: dict or None. Bin thresholds; None computes tertiles on the training
            split (for names: the `"train"` split whatever `split` is; for paths and arrays:
            the given images, with a warning when `split != "train"` -- pass the training
            set's `thresholds` instead).
        limit: int or None. Use only the first `limit` images of the split.
        all_languages: bool. False (default): one caption per image, languages assigned in
            equal shares at random. True: one caption per image per language (rows repeat
            the image; `source_index` tells which).
        class_set: "mnist" or "fashion_mnist" nouns; default from the source name.
        drop_holdout: bool or None. Default: True for `split="train"`.
        per_class: attributes with per-class tertiles. Defaults to `("size",)`.
        data_dir: tfds data folder.

    Returns:
        `CaptionedImages` (numpy arrays; see its docstring).

    Example:

    >>> train = captioned_dataset("/work/shared/data/mnist_train.npz", limit=20000)
    >>> test = captioned_dataset("/work/shared/data/mnist_test.npz", split="test",
    ...                          thresholds=train.thresholds)
    >>> test.captions[0], test.holdout.mean()
    """
    languages = tuple([languages] if isinstance(languages, str) else languages)
    if not languages:
        raise DataError("expected at least one language in ('en', 'ru'), received none")
    for lang in languages:
        _check_choice("language", lang, LANGUAGES)
    holdout = _check_holdout(holdout)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                              or limit < 1):
        raise DataError(f"expected limit as a positive int or None, received {limit!r}")
    class_set = class_set or _class_set_of(source)
    _check_choice("class_set", class_set, CLASS_SETS)
    x, y = _load(source, split, data_dir)
    if y is None:
        raise DataError(f"expected labelled images, received a source without labels "
                        f"({_short(source)}): captions name the class")
    if x.shape[-1] != 1:
        raise DataError(f"expected grayscale images (N, H, W, 1), received shape "
                        f"{tuple(x.shape)}")
    if y.max() >= 10:
        raise DataError(f"expected labels in [0, 10) (the {class_set} classes), received "
                        f"max {int(y.max())}")
    if thresholds is None:
        thresholds = _training_thresholds(source, split, data_dir, x, y, per_class)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    full_values = measure_attributes(x)
    bins_d = bin_attributes(full_values, thresholds, y)
    bins = np.stack([bins_d[a] for a in ATTRIBUTES], axis=1).astype(np.int32)
    values = np.stack([full_values[a] for a in ATTRIBUTES], axis=1).astype(np.float32)
    held = holdout_mask(y, bins, holdout)
    index = np.arange(len(y))
    if split == "train" if drop_holdout is None else drop_holdout:
        index = index[~held]
    rng = np.random.default_rng(seed)
    if all_languages:
        index = np.repeat(index, len(languages))
        langs = np.tile(np.array(languages, dtype=object), len(index) // len(languages))
    else:
        langs = np.array(languages, dtype=object)[
            rng.permutation(np.arange(len(index)) % len(languages))]
    captions = np.array([make_caption(int(y[i]), bins[i], lang, rng, class_set)
                         for i, lang in zip(index, langs)], dtype=object)
    return CaptionedImages(
        images=x[index].astype(np.float32, copy=False), captions=captions,
        labels=y[index].astype(np.int32), bins=bins[index], values=values[index],
        languages=langs, holdout=held[index], source_index=index.astype(np.int64),
        thresholds=thresholds, holdout_combinations=holdout, class_set=class_set)


def _training_thresholds(source, split, data_dir, x, y, per_class):
    per_class = tuple(per_class or ())
    named = isinstance(source, str) and source.lower() in ("mnist", "fashion_mnist")
    if named and split != "train":
        key = (source.lower(), data_dir, per_class)
        if key not in _THRESHOLD_CACHE:
            x, y = _load(source, "train", data_dir)
            _THRESHOLD_CACHE[key] = attribute_thresholds(measure_attributes(x), y, per_class,
                                                         num_classes=10)
        return _THRESHOLD_CACHE[key]
    if not named and split != "train":
        warnings.warn("captioned_dataset: thresholds computed on the given non-training "
                      "images; pass thresholds=<training set>.thresholds to bin them like "
                      "the training set", UserWarning, stacklevel=3)
    return attribute_thresholds(measure_attributes(x), y, per_class, num_classes=10)


def caption_pairs_dataset(data, batch_size=64, shuffle=True, seed=0, repeat=False,
                          drop_remainder=True, text_encoder=None, with_labels=False):
    """A batched `tf.data.Dataset` of `{"image", "caption"}` dicts.

    Args:
        data: `CaptionedImages`, or a tuple `(images, captions)` (images `(n, H, W, C)` float
            in [0, 1], captions n strings).
        batch_size: int. Defaults to 64.
        shuffle, seed, repeat, drop_remainder: as in `data.images.image_dataset`.
        text_encoder: None or an object with `vectorize(strings)` (a `TextImageEncoder`):
            adds `"caption_ids"` int32 `(batch, max_length)`, computed in the tf.data graph so
            JAX/torch train steps only see integer ids.
        with_labels: bool. Adds `"label"` int32 `(batch,)`, `"bins"` int32 `(batch, 3)` and
            `"key"` int32 `(batch,)` (see `CaptionedImages.keys`); needs `CaptionedImages`.

    Returns:
        `tf.data.Dataset` of dicts: `"image"` float32 `(batch, H, W, C)`, `"caption"`
        tf.string `(batch,)`, plus the optional keys.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise DataError(f"expected batch_size to be a positive integer, received {batch_size!r}")
    if isinstance(data, CaptionedImages):
        images, captions = data.images, data.captions
    elif isinstance(data, tuple) and len(data) == 2:
        if with_labels:
            raise DataError("expected CaptionedImages with with_labels=True, received a tuple "
                            "(images, captions) without labels")
        images, captions = data
        images, _ = check_images(images, "images")
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / 255.0
    else:
        raise DataError(f"expected CaptionedImages or a tuple (images, captions), received "
                        f"{_short(data)}")
    captions = [c.decode("utf-8") if isinstance(c, bytes) else c for c in list(captions)]
    if len(captions) != len(images) or not all(isinstance(c, str) for c in captions):
        raise DataError(f"expected {len(images)} caption strings (one per image), received "
                        f"{len(captions)} items")
    n = len(images)
    if drop_remainder and not repeat and batch_size > n:
        raise DataError(f"expected batch_size <= {n} (the number of pairs) with "
                        f"drop_remainder=True, received batch_size={batch_size}")
    import tensorflow as tf

    table = {"image": tf.constant(np.asarray(images, np.float32)),
             "caption": tf.constant(captions, dtype=tf.string)}
    if with_labels:
        table.update(label=tf.constant(data.labels), bins=tf.constant(data.bins),
                     key=tf.constant(data.keys))

    def gather(index):
        batch = {k: tf.gather(v, index) for k, v in table.items()}
        if text_encoder is not None:
            batch["caption_ids"] = text_encoder.vectorize(batch["caption"])
        return batch

    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(int(batch_size), drop_remainder=drop_remainder)
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def _short(value):
    if isinstance(value, (str, os.PathLike)):
        return repr(os.fspath(value))
    return type(value).__name__
