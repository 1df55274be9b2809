"""Masked sequence autoencoder: BERT masking, masked loss, padding, windows, round trips,
exports served from a TensorFlow-only process, bad input. Runs under every backend."""

import json
import os
import pathlib
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest

from keras_genmodels.data import DataError
from keras_genmodels.data import text_windows as tw
from keras_genmodels.layers.token_masking import (TokenMasking, mask_tokens,
                                                  span_start_rate, token_masking_map)
from keras_genmodels.models.masked_autoencoder import MASK_ID, MaskedSequenceAutoencoder
from tests.conftest import to_numpy
from tests.serving import call_signatures

ROOT = pathlib.Path(__file__).resolve().parents[1]
T = 24
TEXT = ("The quick brown fox jumps over the lazy dog. " * 3 +
        "Pack my box with five dozen liquor jugs! " * 3)


def _proportions(ids, corrupted, labels):
    chosen = labels != 0
    n = int(chosen.sum())
    return (n, chosen.sum() / (ids >= 3).sum(),
            (corrupted[chosen] == MASK_ID).mean(),
            ((corrupted[chosen] != MASK_ID) & (corrupted[chosen] != ids[chosen])).mean(),
            (corrupted[chosen] == ids[chosen]).mean())


@pytest.fixture(scope="module")
def ids():
    """(1000, 800) ids from a 5,003-token vocabulary (a random replacement almost never
    equals the original), the last 100 columns padding."""
    rng = np.random.default_rng(0)
    x = rng.integers(3, 5003, size=(1000, 800)).astype("int32")
    x[:, 700:] = 0
    return x


@pytest.mark.parametrize("where", ["keras_ops", "tf_data"])
def test_bert_proportions_80_10_10_within_one_percent(ids, where):
    """~105,000 chosen positions: 15 % chosen, then 80 % [MASK], 10 % random, 10 % kept."""
    if where == "keras_ops":
        corrupted, labels = (to_numpy(a) for a in TokenMasking(5003, seed=3)(ids))
    else:
        corrupted, labels = (a.numpy() for a in token_masking_map(5003, seed=3)(ids))
    n, rate, masked, randomised, kept = _proportions(ids, corrupted, labels)
    assert n > 100_000
    assert abs(rate - 0.15) < 0.01 and abs(masked - 0.8) < 0.01
    assert abs(randomised - 0.1) < 0.01 and abs(kept - 0.1) < 0.01
    assert not labels[:, 700:].any() and (corrupted[:, 700:] == 0).all()  # padding untouched
    np.testing.assert_array_equal(labels[labels != 0], ids[labels != 0])
    np.testing.assert_array_equal(corrupted[labels == 0], ids[labels == 0])
    assert corrupted[labels != 0].min() >= 2  # never padding or [UNK]


def test_span_masking_covers_15_percent_in_runs_of_3_to_5(ids):
    corrupted, labels = (to_numpy(a) for a in mask_tokens(ids[:200, :700], 5003, "span",
                                                          seed=keras.random.SeedGenerator(1)))
    chosen = labels != 0
    assert abs(chosen.mean() - 0.15) < 0.01
    runs = []
    for row in chosen:
        edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        runs += [e - s for s, e in zip(starts, ends) if e < row.size]  # not cut at the end
    lengths = np.array(runs)
    assert lengths.min() >= 3 and np.mean(lengths <= 5) > 0.8  # overlapping spans merge
    assert abs((corrupted[chosen] == MASK_ID).mean() - 0.8) < 0.02
    assert 0.0 < span_start_rate(0.15, (3, 5)) < 0.15 / 3


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    m = MaskedSequenceAutoencoder.from_documents([TEXT], sequence_length=T, d_model=16,
                                                 num_layers=1, num_heads=2, dropout=0.0,
                                                 conv_kernel=3)
    m.compile(optimizer=keras.optimizers.Adam(3e-3))
    ids = tw.encode_documents(m.vectorizer, [("t", TEXT)])
    windows, _ = tw.make_windows(ids, T, stride=4)
    m.fit(m.make_dataset(windows, batch_size=16, seed=0), epochs=1, steps_per_epoch=3,
          verbose=0)
    return m


def test_fit_reports_masked_accuracy_and_bits(model):
    ids = tw.encode_documents(model.vectorizer, [("t", TEXT)])
    windows, _ = tw.make_windows(ids, T)
    history = model.fit(model.make_dataset(windows, batch_size=4), epochs=1,
                        steps_per_epoch=1, verbose=0).history
    assert {"loss", "masked_accuracy", "bits_per_token"} <= set(history)
    assert history["bits_per_token"][0] == pytest.approx(history["loss"][0] / np.log(2),
                                                         rel=1e-4)


def test_loss_ignores_unmasked_and_padding_positions(model):
    rng = np.random.default_rng(0)
    ids = np.zeros((4, T), "int32")
    ids[:, :18] = rng.integers(3, model.vocabulary_size, size=(4, 18))  # 6 padding columns
    corrupted, labels = model.corrupt_numpy(ids, seed=5)
    chosen = labels != 0
    assert chosen.any() and (~chosen & (ids != 0)).any()
    logits = to_numpy(model.predict_on_batch(corrupted))
    loss = float(model.compute_loss(y=labels, y_pred=logits))
    lg = logits.astype("float64") - logits.max(-1, keepdims=True)
    logp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
    reference = -np.take_along_axis(logp, labels[..., None], -1)[..., 0][chosen].mean()
    assert loss == pytest.approx(reference, rel=1e-5)
    noisy = np.where(chosen[..., None], logits,
                     rng.normal(size=logits.shape) * 100).astype("float32")
    assert float(model.compute_loss(y=labels, y_pred=noisy)) == pytest.approx(loss, rel=1e-6)
    # Padding keys get no attention: changing the padding token's embedding (what sits at the
    # padded positions) leaves the hidden states at the real positions unchanged.
    table = model.token_embedding.embeddings
    saved = to_numpy(table)
    hidden = to_numpy(model.hidden_states(corrupted))
    try:
        table.assign(np.concatenate([rng.normal(size=(1, 16)) * 10, saved[1:]]).astype(
            "float32"))
        changed = to_numpy(model.hidden_states(corrupted))
    finally:
        table.assign(saved)
    np.testing.assert_allclose(changed[:, :18], hidden[:, :18], atol=1e-4)
    assert not np.allclose(changed[:, 18:], hidden[:, 18:], atol=1e-4)


def test_fill_and_embed_bad_queries(model):
    out = model.fill_mask(["The quick br[MASK]wn fox", "[MASK]he"])
    assert out[0].startswith("The quick br") and out[0].endswith("wn fox")
    assert len(out[0]) == len("The quick brown fox") and "[MASK]" not in out[0]
    assert len(out[1]) == 3
    with pytest.raises(ValueError, match=r"at least one \[MASK\] marker"):
        model.fill_mask("no marker here")
    with pytest.raises(ValueError, match=f"at most {T} tokens"):
        model.fill_mask("a" * T + "[MASK]")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert model.fill_mask("no marker", strict=False) == "no marker"
        long = "a" * (T - 1) + "[MASK][MASK]"
        assert model.fill_mask(long, strict=False).endswith("[MASK]")
    assert "☃" in model.fill_mask("☃ [MASK]")  # unknown characters are copied through
    emb = model.embed(["hello", "", "a" * 100])
    assert emb.shape == (3, 16) and np.isfinite(emb).all() and not emb[1].any()


def test_text_sources_and_held_out_split(tmp_path):
    docs, test = tw.load_documents("default")
    assert test is None and len(docs) > 50 and sum(len(t) for _, t in docs) > 400_000
    train, held = tw.split("default", seed=0)
    assert {n for n, _ in train}.isdisjoint({n for n, _ in held})
    assert 0.08 < sum(len(t) for _, t in held) / sum(len(t) for _, t in docs) < 0.3
    (tmp_path / "a.txt").write_text("x" * 50, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("y" * 30, encoding="utf-8")
    assert [n for n, _ in tw.load_documents(tmp_path)[0]] == ["a.txt", "sub/b.txt"]
    sections = tw.load_documents(tmp_path / "a.txt", sections=5)[0]
    assert "".join(t for _, t in sections) == "x" * 50 and len(sections) == 5
    w = tw.windows_from_ids(np.arange(1, 11), 4)
    np.testing.assert_array_equal(w, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 0, 0]])
    assert len(tw.windows_from_ids(np.arange(1, 11), 4, stride=2)) == 4


def test_bad_text_input_raises_clear_errors(tmp_path, model):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        tw.load_documents(empty)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(DataError, match="expected UTF-8 text"):
        tw.load_documents(latin)
    with pytest.raises(DataError, match=r"\*\.txt files"):
        tw.load_documents(_empty_dir(tmp_path))
    short = tmp_path / "short.txt"
    short.write_text("tiny text", encoding="utf-8")
    train, held = tw.split(short)
    with pytest.raises(DataError, match="shorter than one window"):
        tw.encode_windows(model.vectorizer, train, held, window=64)
    with pytest.raises(DataError, match="not a file, not a known dataset"):
        tw.load_documents("no_such_text_set_xyz")


def _empty_dir(tmp_path):
    d = tmp_path / "empty_dir"
    d.mkdir()
    return d


_LOAD_ELSEWHERE = r"""
import json, sys
import numpy as np
import keras
import keras_genmodels.models.masked_autoencoder
model = keras.models.load_model(sys.argv[1])
ids = np.load(sys.argv[2])
print(json.dumps({"logits": keras.ops.convert_to_numpy(model.predict_on_batch(ids)).tolist(),
                  "fill": model.fill_mask(json.loads(sys.argv[3])),
                  "config": model.get_config()}))
"""


def test_keras_round_trip_across_backends(model, tmp_path):
    """Save here; load in a fresh process under each other backend: same logits and fills."""
    here = keras.backend.backend()
    queries = ["The quick br[MASK]wn fox", "jumps [MASK][MASK]er the"]
    ids, _ = _ids(model, queries)
    path = tmp_path / "mae.keras"
    model.save(path)
    np.save(tmp_path / "ids.npy", ids)
    expected = to_numpy(model.predict_on_batch(ids))
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(to_numpy(loaded.predict_on_batch(ids)), expected, atol=1e-5)
    assert loaded.get_config() == model.get_config()
    for other in sorted({"tensorflow", "jax", "torch"} - {here}):
        env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=str(ROOT),
                   TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(path),
                               str(tmp_path / "ids.npy"), json.dumps(queries)],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        np.testing.assert_allclose(np.array(result["logits"]), expected, atol=1e-4,
                                   err_msg=f"{here} -> {other}")
        assert result["fill"] == model.fill_mask(queries), (here, other)
        assert result["config"]["vocabulary"] == model.vocabulary


def _ids(model, texts):
    _, ids, truncated = model.tokenize_texts(texts)
    return ids, truncated


def test_exports_served_from_tensorflow_only_process_match_keras(model, tmp_path):
    from keras_genmodels.export import export_model

    long = "b" * (T + 3) + "[MASK]"
    texts = ["The quick br[MASK]wn fox", "[MASK]he lazy d[MASK]g", "no marker at all", long,
             "", "☃ [MASK]"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = model.fill_mask(texts, strict=False)
    version = export_model(model, "masked-ae", base_dir=tmp_path / "sm")
    text = np.array(texts)
    served = call_signatures(version, {sig: {"text": text}
                                       for sig in ("fill_mask", "serving_default", "embed")})
    fill, default, embed = served["fill_mask"], served["serving_default"], served["embed"]
    assert fill["filled"].tolist() == expected == default["filled"].tolist()
    assert all(type(s) is str for s in fill["filled"].tolist())
    assert fill["masks"].tolist() == [1, 2, 0, 0, 0, 1]
    assert fill["truncated"].tolist() == [False, False, False, True, False, False]
    assert expected[2] == texts[2] and expected[3] == long and expected[4] == ""
    np.testing.assert_allclose(embed["embedding"], model.embed(texts), atol=1e-4)
    assert embed["truncated"].tolist() == fill["truncated"].tolist()


def test_task_trains_saves_and_fills(tmp_path, capsys):
    import argparse

    from keras_genmodels.tasks import masked_ae as task
    from keras_genmodels.tasks.common import TaskError

    parser = argparse.ArgumentParser()
    task.add_arguments(parser)
    text = tmp_path / "corpus.txt"
    text.write_text(TEXT * 4, encoding="utf-8")
    args = parser.parse_args(["--text", str(text), "--window", "16", "--d-model", "16",
                              "--layers", "1", "--heads", "2", "--steps-per-epoch", "2",
                              "--sections", "4", "--max-minutes", "0"])
    args.__dict__.update(dataset="default", data_dir=None, epochs=1, batch_size=8, seed=0,
                         name="masked-ae", export_dir=tmp_path / "sm", no_export=True,
                         allow_non_finite=False, verbose=0)
    report = task.train(args)
    assert 0.0 <= report["held_out_masked_accuracy"] <= 1.0
    assert report["test_documents"] >= 1 and report["train_documents"] >= 1
    assert (tmp_path / "sm" / "masked-ae" / "metrics.json").is_file()
    fill_parser = argparse.ArgumentParser()
    task.add_fill_arguments(fill_parser)
    out = task.fill(fill_parser.parse_args(["quick br[MASK]wn", "--model-dir",
                                            str(tmp_path / "sm")]))
    assert len(out) == 1 and "[MASK]" not in out[0] and len(out[0]) == len("quick brown")
    assert "quick br" in capsys.readouterr().out
    with pytest.raises(TaskError, match="at most 16 tokens"):
        task.fill(fill_parser.parse_args(["x" * 16 + "[MASK]", "--model-dir",
                                          str(tmp_path / "sm")]))
    with pytest.raises(TaskError, match="marker"):
        task.fill(fill_parser.parse_args(["no marker", "--model-dir", str(tmp_path / "sm")]))
    with pytest.raises(FileNotFoundError, match="genmodels train masked-ae"):
        task.find_model(None, tmp_path / "none")


def test_tfds_text_set_fails_fast_offline(tmp_path, monkeypatch):
    import time

    from keras_genmodels.data import tfds_source

    class Unreachable:
        target = "storage.googleapis.com:443"

        def result(self):
            return False, "no network (test)"

    monkeypatch.setattr(tfds_source, "start_probe", lambda: Unreachable())
    start = time.time()
    with pytest.raises(DataError, match=r"tiny_shakespeare.*expected prepared data.*default"):
        tw.load_documents("tfds:tiny_shakespeare", data_dir=tmp_path)
    assert time.time() - start < 30


def test_epoch_keyed_masking_is_replayable_and_a_resumed_run_equals_an_uninterrupted_one(
        tmp_path):
    """`make_dataset(..., epoch=e)` gives the same batches and masks for (seed, e) in any
    process, so `fit_resumable` stopped mid-run and resumed ends with identical weights."""
    from keras_genmodels.training import fit_resumable

    DROPOUT = 0.1  # noise in every block, incl. MultiHeadAttention's private dropout layer

    def build():
        keras.utils.set_random_seed(0)
        m = MaskedSequenceAutoencoder.from_documents([TEXT], sequence_length=T, d_model=16,
                                                     num_layers=1, num_heads=2, dropout=DROPOUT)
        m.compile(optimizer=keras.optimizers.Adam(3e-3))
        return m

    m = build()
    ids = tw.encode_documents(m.vectorizer, [("t", TEXT)])
    windows, _ = tw.make_windows(ids, T, stride=4)

    def epoch_dataset(model):
        return lambda e: model.make_dataset(windows, batch_size=8, seed=3, repeat=True, epoch=e)

    a = [tuple(map(to_numpy, b)) for b in epoch_dataset(m)(1).take(2)]
    b = [tuple(map(to_numpy, b)) for b in epoch_dataset(m)(1).take(2)]
    c = [tuple(map(to_numpy, b)) for b in epoch_dataset(m)(2).take(2)]
    assert all(np.array_equal(x, y) for p, q in zip(a, b) for x, y in zip(p, q))
    assert not np.array_equal(a[0][0], c[0][0])  # another epoch: another order / masks

    fit_resumable(m, epoch_dataset(m), 2, tmp_path / "ref", steps_per_epoch=4,
                  checkpoint_every=2, verbose=0)
    reference = [to_numpy(v) for v in m.weights]

    class StopAfter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    m1 = build()
    h = fit_resumable(m1, epoch_dataset(m1), 2, tmp_path / "run", steps_per_epoch=4,
                      checkpoint_every=2, callbacks=[StopAfter()], verbose=0)
    assert not h.completed
    m2 = build()  # as a fresh process would
    h = fit_resumable(m2, epoch_dataset(m2), 2, tmp_path / "run", steps_per_epoch=4,
                      checkpoint_every=2, verbose=0)
    assert h.completed and h.resumed_from
    for x, y in zip(reference, [to_numpy(v) for v in m2.weights]):
        assert np.array_equal(x, y)
