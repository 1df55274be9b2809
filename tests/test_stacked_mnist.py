"""Stacked MNIST data (channels are independent source digits, labels are their triples)
and the Stacked MNIST mode count (modes, KL to uniform) on constructed answers.

Run under every backend: KERAS_BACKEND=tensorflow|jax|torch python -m pytest
tests/test_stacked_mnist.py
"""

import math

import numpy as np
import pytest

from keras_genmodels.data import DataError, load_images
from keras_genmodels.data.stacked_mnist import (mode_index, stacked_indices, stacked_mnist,
                                                stacked_mnist_dataset)
from keras_genmodels.metrics.stacked_modes import (classify_channels, mode_indices,
                                                   mode_statistics, stacked_modes)


@pytest.fixture
def indexed():
    """x (60, 4, 4) uint8 whose pixels all equal the image index; y = index % 10."""
    n = 60
    x = np.repeat(np.arange(n, dtype=np.uint8), 16).reshape(n, 4, 4)
    return x, (np.arange(n) % 10).astype(np.int64)


def _batches(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
    return np.concatenate(xs), np.concatenate(ys)


# --- data ----------------------------------------------------------------------------------

def test_each_channel_is_the_source_digit_and_labels_are_its_triple(indexed):
    x, y = indexed
    images, triples = stacked_mnist((x, y), num_images=300, seed=3)
    assert images.shape == (300, 4, 4, 3) and images.dtype == np.float32
    assert triples.shape == (300, 3) and triples.dtype == np.int32
    pixel = np.round(images * 255).astype(int)                      # (300, 4, 4, 3)
    # every channel is one whole source image: constant, equal to its index
    assert (pixel == pixel[:, :1, :1, :]).all()
    source = pixel[:, 0, 0, :]                                      # (300, 3) source indices
    np.testing.assert_array_equal(source, stacked_indices(60, 300, seed=3))
    np.testing.assert_array_equal(triples, y[source])
    # channels are drawn independently: they differ somewhere, each covers many sources
    assert (source[:, 0] != source[:, 1]).mean() > 0.9
    assert all(len(np.unique(source[:, c])) > 50 for c in range(3))
    modes = stacked_mnist((x, y), num_images=300, seed=3, label_format="mode")[1]
    np.testing.assert_array_equal(modes, 100 * triples[:, 0] + 10 * triples[:, 1]
                                  + triples[:, 2])


def test_real_digits_channels_match_the_source_images():
    src, labels = load_images("digits", "train")
    images, triples = stacked_mnist("digits", num_images=50, seed=11)
    idx = stacked_indices(len(src), 50, seed=11)
    for c in range(3):
        np.testing.assert_array_equal(images[..., c], src[idx[:, c], ..., 0])
        np.testing.assert_array_equal(triples[:, c], labels[idx[:, c]])


def test_dataset_matches_arrays_and_is_deterministic(indexed):
    x, y = indexed
    kw = dict(num_images=130, seed=5, batch_size=32, with_labels=True)
    xs, ys = _batches(stacked_mnist_dataset((x, y), shuffle=False, **kw))
    ref_x, ref_y = stacked_mnist((x, y), num_images=130, seed=5)
    assert xs.shape == (130, 4, 4, 3) and xs.dtype == np.float32
    np.testing.assert_array_equal(xs, ref_x)
    np.testing.assert_array_equal(ys, ref_y)
    # shuffled: same seed -> same order (also in a fresh pipeline), another seed differs
    a = _batches(stacked_mnist_dataset((x, y), **kw))
    b = _batches(stacked_mnist_dataset((x, y), **kw))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], ys)                  # it is shuffled ...
    order = np.lexsort(a[1].T[::-1])
    assert sorted(map(tuple, a[1][order])) == sorted(map(tuple, ys))   # ... the same set
    c = _batches(stacked_mnist_dataset((x, y), **{**kw, "seed": 6}))
    assert not np.array_equal(c[1], a[1])
    np.testing.assert_array_equal(stacked_mnist((x, y), 40, seed=9)[0],
                                  stacked_mnist((x, y), 40, seed=9)[0])
    assert not np.array_equal(stacked_mnist((x, y), 40, seed=9)[1],
                              stacked_mnist((x, y), 40, seed=10)[1])


def test_all_1000_modes_are_reachable_and_close_to_uniform():
    ds = stacked_mnist_dataset("digits", num_images=20000, seed=0, batch_size=5000,
                               with_labels=True, label_format="mode", shuffle=False)
    modes = np.concatenate([np.asarray(y) for _, y in ds])
    assert modes.shape == (20000,) and modes.min() >= 0 and modes.max() <= 999
    counts = np.bincount(modes, minlength=1000)
    assert (counts > 0).sum() == 1000
    # 20 expected per mode; the plug-in KL of a multinomial sample is ~ 999 / (2 * 20000)
    assert mode_statistics(counts)["kl"] < 0.05


def test_bad_input_is_rejected_with_a_clear_message(indexed, tmp_path):
    x, y = indexed
    with pytest.raises(DataError, match="without labels"):
        stacked_mnist(x, 10)
    unlabelled = tmp_path / "unlabelled.npz"
    np.savez(unlabelled, x=x)
    with pytest.raises(DataError, match="without labels"):
        stacked_mnist_dataset(str(unlabelled))
    with pytest.raises(DataError, match="single-channel.*received images of shape"):
        stacked_mnist((np.zeros((5, 4, 4, 3), np.uint8), np.zeros(5, int)), 10)
    with pytest.raises(DataError, match="num_images to be a positive integer, received 0"):
        stacked_mnist((x, y), 0)
    with pytest.raises(DataError, match="seed to be a non-negative integer"):
        stacked_mnist_dataset((x, y), 10, seed=None)
    with pytest.raises(DataError, match="label_format in"):
        stacked_mnist((x, y), 10, label_format="index")
    with pytest.raises(DataError, match="batch_size <= num_images=10"):
        stacked_mnist_dataset((x, y), 10, batch_size=64, drop_remainder=True)
    with pytest.raises(DataError, match="no such file"):
        stacked_mnist_dataset(str(tmp_path / "missing.npz"))
    with pytest.raises(DataError, match=r"labels in \[0, .*received min -1"):
        stacked_mnist((x, -np.ones(60, int)), 10)


# --- mode count ----------------------------------------------------------------------------

def test_mode_statistics_of_known_histograms():
    uniform = mode_statistics(np.full(1000, 26))
    assert uniform == {"modes": 1000, "kl": 0.0, "num_samples": 26000, "num_modes": 1000}
    one = mode_statistics(np.eye(1000)[7] * 26000)
    assert one["modes"] == 1 and one["kl"] == pytest.approx(math.log(1000), rel=1e-12)
    half = np.zeros(1000)
    half[::2] = 52                                   # 500 modes, equal shares
    assert mode_statistics(half)["kl"] == pytest.approx(math.log(2), rel=1e-12)
    # 99 modes as in PacGAN's DCGAN row: KL = log(1000 / 99) for an even split
    m = mode_statistics(np.r_[np.full(99, 10), np.zeros(901)])
    assert m["modes"] == 99 and m["kl"] == pytest.approx(math.log(1000 / 99), rel=1e-12)
    # an uneven histogram against the formula sum q log(q * M)
    counts = np.array([3.0, 1.0, 0.0, 0.0])
    q = counts[:2] / 4
    assert mode_statistics(counts)["kl"] == pytest.approx(float(np.sum(q * np.log(q * 4))))
    for bad in (np.zeros(10), -np.ones(3), np.array([1.0, np.nan]), np.zeros((2, 2))):
        with pytest.raises(ValueError, match="expected"):
            mode_statistics(bad)


def _brightness_classifier(single):
    """'Classifies' (m, H, W, 1) images whose pixels all equal (d + 0.5) / 10 as digit d."""
    d = np.clip(np.floor(single.mean(axis=(1, 2, 3)) * 10), 0, 9).astype(int)
    return np.eye(10)[d]


def test_each_channel_is_classified_separately_in_order():
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, size=(700, 3))
    images = np.broadcast_to(((digits + 0.5) / 10)[:, None, None, :], (700, 5, 5, 3))
    np.testing.assert_array_equal(
        classify_channels(images, _brightness_classifier, batch_size=64), digits)
    out = stacked_modes(images, _brightness_classifier, batch_size=256)
    expected = np.unique(100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2])
    assert out["modes"] == len(expected) and out["num_samples"] == 700
    assert set(np.flatnonzero(out["histogram"])) == set(expected)
    np.testing.assert_array_equal(mode_indices(digits), mode_index(digits))
    # one mode: all three channels the same digit in every image
    same = stacked_modes(np.full((50, 5, 5, 3), 0.35), _brightness_classifier)
    assert same["modes"] == 1 and np.argmax(same["histogram"]) == 333
    with pytest.raises(ValueError, match=r"\(n, H, W, 3\)"):
        classify_channels(np.zeros((4, 5, 5, 1)), _brightness_classifier)
    with pytest.raises(ValueError, match=r"classes in \[0, 10\)"):
        mode_indices(np.array([[1, 2, 10]]))
