"""The backend's *global* random state, for checkpoints.

Keras draws most noise from `keras.random.SeedGenerator`s, whose states are
model variables (saved by `GenerativeModel`). One exception: under torch,
`keras.random.dropout` with an *unseeded* generator (e.g. `Dropout(rate)`
without `seed`) calls `torch.nn.functional.dropout`, which draws from torch's
global generator (and Keras's torch trainer draws from it when a `fit`
starts). A checkpoint must therefore carry torch's global RNG state to resume
bit for bit; `training.resume` sets it again before the first batch of each
`fit`. TensorFlow and JAX draw nothing global during `fit`
(their dropout is stateless, seeded from the layer's SeedGenerator), so their
state is empty.

- `get_state() -> dict` of JSON-able values (base64 strings).
- `set_state(state)`: restore a dict from `get_state` (missing keys: no-op).
"""

import base64

import keras


def get_state():
    if keras.backend.backend() != "torch":
        return {}
    import torch

    state = {"torch_cpu": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = [base64.b64encode(s.numpy().tobytes()).decode()
                               for s in torch.cuda.get_rng_state_all()]
    return state


def set_state(state):
    if keras.backend.backend() != "torch" or not state:
        return
    import numpy as np
    import torch

    def tensor(text):
        return torch.from_numpy(np.frombuffer(base64.b64decode(text), dtype=np.uint8).copy())

    if "torch_cpu" in state:
        torch.set_rng_state(tensor(state["torch_cpu"]))
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensor(s) for s in state["torch_cuda"]])
