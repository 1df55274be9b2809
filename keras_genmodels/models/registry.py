"""Import every model module so their classes are registered for loading.

`keras.models.load_model` finds a class by its registered name, which
exists only once its module has been imported; this module imports them
all. Families whose module is missing (optional extras) are skipped.
"""

import importlib

MODEL_MODULES = (
    "keras_genmodels.models.autoencoder",
    "keras_genmodels.models.regularized",
    "keras_genmodels.models.vae",
    "keras_genmodels.models.gan",
    "keras_genmodels.models.seq2seq",
    "keras_genmodels.models.masked_autoencoder",
    "keras_genmodels.models.pix2pix",
    "keras_genmodels.models.super_resolution",
    "keras_genmodels.models.stackgan",
    "keras_genmodels.models.text_encoder",
)

for _module in MODEL_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as err:
        if err.name != _module:
            raise
