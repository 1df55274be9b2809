"""Pieces shared by the CLI training tasks."""

import os
import pathlib
import tempfile

import numpy as np


def split_for_training(args):
    """Load `args.dataset` as (x_train, y_train, x_test, y_test).

    Named datasets use their own train/test splits; a local file (which has
    no splits) uses `--test-dataset` when given, else a seeded 90/10 split.
    """
    from keras_genmodels.data import load_images

    x_tr, y_tr = load_images(args.dataset, "train", data_dir=args.data_dir)
    if args.test_dataset:
        x_te, y_te = load_images(args.test_dataset, "test", data_dir=args.data_dir)
    elif _is_path(args.dataset):
        order = np.random.RandomState(args.seed).permutation(len(x_tr))
        cut = max(1, len(x_tr) // 10)
        x_te, x_tr = x_tr[order[:cut]], x_tr[order[cut:]]
        if y_tr is not None:
            y_te, y_tr = y_tr[order[:cut]], y_tr[order[cut:]]
        else:
            y_te = None
    else:
        x_te, y_te = load_images(args.dataset, "test", data_dir=args.data_dir)
    return x_tr, y_tr, x_te, y_te


def _is_path(source):
    return os.sep in str(source) or pathlib.Path(str(source)).suffix != ""


def save_keras_atomically(model, path):
    """`model.save(path)` through a temporary file and a rename."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
