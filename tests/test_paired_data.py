"""Paired image data (`keras_genmodels.data.paired`): each kind of pair against a hand
computation, seeded epoch replay, and bad input raising `DataError` before any pipeline."""

import numpy as np
import pytest

from keras_genmodels.data import DataError
from keras_genmodels.data import paired


def step_images(n=4, size=8):
    """Left half 0, right half 1: one vertical step edge between columns size/2-1, size/2."""
    x = np.zeros((n, size, size, 1), "float32")
    x[:, :, size // 2:] = 1.0
    return x


def test_edges_are_the_thresholded_sobel_magnitude_of_a_step():
    x = step_images()
    edges = paired.make_inputs(x, "edges").numpy()
    assert edges.shape == (4, 8, 8, 1) and set(np.unique(edges)) == {0.0, 1.0}
    expected = np.zeros((8, 8), "float32")
    expected[:, 3:5] = 1.0   # the Sobel response of a unit step is 4 > 1 on both sides
    np.testing.assert_array_equal(edges[0, ..., 0], expected)
    # A step of contrast 0.2 gives magnitude 0.8: below the default threshold, above 0.5.
    assert paired.make_inputs(0.2 * x, "edges").numpy().sum() == 0
    assert paired.make_inputs(0.2 * x, "edges", edge_threshold=0.5).numpy().sum() == 4 * 16


def test_resolution_inputs_are_block_means_and_colorize_is_grey():
    rng = np.random.default_rng(0)
    x = rng.random((3, 8, 8, 3)).astype("float32")
    for scale in (2, 4):
        low = paired.make_inputs(x, "resolution", scale=scale).numpy()
        blocks = x.reshape(3, 8 // scale, scale, 8 // scale, scale, 3).mean(axis=(2, 4))
        np.testing.assert_allclose(low, blocks, atol=1e-6)
    grey = paired.make_inputs(x, "colorize").numpy()
    np.testing.assert_allclose(grey[..., 0], x @ np.array([0.2989, 0.587, 0.114]), atol=1e-3)
    assert paired.paired_shapes((32, 32, 3), "colorize") == ((32, 32, 1), (32, 32, 3))
    assert paired.paired_shapes((28, 28, 1), "resolution", 4) == ((7, 7, 1), (28, 28, 1))


def test_dataset_yields_seeded_replayable_pairs():
    ds = paired.paired_dataset("digits", pairs="resolution", scale=2, batch_size=50, seed=3,
                               epoch=2, drop_remainder=True)
    assert len(ds.element_spec) == 2
    first = [(a.numpy(), b.numpy()) for a, b in ds]
    again = [(a.numpy(), b.numpy()) for a, b in paired.paired_dataset(
        "digits", pairs="resolution", scale=2, batch_size=50, seed=3, epoch=2,
        drop_remainder=True)]
    other = next(iter(paired.paired_dataset("digits", pairs="resolution", scale=2,
                                            batch_size=50, seed=3, epoch=3)))[1].numpy()
    assert len(first) == 1437 // 50
    for (a, b), (c, d) in zip(first, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert not np.array_equal(first[0][1], other)   # another epoch, another order
    low, high = first[0]
    assert low.shape == (50, 4, 4, 1) and high.shape == (50, 8, 8, 1)
    np.testing.assert_allclose(low, paired.make_inputs(high, "resolution").numpy(), atol=1e-6)
    assert 0.0 <= high.min() and high.max() <= 1.0


def test_dihedral_augmentation_keeps_pairs_and_uses_all_eight_symmetries():
    rng = np.random.default_rng(0)
    x = rng.random((256, 8, 8, 1)).astype("float32")
    ds = paired.paired_dataset(x, pairs="resolution", scale=2, batch_size=64, seed=5,
                               augment="dihedral", shuffle=False)
    batches = [(a.numpy(), b.numpy()) for a, b in ds]
    again = [b.numpy() for _, b in paired.paired_dataset(
        x, pairs="resolution", scale=2, batch_size=64, seed=5, augment="dihedral",
        shuffle=False)]
    seen = set()
    for i, (low, high) in enumerate(batches):
        np.testing.assert_array_equal(high, again[i])   # stateless: replays identically
        np.testing.assert_allclose(low, paired.make_inputs(high, "resolution").numpy(),
                                   atol=1e-6)           # the input is of the augmented target
        for j, image in enumerate(high):
            source = x[64 * i + j, ..., 0]
            match = [k for k, t in enumerate(_symmetries(source))
                     if np.array_equal(t, image[..., 0])]
            assert len(match) == 1                      # a symmetry of its own source image
            seen.add(match[0])
    assert seen == set(range(8))
    flips = [b.numpy() for _, b in paired.paired_dataset(
        x, pairs="resolution", scale=2, batch_size=256, seed=5, augment="flip", shuffle=False)]
    mirrored = np.mean([not np.array_equal(f, s) for f, s in zip(flips[0], x)])
    assert 0.35 < mirrored < 0.65 and np.array_equal(
        np.sort(flips[0].ravel()), np.sort(x.ravel()))


def _symmetries(a):
    rotations = [np.rot90(a, k) for k in range(4)]
    return rotations + [np.fliplr(r) for r in rotations]


def test_load_pairs_returns_arrays_and_labels():
    x = (np.arange(6 * 8 * 8) % 256).astype("uint8").reshape(6, 8, 8)
    inputs, targets, labels = paired.load_pairs((x, np.arange(6)), "edges", limit=4)
    assert inputs.shape == targets.shape == (4, 8, 8, 1) and list(labels) == [0, 1, 2, 3]
    np.testing.assert_allclose(targets[..., 0], x[:4] / 255.0, atol=1e-7)


def test_bad_input_raises_clear_errors_before_building():
    x10 = np.zeros((4, 10, 10, 1), "float32")
    with pytest.raises(DataError, match="divisible by scale=4.*received images of shape "
                                        r"\(10, 10, 1\)"):
        paired.paired_dataset(x10, pairs="resolution", scale=4)
    with pytest.raises(DataError, match=r"scale to be one of \[2, 4\].*received 3"):
        paired.paired_dataset("digits", pairs="resolution", scale=3)
    with pytest.raises(DataError, match="3-channel.*colorize.*1 channel"):
        paired.paired_dataset("digits", pairs="colorize")
    with pytest.raises(DataError, match=r"augment among \[None, 'flip', 'dihedral'\], "
                                        "received 'rotate'"):
        paired.paired_dataset("digits", pairs="resolution", augment="rotate")
    with pytest.raises(DataError, match="square images.*received 8x4"):
        paired.paired_dataset(np.zeros((4, 8, 4, 1), "float32"), pairs="resolution",
                              augment="dihedral")
    with pytest.raises(DataError, match="pairs to be one of"):
        paired.paired_dataset("digits", pairs="segmentation")
    with pytest.raises(DataError, match="edge_threshold"):
        paired.paired_dataset("digits", edge_threshold=float("nan"))
    with pytest.raises(DataError, match="values in \\[0, 1\\]"):
        paired.paired_dataset(np.full((4, 8, 8, 1), 2.0, "float32"))
    with pytest.raises(DataError, match="batch_size"):
        paired.paired_dataset("digits", batch_size=0)
