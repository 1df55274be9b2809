"""Dimensionality reduction: PCA, TruncatedSVD, NMF, LDA, t-SNE, UMAP, five autoencoders and a VAE.

Data: scikit-learn digits (80/20 split, random_state=0) and MNIST (local
`.npz`, the official 60k/10k split; `--mnist-train/--mnist-test` keep the
first N images of each, e.g. 10,000 / 2,000 to stay within a few CPU
minutes). Pixels in [0, 1]. Every model is fitted on the training split only.

Methods. Linear ones from scikit-learn (NMF: nndsvda init). Autoencoders
share one dense network (`--hidden-units`, mirrored decoder, sigmoid output,
MSE) and one optimizer (Adam with cosine decay, batch 128): plain (linear
code), sparse (sigmoid code, KL ρ=0.05, β=6/D), denoising (Gaussian σ=0.3
during training; scored on clean inputs), contractive (linear code like the
plain AE, λ=0.064/D, 1-projection VJP estimate), and linear (no hidden
layer, no activations, trained on mean-centred inputs with large batches:
the PCA subspace at convergence). VAE: the same hidden units, Bernoulli
decoder, one-sample ELBO, same optimizer and epochs; its embedding is the
posterior mean μ(x). LDA: `LinearDiscriminantAnalysis` (SVD solver), the one
supervised method (it sees the training labels), at most classes − 1 = 9
components. UMAP (`umap-learn`, optional: `pip install umap-learn` or
`pip install "keras-genmodels[umap]"`; without it UMAP is skipped with a
message and everything else runs): default n_neighbors=15, min_dist=0.1.

1. Reconstruction (methods that have a decoder or an inverse: PCA,
   TruncatedSVD, NMF, the autoencoders, the VAE decoding μ): test MSE per
   pixel at `--code-sizes`.
2. Embedding (every method): at `--embed-sizes` (2, 8, 16), on the first
   `--embed-train` training and `--embed-test` test images,
   - 5-NN accuracy: a k-NN classifier (k=5, Euclidean) fitted on the
     training embeddings and their labels, scored on the held-out test
     embeddings;
   - trustworthiness (`sklearn.manifold.trustworthiness`, 5 neighbours) of
     the test embeddings against the test images.
   How held-out embeddings are obtained: PCA, TruncatedSVD, NMF, LDA, the
   encoders and UMAP are fitted on the training split and *transform* the
   test images (UMAP via `UMAP.transform`). t-SNE has no transform: it is
   fitted once, unsupervised, on the embedding train and test images
   together (labels never enter), and the k-NN is fitted on the train part
   of that joint map and scored on its test part. So t-SNE's test points
   shaped its map, a transductive advantage the other methods do not get.
   Sizes a method does not allow are left out: LDA ≤ classes − 1 (no 16),
   t-SNE only 2 (scikit-learn's Barnes-Hut t-SNE needs < 4 dimensions and
   the exact one is O(N²) per step).
3. 2-D maps of the held-out test embeddings, coloured by label: PCA, LDA,
   t-SNE, UMAP, plain AE, VAE mean, one row per dataset.

Outputs in `--out-dir`: `dim_reduction.json` (every number, the settings and
the command), `dim_reduction_maps.png` (the 2-D maps; axes span the 0.5-99.5 %
quantiles of each map, so a few outliers may fall outside),
`dim_reduction_maps.npz` (the 2-D test embeddings behind it: `--replot`
redraws both figures from these two files without fitting anything),
`dim_reduction_mse.png` (MSE vs code size); the markdown tables go to stdout. TensorFlow is the
default backend (the fastest of the three on a small CPU).

    python scripts/benchmarks/dim_reduction.py [--datasets digits,mnist]
        [--train ../shared/data/mnist_train.npz --test ../shared/data/mnist_test.npz]
        [--mnist-train 10000 --mnist-test 2000] [--code-sizes 2,8,16]
        [--out-dir dim_reduction_results] [--quick]
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import NMF, PCA, TruncatedSVD  # noqa: E402
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

from keras_genmodels.data import image_dataset, load_images  # noqa: E402
from keras_genmodels.metrics.embedding import knn_accuracy, trustworthiness  # noqa: E402
from keras_genmodels.models.autoencoder import Autoencoder  # noqa: E402
from keras_genmodels.models.regularized import (ContractiveAutoencoder,  # noqa: E402
                                                DenoisingAutoencoder,
                                                SparseAutoencoder)
from keras_genmodels.models.vae import VAE  # noqa: E402

LINEAR = ("PCA", "TruncatedSVD", "NMF")
AUTOENCODERS = ("plain AE", "sparse AE", "denoising AE", "contractive AE", "linear AE")
RECONSTRUCTING = LINEAR + AUTOENCODERS + ("VAE",)
METHODS = LINEAR + ("LDA", "t-SNE", "UMAP") + AUTOENCODERS + ("VAE",)
MAP_PANELS = (("PCA", "PCA"), ("LDA", "LDA (supervised)"),
              ("t-SNE", "t-SNE (train+test jointly)"), ("UMAP", "UMAP (transform)"),
              ("plain AE", "plain AE (2-d code)"), ("VAE", "VAE (posterior mean)"))
UMAP_INSTALL = 'pip install umap-learn  (or pip install "keras-genmodels[umap]")'
KNN_K = 5
TRUST_NEIGHBORS = 5


def flat(x):
    return x.reshape(len(x), -1)


def numpy_batches(fn, x, batch=4096):
    return np.concatenate([keras.ops.convert_to_numpy(fn(x[i:i + batch]))
                           for i in range(0, len(x), batch)])


def import_umap():
    """The `umap` module, or None after printing that UMAP is skipped and how
    to install it (`umap-learn` is an optional extra)."""
    try:
        import umap
    except ImportError:
        print(f"UMAP skipped: umap-learn is not installed. Install it with: {UMAP_INSTALL}",
              flush=True)
        return None
    return umap


def allowed_sizes(method, sizes, n_classes):
    if method == "LDA":
        return [k for k in sizes if k <= n_classes - 1]
    if method == "t-SNE":
        return [k for k in sizes if k < 4]
    return list(sizes)


# --- methods: each returns (test MSE or None, encode function) ---------------------------


def linear_method(name, k, x_tr, y_tr, seed):
    model = {"PCA": lambda: PCA(k, random_state=seed),
             "TruncatedSVD": lambda: TruncatedSVD(k, random_state=seed),
             "NMF": lambda: NMF(k, init="nndsvda", max_iter=300, random_state=seed),
             "LDA": lambda: LinearDiscriminantAnalysis(n_components=k)}[name]()
    if name == "LDA":
        model.fit(flat(x_tr), y_tr)
        return model, None
    model.fit(flat(x_tr))
    return model, lambda x: model.inverse_transform(model.transform(flat(x)))


def autoencoder(name, k, shape, args):
    common = dict(hidden_units=args.hidden_units)
    if name == "plain AE":
        return Autoencoder(shape, k, **common)
    if name == "sparse AE":
        # UFLDL's β=3 goes with a ½Σ_i(x_i − x̂_i)² loss; ours is a mean over
        # D pixels, so the same balance is β = 3 · 2 / D.
        weight = args.sparse_weight or 6.0 / np.prod(shape)
        return SparseAutoencoder(shape, k, sparsity_weight=weight, **common)
    if name == "denoising AE":
        return DenoisingAutoencoder(shape, k, corruption="gaussian", noise_level=0.3,
                                    seed=args.seed, **common)
    if name == "contractive AE":
        # λ = 0.064 / D: 1e-3 on digits; on MNIST 1e-3 collapses the code.
        weight = args.contractive_weight or 0.064 / np.prod(shape)
        return ContractiveAutoencoder(shape, k, contractive_weight=weight,
                                      seed=args.seed, **common)
    if name == "VAE":
        return VAE(shape, latent_dim=k, hidden_units=args.hidden_units, seed=args.seed)
    return Autoencoder(shape, k, hidden_units=(), code_activation=None,
                       output_activation=None)


def train_linear(k, x_tr, args):
    """Linear AE: mean-centred inputs (PCA's too; the biases could absorb the
    mean, centring only conditions the problem), large batches, Adam 0.01."""
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    mean = x_tr.mean(0)
    model = autoencoder("linear AE", k, x_tr.shape[1:], args)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    batch = min(len(x_tr), 2048)
    data = (tf.data.Dataset.from_tensor_slices(x_tr - mean).shuffle(len(x_tr), seed=args.seed)
            .batch(batch, drop_remainder=True).repeat())
    model.fit(data, epochs=1, steps_per_epoch=args.linear_steps, verbose=0)
    encode = lambda x: numpy_batches(model.encode, x - mean)  # noqa: E731
    reconstruct = lambda x: numpy_batches(model.reconstruct, x - mean) + mean  # noqa: E731
    return encode, reconstruct


def train_autoencoder(name, k, x_tr, epochs, args):
    """Returns (encode, reconstruct), NumPy in and out. The VAE encodes to μ(x)
    and reconstructs as decode(μ(x))."""
    if name == "linear AE":
        return train_linear(k, x_tr, args)
    keras.utils.set_random_seed(args.seed)
    model = autoencoder(name, k, x_tr.shape[1:], args)
    steps = epochs * (len(x_tr) // args.batch_size)
    model.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.05)))
    model.fit(image_dataset(x_tr, batch_size=args.batch_size, seed=args.seed,
                            drop_remainder=True), epochs=epochs, verbose=0)
    if name == "VAE":
        encode = lambda x: numpy_batches(lambda b: model.encode(b)[0], x)  # noqa: E731
    else:
        encode = lambda x: numpy_batches(model.encode, x)  # noqa: E731
    return encode, lambda x: numpy_batches(model.reconstruct, x)


def fit_method(method, k, data, args, epochs, umap):
    """Fits `method` with k dimensions. Returns (test MSE or None,
    embedding of the embedding-train images, embedding of the embedding-test images)."""
    x_tr, y_tr, x_te, x_etr, x_ete = (data[key] for key in ("x_tr", "y_tr", "x_te",
                                                             "x_etr", "x_ete"))
    if method == "t-SNE":
        # No transform for new points: one unsupervised map of train+test.
        joint = np.concatenate([flat(x_etr), flat(x_ete)])
        z = TSNE(k, init="pca", random_state=args.seed).fit_transform(joint)
        return None, z[: len(x_etr)], z[len(x_etr):]
    if method == "UMAP":
        reducer = umap.UMAP(n_components=k, random_state=args.seed)
        z_tr = reducer.fit_transform(flat(x_etr))
        return None, z_tr, reducer.transform(flat(x_ete))
    if method in LINEAR + ("LDA",):
        model, reconstruct = linear_method(method, k, x_tr, y_tr, args.seed)
        encode = lambda x: model.transform(flat(x))  # noqa: E731
    else:
        encode, reconstruct = train_autoencoder(method, k, x_tr, epochs, args)
    mse = None
    if reconstruct is not None:
        mse = float(np.mean((flat(reconstruct(x_te)) - flat(x_te)) ** 2))
    return mse, encode(x_etr), encode(x_ete)


def load(dataset, args):
    if dataset == "digits":
        (x_tr, y_tr), (x_te, y_te) = load_images("digits", "train"), load_images("digits", "test")
    else:
        (x_tr, y_tr), (x_te, y_te) = load_images(args.train), load_images(args.test)
        x_tr, y_tr = x_tr[: args.mnist_train], y_tr[: args.mnist_train]
        x_te, y_te = x_te[: args.mnist_test], y_te[: args.mnist_test]
    n_tr, n_te = min(len(x_tr), args.embed_train), min(len(x_te), args.embed_test)
    return dict(x_tr=x_tr, y_tr=y_tr, x_te=x_te, y_te=y_te, x_etr=x_tr[:n_tr],
                y_etr=y_tr[:n_tr], x_ete=x_te[:n_te], y_ete=y_te[:n_te])


# --- output -------------------------------------------------------------------------------


def fmt(value, digits=3):
    return "—" if value is None else f"{value:.{digits}f}"


def markdown_tables(results):
    lines = []
    for dataset, r in results.items():
        sizes = r["embed_sizes"]
        lines += [f"\n### {dataset} (models fitted on {r['train']} train images; embeddings "
                  f"scored on {r['embed_train']} train / {r['embed_test']} test): "
                  f"{KNN_K}-NN test accuracy / trustworthiness ({TRUST_NEIGHBORS} neighbours)\n",
                  "| method | " + " | ".join(f"k={k}" for k in sizes) + " |",
                  "|---|" + "---:|" * len(sizes)]
        for method, row in r["knn_accuracy"].items():
            trust = r["trustworthiness"][method]
            lines.append(f"| {method} | " + " | ".join(
                "—" if row.get(str(k)) is None else
                f"{row[str(k)]:.3f} / {trust[str(k)]:.3f}" for k in sizes) + " |")
        code_sizes = r["code_sizes"]
        lines += [f"\n### {dataset} (train {r['train']}, test {r['test']}, AE/VAE epochs "
                  f"{r['epochs']}): test reconstruction MSE per pixel\n",
                  "| method | " + " | ".join(f"k={k}" for k in code_sizes) + " |",
                  "|---|" + "---:|" * len(code_sizes)]
        for method, row in r["mse"].items():
            lines.append(f"| {method} | " + " | ".join(fmt(row.get(str(k)), 5)
                                                       for k in code_sizes) + " |")
    return "\n".join(lines)


def save_png(fig, path, dpi):
    """Saves `fig` as a 256-colour palette PNG (a few times smaller than RGBA)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(256, dither=Image.Dither.NONE)
    image.save(path, optimize=True)


def plot_errors(results, path):
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, (dataset, r) in zip(axes[0], results.items()):
        sizes = r["code_sizes"]
        for method, row in r["mse"].items():
            style = "--" if method in LINEAR else "-"
            ax.plot(sizes, [row[str(k)] for k in sizes], style, marker="o", label=method)
        ax.set(xscale="log", yscale="log", xlabel="code size", ylabel="test MSE per pixel",
               title=dataset)
        ax.set_xticks(sizes, [str(k) for k in sizes])
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path, dpi=90)


def plot_maps(maps, results, path):
    """maps: {dataset: (test labels, {method: (n, 2) test embedding or None})}."""
    fig, axes = plt.subplots(len(maps), len(MAP_PANELS), figsize=(2.6 * len(MAP_PANELS) + 0.8,
                                                                  2.8 * len(maps)),
                             squeeze=False, layout="constrained")
    for row, (dataset, (labels, panels)) in zip(axes, maps.items()):
        r, sc = results[dataset], None
        for ax, (method, title) in zip(row, MAP_PANELS):
            ax.set_xticks([])
            ax.set_yticks([])
            points = panels.get(method)
            if points is None:
                why = "skipped:\npip install umap-learn" if method == "UMAP" else "not run"
                ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
                ax.set_title(f"{dataset}: {title}", fontsize=8)
                continue
            sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10",
                            s=2 if len(points) > 1000 else 6, vmin=-0.5, vmax=9.5,
                            linewidths=0)
            # Axes span the 0.5-99.5 % quantiles (plus a margin): a handful of far
            # outliers (MNIST's LDA) would otherwise squeeze the map into a dot.
            for axis, setter in ((0, ax.set_xlim), (1, ax.set_ylim)):
                lo, hi = np.quantile(points[:, axis], [0.005, 0.995])
                setter(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
            acc = r["knn_accuracy"][method]["2"]
            trust = r["trustworthiness"][method]["2"]
            ax.set_title(f"{dataset}: {title}\n5-NN {acc:.3f}, trust {trust:.3f}", fontsize=8)
        if sc is not None:
            fig.colorbar(sc, ax=row.tolist(), ticks=range(10), label="label", fraction=0.02,
                         pad=0.01)
    save_png(fig, path, dpi=72)


def save_maps(maps, path):
    arrays = {}
    for dataset, (labels, panels) in maps.items():
        arrays[f"{dataset}/labels"] = labels
        arrays.update({f"{dataset}/{method}": panels[method].astype(np.float16)
                       for method, _ in MAP_PANELS if method in panels})
    np.savez_compressed(path, **arrays)


def replot(out):
    results = json.loads((out / "dim_reduction.json").read_text())["results"]
    maps = {}
    with np.load(out / "dim_reduction_maps.npz") as arrays:
        for key in arrays.files:
            dataset, method = key.split("/", 1)
            labels, panels = maps.setdefault(dataset, [None, {}])
            if method == "labels":
                maps[dataset][0] = arrays[key]
            else:
                panels[method] = arrays[key]
    if any(r["mse"] for r in results.values()):
        plot_errors(results, out / "dim_reduction_mse.png")
    plot_maps(maps, results, out / "dim_reduction_maps.png")
    print(f"redrew {out / 'dim_reduction_mse.png'}, {out / 'dim_reduction_maps.png'}")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="digits,mnist")
    p.add_argument("--train", default="../shared/data/mnist_train.npz")
    p.add_argument("--test", default="../shared/data/mnist_test.npz")
    p.add_argument("--mnist-train", type=int, default=60000, help="MNIST train images used")
    p.add_argument("--mnist-test", type=int, default=10000, help="MNIST test images used")
    p.add_argument("--code-sizes", default="2,8,16,32", help="sizes of the MSE table")
    p.add_argument("--embed-sizes", default="2,8,16", help="sizes of the embedding table")
    p.add_argument("--embed-train", type=int, default=10000,
                   help="first N training images embedded (k-NN fit, t-SNE/UMAP fit)")
    p.add_argument("--embed-test", type=int, default=2000,
                   help="first N test images embedded (k-NN accuracy, trustworthiness, maps)")
    p.add_argument("--epochs", default="100,10", help="AE/VAE epochs for digits,mnist")
    p.add_argument("--hidden-units", default="256")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--sparse-weight", type=float, default=None,
                   help="β (default 6/D: UFLDL's β=3 for a per-pixel mean loss)")
    p.add_argument("--linear-steps", type=int, default=1000,
                   help="Adam steps of the linear AE (batch min(N, 2048), centred inputs)")
    p.add_argument("--contractive-weight", type=float, default=None,
                   help="λ (default 0.064/D: 1e-3 on digits, 8.2e-5 on MNIST)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help="comma-separated subset of: " + ", ".join(METHODS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="dim_reduction_results")
    p.add_argument("--quick", action="store_true",
                   help="digits only, sizes 2 and 8, 10 epochs, 300 linear-AE steps")
    p.add_argument("--replot", action="store_true",
                   help="only redraw the figures from --out-dir's dim_reduction.json and "
                        "dim_reduction_maps.npz (the 2-d test embeddings), fitting nothing")
    args = p.parse_args(argv)
    out = pathlib.Path(args.out_dir)
    if args.replot:
        return replot(out)
    args.hidden_units = tuple(int(u) for u in args.hidden_units.split(",") if u)
    datasets = args.datasets.split(",")
    code_sizes = [int(k) for k in args.code_sizes.split(",")]
    embed_sizes = [int(k) for k in args.embed_sizes.split(",")]
    epochs = dict(zip(("digits", "mnist"), (int(e) for e in args.epochs.split(","))))
    if args.quick:
        datasets, code_sizes, embed_sizes, epochs = ["digits"], [2, 8], [2, 8], {"digits": 10}
        args.linear_steps = 300
    unknown = set(args.methods.split(",")) - set(METHODS)
    if unknown:
        p.error(f"unknown methods {sorted(unknown)}; choose from {', '.join(METHODS)}")
    methods = [m for m in METHODS if m in args.methods.split(",")]
    skipped = {}
    umap = None
    if "UMAP" in methods:
        umap = import_umap()
        if umap is None:
            methods.remove("UMAP")
            skipped["UMAP"] = f"umap-learn not installed; {UMAP_INSTALL}"
    out.mkdir(parents=True, exist_ok=True)
    print(f"backend {keras.backend.backend()}, AE hidden units {args.hidden_units}, "
          f"epochs {epochs}, sparse β {args.sparse_weight or '6/D'}, contractive λ "
          f"{args.contractive_weight or '0.064/D'}\n", flush=True)
    results, maps = {}, {}
    for dataset in datasets:
        data = load(dataset, args)
        n_classes = len(np.unique(data["y_tr"]))
        r = results[dataset] = dict(
            train=len(data["x_tr"]), test=len(data["x_te"]), embed_train=len(data["x_etr"]),
            embed_test=len(data["x_ete"]), epochs=epochs[dataset], code_sizes=code_sizes,
            embed_sizes=embed_sizes, knn_accuracy={}, trustworthiness={}, mse={}, seconds={})
        panels = {}
        for method in methods:
            e_sizes = allowed_sizes(method, embed_sizes, n_classes)
            m_sizes = code_sizes if method in RECONSTRUCTING else []
            for key in ("knn_accuracy", "trustworthiness", "seconds"):
                r[key][method] = {str(k): None for k in embed_sizes}
            if m_sizes:
                r["mse"][method] = {}
            for k in sorted(set(e_sizes) | set(m_sizes)):
                start = time.time()
                mse, z_tr, z_te = fit_method(method, k, data, args, epochs[dataset], umap)
                seconds = time.time() - start
                msg = f"  {dataset} k={k} {method}: "
                if k in m_sizes:
                    r["mse"][method][str(k)] = mse
                    msg += f"MSE {mse:.5f}, "
                if k in e_sizes:
                    acc = knn_accuracy(z_tr, data["y_etr"], z_te, data["y_ete"], k=KNN_K)
                    trust = trustworthiness(data["x_ete"], z_te, n_neighbors=TRUST_NEIGHBORS)
                    r["knn_accuracy"][method][str(k)] = acc
                    r["trustworthiness"][method][str(k)] = trust
                    r["seconds"][method][str(k)] = round(seconds, 1)
                    msg += f"{KNN_K}-NN {acc:.3f}, trust {trust:.3f}, "
                if k == 2:
                    panels[method] = z_te
                print(msg + f"({seconds:.0f} s)", flush=True)
        maps[dataset] = (data["y_ete"], panels)
    text = markdown_tables(results)
    print(text)
    record = dict(command="python " + " ".join([sys.argv[0]] + (sys.argv[1:] if argv is None
                                                                  else list(argv))),
                  backend=keras.backend.backend(), knn_k=KNN_K,
                  trustworthiness_neighbors=TRUST_NEIGHBORS, skipped=skipped,
                  settings={key: (list(v) if isinstance(v, tuple) else v)
                            for key, v in vars(args).items()},
                  results=results)
    (out / "dim_reduction.json").write_text(json.dumps(record, indent=1) + "\n")
    written = [out / "dim_reduction.json"]
    if any(r["mse"] for r in results.values()):
        plot_errors(results, out / "dim_reduction_mse.png")
        written.append(out / "dim_reduction_mse.png")
    if any(panels for _, panels in maps.values()):
        save_maps(maps, out / "dim_reduction_maps.npz")
        plot_maps(maps, results, out / "dim_reduction_maps.png")
        written += [out / "dim_reduction_maps.npz", out / "dim_reduction_maps.png"]
    for method, why in skipped.items():
        print(f"\n{method} skipped: {why}")
    print("\nwrote " + ", ".join(str(w) for w in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
