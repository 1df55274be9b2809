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


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop `fit` at the first NaN/inf loss, and record that it did.

    Unlike `keras.callbacks.TerminateOnNaN`, which stops silently, this
    callback keeps what happened so a caller (the CLI) can fail loudly:
    after `fit`, `triggered` is True and `message` says where, e.g.
    `"non-finite d_loss=nan at epoch 3, batch 17"`.

    Checked after every training batch on the logged values whose name
    contains `"loss"` (`loss`, `d_loss`, `g_loss`, `kl_loss`, ...), or on
    the names in `monitor`.

    Args:
        monitor: iterable of str or None. Log names to check; None: every
            name containing "loss".

    Attributes:
        triggered: bool. Whether training was stopped.
        epoch, batch: int or None. Where.
        values: dict. The non-finite log values found.
        message: str or None. A one-line description.

    Example:

    ```python
    guard = StopOnNonFinite()
    model.fit(ds, epochs=10, callbacks=[guard])
    if guard.triggered:
        raise SystemExit(f"training diverged: {guard.message}")
    ```
    """

    def __init__(self, monitor=None):
        super().__init__()
        self.monitor = None if monitor is None else tuple(monitor)
        self.triggered = False
        self.epoch = None
        self.batch = None
        self.values = {}
        self.message = None
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        import numpy as np

        bad = {}
        for name, value in (logs or {}).items():
            if (name in self.monitor) if self.monitor is not None else ("loss" in name):
                try:
                    number = float(np.asarray(keras.ops.convert_to_numpy(value)))
                except (TypeError, ValueError):
                    continue
                if not np.isfinite(number):
                    bad[name] = number
        if bad and not self.triggered:
            self.triggered = True
            self.epoch, self.batch, self.values = self._current_epoch, batch, bad
            self.message = (", ".join(f"non-finite {k}={v}" for k, v in bad.items())
                            + f" at epoch {self._current_epoch}, batch {batch}")
        if bad:
            self.model.stop_training = True
