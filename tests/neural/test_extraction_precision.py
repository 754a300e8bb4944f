"""Feature extraction in bfloat16 (`precision=`): float32 features within
the stated tolerance of float32's, the precision in the manifest, and a
cached bfloat16 copy that follows the model's weights."""

import json

import keras
import numpy as np
import pytest

from tnn.graphs import precision as precision_lib
from tnn.neural import extraction
from tnn.neural import features as nf
from tnn.neural.synthetic.convrnn import ventral_convrnn

# As tests/graphs/test_precision.py: per step, max|bf16 - f32| <= 5% of
# max|f32| over stimuli and features (README, "Precision").
TOLERANCE = 0.05
N = 5


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    model = ventral_convrnn(input_shape=(24, 24, 3), widths=(8, 12, 16, 16),
                            times=6, image_off=4)
    stimuli = np.random.default_rng(0).integers(
        0, 256, size=(N, 24, 24, 3), dtype=np.uint8)
    return model, stimuli


def _worst_step_error(got, want):
    return float((np.abs(got - want).max(axis=(0, 2)) / np.maximum(
        np.abs(want).max(axis=(0, 2)), 1e-30)).max())


def test_bfloat16_features_are_float32_within_tolerance(small):
    model, stimuli = small
    kwargs = dict(nodes=["conv2", "conv3"], dims=32, batch_size=3,
                  verbose=0)
    want = nf.extract_features(model, stimuli, **kwargs)
    got = nf.extract_features(model, stimuli, precision="mixed_bfloat16",
                              **kwargs)
    for node in want:
        assert got[node].dtype == np.float32
        error = _worst_step_error(got[node], want[node])
        assert 0 < error <= TOLERANCE, (node, error)   # 0: not bfloat16
    assert model.compute_dtype == "float32"   # the model is not changed


def test_manifest_records_the_precision(small, tmp_path):
    model, stimuli = small
    kwargs = dict(nodes=["conv2"], dims=8, batch_size=2, progress=False)
    plain = extraction.extract_to_disk(model, stimuli, out_dir=tmp_path /
                                       "f", precision="float32", **kwargs)
    assert "precision" not in plain.manifest   # older manifests resume
    half = extraction.extract_to_disk(model, stimuli, out_dir=tmp_path /
                                      "b", precision="mixed_bfloat16",
                                      **kwargs)
    assert half.manifest["precision"] == "mixed_bfloat16"
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())[
        "precision"] == "mixed_bfloat16"
    assert half["conv2"].dtype == np.float32
    assert _worst_step_error(np.asarray(half["conv2"]),
                             np.asarray(plain["conv2"])) <= TOLERANCE
    with pytest.raises(ValueError, match="precision"):
        extraction.extract_to_disk(model, stimuli, out_dir=tmp_path / "b",
                                   precision="float32", **kwargs)
    with pytest.raises(ValueError, match="precision must be one of"):
        extraction.extract_to_disk(model, stimuli, out_dir=tmp_path / "x",
                                   precision="bfloat16", **kwargs)


def test_cached_copy_follows_the_model_weights(small):
    model, stimuli = small
    keras.utils.set_random_seed(1)
    other = ventral_convrnn(input_shape=(24, 24, 3), widths=(8, 12, 16, 16),
                            times=6, image_off=4)
    other.set_weights(model.get_weights())
    kwargs = dict(nodes=["conv3"], dims=16, batch_size=5,
                  precision="mixed_bfloat16")
    cache = {}
    first = extraction.extract_in_memory(other, stimuli, cache=cache,
                                         **kwargs)
    other.set_weights([w * 0.5 for w in other.get_weights()])
    second = extraction.extract_in_memory(other, stimuli, cache=cache,
                                          **kwargs)
    fresh = extraction.extract_in_memory(other, stimuli, **kwargs)
    np.testing.assert_array_equal(second["conv3"], fresh["conv3"])
    assert np.abs(first["conv3"] - second["conv3"]).max() > 0


def test_auto_follows_the_machine(small, monkeypatch):
    model, stimuli = small
    monkeypatch.setattr(precision_lib, "bfloat16_fast",
                        lambda: (False, "no bfloat16"))
    kwargs = dict(nodes=["conv2"], dims=8, batch_size=5)
    plain = extraction.extract_in_memory(model, stimuli, **kwargs)
    auto = extraction.extract_in_memory(model, stimuli, precision="auto",
                                        **kwargs)
    np.testing.assert_array_equal(auto["conv2"], plain["conv2"])
    monkeypatch.setattr(precision_lib, "bfloat16_fast",
                        lambda: (True, "CPU with amx_bf16"))
    auto = extraction.extract_in_memory(model, stimuli, precision="auto",
                                        **kwargs)
    half = extraction.extract_in_memory(
        model, stimuli, precision="mixed_bfloat16", **kwargs)
    np.testing.assert_array_equal(auto["conv2"], half["conv2"])
    assert np.abs(auto["conv2"] - plain["conv2"]).max() > 0


def test_brainscore_extractor_and_fit_neural_take_the_precision(small):
    from tnn.brainscore.extraction import FeatureExtractor
    from training.settings import FeatureSettings

    model, stimuli = small
    reducers = nf.make_reducers(model, ["conv3"], "projection", 16, 0)
    want = extraction.extract_in_memory(model, stimuli, ["conv3"],
                                        reducers=reducers)["conv3"]
    plain = FeatureExtractor(model, dims=16, batch_size=5)
    np.testing.assert_allclose(plain(stimuli, ["conv3"], 6)["conv3"], want,
                               rtol=1e-6, atol=1e-6)
    half = FeatureExtractor(model, dims=16, batch_size=5,
                            precision="mixed_bfloat16")
    got = half(stimuli, ["conv3"], 6)["conv3"]
    assert 0 < _worst_step_error(got, want) <= TOLERANCE
    with pytest.raises(ValueError, match="precision must be one of"):
        FeatureExtractor(model, precision="fp16")
    assert FeatureSettings(precision="auto").precision == "auto"
    with pytest.raises(ValueError, match="FeatureSettings.precision must "
                       "be one of"):
        FeatureSettings(precision="bf16")
