"""Pictures of GAN training (matplotlib, Agg backend; every function writes a PNG).

- `plot_sample_grid(images, path)` and `SampleGridCallback` (a grid per epoch).
- `plot_loss_curves(history, path)`: d_loss / g_loss (and any other logs).
- `plot_latent_interpolation(model, path)`: G along straight lines in z.
- `plot_gan_1d(ax, ...)` / `plot_gan_1d_snapshots(snapshots, path)`: the three
  curves of Goodfellow et al. (2014), Fig. 1 -- data density, generator
  density, discriminator D(x).
- `plot_samples_over_data(samples, data, path)`: 2-D samples over the data.
"""

import math
import pathlib

import numpy as np

import keras


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    from keras_genmodels.plots.grid import save_figure

    return save_figure(fig, pathlib.Path(path))


def _tile(images, ncols):
    """`(N, H, W, C)` in [0, 1] -> one `(rows*H, ncols*W, C)` mosaic."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    n, h, w, c = images.shape
    rows = math.ceil(n / ncols)
    canvas = np.ones((rows * h, ncols * w, c), np.float32)
    for i, img in enumerate(images):
        r, col = divmod(i, ncols)
        canvas[r * h:(r + 1) * h, col * w:(col + 1) * w] = img
    return canvas


def plot_sample_grid(images, path, ncols=None, title=None):
    """Write `images` `(N, H, W, C)` (values in [0, 1]) as one grid PNG.

    Args:
        images: array `(N, H, W, C)`, any C (see `plots.grid.displayable`).
        path: str or Path of the PNG.
        ncols: int or None. Columns (None: about sqrt(N)).
        title: str or None.

    Returns:
        pathlib.Path of the PNG.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected images (N, H, W, C), received shape {images.shape}.")
    ncols = ncols or math.ceil(math.sqrt(len(images)))
    mosaic = _tile(images, ncols)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(ncols * 0.6 + 0.4, math.ceil(len(images) / ncols) * 0.6 + 0.4))
    from keras_genmodels.plots.grid import displayable

    mosaic, cmap = displayable(mosaic)
    ax.imshow(mosaic, cmap=cmap or "gray", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return _save(fig, path)


class SampleGridCallback(keras.callbacks.Callback):
    """Write a grid of generated images after every epoch.

    The same latent vectors (and labels) are used every epoch, so the grids
    show the generator changing.

    Args:
        path_pattern: str. PNG path with an `{epoch}` field, e.g.
            `"out/samples_{epoch:03d}.png"` (epoch counted from 1).
        num_samples: int. Images per grid. Defaults to 64.
        seed: int. Seed of the fixed latent vectors. Defaults to 0.
        labels: int array `(num_samples,)` or None. Labels of a conditional
            GAN (None there: `i % num_classes`). Defaults to None.

    Example:
    ```python
    gan.fit(ds, epochs=10, callbacks=[SampleGridCallback("out/{epoch:02d}.png")])
    ```
    """

    def __init__(self, path_pattern, num_samples=64, seed=0, labels=None):
        super().__init__()
        self.path_pattern = str(path_pattern)
        self.num_samples = int(num_samples)
        self.seed = seed
        self.labels = labels
        self.paths = []

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        z = model.sample_prior(self.num_samples, seed=self.seed)
        labels = self.labels
        if labels is None and getattr(model, "num_classes", None):
            labels = np.arange(self.num_samples) % model.num_classes
        images = keras.ops.convert_to_numpy(model.generate(z, labels))
        path = self.path_pattern.format(epoch=epoch + 1)
        self.paths.append(plot_sample_grid(images, path, title=f"epoch {epoch + 1}"))


def plot_loss_curves(history, path, keys=None, title="GAN training"):
    """Plot per-epoch logs (a `History`, or its `.history` dict).

    Args:
        history: `keras.callbacks.History` or dict name -> list of floats.
        path: PNG path.
        keys: names to draw (None: `d_loss` and `g_loss`, and `d_real`,
            `d_fake` on a second axis when present).
        title: str.
    """
    logs = getattr(history, "history", history)
    keys = keys or [k for k in ("d_loss", "g_loss") if k in logs]
    if not keys:
        raise ValueError(f"no loss to plot; history has {sorted(logs)}.")
    probs = [k for k in ("d_real", "d_fake") if k in logs and keys == ["d_loss", "g_loss"]]
    plt = _pyplot()
    ncols = 2 if probs else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 3.5), squeeze=False)
    for k in keys:
        axes[0, 0].plot(np.arange(1, len(logs[k]) + 1), logs[k], label=k)
    axes[0, 0].set_xlabel("epoch")
    axes[0, 0].set_title(title)
    axes[0, 0].legend()
    if probs:
        for k in probs:
            axes[0, 1].plot(np.arange(1, len(logs[k]) + 1), logs[k], label=k)
        axes[0, 1].set_xlabel("epoch")
        axes[0, 1].set_title("discriminator outputs")
        axes[0, 1].legend()
    return _save(fig, path)


def plot_latent_interpolation(model, path, num_rows=6, num_steps=10, seed=0):
    """Rows of `G((1 - t) z_a + t z_b)`, t = 0..1 in `num_steps` steps.

    For a conditional GAN row i keeps the label `i % num_classes`.

    Args:
        model: a `GAN` on images.
        path: PNG path.
        num_rows: int. Pairs (z_a, z_b). Defaults to 6.
        num_steps: int. Images per row. Defaults to 10.
        seed: int. Seed of the end points. Defaults to 0.
    """
    ends = keras.ops.convert_to_numpy(model.sample_prior(2 * num_rows, seed=seed))
    za, zb = ends[:num_rows], ends[num_rows:]
    t = np.linspace(0.0, 1.0, num_steps, dtype=np.float32)[None, :, None]
    z = ((1 - t) * za[:, None] + t * zb[:, None]).reshape(-1, za.shape[-1])
    labels = None
    if getattr(model, "num_classes", None):
        labels = np.repeat(np.arange(num_rows) % model.num_classes, num_steps)
    images = keras.ops.convert_to_numpy(model.generate(z.astype(np.float32), labels))
    return plot_sample_grid(images, path, ncols=num_steps, title="latent interpolation")


def plot_gan_1d(ax, grid, data_density, generator_samples, discriminator, title=None,
                bins=60):
    """Goodfellow et al. (2014) Fig. 1 on one axis.

    Draws the data density p_data (black dots), the generator density p_g
    (green: histogram of `generator_samples`, normalised) and D(x) (blue
    dashes) over `grid`.

    Args:
        ax: matplotlib axis.
        grid: array `(G,)`.
        data_density: array `(G,)`, p_data on the grid.
        generator_samples: array `(N,)`.
        discriminator: array `(G,)`, D(x) on the grid.
        title: str or None.
        bins: int. Histogram bins over the grid's range.
    """
    ax.plot(grid, data_density, "k:", lw=2, label="p_data")
    hist, edges = np.histogram(np.asarray(generator_samples).ravel(), bins=bins,
                               range=(grid.min(), grid.max()), density=True)
    ax.plot(0.5 * (edges[1:] + edges[:-1]), hist, "g-", lw=1.5, label="p_g")
    ax.plot(grid, discriminator, "b--", lw=1.5, label="D(x)")
    ax.set_ylim(0, max(1.05, float(np.max(data_density)) * 1.1))
    if title:
        ax.set_title(title)


def plot_gan_1d_snapshots(snapshots, path):
    """One `plot_gan_1d` panel per snapshot.

    Args:
        snapshots: list of dicts with keys `grid`, `data_density`,
            `generator_samples`, `discriminator`, `title`.
        path: PNG path.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(snapshots), figsize=(3.6 * len(snapshots), 3),
                             squeeze=False)
    for ax, snap in zip(axes[0], snapshots):
        plot_gan_1d(ax, **snap)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def plot_samples_over_data(samples, data, path, title=None, means=None):
    """Scatter 2-D generated samples (red) over data samples (grey), with the
    mode centres as crosses when `means` is given."""
    samples, data = np.asarray(samples), np.asarray(data)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(data[:, 0], data[:, 1], s=2, c="0.6", label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:red", alpha=0.6,
               label="generated")
    if means is not None:
        means = np.asarray(means)
        ax.scatter(means[:, 0], means[:, 1], marker="x", c="k", s=20)
    lim = float(np.abs(data).max()) * 1.4
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)
