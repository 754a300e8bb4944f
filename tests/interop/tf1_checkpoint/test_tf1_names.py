"""TF1 names of all 14 zoo architectures: the converter's map against the
reference's Appendix A (literals in `tests.interop.expected`), then an
exact round trip of every weight through a synthetic checkpoint (values
held in memory)."""

import numpy as np
import pytest

import tnn
from tests.interop.expected import APPENDIX_A as APPENDIX
from tests.interop.expected import PARAMETER_COUNTS as COUNTS
from tnn.interop.tf1_checkpoint import load_tf1_weights, variable_map


def test_appendix_a_and_parameter_counts_agree():
    assert len(APPENDIX) == 14 and set(APPENDIX) == set(COUNTS)
    for name, entries in APPENDIX.items():
        trainable = sum(int(np.prod(shape)) for shape, train in
                        entries.values() if train)
        assert trainable == COUNTS[name], name


def _pattern_arrays(vmap):
    """Every variable a strictly increasing ramp (any transposition, split
    or swap shows), offset by its index; Momentum slots, global_step and the
    decay-0 memories as in the released checkpoints."""
    arrays = {}
    for k, (name, shape) in enumerate(sorted(vmap.expected_shapes().items())):
        value = (np.arange(int(np.prod(shape)), dtype="float32")
                 .reshape(shape) + k)
        arrays[f"tnn_model/{name}"] = value
        arrays[f"tnn_model/{name}/Momentum"] = value
    for name in vmap.zero_memory:
        arrays[f"tnn_model/{name}"] = np.zeros((1,), "float32")
    arrays["global_step"] = np.array(7, "int64")
    return arrays


@pytest.mark.large
@pytest.mark.parametrize("name", sorted(APPENDIX))
def test_variable_map_matches_appendix_a_and_round_trips(name):
    model = tnn.create_model(name)
    vmap = variable_map(model)
    expected = {f"tnn_model/{n}": s
                for n, s in vmap.expected_shapes().items()}
    zero = {f"tnn_model/{n}" for n in vmap.zero_memory}
    table = APPENDIX[name]
    # Every Keras weight has exactly the Appendix A variable and shape; the
    # remaining Appendix A entries are the non-trainable decay-0 memories.
    assert {n: table[n][0] for n in expected} == expected
    assert set(table) == set(expected) | zero
    assert all(not table[n][1] and table[n][0] == (1,) for n in zero)
    trainable = {w.path for w in model.trainable_weights}
    for target in vmap.targets:
        for tf1 in target.names:
            assert table[f"tnn_model/{tf1}"][1] == (
                target.variable.path in trainable), tf1

    arrays = _pattern_arrays(vmap)
    load_tf1_weights(model, arrays)
    for target in vmap.targets:
        parts = [arrays[f"tnn_model/{n}"] for n in target.names]
        assert len(parts) == 1
        np.testing.assert_array_equal(target.variable.numpy(), parts[0])
    assert len(vmap.targets) == len(model.weights)
