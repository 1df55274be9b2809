"""Sample-quality metrics on feature arrays: known answers, and torchmetrics as a peer.

The metric functions are NumPy/SciPy/scikit-learn code, so their results do not depend on
the Keras backend; the file still runs under each backend (the package imports Keras).
"""

import numpy as np
import pytest
import scipy.linalg

from keras_genmodels.metrics.sample_quality import (METRICS, density_coverage,
                                                    frechet_distance,
                                                    frechet_distance_from_statistics,
                                                    kernel_distance, mmd2_unbiased,
                                                    precision_recall, quality_scores)


def _random_covariance(rng, d):
    a = rng.normal(size=(d, d)) / np.sqrt(d)
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(3000, 64)) ** 2  # skewed, correlated-free
    assert abs(frechet_distance(x, x)) < 1e-6
    # a rank-deficient set (10 points in 64-d) takes the eps-regularised path and stays ~0
    few = np.random.default_rng(1).normal(size=(10, 64))
    assert abs(frechet_distance(few, few)) < 1e-3


def test_frechet_distance_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(0)
    d, n = 16, 50_000
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_covariance(rng, d), _random_covariance(rng, d)
    cross = scipy.linalg.sqrtm(s1 @ s2).real
    exact = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * cross))
    assert exact == pytest.approx(frechet_distance_from_statistics(mu1, s1, mu2, s2), rel=1e-9)
    x = rng.multivariate_normal(mu1, s1, size=n)
    y = rng.multivariate_normal(mu2, s2, size=n)
    assert frechet_distance(x, y) == pytest.approx(exact, rel=0.01)


def test_kid_of_one_distribution_is_within_two_std_of_zero():
    rng = np.random.default_rng(0)
    x, y = rng.gamma(2.0, size=(2000, 16)), rng.gamma(2.0, size=(2000, 16))
    mean, std = kernel_distance(x, y, num_subsets=50, subset_size=500, seed=0)
    assert std > 0
    assert abs(mean) <= 2 * std
    # and clearly positive for a shifted distribution
    mean_shift, std_shift = kernel_distance(x, y + 0.5, num_subsets=50, subset_size=500)
    assert mean_shift > 10 * std_shift


def test_mmd2_is_the_unbiased_estimate():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    k = lambda a, b: (a @ b.T / 3 + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    expected = ((kxx.sum() - np.trace(kxx)) / 42 + (kyy.sum() - np.trace(kyy)) / 20
                - 2 * kxy.mean())
    assert mmd2_unbiased(x, y) == pytest.approx(expected, rel=1e-12)


def test_precision_recall_of_an_independent_sample_are_high():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2))
    precision, recall = precision_recall(real, fake, k=3)
    assert precision >= 0.95 and recall >= 0.95
    density, coverage = density_coverage(real, fake, k=5)
    assert 0.9 < density < 1.1 and coverage >= 0.95


def test_recall_is_half_when_fake_covers_half_of_the_modes():
    rng = np.random.default_rng(0)
    modes = 10 * rng.normal(size=(10, 2))  # well separated
    real = modes[rng.integers(0, 10, 5000)] + rng.normal(size=(5000, 2))
    fake = modes[rng.integers(0, 5, 5000)] + rng.normal(size=(5000, 2))
    precision, recall = precision_recall(real, fake, k=3)
    assert abs(recall - 0.5) <= 0.1
    assert precision >= 0.95  # everything generated is realistic
    density, coverage = density_coverage(real, fake, k=5)
    assert abs(coverage - 0.5) <= 0.1


def test_quality_scores_returns_every_metric_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    scores = quality_scores(rng.normal(size=(300, 4)), rng.normal(size=(200, 4)),
                            kid_subsets=5, kid_subset_size=100)
    assert tuple(scores) == METRICS
    assert all(isinstance(v, float) for v in scores.values())
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        frechet_distance(np.zeros((10, 3, 1)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="finite"):
        frechet_distance(np.full((10, 3), np.nan), np.zeros((10, 3)))


def test_frechet_distance_equals_torchmetrics():
    """The peer: torchmetrics' FrechetInceptionDistance with a custom feature module (the
    identity on feature vectors), which accumulates the moments and computes the distance
    through eigenvalues instead of scipy's sqrtm; and its KID kernel estimate on one subset."""
    torch = pytest.importorskip("torch")
    fid_module = pytest.importorskip("torchmetrics.image.fid")
    kid_module = pytest.importorskip("torchmetrics.image.kid")

    class Identity(torch.nn.Module):
        num_features = 64

        def forward(self, x):
            return x

    rng = np.random.default_rng(0)
    mix = rng.normal(size=(64, 64)) / 8
    real = np.maximum(rng.normal(size=(4000, 64)) @ mix, 0)  # ReLU-like, correlated
    fake = np.maximum(rng.normal(0.2, 1.1, size=(3000, 64)) @ mix, 0)
    metric = fid_module.FrechetInceptionDistance(feature=Identity())
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    theirs = float(metric.compute())
    ours = frechet_distance(real, fake)
    assert ours == pytest.approx(theirs, rel=1e-3)
    assert abs(frechet_distance(real, real[::-1])) < 1e-6

    their_mmd = float(kid_module.poly_mmd(torch.from_numpy(real[:500]),
                                          torch.from_numpy(fake[:500])))
    assert mmd2_unbiased(real[:500], fake[:500]) == pytest.approx(their_mmd, rel=1e-6)
