"""Stacked MNIST mode counts: DCGAN vs PacDCGAN2 at an equal training budget.

The VEEGAN / PacGAN protocol (Srivastava et al. 2017; Lin et al. 2018, Table 2): 128,000
training images whose three channels are three independently drawn MNIST digits
(`keras_genmodels.data.stacked_mnist`, 1,000 modes); after training, 26,000 generated
images, each channel classified by the package's MNIST feature network (99.47 % test
accuracy); modes = distinct digit triples, KL = KL(q || uniform over 1,000) of the
generated mode histogram q (`keras_genmodels.metrics.stacked_modes`).

Both models are `GAN(data_shape=(28, 28, 3), architecture="dcgan")` with the same
networks, optimiser, batch and seed; PacDCGAN2 differs only by `packing=2` (its
discriminator sees two samples concatenated along channels). They train one after the other
in one process on an equal budget: by default (`--budget steps`, fair on a shared machine
whose speed varies) the first model trains for `--minutes` of training time (a `TimeLimit`
callback that does not count the in-training mode counts) and the later one for the same
number of generator steps (capped at `--later-slack` x `--minutes`); `--budget minutes`
gives each the same training minutes instead; `--steps N` gives every model N generator
steps (to put a model beside an earlier run at its step count; `--beside RESULTS.json` draws
that run's curves in this run's plot). Every `--eval-every` generator steps a cheaper count on
`--eval-samples` images (same noise each time) gives the modes-versus-steps curve; the
final count uses `--final-samples` (26,000).

    # this CPU machine, TF backend, the issue's budget (2 runs of <= 30 min, ~65 min):
    KERAS_BACKEND=tensorflow python scripts/benchmarks/stacked_mnist.py --minutes 27
    KERAS_BACKEND=tensorflow python scripts/benchmarks/stacked_mnist.py --quick   # ~3 min
    # the paper's budget on a GPU: 50 epochs of 128k images (100,000 steps at batch 64)
    # each, with the width of the PacGAN/VEEGAN DCGAN (G 7x7x128 -> 14x14x64 -> 28x28x3,
    # D conv 64 -> conv 128):
    KERAS_BACKEND=tensorflow python scripts/benchmarks/stacked_mnist.py --epochs 50 \
        --minutes 0 --filters 128 64 --eval-every 5000 --tag paper

Writes `scripts/benchmarks/results/stacked_mnist[_quick|_TAG].json` (rewritten after each
model) and `..._modes.png` (modes and KL versus generator steps, both models) plus a
4x8 sample grid per model, and prints a Markdown table.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN stays on: on this CPU it makes TensorFlow's convolutions 2-3x faster.

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_genmodels.tasks.arguments import file_tag, positive_int  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
PAPER = {"DCGAN": {"modes": 99.0, "kl": 3.40}, "PacDCGAN2": {"modes": 1000.0, "kl": 0.06}}


class ModeCurve(keras.callbacks.Callback):
    """Counts the generator's modes every `every` training steps (and at the end).

    Samples `num_samples` images from fixed noise (`seed`), so the curve follows one
    set of latents; records `(step, seconds since fit began, modes, kl)` rows.
    """

    def __init__(self, gan, classify, every, num_samples, seed=1234, log=print):
        super().__init__()
        self.gan, self.classify = gan, classify
        self.every, self.num_samples, self.seed, self.log = every, num_samples, seed, log
        self.rows, self.step, self.eval_seconds = [], 0, 0.0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self._evaluate()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every and self.step % self.every == 0:
            self._evaluate(logs)

    def on_train_end(self, logs=None):
        if not self.rows or self.rows[-1]["step"] != self.step:
            self._evaluate(logs)

    def _evaluate(self, logs=None):
        from keras_genmodels.metrics.stacked_modes import stacked_modes

        t0 = time.perf_counter()
        stats = stacked_modes(self.gan.sample(self.num_samples, seed=self.seed), self.classify)
        self.eval_seconds += time.perf_counter() - t0
        row = {"step": self.step, "seconds": round(t0 - self.start, 1),
               "modes": stats["modes"], "kl": round(stats["kl"], 4)}
        if logs:
            row.update({k: round(float(v), 4) for k, v in logs.items()
                        if k in ("d_loss", "g_loss", "d_real", "d_fake")})
        self.rows.append(row)
        self.log(f"  step {row['step']:6d}  {row['seconds']:7.0f} s  modes {row['modes']:4d}  "
                 f"KL {row['kl']:.3f}  {logs and {k: round(float(v), 3) for k, v in logs.items()}}")


def training_time_limit(seconds, curve):
    """A `TimeLimit` on training time only: the wall time since `fit` began less the
    seconds `curve` spent counting modes (so the curve's resolution costs no training)."""
    from keras_genmodels.callbacks import TimeLimit

    class TrainingTimeLimit(TimeLimit):
        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - self.start - curve.eval_seconds > self.seconds:
                self.model.stop_training = True

    return TrainingTimeLimit(seconds)


class StepLimit(keras.callbacks.Callback):
    """Stop `fit` after `steps` training steps (the equal-steps budget)."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.seen = int(steps), 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen >= self.steps:
            self.model.stop_training = True


def train_one(name, packing, args, classify, out, tag="", max_steps=None):
    """Train one model within the budget; returns its result dict.

    `max_steps`: also stop after this many generator steps, and allow
    `--later-slack` times the time budget (the equal-steps budget of the later models)."""
    from keras_genmodels.callbacks import StopOnNonFinite
    from keras_genmodels.data.stacked_mnist import stacked_mnist_dataset
    from keras_genmodels.metrics.stacked_modes import stacked_modes
    from keras_genmodels.models.gan import GAN
    from keras_genmodels.plots.gan import plot_sample_grid

    keras.utils.set_random_seed(args.seed)
    ds = stacked_mnist_dataset(args.train, num_images=args.num_images, seed=args.seed,
                               batch_size=args.batch_size, drop_remainder=True)
    gan = GAN(data_shape=(28, 28, 3), latent_dim=args.latent_dim, architecture="dcgan",
              filters=tuple(args.filters), output_activation="sigmoid", packing=packing,
              seed=args.seed, name=name.lower(),
              discriminator_filters=tuple(args.discriminator_filters or ()) or None,
              spectral_normalization=args.spectral_normalization,
              discriminator_loss=args.discriminator_loss, generator_loss=args.generator_loss)
    gan.compile(optimizers={
        "discriminator": keras.optimizers.Adam(args.lr, beta_1=0.5),
        "generator": keras.optimizers.Adam(args.lr, beta_1=0.5)})
    curve = ModeCurve(gan, classify, args.eval_every, args.eval_samples)
    callbacks = [curve, StopOnNonFinite()]
    minutes = args.minutes * (args.later_slack if max_steps else 1.0)
    if minutes > 0:
        callbacks.append(training_time_limit(minutes * 60, curve))
    if max_steps:
        callbacks.append(StepLimit(max_steps))
    print(f"{name}: packing={packing}, {gan.generator.count_params():,} G / "
          f"{gan.discriminator.count_params():,} D parameters, budget "
          f"{minutes or 'none'} min of training, at most {args.epochs} epochs"
          f"{f' and {max_steps} steps' if max_steps else ''}", flush=True)
    t0 = time.perf_counter()
    gan.fit(ds, epochs=args.epochs, verbose=0, callbacks=callbacks)
    fit_s = time.perf_counter() - t0
    steps = int(keras.ops.convert_to_numpy(gan.phase_optimizers["generator"].iterations))
    t1 = time.perf_counter()
    samples = gan.sample(args.final_samples, seed=args.seed + 1)
    final = stacked_modes(samples, classify)
    final_eval_s = time.perf_counter() - t1
    grid = plot_sample_grid(samples[:32], out / f"stacked_mnist{tag}_samples_{name.lower()}.png", ncols=8,
                            title=f"{name}, {steps} steps")
    hist = final.pop("histogram")
    result = {
        "name": name, "packing": packing, "generator_steps": steps,
        "step_budget": max_steps, "training_minutes_cap": minutes,
        "epochs": round(steps * args.batch_size / args.num_images, 2),
        "fit_seconds": round(fit_s, 1), "in_fit_eval_seconds": round(curve.eval_seconds, 1),
        "final_eval_seconds": round(final_eval_s, 1),
        "modes": final["modes"], "kl": round(final["kl"], 4),
        "num_samples": final["num_samples"], "largest_mode_share": round(
            float(hist.max() / hist.sum()), 4),
        "finite": bool(np.isfinite(samples).all()), "curve": curve.rows,
        "sample_grid": str(grid.relative_to(RESULTS.parent.parent.parent))
        if grid.is_relative_to(RESULTS.parent.parent.parent) else str(grid)}
    print(f"{name}: {steps} steps ({result['epochs']} epochs) in {fit_s:.0f} s; "
          f"{final['num_samples']} samples: {final['modes']} modes, KL {final['kl']:.3f} "
          f"(final count {final_eval_s:.0f} s)", flush=True)
    return result


def plot_curves(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    from keras_genmodels.plots.grid import save_figure

    fig, (ax_m, ax_k) = plt.subplots(1, 2, figsize=(9, 3.2))
    for r in results:
        steps = [row["step"] for row in r["curve"]]
        ax_m.plot(steps, [row["modes"] for row in r["curve"]], marker=".", label=r["name"])
        ax_k.plot(steps, [row["kl"] for row in r["curve"]], marker=".", label=r["name"])
    n = results[0]["curve_samples"]
    ax_m.set(xlabel="generator steps", ylabel=f"modes (of 1,000; {n:,} samples)",
             ylim=(0, 1030))
    ax_m.axhline(1000, color="grey", lw=0.5)
    ax_k.set(xlabel="generator steps", ylabel="KL(q || uniform), nats", yscale="log")
    ax_m.legend()
    for ax in (ax_m, ax_k):
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))   # 20k, not 20000
    ax_m.set_title("Stacked MNIST mode coverage", fontsize=9)
    ax_k.set_title("KL of the mode histogram to uniform", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=80)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default="../shared/data/mnist_train.npz",
                   help="source digits (.npz/IDX path or tfds name); also the feature "
                        "network's training data")
    p.add_argument("--test", default="../shared/data/mnist_test.npz",
                   help="held-out digits: the real-data reference count")
    p.add_argument("--num-images", type=int, default=128000)
    p.add_argument("--minutes", type=float, default=30.0,
                   help="training-time budget of each model (wall time of fit less the "
                        "in-training mode counts; 0: none, --epochs decides)")
    p.add_argument("--budget", default="steps", choices=["steps", "minutes"],
                   help="equal budget: 'steps' (the first model trains for --minutes, the "
                        "later ones for as many steps, within --later-slack x --minutes) or "
                        "'minutes' (each trains for --minutes)")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="every model trains for this many generator steps (time cap: "
                        "--later-slack x --minutes; 0 minutes: none), e.g. to train a model "
                        "at the step budget of an earlier run")
    p.add_argument("--beside", default=None, metavar="RESULTS.json",
                   help="an earlier run's results file: its models' curves are drawn beside "
                        "this run's and its rows printed in the table (e.g. with --steps)")
    p.add_argument("--later-slack", type=float, default=1.2,
                   help="time cap of the later models, in units of --minutes (budget=steps)")
    p.add_argument("--epochs", type=int, default=1000,
                   help="at most this many epochs (the time budget normally ends fit first)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=100)
    p.add_argument("--filters", type=int, nargs="+", default=[64, 32])
    p.add_argument("--discriminator-filters", type=int, nargs="+", default=None,
                   help="D filters, low resolution first (default: --filters)")
    p.add_argument("--spectral-normalization", action="store_true",
                   help="spectral normalisation of D's layers (Miyato et al. 2018)")
    p.add_argument("--discriminator-loss", default="logistic", choices=["logistic", "hinge"])
    p.add_argument("--generator-loss", default="non_saturating",
                   choices=["non_saturating", "minimax", "hinge"])
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=1000, help="generator steps between counts")
    p.add_argument("--eval-samples", type=int, default=5200,
                   help="samples of the in-training counts (cheaper than the final count)")
    p.add_argument("--final-samples", type=int, default=26000)
    p.add_argument("--models", nargs="+", default=["PacDCGAN2", "DCGAN"],
                   choices=["PacDCGAN2", "DCGAN"], help="trained in this order")
    p.add_argument("--tag", type=file_tag, default=None, help="results file suffix")
    p.add_argument("--out", default=str(RESULTS), help="results folder")
    p.add_argument("--quick", action="store_true",
                   help="12,800 images, 1 minute per model, 1,000/2,600-sample counts")
    args = p.parse_args(argv)
    if args.quick:
        args.num_images, args.minutes, args.eval_every = 12800, 1.0, 100
        args.eval_samples, args.final_samples = 1000, 2600
    for name in ("num_images", "batch_size", "latent_dim", "eval_samples", "final_samples",
                 "epochs"):
        if getattr(args, name) < 1:
            p.error(f"expected --{name.replace('_', '-')} >= 1, received {getattr(args, name)}")
    if args.minutes < 0 or args.eval_every < 0:
        p.error("expected --minutes >= 0 and --eval-every >= 0")

    beside = []
    if args.beside:
        try:
            beside = json.loads(pathlib.Path(args.beside).read_text())["results"]
            if not all("curve" in r and "name" in r for r in beside):
                raise KeyError("a result without 'curve' or 'name'")
        except (OSError, ValueError, KeyError, TypeError) as err:
            p.error(f"expected --beside to name a stacked_mnist.py results file, received "
                    f"{args.beside!r} ({type(err).__name__})")
        beside = [{**r, "name": f"{r['name']} (earlier run)"} for r in beside]

    from keras_genmodels.data.stacked_mnist import load_source_digits, stacked_mnist
    from keras_genmodels.files import write_text_atomically
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.metrics.stacked_modes import stacked_modes

    load_source_digits(args.train)          # bad input fails here, before any training
    start = time.perf_counter()
    tag = "_quick" if args.quick else f"_{args.tag}" if args.tag else ""
    out = pathlib.Path(args.out)
    fx = feature_extractor(args.train, args.test if os.path.exists(args.test) else None,
                           verbose=1)
    print(f"MNIST feature network: test accuracy {fx.test_accuracy:.4f}", flush=True)
    real_x, _ = stacked_mnist(args.test if os.path.exists(args.test) else args.train,
                              num_images=args.final_samples, seed=args.seed + 7)
    real = stacked_modes(real_x, fx.predict_proba)
    del real_x
    real.pop("histogram")
    print(f"real Stacked MNIST ({args.final_samples} held-out images): {real['modes']} modes, "
          f"KL {real['kl']:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    report = {"protocol": "Stacked MNIST, PacGAN/VEEGAN: modes = distinct classified digit "
                          "triples of the generated samples; KL = KL(q_gen || uniform(1000))",
              "backend": keras.backend.backend(), "args": vars(args),
              "classifier_test_accuracy": fx.test_accuracy, "real_reference": real,
              "paper_table2": PAPER, "machine": "shared 2-core CPU (other jobs may run: timings vary)",
              "results": [], "beside": args.beside}
    path = out / f"stacked_mnist{tag}.json"
    max_steps = args.steps
    for name in args.models:
        result = train_one(name, 2 if name == "PacDCGAN2" else 1, args, fx.predict_proba, out,
                           tag, max_steps)
        if args.budget == "steps" and max_steps is None:
            max_steps = result["generator_steps"]
        result["curve_samples"] = args.eval_samples
        report["results"].append(result)
        report["total_seconds"] = round(time.perf_counter() - start, 1)
        write_text_atomically(path, json.dumps(report, indent=1))
        png = plot_curves(report["results"] + beside, out / f"stacked_mnist{tag}_modes.png")
    print(f"wrote {path} and {png} (total {time.perf_counter() - start:.0f} s)")
    print(f"| model | steps (epochs) | training wall s | modes (of 1,000) | KL | paper modes / KL |")
    print("|---|---|---|---|---|---|")
    for r in report["results"] + beside:
        paper = PAPER[r["name"].split()[0]]
        print(f"| {r['name']} | {r['generator_steps']:,} ({r['epochs']}) | {r['fit_seconds']:.0f}"
              f" | {r['modes']} | {r['kl']:.3f} | {paper['modes']:.0f} / {paper['kl']:.2f} |")
    print(f"| real data (held-out digits) | - | - | {real['modes']} | {real['kl']:.3f} | - |")
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
