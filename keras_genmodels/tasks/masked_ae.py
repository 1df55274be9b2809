"""`genmodels train masked-ae` / `genmodels fill`: masked sequence autoencoder (BERT-style).

`train` cuts `--text` (`default`: CPython's documentation topics, offline; a text file; a
directory of .txt files; or a tensorflow-datasets text set by name) into windows of
`--window` tokens, holds out whole documents (sections of a single file), trains a
`MaskedSequenceAutoencoder` on BERT (`--masking random`) or span masking, reports masked
accuracy and bits per token on one fixed corruption of the held-out windows, and writes
`<export-dir>/<name>/model.keras` + `metrics.json`, then a SavedModel version
(`fill_mask`, `embed`) unless `--no-export`.

`fill` restores "[MASK]" markers with a trained model (`--model PATH`, else the newest
`*.keras` under `--model-dir`, default `saved_models/masked-ae`). A query without a marker
or longer than the model's window is a usage error (exit 2).

Examples:

    genmodels train masked-ae --text default --max-minutes 10
    genmodels train masked-ae --text notes/ --level word --window 64
    genmodels fill --model saved_models/masked-ae/model.keras "The quick br[MASK]wn fox"
"""

import json
import os
import pathlib
import sys
import time

from keras_genmodels.tasks.arguments import (non_negative_float, non_negative_int,
                                             positive_float, positive_int, probability)

DEFAULT_DATASET = "default"
DEFAULT_EPOCHS = 20
DEFAULT_MODEL_DIR = os.path.join("saved_models", "masked-ae")


def add_arguments(parser):
    """Options of `genmodels train masked-ae` (the CLI adds --dataset, --epochs, --batch-size,
    --seed, --data-dir, --name, --export-dir, --no-export, --verbose)."""
    parser.add_argument("--text", default=None,
                        help="'default' (CPython's docs, offline), a text file, a directory "
                             "of .txt files, or a tensorflow-datasets text set "
                             "(default: --dataset, i.e. 'default')")
    parser.add_argument("--level", choices=("char", "word"), default="char",
                        help="tokens: characters or whitespace-separated words")
    parser.add_argument("--max-tokens", type=positive_int, default=None,
                        help="vocabulary size cap (most frequent tokens; word level)")
    parser.add_argument("--window", type=positive_int, default=64,
                        help="window length in tokens (default 64)")
    parser.add_argument("--train-stride", type=positive_int, default=None,
                        help="step between training windows (default window/4: overlapping)")
    parser.add_argument("--test-fraction", type=probability, default=0.1,
                        help="share of the text held out, by whole documents/sections")
    parser.add_argument("--sections", type=positive_int, default=20,
                        help="a single file is cut into this many sections (default 20)")
    parser.add_argument("--masking", choices=("random", "span"), default="random",
                        help="BERT 15%% random masking or spans of 3-5 tokens")
    parser.add_argument("--d-model", type=positive_int, default=128)
    parser.add_argument("--layers", type=positive_int, default=4)
    parser.add_argument("--heads", type=positive_int, default=4)
    parser.add_argument("--dropout", type=probability, default=0.0)
    parser.add_argument("--conv-kernel", type=non_negative_int, default=7,
                        help="local depthwise convolution width in every block (default 7; "
                             "0: a plain Transformer)")
    parser.add_argument("--untied", action="store_true",
                        help="a separate output layer (default: tied to the token embedding)")
    parser.add_argument("--steps-per-epoch", type=positive_int, default=100)
    parser.add_argument("--lr", "--learning-rate", type=positive_float, default=4e-3)
    parser.add_argument("--max-minutes", type=non_negative_float, default=10.0,
                        help="stop training after this many minutes (default 10; 0: no limit)")


def add_fill_arguments(parser):
    """Options of `genmodels fill`."""
    parser.add_argument("text", nargs="+",
                        help="text(s) with [MASK] markers, one token each ('-' reads stdin)")
    parser.add_argument("--model", default=None,
                        help="a .keras file (default: newest *.keras under --model-dir)")
    parser.add_argument("--model-dir", default=DEFAULT_MODEL_DIR)


def train(args):
    """Train a `MaskedSequenceAutoencoder` on `--text`; save, evaluate, export."""
    import keras

    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.data import text_windows as tw
    from keras_genmodels.export import export_model
    from keras_genmodels.models.masked_autoencoder import MaskedSequenceAutoencoder
    from keras_genmodels.tasks.common import (TaskError, build_model, fit_task,
                                              save_keras_atomically, write_json)

    keras.utils.set_random_seed(args.seed)
    source = args.text or args.dataset
    train_docs, test_docs = tw.split(source, test_fraction=args.test_fraction, seed=args.seed,
                                     sections=args.sections, data_dir=args.data_dir)
    model = build_model(MaskedSequenceAutoencoder.from_documents, train_docs,
                        level=args.level, max_tokens=args.max_tokens,
                        sequence_length=args.window, d_model=args.d_model,
                        num_layers=args.layers, num_heads=args.heads, dropout=args.dropout,
                        tie_embeddings=not args.untied, masking=args.masking,
                        conv_kernel=args.conv_kernel)
    stride = args.train_stride or max(1, args.window // 4)
    windows = tw.encode_windows(model.vectorizer, train_docs, test_docs, args.window, stride)
    if len(windows["train"]) < args.batch_size:
        raise TaskError(f"expected at least --batch-size={args.batch_size} training windows, "
                        f"received {len(windows['train'])}; lower --batch-size or --window")
    steps = args.steps_per_epoch
    total = steps * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, total, alpha=0.05, warmup_target=args.lr, warmup_steps=max(1, min(200, total // 10)))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01, clipnorm=1.0))
    ds = model.make_dataset(windows["train"], batch_size=args.batch_size, seed=args.seed,
                            repeat=True)
    callbacks = [TimeLimit(args.max_minutes * 60)] if args.max_minutes else []
    start = time.time()
    fit_task(model, args, ds,
             lambda e: model.make_dataset(windows["train"], batch_size=args.batch_size,
                                          seed=args.seed, repeat=True, epoch=e),
             steps_per_epoch=steps, callbacks=callbacks)
    seconds = time.time() - start

    out = pathlib.Path(args.export_dir) / args.name
    path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    corrupted, labels = model.corrupt_numpy(windows["test"], seed=args.seed + 1234)
    scores = model.evaluate_masked(corrupted, labels)
    report = {"text": str(source), "level": args.level, "masking": args.masking,
              "window": args.window, "vocabulary_size": model.vocabulary_size,
              "train_documents": len(train_docs), "test_documents": len(test_docs),
              "train_windows": int(len(windows["train"])),
              "test_windows": int(len(windows["test"])),
              "train_seconds": round(seconds, 1),
              "held_out_masked_accuracy": scores["masked_accuracy"],
              "held_out_bits_per_token": scores["bits_per_token"],
              "held_out_positions": scores["positions"], "model": str(path)}
    write_json(out / "metrics.json", report)
    if not args.no_export:
        report["export"] = str(export_model(model, args.name, args.export_dir,
                                            allow_non_finite=args.allow_non_finite))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return report


def find_model(model=None, model_dir=DEFAULT_MODEL_DIR):
    """The `.keras` file `fill` uses: `model` if given, else the newest under model_dir."""
    from keras_genmodels.tasks.common import find_model as find

    return find(model, model_dir, "masked-ae")


def fill(args):
    """Print each text with its [MASK] markers restored (one line per input)."""
    from keras_genmodels.model_files import ModelFileError, load_model_file
    from keras_genmodels.models.masked_autoencoder import MaskedSequenceAutoencoder
    from keras_genmodels.tasks.common import TaskError

    texts = list(getattr(args, "text", None) or [])
    if texts == ["-"]:
        texts = [line.rstrip("\n") for line in sys.stdin]
    path = find_model(getattr(args, "model", None),
                      getattr(args, "model_dir", None) or DEFAULT_MODEL_DIR)
    model = load_model_file(path, require="fill_mask", purpose="fill masks (a masked-ae model)")
    if not isinstance(model, MaskedSequenceAutoencoder):
        raise ModelFileError(f"expected a masked-ae model, received {type(model).__name__} "
                             f"from {path}")
    try:
        outputs = model.fill_mask(texts)
    except ValueError as err:
        raise TaskError(str(err)) from None
    for out in outputs:
        print(out)
    return outputs
