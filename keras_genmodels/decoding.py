"""Greedy and beam-search decoding in `keras.ops` with a bounded `while_loop`.

The same code runs eagerly or compiled under TensorFlow, JAX and torch, and is traced into
the SavedModel export. A decoder is described by a step function

    step_fn(tokens, states) -> (logits, new_states, attention)
        tokens     int32 (N,)          previous output token of each row
        states     list of (N, ...)    recurrent state, batch-first
        logits     (N, V)              next-token scores
        attention  (N, T_s)            attention weights of this step (for pictures)

The loop runs at most `max_length` steps and stops early once every row has produced
`end_id`. Outputs are int32 `(batch, max_length)`: the generated tokens up to and including
`end_id`, then `pad_id` (0). Tokens listed in `banned_ids` (padding, start) are never emitted.
"""

from keras import ops

_NEG = -1e9


def _position_mask(i, length):
    return ops.cast(ops.equal(ops.arange(length, dtype="int32"), i), "int32")


def _ban(logits, banned_ids):
    if not banned_ids:
        return logits
    v = ops.shape(logits)[-1]
    banned = ops.zeros((v,), dtype="bool")
    for b in banned_ids:
        banned = ops.logical_or(banned, ops.equal(ops.arange(v, dtype="int32"), b))
    return ops.where(banned, ops.full_like(logits, _NEG), logits)


def greedy_decode(step_fn, states, batch_size, start_id, end_id, max_length,
                  source_length=None, banned_ids=(0,), pad_id=0):
    """Arg-max decoding.

    Args:
        step_fn: see module docstring.
        states: list of initial recurrent states, each `(batch, ...)`.
        batch_size: int or scalar tensor.
        start_id, end_id: int token ids.
        max_length: int. Maximum number of generated tokens (the end token included).
        source_length: int or None. When given, attention weights are also returned.
        banned_ids: ids never emitted (default: padding).

    Returns:
        `tokens` int32 `(batch, max_length)`, or `(tokens, attention)` with attention
        `(batch, max_length, source_length)` when `source_length` is given.
    """
    tokens = ops.full((batch_size,), start_id, dtype="int32")
    out = ops.zeros((batch_size, max_length), dtype="int32")
    finished = ops.zeros((batch_size,), dtype="bool")
    att = (ops.zeros((batch_size, max_length, source_length), dtype="float32")
           if source_length is not None else ops.zeros((1,), dtype="float32"))
    i0 = ops.convert_to_tensor(0, dtype="int32")

    def cond(i, tokens, states, out, finished, att):
        return ops.logical_and(ops.less(i, max_length),
                               ops.logical_not(ops.all(finished)))

    def body(i, tokens, states, out, finished, att):
        logits, states, weights = step_fn(tokens, list(states))
        logp = ops.log_softmax(_ban(ops.cast(logits, "float32"), banned_ids), axis=-1)
        nxt = ops.cast(ops.argmax(logp, axis=-1), "int32")
        nxt = ops.where(finished, ops.full_like(nxt, pad_id), nxt)
        pos = _position_mask(i, max_length)
        out = out + pos[None, :] * nxt[:, None]
        if source_length is not None:
            live = ops.cast(ops.logical_not(finished), "float32")[:, None, None]
            att = att + ops.cast(pos, "float32")[None, :, None] * live * ops.cast(
                weights, "float32")[:, None, :]
        finished = ops.logical_or(finished, ops.equal(nxt, end_id))
        return i + 1, nxt, tuple(states), out, finished, att

    _, _, _, out, _, att = ops.while_loop(
        cond, body, (i0, tokens, tuple(states), out, finished, att),
        maximum_iterations=max_length)
    return out if source_length is None else (out, att)


def _gather_rows(x, flat_index):
    return ops.take(x, flat_index, axis=0)


def beam_search_decode(step_fn, states, batch_size, start_id, end_id, max_length,
                       beam_width=4, length_penalty=0.0, banned_ids=(0,), pad_id=0):
    """Beam search with optional length normalisation.

    Each of the `beam_width` hypotheses per sentence is extended with every token; the
    `beam_width` best cumulative log-probabilities are kept. Finished hypotheses are
    extended only by padding at zero cost. The returned hypothesis maximises
    `log p(y) / len(y) ** length_penalty` (0.0 = raw log-probability, 1.0 = per-token
    average). With `beam_width=1` this is exactly greedy decoding.

    Args:
        step_fn: see module docstring; it receives `batch * beam_width` rows, and
            `states` must already be repeated `beam_width` times per sentence
            (`ops.repeat(s, beam_width, axis=0)`), as must anything `step_fn` closes over.
        states: list of initial states `(batch * beam_width, ...)`.
        batch_size: int or scalar tensor (sentences, not rows).
        beam_width: int >= 1.
        length_penalty: float >= 0.

    Returns:
        `tokens` int32 `(batch, max_length)`.
    """
    k = int(beam_width)
    if k < 1:
        raise ValueError(f"expected beam_width >= 1, received {beam_width}")
    rows = batch_size * k
    tokens = ops.full((rows,), start_id, dtype="int32")
    out = ops.zeros((rows, max_length), dtype="int32")
    finished = ops.zeros((rows,), dtype="bool")
    lengths = ops.zeros((rows,), dtype="float32")
    first = ops.convert_to_tensor([0.0] + [_NEG] * (k - 1), dtype="float32")
    scores = ops.reshape(ops.tile(first[None, :], (batch_size, 1)), (-1,))
    i0 = ops.convert_to_tensor(0, dtype="int32")
    base = ops.repeat(ops.arange(batch_size, dtype="int32") * k, k)     # (rows,)

    def cond(i, tokens, states, out, finished, lengths, scores):
        return ops.logical_and(ops.less(i, max_length),
                               ops.logical_not(ops.all(finished)))

    def body(i, tokens, states, out, finished, lengths, scores):
        logits, states, _ = step_fn(tokens, list(states))
        logp = ops.log_softmax(_ban(ops.cast(logits, "float32"), banned_ids), axis=-1)
        v = ops.shape(logp)[-1]
        pad_only = ops.where(ops.equal(ops.arange(v, dtype="int32"), pad_id), 0.0, _NEG)
        logp = ops.where(finished[:, None], pad_only[None, :], logp)
        cand = ops.reshape(scores[:, None] + logp, (-1, k * v))       # (B, K*V)
        top_scores, top_idx = ops.top_k(cand, k)                       # (B, K)
        top_idx = ops.cast(top_idx, "int32")
        parent = ops.reshape(top_idx // v, (-1,))
        nxt = ops.reshape(top_idx % v, (-1,))
        src = base + parent                                            # (rows,)
        out = _gather_rows(out, src)
        prev_finished = _gather_rows(finished, src)
        nxt = ops.where(prev_finished, ops.full_like(nxt, pad_id), nxt)
        out = out + _position_mask(i, max_length)[None, :] * nxt[:, None]
        lengths = _gather_rows(lengths, src) + ops.cast(ops.logical_not(prev_finished),
                                                        "float32")
        finished = ops.logical_or(prev_finished, ops.equal(nxt, end_id))
        states = tuple(_gather_rows(s, src) for s in states)
        return (i + 1, nxt, states, out, finished, lengths,
                ops.reshape(top_scores, (-1,)))

    _, _, _, out, _, lengths, scores = ops.while_loop(
        cond, body, (i0, tokens, tuple(states), out, finished, lengths, scores),
        maximum_iterations=max_length)
    if length_penalty:
        scores = scores / ops.power(ops.maximum(lengths, 1.0), length_penalty)
    best = ops.cast(ops.argmax(ops.reshape(scores, (-1, k)), axis=-1), "int32")
    flat = ops.arange(batch_size, dtype="int32") * k + best
    return _gather_rows(out, flat)
