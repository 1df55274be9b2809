"""Registry of CLI tasks: model name -> module implementing it.

A task module defines `add_arguments(parser)` (its model's options) and
`train(args)`; the CLI imports it only after `--backend` has been applied.
"""

TASKS = {
    "autoencoder": "keras_genmodels.tasks.autoencoder",
    "sparse_autoencoder": "keras_genmodels.tasks.regularized",
    "denoising_autoencoder": "keras_genmodels.tasks.regularized",
    "contractive_autoencoder": "keras_genmodels.tasks.regularized",
    "vae": "keras_genmodels.tasks.vae",
    "gan": "keras_genmodels.tasks.gan",
    "dcgan": "keras_genmodels.tasks.gan",
    "cgan": "keras_genmodels.tasks.gan",
    "wgan_gp": "keras_genmodels.tasks.gan",
    "seq2seq": "keras_genmodels.tasks.seq2seq",
    "masked-ae": "keras_genmodels.tasks.masked_ae",
    "srgan": "keras_genmodels.tasks.srgan", "srresnet": "keras_genmodels.tasks.srgan",
    "pix2pix": "keras_genmodels.tasks.pix2pix",
    "stackgan": "keras_genmodels.tasks.stackgan",
}
