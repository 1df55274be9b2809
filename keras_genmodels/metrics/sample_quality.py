"""Sample-quality metrics on feature arrays: Fréchet distance, KID, precision/recall,
density/coverage.

Every function takes `real` and `fake` feature arrays `(n, d)` (any float
type; computed in float64 with NumPy, SciPy and scikit-learn) -- typically the
penultimate-layer features of an in-domain classifier
(`keras_genmodels.metrics.feature_networks`), not Inception-v3: values are
comparable between models scored with the same feature network only.

**Fréchet distance** (FID; Heusel et al. 2017, eq. 6). With the sample means μ
and covariances Σ (unbiased, n − 1) of the two sets,

    FD = ‖μ_r − μ_f‖² + Tr(Σ_r + Σ_f − 2 (Σ_r Σ_f)^{1/2}),

the squared 2-Wasserstein distance between Gaussians with those moments.
(Σ_r Σ_f)^{1/2} is `scipy.linalg.sqrtm`; as in the reference implementation
(pytorch-fid), a product that is singular to working precision (SciPy warns,
or the root is not finite; common with ReLU features that are constant) gets
ε I (ε = 1e-6) added to both covariances, and an imaginary part that is
numerical noise is dropped.

**Kernel distance** (KID; Bińkowski et al. 2018, §3 and App. D). The unbiased
estimate of the squared maximum mean discrepancy with the cubic polynomial
kernel k(x, y) = (xᵀy / d + 1)³ on subsets of m real and m fake points,

    MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m−1)) + Σ_{i≠j} k(y_i, y_j) / (m(m−1))
             − 2 Σ_{i,j} k(x_i, y_j) / m²,

averaged over `num_subsets` random subsets (each drawn without replacement;
m = 1000, at most half the smaller set);
the result is that mean and the standard deviation over subsets. Its
expectation is 0 when both sets come from one distribution (it can be
negative).

**Improved precision and recall** (Kynkäänniemi et al. 2019, eqs. 1-3). The
manifold of a set is the union of balls around its points with radius the
distance to the point's k-th nearest neighbour in the set (k = 3).
Precision is the share of fake points inside the real manifold (fidelity);
recall the share of real points inside the fake manifold (diversity).

**Density and coverage** (Naeem et al. 2020, eqs. 3-4; k = 5). Density
= (1 / (k M)) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))] -- how many real balls
contain a fake point, on average, divided by k (about 1 for matching
distributions; it is not bounded by 1); coverage = (1/N) Σ_i 1[∃ j: Y_j ∈
B(X_i, NND_k(X_i))] -- the share of real balls containing at least one fake
point. Both use balls around the real points only, so they resist outliers
among the real data.

A point on a ball's boundary counts as inside (≤). Nearest neighbours come
from `sklearn.neighbors.NearestNeighbors` (a point is not its own neighbour);
ball membership from `sklearn.metrics.pairwise_distances_chunked`, so memory
stays bounded for 50,000 × 50,000 comparisons.

References:
    Heusel, Ramsauer, Unterthiner, Nessler & Hochreiter, "GANs Trained by a Two
    Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS 2017.
    Bińkowski, Sutherland, Arbel & Gretton, "Demystifying MMD GANs", ICLR 2018.
    Kynkäänniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and Recall
    Metric for Assessing Generative Models", NeurIPS 2019.
    Naeem, Oh, Uh, Choi & Yoo, "Reliable Fidelity and Diversity Metrics for
    Generative Models", ICML 2020.
"""

import warnings

import numpy as np
import scipy.linalg
from sklearn.metrics import pairwise_distances_chunked
from sklearn.metrics.pairwise import polynomial_kernel
from sklearn.neighbors import NearestNeighbors

#: Names of the scalars `quality_scores` returns, in scorecard order.
METRICS = ("fid", "kid", "kid_std", "precision", "recall", "density", "coverage")


def _features(a, name, min_rows=2):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected {name} features of shape (n, d), received shape {a.shape}")
    if a.shape[0] < min_rows:
        raise ValueError(f"expected at least {min_rows} {name} feature rows, received "
                         f"{a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"expected finite {name} features, received NaN or inf")
    return a


def _pair(real, fake, min_rows=2):
    real, fake = _features(real, "real", min_rows), _features(fake, "fake", min_rows)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"expected real and fake features of the same dimension, received "
                         f"{real.shape[1]} and {fake.shape[1]}")
    return real, fake


def gaussian_statistics(features):
    """`(mean (d,), covariance (d, d))` in float64; the covariance is unbiased (n − 1)."""
    x = _features(features, "the")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}) (see the module docstring).

    Args:
        mu1, mu2: arrays `(d,)`.
        sigma1, sigma2: arrays `(d, d)`.
        eps: float. Added to both diagonals when Σ1 Σ2 is singular to working precision.

    Returns:
        float (≥ 0 up to rounding).
    """
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or \
            sigma1.shape != (mu1.shape[0],) * 2:
        raise ValueError(f"expected means (d,) and covariances (d, d) of one d, received "
                         f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    singular = any(issubclass(w.category, scipy.linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        imaginary = np.abs(covmean.imag).max()
        if imaginary > 1e-3 * max(1.0, np.abs(covmean.real).max()):
            raise ValueError(f"matrix square root has a large imaginary part ({imaginary:.3g});"
                             f" the covariances are not positive semi-definite")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(real, fake):
    """Fréchet distance (FID with the features given) between two feature sets `(n, d)`.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1000, 8))
    >>> abs(frechet_distance(x, x)) < 1e-6
    True
    """
    real, fake = _pair(real, fake)
    return frechet_distance_from_statistics(*gaussian_statistics(real),
                                            *gaussian_statistics(fake))


def mmd2_unbiased(x, y, degree=3, gamma=None, coef0=1.0):
    """Unbiased MMD² of two samples `(m, d)`, `(n, d)` with the polynomial kernel
    (xᵀy · gamma + coef0)^degree, gamma = 1/d by default (`sklearn`'s
    `polynomial_kernel`)."""
    x, y = _pair(x, y)
    m, n = len(x), len(y)
    kxx = polynomial_kernel(x, degree=degree, gamma=gamma, coef0=coef0)
    kyy = polynomial_kernel(y, degree=degree, gamma=gamma, coef0=coef0)
    kxy = polynomial_kernel(x, y, degree=degree, gamma=gamma, coef0=coef0)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def kernel_distance(real, fake, num_subsets=100, subset_size=1000, seed=0):
    """KID: mean and standard deviation of the unbiased MMD² (cubic kernel) over subsets.

    Args:
        real, fake: arrays `(n, d)`.
        num_subsets: int. Random subsets. Defaults to `100`.
        subset_size: int. Points per set and subset; at most half the smaller
            set, so that subsets differ (MMD²_u is unbiased at any subset size,
            so this changes the spread, not the expectation). Defaults to `1000`.
        seed: int. Seed of the subset draws. Defaults to `0`.

    Returns:
        `(mean, std)` floats.
    """
    real, fake = _pair(real, fake)
    m = int(max(2, min(subset_size, min(len(real), len(fake)) // 2)))
    rng = np.random.default_rng(seed)
    values = np.array([
        mmd2_unbiased(real[rng.choice(len(real), m, replace=False)],
                      fake[rng.choice(len(fake), m, replace=False)])
        for _ in range(int(num_subsets))])
    return float(values.mean()), float(values.std())


def knn_radii(features, k):
    """Distance of each point to its k-th nearest neighbour among the others `(n,)`."""
    x = _features(features, "the", min_rows=k + 1)
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return distances[:, k]


def _ball_counts(points, centres, radii, working_memory=256):
    """For each point, how many balls B(centre_i, radius_i) contain it `(len(points),)`."""
    chunks = pairwise_distances_chunked(
        points, centres, working_memory=working_memory,
        reduce_func=lambda d, start: (d <= radii[None, :]).sum(axis=1))
    return np.concatenate(list(chunks))


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN radii.

    Returns:
        `(precision, recall)` floats in [0, 1].
    """
    real, fake = _pair(real, fake, min_rows=k + 1)
    precision = (_ball_counts(fake, real, knn_radii(real, k)) > 0).mean()
    recall = (_ball_counts(real, fake, knn_radii(fake, k)) > 0).mean()
    return float(precision), float(recall)


def density_coverage(real, fake, k=5):
    """Density and coverage (Naeem et al. 2020) with k-NN radii of the real points.

    Returns:
        `(density, coverage)` floats; density ≥ 0 (about 1 for matching
        distributions), coverage in [0, 1].
    """
    real, fake = _pair(real, fake, min_rows=k + 1)
    radii = knn_radii(real, k)
    density = _ball_counts(fake, real, radii).sum() / (k * len(fake))
    nearest_fake, _ = NearestNeighbors(n_neighbors=1).fit(fake).kneighbors(real)
    coverage = (nearest_fake[:, 0] <= radii).mean()
    return float(density), float(coverage)


def quality_scores(real, fake, kid_subsets=100, kid_subset_size=1000, pr_k=3, dc_k=5,
                   seed=0):
    """Every metric of this module on one pair of feature sets.

    Args:
        real, fake: arrays `(n, d)`.
        kid_subsets, kid_subset_size: see `kernel_distance`.
        pr_k: int. k of precision/recall. Defaults to `3`.
        dc_k: int. k of density/coverage. Defaults to `5`.
        seed: int. KID subset seed.

    Returns:
        dict with the keys of `METRICS`: `fid`, `kid`, `kid_std`, `precision`,
        `recall`, `density`, `coverage` (floats).
    """
    real, fake = _pair(real, fake, min_rows=max(pr_k, dc_k) + 1)
    kid, kid_std = kernel_distance(real, fake, kid_subsets, kid_subset_size, seed)
    precision, recall = precision_recall(real, fake, pr_k)
    density, coverage = density_coverage(real, fake, dc_k)
    return {"fid": frechet_distance(real, fake), "kid": kid, "kid_std": kid_std,
            "precision": precision, "recall": recall, "density": density,
            "coverage": coverage}
