"""Super-resolution: bicubic vs SRResNet (MSE) vs SRGAN, the perception-distortion trade-off.

Two settings, held-out test images, low-res inputs = the high-res images area-downsampled
(`keras_genmodels.data.paired`, `pairs="resolution"`):

- 4x on Fashion-MNIST: 7x7 -> 28x28 (train 60,000, test 10,000;
  `../shared/data/fashion_mnist_{train,test}.npz`);
- 2x on the CIFAR-10 subset: 16x16 -> 32x32 (train `cifar10_train_first4000.npz`, test
  `cifar10_test_first1000.npz`).

Methods: bicubic (`tf.image.resize(method="bicubic")`, clipped); SRResNet (`SuperResolution`,
pixel MSE, Adam); SRGAN (`SuperResolution(adversarial=True)`, initialised from that SRResNet as
in the paper, content loss in the in-domain feature network's convolution activations
+ 1e-3 adversarial loss). Each model trains for a wall-clock budget (`--minutes`, per model;
the issue allows 20), whichever ends first of the budget and `--max-steps`.

Scores on the test set: PSNR and SSIM (`tf.image.psnr`, `tf.image.ssim`, max_val 1, mean over
images), in-domain FID (`keras_genmodels.metrics.feature_networks.feature_extractor(<train
.npz>)`, penultimate features of the package's cached CNN classifier; `frechet_distance`
between the features of the super-resolved and of the real high-res test images) and the
classifier's accuracy on the outputs. Caveat: the SRGAN content loss uses the same
classifier's convolution activations (no downloaded VGG), so SRGAN is trained partly in the
space its FID is measured in.

Targets (issue 16): SRResNet PSNR >= bicubic + 1.5 dB; SRGAN FID < SRResNet FID while its PSNR
is lower.

    KERAS_BACKEND=tensorflow python scripts/benchmarks/super_resolution.py            # 5 min/model
    python scripts/benchmarks/super_resolution.py --quick        # smoke, ~3 min per setting

Paper-scale (GPU; Ledig et al.: 16 blocks, 64 filters, batch 16, 1e6 SRResNet steps at 1e-4,
then SRGAN 1e5 steps at 1e-4 + 1e5 at 1e-5)::

    KERAS_BACKEND=jax genmodels train srresnet --scale 4 --dataset fashion_mnist \
        --filters 64 --blocks 16 --batch-size 16 --epochs 270 --learning-rate 1e-4
    KERAS_BACKEND=jax genmodels train srgan --scale 4 --dataset fashion_mnist \
        --filters 64 --blocks 16 --batch-size 16 --epochs 27 --learning-rate 1e-4 \
        --init-from saved_models/srresnet/model.keras

Results, one pair per setting: `scripts/benchmarks/results/super_resolution_<setting>[_quick].json`
and `.png` (rows: test examples; columns: low-res input, bicubic, SRResNet, SRGAN, target).
"""

import argparse
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

DATA = pathlib.Path(os.environ.get("GENMODELS_SHARED_DATA", ROOT.parent / "shared" / "data"))
SETTINGS = {
    "fashion_mnist_4x": dict(train="fashion_mnist_train.npz", test="fashion_mnist_test.npz",
                             scale=4, content_layers=("conv1", "conv2")),
    "cifar10_2x": dict(train="cifar10_train_first4000.npz", test="cifar10_test_first1000.npz",
                       scale=2, content_layers=("conv1", "conv2")),
}


class TimeLimit(keras.callbacks.Callback):
    """Stop `fit` after `seconds` of wall time (checked after every batch)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


def train(model, ds, seconds, max_steps, steps_per_epoch=100):
    limit = TimeLimit(seconds)
    start = time.perf_counter()
    history = model.fit(ds, epochs=max(1, max_steps // steps_per_epoch),
                        steps_per_epoch=steps_per_epoch, callbacks=[limit], verbose=0)
    logs = {k: float(v[-1]) for k, v in history.history.items()}
    return {"steps": limit.steps, "seconds": round(time.perf_counter() - start, 1),
            "final_logs": logs}


def scores(name, sr, target, labels, fx, real_features):
    import tensorflow as tf

    from keras_genmodels.metrics.sample_quality import frechet_distance

    sr = np.clip(sr, 0.0, 1.0).astype("float32")
    psnr, ssim = [], []
    for i in range(0, len(sr), 1000):
        a, b = tf.constant(sr[i:i + 1000]), tf.constant(target[i:i + 1000])
        psnr.append(tf.image.psnr(a, b, max_val=1.0).numpy())
        ssim.append(tf.image.ssim(a, b, max_val=1.0).numpy())
    feats, probs = fx.features_and_probabilities(sr)
    row = {"method": name, "psnr_db": float(np.mean(np.concatenate(psnr))),
           "ssim": float(np.mean(np.concatenate(ssim))),
           "fid_in_domain": float(frechet_distance(real_features, feats)),
           "class_accuracy": float(np.mean(probs.argmax(1) == labels))}
    print("   ", json.dumps(row), flush=True)
    return row


def run_setting(key, cfg, args):
    import tensorflow as tf

    from keras_genmodels.data.paired import load_pairs, paired_dataset
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.models.super_resolution import SuperResolution
    from keras_genmodels.networks.srresnet import content_network

    train_path, test_path, s = DATA / cfg["train"], DATA / cfg["test"], cfg["scale"]
    keras.utils.set_random_seed(args.seed)
    low_te, high_te, y_te = load_pairs(str(test_path), "resolution", scale=s,
                                       limit=args.test_limit)
    image_shape = tuple(high_te.shape[1:])
    print(f"== {key}: {low_te.shape[1:]} -> {image_shape}, test {len(high_te)}", flush=True)
    t0 = time.perf_counter()
    fx = feature_extractor(str(train_path), str(test_path))  # the cached entry
    print(f"   feature network {fx} ({time.perf_counter() - t0:.1f} s)", flush=True)
    real_features = fx.features(high_te)
    ds = paired_dataset(str(train_path), "resolution", scale=s, batch_size=args.batch_size,
                        seed=args.seed, drop_remainder=True, repeat=True,
                        augment=None if args.augment == "none" else args.augment)
    arch = dict(image_shape=image_shape, scale=s, filters=args.filters,
                num_blocks=args.blocks,
                upsample_skip=None if args.upsample_skip == "none" else args.upsample_skip)
    rows, runs, outputs = [], {}, {}

    bicubic = tf.clip_by_value(tf.image.resize(low_te, image_shape[:2], method="bicubic"),
                               0.0, 1.0).numpy()
    outputs["bicubic"] = bicubic
    rows.append(scores("bicubic", bicubic, high_te, y_te, fx, real_features))

    srresnet = SuperResolution(**arch)
    srresnet.compile(optimizers={"generator": keras.optimizers.Adam(args.learning_rate)})
    runs["srresnet"] = train(srresnet, ds, args.minutes * 60, args.max_steps)
    print(f"   SRResNet trained: {runs['srresnet']}", flush=True)
    outputs["SRResNet"] = srresnet.translate(low_te)
    rows.append(scores("SRResNet", outputs["SRResNet"], high_te, y_te, fx, real_features))

    srgan = SuperResolution(**arch, adversarial=True,
                            content_network=content_network(fx.model, cfg["content_layers"]),
                            content_weight=args.content_weight,
                            adversarial_weight=args.adversarial_weight)
    srgan.init_generator_from(srresnet)
    srgan.compile(optimizers={"discriminator": keras.optimizers.Adam(args.gan_learning_rate,
                                                                      beta_1=0.9),
                              "generator": keras.optimizers.Adam(args.gan_learning_rate,
                                                                  beta_1=0.9)})
    runs["srgan"] = train(srgan, ds, args.minutes * 60, args.max_steps)
    print(f"   SRGAN trained: {runs['srgan']}", flush=True)
    outputs["SRGAN"] = srgan.translate(low_te)
    rows.append(scores("SRGAN", outputs["SRGAN"], high_te, y_te, fx, real_features))

    by = {r["method"]: r for r in rows}
    targets = {
        "srresnet_psnr_gain_db": by["SRResNet"]["psnr_db"] - by["bicubic"]["psnr_db"],
        "srresnet_psnr_gain_met": by["SRResNet"]["psnr_db"] >= by["bicubic"]["psnr_db"] + 1.5,
        "srgan_fid_below_srresnet": by["SRGAN"]["fid_in_domain"] < by["SRResNet"]["fid_in_domain"],
        "srgan_psnr_below_srresnet": by["SRGAN"]["psnr_db"] < by["SRResNet"]["psnr_db"],
    }
    targets["tradeoff_met"] = (targets["srgan_fid_below_srresnet"]
                               and targets["srgan_psnr_below_srresnet"])
    result = {"low_res_shape": list(low_te.shape[1:]), "high_res_shape": list(image_shape),
              "scale": s, "train": cfg["train"], "test": cfg["test"],
              "test_images": int(len(high_te)), "content_layers": list(cfg["content_layers"]),
              "feature_network_test_accuracy": fx.test_accuracy, "table": rows,
              "training": runs, "targets": targets}
    figure_rows = {"input": low_te[:args.figure_examples],
                   **{k: v[:args.figure_examples] for k, v in outputs.items()},
                   "target": high_te[:args.figure_examples]}
    return result, figure_rows


def save_figure(panels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_genmodels.plots.grid import displayable, save_figure as save

    columns = [(key, name) for key in panels for name in panels[key]]
    n = len(next(iter(panels.values()))["target"])
    fig, axes = plt.subplots(n, len(columns), figsize=(len(columns) * 0.95, n * 0.95),
                             squeeze=False)
    for j, (key, name) in enumerate(columns):
        for i in range(n):
            image, cmap = displayable(panels[key][name][i])
            axes[i][j].imshow(image, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            axes[i][j].set_xticks([])
            axes[i][j].set_yticks([])
        axes[0][j].set_title(f"{name}\n{key.split('_')[-1]}" if name == "input" else name,
                             fontsize=7)
    return save(fig, path, dpi=80)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: ~20 s per model")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--minutes", type=float, default=5.0, help="per model (default 5)")
    parser.add_argument("--max-steps", type=int, default=100_000)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--upsample-skip", choices=("none", "nearest", "bilinear"),
                        default="none",
                        help="generator learns the residual over this interpolation")
    parser.add_argument("--augment", choices=("none", "flip", "dihedral"), default="none",
                        help="training-pair augmentation (paired_dataset(augment=...))")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--gan-learning-rate", type=float, default=1e-4)
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--adversarial-weight", type=float, default=1e-3)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--figure-examples", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default=None, help="extra results file suffix")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.settings.split(",")) - set(SETTINGS))
    if unknown:
        parser.error(f"expected --settings among {sorted(SETTINGS)}, received {unknown}")
    if args.quick:
        args.minutes, args.test_limit = min(args.minutes, 0.33), args.test_limit or 1000
    suffix = "".join(f"_{t}" for t in (args.tag, "quick" if args.quick else None) if t)
    out = ROOT / "scripts" / "benchmarks" / "results"
    from keras_genmodels.tasks.common import write_json

    for key in args.settings.split(","):  # one JSON + PNG per setting, written as it ends
        start = time.perf_counter()
        result, panels = run_setting(key, SETTINGS[key], args)
        stem = f"super_resolution_{key}{suffix}"
        payload = {"backend": keras.backend.backend(), "args": vars(args),
                   "wall_seconds": round(time.perf_counter() - start, 1),
                   "machine": "2-core CPU VM shared with other jobs (timings vary)", **result}
        print(f"saved {write_json(out / f'{stem}.json', payload)}")
        print(f"saved {save_figure({key: panels}, out / f'{stem}.png')}", flush=True)


if __name__ == "__main__":
    main()
