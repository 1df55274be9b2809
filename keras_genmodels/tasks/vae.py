"""`genmodels train vae`: train a (conditional) VAE, save, picture, export.

    genmodels train vae --dataset digits --epochs 30 --latent-dim 2 --backend jax
    genmodels train vae --dataset mnist.npz --test-dataset mnist_test.npz --conditional \\
        --architecture conv --name cvae
    genmodels sample --model saved_models/vae/model.keras --n 64

Writes, under `<export-dir>/<name>/`: `model.keras`, `metrics.json` (final
training losses and the test NLL estimated by IWAE with `--nll-k` samples
on up to 1,000 test images), `samples.png`, `reconstructions.png`,
`latent_map.png` (when the data has labels) and `manifold.png` (when
`--latent-dim 2`); then exports a SavedModel version unless `--no-export`.
"""

from keras_genmodels.tasks.arguments import (non_negative_float, non_negative_int,
                                             positive_float, positive_int, positive_int_list)

DEFAULT_EPOCHS = 30


def add_arguments(parser):
    parser.add_argument("--latent-dim", type=positive_int, default=2,
                        help="dimension of z (default 2)")
    parser.add_argument("--architecture", choices=["dense", "conv"], default="dense")
    parser.add_argument("--hidden-units", type=positive_int_list, default=(256, 128),
                        help="comma-separated dense widths (default 256,128)")
    parser.add_argument("--filters", type=positive_int_list, default=(32, 64),
                        help="comma-separated conv filters (default 32,64)")
    parser.add_argument("--activation", default="relu",
                        choices=("relu", "elu", "gelu", "selu", "silu", "tanh", "sigmoid",
                                 "softplus", "leaky_relu"))
    parser.add_argument("--likelihood", choices=["bernoulli", "gaussian"], default="bernoulli")
    parser.add_argument("--beta", type=non_negative_float, default=1.0,
                        help="KL weight (default 1)")
    parser.add_argument("--kl-warmup-steps", type=non_negative_int, default=0,
                        help="linear KL warm-up length in steps (default 0: none)")
    parser.add_argument("--iwae-samples", type=positive_int, default=1,
                        help="importance samples of the training objective (default 1: ELBO)")
    parser.add_argument("--conditional", action="store_true",
                        help="condition encoder and decoder on the labels (CVAE)")
    parser.add_argument("--nll-k", type=non_negative_int, default=500,
                        help="importance samples of the test NLL (default 500; 0 skips it)")
    parser.add_argument("--learning-rate", type=positive_float, default=1e-3)


def train(args):
    import keras

    from keras_genmodels.data import DataError, image_dataset
    from keras_genmodels.export import export_model
    from keras_genmodels.metrics.iwae import iwae_log_likelihood
    from keras_genmodels.models.vae import VAE
    from keras_genmodels.plots import vae as plots
    from keras_genmodels.tasks.common import (build_model, fit_task, save_keras_atomically,
                                              split_for_training, write_json)

    x_tr, y_tr, x_te, y_te = split_for_training(args)
    if args.conditional and (y_tr is None or y_te is None):
        raise DataError(f"expected labels for --conditional, received none in {args.dataset!r}")
    num_classes = int(max(y_tr.max(), y_te.max())) + 1 if args.conditional else None
    keras.utils.set_random_seed(args.seed)
    model = build_model(
        VAE, image_shape=x_tr.shape[1:], latent_dim=args.latent_dim,
        architecture=args.architecture, hidden_units=list(args.hidden_units),
        filters=list(args.filters), activation=args.activation,
        likelihood=args.likelihood, beta=args.beta, kl_warmup_steps=args.kl_warmup_steps,
        iwae_samples=args.iwae_samples, num_classes=num_classes, seed=args.seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    # Full batches only (reshuffled each epoch): one compiled step under JAX.
    batches = dict(batch_size=args.batch_size, seed=args.seed,
                   drop_remainder=len(x_tr) >= args.batch_size)

    def epoch_dataset(epoch=None):
        if args.conditional:
            ds = image_dataset((x_tr, y_tr), with_labels=True, epoch=epoch, **batches)
            return ds.map(lambda x, y: ((x, y),))
        return image_dataset(x_tr, epoch=epoch, **batches)

    history = fit_task(model, args, epoch_dataset(), epoch_dataset).history

    out = args.export_dir / args.name
    keras_path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    labels = y_te if args.conditional else None
    metrics = {key: float(values[-1]) for key, values in history.items()}
    if args.nll_k:
        log_px = iwae_log_likelihood(model, x_te[:1000],
                                     None if labels is None else labels[:1000],
                                     k=args.nll_k, seed=args.seed)
        metrics.update(test_nll=float(-log_px.mean()), nll_k=args.nll_k,
                       nll_images=int(len(log_px)))
    pictures = [plots.save_samples(model, out / "samples.png", seed=args.seed),
                plots.save_reconstructions(model, x_te, out / "reconstructions.png",
                                           labels=labels, n=10)]
    if y_te is not None:
        pictures.append(plots.save_latent_map(model, x_te, y_te, out / "latent_map.png",
                                              labels=labels))
    if args.latent_dim == 2:
        pictures.append(plots.save_manifold(model, out / "manifold.png",
                                            label=0 if args.conditional else None))
    print(write_json(out / "metrics.json", metrics).read_text())
    print("\n".join(f"saved {p}" for p in [keras_path, *pictures]))
    if not args.no_export:
        print(f"exported {export_model(model, args.name, args.export_dir, allow_non_finite=args.allow_non_finite)}")  # noqa: E501
    return metrics
