"""VAE on dynamically binarised MNIST: test NLL with the IWAE k=5000 estimator.

Setup of Burda et al. (2016), "Importance Weighted Autoencoders", Table 1,
one stochastic layer: encoder 784-200-200-(50+50), decoder 50-200-200-784,
tanh, Bernoulli decoder, each training epoch re-binarises the grey levels
(x_bin ~ Bernoulli(x / 255)); the test set is binarised once (seed 0).
Anchors: VAE (k=1) 86.76 nats after 3,280 epochs (paper); 89.78 (Pythae).

The paper's budget (`--schedule paper`): Adam(β1=0.9, β2=0.999, ε=1e-4),
batch 20, 3^i epochs at learning rate 1e-3·10^(−i/7) for i = 0..7 (3,280
epochs). On a GPU (JAX backend):

    KERAS_BACKEND=jax python scripts/benchmarks/vae_binarized_mnist.py \\
        --schedule paper --batch-size 20 --minutes 0 --k 5000 --eval-subset 0

Here (CPU), a time-boxed run (batch 100; the learning rate decays from
1e-3 to 1e-4 over the time budget; NLL on the first 1,000 test images):

    python scripts/benchmarks/vae_binarized_mnist.py --minutes 20 \\
        --eval-subset 1000

Prints a markdown table of the per-epoch trend (train loss, KL, test −ELBO
on `--trend-subset` test images) and the final IWAE NLL.
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

PAPER_STAGES = 8  # i = 0..7: 3^i epochs each, 3,280 in all


def parse_args(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", default=os.path.join(data, "mnist_train.npz"))
    p.add_argument("--test", default=os.path.join(data, "mnist_test.npz"))
    p.add_argument("--minutes", type=float, default=20.0,
                   help="training time budget; 0 = no limit "
                        "(stops after the epoch that crosses it)")
    p.add_argument("--epochs", type=int, default=None,
                   help="maximum epochs (default 3280 with --schedule paper, else 10000)")
    p.add_argument("--schedule", choices=("budget", "constant", "paper"), default="budget",
                   help="budget: learning rate decays exponentially from --learning-rate to a "
                        "tenth of it over the --minutes budget (by elapsed time); constant; "
                        "paper: Burda et al.'s 3^i-epoch stages (3,280 epochs)")
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--latent-dim", type=int, default=50)
    p.add_argument("--iwae-samples", type=int, default=1, help="training objective k (1 = VAE)")
    p.add_argument("--k", type=int, default=5000, help="importance samples of the test NLL")
    p.add_argument("--eval-subset", type=int, default=1000,
                   help="test images for the final k-sample NLL (0 = all 10,000)")
    p.add_argument("--trend-subset", type=int, default=1000,
                   help="test images for the per-epoch -ELBO")
    p.add_argument("--train-subset", type=int, default=0, help="0 = all 60,000")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="write the trained model to this .keras path")
    p.add_argument("--json", default=None, help="write the results to this JSON file")
    p.add_argument("--quick", action="store_true",
                   help="smoke run (< 1 min): 2,000 train images, 2 epochs, "
                        "k=100 on 100 test images")
    args = p.parse_args(argv)
    if args.quick:
        args.train_subset, args.epochs, args.minutes = 2000, 2, 1.0
        args.k, args.eval_subset, args.trend_subset = 100, 100, 500
    if args.epochs is None:
        args.epochs = 3 ** PAPER_STAGES // 2 if args.schedule == "paper" else 10000
    return args


def load_grey(path, subset=0):
    """MNIST grey levels in [0, 1], `(n, 28, 28, 1)` float32, from a local .npz."""
    with np.load(path) as f:
        if "x" not in f:
            raise ValueError(
                f"expected an .npz with an 'x' array, received keys {sorted(f)} in {path}")
        x = f["x"]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"expected x of shape (n, 28, 28), received {x.shape} in {path}")
    if subset:
        x = x[:subset]
    return (x.astype("float32") / 255.0)[..., None]


def binarize(x, rng):
    return (rng.random(x.shape, dtype=np.float32) < x).astype("float32")


def paper_learning_rate(steps_per_epoch, epochs):
    import keras

    boundaries, values, done = [], [], 0
    for i in range(PAPER_STAGES):
        values.append(1e-3 * 10 ** (-i / 7))
        done += 3 ** i
        boundaries.append(done * steps_per_epoch)
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries[:-1], values)


def main(argv=None):
    args = parse_args(argv)
    import keras

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    from keras_genmodels.metrics.iwae import iwae_log_likelihood
    from keras_genmodels.models.vae import VAE

    rng = np.random.default_rng(args.seed)
    keras.utils.set_random_seed(args.seed)
    x_train = load_grey(args.train, args.train_subset)
    x_test = binarize(load_grey(args.test), np.random.default_rng(0))
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    lr = (paper_learning_rate(steps_per_epoch, args.epochs)
          if args.schedule == "paper" else args.learning_rate)
    model = VAE(image_shape=(28, 28, 1), latent_dim=args.latent_dim, hidden_units=[200, 200],
                activation="tanh", likelihood="bernoulli", iwae_samples=args.iwae_samples,
                seed=args.seed)
    model.compile(optimizer=keras.optimizers.Adam(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-4))
    trend_x = x_test[: args.trend_subset]

    print(f"backend {keras.backend.backend()}, {len(x_train)} train images, batch "
          f"{args.batch_size}, schedule {args.schedule}, budget {args.minutes} min", flush=True)
    print("\n| epoch | minutes | train loss | train KL | test −ELBO |\n"
          "|---|---|---|---|---|", flush=True)
    trend, start = [], time.time()
    for epoch in range(args.epochs):
        if args.schedule == "budget" and args.minutes:
            progress = min(1.0, (time.time() - start) / 60 / args.minutes)
            model.optimizer.learning_rate.assign(args.learning_rate * 0.1 ** progress)
        logs = model.fit(binarize(x_train, rng), epochs=epoch + 1, initial_epoch=epoch,
                         batch_size=args.batch_size, shuffle=True, verbose=0).history
        test = model.evaluate(trend_x, batch_size=1000, verbose=0, return_dict=True)
        minutes = (time.time() - start) / 60
        row = {"epoch": epoch + 1, "minutes": round(minutes, 2), "train_loss": logs["loss"][-1],
               "train_kl": logs["kl"][-1], "test_neg_elbo": test["loss"]}
        trend.append(row)
        print(f"| {row['epoch']} | {minutes:.1f} | {row['train_loss']:.2f} | {row['train_kl']:.2f} "
              f"| {row['test_neg_elbo']:.2f} |", flush=True)
        if args.minutes and minutes >= args.minutes:
            break
    train_minutes = (time.time() - start) / 60

    eval_x = x_test[: args.eval_subset] if args.eval_subset else x_test
    t0 = time.time()
    log_px = iwae_log_likelihood(model, eval_x, k=args.k, batch_size=100, seed=args.seed)
    eval_minutes = (time.time() - t0) / 60
    nll, stderr = -log_px.mean(), log_px.std(ddof=1) / math.sqrt(len(log_px))
    result = {
        "backend": keras.backend.backend(), "epochs": len(trend),
        "train_minutes": round(train_minutes, 2),
        "k": args.k, "test_images": len(eval_x), "nll": round(float(nll), 3),
        "nll_stderr": round(float(stderr), 3), "eval_minutes": round(eval_minutes, 2),
        "batch_size": args.batch_size, "schedule": args.schedule, "trend": trend,
    }
    print(f"\n| metric | value |\n|---|---|\n| epochs | {len(trend)} |\n"
          f"| training time | {train_minutes:.1f} min |\n"
          f"| test NLL, IWAE k={args.k} on {len(eval_x)} test images "
          f"| {nll:.2f} ± {stderr:.2f} nats |\n"
          f"| NLL evaluation time | {eval_minutes:.1f} min |\n"
          f"| paper (3,280 epochs) / Pythae | 86.76 / 89.78 nats |", flush=True)
    if args.save:
        model.save(args.save)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
