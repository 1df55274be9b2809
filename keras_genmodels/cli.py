"""`genmodels` / `python -m keras_genmodels`: train, export, sample, reconstruct, translate.

`--backend` (anywhere on the command line) sets KERAS_BACKEND before Keras
is first imported, so it really selects the backend. Bad arguments, unknown
model or dataset names, and unreadable files exit with code 2 and a usage
message before any training starts.

Examples::

    genmodels train autoencoder --dataset digits --epochs 50 --backend jax
    genmodels reconstruct --model saved_models/autoencoder/model.keras
    genmodels export saved_models/autoencoder/model.keras --name autoencoder
"""

import argparse
import importlib
import os
import pathlib
import sys

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def _apply_backend(argv):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--backend")
    known, _ = pre.parse_known_args(argv)
    env = os.environ.get("KERAS_BACKEND")
    if known.backend not in BACKENDS and env is not None and env not in BACKENDS:
        print(f"usage: genmodels [-h] [--backend {{{','.join(BACKENDS)}}}] COMMAND ...\n"
              f"genmodels: error: expected KERAS_BACKEND to be one of {', '.join(BACKENDS)}, "
              f"received {env!r} (unset it or pass --backend)", file=sys.stderr)
        raise SystemExit(2)
    if known.backend in BACKENDS:
        if "keras" in sys.modules and known.backend != os.environ.get("KERAS_BACKEND"):
            import keras

            if keras.backend.backend() != known.backend:
                raise SystemExit(
                    f"genmodels: keras was already imported with backend "
                    f"{keras.backend.backend()!r}; cannot switch to {known.backend!r}.")
        os.environ["KERAS_BACKEND"] = known.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _common(parser):
    parser.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")


def build_parser():
    from keras_genmodels.data import DATASETS
    from keras_genmodels.tasks import TASKS
    from keras_genmodels.tasks.arguments import directory, export_name

    parser = argparse.ArgumentParser(
        prog="genmodels", description="Classic generative models on Keras 3.")
    _common(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model, save it and export it")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL",
                                  help=f"one of: {', '.join(TASKS)}")
    for name, module in TASKS.items():
        task = importlib.import_module(module)
        sub = models.add_parser(name, help=(task.__doc__ or "").strip().splitlines()[0])
        _common(sub)
        sub.add_argument("--dataset", default=getattr(task, "DEFAULT_DATASET", "digits"),
                         help=f"name ({', '.join(DATASETS)}) or local .npz/IDX path")
        sub.add_argument("--test-dataset", default=None,
                         help="held-out data for a local --dataset file (default: 10%% of it)")
        sub.add_argument("--data-dir", default=None, help="tensorflow-datasets data_dir")
        sub.add_argument("--epochs", type=_positive_int, default=getattr(task, "DEFAULT_EPOCHS", 20))
        sub.add_argument("--batch-size", type=_positive_int, default=64)
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--name", type=export_name, default=name,
                         help="export name (default: the model name)")
        sub.add_argument("--export-dir", type=directory, default=pathlib.Path("saved_models"))
        sub.add_argument("--no-export", action="store_true", help="skip the SavedModel export")
        sub.add_argument("--allow-non-finite", action="store_true",
                         help="save and export even if training diverged (NaN/inf weights)")
        sub.add_argument("--checkpoint-dir", type=directory, default=None,
                         help="resumable training: checkpoint here; after a crash run the "
                              "same command again to continue")
        sub.add_argument("--checkpoint-every", type=_positive_int, default=None,
                         help="steps between checkpoints (default: every epoch)")
        dist = sub.add_argument_group("several devices (JAX, TensorFlow; README 'Several "
                                      "devices')")
        dist.add_argument("--devices", type=_positive_int, default=1,
                          help="data-parallel devices in this process (default 1); "
                               "--batch-size is the global batch")
        dist.add_argument("--coordinator", default=None,
                          help="JAX multi-process: HOST:PORT of process 0")
        dist.add_argument("--num-processes", type=_positive_int, default=None,
                          help="JAX multi-process: number of processes")
        dist.add_argument("--process-id", type=int, default=None,
                          help="JAX multi-process: this process's index (0 writes files)")
        sub.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                         help="Keras fit verbosity (1: progress bar)")
        task.add_arguments(sub)

    export = commands.add_parser("export", help="export a .keras file for TF Serving")
    _common(export)
    export.add_argument("keras_file", type=pathlib.Path)
    export.add_argument("--name", type=export_name, required=True)
    export.add_argument("--export-dir", type=directory, default=pathlib.Path("saved_models"))
    export.add_argument("--allow-non-finite", action="store_true",
                        help="export even if a weight is NaN/inf")
    export.add_argument("--version", type=_positive_int, default=None)
    export.add_argument("--serving-root", default=None,
                        help="base_path prefix in models.config (e.g. /models)")

    sample = commands.add_parser("sample", help="draw samples from a generative model to a PNG")
    _common(sample)
    sample.add_argument("--model", type=pathlib.Path, required=True, help=".keras file")
    sample.add_argument("--n", type=_positive_int, default=64)
    sample.add_argument("--label", type=int, default=None, help="class (conditional models)")
    sample.add_argument("--text", default=None, help="caption (text-to-image models: stackgan)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", type=pathlib.Path, default=pathlib.Path("samples.png"))

    recon = commands.add_parser("reconstruct", help="originals above reconstructions, to a PNG")
    _common(recon)
    recon.add_argument("--model", type=pathlib.Path, required=True, help=".keras file")
    recon.add_argument("--dataset", default="digits")
    recon.add_argument("--data-dir", default=None)
    recon.add_argument("--n", type=_positive_int, default=10)
    recon.add_argument("--out", type=pathlib.Path, default=pathlib.Path("reconstructions.png"))

    from keras_genmodels.tasks import evaluate as evaluate_task  # imports no keras

    ev = commands.add_parser(
        "evaluate", help="score a generative model's samples (FID, KID, precision/recall, ...)")
    _common(ev)
    evaluate_task.add_arguments(ev)

    if "seq2seq" in TASKS:
        tr = commands.add_parser("translate", help="translate text with a trained seq2seq model")
        _common(tr)
        importlib.import_module(TASKS["seq2seq"]).add_translate_arguments(tr)
    if "masked-ae" in TASKS:
        fl = commands.add_parser("fill", help="restore [MASK] markers with a masked-ae model")
        _common(fl)
        importlib.import_module(TASKS["masked-ae"]).add_fill_arguments(fl)
    from keras_genmodels.tasks import translate_image  # imports no keras

    ti = commands.add_parser("translate-image",
                             help="image -> image with a pix2pix or super-resolution model")
    _common(ti)
    translate_image.add_arguments(ti)
    return parser


def _positive_int(text):
    from keras_genmodels.tasks.arguments import positive_int

    return positive_int(text)


def _load(parser, path, require=None, purpose=None):
    from keras_genmodels.model_files import ModelFileError, load_model_file

    try:
        return load_model_file(path, require=require, purpose=purpose)
    except (FileNotFoundError, ModelFileError) as err:
        parser.error(str(err))


def _sample(parser, args):
    import keras

    from keras_genmodels.plots.grid import save_image_grid

    model = _load(parser, args.model, require="sample", purpose="sample")
    keras.utils.set_random_seed(args.seed)
    if args.text is not None or getattr(model, "text_encoder", None) is not None:
        return importlib.import_module("keras_genmodels.tasks.stackgan").sample_text(
            parser, args, model)
    num_classes = getattr(model, "num_classes", None)
    if args.label is not None and not num_classes:
        parser.error(f"--label given, but {type(model).__name__} is not conditional")
    if args.label is not None and not 0 <= args.label < num_classes:
        parser.error(f"--label must be in [0, {num_classes}); received {args.label}")
    if num_classes:  # conditional: the given class, else every class in turn
        labels = np.full(args.n, args.label) if args.label is not None else \
            np.arange(args.n) % num_classes
    else:
        labels = None
    samples = keras.ops.convert_to_numpy(model.sample(args.n, labels=labels))
    if samples.ndim >= 3:
        print(f"saved {save_image_grid(samples, args.out)}")
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_genmodels.plots.grid import save_figure

    fig, ax = plt.subplots(figsize=(5, 5 if samples.shape[1] > 1 else 3))
    if samples.shape[1] == 1:  # 1-D: a histogram
        ax.hist(samples[:, 0], bins=50, density=True)
    else:  # vectors: a scatter of the first two coordinates
        ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.5)
    ax.set_title(f"{args.n} samples")
    print(f"saved {save_figure(fig, args.out)}")


def _reconstruct(parser, args):
    import keras

    from keras_genmodels.data import load_images
    from keras_genmodels.plots.grid import save_image_grid

    model = _load(parser, args.model, require="reconstruct", purpose="reconstruct (an encoder)")
    x, y = load_images(args.dataset, "test", data_dir=args.data_dir)
    expected = getattr(model, "sample_shape", None) or getattr(model, "image_shape", None)
    if expected and tuple(expected) != tuple(x.shape[1:]):
        parser.error(f"expected --dataset images of shape {tuple(expected)} for this model, "
                     f"received {args.dataset!r} with images of shape {tuple(x.shape[1:])}")
    x = x[: args.n]
    if getattr(model, "num_classes", None):
        if y is None:
            parser.error(f"{args.dataset} has no labels; this conditional model needs them")
        x_hat = model.reconstruct(x, y[: args.n].astype("int32"))
    else:
        x_hat = model.reconstruct(x)
    x_hat = keras.ops.convert_to_numpy(x_hat)
    print(f"saved {save_image_grid([x, x_hat], args.out, ['original', 'reconstruction'])}")


def _prepare_devices(argv):
    """Make `--devices N` devices visible before the framework initialises them."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--devices", default=None)
    known, _ = pre.parse_known_args(argv)
    try:
        devices = int(known.devices) if known.devices is not None else 1
    except ValueError:
        return  # the real parser reports it
    if devices > 1:
        from keras_genmodels.distribution import DistributionError, prepare_devices

        try:
            prepare_devices(devices)
        except DistributionError as err:
            build_parser().error(str(err))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    _apply_backend(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        _prepare_devices(argv)

    from keras_genmodels.data.errors import DataError
    from keras_genmodels.export import NonFiniteModelError
    from keras_genmodels.model_files import ModelFileError
    from keras_genmodels.tasks.common import TaskError, TrainingDiverged

    try:
        if args.command == "train":
            from keras_genmodels.tasks import TASKS
            from keras_genmodels.tasks.common import run_training

            run_training(importlib.import_module(TASKS[args.model]), args)
        elif args.command == "export":
            from keras_genmodels.export import export_model

            print(export_model(args.keras_file, args.name, args.export_dir,
                               args.version, args.serving_root,
                               allow_non_finite=args.allow_non_finite))
        elif args.command == "evaluate":
            from keras_genmodels.tasks import evaluate

            evaluate.run(args)
        elif args.command == "sample":
            _sample(parser, args)
        elif args.command == "reconstruct":
            _reconstruct(parser, args)
        elif args.command == "translate":
            from keras_genmodels.tasks import TASKS

            importlib.import_module(TASKS["seq2seq"]).translate(args)
        elif args.command == "fill":
            from keras_genmodels.tasks import TASKS

            importlib.import_module(TASKS["masked-ae"]).fill(args)
        elif args.command == "translate-image":
            from keras_genmodels.tasks import translate_image

            translate_image.run(args)
    except (TrainingDiverged, NonFiniteModelError) as err:
        print(f"genmodels: error: {err}", file=sys.stderr)
        return 1
    except (DataError, TaskError, ModelFileError, FileNotFoundError, FileExistsError) as err:
        parser.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
