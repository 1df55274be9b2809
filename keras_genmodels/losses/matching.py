"""Losses of text-conditioned GANs (StackGAN), as pure `keras.ops` functions.

The discriminator D(x, φ) outputs a logit for "x is a real image that matches the
text embedding φ". As in `losses.adversarial`, log-probabilities are written with
softplus: -log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l).

References:
    Reed et al. (2016), Generative Adversarial Text to Image Synthesis (GAN-CLS).
    Zhang et al. (2017), StackGAN, Sec. 3 and the authors' code (hanzhanggit/StackGAN).
"""

from keras import ops

from keras_genmodels.losses.kl import gaussian_kl


def matching_aware_terms(real_logits, wrong_logits, fake_logits):
    """The three binary cross-entropies of the matching-aware discriminator.

        real:  (real image, matching φ)    label 1   E[softplus(-l)] = E[-log D]
        wrong: (real image, mismatched φ)  label 0   E[softplus(l)]  = E[-log(1 - D)]
        fake:  (generated image, matching φ) label 0 E[softplus(l)]

    Args:
        real_logits, wrong_logits, fake_logits: tensors `(batch, 1)` or `(batch,)`;
            `wrong_logits` may be None (no mismatched pairs).

    Returns:
        dict `{"real", "wrong", "fake"}` of scalars (`"wrong"` is None when
        `wrong_logits` is None).
    """
    return {"real": ops.mean(ops.softplus(-real_logits)),
            "wrong": None if wrong_logits is None else ops.mean(ops.softplus(wrong_logits)),
            "fake": ops.mean(ops.softplus(fake_logits))}


def matching_aware_discriminator_loss(real_logits, wrong_logits, fake_logits):
    """Matching-aware discriminator loss (GAN-CLS; StackGAN's weighting).

        L_D = BCE(D(x, φ), 1) + ½ [BCE(D(x, φ'), 0) + BCE(D(G(z, ĉ), φ), 0)]

    with φ' a caption that does not describe x (the authors' code rolls the
    captions of the batch by one). Without mismatched pairs (`wrong_logits`
    None) it is the conditional GAN loss BCE(real, 1) + BCE(fake, 0).

    Args:
        real_logits, wrong_logits, fake_logits: see `matching_aware_terms`.

    Returns:
        Scalar tensor.

    Example:
    >>> from keras import ops
    >>> z = ops.zeros((4, 1))
    >>> round(float(matching_aware_discriminator_loss(z, z, z)), 4)  # 2 log 2
    1.3863
    """
    t = matching_aware_terms(real_logits, wrong_logits, fake_logits)
    if t["wrong"] is None:
        return t["real"] + t["fake"]
    return t["real"] + 0.5 * (t["wrong"] + t["fake"])


def conditioning_augmentation_kl(mean, log_var):
    """KL(N(μ(φ), diag σ²(φ)) || N(0, I)) per condition dimension, averaged over the batch.

        KL / d = (1 / d) · ½ Σ_j (σ_j² + μ_j² - 1 - log σ_j²)

    StackGAN's regulariser (Zhang et al. 2017, Eq. 3), normalised as in the authors' code
    (`reduce_mean` over batch *and* dimensions), which is what their weight λ = 2.0
    multiplies. The sum over dimensions (the KL itself) is `d` times this value; weighted
    by 2.0 it would outweigh the adversarial loss and keep ĉ from carrying the text.

    Args:
        mean: tensor `(batch, condition_dim)`. μ(φ).
        log_var: tensor `(batch, condition_dim)`. log σ²(φ).

    Returns:
        Scalar tensor (nats per dimension per caption).
    """
    mean = ops.convert_to_tensor(mean)
    return ops.mean(gaussian_kl(mean, log_var)) / mean.shape[-1]
