"""Pretrain StackGAN's caption encoder on MNIST caption/image pairs; measure retrieval.

Protocol (issue 13, build item 2): `captioned_dataset` on the first 20,000 MNIST training
images (held-out combinations dropped, one caption per image, English and Russian in equal
shares), `pretrain_text_encoder` (char-CNN-RNN + small CNN, symmetric InfoNCE, batch 128);
evaluated on 2,000 MNIST test images captioned with the training thresholds (a fresh seed,
so wordings differ from training): caption -> image retrieval among those 2,000 images,
top-1/top-5 class accuracy (chance computed from the class shares) and top-1 attribute
agreement, overall, per language and on the held-out combinations alone.

    python scripts/benchmarks/text_encoder_retrieval.py [--epochs 5] [--train 20000]
        [--save PATH.keras] [--quick]

Writes scripts/benchmarks/results/text_encoder_retrieval.json (quick: ..._quick.json).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_genmodels.data import captions as C  # noqa: E402
from keras_genmodels.files import write_text_atomically  # noqa: E402
from keras_genmodels.models.text_encoder import (pretrain_text_encoder,  # noqa: E402
                                                 retrieval_accuracy)

DATA = os.environ.get("GENMODELS_SHARED_DATA", os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
RESULTS = os.path.join(os.path.dirname(__file__), "results")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train", type=int, default=20000, help="MNIST training images used")
    p.add_argument("--test", type=int, default=2000, help="MNIST test images used")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="also save the encoder (.keras)")
    p.add_argument("--quick", action="store_true", help="3,000 images, 2 epochs (smoke run)")
    args = p.parse_args(argv)
    if args.quick:
        args.train, args.test, args.epochs = 3000, 1000, 2
    train = C.captioned_dataset(os.path.join(DATA, "mnist_train.npz"), limit=args.train,
                                seed=args.seed)
    test = C.captioned_dataset(os.path.join(DATA, "mnist_test.npz"), split="test",
                               limit=args.test, seed=args.seed + 1,
                               thresholds=train.thresholds)
    start = time.time()
    enc = pretrain_text_encoder(train, None, epochs=args.epochs, batch_size=args.batch_size,
                                seed=args.seed, verbose=2)
    train_s = time.time() - start
    result = {"backend": keras.backend.backend(), "train_pairs": len(train),
              "epochs": args.epochs, "batch_size": args.batch_size,
              "train_seconds": round(train_s, 1), "machine": "2 shared CPU cores",
              "max_length": enc.max_length, "vocabulary_size": enc.vocabulary_size,
              "embedding_dim": enc.embedding_dim, "test_pairs": len(test),
              "final_loss": float(enc.history.history["loss"][-1]),
              "final_batch_match_accuracy": float(enc.history.history["match_accuracy"][-1])}
    all_rows = retrieval_accuracy(enc, test.images, test.captions, test.labels, test.bins)
    result["all"] = all_rows
    # Per language / held-out: captions of that subset against all test images.
    t_all = enc.embed_texts(test.captions)
    v_all = enc.embed_images(test.images)
    order = np.argsort(-(t_all @ v_all.T), axis=1)
    for name, mask in (("en", test.languages == "en"), ("ru", test.languages == "ru"),
                       ("seen", ~test.holdout), ("held_out", test.holdout)):
        top = order[mask]
        lab = test.labels[mask]
        result[name] = {
            "n": int(mask.sum()),
            "top1": float((test.labels[top[:, 0]] == lab).mean()),
            "top5": float((test.labels[top[:, :5]] == lab[:, None]).any(1).mean()),
            "attribute_top1": {a: float((test.bins[top[:, 0], i] == test.bins[mask, i]).mean())
                               for i, a in enumerate(C.ATTRIBUTES)}}
    # Held-out combination itself: top-1 image has the caption's class AND the held-out bin.
    combo = {}
    for label, attr, b in test.holdout_combinations:
        col = C.ATTRIBUTES.index(attr)
        mask = (test.labels == label) & (test.bins[:, col] == b)
        top1 = order[mask, 0]
        combo[f"{label}/{attr}={C.BIN_NAMES[attr][b]}"] = {
            "n": int(mask.sum()),
            "class_top1": float((test.labels[top1] == label).mean()),
            "bin_top1": float((test.bins[top1, col] == b).mean()),
            "bin_chance": float((test.bins[test.labels == label, col] == b).mean())}
    result["held_out_combinations"] = combo
    print(json.dumps(result, indent=1, ensure_ascii=False))
    name = "text_encoder_retrieval_quick.json" if args.quick else "text_encoder_retrieval.json"
    os.makedirs(RESULTS, exist_ok=True)
    write_text_atomically(os.path.join(RESULTS, name),
                      json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if args.save:
        enc.save(args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
