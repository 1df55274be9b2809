"""Tests of keras_genmodels.data: sources, validation, tf.data pipelines, toy distributions.

Run under every backend: KERAS_BACKEND=tensorflow|jax|torch python -m pytest tests/test_data.py
"""

import gzip
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from keras_genmodels.data import (DATASETS, DataError, TOY_DISTRIBUTIONS, image_dataset,
                                  load_images, toy_dataset, toy_distribution)
from keras_genmodels.data import tfds_source

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# --- helpers ---------------------------------------------------------------------------------

def write_idx(path, array, gz):
    """Write an IDX file the way the MNIST release does (big-endian header and values)."""
    codes = {np.dtype(np.uint8): (0x08, ">u1"), np.dtype(np.float32): (0x0D, ">f4")}
    code, be = codes[array.dtype]
    raw = bytes([0, 0, code, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    raw += array.astype(be).tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(raw)
    return path


def numpy_batches(ds):
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else np.asarray(b)
            for b in ds]


@pytest.fixture
def indexed():
    """x (50, 4, 3) uint8 whose pixel value is the image index, y = index."""
    n = 50
    x = np.repeat(np.arange(n, dtype=np.uint8)[:, None, None], 12, axis=1).reshape(n, 4, 3)
    return x, np.arange(n, dtype=np.int64)


# --- import hygiene --------------------------------------------------------------------------

def test_import_loads_no_tensorflow_or_keras():
    code = ("import sys, keras_genmodels.data; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert DATASETS[0] == "digits" and "mnist" in DATASETS


# --- digits ----------------------------------------------------------------------------------

def test_digits_splits_shapes_and_range():
    x_train, y_train = load_images("digits", "train")
    x_test, y_test = load_images("digits", "test")
    x_all, y_all = load_images("digits", "all")
    assert x_train.shape == (1437, 8, 8, 1) and x_test.shape == (360, 8, 8, 1)
    assert x_all.shape == (1797, 8, 8, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert x_all.min() == 0.0 and x_all.max() == 1.0
    assert set(np.unique(y_all)) == set(range(10))
    # train + test is a partition of all (compare sorted per-image sums + labels).
    key = lambda x, y: sorted(zip(np.round(x.reshape(len(x), -1).sum(1) * 16).astype(int), y))
    assert key(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])) == \
        key(x_all, y_all)
    # values are multiples of 1/16
    np.testing.assert_array_equal(x_all * 16, np.round(x_all * 16))


def test_digits_split_matches_pca_protocol():
    from sklearn.decomposition import PCA

    x_train, _ = load_images("digits", "train")
    x_test, _ = load_images("digits", "test")
    a, b = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    for k, expected in ((8, 0.0253), (16, 0.0120)):
        pca = PCA(k).fit(a)
        mse = float(np.mean((pca.inverse_transform(pca.transform(b)) - b) ** 2))
        assert abs(mse - expected) < 3e-4, (k, mse)


# --- image_dataset ---------------------------------------------------------------------------

def test_image_dataset_batches_labels_and_seeded_reshuffle(indexed):
    x, y = indexed
    ds = image_dataset((x, y), batch_size=16, seed=3, with_labels=True)
    epoch1, epoch2 = numpy_batches(ds), numpy_batches(ds)
    assert [len(b[0]) for b in epoch1] == [16, 16, 16, 2]
    for xb, yb in epoch1:
        assert xb.dtype == np.float32 and yb.dtype == np.int32 and xb.shape[1:] == (4, 3, 1)
        np.testing.assert_allclose(xb[:, 0, 0, 0] * 255.0, yb, atol=1e-4)  # labels aligned
    order1 = np.concatenate([b[1] for b in epoch1])
    order2 = np.concatenate([b[1] for b in epoch2])
    assert sorted(order1) == list(range(50)) and sorted(order2) == list(range(50))
    assert not np.array_equal(order1, order2)  # reshuffled each epoch
    again = np.concatenate([b[1] for b in image_dataset((x, y), batch_size=16, seed=3,
                                                       with_labels=True)])
    np.testing.assert_array_equal(order1, again)  # same seed, same order
    other = np.concatenate([b[1] for b in image_dataset((x, y), batch_size=16, seed=4,
                                                       with_labels=True)])
    assert not np.array_equal(order1, other)
    plain = np.concatenate(numpy_batches(image_dataset(x, batch_size=16, shuffle=False)))
    np.testing.assert_allclose(plain[:, 0, 0, 0] * 255.0, np.arange(50), atol=1e-4)


def test_image_dataset_drop_remainder_repeat_flatten(indexed):
    x, _ = indexed
    dropped = numpy_batches(image_dataset(x, batch_size=16, drop_remainder=True))
    assert [len(b) for b in dropped] == [16, 16, 16]
    endless = image_dataset(x, batch_size=16, repeat=True, flatten=True)
    batches = numpy_batches(endless.take(7))
    assert len(batches) == 7 and all(b.shape == (16, 12) for b in batches)
    digits_batch = next(iter(image_dataset("digits", batch_size=32)))
    assert tuple(digits_batch.shape) == (32, 8, 8, 1)
    assert 0.0 <= float(np.min(digits_batch)) and float(np.max(digits_batch)) <= 1.0


def test_image_dataset_feeds_fit_and_loss_decreases():
    import keras

    keras.utils.set_random_seed(0)
    ds = image_dataset("digits", batch_size=64, seed=0, drop_remainder=True, repeat=True)
    ds = ds.map(lambda x: (x, x))
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Dense(64, activation="sigmoid")(keras.layers.Flatten()(inputs))
    outputs = keras.layers.Reshape((8, 8, 1))(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(ds, epochs=3, steps_per_epoch=8, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < 0.8 * losses[0], losses


# --- local files -----------------------------------------------------------------------------

def test_npz_uint8_and_float(tmp_path):
    rng = np.random.default_rng(0)
    x8 = rng.integers(0, 256, size=(10, 6, 5), dtype=np.uint8)
    y = np.arange(10, dtype=np.uint8)
    np.savez(tmp_path / "u8.npz", x=x8, y=y)
    x, labels = load_images(tmp_path / "u8.npz", split="test")  # split ignored for files
    assert x.shape == (10, 6, 5, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], x8 / 255.0, rtol=1e-6)
    assert labels.dtype == np.int32 and labels.tolist() == list(range(10))
    xf = rng.random((4, 3, 3, 3)).astype(np.float64)
    np.savez_compressed(tmp_path / "f.npz", x=xf)
    x, labels = load_images(str(tmp_path / "f.npz"))
    assert labels is None and x.shape == (4, 3, 3, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, xf, rtol=1e-6)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_images_with_sibling_and_explicit_labels(tmp_path, gz):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    ext = ".gz" if gz else ""
    img_path = write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", images, gz)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", labels, gz)
    x, y = load_images(img_path)
    np.testing.assert_allclose(x[..., 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    other = write_idx(tmp_path / f"my-labels{ext}", labels[::-1].copy(), gz)
    _, y2 = load_images(str(img_path), labels_path=other)
    np.testing.assert_array_equal(y2, labels[::-1])
    # float32 IDX in [0, 1] without a labels sibling
    fimg = (rng.random((3, 2, 2)) * 0.5).astype(np.float32)
    x3, y3 = load_images(write_idx(tmp_path / f"floats.idx{ext}", fimg, gz))
    assert y3 is None
    np.testing.assert_array_equal(x3[..., 0], fimg)


@pytest.mark.skipif(not (SHARED_DATA / "mnist_test.npz").exists(),
                    reason="shared reference data (../shared/data) not present")
def test_real_mnist_npz_when_available():
    x, y = load_images(SHARED_DATA / "mnist_test.npz")
    assert x.shape == (10000, 28, 28, 1) and 0.0 <= x.min() and x.max() == 1.0
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- errors ----------------------------------------------------------------------------------

def _bad_sources(tmp_path):
    good = np.zeros((4, 3, 3), np.uint8)
    np.savez(tmp_path / "nox.npz", images=good)
    np.savez(tmp_path / "int64.npz", x=good.astype(np.int64))
    nan = np.full((4, 3, 3), 0.5, np.float32)
    nan[1, 1, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=nan)
    np.savez(tmp_path / "range.npz", x=np.full((4, 3, 3), 255.0, np.float32))
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 3, 3), np.uint8))
    np.savez(tmp_path / "ylen.npz", x=good, y=np.arange(3))
    np.savez(tmp_path / "flat.npz", x=np.zeros((4, 9), np.uint8))
    full = (tmp_path / "int64.npz").read_bytes()
    (tmp_path / "corrupt.npz").write_bytes(full[: len(full) // 2])
    (tmp_path / "junk.bin").write_bytes(b"hello world")
    raw = bytes([0, 0, 8, 3]) + struct.pack(">III", 5, 4, 4) + bytes(40)  # 80 needed
    (tmp_path / "short-images-idx3-ubyte").write_bytes(raw)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(bytes([0, 0, 8, 3]) * 30)[:20])
    write_idx(tmp_path / "only-labels-idx1-ubyte", np.arange(5, dtype=np.uint8), False)
    return {
        "missing file": (str(tmp_path / "missing.npz"), ["expected an existing", "no such file"]),
        "directory": (str(tmp_path) + os.sep, ["expected a .npz or IDX file", "directory"]),
        "unknown name": ("mnistt", ["received 'mnistt'", "did you mean", "'mnist'"]),
        "missing x": (tmp_path / "nox.npz", ["expected an array named 'x'", "['images']"]),
        "wrong dtype": (tmp_path / "int64.npz", ["dtype uint8", "received", "int64"]),
        "nan": (tmp_path / "nan.npz", ["finite", "1 NaN"]),
        "out of range": (tmp_path / "range.npz", ["values in [0, 1]", "max 255"]),
        "empty": (tmp_path / "empty.npz", ["at least one image", "empty"]),
        "label count": (tmp_path / "ylen.npz", ["with 4 labels", "received 3"]),
        "flat": (tmp_path / "flat.npz", ["(N, H, W)", "(4, 9)"]),
        "corrupt npz": (tmp_path / "corrupt.npz", ["corrupt", "corrupt.npz"]),
        "unknown format": (tmp_path / "junk.bin", ["expected a .npz archive or an IDX file"]),
        "truncated idx": (tmp_path / "short-images-idx3-ubyte", ["expected 80 bytes", "40"]),
        "truncated gzip": (tmp_path / "bad.gz", ["valid gzip", "truncated"]),
        "labels as images": (tmp_path / "only-labels-idx1-ubyte", ["3 or 4 dimensions",
                                                                   "labels_path"]),
        "digits split": ("digits", ["split in ['train', 'test', 'all']", "'valid'"]),
        "array nan": (np.full((2, 2, 2), np.nan), ["finite", "8 NaN"]),
    }


def test_bad_sources_raise_clear_data_errors(tmp_path):
    cases = _bad_sources(tmp_path)
    for label, (source, fragments) in cases.items():
        with pytest.raises(DataError) as info:
            split = "valid" if label == "digits split" else "train"
            load_images(source, split=split)
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, (label, message)
    assert issubclass(DataError, ValueError)


def test_image_dataset_argument_errors(indexed):
    x, y = indexed
    with pytest.raises(DataError, match="expected labels with with_labels=True"):
        image_dataset(x, with_labels=True)
    with pytest.raises(DataError, match="batch_size to be a positive integer"):
        image_dataset(x, batch_size=0)
    with pytest.raises(DataError, match="would be empty"):
        image_dataset(x, batch_size=64, drop_remainder=True)
    with pytest.raises(DataError, match=r"tuple \(x, y\)"):
        image_dataset((x, y, y))
    with pytest.raises(DataError, match="labels in"):
        image_dataset((x, -np.ones(50, int)), with_labels=True)
    with pytest.raises(DataError, match="expected source to be 'digits'.*received int"):
        load_images(123)


# --- tensorflow-datasets ---------------------------------------------------------------------

def test_tfds_mock_data_loads_and_batches(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        x, y = load_images("mnist", split="train", data_dir=str(tmp_path))
        ds = image_dataset("fashion_mnist", batch_size=8, with_labels=True,
                           data_dir=str(tmp_path))
        batches = numpy_batches(ds)
    assert x.shape == (20, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    assert y.dtype == np.int32 and y.shape == (20,) and 0 <= y.min() and y.max() <= 9
    assert [b[0].shape for b in batches] == [(8, 28, 28, 1), (8, 28, 28, 1), (4, 28, 28, 1)]


def test_tfds_prepared_in_data_dir_loads_offline_without_probe(tmp_path, monkeypatch):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 6, 6, 1), dtype=np.uint8)
    y = np.arange(12) % 3
    splits = {"train": tf.data.Dataset.from_tensor_slices({"image": x, "label": y}),
              "test": tf.data.Dataset.from_tensor_slices({"image": x[:4], "label": y[:4]})}
    features = tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(6, 6, 1)),
                                           "label": tfds.features.ClassLabel(num_classes=3)})
    tfds.dataset_builders.TfDataBuilder(
        name="kg_local_images", config="default", version="1.0.0", split_datasets=splits,
        features=features, data_dir=str(tmp_path)).download_and_prepare()

    def no_probe():
        raise AssertionError("prepared data must not trigger a network probe")

    monkeypatch.setattr(tfds_source, "start_probe", no_probe)
    xt, yt = load_images("kg_local_images", split="test", data_dir=tmp_path)
    order = np.argsort(yt * 1000 + xt[:, 0, 0, 0] * 255)  # tfds may reorder examples
    expected = np.argsort(y[:4] * 1000 + x[:4, 0, 0, 0])
    np.testing.assert_allclose(xt[order], x[:4][expected] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(yt[order], y[:4][expected])
    with pytest.raises(DataError, match=r"among \['test', 'train'\].*received split='validation'"):
        load_images("kg_local_images", split="validation", data_dir=tmp_path)


class _Probe:
    def __init__(self, reachable):
        self.reachable, self.target = reachable, "simulated.host:443"

    def result(self):
        return self.reachable, "" if self.reachable else "simulated: no route"


def _assert_offline_message(message, name):
    for fragment in (repr(name), "unreachable", "digits", ".npz", "IDX", "data_dir"):
        assert fragment in message, (fragment, message)


def test_tfds_offline_fails_fast_simulated(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(tfds_source, "start_probe", lambda: _Probe(False))
    downloads = []
    real_load = tfds.load

    def spy_load(*args, **kwargs):
        downloads.append(kwargs.get("download"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(tfds, "load", spy_load)
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        load_images("cifar10", data_dir=str(tmp_path))
    assert time.monotonic() - start < 10.0
    _assert_offline_message(str(info.value), "cifar10")
    assert "simulated: no route" in str(info.value)
    assert downloads == [False]  # never tried to download


def test_tfds_download_attempted_only_when_reachable(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(tfds_source, "start_probe", lambda: _Probe(True))
    calls = []

    def fake_load(name, download=True, **kwargs):
        calls.append(download)
        if not download:
            raise AssertionError(f"Dataset {name}: could not find data in {kwargs['data_dir']}.")
        raise ConnectionError("simulated download failure")

    monkeypatch.setattr(tfds, "load", fake_load)
    with pytest.raises(DataError, match="cannot download .*'mnist'.*simulated download failure"):
        load_images("mnist", data_dir=str(tmp_path))
    assert calls == [False, True]


def test_tfds_offline_fails_fast_for_real(tmp_path):
    reachable, _ = tfds_source.host_reachable(timeout=2.0)
    if reachable:
        pytest.skip("download host reachable: this test checks the offline path only")
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        image_dataset("mnist", data_dir=str(tmp_path))
    elapsed = time.monotonic() - start
    assert elapsed < 10.0, elapsed
    _assert_offline_message(str(info.value), "mnist")


# --- toy distributions -----------------------------------------------------------------------

def test_toy_distribution_modes():
    ring = toy_distribution("ring8")
    assert ring.means.shape == (8, 2) and ring.means.dtype == np.float32 and ring.std == 0.01
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(ring.means[2], [0.0, 1.0], atol=1e-6)
    grid = toy_distribution("grid25")
    assert grid.std == 0.05 and grid.dim == 2
    assert {tuple(m) for m in grid.means.tolist()} == {(a, b) for a in (-4, -2, 0, 2, 4)
                                                       for b in (-4, -2, 0, 2, 4)}
    g1 = toy_distribution("gaussian1d")
    assert g1.dim == 1 and g1.means.tolist() == [[4.0]] and g1.std == 0.5
    assert toy_distribution("gaussian1d", mean=-1.0, std=2.0).means.tolist() == [[-1.0]]
    assert set(TOY_DISTRIBUTIONS) == {"ring8", "grid25", "gaussian1d"}
    with pytest.raises(DataError, match="expected a toy distribution in"):
        toy_distribution("ring9")
    with pytest.raises(DataError, match="radius"):
        toy_distribution("grid25", radius=2.0)


def test_toy_sampler_seeded_and_statistics():
    grid = toy_distribution("grid25")
    x, modes = grid.sample(20000, seed=1, return_modes=True)
    assert x.shape == (20000, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, grid.sample(20000, seed=1))
    assert not np.array_equal(x, grid.sample(20000, seed=2))
    nearest, dist = grid.nearest_mode(x)
    np.testing.assert_array_equal(nearest, modes)
    assert abs(grid.high_quality(x).mean() - (1 - np.exp(-4.5))) < 0.005
    assert np.bincount(modes, minlength=25).min() > 600  # every mode used (~800 each)
    g = toy_distribution("gaussian1d").sample(20000, seed=0)
    assert abs(g.mean() - 4.0) < 0.02 and abs(g.std() - 0.5) < 0.02


def test_toy_dataset_infinite_and_finite():
    ring = toy_distribution("ring8")
    first = numpy_batches(toy_dataset("ring8", batch_size=256, seed=5).take(3))
    again = numpy_batches(toy_dataset("ring8", batch_size=256, seed=5).take(3))
    assert [b.shape for b in first] == [(256, 2)] * 3 and first[0].dtype == np.float32
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    assert not np.array_equal(first[0], first[1])
    stacked = np.concatenate(first)
    assert ring.high_quality(stacked).mean() > 0.97
    assert len(np.unique(ring.nearest_mode(stacked)[0])) == 8
    finite = numpy_batches(toy_dataset("gaussian1d", batch_size=100, seed=2, num_samples=250))
    assert [len(b) for b in finite] == [100, 100, 50]
    np.testing.assert_array_equal(np.concatenate(finite),
                                  toy_distribution("gaussian1d").sample(250, seed=2))
    with pytest.raises(DataError, match="num_samples"):
        toy_dataset("ring8", num_samples=0)
