"""Scores of an embedding that need no decoder: class separation (Fisher
ratio), held-out k-NN accuracy and trustworthiness.

All functions take NumPy arrays (or anything `np.asarray` accepts); inputs
with more than two axes (images) are flattened to `(n, features)`.
"""

import numpy as np


def _flat(x):
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1)


def fisher_ratio(z, labels):
    """Trace ratio tr(S_B) / tr(S_W) of an embedding.

    S_B = Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ is the between-class scatter and
    S_W = Σ_c Σ_{i∈c} (z_i − μ_c)(z_i − μ_c)ᵀ the within-class scatter; their
    traces are sums of squared distances, so the ratio is "spread of the
    class means over spread inside the classes". Invariant to rotations,
    translations and a global scale of `z`; not to per-axis scaling.

    Args:
        z: array `(n, d)` (or `(n, ...)`, flattened). The embedding.
        labels: int array `(n,)`. Class of each point; at least two classes.

    Returns:
        float, ≥ 0 (0 when all class means coincide).

    Example:
    >>> fisher_ratio([[0.0], [1.0], [10.0], [11.0]], [0, 0, 1, 1])
    100.0
    """
    z, labels = _flat(z), np.asarray(labels)
    if len(z) != len(labels):
        raise ValueError(f"expected as many labels as points, received {len(labels)} "
                         f"labels for {len(z)} points")
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(f"expected at least 2 classes, received {len(classes)}")
    mean = z.mean(0)
    between = within = 0.0
    for c in classes:
        zc = z[labels == c]
        mean_c = zc.mean(0)
        between += len(zc) * float(np.sum((mean_c - mean) ** 2))
        within += float(np.sum((zc - mean_c) ** 2))
    if within == 0.0:
        return float("inf") if between > 0 else 0.0
    return between / within


def knn_accuracy(z_train, y_train, z_test, y_test, k=5):
    """Accuracy of a k-nearest-neighbour classifier (Euclidean, uniform
    votes) fitted on the training embedding and scored on the held-out one."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k).fit(_flat(z_train), np.asarray(y_train))
    return float(clf.score(_flat(z_test), np.asarray(y_test)))


def trustworthiness(x, z, n_neighbors=5):
    """`sklearn.manifold.trustworthiness` of embedding `z` of inputs `x`
    (Euclidean in both spaces; images flattened). 1 means every embedding
    neighbour among the `n_neighbors` nearest is also a near input-space
    neighbour. Memory O(n²): pass a few thousand points at most."""
    from sklearn.manifold import trustworthiness as _trustworthiness

    return float(_trustworthiness(_flat(x), _flat(z), n_neighbors=n_neighbors))
