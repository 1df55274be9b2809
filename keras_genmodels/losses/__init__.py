"""Losses and penalties as pure `keras.ops` functions, one module per kind.

- `reconstruction`: MSE and binary cross-entropy per sample.
- `penalties`: sparsity KL / L1, contractive ||dh/dx||_F^2 (closed form, exact, estimates).
- `kl`: Gaussian KL, Bernoulli and Gaussian log-likelihoods (VAE).
- `adversarial`: GAN losses from logits (minimax, non-saturating, Wasserstein, gradient penalty).
"""
