"""Seq2seq dates benchmark: exact match on 2,000 held-out generated dates, greedy and beam-4.

The held-out calendar dates are never seen in training (`date_split`). Prints a markdown table.

    KERAS_BACKEND=jax python scripts/benchmarks/seq2seq_dates.py            # full (<= 10 min)
    KERAS_BACKEND=jax python scripts/benchmarks/seq2seq_dates.py --quick    # ~1 minute
"""

import argparse
import os
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny run (about a minute)")
    p.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default=None)
    p.add_argument("--train-size", type=int, default=100_000)
    p.add_argument("--test-size", type=int, default=2000)
    p.add_argument("--steps", type=int, default=2400,
                   help="planned optimizer steps (cosine learning-rate decay length)")
    p.add_argument("--max-minutes", type=float, default=9.5,
                   help="training time cap in minutes (default 9.5)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--units", type=int, default=96)
    p.add_argument("--embedding-dim", type=int, default=32)
    p.add_argument("--attention", choices=("luong", "bahdanau"), default="luong")
    p.add_argument("--cell", choices=("gru", "lstm"), default="gru")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="optional .keras path for the trained model")
    args = p.parse_args(argv)
    if args.quick:
        args.train_size, args.steps, args.max_minutes = 20_000, 300, 1.0
        args.units, args.test_size = 48, 500
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from keras_genmodels.data import text
    from keras_genmodels.metrics import translation as tm
    from keras_genmodels.models.seq2seq import Seq2Seq

    keras.utils.set_random_seed(args.seed)
    t0 = time.time()
    train, test = text.date_split(args.train_size, args.test_size, seed=args.seed)
    model = Seq2Seq.from_pairs(train, units=args.units, embedding_dim=args.embedding_dim,
                               attention=args.attention, cell=args.cell)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0))
    ds = model.make_dataset(train, batch_size=args.batch_size, seed=args.seed, repeat=True)
    prep = time.time() - t0
    from keras_genmodels.callbacks import TimeLimit

    limit = TimeLimit(args.max_minutes * 60)
    steps_per_epoch = 500 if not args.quick else 100
    epochs = -(-args.steps // steps_per_epoch)
    t0 = time.time()
    hist = model.fit(ds, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=[limit],
                     verbose=2 if not args.quick else 0)
    train_s = time.time() - t0
    done = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if args.save:
        model.save(args.save)

    sources, refs = [p[0] for p in test], [p[1] for p in test]
    rows = []
    for name, width in (("greedy", 1), ("beam-4", 4)):
        t0 = time.time()
        hyps = model.translate(sources, beam_width=width, batch_size=500)
        dt = time.time() - t0
        rows.append((name, tm.exact_match(hyps, refs), tm.token_accuracy(hyps, refs),
                     tm.corpus_bleu(hyps, refs, level="char"), dt))
        if name == "greedy":
            wrong = [(s, h, r) for s, h, r in zip(sources, hyps, refs) if h != r][:8]

    print(f"\nbackend={keras.backend.backend()} train_pairs={len(train)} "
          f"test_pairs={len(test)} (held-out dates) units={args.units} "
          f"attention={args.attention} cell={args.cell} batch={args.batch_size}")
    print(f"data+vocab {prep:.1f} s; training {train_s:.1f} s for {done} steps "
          f"(planned {args.steps}, cap {args.max_minutes} min); final train loss "
          f"{hist.history['loss'][-1]:.4f}, token acc {hist.history['token_accuracy'][-1]:.4f}")
    print("\n| decoding | exact match | token accuracy | chrBLEU (sacrebleu char) | decode time (s) |")
    print("|---|---|---|---|---|")
    for name, em, ta, bleu, dt in rows:
        print(f"| {name} | {100 * em:.2f}% | {100 * ta:.2f}% | {bleu:.2f} | {dt:.1f} |")
    if wrong:
        print("\nfirst greedy errors (source -> hypothesis / reference):")
        for s, h, r in wrong:
            print(f"- {s!r} -> {h!r} / {r!r}")
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
