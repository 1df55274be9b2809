"""Losses and penalties as pure `keras.ops` functions, one module per kind.

- `reconstruction`: MSE and binary cross-entropy per sample.
"""
