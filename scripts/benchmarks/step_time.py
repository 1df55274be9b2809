"""Training step time of the package's `fit` against a hand-written native loop.

For each task and backend (each backend in its own subprocess) this builds

- `package`: the keras_genmodels model trained by `fit` with default settings
  (`steps_per_execution=1`);
- `tuned`: the same, with the recommended settings of
  `keras_genmodels.tasks.common.recommended_steps_per_execution` (TF/JAX:
  `steps_per_execution=10`; torch: Keras allows only 1, so same as `package`);
- `keras`: the same networks trained by a plain `keras.Model` with no package
  code (`compile(loss="mse")` for the autoencoder; the Keras-guide GAN
  `train_step` for the GANs, TF and torch only), same settings as `tuned`;
- `native`: the same networks written in the backend's own framework --
  `tf.function` + `tf.Variable`s, `jax.jit` with a hand-written Adam (optax
  is not installed), `torch.nn` + `torch.optim.Adam` -- with the initial
  weights copied from the Keras model,

feeds all of them the same in-memory numpy batches in the same order, checks
that the first losses of `package` and `native` agree (the same computation:
same weights, data and noise), then times them interleaved (`--rounds`
rounds after a warm-up round; each round runs every variant for `--steps`
steps; a step's time is measured after the first execution, so `fit`'s
set-up is not counted) and prints `median (min-max)` of the per-round ratios
variant / native. torch runs with `torch.set_num_threads(1)` on both sides.

Tasks: `ring_gan` (MLP GAN 2-128-128-2 / 2-128-128-1 on the 8-Gaussian ring,
batch 256, k=1, Adam(1e-3, 0.5)), `mlp_ae` (autoencoder 784-256-32-256-784
on MNIST, batch 128, Adam(1e-3), MSE), `dcgan` (DCGAN on MNIST 28x28, latent
64, filters (128, 64), batch 64, Adam(2e-4, 0.5)). MNIST is read from
`/work/shared/data/mnist_train.npz` (`--mnist`); without it, sklearn's 8x8
digits upsampled to 28x28.

    python scripts/benchmarks/step_time.py            # 4 rounds: ~3 min on an idle 2-core CPU
    python scripts/benchmarks/step_time.py --quick    # CI size (~3 min)

Writes `scripts/benchmarks/results/step_time.json` (`step_time_quick.json`).
"""

import argparse
import functools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
BACKENDS = ("tensorflow", "torch", "jax")
TASKS = ("ring_gan", "mlp_ae", "dcgan")
MNIST = "/work/shared/data/mnist_train.npz"
VARIANTS = ("native", "package", "tuned", "keras")


# ----------------------------------------------------------------- data
def load_mnist(path, n):
    if path and os.path.exists(path):
        x = np.load(path)["x"][:n].astype("float32") / 255.0
    else:  # sklearn digits, 8x8 -> 28x28 (nearest-neighbour style, via np.kron)
        from sklearn.datasets import load_digits

        d = load_digits().images.astype("float32") / 16.0
        d = np.kron(d, np.ones((1, 3, 3), "float32"))  # 24x24
        d = np.pad(d, ((0, 0), (2, 2), (2, 2)))
        x = np.tile(d, (n // len(d) + 1, 1, 1))[:n]
    return x[..., None]


def task_setup(task, steps, mnist):
    """`(batch, batches (steps, batch, ...), package model builder, optimizer args)`."""
    if task == "ring_gan":
        from keras_genmodels.data.toy import toy_distribution

        batch = 256
        x = toy_distribution("ring8").sample(steps * batch, seed=0)
        return batch, x.reshape(steps, batch, 2), (1e-3, 0.5)
    if task == "mlp_ae":
        batch = 128
        return batch, load_mnist(mnist, steps * batch).reshape(steps, batch, 784), (1e-3, 0.9)
    batch = 64
    return batch, load_mnist(mnist, steps * batch).reshape(steps, batch, 28, 28, 1), (2e-4, 0.5)


def build_package(task, lr, beta_1):
    import keras

    if task == "mlp_ae":
        from keras_genmodels.models.autoencoder import Autoencoder

        model = Autoencoder(input_shape=(784,), code_size=32, hidden_units=(256,))
        model.compile(optimizer=keras.optimizers.Adam(lr, beta_1=beta_1))
        return model
    from keras_genmodels.models.gan import GAN

    if task == "ring_gan":
        model = GAN(data_shape=(2,), latent_dim=2, seed=0)
    else:
        model = GAN(data_shape=(28, 28, 1), latent_dim=64, architecture="dcgan",
                    filters=(128, 64), output_activation="sigmoid", seed=0)
    model.compile(optimizers={n: keras.optimizers.Adam(lr, beta_1=beta_1)
                              for n in ("discriminator", "generator")})
    return model


def spec(net):
    """A sequential Keras functional model as `[(kind, config, [numpy weights])]`."""
    out = []
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        cfg = layer.get_config()
        weights = [np.asarray(w) for w in layer.get_weights()]
        out.append((kind, cfg, weights))
    return out


# ------------------------------------------------------------- native: torch
def torch_native(task, nets, lr, beta_1):
    import torch
    from torch import nn
    import torch.nn.functional as F

    acts = {None: nn.Identity, "linear": nn.Identity, "relu": nn.ReLU,
            "sigmoid": nn.Sigmoid, "leaky_relu": lambda: nn.LeakyReLU(0.2)}

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    def module(layers, image_in):
        mods, chw = [], image_in  # NCHW inside; Keras is NHWC
        for kind, cfg, w in layers:
            if kind == "Dense":
                lin = nn.Linear(w[0].shape[0], w[0].shape[1], bias=len(w) > 1)
                kernel = w[0]
                if chw is not None:  # rows in (H, W, C) order -> (C, H, W)
                    h, wd, c = chw
                    kernel = kernel.reshape(h, wd, c, -1).transpose(2, 0, 1, 3).reshape(h * wd * c, -1)
                    chw = None
                with torch.no_grad():
                    lin.weight.copy_(t(kernel.T))
                    if len(w) > 1:
                        lin.bias.copy_(t(w[1]))
                mods += [lin, acts[cfg["activation"]]()]
            elif kind in ("Conv2D", "Conv2DTranspose"):
                k, s = cfg["kernel_size"][0], cfg["strides"][0]
                bias = cfg["use_bias"]
                if kind == "Conv2D":
                    conv = nn.Conv2d(w[0].shape[2], w[0].shape[3], k, s, padding=(k - s) // 2, bias=bias)
                    kernel = w[0].transpose(3, 2, 0, 1)          # (kh,kw,in,out) -> (out,in,kh,kw)
                else:
                    conv = nn.ConvTranspose2d(w[0].shape[3], w[0].shape[2], k, s, padding=(k - s) // 2, bias=bias)
                    kernel = w[0].transpose(3, 2, 0, 1)          # (kh,kw,out,in) -> (in,out,kh,kw)
                h, wd, _ = chw
                chw = ((h // s, wd // s) if kind == "Conv2D" else (h * s, wd * s)) + (cfg["filters"],)
                with torch.no_grad():
                    conv.weight.copy_(t(kernel))
                    if bias:
                        conv.bias.copy_(t(w[1]))
                mods += [conv, acts[cfg["activation"]]()]
            elif kind == "BatchNormalization":
                bn = (nn.BatchNorm1d if chw is None else nn.BatchNorm2d)(
                    w[0].shape[0], eps=cfg["epsilon"], momentum=1 - cfg["momentum"])
                with torch.no_grad():
                    for p, v in zip((bn.weight, bn.bias, bn.running_mean, bn.running_var), w):
                        p.copy_(t(v))
                mods.append(bn)
            elif kind == "ReLU":
                mods.append(nn.ReLU())
            elif kind == "LeakyReLU":
                mods.append(nn.LeakyReLU(cfg["negative_slope"]))
            elif kind == "Reshape":
                shape = tuple(cfg["target_shape"])
                if len(shape) == 3:
                    h, wd, c = shape
                    mods.append(nn.Unflatten(1, (c, h, wd)))
                    chw = shape
                    # the Dense before produced (H, W, C) order: permute its outputs
                    lin = [m for m in mods if isinstance(m, nn.Linear)][-1]
                    perm = torch.arange(h * wd * c).reshape(h, wd, c).permute(2, 0, 1).reshape(-1)
                    bn = [m for m in mods if isinstance(m, nn.BatchNorm1d)]
                    with torch.no_grad():
                        lin.weight.copy_(lin.weight[perm])
                        for b in bn[-1:]:
                            for p in (b.weight, b.bias, b.running_mean, b.running_var):
                                p.copy_(p[perm])
            elif kind == "Flatten":
                mods.append(nn.Flatten())
            else:
                raise NotImplementedError(kind)
        return nn.Sequential(*[m for m in mods if not isinstance(m, nn.Identity)])

    def opt(params):
        return torch.optim.Adam(params, lr=lr, betas=(beta_1, 0.999), eps=1e-7)

    if task == "mlp_ae":
        net = nn.Sequential(module(nets["encoder"], None), module(nets["decoder"], None))
        o = opt(net.parameters())

        def step(x, noise=None):
            loss = F.mse_loss(net(x), x)
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()
            return (loss.detach(),)

        return step, lambda b: torch.from_numpy(b), lambda: None
    image = task == "dcgan"
    G = module(nets["generator"], None)
    D = module(nets["discriminator"], (28, 28, 1) if image else None)
    og, od = opt(G.parameters()), opt(D.parameters())
    latent = nets["latent_dim"]

    def to_nchw(b):
        x = torch.from_numpy(b)
        return x.permute(0, 3, 1, 2) if x.ndim == 4 else x

    def step(x, noise=None):
        m = x.shape[0]
        zd, zg = noise if noise is not None else (torch.randn(m, latent), torch.randn(m, latent))
        fake = G(zd).detach()
        d_loss = F.softplus(-D(x)).mean() + F.softplus(D(fake)).mean()
        od.zero_grad(set_to_none=True)
        d_loss.backward()
        od.step()
        g_loss = F.softplus(-D(G(zg))).mean()
        og.zero_grad(set_to_none=True)
        g_loss.backward()
        og.step()
        return d_loss.detach(), g_loss.detach()

    return step, to_nchw, lambda: None


# -------------------------------------------------------- native: tensorflow
def _adam_tf(tf, variables, lr, beta_1, beta_2=0.999, eps=1e-7):
    ms = [tf.Variable(tf.zeros_like(v)) for v in variables]
    vs = [tf.Variable(tf.zeros_like(v)) for v in variables]
    it = tf.Variable(0.0)

    def apply(grads):
        it.assign_add(1.0)
        lr_t = lr * tf.sqrt(1 - beta_2 ** it) / (1 - beta_1 ** it)
        for var, g, m, v in zip(variables, grads, ms, vs):
            m.assign_add((g - m) * (1 - beta_1))
            v.assign_add((g * g - v) * (1 - beta_2))
            var.assign_sub(lr_t * m / (tf.sqrt(v) + eps))

    return apply


def tf_native(task, nets, lr, beta_1):
    import tensorflow as tf

    acts = {None: tf.identity, "linear": tf.identity, "relu": tf.nn.relu,
            "sigmoid": tf.sigmoid, "leaky_relu": lambda x: tf.nn.leaky_relu(x, 0.2)}

    def build(layers):
        fns, variables = [], []
        for kind, cfg, w in layers:
            ws = [tf.Variable(a) for a in w]
            if kind in ("Dense", "Conv2D", "Conv2DTranspose"):
                variables += ws
                act = acts[cfg["activation"]]
                if kind == "Dense":
                    fns.append(lambda x, ws=ws, act=act, tr=None: act(
                        tf.matmul(x, ws[0]) + ws[1] if len(ws) > 1 else tf.matmul(x, ws[0])))
                elif kind == "Conv2D":
                    s = cfg["strides"][0]
                    fns.append(lambda x, ws=ws, act=act, s=s: act(tf.nn.bias_add(
                        tf.nn.conv2d(x, ws[0], s, "SAME"), ws[1])))
                else:
                    s = cfg["strides"][0]

                    def convt(x, ws=ws, act=act, s=s):
                        n, h, wd = tf.shape(x)[0], x.shape[1], x.shape[2]
                        y = tf.nn.conv2d_transpose(x, ws[0], [n, h * s, wd * s, ws[0].shape[2]], s, "SAME")
                        return act(tf.nn.bias_add(y, ws[1]) if len(ws) > 1 else y)

                    fns.append(convt)
            elif kind == "BatchNormalization":
                gamma, beta, mean, var = ws
                variables += [gamma, beta]
                eps, mom = cfg["epsilon"], cfg["momentum"]

                def bn(x, gamma=gamma, beta=beta, mean=mean, var=var, eps=eps, mom=mom):
                    axes = list(range(len(x.shape) - 1))
                    mu, sigma2 = tf.nn.moments(x, axes)
                    mean.assign(mom * mean + (1 - mom) * mu)
                    var.assign(mom * var + (1 - mom) * sigma2)
                    return tf.nn.batch_normalization(x, mu, sigma2, beta, gamma, eps)

                fns.append(bn)
            elif kind == "ReLU":
                fns.append(tf.nn.relu)
            elif kind == "LeakyReLU":
                fns.append(lambda x, a=cfg["negative_slope"]: tf.nn.leaky_relu(x, a))
            elif kind == "Reshape":
                fns.append(lambda x, s=tuple(cfg["target_shape"]): tf.reshape(x, (-1,) + s))
            elif kind == "Flatten":
                fns.append(lambda x: tf.reshape(x, (tf.shape(x)[0], -1)))
            else:
                raise NotImplementedError(kind)

        def apply(x):
            for f in fns:
                x = f(x)
            return x

        return apply, variables

    if task == "mlp_ae":
        enc, ev = build(nets["encoder"])
        dec, dv = build(nets["decoder"])
        variables = ev + dv
        adam = _adam_tf(tf, variables, lr, beta_1)

        @tf.function
        def ae_step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(dec(enc(x)) - x))
            adam(tape.gradient(loss, variables))
            return (loss,)

        return lambda x, noise=None: ae_step(x), tf.convert_to_tensor, lambda: None
    G, gv = build(nets["generator"])
    D, dv = build(nets["discriminator"])
    ad, ag = _adam_tf(tf, dv, lr, beta_1), _adam_tf(tf, gv, lr, beta_1)
    latent = nets["latent_dim"]

    def body(x, zd, zg):
        fake = tf.stop_gradient(G(zd))
        with tf.GradientTape() as tape:
            d_loss = (tf.reduce_mean(tf.nn.softplus(-D(x)))
                      + tf.reduce_mean(tf.nn.softplus(D(fake))))
        ad(tape.gradient(d_loss, dv))
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-D(G(zg))))
        ag(tape.gradient(g_loss, gv))
        return d_loss, g_loss

    @tf.function
    def step_rng(x):
        m = tf.shape(x)[0]
        return body(x, tf.random.normal((m, latent)), tf.random.normal((m, latent)))

    explicit = tf.function(body)

    def step(x, noise=None):
        return step_rng(x) if noise is None else explicit(x, *noise)

    return step, tf.convert_to_tensor, lambda: None


# --------------------------------------------------------------- native: jax
def jax_native(task, nets, lr, beta_1):
    import jax
    import jax.numpy as jnp

    acts = {None: lambda x: x, "linear": lambda x: x, "relu": jax.nn.relu,
            "sigmoid": jax.nn.sigmoid, "leaky_relu": lambda x: jax.nn.leaky_relu(x, 0.2)}
    dn = ("NHWC", "HWIO", "NHWC")

    def build(layers):
        """`(apply(params, state, x) -> (y, state), params, state)`."""
        params, state, fns = [], [], []
        for kind, cfg, w in layers:
            i = len(params)
            if kind in ("Dense", "Conv2D", "Conv2DTranspose"):
                params.append([jnp.asarray(a) for a in w])
                act, s = acts[cfg["activation"]], (cfg.get("strides") or [1])[0]
                if kind == "Dense":
                    def f(p, st, x, i=i, act=act):
                        y = x @ p[i][0]
                        return act(y + p[i][1] if len(p[i]) > 1 else y), st
                elif kind == "Conv2D":
                    def f(p, st, x, i=i, act=act, s=s):
                        y = jax.lax.conv_general_dilated(x, p[i][0], (s, s), "SAME",
                                                         dimension_numbers=dn)
                        return act(y + p[i][1]), st
                else:
                    k = cfg["kernel_size"][0]
                    left = min((s + k - 2) // 2 + (s + k - 2) % 2, k - 1)
                    pad = ((left, s + k - 2 - left),) * 2   # Keras's "same" for a transpose

                    def f(p, st, x, i=i, act=act, s=s, pad=pad):
                        y = jax.lax.conv_transpose(x, p[i][0], (s, s), pad, dimension_numbers=dn,
                                                   transpose_kernel=True)
                        return act(y + p[i][1] if len(p[i]) > 1 else y), st
            elif kind == "BatchNormalization":
                params.append([jnp.asarray(w[0]), jnp.asarray(w[1])])
                j = len(state)
                state.append([jnp.asarray(w[2]), jnp.asarray(w[3])])
                eps, mom = cfg["epsilon"], cfg["momentum"]

                def f(p, st, x, i=i, j=j, eps=eps, mom=mom):
                    axes = tuple(range(x.ndim - 1))
                    mu = jnp.mean(x, axes)
                    var = jnp.var(x, axes)
                    st = list(st)
                    st[j] = [mom * st[j][0] + (1 - mom) * mu, mom * st[j][1] + (1 - mom) * var]
                    y = (x - mu) * jax.lax.rsqrt(var + eps) * p[i][0] + p[i][1]
                    return y, st
            else:
                params.append([])
                if kind == "ReLU":
                    g = jax.nn.relu
                elif kind == "LeakyReLU":
                    g = lambda x, a=cfg["negative_slope"]: jax.nn.leaky_relu(x, a)  # noqa: E731
                elif kind == "Reshape":
                    g = lambda x, s=tuple(cfg["target_shape"]): x.reshape((-1,) + s)  # noqa: E731
                elif kind == "Flatten":
                    g = lambda x: x.reshape((x.shape[0], -1))  # noqa: E731
                else:
                    raise NotImplementedError(kind)

                def f(p, st, x, g=g):
                    return g(x), st
            fns.append(f)

        def apply(p, st, x):
            for f in fns:
                x, st = f(p, st, x)
            return x, st

        return apply, params, state

    def adam_init(p):
        return (jax.tree_util.tree_map(jnp.zeros_like, p),
                jax.tree_util.tree_map(jnp.zeros_like, p), jnp.zeros((), "float32"))

    def adam(p, g, o, beta_2=0.999, eps=1e-7):
        m, v, t = o
        t = t + 1
        lr_t = lr * jnp.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1 - beta_1), m, g)
        v = jax.tree_util.tree_map(lambda v, g: v + (g * g - v) * (1 - beta_2), v, g)
        p = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + eps), p, m, v)
        return p, (m, v, t)

    if task == "mlp_ae":
        enc, pe, _ = build(nets["encoder"])
        dec, pd, _ = build(nets["decoder"])
        box = {"p": (pe, pd)}
        box["o"] = adam_init(box["p"])

        @functools.partial(jax.jit, donate_argnums=(0, 1))  # in-place, as Keras's trainer
        def jstep(p, o, x):
            def loss_fn(p):
                h, _ = enc(p[0], [], x)
                y, _ = dec(p[1], [], h)
                return jnp.mean(jnp.square(y - x))

            loss, g = jax.value_and_grad(loss_fn)(p)
            p, o = adam(p, g, o)
            return p, o, loss

        def step(x, noise=None):
            box["p"], box["o"], loss = jstep(box["p"], box["o"], x)
            return (loss,)

        return step, jnp.asarray, lambda: jax.block_until_ready(box["p"])
    G, pg, sg = build(nets["generator"])
    D, pd, sd = build(nets["discriminator"])
    latent = nets["latent_dim"]
    box = {"s": ((pg, sg), (pd, sd), adam_init(pg), adam_init(pd)), "key": jax.random.PRNGKey(0)}

    def body(s, x, zd, zg):
        (pg, sg), (pd, sd), og, od = s
        fake, sg = G(pg, sg, zd)
        fake = jax.lax.stop_gradient(fake)

        def d_fn(pd):
            real_l, _ = D(pd, sd, x)
            fake_l, _ = D(pd, sd, fake)
            return jnp.mean(jax.nn.softplus(-real_l)) + jnp.mean(jax.nn.softplus(fake_l))

        d_loss, gd = jax.value_and_grad(d_fn)(pd)
        pd, od = adam(pd, gd, od)

        def g_fn(pg):
            y, new_sg = G(pg, sg, zg)
            logits, _ = D(pd, sd, y)
            return jnp.mean(jax.nn.softplus(-logits)), new_sg

        (g_loss, sg), gg = jax.value_and_grad(g_fn, has_aux=True)(pg)
        pg, og = adam(pg, gg, og)
        return ((pg, sg), (pd, sd), og, od), d_loss, g_loss

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def step_rng(s, key, x):
        key, k1, k2 = jax.random.split(key, 3)
        m = x.shape[0]
        zd = jax.random.normal(k1, (m, latent))
        zg = jax.random.normal(k2, (m, latent))
        s, d, g = body(s, x, zd, zg)
        return s, key, d, g

    explicit = jax.jit(body)

    def step(x, noise=None):
        if noise is None:
            box["s"], box["key"], d, g = step_rng(box["s"], box["key"], x)
        else:
            box["s"], d, g = explicit(box["s"], x, *noise)
        return d, g

    return step, jnp.asarray, lambda: jax.block_until_ready(box["s"])


# ------------------------------------------------------------ plain Keras
def plain_keras(task, model, lr, beta_1, spe):
    """The same networks (cloned, same weights) trained by a plain keras.Model."""
    import keras

    def clone(net):
        c = keras.models.clone_model(net)
        c.set_weights(net.get_weights())
        return c

    if task == "mlp_ae":
        enc, dec = clone(model.encoder), clone(model.decoder)
        inp = keras.Input((784,))
        ae = keras.Model(inp, dec(enc(inp)))
        ae.compile(optimizer=keras.optimizers.Adam(lr, beta_1=beta_1), loss="mse",
                   steps_per_execution=spe)
        return ae
    backend = keras.backend.backend()
    if backend == "jax":
        return None  # a plain-Keras GAN under JAX needs a stateless train_step; not built
    G, D = clone(model.generator), clone(model.discriminator)
    latent = model.latent_dim

    class PlainGAN(keras.Model):  # the Keras developer guides' GAN train_step
        def __init__(self):
            super().__init__()
            self.G, self.D = G, D
            self.seed_generator = keras.random.SeedGenerator(1)
            self.d_tracker = keras.metrics.Mean(name="d_loss")
            self.g_tracker = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_tracker, self.g_tracker]

        def compile(self, **kw):
            super().compile(**kw)
            self.d_opt = keras.optimizers.Adam(lr, beta_1=beta_1)
            self.g_opt = keras.optimizers.Adam(lr, beta_1=beta_1)
            self.d_opt.build(D.trainable_variables)
            self.g_opt.build(G.trainable_variables)

        def _grads(self, loss_fn, variables):
            if backend == "tensorflow":
                import tensorflow as tf

                with tf.GradientTape() as tape:
                    loss = loss_fn()
                return loss, tape.gradient(loss, variables)
            self.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss, [v.value.grad for v in variables]

        def train_step(self, x):
            ops = keras.ops
            m = ops.shape(x)[0]
            zd = keras.random.normal((m, latent), seed=self.seed_generator)
            zg = keras.random.normal((m, latent), seed=self.seed_generator)
            fake = ops.stop_gradient(G(zd, training=True))
            d_loss, grads = self._grads(
                lambda: ops.mean(ops.softplus(-D(x, training=True)))
                + ops.mean(ops.softplus(D(fake, training=True))), D.trainable_variables)
            self.d_opt.apply(grads, D.trainable_variables)
            g_loss, grads = self._grads(
                lambda: ops.mean(ops.softplus(-D(G(zg, training=True), training=True))),
                G.trainable_variables)
            self.g_opt.apply(grads, G.trainable_variables)
            self.d_tracker.update_state(d_loss)
            self.g_tracker.update_state(g_loss)
            return {m.name: m.result() for m in self.metrics}

    gan = PlainGAN()
    gan.built = True
    gan.compile(steps_per_execution=spe)
    return gan


# ------------------------------------------------------------------ timing
class _Clock:
    def __init__(self):
        import keras

        class Clock(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.marks = []

            def on_train_batch_end(self, batch, logs=None):
                self.marks.append((batch, time.perf_counter(), time.process_time()))

            def on_epoch_end(self, epoch, logs=None):
                self.end = (time.perf_counter(), time.process_time())
                self.logs = logs

        self.cb = Clock()


def time_fit(fit, steps, clock):
    """`(wall, cpu)` seconds per step of `fit(callbacks=...)` after its first execution."""
    fit(clock.cb)
    first_batch, wall, cpu = clock.cb.marks[0]
    n = steps - 1 - first_batch
    return (clock.cb.end[0] - wall) / n, (clock.cb.end[1] - cpu) / n


def time_native(step, convert, sync, batches):
    """`(wall, cpu)` seconds per step of the native loop after its first step."""
    step(convert(batches[0]))
    sync()
    wall, cpu = time.perf_counter(), time.process_time()
    for b in batches[1:]:
        step(convert(b))
    sync()
    n = len(batches) - 1
    return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def run_child(backend, tasks, steps_by_task, rounds, mnist):
    import keras

    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    from keras_genmodels.tasks.common import recommended_steps_per_execution

    native_for = {"torch": torch_native, "tensorflow": tf_native, "jax": jax_native}[backend]
    results = {}
    for task in tasks:
        steps = steps_by_task[task]
        keras.utils.set_random_seed(0)
        batch, batches, (lr, beta_1) = task_setup(task, steps, mnist)
        spe = recommended_steps_per_execution(steps)
        package = build_package(task, lr, beta_1)
        tuned = build_package(task, lr, beta_1)
        tuned.set_weights(package.get_weights())
        if spe > 1:
            tuned.compile(**({"optimizer": keras.optimizers.Adam(lr, beta_1=beta_1)}
                             if task == "mlp_ae" else
                             {"optimizers": {n: keras.optimizers.Adam(lr, beta_1=beta_1)
                                             for n in ("discriminator", "generator")}}),
                          steps_per_execution=spe)
        if task == "mlp_ae":
            nets = {"encoder": spec(package.encoder), "decoder": spec(package.decoder)}
        else:
            nets = {"generator": spec(package.generator),
                    "discriminator": spec(package.discriminator),
                    "latent_dim": package.latent_dim}
        plain = plain_keras(task, package, lr, beta_1, spe)
        step, convert, sync = native_for(task, nets, lr, beta_1)

        # -- same computation: first losses of package and native on batch 0
        noise = None
        if task != "mlp_ae":
            sg = keras.random.SeedGenerator(0)
            sg.state.assign(package.seed_generator.state.value)
            m = batch
            zs = [keras.ops.convert_to_numpy(keras.random.normal((m, package.latent_dim), seed=sg))
                  for _ in range(2)]
            noise = [convert(z) for z in zs]
        native_first = [float(np.asarray(v)) for v in step(convert(batches[0]), noise)]
        clock = _Clock()
        package.fit(batches[0], batch_size=batch, epochs=1, shuffle=False, verbose=0,
                    callbacks=[clock.cb])
        logs = clock.cb.logs
        package_first = ([logs["loss"]] if task == "mlp_ae" else [logs["d_loss"], logs["g_loss"]])
        rel = [abs(a - b) / max(abs(b), 1e-12) for a, b in zip(package_first, native_first)]

        # -- interleaved timing: round 0 is the warm-up
        flat = batches.reshape((-1,) + batches.shape[2:])

        def fitter(model, data):
            def fit(callback):
                model.fit(*data, batch_size=batch, epochs=1, shuffle=False, verbose=0,
                          callbacks=[callback])
            return lambda: time_fit(fit, steps, clock)

        variants = {"native": lambda: time_native(step, convert, sync, batches),
                    "package": fitter(package, (flat,))}
        if spe > 1:
            variants["tuned"] = fitter(tuned, (flat,))
        if plain is not None:
            variants["keras"] = fitter(plain, (flat, flat) if task == "mlp_ae" else (flat,))
        times = {k: [] for k in variants}
        for r in range(rounds + 1):
            for name, fn in variants.items():
                seconds = fn()
                if r:
                    times[name].append(seconds)
        ratios, cpu_ratios = {}, {}
        for name in variants:
            if name == "native":
                continue
            for out, j in ((ratios, 0), (cpu_ratios, 1)):
                rs = [a[j] / b[j] for a, b in zip(times[name], times["native"])]
                out[name] = {"median": statistics.median(rs), "min": min(rs), "max": max(rs)}
        if spe == 1:
            ratios["tuned"], cpu_ratios["tuned"] = ratios["package"], cpu_ratios["package"]
        results[task] = {
            "batch": batch, "steps": steps, "rounds": rounds, "steps_per_execution": spe,
            "ms_per_step": {k: [1e3 * w for w, _ in v] for k, v in times.items()},
            "cpu_ms_per_step": {k: [1e3 * c for _, c in v] for k, v in times.items()},
            "ratios": ratios, "cpu_ratios": cpu_ratios,
            "first_losses": {"package": package_first, "native": native_first,
                             "max_rel_diff": max(rel)},
        }
        print(f"[{backend}] {task}: " + ", ".join(
            f"{k} {v['median']:.2f}x (CPU {cpu_ratios[k]['median']:.2f}x)"
            for k, v in ratios.items())
            + f"; first-loss rel diff {max(rel):.1e}", file=sys.stderr, flush=True)
    return results


# ------------------------------------------------------------------ parent
def cell(r):
    return f"{r['median']:.2f}× ({r['min']:.2f}–{r['max']:.2f})" if r else "n/a"


def table(results):
    names = {"ring_gan": "MLP GAN, ring, batch 256, k=1",
             "mlp_ae": "MLP AE 784-256-32-256-784, batch 128",
             "dcgan": "DCGAN, MNIST, batch 64"}
    lines = ["| task | backend | package tuned / native | (CPU time) | package defaults / native "
             "| plain Keras / native | (CPU time) | native ms/step | first-loss rel. diff |",
             "|---|---|---|---|---|---|---|---|---|"]
    for task in TASKS:
        for backend in BACKENDS:
            r = results.get(backend, {}).get(task)
            if not r:
                continue
            wall, cpu = r["ratios"], r["cpu_ratios"]
            native_ms = statistics.median(r["ms_per_step"]["native"])
            lines.append(
                f"| {names[task]} | {backend} (spe={r['steps_per_execution']}) | "
                f"{cell(wall.get('tuned'))} | {cell(cpu.get('tuned'))} | "
                f"{cell(wall.get('package'))} | {cell(wall.get('keras'))} | "
                f"{cell(cpu.get('keras'))} | {native_ms:.2f} | "
                f"{r['first_losses']['max_rel_diff']:.1e} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size: few steps, 3 rounds")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--mnist", default=MNIST)
    parser.add_argument("--out", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    rounds = args.rounds or (3 if args.quick else 4)
    steps = ({"ring_gan": 60, "mlp_ae": 60, "dcgan": 20} if args.quick
             else {"ring_gan": 160, "mlp_ae": 120, "dcgan": 24})
    if args.child:
        out = run_child(args.child, tasks, steps, rounds, args.mnist)
        print("RESULT " + json.dumps(out))
        return
    from keras_genmodels.tasks.common import write_json

    path = pathlib.Path(args.out) if args.out else HERE / "results" / (
        "step_time_quick.json" if args.quick else "step_time.json")
    results = {}
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        if backend == "torch":
            env["OMP_NUM_THREADS"] = "1"
        cmd = [sys.executable, __file__, "--child", backend, "--tasks", args.tasks,
               "--rounds", str(rounds), "--mnist", args.mnist] + (["--quick"] if args.quick else [])
        t0 = time.time()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
        if proc.returncode:
            raise SystemExit(f"{backend} child failed with exit code {proc.returncode}")
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
        results[backend] = json.loads(line[len("RESULT "):])
        print(f"{backend}: {time.time() - t0:.0f} s", file=sys.stderr)
        write_json(path, {"quick": args.quick, "rounds": rounds, "steps": steps,
                          "torch_threads": 1, "machine": "shared 2-core CPU",
                          "results": results, "table": table(results)})  # after each backend
    print(table(results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
