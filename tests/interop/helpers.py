"""Shared test helpers: Appendix A of the reference, TF1 checkpoint writing
and numpy references of the TF ops the cells use."""

import pathlib
import re

import numpy as np
import tensorflow as tf

# The original files live beside the repository: <repo>/../shared/.
REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference" / "TNN_REFERENCE.md"
GRAPHS = SHARED / "reference" / "original_graphs"


def appendix_a():
    """{architecture: {TF1 name: (shape, trainable)}} parsed from the
    reference's Appendix A, independently of the converter."""
    text = REFERENCE.read_text()
    section = text[text.index("## Appendix A."):text.index("## Appendix B.")]
    tables = {}
    for block in re.split(r"^### ", section, flags=re.M)[1:]:
        name = block.split()[0]
        body = block.split("```")[1]
        entries = {}
        for line in body.strip().splitlines():
            match = re.fullmatch(r"(\S+) \[([\d, ]*)\](\s+\(nt\))?",
                                 line.strip())
            assert match, line
            shape = tuple(int(v) for v in match.group(2).split(",") if v)
            entries[match.group(1)] = (shape, match.group(3) is None)
        tables[name] = entries
    return tables


def parameter_counts():
    """§4.4 of the reference: {architecture: trainable parameter count}."""
    text = REFERENCE.read_text()
    section = text[text.index("### 4.4"):text.index("### 4.5")]
    return {m.group(1): int(m.group(2).replace(",", ""))
            for m in re.finditer(r"^\| (\w+) \| ([\d,]+)", section, re.M)}


def write_tf1_checkpoint(prefix, arrays):
    """Writes `{name: array}` as a TF1 name-based checkpoint with
    `tf.compat.v1` variables and a `Saver` (as the zoo did)."""
    graph = tf.Graph()
    with graph.as_default():
        variables = {name: tf.compat.v1.Variable(
            tf.zeros(value.shape, value.dtype), name=name)
            for name, value in arrays.items()}
        saver = tf.compat.v1.train.Saver(list(variables.values()))
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            for name, variable in variables.items():
                variable.load(arrays[name], session)
            saver.save(session, str(prefix))
    return str(prefix)


def zoo_arrays(vmap, rng, scale=0.1, momentum=True, memory=True):
    """Distinct random values for every TF1 variable of a `VariableMap`,
    plus Momentum slots, pass-through memory decays (0) and global_step."""
    arrays = {}
    for name, shape in vmap.expected_shapes().items():
        value = rng.standard_normal(shape).astype("float32") * scale
        arrays[f"tnn_model/{name}"] = value
        if momentum:
            arrays[f"tnn_model/{name}/Momentum"] = rng.standard_normal(
                shape).astype("float32")
    if memory:
        for name in vmap.zero_memory:
            arrays[f"tnn_model/{name}"] = np.zeros((1,), "float32")
    arrays["global_step"] = np.array(123456, dtype="int64")
    return arrays


def conv2d_same(x, kernel, bias=None):
    """Stride-1 SAME convolution with TF padding (extra pad bottom/right)."""
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left),
                        (0, 0)))
    height, width = x.shape[1:3]
    out = np.zeros(x.shape[:3] + (kernel.shape[3],), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("bhwc,cd->bhwd",
                             padded[:, i:i + height, j:j + width],
                             kernel[i, j])
    return out if bias is None else out + bias


def depthwise_same(x, kernel):
    """Stride-1 SAME depthwise convolution (`kernel` `[kh, kw, C, 1]`)."""
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left),
                        (0, 0)))
    height, width = x.shape[1:3]
    out = np.zeros(x.shape, np.float64)
    for i in range(kh):
        for j in range(kw):
            out += padded[:, i:i + height, j:j + width] * kernel[i, j, :, 0]
    return out


def separable_same(x, depthwise, pointwise, bias):
    return conv2d_same(depthwise_same(x, depthwise), pointwise, bias)


def layer_norm(x, gamma, beta, eps=1e-12):
    """`tf.contrib.layers.layer_norm`: moments over H, W, C per example."""
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = x.var(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
