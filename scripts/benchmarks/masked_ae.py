"""Masked sequence autoencoder vs n-gram baselines on held-out masked positions, plus a probe.

Data: CPython's documentation topics (`pydoc_data.topics`, offline), character level,
windows of `--window` characters; whole topics are held out (about 10 % of the text,
seed 0), and held-out windows do not overlap. For each masking (`random`: BERT 15 %,
80/10/10; `span`: spans of 3-5 characters covering 15 %), ONE fixed corruption of the
held-out windows is drawn (seed 1234) and every method predicts exactly those positions:

- `most frequent`: the most frequent training token;
- `left n-gram`: the most frequent next token after the longest left context (up to
  `--order` tokens) seen in training, backing off to shorter contexts;
- `bidirectional n-gram`: the most frequent middle token between the left and right
  neighbours (contexts (left, right) = (3,3), (3,2), (2,3), (2,2), (2,1), (1,2), (1,1),
  then one-sided (4,0), (0,4), (3,0), (0,3), ..., (1,0), (0,1)), backing off in that
  order; a context holding a corrupted ([MASK]) neighbour is never seen in (clean)
  training text, so it backs off past it;
- the model (one trained per masking), arg-max over real tokens.

n-gram counts come from the training windows only (clean text, window boundaries as
boundary symbols, as the model sees them).

Probe: which held-out topic a held-out window comes from (topics with >= 8 windows), a
logistic regression trained on the first half of each topic's windows and tested on the
second half, on (a) the model's `embed` vectors and (b) bag-of-characters counts
(normalised token frequencies of the window).

    KERAS_BACKEND=tensorflow python scripts/benchmarks/masked_ae.py
        # full: one model per masking (char level, window 64, d_model 128, 4 blocks with a
        # width-7 local depthwise convolution before attention (`--conv-kernel 7`; 0 gives
        # the plain Transformer), batch 64, AdamW 4e-3 with warm-up and cosine decay over
        # --max-steps 5400, steps_per_execution 10), each trained until 5400 steps or
        # --minutes 14, whichever comes first
    python scripts/benchmarks/masked_ae.py --quick         # a smoke run (~2 min)

TensorFlow with its oneDNN kernels (the default; do not set TF_ENABLE_ONEDNN_OPTS=0) ran
this model ~5x faster per step than JAX on the 2-core test machine.

Results: `scripts/benchmarks/results/masked_ae[_quick].json`.
"""

import argparse
import collections
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

BIDIRECTIONAL_CONTEXTS = ((3, 3), (3, 2), (2, 3), (2, 2), (2, 1), (1, 2), (1, 1), (4, 0),
                          (0, 4), (3, 0), (0, 3), (2, 0), (0, 2), (1, 0), (0, 1))
BOUNDARY = -1


def _padded(windows, k):
    """Windows with `k` boundary symbols on each side (ids kept, padding 0 kept)."""
    n, t = windows.shape
    out = np.full((n, t + 2 * k), BOUNDARY, "int64")
    out[:, k:k + t] = windows
    return out


class NgramBaselines:
    """Most frequent token, left n-gram and bidirectional n-gram, counted on clean windows."""

    def __init__(self, train_windows, order=4, first_token_id=3):
        self.order = order
        self.first = first_token_id
        w = np.asarray(train_windows)
        k = max(order, 4)
        p = _padded(w, k)
        t = w.shape[1]
        tokens = w[w >= first_token_id]
        self.unigram = int(collections.Counter(tokens.tolist()).most_common(1)[0][0])
        self.left = {n: collections.defaultdict(collections.Counter) for n in
                     range(1, order + 1)}
        self.bi = {c: collections.defaultdict(collections.Counter)
                   for c in BIDIRECTIONAL_CONTEXTS}
        for row, raw in zip(p, w):
            row = row.tolist()
            for j in range(t):
                y = raw[j]
                if y < first_token_id:
                    continue
                i = j + k
                for n in range(1, order + 1):
                    self.left[n][tuple(row[i - n:i])][int(y)] += 1
                for (a, b) in BIDIRECTIONAL_CONTEXTS:
                    self.bi[(a, b)][(tuple(row[i - a:i]), tuple(row[i + 1:i + 1 + b]))][
                        int(y)] += 1
        self.left = {n: {c: cnt.most_common(1)[0][0] for c, cnt in table.items()}
                     for n, table in self.left.items()}
        self.bi = {c: {key: cnt.most_common(1)[0][0] for key, cnt in table.items()}
                   for c, table in self.bi.items()}
        self.k = k

    def predict(self, corrupted, labels):
        """`{method: predictions at labels != 0 (flattened row-major)}`."""
        p = _padded(np.asarray(corrupted), self.k)
        rows, cols = np.nonzero(np.asarray(labels) != 0)
        out = {"most frequent": [], "left n-gram": [], "bidirectional n-gram": []}
        for r, j in zip(rows.tolist(), cols.tolist()):
            row = p[r].tolist()
            i = j + self.k
            out["most frequent"].append(self.unigram)
            guess = self.unigram
            for n in range(self.order, 0, -1):
                hit = self.left[n].get(tuple(row[i - n:i]))
                if hit is not None:
                    guess = hit
                    break
            out["left n-gram"].append(guess)
            guess = None
            for (a, b) in BIDIRECTIONAL_CONTEXTS:
                guess = self.bi[(a, b)].get((tuple(row[i - a:i]), tuple(row[i + 1:i + 1 + b])))
                if guess is not None:
                    break
            out["bidirectional n-gram"].append(self.unigram if guess is None else guess)
        return {m: np.asarray(v) for m, v in out.items()}


def bag_of_characters(windows, vocabulary_size):
    """Normalised token counts per window `(n, V)` (padding excluded)."""
    w = np.asarray(windows)
    out = np.zeros((len(w), vocabulary_size), "float32")
    for i, row in enumerate(w):
        out[i] = np.bincount(row[row > 0], minlength=vocabulary_size)[:vocabulary_size]
    return out / np.maximum(out.sum(1, keepdims=True), 1)


def probe_predictions(features, labels, train_mask, seed=0):
    """Right/wrong `(n_test,)` bool on the windows outside `train_mask` of a standardised
    logistic-regression probe (C chosen by 5-fold cross-validation on the probe's training
    half only)."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0], cv=5, max_iter=3000, random_state=seed))
    clf.fit(features[train_mask], labels[train_mask])
    return clf.predict(features[~train_mask]) == labels[~train_mask]


def probe_accuracy(features, labels, train_mask, seed=0):
    """Held-out accuracy of `probe_predictions`."""
    return float(probe_predictions(features, labels, train_mask, seed).mean())


def probe_split(test_doc, min_windows=8):
    """Windows of topics with >= min_windows windows; first half of each topic = train."""
    keep = np.zeros(len(test_doc), bool)
    train = np.zeros(len(test_doc), bool)
    for d in np.unique(test_doc):
        idx = np.nonzero(test_doc == d)[0]
        if len(idx) >= min_windows:
            keep[idx] = True
            train[idx[: len(idx) // 2]] = True
    return keep, train


def train_model(args, masking, train_windows, seed):
    import keras

    from keras_genmodels.callbacks import TimeLimit
    from keras_genmodels.models.masked_autoencoder import MaskedSequenceAutoencoder

    keras.utils.set_random_seed(seed)
    model = MaskedSequenceAutoencoder(
        args.vocabulary, sequence_length=args.window, level=args.level,
        d_model=args.d_model,
        num_layers=args.layers, num_heads=args.heads, dropout=args.dropout, masking=masking,
        conv_kernel=args.conv_kernel)
    total_steps = args.max_steps
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, total_steps, alpha=0.05, warmup_target=args.lr,
        warmup_steps=min(200, total_steps // 10))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01,
                                                   clipnorm=1.0),
                  steps_per_execution=args.steps_per_execution)
    ds = model.make_dataset(train_windows, batch_size=args.batch_size, seed=seed, repeat=True)
    steps = 100
    start = time.time()
    history = model.fit(ds, epochs=max(1, total_steps // steps), steps_per_epoch=steps,
                        callbacks=[TimeLimit(args.minutes * 60)], verbose=args.verbose)
    seconds = time.time() - start
    done = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    return model, {"train_seconds": round(seconds, 1), "steps": done,
                   "final_train_loss": float(history.history["loss"][-1]),
                   "final_train_masked_accuracy": float(
                       history.history["masked_accuracy"][-1])}


def add_training_arguments(parser):
    """The model and training options `train_model` reads (shared with
    `masked_ae_word_probe.py`, which changes their defaults with `parser.set_defaults`)."""
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--minutes", type=float, default=14.0,
                        help="training time per model")
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--train-stride", type=int, default=16)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--conv-kernel", type=int, default=7,
                        help="local depthwise convolution width in every block (0: none)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--max-steps", type=int, default=5400,
                        help="length of the learning-rate schedule (training stops at "
                             "--minutes first)")
    parser.add_argument("--steps-per-execution", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.set_defaults(level="char")


def parse_training_arguments(parser, argv):
    """`parser.parse_args(argv)` with `--quick`'s small model and short schedule applied."""
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.d_model, args.layers, args.max_steps = 0.5, 32, 1, 200
    return args


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_arguments(parser)
    parser.add_argument("--order", type=int, default=4, help="left n-gram order")
    parser.add_argument("--maskings", default="random,span")
    parser.add_argument("--out", default=None)
    args = parse_training_arguments(parser, argv)

    import keras

    from keras_genmodels.data import text_windows as tw
    from keras_genmodels.data.text import build_vocabulary, vectorizer

    t0 = time.time()
    train_docs, test_docs = tw.split("default", seed=args.seed)
    args.vocabulary = build_vocabulary([tw.clean_text(t) for _, t in train_docs], "char")
    vec = vectorizer([tw.MASK_CHAR] + args.vocabulary, "char")
    w = tw.encode_windows(vec, train_docs, test_docs, args.window, args.train_stride)
    vocabulary_size = len(args.vocabulary) + 3
    # n-grams count the non-overlapping training windows (each token once).
    ngram_windows, _ = tw.make_windows(tw.encode_documents(vec, train_docs), args.window)
    baselines = NgramBaselines(ngram_windows, order=args.order)
    print(f"data + n-gram counts: {time.time() - t0:.0f} s; train windows "
          f"{w['train'].shape}, held-out {w['test'].shape}, vocabulary {vocabulary_size}",
          flush=True)

    results = {"backend": keras.backend.backend(), "window": args.window,
               "held_out_topics": [n for n, _ in test_docs],
               "held_out_characters": int(sum(len(t) for _, t in test_docs)),
               "train_windows": int(len(w["train"])), "test_windows": int(len(w["test"])),
               "config": {k: v for k, v in vars(args).items() if k != "vocabulary"},
               "maskings": {}}
    keep, probe_train = probe_split(w["test_doc"])
    bag = bag_of_characters(w["test"], vocabulary_size)
    results["probe"] = {"topics": int(len(np.unique(w["test_doc"][keep]))),
                        "windows": int(keep.sum()),
                        "bag_of_characters": probe_accuracy(bag[keep], w["test_doc"][keep],
                                                            probe_train[keep])}
    for i, masking in enumerate(args.maskings.split(",")):
        from keras_genmodels.models.masked_autoencoder import MaskedSequenceAutoencoder

        helper = MaskedSequenceAutoencoder(args.vocabulary, args.window, d_model=8,
                                           num_layers=1, num_heads=1, masking=masking)
        corrupted, labels = helper.corrupt_numpy(w["test"], seed=1234)
        targets = labels[labels != 0]
        row = {"positions": int(len(targets))}
        for method, pred in baselines.predict(corrupted, labels).items():
            row[method] = float((pred == targets).mean())
        print(masking, json.dumps(row), flush=True)
        model, info = train_model(args, masking, w["train"], args.seed + i)
        scores = model.evaluate_masked(corrupted, labels)
        row["model"] = scores["masked_accuracy"]
        row["model_bits_per_token"] = scores["bits_per_token"]
        row["margin_over_bidirectional"] = row["model"] - row["bidirectional n-gram"]
        row.update(info)
        results["maskings"][masking] = row
        emb = model.embed_windows(w["test"])
        results["probe"][f"embed_{masking}"] = probe_accuracy(
            emb[keep], w["test_doc"][keep], probe_train[keep])
        print(masking, json.dumps(row), json.dumps(results["probe"]), flush=True)
        if not args.quick:
            saved = ROOT / "runs" / "benchmarks" / f"masked_ae_{masking}.keras"
            saved.parent.mkdir(parents=True, exist_ok=True)
            model.save(saved)
    results["wall_seconds"] = round(time.time() - t0, 1)
    out = pathlib.Path(args.out) if args.out else (
        ROOT / "scripts" / "benchmarks" / "results" /
        f"masked_ae{'_quick' if args.quick else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
