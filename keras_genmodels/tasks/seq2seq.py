"""`genmodels train seq2seq` / `genmodels translate`: encoder-decoder translation.

Where models live (the CLI's convention): `train` writes `<export-dir>/<name>/model.keras`
(default `saved_models/seq2seq/model.keras`, replaced atomically) with `metrics.json` and
`attention.png` beside it, and exports a SavedModel version `<export-dir>/<name>/<N>/`
unless `--no-export`. `translate` uses `--model PATH` when given, otherwise the most
recently modified `*.keras` file under `--model-dir` (default `saved_models/seq2seq`,
searched recursively).

Examples:

    genmodels train seq2seq --dataset dates --max-minutes 5
    genmodels train seq2seq --dataset pairs.tsv --level word --epochs 20
    genmodels translate "5 марта 1991 г." "tuesday, 5 march 1991" --beam-width 4
"""

import json
import os
import pathlib
import sys
import time

from keras_genmodels.tasks.arguments import (non_negative_float, positive_float,
                                             positive_int)

DEFAULT_DATASET = "dates"
DEFAULT_EPOCHS = 4
DEFAULT_MODEL_DIR = os.path.join("saved_models", "seq2seq")


def add_arguments(parser):
    """Options of `genmodels train seq2seq` (the CLI adds --dataset, --epochs, --batch-size,
    --seed, --data-dir, --name, --export-dir, --no-export, --verbose).

    `--dataset`: `dates` (generated offline), a TSV file of source<TAB>target pairs, or a
    tensorflow-datasets name such as `ted_hrlr_translate/ru_to_en` (`tfds:` prefix optional).
    """
    parser.add_argument("--level", choices=("char", "word"), default="char",
                        help="tokens: characters or whitespace-separated words")
    parser.add_argument("--train-size", type=positive_int, default=50_000,
                        help="training pairs (dates: generated; files/tfds: a cap)")
    parser.add_argument("--test-size", type=positive_int, default=2000, help="held-out pairs")
    parser.add_argument("--units", type=positive_int, default=96)
    parser.add_argument("--embedding-dim", type=positive_int, default=32)
    parser.add_argument("--cell", choices=("gru", "lstm"), default="gru")
    parser.add_argument("--attention", choices=("luong", "bahdanau"), default="luong")
    parser.add_argument("--unidirectional", action="store_true",
                        help="one-directional encoder (default: bidirectional)")
    parser.add_argument("--steps-per-epoch", type=positive_int, default=None)
    parser.add_argument("--lr", "--learning-rate", type=positive_float, default=3e-3)
    parser.add_argument("--max-minutes", type=non_negative_float, default=10.0,
                        help="stop training after this many minutes (default 10)")


def add_translate_arguments(parser):
    """Options of `genmodels translate`."""
    parser.add_argument("text", nargs="+", help="sentence(s) to translate ('-' reads stdin)")
    parser.add_argument("--model", default=None,
                        help="a .keras file (default: newest *.keras under --model-dir)")
    parser.add_argument("--model-dir", default=DEFAULT_MODEL_DIR)
    parser.add_argument("--beam-width", type=positive_int, default=None)
    parser.add_argument("--attention-png", default=None,
                        help="write the attention heat map of the first sentence here")


def train(args):
    """Train a `Seq2Seq` on `--dataset`, report held-out metrics, save the .keras file."""
    import keras

    from keras_genmodels.data import text
    from keras_genmodels.export import export_model
    from keras_genmodels.metrics import translation as tm
    from keras_genmodels.models.seq2seq import Seq2Seq
    from keras_genmodels.plots.attention import save_attention_heatmap
    from keras_genmodels.tasks.common import (build_model, fit_task, save_keras_atomically,
                                              write_json)

    keras.utils.set_random_seed(args.seed)
    train_pairs, test_pairs = text.load_pairs(args.dataset, seed=args.seed,
                                              n_train=args.train_size, n_test=args.test_size,
                                              data_dir=args.data_dir)
    model = build_model(Seq2Seq.from_pairs, train_pairs, level=args.level, units=args.units,
                               embedding_dim=args.embedding_dim, cell=args.cell,
                               attention=args.attention,
                               bidirectional=not args.unidirectional)
    steps = args.steps_per_epoch or max(1, len(train_pairs) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, steps * args.epochs,
                                                      alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0))
    ds = model.make_dataset(train_pairs, batch_size=args.batch_size, seed=args.seed,
                            repeat=True)
    from keras_genmodels.callbacks import TimeLimit

    callbacks = [TimeLimit(args.max_minutes * 60)] if args.max_minutes else []
    start = time.time()
    source_ids, target_ids = model.encode_pairs(train_pairs)
    fit_task(model, args, ds,
             lambda e: text.ids_dataset(source_ids, target_ids, batch_size=args.batch_size,
                                        seed=args.seed, epoch=e, repeat=True),
             steps_per_epoch=steps, callbacks=callbacks)
    seconds = time.time() - start

    out = pathlib.Path(args.export_dir) / args.name
    path = save_keras_atomically(model, out / "model.keras", args.allow_non_finite)
    report = {"dataset": args.dataset, "train_pairs": len(train_pairs),
              "train_seconds": round(seconds, 1), "model": str(path)}
    if test_pairs:
        hyps = model.translate([p[0] for p in test_pairs])
        refs = [p[1] for p in test_pairs]
        report.update(test_pairs=len(test_pairs), exact_match=tm.exact_match(hyps, refs),
                      token_accuracy=tm.token_accuracy(hyps, refs, args.level),
                      bleu=tm.corpus_bleu(hyps, refs, args.level))
        src, words, w = model.attention_map(test_pairs[0][0])
        report["attention_png"] = str(save_attention_heatmap(
            src, words, w, out / "attention.png", title=test_pairs[0][0]))
    write_json(out / "metrics.json", report)
    if not args.no_export:
        report["export"] = str(export_model(model, args.name, args.export_dir,
                                            allow_non_finite=args.allow_non_finite))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return report


def find_model(model=None, model_dir=DEFAULT_MODEL_DIR):
    """The `.keras` file `translate` uses: `model` if given, else the newest under model_dir."""
    from keras_genmodels.tasks.common import find_model as find

    return find(model, model_dir, "seq2seq")


def translate(args):
    """Print one translation per input sentence (tab-separated: source, translation)."""
    from keras_genmodels.model_files import load_model_file
    from keras_genmodels.models.seq2seq import Seq2Seq

    texts = list(getattr(args, "text", None) or getattr(args, "texts", None) or [])
    if texts == ["-"]:
        texts = [line.rstrip("\n") for line in sys.stdin]
    path = find_model(getattr(args, "model", None),
                      getattr(args, "model_dir", None) or DEFAULT_MODEL_DIR)
    model = load_model_file(path, require="translate", purpose="translate (a seq2seq model)")
    if not isinstance(model, Seq2Seq):
        from keras_genmodels.model_files import ModelFileError

        raise ModelFileError(f"expected a seq2seq model, received {type(model).__name__} "
                             f"from {path}, which is not a seq2seq model")
    outputs = model.translate(texts, beam_width=getattr(args, "beam_width", None))
    for src, out in zip(texts, outputs):
        print(f"{src}\t{out}")
    png = getattr(args, "attention_png", None)
    if png and texts:
        from keras_genmodels.plots.attention import save_attention_heatmap

        src, out, w = model.attention_map(texts[0])
        save_attention_heatmap(src, out, w, png)
    return outputs
