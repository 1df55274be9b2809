"""Mode coverage (modes covered, high-quality share, reverse KL) on
constructed sample sets with known answers, and its per-epoch callback."""

import math

import numpy as np
import pytest

from keras_genmodels.data import toy_distribution
from keras_genmodels.metrics.mode_coverage import ModeCoverageCallback, mode_coverage
from keras_genmodels.models.gan import GAN

RING = toy_distribution("ring8")


def test_data_itself_covers_every_mode_with_high_quality():
    m = mode_coverage(RING.sample(2500, seed=0), RING)
    assert m["modes_covered"] == 8 and m["num_modes"] == 8
    # P(chi2_2 <= 9) = 1 - exp(-4.5) = 0.9889
    assert m["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.006)
    assert 0 <= m["reverse_kl"] < 0.01


def test_collapsed_and_partial_generators():
    collapsed = np.repeat(RING.means[:1], 100, axis=0)
    m = mode_coverage(collapsed, RING)
    assert m["modes_covered"] == 1 and m["high_quality"] == 1.0
    assert m["reverse_kl"] == pytest.approx(math.log(8), rel=1e-9)
    # two modes equally, plus as many samples at the origin (far from all)
    two = np.concatenate([np.repeat(RING.means[:2], 50, axis=0), np.zeros((100, 2))])
    m = mode_coverage(two, RING.means, std=RING.std)
    assert m["modes_covered"] == 2 and m["high_quality"] == 0.5
    assert m["reverse_kl"] == pytest.approx(math.log(4), rel=1e-9)
    # a sample just outside 3 std is not high quality
    edge = RING.means[:1] + np.array([[3.01 * RING.std, 0.0]])
    assert mode_coverage(edge, RING)["modes_covered"] == 0
    assert math.isnan(mode_coverage(edge, RING)["reverse_kl"])


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"expected samples of shape \(N, 2\)"):
        mode_coverage(np.zeros((5, 3)), RING)
    with pytest.raises(TypeError, match="std="):
        mode_coverage(np.zeros((5, 2)), RING.means)


def test_callback_logs_coverage_each_epoch():
    gan = GAN(data_shape=(2,), latent_dim=2, generator_units=(8,),
              discriminator_units=(8,), seed=0)
    gan.compile()
    callback = ModeCoverageCallback(RING, num_samples=500)
    history = gan.fit(RING.sample(128, seed=1), batch_size=64, epochs=2, verbose=0,
                      callbacks=[callback])
    assert len(history.history["modes_covered"]) == 2
    assert [h["epoch"] for h in callback.history] == [0, 1]
    for h in callback.history:
        assert 0 <= h["modes_covered"] <= 8 and 0.0 <= h["high_quality"] <= 1.0
    assert history.history["high_quality"][-1] == callback.history[-1]["high_quality"]
