"""One scorecard for every image generator the package trains on MNIST.

Each model is trained within its wall-time budget on this machine, then
10,000 samples are scored against the 10,000 real test digits with
`metrics.scorecard.scorecard` through the MNIST feature network
(`feature_extractor(mnist_train.npz)`, the in-domain CNN): FID, KID ± std,
precision/recall (k = 3), density/coverage (k = 5), mean max-softmax, the
largest class share and, for the conditional GAN, the classifier's accuracy on
the labels the samples were drawn for.

Models (budgets are this session's share of a shared 2-core CPU):

- `vae`: the package's MNIST VAE benchmark model (`vae_binarized_mnist.py`):
  dense 784-200-200-(50+50), tanh, Bernoulli decoder, dynamically binarised
  training digits, Adam 1e-3 decaying to 1e-4 over the budget; samples are
  the decoder means (pixel probabilities). 5 minutes.
- `dcgan`: the model `dcgan_mnist.py` saved (`--dcgan-model`; its budget, 20
  minutes, and training time are read from `results/dcgan_mnist.json`).
  Without that file it is trained here with `dcgan_mnist.py`'s defaults.
- `cgan`: `GAN(num_classes=10, architecture="dcgan")`, filters 64/32,
  Adam(2e-4, 0.5), generator EMA 0.999; samples drawn for the real test
  labels. 10 minutes.
- `wgan_gp`: `WGANGP(architecture="dcgan")`, filters 64/32, k = 5, lambda = 10,
  Adam(1e-4, 0, 0.9), generator EMA 0.999. 10 minutes.

    KERAS_BACKEND=tensorflow python scripts/benchmarks/mnist_scorecard.py
    KERAS_BACKEND=jax python scripts/benchmarks/mnist_scorecard.py --quick

Writes `scripts/benchmarks/results/mnist_scorecard.json` and
`mnist_scorecard_samples.png` (one row of samples per model; `--quick`:
`*_quick.*`), the models under `--out`, and prints a markdown table.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE.parents[2] / "shared" / "data"
MODELS = ("vae", "dcgan", "cgan", "wgan_gp")
BUDGETS = {"vae": 5.0, "dcgan": 20.0, "cgan": 10.0, "wgan_gp": 10.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default=str(DATA / "mnist_train.npz"))
    p.add_argument("--test", default=str(DATA / "mnist_test.npz"))
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated subset of {','.join(MODELS)}")
    for name, minutes in BUDGETS.items():
        p.add_argument(f"--{name.replace('_', '-')}-minutes", type=float, default=minutes,
                       help=f"training budget of {name} (default {minutes:g})")
    p.add_argument("--dcgan-model", default="runs/benchmarks/dcgan_mnist/tensorflow/"
                   "dcgan_mnist.keras", help=".keras file of dcgan_mnist.py (trained here "
                   "with its defaults when missing)")
    p.add_argument("--dcgan-json", default=str(RESULTS / "dcgan_mnist.json"))
    p.add_argument("--num-samples", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/benchmarks/mnist_scorecard")
    p.add_argument("--json", default=None)
    p.add_argument("--quick", action="store_true",
                   help="0.5 minute per model on 10,000 training digits, 2,000 samples; "
                        "the DCGAN is trained here too")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        p.error(f"expected --models from {list(MODELS)}, received {unknown}")
    args.budgets = {m: getattr(args, f"{m}_minutes") for m in MODELS}
    if args.quick:
        args.budgets = {m: 0.5 for m in MODELS}
        args.num_samples = 2000
        args.dcgan_model = None
    return args


def _fit_gan(model, x, y, minutes, seed, batch_size=64):
    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.data import image_dataset

    k = model.discriminator_steps
    ds = image_dataset((x, y) if model.num_classes else x, batch_size=k * batch_size,
                       with_labels=bool(model.num_classes), drop_remainder=True, seed=seed)
    t0 = time.perf_counter()
    model.fit(ds, epochs=10000, verbose=2, callbacks=[TimeLimit(minutes * 60)])
    steps = int(keras.ops.convert_to_numpy(model.phase_optimizers["generator"].iterations))
    return (time.perf_counter() - t0) / 60, {"generator_steps": steps}


def train_vae(x, minutes, seed):
    """The dense Bernoulli VAE of `vae_binarized_mnist.py` on binarised digits."""
    from keras_genmodels.models.vae import VAE

    rng = np.random.default_rng(seed)
    model = VAE(image_shape=(28, 28, 1), latent_dim=50, hidden_units=[200, 200],
                activation="tanh", likelihood="bernoulli", seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-4))
    start, epoch = time.perf_counter(), 0
    while (time.perf_counter() - start) / 60 < minutes:
        progress = min(1.0, (time.perf_counter() - start) / 60 / minutes)
        model.optimizer.learning_rate.assign(1e-3 * 0.1 ** progress)
        binary = (rng.random(x.shape) < x).astype("float32")
        logs = model.fit(binary, epochs=epoch + 1, initial_epoch=epoch, batch_size=100,
                         shuffle=True, verbose=0).history
        epoch += 1
        print(f"vae epoch {epoch}: loss {logs['loss'][-1]:.2f}", flush=True)
    return model, (time.perf_counter() - start) / 60, {"epochs": epoch}


def train_cgan(x, y, minutes, seed):
    from keras_genmodels.models.gan import GAN

    model = GAN(data_shape=(28, 28, 1), latent_dim=64, architecture="dcgan", filters=(64, 32),
                output_activation="sigmoid", num_classes=10, seed=seed)
    model.compile(optimizers={
        "discriminator": keras.optimizers.Adam(2e-4, beta_1=0.5),
        "generator": keras.optimizers.Adam(2e-4, beta_1=0.5, use_ema=True, ema_momentum=0.999)})
    return (model, *_fit_gan(model, x, y, minutes, seed))


def train_wgan_gp(x, minutes, seed):
    from keras_genmodels.models.gan import WGANGP

    model = WGANGP(data_shape=(28, 28, 1), latent_dim=64, architecture="dcgan",
                   filters=(64, 32), output_activation="sigmoid", seed=seed)
    model.compile(optimizers={
        "discriminator": keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
        "generator": keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9, use_ema=True,
                                           ema_momentum=0.999)})
    return (model, *_fit_gan(model, x, None, minutes, seed))


def get_dcgan(args, x):
    """`(model, train minutes, info)`: the saved `dcgan_mnist.py` model, or one trained here."""
    path = pathlib.Path(args.dcgan_model) if args.dcgan_model else None
    if path is not None and path.exists():
        from keras_genmodels.model_files import load_model_file

        info = {"source": str(path)}
        minutes = None
        if pathlib.Path(args.dcgan_json).exists():
            run = json.loads(pathlib.Path(args.dcgan_json).read_text())
            minutes = run.get("train_minutes")
            info.update(generator_steps=run.get("generator_steps"),
                        budget_minutes=run.get("budget_minutes"),
                        command=run.get("command"), trained_under=run.get("backend"))
        return load_model_file(path), minutes, info
    sys.path.insert(0, str(HERE))
    from dcgan_mnist import build_gan, parse_args as dcgan_args

    model = build_gan(dcgan_args(["--seed", str(args.seed)]))
    return (model, *_fit_gan(model, x, None, args.budgets["dcgan"], args.seed))


def main(argv=None):
    args = parse_args(argv)
    from keras_genmodels.data import load_images
    from keras_genmodels.files import write_text_atomically
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.metrics.scorecard import generate_samples, scorecard
    from keras_genmodels.plots.gan import plot_sample_grid

    keras.utils.set_random_seed(args.seed)
    out = pathlib.Path(args.out) / keras.backend.backend()
    out.mkdir(parents=True, exist_ok=True)
    extractor = feature_extractor(args.train, args.test)
    x_test, y_test = load_images(args.test)
    real_features = extractor.features(x_test)
    x, y = load_images(args.train)
    if args.quick:
        x, y = x[:10000], y[:10000]
    rows, grids = {}, []
    for name in args.models:
        print(f"== {name}: budget {args.budgets[name]:g} min", flush=True)
        keras.utils.set_random_seed(args.seed)
        if name == "vae":
            model, minutes, info = train_vae(x, args.budgets[name], args.seed)
        elif name == "dcgan":
            model, minutes, info = get_dcgan(args, x)
        elif name == "cgan":
            model, minutes, info = train_cgan(x, y, args.budgets[name], args.seed)
        else:
            model, minutes, info = train_wgan_gp(x, args.budgets[name], args.seed)
        if name != "dcgan" or "source" not in info:
            model.save(out / f"{name}.keras")
        t0 = time.perf_counter()
        labels = np.resize(y_test, args.num_samples) if name == "cgan" else None
        fake, fake_labels = generate_samples(model, args.num_samples, labels, seed=123)
        scores = scorecard(extractor, None, fake, fake_labels, real_features=real_features)
        grids.append(fake[:12])
        rows[name] = {**scores, "max_class_share": max(scores["class_histogram"]),
                      "budget_minutes": args.budgets[name],
                      "train_minutes": None if minutes is None else round(minutes, 2),
                      "score_seconds": round(time.perf_counter() - t0, 1), **info}
        print(f"{name}: {json.dumps({k: v for k, v in rows[name].items() if k != 'class_histogram'}, default=str)}",  # noqa: E501
              flush=True)
    suffix = "_quick" if args.quick else ""
    grid = plot_sample_grid(np.concatenate(grids), RESULTS / f"mnist_scorecard_samples{suffix}.png",
                            ncols=12)
    result = {"backend": keras.backend.backend(),
              "machine": "2-core CPU shared with other jobs (timings vary by about +-40 %)",
              "command": "python scripts/benchmarks/mnist_scorecard.py " + " ".join(sys.argv[1:]),
              "feature_network": {k: extractor.meta.get(k) for k in ("test_accuracy", "key")},
              "num_real": int(len(x_test)), "num_samples": args.num_samples,
              "sample_grid": str(grid.relative_to(HERE.parents[1])),
              "sample_grid_rows": args.models, "models": rows}
    if "vae" in rows and "dcgan" in rows:
        result["dcgan_fid_below_vae"] = rows["dcgan"]["fid"] < rows["vae"]["fid"]
    path = pathlib.Path(args.json or RESULTS / f"mnist_scorecard{suffix}.json")
    write_text_atomically(path, json.dumps(result, indent=1, default=str))
    print(markdown_table(result))
    print(f"wrote {path} and {grid}")
    return result


def markdown_table(result):
    lines = ["| model | FID | KID | precision | recall | density | coverage | mean max-softmax "
             "| largest class | label acc. | train min (budget) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in result["models"].items():
        acc = f"{r['label_accuracy']:.3f}" if "label_accuracy" in r else "–"
        minutes = "?" if r["train_minutes"] is None else f"{r['train_minutes']:.1f}"
        lines.append(
            f"| {name} | {r['fid']:.2f} | {r['kid']:.3f} ± {r['kid_std']:.3f} "
            f"| {r['precision']:.3f} | {r['recall']:.3f} | {r['density']:.3f} "
            f"| {r['coverage']:.3f} | {r['mean_max_softmax']:.3f} | {r['max_class_share']:.3f} "
            f"| {acc} | {minutes} ({r['budget_minutes']:g}) |")
    return "\n".join(lines) + f"\n\nbackend: {result['backend']}"


if __name__ == "__main__":
    main()
