"""The topic probe with a word-level masked autoencoder, against bag-of-characters and
bag-of-words probes on the same held-out text windows.

`masked_ae.py`'s character-level models tie with bag-of-characters on the probe (which
held-out topic a 64-character window comes from; `masked_ae_probe.py`). This script asks
the same question of a `level="word"` model (`MaskedSequenceAutoencoder(level="word")`,
whitespace-split words, the `--vocabulary-size` most frequent training words, the rest
`[UNK]`), BERT random masking, trained `--minutes` on the training topics:

- windows of `--window` words of the held-out topics (non-overlapping, as in `masked_ae.py`;
  the same documents held out, seed 0); topics with >= 8 windows; probe trained on the
  first half of each topic's windows and tested on the second, and the other way round
  (pooled), a standardised `LogisticRegressionCV` (`masked_ae.probe_predictions`);
- features of each window: the model's `embed` (mean final hidden state over its tokens);
  bag-of-characters (normalised character counts of the window's text, words joined by
  spaces, over the training character vocabulary); bag-of-words (normalised counts of its
  word ids, `[UNK]` included): the control that says whether `embed` knows more than
  which words occur;
- McNemar's exact test, window by window, of each probe against bag-of-characters
  (`masked_ae_probe.compare_probes`); also the held-out masked accuracy of the model and
  of the bidirectional n-gram on one fixed corruption (`masked_ae.NgramBaselines`).

    KERAS_BACKEND=tensorflow python scripts/benchmarks/masked_ae_word_probe.py   # ~16 min (15 min training)
    python scripts/benchmarks/masked_ae_word_probe.py --quick                   # smoke

Writes `scripts/benchmarks/results/masked_ae_word_probe[_quick].json`.
"""

import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from masked_ae import add_training_arguments, parse_training_arguments  # noqa: E402


def character_bags(texts, characters):
    """Normalised counts `(n, len(characters))` of each text's characters (others ignored)."""
    index = {c: i for i, c in enumerate(characters)}
    out = np.zeros((len(texts), len(characters)), "float32")
    for r, text in enumerate(texts):
        for ch in text:
            j = index.get(ch)
            if j is not None:
                out[r, j] += 1
    return out / np.maximum(out.sum(1, keepdims=True), 1)


def word_windows_text(documents, window):
    """The text of each held-out word window, cut exactly as `encode_windows` cuts ids:
    `(texts, document index)`."""
    from keras_genmodels.data import text_windows as tw

    texts, owner = [], []
    for d, (_, text) in enumerate(documents):
        words = np.asarray(tw.clean_text(text).split(), dtype=object)
        index = tw.windows_from_ids(np.arange(1, len(words) + 1), window)  # 0 = padding
        for row in index:
            texts.append(" ".join(words[row[row > 0] - 1]))
            owner.append(d)
    return texts, np.asarray(owner, "int32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_arguments(parser)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.set_defaults(level="word", minutes=15.0, window=16, train_stride=4, dropout=0.1,
                        conv_kernel=0, lr=2e-3, max_steps=12000)
    args = parse_training_arguments(parser, argv)

    import keras

    from keras_genmodels.data import text_windows as tw
    from keras_genmodels.data.text import build_vocabulary, vectorizer
    from masked_ae import NgramBaselines, bag_of_characters, probe_split, train_model
    from masked_ae_probe import compare_probes

    t0 = time.time()
    train_docs, test_docs = tw.split("default", seed=args.seed)
    clean = [tw.clean_text(t) for _, t in train_docs]
    args.vocabulary = build_vocabulary(clean, "word", max_tokens=args.vocabulary_size)
    characters = build_vocabulary(clean, "char")
    vec = vectorizer([tw.MASK_CHAR] + args.vocabulary, "word")
    w = tw.encode_windows(vec, train_docs, test_docs, args.window, args.train_stride)
    texts, text_doc = word_windows_text(test_docs, args.window)
    if not np.array_equal(text_doc, w["test_doc"]) or not np.array_equal(
            [len(t.split()) for t in texts], (w["test"] > 0).sum(1)):
        raise SystemExit("word windows of the text and of the ids disagree")
    keep, first_half = probe_split(w["test_doc"])
    labels, first_half = w["test_doc"][keep], first_half[keep]
    unknown = float(np.mean(w["test"][w["test"] > 0] == 1))
    print(f"data: {time.time() - t0:.0f} s; train windows {w['train'].shape}, held-out "
          f"{w['test'].shape}, probe windows {int(keep.sum())}, held-out [UNK] rate "
          f"{unknown:.3f}", flush=True)

    model, info = train_model(args, "random", w["train"], args.seed)
    corrupted, masked = model.corrupt_numpy(w["test"], seed=1234)
    targets = masked[masked != 0]
    ngram = NgramBaselines(tw.make_windows(tw.encode_documents(vec, train_docs),
                                           args.window)[0], order=4)
    bi = ngram.predict(corrupted, masked)["bidirectional n-gram"]
    scores = model.evaluate_masked(corrupted, masked)
    info.update(masked_accuracy=scores["masked_accuracy"],
                bidirectional_ngram=float((bi == targets).mean()), positions=int(len(targets)))
    print(json.dumps(info), flush=True)

    features = {"bag_of_characters": character_bags(np.asarray(texts, object)[keep],
                                                    characters),
                "bag_of_words": bag_of_characters(w["test"], model.vocabulary_size)[keep],
                "embed_word_model": model.embed_windows(w["test"])[keep]}
    result = {"backend": keras.backend.backend(),
              "config": {k: v for k, v in vars(args).items() if k != "vocabulary"},
              "vocabulary_size": model.vocabulary_size, "heldout_unknown_rate": unknown,
              "train_windows": int(len(w["train"])), "test_windows": int(len(w["test"])),
              "mean_characters_per_probe_window": float(np.mean([len(t) for t in texts])),
              "training": info, "topics": int(len(np.unique(labels))),
              "windows": int(keep.sum()), **compare_probes(features, labels, first_half),
              "wall_seconds": round(time.time() - t0, 1)}
    out = (ROOT / "scripts" / "benchmarks" / "results" /
           f"masked_ae_word_probe{'_quick' if args.quick else ''}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
