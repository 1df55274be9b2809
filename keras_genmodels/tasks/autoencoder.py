"""`genmodels train autoencoder`: train, save, picture, export."""

import numpy as np

from keras_genmodels.tasks.arguments import positive_float, positive_int, positive_int_list


def add_arguments(parser):
    parser.add_argument("--code-size", type=positive_int, default=16,
                        help="code dimension (default 16)")
    parser.add_argument("--architecture", choices=["dense", "conv"], default="dense")
    parser.add_argument("--hidden-units", type=positive_int_list, default=(256,),
                        help="comma-separated dense hidden layer sizes (default 256)")
    parser.add_argument("--loss", choices=["mse", "bce"], default="mse")
    parser.add_argument("--preset", choices=["lecture"], default=None,
                        help="a named network (overrides the options above)")
    parser.add_argument("--learning-rate", type=positive_float, default=2e-3)


def build(args, input_shape):
    from keras_genmodels.models.autoencoder import Autoencoder

    if args.preset:
        return Autoencoder.from_preset(args.preset, input_shape=input_shape)
    return Autoencoder(input_shape, args.code_size, architecture=args.architecture,
                       hidden_units=tuple(args.hidden_units), reconstruction_loss=args.loss)


def train(args, build=build):
    """Train the model made by `build(args, input_shape)` (regularised AEs pass theirs)."""
    import keras

    from keras_genmodels.data import image_dataset
    from keras_genmodels.export import export_model
    from keras_genmodels.plots.grid import save_image_grid
    from keras_genmodels.tasks.common import (build_model, fit_task, save_keras_atomically,
                                              split_for_training)

    x_tr, _, x_te, _ = split_for_training(args)
    model = build_model(build, args, x_tr.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    from keras_genmodels.distribution import num_replicas

    # Several devices: full batches only (each device gets an equal share).
    full = num_replicas() > 1
    train_ds = image_dataset(x_tr, batch_size=args.batch_size, seed=args.seed,
                             drop_remainder=full)
    test_ds = image_dataset(x_te, batch_size=min(args.batch_size, len(x_te)), shuffle=False,
                            drop_remainder=full)
    fit_task(model, args, train_ds,
             lambda e: image_dataset(x_tr, batch_size=args.batch_size, seed=args.seed,
                                     drop_remainder=full, epoch=e),
             validation_data=test_ds)

    x_hat = keras.ops.convert_to_numpy(model.reconstruct(x_te))
    mse = float(np.mean((x_hat - x_te) ** 2))
    out = args.export_dir / args.name
    keras_path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    png = save_image_grid([x_te[:10], x_hat[:10]], out / "reconstructions.png",
                          row_titles=["original", "reconstruction"],
                          title=f"{args.name}: test MSE {mse:.4f}")
    print(f"test reconstruction MSE: {mse:.5f}")
    print(f"saved {keras_path}\nsaved {png}")
    if not args.no_export:
        print(f"exported {export_model(model, args.name, args.export_dir, allow_non_finite=args.allow_non_finite)}")  # noqa: E501
