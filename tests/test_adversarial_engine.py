"""The multi-optimizer engine: phases, repeats, both optimizers advancing
(the JAX "second optimizer never updates" trap), state through save/load.

Toy model: two scalar weights a and b (Dense(1) without bias on x in R).
Phase "a" (SGD, repeated k times per step) minimises mean((a x - 1)^2);
phase "b" (SGD, once per step) minimises mean((b x - 2)^2). Full-batch
gradient descent on each is simulated in NumPy and must match exactly.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.models.adversarial import AdversarialModel, Phase
from tests.conftest import to_numpy

X = np.linspace(0.5, 1.5, 16).astype("float32")[:, None]


def scalar_net(name, init):
    with keras.name_scope(name):
        inp = keras.Input((1,))
        out = keras.layers.Dense(1, use_bias=False,
                                 kernel_initializer=keras.initializers.Constant(init))(inp)
    return keras.Model(inp, out, name=name)


@keras.saving.register_keras_serializable(package="keras_genmodels_tests")
class TwoPhase(AdversarialModel):
    log_names = ("loss_a", "loss_b")

    def __init__(self, k=3, **kwargs):
        super().__init__(**kwargs)
        self.k = k
        self.net_a = scalar_net("net_a", 0.1)
        self.net_b = scalar_net("net_b", -0.3)
        self.built = True

    def phases(self):
        def loss_a(x, i):
            loss = ops.mean(ops.square(self.net_a(x) - 1.0))
            return loss, {"loss_a": loss}

        def loss_b(x, i):
            loss = ops.mean(ops.square(self.net_b(x) - 2.0))
            return loss, {"loss_b": loss}

        return [Phase("a", self.net_a.trainable_variables, loss_a, repeat=self.k),
                Phase("b", self.net_b.trainable_variables, loss_b)]

    def get_config(self):
        return {**super().get_config(), "k": self.k}


def simulate(w0, target, lr, updates):
    w = w0
    for _ in range(updates):
        w -= lr * np.mean(2 * (w * X[:, 0] - target) * X[:, 0])
    return w


def compiled(k=3, b_optimizer=None):
    model = TwoPhase(k=k)
    model.compile(optimizers={"a": keras.optimizers.SGD(0.05),
                              "b": b_optimizer or keras.optimizers.SGD(0.05)})
    return model


def weights(model):
    return (float(to_numpy(model.net_a.trainable_variables[0])[0, 0]),
            float(to_numpy(model.net_b.trainable_variables[0])[0, 0]))


@pytest.mark.parametrize("k", [1, 3])
def test_k_repeats_give_exact_iteration_counts_and_updates(k):
    model = compiled(k)
    history = model.fit(X, batch_size=16, epochs=4, verbose=0, shuffle=False)
    opts = model.phase_optimizers
    assert int(to_numpy(opts["a"].iterations)) == 4 * k
    assert int(to_numpy(opts["b"].iterations)) == 4
    assert int(to_numpy(model.optimizer.iterations)) == 4
    a, b = weights(model)
    assert a == pytest.approx(simulate(0.1, 1.0, 0.05, 4 * k), rel=1e-5)
    assert b == pytest.approx(simulate(-0.3, 2.0, 0.05, 4), rel=1e-5)
    assert set(history.history) == {"loss_a", "loss_b"}


def test_second_optimizer_state_advances():
    """The trap: an optimizer outside `self.optimizer` never advances under
    JAX. Here phase b uses Adam; its moment estimates must be non-zero and
    its iteration count equal to the number of steps."""
    model = compiled(k=2, b_optimizer=keras.optimizers.Adam(0.01))
    model.fit(X, batch_size=8, epochs=3, verbose=0, shuffle=False)
    adam = model.phase_optimizers["b"]
    assert int(to_numpy(adam.iterations)) == 6
    moments = [to_numpy(v) for v in adam.variables if "momentum" in v.path]
    assert moments and all(np.abs(m).sum() > 0 for m in moments)
    assert weights(model)[1] != pytest.approx(-0.3, abs=1e-3)


def test_state_survives_keras_round_trip(tmp_path):
    model = compiled(k=2, b_optimizer=keras.optimizers.Adam(0.01))
    model.fit(X, batch_size=8, epochs=2, verbose=0, shuffle=False)
    path = tmp_path / "two_phase.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for name in ("a", "b"):
        assert int(to_numpy(loaded.phase_optimizers[name].iterations)) == \
            int(to_numpy(model.phase_optimizers[name].iterations))
        for v0, v1 in zip(model.phase_optimizers[name].variables,
                          loaded.phase_optimizers[name].variables):
            np.testing.assert_array_equal(to_numpy(v0), to_numpy(v1))
    # Training continues identically from the restored state.
    model.fit(X, batch_size=8, epochs=1, verbose=0, shuffle=False)
    loaded.fit(X, batch_size=8, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(weights(loaded), weights(model), rtol=1e-6)
    assert int(to_numpy(loaded.phase_optimizers["a"].iterations)) == 12


def test_compile_rejects_wrong_optimizer_keys():
    model = TwoPhase()
    with pytest.raises(ValueError, match=r"keys \['a', 'b'\]"):
        model.compile(optimizers={"a": "sgd"})
    with pytest.raises(TypeError, match="not `optimizer`"):
        model.compile(optimizer="sgd")
