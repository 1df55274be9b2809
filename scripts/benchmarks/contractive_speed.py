"""Training-step time of contractive autoencoders vs the plain autoencoder.

Protocol (issue 3): the same network and batch for every variant -- a
one-layer sigmoid encoder 784 -> 128 and a sigmoid decoder (the classic
CAE), batch 128, MSE; and a deep encoder 784-256-128 for the estimators.
Each variant is timed by `fit` over `--steps` steps (the per-step time is
measured between the first and the last batch end, so compilation and fit's
setup are excluded), in `--rounds` interleaved rounds; the table gives the
median and the ratio to the plain step. Target: closed form or the
1-projection estimate <= 1.5x plain. One backend per process: `--backends`
runs each in a subprocess (torch with `OMP_NUM_THREADS=1` by default, see
`--torch-threads`).

    python scripts/benchmarks/contractive_speed.py [--backends jax,tensorflow,torch]
        [--rounds 5] [--steps 40] [--exact] [--quick]
"""

import argparse
import os
import subprocess
import sys
import time

VARIANTS = {  # name: (encoder hidden units, jacobian or None for the plain AE)
    "plain": ((), None),
    "closed form": ((), "closed_form"),
    "VJP x1": ((), "vjp"),
    "JVP x1": ((), "jvp"),
    "exact": ((), "exact"),
    "deep plain": ((256,), None),
    "deep VJP x1": ((256,), "vjp"),
    "deep JVP x1": ((256,), "jvp"),
}


class StepTimer:
    def __init__(self):
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_train_begin(cb, logs=None):
                cb.ends = []

            def on_train_batch_end(cb, batch, logs=None):
                cb.ends.append(time.perf_counter())

        self.callback = _Timer()

    def per_step(self):
        ends = self.callback.ends
        return (ends[-1] - ends[0]) / (len(ends) - 1)


def build(name, input_dim=784, code=128):
    from keras_genmodels.models.autoencoder import Autoencoder
    from keras_genmodels.models.regularized import ContractiveAutoencoder

    hidden, jacobian = VARIANTS[name]
    common = dict(hidden_units=hidden, code_activation="sigmoid",
                  output_activation="sigmoid")
    if jacobian is None:
        return Autoencoder((input_dim,), code, **common)
    return ContractiveAutoencoder((input_dim,), code, jacobian=jacobian,
                                  contractive_weight=1e-3, seed=0, **common)


def run_backend(args):
    import keras
    import numpy as np

    if args.data and os.path.exists(args.data):
        from keras_genmodels.data import load_images
        x = load_images(args.data)[0][: args.batch_size * args.steps].reshape(-1, 784)
    else:
        x = np.random.RandomState(0).rand(args.batch_size * args.steps, 784).astype("float32")
    names = [n for n in VARIANTS if args.exact or n != "exact"]
    models, times = {}, {n: [] for n in names}
    for name in names:
        keras.utils.set_random_seed(0)
        models[name] = build(name)
        models[name].compile(optimizer="adam")
        models[name].fit(x[: args.batch_size * 3], batch_size=args.batch_size,
                         epochs=1, verbose=0)  # compile / warm up
    for _ in range(args.rounds):
        for name in names:
            steps = x if name != "exact" else x[: args.batch_size * 5]
            timer = StepTimer()
            models[name].fit(steps, batch_size=args.batch_size, epochs=1,
                             shuffle=False, verbose=0, callbacks=[timer.callback])
            times[name].append(timer.per_step() * 1000)
    backend = keras.backend.backend()
    plain = {"": np.median(times["plain"]), "deep ": np.median(times["deep plain"])}
    for name in names:
        med = np.median(times[name])
        base = plain["deep " if name.startswith("deep") else ""]
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        print(f"| {backend} | {name} | {med:.2f} | {med / base:.2f} | {runs} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="jax,tensorflow,torch")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--exact", action="store_true", help="also time the exact Jacobian")
    p.add_argument("--data", default="../shared/data/mnist_train.npz",
                   help="images to train on (random data if missing)")
    p.add_argument("--torch-threads", type=int, default=1,
                   help="OMP_NUM_THREADS for torch (0: leave as is). On a shared 2-core "
                        "machine torch's default 2 threads spin against other jobs and "
                        "run ~10x slower")
    p.add_argument("--quick", action="store_true", help="2 rounds of 10 steps")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 2, 10
    if args.child:
        run_backend(args)
        return 0
    print(f"batch {args.batch_size}, {args.steps} steps x {args.rounds} rounds, "
          "ms/step (median); ratio to the plain step of the same encoder\n")
    print("| backend | variant | ms/step | x plain | runs (ms) |")
    print("|---|---|---:|---:|---|")
    child = ["--rounds", str(args.rounds), "--steps", str(args.steps), "--batch-size",
             str(args.batch_size), "--data", args.data] + (["--exact"] if args.exact else [])
    ok, summary = True, []
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
                   TF_ENABLE_ONEDNN_OPTS="0")
        if args.torch_threads and backend == "torch":
            env["OMP_NUM_THREADS"] = str(args.torch_threads)
        proc = subprocess.run([sys.executable, __file__, "--child", *child], env=env,
                              capture_output=True, text=True)
        rows = [line for line in proc.stdout.splitlines() if line.startswith("|")]
        print("\n".join(rows) if rows else f"| {backend} | FAILED: "
              f"{proc.stderr.strip().splitlines()[-1:]} | | | |", flush=True)
        best = min((float(r.split("|")[4]) for r in rows
                    if r.split("|")[2].strip() in ("closed form", "VJP x1", "JVP x1")),
                   default=None)
        met = best is not None and best <= 1.5
        ok &= met
        summary.append(f"{backend}: fastest of closed form / 1-projection = "
                       f"{best}x plain ({'met' if met else 'MISSED'})")
    print("\n" + "\n".join(summary))
    print("target closed form or 1-projection <= 1.5x plain on every backend:",
          "met" if ok else "MISSED")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
