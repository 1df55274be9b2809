"""Image grids saved as PNG (matplotlib), written atomically."""

import os
import pathlib
import tempfile

import numpy as np


def save_figure(fig, path, dpi=100):
    """Save a matplotlib figure to `path` via a temporary file + rename."""
    import matplotlib.pyplot as plt

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


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
            if image.ndim == 3 and image.shape[-1] == 1:
                image = image[..., 0]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        if row_titles:
            axes[i][0].set_ylabel(row_titles[i], rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
