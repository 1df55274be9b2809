"""Reparameterised sampling from a diagonal Gaussian."""

import keras
from keras import ops

from keras_genmodels import backend as B


@keras.saving.register_keras_serializable(package="keras_genmodels")
class GaussianSampling(keras.layers.Layer):
    """Draws z = μ + σ ⊙ ε with ε ~ N(0, I) (the reparameterisation trick).

    Because the noise ε does not depend on the parameters, ∂z/∂μ = 1 and
    ∂z/∂log σ² = ½ σ ε, so gradients of E_q[f(z)] flow back into the encoder
    (Kingma & Welling, 2014). The noise comes from the layer's own
    `keras.random.SeedGenerator`, so the layer is reproducible for a fixed
    `seed` and works inside `jit` on JAX (the generator state is a variable).

    Shapes: `mean`, `log_var`: `(batch, latent_dim)`. Output:
    `(batch, latent_dim)`, or `(batch, num_samples, latent_dim)` when
    `num_samples` is given.

    Args:
        seed: int or None. Seed of the layer's noise generator. Defaults to
            `None` (random).
        **kwargs: Standard `keras.layers.Layer` arguments.

    Example:
    ```python
    sampler = GaussianSampling(seed=0)
    z = sampler(mean, log_var)                    # (batch, d)
    zk = sampler(mean, log_var, num_samples=10)   # (batch, 10, d)
    ```

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, mean, log_var, num_samples=None):
        mean = ops.convert_to_tensor(mean)
        log_var = ops.convert_to_tensor(log_var)
        if num_samples is not None:
            mean = ops.expand_dims(mean, 1)
            log_var = ops.expand_dims(log_var, 1)
            shape = (ops.shape(mean)[0], num_samples, ops.shape(mean)[-1])
        else:
            shape = ops.shape(mean)
        # Under tf.distribute: this replica's rows of the global-batch noise.
        eps = B.replica_noise(
            lambda s: keras.random.normal(s, dtype=mean.dtype, seed=self.seed_generator),
            shape)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, mean_shape, log_var_shape, num_samples=None):
        if num_samples is None:
            return tuple(mean_shape)
        return (mean_shape[0], num_samples, mean_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
