"""The zoo tables equal the original zoo JSONs, layer config by layer config.

`tnn.create_model(name)` is built from hand-written data tables
(tnn/zoo/); `from_tnn_json(..., zoo_model=name)` from the original JSON
files plus the zoo's Python overrides. Every layer and cell of the two must
have the same configuration — initializers and weight decays included, so
that training from scratch reproduces the original's set-up too. The
original files come from the `original_graphs` fixture.
"""

import json

import pytest

import tnn
from tnn.interop.tnn_json import from_tnn_json


def layer_configs(model):
    configs = {}
    for node in model.graph_nodes.values():
        for layer in node._flatten_layers(include_self=False):
            config = dict(layer.get_config())
            config.pop("name", None)
            key = layer.path.split("/", 1)[1]
            configs[key] = json.loads(json.dumps(config, default=str))
    return configs


@pytest.mark.parametrize("name", tnn.list_models())
def test_zoo_table_equals_original_json(name, original_graphs):
    size = 72 if name.endswith("shallow") else 32
    ours = tnn.create_model(name, input_shape=(size, size, 3))
    original = from_tnn_json(original_graphs / f"convrnns_{name}.json",
                             zoo_model=name, input_shape=(size, size, 3))
    a, b = layer_configs(ours), layer_configs(original)
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key] == b[key], key
    assert ours.input_names == original.input_names
    assert (ours.times, ours.image_off) == (original.times,
                                            original.image_off)
