"""Mode counting on Stacked MNIST (the VEEGAN / PacGAN protocol).

Each channel c of a generated image x_i `(H, W, 3)` is classified by an MNIST classifier
(the package's feature network, `feature_extractor(".../mnist_train.npz")`, 99.47 % test
accuracy): d_ic = argmax_k p(k | x_i[..., c]). The image's mode is the triple
(d_i0, d_i1, d_i2), index m_i = 100 d_i0 + 10 d_i1 + d_i2 (K^2 a + K b + c for K classes,
K^3 = 1,000 modes). With q the empirical histogram of the m_i over the N samples
(N = 26,000 in the papers),

    modes        = #{m : q_m > 0}                                    (0 .. 1,000)
    KL(q || u)   = sum_m q_m log(q_m / (1/K^3)) = log K^3 - H(q)     (nats, 0 log 0 = 0)

the KL divergence of the generated mode distribution from the uniform one of the data,
as in the PacGAN code (Lin et al. 2018, Table 2): 0 for a perfectly even histogram,
log 1000 = 6.91 when every sample falls in one mode. Even an exact sampler of the data has
E[KL] ~ (K^3 - 1) / (2 N) = 0.019 at N = 26,000 (the finite-sample bias of the plug-in
estimate) and misses on average K^3 exp(-N / K^3) ~ 0 modes.

Computed in NumPy (a post-hoc evaluation, not part of a training graph).
"""

import numpy as np


def mode_indices(digits, num_classes=10):
    """Mode index `K^2 a + K b + c` (int64 `(n,)`) of per-channel classes `(n, 3)`."""
    digits = np.asarray(digits)
    if digits.ndim != 2 or digits.shape[1] != 3:
        raise ValueError(f"expected per-channel classes of shape (n, 3), received "
                         f"{digits.shape}")
    if digits.size and (digits.min() < 0 or digits.max() >= num_classes):
        raise ValueError(f"expected classes in [0, {num_classes}), received min "
                         f"{digits.min()}, max {digits.max()}")
    digits = digits.astype(np.int64)
    return (digits[:, 0] * num_classes + digits[:, 1]) * num_classes + digits[:, 2]


def mode_statistics(counts):
    """Modes covered and KL(q || uniform) of a mode histogram.

    Args:
        counts: array `(M,)` of non-negative counts (M = 1,000 for Stacked MNIST).

    Returns:
        dict: `modes` (int, bins with a count > 0), `kl` (float, nats, the formula of the
        module docstring), `num_samples` (int, the total count), `num_modes` (M).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"expected a 1-d histogram of counts, received shape {counts.shape}")
    if not np.isfinite(counts).all() or counts.min() < 0:
        raise ValueError("expected finite non-negative counts, received negative or "
                         "non-finite values")
    total = counts.sum()
    if total <= 0:
        raise ValueError("expected at least one counted sample, received an all-zero "
                         "histogram")
    q = counts / total
    nz = q > 0
    kl = float(np.sum(q[nz] * np.log(q[nz] * counts.size)))
    return {"modes": int(nz.sum()), "kl": max(kl, 0.0), "num_samples": int(round(total)),
            "num_modes": int(counts.size)}


def classify_channels(images, classify, batch_size=3000):
    """Per-channel classes `(n, 3)` int64 of images `(n, H, W, 3)`.

    Args:
        images: float array `(n, H, W, 3)` in [0, 1].
        classify: callable mapping single-channel images `(m, H, W, 1)` to class
            probabilities `(m, K)` (e.g. `FeatureExtractor.predict_proba`).
        batch_size: int. Images per call (each holds 3 digits).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected Stacked MNIST images of shape (n, H, W, 3), received "
                         f"{images.shape}")
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        n, h, w, _ = chunk.shape
        singles = np.moveaxis(chunk, -1, 1).reshape(n * 3, h, w, 1)   # image-major, channel 0..2
        probs = np.asarray(classify(singles))
        out.append(probs.argmax(axis=-1).reshape(n, 3))
    return np.concatenate(out).astype(np.int64)


def stacked_modes(images, classify, num_classes=10, batch_size=3000):
    """Modes and KL(q || uniform) of generated Stacked MNIST images.

    Args:
        images: float array `(n, H, W, 3)` in [0, 1] (n = 26,000 in the protocol).
        classify: callable `(m, H, W, 1) -> (m, num_classes)` probabilities, e.g. the
            `predict_proba` of `feature_extractor(".../mnist_train.npz")`.
        num_classes: int. Digit classes K (10); there are K^3 modes.
        batch_size: int. Stacked images per classifier call.

    Returns:
        dict of `mode_statistics` plus `histogram` (int64 `(K^3,)`).

    Example:

    >>> fx = feature_extractor("../shared/data/mnist_train.npz")
    >>> stacked_modes(gan.sample(26000), fx.predict_proba)["modes"]
    """
    digits = classify_channels(images, classify, batch_size)
    counts = np.bincount(mode_indices(digits, num_classes), minlength=num_classes ** 3)
    return {**mode_statistics(counts), "histogram": counts}
