import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.graphs.helpers import conv
from tnn.graphs import GraphBuildError, TNNGraph
from tnn.graphs.harbor import Harbor
from tnn.graphs.resize import interpolation_matrix, resize_align_corners


@pytest.mark.parametrize("src, dst", [((7, 7), (28, 28)), ((4, 4), (14, 14)),
                                      ((4, 4), (7, 7)), ((9, 5), (3, 4)),
                                      ((1, 3), (4, 1)), ((6, 6), (6, 6))])
def test_resize_matches_tf1_align_corners(src, dst):
    x = np.random.default_rng(0).standard_normal(
        (2,) + src + (3,)).astype("float32")
    want = tf.compat.v1.image.resize_bilinear(x, dst, align_corners=True)
    got = resize_align_corners(tf.constant(x), dst)
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_interpolation_matrix_rows_sum_to_one():
    m = interpolation_matrix(7, 28)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    assert m[0, 0] == 1.0 and m[-1, -1] == 1.0   # corners align


def test_concat_order_and_feedback_split():
    ff = np.ones((1, 8, 8, 2), "float32")
    fb1 = np.full((1, 4, 4, 3), 2.0, "float32")
    fb2 = np.full((1, 2, 2, 1), 3.0, "float32")
    harbor = Harbor(["ff", "a", "b"], ff_index=0)
    out = np.asarray(harbor([ff, fb1, fb2]))
    assert out.shape == (1, 8, 8, 6)
    np.testing.assert_allclose(out[..., :2], 1.0)
    np.testing.assert_allclose(out[..., 2:5], 2.0, rtol=1e-6)
    np.testing.assert_allclose(out[..., 5:], 3.0, rtol=1e-6)
    split = Harbor(["ff", "a", "b"], ff_index=0, split_feedback=True)
    x, fb = split([ff, fb1, fb2])
    assert x.shape == (1, 8, 8, 2) and fb.shape == (1, 8, 8, 4)
    alone = Harbor(["ff"], split_feedback=True)
    x, fb = alone([ff])
    assert fb is None


def test_add_projects_mismatched_channels_and_tiles_vectors():
    harbor = Harbor(["ff", "vec", "map"], ff_index=0, channel_op="add")
    shapes = [(None, 4, 4, 3), (None, 5), (None, 2, 2, 2)]
    harbor.build(shapes)
    assert harbor.compute_output_shape(shapes) == (None, 4, 4, 3)
    # The vector: an fc to 3 channels before tiling (the original's
    # fc_to_conv_harbor); the 2-channel map: a 1×1 conv after resizing.
    assert set(harbor.vector_projections) == {1}
    assert set(harbor.add_projections) == {2}
    out = harbor([np.zeros((2, 4, 4, 3), "float32"),
                  np.ones((2, 5), "float32"),
                  np.ones((2, 2, 2, 2), "float32")])
    assert out.shape == (2, 4, 4, 3)


def _vector_into_map(channel_op):
    rng = np.random.default_rng(0)
    ff = rng.standard_normal((2, 4, 3, 3)).astype("float32")
    vec = rng.standard_normal((2, 5)).astype("float32")
    harbor = Harbor(["ff", "vec"], ff_index=0, channel_op=channel_op)
    shapes = [ff.shape, vec.shape]
    harbor.build(shapes)
    kernel, bias = harbor.vector_projections[1]
    assert kernel.path.endswith("fc_to_conv_harbor_for_vec_weights")
    assert tuple(kernel.shape) == (5, 3) and tuple(bias.shape) == (3,)
    # model_tool.fc's bias init is 1; give the kernel known values.
    np.testing.assert_array_equal(np.asarray(bias), 1.0)
    kernel.assign(rng.standard_normal((5, 3)).astype("float32"))
    out = np.asarray(harbor([ff, vec]))
    assert out.shape == tuple(harbor.compute_output_shape(shapes))
    projected = vec @ np.asarray(kernel) + 1.0           # [B, 3]
    tiled = np.broadcast_to(projected[:, None, None, :], (2, 4, 3, 3))
    return ff, tiled, out


def test_vector_into_a_map_is_projected_to_ff_channels_then_tiled():
    ff, tiled, out = _vector_into_map("concat")
    assert out.shape == (2, 4, 3, 6)           # C_ff + C_ff (harbor_policy)
    np.testing.assert_allclose(out[..., :3], ff)
    np.testing.assert_allclose(out[..., 3:], tiled, rtol=1e-5, atol=1e-6)
    ff, tiled, out = _vector_into_map("add")
    np.testing.assert_allclose(out, ff + tiled, rtol=1e-5, atol=1e-6)


def test_vector_with_the_ff_channel_count_is_only_tiled():
    harbor = Harbor(["ff", "vec"], ff_index=0)
    vec = np.arange(6, dtype="float32").reshape(2, 3)
    out = np.asarray(harbor([np.zeros((2, 2, 2, 3), "float32"), vec]))
    assert harbor.vector_projections == {} and not harbor.weights
    np.testing.assert_array_equal(out[:, 1, 0, 3:], vec)


def test_flatten_into_vector_node():
    harbor = Harbor(["a", "b"], ff_index=0)
    out = harbor([np.ones((2, 6), "float32"),
                  np.ones((2, 2, 2, 3), "float32")])
    assert out.shape == (2, 18)


def test_projection_after_concat():
    harbor = Harbor(["a", "b"], ff_index=0, projection=5)
    harbor.build([(None, 4, 4, 3), (None, 4, 4, 2)])
    assert harbor.compute_output_shape(
        [(None, 4, 4, 3), (None, 4, 4, 2)]) == (None, 4, 4, 5)
    out = harbor([np.ones((1, 4, 4, 3), "float32"),
                  np.ones((1, 4, 4, 2), "float32")])
    assert out.shape == (1, 4, 4, 5)


def test_feedback_reaches_through_resize_in_a_graph():
    keras.utils.set_random_seed(0)
    spec = {"nodes": [
        {"name": "v1", "input_shape": [8, 8, 3],
         "pre_memory": [conv(4, "relu")]},
        {"name": "v2", "pre_memory": [conv(6, "relu")],
         "post_memory": [{"layer": "max_pool"}]},
        {"name": "it", "pre_memory": [{"layer": "global_pool"},
                                      {"layer": "fc", "units": 3}]}],
        "edges": [("v1", "v2"), ("v2", "it"), ("v2", "v1")]}
    model = TNNGraph(spec, times=4)
    # v1's harbor: 3 image channels + 6 resized feedback channels.
    kernel = model.graph_nodes["v1"].pre_memory[0].kernel
    assert tuple(kernel.shape) == (3, 3, 9, 4)


def test_channel_mismatch_is_a_clear_error():
    spec = {"nodes": [
        {"name": "a", "input_shape": [8, 8, 3],
         "pre_memory": [conv(4)],
         "cell": {"cell": "ConvIntersectionRNNCell", "filters": 6}}],
        "edges": []}
    with pytest.raises(GraphBuildError, match=r"Node 'a'.*channels"):
        TNNGraph(spec, times=2)


def test_too_small_input_is_a_clear_error():
    spec = {"nodes": [
        {"name": "a", "input_shape": [4, 4, 3],
         "pre_memory": [conv(4, kernel_size=5, padding="valid")]}],
        "edges": []}
    with pytest.raises(GraphBuildError, match="Node 'a'"):
        TNNGraph(spec, times=2)


def test_feedback_from_a_vector_node_in_a_graph():
    keras.utils.set_random_seed(0)
    spec = {"nodes": [
        {"name": "v1", "input_shape": [8, 8, 3],
         "pre_memory": [conv(4, "relu")]},
        {"name": "it", "pre_memory": [{"layer": "global_pool"},
                                      {"layer": "fc", "units": 7}]}],
        "edges": [("v1", "it"), ("it", "v1")], "output": "it"}
    model = TNNGraph(spec, times=3)
    # v1's harbor: 3 image channels + the 7-d vector projected to 3.
    node = model.graph_nodes["v1"]
    assert tuple(node.pre_memory[0].kernel.shape) == (3, 3, 6, 4)
    assert tuple(node.harbor.vector_projections[1][0].shape) == (7, 3)
    out = model(np.ones((2, 3, 8, 8, 3), "float32"))
    assert tuple(out.shape) == (2, 3, 7)
