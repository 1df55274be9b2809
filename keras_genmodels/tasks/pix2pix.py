"""`genmodels train pix2pix`: image-to-image translation (edges/grey/low-res -> image).

Pairs are built from `--dataset` by `keras_genmodels.data.paired`
(`--pairs edges|colorize|resolution`, `--scale 2|4`, `--edge-threshold`);
the model is `keras_genmodels.models.pix2pix.Pix2Pix` (`--l1-only` for the
L1-only ablation). Writes `<export-dir>/<name>/model.keras`,
`translations.png` (input | output | target on held-out pairs),
`loss_curves.png`, `metrics.json` (held-out L1 and PSNR) and exports the
`translate` signature.

Examples:
    genmodels train pix2pix --pairs edges --dataset fashion_mnist --epochs 10
    genmodels train pix2pix --pairs edges --dataset /path/fashion_mnist_train.npz \\
        --test-dataset /path/fashion_mnist_test.npz
    genmodels translate-image --model saved_models/pix2pix/model.keras --input edges.png
"""

from keras_genmodels.tasks.arguments import (non_negative_float, positive_float,
                                             positive_int_list)

DEFAULT_DATASET = "digits"
DEFAULT_EPOCHS = 20
HELD_OUT = 512


def add_arguments(parser):
    parser.add_argument("--pairs", choices=("edges", "colorize", "resolution"), default="edges",
                        help="input computed from each image (default edges)")
    parser.add_argument("--scale", type=int, choices=(2, 4), default=2,
                        help="down-sampling factor of --pairs resolution (default 2)")
    parser.add_argument("--edge-threshold", type=non_negative_float, default=1.0,
                        help="Sobel-magnitude threshold of --pairs edges (default 1.0)")
    parser.add_argument("--l1-weight", type=non_negative_float, default=100.0,
                        help="lambda of the L1 term (default 100)")
    parser.add_argument("--l1-only", action="store_true",
                        help="L1 term only, no discriminator (the paper's ablation)")
    parser.add_argument("--generator-filters", type=positive_int_list, default=None,
                        help="U-Net encoder filters, e.g. 64,128 (default: from the size)")
    parser.add_argument("--discriminator-filters", type=positive_int_list, default=(64, 128),
                        help="PatchGAN filters (default 64,128: 16x16 patches)")
    parser.add_argument("--learning-rate", type=positive_float, default=2e-4,
                        help="Adam rate of both players (default 2e-4, beta_1 0.5)")


def build(args, input_shape, output_channels):
    """The compiled `Pix2Pix` of `args` for inputs `input_shape`."""
    import keras

    from keras_genmodels.models.pix2pix import Pix2Pix

    model = Pix2Pix(input_shape, output_channels,
                    generator_filters=args.generator_filters,
                    discriminator_filters=args.discriminator_filters,
                    l1_weight=args.l1_weight, l1_only=args.l1_only, seed=args.seed)
    names = ("generator",) if args.l1_only else ("discriminator", "generator")
    model.compile(optimizers={n: keras.optimizers.Adam(args.learning_rate, beta_1=0.5)
                              for n in names})
    return model


def _held_out(args, paired, x):
    """`(x_train, inputs, targets)`: the training images and up to HELD_OUT held-out pairs
    (`--test-dataset`, the dataset's test split, or for a local file without
    `--test-dataset` a seeded 10 % of it, not trained on, as `split_for_training` does)."""
    import numpy as np

    from keras_genmodels.tasks.common import _is_path

    kwargs = dict(pairs=args.pairs, scale=args.scale, edge_threshold=args.edge_threshold,
                  limit=HELD_OUT)
    if args.test_dataset:
        test = args.test_dataset
    elif _is_path(args.dataset):
        order = np.random.RandomState(args.seed).permutation(len(x))
        cut = max(1, len(x) // 10)
        x, test = x[order[cut:]], x[order[:cut]]
    else:
        test = args.dataset
    inputs, targets, _ = paired.load_pairs(test, split="test", data_dir=args.data_dir, **kwargs)
    return x, inputs, targets


def train(args):
    import keras
    import numpy as np

    from keras_genmodels.data import DataError
    from keras_genmodels.data import paired
    from keras_genmodels.export import export_model
    from keras_genmodels.plots.gan import plot_loss_curves
    from keras_genmodels.plots.grid import save_image_grid
    from keras_genmodels.tasks.common import (TaskError, build_model, fit_task,
                                              save_keras_atomically, write_json)

    keras.utils.set_random_seed(args.seed)
    out = args.export_dir / args.name
    x, _ = paired.load_raw(args.dataset, "train", data_dir=args.data_dir)
    input_shape, target_shape = paired.paired_shapes(x.shape[1:], args.pairs, args.scale)
    x, test_inputs, test_targets = _held_out(args, paired, x)
    if args.batch_size > len(x):
        raise DataError(f"expected --batch-size at most {len(x)} (the number of training "
                        f"images), received {args.batch_size}")
    model = build_model(build, args, input_shape, target_shape[-1])
    try:
        model.check_pairs(test_inputs.shape[1:], test_targets.shape[1:], where="held-out data")
    except ValueError as err:
        raise TaskError(str(err)) from None

    def epoch_dataset(epoch=None):
        return paired.paired_dataset(x, pairs=args.pairs, batch_size=args.batch_size,
                                     seed=args.seed, scale=args.scale,
                                     edge_threshold=args.edge_threshold, drop_remainder=True,
                                     epoch=epoch)

    history = fit_task(model, args, epoch_dataset(), epoch_dataset)
    keras_path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    print(f"saved {keras_path}")
    keys = ["g_loss", "l1"] if args.l1_only else None
    curves = plot_loss_curves(history, out / "loss_curves.png", keys=keys,
                              title="pix2pix training")
    print(f"saved {curves}")
    outputs = np.concatenate([keras.ops.convert_to_numpy(model.translate(test_inputs[i:i + 256]))
                              for i in range(0, len(test_inputs), 256)])
    mse = np.mean((outputs - test_targets) ** 2, axis=(1, 2, 3))
    metrics = {"pairs": args.pairs, "held_out_pairs": int(len(outputs)),
               "l1": float(np.mean(np.abs(outputs - test_targets))),
               "psnr_db": float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-10))))}
    print(f"held-out pairs: L1 {metrics['l1']:.4f}, PSNR {metrics['psnr_db']:.2f} dB")
    print(f"saved {write_json(out / 'metrics.json', metrics)}")
    n = min(8, len(outputs))
    rows = [outputs[:n], test_targets[:n]]
    titles = ["output", "target"]
    if input_shape[-1] in (1, 3) and input_shape[:2] == target_shape[:2]:
        rows, titles = [test_inputs[:n]] + rows, ["input"] + titles
    print(f"saved {save_image_grid(rows, out / 'translations.png', titles)}")
    if not args.no_export:
        print(f"exported {export_model(model, args.name, args.export_dir, allow_non_finite=args.allow_non_finite)}")  # noqa: E501
    return model
