"""Shared callbacks."""

import numpy as np

from keras_genmodels.callbacks import TimeLimit
from keras_genmodels.models.autoencoder import Autoencoder
from tests.conftest import to_numpy


def test_time_limit_stops_fit_after_the_first_batch_when_the_budget_is_spent():
    x = np.random.RandomState(0).rand(64, 4, 4, 1).astype("float32")
    ae = Autoencoder((4, 4, 1), 2, hidden_units=(8,))
    ae.compile(optimizer="sgd")
    history = ae.fit(x, batch_size=8, epochs=5, verbose=0, callbacks=[TimeLimit(0.0)])
    assert int(to_numpy(ae.optimizer.iterations)) == 1
    assert len(history.history["loss"]) == 1


def test_time_limit_leaves_a_generous_budget_alone():
    x = np.random.RandomState(0).rand(64, 4, 4, 1).astype("float32")
    ae = Autoencoder((4, 4, 1), 2, hidden_units=(8,))
    ae.compile(optimizer="sgd")
    ae.fit(x, batch_size=8, epochs=2, verbose=0, callbacks=[TimeLimit(3600)])
    assert int(to_numpy(ae.optimizer.iterations)) == 16
