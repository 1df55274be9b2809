"""The backend input-derivative helpers against closed forms and finite
differences, and their differentiability with respect to layer weights."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels import backend as B
from tests.conftest import to_numpy

RNG = np.random.RandomState(0)
W = RNG.randn(5, 3).astype("float32")
X = RNG.randn(4, 5).astype("float32")


def f(x):
    """tanh(x W): (batch, 5) -> (batch, 3); J_b = diag(1 - y_b^2) W^T."""
    return ops.tanh(ops.matmul(x, ops.convert_to_tensor(W)))


def closed_form_jacobian(x):
    y = np.tanh(x @ W)
    return (1 - y ** 2)[:, :, None] * W.T[None]  # (batch, 3, 5)


def test_batch_jacobian_matches_closed_form():
    J = to_numpy(B.batch_jacobian(f, ops.convert_to_tensor(X)))
    assert J.shape == (4, 3, 5)
    np.testing.assert_allclose(J, closed_form_jacobian(X), rtol=1e-5, atol=1e-6)


def test_jvp_and_vjp_match_closed_form():
    v = RNG.randn(4, 5).astype("float32")
    u = RNG.randn(4, 3).astype("float32")
    J = closed_form_jacobian(X)
    y, jv = B.jvp(f, ops.convert_to_tensor(X), ops.convert_to_tensor(v))
    np.testing.assert_allclose(to_numpy(y), np.tanh(X @ W), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(jv), np.einsum("boi,bi->bo", J, v),
                               rtol=1e-5, atol=1e-5)
    _, uj = B.vjp(f, ops.convert_to_tensor(X), ops.convert_to_tensor(u))
    np.testing.assert_allclose(to_numpy(uj), np.einsum("bo,boi->bi", u, J),
                               rtol=1e-5, atol=1e-5)


def test_input_gradient_matches_finite_differences():
    def g(x):  # per-sample scalar: sum(sin(x)^2 * x)
        return ops.sum(ops.sin(x) ** 2 * x, axis=-1)

    x = X.astype("float64")
    grad = to_numpy(B.input_gradient(g, ops.convert_to_tensor(x)))
    eps = 1e-6
    fd = np.zeros_like(x)
    for i in range(x.shape[1]):
        d = np.zeros_like(x)
        d[:, i] = eps
        fd[:, i] = (np.sum(np.sin(x + d) ** 2 * (x + d), -1)
                    - np.sum(np.sin(x - d) ** 2 * (x - d), -1)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("helper", ["jacobian", "jvp", "vjp", "input_gradient"])
def test_helpers_are_differentiable_wrt_weights(helper):
    """A penalty built from a helper trains by fit: the weight gradient exists.

    Model: h = Dense(3, sigmoid)(x) with penalty ||dh/dx||_F^2 only (loss 0
    otherwise). Training with SGD must shrink the penalty, which is only
    possible if the helper is differentiable w.r.t. the kernel.
    """
    dense = keras.layers.Dense(3, activation="sigmoid")
    dense.build((None, 5))
    x = ops.convert_to_tensor(X)

    def penalty(x):
        if helper == "jacobian":
            return ops.mean(ops.sum(ops.square(B.batch_jacobian(dense, x)), axis=(1, 2)))
        if helper == "jvp":
            return ops.mean(ops.square(B.jvp(dense, x, ops.ones_like(x))[1]))
        if helper == "vjp":
            y = dense(x)
            return ops.mean(ops.square(B.vjp(dense, x, ops.ones_like(y))[1]))
        return ops.mean(ops.square(B.input_gradient(dense, x)))

    class Penalised(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = dense

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         training=True):
            return penalty(x)

    model = Penalised()
    before = float(to_numpy(penalty(x)))
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(X, epochs=20, batch_size=4, verbose=0)
    after = float(to_numpy(penalty(x)))
    assert after < 0.8 * before, (before, after)
