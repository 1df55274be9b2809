"""Embedding scores (keras_genmodels.metrics.embedding) and the dimensionality
reduction benchmark's LDA / optional-UMAP paths."""

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from keras_genmodels.metrics.embedding import fisher_ratio, knn_accuracy, trustworthiness

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts/benchmarks/dim_reduction.py"


def test_fisher_ratio_by_hand_and_invariances():
    z = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    # class means 0.5 and 10.5 around 5.5: between 2·25 + 2·25 = 100; within 4 · 0.25 = 1.
    assert fisher_ratio(z, y) == pytest.approx(100.0)
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    assert fisher_ratio(3.0 * z @ rotation + 7.0, y) == pytest.approx(100.0)
    # Shuffled labels: between-class scatter is small next to the within-class one.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    assert fisher_ratio(x, rng.integers(0, 4, 400)) < 0.05
    with pytest.raises(ValueError, match="at least 2 classes"):
        fisher_ratio(z, np.zeros(4, int))


def test_knn_accuracy_and_trustworthiness_on_clean_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    y = np.repeat(np.arange(3), 40)
    z = centres[y] + rng.normal(scale=0.5, size=(120, 2))
    assert knn_accuracy(z[::2], y[::2], z[1::2], y[1::2], k=5) == 1.0
    # An isometry keeps every neighbourhood; images (n, h, w, c) are flattened.
    assert trustworthiness(z.reshape(120, 1, 2, 1), z @ np.array([[0, 1], [-1, 0]])) == 1.0
    assert trustworthiness(z, rng.normal(size=(120, 2))) < 0.7


def test_lda_separates_classes_better_than_pca_on_digits(digits_split):
    """The lecture's claim: LDA maximises between- over within-class scatter,
    PCA only total variance, so on the training split the 2-D LDA projection
    has the higher Fisher (trace) ratio. (Its held-out 5-NN accuracy is about
    PCA's: 0.61 vs 0.62.)"""
    x_tr, y_tr, _, _ = digits_split
    x = x_tr.reshape(len(x_tr), -1)
    z_pca = PCA(2, random_state=0).fit_transform(x)
    z_lda = LinearDiscriminantAnalysis(n_components=2).fit(x, y_tr).transform(x)
    ratio_pca, ratio_lda = fisher_ratio(z_pca, y_tr), fisher_ratio(z_lda, y_tr)
    assert ratio_lda > 1.5 * ratio_pca, (ratio_lda, ratio_pca)  # measured 6.44 vs 2.90


@pytest.fixture
def benchmark(monkeypatch):
    """The benchmark script as a module, with `umap` made unimportable."""
    monkeypatch.setitem(sys.modules, "umap", None)
    spec = importlib.util.spec_from_file_location("dim_reduction_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_without_umap_and_says_how_to_install(benchmark, tmp_path, capsys):
    assert benchmark.import_umap() is None
    assert benchmark.allowed_sizes("LDA", [2, 8, 16], n_classes=10) == [2, 8]
    assert benchmark.allowed_sizes("t-SNE", [2, 8, 16], n_classes=10) == [2]
    assert benchmark.main(["--datasets", "digits", "--methods", "PCA,LDA,UMAP",
                           "--code-sizes", "2", "--embed-sizes", "2,16",
                           "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "UMAP skipped" in out and "pip install umap-learn" in out
    record = json.loads((tmp_path / "dim_reduction.json").read_text())
    assert "UMAP" in record["skipped"]
    digits = record["results"]["digits"]
    assert "UMAP" not in digits["knn_accuracy"]
    assert digits["knn_accuracy"]["LDA"]["16"] is None  # at most classes − 1 = 9
    assert digits["knn_accuracy"]["LDA"]["2"] == pytest.approx(0.62, abs=0.03)
    assert digits["knn_accuracy"]["PCA"]["16"] > 0.9
    assert list(digits["mse"]) == ["PCA"]  # LDA does not reconstruct
    assert (tmp_path / "dim_reduction_maps.png").stat().st_size > 0
