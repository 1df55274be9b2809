"""What a `.keras` file carries between processes and backends: the RNG state of nested
layers, a compile config that does not force one backend's `jit_compile` on another, and
never NaN/inf weights unless asked."""

import json
import zipfile

import keras
import numpy as np
import pytest

from keras_genmodels.callbacks import StopOnNonFinite
from keras_genmodels.models.autoencoder import Autoencoder
from keras_genmodels.models.base import seed_generators
from keras_genmodels.models.regularized import ContractiveAutoencoder, DenoisingAutoencoder
from keras_genmodels.models.vae import VAE
from keras_genmodels.training import NonFiniteWeightsError, check_finite_weights

BACKEND = keras.backend.backend()
OTHER_BACKEND = {"jax": "torch", "torch": "jax", "tensorflow": "jax"}[BACKEND]


def _x(n=32):
    return np.random.default_rng(0).random((n, 8, 8, 1)).astype("float32")


def _states(model):
    return {key: keras.ops.convert_to_numpy(g.state) for key, g in seed_generators(model)}


def _models():
    keras.utils.set_random_seed(0)
    return {
        "vae": VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,), seed=1),
        "dropout_ae": Autoencoder((8, 8, 1), 3, hidden_units=(8,), dropout=0.3),
        "denoising_ae": DenoisingAutoencoder((8, 8, 1), 3, hidden_units=(8,),
                                             corruption="masking", seed=2),
    }


def _rewrite_compile_config(path, update):
    """Edit `compile_config` inside a `.keras` zip (as another backend would have saved it)."""
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    config = json.loads(entries["config.json"])
    update(config["compile_config"])
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)


# ----------------------------------------------------------------- nested RNG state
def test_nested_seed_generator_state_survives_keras_round_trip_and_load_weights(tmp_path):
    for name, model in _models().items():
        # Every SeedGenerator state Keras tracks is found, nested ones included.
        tracked = {id(v) for v in model.variables if v.path.endswith("seed_generator_state")}
        assert {id(g.state) for _, g in seed_generators(model)} == tracked, name
        assert any("." in key for key in _states(model)), name  # some are nested
        initial = _states(model)
        model.compile(optimizer="adam")
        model.fit(_x(), batch_size=8, epochs=1, verbose=0)
        # Move every state away from its initial value (under torch an unseeded Dropout
        # draws from torch's global generator and leaves its own state unchanged).
        for i, (_, generator) in enumerate(seed_generators(model)):
            state = keras.ops.convert_to_numpy(generator.state)
            generator.state.assign(state + np.array([0, 100 + i], state.dtype))
        trained = _states(model)
        assert all(not np.array_equal(trained[k], initial[k]) for k in trained), name
        path = tmp_path / f"{name}.keras"
        model.save(path)

        loaded = keras.models.load_model(path)
        assert set(_states(loaded)) == set(trained), name
        for key, value in _states(loaded).items():
            assert np.array_equal(value, trained[key]), (name, key)

        fresh = _models()[name]  # same architecture, fresh (initial) RNG state
        fresh.load_weights(path)
        for key, value in _states(fresh).items():
            assert np.array_equal(value, trained[key]), (name, key)


def test_files_without_nested_seed_entries_still_load(tmp_path, monkeypatch):
    from keras_genmodels.models.base import GenerativeModel

    model = _models()["vae"]
    direct = [(k, g) for k, g in seed_generators(model) if "." not in k]
    assert direct  # the VAE's own noise generator: the key older files used
    monkeypatch.setattr(GenerativeModel, "_own_seed_generators",
                        lambda self: [(k, g) for k, g in seed_generators(self) if "." not in k])
    model.save(tmp_path / "old.keras")
    monkeypatch.undo()
    loaded = keras.models.load_model(tmp_path / "old.keras")
    assert set(_states(loaded)) == set(_states(model))


# ------------------------------------------------------------------ jit_compile
def _compiled_ae(**kwargs):
    keras.utils.set_random_seed(0)
    model = Autoencoder((8, 8, 1), 3, hidden_units=(8,))
    model.compile(optimizer="adam", **kwargs)
    return model


def test_default_jit_compile_is_saved_as_auto_and_reloads_as_this_backends_default(tmp_path):
    model = _compiled_ae()
    assert model.get_compile_config()["jit_compile"] == "auto"
    default = model.jit_compile
    # A file saved under another backend, claiming jit_compile=True explicitly there,
    # and an older file that stored the resolved value with no backend record.
    for name, update in [
            ("other_backend", lambda c: c.update(jit_compile=not default,
                                                 jit_compile_backend=OTHER_BACKEND)),
            ("old_format", lambda c: c.update(jit_compile=not default))]:
        path = tmp_path / f"{name}.keras"
        model.save(path)
        _rewrite_compile_config(path, update)
        assert keras.models.load_model(path).jit_compile == default, name


def test_explicit_jit_compile_is_kept_under_the_backend_it_was_set_under(tmp_path):
    default = _compiled_ae().jit_compile
    model = _compiled_ae(jit_compile=not default)
    config = model.get_compile_config()
    assert config["jit_compile"] == (not default)
    assert config["jit_compile_backend"] == BACKEND
    model.save(tmp_path / "m.keras")
    assert keras.models.load_model(tmp_path / "m.keras").jit_compile == (not default)


def test_adversarial_model_jit_compile_is_portable(tmp_path):
    from keras_genmodels.models.gan import GAN

    keras.utils.set_random_seed(0)
    gan = GAN(data_shape=(2,), latent_dim=2, generator_units=(4,),
              discriminator_units=(4,), seed=0)
    gan.compile(jit_compile=True)
    assert gan.get_compile_config()["jit_compile_backend"] == BACKEND
    gan.save(tmp_path / "gan.keras")
    _rewrite_compile_config(tmp_path / "gan.keras",
                            lambda c: c.update(jit_compile_backend=OTHER_BACKEND))
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    keras.utils.set_random_seed(0)
    reference = GAN(data_shape=(2,), latent_dim=2, generator_units=(4,),
                    discriminator_units=(4,), seed=0)
    reference.compile()
    assert loaded.jit_compile == reference.jit_compile


def test_contractive_autoencoder_file_claiming_jit_compile_fits_on_this_backend(tmp_path):
    """A CAE file saved under JAX stored jit_compile=True; under torch that meant
    torch.compile and a failing double backward at fit."""
    keras.utils.set_random_seed(0)
    model = ContractiveAutoencoder((8, 8, 1), 3, hidden_units=(8,), jacobian="exact")
    model.compile(optimizer="adam")
    path = tmp_path / "cae.keras"
    model.save(path)
    _rewrite_compile_config(path, lambda c: c.update(jit_compile=True))  # as JAX wrote it
    loaded = keras.models.load_model(path)
    assert loaded.jit_compile == model.jit_compile
    history = loaded.fit(_x(16), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# ------------------------------------------------------------------- non-finite
def test_save_refuses_non_finite_weights_unless_allowed(tmp_path):
    model = _compiled_ae()
    check_finite_weights(model)  # finite: no error
    kernel = model.weights[0]
    value = keras.ops.convert_to_numpy(kernel).copy()
    value.flat[:3] = [np.nan, np.inf, -np.inf]
    kernel.assign(value)
    with pytest.raises(NonFiniteWeightsError, match=rf"{kernel.path} \(3 of {value.size}\)"):
        model.save(tmp_path / "bad.keras")
    assert not (tmp_path / "bad.keras").exists()
    with pytest.raises(ValueError, match="allow_non_finite=True"):
        check_finite_weights(model)
    model.save(tmp_path / "bad.keras", allow_non_finite=True)
    loaded = keras.models.load_model(tmp_path / "bad.keras")
    assert np.isnan(keras.ops.convert_to_numpy(loaded.weights[0])).any()


def test_stop_on_non_finite_stops_training_and_records_where():
    model = _compiled_ae()
    x = _x(32)
    x[20] = np.nan  # batch 2 of 4 (batch_size 8) holds NaN
    guard = StopOnNonFinite()
    history = model.fit(x, batch_size=8, epochs=3, shuffle=False, callbacks=[guard],
                        verbose=0)
    assert guard.triggered and (guard.epoch, guard.batch) == (0, 2)
    assert "loss" in guard.values and "non-finite loss" in guard.message
    assert len(history.history["loss"]) == 1  # stopped in the first epoch
    clean = StopOnNonFinite()
    _compiled_ae().fit(_x(16), batch_size=8, epochs=1, callbacks=[clean], verbose=0)
    assert not clean.triggered and clean.message is None
