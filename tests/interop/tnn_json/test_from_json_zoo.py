"""The convrnns zoo JSON files: §4.4 parameter counts, Appendix A variables,
and the same model as `tnn.create_model` (weights layout and outputs).

Every test reads the original JSON files (`original_graphs` fixture)."""

import warnings

import numpy as np
import pytest

import tnn
from tests.interop.expected import APPENDIX_A as APPENDIX
from tests.interop.expected import PARAMETER_COUNTS as COUNTS
from tnn.interop.tf1_checkpoint import variable_map
from tnn.interop.tnn_json import from_tnn_json, spec_from_tnn_json
from tnn.interop.tnn_json.zoo import LSTM_SHALLOW_CELL_PARAMS, LSTM_SHALLOW_FF

VARIANTS = {"rgc_intermediate_t22": "rgc_intermediate",
            "ugrnn_intermediate_t30": "ugrnn_intermediate"}


@pytest.fixture
def path(original_graphs):
    """`path(name)`: the zoo JSON file of `name`."""
    return lambda name: original_graphs / f"convrnns_{name}.json"


def test_every_zoo_file_is_a_registered_model(original_graphs):
    files = sorted(p.stem[len("convrnns_"):]
                   for p in original_graphs.glob("convrnns_*.json"))
    assert files == sorted(set(COUNTS) | set(VARIANTS))
    assert set(files) <= set(tnn.list_models())


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_and_tf1_variables_at_224(name, path):
    model = from_tnn_json(path(name), zoo_model=name)
    assert model.count_params() == COUNTS[name]
    vmap = variable_map(model)
    names = {f"tnn_model/{n}": s for n, s in vmap.expected_shapes().items()}
    names.update({f"tnn_model/{n}": (1,) for n in vmap.zero_memory})
    assert names == {n: s for n, (s, _) in APPENDIX[name].items()}


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_same_model_as_create_model(name, path):
    """Same weight paths/shapes/trainability, same outputs of every node for
    the same weights, same presentation."""
    size = 72 if name.endswith("shallow") else 32
    shape = (size, size, 3)
    zoo = tnn.create_model(name, input_shape=shape)
    imported = from_tnn_json(path(name), zoo_model=name, input_shape=shape)
    layout = [(w.path, tuple(w.shape), w.trainable) for w in zoo.weights]
    assert sorted(layout) == sorted(
        (w.path, tuple(w.shape), w.trainable) for w in imported.weights)
    assert (imported.times, imported.image_off) == (zoo.times, zoo.image_off)
    assert imported.input_names == zoo.input_names
    rng = np.random.default_rng(0)
    by_path = {w.path: w for w in imported.weights}
    for w in zoo.weights:
        value = rng.standard_normal(w.shape, dtype="float32") * 0.1
        w.assign(value)
        by_path[w.path].assign(value)
    images = rng.standard_normal((2,) + shape).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 4 steps < the readout's depth
        expected = zoo.unroll(images, times=4)
        got = imported.unroll(images, times=4)
    for node in zoo.spec.node_names:
        np.testing.assert_array_equal(np.asarray(got[node]),
                                      np.asarray(expected[node]), node)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_long_unroll_variants(variant, path):
    base = VARIANTS[variant]
    assert spec_from_tnn_json(path(variant), zoo_model=variant) == \
        spec_from_tnn_json(path(base), zoo_model=base)
    entry = tnn.zoo.registry.get_entry(variant)
    model = from_tnn_json(path(variant), zoo_model=variant,
                          input_shape=(32, 32, 3))
    assert (model.times, model.image_off) == (entry.times, None)
    assert model.name == variant


def test_lstm_shallow_overrides_equal_the_npz(original_graphs, path):
    """The built-in lstm_shallow settings are the npz's, and passing the
    npz's layer_params gives the same cells."""
    npz = np.load(original_graphs / "convrnns_lstm_shallow.npz",
                  allow_pickle=True)
    params = npz["arr_0"][()]["model_params"]
    layers = {k: v for k, v in params["layer_params"].items() if v}
    assert {k: dict(v["cell_params"]) for k, v in layers.items()} == \
        LSTM_SHALLOW_CELL_PARAMS
    assert params["ff_weight_decay"] == LSTM_SHALLOW_FF["weight_decay"]
    assert params["ff_kernel_initializer_kwargs"]["scale"] == \
        LSTM_SHALLOW_FF["kernel_init_kwargs"]["scale"]
    from_zoo = spec_from_tnn_json(path("lstm_shallow"),
                                  zoo_model="lstm_shallow")
    from_npz = spec_from_tnn_json(
        path("lstm_shallow"), cell_wrappers="tnn_ConvLSTMCell",
        layer_params={k: {"cell_params": dict(v["cell_params"])}
                      for k, v in layers.items()})
    cells = {n["name"]: n["cell"] for n in from_zoo["nodes"]}
    assert cells == {n["name"]: n["cell"] for n in from_npz["nodes"]}
    assert cells["conv3"]["kernel_size"] == 2
    assert cells["conv4"]["use_peepholes"] and cells["conv4"]["filters"] == 256
    assert cells["conv5"]["forget_bias"] == 0.9249280259963113
    # The npz's feed-forward settings reach the feed-forward convs.
    conv1 = from_zoo["nodes"][0]["pre_memory"][0]
    assert conv1["weight_decay"] == 3.479540054405051e-06
    assert conv1["kernel_initializer"]["config"]["scale"] == \
        1.7261410620368636


def test_zoo_cell_choice_and_feedback(path):
    spec = spec_from_tnn_json(path("rgc_intermediate"),
                              zoo_model="rgc_intermediate")
    cells = {n["name"]: n["cell"] for n in spec["nodes"]}
    assert [n for n, c in cells.items() if c] == [f"conv{i}"
                                                   for i in range(4, 11)]
    assert {c["cell"] for c in cells.values() if c} == {
        "MedianReciprocalGatedCell"}
    assert cells["conv4"]["cell_depth"] == 64
    assert cells["conv4"]["tau_filter_size"] == 7
    assert cells["conv4"]["feedback_filter_size"] == 1
    assert cells["conv4"]["feedback_activation"] is None
    assert {tuple(e) for e in spec["edges"]} >= {
        ("conv8", "conv5"), ("conv9", "conv6"), ("conv10", "conv7"),
        ("conv7", "conv6"), ("conv10", "conv9")}
    assert len(spec["edges"]) == 15
    plain = spec_from_tnn_json(path("timedecay_shallow"))
    assert [n["cell"] for n in plain["nodes"]] == [None, None] + [
        {"cell": "TimeDecayCell", "decay_init": 0.0, "learnable": True}] * 3 \
        + [None]
