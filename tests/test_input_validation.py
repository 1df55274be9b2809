"""The public model API refuses bad input with a clear ValueError before any work, on every
backend (issue 11): images (dtype, shape, NaN, range), latent codes, class labels, DCGAN
image sizes, constructor sizes, seq2seq inputs; and the exported conditional signatures
refuse out-of-range labels at run time."""

import re

import keras
import numpy as np
import pytest

from keras_genmodels.models import checks
from keras_genmodels.models.autoencoder import Autoencoder
from keras_genmodels.models.gan import GAN, WGANGP
from keras_genmodels.models.regularized import (
    ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder)
from keras_genmodels.models.seq2seq import Seq2Seq
from keras_genmodels.models.vae import VAE
from tests.conftest import to_numpy

SHAPE = (8, 8, 1)
RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0.0, 1.0, (4,) + SHAPE).astype("float32")
PIXELS = (IMAGES * 255).astype("uint8")
CIFAR = RNG.uniform(0.0, 1.0, (4, 32, 32, 3)).astype("float32")
NAN_IMAGES = IMAGES.copy()
NAN_IMAGES[1, 2, 3, 0] = np.nan


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    return {
        "ae": Autoencoder(SHAPE, 4, hidden_units=(8,)),
        "sparse": SparseAutoencoder(SHAPE, 4, hidden_units=(8,)),
        "denoising": DenoisingAutoencoder(SHAPE, 4, hidden_units=(8,), seed=0),
        "contractive": ContractiveAutoencoder(SHAPE, 4, hidden_units=(8,)),
        "vae": VAE(SHAPE, 2, hidden_units=(8,)),
        "cvae": VAE(SHAPE, 2, hidden_units=(8,), num_classes=3),
        "gan": GAN(SHAPE, latent_dim=2, generator_units=(8,), discriminator_units=(8,),
                   output_activation="sigmoid"),
        "cgan": GAN((2,), latent_dim=2, generator_units=(8,), discriminator_units=(8,),
                    num_classes=3),
    }


# Every public method that takes images, as (model key, call(model, x)).
IMAGE_METHODS = {
    "Autoencoder.encode": ("ae", lambda m, x: m.encode(x)),
    "Autoencoder.reconstruct": ("ae", lambda m, x: m.reconstruct(x)),
    "SparseAutoencoder.encode": ("sparse", lambda m, x: m.encode(x)),
    "DenoisingAutoencoder.reconstruct": ("denoising", lambda m, x: m.reconstruct(x)),
    "ContractiveAutoencoder.contraction": ("contractive", lambda m, x: m.contraction(x)),
    "VAE.encode": ("vae", lambda m, x: m.encode(x)),
    "VAE.reconstruct": ("vae", lambda m, x: m.reconstruct(x)),
    "VAE.interpolate": ("vae", lambda m, x: m.interpolate(x, x, steps=3)),
    "VAE.log_importance_weights": ("vae", lambda m, x: m.log_importance_weights(x)),
    "cVAE.encode": ("cvae", lambda m, x: m.encode(x, np.zeros(len(x), "int32"))),
    "GAN.discriminate": ("gan", lambda m, x: m.discriminate(x)),
}


# --- 1. images and codes ---------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(IMAGE_METHODS))
def test_uint8_pixels_are_refused_with_a_divide_by_255_hint(models, method):
    key, call = IMAGE_METHODS[method]
    name = "x1" if "interpolate" in method else "x"
    where = method.replace("cVAE", "VAE")
    with pytest.raises(ValueError, match=re.escape(
            f"{where}: expected {name} as float images of shape (N, 8, 8, 1) with values "
            f"in [0, 1]") + r".*received dtype uint8; 8-bit pixels\? divide by 255"):
        call(models[key], PIXELS)
    # The same pixels scaled as the message says are accepted.
    out = call(models[key], PIXELS.astype("float32") / 255)
    assert out is not None


@pytest.mark.parametrize("method", sorted(IMAGE_METHODS))
def test_images_of_another_shape_are_refused(models, method):
    key, call = IMAGE_METHODS[method]
    with pytest.raises(ValueError, match=r"\(the model's shape\), received shape "
                                         r"\(4, 32, 32, 3\)"):
        call(models[key], CIFAR)


@pytest.mark.parametrize("method", sorted(IMAGE_METHODS))
def test_nan_images_are_refused(models, method):
    key, call = IMAGE_METHODS[method]
    with pytest.raises(ValueError, match=r"received 1 NaN/inf value\(s\)"):
        call(models[key], NAN_IMAGES)


def test_shape_errors_give_a_hint(models):
    ae = models["ae"]
    with pytest.raises(ValueError, match=r"received shape \(4, 8, 8\); add a channel axis"):
        ae.encode(IMAGES[..., 0])
    with pytest.raises(ValueError, match=r"received shape \(8, 8, 1\); one sample\? add a "
                                         r"batch axis"):
        ae.encode(IMAGES[0])
    with pytest.raises(ValueError, match=r"received shape \(4, 64\); flattened samples\? "
                                         r"reshape to \(N, 8, 8, 1\)"):
        ae.reconstruct(IMAGES.reshape(4, 64))


def test_float_pixels_out_of_range_are_refused(models):
    with pytest.raises(ValueError, match=r"received min 0, max 255; 8-bit pixels\? divide "
                                         r"by 255"):
        models["ae"].encode(np.linspace(0, 255, 128, dtype="float32").reshape(2, 8, 8, 1))
    with pytest.raises(ValueError, match=r"received min -1, max 1; images in \[-1, 1\]\?"):
        models["vae"].reconstruct(np.linspace(-1, 1, 128, dtype="float32").reshape(2, 8, 8, 1))


def test_the_accepted_range_follows_the_model():
    x = np.linspace(-1, 1, 128, dtype="float32").reshape(2, 8, 8, 1)
    tanh = Autoencoder(SHAPE, 2, hidden_units=(), output_activation="tanh")
    assert to_numpy(tanh.encode(x)).shape == (2, 2)
    with pytest.raises(ValueError, match=r"with values in \[-1, 1\], received min -2"):
        tanh.encode(2 * x)
    linear = Autoencoder(SHAPE, 2, hidden_units=(), output_activation=None)
    assert to_numpy(linear.encode(10 * x)).shape == (2, 2)   # any finite value
    with pytest.raises(ValueError, match="NaN/inf"):
        linear.encode(np.full_like(x, np.inf))
    with pytest.raises(ValueError, match="with values in \\[0, 1\\]"):  # BCE: [0, 1]
        Autoencoder(SHAPE, 2, hidden_units=(), output_activation=None,
                    reconstruction_loss="bce").encode(x)
    gaussian = VAE(SHAPE, 2, hidden_units=(4,), likelihood="gaussian")
    assert to_numpy(gaussian.encode(10 * x)[0]).shape == (2, 2)


def test_backend_tensors_are_checked_and_symbolic_ones_pass(models):
    ae = models["ae"]
    good = keras.ops.convert_to_tensor(IMAGES)
    np.testing.assert_allclose(to_numpy(ae.encode(good)), to_numpy(ae.encode(IMAGES)),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"received 1 NaN/inf value\(s\)"):
        ae.encode(keras.ops.convert_to_tensor(NAN_IMAGES))
    with pytest.raises(ValueError, match=r"received min [\d.]+, max 254\.\d+; 8-bit pixels"):
        ae.encode(keras.ops.convert_to_tensor(IMAGES * 255))
    symbolic = ae.encode(keras.Input(SHAPE))             # no values yet: not checked
    assert isinstance(symbolic, keras.KerasTensor) and tuple(symbolic.shape) == (None, 4)


@pytest.mark.parametrize("method, dim", [
    ("Autoencoder.decode", 4), ("VAE.decode", 2), ("VAE.decoder_output", 2),
    ("GAN.generate", 2)])
def test_latent_codes_are_checked(models, method, dim):
    call = {"Autoencoder.decode": lambda z: models["ae"].decode(z),
            "VAE.decode": lambda z: models["vae"].decode(z),
            "VAE.decoder_output": lambda z: models["vae"].decoder_output(z),
            "GAN.generate": lambda z: models["gan"].generate(z)}[method]
    name = {"Autoencoder.decode": "code", "GAN.generate": "latent"}.get(method, "z")
    with pytest.raises(ValueError, match=re.escape(
            f"{method}: expected {name} as a float array of shape (N, {dim}) with finite "
            f"values (the model's latent size), received shape (3, {dim + 1})")):
        call(np.zeros((3, dim + 1), "float32"))
    bad = np.zeros((3, dim), "float32")
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"received 1 NaN/inf value\(s\)"):
        call(bad)
    with pytest.raises(ValueError, match="received dtype bool"):
        call(np.zeros((3, dim), bool))
    assert to_numpy(call(np.zeros((3, dim), "float32"))).shape[0] == 3


def test_discriminate_needs_whole_packs():
    gan = GAN((2,), latent_dim=2, generator_units=(4,), discriminator_units=(4,), packing=2)
    assert to_numpy(gan.discriminate(np.zeros((4, 2), "float32"))).shape == (2, 1)
    with pytest.raises(ValueError, match="divisible by packing=2, received 3"):
        gan.discriminate(np.zeros((3, 2), "float32"))


def test_sample_counts_are_checked(models):
    with pytest.raises(ValueError, match=r"expected n >= 1 \(an integer\), received 0"):
        models["vae"].sample(0)
    with pytest.raises(ValueError, match=r"expected num_samples >= 1 \(an integer\), "
                                         r"received 2.5"):
        models["gan"].sample(2.5)
    with pytest.raises(ValueError, match=r"expected steps >= 2 \(an integer\), received 1"):
        models["vae"].interpolate(IMAGES[0], IMAGES[1], steps=1)


# --- Seq2Seq ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seq2seq():
    pairs = [("5 march 1991", "1991-03-05"), ("12 may 2001", "2001-05-12")]
    return Seq2Seq.from_pairs(pairs, units=4, embedding_dim=4)


@pytest.mark.parametrize("texts, received", [
    (None, "received NoneType"), (5, "received int"), ({"a": 1}, "received dict"),
    (["5 march", None], "received NoneType None at index 1"),
    (["5 march", 7], "received int 7 at index 1"),
    ([["5 march"]], r"received list \['5 march'\] at index 0"),
    (np.array([["a"]]), r"received an array of shape \(1, 1\)")])
def test_translate_refuses_what_is_not_text(seq2seq, texts, received):
    with pytest.raises(ValueError, match="Seq2Seq.translate: expected texts as a string or "
                                         "a list of strings, " + received):
        seq2seq.translate(texts)


def test_text_inputs_accept_str_bytes_and_arrays(seq2seq):
    as_str, _ = seq2seq.encode_texts(["5 march 1991"])
    as_bytes, _ = seq2seq.encode_texts([b"5 march 1991"])
    as_array, _ = seq2seq.encode_texts(np.array(["5 march 1991"]))
    np.testing.assert_array_equal(as_str, as_bytes)
    np.testing.assert_array_equal(as_str, as_array)
    assert seq2seq.translate([]) == []


def test_decode_ids_refuses_bad_ids(seq2seq):
    size = seq2seq.source_size
    with pytest.raises(ValueError, match=re.escape(
            f"expected source_ids as integer ids of shape (N, T) in [0, {size}), received "
            f"min 0, max {size}")):
        seq2seq.decode_ids(np.array([[0, size]], "int32"))
    with pytest.raises(ValueError, match="received dtype float32"):
        seq2seq.decode_ids(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match=r"received shape \(3,\)"):
        seq2seq.decode_ids(np.zeros((3,), "int32"))


# --- 2. labels -------------------------------------------------------------------------

LABEL_CALLS = {
    "GAN.generate": ("cgan", lambda m, y: m.generate(np.zeros((2, 2), "float32"), y)),
    "GAN.sample": ("cgan", lambda m, y: m.sample(2, labels=y, seed=1)),
    "GAN.discriminate": ("cgan", lambda m, y: m.discriminate(np.zeros((2, 2), "float32"), y)),
    "VAE.encode": ("cvae", lambda m, y: m.encode(IMAGES[:2], y)),
    "VAE.decode": ("cvae", lambda m, y: m.decode(np.zeros((2, 2), "float32"), y)),
    "VAE.reconstruct": ("cvae", lambda m, y: m.reconstruct(IMAGES[:2], y)),
    "VAE.sample": ("cvae", lambda m, y: m.sample(2, labels=y, seed=1)),
    "VAE.interpolate": ("cvae", lambda m, y: m.interpolate(IMAGES[:2], IMAGES[2:4], 3,
                                                           labels=y)),
}


@pytest.mark.parametrize("method", sorted(LABEL_CALLS))
@pytest.mark.parametrize("labels, received", [
    ([5, 7], "min 5, max 7"), ([-1, 0], "min -1, max 0"), ([0, 3], "min 0, max 3")])
def test_out_of_range_labels_are_refused_on_every_backend(models, method, labels, received):
    key, call = LABEL_CALLS[method]
    with pytest.raises(ValueError, match=re.escape(
            f"{method}: expected labels as integers in [0, 3) (num_classes=3), received "
            f"{received}")):
        call(models[key], np.array(labels))


@pytest.mark.parametrize("method", sorted(LABEL_CALLS))
def test_non_integer_labels_are_refused_and_whole_floats_accepted(models, method):
    key, call = LABEL_CALLS[method]
    with pytest.raises(ValueError, match=r"received non-integer value\(s\) such as 1.5"):
        call(models[key], np.array([1.5, 0.0]))
    with pytest.raises(ValueError, match="received dtype <U1"):
        call(models[key], np.array(["a", "b"]))
    keras.utils.set_random_seed(0)
    as_float = to_numpy(call(models[key], np.array([2.0, 1.0])))
    keras.utils.set_random_seed(0)
    as_int = to_numpy(call(models[key], np.array([2, 1], "int64")))
    np.testing.assert_allclose(as_float, as_int, rtol=1e-6)


def test_one_label_per_sample(models):
    with pytest.raises(ValueError, match=re.escape(
            "GAN.generate: expected labels as integers in [0, 3) (num_classes=3), one per "
            "sample: shape (2,), received shape (3,)")):
        models["cgan"].generate(np.zeros((2, 2), "float32"), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="received a single value 1"):
        models["cgan"].generate(np.zeros((2, 2), "float32"), 1)
    # VAE.sample documents one int for every sample; it is range-checked too.
    assert to_numpy(models["cvae"].sample(3, labels=2)).shape == (3,) + SHAPE
    with pytest.raises(ValueError, match="received min 3, max 3"):
        models["cvae"].sample(3, labels=3)


def test_labels_only_for_conditional_models(models):
    with pytest.raises(ValueError, match="expected labels=None for an unconditional GAN"):
        models["gan"].generate(np.zeros((1, 2), "float32"), np.array([0]))
    with pytest.raises(ValueError, match="expected labels=None for an unconditional VAE"):
        models["vae"].encode(IMAGES[:1], np.array([0]))
    with pytest.raises(ValueError, match="expected labels for a conditional VAE"):
        models["cvae"].decode(np.zeros((1, 2), "float32"))


@pytest.mark.parametrize("key, signature", [("cgan", "generate"), ("cvae", "sample"),
                                            ("cvae", "reconstruct")])
def test_exported_signature_refuses_out_of_range_labels(models, key, signature, tmp_path):
    """The served graph: an InvalidArgument error with the message (TensorFlow builds every
    SavedModel); called eagerly on the other backends, the endpoint raises ValueError."""
    model = models[key]
    fn, specs = model.export_endpoints()[signature]
    first = (np.zeros((2, 2), "float32") if signature != "reconstruct" else IMAGES[:2])
    if keras.backend.backend() != "tensorflow":
        with pytest.raises(ValueError, match=r"received min 3, max 5"):
            fn(first, np.array([3, 5], "int32"))
        return
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(signature, fn, input_signature=specs)
    archive.write_out(str(tmp_path / "model"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "model"))
    endpoint = getattr(served, signature)
    ok = endpoint(tf.constant(first), tf.constant([0, 2], tf.int32))
    assert all(np.isfinite(v.numpy()).all() for v in ok.values())
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"expected label as integers in \[0, 3\) \(num_classes=3\)"
                             r"[\s\S]*received min[\s\S]*-1[\s\S]*max[\s\S]*5"):
        endpoint(tf.constant(first), tf.constant([-1, 5], tf.int32))


def test_graph_assertion_in_a_traced_function(models):
    """Inside `tf.function` the labels are symbolic: the Python check lets them pass and
    the graph assertion (TensorFlow) stops a bad value at run time."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("graph assertions exist only in TensorFlow graphs")
    import tensorflow as tf

    model = models["cgan"]
    fn = tf.function(lambda z, y: model.generate(z, checks.graph_labels(y, 3)))
    assert fn(tf.zeros((2, 2)), tf.constant([0, 2])).shape == (2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected label as integers"):
        fn(tf.zeros((2, 2)), tf.constant([0, 3]))


# --- 3. image sizes of the convolutional architectures ---------------------------------


def test_dcgan_refuses_image_sizes_it_cannot_build_at_construction():
    with pytest.raises(ValueError, match=re.escape(
            "expected data_shape (H, W, C) with H and W even and >= 4 for "
            "architecture='dcgan'") + r".*received \(33, 33, 1\)"):
        GAN(architecture="dcgan", data_shape=(33, 33, 1))
    with pytest.raises(ValueError, match=r"received \(2, 2, 1\)"):
        GAN(architecture="dcgan", data_shape=(2, 2, 1))
    with pytest.raises(ValueError, match=re.escape(
            "expected data_shape (H, W, C) with H and W divisible by 2**len(filters) = 8 for "
            "architecture='dcgan' with filters=(8, 4, 2), received (12, 12, 1)")):
        GAN(architecture="dcgan", data_shape=(12, 12, 1), filters=(8, 4, 2))
    with pytest.raises(ValueError, match=r"expected data_shape \(H, W, C\) for "
                                         r"architecture='dcgan', received \(64,\)"):
        WGANGP(architecture="dcgan", data_shape=(64,))
    with pytest.raises(ValueError, match=r"expected data_shape as a tuple of positive "
                                         r"integers, received \(8, 8, 0\)"):
        GAN(architecture="dcgan", data_shape=(8, 8, 0))
    # What the message promises is accepted: even sizes >= 4, any channel count.
    gan = GAN(architecture="dcgan", data_shape=(6, 10, 5), latent_dim=2, filters=(4,))
    assert tuple(to_numpy(gan.generate(np.zeros((1, 2), "float32"))).shape) == (1, 6, 10, 5)


def test_conv_autoencoder_and_vae_take_any_image_size():
    """The conv encoder rounds up and the decoder crops: 33x33 works, nothing to refuse."""
    x = RNG.uniform(0, 1, (2, 33, 33, 3)).astype("float32")
    ae = Autoencoder((33, 33, 3), 2, architecture="conv", filters=(4, 4))
    vae = VAE((33, 33, 3), 2, architecture="conv", filters=(4, 4))
    assert to_numpy(ae.reconstruct(x)).shape == x.shape
    assert to_numpy(vae.reconstruct(x)).shape == x.shape
    with pytest.raises(ValueError, match=r"expected image_shape \(H, W, C\) for "
                                         r"architecture='conv', received \(64,\)"):
        VAE((64,), 2, architecture="conv")
    with pytest.raises(ValueError, match=r"expected filters with at least one entry"):
        Autoencoder((8, 8, 1), 2, architecture="conv", filters=())


# --- 4. constructor sizes --------------------------------------------------------------

CONSTRUCTORS = {
    "Autoencoder": lambda **kw: Autoencoder(**{"input_shape": SHAPE, "code_size": 2, **kw}),
    "SparseAutoencoder": lambda **kw: SparseAutoencoder(SHAPE, **{"code_size": 2, **kw}),
    "ContractiveAutoencoder": lambda **kw: ContractiveAutoencoder(SHAPE,
                                                                  **{"code_size": 2, **kw}),
    "VAE": lambda **kw: VAE(SHAPE, **kw),
    "GAN": lambda **kw: GAN(**{"data_shape": (2,), **kw}),
    "WGANGP": lambda **kw: WGANGP(**{"data_shape": (2,), **kw}),
    "Seq2Seq": lambda **kw: Seq2Seq(["a"], ["b"], **{"max_source_length": 4,
                                                     "max_target_length": 4, **kw}),
}


@pytest.mark.parametrize("family, kwargs, message", [
    ("Autoencoder", dict(code_size=0), "expected code_size >= 1 (an integer), received 0"),
    ("Autoencoder", dict(code_size=-3), "expected code_size >= 1 (an integer), received -3"),
    ("Autoencoder", dict(code_size=2.5), "expected code_size >= 1 (an integer), received 2.5"),
    ("Autoencoder", dict(code_size=True), "expected code_size >= 1 (an integer), received True"),
    ("Autoencoder", dict(hidden_units=(16, 0)),
     "expected hidden_units as a sequence of integers >= 1, received (16, 0)"),
    ("Autoencoder", dict(hidden_units=(-3,)),
     "expected hidden_units as a sequence of integers >= 1, received (-3,)"),
    ("Autoencoder", dict(hidden_units=128),
     "expected hidden_units as a sequence of integers >= 1, received 128"),
    ("Autoencoder", dict(architecture="conv", filters=(0,)),
     "expected filters as a sequence of integers >= 1, received (0,)"),
    ("Autoencoder", dict(input_shape=(8, -8)),
     "expected input_shape as a tuple of positive integers, received (8, -8)"),
    ("Autoencoder", dict(dropout=1.0), "expected dropout in [0, 1) (a number), received 1"),
    ("SparseAutoencoder", dict(sparsity_target=0.0),
     "expected sparsity_target in (0, 1) (a number), received 0"),
    ("ContractiveAutoencoder", dict(num_projections=0),
     "expected num_projections >= 1 (an integer), received 0"),
    ("ContractiveAutoencoder", dict(contractive_weight=-1.0),
     "expected contractive_weight >= 0 (a number), received -1"),
    ("VAE", dict(latent_dim=0), "expected latent_dim >= 1 (an integer), received 0"),
    ("VAE", dict(hidden_units=(0,)),
     "expected hidden_units as a sequence of integers >= 1, received (0,)"),
    ("VAE", dict(architecture="conv", filters=(-1,)),
     "expected filters as a sequence of integers >= 1, received (-1,)"),
    ("VAE", dict(num_classes=1), "expected num_classes >= 2 (an integer), received 1"),
    ("VAE", dict(iwae_samples=0), "expected iwae_samples >= 1 (an integer), received 0"),
    ("VAE", dict(kl_warmup_steps=-1), "expected kl_warmup_steps >= 0 (an integer), received -1"),
    ("VAE", dict(beta=-0.5), "expected beta >= 0 (a number), received -0.5"),
    ("GAN", dict(latent_dim=0), "expected latent_dim >= 1 (an integer), received 0"),
    ("GAN", dict(discriminator_steps=0),
     "expected discriminator_steps >= 1 (an integer), received 0"),
    ("GAN", dict(packing=0), "expected packing >= 1 (an integer), received 0"),
    ("GAN", dict(generator_units=(0,)),
     "expected generator_units as a sequence of integers >= 1, received (0,)"),
    ("GAN", dict(discriminator_units=(-2,)),
     "expected discriminator_units as a sequence of integers >= 1, received (-2,)"),
    ("GAN", dict(num_classes=1), "expected num_classes >= 2 (an integer), received 1"),
    ("GAN", dict(data_shape=(0,)), "expected data_shape as a tuple of positive integers, "
                                   "received (0,)"),
    ("WGANGP", dict(discriminator_steps=0),
     "expected discriminator_steps >= 1 (an integer), received 0"),
    ("WGANGP", dict(gradient_penalty_weight=-1.0),
     "expected gradient_penalty_weight >= 0 (a number), received -1"),
    ("Seq2Seq", dict(units=0), "expected units >= 1 (an integer), received 0"),
    ("Seq2Seq", dict(embedding_dim=-1), "expected embedding_dim >= 1 (an integer), received -1"),
    ("Seq2Seq", dict(beam_width=0), "expected beam_width >= 1 (an integer), received 0"),
    ("Seq2Seq", dict(max_source_length=0),
     "expected max_source_length >= 1 (an integer), received 0"),
])
def test_bad_sizes_are_refused_at_construction(family, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        CONSTRUCTORS[family](**kwargs)


def test_numpy_integers_are_accepted_and_stored_as_ints():
    gan = GAN((2,), latent_dim=np.int64(3), discriminator_steps=np.int32(2),
              generator_units=(np.int64(4),), discriminator_units=(4,))
    config = gan.get_config()
    assert config["latent_dim"] == 3 and type(config["latent_dim"]) is int
    assert type(config["discriminator_steps"]) is int
    assert gan.generator.output_shape == (None, 2)
