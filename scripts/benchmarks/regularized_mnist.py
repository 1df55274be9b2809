"""What the regularisers do on MNIST: denoising, contraction, sparsity.

Protocol (issue 3), MNIST from local `.npz` files, pixels in [0, 1]:

- Denoising: a denoising AE trained with Gaussian noise σ=0.5 (clipped to
  [0, 1]); on the test set corrupted the same way (fixed seed), the MSE of
  its output to the clean image vs the MSE of the noisy input. Target: ≥ 3×
  lower.
- Contraction: a plain AE and a contractive AE with the same network (the
  classic one-layer sigmoid encoder 784 → 128, closed-form penalty), same
  seed and schedule, for a few λ; mean exact ‖∂h/∂x‖²_F over test images and
  test MSE. Target: CAE's ‖J‖²_F lower at nearly the same MSE (within 15%).
- Sparsity: a KL-sparse AE (ρ=0.05, sigmoid code 256); mean test activation.
  Target: within 20% of ρ.

    python scripts/benchmarks/regularized_mnist.py --train ../shared/data/mnist_train.npz \
        --test ../shared/data/mnist_test.npz [--epochs 10] [--quick]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_genmodels.data import image_dataset, load_images  # noqa: E402
from keras_genmodels.layers.corruption import corrupt  # noqa: E402
from keras_genmodels.models.regularized import (ContractiveAutoencoder,  # noqa: E402
                                                DenoisingAutoencoder,
                                                SparseAutoencoder)


def mse(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.mean((a.reshape(len(a), -1) - b.reshape(len(b), -1)) ** 2))


def fit(model, x_tr, args):
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    start = time.time()
    model.fit(image_dataset(x_tr, batch_size=args.batch_size, seed=args.seed,
                            drop_remainder=True), epochs=args.epochs, verbose=0)
    return time.time() - start


def jacobian_norm(model, x, batch=250):
    """Mean exact ‖∂h/∂x‖²_F of `model`'s encoder over `x`."""
    from keras_genmodels.losses.penalties import jacobian_frobenius_exact

    fn = lambda z: model.encoder(z, training=False)  # noqa: E731
    values = [keras.ops.convert_to_numpy(jacobian_frobenius_exact(fn, x[i:i + batch]))
              for i in range(0, len(x), batch)]
    return float(np.mean(np.concatenate(values)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default="../shared/data/mnist_train.npz")
    p.add_argument("--test", default="../shared/data/mnist_test.npz")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--contractive-weight", default="1e-5,3e-5,1e-4",
                   help="comma-separated λ values (each vs the same plain AE)")
    p.add_argument("--jacobian-images", type=int, default=1000,
                   help="test images used for the exact ‖J‖²_F")
    p.add_argument("--parts", default="denoising,contractive,sparse")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="10k train / 1k test, 2 epochs")
    args = p.parse_args(argv)
    x_tr, _ = load_images(args.train)
    x_te, _ = load_images(args.test)
    if args.quick:
        x_tr, x_te, args.epochs = x_tr[:10000], x_te[:1000], 2
    shape = x_tr.shape[1:]
    print(f"backend {keras.backend.backend()}, train {len(x_tr)}, test {len(x_te)}, "
          f"{args.epochs} epochs, batch {args.batch_size}\n", flush=True)
    rows, verdicts, names = [], [], []
    parts = args.parts.split(",")

    if "denoising" in parts:
        denoising(x_tr, x_te, shape, args, rows, verdicts, names)
    if "contractive" in parts:
        contractive(x_tr, x_te, shape, args, rows, verdicts, names)
    if "sparse" in parts:
        sparse(x_tr, x_te, shape, args, rows, verdicts, names)
    print("| model | measured | claim | train time (s) |")
    print("|---|---|---|---:|")
    print("\n".join(rows))
    print("\n" + ", ".join(f"{n}: {'met' if v else 'MISSED'}" for n, v in zip(names, verdicts)))
    return 0 if all(verdicts) or args.quick else 1


def denoising(x_tr, x_te, shape, args, rows, verdicts, names):
    keras.utils.set_random_seed(args.seed)
    dae = DenoisingAutoencoder(shape, 128, corruption="gaussian", noise_level=0.5,
                               seed=args.seed, hidden_units=(512,))
    seconds = fit(dae, x_tr, args)
    noisy = keras.ops.convert_to_numpy(corrupt(x_te, "gaussian", 0.5, seed=args.seed + 1))
    noisy_mse = mse(noisy, x_te)
    out_mse = mse(keras.ops.convert_to_numpy(dae.predict(noisy, batch_size=1000, verbose=0)), x_te)
    ratio = noisy_mse / out_mse
    rows.append(f"| denoising AE 784-512-128, σ=0.5 | MSE(noisy, clean) {noisy_mse:.4f}; "
                f"MSE(DAE(noisy), clean) {out_mse:.4f} | {ratio:.1f}× lower (target ≥ 3×) "
                f"| {seconds:.0f} |")
    verdicts.append(ratio >= 3)
    names.append("denoising ≥ 3×")


def contractive(x_tr, x_te, shape, args, rows, verdicts, names):
    weights = [0.0] + [float(w) for w in args.contractive_weight.split(",")]
    jac, err = {}, {}
    for weight in weights:
        keras.utils.set_random_seed(args.seed)
        model = ContractiveAutoencoder(shape, 128, hidden_units=(), code_activation="sigmoid",
                                       contractive_weight=weight)
        seconds = fit(model, x_tr, args)
        x_hat = keras.ops.convert_to_numpy(model.predict(x_te, batch_size=1000, verbose=0))
        err[weight] = mse(x_hat, x_te)
        jac[weight] = jacobian_norm(model, x_te[: args.jacobian_images])
        name = "plain AE" if weight == 0 else "contractive AE"
        rows.append(f"| {name} 784-128 (sigmoid), λ={weight:g} | test ‖J‖²_F {jac[weight]:.3f}; "
                    f"test MSE {err[weight]:.5f} | ‖J‖²_F ×{jac[weight] / jac[0.0]:.2f}, "
                    f"MSE ×{err[weight] / err[0.0]:.2f} vs plain | {seconds:.0f} |")
    verdicts.append(any(jac[w] < jac[0.0] and err[w] < 1.15 * err[0.0] for w in weights[1:]))
    names.append("contractive: lower ‖J‖²_F at MSE within 15% (some λ)")


def sparse(x_tr, x_te, shape, args, rows, verdicts, names):
    keras.utils.set_random_seed(args.seed)
    sae = SparseAutoencoder(shape, 256, hidden_units=(), sparsity_target=0.05)
    seconds = fit(sae, x_tr, args)
    codes = keras.ops.convert_to_numpy(sae.encode(x_te))
    rho_hat = float(codes.mean())
    sae_mse = mse(keras.ops.convert_to_numpy(sae.reconstruct(x_te)), x_te)
    rows.append(f"| sparse AE 784-256 (sigmoid), ρ=0.05, β=3 | mean activation {rho_hat:.4f}; "
                f"test MSE {sae_mse:.5f} | {abs(rho_hat / 0.05 - 1) * 100:.0f}% from ρ "
                f"(target ≤ 20%) | {seconds:.0f} |")
    verdicts.append(abs(rho_hat / 0.05 - 1) <= 0.2)
    names.append("sparse ρ̂ within 20%")


if __name__ == "__main__":
    sys.exit(main())
