"""GAN objectives from discriminator *logits*, as pure `keras.ops` functions.

The discriminator outputs a logit `l = D_logit(x)` and `D(x) = sigmoid(l)`.
Every log-probability is written with `softplus`, which never takes the
log of a number that has underflowed to 0:

    log D(x)       = log sigmoid(l)     = -softplus(-l)
    log(1 - D(x))  = log sigmoid(-l)    = -softplus(l)

All functions average over the batch and return a scalar.

The hinge loss (Lim & Ye 2017; Miyato et al. 2018) reads the logit as a
real-valued score instead.

References:
    Goodfellow et al. (2014), Generative Adversarial Nets.
    Gulrajani et al. (2017), Improved Training of Wasserstein GANs.
    Lim & Ye (2017), Geometric GAN.
    Miyato et al. (2018), Spectral Normalization for Generative Adversarial Networks.
    Mescheder et al. (2018), Which Training Methods for GANs do actually Converge?
"""

from keras import ops


def discriminator_loss(real_logits, fake_logits):
    """Negative of the discriminator's value function (Goodfellow et al., Eq. 1).

        L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]
            =  E_x[softplus(-l_real)] + E_z[softplus(l_fake)].

    At the game's equilibrium (p_g = p_data, D = 1/2) it equals 2 log 2.

    Args:
        real_logits: tensor `(batch, 1)` or `(batch,)`. Logits on data.
        fake_logits: tensor `(batch', 1)` or `(batch',)`. Logits on samples.

    Returns:
        Scalar tensor.

    Example:
    >>> from keras import ops
    >>> round(float(discriminator_loss(ops.zeros((4, 1)), ops.zeros((4, 1)))), 4)
    1.3863
    """
    return (ops.mean(ops.softplus(-real_logits))
            + ops.mean(ops.softplus(fake_logits)))


def generator_minimax_loss(fake_logits):
    """The generator's side of the minimax game: minimise E_z[log(1 - D(G(z)))].

        L_G = E_z[log(1 - D(G(z)))] = -E_z[softplus(l_fake)].

    Its gradient vanishes when D confidently rejects the samples
    (l_fake -> -inf), which is early in training ("saturation").

    Args:
        fake_logits: tensor `(batch, 1)` or `(batch,)`.

    Returns:
        Scalar tensor (<= 0).
    """
    return -ops.mean(ops.softplus(fake_logits))


def generator_non_saturating_loss(fake_logits):
    """The non-saturating generator loss: maximise E_z[log D(G(z))].

        L_G = -E_z[log D(G(z))] = E_z[softplus(-l_fake)].

    Same fixed point as the minimax loss, strong gradients when D rejects
    the samples (Goodfellow et al. 2014, Sec. 3).

    Args:
        fake_logits: tensor `(batch, 1)` or `(batch,)`.

    Returns:
        Scalar tensor (>= 0).
    """
    return ops.mean(ops.softplus(-fake_logits))


def discriminator_hinge_loss(real_logits, fake_logits):
    """Hinge loss of the discriminator (Lim & Ye 2017; Miyato et al. 2018, Eq. 17).

        L_D = E_x[max(0, 1 - l_real)] + E_z[max(0, 1 + l_fake)].

    Scores beyond the margins (l_real >= 1, l_fake <= -1) contribute nothing,
    so D stops pushing on samples it already separates.

    Args:
        real_logits: tensor `(batch, 1)` or `(batch,)`. Scores on data.
        fake_logits: tensor `(batch', 1)` or `(batch',)`. Scores on samples.

    Returns:
        Scalar tensor (>= 0; 2 when every score is 0).

    Example:
    >>> from keras import ops
    >>> float(discriminator_hinge_loss(ops.array([2.0, 0.5]), ops.array([-2.0, 0.0])))
    0.75
    """
    return (ops.mean(ops.relu(1.0 - real_logits))
            + ops.mean(ops.relu(1.0 + fake_logits)))


def generator_hinge_loss(fake_logits):
    """Generator loss paired with the hinge discriminator loss: L_G = -E_z[l_fake]
    (Miyato et al. 2018, Eq. 18; the same form as the WGAN generator loss).

    Args:
        fake_logits: tensor `(batch, 1)` or `(batch,)`.

    Returns:
        Scalar tensor.
    """
    return -ops.mean(fake_logits)


GENERATOR_LOSSES = {
    "minimax": generator_minimax_loss,
    "non_saturating": generator_non_saturating_loss,
    "hinge": generator_hinge_loss,
}

DISCRIMINATOR_LOSSES = {
    "logistic": discriminator_loss,
    "hinge": discriminator_hinge_loss,
}


def wasserstein_critic_loss(real_scores, fake_scores):
    """Negative Kantorovich-Rubinstein estimate, minimised by the critic f.

        L_f = E_z[f(G(z))] - E_x[f(x)]   (the -W_1 estimate for 1-Lipschitz f).

    Args:
        real_scores: tensor `(batch, 1)`. Critic values on data.
        fake_scores: tensor `(batch', 1)`. Critic values on samples.

    Returns:
        Scalar tensor.
    """
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """Generator loss of the WGAN: L_G = -E_z[f(G(z))].

    Args:
        fake_scores: tensor `(batch, 1)`.

    Returns:
        Scalar tensor.
    """
    return -ops.mean(fake_scores)


def gradient_penalty(gradients, target=1.0):
    """Two-sided gradient penalty of WGAN-GP (Gulrajani et al., Eq. 3).

        GP = E_x̂[(||∇_x̂ f(x̂)||_2 - target)^2],

    where `gradients` holds ∇_x̂ f(x̂) per sample and the norm is taken over
    every non-batch axis. A tiny epsilon inside the square root keeps the
    derivative of the norm finite at 0.

    Args:
        gradients: tensor `(batch, ...)`. Input gradients of the critic.
        target: float. The target norm. Defaults to 1.

    Returns:
        Scalar tensor.

    Example:
    >>> from keras import ops
    >>> float(gradient_penalty(ops.ones((2, 4)) * 0.5))  # norms are 1
    0.0
    """
    flat = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    norms = ops.sqrt(ops.sum(ops.square(flat), axis=1) + 1e-12)
    return ops.mean(ops.square(norms - target))


def r1_penalty(gradients):
    """Mean squared input-gradient norm on real data (Mescheder et al. 2018, Eq. 9).

        R1 = E_x~data[||∇_x l(x)||_2^2],

    where `gradients` holds ∇_x l(x) of D's logit per (packed) real sample and
    the norm is taken over every non-batch axis. The regulariser added to D's
    loss is (gamma / 2) * R1 (`GAN(r1_weight=gamma)`): it penalises D for
    being non-flat on the data manifold, which makes the non-saturating game
    locally convergent.

    Args:
        gradients: tensor `(batch, ...)`. Input gradients of D's logit at real
            samples.

    Returns:
        Scalar tensor.

    Example:
    >>> from keras import ops
    >>> float(r1_penalty(ops.ones((2, 4)) * 0.5))  # squared norms are 1
    1.0
    """
    flat = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    return ops.mean(ops.sum(ops.square(flat), axis=1))
