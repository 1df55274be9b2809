"""CLI task `vae`: train, sample from and evaluate a (conditional) VAE.

    genmodels train vae --data digits --epochs 30 --latent-dim 2 --output runs/vae
    genmodels train vae --data mnist.npz --conditional --architecture conv --export-name cvae
    genmodels sample vae --model runs/vae/model.keras --n 64 --output runs/vae/samples.png

`train` writes `<output>/model.keras`, the pictures (`samples.png`,
`reconstructions.png`, `latent_map.png`, and `manifold.png` when
`--latent-dim 2`), `metrics.json` (final losses, test IWAE NLL with
`--nll-k` samples) and, with `--export-name`, a SavedModel version under
`--export-dir`. Keras is imported inside the functions, after the CLI has
set `KERAS_BACKEND`.
"""

import json
import pathlib


def _add(parser, *flags, **kwargs):
    """Adds an option unless the CLI already defines one of its flags."""
    if any(f in parser._option_string_actions for f in flags):
        return
    parser.add_argument(*flags, **kwargs)


def _int_list(text):
    return [int(v) for v in str(text).split(",") if v.strip()]


def add_arguments(parser):
    _add(parser, "--data", default="digits",
         help="'digits', a tfds name or a local .npz/IDX path (default: digits)")
    _add(parser, "--test-data", default=None,
         help="test images (default: the 'test' split of --data; required for paths)")
    _add(parser, "--output", default="runs/vae", help="output folder (train) or PNG path (sample)")
    _add(parser, "--model", default=None, help="a trained .keras file (sample)")
    _add(parser, "--epochs", type=int, default=30)
    _add(parser, "--batch-size", type=int, default=128)
    _add(parser, "--learning-rate", type=float, default=1e-3)
    _add(parser, "--latent-dim", type=int, default=2)
    _add(parser, "--architecture", choices=("dense", "conv"), default="dense")
    _add(parser, "--hidden-units", type=_int_list, default=[256, 128],
         help="comma-separated dense widths (default 256,128)")
    _add(parser, "--filters", type=_int_list, default=[32, 64],
         help="comma-separated conv filters (default 32,64)")
    _add(parser, "--activation", default="relu")
    _add(parser, "--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    _add(parser, "--beta", type=float, default=1.0)
    _add(parser, "--kl-warmup-steps", type=int, default=0)
    _add(parser, "--iwae-samples", type=int, default=1, help="k of the training objective")
    _add(parser, "--conditional", action="store_true", help="condition on the labels (CVAE)")
    _add(parser, "--nll-k", type=int, default=500,
         help="importance samples of the test NLL in metrics.json (0 = skip)")
    _add(parser, "--export-name", default=None, help="also export a SavedModel under this name")
    _add(parser, "--export-dir", default="saved_models")
    _add(parser, "--n", type=int, default=64, help="images to sample")
    _add(parser, "--label", type=int, default=None, help="label of the samples (conditional)")
    _add(parser, "--seed", type=int, default=0)


def _test_split(args):
    from keras_genmodels.data import load_images

    if args.test_data:
        return load_images(args.test_data)
    try:
        return load_images(args.data, "test")
    except Exception:  # a local file has no "test" split
        return None, None


def train(args):
    import keras

    from keras_genmodels.data import DataError, image_dataset, load_images
    from keras_genmodels.metrics.iwae import iwae_log_likelihood
    from keras_genmodels.models.vae import VAE
    from keras_genmodels.plots import vae as plots

    x_train, y_train = load_images(args.data, "train")
    if args.conditional and y_train is None:
        raise DataError(f"expected labels for --conditional, received none in {args.data!r}")
    num_classes = int(y_train.max()) + 1 if args.conditional else None
    keras.utils.set_random_seed(args.seed)
    model = VAE(
        image_shape=x_train.shape[1:], latent_dim=args.latent_dim,
        architecture=args.architecture, hidden_units=args.hidden_units, filters=args.filters,
        activation=args.activation, likelihood=args.likelihood, beta=args.beta,
        kl_warmup_steps=args.kl_warmup_steps, iwae_samples=args.iwae_samples,
        num_classes=num_classes, seed=args.seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    ds = image_dataset((x_train, y_train) if args.conditional else x_train,
                       batch_size=args.batch_size, seed=args.seed,
                       with_labels=args.conditional)
    if args.conditional:
        ds = ds.map(lambda x, y: ((x, y),))
    history = model.fit(ds, epochs=args.epochs, verbose=2).history

    out = pathlib.Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    x_test, y_test = _test_split(args)
    if x_test is None:
        x_test, y_test = x_train[-1000:], y_train[-1000:] if y_train is not None else None
    cond = y_test if args.conditional else None
    metrics = {k: float(v[-1]) for k, v in history.items()}
    if args.nll_k:
        log_px = iwae_log_likelihood(model, x_test[:1000], None if cond is None else cond[:1000],
                                     k=args.nll_k, seed=args.seed)
        metrics.update(test_nll=float(-log_px.mean()), nll_k=args.nll_k, nll_images=len(log_px))
    plots.save_samples(model, out / "samples.png", seed=args.seed)
    plots.save_reconstructions(model, x_test, out / "reconstructions.png", labels=cond)
    if y_test is not None:
        plots.save_latent_map(model, x_test, y_test, out / "latent_map.png", labels=cond)
    if args.latent_dim == 2:
        plots.save_manifold(model, out / "manifold.png",
                            label=0 if args.conditional else None)
    if args.export_name:
        from keras_genmodels.export import export_model

        metrics["export"] = str(export_model(model, args.export_name, args.export_dir))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps(metrics, indent=1))
    return metrics


def sample(args):
    import keras

    import keras_genmodels.models.vae  # noqa: F401  (registers VAE)
    from keras_genmodels.plots import vae as plots

    if not args.model:
        raise ValueError("expected --model path/to/model.keras, received none")
    model = keras.models.load_model(args.model)
    labels = args.label
    if model.num_classes is not None and labels is None:
        labels = [i % model.num_classes for i in range(args.n)]
    path = pathlib.Path(args.output)
    if path.suffix != ".png":
        path = path / "samples.png"
    plots.save_samples(model, path, n=args.n, labels=labels, seed=args.seed)
    print(path)
    return path
