"""`genmodels train srgan|srresnet`: super-resolution (SRResNet / SRGAN); train, save, export.

    genmodels train srresnet --scale 4 --dataset ../shared/data/fashion_mnist_train.npz
    genmodels train srgan --scale 4 --dataset ../shared/data/fashion_mnist_train.npz \\
        --init-from saved_models/srresnet/model.keras
    genmodels train srgan --scale 2 --dataset cifar10.npz --mse-only     # = srresnet

`srresnet` (or `srgan --mse-only`) trains `SuperResolution(adversarial=False)` on pixel MSE;
`srgan` (`--adversarial`, the default) trains `SuperResolution(adversarial=True)`: content
loss in the in-domain feature network of `--dataset`
(`keras_genmodels.metrics.feature_networks.feature_extractor`, trained offline once and cached;
the paper's VGG would be a download) + `--adversarial-weight` (1e-3) x the adversarial loss.
As in the paper its generator starts from an SRResNet: `--init-from` a trained `.keras` file,
else `--pretrain-epochs` of MSE training first (default: half of `--epochs`, at least 1).

Pairs: each image is the target, its `--scale`x area-downsampled copy the input
(`keras_genmodels.data.paired`, `pairs="resolution"`). A size that `--scale` does not divide
exits 2 before any training. Learning rate: `--learning-rate`, default 1e-3 for MSE training
(a short CPU run; the paper used 1e-4 for 1e6 steps) and 1e-4 for the adversarial stage.

Writes, under `<export-dir>/<name>/`: `model.keras`, `metrics.json` (test PSNR/SSIM of bicubic
and of the model), `comparison.png` (input, bicubic, model, target), and exports the
`translate` signature (low-res `image` -> `{"image": high-res}`) unless `--no-export`.
"""

import copy

from keras_genmodels.tasks.arguments import non_negative_int, positive_float, positive_int

DEFAULT_EPOCHS = 10


def add_arguments(parser):
    parser.add_argument("--scale", type=int, choices=(2, 4), default=4,
                        help="up-sampling factor (default 4)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--adversarial", dest="adversarial", action="store_true", default=None,
                      help="SRGAN (default for srgan)")
    mode.add_argument("--mse-only", dest="adversarial", action="store_false",
                      help="SRResNet: pixel MSE only (default for srresnet)")
    parser.add_argument("--filters", type=positive_int, default=32,
                        help="generator width (default 32; the paper: 64)")
    parser.add_argument("--blocks", type=non_negative_int, default=4,
                        help="residual blocks (default 4; the paper: 16)")
    parser.add_argument("--upsample-skip", choices=("none", "nearest", "bilinear"),
                        default="none",
                        help="learn the residual over this interpolation of the input "
                             "(default none, the paper's SRResNet)")
    parser.add_argument("--augment", choices=("none", "flip", "dihedral"), default="none",
                        help="training-pair augmentation: random mirror, or any of the 8 "
                             "symmetries of the square (default none)")
    parser.add_argument("--content-layers", default="conv1,conv2",
                        help="comma-separated layers of the in-domain feature network for the "
                             "SRGAN content loss ('pixels': pixel MSE); default conv1,conv2")
    parser.add_argument("--content-weight", type=positive_float, default=1.0)
    parser.add_argument("--adversarial-weight", type=positive_float, default=1e-3)
    parser.add_argument("--init-from", default=None,
                        help="SRGAN: start from this trained SRResNet .keras file")
    parser.add_argument("--pretrain-epochs", type=non_negative_int, default=None,
                        help="SRGAN without --init-from: MSE epochs first (default epochs/2)")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="Adam rate (default 1e-3 MSE training, 1e-4 adversarial)")


def _content_network(args, image_shape):
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.networks.srresnet import content_network
    from keras_genmodels.tasks.common import TaskError

    if args.content_layers.strip() == "pixels":
        return None
    layers = [n.strip() for n in args.content_layers.split(",") if n.strip()]
    fx = feature_extractor(args.dataset, args.test_dataset, data_dir=args.data_dir,
                           verbose=args.verbose)
    if fx.image_shape != tuple(image_shape):
        raise TaskError(f"expected a feature network for images {tuple(image_shape)}, "
                        f"received one for {fx.image_shape}")
    try:
        return content_network(fx.model, layers)
    except ValueError as err:
        raise TaskError(f"--content-layers: {err}") from None


def _fit(model, args, x_train, epochs, learning_rate, stage):
    import keras

    from keras_genmodels.data.paired import paired_dataset
    from keras_genmodels.tasks.common import fit_task

    model.compile(optimizers={p.name: keras.optimizers.Adam(learning_rate, beta_1=0.9)
                              for p in model.phases()})
    stage_args = copy.copy(args)
    stage_args.epochs = epochs
    if args.checkpoint_dir is not None:
        stage_args.checkpoint_dir = args.checkpoint_dir / stage
    batch = min(args.batch_size, len(x_train))

    def epoch_dataset(epoch=None):
        return paired_dataset(x_train, "resolution", scale=args.scale, batch_size=batch,
                              seed=args.seed, drop_remainder=True, epoch=epoch,
                              augment=None if args.augment == "none" else args.augment)

    return fit_task(model, stage_args, epoch_dataset(), epoch_dataset)


def train(args):
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_genmodels.data.paired import make_inputs, paired_shapes
    from keras_genmodels.export import export_model
    from keras_genmodels.models.super_resolution import SuperResolution
    from keras_genmodels.plots.grid import save_image_grid
    from keras_genmodels.tasks.common import (TaskError, build_model, save_keras_atomically,
                                              split_for_training, write_json)

    adversarial = args.model == "srgan" if args.adversarial is None else args.adversarial
    if not adversarial and (args.init_from or args.pretrain_epochs):
        raise TaskError("expected --init-from/--pretrain-epochs with an adversarial (SRGAN) "
                        "model, received them with --mse-only")
    x_tr, _, x_te, _ = split_for_training(args)
    low_shape, image_shape = paired_shapes(x_tr.shape[1:], "resolution", args.scale)
    keras.utils.set_random_seed(args.seed)
    arch = dict(image_shape=image_shape, scale=args.scale, filters=args.filters,
                num_blocks=args.blocks,
                upsample_skip=None if args.upsample_skip == "none" else args.upsample_skip)
    mse_rate = args.learning_rate or 1e-3
    if adversarial:
        content = _content_network(args, image_shape)
        model = build_model(SuperResolution, **arch, adversarial=True,
                            content_network=content, content_weight=args.content_weight,
                            adversarial_weight=args.adversarial_weight)
        if args.init_from:
            try:
                model.init_generator_from(args.init_from)
            except ValueError as err:
                raise TaskError(f"--init-from: {err}") from None
        else:
            pretrain = (max(1, args.epochs // 2) if args.pretrain_epochs is None
                        else args.pretrain_epochs)
            if pretrain:
                srresnet = build_model(SuperResolution, **arch)
                _fit(srresnet, args, x_tr, pretrain, mse_rate, "pretrain")
                model.init_generator_from(srresnet)
        _fit(model, args, x_tr, args.epochs, args.learning_rate or 1e-4, "adversarial")
    else:
        model = build_model(SuperResolution, **arch)
        _fit(model, args, x_tr, args.epochs, mse_rate, "mse")

    low_te = make_inputs(x_te, "resolution", args.scale).numpy()
    sr = model.translate(low_te)
    bicubic = tf.clip_by_value(tf.image.resize(low_te, image_shape[:2], "bicubic"), 0, 1)
    metrics = {"test_images": int(len(x_te)), "scale": args.scale,
               "adversarial": adversarial}
    for name, images in (("bicubic", bicubic), ("model", sr)):
        metrics[f"{name}_psnr_db"] = float(np.mean(tf.image.psnr(images, x_te, 1.0)))
        # SSIM's 11x11 Gaussian window, narrowed for images smaller than that.
        metrics[f"{name}_ssim"] = float(np.mean(tf.image.ssim(
            tf.convert_to_tensor(images, tf.float32), x_te, 1.0,
            filter_size=min(11, *image_shape[:2]))))
    out = args.export_dir / args.name
    keras_path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    nearest = tf.image.resize(low_te[:10], image_shape[:2], "nearest").numpy()
    png = save_image_grid([nearest, bicubic.numpy()[:10], sr[:10], x_te[:10]],
                          out / "comparison.png",
                          row_titles=["input", "bicubic", args.name, "target"],
                          title=f"{args.name} {args.scale}x: test PSNR "
                                f"{metrics['model_psnr_db']:.2f} dB (bicubic "
                                f"{metrics['bicubic_psnr_db']:.2f})")
    print(write_json(out / "metrics.json", metrics).read_text())
    print(f"saved {keras_path}\nsaved {png}")
    if not args.no_export:
        print(f"exported {export_model(model, args.name, args.export_dir, allow_non_finite=args.allow_non_finite)}")  # noqa: E501
    return model
