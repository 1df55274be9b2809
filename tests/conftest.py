"""Shared fixtures. Every test file runs under the backend named by
KERAS_BACKEND (scripts/run_tests.py runs the suite once per backend)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


if keras.backend.backend() == "torch":
    # Two cores: torch's intra-op threads fight the other processes for them;
    # one thread costs ~4% when idle and saves up to 10x under contention.
    import torch

    torch.set_num_threads(1)


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}"


@pytest.fixture(scope="session")
def digits_split():
    """(x_train, y_train, x_test, y_test): digits, 80/20 split, random_state=0,
    float32 (N, 8, 8, 1) in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype("float32").reshape(-1, 8, 8, 1)
    x_tr, x_te, y_tr, y_te = train_test_split(x, d.target.astype("int32"),
                                              test_size=0.2, random_state=0)
    return x_tr, y_tr, x_te, y_te


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)
