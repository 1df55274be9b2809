"""The one exception type raised by the data package."""


class DataError(ValueError):
    """Bad or unavailable training data, raised before any training starts.

    A subclass of `ValueError`, so `except ValueError` also catches it. Messages say what was
    expected and what was received, e.g. "expected x with values in [0, 1], received min -0.5".

    Example:

    >>> from keras_genmodels.data import DataError, load_images
    >>> try:
    ...     load_images("no_such_file.npz")
    ... except DataError as e:
    ...     print("cannot load:", e)
    """
