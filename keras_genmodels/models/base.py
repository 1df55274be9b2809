"""`GenerativeModel`: what every keras_genmodels model shares.

1. A portable compile config. Under the torch backend `keras.optimizers.get`
   returns classes from `keras.src.backend.torch.optimizers`, and a `.keras`
   file saved there would name that private module; loaded under TensorFlow
   or JAX, such an optimizer fails at the first `fit`. `get_compile_config`
   rewrites every optimizer to the public `keras.optimizers` class, which
   each backend maps back to its own implementation on load.

   `jit_compile` is portable too. Keras stores the value it *resolved*
   (`"auto"` becomes True under JAX), so a file saved under JAX would run
   under `torch.compile` when loaded under torch (a ContractiveAutoencoder
   then fails at `fit` with a double backward; other models run ~5x
   slower). The config stores `"auto"` unless `compile` was given an
   explicit value, and an explicit value is stored with the backend it was
   set under (`jit_compile_backend`): loaded under another backend, or from
   an older file that has no such record, the model compiles with
   `jit_compile="auto"`, i.e. the loading backend's default.
2. Random-number state in `.keras` files. Keras saves variables, but a
   `keras.random.SeedGenerator` is not a saveable object, so its state would
   silently restart on load (and on `load_weights`). `save_own_variables`
   adds the state of every SeedGenerator reachable from the model -- its own
   attributes and those of nested layers (`Dropout`, the VAE's
   `GaussianSampling`, the denoising `Corruption`, RNN cells, ...) -- keyed
   by attribute path (`seed_generator:sampler.seed_generator`,
   `seed_generator:encoder.layers.3.seed_generator`; no `/`, which HDF5
   would turn into nested groups), so a reloaded model
   draws the same noise as an uninterrupted one. A direct attribute keeps the
   key older files used (`seed_generator:noise_seed`), so they still load;
   generators an old file has no entry for keep their current state.
3. `save` refuses non-finite weights (`check_finite_weights`) unless
   `allow_non_finite=True`: a diverged model is not written silently.
4. The export contract read by `keras_genmodels.export`: `export_endpoints()`
   returns `{signature_name: (function, [keras.InputSpec, ...])}`, where the
   function's Python argument names become the SavedModel input names and
   its returned dict keys the output names; `serving_default` names the
   endpoint that TF Serving calls when no signature is given.
"""

import keras

from keras_genmodels.training.finite import check_finite_weights

_PRIVATE_OPTIMIZER_MODULE = "keras.src.backend."
_SEED_KEY = "seed_generator:"
_JIT_BACKEND_KEY = "jit_compile_backend"


def portable_config(config):
    """Return `config` with backend-private optimizer modules made public."""
    if isinstance(config, dict):
        config = {k: portable_config(v) for k, v in config.items()}
        module = config.get("module")
        if (isinstance(module, str)
                and module.startswith(_PRIVATE_OPTIMIZER_MODULE)
                and ".optimizers." in module):
            config["module"] = "keras.optimizers"
            config["registered_name"] = None
        return config
    if isinstance(config, (list, tuple)):
        return type(config)(portable_config(v) for v in config)
    return config


def portable_jit_compile(config, explicit):
    """Set `config["jit_compile"]` for saving: "auto", or `explicit` + its backend.

    `explicit` is the value given to `compile` (None when it was not given or
    was "auto").
    """
    config.pop(_JIT_BACKEND_KEY, None)
    if explicit is None:
        if "jit_compile" in config:
            config["jit_compile"] = "auto"
    else:
        config["jit_compile"] = explicit
        config[_JIT_BACKEND_KEY] = keras.backend.backend()
    return config


def jit_compile_for_this_backend(config):
    """Drop the saved `jit_compile` unless it was set explicitly under this backend.

    Mutates and returns `config` (a compile config read from a file).
    """
    origin = config.pop(_JIT_BACKEND_KEY, None)
    if "jit_compile" in config and origin != keras.backend.backend():
        config["jit_compile"] = "auto"
    return config


def seed_generators(model):
    """`[(key, SeedGenerator)]` of every SeedGenerator reachable from `model`.

    Walks public attributes (and lists/tuples/dicts of them) and, for
    container models, the `layers` list; each generator is listed once, under
    the first path found (attributes in sorted order, then `layers.<index>`),
    so keys are the same for the same architecture in any process.
    """
    found, seen = [], set()
    skipped = ("_tracker", "_inbound_nodes", "_outbound_nodes")

    def visit(obj, path, private, layers_seen):
        if isinstance(obj, keras.random.SeedGenerator):
            if id(obj) not in seen:
                seen.add(id(obj))
                found.append((path, obj))
        elif isinstance(obj, keras.layers.Layer):
            if id(obj) in layers_seen:
                return
            layers_seen.add(id(obj))
            prefix = f"{path}." if path else ""
            for name in sorted(vars(obj)):
                if name.startswith("_") and (not private or name in skipped):
                    continue
                visit(vars(obj)[name], prefix + name.lstrip("_"), private, layers_seen)
            if not private and (isinstance(obj, keras.Model) or "layers" in dir(type(obj))):
                try:
                    layers = list(obj.layers)
                except Exception:  # noqa: BLE001 - not a container after all
                    layers = []
                for i, layer in enumerate(layers):
                    visit(layer, f"{prefix}layers.{i}", private, layers_seen)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                visit(item, f"{path}.{i}", private, layers_seen)
        elif isinstance(obj, dict):
            for key in sorted(obj, key=str):
                visit(obj[key], f"{path}.{str(key).replace('/', '.')}", private, layers_seen)

    visit(model, "", False, set())
    # Second pass: generators kept in private attributes of nested layers (e.g. the
    # dropout inside keras.layers.MultiHeadAttention, `_dropout_layer`). Keys of the
    # generators found by the first pass are unchanged, so earlier files still load.
    visit(model, "", True, set())
    return found


class GenerativeModel(keras.Model):
    """Base class of every model in the package (see module docstring)."""

    serving_default = None

    # ------------------------------------------------------------- compile
    def compile(self, *args, jit_compile="auto", **kwargs):
        self._explicit_jit_compile = None if jit_compile == "auto" else jit_compile
        super().compile(*args, jit_compile=jit_compile, **kwargs)

    def get_compile_config(self):
        config = portable_config(super().get_compile_config())
        if config:
            portable_jit_compile(config, getattr(self, "_explicit_jit_compile", None))
        return config

    def compile_from_config(self, config):
        # Keras's own compile_from_config skips models that override compile.
        config = jit_compile_for_this_backend(dict(config))
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        optimizer = getattr(self, "optimizer", None)
        if optimizer is not None and self.built and not optimizer.built:
            optimizer.build(self.trainable_variables)

    # ---------------------------------------------------------- RNG state
    def _own_seed_generators(self):
        return seed_generators(self)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for key, generator in self._own_seed_generators():
            store[_SEED_KEY + key] = generator.state

    def load_own_variables(self, store):
        seeds = {k for k in store.keys() if k.startswith(_SEED_KEY)}
        super().load_own_variables({k: store[k] for k in store.keys() if k not in seeds})
        for key, generator in self._own_seed_generators():
            if _SEED_KEY + key in seeds:
                generator.state.assign(store[_SEED_KEY + key])

    # --------------------------------------------------------------- save
    def save(self, filepath, overwrite=True, zipped=None, allow_non_finite=False, **kwargs):
        """`keras.Model.save`, refusing NaN/inf weights unless `allow_non_finite`.

        Raises:
            NonFiniteWeightsError: (a ValueError) some weight is NaN or inf;
                the message names the variables and counts; nothing is
                written.
        """
        if not allow_non_finite:
            check_finite_weights(self, action="save")
        return super().save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export_endpoints(self):
        """Return `{name: (fn, [keras.InputSpec, ...])}` for SavedModel export."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define export_endpoints().")
