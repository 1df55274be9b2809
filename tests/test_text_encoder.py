"""TextImageEncoder: matching loss, retrieval above chance, the strings->ids / ids->phi split
(ids inside a jitted train step on every backend), empty/unknown/over-long captions, .keras
round trip in-process and on another backend, bad input. Runs under every backend."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels.data import captions as C
from keras_genmodels.data import load_images
from keras_genmodels.models.text_encoder import (TextImageEncoder, matching_loss,
                                                 pretrain_text_encoder, retrieval_accuracy)
from tests.conftest import to_numpy

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = dict(embedding_dim=16, char_dim=8, filters=16, units=16, image_filters=8)
TEXTS = ["a thin seven leaning left", "тонкая семёрка с наклоном влево",
         "an upright 8 of large size", "цифра 3: толстая, маленькая, без наклона"]


@pytest.fixture(scope="module")
def pairs():
    x, y = load_images("digits", "train")
    xt, yt = load_images("digits", "test")
    train = C.captioned_dataset((x, y), holdout=(), seed=0)
    test = C.captioned_dataset((xt, yt), split="test", holdout=(), seed=1,
                               thresholds=train.thresholds)
    return train, test


@pytest.fixture(scope="module")
def trained(pairs):
    return pretrain_text_encoder(pairs[0], None, epochs=3, batch_size=64, seed=0,
                                 learning_rate=3e-3, **TINY)


def test_matching_loss_equals_numpy_infonce():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(6, 4)).astype("float32")
    v = rng.normal(size=(6, 4)).astype("float32")
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    keys = np.array([3, 1, 3, 2, 5, 1], "int32")

    def reference(pos):
        s = t @ v.T / 0.1
        target = pos / pos.sum(1, keepdims=True)
        log_r = s - np.log(np.exp(s).sum(1, keepdims=True))
        log_c = s.T - np.log(np.exp(s.T).sum(1, keepdims=True))
        return 0.5 * (-(target * log_r).sum(1).mean() - (target.T * log_c).sum(1).mean())

    loss, acc = matching_loss(t, v, 0.1)
    assert float(to_numpy(loss)) == pytest.approx(reference(np.eye(6)), rel=1e-5)
    assert float(to_numpy(acc)) == pytest.approx(np.mean((t @ v.T).argmax(1) == np.arange(6)))
    loss, acc = matching_loss(t, v, 0.1, keys)
    same = (keys[:, None] == keys[None]).astype("float64")
    assert float(to_numpy(loss)) == pytest.approx(reference(same), rel=1e-5)
    best = (t @ v.T).argmax(1)
    assert float(to_numpy(acc)) == pytest.approx(np.mean(keys[best] == keys))
    # Perfectly matched embeddings with a small temperature: loss -> 0
    loss, acc = matching_loss(t, t, 0.01)
    assert float(to_numpy(loss)) < 0.1 and float(to_numpy(acc)) == 1.0


def test_tiny_pretraining_beats_chance_on_test_pairs(trained, pairs):
    test = pairs[1]
    r = retrieval_accuracy(trained, test.images, test.captions, test.labels, test.bins)
    assert r["chance_top1"] == pytest.approx(0.1, abs=0.01)
    assert r["top1"] > 1.5 * r["chance_top1"], r
    history = trained.history.history
    assert history["loss"][-1] < history["loss"][0] - 0.3


def test_vectorize_in_tf_data_and_numpy_agree_and_text_encoder_chains(trained, pairs):
    ids = trained.vectorize(TEXTS)
    assert isinstance(ids, np.ndarray) and ids.dtype == np.int32
    assert ids.shape == (len(TEXTS), trained.max_length)
    graph_ids = next(iter(tf.data.Dataset.from_tensor_slices(TEXTS).batch(8).map(
        trained.vectorize)))
    np.testing.assert_array_equal(graph_ids.numpy(), ids)
    ds = C.caption_pairs_dataset(pairs[0], batch_size=16, shuffle=False,
                                 text_encoder=trained)
    batch = next(iter(ds))
    np.testing.assert_array_equal(batch["caption_ids"].numpy(),
                                  trained.vectorize(list(pairs[0].captions[:16])))
    phi = to_numpy(trained.text_encoder(TEXTS))
    assert phi.shape == (len(TEXTS), trained.embedding_dim)
    np.testing.assert_allclose(phi, to_numpy(trained.encode_ids(ids)), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(phi, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(trained.embed_texts(TEXTS), phi, atol=1e-6)


class _Probe(keras.Model):
    """A frozen encoder inside another model's train step (what StackGAN does)."""

    def __init__(self, encoder):
        super().__init__(name="probe")
        self.encoder = encoder
        self.head = keras.layers.Dense(10)
        self.head.build((None, encoder.embedding_dim))
        self.built = True

    def call(self, inputs, training=False):
        return self.head(self.encoder.encode_ids(inputs["caption_ids"], training=False))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return ops.mean(keras.losses.sparse_categorical_crossentropy(
            x["label"], y_pred, from_logits=True))


def test_encode_ids_inside_a_jitted_train_step_with_frozen_encoder(trained, pairs):
    before = [to_numpy(w).copy() for w in trained.weights]
    trained.trainable = False
    try:
        probe = _Probe(trained)
        probe.compile(optimizer=keras.optimizers.Adam(1e-2))       # jit_compile="auto"
        head0 = to_numpy(probe.head.kernel).copy()
        ds = C.caption_pairs_dataset(pairs[0], batch_size=64, text_encoder=trained,
                                     with_labels=True)
        ds = ds.map(lambda b: {"caption_ids": b["caption_ids"], "label": b["label"]})
        hist = probe.fit(ds, epochs=1, steps_per_epoch=4, verbose=0)
    finally:
        trained.trainable = True
    assert np.isfinite(hist.history["loss"]).all()
    assert not np.allclose(to_numpy(probe.head.kernel), head0)
    for w, b in zip(trained.weights, before):
        np.testing.assert_array_equal(to_numpy(w), b, err_msg=w.path)


def test_empty_unknown_overlong_and_odd_captions(trained):
    L = trained.max_length
    long_text = "a thin seven leaning left " * 20
    ids, truncated = trained.vectorize(["", "   ", "a ☃ seven", long_text, "ТОНКАЯ СЕМЁРКА",
                                        "тонкая  семерка "], return_truncated=True)
    assert not ids[0].any() and not ids[1].any()                  # empty -> all padding
    assert (ids[2] == 1).sum() == 1 and (ids[2] > 1).sum() == len("a  seven")
    assert ids[3].shape == (L,) and (ids[3] > 0).all()            # cut at max_length
    np.testing.assert_array_equal(truncated, [False, False, False, True, False, False])
    np.testing.assert_array_equal(ids[3], trained.vectorize([long_text[:L]])[0])
    np.testing.assert_array_equal(ids[4], ids[5])                 # lowercase, ё -> е, spaces
    phi = to_numpy(trained.encode_ids(ids))
    assert np.isfinite(phi).all()
    np.testing.assert_allclose(phi[0], phi[1], atol=1e-6)         # one "empty" embedding
    # Invalid UTF-8 in a TF string tensor: replaced, never an error.
    bad = trained.vectorize(tf.constant([b"\xff\xfe seven"]))
    assert int(tf.reduce_sum(tf.cast(bad == 1, tf.int32))) >= 1
    assert trained.vectorize([]).shape == (0, L)


_LOAD_ELSEWHERE = r"""
import json, sys
import numpy as np, keras
from keras_genmodels.models import text_encoder
model = keras.models.load_model(sys.argv[1])
texts = json.loads(sys.argv[2])
images = np.load(sys.argv[3])
print(json.dumps({"text": model.embed_texts(texts).tolist(),
                  "image": model.embed_images(images).tolist()}))
"""


def test_keras_round_trip_here_and_on_another_backend(trained, pairs, tmp_path):
    """Same backend: config and outputs equal. TensorFlow -> torch in a fresh process here;
    JAX -> TensorFlow and torch -> TensorFlow through the export test (one subprocess per
    backend keeps the file's cost down)."""
    path = tmp_path / "enc.keras"
    trained.save(path)
    images = pairs[1].images[:5]
    text_phi, image_phi = trained.embed_texts(TEXTS), trained.embed_images(images)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, TextImageEncoder)
    assert loaded.get_config() == trained.get_config()
    np.testing.assert_allclose(loaded.embed_texts(TEXTS), text_phi, atol=1e-6)
    np.testing.assert_allclose(loaded.embed_images(images), image_phi, atol=1e-6)
    here = keras.backend.backend()
    if here != "tensorflow":
        # jax/torch -> tensorflow is checked by the export test below (the exporter reloads
        # this backend's .keras file under TensorFlow and the served output is compared).
        return
    np.save(tmp_path / "images.npy", images)
    for other in ("torch",):
        env = dict(os.environ, KERAS_BACKEND=other, OMP_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(path),
                               json.dumps(TEXTS), str(tmp_path / "images.npy")],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        np.testing.assert_allclose(np.array(result["text"]), text_phi, atol=1e-5,
                                   err_msg=f"{here} -> {other}")
        np.testing.assert_allclose(np.array(result["image"]), image_phi, atol=1e-5)


def test_bad_arguments_fail_clearly(trained):
    with pytest.raises(ValueError, match="strings"):
        trained.vectorize(123)
    with pytest.raises(ValueError, match="strings"):
        trained.vectorize(["ok", None])
    with pytest.raises(ValueError, match="vocabulary"):
        TextImageEncoder([])
    with pytest.raises(ValueError, match="vocabulary"):
        TextImageEncoder(["a", "", "b"])
    with pytest.raises(ValueError, match="max_length"):
        TextImageEncoder(["a", "b"], max_length=0)
    with pytest.raises(ValueError, match="shape"):
        trained.embed_images(np.zeros((2, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match="empty"):
        TextImageEncoder.from_captions(["", "  "])
    with pytest.raises(ValueError, match="captions"):
        pretrain_text_encoder(np.zeros((3, 8, 8, 1), "float32"), ["a", "b"])


def test_export_embeds_strings_in_a_tensorflow_only_process(trained, tmp_path):
    from keras_genmodels.export import export_model
    from tests.serving import call_signatures

    texts = TEXTS + ["", "☃☃", "a thin seven " * 20]
    ids = trained.vectorize(texts)
    expected = trained.embed_texts(texts)
    version = export_model(trained, "text_encoder", base_dir=tmp_path / "sm")
    out = call_signatures(version, {"embed": {"text": np.array(texts)},
                                    "embed_ids": {"caption_ids": ids}})
    np.testing.assert_allclose(out["embed"]["embedding"], expected, atol=1e-5)
    np.testing.assert_allclose(out["embed_ids"]["embedding"], expected, atol=1e-5)


def test_frozen_encoder_stays_frozen_after_loading_and_layers_are_built(tmp_path):
    enc = TextImageEncoder(list("abc "), max_length=16, image_shape=(8, 8, 1), **TINY)
    assert all(layer.built for layer in enc._flatten_layers())     # no data-batch build needed
    enc.trainable = False
    assert not enc.trainable_variables
    enc.save(tmp_path / "frozen.keras")
    loaded = keras.models.load_model(tmp_path / "frozen.keras")
    assert not loaded.trainable and not loaded.trainable_variables
    assert len(loaded.non_trainable_variables) == len(enc.non_trainable_variables)
