"""Mode-collapse benchmark: GAN (minimax, non-saturating), WGAN-GP, PacGAN2/4
on the 8-Gaussian ring and the 25-Gaussian grid (VEEGAN / PacGAN protocol).

Each run trains an MLP GAN with `model.fit` on a fresh stream of toy data,
generates 2,500 samples and scores them with
`keras_genmodels.metrics.mode_coverage` (high quality: within 3 std of the
nearest mode; covered: >= 1 high-quality sample; reverse KL of the mode
histogram against uniform). Prints a markdown table of mean ± standard
error over seeds, with the wall time per run, and writes one PNG of samples
over data per (dataset, method) (first seed).

Recipe: MLP 256-256 for both players (ReLU generator, leaky-ReLU
discriminator), 2-d normal prior, Adam(beta_1=0.5) with cosine decay from
1e-3; WGAN-GP uses Gulrajani et al.'s toy settings (lr 1e-4, beta
(0.5, 0.9), lambda 0.1, 5 critic steps). `--standardize` trains on data
divided by the mixture's std (an exact rescaling: the metric is
scale-invariant); it is what lets the grid (coordinates up to 4) train.

    # the method table (equal short budget), 10 seeds:
    KERAS_BACKEND=jax python scripts/benchmarks/mode_collapse.py --seeds 10 \
        --steps 4000 --batch-size 256 --standardize --wgan-steps 2000
    # the long runs of the best methods (ring: PacGAN2, grid: minimax GAN):
    KERAS_BACKEND=jax python scripts/benchmarks/mode_collapse.py --seeds 10 \
        --steps 30000 --batch-size 512 --standardize --datasets ring8 --methods pacgan2
    KERAS_BACKEND=jax python scripts/benchmarks/mode_collapse.py --seeds 10 \
        --steps 30000 --batch-size 512 --standardize --datasets grid25 --methods gan_minimax
    KERAS_BACKEND=jax python scripts/benchmarks/mode_collapse.py --quick
"""

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

METHODS = {
    # name: (class name, GAN keyword arguments)
    "gan_minimax": ("GAN", dict(generator_loss="minimax")),
    "gan_non_saturating": ("GAN", dict(generator_loss="non_saturating")),
    "wgan_gp": ("WGANGP", dict(discriminator_steps=5)),
    "pacgan2": ("GAN", dict(generator_loss="non_saturating", packing=2)),
    "pacgan4": ("GAN", dict(generator_loss="non_saturating", packing=4)),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["ring8", "grid25"])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=6000, help="generator updates per run")
    p.add_argument("--wgan-steps", type=int, default=None,
                   help="generator updates of WGAN-GP runs (each has 5 critic updates "
                        "with a double backward pass, about 10x a GAN step); default --steps")
    p.add_argument("--batch-size", type=int, default=256, help="samples per discriminator update")
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument("--units", type=int, nargs="+", default=[256, 256])
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--wgan-lr", type=float, default=1e-4,
                   help="learning rate of WGAN-GP's critic and generator")
    p.add_argument("--gp-weight", type=float, default=0.1,
                   help="WGAN-GP penalty weight lambda (Gulrajani et al.'s toy "
                        "experiments use 0.1; 10 is their image default)")
    p.add_argument("--final-lr-fraction", type=float, default=0.001,
                   help="cosine decay of the learning rate to this fraction")
    p.add_argument("--generator-ema", type=float, default=0.0,
                   help="momentum of an exponential moving average of the generator's "
                        "weights (Keras optimizer `use_ema`), swapped in at the end "
                        "of fit; 0 turns it off")
    p.add_argument("--standardize", action="store_true",
                   help="train on data divided by its per-coordinate std (the mixture's "
                        "exact std) and multiply the samples back before scoring")
    p.add_argument("--num-samples", type=int, default=2500)
    p.add_argument("--out", default="runs/benchmarks/mode_collapse")
    p.add_argument("--report-only", action="store_true",
                   help="print the table of the runs already in <out>/<backend>/runs.jsonl")
    p.add_argument("--quick", action="store_true",
                   help="2 seeds, 600 steps, ring8 only: a smoke run in about a minute")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.steps, args.datasets = 2, 600, ["ring8"]
    return args


def run_steps(method, args):
    """Generator updates of one run of `method`."""
    if METHODS[method][0] == "WGANGP" and args.wgan_steps:
        return args.wgan_steps
    return args.steps


def build(method, args, seed):
    import keras

    from keras_genmodels.models import gan

    cls_name, kwargs = METHODS[method]
    if cls_name == "WGANGP":
        kwargs = dict(kwargs, gradient_penalty_weight=args.gp_weight)
    model = getattr(gan, cls_name)(
        data_shape=(2,), latent_dim=args.latent_dim, generator_units=tuple(args.units),
        discriminator_units=tuple(args.units), seed=seed, **kwargs)
    k = model.discriminator_steps
    steps = run_steps(method, args)
    peak, beta_2 = (args.wgan_lr, 0.9) if cls_name == "WGANGP" else (args.lr, 0.999)
    optimizers = {}
    for name, updates in (("discriminator", steps * k), ("generator", steps)):
        lr = keras.optimizers.schedules.CosineDecay(peak, updates,
                                                    alpha=args.final_lr_fraction)
        ema = dict(use_ema=True, ema_momentum=args.generator_ema) if (
            name == "generator" and args.generator_ema > 0) else {}
        optimizers[name] = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=beta_2, **ema)
    model.compile(optimizers=optimizers)
    return model


def mixture_std(dist):
    """Exact per-coordinate std of an isotropic Gaussian mixture with equal
    weights: sqrt(std^2 + mean over modes and coordinates of (mu - mean mu)^2)."""
    means = np.asarray(dist.means, np.float64)
    return float(np.sqrt(dist.std ** 2 + ((means - means.mean(0)) ** 2).mean()))


def run_one(dataset, method, seed, args):
    import keras

    from keras_genmodels.data import toy_dataset, toy_distribution
    from keras_genmodels.metrics.mode_coverage import mode_coverage

    keras.utils.set_random_seed(seed)
    dist = toy_distribution(dataset)
    start = time.perf_counter()
    model = build(method, args, seed)
    k = model.discriminator_steps
    ds = toy_dataset(dataset, batch_size=k * args.batch_size, seed=1000 + seed)
    scale = mixture_std(dist) if args.standardize else 1.0
    if args.standardize:
        ds = ds.map(lambda x: x / scale)
    epochs = 4
    model.fit(ds, steps_per_epoch=run_steps(method, args) // epochs, epochs=epochs, verbose=0)
    samples = model.sample(args.num_samples, seed=seed) * scale
    wall = time.perf_counter() - start
    result = mode_coverage(samples, dist)
    result.update(dataset=dataset, method=method, seed=seed, wall_s=wall,
                  d_steps=int(keras.ops.convert_to_numpy(
                      model.phase_optimizers["discriminator"].iterations)))
    return result, samples, dist


def mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def table(results, backend):
    lines = [f"backend: {backend}", "",
             "| dataset | method | seeds | modes | high quality % | reverse KL | wall s/run |",
             "|---|---|---|---|---|---|---|"]
    keys = sorted({(r["dataset"], r["method"]) for r in results},
                  key=lambda t: (t[0], list(METHODS).index(t[1])))
    for dataset, method in keys:
        rs = [r for r in results if r["dataset"] == dataset and r["method"] == method]
        m, ms = mean_se([r["modes_covered"] for r in rs])
        h, hs = mean_se([100 * r["high_quality"] for r in rs])
        kl, kls = mean_se([r["reverse_kl"] for r in rs])
        w, _ = mean_se([r["wall_s"] for r in rs])
        lines.append(f"| {dataset} | {method} | {len(rs)} | {m:.2f} ± {ms:.2f} | "
                     f"{h:.1f} ± {hs:.1f} | {kl:.3f} ± {kls:.3f} | {w:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import keras

    from keras_genmodels.plots.gan import plot_samples_over_data

    backend = keras.backend.backend()
    out = pathlib.Path(args.out) / backend
    out.mkdir(parents=True, exist_ok=True)
    results = []
    if args.report_only:
        results = [json.loads(line) for line in open(out / "runs.jsonl")]
        print(table(results, backend))
        return
    log = open(out / "runs.jsonl", "a")
    # Seeds outermost: a run cut short still has every (dataset, method) cell.
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for dataset in args.datasets:
            for method in args.methods:
                result, samples, dist = run_one(dataset, method, seed, args)
                results.append(result)
                log.write(json.dumps(result) + "\n")
                log.flush()
                print(f"{dataset} {method} seed {seed}: {result['modes_covered']} modes, "
                      f"{100 * result['high_quality']:.1f}% HQ, KL {result['reverse_kl']:.3f}, "
                      f"{result['wall_s']:.1f} s", flush=True)
                if seed == args.first_seed:
                    plot_samples_over_data(
                        samples, dist.sample(args.num_samples, seed=0),
                        out / f"{dataset}_{method}.png", means=dist.means,
                        title=f"{dataset} {method} seed {seed}: "
                              f"{result['modes_covered']} modes, "
                              f"{100 * result['high_quality']:.1f}% HQ")
    text = table(results, backend)
    (out / "table.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
