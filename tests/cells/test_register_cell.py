"""`tnn.register_cell`: a user-defined cell usable by name everywhere a
built-in cell is (GraphSpec, gin, create_model, the JSON importer, .keras
files), and clear errors."""

import json

import gin
import keras
import numpy as np
import pytest

import tnn
from tests.test_case import run_cell_test, unroll_cell
from tnn.cells.base import conv2d
from tnn.interop.tnn_json import from_tnn_json, spec_from_tnn_json


@tnn.register_cell
class LeakyConvIntegratorCell(tnn.cells.RecurrentCell):
    """`s_t = decay * s_{t-1} + W * x_t` (output = state)."""

    def __init__(self, filters, decay=0.5, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.decay = decay
        self.kernel_size = kernel_size

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel = self._add_kernel(
            "kernel", (self.kernel_size,) * 2, input_shape[-1], self.filters,
            "xavier")
        super().build(input_shape)

    def state_shapes(self, input_shape):
        return [tuple(input_shape[-3:-1]) + (self.filters,)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.filters,)

    def call(self, inputs, states, training=None):
        state = self.decay * states[0] + conv2d(inputs, self.kernel)
        return state, [state]


CELL = "LeakyConvIntegratorCell"


def tiny_spec(cell):
    conv = {"layer": "conv", "filters": 4, "kernel_size": 3,
            "activation": "elu"}
    return {"nodes": [
        {"name": "v1", "input_shape": [8, 8, 3], "pre_memory": [conv],
         "cell": cell},
        {"name": "it", "pre_memory": [{"layer": "global_pool"},
                                      {"layer": "fc", "units": 3}]}],
        "edges": [("v1", "it")]}


def test_cell_follows_the_cell_contract():
    run_cell_test(LeakyConvIntegratorCell, {"filters": 5, "decay": 0.25},
                  (2, 8, 8, 3), (2, 8, 8, 5), 1)


def test_registered_by_name():
    assert CELL in tnn.cells.list_cells()
    assert tnn.cells.get_cell_class(CELL) is LeakyConvIntegratorCell
    assert tnn.cells.cell_name(LeakyConvIntegratorCell) == CELL
    assert getattr(tnn.cells, CELL) is LeakyConvIntegratorCell
    assert keras.saving.get_registered_object(f"tnn>{CELL}") is (
        LeakyConvIntegratorCell)


def test_graph_spec_by_name():
    spec = tnn.GraphSpec.from_dict(tiny_spec(
        {"cell": CELL, "filters": 4, "decay": 0.5}))
    model = tnn.TNNGraph(spec, times=4)
    cell = model.graph_nodes["v1"].cell
    assert isinstance(cell, LeakyConvIntegratorCell) and cell.decay == 0.5
    images = np.random.default_rng(0).standard_normal((2, 8, 8, 3))
    out = np.asarray(model(images.astype("float32")))
    assert out.shape == (2, 4, 3) and np.all(np.isfinite(out))


@pytest.mark.filterwarnings("ignore:times=3 is shorter")
def test_gin_binding_injects_the_cell():
    from tnn import config
    gin.clear_config()
    try:
        config.parse_gin(bindings=[
            f"{CELL}.decay = 0.125",
            "build_model.name = 'timedecay_intermediate'",
            "build_model.input_shape = (32, 32, 3)",
            "build_model.num_classes = 10",
            "build_model.times = 3",
            f"build_model.cells = {{'conv4': {{'cell': @{CELL}, "
            f"'filters': 128}}}}"])
        model = config.build_model()
        injected = gin.query_parameter(f"{CELL}.decay")
        # The binding reached the configurable; the graph resolves the
        # injected class to the registered cell.
        assert injected == 0.125
        configurable = gin.get_configurable(f"tnn.cells.{CELL}")
        assert configurable(filters=2).decay == 0.125
    finally:
        gin.clear_config()
    assert isinstance(model.graph_nodes["conv4"].cell,
                      LeakyConvIntegratorCell)


@pytest.mark.filterwarnings("ignore:times=3 is shorter")
def test_create_model_cells_override():
    model = tnn.create_model(
        "timedecay_intermediate", input_shape=(32, 32, 3), num_classes=10,
        times=3, cells={"conv5": {"cell": CELL, "filters": 128,
                                  "decay": 0.9}})
    cell = model.graph_nodes["conv5"].cell
    assert isinstance(cell, LeakyConvIntegratorCell) and cell.decay == 0.9
    images = np.zeros((1, 32, 32, 3), "float32")
    assert np.asarray(model(images)).shape == (1, 3, 10)


def _json_graph(tmp_path, memory):
    node = {"dtype": "float32", "input_init": {"function": "zeros"},
            "state_init": {"function": "zeros"},
            "harbor": {"function": "harbor"}}
    conv = {"function": "conv", "out_depth": 4, "ksize": 3,
            "strides": [1, 1, 1, 1], "padding": "SAME",
            "activation": "relu"}
    graph = {"nodes": [
        dict(node, name="conv1", shape=[8, 8, 3], pre_memory=[conv],
             memory=memory, post_memory=[]),
        dict(node, name="fc1", shape_from="conv1",
             pre_memory=[{"function": "fc", "out_depth": 3,
                          "activation": None}],
             memory={"function": "memory", "memory_decay": 0,
                     "trainable": False}, post_memory=[])],
        "edges": [{"from": "conv1", "to": "fc1"}]}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(graph))
    return path


def test_json_cell_wrapper_and_memory_function(tmp_path):
    path = _json_graph(tmp_path, {"function": "memory", "filters": 4,
                                  "decay": 0.25, "shape": [8, 8]})
    spec = spec_from_tnn_json(path, cell_wrappers={"conv1": CELL})
    assert spec["nodes"][0]["cell"] == {"cell": CELL, "filters": 4,
                                        "decay": 0.25}
    model = from_tnn_json(path, cell_wrappers=CELL)
    assert isinstance(model.graph_nodes["conv1"].cell,
                      LeakyConvIntegratorCell)
    path = _json_graph(tmp_path, {"function": CELL, "filters": 4})
    model = from_tnn_json(path)
    assert model.graph_nodes["conv1"].cell.decay == 0.5
    images = np.ones((2, 8, 8, 3), "float32")
    assert np.asarray(model(images)).shape[-1] == 3


def test_json_errors_name_the_cell(tmp_path):
    path = _json_graph(tmp_path, {"function": CELL, "filter": 4})
    with pytest.raises(tnn.interop.tnn_json.TNNJSONError,
                       match="not arguments of LeakyConvIntegratorCell"):
        spec_from_tnn_json(path)
    path = _json_graph(tmp_path, {"function": "memory", "filters": 4})
    with pytest.raises(tnn.interop.tnn_json.TNNJSONError, match=CELL):
        spec_from_tnn_json(path, cell_wrappers="NoSuchCell")


def test_keras_save_and_load_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = tnn.TNNGraph(tiny_spec({"cell": CELL, "filters": 4}), times=3)
    images = np.random.default_rng(1).standard_normal(
        (2, 8, 8, 3)).astype("float32")
    expected = np.asarray(model(images))
    model.save(tmp_path / "leaky.keras")
    loaded = keras.saving.load_model(tmp_path / "leaky.keras")
    assert isinstance(loaded.graph_nodes["v1"].cell, LeakyConvIntegratorCell)
    np.testing.assert_array_equal(np.asarray(loaded(images)), expected)
    # The cell alone round-trips through Keras serialization too.
    cell = LeakyConvIntegratorCell(3, decay=0.7, name="leaky")
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(cell))
    assert type(clone) is LeakyConvIntegratorCell and clone.decay == 0.7


def test_override_replaces_and_named_registration():
    class First(LeakyConvIntegratorCell):
        pass

    class Second(LeakyConvIntegratorCell):
        pass

    assert tnn.register_cell("TestOverrideCell")(First) is First
    assert tnn.cells.cell_name(First) == "TestOverrideCell"
    with pytest.raises(ValueError, match="already registered.*override"):
        tnn.register_cell("TestOverrideCell")(Second)
    tnn.register_cell("TestOverrideCell", override=True)(Second)
    assert tnn.cells.get_cell_class("TestOverrideCell") is Second
    assert keras.saving.get_registered_object(
        "tnn>TestOverrideCell") is Second
    made = gin.get_configurable("tnn.cells.TestOverrideCell")(filters=2)
    assert type(made) is Second


def test_duplicate_name_is_a_clear_error():
    with pytest.raises(ValueError, match="'ConvLSTMCell' is already"):
        @tnn.register_cell
        class ConvLSTMCell(LeakyConvIntegratorCell):
            pass
    assert tnn.cells.get_cell_class("ConvLSTMCell").__module__ == (
        "tnn.cells.conv_lstm_cell")


def test_non_cell_class_is_a_clear_error():
    with pytest.raises(TypeError, match="needs a cell class.*lacks"):
        tnn.register_cell(keras.layers.Dense)
    with pytest.raises(TypeError, match="needs a cell class"):
        tnn.register_cell("NotAClass")(lambda x: x)
    with pytest.raises(ValueError, match="identifier"):
        tnn.register_cell("bad name")(LeakyConvIntegratorCell)


def test_unknown_name_lists_the_cells():
    with pytest.raises(ValueError, match=rf"Unknown cell 'Nope'.*{CELL}"):
        tnn.cells.get_cell_class("Nope")
    with pytest.raises(Exception, match=rf"Nope.*{CELL}"):
        tnn.TNNGraph(tiny_spec({"cell": "Nope"}), times=2)


def test_unrolled_numbers():
    cell = LeakyConvIntegratorCell(2, decay=0.5)
    cell.build((1, 4, 4, 1))
    kernel = np.zeros((3, 3, 1, 2), "float32")
    kernel[1, 1] = 1.0
    cell.kernel.assign(kernel)
    xs = np.ones((3, 1, 4, 4, 1), "float32")
    out, _ = unroll_cell(cell, xs)
    np.testing.assert_allclose(out[:, 0, 0, 0, 0], [1.0, 1.5, 1.75])


def test_class_registered_under_another_name_is_stored_by_that_name():
    class Renamed(LeakyConvIntegratorCell):
        pass

    tnn.register_cell("RenamedLeakyCell")(Renamed)
    spec = tnn.GraphSpec.from_dict(
        tiny_spec({"cell": Renamed, "filters": 4}))
    assert spec.node("v1").cell["cell"] == "RenamedLeakyCell"
    model = tnn.TNNGraph(spec, times=3)
    assert type(model.graph_nodes["v1"].cell) is Renamed
