"""Image grids saved as PNG (matplotlib), written atomically."""

import pathlib

import numpy as np

from keras_genmodels.files import atomic_write


def save_figure(fig, path, dpi=100):
    """Save a matplotlib figure to `path` via a temporary file + rename (mode 0644)."""
    import matplotlib.pyplot as plt

    path = pathlib.Path(path)
    try:
        with atomic_write(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix[1:] or "png")
    finally:
        plt.close(fig)
    return path


def displayable(image):
    """One image `(H, W)` or `(H, W, C)` in [0, 1] as something `imshow` draws.

    Returns `(array, cmap)`: 1 channel -> `(H, W)` gray; 2 channels (gray +
    alpha) -> RGBA; 3 -> RGB; 4 -> RGBA; more -> the first channel in gray.
    """
    image = np.clip(np.asarray(image, dtype="float32"), 0.0, 1.0)
    if image.ndim == 2:
        return image, "gray"
    channels = image.shape[-1]
    if channels == 1 or channels > 4:
        return image[..., 0], "gray"
    if channels == 2:
        return np.concatenate([np.repeat(image[..., :1], 3, -1), image[..., 1:]], -1), None
    return image, None


def save_image_grid(rows, path, row_titles=None, title=None, cell_inches=0.8):
    """Save images as a grid: one row per array in `rows`.

    Args:
        rows: list of arrays `(n, H, W)` or `(n, H, W, C)` with values in
            [0, 1] (clipped); all rows have the same `n`. A single array
            `(n, H, W[, C])` is laid out as a square-ish grid instead.
        path: PNG path.
        row_titles: optional list of str, one per row (e.g. "original").
        title: optional figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(rows, (list, tuple)):
        images = np.asarray(rows)
        ncol = int(np.ceil(np.sqrt(len(images))))
        pad = ncol * int(np.ceil(len(images) / ncol)) - len(images)
        if pad:
            images = np.concatenate([images, np.zeros((pad,) + images.shape[1:], images.dtype)])
        rows = list(images.reshape((-1, ncol) + images.shape[1:]))
    rows = [np.clip(np.asarray(r, dtype="float32"), 0.0, 1.0) for r in rows]
    nrow, ncol = len(rows), len(rows[0])
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * cell_inches, nrow * cell_inches),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            ax = axes[i][j]
            image, cmap = displayable(image)
            ax.imshow(image, cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        if row_titles:
            axes[i][0].set_ylabel(row_titles[i], rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
