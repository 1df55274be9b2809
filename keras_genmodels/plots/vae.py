"""Pictures of a trained VAE: samples, reconstructions, latent map, manifold.

Each function writes one PNG and returns its path. Models need the `VAE`
API: `sample`, `reconstruct`, `encode`, `decode`, `interpolate`,
`latent_dim`, `num_classes`.
"""

import statistics

import numpy as np
from keras import ops

from keras_genmodels.plots.grid import save_figure
from keras_genmodels.plots.grid import save_image_grid


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _rows(images, ncol):
    """Splits `(n, H, W, C)` into rows of `ncol` images (last row padded blank)."""
    images = np.asarray(images, "float32")
    pad = (-len(images)) % ncol
    if pad:
        images = np.concatenate([images, np.ones((pad,) + images.shape[1:], "float32")])
    return list(images.reshape((-1, ncol) + images.shape[1:]))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_samples(model, path, n=64, labels=None, nrow=8, seed=0):
    """Grid of `n` samples x ~ p(x|z[,c]), z ~ N(0, I) (pixel means).

    For a conditional model without `labels`, row r uses label
    `r mod num_classes` (so each row shows one class).
    """
    if model.num_classes is not None and labels is None:
        labels = (np.arange(n) // nrow) % model.num_classes
    images = _np(model.sample(n, labels=labels, seed=seed))
    titles = None
    if labels is not None:
        first = np.broadcast_to(np.asarray(labels), (n,))[::nrow]
        titles = [f"label {int(c)}" for c in first]
    return save_image_grid(_rows(images, nrow), path, row_titles=titles,
                           title="samples, z ~ N(0, I)")


def save_reconstructions(model, x, path, labels=None, n=8):
    """Pairs of rows: `n` inputs above their deterministic reconstructions."""
    x = np.asarray(x, "float32")[:n]
    if labels is not None:
        labels = np.asarray(labels)[: len(x)]
    recon = _np(model.reconstruct(x, labels))
    return save_image_grid([x, recon], path, row_titles=["input", "reconstruction"])


def save_interpolation(model, x1, x2, path, steps=10, method="linear", labels=None):
    """One row per pair (x1[i], x2[i]): decoded points between their means."""
    path_images = _np(model.interpolate(x1, x2, steps=steps, method=method, labels=labels))
    if path_images.ndim == len(model.image_shape) + 1:
        path_images = path_images[None]
    return save_image_grid(list(path_images), path, title=f"{method} interpolation")


def save_latent_map(model, x, y, path, labels=None, batch_size=512, title=None):
    """Scatter of the posterior means of `x`, coloured by class `y`.

    For `latent_dim > 2` the means are projected on their first two
    principal components (the axis labels say so). For a conditional model
    pass the encoder's labels as `labels` (usually `y` itself).
    """
    x = np.asarray(x, "float32")
    means = []
    for start in range(0, len(x), batch_size):
        lab = None if labels is None else np.asarray(labels)[start : start + batch_size]
        means.append(_np(model.encode(x[start : start + batch_size], lab)[0]))
    z = np.concatenate(means)
    axes_names = ("z[0]", "z[1]")
    if z.shape[1] == 1:
        z = np.concatenate([z, np.zeros_like(z)], axis=1)
    elif z.shape[1] > 2:
        centred = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        z = centred @ vt[:2].T
        axes_names = ("PC 1 of posterior means", "PC 2")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(z[:, 0], z[:, 1], c=np.asarray(y), cmap="tab10", s=4)
    fig.colorbar(points, ax=ax, label="label")
    ax.set_xlabel(axes_names[0])
    ax.set_ylabel(axes_names[1])
    ax.set_title(title or "posterior means of the test set")
    return save_figure(fig, path, dpi=120)


def manifold_grid(n=15, low=0.05, high=0.95):
    """`(n·n, 2)` latent points at Gaussian quantiles low…high on both axes.

    Row r, column c is (Φ⁻¹(q_c), Φ⁻¹(q_{n−1−r})): z[1] grows upwards.
    """
    quantiles = np.linspace(low, high, int(n))
    values = np.array([statistics.NormalDist().inv_cdf(q) for q in quantiles])
    zx, zy = np.meshgrid(values, values[::-1])
    return np.stack([zx.ravel(), zy.ravel()], axis=1).astype("float32")


def save_manifold(model, path, n=15, label=None):
    """The decoder's manifold: decoded images over an n×n grid of the 2-d latent space.

    Requires `latent_dim == 2`; for a conditional model pass one `label`.
    """
    if model.latent_dim != 2:
        raise ValueError(
            f"expected a model with latent_dim 2, received latent_dim {model.latent_dim}"
        )
    z = manifold_grid(n)
    labels = None
    if model.num_classes is not None:
        if label is None:
            raise ValueError("expected a label for a conditional model, received None")
        labels = np.full((len(z),), int(label), "int32")
    images = _np(model.decode(z, labels))
    return save_image_grid(_rows(images, n), path, title="decoder manifold over Gaussian quantiles",
                           cell_inches=0.5)
