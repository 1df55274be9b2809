"""StackGAN on captioned MNIST: label and attribute accuracy from captions, stage II vs
stage I, ablations (no conditioning augmentation; no mismatched pairs).

Pipeline: `data.captions.captioned_dataset` captions the training images (class + measured
thickness / slant / size bins, English and Russian; held-out combinations thick 7, left-
slanted 2, small 4 removed); `pretrain_text_encoder` trains the frozen text encoder; the
main StackGAN trains stage I, then stage II (stage I frozen); each ablation trains stage I
only, for the same minutes as the main model's stage-I snapshot taken at that time.

Judge: the package's in-domain MNIST CNN (`feature_extractor(mnist_train.npz)`: class
probabilities + 128-d penultimate features), on images generated for *test-split* captions
(never seen in training), every image captioned in both languages:
- label accuracy (argmax == class named) on seen and held-out class x attribute combos;
- attribute-bin agreement (`captions.measure_attributes` with the training thresholds)
  and Spearman rho between the asked thickness bin and the measured thickness;
- Russian vs English label accuracy;
- FID (in-domain features) of stage II vs stage I upsampled bilinearly, and the
  real-vs-real floor (test vs train images);
- diversity per caption: mean pairwise feature distance among 16 samples of a caption.

Run (TensorFlow backend, 2-core CPU). The README's two runs (λ = `--kl-weight` 0.02):
    # main table: stage I 10 min, stage II 20 min (~31 min)
    KERAS_BACKEND=tensorflow python scripts/benchmarks/stackgan_mnist.py --skip-ablations
    # ablation table: stage I 10 + stage II 10 min, ablations 5 min of stage I each (~32 min)
    KERAS_BACKEND=tensorflow python scripts/benchmarks/stackgan_mnist.py --stage2-minutes 10 \
        --ablation-minutes 5 --tag ablations
    ... --kl-study 2,0.2,0.02 --ablation-minutes 5   (stage I per λ; ~21 min)
    ... --quick     (small, ~6 min: a smoke run, figures not meaningful)
Paper-scale on a GPU (larger networks, longer stages; same script):
    KERAS_BACKEND=jax python scripts/benchmarks/stackgan_mnist.py --stage1-minutes 30 \
        --stage2-minutes 30 --ablation-minutes 30 --encoder-epochs 10 --encoder-limit 60000 \
        --stage1-filters 256,128 --stage2-filters 128 --residual-blocks 4 --batch-size 128
Writes `results/stackgan_mnist[_quick][_TAG].json` and `..._samples[...].png`.
"""

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path("/work/shared/data")
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
TARGETS = {"label_accuracy_seen": 0.90, "label_accuracy_heldout": 0.85,
           "attribute_agreement": 0.70, "thickness_spearman": 0.5,
           "ru_en_gap_points": 3.0}


def parse(argv=None):
    from keras_genmodels.tasks.arguments import file_tag, non_negative_float

    def weights(text):
        return tuple(non_negative_float(w) for w in text.split(","))

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default=str(DATA / "mnist_train.npz"))
    p.add_argument("--test", default=str(DATA / "mnist_test.npz"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--limit", type=int, default=None, help="training images (default all)")
    p.add_argument("--encoder-limit", type=int, default=20000)
    p.add_argument("--encoder-epochs", type=int, default=3)
    p.add_argument("--stage1-minutes", type=float, default=10.0)
    p.add_argument("--stage2-minutes", type=float, default=20.0)
    p.add_argument("--ablation-minutes", type=float, default=6.0)
    p.add_argument("--skip-ablations", action="store_true")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--stage1-filters", default="128,64")
    p.add_argument("--stage2-filters", type=int, default=64)
    p.add_argument("--residual-blocks", type=int, default=2)
    p.add_argument("--eval-n", type=int, default=1000,
                   help="captions per language in each of seen / held-out")
    p.add_argument("--kl-weight", type=non_negative_float, default=0.02,
                   help="conditioning-augmentation KL weight λ (default 0.02, the package's "
                        "default; the authors' code uses 2.0: see --kl-study)")
    p.add_argument("--kl-study", type=weights, default=None, metavar="L1,L2,...",
                   help="instead of the main run: stage I only, --ablation-minutes each, for "
                        "each λ listed (and without CA); writes stackgan_kl_study.json")
    p.add_argument("--tag", type=file_tag, default=None,
                   help="suffix of the result files (stackgan_mnist_TAG.json, ...)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.quick:
        args.limit = args.limit or 4000
        args.encoder_limit, args.encoder_epochs = 4000, 1
        args.stage1_minutes, args.stage2_minutes, args.ablation_minutes = 1.5, 1.5, 0.75
        args.eval_n = 200
    return args


def log(msg, t0=[time.time()]):  # noqa: B006 - start time of the run
    print(f"[{(time.time() - t0[0]) / 60:5.1f} min] {msg}", flush=True)


class Judge:
    """Scores generated images for captions of the test split."""

    def __init__(self, args, train, test, extractor):
        from keras_genmodels.data import captions as C

        self.C, self.train, self.extractor = C, train, extractor
        rng = np.random.default_rng(args.seed + 7)
        rows = []
        for held in (False, True):
            for lang in ("en", "ru"):
                idx = np.flatnonzero((test.holdout == held) & (test.languages == lang))
                rows.append(rng.permutation(idx)[:args.eval_n])
        self.rows = np.concatenate(rows)
        self.data = test.subset(self.rows)
        # real features for FID: every test image once
        first = np.unique(test.source_index, return_index=True)[1]
        self.real_features = extractor.features(test.images[first])
        # diversity captions: 20 seen English captions of distinct content
        seen_en = np.flatnonzero(~self.data.holdout & (self.data.languages == "en"))
        _, pick = np.unique(self.data.keys[seen_en], return_index=True)
        self.diversity_rows = seen_en[np.sort(pick)][:20]

    def images(self, model, stage, captions, noise):
        from keras import ops

        out = []
        for s in range(0, len(captions), 500):
            low, high = model.generate(list(captions[s:s + 500]), noise[s:s + 500])
            out.append(ops.convert_to_numpy(high if stage == 2 else model.upsample(low)))
        return np.clip(np.concatenate(out), 0.0, 1.0)

    def score(self, model, stage, seed=123):
        from keras import ops
        from scipy.stats import spearmanr

        from keras_genmodels.metrics.sample_quality import frechet_distance

        d = self.data
        noise = ops.convert_to_numpy(model.sample_noise(len(d), seed=seed))
        x = self.images(model, stage, d.captions, noise)
        feats, probs = self.extractor.features_and_probabilities(x)
        correct = probs.argmax(1) == d.labels
        measured = self.C.measure_attributes(x, thresholds=self.train.thresholds,
                                             labels=d.labels)
        agree = {a: (measured[f"{a}_bin"] == d.bins[:, i])
                 for i, a in enumerate(self.C.ATTRIBUTES)}
        res = {"images": int(len(d))}
        for name, mask in (("seen", ~d.holdout), ("heldout", d.holdout)):
            res[f"label_accuracy_{name}"] = float(correct[mask].mean())
            for lang in ("en", "ru"):
                m = mask & (d.languages == lang)
                res[f"label_accuracy_{name}_{lang}"] = float(correct[m].mean())
        res["label_accuracy_en"] = float(correct[d.languages == "en"].mean())
        res["label_accuracy_ru"] = float(correct[d.languages == "ru"].mean())
        res["ru_en_gap_points"] = 100 * abs(res["label_accuracy_en"] - res["label_accuracy_ru"])
        res["attribute_agreement"] = {a: float(v.mean()) for a, v in agree.items()}
        res["attribute_agreement_mean"] = float(np.mean(list(res["attribute_agreement"].values())))
        res["attribute_agreement_heldout"] = {a: float(v[d.holdout].mean())
                                              for a, v in agree.items()}
        # the held-out attribute itself on its held-out rows (e.g. "thick" for thick sevens)
        held_attr = []
        for label, attr, b in self.train.holdout_combinations:
            i = self.C.ATTRIBUTES.index(attr)
            m = d.holdout & (d.labels == label) & (d.bins[:, i] == b)
            if m.any():
                held_attr.append({"combination": [int(label), attr, int(b)], "n": int(m.sum()),
                                  "label_accuracy": float(correct[m].mean()),
                                  "attribute_agreement": float(agree[attr][m].mean())})
        res["heldout_combinations"] = held_attr
        res["thickness_spearman"] = float(spearmanr(d.bins[:, 0], measured["thickness"])[0])
        res["fid"] = float(frechet_distance(self.real_features, feats))
        res["diversity_per_caption"] = self.diversity(model, stage, seed)
        return res

    def diversity(self, model, stage, seed, k=16):
        from keras import ops

        caps = self.data.captions[self.diversity_rows]
        texts = np.repeat(caps, k)
        noise = ops.convert_to_numpy(model.sample_noise(len(texts), seed=seed + 1))
        f = self.extractor.features(self.images(model, stage, texts, noise)).reshape(
            len(caps), k, -1)
        dist = [np.sqrt(((a[:, None] - a[None]) ** 2).sum(-1))[np.triu_indices(k, 1)].mean()
                for a in f]
        return float(np.mean(dist))

    def real_diversity(self, test, k=16):
        """The same statistic on real test images sharing a caption's content key."""
        keys = self.data.keys[self.diversity_rows]
        first = np.unique(test.source_index, return_index=True)[1]
        imgs, tkeys = test.images[first], test.keys[first]
        dist = []
        for key in keys:
            members = np.flatnonzero(tkeys == key)[:k]
            if len(members) >= 4:
                f = self.extractor.features(imgs[members])
                n = len(f)
                dist.append(np.sqrt(((f[:, None] - f[None]) ** 2).sum(-1))[
                    np.triu_indices(n, 1)].mean())
        return float(np.mean(dist))


def fit_for(model, ds, minutes):
    from keras_genmodels.callbacks import TimeLimit

    start = time.time()
    history = model.fit(ds, epochs=10_000, callbacks=[TimeLimit(minutes * 60)], verbose=0)
    steps = int(model.phase_optimizers["generator"].iterations.numpy()
                if hasattr(model.phase_optimizers["generator"].iterations, "numpy")
                else model.phase_optimizers["generator"].iterations)
    logs = {k: float(v[-1]) for k, v in history.history.items()}
    return {"minutes": (time.time() - start) / 60, "steps": steps,
            "epochs_started": len(history.history.get("d_loss", [])), "final_logs": logs}


def main(argv=None):
    args = parse(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, str(ROOT))
    import keras

    from keras_genmodels.data import captions as C
    from keras_genmodels.metrics.feature_networks import feature_extractor
    from keras_genmodels.metrics.sample_quality import frechet_distance
    from keras_genmodels.models.stackgan import StackGAN
    from keras_genmodels.models.text_encoder import pretrain_text_encoder, retrieval_accuracy
    from keras_genmodels.tasks.stackgan import compile_stage, pairs_dataset, save_sample_sheet

    keras.utils.set_random_seed(args.seed)
    suffix = ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else "")
    log(f"backend {keras.backend.backend()}; captioning")
    train = C.captioned_dataset(args.train, "train", seed=args.seed, limit=args.limit)
    test = C.captioned_dataset(args.test, "test", seed=args.seed + 1,
                               thresholds=train.thresholds, all_languages=True)
    extractor = feature_extractor(args.train, args.test)
    judge = Judge(args, train, test, extractor)
    result = {"backend": keras.backend.backend(), "args": vars(args), "targets": TARGETS,
              "machine": "shared 2-core CPU (about 7 jobs at once); wall times vary +-40 %",
              "train_pairs": len(train), "holdout": [list(h) for h in train.holdout_combinations],
              "eval_captions": len(judge.data),
              "eval_heldout_captions": int(judge.data.holdout.sum())}
    t = time.time()
    enc_data = train.subset(np.arange(min(args.encoder_limit, len(train))))
    encoder = pretrain_text_encoder(enc_data, None, epochs=args.encoder_epochs, batch_size=128,
                                    seed=args.seed)
    sub = np.arange(min(2000, len(test)))
    result["text_encoder"] = {
        "pairs": len(enc_data), "epochs": args.encoder_epochs,
        "minutes": (time.time() - t) / 60,
        "retrieval_test": retrieval_accuracy(encoder, test.images[sub], test.captions[sub],
                                             test.labels[sub], test.bins[sub])}
    log(f"text encoder: {result['text_encoder']}")
    ds = pairs_dataset(train, encoder, args.batch_size, args.seed)
    # real-vs-real floor: test features vs 10,000 training images
    result["fid_real_floor"] = float(frechet_distance(
        judge.real_features, extractor.features(train.images[:10000])))
    result["diversity_real_same_caption"] = judge.real_diversity(test)
    log(f"FID floor {result['fid_real_floor']:.2f}")

    filters = tuple(int(f) for f in args.stage1_filters.split(","))

    def new_model(**kw):
        kw.setdefault("kl_weight", args.kl_weight)
        return StackGAN(image_shape=train.images.shape[1:], text_encoder=encoder,
                        stage1_filters=filters, stage2_filters=args.stage2_filters,
                        num_residual=args.residual_blocks, seed=args.seed, **kw)

    if args.kl_study:
        return kl_study(args, result, new_model, ds, judge, compile_stage, fit_for, suffix)
    model = new_model()
    compile_stage(model, 1, 2e-4)
    first = min(args.ablation_minutes, args.stage1_minutes)
    runs = {"stage1_snapshot": fit_for(model, ds, first)}
    snapshot = judge.score(model, 1)
    log(f"full model, stage I at {first} min: {json.dumps(snapshot)[:400]}")
    if args.stage1_minutes > first:
        runs["stage1_rest"] = fit_for(model, ds, args.stage1_minutes - first)
    stage1 = judge.score(model, 1)
    log(f"stage I final: {json.dumps(stage1)[:400]}")
    compile_stage(model, 2, 2e-4)
    runs["stage2"] = fit_for(model, ds, args.stage2_minutes)
    stage2 = judge.score(model, 2)
    log(f"stage II: {json.dumps(stage2)[:400]}")
    result["training"] = runs
    result["full"] = {"stage1_upsampled": stage1, "stage2": stage2}
    result["stage2_beats_stage1_fid"] = stage2["fid"] < stage1["fid"]
    sheet_rows = []
    for label, attr, b in train.holdout_combinations:  # held-out combos, both languages
        bins = [1, 1, 1]
        bins[C.ATTRIBUTES.index(attr)] = b
        sheet_rows += [C.make_caption(label, bins, "en", 0), C.make_caption(label, bins, "ru", 0)]
    sheet_rows += list(judge.data.captions[judge.diversity_rows[:4]])
    sheet = RESULTS / f"stackgan_mnist_samples{suffix}.png"
    save_sample_sheet(model, sheet_rows, sheet, per_caption=4, seed=args.seed)
    result["sample_sheet"] = {"path": str(sheet.relative_to(ROOT)), "captions": sheet_rows,
                              "bytes": sheet.stat().st_size}
    model.save(f"/tmp/stackgan_mnist{suffix}.keras")  # not committed
    table = {"full (CA + mismatched)": snapshot}
    if not args.skip_ablations:
        for name, kw in (("no conditioning augmentation", {"conditioning_augmentation": False}),
                         ("no mismatched pairs", {"mismatched_pairs": False})):
            keras.utils.set_random_seed(args.seed)
            ablated = new_model(**kw)
            compile_stage(ablated, 1, 2e-4)
            runs[name] = fit_for(ablated, ds, args.ablation_minutes)
            table[name] = judge.score(ablated, 1)
            log(f"{name}: {json.dumps(table[name])[:400]}")
    result["ablations_stage1_same_minutes"] = {
        "minutes": first, "note": "stage I images upsampled to 28x28; same minutes of "
        "stage-I training each (the full model's snapshot)", "table": table}
    s = stage2
    result["verdict"] = {
        "label_accuracy_seen": [s["label_accuracy_seen"], s["label_accuracy_seen"] >= 0.90],
        "label_accuracy_heldout": [s["label_accuracy_heldout"],
                                   s["label_accuracy_heldout"] >= 0.85],
        "attribute_agreement": [s["attribute_agreement"],
                                all(v >= 0.70 for v in s["attribute_agreement"].values())],
        "thickness_spearman": [s["thickness_spearman"], s["thickness_spearman"] >= 0.5],
        "ru_en_gap_points": [s["ru_en_gap_points"], s["ru_en_gap_points"] <= 3.0],
        "stage2_fid_below_stage1_upsampled": [[s["fid"], stage1["fid"]],
                                              s["fid"] < stage1["fid"]]}
    result["total_minutes"] = (time.time() - log.__defaults__[0][0]) / 60
    out = RESULTS / f"stackgan_mnist{suffix}.json"
    from keras_genmodels.tasks.common import write_json

    write_json(out, result)
    log(f"wrote {out}; verdict {json.dumps(result['verdict'])}")


def kl_study(args, result, new_model, ds, judge, compile_stage, fit, suffix):
    """Stage I at the same minutes for each CA weight λ, and without CA."""
    import keras

    from keras_genmodels.tasks.common import write_json

    keep = ("label_accuracy_seen", "label_accuracy_heldout", "attribute_agreement",
            "thickness_spearman", "ru_en_gap_points", "fid", "diversity_per_caption")
    rows = []
    settings = [({"kl_weight": w}, f"CA, λ = {w:g}") for w in args.kl_study]
    for kw, name in settings + [({"conditioning_augmentation": False}, "no CA")]:
        keras.utils.set_random_seed(args.seed)
        model = new_model(**kw)
        compile_stage(model, 1, 2e-4)
        run = fit(model, ds, args.ablation_minutes)
        score = judge.score(model, 1)
        rows.append({"setting": name, **kw, "steps": run["steps"],
                     "final_kl_per_dim": run["final_logs"].get("kl"),
                     **{k: score[k] for k in keep}})
        log(f"{name}: {json.dumps(rows[-1])}")
    result["kl_study"] = {"stage": 1, "minutes_each": args.ablation_minutes,
                          "note": "stage-I images upsampled to 28x28, held-out-caption "
                                  "judge as in the main run", "rows": rows}
    out = RESULTS / f"stackgan_kl_study{suffix}.json"
    write_json(out, result)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
