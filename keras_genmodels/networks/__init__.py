"""Network builders: functional `keras.Model`s built from `keras.Input`.

One module per family; models import the builders from here.

- `autoencoders`: dense and convolutional encoders/decoders (autoencoders, VAE).
- `gan`: MLP and DCGAN generators/discriminators, PacGAN packing.
- `stackgan`: StackGAN's conditioning augmentation, stage-I/II generators, text-conditioned D.
"""

from keras_genmodels.networks.autoencoders import (conv_decoder, conv_encoder,
                                                   dense_decoder, dense_encoder)

__all__ = ["conv_decoder", "conv_encoder", "dense_decoder", "dense_encoder"]
