"""Captioned images: attributes measured from pixels, bins, captions in two languages,
held-out combinations, determinism, tf.data pairs, bad input. Runs under every backend."""

import re
import time
from pathlib import Path

import numpy as np
import pytest

from keras_genmodels.data import DataError, tfds_source
from keras_genmodels.data import captions as C

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
H = W = 28


def _bar(width, shear=0.0, length=16, size=H):
    """A vertical bar `width` pixels wide, rows 6..6+length; the top shifted right by
    `shear` pixels per row of height (a negative shear leans left)."""
    img = np.zeros((size, size), np.float32)
    top = (size - length) // 2
    for r in range(top, top + length):
        height = (top + length - 1) - r                        # 0 at the bottom row
        c0 = int(round(size / 2 - width / 2 + shear * (height - length / 2)))
        img[r, c0:c0 + width] = 1.0
    return img


def _synthetic(n=600, seed=0):
    """Labelled toy images: bars of random width, shear and length; label = i % 10."""
    rng = np.random.default_rng(seed)
    x = np.stack([_bar(int(rng.integers(1, 5)), float(rng.uniform(-0.4, 0.4)),
                       int(rng.integers(8, 20))) for _ in range(n)])
    return x, (np.arange(n) % 10).astype(np.int32)


# --- attributes ------------------------------------------------------------------------------

def test_thickness_grows_with_stroke_width_and_reads_in_pixels():
    widths = [1, 2, 3, 4, 5]
    t = C.measure_attributes(np.stack([_bar(w) for w in widths]))["thickness"]
    assert np.all(np.diff(t) > 0.5), t
    # stroke of length L, width w: 2 w L / (2 (L + w)) = w L / (L + w)
    np.testing.assert_allclose(t, [w * 16 / (16 + w) for w in widths], rtol=1e-5)
    # soft (grey) edges do not break the ordering
    soft = np.stack([_bar(w) for w in widths])
    soft = np.clip(soft + 0.5 * np.roll(soft, 1, axis=2) * (soft == 0), 0, 1)
    assert np.all(np.diff(C.measure_attributes(soft)["thickness"]) > 0)


def test_slant_sign_and_value_from_second_moments():
    images = np.stack([_bar(2, 0.5), _bar(2, -0.5), _bar(2, 0.0), _bar(3, 0.25)])
    s = C.measure_attributes(images[..., None])["slant"]       # (N, H, W, 1) accepted too
    assert s[0] > 0.4 and s[1] < -0.4 and abs(s[2]) < 1e-6 and 0.15 < s[3] < 0.35, s
    assert s[0] == pytest.approx(-s[1], abs=0.05)              # mirror image, mirror slant
    # The mirror of an image negates its slant exactly.
    x, _ = _synthetic(40)
    np.testing.assert_allclose(C.measure_attributes(x[:, :, ::-1])["slant"],
                               -C.measure_attributes(x)["slant"], atol=1e-5)


def test_size_is_the_ink_spread_and_doubles_with_scale():
    small = np.zeros((H, H), np.float32)
    small[12:16, 12:16] = 1.0
    big = np.zeros((H, H), np.float32)
    big[10:18, 10:18] = 1.0
    a = C.measure_attributes(np.stack([small, big]))
    assert a["size"][1] == pytest.approx(2 * a["size"][0], rel=0.06)
    # radius of gyration of a 4x4 square: sqrt(2 * var of 0..3) = sqrt(2 * 1.25)
    assert a["size"][0] == pytest.approx(np.sqrt(2.5), rel=1e-5)
    assert a["thickness"][1] == pytest.approx(2 * a["thickness"][0], rel=1e-5)


def test_blank_and_uint8_images():
    x = np.zeros((3, H, W), np.uint8)
    x[1, 5:20, 10:13] = 255
    a = C.measure_attributes(x)
    for name in C.ATTRIBUTES:
        assert np.isfinite(a[name]).all() and a[name][0] == 0.0
    np.testing.assert_allclose(a["thickness"][1], C.measure_attributes(
        x.astype(np.float32) / 255)["thickness"][1])


def test_tertile_bins_balanced_per_class_for_size_and_require_labels():
    x, y = _synthetic(900)
    values = C.measure_attributes(x)
    t = C.attribute_thresholds(values, y)
    assert t["thickness"].shape == (2,) and t["slant"].shape == (2,)
    assert t["size"].shape == (10, 2)
    bins = C.bin_attributes(values, t, y)
    counts = np.bincount(bins["slant"], minlength=3) / len(y)
    assert np.all(np.abs(counts - 1 / 3) < 0.05), counts
    for c in range(10):                                          # per-class size tertiles
        share = np.bincount(bins["size"][y == c], minlength=3) / np.sum(y == c)
        assert np.all(share > 0.2), (c, share)
    with pytest.raises(DataError, match="labels"):
        C.bin_attributes(values, t)
    # measure_attributes with thresholds adds the bins
    with_bins = C.measure_attributes(x, thresholds=t, labels=y)
    np.testing.assert_array_equal(with_bins["size_bin"], bins["size"])


# --- captions --------------------------------------------------------------------------------

EN_KEYWORDS = {"thickness": (("thin",), ("medium-weight", "regular", "medium thickness"),
                             ("thick", "bold", "heavy")),
               "slant": (("left",), ("upright", "straight", "no slant"), ("right",)),
               "size": (("small", "little"), ("medium-sized", "mid-sized", "medium size"),
                        ("large", "big"))}
RU_KEYWORDS = {"thickness": (("тонк",), ("средней толщины", "обычной толщины"),
                             ("толст", "жирн")),
               "slant": (("влево",), ("прям", "ровн", "без наклона"), ("вправо",)),
               "size": (("маленьк", "небольш", "малого"), ("среднего размера", "средних размеров"),
                        ("больш", "крупн"))}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_captions_name_the_class_and_every_attribute_bin(language):
    rng = np.random.default_rng(0)
    words = C.class_words("mnist", language)
    keywords = EN_KEYWORDS if language == "en" else RU_KEYWORDS
    end = r"\b" if language == "en" else ""          # Russian keywords are word stems
    for trial in range(300):
        label, bins = trial % 10, tuple(int(b) for b in rng.integers(0, 3, size=3))
        text = C.make_caption(label, bins, language, rng)
        assert words[label] in text or str(label) in text, text
        for a, b in zip(C.ATTRIBUTES, bins):
            said = [k for k in range(3)
                    if any(re.search(rf"\b{w}{end}", text) for w in keywords[a][k])]
            assert said == [b], (a, b, text)


def test_russian_agreement_and_english_articles():
    rng = np.random.default_rng(1)
    feminine = re.compile(r"\b(тонкая|толстая|жирная|маленькая|небольшая|большая|крупная|"
                          r"прямая|ровная)\b")
    masculine = re.compile(r"\b(тонкий|толстый|жирный|маленький|небольшой|большой|крупный|"
                           r"прямой|ровный)\b")
    seen_zero = seen_seven = 0
    for _ in range(400):
        bins = tuple(rng.integers(0, 3, size=3))
        zero = C.make_caption(0, bins, "ru", rng)
        seven = C.make_caption(7, bins, "ru", rng)
        if "ноль" in zero:
            seen_zero += 1
            assert not feminine.search(zero), zero
        if "семёрка" in seven:
            seen_seven += 1
            assert not masculine.search(seven), seven
        trousers = C.make_caption(1, bins, "ru", rng, dataset="fashion_mnist")
        assert "брюки" in trousers and not feminine.search(trousers) \
            and not masculine.search(trousers), trousers
        eight = C.make_caption(8, bins, "en", rng)
        assert not re.search(r"\ba (eight|8|upright|old)\b", eight), eight
        assert not re.search(r"\ban (one|small|thin|seven)\b", C.make_caption(1, bins, "en",
                                                                                rng))
    assert seen_zero > 100 and seen_seven > 100
    assert any("тонкая семёрка" in C.make_caption(7, (0, 0, 1), "ru", s) for s in range(200))
    fashion = [C.make_caption(k, (1, 1, 1), "en", 3, dataset="fashion_mnist") for k in range(10)]
    for k, text in enumerate(fashion):
        assert C.class_words("fashion_mnist", "en")[k] in text


def test_make_caption_is_deterministic_and_varied():
    a = [C.make_caption(3, (0, 2, 1), "en", np.random.default_rng(5)) for _ in range(3)]
    assert len(set(a)) == 1
    many = {C.make_caption(3, (0, 2, 1), "en", s) for s in range(200)}
    assert len(many) > 40                          # varied templates for the same content
    with pytest.raises(DataError, match="language"):
        C.make_caption(3, (0, 1, 2), "de")
    with pytest.raises(DataError, match="bins"):
        C.make_caption(3, (0, 1, 3), "en")
    with pytest.raises(DataError, match="label"):
        C.make_caption(12, (0, 1, 2), "en")


# --- dataset ---------------------------------------------------------------------------------

def test_holdout_absent_from_train_flagged_in_test_and_deterministic():
    x, y = _synthetic(1000)
    holdout = ((7, "thickness", 2), (2, "slant", 0), (4, "size", 0))
    train = C.captioned_dataset((x, y), split="train", seed=3, holdout=holdout)
    assert train.images.shape[1:] == (H, W, 1) and train.images.dtype == np.float32
    assert train.captions.dtype == object and isinstance(train.captions[0], str)
    assert not train.holdout.any()
    for label, name, b in holdout:
        col = C.ATTRIBUTES.index(name)
        assert not np.any((train.labels == label) & (train.bins[:, col] == b))
    test = C.captioned_dataset((x, y), split="test", seed=3, holdout=holdout,
                               thresholds=train.thresholds)
    assert len(test) == 1000 and 0 < test.holdout.sum() == 1000 - len(train)
    np.testing.assert_array_equal(test.holdout, C.holdout_mask(test.labels, test.bins, holdout))
    # Same seed: same captions; another seed: other wording, same images/bins.
    again = C.captioned_dataset((x, y), split="train", seed=3, holdout=holdout)
    np.testing.assert_array_equal(again.captions, train.captions)
    other = C.captioned_dataset((x, y), split="train", seed=4, holdout=holdout)
    np.testing.assert_array_equal(other.bins, train.bins)
    assert np.mean(other.captions != train.captions) > 0.5
    # languages in equal shares; all_languages repeats each image once per language
    assert abs(np.mean(train.languages == "ru") - 0.5) < 0.01
    both = C.captioned_dataset((x, y), seed=3, holdout=holdout, all_languages=True)
    assert len(both) == 2 * len(train)
    np.testing.assert_array_equal(both.source_index[::2], both.source_index[1::2])
    assert set(both.languages[::2]) == {"en"} and set(both.languages[1::2]) == {"ru"}
    keys = train.keys
    assert keys.max() < 270 and len(np.unique(keys)) > 50


@pytest.mark.skipif(not (SHARED_DATA / "mnist_train.npz").exists(), reason="no shared data")
def test_real_mnist_attributes_make_sense():
    train = C.captioned_dataset(str(SHARED_DATA / "mnist_train.npz"), limit=3000, seed=0)
    assert train.class_set == "mnist" and len(train) < 3000
    for col in range(3):                               # bins ordered by the measured value
        means = [train.values[train.bins[:, col] == b, col].mean() for b in range(3)]
        assert means[0] < means[1] < means[2]
    thin = train.captions[(train.bins[:, 0] == 0) & (train.languages == "en")]
    assert np.mean([("thin" in c) for c in thin]) > 0.6


def test_bad_sources_fail_clearly(monkeypatch, tmp_path):
    x, y = _synthetic(50)
    with pytest.raises(DataError, match="without labels"):
        C.captioned_dataset(x)
    with pytest.raises(DataError, match="y=None"):
        C.captioned_dataset((x, None))
    with pytest.raises(DataError, match="grayscale"):
        C.captioned_dataset((np.repeat(x[..., None], 3, axis=-1), y))
    with pytest.raises(DataError, match=r"'mnist', 'fashion_mnist'.*'cifar10'"):
        C.captioned_dataset("cifar10")
    with pytest.raises(DataError, match=r"labels in \[0, 10\)"):
        C.captioned_dataset((x, y + 5))
    with pytest.raises(DataError, match="holdout"):
        C.captioned_dataset((x, y), holdout=((7, "colour", 1),))
    with pytest.raises(DataError, match="language"):
        C.captioned_dataset((x, y), languages=("fr",))
    np.savez(tmp_path / "unlabelled.npz", x=(x * 255).astype(np.uint8))
    with pytest.raises(DataError, match="without labels"):
        C.captioned_dataset(str(tmp_path / "unlabelled.npz"))
    # tfds name offline: fails fast with DataError, never downloads
    monkeypatch.setattr(tfds_source, "start_probe", lambda: _Probe())
    start = time.monotonic()
    with pytest.raises(DataError, match="unreachable"):
        C.captioned_dataset("mnist", data_dir=str(tmp_path))
    assert time.monotonic() - start < 10


class _Probe:
    target = "simulated.host:443"

    def result(self):
        return False, "simulated: no route"


def test_caption_pairs_dataset_yields_matching_pairs():
    x, y = _synthetic(200)
    data = C.captioned_dataset((x, y), holdout=())
    ds = C.caption_pairs_dataset(data, batch_size=32, shuffle=True, seed=1, with_labels=True)
    batches = list(ds)
    assert len(batches) == 200 // 32
    b = batches[0]
    assert set(b) == {"image", "caption", "label", "bins", "key"}
    assert b["image"].shape == (32, H, W, 1) and b["caption"].dtype.name == "string"
    lookup = {c: i for i, c in enumerate(data.captions)}
    for img, cap, lab in zip(b["image"].numpy(), b["caption"].numpy(), b["label"].numpy()):
        i = lookup[cap.decode("utf-8")]             # caption -> its own image and label
        np.testing.assert_array_equal(img, data.images[i])
        assert lab == data.labels[i]
    first = [bb["caption"].numpy().tolist() for bb in C.caption_pairs_dataset(
        data, batch_size=32, seed=1)]
    assert first == [bb["caption"].numpy().tolist() for bb in C.caption_pairs_dataset(
        data, batch_size=32, seed=1)]
    with pytest.raises(DataError, match="batch_size"):
        C.caption_pairs_dataset(data, batch_size=0)
    with pytest.raises(DataError, match="one per image"):
        C.caption_pairs_dataset((data.images, ["a"] * 3), batch_size=2)
