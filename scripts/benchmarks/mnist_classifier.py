"""A small MNIST CNN used to judge generated digits (dcgan_mnist.py).

Conv(32) -> MaxPool -> Conv(64) -> MaxPool -> Dense(128) -> Dense(10,
softmax), trained with Adam on the local .npz (x uint8 (N, 28, 28), y)
to convergence: the last 5,000 training images are held out, and training
stops when their accuracy has not improved for 2 epochs (the best epoch's
weights are kept; at most `--epochs`). About 99 % test accuracy.

    KERAS_BACKEND=jax python scripts/benchmarks/mnist_classifier.py \
        --train ../shared/data/mnist_train.npz --test ../shared/data/mnist_test.npz
"""

import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def build():
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="mnist_classifier")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_classifier(train_path, test_path=None, epochs=20, out=None, limit=None):
    """Train to convergence (or load from `out` if it exists) and return
    `(model, test_accuracy)`. `epochs` bounds the early-stopped training."""
    import keras

    from keras_genmodels.data import load_images

    if out and pathlib.Path(out).exists():
        model = keras.models.load_model(out)
    else:
        x, y = load_images(train_path)
        if limit:
            x, y = x[:limit], y[:limit]
        if len(x) < 100:
            raise ValueError(f"the MNIST classifier needs at least 100 training images "
                             f"(a tenth is held out); {train_path} has {len(x)}.")
        model = build()
        held_out = min(5000, len(x) // 10)
        stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2,
                                             restore_best_weights=True)
        model.fit(x[:-held_out], y[:-held_out], batch_size=128, epochs=epochs, verbose=0,
                  validation_data=(x[-held_out:], y[-held_out:]), callbacks=[stop])
        if out:
            pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
            model.save(out)
    accuracy = None
    if test_path:
        xt, yt = load_images(test_path)
        accuracy = float(model.evaluate(xt, yt, verbose=0, batch_size=512)[1])
    return model, accuracy


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", default="../shared/data/mnist_train.npz")
    p.add_argument("--test", default="../shared/data/mnist_test.npz")
    p.add_argument("--epochs", type=int, default=20,
                   help="at most this many epochs (early stopping on 5,000 held-out images)")
    p.add_argument("--out", default="runs/benchmarks/dcgan_mnist/mnist_classifier_es.keras")
    p.add_argument("--quick", action="store_true", help="10,000 images, 1 epoch")
    args = p.parse_args(argv)
    _, acc = train_classifier(args.train, args.test, 1 if args.quick else args.epochs,
                              None if args.quick else args.out,
                              limit=10000 if args.quick else None)
    print(f"test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
