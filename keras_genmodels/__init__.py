"""keras_genmodels: classic generative models for Keras 3 on TF, JAX and torch.

Public names are resolved lazily (PEP 562), so `import keras_genmodels` does
not import Keras: the command line sets KERAS_BACKEND first.
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "Autoencoder": "keras_genmodels.models.autoencoder",
    "AdversarialModel": "keras_genmodels.models.adversarial",
    "Phase": "keras_genmodels.models.adversarial",
    "GenerativeModel": "keras_genmodels.models.base",
    "export_model": "keras_genmodels.export",
    "SparseAutoencoder": "keras_genmodels.models.regularized",
    "DenoisingAutoencoder": "keras_genmodels.models.regularized",
    "ContractiveAutoencoder": "keras_genmodels.models.regularized",
    "Corruption": "keras_genmodels.layers.corruption",
    "VAE": "keras_genmodels.models.vae",
    "Seq2Seq": "keras_genmodels.models.seq2seq",
    "GAN": "keras_genmodels.models.gan",
    "WGANGP": "keras_genmodels.models.gan",
    "MaskedSequenceAutoencoder": "keras_genmodels.models.masked_autoencoder",
    "StackGAN": "keras_genmodels.models.stackgan",
    "TextImageEncoder": "keras_genmodels.models.text_encoder",
    "Pix2Pix": "keras_genmodels.models.pix2pix",
    "SuperResolution": "keras_genmodels.models.super_resolution",
}
_SUBMODULES = ("backend", "data", "export", "losses", "metrics", "models", "networks",
               "plots")


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"keras_genmodels.{name}")
    raise AttributeError(f"module 'keras_genmodels' has no attribute {name!r}")


def __dir__():
    return sorted(list(_PUBLIC) + list(_SUBMODULES) + ["__version__"])


__all__ = sorted(_PUBLIC)
