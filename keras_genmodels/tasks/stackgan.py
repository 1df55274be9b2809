"""`genmodels train stackgan`: captioned images, text encoder, stage I, stage II, export.

Steps: caption the labelled images (`data.captions.captioned_dataset`: class and measured
thickness / slant / size, English and Russian, held-out class x attribute combinations
removed); pretrain the frozen text encoder (`models.text_encoder.pretrain_text_encoder`,
`--encoder-epochs`); train stage I (`--epochs`), then stage II with stage I frozen
(`--stage2-epochs`), each stopped after `--max-minutes`. Writes
`<export-dir>/<name>/model.keras`, `samples.png` (rows of captions, stage I upsampled beside
stage II), and exports the `generate(text, noise)` signature.

Examples:
    genmodels train stackgan --dataset /work/shared/data/mnist_train.npz --epochs 10
    genmodels sample --model saved_models/stackgan/model.keras --text "a thin two"
"""

import argparse
import pathlib

import numpy as np

from keras_genmodels.tasks.arguments import (non_negative_float, positive_float, positive_int,
                                             positive_int_list)

DEFAULT_DATASET = "mnist"
DEFAULT_EPOCHS = 10
SHEET_CAPTIONS = ("a thin two", "a thick seven slanted to the right", "тонкая семёрка",
                  "a small four", "a large upright one", "толстая тройка с наклоном влево")


def add_arguments(parser):
    parser.add_argument("--stage2-epochs", type=positive_int, default=None,
                        help="stage II epochs (default: --epochs)")
    parser.add_argument("--encoder-epochs", type=positive_int, default=5,
                        help="text encoder pretraining epochs (default 5)")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="use only the first N training images")
    parser.add_argument("--noise-dim", type=positive_int, default=32)
    parser.add_argument("--condition-dim", type=positive_int, default=16)
    parser.add_argument("--kl-weight", type=non_negative_float, default=0.02,
                        help="conditioning-augmentation KL weight λ (default 0.02; the "
                             "authors' code uses 2.0, which drowns the caption at small "
                             "budgets: README, StackGAN)")
    parser.add_argument("--stage1-filters", type=positive_int_list, default=(128, 64))
    parser.add_argument("--stage2-filters", type=positive_int, default=64)
    parser.add_argument("--residual-blocks", type=positive_int, default=2)
    parser.add_argument("--no-conditioning-augmentation", action="store_true",
                        help="ablation: ĉ = Dense(φ), no noise, no KL")
    parser.add_argument("--no-mismatched-pairs", action="store_true",
                        help="ablation: D never sees (real image, wrong caption)")
    parser.add_argument("--learning-rate", type=positive_float, default=2e-4)
    parser.add_argument("--max-minutes", type=non_negative_float, default=30.0,
                        help="time budget of each stage (default 30; 0: no limit)")


def build(args, text_encoder, image_shape):
    """The StackGAN of `args` around a trained `text_encoder` (not compiled)."""
    from keras_genmodels.models.stackgan import StackGAN

    return StackGAN(image_shape=image_shape, text_encoder=text_encoder,
                    noise_dim=args.noise_dim, condition_dim=args.condition_dim,
                    kl_weight=args.kl_weight, stage1_filters=tuple(args.stage1_filters),
                    stage2_filters=args.stage2_filters, num_residual=args.residual_blocks,
                    conditioning_augmentation=not args.no_conditioning_augmentation,
                    mismatched_pairs=not args.no_mismatched_pairs, seed=args.seed)


def compile_stage(model, stage, learning_rate):
    """`set_stage(stage)` and compile with Adam(learning_rate, beta_1=0.5) per phase."""
    import keras

    model.set_stage(stage)
    model.compile(optimizers={n: keras.optimizers.Adam(learning_rate, beta_1=0.5)
                              for n in ("discriminator", "generator")})
    return model


def pairs_dataset(data, text_encoder, batch_size, seed):
    """`(image, caption_ids)` batches of `CaptionedImages`, ids made in tf.data."""
    from keras_genmodels.data.captions import caption_pairs_dataset

    ds = caption_pairs_dataset(data, batch_size=batch_size, seed=seed, text_encoder=text_encoder)
    return ds.map(lambda b: (b["image"], b["caption_ids"]))


def sample_rows(model, captions, per_caption=4, seed=0):
    """For each caption: `per_caption` stage-I images upsampled (bilinear) followed by the
    stage-II images of the same noise; returns a list of rows `(2 * per_caption, H, W, C)`."""
    from keras import ops

    captions = list(captions)
    noise = model.sample_noise(len(captions) * per_caption, seed=seed)
    texts = [c for c in captions for _ in range(per_caption)]
    low, high = model.generate(texts, noise)
    up = ops.convert_to_numpy(model.upsample(low))
    high = ops.convert_to_numpy(high)
    return [np.concatenate([up[i * per_caption:(i + 1) * per_caption],
                            high[i * per_caption:(i + 1) * per_caption]])
            for i in range(len(captions))]


def save_sample_sheet(model, captions, path, per_caption=4, seed=0, title=None):
    """PNG: one row per caption, stage I (upsampled) beside stage II (same noise)."""
    from keras_genmodels.plots.grid import save_image_grid

    rows = sample_rows(model, captions, per_caption, seed)
    title = title or (f"left {per_caption}: stage I (bilinear x2), right {per_caption}: "
                      "stage II (same noise)")
    return save_image_grid(rows, path, row_titles=list(captions), title=title, cell_inches=0.6)


def sample_text(parser, args, model):
    """`genmodels sample --model M.keras --text "..."`: a PNG of `--n` samples of the
    caption, stage I (upsampled) beside stage II."""
    if args.text is None:
        parser.error(f"expected --text \"a caption\" for {type(model).__name__}, "
                     "received none")
    if not hasattr(model, "sample_noise") or getattr(model, "text_encoder", None) is None:
        parser.error(f"--text given, but {type(model).__name__} is not a text-conditioned "
                     "model with a text encoder")
    if not args.text.strip():
        print("note: empty caption: the images are drawn from the embedding of no text")
    per_row = min(args.n, 8)
    rows = []
    for start in range(0, args.n, per_row):
        k = min(per_row, args.n - start)
        row = sample_rows(model, [args.text], k, seed=args.seed + start)[0]
        if k < per_row:  # pad the last row with blank cells
            blank = np.zeros((per_row - k,) + row.shape[1:], row.dtype)
            row = np.concatenate([row[:k], blank, row[k:], blank])
        rows.append(row)
    from keras_genmodels.plots.grid import save_image_grid

    title = f"{args.text!r}: left stage I (bilinear x2), right stage II"
    print(f"saved {save_image_grid(rows, args.out, title=title, cell_inches=0.6)}")


def train(args):
    import keras

    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.data import captions as C
    from keras_genmodels.export import export_model
    from keras_genmodels.models.text_encoder import pretrain_text_encoder
    from keras_genmodels.plots.gan import plot_loss_curves
    from keras_genmodels.tasks.common import (TaskError, build_model, fit_task,
                                              save_keras_atomically, write_json)

    keras.utils.set_random_seed(args.seed)
    out = pathlib.Path(args.export_dir) / args.name
    data = C.captioned_dataset(args.dataset, "train", seed=args.seed, limit=args.limit,
                               data_dir=args.data_dir)
    if len(data) < args.batch_size:
        raise TaskError(f"expected at least --batch-size={args.batch_size} captioned images, "
                        f"received {len(data)}")
    image_shape = tuple(data.images.shape[1:])
    print(f"{len(data)} caption/image pairs; pretraining the text encoder "
          f"({args.encoder_epochs} epochs)")
    encoder = pretrain_text_encoder(data, None, epochs=args.encoder_epochs,
                                    batch_size=min(128, len(data)), seed=args.seed)
    model = build_model(build, args, encoder, image_shape)
    ds = pairs_dataset(data, encoder, args.batch_size, args.seed)
    histories = {}
    for stage, epochs in ((1, args.epochs), (2, args.stage2_epochs or args.epochs)):
        compile_stage(model, stage, args.learning_rate)
        stage_args = argparse.Namespace(**dict(vars(args), epochs=epochs))
        callbacks = [TimeLimit(args.max_minutes * 60)] if args.max_minutes else []
        print(f"stage {stage}: {epochs} epochs")
        histories[stage] = fit_task(model, stage_args, ds, None, callbacks=callbacks)
    keras_path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    print(f"saved {keras_path}")
    for stage, history in histories.items():
        print(f"saved {plot_loss_curves(history, out / f'loss_curves_stage{stage}.png')}")
    print(f"saved {save_sample_sheet(model, SHEET_CAPTIONS, out / 'samples.png', seed=args.seed)}")
    write_json(out / "training.json", {
        "pairs": len(data), "holdout": [list(h) for h in data.holdout_combinations],
        "stage_epochs": {s: len(h.history.get("d_loss", [])) for s, h in histories.items()},
        "final_logs": {s: {k: v[-1] for k, v in h.history.items()}
                       for s, h in histories.items()}})
    if not args.no_export:
        print(f"exported {export_model(model, args.name, args.export_dir, allow_non_finite=args.allow_non_finite)}")  # noqa: E501
    return model
