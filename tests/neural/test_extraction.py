"""Streaming feature extraction: pruned unrolls, kept steps, the on-disk
store (resume, manifest, read-only maps) against the in-memory path and a
direct unroll."""

import collections
import json
import os

import keras
import numpy as np
import pytest
from keras import ops

from tnn.brainscore.extraction import FeatureExtractor
from tnn.graphs import unroll as unroll_lib
from tnn.neural import extraction
from tnn.neural import features as nf
from tnn.neural.synthetic.convrnn import ventral_convrnn

N = 7


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    model = ventral_convrnn(input_shape=(16, 16, 3), widths=(2, 3, 4, 4),
                            times=8, image_off=4)
    stimuli = np.random.default_rng(0).integers(
        0, 256, size=(N, 16, 16, 3), dtype=np.uint8)
    return model, stimuli


def _counted_run(model, images, collect, training):
    calls = collections.Counter()

    def counted(name):
        layer = model.graph_nodes[name]

        def call(inputs, states, training=None):
            calls[name] += 1
            return layer(inputs, states, training=training)
        return call

    frames = unroll_lib.Frames.present(
        ops.convert_to_tensor(images), model.graph_input_shape, "float32",
        model.image_off, model.blank_value)
    out = unroll_lib.run({n: counted(n) for n in model.graph_nodes},
                         model.plan, frames, model.times, collect,
                         model.output_shapes, model.state_shapes,
                         training=training, symbolic=False)
    return out, calls


def test_pruned_unroll_is_exact_and_skips_other_nodes(small):
    model, stimuli = small
    images = nf.preprocess_stimuli(stimuli[:3], (16, 16, 3))
    full = model.unroll(images)    # every node requested: nothing pruned
    # conv2 reads conv4 through a feedback edge: conv3's ancestors are
    # conv1-4 but not the readout; conv1 has no ancestor
    assert model.plan.needed(["conv3"], feedback=True) == (
        "conv1", "conv2", "conv3", "conv4")
    for collect, computed in ((["conv1"], {"conv1"}),
                              (["conv3"], {"conv1", "conv2", "conv3",
                                           "conv4"})):
        out, calls = _counted_run(model, images, collect, None)
        assert set(calls) == computed
        assert set(calls.values()) == {model.times}
        pruned = model.unroll(images, nodes=collect)
        for node in collect:
            np.testing.assert_array_equal(pruned[node], full[node])
            np.testing.assert_array_equal(out[node], full[node])
    # training keeps every node (their side effects)
    _, calls = _counted_run(model, images, ["conv1"], True)
    assert set(calls) == set(model.spec.node_names)


def test_store_equals_memory_and_a_direct_unroll(small, tmp_path):
    model, stimuli = small
    nodes = ["conv1", "conv3"]
    store = extraction.extract_to_disk(
        model, stimuli, nodes, tmp_path / "a", reduction="projection",
        dims=8, seed=3, batch_size=3, progress=False)
    memory = nf.extract_features(model, stimuli, nodes, batch_size=4,
                                 reduction="projection", dims=8, seed=3,
                                 verbose=0)
    assert list(store) == nodes and store.complete
    outputs = model.unroll(nf.preprocess_stimuli(stimuli, (16, 16, 3)),
                           nodes=nodes)
    for node in nodes:
        reducer = nf.NodeReducer(node, model.output_shapes[node],
                                 "projection", 8, 3)
        assert reducer.method == "projection"
        expected = reducer(ops.convert_to_numpy(outputs[node]))
        assert store[node].shape == memory[node].shape == (N, 8, 8)
        np.testing.assert_allclose(store[node], expected, atol=1e-5)
        np.testing.assert_allclose(memory[node], expected, atol=1e-5)
        assert isinstance(store[node], np.memmap)
        assert not store[node].flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            store[node][0, 0, 0] = 1.0
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["completed"] == N and manifest["seed"] == 3
    assert manifest["stimuli"]["count"] == N
    assert manifest["model"]["name"] == model.name
    assert manifest["steps"] == list(range(8))


def test_kept_steps_float16_and_paths(small, tmp_path):
    from PIL import Image
    model, stimuli = small
    images = nf.preprocess_stimuli(stimuli, (16, 16, 3))
    ten = ops.convert_to_numpy(model.unroll(images, ["conv2"], times=10)[
        "conv2"]).reshape(N, 10, -1)
    full = ten[:, :8]
    kept = nf.extract_features(model, stimuli, ["conv2"], reduction="none",
                               verbose=0, steps=[5, 1, 2])["conv2"]
    np.testing.assert_allclose(kept, full[:, [5, 1, 2]], atol=1e-6)
    paths = []
    for i, image in enumerate(stimuli):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    half = extraction.extract_to_disk(
        model, paths, ["conv2"], tmp_path / "h", steps=slice(4, None),
        reduction="none", dtype="float16", batch_size=4, progress=False)
    assert half["conv2"].dtype == np.float16
    np.testing.assert_allclose(half["conv2"], full[:, 4:], rtol=2e-3,
                               atol=2e-3)
    np.testing.assert_array_equal(half.steps, [4, 5, 6, 7])
    # the Brain-Score extractor: an extended presentation, two steps kept
    bs = FeatureExtractor(model, reduction="none", batch_size=4)
    two = bs(list(stimuli), ["conv2"], 10, steps=[8, 9])["conv2"]
    np.testing.assert_allclose(two, ten[:, 8:], atol=1e-6)
    with pytest.raises(ValueError, match=r"steps \[8\] are outside"):
        nf.extract_features(model, stimuli, ["conv2"], steps=[8], verbose=0)


def test_resume_after_an_interruption(small, tmp_path, capsys):
    model, stimuli = small
    reads = []
    fail_at = [4]

    def flaky(start, stop):
        reads.append(start)
        if start == fail_at[0]:
            raise RuntimeError("interrupted")
        return stimuli[start:stop]

    kwargs = dict(nodes=["conv2", "conv4"], reduction="pool", dims=6,
                  batch_size=2, n_stimuli=N, progress=1, cache={})
    with pytest.raises(RuntimeError, match="interrupted"):
        extraction.extract_to_disk(model, flaky, out_dir=tmp_path / "r",
                                   **kwargs)
    partial = extraction.FeatureStore(tmp_path / "r")
    assert partial.completed == 4 and not partial.complete
    fail_at[0] = None
    reads.clear()
    store = extraction.extract_to_disk(model, flaky, out_dir=tmp_path / "r",
                                       **kwargs)
    assert reads == [0, 4, 6]   # the key's first batch, then the rest
    assert "7/7 stimuli" in capsys.readouterr().out
    whole = extraction.extract_to_disk(model, stimuli,
                                       out_dir=tmp_path / "w", **kwargs)
    for node in kwargs["nodes"]:
        np.testing.assert_array_equal(store[node], whole[node])
    reads.clear()
    again = extraction.extract_to_disk(model, flaky, out_dir=tmp_path / "r",
                                       **kwargs)
    assert reads == [0] and again.complete   # nothing left to compute
    assert len(kwargs["cache"]) == 1   # one compiled unroller for all


def test_mismatched_resume_and_bad_arguments(small, tmp_path):
    model, stimuli = small
    out = tmp_path / "m"
    extraction.extract_to_disk(model, stimuli[:2], ["conv1"], out, dims=4,
                               progress=False)
    with pytest.raises(ValueError, match=r"other arguments \(.*seed: "
                                         r"stored 0 vs requested 1.*new "
                                         r"out_dir, or resume=False"):
        extraction.extract_to_disk(model, stimuli[:2], ["conv1"], out,
                                   dims=4, seed=1, progress=False)
    with pytest.raises(ValueError, match="other arguments.*stimuli"):
        extraction.extract_to_disk(model, stimuli[1:3], ["conv1"], out,
                                   dims=4, progress=False)
    store = extraction.extract_to_disk(model, stimuli[:2], ["conv1"], out,
                                       dims=4, seed=1, resume=False,
                                       progress=False)
    assert store.manifest["seed"] == 1 and store.complete
    with pytest.raises(ValueError, match="out_dir is required"):
        extraction.extract_to_disk(model, stimuli, ["conv1"])
    with pytest.raises(ValueError, match="dtype must be one of"):
        extraction.extract_to_disk(model, stimuli, ["conv1"], out,
                                   dtype="int8")
    with pytest.raises(ValueError, match="needs n_stimuli"):
        extraction.extract_to_disk(model, lambda a, b: stimuli[a:b],
                                   ["conv1"], out)
    with pytest.raises(ValueError, match="must not repeat"):
        extraction.check_steps([1, 1], 8)
    assert not os.path.exists(tmp_path / "m" / "manifest.json.tmp")
