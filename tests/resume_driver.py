"""Driver of the kill test (tests/test_resume.py): five tiny models, each trained by
`fit_resumable` with its own checkpoint directory, one after the other in one process.

    python tests/resume_driver.py OUT_DIR [--models ae,dae,vae,gan,s2s]

Writes `OUT_DIR/<name>/` (checkpoints) and, when a model's run is complete,
`OUT_DIR/<name>.npz`: its final weights, optimizer variables and RNG states.
Run it again with the same arguments after a crash: finished models are no-ops,
the interrupted one resumes. Not collected by pytest (no `test_` prefix).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402

if keras.backend.backend() == "torch":
    import torch

    torch.set_num_threads(1)

EPOCHS = 3
STEPS = 6
EVERY = 2  # checkpoint every 2 steps
BATCH = 32
MODELS = ("ae", "dae", "vae", "gan", "s2s")


def _images():
    from keras_genmodels.data import load_images

    x, _ = load_images("digits", "train")
    return x[:STEPS * BATCH]


def build(name):
    """`(compiled model, epoch_dataset)` of test model `name`; same in every process."""
    from keras_genmodels.data import image_dataset, text, toy_dataset

    keras.utils.set_random_seed(0)
    if name in ("ae", "dae", "vae"):
        x = _images()

        def epoch_dataset(epoch):
            return image_dataset(x, batch_size=BATCH, seed=1, epoch=epoch, drop_remainder=True)

        if name == "ae":
            from keras_genmodels.models.autoencoder import Autoencoder

            model = Autoencoder((8, 8, 1), 4, hidden_units=(16,), dropout=0.3)
        elif name == "dae":
            from keras_genmodels.models.regularized import DenoisingAutoencoder

            model = DenoisingAutoencoder((8, 8, 1), 4, corruption="masking", noise_level=0.3,
                                         hidden_units=(16,), seed=3)
        else:
            from keras_genmodels.models.vae import VAE

            model = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), seed=4)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        return model, epoch_dataset
    if name == "gan":
        from keras_genmodels.models.gan import GAN

        model = GAN(data_shape=(2,), latent_dim=2, generator_units=(16,),
                    discriminator_units=(16,), discriminator_steps=2, seed=5)
        model.compile(optimizers={n: keras.optimizers.Adam(1e-2, beta_1=0.5)
                                  for n in ("discriminator", "generator")})

        def epoch_dataset(epoch):
            return toy_dataset("ring8", batch_size=2 * BATCH, seed=1, epoch=epoch,
                               steps_per_epoch=STEPS)

        return model, epoch_dataset
    if name == "s2s":
        from keras_genmodels.models.seq2seq import Seq2Seq

        pairs = text.date_pairs(STEPS * BATCH, seed=0)
        model = Seq2Seq.from_pairs(pairs, units=8, embedding_dim=8)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        source_ids, target_ids = model.encode_pairs(pairs)

        def epoch_dataset(epoch):
            return text.ids_dataset(source_ids, target_ids, batch_size=BATCH, seed=1,
                                    epoch=epoch)

        return model, epoch_dataset
    raise ValueError(name)


def final_state(model):
    """Weights, optimizer variables and SeedGenerator states, as numpy arrays."""
    from keras_genmodels.models.base import seed_generators

    variables = (list(model.weights) + list(model.optimizer.variables)
                 + [g.state for _, g in seed_generators(model)])
    return {f"v{i:04d}": keras.ops.convert_to_numpy(v) for i, v in enumerate(variables)}


def main(argv=None):
    from keras_genmodels.training import fit_resumable

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name in args.models.split(","):
        path = os.path.join(args.out, f"{name}.npz")
        if os.path.exists(path):  # finished (re-running it is a no-op; tested elsewhere)
            continue
        model, epoch_dataset = build(name)
        history = fit_resumable(model, epoch_dataset, EPOCHS, os.path.join(args.out, name),
                                steps_per_epoch=STEPS, checkpoint_every=EVERY, verbose=0)
        if not history.completed:
            sys.exit(f"{name}: not completed")
        np.savez(path + ".tmp.npz", **final_state(model))
        os.replace(path + ".tmp.npz", path)
        print(f"done {name} resumed_from={history.resumed_from}", flush=True)


if __name__ == "__main__":
    main()
