"""`genmodels train gan|dcgan|cgan|wgan_gp`: train, save, picture, export.

The four CLI names are presets of `keras_genmodels.models.gan`:

- `gan`: MLP GAN (toy 2-D/1-D data, or flattened images).
- `dcgan`: `GAN(architecture="dcgan")` on images.
- `cgan`: conditional DCGAN (`num_classes` from the labels).
- `wgan_gp`: `WGANGP` (MLP on toy data, DCGAN networks on images).

`--dataset` is a toy name (`ring8`, `grid25`, `gaussian1d`: an infinite
stream, `--steps-per-epoch` batches per epoch, mode coverage logged each
epoch) or any image source of `keras_genmodels.data.load_images`.
`--batch-size` counts samples per discriminator update; `fit` batches hold
k times as many. Writes `<export-dir>/<name>/model.keras`, `samples.png`
(images) or `samples.npz`, `loss_curves.png`, and exports `generate`.

Examples:
    genmodels train dcgan --dataset digits --epochs 20
    genmodels train wgan_gp --dataset grid25 --steps-per-epoch 500 --epochs 8
    genmodels sample --model saved_models/cgan/model.keras --label 3
"""

from keras_genmodels.tasks.arguments import (momentum, non_negative_float, positive_float,
                                             positive_int, positive_int_list)

DEFAULT_DATASET = "digits"
DEFAULT_EPOCHS = 20
PRESETS = ("gan", "dcgan", "cgan", "wgan_gp")
TOY = ("ring8", "grid25", "gaussian1d")


def add_arguments(parser):
    parser.add_argument("--steps-per-epoch", type=positive_int, default=500,
                        help="toy datasets only (an infinite stream); default 500")
    parser.add_argument("--latent-dim", type=positive_int, default=None,
                        help="default: 2 on toy data, 64 on images")
    parser.add_argument("--discriminator-steps", type=positive_int, default=None,
                        help="k, D updates per G update (default 1; 5 for wgan_gp)")
    parser.add_argument("--generator-loss", choices=("non_saturating", "minimax", "hinge"),
                        default="non_saturating")
    parser.add_argument("--discriminator-loss", choices=("logistic", "hinge"),
                        default="logistic",
                        help="gan/dcgan/cgan: D's objective (default logistic; hinge goes with "
                             "--generator-loss hinge)")
    parser.add_argument("--spectral-normalization", action="store_true",
                        help="spectral normalisation of every D layer (Miyato et al. 2018)")
    parser.add_argument("--r1-weight", type=non_negative_float, default=0.0,
                        help="gan/dcgan/cgan: gamma of the R1 regulariser, (gamma/2) "
                             "E||grad_x D(x)||^2 on real data (Mescheder et al. 2018); "
                             "0 (default) turns it off")
    parser.add_argument("--prior", choices=("normal", "uniform"), default="normal")
    parser.add_argument("--packing", type=positive_int, default=1,
                        help="PacGAN degree (default 1)")
    parser.add_argument("--units", type=positive_int_list, default=(256, 256),
                        help="comma-separated MLP hidden units of G and D (default 256,256)")
    parser.add_argument("--filters", type=positive_int_list, default=None,
                        help="comma-separated DCGAN filters, low resolution first")
    parser.add_argument("--discriminator-filters", type=positive_int_list, default=None,
                        help="comma-separated DCGAN discriminator filters, low resolution "
                             "first (default: --filters)")
    parser.add_argument("--output-kernel-size", type=positive_int, default=None,
                        help="DCGAN generator: draw the image with a stride-1 k x k conv "
                             "from full-resolution features (default: a stride-2 "
                             "transposed output layer, Radford et al.)")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="Adam rate (default 1e-3 toy, 2e-4 images, 1e-4 wgan_gp)")
    parser.add_argument("--discriminator-learning-rate", type=positive_float, default=None,
                        help="D's Adam rate (default --learning-rate; a larger one is TTUR, "
                             "Heusel et al. 2017)")
    parser.add_argument("--generator-ema", type=momentum, default=0.0,
                        help="momentum of an exponential moving average of G's weights "
                             "(Keras optimizer use_ema), swapped in at the end of training; "
                             "0 (default) turns it off")


def build(args, data_shape, num_classes=None):
    """The compiled GAN of preset `args.model` for samples of `data_shape`."""
    import keras

    from keras_genmodels.models.gan import GAN, WGANGP

    preset = args.model
    if preset not in PRESETS:
        raise ValueError(f"expected a GAN preset in {list(PRESETS)}, received {preset!r}.")
    images = len(data_shape) == 3
    kwargs = dict(
        data_shape=data_shape, latent_dim=args.latent_dim or (64 if images else 2),
        architecture="dcgan" if images else "mlp",
        generator_units=tuple(args.units), discriminator_units=tuple(args.units),
        filters=tuple(args.filters) if args.filters else None,
        output_activation="sigmoid" if images else None, prior=args.prior,
        packing=args.packing, seed=args.seed,
        num_classes=num_classes if preset == "cgan" else None,
        spectral_normalization=bool(getattr(args, "spectral_normalization", False)),
        discriminator_filters=(tuple(args.discriminator_filters)
                               if getattr(args, "discriminator_filters", None) and images
                               else None),
        generator_output_kernel_size=(getattr(args, "output_kernel_size", None)
                                      if images else None))
    ema = getattr(args, "generator_ema", 0.0) or 0.0
    if not 0.0 <= ema < 1.0:
        raise ValueError(f"expected --generator-ema in [0, 1), received {ema}")
    r1_weight = getattr(args, "r1_weight", 0.0) or 0.0
    if preset == "wgan_gp":
        if r1_weight:
            raise ValueError(f"expected --r1-weight 0 for wgan_gp (it has its own gradient "
                             f"penalty), received {r1_weight}")
        model = WGANGP(discriminator_steps=args.discriminator_steps or 5, **kwargs)
        lr, betas = args.learning_rate or 1e-4, (0.0, 0.9)
    else:
        model = GAN(generator_loss=args.generator_loss,
                    discriminator_loss=getattr(args, "discriminator_loss", "logistic"),
                    discriminator_steps=args.discriminator_steps or 1,
                    r1_weight=r1_weight, **kwargs)
        lr, betas = args.learning_rate or (2e-4 if images else 1e-3), (0.5, 0.999)
    d_lr = getattr(args, "discriminator_learning_rate", None) or lr
    g_extra = dict(use_ema=True, ema_momentum=ema) if ema else {}
    model.compile(optimizers={
        "discriminator": keras.optimizers.Adam(d_lr, beta_1=betas[0], beta_2=betas[1]),
        "generator": keras.optimizers.Adam(lr, beta_1=betas[0], beta_2=betas[1], **g_extra)})
    return model


def train(args):
    import numpy as np

    import keras

    from keras_genmodels import data as kdata
    from keras_genmodels.export import export_model
    from keras_genmodels.plots.gan import (plot_loss_curves, plot_sample_grid,
                                           plot_samples_over_data)
    from keras_genmodels.tasks.common import build_model, fit_task, save_keras_atomically

    keras.utils.set_random_seed(args.seed)
    out = args.export_dir / args.name
    callbacks, fit_kwargs, dist = [], {}, None
    if args.dataset in TOY:
        if args.model in ("cgan", "dcgan"):
            raise kdata.DataError(f"expected an image dataset for {args.model}, received the "
                                  f"toy distribution {args.dataset!r}")
        dist = kdata.toy_distribution(args.dataset)
        model = build_model(build, args, (dist.dim,))
        batch = model.discriminator_steps * args.batch_size
        ds = kdata.toy_dataset(dist, batch_size=batch, seed=args.seed)

        def epoch_dataset(epoch):
            return kdata.toy_dataset(dist, batch_size=batch, seed=args.seed, epoch=epoch,
                                     steps_per_epoch=args.steps_per_epoch)

        fit_kwargs["steps_per_epoch"] = args.steps_per_epoch
        if dist.num_modes > 1:
            from keras_genmodels.metrics.mode_coverage import ModeCoverageCallback

            callbacks.append(ModeCoverageCallback(dist))
    else:
        x, y = kdata.load_images(args.dataset, "train", data_dir=args.data_dir)
        num_classes = None
        if args.model == "cgan":
            if y is None:
                raise kdata.DataError(f"expected labels for cgan, received none for "
                                      f"{args.dataset!r}")
            num_classes = int(y.max()) + 1
        flat = args.model == "gan"
        model = build_model(build, args, (int(x[0].size),) if flat else tuple(x.shape[1:]),
                            num_classes)
        batch = model.discriminator_steps * args.batch_size
        if batch > len(x):
            raise kdata.DataError(f"expected at most {len(x)} samples per fit batch (k * "
                                  f"batch size), received {batch}")

        def epoch_dataset(epoch=None):
            return kdata.image_dataset((x, y) if num_classes else x, batch_size=batch,
                                       with_labels=bool(num_classes), seed=args.seed,
                                       drop_remainder=True, flatten=flat, epoch=epoch)

        ds = epoch_dataset()
    history = fit_task(model, args, ds, epoch_dataset, callbacks=callbacks, **fit_kwargs)
    keras_path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    print(f"saved {keras_path}")
    print(f"saved {plot_loss_curves(history, out / 'loss_curves.png')}")
    labels = np.arange(64) % model.num_classes if model.num_classes else None
    samples = model.sample(64 if dist is None else 2500, labels=labels, seed=args.seed)
    if dist is not None and dist.dim == 2:
        print(f"saved {plot_samples_over_data(samples, dist.sample(2500, seed=0), out / 'samples.png', means=dist.means)}")  # noqa: E501
    elif samples.ndim == 4:
        print(f"saved {plot_sample_grid(samples, out / 'samples.png')}")
    else:
        np.savez(out / "samples.npz", x=samples)
        print(f"saved {out / 'samples.npz'}")
    if not args.no_export:
        print(f"exported {export_model(model, args.name, args.export_dir, allow_non_finite=args.allow_non_finite)}")  # noqa: E501
    return model
