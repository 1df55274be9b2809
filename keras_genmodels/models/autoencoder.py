"""The autoencoder: h = f(x), x_hat = g(h), trained to make x_hat close to x."""

import keras
from keras import ops

from keras_genmodels import backend as B
from keras_genmodels import networks
from keras_genmodels.losses import reconstruction
from keras_genmodels.models import checks
from keras_genmodels.models.base import GenerativeModel

PRESETS = {
    # The lecture's network (MNIST 784 -> 100): encoder Linear(in, hidden)+ReLU,
    # Linear(hidden, hidden)+ReLU; decoder Linear(hidden, hidden)+ReLU,
    # Linear(hidden, in)+ReLU.
    "lecture": dict(architecture="dense", hidden_units=(100,), code_size=100,
                    activation="relu", code_activation="relu",
                    output_activation="relu", reconstruction_loss="mse"),
}


@keras.saving.register_keras_serializable(package="keras_genmodels")
class Autoencoder(GenerativeModel):
    """Deterministic autoencoder `x -> h = f(x) -> x_hat = g(h)`.

    The encoder f maps `(batch, *input_shape)` to a code `(batch,
    code_size)`, the decoder g maps it back. `code_size` below the input
    dimension gives an undercomplete autoencoder (a learned, non-linear
    dimensionality reduction), above it an overcomplete one (which needs a
    regulariser to learn anything but the identity). The loss is the mean
    over samples of a per-sample reconstruction loss L(x, x_hat) -- MSE
    `(1/D) ||x - x_hat||^2` or binary cross-entropy -- plus any penalty
    added by subclasses (`penalties`) or by layer regularisers.

    `fit` accepts `x` alone (target = x) or pairs `(x_in, x_target)`, e.g. a
    corrupted input and its clean original.

    Bad input raises `ValueError` before any work, on every backend:
    `encode`/`reconstruct` take float arrays `(N, *input_shape)` with no
    NaN/inf, in [0, 1] when the decoder ends in a sigmoid or the loss is
    BCE (in [-1, 1] for tanh) -- uint8 pixels are refused ("divide by
    255"); `decode` takes finite codes `(N, code_size)`. Tensors inside a
    traced function are not checked. Constructor sizes (`code_size`,
    `hidden_units`, `filters`) must be positive integers.

    Args:
        input_shape: tuple. Shape of one sample, e.g. `(8, 8, 1)`.
        code_size: int. Dimension of the code h.
        architecture: str. `"dense"` (MLP) or `"conv"` (strided convolutions;
            needs a 3-d `input_shape`). Defaults to `"dense"`.
        hidden_units: tuple of int. Dense hidden layers of the encoder; the
            decoder mirrors them. Defaults to `(256,)`.
        filters: tuple of int. Conv filters per stride-2 block (conv only).
            Defaults to `(32, 64)`.
        activation: str. Hidden activation. Defaults to `"relu"`.
        code_activation: str or None. Activation of the code layer
            (None: linear). Defaults to None.
        output_activation: str or None. Decoder output activation.
            Defaults to `"sigmoid"` (pixels in [0, 1]).
        reconstruction_loss: str. `"mse"` or `"bce"`. Defaults to `"mse"`.
        dropout: float. Dropout rate after each hidden layer (a regulariser;
            active only in training). Defaults to 0.

    Example:

    ```python
    ae = keras_genmodels.Autoencoder(input_shape=(8, 8, 1), code_size=16)
    ae.compile(optimizer="adam")
    ae.fit(keras_genmodels.data.image_dataset("digits"), epochs=5)
    codes = ae.encode(x)            # (batch, 16)
    x_hat = ae.reconstruct(x)       # (batch, 8, 8, 1)
    ```

    References:
        Hinton & Salakhutdinov, "Reducing the dimensionality of data with
        neural networks", Science 2006. Goodfellow, Bengio & Courville,
        "Deep Learning", ch. 14 (2016).
    """

    serving_default = "reconstruct"

    def __init__(self, input_shape, code_size, architecture="dense",
                 hidden_units=(256,), filters=(32, 64), activation="relu",
                 code_activation=None, output_activation="sigmoid",
                 reconstruction_loss="mse", dropout=0.0, **kwargs):
        input_shape = checks.shape("input_shape", input_shape)
        code_size = checks.integer("code_size", code_size)
        checks.choice("architecture", architecture, ("dense", "conv"))
        if architecture == "conv":
            checks.conv_image_shape("input_shape", input_shape, architecture)
        hidden_units = checks.integers("hidden_units", hidden_units)
        filters = checks.integers("filters", filters)
        if architecture == "conv" and not filters:
            raise ValueError("expected filters with at least one entry for "
                             "architecture='conv', received ()")
        dropout = checks.number("dropout", dropout, 0.0, 1.0, include_maximum=False)
        reconstruction_fn = reconstruction.get(reconstruction_loss)
        super().__init__(**kwargs)
        # === Layers ===
        if architecture == "dense":
            self.encoder = networks.dense_encoder(
                input_shape, hidden_units, code_size, activation,
                code_activation, dropout, name="encoder")
            self.decoder = networks.dense_decoder(
                code_size, tuple(hidden_units)[::-1], input_shape, activation,
                output_activation, dropout, name="decoder")
        else:
            self.encoder = networks.conv_encoder(
                input_shape, filters, code_size, activation, code_activation,
                dropout, name="encoder")
            self.decoder = networks.conv_decoder(
                code_size, input_shape, tuple(filters)[::-1], activation,
                output_activation, dropout, name="decoder")
        self._reconstruction = reconstruction_fn
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.penalty_tracker = keras.metrics.Mean(name="penalty")
        self.built = True
        # === Config ===
        self.sample_shape = input_shape
        self.code_size = int(code_size)
        self.architecture = architecture
        self.hidden_units = tuple(hidden_units)
        self.filters = tuple(filters)
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.reconstruction_loss = reconstruction_loss
        self.dropout = dropout

    @classmethod
    def from_preset(cls, preset, input_shape, **overrides):
        """Build a named configuration (`"lecture"`) for `input_shape`."""
        if preset not in PRESETS:
            raise ValueError(
                f"Unknown preset {preset!r}; expected one of {sorted(PRESETS)}.")
        return cls(input_shape=input_shape, **{**PRESETS[preset], **overrides})

    # --- hooks for regularised autoencoders -------------------------------
    def corrupt(self, x, training=False):
        """Input seen by the encoder (identity; denoising AEs corrupt it)."""
        return x

    def penalties(self, x, code, training=False):
        """Return a list of scalar penalties added to the loss (none here)."""
        return []

    # --- model -------------------------------------------------------------
    def call(self, x, training=False):
        x_in = self.corrupt(x, training=training)
        code = self.encoder(x_in, training=training)
        for penalty in self.penalties(x_in, code, training=training):
            self.add_loss(penalty)
        return self.decoder(code, training=training)

    def input_range(self):
        """`(lo, hi)` of the inputs the model accepts, or None (any finite value):
        the range of the decoder's output activation ([0, 1] also for BCE)."""
        if self.reconstruction_loss == "bce":
            return (0.0, 1.0)
        return checks.ACTIVATION_RANGES.get(self.output_activation)

    def _check_x(self, x, method):
        return checks.data(x, f"{type(self).__name__}.{method}", self.sample_shape,
                           self.input_range())

    def encode(self, x):
        """`(batch, *input_shape) -> (batch, code_size)`."""
        return self.encoder(self._check_x(x, "encode"), training=False)

    def decode(self, code):
        """`(batch, code_size) -> (batch, *input_shape)`."""
        code = checks.codes(code, f"{type(self).__name__}.decode", self.code_size,
                            name="code")
        return self.decoder(code, training=False)

    def reconstruct(self, x):
        """`decode(encode(x))`, no corruption or dropout."""
        x = self._check_x(x, "reconstruct")
        return self.decoder(self.encoder(x, training=False), training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        target = x if y is None else y
        recon = ops.mean(self._reconstruction(target, y_pred))
        penalty = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())
        loss = recon + penalty
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(recon)
        self.penalty_tracker.update_state(penalty)
        # Under tf.distribute: this replica's share of the global-batch mean.
        return B.replica_share(loss, ops.shape(target)[0])

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.penalty_tracker]

    def export_endpoints(self):
        x_spec = keras.InputSpec(shape=(None,) + self.sample_shape, dtype="float32")
        code_spec = keras.InputSpec(shape=(None, self.code_size), dtype="float32")

        def encode(x):
            return {"code": self.encoder(x, training=False)}

        def decode(code):
            return {"x_hat": self.decoder(code, training=False)}

        def reconstruct(x):
            return {"x_hat": self.decoder(self.encoder(x, training=False),
                                          training=False)}

        return {"encode": (encode, [x_spec]), "decode": (decode, [code_spec]),
                "reconstruct": (reconstruct, [x_spec])}

    def get_config(self):
        config = super().get_config()
        config.update(
            input_shape=self.sample_shape, code_size=self.code_size,
            architecture=self.architecture, hidden_units=self.hidden_units,
            filters=self.filters, activation=self.activation,
            code_activation=self.code_activation,
            output_activation=self.output_activation,
            reconstruction_loss=self.reconstruction_loss, dropout=self.dropout)
        return config
