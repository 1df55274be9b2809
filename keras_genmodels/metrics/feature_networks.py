"""In-domain feature networks for sample-quality metrics, trained once and cached.

FID-style metrics need a feature map of images. Inception-v3 features are the
standard for natural photographs, but they need a download and say little about
8x8 digits or 28x28 MNIST. Here each dataset gets its own small CNN classifier,
trained by this package with a fixed seed and a fixed recipe; its penultimate
layer (`Dense(128)`, ReLU) gives the features and its softmax gives a
classifier score (label accuracy, class histogram, mean max-softmax).

Recipe (`RECIPE_VERSION` 1; `build_feature_network`): 2 convolution blocks for
images smaller than 16 pixels, else 3; block i is Conv2D(32 * 2**i, 3x3, same,
ReLU) + MaxPooling2D(2); then Flatten, Dropout(0.25), Dense(128, ReLU) (the
features), Dropout(0.5), Dense(classes, softmax). Adam(1e-3), batch 128,
`keras.utils.set_random_seed(seed)`, at most `epochs` epochs on the training
data less a seeded held-out slice (10 %, at most 5,000 images); the
learning rate is multiplied by 0.3 whenever the held-out loss has not
improved for max(1, ⌊patience / 3⌋) epochs, and training stops when it has not improved for
`patience` = max(3, ⌈1000 / steps per epoch⌉) epochs, keeping the best
epoch's weights. By default at most max(12, ⌈3000 / steps per epoch⌉)
epochs, so small sets (digits: 11 steps per epoch) still get a few
thousand updates.

Cache: `<cache_dir>/<name>-<key>/` holds `model.keras` and `meta.json`
(recipe, training-data hash, test accuracy, the file's SHA-256). `key` is a
hash of the training images and labels, the recipe version and the recipe
arguments, so changed data or a changed recipe trains a new network. An
entry whose `meta.json` does not match its key (stale), or whose model file
is missing, has another checksum or does not load (corrupt), is rebuilt.
The default `cache_dir` is `$KERAS_GENMODELS_CACHE/feature_networks`, else
`$XDG_CACHE_HOME/keras_genmodels/feature_networks`, else
`~/.cache/keras_genmodels/feature_networks`. Nothing is ever downloaded.

The network trained under one backend loads and gives the same features
(to float32 rounding) under the others.
"""

import hashlib
import json
import os
import pathlib
import shutil
import tempfile
import time
import warnings

import numpy as np

from keras_genmodels.data.errors import DataError

#: Bump when `build_feature_network` or the training procedure changes.
RECIPE_VERSION = 1
FEATURE_LAYER = "features"
PROBABILITY_LAYER = "probabilities"


def default_cache_dir():
    """The feature-network cache folder (see the module docstring)."""
    root = os.environ.get("KERAS_GENMODELS_CACHE")
    if root:
        return pathlib.Path(root).expanduser() / "feature_networks"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = pathlib.Path(xdg).expanduser() if xdg else pathlib.Path.home() / ".cache"
    return base / "keras_genmodels" / "feature_networks"


def build_feature_network(image_shape, num_classes, width=32, feature_units=128):
    """The recipe's CNN classifier (uncompiled): images `(H, W, C)` in [0, 1] ->
    class probabilities; its layer `"features"` is the penultimate `Dense`.

    Args:
        image_shape: tuple `(H, W, C)`.
        num_classes: int. Softmax outputs.
        width: int. Filters of the first convolution (doubled per block).
            Defaults to `32`.
        feature_units: int. Units of the feature layer. Defaults to `128`.
    """
    import keras
    from keras import layers

    h, w, _ = (int(d) for d in image_shape)
    blocks = 2 if min(h, w) < 16 else 3
    inputs = keras.Input(tuple(int(d) for d in image_shape), name="image")
    x = inputs
    for i in range(blocks):
        x = layers.Conv2D(width * 2 ** i, 3, padding="same", activation="relu",
                          name=f"conv{i + 1}")(x)
        if min(x.shape[1], x.shape[2]) >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(feature_units, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name=PROBABILITY_LAYER)(x)
    return keras.Model(inputs, outputs, name="feature_network")


class FeatureExtractor:
    """A trained feature network: features, class probabilities, classifier score.

    Made by `feature_extractor(...)`; not built directly.

    Attributes:
        model: the `keras.Model` classifier.
        image_shape: `(H, W, C)` it takes.
        num_classes: int.
        test_accuracy: float. Accuracy on the dataset's test split.
        class_prior: numpy `(num_classes,)`. Label frequencies of the training data.
        meta: dict. The cache entry's `meta.json`.
        path: `pathlib.Path` of the cache entry (None if not cached).
    """

    def __init__(self, model, meta, path=None):
        import keras

        self.model = model
        self.meta = dict(meta)
        self.path = path
        self.image_shape = tuple(int(d) for d in model.input_shape[1:])
        self.num_classes = int(model.output_shape[-1])
        self.test_accuracy = meta.get("test_accuracy")
        self.class_prior = np.asarray(meta.get("class_prior") or
                                      np.full(self.num_classes, 1.0 / self.num_classes))
        self._both = keras.Model(model.inputs[0], [model.get_layer(FEATURE_LAYER).output,
                                                   model.outputs[0]])

    def check_images(self, x):
        """`x` as float32 `(n, *image_shape)`; adds a missing channel axis of size 1.
        Raises `ValueError` naming both shapes when they do not match."""
        x = np.asarray(x, dtype="float32")
        if x.ndim == len(self.image_shape) and self.image_shape[-1] == 1:
            x = x[..., None]
        if x.ndim != len(self.image_shape) + 1 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"expected images of shape (n, {', '.join(map(str, self.image_shape))}) for "
                f"this feature network (dataset {self.meta.get('dataset')!r}), received "
                f"{tuple(x.shape)}")
        return x

    def features_and_probabilities(self, x, batch_size=500):
        """`(features (n, d) float64, probabilities (n, classes) float64)` of images `x`."""
        x = self.check_images(x)
        if len(x) == 0:
            raise ValueError("expected at least one image, received none")
        feats, probs = [], []
        for start in range(0, len(x), batch_size):
            f, p = self._both(x[start:start + batch_size], training=False)
            feats.append(np.asarray(_numpy(f), dtype=np.float64))
            probs.append(np.asarray(_numpy(p), dtype=np.float64))
        return np.concatenate(feats), np.concatenate(probs)

    def features(self, x, batch_size=500):
        """Penultimate-layer features `(n, 128)` float64 of images `x` `(n, H, W, C)` in [0, 1]."""
        return self.features_and_probabilities(x, batch_size)[0]

    __call__ = features

    def predict_proba(self, x, batch_size=500):
        """Class probabilities `(n, num_classes)` float64."""
        return self.features_and_probabilities(x, batch_size)[1]

    def classifier_score(self, x=None, labels=None, probabilities=None):
        """The classifier's verdict on (generated) images; see `classifier_score`."""
        if probabilities is None:
            probabilities = self.predict_proba(x)
        return classifier_score(probabilities, labels, self.class_prior)

    def __repr__(self):
        return (f"FeatureExtractor(dataset={self.meta.get('dataset')!r}, image_shape="
                f"{self.image_shape}, num_classes={self.num_classes}, test_accuracy="
                f"{self.test_accuracy})")


def _numpy(t):
    import keras

    return keras.ops.convert_to_numpy(t)


def classifier_score(probabilities, labels=None, class_prior=None):
    """Scores of generated images from a classifier's probabilities.

    - `mean_max_softmax`: mean over images of max_c p(c | x) (confident
      classification: recognisable images);
    - `class_histogram`: share of images per predicted class (a list; mode
      dropping shows as empty classes);
    - `class_tv`: total-variation distance ½ Σ_c |h_c − π_c| between that
      histogram and `class_prior` π (uniform when None), 0 when the classes come
      in the data's proportions;
    - `label_accuracy` (only with `labels`, for conditional models): share of
      images classified as the label they were generated for.

    Args:
        probabilities: array `(n, classes)`.
        labels: int array `(n,)` or None.
        class_prior: array `(classes,)` or None.

    Returns:
        dict of those entries (floats, and a list for the histogram).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    k = p.shape[1]
    predicted = p.argmax(axis=1)
    hist = np.bincount(predicted, minlength=k) / len(p)
    prior = np.full(k, 1.0 / k) if class_prior is None else np.asarray(class_prior, np.float64)
    out = {"mean_max_softmax": float(p.max(axis=1).mean()),
           "class_tv": float(0.5 * np.abs(hist - prior).sum()),
           "class_histogram": [float(v) for v in hist]}
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != p.shape[0]:
            raise ValueError(f"expected {p.shape[0]} labels, received {labels.shape[0]}")
        out["label_accuracy"] = float((predicted == labels).mean())
    return out


# --- data and cache ------------------------------------------------------------------------


def _is_path(source):
    return isinstance(source, os.PathLike) or (
        isinstance(source, str) and (os.sep in source or pathlib.Path(source).suffix != ""))


def _sibling_test_file(path):
    path = pathlib.Path(path)
    if "train" in path.name:
        candidate = path.with_name(path.name.replace("train", "test"))
        if candidate.is_file():
            return candidate
    return None


def resolve_dataset(dataset, test=None, data_dir=None, seed=0):
    """`(name, x_train, y_train, x_test, y_test)` for a feature network.

    `dataset`: `"digits"` or a tensorflow-datasets name (its own train/test
    splits), a labelled local `.npz`/IDX path, or a tuple `(x, y)`. `test`: the
    test data for a path or tuple (a path or `(x, y)`); by default a path's
    sibling with "train" replaced by "test" in its file name
    (`mnist_train.npz` -> `mnist_test.npz`), else a seeded 10 % held out of
    `dataset` (trained on the rest).
    """
    from keras_genmodels.data import load_images

    if isinstance(dataset, tuple):
        name = "arrays"
        x, y = load_images(dataset)
    elif _is_path(dataset):
        name = pathlib.Path(dataset).stem
        x, y = load_images(dataset)
        if test is None:
            test = _sibling_test_file(dataset)
    else:
        name = str(dataset)
        x, y = load_images(name, "train", data_dir=data_dir)
        if test is None:
            test = (name, "test")
    if y is None:
        raise DataError(f"expected labelled training data for a feature network, received "
                        f"{name!r} without labels (a .npz needs an array 'y')")
    if isinstance(test, tuple) and len(test) == 2 and isinstance(test[1], str):
        xt, yt = load_images(test[0], test[1], data_dir=data_dir)
    elif test is not None:
        xt, yt = load_images(test)
    else:
        order = np.random.RandomState(seed).permutation(len(x))
        cut = max(1, len(x) // 10)
        x, xt, y, yt = x[order[cut:]], x[order[:cut]], y[order[cut:]], y[order[:cut]]
    if yt is None:
        raise DataError(f"expected labelled test data for the feature network of {name!r}, "
                        f"received test images without labels")
    if tuple(xt.shape[1:]) != tuple(x.shape[1:]):
        raise DataError(f"expected test images of shape {tuple(x.shape[1:])} like the training "
                        f"images of {name!r}, received {tuple(xt.shape[1:])}")
    return name, x, y.astype("int32"), xt, yt.astype("int32")


def _data_hash(x, y):
    h = hashlib.sha256()
    h.update(repr((x.shape, str(x.dtype), y.shape)).encode())
    h.update(np.ascontiguousarray(x).data)
    h.update(np.ascontiguousarray(y.astype("int64")).data)
    return h.hexdigest()


def _file_hash(path):
    from keras_genmodels.files import sha256_file

    return sha256_file(path)


def _slug(name):
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return keep[:40] or "data"


def _load_entry(entry, expected):
    """The cached `(model, meta)` at `entry`, or `(None, reason)` when missing/stale/corrupt."""
    import keras

    meta_file, model_file = entry / "meta.json", entry / "model.keras"
    if not meta_file.is_file() and not model_file.exists():
        return None, None
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as err:
        return None, f"unreadable meta.json ({err})"
    for field, value in expected.items():
        if meta.get(field) != value:
            return None, f"stale: {field} is {meta.get(field)!r}, expected {value!r}"
    if not model_file.is_file():
        return None, "model.keras is missing"
    if _file_hash(model_file) != meta.get("model_sha256"):
        return None, "model.keras does not match its recorded checksum"
    try:
        model = keras.models.load_model(model_file, compile=False)
    except Exception as err:  # noqa: BLE001 -- any failure to load means a corrupt entry
        return None, f"model.keras does not load ({type(err).__name__}: {err})"
    return model, meta


def feature_extractor(dataset="digits", test=None, *, data_dir=None, cache_dir=None,
                      rebuild=False, epochs=None, width=32, feature_units=128, seed=0,
                      max_train=None, verbose=0):
    """The feature network of `dataset`: loaded from the cache, or trained and cached.

    Args:
        dataset: `"digits"`, a tensorflow-datasets name (`"mnist"`,
            `"fashion_mnist"`, `"cifar10"`, ...; offline these need `data_dir`),
            a labelled local `.npz` (arrays `x`, `y`) or IDX path, or `(x, y)`.
        test: test data for a path or tuple: a path or `(x, y)`. Default: the
            path with "train" replaced by "test" in its file name when that file
            exists, else a seeded 10 % of `dataset` (see `resolve_dataset`).
        data_dir: str or None. tensorflow-datasets folder.
        cache_dir: folder of the cache. Default: `default_cache_dir()`.
        rebuild: bool. Retrain even when a valid cache entry exists.
        epochs: int or None. At most this many epochs (early stopping).
            Default: max(12, ⌈3000 / steps per epoch⌉).
        width: int. First-block filters. Defaults to `32`.
        feature_units: int. Feature dimension. Defaults to `128`.
        seed: int. Seeds the weights, dropout, shuffling and held-out slice.
        max_train: int or None. Train on the first `max_train` images only.
        verbose: int. Keras `fit` verbosity; `>= 1` also prints cache events.

    Returns:
        a `FeatureExtractor`.

    Example:
    ```python
    fx = feature_extractor("../shared/data/mnist_train.npz")   # trains once, ~3 CPU min
    real, fake = fx.features(x_test), fx.features(gan.sample(10000))
    print(fx.test_accuracy, frechet_distance(real, fake))
    ```
    """
    import keras

    name, x, y, xt, yt = resolve_dataset(dataset, test, data_dir, seed)
    if max_train:
        x, y = x[:int(max_train)], y[:int(max_train)]
    if len(x) < 20:
        raise DataError(f"expected at least 20 training images for a feature network, "
                        f"received {len(x)}")
    held = max(1, min(5000, len(x) // 10))
    steps = -(-(len(x) - held) // 128)
    epochs = int(epochs) if epochs else max(12, -(-3000 // steps))
    patience = max(3, -(-1000 // steps))
    recipe = {"version": RECIPE_VERSION, "epochs": epochs, "patience": patience,
              "width": int(width),
              "feature_units": int(feature_units), "seed": int(seed)}
    data_hash = _data_hash(x, y)
    key = hashlib.sha256(json.dumps([recipe, data_hash], sort_keys=True).encode()).hexdigest()
    root = pathlib.Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    entry = root / f"{_slug(name)}-{key[:16]}"
    expected = {"key": key, "recipe": recipe, "data_sha256": data_hash}
    if not rebuild:
        model, meta = _load_entry(entry, expected)
        if model is not None:
            return FeatureExtractor(model, meta, entry)
        if meta is not None:
            warnings.warn(f"rebuilding the feature network at {entry}: {meta}", stacklevel=2)

    num_classes = int(max(y.max(), yt.max())) + 1
    if verbose:
        print(f"training the feature network of {name!r} ({len(x)} images, "
              f"{num_classes} classes) into {entry}")
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    model = build_feature_network(x.shape[1:], num_classes, width, feature_units)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    order = np.random.RandomState(seed).permutation(len(x))
    val, tr = order[:held], order[held:]
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    slow_down = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3,
                                                  patience=max(1, patience // 3), min_lr=1e-5)
    history = model.fit(x[tr], y[tr], batch_size=128, epochs=int(epochs), verbose=verbose,
                        validation_data=(x[val], y[val]), callbacks=[stop, slow_down])
    test_accuracy = float(model.evaluate(xt, yt, batch_size=500, verbose=0)[1])
    meta = {**expected, "dataset": name, "image_shape": list(x.shape[1:]),
            "num_classes": num_classes, "train_size": int(len(tr)),
            "validation_size": int(held), "test_size": int(len(xt)),
            "test_accuracy": test_accuracy,
            "epochs_run": len(history.history.get("loss", [])),
            "validation_loss": float(min(history.history.get("val_loss", [np.nan]))),
            "class_prior": [float(v) for v in np.bincount(y, minlength=num_classes) / len(y)],
            "train_seconds": round(time.perf_counter() - start, 1),
            "backend": keras.backend.backend(), "keras_version": keras.__version__}
    _write_entry(entry, model, meta)
    if verbose:
        print(f"feature network of {name!r}: test accuracy {test_accuracy:.4f}")
    return FeatureExtractor(model, meta, entry)


def _write_entry(entry, model, meta):
    """Write `model.keras` + `meta.json` into a temporary folder, then rename it to `entry`."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}."))
    try:
        model.save(tmp / "model.keras")
        meta["model_sha256"] = _file_hash(tmp / "model.keras")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:  # another process wrote the entry meanwhile: keep either copy
            if not (entry / "meta.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
