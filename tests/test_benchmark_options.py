"""Benchmark scripts refuse bad options at parse time (exit 2, a message naming the
option and what it expects) instead of failing after the data is loaded.

Run under every backend: KERAS_BACKEND=tensorflow|jax|torch python -m pytest
tests/test_benchmark_options.py
"""

import importlib.util
import pathlib

import pytest

SCRIPTS = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "benchmarks"


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dcgan_mnist():
    return load_script("dcgan_mnist")


@pytest.mark.parametrize("argv, expected", [
    (["--batch-size", "0"], "positive integer"), (["--filters", "64", "-32"], "positive integer"),
    (["--discriminator-steps", "two"], "positive integer"), (["--lr", "0"], "> 0"),
    (["--minutes", "-1"], "> 0"), (["--r1-weight", "-1"], ">= 0"),
    (["--generator-ema", "1.0"], "argument --generator-ema: expected a number in [0, 1)"),
    (["--beta1", "-0.1"], "argument --beta1: expected a number in [0, 1)"),
])
def test_dcgan_mnist_rejects_bad_options(dcgan_mnist, argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        dcgan_mnist.parse_args(argv)
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err


def test_dcgan_mnist_defaults_and_quick(dcgan_mnist):
    args = dcgan_mnist.parse_args(["--r1-weight", "10", "--filters", "128", "64"])
    assert (args.r1_weight, args.filters, args.minutes, args.generator_ema) == \
        (10.0, [128, 64], 20.0, 0.999)
    quick = dcgan_mnist.parse_args(["--quick"])
    assert (quick.minutes, quick.num_samples) == (1.0, 2000)


@pytest.mark.parametrize("argv, expected", [
    (["--steps", "0"], "positive integer"), (["--steps", "ten"], "positive integer"),
    (["--tag", "../elsewhere"], "--tag"), (["--beside", "/nonexistent/run.json"], "--beside"),
    (["--beside", "CORRUPT"], "--beside")])
def test_stacked_mnist_rejects_bad_options_before_loading_data(argv, expected, capsys, tmp_path):
    corrupt = tmp_path / "run.json"
    corrupt.write_text('{"results": [{"name": "DCGAN"')     # cut short
    argv = [str(corrupt) if a == "CORRUPT" else a for a in argv]
    module = load_script("stacked_mnist")
    # A missing source file would fail later (in load_source_digits); exit 2 comes first.
    with pytest.raises(SystemExit) as exit_info:
        module.main([*argv, "--train", "/nonexistent/mnist.npz"])
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err
