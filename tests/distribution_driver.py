"""Driver of tests/test_distribution.py (a script, not collected by pytest).

Trains tiny models for a fixed number of steps with fixed seeds and data,
on one device or data-parallel (`--devices N`, JAX multi-process with
`--coordinator/--num-processes/--process-id`), and writes what the test
compares: every model's final weights (`<out>/<model>_p<process>.npz`) and
a JSON report (`<out>/report_p<process>.json`: optimizer iteration counts,
last logs, outputs on a fixed probe input, replicas). The device set-up
must precede `import keras`, hence a subprocess per configuration.

    python tests/distribution_driver.py --backend jax --devices 4 \
        --models ae,gan --out /tmp/run4
"""

import argparse
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Global batch per model (divisible by 4 devices x k x packing).
BATCH = {"ae": 32, "cae": 32, "cae_vjp": 32, "vae": 32, "gan": 32, "pacgan": 32,
         "wgan": 40, "seq2seq": 32, "dcgan": 16}


def parse(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True)
    p.add_argument("--devices", type=int, default=1)
    p.add_argument("--coordinator")
    p.add_argument("--num-processes", type=int)
    p.add_argument("--process-id", type=int)
    p.add_argument("--models", default="ae")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--out", type=pathlib.Path, required=True)
    p.add_argument("--save-dir", type=pathlib.Path,
                   help="chief only: write <model>.keras here (and an export of 'ae')")
    p.add_argument("--save-models", default=None, help="models to save (default: all)")
    p.add_argument("--export", action="store_true", help="also export 'ae' (chief only)")
    p.add_argument("--load-dir", type=pathlib.Path,
                   help="afterwards load <model>.keras of --load-models from here, train 2 steps")
    p.add_argument("--load-models", default="")
    p.add_argument("--scale-bug", default="",
                   help="e.g. ae=none,gan=double: sabotage replica_share for those models "
                        "(not at all / twice); the test expects a mismatch")
    return p.parse_args(argv)


def build(name, keras):
    from keras_genmodels.models.autoencoder import Autoencoder
    from keras_genmodels.models.gan import GAN, WGANGP
    from keras_genmodels.models.regularized import ContractiveAutoencoder
    from keras_genmodels.models.seq2seq import Seq2Seq
    from keras_genmodels.models.vae import VAE

    # SGD with momentum: its state is replicated like any slot, and (unlike Adam)
    # its step is proportional to the loss, so a mis-scaled loss shows.
    sgd = lambda lr=0.05: keras.optimizers.SGD(lr, momentum=0.5)  # noqa: E731
    if name == "ae":
        m = Autoencoder((8, 8, 1), 4, hidden_units=(16,))
        m.compile(optimizer=sgd())
    elif name == "cae":   # closed form (one sigmoid layer)
        m = ContractiveAutoencoder((8, 8, 1), 6, hidden_units=(), code_activation="sigmoid",
                                   contractive_weight=0.1)
        m.compile(optimizer=sgd())
    elif name == "cae_vjp":   # random-projection estimate: per-sample noise
        m = ContractiveAutoencoder((8, 8, 1), 4, hidden_units=(16,), jacobian="vjp",
                                   contractive_weight=0.1, seed=5)
        m.compile(optimizer=sgd())
    elif name == "vae":
        m = VAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), seed=3)
        m.compile(optimizer=sgd())
    elif name in ("gan", "pacgan", "wgan", "dcgan"):
        kw = dict(latent_dim=3, seed=7, generator_units=(16,), discriminator_units=(16,))
        if name == "gan":
            m = GAN(data_shape=(2,), discriminator_steps=2, **kw)
        elif name == "pacgan":
            m = GAN(data_shape=(2,), packing=2, **kw)
        elif name == "dcgan":
            m = GAN(data_shape=(8, 8, 1), architecture="dcgan", filters=(8, 4),
                    output_activation="sigmoid", latent_dim=3, seed=7)
        else:
            m = WGANGP(data_shape=(2,), **kw)      # k = 5 critic steps
        m.compile(optimizers={"discriminator": sgd(0.02), "generator": sgd(0.02)})
    elif name == "seq2seq":
        m = Seq2Seq(list("abcde"), list("abcde"), max_source_length=6, max_target_length=5,
                    embedding_dim=4, units=8)
        m.compile(optimizer=sgd())
    else:
        raise SystemExit(f"unknown model {name!r}")
    return m


def data(name, steps, np):
    """Global batches (numpy) for `steps` steps; identical in every process."""
    n = BATCH[name] * steps
    rng = np.random.default_rng(11)
    if name in ("gan", "pacgan", "wgan"):
        angle = rng.integers(0, 8, n) * (np.pi / 4)
        return (np.stack([np.cos(angle), np.sin(angle)], 1)
                + 0.05 * rng.standard_normal((n, 2))).astype("float32")
    if name == "seq2seq":
        src = np.zeros((n, 6), "int32")
        tgt = np.zeros((n, 6), "int32")
        out = np.zeros((n, 6), "int32")
        for i in range(n):   # lengths vary: the masked mean weighs replicas unequally
            ls, lt = rng.integers(1, 7), rng.integers(1, 6)
            src[i, :ls] = rng.integers(2, 7, ls)
            body = rng.integers(4, 9, lt)
            tgt[i, 0], tgt[i, 1:lt + 1] = 2, body
            out[i, :lt], out[i, lt] = body, 3
        return (src, tgt), out
    return rng.random((n, 8, 8, 1)).astype("float32")


def probe_outputs(name, model, np):
    """Deterministic outputs on a fixed input (save/load comparisons)."""
    rng = np.random.default_rng(99)
    if name in ("gan", "pacgan", "wgan", "dcgan"):
        z = rng.standard_normal((4, model.latent_dim)).astype("float32")
        return np.asarray(model.generate(z))
    if name == "seq2seq":
        src = rng.integers(2, 7, (4, 6)).astype("int32")
        tgt = rng.integers(2, 9, (4, 6)).astype("int32")
        return np.asarray(model((src, tgt)))
    x = rng.random((4, 8, 8, 1)).astype("float32")
    if name == "vae":
        return np.asarray(model.encode(x)[0])
    return np.asarray(model.reconstruct(x))


def iterations(model):
    out = {"optimizer": int(model.optimizer.iterations.numpy())}
    for phase, opt in getattr(model, "_phase_optimizers", {}).items():
        out[phase] = int(opt.iterations.numpy())
    return out


def main(argv):
    args = parse(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    from keras_genmodels import distribution as D

    try:
        D.prepare_devices(args.devices)
        import keras  # noqa: F401 - after the device set-up
        replicas = D.configure(devices=args.devices, coordinator=args.coordinator,
                               num_processes=args.num_processes,
                               process_id=args.process_id)
    except D.DistributionError as err:
        print(f"DistributionError: {err}", file=sys.stderr)
        return 2
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_genmodels.models import (  # noqa: F401 - register the classes for load_model
        autoencoder, gan, regularized, seq2seq, vae)

    from keras_genmodels import backend as B

    right_share = B.replica_share
    wrong_share = {"none": lambda loss, count=None: loss,
                   "double": lambda loss, count=None: right_share(right_share(loss, count),
                                                                  count)}
    bugs = dict(item.split("=") for item in args.scale_bug.split(",")) if args.scale_bug else {}

    pid = args.process_id or 0
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"replicas": replicas, "processes": D.process_count(), "models": {},
              "loaded": {}}

    def fit(model, name, steps):
        arrays = data(name, args.steps, np)
        ds = tf.data.Dataset.from_tensor_slices(arrays).batch(BATCH[name], drop_remainder=True)
        return model.fit(ds.take(steps), epochs=1, verbose=0)

    for name in [m for m in args.models.split(",") if m]:
        keras.utils.set_random_seed(0)
        # Sabotage (the test checks that the equality check catches it).
        B.replica_share = wrong_share[bugs[name]] if name in bugs else right_share
        with D.training_scope():
            model = build(name, keras)
            history = fit(model, name, args.steps)
        B.replica_share = right_share
        np.savez(args.out / f"{name}_p{pid}.npz", *model.get_weights())
        report["models"][name] = {
            "iterations": iterations(model),
            "logs": {k: float(v[-1]) for k, v in history.history.items()},
            "probe": probe_outputs(name, model, np).tolist()}
        saved = args.save_models is None or name in args.save_models.split(",")
        if args.save_dir and saved and D.is_chief():
            with D.chief_writes():
                args.save_dir.mkdir(parents=True, exist_ok=True)
                model.save(args.save_dir / f"{name}.keras")
                if args.export and name == "ae":
                    from keras_genmodels.export import export_model
                    export_model(model, "ae", base_dir=args.save_dir / "exports")

    # Load files saved under another device count; train 2 more steps.
    for name in [m for m in (args.load_models or "").split(",") if m]:
        with D.training_scope():
            model = keras.saving.load_model(args.load_dir / f"{name}.keras")
            probe = probe_outputs(name, model, np)
            before = [w.copy() for w in model.get_weights()]
            start = iterations(model)
            fit(model, name, 2)
        change = max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), before))
        report["loaded"][name] = {"probe": probe.tolist(), "iterations_loaded": start,
                                  "iterations": iterations(model), "weight_change": change}
    (args.out / f"report_p{pid}.json").write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
