"""Objectives of conditional image-to-image translation (pix2pix), in `keras.ops`.

With x the input image, y the target and G(x) the translation, a conditional
discriminator D(x, .) giving a map of patch logits (see
`networks.patchgan`), Isola et al. (2017, Eq. 4) train

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G),
    L_L1(G) = E_{x,y}[ ||y - G(x)||_1 ]                            (Eq. 3)

The discriminator minimises the conditional GAN loss on (input, output)
pairs, halved as in the paper ("we divide the objective by 2 while
optimizing D"); the generator minimises the non-saturating loss plus the
weighted L1 distance between its output and the target. Every mean is over
the batch and all pixels (or patch logits).
"""

from keras import ops

from keras_genmodels.losses import adversarial


def l1_distance(target, generated):
    """`mean |y - G(x)|` over batch and pixels: a scalar.

    Only the target and the generated image enter; the input x does not.

    Example:
    >>> from keras import ops
    >>> float(l1_distance(ops.zeros((2, 4, 4, 1)), ops.ones((2, 4, 4, 1))))
    1.0
    """
    return ops.mean(ops.abs(target - generated))


def conditional_discriminator_loss(real_logits, fake_logits):
    """`0.5 * (E[softplus(-D(x, y))] + E[softplus(D(x, G(x)))])` over patch logits."""
    return 0.5 * adversarial.discriminator_loss(real_logits, fake_logits)


def translation_generator_loss(fake_logits, target, generated, l1_weight=100.0,
                               adversarial_weight=1.0):
    """`(total, adversarial, l1)` of the generator:

        total = adversarial_weight * E[softplus(-D(x, G(x)))] + l1_weight * l1(y, G(x)).

    `fake_logits` None gives the L1-only objective (`adversarial` is then 0).
    """
    l1 = l1_distance(target, generated)
    if fake_logits is None:
        adv = ops.zeros_like(l1)
    else:
        adv = adversarial.generator_non_saturating_loss(fake_logits)
    return adversarial_weight * adv + l1_weight * l1, adv, l1
