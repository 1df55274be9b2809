"""Pix2Pix: U-Net and PatchGAN shapes, the L1 term on (generated, target) only, save/load
resume, `.keras` files across backends, the `translate` signature served from a
TensorFlow-only process, bad input, `genmodels train pix2pix` and `translate-image`."""

import argparse
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels.data import DataError
from keras_genmodels.data.paired import paired_dataset
from keras_genmodels.models.pix2pix import Pix2Pix
from keras_genmodels.networks.patchgan import patchgan_discriminator, receptive_field
from keras_genmodels.networks.unet import default_unet_filters, unet_generator
from tests.conftest import to_numpy
from tests.serving import call_signatures

ROOT = pathlib.Path(__file__).resolve().parents[1]


def tiny(**kwargs):
    kwargs = {"image_shape": (8, 8, 1), "output_channels": 1, "generator_filters": (4, 8),
              "discriminator_filters": (4, 8), "seed": 1, **kwargs}
    return Pix2Pix(**kwargs)


def pairs(n=32, seed=0):
    rng = np.random.default_rng(seed)
    targets = rng.random((n, 8, 8, 1)).astype("float32")
    return (targets > 0.5).astype("float32"), targets


def iterations(model):
    return {n: int(to_numpy(o.iterations)) for n, o in model.phase_optimizers.items()}


# --- networks ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,channels", [((28, 28, 1), 1), ((32, 32, 3), 3),
                                            ((32, 32, 1), 3)])
def test_unet_output_has_the_input_spatial_shape(shape, channels):
    depth = len(default_unet_filters(shape))   # 28 x 28: 2 stride-2 blocks; 32 x 32: 3
    assert default_unet_filters(shape) == (64, 128, 256)[:depth]
    assert depth == (2 if shape[0] == 28 else 3)
    net = unet_generator(shape, channels, filters=default_unet_filters(shape, base=4))
    x = np.random.default_rng(0).random((2,) + shape).astype("float32")
    y = to_numpy(net(x, training=False))
    assert y.shape == (2,) + shape[:2] + (channels,)
    assert 0.0 <= y.min() and y.max() <= 1.0
    # Skip connections: the deepest decoder block is concatenated with an encoder block.
    assert sum(isinstance(layer, keras.layers.Concatenate) for layer in net.layers) \
        == len([layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)
                and not isinstance(layer, keras.layers.Conv2DTranspose)]) - 1
    model = Pix2Pix(shape, channels, generator_filters=(4, 8), discriminator_filters=(4,))
    assert model.output_image_shape == shape[:2] + (channels,)
    assert to_numpy(model.translate(x)).shape == (2,) + model.output_image_shape


def test_patchgan_logit_sees_only_its_patch():
    """One logit of a (64, 128)-style PatchGAN depends on a 16 x 16 input patch only."""
    assert receptive_field(2) == 16 and receptive_field(4) == 70   # the paper's 70 x 70
    net = patchgan_discriminator((32, 32, 2), filters=(4, 8))
    x = np.random.default_rng(0).random((1, 32, 32, 2)).astype("float32")
    base = to_numpy(net(x, training=False))
    assert base.shape == (1, 16, 16, 1)
    moved = x.copy()
    moved[0, 31, 31] += 1.0   # bottom-right pixel: far from logit (0, 0)
    out = to_numpy(net(moved, training=False))
    assert out[0, 0, 0, 0] == base[0, 0, 0, 0]
    assert np.abs(out - base)[0, -2:, -2:].max() > 0


# --- the objective ------------------------------------------------------------------------

def test_l1_term_uses_generated_and_target_only():
    rng = np.random.default_rng(1)
    inputs, targets = pairs(8)
    generated = rng.random(targets.shape).astype("float32")
    by_hand = float(np.mean(np.abs(targets - generated)))
    other_inputs = 1.0 - inputs   # every input pixel changed, output held fixed
    for l1_only in (True, False):
        model = tiny(l1_only=l1_only, l1_weight=100.0)
        total, logs = model.generator_objective(inputs, targets, generated)
        total2, logs2 = model.generator_objective(other_inputs, targets, generated)
        assert float(logs["l1"]) == pytest.approx(by_hand, rel=1e-6)
        assert float(logs2["l1"]) == float(logs["l1"])
        l1_part = float(total) - (0.0 if l1_only else float(logs["g_adversarial"]))
        assert l1_part == pytest.approx(100.0 * by_hand, rel=1e-5)
        if l1_only:
            assert float(total2) == float(total) and "g_adversarial" not in logs
        else:   # the input conditions D, so only the adversarial term may move
            assert float(total2) - float(logs2["g_adversarial"]) == pytest.approx(
                100.0 * by_hand, rel=1e-5)


def test_l1_only_has_one_generator_phase_on_lambda_l1():
    inputs, targets = pairs(32)
    model = tiny(l1_only=True)
    model.compile()
    assert model.discriminator is None and list(model.phase_optimizers) == ["generator"]
    before = [w.copy() for w in model.generator.get_weights()]
    history = model.fit(inputs, targets, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert set(history.history) == {"g_loss", "l1"}
    np.testing.assert_allclose(history.history["g_loss"], 100 * np.array(history.history["l1"]),
                               rtol=1e-5)
    assert iterations(model) == {"generator": 4}
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.generator.get_weights()))


# --- save / load ---------------------------------------------------------------------------

def test_save_load_resumes_identically(tmp_path):
    inputs, targets = pairs(64)

    def compiled():
        model = tiny()
        model.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-3, 0.5),
                                  "generator": keras.optimizers.Adam(2e-3, 0.5)})
        return model

    model = compiled()
    model.fit(inputs, targets, batch_size=16, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "p2p.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Pix2Pix and loaded.get_config() == model.get_config()
    assert iterations(loaded) == iterations(model) == {"discriminator": 4, "generator": 4}
    h_model = model.fit(inputs, targets, batch_size=16, epochs=1, verbose=0,
                        shuffle=False).history
    h_loaded = loaded.fit(inputs, targets, batch_size=16, epochs=1, verbose=0,
                          shuffle=False).history
    assert set(h_model) == {"d_loss", "g_loss", "g_adversarial", "l1", "d_real", "d_fake"}
    for key, values in h_model.items():
        assert h_loaded[key][0] == pytest.approx(values[0], abs=1e-5), key
    np.testing.assert_allclose(to_numpy(loaded.translate(inputs)),
                               to_numpy(model.translate(inputs)), atol=1e-5)


_LOAD_ELSEWHERE = r"""
import json, sys
import numpy as np
import keras
import keras_genmodels.models.registry
model = keras.models.load_model(sys.argv[1])
x = np.load(sys.argv[2])
print(json.dumps(keras.ops.convert_to_numpy(model.translate(x)).tolist()))
"""


def test_keras_file_translates_identically_on_the_other_backends(tmp_path):
    inputs, targets = pairs(16)
    model = tiny()
    model.compile()
    model.fit(inputs, targets, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "p2p.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", inputs[:4])
    expected = to_numpy(model.translate(inputs[:4]))
    here = keras.backend.backend()
    for other in sorted({"tensorflow", "jax", "torch"} - {here}):
        env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=str(ROOT),
                   TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(path),
                               str(tmp_path / "x.npy")],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        got = np.array(json.loads(proc.stdout.strip().splitlines()[-1]))
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"{here} -> {other}")


def test_translate_signature_served_from_tensorflow_only_process(tmp_path):
    from keras_genmodels.export import export_model

    model = tiny(image_shape=(8, 8, 2), output_channels=3)   # 2 -> 3 channels, untrained
    x = np.random.default_rng(2).random((5, 8, 8, 2)).astype("float32")   # batch 5: dynamic
    expected = to_numpy(model.translate(x))
    version = export_model(model, "pix2pix", base_dir=tmp_path / "sm")
    served = call_signatures(version, {sig: {"image": x}
                                       for sig in ("translate", "serving_default")})
    for sig in ("translate", "serving_default"):
        got = served[sig]["image"]
        assert got.shape == (5, 8, 8, 3)
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=sig)


# --- bad input -----------------------------------------------------------------------------

def test_bad_input_raises_clear_errors_before_training():
    model = tiny()
    model.compile()
    inputs, targets = pairs(16)
    with pytest.raises(ValueError, match=r"expected images as float images of shape "
                                         r"\(N, 8, 8, 1\).*received shape \(2, 9, 9, 1\)"):
        model.translate(np.zeros((2, 9, 9, 1), "float32"))
    with pytest.raises(ValueError, match=r"\(N, 8, 8, 1\).*received shape \(2, 8, 8, 3\)"):
        model.translate(np.zeros((2, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        model.translate(np.full((2, 8, 8, 1), 3.0, "float32"))
    with pytest.raises(ValueError, match=r"\(input, target\) image pairs.*images x only"):
        model.fit(targets, epochs=1, verbose=0)
    import tensorflow as tf

    unpaired = tf.data.Dataset.from_tensor_slices(targets).batch(8)
    with pytest.raises(ValueError, match=r"\(input, target\) image pairs.*single elements"):
        model.fit(unpaired, epochs=1, verbose=0)
    wrong = paired_dataset(np.zeros((8, 16, 16, 1), "float32"), pairs="resolution", scale=2)
    with pytest.raises(ValueError, match=r"expected target images of shape \(8, 8, 1\).*"
                                         r"received \(16, 16, 1\)"):
        model.fit(wrong, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"expected input images.*\(8, 8, 1\).*\(8, 8, 3\)"):
        model.fit(np.zeros((8, 8, 8, 3), "float32"), targets[:8], epochs=1, verbose=0)
    assert iterations(model) == {"discriminator": 0, "generator": 0}
    with pytest.raises(ValueError, match="divisible by 2\\*\\*len\\(filters\\) = 8"):
        Pix2Pix((28, 28, 1), generator_filters=(4, 8, 16))
    with pytest.raises(ValueError, match="l1_weight"):
        tiny(l1_weight=-1.0)


# --- the CLI -------------------------------------------------------------------------------

def test_train_task_then_translate_image_on_png_and_npy(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from keras_genmodels.tasks import pix2pix as task
    from keras_genmodels.tasks import translate_image
    from keras_genmodels.tasks.common import TaskError

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    data = tmp_path / "imgs.npz"
    np.savez(data, x=(rng.random((40, 8, 8)) * 255).astype("uint8"))
    parser = argparse.ArgumentParser()
    task.add_arguments(parser)
    base = dict(dataset=str(data), test_dataset=None, data_dir=None, epochs=1, batch_size=16,
                seed=0, name="p2p", export_dir=tmp_path / "sm", no_export=True,
                allow_non_finite=False, verbose=0, checkpoint_dir=None)
    args = parser.parse_args(["--pairs", "resolution", "--scale", "4"])
    args.__dict__.update(base)
    bad = tmp_path / "ten.npz"
    np.savez(bad, x=np.zeros((40, 10, 10), "uint8"))
    args.dataset = str(bad)
    with pytest.raises(DataError, match="divisible by scale=4"):
        task.train(args)
    assert not (tmp_path / "sm").exists()
    args = parser.parse_args(["--generator-filters", "4,8", "--discriminator-filters", "4"])
    args.__dict__.update(base)
    model = task.train(args)
    out = tmp_path / "sm" / "p2p"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["pairs"] == "edges" and 0.0 <= metrics["l1"] <= 1.0
    assert (out / "translations.png").is_file() and (out / "model.keras").is_file()

    edges = (rng.random((8, 8)) > 0.5).astype("uint8") * 255
    Image.fromarray(edges).save(tmp_path / "edges.png")
    ns = argparse.Namespace(model=out / "model.keras", input=tmp_path / "edges.png", out=None,
                            batch_size=256)
    written = translate_image.run(ns)
    assert written == pathlib.Path("edges_translated.png")
    expected = to_numpy(model.translate((edges / 255.0).astype("float32")[None, ..., None]))
    got = np.asarray(Image.open(tmp_path / written), dtype="float32") / 255.0
    np.testing.assert_allclose(got, expected[0, ..., 0], atol=0.5 / 255 + 1e-6)
    batch = rng.random((3, 8, 8, 1)).astype("float32")
    np.save(tmp_path / "batch.npy", batch)
    ns.input, ns.out = tmp_path / "batch.npy", tmp_path / "out.npy"
    translate_image.run(ns)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), to_numpy(model.translate(batch)),
                               atol=1e-6)
    np.save(tmp_path / "rgb.npy", rng.random((8, 8, 3)).astype("float32"))
    ns.input = tmp_path / "rgb.npy"
    with pytest.raises(TaskError, match=r"shape \(8, 8, 1\).*received .*\(8, 8, 3\).*1-channel"):
        translate_image.run(ns)
    ns.input, ns.out = tmp_path / "batch.npy", tmp_path / "out.jpg"
    with pytest.raises(TaskError, match="--out ending in .png or .npy"):
        translate_image.run(ns)
    assert "saved" in capsys.readouterr().out
