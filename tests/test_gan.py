"""The GAN family: k discriminator steps, save/load resume, the optimal
discriminator D*, the WGAN-GP penalty, the R1 regulariser, packing, DCGAN shapes, the stabilisers
(hinge losses, spectral normalisation, a wider D, TTUR/EMA from the CLI), and
the `generate` SavedModel signature served from a TensorFlow-only process."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.export import export_model
from keras_genmodels.losses import adversarial as L
from keras_genmodels.models.gan import GAN, WGANGP
from keras_genmodels.networks.gan import SpectralNormalization, default_filters
from tests.conftest import to_numpy
from tests.serving import call_saved_model

RING = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1)


def ring_data(n, seed=0):
    rng = np.random.default_rng(seed)
    return (RING[rng.integers(8, size=n)] + 0.05 * rng.standard_normal((n, 2))).astype("float32")


def tiny_gan(cls=GAN, **kwargs):
    kwargs = {"data_shape": (2,), "latent_dim": 2, "generator_units": (8,),
              "discriminator_units": (8,), "seed": 1, **kwargs}
    return cls(**kwargs)


def iterations(model):
    return {n: int(to_numpy(o.iterations)) for n, o in model.phase_optimizers.items()}


# --- losses ---------------------------------------------------------------

def test_losses_match_closed_forms_and_are_stable():
    r = np.array([[-3.0], [0.5], [2.0]], "float32")
    f = np.array([[1.0], [-0.5], [-4.0]], "float32")
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    expected_d = -np.mean(np.log(sig(r))) - np.mean(np.log(1 - sig(f)))
    assert float(L.discriminator_loss(r, f)) == pytest.approx(expected_d, rel=1e-5)
    assert float(L.generator_minimax_loss(f)) == pytest.approx(
        np.mean(np.log(1 - sig(f))), rel=1e-5)
    assert float(L.generator_non_saturating_loss(f)) == pytest.approx(
        -np.mean(np.log(sig(f))), rel=1e-5)
    assert float(L.discriminator_loss(np.zeros((4, 1)), np.zeros((4, 1)))) == \
        pytest.approx(2 * math.log(2), rel=1e-6)
    # Logits far beyond float32's sigmoid range stay finite.
    big = np.array([[200.0], [-200.0]], "float32")
    assert float(L.discriminator_loss(big, -big)) == pytest.approx(200.0, rel=1e-5)
    assert float(L.generator_non_saturating_loss(-big[:1])) == pytest.approx(200.0, rel=1e-5)


def test_hinge_losses_match_closed_forms_and_ignore_scores_beyond_the_margin():
    r = np.array([[2.0], [0.5], [-1.0]], "float32")
    f = np.array([[-3.0], [0.0], [0.25]], "float32")
    # mean(relu(1 - r)) = (0 + 0.5 + 2) / 3; mean(relu(1 + f)) = (0 + 1 + 1.25) / 3
    assert float(L.discriminator_hinge_loss(r, f)) == pytest.approx(2.5 / 3 + 2.25 / 3,
                                                                      rel=1e-6)
    assert float(L.generator_hinge_loss(f)) == pytest.approx(-(-3.0 + 0.0 + 0.25) / 3,
                                                            rel=1e-6)
    # Past the margins (real >= 1, fake <= -1) D's hinge loss is 0, the logistic one is not.
    assert float(L.discriminator_hinge_loss(r[:1] + 5, f[:1] - 5)) == 0.0
    assert float(L.discriminator_loss(r[:1] + 5, f[:1] - 5)) > 0.0


# --- the training step ----------------------------------------------------

def test_chunks_are_consecutive_and_distinct():
    model = tiny_gan(discriminator_steps=3, packing=2)
    x = np.arange(26, dtype="float32").reshape(13, 2)  # 13 = 3 chunks of 4, 1 left
    chunks = [to_numpy(model._chunk(ops.convert_to_tensor(x), i)[0]) for i in range(3)]
    for i, c in enumerate(chunks):
        np.testing.assert_array_equal(c, x[4 * i:4 * i + 4])


def test_k3_gives_three_discriminator_updates_per_generator_update():
    model = tiny_gan(discriminator_steps=3)
    model.compile()
    history = model.fit(ring_data(384), batch_size=96, epochs=2, verbose=0, shuffle=False)
    assert iterations(model) == {"discriminator": 24, "generator": 8}
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_optimizer_and_seed_state_survive_save_and_training_resumes(tmp_path):
    """Two Adam optimizers, k=2: a model saved after 2 epochs, reloaded and
    trained one more epoch gives the same losses as the uninterrupted run."""
    x = ring_data(256)

    def compiled():
        model = tiny_gan(discriminator_steps=2, prior="uniform")
        model.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-2, 0.5),
                                  "generator": keras.optimizers.Adam(5e-3, 0.5)})
        return model

    model = compiled()
    model.fit(x, batch_size=64, epochs=2, verbose=0, shuffle=False)
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is GAN and loaded.prior == "uniform"
    assert iterations(loaded) == iterations(model) == {"discriminator": 16, "generator": 8}
    np.testing.assert_array_equal(to_numpy(loaded.seed_generator.state),
                                  to_numpy(model.seed_generator.state))
    h_model = model.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False).history
    h_loaded = loaded.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False).history
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert h_loaded[key][0] == pytest.approx(h_model[key][0], abs=1e-5), key
    for a, b in zip(model.generator.get_weights(), loaded.generator.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert iterations(loaded) == {"discriminator": 24, "generator": 12}


def normal_pdf(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def test_trained_discriminator_matches_optimal_discriminator():
    """G frozen as the affine map G(z) = 1.0 z + 0.0 of z ~ N(0, 1), so
    p_g = N(0, 1); data N(1, 0.5^2). D trained alone approaches
    D*(x) = p_data / (p_data + p_g) (Goodfellow et al., Prop. 1)."""
    model = GAN(data_shape=(1,), latent_dim=1, generator_units=(),
                discriminator_units=(32, 32), seed=0)
    model.generator.set_weights([np.ones((1, 1), "float32"), np.zeros((1,), "float32")])
    steps, batch = 700, 2048
    lr = keras.optimizers.schedules.CosineDecay(1e-2, steps, alpha=0.05)
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(lr),
                              "generator": keras.optimizers.SGD(0.0)})  # frozen
    rng = np.random.default_rng(0)
    # A generator of ready batches: torch's array adapter would index
    # 2.8M samples one by one.
    data = (((1.0 + 0.5 * rng.standard_normal((batch, 1))).astype("float32"),)
            for _ in range(steps))
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    grid = np.linspace(-6, 6, 601).astype("float32")[:, None]
    p_data, p_g = normal_pdf(grid, 1.0, 0.5), normal_pdf(grid, 0.0, 1.0)
    d_star = p_data / (p_data + p_g)
    region = (p_data + p_g) >= 0.05 * (p_data + p_g).max()
    d = to_numpy(model.discriminate(grid))
    assert np.abs(d - d_star)[region].max() < 0.05
    np.testing.assert_array_equal(model.generator.get_weights()[0], [[1.0]])


# --- WGAN-GP --------------------------------------------------------------

def test_wgan_gp_penalty_matches_finite_differences():
    """The penalty from the backend input gradient against central finite
    differences of the same critic re-evaluated in float64 NumPy (its
    weights: Dense(16, leaky_relu 0.2) -> Dense(1))."""
    model = tiny_gan(WGANGP, discriminator_units=(16,))
    x_hat = np.random.default_rng(0).standard_normal((5, 2)).astype("float32")
    gp = float(to_numpy(model.penalty(ops.convert_to_tensor(x_hat))))
    w1, b1, w2, b2 = [w.astype("float64") for w in model.discriminator.get_weights()]

    def critic(x):
        h = x @ w1 + b1
        return (np.where(h > 0, h, 0.2 * h) @ w2 + b2)[:, 0]

    step = 1e-6
    grads = np.stack([(critic(x_hat + step * e) - critic(x_hat - step * e)) / (2 * step)
                      for e in np.eye(2)], axis=1)
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
    assert gp == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert expected > 1e-3  # a non-trivial penalty


def test_wgan_gp_interpolation_coefficient_is_uniform_per_sample():
    model = tiny_gan(WGANGP)
    real = ops.ones((4000, 2))
    fake = ops.zeros((4000, 2))
    eps = to_numpy(model.interpolate(real, fake, seed=3))
    np.testing.assert_array_equal(eps[:, 0], eps[:, 1])  # one coefficient per sample
    assert eps.min() >= 0.0 and eps.max() <= 1.0  # a normal draw would leave [0, 1]
    assert eps.mean() == pytest.approx(0.5, abs=0.03)
    assert eps.var() == pytest.approx(1 / 12, abs=0.01)


def test_wgan_gp_trains_with_packing_and_k():
    model = tiny_gan(WGANGP, discriminator_steps=2, packing=2)
    model.compile()
    history = model.fit(ring_data(128), batch_size=64, epochs=1, verbose=0)
    assert iterations(model) == {"discriminator": 4, "generator": 2}
    assert history.history["gradient_penalty"][0] > 0
    assert all(np.isfinite(v[0]) for v in history.history.values())



def test_r1_regulariser_matches_finite_differences_on_packed_real_samples():
    """D's loss with r1_weight = gamma is the logistic loss + gamma/2 * R1, R1 the mean
    squared input-gradient norm of D's logit over the *packed* real samples, against
    central finite differences of the same D in float64 NumPy."""
    gamma = 3.0
    model = tiny_gan(discriminator_units=(16,), packing=2, r1_weight=gamma)
    rng = np.random.default_rng(0)
    real, fake = (rng.standard_normal((6, 2)).astype("float32") for _ in range(2))
    loss, logs = model.discriminator_objective(real, fake, None)
    w1, b1, w2, b2 = [w.astype("float64") for w in model.discriminator.get_weights()]

    def logit(packed):                      # (n, 4) packs of two 2-d samples
        h = packed @ w1 + b1
        return (np.where(h > 0, h, 0.2 * h) @ w2 + b2)[:, 0]

    packed = real.astype("float64").reshape(3, 4)      # consecutive samples form a pack
    step = 1e-6
    grads = np.stack([(logit(packed + step * e) - logit(packed - step * e)) / (2 * step)
                      for e in np.eye(4)], axis=1)
    r1 = np.mean(np.sum(grads ** 2, axis=1))
    assert float(to_numpy(logs["r1_penalty"])) == pytest.approx(r1, rel=1e-4)
    plain = L.discriminator_loss(model.discriminator_logits(real),
                                 model.discriminator_logits(fake))
    assert float(to_numpy(loss)) == pytest.approx(
        float(to_numpy(plain)) + 0.5 * gamma * r1, rel=1e-4)
    assert 0.5 * gamma * r1 > 1e-3                     # the term is not negligible


def test_r1_regulariser_trains_logs_and_round_trips(tmp_path):
    model = tiny_gan(r1_weight=10.0)
    model.compile()
    history = model.fit(ring_data(128), batch_size=64, epochs=2, verbose=0)
    assert history.history["r1_penalty"][-1] > 0
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    model.save(tmp_path / "r1.keras")
    assert keras.saving.load_model(tmp_path / "r1.keras").r1_weight == 10.0
    off = tiny_gan()
    off.compile()
    assert "r1_penalty" not in off.fit(ring_data(64), batch_size=64, verbose=0).history
    assert "r1_weight" not in off.get_config()          # files without R1 are unchanged
    with pytest.raises(ValueError, match=r"expected r1_weight >= 0.*received -1"):
        tiny_gan(r1_weight=-1.0)
    with pytest.raises(ValueError, match="expected r1_weight=0 for WGANGP"):
        tiny_gan(WGANGP, r1_weight=1.0)


# --- packing, networks, validation ------------------------------------------

def test_pacgan_packs_consecutive_samples_along_last_axis():
    vec = tiny_gan(packing=2)
    x = np.arange(8, dtype="float32").reshape(4, 2)
    np.testing.assert_array_equal(to_numpy(vec.pack(x)), [[0, 1, 2, 3], [4, 5, 6, 7]])
    assert vec.discriminator.input_shape == (None, 4)
    img = GAN(data_shape=(8, 8, 1), latent_dim=4, architecture="dcgan",
              filters=(4, 2), packing=3)
    images = np.random.rand(6, 8, 8, 1).astype("float32")
    packed = to_numpy(img.pack(images))
    assert packed.shape == (2, 8, 8, 3)
    np.testing.assert_array_equal(packed[1, ..., 2], images[5, ..., 0])
    assert img.discriminator.input_shape == (None, 8, 8, 3)


@pytest.mark.parametrize("shape,first", [((8, 8, 1), (2, 2)), ((28, 28, 1), (7, 7)),
                                         ((32, 32, 3), (4, 4))])
def test_dcgan_networks_for_each_image_size(shape, first):
    filters = default_filters(shape)
    assert len(filters) == int(math.log2(shape[0] // first[0]))
    model = GAN(data_shape=shape, latent_dim=4, architecture="dcgan", packing=2,
                filters=tuple(max(f // 32, 2) for f in filters), num_classes=3,
                output_activation="sigmoid")
    reshape = [l for l in model.generator.layers if isinstance(l, keras.layers.Reshape)]
    assert tuple(reshape[0].output.shape[1:3]) == first
    assert model.generator.output_shape == (None,) + shape
    assert model.discriminator.input_shape == [(None,) + shape[:2] + (2 * shape[2],),
                                               (None, 6)]
    assert model.discriminator.output_shape == (None, 1)


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="expected generator_loss to be one of"):
        tiny_gan(generator_loss="wasserstein")
    with pytest.raises(ValueError, match="expected discriminator_loss to be one of"):
        tiny_gan(discriminator_loss="least_squares")
    with pytest.raises(ValueError, match="expected spectral_normalization True or False"):
        tiny_gan(spectral_normalization="yes")
    with pytest.raises(ValueError, match="discriminator_filters=None for architecture='mlp'"):
        tiny_gan(discriminator_filters=(8,))
    with pytest.raises(ValueError, match="expected prior to be one of"):
        tiny_gan(prior="cauchy")
    with pytest.raises(ValueError, match="expected data_shape \\(H, W, C\\)"):
        tiny_gan(architecture="dcgan")
    with pytest.raises(ValueError, match="expected labels for a conditional GAN"):
        tiny_gan(num_classes=3).generate(np.zeros((1, 2), "float32"))


def test_evaluate_raises_instead_of_reporting_zeros():
    model = tiny_gan()
    model.compile()
    before = iterations(model)
    for call in (lambda: model.evaluate(ring_data(64), verbose=0),
                 lambda: model.test_on_batch(ring_data(64))):
        with pytest.raises(NotImplementedError, match="no single loss"):
            call()
    assert iterations(model) == before


# --- conditional GAN and export --------------------------------------------

def test_conditional_dcgan_trains_and_serves_generate_from_tensorflow(tmp_path, digits_split):
    x, y = digits_split[0][:64], digits_split[1][:64]
    model = GAN(data_shape=(8, 8, 1), latent_dim=4, architecture="dcgan", filters=(8, 4),
                output_activation="sigmoid", num_classes=10, seed=0)
    model.compile()
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert iterations(model) == {"discriminator": 2, "generator": 2}
    assert np.isfinite(history.history["g_loss"][0])
    path = export_model(model, "cgan", base_dir=tmp_path)
    latent = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    label = np.array([0, 3, 3, 9, 1], "int32")
    served = call_saved_model(path, "generate", latent=latent, label=label)
    np.testing.assert_allclose(served["image"], to_numpy(model.generate(latent, label)),
                               atol=1e-5)


def test_unconditional_generate_signature_served_from_tensorflow(tmp_path):
    model = tiny_gan()
    path = export_model(model, "gan", base_dir=tmp_path)
    latent = np.random.default_rng(1).standard_normal((3, 2)).astype("float32")
    served = call_saved_model(path, "generate", latent=latent)
    assert set(served) == {"image"}
    np.testing.assert_allclose(served["image"], to_numpy(model.generate(latent)), atol=1e-5)


# --- stabilisers: spectral normalisation, hinge loss, wider D, TTUR/EMA ------

@pytest.mark.parametrize("layer,shape", [(keras.layers.Dense(3), (4, 5)),
                                         (keras.layers.Conv2D(3, 3, padding="same"),
                                          (2, 5, 5, 2))])
def test_spectral_normalization_computes_with_w_over_its_largest_singular_value(layer, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    sn = SpectralNormalization(layer)
    sn(x)
    layer.kernel.assign(3.0 * to_numpy(layer.kernel))      # sigma far from 1
    kernel = to_numpy(layer.kernel).copy()
    for _ in range(40):                      # power iterations converge on sigma
        sn(x, training=True)
    # The kernel variable keeps W (Keras's own wrapper overwrites it with W / sigma).
    np.testing.assert_array_equal(to_numpy(layer.kernel), kernel)
    sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    reference = type(layer).from_config(layer.get_config())
    reference.build(shape)
    reference.set_weights([kernel / sigma, to_numpy(layer.bias)])
    np.testing.assert_allclose(to_numpy(sn(x)), to_numpy(reference(x)), rtol=1e-3, atol=1e-4)
    assert sigma > 1.5                       # so the check above could fail


def test_stabilised_dcgan_trains_and_round_trips_through_keras_file(tmp_path):
    model = GAN(data_shape=(8, 8, 1), latent_dim=4, architecture="dcgan", filters=(4, 2),
                discriminator_filters=(12, 6, 3), discriminator_loss="hinge",
                generator_loss="hinge", spectral_normalization=True,
                output_activation="sigmoid", seed=0)
    convs = [l for l in model.discriminator.layers if isinstance(l, SpectralNormalization)]
    assert [l.layer.filters for l in convs[:-1]] == [3, 6, 12]     # D: 3 blocks, wider
    assert isinstance(convs[-1].layer, keras.layers.Dense)
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    fake = to_numpy(model.generate(np.zeros((16, 4), "float32")))
    for _ in range(15):       # converge the power iterations, so training calls agree
        model.discriminator_logits(x, training=True)
    loss, logs = model.discriminator_objective(x, fake, None)
    real_l = model.discriminator_logits(x, training=False)
    fake_l = model.discriminator_logits(fake, training=False)
    expected = L.discriminator_hinge_loss(real_l, fake_l)
    assert float(to_numpy(loss)) == pytest.approx(float(to_numpy(expected)), rel=1e-4)
    model.compile(optimizers={"discriminator": keras.optimizers.Adam(4e-4),
                              "generator": keras.optimizers.Adam(1e-4, use_ema=True)})
    u_before = to_numpy(convs[0].vector_u).copy()     # u moves while the kernels train
    history = model.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert not np.allclose(to_numpy(convs[0].vector_u), u_before)  # power iteration ran
    model.save(tmp_path / "sn.keras")
    loaded = keras.saving.load_model(tmp_path / "sn.keras")
    config = loaded.get_config()
    assert (config["discriminator_loss"], config["generator_loss"],
            config["spectral_normalization"], tuple(config["discriminator_filters"])) == \
        ("hinge", "hinge", True, (12, 6, 3))
    np.testing.assert_allclose(to_numpy(loaded.discriminate(x)), to_numpy(model.discriminate(x)),
                               atol=1e-5)


def test_generator_output_kernel_draws_the_image_with_a_stride_1_conv(tmp_path):
    model = GAN(data_shape=(8, 8, 1), latent_dim=4, architecture="dcgan", filters=(4, 2),
                output_activation="sigmoid", generator_output_kernel_size=3, seed=0)
    last = model.generator.layers[-1]
    assert isinstance(last, keras.layers.Conv2D) and \
        not isinstance(last, keras.layers.Conv2DTranspose)
    assert (last.kernel_size, last.strides, last.activation.__name__) == \
        ((3, 3), (1, 1), "sigmoid")
    # the last upsampling block now ends in BN + ReLU at full resolution, 2 channels
    assert model.generator.layers[-2].output.shape[1:] == (8, 8, 2)
    plain = GAN(data_shape=(8, 8, 1), latent_dim=4, architecture="dcgan", filters=(4, 2),
                output_activation="sigmoid", seed=0)
    assert isinstance(plain.generator.layers[-1], keras.layers.Conv2DTranspose)
    z = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    images = to_numpy(model.generate(z))
    assert images.shape == (5, 8, 8, 1) and images.min() >= 0.0 and images.max() <= 1.0
    model.save(tmp_path / "k3.keras")
    loaded = keras.saving.load_model(tmp_path / "k3.keras")
    assert loaded.generator_output_kernel_size == 3
    np.testing.assert_allclose(to_numpy(loaded.generate(z)), images, atol=1e-6)
    with pytest.raises(ValueError, match="generator_output_kernel_size=None for "
                                         "architecture='mlp'"):
        tiny_gan(generator_output_kernel_size=3)
    with pytest.raises(ValueError, match="generator_output_kernel_size"):
        GAN(data_shape=(8, 8, 1), architecture="dcgan", filters=(4, 2),
            generator_output_kernel_size=0)


def test_cli_dcgan_exposes_stabilisers_ttur_and_ema():
    import argparse

    from keras_genmodels.tasks import gan as task

    parser = argparse.ArgumentParser()
    task.add_arguments(parser)
    args = parser.parse_args(["--discriminator-loss", "hinge", "--generator-loss", "hinge",
                              "--spectral-normalization", "--discriminator-filters", "8,4",
                              "--filters", "4,2", "--learning-rate", "1e-4",
                              "--discriminator-learning-rate", "4e-4",
                              "--generator-ema", "0.99", "--output-kernel-size", "3",
                              "--r1-weight", "5"])
    args.model, args.seed = "dcgan", 0
    model = task.build(args, (8, 8, 1))
    assert (model.discriminator_loss, model.generator_loss, model.spectral_normalization,
            model.discriminator_filters, model.generator_output_kernel_size,
            model.r1_weight) == ("hinge", "hinge", True, (8, 4), 3, 5.0)
    d, g = model.phase_optimizers["discriminator"], model.phase_optimizers["generator"]
    assert float(to_numpy(d.learning_rate)) == pytest.approx(4e-4)
    assert float(to_numpy(g.learning_rate)) == pytest.approx(1e-4)
    assert (g.use_ema, g.ema_momentum, d.use_ema) == (True, 0.99, False)
    for bad in ("1.0", "-0.1", "x"):       # an EMA momentum is refused by the parser
        with pytest.raises(SystemExit):
            parser.parse_args(["--generator-ema", bad])
    args.model = "wgan_gp"                 # the critic has its own penalty: R1 is refused
    with pytest.raises(ValueError, match="expected --r1-weight 0 for wgan_gp"):
        task.build(args, (8, 8, 1))
    # Defaults keep the lecture's GAN: logistic D, non-saturating G, no SN, no EMA.
    plain = task.build(parser.parse_args([]).__class__(**{**vars(parser.parse_args([])),
                                                          "model": "dcgan", "seed": 0}),
                       (8, 8, 1))
    assert (plain.discriminator_loss, plain.generator_loss, plain.spectral_normalization,
            plain.phase_optimizers["generator"].use_ema,
            plain.generator_output_kernel_size, plain.r1_weight) == \
        ("logistic", "non_saturating", False, False, None, 0.0)
