"""Pix2pix vs its L1-only ablation: edges -> Fashion-MNIST, held-out test set.

The claim (Isola et al. 2017, Sec. 4.2, Table 1 / Fig. 4): a generator
trained on L1 alone is blurry; adding the conditional GAN loss makes its
outputs sharper and more realistic, at some cost in per-pixel distance.

Protocol. Pairs are `keras_genmodels.data.paired` edges (Sobel magnitude >
1.0, binary) -> image, from `fashion_mnist_train.npz` (60,000) for training
and `fashion_mnist_test.npz` (10,000, never trained on) for every score.
Both models have the same U-Net (`generator_filters`, dropout 0.5 in the
deepest decoder block), batch, Adam(2e-4, beta_1 0.5) and the same number of
generator steps: the cGAN + L1 model (lambda = 100, PatchGAN D) trains first
within `--minutes`; the L1-only model then trains exactly as many steps. On
the 10,000 test pairs:

- L1 = mean |y - G(x)|, PSNR (`tf.image.psnr`, max 1) and SSIM
  (`tf.image.ssim`, max 1), means over images;
- in-domain FID: `feature_extractor(fashion_mnist_train.npz)` penultimate
  features of the 10,000 outputs vs the 10,000 real test images
  (`metrics.sample_quality.frechet_distance`); the floor is the FID of
  10,000 real training images vs the same test images;
- output class accuracy: the same network's classifier (trained on real
  Fashion-MNIST) on the outputs vs the test labels (target >= 80 %); its
  accuracy on the real test images is given for reference.

Targets: FID(cGAN + L1) < FID(L1 only); accuracy >= 0.80 for pix2pix; the
L1/PSNR given up is reported.

    # the committed result (CPU, TensorFlow backend: oneDNN convolutions)
    KERAS_BACKEND=tensorflow python scripts/benchmarks/pix2pix_fashion.py --minutes 8
    KERAS_BACKEND=jax python scripts/benchmarks/pix2pix_fashion.py --quick
    # paper scale on a GPU (U-Net 64..512, 70x70-style PatchGAN, batch 1 in the
    # paper; batch 64 here, 200 epochs ~ 190k steps):
    KERAS_BACKEND=tensorflow python scripts/benchmarks/pix2pix_fashion.py --minutes 600 \\
        --steps 190000 --generator-filters 64 128 --discriminator-filters 64 128 256 \\
        --batch-size 64

Writes `scripts/benchmarks/results/pix2pix_fashion.json` and
`pix2pix_fashion.png` (rows input | L1 only | pix2pix | target; `--quick`:
`*_quick.*`), and the two models under `--out`. Prints a markdown table.
"""

import argparse
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
ACCURACY_TARGET = 0.80


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default=str(DATA / "fashion_mnist_train.npz"))
    p.add_argument("--test", default=str(DATA / "fashion_mnist_test.npz"))
    p.add_argument("--minutes", type=float, default=8.0,
                   help="wall-time cap of the cGAN + L1 model (the L1-only model gets its steps)")
    p.add_argument("--steps", type=int, default=2400, help="generator steps at most")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--generator-filters", type=int, nargs="+", default=[64, 128])
    p.add_argument("--discriminator-filters", type=int, nargs="+", default=[32, 64])
    p.add_argument("--l1-weight", type=float, default=100.0)
    p.add_argument("--edge-threshold", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="60 steps, 1,000 test pairs")
    p.add_argument("--out", default="/tmp/pix2pix_fashion")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.minutes = 60, min(args.minutes, 3.0)
    return args


def train(args, x, l1_only, steps, minutes):
    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.data.paired import paired_dataset
    from keras_genmodels.models.pix2pix import Pix2Pix

    keras.utils.set_random_seed(args.seed)
    model = Pix2Pix((28, 28, 1), 1, generator_filters=args.generator_filters,
                    discriminator_filters=args.discriminator_filters,
                    l1_weight=args.l1_weight, l1_only=l1_only, seed=args.seed)
    names = ("generator",) if l1_only else ("discriminator", "generator")
    model.compile(optimizers={n: keras.optimizers.Adam(2e-4, beta_1=0.5) for n in names})
    ds = paired_dataset(x, pairs="edges", batch_size=args.batch_size, seed=args.seed,
                        edge_threshold=args.edge_threshold, drop_remainder=True, repeat=True)
    per_epoch = min(200, steps)
    t0 = time.perf_counter()
    history = model.fit(ds, steps_per_epoch=per_epoch, epochs=-(-steps // per_epoch),
                        verbose=2, callbacks=[TimeLimit(minutes * 60)])
    seconds = time.perf_counter() - t0
    done = int(keras.ops.convert_to_numpy(model.phase_optimizers["generator"].iterations))
    return model, history.history, done, seconds


def scores(outputs, targets, labels, extractor, real_features):
    import tensorflow as tf

    from keras_genmodels.metrics.sample_quality import frechet_distance

    out_t, tgt_t = tf.constant(outputs), tf.constant(targets)
    features, probabilities = extractor.features_and_probabilities(outputs)
    return {"l1": float(np.mean(np.abs(outputs - targets))),
            "psnr_db": float(tf.reduce_mean(tf.image.psnr(out_t, tgt_t, max_val=1.0))),
            "ssim": float(tf.reduce_mean(tf.image.ssim(out_t, tgt_t, max_val=1.0))),
            "fid": float(frechet_distance(real_features, features)),
            "class_accuracy": float(np.mean(np.argmax(probabilities, -1) == labels))}


def main(argv=None):
    args = parse_args(argv)
    from keras_genmodels.data import paired
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.metrics.sample_quality import frechet_distance
    from keras_genmodels.plots.grid import save_image_grid
    from keras_genmodels.tasks.common import write_json

    start = time.perf_counter()
    out = pathlib.Path(args.out) / keras.backend.backend()
    x, _ = paired.load_raw(args.train)
    n_test = 1000 if args.quick else None
    inputs, targets, labels = paired.load_pairs(args.test, edge_threshold=args.edge_threshold,
                                                limit=n_test)
    extractor = feature_extractor(args.train, args.test)   # cached after the first run
    real_features, real_probabilities = extractor.features_and_probabilities(targets)
    train_real = x[:len(targets)].astype("float32") / 255.0
    floor = float(frechet_distance(real_features, extractor.features(train_real)))
    reference_accuracy = float(np.mean(np.argmax(real_probabilities, -1) == labels))

    rows, outputs, runs = {}, {}, {}
    steps, minutes = args.steps, args.minutes
    for name, l1_only in (("pix2pix", False), ("l1_only", True)):
        model, history, done, seconds = train(args, x, l1_only, steps, minutes)
        if name == "pix2pix":
            steps, minutes = done, 10 * args.minutes + 10   # same steps; no time cap
        print(f"{name}: {done} generator steps in {seconds:.0f} s", flush=True)
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / f"{name}.keras")
        outputs[name] = np.concatenate([keras.ops.convert_to_numpy(model.translate(
            inputs[i:i + 500])) for i in range(0, len(inputs), 500)])
        rows[name] = scores(outputs[name], targets, labels, extractor, real_features)
        runs[name] = {"generator_steps": done, "train_seconds": round(seconds, 1),
                      "final_logs": {k: v[-1] for k, v in history.items()}}
        print(name, rows[name], flush=True)

    suffix = "_quick" if args.quick else ""
    figure = RESULTS / f"pix2pix_fashion{suffix}.png"
    pick = np.concatenate([np.flatnonzero(labels == c)[:1] for c in range(10)])
    save_image_grid([inputs[pick], outputs["l1_only"][pick], outputs["pix2pix"][pick],
                     targets[pick]], figure, ["input", "L1 only", "pix2pix", "target"])
    p, l = rows["pix2pix"], rows["l1_only"]
    result = {
        "backend": keras.backend.backend(),
        "machine": "2-core CPU shared with other jobs (timings vary by about +-40 %)",
        "command": "python scripts/benchmarks/pix2pix_fashion.py " + " ".join(sys.argv[1:]),
        "options": vars(args), "test_pairs": int(len(targets)),
        "feature_network": {k: extractor.meta.get(k) for k in ("test_accuracy", "key")},
        "real_test_class_accuracy": reference_accuracy, "fid_floor_train_vs_test": floor,
        "scores": rows, "runs": runs,
        "pix2pix_minus_l1_only": {"l1": p["l1"] - l["l1"], "psnr_db": p["psnr_db"] - l["psnr_db"],
                                  "ssim": p["ssim"] - l["ssim"], "fid": p["fid"] - l["fid"]},
        "targets": {"fid_pix2pix_below_l1_only": p["fid"] < l["fid"],
                    "class_accuracy_at_least_0.80": p["class_accuracy"] >= ACCURACY_TARGET},
        "figure": str(figure.relative_to(HERE.parents[1])),
        "total_minutes": round((time.perf_counter() - start) / 60, 2),
    }
    write_json(RESULTS / f"pix2pix_fashion{suffix}.json", result)
    print("\n| model | steps | L1 | PSNR (dB) | SSIM | FID | class acc. |\n"
          "|---|---|---|---|---|---|---|")
    for name in ("l1_only", "pix2pix"):
        r = rows[name]
        print(f"| {name} | {runs[name]['generator_steps']} | {r['l1']:.4f} | {r['psnr_db']:.2f} | "
              f"{r['ssim']:.3f} | {r['fid']:.2f} | {r['class_accuracy']:.3f} |")
    print(f"| real test images | | | | | {floor:.2f} (train vs test) | {reference_accuracy:.3f} |")
    print(f"targets: {result['targets']}")
    return result


if __name__ == "__main__":
    main()
