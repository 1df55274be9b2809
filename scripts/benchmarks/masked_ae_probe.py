"""The topic probe of `masked_ae.py`, both ways round, with a paired significance test.

`masked_ae.py` trains the probe on the first half of each held-out topic's windows and tests
on the second half (~360 test windows), so one split's accuracy moves by ~2.6 points
(binomial standard error) on chance alone. This script reloads the models that
`masked_ae.py` saved (`runs/benchmarks/masked_ae_{random,span}.keras`), repeats the same
probe (standardised `LogisticRegressionCV`, same features: the `embed` vectors and
bag-of-characters) in both directions (first half -> second half, second -> first), pools
the 714 test predictions, and compares each `embed` probe with the bag-of-characters probe
window by window (McNemar's exact test on the windows exactly one of them gets right).

    KERAS_BACKEND=tensorflow python scripts/benchmarks/masked_ae.py      # saves the models
    KERAS_BACKEND=tensorflow python scripts/benchmarks/masked_ae_probe.py

Writes `scripts/benchmarks/results/masked_ae_probe.json`.
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402


def compare_probes(features, labels, first_half, baseline="bag_of_characters"):
    """Each feature set's probe both ways round (pooled), and McNemar against `baseline`.

    `features`: `{name: (n, d)}`; `labels` `(n,)`; `first_half` bool `(n,)`.
    Returns `{"probes": {name: accuracies}, "versus_<baseline>": {name: test}}`.
    """
    from scipy.stats import binomtest

    from masked_ae import probe_predictions

    correct, probes, versus = {}, {}, {}
    for name, f in features.items():
        forward = probe_predictions(f, labels, first_half)
        backward = probe_predictions(f, labels, ~first_half)
        correct[name] = np.concatenate([forward, backward])
        probes[name] = {"first_to_second": float(forward.mean()),
                        "second_to_first": float(backward.mean()),
                        "pooled": float(correct[name].mean())}
        print(name, json.dumps(probes[name]), flush=True)
    base = correct[baseline]
    for name in features:
        if name == baseline:
            continue
        only_this = int((correct[name] & ~base).sum())
        only_base = int((~correct[name] & base).sum())
        n = only_this + only_base
        versus[name] = {
            "pooled_difference_points": 100 * float(correct[name].mean() - base.mean()),
            f"only_{name}_right": only_this, f"only_{baseline}_right": only_base,
            "mcnemar_exact_p": float(binomtest(only_this, n).pvalue) if n else 1.0}
        print(name, json.dumps(versus[name]), flush=True)
    return {"probes": probes, f"versus_{baseline}": versus}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(ROOT / "runs" / "benchmarks"),
                        help="folder with masked_ae_<masking>.keras from masked_ae.py")
    parser.add_argument("--maskings", default="random,span")
    parser.add_argument("--out", default=str(ROOT / "scripts" / "benchmarks" / "results" /
                                             "masked_ae_probe.json"))
    args = parser.parse_args(argv)

    import keras

    import keras_genmodels.models.masked_autoencoder  # noqa: F401 (registers the class)
    from keras_genmodels.data import text_windows as tw
    from masked_ae import bag_of_characters, probe_split

    models = {}
    for masking in args.maskings.split(","):
        path = pathlib.Path(args.models) / f"masked_ae_{masking}.keras"
        if not path.is_file():
            raise SystemExit(f"expected {path} (run masked_ae.py first), received no file")
        models[masking] = keras.models.load_model(path)
    first = next(iter(models.values()))
    train_docs, test_docs = tw.split("default", seed=0)
    encoded = tw.encode_windows(first.vectorizer, train_docs, test_docs, first.sequence_length)
    windows, test_doc = encoded["test"], encoded["test_doc"]
    keep, first_half = probe_split(test_doc)
    labels, first_half = test_doc[keep], first_half[keep]
    features = {"bag_of_characters": bag_of_characters(windows, first.vocabulary_size)[keep]}
    for masking, model in models.items():
        features[f"embed_{masking}"] = model.embed_windows(windows)[keep]
    result = {"topics": int(len(np.unique(labels))), "windows": int(keep.sum()),
              **compare_probes(features, labels, first_half)}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
