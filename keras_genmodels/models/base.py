"""`GenerativeModel`: what every keras_genmodels model shares.

1. A portable compile config. Under the torch backend `keras.optimizers.get`
   returns classes from `keras.src.backend.torch.optimizers`, and a `.keras`
   file saved there would name that private module; loaded under TensorFlow
   or JAX, such an optimizer fails at the first `fit`. `get_compile_config`
   rewrites every optimizer to the public `keras.optimizers` class, which
   each backend maps back to its own implementation on load.
2. Random-number state in `.keras` files. Keras saves variables, but a
   `keras.random.SeedGenerator` held by the model is not a saveable object,
   so its state would silently restart on load. `save_own_variables` adds
   the state of every SeedGenerator that is a direct attribute of the model,
   so a reloaded model draws the same noise as an uninterrupted one.
3. The export contract read by `keras_genmodels.export`: `export_endpoints()`
   returns `{signature_name: (function, [keras.InputSpec, ...])}`, where the
   function's Python argument names become the SavedModel input names and
   its returned dict keys the output names; `serving_default` names the
   endpoint that TF Serving calls when no signature is given.
"""

import keras

_PRIVATE_OPTIMIZER_MODULE = "keras.src.backend."


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


class GenerativeModel(keras.Model):
    """Base class of every model in the package (see module docstring)."""

    serving_default = None

    def get_compile_config(self):
        return portable_config(super().get_compile_config())

    def _own_seed_generators(self):
        return sorted((name, value) for name, value in vars(self).items()
                      if isinstance(value, keras.random.SeedGenerator))

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for name, generator in self._own_seed_generators():
            store[f"seed_generator:{name}"] = generator.state

    def load_own_variables(self, store):
        seeds = {k for k in store.keys() if k.startswith("seed_generator:")}
        super().load_own_variables({k: store[k] for k in store.keys() if k not in seeds})
        for name, generator in self._own_seed_generators():
            if f"seed_generator:{name}" in seeds:
                generator.state.assign(store[f"seed_generator:{name}"])

    def export_endpoints(self):
        """Return `{name: (fn, [keras.InputSpec, ...])}` for SavedModel export."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define export_endpoints().")
