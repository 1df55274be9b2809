"""Score a generative model's samples against held-out real images: `genmodels evaluate`.

    genmodels evaluate --model saved_models/dcgan/model.keras --dataset digits
    genmodels evaluate --model gan.keras --dataset ../shared/data/mnist_train.npz --n 10000

Generates `--n` images, compares them with as many held-out real images through
the dataset's feature network (trained and cached on first use; see
`keras_genmodels.metrics.feature_networks`), prints the scorecard (FID, KID,
precision, recall, density, coverage, classifier score) and writes it as JSON.

Held-out real images: the test split of a named dataset; for a local file,
`--test-dataset` when given, else the file with "train" replaced by "test" in
its name when it exists, else a seeded 10 % of the file -- the same split the
feature network is tested on. A conditional model generates one image per
real image, for its label, and is also scored by label accuracy.

Problems exit with code 2 and a message before any feature network is
trained: a missing or corrupt model file, a model without `sample`, samples
whose shape differs from the dataset's images, a conditional model with an
unlabelled dataset, or a dataset without labels to train a feature network on
(give `--feature-dataset`).
"""

import json
import pathlib
import sys

import numpy as np

from keras_genmodels.data.errors import DataError


class EvaluateError(DataError):
    """A model or dataset `genmodels evaluate` cannot score (the CLI exits with code 2)."""


def add_arguments(parser):
    """Add the `evaluate` options to an argparse (sub)parser."""
    parser.add_argument("--model", type=pathlib.Path, required=True,
                        help=".keras file of a model with a sample method (GAN, VAE)")
    parser.add_argument("--dataset", default="digits",
                        help="name (digits, mnist, fashion_mnist, cifar10, ...) or labelled "
                             "local .npz/IDX path: the real data")
    parser.add_argument("--test-dataset", default=None,
                        help="held-out real images for a local --dataset file (default: its "
                             "'test' sibling file, else a seeded 10%% of it)")
    parser.add_argument("--feature-dataset", default=None,
                        help="labelled data of the feature network (default: --dataset)")
    parser.add_argument("--data-dir", default=None, help="tensorflow-datasets data_dir")
    parser.add_argument("--n", type=_positive_int, default=None,
                        help="generated (and real) images (default: the held-out set, at "
                             "most 10000)")
    parser.add_argument("--seed", type=int, default=0, help="noise and KID-subset seed")
    parser.add_argument("--kid-subsets", type=_positive_int, default=100)
    parser.add_argument("--kid-subset-size", type=_positive_int, default=1000)
    parser.add_argument("--cache-dir", default=None,
                        help="feature-network cache (default: $KERAS_GENMODELS_CACHE/"
                             "feature_networks or ~/.cache/keras_genmodels/feature_networks)")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="scorecard JSON (default: <model>.scorecard.json beside the model)")
    return parser


def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def _load_model(path):
    import keras

    import keras_genmodels.models.registry  # noqa: F401  (registers the model classes)

    path = pathlib.Path(path)
    if not path.is_file():
        raise EvaluateError(f"expected a .keras model file, received {str(path)!r}, which "
                            f"does not exist")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 -- corrupt, truncated or foreign file
        raise EvaluateError(f"cannot load the model {str(path)!r}: it is not a readable "
                            f".keras model ({type(err).__name__}: {err})") from None
    if not hasattr(model, "sample"):
        raise EvaluateError(f"expected a generative model with a sample method, received "
                            f"{type(model).__name__} from {str(path)!r}")
    return model


def _real_images(args):
    """Held-out real images and labels (see the module docstring)."""
    from keras_genmodels.data import load_images
    from keras_genmodels.metrics.feature_networks import (_is_path, _sibling_test_file,
                                                          resolve_dataset)

    if args.test_dataset:
        return load_images(args.test_dataset, "test", data_dir=args.data_dir)
    if not _is_path(args.dataset):
        return load_images(args.dataset, "test", data_dir=args.data_dir)
    sibling = _sibling_test_file(args.dataset)
    if sibling is not None:
        return load_images(sibling)
    x, y = load_images(args.dataset)
    if y is None:
        return x, None
    _, _, _, xt, yt = resolve_dataset(args.dataset, data_dir=args.data_dir, seed=0)
    return xt, yt


def evaluate(args):
    """Check, generate, score; returns the scorecard dict (written to `args.out`)."""
    import keras

    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.metrics.scorecard import generate_samples, scorecard

    model = _load_model(args.model)
    num_classes = getattr(model, "num_classes", None) or 0
    x_real, y_real = _real_images(args)
    probe, _ = generate_samples(model, 2, None, seed=args.seed)
    if tuple(probe.shape[1:]) != tuple(x_real.shape[1:]):
        raise EvaluateError(
            f"expected a model whose samples have the shape of the {args.dataset!r} images "
            f"{tuple(x_real.shape[1:])}, received {type(model).__name__} samples of shape "
            f"{tuple(probe.shape[1:])} from {str(args.model)!r}")
    if num_classes and y_real is None:
        raise EvaluateError(
            f"expected a labelled dataset for the conditional model {str(args.model)!r} "
            f"({num_classes} classes), received {args.dataset!r}, which has no labels")
    if num_classes and int(y_real.max()) >= num_classes:
        raise EvaluateError(
            f"expected dataset labels in [0, {num_classes}) for the conditional model "
            f"{str(args.model)!r}, received labels up to {int(y_real.max())} in "
            f"{args.dataset!r}")
    feature_source = args.feature_dataset or args.dataset
    test = None if args.feature_dataset else args.test_dataset
    try:
        extractor = feature_extractor(feature_source, test, data_dir=args.data_dir,
                                      cache_dir=args.cache_dir, verbose=1)
    except DataError as err:
        raise EvaluateError(f"cannot build the feature network of {feature_source!r}: {err}"
                            + ("" if args.feature_dataset else
                               "; give labelled data with --feature-dataset")) from None
    if tuple(extractor.image_shape) != tuple(x_real.shape[1:]):
        raise EvaluateError(f"expected a feature network for images {tuple(x_real.shape[1:])}, "
                            f"received one for {extractor.image_shape} ({feature_source!r})")
    n = args.n or min(len(x_real), 10000)
    if n > len(x_real):
        print(f"note: {len(x_real)} held-out real images, fewer than --n {n}", file=sys.stderr)
    x_real = x_real[:n]
    labels = None
    if num_classes:
        labels = np.resize(y_real, n).astype("int32")
    fake, labels = generate_samples(model, n, labels, seed=args.seed)
    scores = scorecard(extractor, x_real, fake, labels, kid_subsets=args.kid_subsets,
                       kid_subset_size=args.kid_subset_size, seed=args.seed)
    card = {"model": str(args.model), "model_class": type(model).__name__,
            "dataset": str(args.dataset), "backend": keras.backend.backend(),
            "seed": args.seed, "conditional": bool(num_classes),
            "feature_network": {"path": str(extractor.path),
                                "dataset": extractor.meta.get("dataset"),
                                "test_accuracy": extractor.test_accuracy,
                                "key": extractor.meta.get("key")},
            "scores": scores}
    out = args.out or pathlib.Path(args.model).with_suffix(".scorecard.json")
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(card, indent=1))
    card["out"] = str(out)
    return card


def format_scorecard(card):
    """The scorecard as printable lines."""
    s = card["scores"]
    fx = card["feature_network"]
    lines = [f"{card['model_class']} {card['model']} vs {s['num_real']} real "
             f"{card['dataset']} images ({s['num_fake']} samples; feature network test "
             f"accuracy {fx['test_accuracy']:.4f})"]
    for key in ("fid", "kid", "precision", "recall", "density", "coverage",
                "mean_max_softmax", "class_tv", "label_accuracy"):
        if key in s:
            value = f"{s[key]:.5g}" + (f" ± {s['kid_std']:.2g}" if key == "kid" else "")
            lines.append(f"  {key:<17} {value}")
    lines.append("  class_histogram   " + " ".join(f"{v:.3f}" for v in s["class_histogram"]))
    return lines


def run(args):
    """The `genmodels evaluate` command: prints the scorecard, writes the JSON."""
    card = evaluate(args)
    print("\n".join(format_scorecard(card)))
    print(f"saved {card['out']}")
    return card


def main(argv=None):
    """Stand-alone entry point (`python -m keras_genmodels.tasks.evaluate`)."""
    import argparse

    parser = add_arguments(argparse.ArgumentParser(prog="genmodels evaluate",
                                                   description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    try:
        run(args)
    except (DataError, FileNotFoundError) as err:
        parser.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
