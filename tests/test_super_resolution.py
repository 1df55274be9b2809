"""SuperResolution (SRResNet / SRGAN) and the DepthToSpace layer, on every backend."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels.layers.depth_to_space import DepthToSpace
from keras_genmodels.metrics.feature_networks import build_feature_network
from keras_genmodels.models.super_resolution import SuperResolution, area_downsample
from keras_genmodels.networks.srresnet import content_network
from tests.conftest import to_numpy
from tests.serving import call_signatures

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = dict(filters=8, num_blocks=1, discriminator_filters=(4,), discriminator_units=8)


def pairs(n=32, shape=(8, 8, 1), scale=2, seed=0):
    high = np.random.RandomState(seed).rand(n, *shape).astype("float32")
    return to_numpy(area_downsample(high, scale)), high


def json_config(model):
    return json.loads(json.dumps(model.get_config()))  # tuples and lists compare equal


def tiny_srgan(shape=(8, 8, 1), scale=2):
    features = content_network(build_feature_network(shape, 3), ["conv1", "conv2"])
    return SuperResolution(shape, scale, adversarial=True, content_network=features, **TINY)


# --- depth to space -----------------------------------------------------------------


def reference_depth_to_space(x, b):
    """out[n, h*b + i, w*b + j, c] = x[n, h, w, (i*b + j)*C + c], element by element."""
    n, h, w, cb = x.shape
    c = cb // (b * b)
    out = np.zeros((n, h * b, w * b, c), x.dtype)
    for hh in range(h):
        for ww in range(w):
            for i in range(b):
                for j in range(b):
                    k = i * b + j
                    out[:, hh * b + i, ww * b + j, :] = x[:, hh, ww, k * c:(k + 1) * c]
    return out


@pytest.mark.parametrize("block, shape", [(2, (2, 3, 5, 12)), (3, (1, 2, 2, 18)),
                                          (4, (3, 1, 2, 16))])
def test_depth_to_space_equals_reference_reshape_transposition(block, shape):
    x = np.random.RandomState(block).randn(*shape).astype("float32")
    expected = reference_depth_to_space(x, block)
    np.testing.assert_array_equal(to_numpy(DepthToSpace(block)(x)), expected)
    # The same as numpy's reshape/transposition, and as TensorFlow's op.
    n, h, w, c = shape
    c //= block * block
    numpy_way = x.reshape(n, h, w, block, block, c).transpose(0, 1, 3, 2, 4, 5).reshape(
        n, h * block, w * block, c)
    np.testing.assert_array_equal(expected, numpy_way)
    import tensorflow as tf

    np.testing.assert_array_equal(tf.nn.depth_to_space(x, block).numpy(), expected)
    # Inside a functional model with a dynamic spatial size; round trip of its config.
    inputs = keras.Input((None, None, shape[-1]))
    model = keras.Model(inputs, DepthToSpace(block)(inputs))
    np.testing.assert_array_equal(to_numpy(model(x)), expected)
    clone = keras.Model.from_config(model.get_config())
    np.testing.assert_array_equal(to_numpy(clone(x)), expected)


def test_depth_to_space_rejects_bad_block_or_channels():
    with pytest.raises(ValueError, match="expected block_size >= 2"):
        DepthToSpace(1)
    with pytest.raises(ValueError, match="divisible by 4, received 6"):
        DepthToSpace(2)(np.zeros((1, 2, 2, 6), "float32"))


# --- shapes, losses ----------------------------------------------------------------


@pytest.mark.parametrize("shape, scale", [((28, 28, 1), 4), ((32, 32, 3), 2)])
def test_output_shape_is_input_times_scale(shape, scale):
    model = SuperResolution(shape, scale, filters=8, num_blocks=1)
    low = np.random.RandomState(0).rand(3, shape[0] // scale, shape[1] // scale,
                                        shape[2]).astype("float32")
    assert model.low_res_shape == (shape[0] // scale, shape[1] // scale, shape[2])
    assert model.generator.output_shape == (None,) + shape
    out = model.translate(low, batch_size=2)
    assert out.shape == (3,) + shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(
        out, np.clip(to_numpy(model.generator(low, training=False)), 0, 1), atol=1e-6)


@pytest.mark.parametrize("skip", ["nearest", "bilinear"])
def test_upsample_skip_adds_the_interpolated_input_and_survives_the_config(skip):
    model = SuperResolution((8, 8, 1), 2, filters=4, num_blocks=1, upsample_skip=skip)
    out_conv = model.generator.get_layer("generator_conv_out")
    out_conv.set_weights([np.zeros_like(w) for w in out_conv.get_weights()])
    low = np.random.RandomState(0).rand(2, 4, 4, 1).astype("float32")
    out = to_numpy(model.generator(low, training=False))
    if skip == "nearest":  # residual branch zeroed: the output is the interpolation itself
        np.testing.assert_allclose(out, low.repeat(2, 1).repeat(2, 2), atol=1e-6)
    else:
        import tensorflow as tf

        np.testing.assert_allclose(out, tf.image.resize(low, (8, 8), "bilinear").numpy(),
                                   atol=1e-5)
    clone = SuperResolution.from_config(json_config(model))
    assert clone.upsample_skip == skip and clone.generator_config() == model.generator_config()
    with pytest.raises(ValueError, match="expected a generator like"):
        SuperResolution((8, 8, 1), 2, filters=4, num_blocks=1).init_generator_from(model)
    with pytest.raises(ValueError, match=r"upsample_skip in \(None, 'nearest', 'bilinear'\)"):
        SuperResolution((8, 8, 1), 2, filters=4, num_blocks=1, upsample_skip="bicubic")


def test_area_downsample_is_the_block_mean():
    x = np.random.RandomState(0).rand(2, 8, 12, 3).astype("float32")
    expected = x.reshape(2, 2, 4, 3, 4, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(to_numpy(area_downsample(x, 4)), expected, atol=1e-6)
    import tensorflow as tf

    np.testing.assert_allclose(tf.image.resize(x, (2, 3), method="area").numpy(), expected,
                               atol=1e-6)


def test_srgan_generator_loss_is_content_plus_weighted_adversarial():
    low, high = pairs()
    model = tiny_srgan()
    model.compile()
    logs = model.fit(low, high, batch_size=32, epochs=1, verbose=0, shuffle=False).history
    g, content, adv = logs["g_loss"][0], logs["content_loss"][0], logs["adversarial_loss"][0]
    assert g == pytest.approx(content + 1e-3 * adv, rel=1e-5)
    # Content loss is the feature distance, not the pixel MSE it also reports.
    assert content != pytest.approx(logs["mse"][0], rel=1e-2)
    assert set(model.phase_optimizers) == {"discriminator", "generator"}
    assert [int(to_numpy(o.iterations)) for o in model.phase_optimizers.values()] == [1, 1]
    # The frozen content network never changes.
    before = [w.copy() for w in model.content_network.get_weights()]
    model.fit(low, high, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(before, model.content_network.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_init_generator_from_srresnet_copies_weights_and_checks_architecture():
    low, _ = pairs(4)
    srresnet = SuperResolution((8, 8, 1), 2, filters=8, num_blocks=1)
    srgan = tiny_srgan()
    srgan.init_generator_from(srresnet)
    np.testing.assert_allclose(srgan.translate(low), srresnet.translate(low), atol=1e-6)
    other = SuperResolution((8, 8, 1), 2, filters=4, num_blocks=1)
    with pytest.raises(ValueError, match="expected a generator like"):
        srgan.init_generator_from(other)


# --- saving, resuming, exporting -----------------------------------------------------


@pytest.mark.parametrize("adversarial", [False, True])
def test_save_load_resumes_identically(tmp_path, adversarial):
    low, high = pairs(48)
    model = tiny_srgan() if adversarial else SuperResolution((8, 8, 1), 2, **TINY)
    model.compile(optimizers={p.name: keras.optimizers.Adam(3e-3) for p in model.phases()})
    model.fit(low, high, batch_size=16, epochs=2, verbose=0, shuffle=False)
    path = tmp_path / "sr.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is SuperResolution
    assert json_config(loaded) == json_config(model)
    assert ({n: int(to_numpy(o.iterations)) for n, o in loaded.phase_optimizers.items()}
            == {n: 6 for n in model.phase_optimizers})
    np.testing.assert_array_equal(loaded.translate(low), model.translate(low))
    h_model = model.fit(low, high, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    h_loaded = loaded.fit(low, high, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    assert set(h_model) == set(h_loaded)
    for key in h_model:
        assert h_loaded[key][0] == pytest.approx(h_model[key][0], abs=1e-5), key
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


_LOAD_ELSEWHERE = r"""
import json, sys
import numpy as np, keras
import keras_genmodels.models.super_resolution  # registers the class
model = keras.models.load_model(sys.argv[1])
print(json.dumps(model.translate(np.load(sys.argv[2])).tolist()))
"""


def test_keras_round_trip_across_backends(tmp_path):
    low, high = pairs(16)
    model = tiny_srgan()
    model.compile()
    model.fit(low, high, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "srgan.keras"
    model.save(path)
    np.save(tmp_path / "low.npy", low)
    expected = model.translate(low)
    # One direction per backend run, a cycle over the three runs of the suite
    # (tensorflow -> jax -> torch -> tensorflow): every backend saves and every backend loads.
    here = keras.backend.backend()
    cycle = ["tensorflow", "jax", "torch"]
    for other in [cycle[(cycle.index(here) + 1) % 3]]:
        env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=str(ROOT),
                   TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(path),
                               str(tmp_path / "low.npy")],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out = np.array(json.loads(proc.stdout.strip().splitlines()[-1]))
        np.testing.assert_allclose(out, expected, atol=1e-5, err_msg=f"{here} -> {other}")


def test_translate_export_served_from_tensorflow_only_process_matches(tmp_path):
    from keras_genmodels.export import export_model

    low, high = pairs(16, (8, 8, 3))
    model = SuperResolution((8, 8, 3), 2, **TINY)
    model.compile()
    model.fit(low, high, batch_size=8, epochs=1, verbose=0)
    expected = model.translate(low)
    version = export_model(model, "srresnet", base_dir=tmp_path / "sm")
    sigs = ("translate", "serving_default")
    served = call_signatures(version, {sig: {"image": low[:5]} for sig in sigs})
    served_one = call_signatures(version, {sig: {"image": low[:1]} for sig in sigs})
    for sig in sigs:
        assert served[sig]["image"].shape == (5, 8, 8, 3)
        np.testing.assert_allclose(served[sig]["image"], expected[:5], atol=1e-5)
        np.testing.assert_allclose(served_one[sig]["image"], expected[:1], atol=1e-5)


# --- bad input ------------------------------------------------------------------------


def test_bad_construction_and_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"divisible by scale=4, received \(30, 30, 1\)"):
        SuperResolution((30, 30, 1), 4)
    with pytest.raises(ValueError, match="power of two"):
        SuperResolution((24, 24, 1), 3)
    with pytest.raises(ValueError, match=r"content_network taking images \(8, 8, 1\)"):
        SuperResolution((8, 8, 1), 2, content_network=build_feature_network((8, 8, 3), 3))
    model = SuperResolution((8, 8, 1), 2, **TINY)
    model.compile()
    low, high = pairs(8)
    with pytest.raises(ValueError, match="high-resolution images\\? downsample them first"):
        model.translate(high)
    with pytest.raises(ValueError, match=r"\(N, 4, 4, 1\).*received shape \(8, 4, 4, 3\)"):
        model.translate(np.repeat(low, 3, axis=-1))
    with pytest.raises(ValueError, match="divide by 255"):
        model.translate((low * 255).astype("uint8"))


def test_bad_training_data_is_refused_before_training():
    import tensorflow as tf

    model = SuperResolution((8, 8, 1), 2, **TINY)
    model.compile()
    low, high = pairs(8)
    wrong = [
        ((high, high), r"pairs of shapes \(N, 4, 4, 1\) and \(N, 8, 8, 1\) \(scale 2\), "
                       r"received \(N, 8, 8, 1\) and \(N, 8, 8, 1\)"),
        ((np.repeat(low, 3, -1), np.repeat(high, 3, -1)), r"received \(N, 4, 4, 3\)"),
        ((tf.data.Dataset.from_tensor_slices(high).batch(4), None), "unpaired dataset"),
        ((high, None), "unpaired dataset"),
        ((tf.data.Dataset.from_tensor_slices((low[:, :2], high)).batch(4), None),
         r"received \(N, 2, 4, 1\)"),
    ]
    for (x, y), message in wrong:
        with pytest.raises(ValueError, match=message):
            model.fit(x, y, epochs=1, verbose=0)
    assert int(to_numpy(model.phase_optimizers["generator"].iterations)) == 0


def test_cli_trains_exports_and_refuses_an_indivisible_scale(tmp_path, capsys):
    from keras_genmodels import cli

    rng = np.random.RandomState(0)
    good = tmp_path / "good.npz"
    np.savez(good, x=(rng.rand(40, 8, 8) * 255).astype("uint8"))
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=(rng.rand(40, 10, 10) * 255).astype("uint8"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "srgan", "--scale", "4", "--dataset", str(bad),
                  "--export-dir", str(tmp_path / "out"), "--verbose", "0"])
    assert exit_info.value.code == 2
    assert "divisible by scale=4" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.keras"))
    code = cli.main(["train", "srgan", "--scale", "2", "--dataset", str(good), "--epochs", "2",
                     "--batch-size", "8", "--filters", "8", "--blocks", "1",
                     "--content-layers", "pixels", "--export-dir", str(tmp_path / "out"),
                     "--verbose", "0"])
    assert code == 0
    out = tmp_path / "out" / "srgan"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["adversarial"] is True and np.isfinite(metrics["model_psnr_db"])
    loaded = keras.models.load_model(out / "model.keras")
    assert loaded.adversarial and loaded.scale == 2 and loaded.content_network is None
    # pretraining (epochs // 2 = 1 MSE epoch) ran, then the adversarial stage.
    assert int(to_numpy(loaded.phase_optimizers["discriminator"].iterations)) == 2 * (36 // 8)
    assert (out / "1" / "saved_model.pb").is_file() and (out / "comparison.png").is_file()
