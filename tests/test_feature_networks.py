"""Feature networks (train once, cache, detect stale/corrupt entries), the scorecard
callback, and `genmodels evaluate`'s refusals. Tiny networks on a few hundred digits."""

import functools
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels.data import DataError, load_images
from keras_genmodels.metrics import feature_networks as fn
from keras_genmodels.metrics.scorecard import SampleQualityCallback, generate_samples, scorecard

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = dict(epochs=2, width=4, feature_units=16, max_train=300)


@pytest.fixture(scope="module")
def digits():
    x, y = load_images("digits", "train")
    xt, yt = load_images("digits", "test")
    return x, y, xt, yt


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("feature_cache")


@pytest.fixture(scope="module")
def tiny(digits, tiny_cache):
    return fn.feature_extractor("digits", cache_dir=tiny_cache, **TINY)


def test_trains_once_then_loads_from_the_cache(tiny, tiny_cache, digits, monkeypatch):
    entry = tiny.path
    assert entry.parent == tiny_cache and entry.name.startswith("digits-")
    meta = json.loads((entry / "meta.json").read_text())
    assert 0.0 <= meta["test_accuracy"] <= 1.0 and meta["test_size"] == 360
    assert meta["recipe"]["version"] == fn.RECIPE_VERSION
    assert meta["model_sha256"] == fn._file_hash(entry / "model.keras")

    def no_training(*args, **kwargs):
        raise AssertionError("a valid cache entry must not be retrained")

    monkeypatch.setattr(fn, "build_feature_network", no_training)
    again = fn.feature_extractor("digits", cache_dir=tiny_cache, **TINY)
    assert again.path == entry and again.test_accuracy == tiny.test_accuracy
    x = digits[2][:50]
    np.testing.assert_allclose(again.features(x), tiny.features(x), atol=1e-6)


def test_features_probabilities_and_classifier_score(tiny, digits):
    x, xt, yt = digits[0], digits[2][:100], digits[3][:100]
    feats, probs = tiny.features_and_probabilities(xt)
    assert feats.shape == (100, 16) and feats.dtype == np.float64
    assert probs.shape == (100, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # features are the penultimate layer of the classifier
    sub = keras.Model(tiny.model.inputs[0], tiny.model.get_layer("features").output)
    np.testing.assert_allclose(feats, keras.ops.convert_to_numpy(sub(xt)), atol=1e-5)
    np.testing.assert_allclose(tiny.features(xt[:, :, :, 0]), feats, atol=1e-6)  # (n, H, W)
    score = tiny.classifier_score(xt, yt)
    assert score["label_accuracy"] == pytest.approx((probs.argmax(1) == yt).mean())
    assert sum(score["class_histogram"]) == pytest.approx(1.0)
    assert 0.1 <= score["mean_max_softmax"] <= 1.0
    with pytest.raises(ValueError, match=r"expected images of shape \(n, 8, 8, 1\).*"
                                         r"received \(3, 28, 28, 1\)"):
        tiny.features(np.zeros((3, 28, 28, 1)))


def test_classifier_score_formulas():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    s = fn.classifier_score(p, labels=[0, 1, 1, 0], class_prior=[0.5, 0.5])
    assert s["class_histogram"] == [0.75, 0.25]
    assert s["class_tv"] == pytest.approx(0.25)
    assert s["mean_max_softmax"] == pytest.approx((0.9 + 0.8 + 0.6 + 0.7) / 4)
    assert s["label_accuracy"] == pytest.approx(0.75)


def test_stale_and_corrupt_entries_are_detected(tiny):
    entry = tiny.path
    meta = json.loads((entry / "meta.json").read_text())
    expected = {k: meta[k] for k in ("key", "recipe", "data_sha256")}
    model, loaded_meta = fn._load_entry(entry, expected)
    assert model is not None and loaded_meta["key"] == meta["key"]

    def broken(tmp, model_bytes=None, meta_text=None):
        copy = tmp / "entry"
        copy.mkdir()
        (copy / "model.keras").write_bytes(model_bytes if model_bytes is not None else
                                           (entry / "model.keras").read_bytes())
        (copy / "meta.json").write_text(meta_text if meta_text is not None else
                                        json.dumps(meta))
        return copy

    import tempfile

    cases = {
        "checksum": dict(model_bytes=b"not a keras archive"),
        "stale: recipe": dict(meta_text=json.dumps({**meta, "recipe": {"version": -1}})),
        "stale: data_sha256": dict(meta_text=json.dumps({**meta, "data_sha256": "0"})),
        "unreadable meta.json": dict(meta_text="{"),
        "does not load": dict(model_bytes=(entry / "model.keras").read_bytes()[:300]),
    }
    for reason, kw in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            copy = broken(pathlib.Path(tmp), **kw)
            if reason == "does not load":  # a truncated file whose checksum was recorded
                fixed = {**meta, "model_sha256": fn._file_hash(copy / "model.keras")}
                (copy / "meta.json").write_text(json.dumps(fixed))
            model, why = fn._load_entry(copy, expected)
            assert model is None and reason in why, (reason, why)
    assert fn._load_entry(entry / "missing", expected) == (None, None)


def test_a_corrupt_entry_is_rebuilt_and_other_data_gets_another_entry(tiny, digits, tmp_path):
    import shutil

    entry = tmp_path / tiny.path.name  # a copy of the valid entry, then corrupted
    shutil.copytree(tiny.path, entry)
    (entry / "model.keras").write_bytes(b"not a keras archive")
    with pytest.warns(UserWarning, match="checksum"):
        rebuilt = fn.feature_extractor("digits", cache_dir=tmp_path, **TINY)
    assert rebuilt.path == entry and (entry / "model.keras").read_bytes()[:2] == b"PK"
    assert fn._load_entry(entry, {"key": rebuilt.meta["key"]})[0] is not None
    assert rebuilt.features(digits[2][:50]).shape == (50, 16)
    other = fn._data_hash(digits[0][200:400], digits[1][200:400])
    assert other != rebuilt.meta["data_sha256"]  # other training data: another key


def test_unlabelled_or_mismatched_data_is_refused(digits, tmp_path):
    np.savez(tmp_path / "unlabelled.npz", x=(digits[0][:100] * 255).astype("uint8"))
    with pytest.raises(DataError, match="labelled training data"):
        fn.feature_extractor(tmp_path / "unlabelled.npz", cache_dir=tmp_path)
    with pytest.raises(DataError, match="test images of shape"):
        fn.feature_extractor((digits[0][:100], digits[1][:100]),
                             (np.zeros((10, 4, 4, 1), "float32"), np.zeros(10, "int32")),
                             cache_dir=tmp_path)


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_GENMODELS_CACHE", str(tmp_path))
    assert fn.default_cache_dir() == tmp_path / "feature_networks"
    monkeypatch.delenv("KERAS_GENMODELS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fn.default_cache_dir() == tmp_path / "xdg" / "keras_genmodels" / "feature_networks"


def test_a_cached_network_gives_the_same_features_on_another_backend(tiny, digits, tmp_path):
    x = digits[2][:20]
    np.save(tmp_path / "x.npy", x)
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    script = ("import sys, numpy as np, keras; from keras_genmodels.metrics.feature_networks "
              "import FeatureExtractor; import json, pathlib; p = pathlib.Path(sys.argv[1]); "
              "m = keras.models.load_model(p / 'model.keras', compile=False); "
              "fx = FeatureExtractor(m, json.loads((p / 'meta.json').read_text()), p); "
              "np.save(sys.argv[2], fx.features(np.load(sys.argv[3]))); "
              "print(keras.backend.backend())")
    env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", script, str(tiny.path),
                           str(tmp_path / "f.npy"), str(tmp_path / "x.npy")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == other
    np.testing.assert_allclose(np.load(tmp_path / "f.npy"), tiny.features(x), atol=1e-4)


# --- the callback ------------------------------------------------------------------------


def _vae(**kw):
    from keras_genmodels.models.vae import VAE

    model = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=[16], seed=0, **kw)
    model.compile(optimizer="adam")
    return model


class _Recorder(keras.callbacks.Callback):
    """Records the epoch logs a later callback (TensorBoard, ProgbarLogger) receives."""

    def __init__(self):
        super().__init__()
        self.logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs or {}))


def test_callback_logs_every_metric_to_history_and_later_callbacks(tiny, digits):
    x, _, xt, yt = digits
    quality = SampleQualityCallback(xt[:120], tiny, every=2, kid_subsets=5,
                                    kid_subset_size=50)
    recorder = _Recorder()
    history = _vae().fit(x[:256], epochs=4, batch_size=64, verbose=0,
                         callbacks=[quality, recorder])
    keys = ("fid", "kid", "kid_std", "precision", "recall", "density", "coverage",
            "mean_max_softmax", "class_tv")
    for key in keys:
        values = history.history[key]
        assert len(values) == 2 and np.all(np.isfinite(values)), key  # epochs 2 and 4
    assert [h["epoch"] for h in quality.history] == [1, 3]
    assert quality.history[-1]["num_fake"] == 120
    assert "label_accuracy" not in history.history
    assert "fid" not in recorder.logs[0] and set(keys) <= set(recorder.logs[1])


def test_callback_metrics_reach_tensorboard(tiny, digits, tmp_path):
    pytest.importorskip("tensorboard")
    import tensorflow as tf

    x, _, xt, _ = digits
    quality = SampleQualityCallback(xt[:60], tiny, kid_subsets=3, kid_subset_size=30)
    board = keras.callbacks.TensorBoard(str(tmp_path / "logs"))
    _vae().fit(x[:128], epochs=1, batch_size=64, verbose=0, callbacks=[quality, board])
    tags = set()
    for event_file in (tmp_path / "logs" / "train").glob("events.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(v.tag for v in event.summary.value)
    assert {"epoch_fid", "epoch_recall", "epoch_coverage"} <= tags


def test_callback_scores_a_conditional_model_by_label_accuracy(tiny, digits):
    x, y, xt, yt = digits
    quality = SampleQualityCallback(xt[:60], tiny, real_labels=yt[:60], kid_subsets=3,
                                    kid_subset_size=30)
    model = _vae(num_classes=10)
    history = model.fit((x[:128], y[:128]), epochs=1, batch_size=64, verbose=0,
                        callbacks=[quality])
    assert 0.0 <= history.history["label_accuracy"][0] <= 1.0
    samples, labels = generate_samples(model, 60, yt[:60], seed=3)
    np.testing.assert_array_equal(labels, yt[:60])
    again, _ = generate_samples(model, 60, yt[:60], seed=3)  # the same noise again
    assert samples.shape == (60, 8, 8, 1)
    np.testing.assert_allclose(again, samples, atol=1e-6)


def test_scorecard_of_real_against_real_is_near_the_floor(tiny, digits):
    x, y, xt, yt = digits
    card = scorecard(tiny, xt, x[:360], fake_labels=y[:360], kid_subsets=10,
                     kid_subset_size=200)
    noise = scorecard(tiny, xt, np.random.default_rng(0).random((360, 8, 8, 1)),
                      kid_subsets=10, kid_subset_size=200)
    assert card["fid"] < noise["fid"] / 5
    assert card["precision"] > noise["precision"] and card["recall"] > noise["recall"]


# --- genmodels evaluate ------------------------------------------------------------------


def _evaluate_command():
    """`genmodels evaluate` once the CLI has the subcommand, else the task's own entry point."""
    from keras_genmodels import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    if "evaluate" in commands:
        return [sys.executable, "-m", "keras_genmodels", "evaluate"]
    return [sys.executable, "-m", "keras_genmodels.tasks.evaluate"]


def _run_evaluate(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(_evaluate_command() + args, capture_output=True, text=True,
                          env=env, cwd=cwd)


def test_evaluate_exits_2_on_a_corrupt_model_file(tmp_path):
    (tmp_path / "bad.keras").write_bytes(b"PK\x03\x04 truncated")
    proc = _run_evaluate(["--model", "bad.keras", "--dataset", "digits"], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "bad.keras" in proc.stderr and "not a readable .keras model" in proc.stderr


def test_evaluate_refuses_mismatched_shapes_and_unlabelled_data(tmp_path, digits, capsys):
    from keras_genmodels.models.vae import VAE
    from keras_genmodels.tasks import evaluate

    VAE(image_shape=(28, 28, 1), latent_dim=2, hidden_units=[4]).save(tmp_path / "m28.keras")
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["--model", str(tmp_path / "m28.keras"), "--dataset", "digits",
                       "--cache-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "(8, 8, 1)" in err and "(28, 28, 1)" in err and "shape" in err

    _vae(num_classes=10).save(tmp_path / "cond.keras")
    np.savez(tmp_path / "unlabelled.npz", x=(digits[2] * 16).astype("uint8")[..., 0])
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["--model", str(tmp_path / "cond.keras"),
                       "--dataset", str(tmp_path / "unlabelled.npz"),
                       "--cache-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "conditional" in err and "no labels" in err and "unlabelled.npz" in err
    assert not any(tmp_path.glob("*-*/model.keras"))  # refused before any training


def test_evaluate_prints_and_writes_the_scorecard(tmp_path, digits, tiny_cache, monkeypatch,
                                                  capsys):
    from keras_genmodels.tasks import evaluate

    monkeypatch.setattr(fn, "feature_extractor",
                        functools.partial(fn.feature_extractor, **TINY))
    _vae(num_classes=10).save(tmp_path / "cond.keras")
    card = evaluate.run(evaluate.add_arguments(__import__("argparse").ArgumentParser())
                        .parse_args(["--model", str(tmp_path / "cond.keras"), "--n", "100",
                                     "--kid-subsets", "5", "--kid-subset-size", "50",
                                     "--cache-dir", str(tiny_cache)]))
    out = capsys.readouterr().out
    assert "fid" in out and "label_accuracy" in out and "saved" in out
    saved = json.loads((tmp_path / "cond.scorecard.json").read_text())
    assert saved["scores"]["num_fake"] == 100 and saved["conditional"] is True
    assert saved["scores"]["fid"] == pytest.approx(card["scores"]["fid"])
    assert saved["feature_network"]["path"].startswith(str(tiny_cache))
