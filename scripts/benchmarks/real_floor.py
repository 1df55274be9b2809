"""Real-vs-real floors of the sample-quality metrics, and the feature networks' accuracy.

A perfect generator would score like a second sample of real data. This
script treats up to `--n` training images as the "generated" set and as
many test images as the held-out real set, and scores them with the
same `scorecard` that `genmodels evaluate` and `SampleQualityCallback` use:
FID, KID, precision, recall, density, coverage and the classifier score
(label accuracy here is the feature network's accuracy on those training
images). It trains (or loads from the cache) each dataset's feature network
first and records its test accuracy.

    KERAS_BACKEND=tensorflow python scripts/benchmarks/real_floor.py   # ~10 CPU min
    KERAS_BACKEND=tensorflow python scripts/benchmarks/real_floor.py --quick   # digits only

Writes `scripts/benchmarks/results/real_floor.json` (`--quick`:
`real_floor_quick.json`) and prints a Markdown table.
"""

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DATASETS = {  # name -> (training data, test data); files relative to --data
    "digits": ("digits", None),
    "mnist": ("mnist_train.npz", "mnist_test.npz"),
    "fashion_mnist": ("fashion_mnist_train.npz", "fashion_mnist_test.npz"),
    "cifar10_subset": ("cifar10_train_first4000.npz", "cifar10_test_first1000.npz"),
}


def floor(name, data, n, cache_dir=None, kid_subsets=100, kid_subset_size=1000, seed=0):
    """Scorecard of n training images against n test images of one dataset."""
    from keras_genmodels.metrics.feature_networks import feature_extractor, resolve_dataset
    from keras_genmodels.metrics.scorecard import scorecard

    train, test = DATASETS[name]
    if train != "digits":
        train, test = str(pathlib.Path(data) / train), str(pathlib.Path(data) / test)
    start = time.perf_counter()
    extractor = feature_extractor(train, test, cache_dir=cache_dir, verbose=1)
    setup = time.perf_counter() - start
    _, x, y, xt, yt = resolve_dataset(train, test)
    m = min(n, len(x), len(xt))
    start = time.perf_counter()
    scores = scorecard(extractor, xt[:m], x[:m], fake_labels=y[:m], kid_subsets=kid_subsets,
                       kid_subset_size=kid_subset_size, seed=seed)
    meta = extractor.meta
    return {"dataset": name, "train_images": m, "test_images": m,
            "feature_network": {"test_accuracy": extractor.test_accuracy,
                                "test_size": meta.get("test_size"),
                                "train_size": meta.get("train_size"),
                                "epochs_run": meta.get("epochs_run"),
                                "train_seconds": meta.get("train_seconds"),
                                "trained_under": meta.get("backend"),
                                "key": meta.get("key")},
            "scores": scores, "feature_seconds": round(setup, 1),
            "score_seconds": round(time.perf_counter() - start, 1)}


def table(rows):
    head = ("| dataset | n (train vs test) | feature net test acc. | FID | label acc. | "
            "max-softmax | KID | precision | recall | density | coverage |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        s = r["scores"]
        lines.append(
            f"| {r['dataset']} | {r['train_images']:,} | "
            f"{100 * r['feature_network']['test_accuracy']:.2f} % | {s['fid']:.3f} | "
            f"{s['label_accuracy']:.3f} | {s['mean_max_softmax']:.3f} | "
            f"{s['kid']:.4f} ± {s['kid_std']:.4f} | {s['precision']:.3f} | "
            f"{s['recall']:.3f} | {s['density']:.3f} | {s['coverage']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data", help="folder of the reference .npz")
    p.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    p.add_argument("--n", type=int, default=10000, help="images per side (at most)")
    p.add_argument("--cache-dir", default=None, help="feature-network cache")
    p.add_argument("--quick", action="store_true", help="digits only, 100 KID subsets of 300")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    import keras

    names = ["digits"] if args.quick else args.datasets
    rows = [floor(name, args.data, args.n, args.cache_dir,
                  kid_subset_size=300 if args.quick else 1000) for name in names]
    for r in rows:
        print(f"{r['dataset']}: {json.dumps(r['scores'])}")
    print(table(rows))
    out = pathlib.Path(args.out or RESULTS / ("real_floor_quick.json" if args.quick
                                              else "real_floor.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"backend": keras.backend.backend(), "rows": rows}, indent=1))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
