"""Dimensionality reduction: PCA, TruncatedSVD, NMF vs five autoencoders.

Protocol (issue 3): test reconstruction MSE (mean over pixels and test
images, pixels in [0, 1]) at code sizes 2, 8, 16, 32 on scikit-learn digits
(80/20 split, random_state=0) and on MNIST (local `.npz`, the official
60k/10k split). Linear methods come from scikit-learn (NMF: nndsvda init).
Autoencoders share one dense network (`--hidden-units`, mirrored decoder,
sigmoid output, MSE) and one optimizer (Adam, batch 128): plain (linear
code), sparse (sigmoid code, KL ρ=0.05, β=6/D), denoising
(Gaussian σ=0.3 during training; scored on clean inputs), contractive
(linear code like the plain AE, λ=0.064/D, 1-projection VJP estimate), and
linear (no hidden layer, no activations, trained on mean-centred inputs
with large batches: the PCA subspace at convergence).
Writes a markdown table, a PNG plot of MSE vs code size, and 2-D maps of
the test set (PCA, t-SNE, the 2-d plain autoencoder) coloured by label.

    python scripts/benchmarks/dim_reduction.py [--datasets digits,mnist]
        [--train ../shared/data/mnist_train.npz --test ../shared/data/mnist_test.npz]
        [--out-dir dim_reduction_results] [--quick]
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import NMF, PCA, TruncatedSVD  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

from keras_genmodels.data import image_dataset, load_images  # noqa: E402
from keras_genmodels.models.autoencoder import Autoencoder  # noqa: E402
from keras_genmodels.models.regularized import (ContractiveAutoencoder,  # noqa: E402
                                                DenoisingAutoencoder,
                                                SparseAutoencoder)

LINEAR = ("PCA", "TruncatedSVD", "NMF")
AUTOENCODERS = ("plain AE", "sparse AE", "denoising AE", "contractive AE", "linear AE")


def flat(x):
    return x.reshape(len(x), -1)


def linear_method(name, k, x_tr, x_te, seed):
    """Fit on train, return (test MSE, test codes)."""
    model = {"PCA": lambda: PCA(k, random_state=seed),
             "TruncatedSVD": lambda: TruncatedSVD(k, random_state=seed),
             "NMF": lambda: NMF(k, init="nndsvda", max_iter=300, random_state=seed)}[name]()
    model.fit(flat(x_tr))
    codes = model.transform(flat(x_te))
    return float(np.mean((model.inverse_transform(codes) - flat(x_te)) ** 2)), codes


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
    return Autoencoder(shape, k, hidden_units=(), code_activation=None,
                       output_activation=None)


def train_linear(k, x_tr, x_te, args):
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
    codes = keras.ops.convert_to_numpy(model.encode(x_te - mean))
    x_hat = keras.ops.convert_to_numpy(model.reconstruct(x_te - mean)) + mean
    return float(np.mean((flat(x_hat) - flat(x_te)) ** 2)), codes


def train_autoencoder(name, k, x_tr, x_te, epochs, args):
    if name == "linear AE":
        return train_linear(k, x_tr, x_te, args)
    keras.utils.set_random_seed(args.seed)
    model = autoencoder(name, k, x_tr.shape[1:], args)
    steps = epochs * (len(x_tr) // args.batch_size)
    model.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.05)))
    model.fit(image_dataset(x_tr, batch_size=args.batch_size, seed=args.seed,
                            drop_remainder=True), epochs=epochs, verbose=0)
    codes = keras.ops.convert_to_numpy(model.encode(x_te))
    x_hat = keras.ops.convert_to_numpy(model.reconstruct(x_te))
    return float(np.mean((flat(x_hat) - flat(x_te)) ** 2)), codes


def load(dataset, args):
    if dataset == "digits":
        (x_tr, _), (x_te, y_te) = load_images("digits", "train"), load_images("digits", "test")
    else:
        (x_tr, _), (x_te, y_te) = load_images(args.train), load_images(args.test)
        x_tr, x_te = x_tr[: args.mnist_train], x_te[: args.mnist_test]
        y_te = y_te[: args.mnist_test]
    return x_tr, x_te, y_te


def plot_errors(results, sizes, path):
    datasets = list(results)
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4.5), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for method, row in results[dataset].items():
            style = "--" if method in LINEAR else "-"
            ax.plot(sizes, [row[k][0] for k in sizes], style, marker="o", label=method)
        ax.set(xscale="log", yscale="log", xlabel="code size", ylabel="test MSE per pixel",
               title=dataset)
        ax.set_xticks(sizes, [str(k) for k in sizes])
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_maps(maps, path):
    fig, axes = plt.subplots(len(maps), 3, figsize=(13, 4.3 * len(maps)), squeeze=False)
    for row, (dataset, (labels, panels)) in zip(axes, maps.items()):
        for ax, (title, points) in zip(row, panels.items()):
            sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=4,
                            vmin=-0.5, vmax=9.5)
            ax.set_title(f"{dataset}: {title}")
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(sc, ax=row.tolist(), ticks=range(10), label="label")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="digits,mnist")
    p.add_argument("--train", default="../shared/data/mnist_train.npz")
    p.add_argument("--test", default="../shared/data/mnist_test.npz")
    p.add_argument("--mnist-train", type=int, default=60000, help="MNIST train images used")
    p.add_argument("--mnist-test", type=int, default=10000, help="MNIST test images used")
    p.add_argument("--code-sizes", default="2,8,16,32")
    p.add_argument("--epochs", default="100,10", help="epochs for digits,mnist")
    p.add_argument("--hidden-units", default="256")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--sparse-weight", type=float, default=None,
                   help="β (default 6/D: UFLDL's β=3 for a per-pixel mean loss)")
    p.add_argument("--linear-steps", type=int, default=1000,
                   help="Adam steps of the linear AE (batch min(N, 2048), centred inputs)")
    p.add_argument("--contractive-weight", type=float, default=None,
                   help="λ (default 0.064/D: 1e-3 on digits, 8.2e-5 on MNIST)")
    p.add_argument("--methods", default=",".join(LINEAR + AUTOENCODERS),
                   help="comma-separated subset of the methods")
    p.add_argument("--tsne-points", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="dim_reduction_results")
    p.add_argument("--quick", action="store_true",
                   help="digits only, code sizes 2 and 8, 10 epochs, 300 t-SNE points")
    args = p.parse_args(argv)
    args.hidden_units = tuple(int(u) for u in args.hidden_units.split(",") if u)
    datasets = args.datasets.split(",")
    sizes = [int(k) for k in args.code_sizes.split(",")]
    epochs = dict(zip(("digits", "mnist"), (int(e) for e in args.epochs.split(","))))
    if args.quick:
        datasets, sizes, epochs, args.tsne_points = ["digits"], [2, 8], {"digits": 10}, 300
        args.linear_steps = 300
    out = pathlib.Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print(f"backend {keras.backend.backend()}, AE hidden units {args.hidden_units}, "
          f"epochs {epochs}, sparse β {args.sparse_weight or '6/D'}, contractive λ "
          f"{args.contractive_weight or '0.064/D'}\n", flush=True)
    methods = [m for m in LINEAR + AUTOENCODERS if m in args.methods.split(",")]
    results, maps, lines = {}, {}, []
    for dataset in datasets:
        x_tr, x_te, y_te = load(dataset, args)
        table = {m: {} for m in methods}
        for k in sizes:
            for method in methods:
                start = time.time()
                if method in LINEAR:
                    mse, codes = linear_method(method, k, x_tr, x_te, args.seed)
                else:
                    mse, codes = train_autoencoder(method, k, x_tr, x_te, epochs[dataset], args)
                table[method][k] = (mse, time.time() - start, codes if k == 2 else None)
                print(f"  {dataset} k={k} {method}: MSE {mse:.5f} ({time.time() - start:.0f} s)",
                      flush=True)
        results[dataset] = table
        lines += [f"\n### {dataset} (train {len(x_tr)}, test {len(x_te)}, AE epochs "
                  f"{epochs[dataset]}): test MSE per pixel\n",
                  "| method | " + " | ".join(f"k={k}" for k in sizes) + " |",
                  "|---|" + "---:|" * len(sizes)]
        for method, row in table.items():
            lines.append(f"| {method} | " + " | ".join(f"{row[k][0]:.5f}" for k in sizes) + " |")
        if 2 in sizes and {"PCA", "plain AE"} <= set(methods):
            pick = np.random.RandomState(args.seed).permutation(len(x_te))[: args.tsne_points]
            tsne = TSNE(2, init="pca", random_state=args.seed).fit_transform(flat(x_te[pick]))
            maps[dataset] = (y_te[pick], {"PCA (2 components)": table["PCA"][2][2][pick],
                                          "t-SNE": tsne,
                                          "plain AE (2-d code)": table["plain AE"][2][2][pick]})
    text = "\n".join(lines)
    print(text)
    (out / "dim_reduction.md").write_text(text + "\n")
    plot_errors(results, sizes, out / "dim_reduction.png")
    print(f"\nwrote {out / 'dim_reduction.md'}, {out / 'dim_reduction.png'}", end="")
    if maps:
        plot_maps(maps, out / "maps_2d.png")
        print(f", {out / 'maps_2d.png'}", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
