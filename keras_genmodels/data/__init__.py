"""Data for keras_genmodels: tf.data pipelines of images in [0, 1] and toy distributions.

Importing this package does not import TensorFlow or Keras (the CLI sets KERAS_BACKEND first);
TensorFlow is imported when a pipeline is built.

- `load_images(source, split)` -> `(x, y)` numpy: x float32 (N, H, W, C) in [0, 1].
- `image_dataset(source, ...)` -> batched, shuffled, prefetched `tf.data.Dataset`.
- `toy_distribution(name)` / `toy_dataset(name)`: ring8, grid25, gaussian1d.
- `stacked_mnist(source)` / `stacked_mnist_dataset(source)`: Stacked MNIST (1,000 modes).
- `DataError`: every data problem, raised before training.
"""

from keras_genmodels.data.errors import DataError
from keras_genmodels.data.images import DATASETS, image_dataset, load_images
from keras_genmodels.data.toy import (TOY_DISTRIBUTIONS, ToyDistribution, toy_dataset,
                                      toy_distribution)
from keras_genmodels.data.stacked_mnist import stacked_mnist, stacked_mnist_dataset

__all__ = ["DATASETS", "DataError", "TOY_DISTRIBUTIONS", "ToyDistribution", "image_dataset",
           "load_images", "toy_dataset", "toy_distribution"]
__all__ += ["stacked_mnist", "stacked_mnist_dataset"]
from keras_genmodels.data.paired import PAIRS, paired_dataset  # noqa: E402
__all__ += ["PAIRS", "paired_dataset"]
