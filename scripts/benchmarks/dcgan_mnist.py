"""DCGAN on MNIST within a time budget, judged by the package's MNIST feature network.

Trains `GAN(architecture="dcgan")` on the local .npz for at most `--minutes`
of wall time, generates `--num-samples` digits (10,000) and scores them with
`metrics.scorecard.scorecard` against the 10,000 real test digits through
`feature_extractor(mnist_train.npz)` (the in-domain CNN; cached, 99.5 % test
accuracy): FID, KID, precision/recall (k = 3), density/coverage (k = 5) on its
penultimate features, and its classifier score (class histogram, mean
max-softmax). Targets (issue 12): mean max-softmax >= 0.90, no class above
20 %, precision >= 0.70, recall >= 0.70.

The stabilisers are `GAN` options: `--loss hinge` (hinge D and G losses),
`--spectral-normalization` (every D layer), `--discriminator-filters` (a wider
D), `--r1-weight` (the R1 regulariser on real data), `--output-kernel-size` (a
stride-1 output conv), `--discriminator-lr` (TTUR) and `--generator-ema` (Keras
optimizer `use_ema` on G, swapped in at the end of fit; the raw G is scored as well).

    # the best run in the README (TensorFlow: oneDNN convolutions are the fastest here)
    KERAS_BACKEND=tensorflow python scripts/benchmarks/dcgan_mnist.py --minutes 17 \\
        --r1-weight 10 --discriminator-filters 128 64 --output-kernel-size 5 \\
        --json scripts/benchmarks/results/dcgan_mnist_r1.json
    # the hinge + spectral-norm run (results/dcgan_mnist.json)
    KERAS_BACKEND=tensorflow python scripts/benchmarks/dcgan_mnist.py --minutes 20 \\
        --loss hinge --spectral-normalization --discriminator-filters 128 64
    # the lecture's plain DCGAN (non-saturating loss, no spectral norm)
    KERAS_BACKEND=tensorflow python scripts/benchmarks/dcgan_mnist.py --minutes 20
    KERAS_BACKEND=jax python scripts/benchmarks/dcgan_mnist.py --quick

Writes `scripts/benchmarks/results/dcgan_mnist.json` and
`dcgan_mnist_samples.png` (`--quick`: `*_quick.*`; `--json X.json`: `X.json` and
`X_samples.png`), the model
(`<out>/<backend>/dcgan_mnist.keras`, reused by `mnist_scorecard.py`), loss
curves and a latent interpolation under `--out`. Prints a markdown table.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN stays on (unlike the unit tests, which turn it off for bit-stable
# numbers): on this CPU it makes TensorFlow's convolutions 2-3x faster.

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE.parents[2] / "shared" / "data"
TARGETS = {"mean_max_softmax": 0.90, "max_class_share": 0.20, "precision": 0.70,
           "recall": 0.70}


class KeepRawGenerator(keras.callbacks.Callback):
    """Copies the generator's raw (not averaged) weights at each epoch end,
    before `fit` swaps the moving average in."""

    def __init__(self, generator):
        super().__init__()
        self.generator, self.raw_weights = generator, None

    def on_epoch_end(self, epoch, logs=None):
        self.raw_weights = [keras.ops.convert_to_numpy(v) for v in self.generator.weights]


def parse_args(argv=None):
    from keras_genmodels.tasks.arguments import (momentum, non_negative_float, positive_float,
                                                 positive_int)

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default=str(DATA / "mnist_train.npz"))
    p.add_argument("--test", default=str(DATA / "mnist_test.npz"))
    p.add_argument("--minutes", type=positive_float, default=20.0,
                   help="wall-time budget of the GAN training (scoring excluded)")
    p.add_argument("--epochs", type=positive_int, default=1000,
                   help="at most this many epochs; the time budget normally ends fit first")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--latent-dim", type=positive_int, default=64)
    p.add_argument("--filters", type=positive_int, nargs="+", default=[64, 32],
                   help="generator (and default discriminator) filters, low resolution first")
    p.add_argument("--discriminator-filters", type=positive_int, nargs="+", default=None,
                   help="discriminator filters, low resolution first (default --filters)")
    p.add_argument("--output-kernel-size", type=positive_int, default=None,
                   help="draw the image with a stride-1 k x k convolution from 28x28 "
                        "features (GAN generator_output_kernel_size; default: Radford et "
                        "al.'s stride-2 transposed output layer)")
    p.add_argument("--discriminator-steps", type=positive_int, default=1,
                   help="k: discriminator updates per generator update")
    p.add_argument("--loss", choices=("logistic", "hinge"), default="logistic",
                   help="logistic: Goodfellow's D loss + non-saturating G loss; hinge: "
                        "hinge D loss + -E[D(G(z))]")
    p.add_argument("--spectral-normalization", action="store_true",
                   help="spectral normalisation of every discriminator layer")
    p.add_argument("--r1-weight", type=non_negative_float, default=0.0,
                   help="gamma of the R1 regulariser on real data (GAN r1_weight; "
                        "Mescheder et al. 2018); 0 turns it off")
    p.add_argument("--lr", type=positive_float, default=2e-4, help="Adam learning rate of the generator")
    p.add_argument("--discriminator-lr", type=positive_float, default=None,
                   help="Adam learning rate of the discriminator (default --lr; a larger "
                        "one is the two time-scale update rule of Heusel et al. 2017)")
    p.add_argument("--beta1", type=momentum, default=0.5, help="Adam beta_1 of both players")
    p.add_argument("--generator-ema", type=momentum, default=0.999,
                   help="momentum of the exponential moving average of the generator's "
                        "weights (Keras optimizer `use_ema`; Yazici et al. 2019); 0 turns it off")
    p.add_argument("--num-samples", type=positive_int, default=10000, help="generated images scored")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/benchmarks/dcgan_mnist")
    p.add_argument("--json", default=None,
                   help="result JSON (default under results/); the grid goes beside it")
    p.add_argument("--quick", action="store_true",
                   help="1-minute budget on 10,000 training images, 2,000 samples scored")
    args = p.parse_args(argv)
    if args.quick:
        args.minutes, args.num_samples = 1.0, 2000
    return args


def build_gan(args):
    """The compiled DCGAN of the command-line options."""
    from keras_genmodels.models.gan import GAN

    gan = GAN(data_shape=(28, 28, 1), latent_dim=args.latent_dim, architecture="dcgan",
              filters=tuple(args.filters), output_activation="sigmoid",
              generator_output_kernel_size=args.output_kernel_size,
              discriminator_steps=args.discriminator_steps, seed=args.seed,
              generator_loss="hinge" if args.loss == "hinge" else "non_saturating",
              discriminator_loss=args.loss,
              spectral_normalization=args.spectral_normalization,
              r1_weight=args.r1_weight,
              discriminator_filters=(tuple(args.discriminator_filters)
                                     if args.discriminator_filters else None))
    ema = (dict(use_ema=True, ema_momentum=args.generator_ema)
           if args.generator_ema > 0 else {})
    gan.compile(optimizers={
        "discriminator": keras.optimizers.Adam(args.discriminator_lr or args.lr,
                                               beta_1=args.beta1),
        "generator": keras.optimizers.Adam(args.lr, beta_1=args.beta1, **ema)})
    return gan


def passes(scores):
    """Each target of issue 12 -> bool, from a scorecard."""
    return {"mean_max_softmax": scores["mean_max_softmax"] >= TARGETS["mean_max_softmax"],
            "max_class_share": max(scores["class_histogram"]) <= TARGETS["max_class_share"],
            "precision": scores["precision"] >= TARGETS["precision"],
            "recall": scores["recall"] >= TARGETS["recall"]}


def main(argv=None):
    args = parse_args(argv)
    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.data import image_dataset, load_images
    from keras_genmodels.files import write_text_atomically
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.metrics.scorecard import generate_samples, scorecard
    from keras_genmodels.plots.gan import (plot_latent_interpolation, plot_loss_curves,
                                           plot_sample_grid)

    start = time.perf_counter()
    out = pathlib.Path(args.out) / keras.backend.backend()
    keras.utils.set_random_seed(args.seed)
    extractor = feature_extractor(args.train, args.test)   # cached after the first run
    x_test, _ = load_images(args.test)
    real_features = extractor.features(x_test)
    x, _ = load_images(args.train)
    if args.quick:
        x = x[:10000]
    # Each of the k discriminator updates takes its own chunk of batch_size images.
    ds = image_dataset(x, batch_size=args.discriminator_steps * args.batch_size,
                       drop_remainder=True, seed=args.seed)
    gan = build_gan(args)
    ema = args.generator_ema > 0
    raw = [KeepRawGenerator(gan.generator)] if ema else []
    t0 = time.perf_counter()
    history = gan.fit(ds, epochs=args.epochs, verbose=2,
                      callbacks=[TimeLimit(args.minutes * 60), *raw])
    train_s = time.perf_counter() - t0
    g_steps = int(keras.ops.convert_to_numpy(gan.phase_optimizers["generator"].iterations))
    print(f"backend {keras.backend.backend()}: {g_steps} generator steps in {train_s:.0f} s "
          f"({len(history.history['g_loss'])} epochs)", flush=True)
    plot_loss_curves(history, out / "loss_curves.png")
    plot_latent_interpolation(gan, out / "interpolation.png")
    gan.save(out / "dcgan_mnist.keras")

    suffix = "_quick" if args.quick else ""
    json_path = pathlib.Path(args.json or RESULTS / f"dcgan_mnist{suffix}.json")
    # --json X.json puts the grid beside it (X_samples.png): a named run never
    # overwrites the default run's committed grid.
    grid_path = (json_path.with_name(json_path.stem + "_samples.png") if args.json
                 else RESULTS / f"dcgan_mnist_samples{suffix}.png")
    rows = {}
    # fit() ended by swapping the averaged weights in (when EMA is on).
    for name in ("ema", "raw") if ema else ("raw",):
        if name == "raw" and ema:
            averaged = [keras.ops.convert_to_numpy(v) for v in gan.generator.weights]
            gan.generator.set_weights(raw[0].raw_weights)
        fake, _ = generate_samples(gan, args.num_samples, seed=123)
        scores = scorecard(extractor, None, fake, real_features=real_features)
        rows[name] = {**scores, "max_class_share": max(scores["class_histogram"]),
                      "passes": passes(scores)}
        if len(rows) == 1:   # the scored generator's samples
            plot_sample_grid(fake[:100], grid_path, ncols=10)
        if name == "raw" and ema:
            gan.generator.set_weights(averaged)
    main_row = rows["ema" if ema else "raw"]
    result = {
        "backend": keras.backend.backend(),
        "machine": "2-core CPU shared with other jobs (timings vary by about +-40 %)",
        "command": "python scripts/benchmarks/dcgan_mnist.py " + " ".join(sys.argv[1:]),
        "options": {k: v for k, v in vars(args).items() if k not in ("json",)},
        "gan_config": {k: v for k, v in gan.get_config().items()
                       if k not in ("name", "trainable", "dtype")},
        "budget_minutes": args.minutes, "train_minutes": round(train_s / 60, 2),
        "generator_steps": g_steps, "epochs": len(history.history["g_loss"]),
        "feature_network": {k: extractor.meta.get(k) for k in ("test_accuracy", "key")},
        "num_real": int(len(x_test)), "targets": TARGETS,
        "scored_generator": "ema" if ema else "raw", "scores": rows,
        "all_targets_met": all(main_row["passes"].values()),
        "sample_grid": os.path.relpath(grid_path, HERE.parents[1]),
        "total_minutes": round((time.perf_counter() - start) / 60, 2),
    }
    write_text_atomically(json_path, json.dumps(result, indent=1, default=str))
    print("| generator | FID | KID | precision | recall | density | coverage "
          "| mean max-softmax | largest class | all targets |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} ± {r['kid_std']:.3f} "
              f"| {r['precision']:.3f} | {r['recall']:.3f} | {r['density']:.3f} "
              f"| {r['coverage']:.3f} | {r['mean_max_softmax']:.3f} "
              f"| {r['max_class_share']:.3f} | {all(r['passes'].values())} |")
    print(f"wrote {json_path} and {grid_path}; total {result['total_minutes']} min")
    return result


if __name__ == "__main__":
    main()
