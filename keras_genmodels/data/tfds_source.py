"""Image datasets from tensorflow-datasets (tfds) by name, failing fast when offline.

Offline, `tfds.load(name)` retries its downloads for about 200 s before failing (urllib3
retries each file 10 times with backoff). Here: (1) read data already prepared in `data_dir`
(`download=False`); (2) only when that fails, check within a few seconds that the download
host answers, and raise `DataError` naming the alternatives if it does not; (3) download.
"""

import difflib
import os
import socket
import threading
import urllib.parse
import urllib.request

import numpy as np

from keras_genmodels.data.errors import DataError

DOWNLOAD_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 3.0
OFFLINE_ALTERNATIVES = (
    "use source='digits' (scikit-learn's bundled 8x8 digits, offline), or a local file: a .npz "
    "with arrays x (N, H, W[, C]) uint8 and optional y, or an MNIST-style IDX file such as "
    "train-images-idx3-ubyte.gz; or prepare the dataset with tfds on a machine with network "
    "access and pass its folder as data_dir"
)


class ReachabilityProbe:
    """Background TCP connect (DNS included) to a host, bounded by `timeout` seconds in total.

    The connect runs in a daemon thread, so a resolver that hangs cannot delay the caller for
    longer than `timeout`. An HTTPS proxy from the environment is probed instead of the host.

    Example:

    >>> probe = ReachabilityProbe("storage.googleapis.com", 443)
    >>> ok, reason = probe.result()
    """

    def __init__(self, host, port, timeout=PROBE_TIMEOUT_S):
        proxy = urllib.request.getproxies().get("https")
        if proxy:
            parsed = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
            host, port = parsed.hostname or host, parsed.port or 443
        self.target = f"{host}:{port}"
        self.timeout = float(timeout)
        self._outcome = None
        self._thread = threading.Thread(target=self._run, args=(host, port), daemon=True)
        self._thread.start()

    def _run(self, host, port):
        try:
            with socket.create_connection((host, port), timeout=self.timeout):
                self._outcome = (True, "")
        except OSError as e:
            self._outcome = (False, f"{type(e).__name__}: {e}")

    def result(self):
        """`(reachable, reason)`; waits at most `timeout` seconds (plus 0.2 s) from start."""
        self._thread.join(self.timeout + 0.2)
        if self._outcome is None:
            return False, f"no answer within {self.timeout:g} s"
        return self._outcome


def host_reachable(host=DOWNLOAD_HOST[0], port=DOWNLOAD_HOST[1], timeout=PROBE_TIMEOUT_S):
    """Whether a TCP connection to `host:port` opens within `timeout` s: `(bool, reason)`."""
    return ReachabilityProbe(host, port, timeout).result()


def start_probe():
    """Start probing the tfds download host (module-level so tests can replace it)."""
    return ReachabilityProbe(*DOWNLOAD_HOST)


def known_names():
    """Names of the datasets registered in tensorflow-datasets (no network access)."""
    import tensorflow_datasets as tfds

    return tfds.list_builders(with_community_datasets=False)


def is_tfds_name(name, data_dir=None):
    """Whether `name` (optionally `name/config:version`) is a registered tfds dataset, or one
    prepared in `data_dir` (or tfds' default folder) without registered code."""
    import tensorflow_datasets as tfds

    base = base_name(name)
    if not base or base in set(known_names()):
        return bool(base)
    root = os.path.expanduser(os.fspath(data_dir)) if data_dir else tfds.core.constants.DATA_DIR
    return os.path.isdir(os.path.join(root, base))


def base_name(name):
    return name.split("/")[0].split(":")[0]


def unknown_name_message(name, builtin):
    choices = list(dict.fromkeys(list(builtin) + list(known_names())))
    close = difflib.get_close_matches(base_name(name), choices, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (f"expected 'digits', a tensorflow-datasets image dataset name (e.g. "
            f"{', '.join(b for b in builtin if b != 'digits')}; any name in "
            f"tfds.list_builders()) or a path to an existing .npz/IDX file, received "
            f"{name!r} (not a file, not a known dataset){hint}")


def _pick_features(name, features):
    import tensorflow_datasets as tfds

    items = dict(features.items()) if hasattr(features, "items") else {}
    images = [k for k, f in items.items() if isinstance(f, tfds.features.Image)]
    if not images:
        raise DataError(f"expected an image dataset (a tfds Image feature), received "
                        f"{name!r} with features {sorted(items)}")
    image_key = "image" if "image" in images else images[0]
    labels = [k for k, f in items.items() if isinstance(f, tfds.features.ClassLabel)]
    label_key = "label" if "label" in labels else (labels[0] if labels else None)
    return image_key, label_key


def load_tfds(name, split="train", data_dir=None, builtin=()):
    """Images and labels `(x, y)` as numpy arrays from a tfds image dataset.

    Args:
        name: str. A tfds name, optionally with config/version (`"mnist"`, `"mnist:3.*.*"`).
        split: str. A tfds split expression (`"train"`, `"test"`, `"train[:10%]"`, `"all"`).
        data_dir: str or None. tfds data folder (None: tfds default, `~/tensorflow_datasets`).
        builtin: names shown in the error for an unknown name.

    Returns:
        `(x, y)`: x uint8 (N, H, W, C) as stored by tfds, y (N,) int or None.
    """
    import tensorflow_datasets as tfds

    if not is_tfds_name(name, data_dir):
        raise DataError(unknown_name_message(name, builtin))
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 - bad config/version strings raise various types
        raise DataError(f"expected a valid tensorflow-datasets name, received {name!r} "
                        f"({type(e).__name__}: {e})") from None
    image_key, label_key = _pick_features(name, builder.info.features)
    # The probe runs while tfds (and TensorFlow) import and look for prepared data.
    probe = None if _safe_is_prepared(builder) else start_probe()
    load = dict(split=split, data_dir=data_dir, batch_size=4096, shuffle_files=False)
    try:
        ds = tfds.load(name, download=False, **load)
    except AssertionError as e:  # tfds' "could not find data in <dir>" when not prepared
        if "could not find data" not in str(e):
            raise DataError(f"expected a readable tfds dataset {name!r}, received "
                            f"AssertionError: {e}") from None
        probe = probe or start_probe()
        reachable, reason = probe.result()
        if not reachable:
            raise DataError(
                f"cannot load tensorflow-datasets dataset {name!r}: expected prepared data in "
                f"{builder.data_dir} or network access to download it, received neither (no "
                f"prepared data; download host {probe.target} "
                f"unreachable: {reason}). Alternatives: {OFFLINE_ALTERNATIVES}") from None
        try:
            ds = tfds.load(name, download=True, **load)
        except Exception as e2:  # noqa: BLE001
            raise DataError(f"cannot download tensorflow-datasets dataset {name!r} into "
                            f"{builder.data_dir}: {type(e2).__name__}: {e2}. Alternatives: "
                            f"{OFFLINE_ALTERNATIVES}") from None
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - e.g. an unknown split name
        splits = sorted(builder.info.splits) if builder.info.splits else []
        raise DataError(f"expected a split of {name!r} among {splits or ['train', 'test']} (or a "
                        f"tfds split expression such as 'train[:10%]'), received split={split!r} "
                        f"({type(e).__name__}: {e})") from None
    return _to_numpy(ds, name, image_key, label_key)


def _safe_is_prepared(builder):
    try:
        return bool(builder.is_prepared())
    except Exception:  # noqa: BLE001
        return False


def _to_numpy(ds, name, image_key, label_key):
    import tensorflow_datasets as tfds

    xs, ys = [], []
    try:
        for batch in tfds.as_numpy(ds):
            xs.append(batch[image_key])
            if label_key is not None:
                ys.append(batch[label_key])
    except Exception as e:  # noqa: BLE001 - e.g. images of varying size cannot be batched
        raise DataError(f"expected {name!r} images of one fixed shape, received an error while "
                        f"reading them ({type(e).__name__}: {str(e)[:200]})") from None
    if not xs:
        raise DataError(f"expected at least one image in {name!r}, received an empty split")
    x = np.concatenate(xs)
    y = np.concatenate(ys) if ys else None
    return x, y



def prepare_or_fail_fast(builder, name, alternatives):
    """Download and prepare `builder` unless prepared; offline, fail in seconds.

    Raises `DataError` naming the data folder, the unreachable host and
    `alternatives` (what the user can pass instead) when there is neither
    prepared data nor network access, or when the download itself fails.
    """
    try:
        prepared = bool(builder.is_prepared())
    except Exception:  # noqa: BLE001
        prepared = False
    if prepared:
        return
    probe = start_probe()
    reachable, reason = probe.result()
    if not reachable:
        raise DataError(
            f"cannot load tensorflow-datasets dataset {name!r}: expected prepared data in "
            f"{builder.data_dir} or network access to download it, received neither "
            f"(download host {probe.target} unreachable: {reason}). Alternatives: "
            f"{alternatives}")
    try:
        builder.download_and_prepare()
    except Exception as e:  # noqa: BLE001
        raise DataError(f"cannot download tensorflow-datasets dataset {name!r}: "
                        f"{type(e).__name__}: {str(e)[:300]}") from None
