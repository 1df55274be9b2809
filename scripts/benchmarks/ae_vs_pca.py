"""Dense autoencoder vs PCA on digits: test reconstruction MSE by code size.

Protocol (issue 2): scikit-learn digits, 80/20 split with random_state=0,
pixels scaled to [0, 1]; PCA (scikit-learn) with the same number of
components as the code size; MSE averaged over pixels and test images.
Prints a markdown table; the autoencoder must beat PCA by >= 30%.

    python scripts/benchmarks/ae_vs_pca.py [--code-sizes 8,16] [--epochs 400] [--quick]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from keras_genmodels.data import image_dataset, load_images  # noqa: E402
from keras_genmodels.models.autoencoder import Autoencoder  # noqa: E402


def pca_mse(x_tr, x_te, k):
    pca = PCA(n_components=k).fit(x_tr.reshape(len(x_tr), -1))
    flat = x_te.reshape(len(x_te), -1)
    return float(np.mean((pca.inverse_transform(pca.transform(flat)) - flat) ** 2))


def ae_mse(x_tr, x_te, k, epochs, seed):
    keras.utils.set_random_seed(seed)
    model = Autoencoder(x_tr.shape[1:], k, hidden_units=(512, 256), dropout=0.1)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, epochs * int(np.ceil(len(x_tr) / 64)))
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    model.fit(image_dataset(x_tr, batch_size=64, seed=seed), epochs=epochs, verbose=0)
    x_hat = keras.ops.convert_to_numpy(model.reconstruct(x_te))
    return float(np.mean((x_hat - x_te) ** 2))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code-sizes", default="8,16")
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="20 epochs, code size 8 (smoke run)")
    args = p.parse_args(argv)
    sizes = [8] if args.quick else [int(s) for s in args.code_sizes.split(",")]
    epochs = 20 if args.quick else args.epochs
    x_tr, _ = load_images("digits", "train")
    x_te, _ = load_images("digits", "test")
    print(f"backend {keras.backend.backend()}, {epochs} epochs, train {len(x_tr)}, test {len(x_te)}\n")
    print("| code size | PCA test MSE | autoencoder test MSE | AE / PCA | AE train time (s) |")
    print("|---:|---:|---:|---:|---:|")
    ok = True
    for k in sizes:
        pca = pca_mse(x_tr, x_te, k)
        start = time.time()
        ae = ae_mse(x_tr, x_te, k, epochs, args.seed)
        ratio = ae / pca
        ok &= ratio <= 0.7
        print(f"| {k} | {pca:.4f} | {ae:.4f} | {ratio:.2f} | {time.time() - start:.0f} |", flush=True)
    print("\ntarget AE/PCA <= 0.70:", "met" if ok else "MISSED")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
