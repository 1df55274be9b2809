"""Keras callbacks shared by the CLI tasks and the benchmark scripts."""

import time

import keras


class TimeLimit(keras.callbacks.Callback):
    """Stop `fit` once `seconds` of wall time have passed since training began.

    Checked after every batch, so a run overshoots by at most one step.

    Args:
        seconds: float. The training budget in seconds.
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True
