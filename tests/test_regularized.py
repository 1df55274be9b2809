"""Sparse, denoising and contractive autoencoders; penalties; corruption;
the linear-autoencoder = PCA theorem."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.layers.corruption import Corruption, corrupt, corruption_map
from keras_genmodels.losses import penalties as P
from keras_genmodels.models.autoencoder import Autoencoder
from keras_genmodels.models.regularized import (ContractiveAutoencoder,
                                                DenoisingAutoencoder,
                                                SparseAutoencoder)
from tests.conftest import to_numpy

SHAPE = (8, 8, 1)


def _flat(x):
    return np.asarray(x).reshape(len(x), -1)


# --- penalties -------------------------------------------------------------
def test_sparsity_penalties_match_numpy():
    rng = np.random.RandomState(0)
    h = rng.uniform(0.01, 0.99, size=(32, 6)).astype("float32")
    rho, rho_hat = 0.05, h.mean(0)
    expected = np.sum(rho * np.log(rho / rho_hat)
                      + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    assert float(to_numpy(P.kl_sparsity(h, rho))) == pytest.approx(expected, rel=1e-5)
    assert float(to_numpy(P.bernoulli_kl(0.3, ops.convert_to_tensor([0.3])))[0]) \
        == pytest.approx(0.0, abs=1e-7)
    np.testing.assert_allclose(to_numpy(P.l1_activity(h - 0.5)),
                               np.abs(h - 0.5).sum(-1), rtol=1e-6)


@pytest.mark.parametrize("hidden", [(), (32,)], ids=["shallow", "deep"])
def test_contractive_estimates_agree(digits_split, hidden):
    """Closed form = exact (1e-5 relative); the VJP and JVP estimates,
    averaged over 200 single-projection draws, within 5% of exact: for the
    batch mean (the penalty's value) and on average per sample (a single
    sample's 200-draw mean has ~2.5% relative std here, so its max over 16
    samples is not a stable bound)."""
    x = digits_split[2][:16]
    cae = ContractiveAutoencoder(SHAPE, 16, hidden_units=hidden, seed=3,
                                 code_activation="sigmoid")
    exact = to_numpy(cae.contraction(x, method="exact"))
    assert exact.shape == (16,) and exact.min() > 0
    if not hidden:
        assert cae.method == "closed_form"
        closed = to_numpy(cae.contraction(x, method="closed_form"))
        np.testing.assert_allclose(closed, exact, rtol=1e-5)
    else:
        assert cae.method == "vjp"
    for mode in ("vjp", "jvp"):
        estimate = to_numpy(cae.contraction(x, method=mode, num_projections=200))
        assert abs(estimate.mean() / exact.mean() - 1) < 0.05, mode
        assert np.mean(np.abs(estimate / exact - 1)) < 0.05, mode
        single = to_numpy(cae.contraction(x, method=mode, num_projections=1))
        assert not np.allclose(single, exact, rtol=0.01)  # really random


def test_estimate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode must be one of"):
        P.jacobian_frobenius_estimate(lambda z: z, np.ones((2, 3), "float32"), mode="fd")
    with pytest.raises(ValueError, match="needs code_shape"):
        P.jacobian_frobenius_estimate(lambda z: z, np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="closed_form' needs a one-layer sigmoid"):
        ContractiveAutoencoder(SHAPE, 4, hidden_units=(8,), jacobian="closed_form",
                               code_activation="sigmoid")
    with pytest.raises(ValueError, match="needs code_activation='sigmoid'"):
        SparseAutoencoder(SHAPE, 4, code_activation="relu")


# --- linear autoencoder = PCA ----------------------------------------------
def test_linear_autoencoder_spans_pca_subspace(digits_split):
    """A linear AE with MSE at its global minimum spans the top-k principal
    subspace (Baldi & Hornik 1989). Inputs are mean-centred, as PCA's are
    (the AE's biases could absorb the mean; centring only conditions the
    problem), and trained full-batch with Adam: 300 steps."""
    import tensorflow as tf
    from scipy.linalg import subspace_angles
    from sklearn.decomposition import PCA

    x_tr, _, x_te, _ = digits_split
    mean = x_tr.mean(0)
    x_tr, x_te = x_tr - mean, x_te - mean
    pca = PCA(8).fit(_flat(x_tr))
    pca_mse = np.mean((pca.inverse_transform(pca.transform(_flat(x_te)))
                       - _flat(x_te)) ** 2)
    ae = Autoencoder(SHAPE, 8, hidden_units=(), code_activation=None,
                     output_activation=None)
    ae.compile(optimizer=keras.optimizers.Adam(0.02))
    full_batch = tf.data.Dataset.from_tensors(x_tr).repeat()
    ae.fit(full_batch, epochs=1, steps_per_epoch=300, shuffle=False, verbose=0)
    kernel = to_numpy(ae.decoder.layers[-2].kernel)  # (8, 64)
    angle = subspace_angles(kernel.T, pca.components_.T).max()
    ae_mse = np.mean((_flat(to_numpy(ae.reconstruct(x_te))) - _flat(x_te)) ** 2)
    assert angle < 0.1
    assert abs(ae_mse / pca_mse - 1) < 0.02


# --- sparse ----------------------------------------------------------------
def test_sparse_mean_activation_near_target(digits_split):
    x_tr, _, x_te, _ = digits_split
    sae = SparseAutoencoder(SHAPE, 32, hidden_units=(), sparsity_target=0.05)
    sae.compile(optimizer=keras.optimizers.Adam(0.01))
    history = sae.fit(x_tr, epochs=15, batch_size=128, verbose=0).history
    assert "sparsity" in history and "penalty" not in history
    assert history["sparsity"][-1] < history["sparsity"][0]
    rho_hat = to_numpy(sae.encode(x_te)).mean()
    assert abs(rho_hat / 0.05 - 1) < 0.2, rho_hat


def test_l1_sparsity_penalty_value(digits_split):
    x = digits_split[2][:32]
    sae = SparseAutoencoder(SHAPE, 8, sparsity="l1", code_activation="relu",
                            sparsity_weight=0.5)
    code = sae.encode(x)
    (penalty,) = sae.penalties(x, code)
    expected = 0.5 * np.abs(to_numpy(code)).sum(-1).mean()
    assert float(to_numpy(penalty)) == pytest.approx(expected, rel=1e-5)


# --- corruption and denoising ----------------------------------------------
def test_corruption_kinds_and_seeding():
    x = np.full((64, 8, 8, 1), 0.5, "float32")
    masked = to_numpy(corrupt(x, "masking", 0.3, seed=1))
    assert set(np.unique(masked)) <= {0.0, 0.5}
    assert 0.25 < np.mean(masked == 0) < 0.35
    salted = to_numpy(corrupt(x, "salt_and_pepper", 0.4, seed=1))
    assert 0.17 < np.mean(salted == 0) < 0.23 and 0.17 < np.mean(salted == 1) < 0.23
    noisy = to_numpy(corrupt(x, "gaussian", 0.1, seed=1))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert np.std(noisy) == pytest.approx(0.1, rel=0.1)
    layer_a, layer_b = Corruption("gaussian", 0.5, seed=7), Corruption("gaussian", 0.5, seed=7)
    first = to_numpy(layer_a(x, training=True))
    np.testing.assert_array_equal(first, to_numpy(layer_b(x, training=True)))
    assert not np.array_equal(first, to_numpy(layer_a(x, training=True)))
    np.testing.assert_array_equal(to_numpy(layer_a(x)), x)  # inference: identity
    with pytest.raises(ValueError, match="corruption must be one of"):
        Corruption("blur")
    with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
        Corruption("masking", 1.5)


def test_corruption_map_feeds_tf_data():
    import tensorflow as tf

    x = np.full((10, 8, 8, 1), 0.5, "float32")

    def run():
        ds = tf.data.Dataset.from_tensor_slices(x).map(corruption_map("masking", 0.5, seed=3))
        return [(a.numpy(), b.numpy()) for a, b in ds]

    first, second = run(), run()
    np.testing.assert_array_equal(first[0][1], x[0])  # clean target kept
    assert 0.3 < np.mean(np.stack([a for a, _ in first]) == 0) < 0.7
    np.testing.assert_array_equal(np.stack([a for a, _ in first]),
                                  np.stack([a for a, _ in second]))


def test_denoising_corrupts_in_training_only(digits_split):
    x = digits_split[2][:16]
    dae = DenoisingAutoencoder(SHAPE, 8, corruption="masking", noise_level=1.0, seed=0)
    trained_view = to_numpy(dae(x, training=True))  # every input masked to 0
    np.testing.assert_allclose(trained_view, np.broadcast_to(trained_view[:1], trained_view.shape))
    assert np.std(to_numpy(dae.reconstruct(x)), axis=0).max() > 1e-4


def test_denoising_beats_noisy_input(digits_split):
    x_tr, _, x_te, _ = digits_split
    dae = DenoisingAutoencoder(SHAPE, 32, corruption="gaussian", noise_level=0.5,
                               seed=0, hidden_units=(128,))
    dae.compile(optimizer=keras.optimizers.Adam(3e-3))
    dae.fit(x_tr, epochs=6, batch_size=64, verbose=0)
    noisy = to_numpy(corrupt(x_te, "gaussian", 0.5, seed=1))
    noisy_mse = np.mean((noisy - x_te) ** 2)
    out_mse = np.mean((to_numpy(dae.reconstruct(noisy)) - x_te) ** 2)
    assert out_mse < noisy_mse / 2, (out_mse, noisy_mse)


# --- contractive -----------------------------------------------------------
def test_contractive_training_lowers_jacobian(digits_split):
    x_tr, _, x_te, _ = digits_split
    results = {}
    for weight in (0.0, 1e-3):
        keras.utils.set_random_seed(1)
        model = ContractiveAutoencoder(SHAPE, 32, hidden_units=(), code_activation="sigmoid",
                                       contractive_weight=weight)
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        model.fit(x_tr, epochs=10, batch_size=128, verbose=0)
        jac = to_numpy(model.contraction(x_te, method="exact")).mean()
        mse = np.mean((_flat(to_numpy(model.reconstruct(x_te))) - _flat(x_te)) ** 2)
        results[weight] = (jac, mse)
    (plain_jac, plain_mse), (cae_jac, cae_mse) = results[0.0], results[1e-3]
    assert cae_jac < 0.7 * plain_jac, results
    assert cae_mse < 1.15 * plain_mse, results


# --- serialisation and export ----------------------------------------------
MODELS = {
    "sparse": (SparseAutoencoder, dict(sparsity_target=0.1, sparsity_weight=1.0,
                                       hidden_units=(16,), dropout=0.1)),
    "denoising": (DenoisingAutoencoder, dict(corruption="salt_and_pepper",
                                             noise_level=0.2, seed=4)),
    "contractive": (ContractiveAutoencoder, dict(hidden_units=(16,), jacobian="jvp",
                                                 num_projections=2, seed=5)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip(digits_split, tmp_path, name):
    cls, kwargs = MODELS[name]
    x = digits_split[0][:128]
    model = cls(SHAPE, 8, **kwargs)
    model.compile(optimizer="adam")
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    assert cls.from_config(model.get_config()).get_config() == model.get_config()
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is cls and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(to_numpy(loaded.reconstruct(x[:8])),
                               to_numpy(model.reconstruct(x[:8])), atol=1e-6)
    history = loaded.fit(x, epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(history["loss"][0])


def test_export_serves_reconstruct(digits_split, tmp_path):
    from keras_genmodels.export import export_model
    from tests.serving import call_saved_model

    x = digits_split[2][:5]
    dae = DenoisingAutoencoder(SHAPE, 8, corruption="masking", noise_level=0.3, seed=0)
    path = export_model(dae, "denoising_autoencoder", base_dir=tmp_path)
    served = call_saved_model(path, "reconstruct", x=x)  # one TF process: ~5 s
    np.testing.assert_allclose(served["x_hat"], to_numpy(dae.reconstruct(x)), atol=1e-5)
