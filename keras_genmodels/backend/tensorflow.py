"""TensorFlow implementations: `tf.GradientTape` and `ForwardAccumulator`."""

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
