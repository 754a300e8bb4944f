"""The model zoo: registry, parameter counts (§4.4), forward passes, gin."""

import glob
import inspect
import os
import warnings

import gin
import numpy as np
import pytest

import tnn
import tnn.config as tnn_config
from tests.interop.expected import PARAMETER_COUNTS

# Reference §4.4 (trainable parameters at 224×224×3, 1000 classes).
COUNTS = PARAMETER_COUNTS
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_registry_holds_the_14_architectures():
    assert set(COUNTS) <= set(tnn.list_models())
    assert tnn.list_models("rgc*") == ["rgc_intermediate",
                                       "rgc_intermediate_t22", "rgc_shallow"]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_match_reference(name):
    model = tnn.create_model(name)
    assert model.count_params() == COUNTS[name]
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == \
        COUNTS[name]


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_forward_over_time(name):
    size = 72 if name.endswith("shallow") else 32
    model = tnn.create_model(name, input_shape=(size, size, 3),
                             num_classes=10, times=12)
    images = np.random.default_rng(0).standard_normal(
        (2, size, size, 3)).astype("float32")
    logits = np.asarray(model(images))
    assert logits.shape == (2, 12, 10)
    assert np.all(np.isfinite(logits))
    depth = 5 if name.endswith("shallow") else 10
    assert model.first_image_step("imnetds") == depth
    # Image-driven readouts differ between examples; earlier ones do not.
    assert np.allclose(logits[0, :depth], logits[1, :depth])
    assert not np.allclose(logits[0, depth:], logits[1, depth:])


def test_presentations_and_overrides():
    m = tnn.create_model("rgc_shallow", input_shape=(72, 72, 3),
                         presentation="neural")
    assert (m.times, m.image_off) == (26, 10)
    m = tnn.create_model("ugrnn_intermediate_t30", input_shape=(32, 32, 3))
    assert (m.times, m.image_off) == (30, None)
    m = tnn.create_model("lstm_shallow", input_shape=(72, 72, 3),
                         times=9, image_off=None, unroll="feedforward",
                         num_classes=3)
    assert (m.times, m.image_off, m.unroll_mode) == (9, None, "feedforward")
    assert m.output_shapes["imnetds"] == (3,)


def test_rgc_intermediate_feedback_wiring():
    m = tnn.create_model("rgc_intermediate", input_shape=(64, 64, 3))
    assert m.input_names["conv6"] == ["conv5", "conv7", "conv9"]
    assert m.input_names["conv7"] == ["conv6", "conv10"]
    steps = m.first_image_step()
    assert [steps[f"conv{k}"] for k in range(1, 11)] == list(range(10))
    assert steps["imnetds"] == 10


def test_cell_override_and_extra_edges():
    m = tnn.create_model(
        "timedecay_shallow", input_shape=(72, 72, 3),
        cells={"conv4": {"cell": "ConvGRUCell", "filters": 256}},
        extra_edges=[("conv5", "conv3")])
    assert type(m.graph_nodes["conv4"].cell).__name__ == "ConvGRUCell"
    assert "conv5" in m.input_names["conv3"]


def test_unknown_model_lists_available_names():
    with pytest.raises(ValueError, match=r"Unknown model name 'rgc_deep'; "
                                         r"available models: .*rgc_shallow"):
        tnn.create_model("rgc_deep")
    with pytest.raises(ValueError, match="Unknown presentation"):
        tnn.create_model("rgc_shallow", presentation="flash")
    with pytest.raises(ValueError, match="has no node 'conv9'"):
        tnn.create_model("rgc_shallow", cells={"conv9": None})


GIN_FILES = sorted(glob.glob(os.path.join(ROOT, "gin_configs", "models",
                                          "*.gin")))


def test_every_registered_model_has_a_gin_file():
    names = {os.path.basename(f)[:-4] for f in GIN_FILES}
    assert names == set(tnn.list_models())


@pytest.mark.parametrize("path", GIN_FILES, ids=os.path.basename)
def test_gin_file_builds_its_model(path):
    gin.clear_config()
    tnn_config.parse_gin([path, os.path.join(ROOT, "gin_configs",
                                             "smoke.gin")])
    model = tnn_config.build_model()
    name = os.path.basename(path)[:-4]
    assert model.name == name
    assert model.times == 12 and model.output_shapes["imnetds"] == (10,)
    gin.clear_config()


def test_gin_feedback_overlay_and_class_injection():
    gin.clear_config()
    tnn_config.parse_gin(
        [os.path.join(ROOT, "gin_configs", "models", "rgc_shallow.gin"),
         os.path.join(ROOT, "gin_configs", "feedback",
                      "rgc_shallow_topdown.gin")],
        ['build_model.cells = {"conv4": {"cell": @ConvLSTMCell, '
         '"filters": 256}}'])
    model = tnn_config.build_model()
    assert model.input_names["conv3"] == ["conv2", "conv4", "conv5"]
    assert type(model.graph_nodes["conv4"].cell).__name__ == "ConvLSTMCell"
    assert model.spec.node("conv4").cell["cell"] == "ConvLSTMCell"
    gin.clear_config()


def test_unknown_gin_binding_fails():
    gin.clear_config()
    with pytest.raises(ValueError, match="No configurable matching"):
        tnn_config.parse_gin([], ["build_modle.name = 'rgc_shallow'"])
    gin.clear_config()


# An invalid value for every argument of `create_model`; the error must
# name the argument as the caller wrote it (issue 10, first-hour traps).
INVALID_ARGUMENTS = {
    "name": [{"name": "rgc_deep"}, {"name": 3}],
    "input_shape": [{"input_shape": (72, 72)}, {"input_shape": "big"},
                    {"input_shape": (8, 8, 3)}],
    "num_classes": [{"num_classes": 0}, {"num_classes": "ten"}],
    "presentation": [{"presentation": "flash"}],
    "times": [{"times": 0}, {"times": "x"}],
    "image_off": [{"image_off": 0}],
    "cells": [{"cells": ["conv4"]}, {"cells": {"conv4": 5}},
              {"cells": {"conv4": {"cell": "Nope"}}},
              {"cells": {"conv4": {"cell": "ConvGRUCell", "filters": -1}}}],
    "extra_edges": [{"extra_edges": [("conv9", "conv3")]},
                    {"extra_edges": ["conv5"]}, {"extra_edges": 5}],
    "unroll": [{"unroll": "fast"}],
    "blank_value": [{"blank_value": "grey"}],
    "share_pre_stimulus": [{"share_pre_stimulus": "maybe"}],
    "remat": [{"remat": "maybe"}],
    "time_loop": [{"time_loop": "fast"}],
    "dtype": [{"dtype": "float7"}],
    "bogus": [{"bogus": 1}],
}


def test_every_argument_of_create_model_has_an_invalid_case():
    from tnn.zoo import registry
    params = inspect.signature(tnn.create_model).parameters
    named = {p for p, v in params.items() if v.kind != v.VAR_KEYWORD}
    assert named | set(registry.GRAPH_ARGUMENTS) - {"trainable"} <= set(
        INVALID_ARGUMENTS)


@pytest.mark.parametrize("argument", sorted(INVALID_ARGUMENTS))
def test_invalid_arguments_are_named(argument):
    for case in INVALID_ARGUMENTS[argument]:
        kwargs = {"name": "rgc_shallow", "input_shape": (72, 72, 3), **case}
        with pytest.raises(ValueError) as info:
            tnn.create_model(**kwargs)
        assert argument in str(info.value), (case, str(info.value))


@pytest.mark.parametrize("unroll,warns", [("biological", True),
                                          ("feedforward", False)])
def test_short_times_warning_only_in_the_biological_unroll(unroll, warns):
    # Shallow readout: 5 edges from the input; 4 steps are too few only
    # when every edge costs a step.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3),
                                 num_classes=3, times=4, unroll=unroll)
    short = [w for w in caught if "shorter than the longest" in
             str(w.message)]
    assert bool(short) == warns
    if not warns:
        assert model.first_image_step("imnetds") == 0
