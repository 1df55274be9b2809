"""TensorFlow implementations: `tf.GradientTape` and `ForwardAccumulator`."""

import keras
import tensorflow as tf


def jvp(fn, x, v):
    with tf.autodiff.ForwardAccumulator(primals=x, tangents=v) as acc:
        y = fn(x)
    return y, acc.jvp(y)


def vjp(fn, x, u):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x, output_gradients=u)


def batch_jacobian(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.batch_jacobian(y, x)


def input_gradient(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)


def value_and_grad(fn, variables):
    with tf.GradientTape() as tape:
        loss, aux = fn()
    return loss, aux, tape.gradient(loss, variables)


class AdversarialTrainer:
    """`train_step(data)` for the TF trainer (traced by `tf.function`)."""

    def train_step(self, data):
        return self.run_phases(data)


def is_symbolic(x):
    """True for a `keras.KerasTensor` or a tensor of a `tf.function` graph."""
    return isinstance(x, keras.KerasTensor) or (tf.is_tensor(x) and tf.is_symbolic_tensor(x))


def assert_in_range(x, low, high, message):
    """`x` after `tf.debugging.Assert(low <= x < high)`: in a graph (an exported
    SavedModel) a bad value fails the call with `InvalidArgumentError: <message>
    received min m, max M`."""
    x = tf.convert_to_tensor(x)
    lo, hi = tf.reduce_min(x), tf.reduce_max(x)   # an empty x passes
    ok = tf.logical_and(lo >= tf.cast(low, x.dtype), hi < tf.cast(high, x.dtype))
    check = tf.debugging.Assert(ok, [message, "received min", lo, "max", hi])
    with tf.control_dependencies([check]):
        return tf.identity(x)


# --- data parallelism (tf.distribute.MirroredStrategy) ----------------------
# Under MirroredStrategy the training step runs once per replica on that
# replica's contiguous share of the global batch, and the optimizer all-reduces
# gradients as a SUM. These helpers let a loss written for the whole batch
# give exactly the single-device step; outside a replica context (one device,
# evaluation, inference) they are identities.


def _replica():
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None, 1
    return ctx, ctx.num_replicas_in_sync


def num_replicas():
    """Replicas computing the current step together (1 outside MirroredStrategy)."""
    return _replica()[1]


def replica_share(loss, count=None):
    """This replica's share of the global-batch loss: the shares sum to it.

    `loss` is a mean over this replica's samples. Without `count` the
    replicas are assumed to hold equally many samples: `loss / replicas`.
    With `count` (this replica's denominator of the mean: samples, summed
    sample weights, unmasked tokens) the share is
    `loss * count / sum_over_replicas(count)`, exact for unequal shares too
    (one scalar all-reduce by the strategy). Summed by the gradient
    all-reduce, the shares give the gradient of the global-batch mean --
    not the sum of the replica means.
    """
    ctx, n = _replica()
    if ctx is None:
        return loss
    loss = tf.convert_to_tensor(loss)
    if count is None:
        return loss / tf.cast(n, loss.dtype)
    count = tf.stop_gradient(tf.cast(count, loss.dtype))
    total = ctx.all_reduce(tf.distribute.ReduceOp.SUM, count)
    return loss * count / tf.maximum(total, tf.ones_like(total))


def replica_rows(x, axis=0):
    """This replica's contiguous `1 / replicas` of `x` along `axis` (the rows a
    global-batch tensor, e.g. noise drawn for the global batch, has on it)."""
    ctx, n = _replica()
    if ctx is None:
        return x
    x = tf.convert_to_tensor(x)
    size = tf.shape(x)[axis] // n
    begin = [0] * x.shape.rank
    sizes = [-1] * x.shape.rank
    begin[axis] = tf.cast(ctx.replica_id_in_sync_group, tf.int32) * size
    sizes[axis] = size
    return tf.slice(x, tf.stack(begin), tf.stack(sizes))


def all_replica_rows(x):
    """`x` of every replica concatenated along axis 0, in replica order: the
    global batch (the strategy's all-gather)."""
    ctx, _ = _replica()
    if ctx is None:
        return x
    return ctx.all_gather(tf.convert_to_tensor(x), axis=0)
