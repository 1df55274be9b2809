"""Seq2Seq: masked loss, decoding, bad input, .keras round trip, text-in/text-out export."""

import json
import os
import pathlib
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels import decoding
from keras_genmodels.data import text
from keras_genmodels.metrics import translation as tm
from keras_genmodels.models.seq2seq import END_ID, START_ID, Seq2Seq
from tests.conftest import to_numpy


@pytest.fixture(scope="module")
def pairs():
    return text.date_split(256, 24, seed=0, languages=("numeric",))


@pytest.fixture(scope="module")
def trained(pairs):
    keras.utils.set_random_seed(1)
    # max_target_length 12 > 10 characters of a date, so targets carry padding.
    model = Seq2Seq.from_pairs(pairs[0], units=16, embedding_dim=8, max_source_length=12,
                               max_target_length=12)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(model.make_dataset(pairs[0], batch_size=64), epochs=1, steps_per_epoch=3,
              verbose=0)
    return model


def _batch(model, pairs, n=8):
    (src, t_in), t_out = next(iter(model.make_dataset(pairs[0], batch_size=n, shuffle=False)))
    return np.asarray(src), np.asarray(t_in), np.asarray(t_out)


def test_masked_loss_ignores_padding(trained, pairs):
    src, t_in, t_out = _batch(trained, pairs)
    pad = t_out == 0
    assert pad.any() and (~pad).any()
    logits = trained.predict_on_batch((src, t_in))
    loss = float(trained.compute_loss(y=t_out, y_pred=logits))
    # Reference: mean cross-entropy over non-padding positions.
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1,
                                                                           keepdims=True))
    logp -= logits.max(-1, keepdims=True)
    ce = -np.take_along_axis(logp, t_out[..., None], -1)[..., 0]
    np.testing.assert_allclose(loss, ce[~pad].mean(), rtol=1e-5)
    # Changing the scores at padded positions changes nothing ...
    noisy = np.where(pad[..., None], np.random.default_rng(0).normal(size=logits.shape) * 50,
                     logits).astype("float32")
    assert float(trained.compute_loss(y=t_out, y_pred=noisy)) == pytest.approx(loss, rel=1e-6)
    # ... and neither do decoder inputs after the end token (the decoder is causal).
    ends = (t_out == END_ID).argmax(1)
    after = np.arange(t_in.shape[1])[None, :] > ends[:, None]
    assert after.any()
    t_in2 = np.where(after, 5, t_in).astype("int32")
    loss2 = float(trained.compute_loss(y=t_out, y_pred=trained.predict_on_batch((src, t_in2))))
    assert loss2 == pytest.approx(loss, rel=1e-5)
    # Masked token accuracy counts non-padding positions only.
    trained.token_accuracy_tracker.reset_state()
    trained.compute_loss(y=t_out, y_pred=logits)
    expected = (logits.argmax(-1) == t_out)[~pad].mean()
    assert float(trained.token_accuracy_tracker.result()) == pytest.approx(expected, abs=1e-6)


def _markov_step(table):
    """Decoder whose next-token logits depend only on the previous token."""
    table = ops.convert_to_tensor(np.log(np.asarray(table, "float32") + 1e-12))

    def step(tokens, states):
        logits = ops.take(table, tokens, axis=0)
        return logits, states, ops.zeros((ops.shape(tokens)[0], 1))

    return step


def test_beam_search_beats_greedy_and_stops_at_end():
    # ids: 0 pad, 1 unk, 2 start, 3 end, 4 A, 5 B
    p = np.zeros((6, 6))
    p[2, 4], p[2, 5] = 0.6, 0.4                # start -> A (greedy) or B
    p[4, 3], p[4, 4], p[4, 5] = 0.34, 0.33, 0.33  # A -> end, weakly
    p[5, 3] = 1.0                              # B -> end, surely
    p[3, 3] = p[0, 3] = p[1, 3] = 1.0
    step = _markov_step(p)
    states = [ops.zeros((2, 1))]
    greedy = to_numpy(decoding.greedy_decode(step, states, 2, START_ID, END_ID, 6))
    np.testing.assert_array_equal(greedy, [[4, 3, 0, 0, 0, 0]] * 2)   # p = 0.6 * 0.34
    beam = to_numpy(decoding.beam_search_decode(step, [ops.zeros((4, 1))], 2, START_ID,
                                                END_ID, 6, beam_width=2))
    np.testing.assert_array_equal(beam, [[5, 3, 0, 0, 0, 0]] * 2)     # p = 0.4
    # A chain that never ends is cut at max_length, without an end token.
    loop = np.zeros((6, 6))
    loop[:, 4] = 1.0
    out = to_numpy(decoding.greedy_decode(_markov_step(loop), states, 2, START_ID, END_ID, 4))
    np.testing.assert_array_equal(out, [[4, 4, 4, 4]] * 2)


def test_beam_width_one_equals_greedy(trained, pairs):
    ids, _ = trained.encode_texts([p[0] for p in pairs[1]])
    greedy = trained.decode_ids(ids, beam_width=1)
    beam1 = trained.decode_ids(ids, beam_width=1, search="beam")
    np.testing.assert_array_equal(beam1, greedy)
    rng = np.random.default_rng(0)
    table = rng.dirichlet(np.ones(7) * 0.5, size=7)
    step = _markov_step(table)
    g = decoding.greedy_decode(step, [ops.zeros((3, 1))], 3, START_ID, END_ID, 9)
    b = decoding.beam_search_decode(step, [ops.zeros((3, 1))], 3, START_ID, END_ID, 9,
                                    beam_width=1)
    np.testing.assert_array_equal(to_numpy(b), to_numpy(g))


def test_decoding_stops_at_end_token(trained, pairs):
    ids, _ = trained.encode_texts([p[0] for p in pairs[1]])
    for width in (1, 2):
        out = to_numpy(trained.decode_ids(ids, beam_width=width))
        assert out.shape == (len(ids), trained.max_target_length + 1)
        assert not (out == START_ID).any()
        for row in out:
            ends = np.flatnonzero(row == END_ID)
            if ends.size:  # exactly one end token, then only padding
                assert ends.size == 1 and not row[ends[0] + 1:].any()
            assert not (row[:ends[0] if ends.size else None] == 0).any()
    # Forcing the end token to win makes every output stop at the first step.
    bias = trained.output_projection.bias
    old = to_numpy(bias)
    bias.assign(old + 100.0 * (np.arange(old.shape[0]) == END_ID))
    try:  # same batch shapes as above: the compiled decoders are reused
        for width in (1, 2):
            out = trained.decode_ids(ids, beam_width=width)
            np.testing.assert_array_equal(out[:, 0], END_ID)
            assert not out[:, 1:].any()
        assert trained.translate([p[0] for p in pairs[1]]) == [""] * len(ids)
    finally:
        bias.assign(old)


def test_bad_input_is_defined(trained, pairs):
    long = "1" * (trained.max_source_length + 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = trained.translate(["", "☃☃ zz", long, "05.03.1991"] + [p[0] for p in pairs[1]])
    assert len(out) == 28 and all(isinstance(s, str) for s in out)
    assert any("truncated" in str(w.message) for w in caught)
    ids, truncated = trained.encode_texts(["", "☃", long])
    assert not ids[0].any()                             # empty -> all padding
    assert ids[1, 0] == 1 and not ids[1, 1:].any()      # unknown character -> [UNK]
    np.testing.assert_array_equal(truncated, [False, False, True])
    assert trained.translate("") == trained.translate([""])[0]


def test_attention_map_png(trained, tmp_path):
    from keras_genmodels.plots.attention import save_attention_heatmap

    src, out, w = trained.attention_map("05.03.1991")
    assert w.shape == (len(out), len(src)) and src == list("05.03.1991")
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-4)
    path = save_attention_heatmap(src, out, w, tmp_path / "att.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_translation_metrics():
    assert tm.exact_match(["a", "b"], ["a", "c"]) == 0.5
    assert tm.token_accuracy(["1991-03-05", ""], ["1991-03-06", "ab"]) == pytest.approx(9 / 12)
    assert tm.corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == \
        pytest.approx(100.0)
    assert tm.corpus_bleu(["abc"], ["xyz"], level="char") < 1.0
    with pytest.raises(ValueError, match="as many hypotheses as references"):
        tm.exact_match(["a"], [])


_SERVE_TEXT = r"""
import json, sys
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
out = {}
for sig in ("translate", "serving_default"):
    r = loaded.signatures[sig](text=tf.constant(json.loads(sys.argv[2])))
    out[sig] = [s.decode("utf-8") for s in r["translation"].numpy()]
    out[sig + "_truncated"] = r["truncated"].numpy().tolist()
ids = loaded.signatures["translate_ids"](source_ids=tf.constant(json.loads(sys.argv[3])))
out["ids"] = ids["ids"].numpy().tolist()
assert not any(m.startswith("keras_genmodels") for m in sys.modules)
print(json.dumps(out))
"""


def _serve(path, texts, ids):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
               TF_ENABLE_ONEDNN_OPTS="0")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", _SERVE_TEXT, str(path), json.dumps(texts),
                           json.dumps(ids.tolist())],
                          capture_output=True, text=True, env=env, cwd=pathlib.Path(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_keras_round_trip_and_export_reproduce_translation(trained, pairs, tmp_path):
    from keras_genmodels.export import export_model

    texts = [p[0] for p in pairs[1]] + ["", "☃ 1 марта", "9" * 20]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = trained.translate(texts)
    path = tmp_path / "s2s.keras"
    trained.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config() == trained.get_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert loaded.translate(texts) == expected

    version = export_model(trained, "seq2seq", base_dir=tmp_path / "sm")
    ids, _ = trained.encode_texts(texts)
    served = _serve(version, texts, ids)
    assert served["translate"] == expected
    assert served["serving_default"] == expected
    assert served["translate_truncated"] == [False] * (len(texts) - 1) + [True]
    np.testing.assert_array_equal(served["ids"], trained.decode_ids(ids))


def test_translate_task_finds_newest_model(tmp_path):
    from keras_genmodels.tasks import seq2seq as task

    with pytest.raises(FileNotFoundError, match="genmodels train seq2seq"):
        task.find_model(None, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        task.find_model(str(tmp_path / "nope.keras"))
    old, new = tmp_path / "a" / "model.keras", tmp_path / "b" / "model.keras"
    for i, p in enumerate((old, new)):
        p.parent.mkdir()
        p.write_bytes(b"x")
        os.utime(p, (1000 + i, 1000 + i))
    assert task.find_model(None, tmp_path) == new
    assert task.find_model(str(old)) == old
