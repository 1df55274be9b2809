"""The speed settings (`steps_per_execution` chosen by the CLI tasks) change no result.

`recommended_steps_per_execution` is 10-or-a-divisor on TensorFlow/JAX and 1
under torch (whose Keras trainer accepts only 1), so on torch the tuned path is
the untuned one and these tests check that `fit_task` leaves it so.
"""

import argparse

import keras
import numpy as np
import pytest

from keras_genmodels.data.toy import toy_dataset, toy_distribution
from keras_genmodels.models.autoencoder import Autoencoder
from keras_genmodels.models.gan import GAN
from keras_genmodels.tasks.common import (fit_task, recommended_steps_per_execution,
                                          use_steps_per_execution)
from keras_genmodels.training import fit_resumable

TORCH = keras.backend.backend() == "torch"


def test_recommended_steps_per_execution_divides_every_count():
    assert recommended_steps_per_execution(500, backend="tensorflow") == 10
    assert recommended_steps_per_execution(500, 25, backend="jax") == 5
    assert recommended_steps_per_execution(7, None, backend="jax") == 7
    assert recommended_steps_per_execution(13, backend="tensorflow") == 1
    assert recommended_steps_per_execution(backend="tensorflow") == 10
    assert recommended_steps_per_execution(40, 20, 30, backend="jax") == 10
    assert recommended_steps_per_execution(500, backend="torch") == 1
    assert recommended_steps_per_execution(500) == (1 if TORCH else 10)


def _gan():
    keras.utils.set_random_seed(3)
    model = GAN(data_shape=(2,), latent_dim=2, generator_units=(16,),
                discriminator_units=(16,), seed=1)
    model.compile(optimizers={n: keras.optimizers.Adam(1e-3, beta_1=0.5)
                              for n in ("discriminator", "generator")})
    return model


def _autoencoder():
    keras.utils.set_random_seed(3)
    model = Autoencoder(input_shape=(12,), code_size=3, hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def _assert_same_run(build, x, batch, names):
    steps = len(x) // batch
    spe = recommended_steps_per_execution(steps)
    assert spe == (1 if TORCH else steps)
    plain, tuned = build(), build()
    tuned.set_weights(plain.get_weights())
    use_steps_per_execution(tuned, spe)
    assert tuned.steps_per_execution == spe
    logs = [m.fit(x, batch_size=batch, epochs=5, shuffle=False, verbose=0).history
            for m in (plain, tuned)]
    for name in names:  # the first 5 logged losses (one per epoch)
        np.testing.assert_allclose(logs[1][name], logs[0][name], rtol=1e-5, atol=1e-6)
        assert len(logs[0][name]) == 5
    for a, b in zip(plain.get_weights(), tuned.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    return logs[0]


def test_tuned_gan_step_gives_the_same_losses():
    x = toy_distribution("ring8").sample(4 * 32, seed=0)
    logs = _assert_same_run(_gan, x, 32, ("d_loss", "g_loss", "d_real", "d_fake"))
    assert logs["d_loss"][0] != logs["d_loss"][-1]  # it trained


def test_tuned_autoencoder_step_gives_the_same_losses():
    x = np.random.RandomState(0).uniform(size=(4 * 16, 12)).astype("float32")
    logs = _assert_same_run(_autoencoder, x, 16, ("loss", "reconstruction", "penalty"))
    assert logs["loss"][-1] < logs["loss"][0]


def test_fit_task_checkpoints_land_on_the_same_steps(tmp_path):
    """fit_task picks steps_per_execution dividing steps and --checkpoint-every:
    the checkpoints and final weights equal those of an untuned resumable run."""
    dist = toy_distribution("ring8")

    def epoch_dataset(epoch):
        return toy_dataset(dist, batch_size=32, seed=0, epoch=epoch, steps_per_epoch=4)

    tuned, plain = _gan(), _gan()
    plain.set_weights(tuned.get_weights())
    args = argparse.Namespace(epochs=1, verbose=0, checkpoint_dir=tmp_path / "tuned",
                              checkpoint_every=2, allow_non_finite=False)
    fit_task(tuned, args, None, epoch_dataset, steps_per_epoch=4)
    assert tuned.steps_per_execution == (1 if TORCH else 2)
    fit_resumable(plain, epoch_dataset, 1, tmp_path / "plain", steps_per_epoch=4,
                  checkpoint_every=2, verbose=0)
    assert plain.steps_per_execution == 1
    names = [sorted(p.name for p in (tmp_path / d).glob("*.json")) for d in ("tuned", "plain")]
    assert names[0] == names[1] == ["ckpt-0000000002.json", "ckpt-0000000004.json"]
    for a, b in zip(plain.get_weights(), tuned.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(TORCH, reason="the torch trainer accepts steps_per_execution=1 only")
def test_stop_on_non_finite_still_stops_with_steps_per_execution():
    """A NaN inside an execution reaches the logged running mean: the guard stops."""
    from keras_genmodels.callbacks import StopOnNonFinite

    model = _autoencoder()
    use_steps_per_execution(model, 4)
    x = np.random.RandomState(0).uniform(size=(16 * 16, 12)).astype("float32")
    x[5 * 16 + 3, 0] = np.nan  # batch 5: inside the second execution
    guard = StopOnNonFinite()
    model.fit(x, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[guard])
    assert guard.triggered and guard.batch == 7  # end of the execution holding batch 5


def test_mlp_discriminator_activation_option_and_lean_mlp_networks():
    gan = GAN(data_shape=(2,), latent_dim=2, generator_units=(4,),
              discriminator_units=(4, 4), discriminator_activation="elu")
    dense = [layer for layer in gan.discriminator.layers if layer.weights]
    assert [d.get_config()["activation"] for d in dense] == ["elu", "elu", "linear"]
    assert GAN.from_config(gan.get_config()).discriminator_activation == "elu"
    assert GAN(data_shape=(2,), latent_dim=2).discriminator_activation == "leaky_relu"
    # 1-d samples: no Reshape/Flatten layer calls around the MLPs; images keep them.
    kinds = {type(layer).__name__ for net in (gan.generator, gan.discriminator)
             for layer in net.layers}
    assert not kinds & {"Reshape", "Flatten"}
    image = GAN(data_shape=(4, 4, 1), latent_dim=2, generator_units=(4,),
                discriminator_units=(4,))
    assert image.generator.output.shape == (None, 4, 4, 1)
    assert "Flatten" in {type(layer).__name__ for layer in image.discriminator.layers}
    with pytest.raises(ValueError, match="discriminator_activation"):
        GAN(data_shape=(2,), discriminator_activation="no_such_activation")
