"""scikit-learn's bundled 8x8 handwritten digits: the offline default image data.

1,797 images of 8x8 pixels with values 0..16 (Alpaydin & Kaynak, UCI "Optical Recognition of
Handwritten Digits"), shipped inside scikit-learn, so no download is ever needed.
Splits: `train_test_split(X, y, test_size=0.2, random_state=0)` (no stratification) gives
"train" (1,437 images) and "test" (360); "all" is the whole set in its original order.
Check of the protocol: PCA fitted on train reconstructs test with mean squared error 0.0253
(8 components) and 0.0120 (16 components), pixels scaled to [0, 1].
"""

import numpy as np

from keras_genmodels.data.errors import DataError

SPLITS = ("train", "test", "all")
PIXEL_MAX = 16.0


def load_digits_split(split="train"):
    """Digits `(x, y)`: x uint8 (N, 8, 8, 1) with values 0..16 (divide by 16), y int32 (N,).

    Args:
        split: str. "train", "test" or "all".
    """
    if split not in SPLITS:
        raise DataError(f"expected split in {list(SPLITS)} for 'digits', received {split!r}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    if split != "all":
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
        x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    x = np.rint(x).astype(np.uint8).reshape(-1, 8, 8, 1)
    return x, y.astype(np.int32)
