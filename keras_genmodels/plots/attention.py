"""Attention heat map of one translated sentence, saved as PNG."""

import numpy as np

from keras_genmodels.plots.grid import save_figure


def save_attention_heatmap(source_tokens, output_tokens, weights, path, title=None):
    """Save a heat map of attention `weights` `(len(output_tokens), len(source_tokens))`.

    Rows are output tokens (top to bottom), columns source tokens; a cell is the weight of
    that source token when the output token was produced. Spaces are shown as "␣".

    Example:

    >>> src, out, w = model.attention_map("5 марта 1991 г.")
    >>> save_attention_heatmap(src, out, w, "runs/seq2seq/attention.png")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.asarray(weights, dtype="float32")
    expected = (len(output_tokens), len(source_tokens))
    if weights.shape != expected:
        raise ValueError(f"expected weights of shape {expected} (outputs, sources), received "
                         f"{weights.shape}")
    show = lambda toks: [t.replace(" ", "␣") or "∅" for t in toks]  # noqa: E731
    fig, ax = plt.subplots(figsize=(max(3.0, 0.3 * expected[1] + 1.5),
                                    max(2.5, 0.3 * expected[0] + 1.2)))
    im = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(1e-6, float(weights.max()))
                   if weights.size else 1.0, aspect="auto")
    ax.set_xticks(range(expected[1]), show(source_tokens), fontsize=8)
    ax.set_yticks(range(expected[0]), show(output_tokens), fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return save_figure(fig, path)
