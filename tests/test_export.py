"""SavedModel export: layout, atomicity, signatures served by a process that
imports only TensorFlow, saved_model_cli, models.config."""

import re

import numpy as np
import pytest

from keras_genmodels import export
from keras_genmodels.export import export_model
from keras_genmodels.models.autoencoder import Autoencoder
from tests.conftest import to_numpy
from tests.serving import call_signatures, saved_model_cli_show


@pytest.fixture(scope="module")
def trained(digits_split):
    ae = Autoencoder((8, 8, 1), 6, hidden_units=(32,))
    ae.compile(optimizer="adam")
    ae.fit(digits_split[0][:256], epochs=1, batch_size=64, verbose=0)
    return ae


def test_export_serves_every_signature_in_tf_only_process(tmp_path, trained, digits_split):
    x = digits_split[2][:37]  # odd batch: the batch dimension is dynamic
    path = export_model(trained, "ae", base_dir=tmp_path)
    assert path == tmp_path / "ae" / "1" and (path / "saved_model.pb").is_file()
    code = to_numpy(trained.encode(x))
    served = call_signatures(path, {"encode": {"x": x}, "decode": {"code": code},
                                    "reconstruct": {"x": x}, "serving_default": {"x": x}})
    np.testing.assert_allclose(served["encode"]["code"], code, atol=1e-5)
    np.testing.assert_allclose(served["decode"]["x_hat"], to_numpy(trained.decode(code)), atol=1e-5)
    for sig in ("reconstruct", "serving_default"):
        np.testing.assert_allclose(served[sig]["x_hat"], to_numpy(trained.reconstruct(x)), atol=1e-5)

    shown = saved_model_cli_show(path)
    for sig in ("encode", "decode", "reconstruct", "serving_default"):
        assert f"signature_def['{sig}']" in shown
    assert "shape: (-1, 8, 8, 1)" in shown and "shape: (-1, 6)" in shown


def fake_writer(fail=False):
    """Stand-in for the SavedModel writer (both the in-process and the
    subprocess path), so versioning and atomicity are tested cheaply."""
    def write(model_or_path, out_dir, allow_non_finite=False):
        out_dir.mkdir()
        (out_dir / "saved_model.pb").write_bytes(b"partial")
        if fail:
            raise RuntimeError("writer failed half-way")
    return write


@pytest.fixture
def fake_export(monkeypatch):
    def use(fail=False):
        monkeypatch.setattr(export, "_write_archive", fake_writer(fail))
        monkeypatch.setattr(export, "_export_in_tf_subprocess", fake_writer(fail))
    return use


def test_versions_increment_and_models_config_lists_models(tmp_path, trained, fake_export):
    fake_export()
    (tmp_path / "ae").mkdir()
    (tmp_path / "ae" / "model.keras").write_bytes(b"")  # non-version entries ignored
    first = export_model(trained, "ae", base_dir=tmp_path)
    second = export_model(trained, "ae", base_dir=tmp_path, serving_root="/models")
    assert first.name == "1" and (first / "saved_model.pb").is_file()
    assert second.name == "2"
    config = (tmp_path / "models.config").read_text()
    assert re.search(r"name: 'ae'\s+base_path: '/models/ae'\s+model_platform: 'tensorflow'", config)
    assert config.startswith("model_config_list {")
    with pytest.raises(FileExistsError, match="versions are immutable"):
        export_model(trained, "ae", base_dir=tmp_path, version=2)


def test_failed_export_leaves_nothing_behind(tmp_path, trained, fake_export):
    fake_export(fail=True)
    with pytest.raises(RuntimeError, match="half-way"):
        export_model(trained, "broken", base_dir=tmp_path)
    assert not (tmp_path / "broken").exists()  # no empty model directory left behind
    assert not (tmp_path / "models.config").exists()


def test_bad_serving_default_is_reported():
    class Broken(Autoencoder):
        serving_default = "no_such_endpoint"

    with pytest.raises(ValueError, match="serving_default='no_such_endpoint' is not one of"):
        export._write_archive(Broken((8, 8, 1), 2), "/nonexistent/never-written")


@pytest.mark.parametrize("name, error", [("../evil", ValueError), ("", ValueError)])
def test_bad_names_and_inputs_are_rejected_before_writing(tmp_path, trained, name, error):
    with pytest.raises(error, match="Export name"):
        export_model(trained, name, base_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_or_corrupt_keras_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="which does not exist"):
        export_model(tmp_path / "missing.keras", "m", base_dir=tmp_path)
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="Keras v3 '.keras' archive"):
        export_model(bad, "m", base_dir=tmp_path)
    assert not (tmp_path / "m").exists()
