"""VAE family: losses, IWAE estimator, β, warm-up, conditional sampling,
interpolation, pictures, `.keras` round trip and TF-Serving export."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.layers.sampling import GaussianSampling
from keras_genmodels.losses.kl import bernoulli_nll
from keras_genmodels.losses.kl import gaussian_kl
from keras_genmodels.losses.kl import gaussian_log_prob
from keras_genmodels.losses.kl import gaussian_nll
from keras_genmodels.metrics.iwae import elbo
from keras_genmodels.metrics.iwae import iwae_log_likelihood
from keras_genmodels.models.vae import VAE
from keras_genmodels.models.vae import interpolate_latents

if keras.backend.backend() == "torch":
    import torch

    # Two intra-op threads on a shared 2-core machine made steps ~10x slower.
    torch.set_num_threads(1)


def np_(x):
    return ops.convert_to_numpy(x)


@pytest.fixture(scope="module")
def trained_vae(digits_split):
    x_train = digits_split[0]
    keras.utils.set_random_seed(1)
    model = VAE(image_shape=(8, 8, 1), latent_dim=4, hidden_units=[64], seed=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(x_train, epochs=15, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def trained_cvae(digits_split):
    x_train, y_train = digits_split[:2]
    keras.utils.set_random_seed(2)
    model = VAE(
        image_shape=(8, 8, 1),
        latent_dim=2,
        hidden_units=[128],
        num_classes=10,
        seed=2,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit((x_train, y_train), epochs=10, batch_size=64, verbose=0)
    return model


# --- losses and sampling -------------------------------------------------


def test_analytic_kl_matches_monte_carlo_within_2_percent():
    rng = np.random.default_rng(0)
    mean = rng.normal(0.0, 1.0, (4, 6)).astype("float32")
    log_var = rng.normal(-1.0, 0.5, (4, 6)).astype("float32")
    analytic = np_(gaussian_kl(mean, log_var))
    z = GaussianSampling(seed=3)(mean, log_var, num_samples=50_000)  # (4, n, 6)
    log_q = gaussian_log_prob(z, mean[:, None], log_var[:, None])
    monte_carlo = np_(ops.mean(log_q - gaussian_log_prob(z), axis=1))
    assert analytic.shape == (4,)
    assert np.all(analytic > 1.0)
    np.testing.assert_allclose(monte_carlo, analytic, rtol=0.02)


def test_likelihoods_match_closed_forms():
    x = np.array([[0.0, 1.0, 0.25]], "float32")
    logits = np.array([[-2.0, 3.0, 0.5]], "float32")
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p))
    np.testing.assert_allclose(np_(bernoulli_nll(x, logits)), [expected], rtol=1e-5)
    # Huge logits must not overflow (stable softplus form).
    big = np_(bernoulli_nll(np.ones((1, 2), "float32"), np.full((1, 2), 200.0, "float32")))
    assert np.all(np.isfinite(big)) and big[0] < 1e-6
    mean = np.array([[0.5, -1.0, 2.0]], "float32")
    want = 0.5 * np.sum(np.log(2 * np.pi) + 0.3 + (x - mean) ** 2 / np.exp(0.3))
    np.testing.assert_allclose(np_(gaussian_nll(x, mean, 0.3)), [want], rtol=1e-5)


def test_sampling_layer_is_seeded_and_moments_match():
    mean = np.full((2, 3), 1.5, "float32")
    log_var = np.full((2, 3), np.log(0.25), "float32")
    a = np_(GaussianSampling(seed=7)(mean, log_var, num_samples=20_000))
    b = np_(GaussianSampling(seed=7)(mean, log_var, num_samples=20_000))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 20_000, 3)
    np.testing.assert_allclose(a.mean(axis=1), 1.5, atol=0.02)
    np.testing.assert_allclose(a.std(axis=1), 0.5, atol=0.02)


# --- objective -----------------------------------------------------------


def test_beta_zero_reduces_to_autoencoder_loss(digits_split):
    x = digits_split[0][:32]
    model = VAE(image_shape=(8, 8, 1), latent_dim=3, hidden_units=[16], beta=0.0, seed=0)
    y_pred = model(x)
    loss = float(np_(model.compute_loss(x, y_pred=y_pred, training=False)))
    # The plain autoencoder loss on the same decoded output: Keras's
    # binary cross-entropy (mean over the channel axis) summed over pixels.
    bce = keras.losses.binary_crossentropy(x, y_pred["decoder_output"], from_logits=True)
    autoencoder = float(np.mean(np.sum(np_(bce), axis=(1, 2))))
    kl = float(np.mean(np_(gaussian_kl(y_pred["mean"], y_pred["log_var"]))))
    assert kl > 1e-3  # the KL term is there, β=0 removes it
    assert loss == pytest.approx(autoencoder, rel=1e-5)
    model_beta1 = VAE.from_config({**model.get_config(), "beta": 1.0})
    model_beta1.set_weights(model.get_weights())
    loss1 = float(np_(model_beta1.compute_loss(x, y_pred=y_pred, training=False)))
    assert loss1 == pytest.approx(autoencoder + kl, rel=1e-5)


def test_kl_warmup_is_linear_in_training_steps_under_fit(digits_split):
    x = digits_split[0][:64]
    model = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=[8],
                beta=2.0, kl_warmup_steps=10, seed=0)
    model.compile(optimizer="adam")
    assert float(np_(model.kl_weight())) == 0.0
    model.fit(x, epochs=1, batch_size=16, verbose=0)  # 4 steps
    assert float(np_(model.kl_weight())) == pytest.approx(2.0 * 4 / 10)
    model.evaluate(x, batch_size=16, verbose=0)  # does not advance warm-up
    model.fit(x, epochs=3, batch_size=16, verbose=0)  # 16 steps in all
    assert float(np_(model.kl_weight())) == pytest.approx(2.0)


def test_iwae_objective_is_tighter_than_elbo_objective(trained_vae, digits_split):
    x = digits_split[2][:128]
    iwae_model = VAE.from_config({**trained_vae.get_config(), "iwae_samples": 20})
    iwae_model.set_weights(trained_vae.get_weights())
    elbo_loss = np.mean([
        float(np_(trained_vae.compute_loss(x, training=False))) for _ in range(3)])
    iwae_loss = float(np_(iwae_model.compute_loss(x, training=False)))
    assert iwae_model(x)["decoder_output"].shape == (128, 20, 8, 8, 1)
    assert iwae_loss < elbo_loss - 0.05


def test_conv_gaussian_iwae_variant_trains(digits_split):
    x = digits_split[0][:128]
    model = VAE(image_shape=(8, 8, 1), latent_dim=2, architecture="conv",
                filters=[4], likelihood="gaussian", iwae_samples=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(x, epochs=3, batch_size=64, verbose=0).history
    assert set(history) >= {"loss", "reconstruction", "kl"}
    assert history["loss"][-1] < history["loss"][0]
    assert len(model.trainable_weights) > 0 and model.log_var_x is not None


# --- IWAE estimator ------------------------------------------------------


def test_elbo_below_iwae_and_iwae_non_decreasing_in_k(trained_vae, digits_split):
    x = digits_split[2]
    # Chunks of 10 samples: k=10, k=100 and the ELBO share one set of shapes
    # (JAX's eager mode compiles every op once per shape).
    rows = 10 * len(x)
    bound = elbo(trained_vae, x, num_samples=100, max_rows=rows, seed=0).mean()
    estimates = [iwae_log_likelihood(trained_vae, x, k=k, batch_size=len(x), max_rows=rows,
                                     seed=k).mean() for k in (1, 10, 100)]
    assert bound <= estimates[1] <= estimates[2]
    assert estimates[0] <= estimates[1]
    # L_1 is an unbiased estimate of the ELBO.
    assert abs(estimates[0] - bound) < 0.2
    assert estimates[2] - bound > 0.05  # the gap is real, not rounding


class _ConstantWeights:
    """log w ≡ c per example: every estimate must return exactly c."""

    def __init__(self, values):
        self.values = np.asarray(values, "float32")
        self.calls = []

    def log_importance_weights(self, x, labels, num_samples, seed=None):
        self.calls.append(num_samples)
        idx = np.asarray(x, "int64").reshape(-1)
        return np.broadcast_to(self.values[idx], (num_samples, len(idx)))


def test_iwae_estimator_is_stable_and_chunked():
    model = _ConstantWeights([-1000.0, 0.0, 250.0])
    x = np.arange(3, dtype="float32")
    out = iwae_log_likelihood(model, x, k=5000, batch_size=3, max_rows=3000)
    np.testing.assert_allclose(out, [-1000.0, 0.0, 250.0], atol=1e-3)
    assert model.calls == [1000] * 5  # k split in chunks of max_rows // batch
    with pytest.raises(ValueError, match="expected k >= 1"):
        iwae_log_likelihood(model, x, k=0)


# --- conditional VAE, sampling, interpolation ---------------------------


def test_conditional_samples_are_classified_as_their_label(trained_cvae, digits_split):
    from sklearn.linear_model import LogisticRegression

    x_train, y_train, x_test, y_test = digits_split
    classifier = LogisticRegression(max_iter=2000).fit(x_train.reshape(len(x_train), -1), y_train)
    assert classifier.score(x_test.reshape(len(x_test), -1), y_test) > 0.9
    labels = np.repeat(np.arange(10, dtype="int32"), 50)
    images = np_(trained_cvae.sample(len(labels), labels=labels, seed=0))
    assert images.shape == (500, 8, 8, 1)
    predicted = classifier.predict(images.reshape(len(images), -1))
    assert np.mean(predicted == labels) >= 0.8
    assert np.mean(predicted == (labels + 1) % 10) <= 0.2  # the check can fail
    with pytest.raises(ValueError, match="expected labels"):
        trained_cvae.sample(4)
    with pytest.raises(ValueError, match=r"expected inputs \(images, labels\)"):
        trained_cvae(x_test[:2])


def test_interpolation_endpoints_and_midpoint(trained_vae, digits_split):
    x = digits_split[2][:2]
    mean, _ = trained_vae.encode(x)
    for method in ("linear", "spherical"):
        path = np_(trained_vae.interpolate(x[0], x[1], steps=5, method=method))
        assert path.shape == (5, 8, 8, 1)
        np.testing.assert_allclose(path[0], np_(trained_vae.reconstruct(x[:1]))[0], atol=1e-5)
        np.testing.assert_allclose(path[-1], np_(trained_vae.reconstruct(x[1:]))[0], atol=1e-5)
    m = np_(mean)
    omega = math.acos(np.dot(m[0], m[1]) / np.prod(np.linalg.norm(m, axis=1)))
    slerp_mid = np_(interpolate_latents(mean[:1], mean[1:], 3, "spherical"))[0, 1]
    # slerp(½) = sin(ω/2)/sin(ω) (z1 + z2); lerp(½) = (z1 + z2)/2.
    np.testing.assert_allclose(
        slerp_mid, math.sin(omega / 2) / math.sin(omega) * (m[0] + m[1]), rtol=1e-4)
    lerp_mid = np_(interpolate_latents(mean[:1], mean[1:], 3, "linear"))[0, 1]
    np.testing.assert_allclose(lerp_mid, (m[0] + m[1]) / 2, rtol=1e-5)
    with pytest.raises(ValueError, match="expected method"):
        interpolate_latents(mean[:1], mean[1:], 3, "cubic")


def test_invalid_arguments_raise_before_building():
    with pytest.raises(ValueError, match="expected likelihood"):
        VAE(image_shape=(8, 8, 1), likelihood="poisson")
    with pytest.raises(ValueError, match="expected iwae_samples >= 1"):
        VAE(image_shape=(8, 8, 1), iwae_samples=0)


# --- pictures -------------------------------------------------------------


def test_pictures_are_written(trained_vae, trained_cvae, digits_split, tmp_path):
    import matplotlib.image

    from keras_genmodels.plots import vae as plots

    x, y = digits_split[2], digits_split[3]
    written = [
        plots.save_samples(trained_vae, tmp_path / "samples.png", n=16, nrow=4),
        plots.save_samples(trained_cvae, tmp_path / "cond.png", n=20, nrow=10),
        plots.save_reconstructions(trained_vae, x, tmp_path / "recon.png", n=6),
        plots.save_latent_map(trained_vae, x, y, tmp_path / "map4d.png"),
        plots.save_latent_map(trained_cvae, x, y, tmp_path / "map.png", labels=y),
        plots.save_manifold(trained_cvae, tmp_path / "manifold.png", n=5, label=3),
        plots.save_interpolation(trained_vae, x[:2], x[2:4], tmp_path / "interp.png", steps=6),
    ]
    for path in written:
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 50, path
        assert image[..., :3].std() > 0.01, path  # not blank
    np.testing.assert_allclose(plots.manifold_grid(3)[:, 0], [-1.6449, 0, 1.6449] * 3, atol=1e-4)
    with pytest.raises(ValueError, match="expected a model with latent_dim 2"):
        plots.save_manifold(trained_vae, tmp_path / "no.png")


# --- persistence and serving --------------------------------------------


def test_keras_round_trip_same_outputs_and_trains_on(trained_cvae, digits_split, tmp_path):
    x, y = digits_split[2][:16], digits_split[3][:16]
    path = tmp_path / "cvae.keras"
    trained_cvae.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, VAE) and loaded.num_classes == 10
    for a, b in zip(trained_cvae.encode(x, y), loaded.encode(x, y)):
        np.testing.assert_allclose(np_(a), np_(b), atol=1e-6)
    z = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    np.testing.assert_allclose(np_(trained_cvae.decode(z, y)), np_(loaded.decode(z, y)), atol=1e-6)
    steps = int(np_(loaded.optimizer.iterations))
    assert steps == int(np_(trained_cvae.optimizer.iterations)) > 0
    history = loaded.fit((digits_split[0][:64], digits_split[1][:64]), epochs=1,
                         batch_size=32, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert int(np_(loaded.optimizer.iterations)) == steps + 2


_SERVE_MANY = r"""
import sys
import numpy as np
import tensorflow as tf
requests = np.load(sys.argv[1], allow_pickle=False)
outputs, loaded = {}, {}
for i in range(int(requests["n"])):
    path, signature = str(requests[f"{i}/path"]), str(requests[f"{i}/signature"])
    names = [str(v) for v in requests[f"{i}/names"]]
    fn = loaded.setdefault(path, tf.saved_model.load(path)).signatures[signature]
    result = fn(**{k: tf.constant(requests[f"{i}/in/{k}"]) for k in names})
    outputs.update({f"{i}/{k}": v.numpy() for k, v in result.items()})
assert not any(m.startswith("keras_genmodels") for m in sys.modules)
np.savez(sys.argv[2], **outputs)
"""


def _serve_many(requests, tmp_path):
    """Like `tests.serving.call_saved_model`, for several (path, signature,
    inputs) requests in ONE fresh TensorFlow-only process (each start costs
    ~10 s on the shared test machine)."""
    import subprocess
    import sys

    from tests.serving import _env

    flat = {"n": np.asarray(len(requests))}
    for i, (path, signature, inputs) in enumerate(requests):
        flat[f"{i}/path"] = np.asarray(str(path))
        flat[f"{i}/signature"] = np.asarray(signature)
        flat[f"{i}/names"] = np.asarray(sorted(inputs))
        flat.update({f"{i}/in/{k}": np.asarray(v) for k, v in inputs.items()})
    inp, out = tmp_path / "requests.npz", tmp_path / "responses.npz"
    np.savez(inp, **flat)
    proc = subprocess.run([sys.executable, "-c", _SERVE_MANY, str(inp), str(out)],
                          capture_output=True, text=True, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    responses = [{} for _ in requests]
    for key, value in np.load(out).items():
        i, name = key.split("/", 1)
        responses[int(i)][name] = value
    return responses


def test_export_served_from_tensorflow_only_process(
        trained_vae, trained_cvae, digits_split, tmp_path):
    """The conditional model is exported on every backend (JAX/torch export
    through a TensorFlow subprocess); the unconditional one too under TF,
    where export is in-process and cheap. All signatures are then called in
    one TensorFlow-only process and must match the exporting backend."""
    from keras_genmodels.export import export_model

    x, y = digits_split[2][:5], digits_split[3][:5]
    rng = np.random.default_rng(1)
    models = [("cvae", trained_cvae, {"label": y})]
    if keras.backend.backend() == "tensorflow":
        models.append(("vae", trained_vae, {}))
    requests, expected = [], []
    for name, model, label in models:
        path = export_model(model, name, base_dir=tmp_path / "saved_models")
        assert path.name == "1" and (path / "saved_model.pb").is_file()
        lab = label.get("label")
        noise = rng.normal(size=(5, model.latent_dim)).astype("float32")
        mean, log_var = model.encode(x, lab)
        requests += [
            (path, "sample", {"noise": noise, **label}),
            (path, "decode", {"z": noise, **label}),
            (path, "encode", {"x": x, **label}),
            (path, "serving_default", {"x": x, **label}),
        ]
        expected += [
            {"x": model.decode(noise, lab)},
            {"x": model.decode(noise, lab)},
            {"mean": mean, "log_var": log_var},
            {"x": model.reconstruct(x, lab)},
        ]
    responses = _serve_many(requests, tmp_path)
    for (path, signature, _), want, got in zip(requests, expected, responses):
        assert set(got) == set(want), (path, signature)
        for key in want:
            np.testing.assert_allclose(got[key], np_(want[key]), atol=1e-5,
                                       err_msg=f"{path} {signature} {key}")


# --- command line ----------------------------------------------------------


def test_cli_train_vae_writes_model_pictures_and_metrics(tmp_path, monkeypatch):
    import json

    from keras_genmodels import cli
    from keras_genmodels.tasks import TASKS

    monkeypatch.setitem(TASKS, "vae", "keras_genmodels.tasks.vae")
    cli.main(["train", "vae", "--epochs", "1", "--latent-dim", "2", "--hidden-units", "16",
              "--nll-k", "5", "--no-export", "--verbose", "0", "--export-dir", str(tmp_path)])
    out = tmp_path / "vae"
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"loss", "reconstruction", "kl", "test_nll"}
    assert 0 < metrics["test_nll"] < 64 * math.log(2) * 2  # nats for 8x8 grey digits
    for name in ("model.keras", "samples.png", "reconstructions.png", "latent_map.png",
                 "manifold.png"):
        assert (out / name).is_file(), name
    loaded = keras.models.load_model(out / "model.keras")
    assert isinstance(loaded, VAE) and loaded.latent_dim == 2
