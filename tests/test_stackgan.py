"""StackGAN: conditioning augmentation, matching-aware D, frozen stage I, resume, `.keras`
round trip across backends, string-input export served from a TensorFlow-only process, bad
input. Tiny networks on 8x8 images. Runs under every backend."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels.losses import matching as M
from keras_genmodels.models.stackgan import StackGAN
from keras_genmodels.models.text_encoder import TextImageEncoder
from tests.conftest import to_numpy
from tests.serving import call_signatures

ROOT = pathlib.Path(__file__).resolve().parents[1]
CAPTIONS = ["a thin two", "a thick seven slanted to the right", "тонкая семёрка",
            "a small four", "a large upright one", "a medium zero"]
ALPHABET = sorted(set("".join(CAPTIONS)))


def tiny_encoder():
    return TextImageEncoder(ALPHABET, max_length=24, embedding_dim=8, char_dim=4, filters=8,
                            units=8, image_filters=4, image_shape=(8, 8, 1))


def tiny(encoder=None, **kwargs):
    kwargs = dict(dict(image_shape=(8, 8, 1), noise_dim=4, condition_dim=3,
                       stage1_filters=(8, 4), stage2_filters=4, num_residual=1,
                       discriminator_filters=(4,), compressed_dim=4, seed=0), **kwargs)
    if "embedding_dim" not in kwargs:
        kwargs["text_encoder"] = encoder or tiny_encoder()
    return StackGAN(**kwargs)


def pairs(model, n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 8, 8, 1)).astype("float32")
    texts = [CAPTIONS[i % len(CAPTIONS)] for i in range(n)]
    return x, model.ids(texts)


def val(t):
    """NumPy value of a tensor computed outside a training step (detached under torch)."""
    return to_numpy(keras.ops.stop_gradient(keras.ops.convert_to_tensor(t)))


def weights(network):
    return [to_numpy(v).copy() for v in network.weights]


def changed(before, network):
    return [not np.array_equal(a, to_numpy(v)) for a, v in zip(before, network.weights)]


def test_conditioning_augmentation_kl_equals_closed_form():
    model = tiny(kl_weight=2.0)
    phi = np.random.default_rng(1).standard_normal((5, 8)).astype("float32")
    eps = np.random.default_rng(2).standard_normal((5, 3)).astype("float32")
    c, kl = model.condition(1, phi, eps)
    mean, log_var = (val(t) for t in model.conditioning1(phi))
    # Authors' normalisation: the mean over batch and dimensions of ½(σ² + μ² - 1 - log σ²).
    expected = np.mean(0.5 * (np.exp(log_var) + mean ** 2 - 1.0 - log_var))
    assert float(val(kl)) == pytest.approx(expected, rel=1e-5)
    assert expected > 1e-3  # not trivially zero
    np.testing.assert_allclose(val(c), mean + np.exp(0.5 * log_var) * eps, atol=1e-6)
    # KL(N(0, I) || N(0, I)) = 0; a unit shift costs 1/2 nat per dimension.
    assert float(val(M.conditioning_augmentation_kl(np.zeros((2, 4)), np.zeros((2, 4))))) \
        == pytest.approx(0.0, abs=1e-7)
    assert float(val(M.conditioning_augmentation_kl(np.ones((2, 4)), np.zeros((2, 4))))) \
        == pytest.approx(0.5, rel=1e-6)
    # The generator's loss is the adversarial term plus kl_weight * KL.
    fake = np.random.default_rng(3).uniform(0, 1, (5, 4, 4, 1)).astype("float32")
    loss, logs = model.generator_objective(fake, kl, phi)
    adversarial = np.mean(np.logaddexp(0.0, -val(model.discriminator1([fake, phi]))))
    assert float(val(loss)) == pytest.approx(adversarial + 2.0 * expected, rel=1e-5)
    # Without CA: a deterministic compression, no KL, no CA noise in the latent.
    plain = tiny(conditioning_augmentation=False)
    c0, kl0 = plain.condition(1, phi)
    np.testing.assert_allclose(val(c0), val(plain.conditioning1(phi)), atol=1e-6)
    assert float(val(kl0)) == 0.0 and plain.latent_dim == 4 and model.latent_dim == 10


def test_matching_aware_discriminator_loss_has_three_terms_with_stated_labels():
    rng = np.random.default_rng(0)
    real_l, wrong_l, fake_l = (rng.standard_normal((6, 1)).astype("float32") for _ in range(3))

    def bce(logits, label):
        p = 1.0 / (1.0 + np.exp(-logits))
        return float(np.mean(-(label * np.log(p) + (1 - label) * np.log(1 - p))))

    terms = M.matching_aware_terms(real_l, wrong_l, fake_l)
    assert float(val(terms["real"])) == pytest.approx(bce(real_l, 1), rel=1e-5)
    assert float(val(terms["wrong"])) == pytest.approx(bce(wrong_l, 0), rel=1e-5)
    assert float(val(terms["fake"])) == pytest.approx(bce(fake_l, 0), rel=1e-5)
    loss = float(val(M.matching_aware_discriminator_loss(real_l, wrong_l, fake_l)))
    assert loss == pytest.approx(bce(real_l, 1) + 0.5 * (bce(wrong_l, 0) + bce(fake_l, 0)),
                                 rel=1e-5)
    no_wrong = float(val(M.matching_aware_discriminator_loss(real_l, None, fake_l)))
    assert no_wrong == pytest.approx(bce(real_l, 1) + bce(fake_l, 0), rel=1e-5)

    # The model pairs real images with their own φ, with φ rolled by one (mismatched), and
    # generated images with their φ.
    for mismatched in (True, False):
        model = tiny(mismatched_pairs=mismatched)
        real = rng.uniform(0, 1, (4, 4, 4, 1)).astype("float32")
        fake = rng.uniform(0, 1, (4, 4, 4, 1)).astype("float32")
        phi = rng.standard_normal((4, 8)).astype("float32")
        loss, logs = model.discriminator_objective(real, fake, phi)
        d = model.discriminator1
        r, f = val(d([real, phi])), val(d([fake, phi]))
        w = val(d([real, phi[[3, 0, 1, 2]]]))
        expected = bce(r, 1) + (0.5 * (bce(w, 0) + bce(f, 0)) if mismatched else bce(f, 0))
        assert float(val(loss)) == pytest.approx(expected, rel=1e-5), mismatched
        assert float(val(logs["d_wrong"])) == pytest.approx(
            float(np.mean(1 / (1 + np.exp(-w)))), rel=1e-5)


def test_stage_one_is_frozen_while_stage_two_trains():
    model = tiny()
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-2),
                              "generator": keras.optimizers.Adam(1e-2)})
    x, ids = pairs(model)
    stage2_nets = [model.conditioning2, model.generator2, model.discriminator2]
    before2 = [weights(n) for n in stage2_nets]
    encoder_before = weights(model.text_encoder)
    model.fit(x, ids, batch_size=16, epochs=1, verbose=0)
    # Stage 1 trained G0, CA0 and D0; stage II untouched.
    assert all(any(changed(weights_, n)) is False for weights_, n in zip(before2, stage2_nets))
    stage1_nets = [model.conditioning1, model.generator1, model.discriminator1]
    before1 = [weights(n) for n in stage1_nets]
    before2 = [weights(n) for n in stage2_nets]
    model.set_stage(2)
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, ids, batch_size=16, epochs=1, verbose=0)
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-2),
                              "generator": keras.optimizers.Adam(1e-2)})
    history = model.fit(x, ids, batch_size=16, epochs=2, verbose=0)
    for w, n in zip(before1, stage1_nets):  # every weight, BN statistics included
        assert not any(changed(w, n)), n.name
    for w, n in zip(before2, stage2_nets):  # stage II did train
        assert any(changed(w, n)), n.name
    assert not any(changed(encoder_before, model.text_encoder))
    assert {k: int(to_numpy(o.iterations)) for k, o in model.phase_optimizers.items()} == \
        {"discriminator": 4, "generator": 4}
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_save_and_load_resumes_with_the_same_next_losses(tmp_path):
    model = tiny(stage=2)
    x, ids = pairs(model)
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-3, 0.5),
                              "generator": keras.optimizers.Adam(2e-3, 0.5)})
    model.fit(x, ids, batch_size=16, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "stackgan.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is StackGAN and loaded.stage == 2
    same = lambda c: {k: v for k, v in c.items() if k not in ("name", "text_encoder")}  # noqa
    assert same(loaded.get_config()) == same(model.get_config())
    assert loaded.text_encoder.vocabulary == model.text_encoder.vocabulary
    np.testing.assert_array_equal(to_numpy(loaded.seed_generator.state),
                                  to_numpy(model.seed_generator.state))
    h_model = model.fit(x, ids, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    h_loaded = loaded.fit(x, ids, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    for key in StackGAN.log_names:
        assert h_loaded[key][0] == pytest.approx(h_model[key][0], abs=1e-5), key
    for a, b in zip(model.generator2.get_weights(), loaded.generator2.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


_LOAD_ELSEWHERE = r"""
import json, sys
import numpy as np, keras
import keras_genmodels.models.registry
model = keras.models.load_model(sys.argv[1])
noise = np.load(sys.argv[2])
low, high = model.generate(json.loads(sys.argv[3]), noise)
print(json.dumps({"stage1": keras.ops.convert_to_numpy(low).tolist(),
                  "stage2": keras.ops.convert_to_numpy(high).tolist(), "stage": model.stage}))
"""


def test_keras_round_trip_across_backends(tmp_path):
    """Saved here, loaded under the next backend: the same images for the same noise."""
    here = keras.backend.backend()
    model = tiny()
    model.set_stage(2)
    model.compile()
    path = tmp_path / "stackgan.keras"
    model.save(path)
    noise = np.random.default_rng(0).standard_normal((3, model.latent_dim)).astype("float32")
    np.save(tmp_path / "noise.npy", noise)
    texts = CAPTIONS[:3]
    low, high = (to_numpy(t) for t in model.generate(texts, noise))
    # One other backend per run, in a cycle (tensorflow -> jax -> torch -> tensorflow): over the
    # suite's three runs every backend saves and every backend loads, at half the cost.
    cycle = ["tensorflow", "jax", "torch"]
    for other in [cycle[(cycle.index(here) + 1) % 3]]:
        env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=str(ROOT),
                   TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(path),
                               str(tmp_path / "noise.npy"), json.dumps(texts)],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["stage"] == 2
        np.testing.assert_allclose(np.array(result["stage1"]), low, atol=1e-5,
                                   err_msg=f"{here} -> {other}")
        np.testing.assert_allclose(np.array(result["stage2"]), high, atol=1e-5,
                                   err_msg=f"{here} -> {other}")


def test_string_input_export_served_from_tensorflow_only_process(tmp_path):
    """Empty caption, unseen characters and an over-long caption included: each gives the
    Keras model's images (finite) from the served graph."""
    from keras_genmodels.export import export_model

    model = tiny()
    texts = ["a thin two", "", "☃ ₽ 字 ЖЖ", "a thick seven " * 10, "тонкая семёрка"]
    noise = np.random.default_rng(4).standard_normal((5, model.latent_dim)).astype("float32")
    low, high = (to_numpy(t) for t in model.generate(texts, noise))
    assert np.isfinite(low).all() and np.isfinite(high).all()
    version = export_model(model, "stackgan", base_dir=tmp_path / "sm")
    served = call_signatures(version, {sig: {"text": np.array(texts), "noise": noise}
                                       for sig in ("generate", "serving_default")})
    for sig in ("generate", "serving_default"):
        assert set(served[sig]) == {"stage1", "stage2"}
        np.testing.assert_allclose(served[sig]["stage1"], low, atol=1e-5)
        np.testing.assert_allclose(served[sig]["stage2"], high, atol=1e-5)
    assert served["generate"]["stage2"].shape == (5, 8, 8, 1)
    # An over-long caption is read up to the encoder's window.
    over = model.ids(["a thick seven " * 10, ("a thick seven " * 10)[:24]])
    np.testing.assert_array_equal(over[0], over[1])


def test_bad_input_is_refused_with_clear_errors():
    model = tiny()
    noise = np.zeros((2, model.latent_dim), "float32")
    with pytest.raises(ValueError, match=r"noise.*shape"):
        model.generate(["a thin two"] * 2, np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        model.generate(["a", "b"], np.full((2, model.latent_dim), np.nan, "float32"))
    with pytest.raises(ValueError, match="one noise row per caption"):
        model.generate(["a thin two"] * 3, noise)
    with pytest.raises(ValueError, match="strings"):
        model.generate(["a thin two", 3], noise)
    with pytest.raises(ValueError, match="captions"):
        model.sample(2)
    with pytest.raises(ValueError, match="divisible by 4"):
        tiny(image_shape=(10, 10, 1))
    with pytest.raises(ValueError, match="stage 1 or 2"):
        tiny(stage=3)
    with pytest.raises(ValueError, match="kl_weight"):
        tiny(kl_weight=-1.0)
    with pytest.raises(ValueError, match="text_encoder or an embedding_dim"):
        StackGAN(image_shape=(8, 8, 1))
    # Without a text encoder the model takes embeddings (the paper's precomputed setting).
    plain = tiny(embedding_dim=8)
    low, high = plain.generate(np.ones((2, 8), "float32"), noise)
    assert to_numpy(high).shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match="captions"):
        plain.generate(["a thin two"] * 2, noise)


def test_cli_trains_stage_one_then_two_and_samples_a_caption(tmp_path, capsys):
    """`genmodels train stackgan` on a tiny labelled .npz, then `genmodels sample --text`."""
    import argparse

    from keras_genmodels.cli import main
    from keras_genmodels.tasks import stackgan as task

    rng = np.random.default_rng(0)
    x = np.zeros((48, 28, 28), "uint8")
    for i in range(48):  # bars of varying width, height and tilt
        top, width = rng.integers(2, 8), rng.integers(2, 6)
        for r in range(top, 28 - top):
            c = 12 + (r - 14) * (i % 3 - 1) // 4
            x[i, r, c:c + width] = 255
    path = tmp_path / "bars.npz"
    np.savez(path, x=x, y=(np.arange(48) % 10).astype("uint8"))
    parser = argparse.ArgumentParser()
    task.add_arguments(parser)
    args = parser.parse_args(["--encoder-epochs", "1", "--stage1-filters", "8,4",
                              "--stage2-filters", "4", "--residual-blocks", "1",
                              "--noise-dim", "4", "--condition-dim", "3", "--max-minutes", "0"])
    args.__dict__.update(model="stackgan", dataset=str(path), data_dir=None, epochs=1,
                         stage2_epochs=1, batch_size=16, seed=0, name="stackgan",
                         export_dir=tmp_path / "sm", no_export=True, allow_non_finite=False,
                         checkpoint_dir=None, verbose=0)
    model = task.train(args)
    assert model.stage == 2 and model.text_encoder is not None
    for name in ("model.keras", "samples.png", "training.json"):
        assert (tmp_path / "sm" / "stackgan" / name).is_file(), name
    report = json.loads((tmp_path / "sm" / "stackgan" / "training.json").read_text())
    assert report["stage_epochs"] == {"1": 1, "2": 1}
    out = tmp_path / "two.png"
    assert main(["sample", "--model", str(tmp_path / "sm" / "stackgan" / "model.keras"),
                 "--text", "a thin two", "--n", "3", "--out", str(out)]) == 0
    assert out.is_file() and out.stat().st_size > 1000
    with pytest.raises(SystemExit):  # a StackGAN needs a caption
        main(["sample", "--model", str(tmp_path / "sm" / "stackgan" / "model.keras")])
    assert "expected --text" in capsys.readouterr().err
