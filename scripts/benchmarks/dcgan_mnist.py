"""DCGAN on MNIST within a time budget, judged by an MNIST classifier.

Trains `GAN(architecture="dcgan")` on the local .npz for at most
`--minutes`, generates 1,000 digits and classifies them with the CNN of
`mnist_classifier.py`. Pass: all 10 classes present, none above 20%, mean
max-softmax confidence >= 0.9. Writes the sample grid, the loss curves and
a latent interpolation.

    KERAS_BACKEND=jax python scripts/benchmarks/dcgan_mnist.py \
        --train ../shared/data/mnist_train.npz --minutes 20
    # TensorFlow's oneDNN convolutions are the fastest here for wider nets:
    KERAS_BACKEND=tensorflow python scripts/benchmarks/dcgan_mnist.py --filters 96 48
    KERAS_BACKEND=jax python scripts/benchmarks/dcgan_mnist.py --quick
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN stays on (unlike the unit tests, which turn it off for bit-stable
# numbers): on this CPU it makes TensorFlow's convolutions 2-3x faster.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402


class KeepRawGenerator(keras.callbacks.Callback):
    """Copies the generator's raw (not averaged) weights at each epoch end,
    before `fit` swaps the moving average in."""

    def __init__(self, generator):
        super().__init__()
        self.generator, self.raw_weights = generator, None

    def on_epoch_end(self, epoch, logs=None):
        self.raw_weights = [keras.ops.convert_to_numpy(v) for v in self.generator.weights]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default="../shared/data/mnist_train.npz")
    p.add_argument("--test", default="../shared/data/mnist_test.npz")
    p.add_argument("--minutes", type=float, default=20.0,
                   help="wall-time budget of the GAN training (classifier excluded)")
    p.add_argument("--epochs", type=int, default=200,
                   help="at most this many epochs; the time budget normally ends fit first")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--filters", type=int, nargs="+", default=[64, 32])
    p.add_argument("--discriminator-steps", type=int, default=1,
                   help="k: discriminator updates per generator update")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of the generator")
    p.add_argument("--discriminator-lr", type=float, default=None,
                   help="Adam learning rate of the discriminator (default --lr; a larger "
                        "one is the two time-scale update rule of Heusel et al. 2017)")
    p.add_argument("--generator-ema", type=float, default=0.999,
                   help="momentum of the exponential moving average of the generator's "
                        "weights (Keras optimizer `use_ema`; Yazici et al. 2019), swapped in "
                        "at the end of fit. Both the averaged and the last raw generator are "
                        "scored. 0 turns it off")
    p.add_argument("--out", default="runs/benchmarks/dcgan_mnist")
    p.add_argument("--quick", action="store_true",
                   help="1-minute budget, 10,000 images, classifier on 10,000")
    args = p.parse_args(argv)
    if args.quick:
        args.minutes = 1.0

    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.data import image_dataset, load_images
    from keras_genmodels.models.gan import GAN
    from keras_genmodels.plots.gan import (SampleGridCallback, plot_latent_interpolation,
                                           plot_loss_curves)
    from mnist_classifier import train_classifier

    start = time.perf_counter()
    out = pathlib.Path(args.out) / keras.backend.backend()
    keras.utils.set_random_seed(0)
    classifier, _ = train_classifier(
        args.train, epochs=1 if args.quick else 20,
        out=None if args.quick else pathlib.Path(args.out) / "mnist_classifier_es.keras",
        limit=10000 if args.quick else None)
    # One pass over the real test digits gives both the accuracy and the
    # confidence ceiling for the generated ones.
    x_test, y_test = load_images(args.test)
    probs = keras.ops.convert_to_numpy(classifier.predict(x_test, verbose=0, batch_size=1000))
    accuracy = float((probs.argmax(axis=1) == np.asarray(y_test)).mean())
    real_confidence = float(probs.max(axis=1).mean())
    print(f"classifier test accuracy {accuracy:.4f}, mean max-softmax on real test digits "
          f"{real_confidence:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)

    x, _ = load_images(args.train)
    if args.quick:
        x = x[:10000]
    # Each of the k discriminator updates takes its own chunk of batch_size images.
    ds = image_dataset(x, batch_size=args.discriminator_steps * args.batch_size,
                       drop_remainder=True, seed=0)
    gan = GAN(data_shape=(28, 28, 1), latent_dim=args.latent_dim, architecture="dcgan",
              filters=tuple(args.filters), output_activation="sigmoid",
              discriminator_steps=args.discriminator_steps, seed=0)
    ema = (dict(use_ema=True, ema_momentum=args.generator_ema)
           if args.generator_ema > 0 else {})
    gan.compile(optimizers={
        "discriminator": keras.optimizers.Adam(args.discriminator_lr or args.lr, beta_1=0.5),
        "generator": keras.optimizers.Adam(args.lr, beta_1=0.5, **ema)})
    raw = [KeepRawGenerator(gan.generator)] if ema else []
    remaining = args.minutes * 60
    t0 = time.perf_counter()
    history = gan.fit(ds, epochs=args.epochs, verbose=2,
                      callbacks=[TimeLimit(remaining), *raw,
                                 SampleGridCallback(str(out / "samples_epoch_{epoch:02d}.png"))])
    train_s = time.perf_counter() - t0
    g_steps = int(keras.ops.convert_to_numpy(gan.phase_optimizers["generator"].iterations))
    print(f"backend {keras.backend.backend()}: {g_steps} generator steps in {train_s:.0f} s "
          f"({len(history.history['g_loss'])} epochs)")
    plot_loss_curves(history, out / "loss_curves.png")
    plot_latent_interpolation(gan, out / "interpolation.png")
    gan.save(out / "dcgan_mnist.keras")

    # fit() ended by swapping the averaged weights in (when EMA is on).
    rows = [("ema" if ema else "raw", score(gan, classifier, out / "samples_final.png"))]
    if ema:
        averaged = [keras.ops.convert_to_numpy(v) for v in gan.generator.weights]
        gan.generator.set_weights(raw[0].raw_weights)
        rows.append(("raw", score(gan, classifier, out / "samples_final_raw.png")))
        gan.generator.set_weights(averaged)
    print(f"total {time.perf_counter() - start:.0f} s")
    print("| generator | classes present | largest class share | mean max-softmax | pass |")
    print("|---|---|---|---|---|")
    for name, (shares, confidence, grid) in rows:
        passed = (shares > 0).all() and shares.max() <= 0.2 and confidence >= 0.9
        print(f"| {name} | {(shares > 0).sum()} | {shares.max():.3f} | {confidence:.3f} "
              f"| {passed} |")
    for name, (shares, _, grid) in rows:
        print(f"{name} class shares:", " ".join(f"{i}:{s:.3f}" for i, s in enumerate(shares)))
        print(f"{name} sample grid: {grid}")


def score(gan, classifier, grid_path, n=1000):
    """Class shares (10,), mean max-softmax and the grid PNG of n samples."""
    from keras_genmodels.plots.gan import plot_sample_grid

    samples = gan.sample(n, seed=123)
    probs = keras.ops.convert_to_numpy(classifier.predict(samples, verbose=0, batch_size=500))
    shares = np.bincount(probs.argmax(axis=1), minlength=10) / n
    grid = plot_sample_grid(samples[:100], grid_path, ncols=10)
    return shares, float(probs.max(axis=1).mean()), grid


if __name__ == "__main__":
    main()
