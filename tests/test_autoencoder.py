"""Autoencoder: architecture, training by fit, save/load (also across
backends), input validation."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_genmodels.models.autoencoder import Autoencoder
from tests.conftest import to_numpy


def test_lecture_preset_is_the_lectures_network():
    ae = Autoencoder.from_preset("lecture", input_shape=(28, 28, 1))
    dense = [l for l in ae.encoder.layers + ae.decoder.layers
             if isinstance(l, keras.layers.Dense)]
    shapes = [tuple(l.kernel.shape) for l in dense]
    assert shapes == [(784, 100), (100, 100), (100, 100), (100, 784)]
    assert all(l.activation is keras.activations.relu for l in dense)
    assert ae.encode(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 100)


@pytest.mark.parametrize("code_size", [8, 100])  # under- and overcomplete
def test_dense_autoencoder_learns_digits(digits_split, code_size):
    x_tr, _, x_te, _ = digits_split
    ae = Autoencoder((8, 8, 1), code_size, hidden_units=(64,))
    ae.compile(optimizer=keras.optimizers.Adam(5e-3))
    before = float(np.mean((to_numpy(ae.reconstruct(x_te)) - x_te) ** 2))
    history = ae.fit(x_tr, batch_size=128, epochs=6, verbose=0)
    after = float(np.mean((to_numpy(ae.reconstruct(x_te)) - x_te) ** 2))
    assert set(history.history) == {"loss", "reconstruction", "penalty"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after < 0.5 * before and after < 0.04, (before, after)


def test_conv_autoencoder_shapes_and_bce(digits_split):
    x_tr = digits_split[0][:256]
    ae = Autoencoder((8, 8, 1), 4, architecture="conv", filters=(8, 16),
                     reconstruction_loss="bce")
    ae.compile(optimizer="adam")
    assert ae.encode(x_tr[:3]).shape == (3, 4)
    assert ae.reconstruct(x_tr[:3]).shape == (3, 8, 8, 1)
    h = ae.fit(x_tr, batch_size=64, epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    # odd sizes are cropped back exactly
    assert Autoencoder((7, 5, 3), 2, architecture="conv").reconstruct(
        np.zeros((1, 7, 5, 3), "float32")).shape == (1, 7, 5, 3)


def test_pairs_train_towards_the_target(digits_split):
    """fit((x_in, target)) compares the reconstruction with the target."""
    x = digits_split[0][:128]
    ae = Autoencoder((8, 8, 1), 8)
    y_pred = ae(x)
    loss_self = float(to_numpy(ae.compute_loss(x, None, y_pred)))
    loss_zero = float(to_numpy(ae.compute_loss(x, np.zeros_like(x), y_pred)))
    assert loss_zero == pytest.approx(float(np.mean(to_numpy(y_pred) ** 2)), rel=1e-5)
    assert loss_self == pytest.approx(float(np.mean((to_numpy(y_pred) - x) ** 2)), rel=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_shape=(8, 8, 1), code_size=0), "expected code_size >= 1"),
    (dict(input_shape=(64,), code_size=4, architecture="conv"), r"expected input_shape \(H, W, C\)"),
    (dict(input_shape=(8, 8, 1), code_size=4, architecture="mlp"), r"expected architecture to be one of \['dense', 'conv'\]"),
    (dict(input_shape=(8, 8, 1), code_size=4, reconstruction_loss="l1"), "Unknown reconstruction loss"),
])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Autoencoder(**kwargs)


def test_wrong_input_shape_is_rejected(digits_split):
    ae = Autoencoder((8, 8, 1), 4)
    ae.compile(optimizer="adam")
    with pytest.raises(ValueError, match="expected shape|incompatible"):
        ae.fit(np.zeros((16, 28, 28, 1), "float32"), epochs=1, verbose=0)


def test_keras_round_trip_same_backend(tmp_path, digits_split):
    x = digits_split[0][:200]
    ae = Autoencoder((8, 8, 1), 8, dropout=0.1)
    ae.compile(optimizer="adam")
    ae.fit(x, epochs=1, batch_size=50, verbose=0)
    ae.save(tmp_path / "ae.keras")
    loaded = keras.models.load_model(tmp_path / "ae.keras")
    assert loaded.get_config() == ae.get_config()
    np.testing.assert_allclose(to_numpy(loaded.reconstruct(x)), to_numpy(ae.reconstruct(x)), atol=1e-6)
    assert int(to_numpy(loaded.optimizer.iterations)) == 4
    loaded.fit(x, epochs=1, batch_size=50, verbose=0)
    assert int(to_numpy(loaded.optimizer.iterations)) == 8


_LOAD_ELSEWHERE = r"""
import json, sys
import numpy as np, keras
import keras_genmodels.models.registry
path, xs = sys.argv[1], np.load(sys.argv[2])
model = keras.models.load_model(path)
out = keras.ops.convert_to_numpy(model.reconstruct(xs))
it0 = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
hist = model.fit(xs, epochs=2, batch_size=25, verbose=0)
print(json.dumps({"out": out.tolist(), "it0": it0,
                  "it1": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
                  "loss": hist.history["loss"]}))
"""


def test_keras_file_loads_and_trains_on_the_other_backends(tmp_path, digits_split):
    """Save under this backend; load under each other backend in a fresh
    process: outputs within 1e-5, optimizer state restored, training goes on.
    (Under torch this checks the torch-optimizer-class trap is fixed.)"""
    here = keras.backend.backend()
    x = digits_split[0][:100]
    ae = Autoencoder((8, 8, 1), 8, hidden_units=(32,))
    ae.compile(optimizer="adam")
    ae.fit(x, epochs=1, batch_size=25, verbose=0)
    ae.save(tmp_path / "ae.keras")
    np.save(tmp_path / "x.npy", x)
    expected = to_numpy(ae.reconstruct(x))
    for other in sorted({"tensorflow", "jax", "torch"} - {here}):
        env = dict(os.environ, KERAS_BACKEND=other)
        proc = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE,
                               str(tmp_path / "ae.keras"), str(tmp_path / "x.npy")],
                              capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        np.testing.assert_allclose(np.array(result["out"]), expected, atol=1e-5,
                                   err_msg=f"{here} -> {other}")
        assert (result["it0"], result["it1"]) == (4, 12), (here, other)
        assert result["loss"][1] < result["loss"][0]
