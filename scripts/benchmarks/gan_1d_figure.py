"""Goodfellow et al. (2014) Fig. 1, reproduced: a 1-D GAN on N(4, 0.5^2).

At several moments of training draws the data density (black dots), the
generator's density (green, histogram of 20,000 samples) and D(x) (blue
dashes) to one PNG, and prints a table of the mean and std of p_g and of
D on the data region at each snapshot.

    KERAS_BACKEND=jax python scripts/benchmarks/gan_1d_figure.py
    KERAS_BACKEND=jax python scripts/benchmarks/gan_1d_figure.py --quick
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--snapshots", type=int, nargs="+", default=[0, 150, 600, 3000],
                   help="generator updates at which to draw a panel")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mean", type=float, default=4.0, help="data mean (std 0.5)")
    p.add_argument("--out", default="runs/benchmarks/gan_1d/gan_1d_figure.png")
    p.add_argument("--quick", action="store_true", help="snapshots 0, 50, 200, 600")
    args = p.parse_args(argv)
    if args.quick:
        args.snapshots = [0, 50, 200, 600]

    import keras

    from keras_genmodels.data import toy_dataset, toy_distribution
    from keras_genmodels.models.gan import GAN
    from keras_genmodels.plots.gan import plot_gan_1d_snapshots

    keras.utils.set_random_seed(args.seed)
    dist = toy_distribution("gaussian1d", mean=args.mean)
    mean, std = float(dist.means[0, 0]), dist.std
    gan = GAN(data_shape=(1,), latent_dim=1, prior="uniform", generator_units=(32, 32),
              discriminator_units=(32, 32), seed=args.seed)
    gan.compile(optimizers={"discriminator": keras.optimizers.Adam(1e-3, beta_1=0.5),
                            "generator": keras.optimizers.Adam(1e-3, beta_1=0.5)})
    data = iter(toy_dataset(dist, batch_size=args.batch_size, seed=args.seed))
    grid = np.linspace(mean - 4, mean + 4, 400).astype("float32")
    density = np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))
    snaps, rows, done, start = [], [], 0, time.perf_counter()
    for target in sorted(args.snapshots):
        if target > done:
            batches = [next(data).numpy() for _ in range(target - done)]
            gan.fit(np.concatenate(batches), batch_size=args.batch_size, epochs=1,
                    verbose=0, shuffle=False)
            done = target
        samples = gan.sample(20000, seed=1)[:, 0]
        d = keras.ops.convert_to_numpy(gan.discriminate(grid[:, None]))[:, 0]
        snaps.append(dict(grid=grid, data_density=density, generator_samples=samples,
                          discriminator=d, title=f"after {done} G updates"))
        region = np.abs(grid - mean) < 2 * std
        rows.append((done, samples.mean(), samples.std(), d[region].mean(), d[region].std()))
    path = plot_gan_1d_snapshots(snaps, args.out)
    print(f"backend {keras.backend.backend()}, {time.perf_counter() - start:.1f} s, figure {path}")
    print(f"| G updates | mean p_g | std p_g | mean D on data (|x-{mean:g}|<1) | std D there |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} |")
    print(f"data: mean {mean}, std {std}; at the optimum p_g = p_data and D = 1/2")


if __name__ == "__main__":
    main()
