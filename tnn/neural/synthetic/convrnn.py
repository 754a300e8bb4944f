"""A ConvRNN as the ground truth of the synthetic ventral stream.

The "brain" is a small ConvRNN, `ventral_convrnn`: conv1 -> conv2 -> conv3
-> conv4 -> readout at 32 px (3x3 elu convs, 2x2 max pools), conv LSTM
cells in conv2-conv4 and a long-range feedback conv4 -> conv2 (the best
model of seed 002 had cLSTMs and feedback into conv2). Two networks share
this architecture and all weights but the purely recurrent ones:

- the *model*, the one a user fits (the demo writes its weights);
- the *truth*, whose purely recurrent weights (`recurrent_masks`: the
  elements the feed-forward control does not depend on, e.g. the rows of
  an LSTM kernel that read `h`, its forget gate, and the feedback slice of
  conv2's first conv) are mixed with a fresh draw (`truth_model`).

The two have identical feed-forward controls (`TNNGraph.unroll` with
`recurrence="off"`) and differ only in what they carry over time. V4 reads
the truth's conv2 and IT its conv4
(`tnn.neural.synthetic.generator.generate_synthetic_ventral`: a sparse
random linear readout per neuron, softplus rate, Poisson-like trial
noise), without the generator's extra neuron-level dynamics (leak =
adaptation = 0): the responses' temporal dynamics are the truth's
recurrent dynamics, and an area's onset latency is its node's first
image-driven step.

So the layer sweep must find conv2 / conv4 although the model's recurrence
is not the truth's; the direct fit of dynamics can move the model's
recurrence towards the truth's, which neither the feed-forward control nor
per-bin linear maps of its features can imitate (they carry nothing over
time, e.g. after the image is switched off).

How fair the test is: the model class contains the truth up to the
output nonlinearity (the truth's rates are a softplus of a linear readout;
the fitted readouts are linear), the fit starts from the model's own
recurrence (`mix` = 0.5 moves the truth's purely recurrent weights to
0.87 w + 0.5 w', w' a fresh draw) and sees only noisy trial averages of
the training stimuli and the fitted neurons; it is scored on held-out
stimuli and held-out neurons. The baselines see the same data; the
initial model (before the fit) is reported too, so the gain due to the
fit itself is visible.
"""

import gin
import keras
import numpy as np
from keras import ops

from tnn.graphs.tnn_graph import TNNGraph
from tnn.zoo import small_models
from tnn.zoo.presets import PRESENTATIONS
from tnn.neural.synthetic import generator as synthetic_ventral
from tnn.neural.features import extract_features, preprocess_stimuli
from tnn.neural.dynamics.trainable import dynamics_variables

DEFAULT_WIDTHS = (8, 16, 24, 32)
NEURAL = PRESENTATIONS["neural"]    # 26 steps of 10 ms, image off at 10
DEFAULT_FEEDBACK = (("conv4", "conv2"),)
DEFAULT_AREA_NODES = (("V4", "conv2"), ("IT", "conv4"))


@gin.configurable
def ventral_convrnn(input_shape=(32, 32, 3), widths=DEFAULT_WIDTHS,
                    feedback=DEFAULT_FEEDBACK, times=NEURAL["times"],
                    image_off=NEURAL["image_off"],
                    num_classes=10, name="ventral_convrnn"):
    """The demo ConvRNN (module docs) as a `TNNGraph`.

    Args:
        input_shape: `(H, W, C)` of the images.
        widths: channels of conv1 ... convN (ConvLSTM cells, 3x3, in
            conv2 ... convN).
        feedback: extra `(source, target)` edges.
        times, image_off: presentation (default: the neural one).
        num_classes: units of the (unused) readout node.
        name: model name.
    """
    widths = tuple(widths)
    cells = {f"conv{i}": {"cell": "ConvLSTMCell", "filters": w,
                          "kernel_size": 3}
             for i, w in enumerate(widths, start=1) if i >= 2}
    spec = small_models.chain_spec(
        widths, num_classes, tuple(input_shape), cells,
        feedback=[tuple(e) for e in feedback])
    return TNNGraph(spec, input_shape=tuple(input_shape), times=times,
                    image_off=image_off, name=name)


def _layer_outputs(node, inputs, states):
    """Every intermediate output of one node step (harbor, each pre-memory
    layer, the cell, each post-memory layer)."""
    return node(list(inputs), list(states), training=False,
                return_intermediates=True)[2]


def _tensorflow(what):
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"{what} needs the TensorFlow backend (it takes gradients with "
            f"tf.GradientTape), but Keras runs on "
            f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow.")
    import tensorflow as tf

    return tf


def recurrent_masks(model, images):
    """Which elements of the dynamics parameters are purely recurrent.

    An element is purely recurrent when the feed-forward control of the
    model (`recurrence="off"`: zero states, zero feedback) does not
    depend on it: given its control inputs (at the node's first image step
    and, if the image goes off, at the first blank step), the gradient of
    every intermediate output of its node (harbor, each layer, the cell) is
    exactly zero on `images`. Such elements act on the previous state or on
    the feedback only (e.g. the `h` rows and the forget gate of a ConvLSTM
    kernel, peepholes, a feedback slice). Intermediate outputs, rather
    than node outputs, are probed because a max pool passes no gradient to
    the positions it does not select.

    Args:
        model: a TNNGraph.
        images: normalised images `[B, H, W, C]`.

    Returns:
        list of float32 masks (1 = purely recurrent), aligned with
        `tnn.neural.dynamics.trainable.dynamics_variables(model)`.

    Raises:
        RuntimeError: when Keras does not run on TensorFlow.
    """
    tf = _tensorflow("recurrent_masks")
    dynamics = dynamics_variables(model)
    outs = model.unroll(images, recurrence="off")
    probes = np.random.default_rng(0)
    with tf.GradientTape() as tape:
        total = 0.0
        for name in sorted({d.node for d in dynamics}):
            node = model.graph_nodes[name]
            first = model.first_image_step(name)
            steps = [first]
            if model.image_off is not None and \
                    first + model.image_off < model.times:
                steps.append(first + model.image_off)
            states = [ops.zeros((len(images),) + tuple(s))
                      for s in model.state_shapes[name]]
            for step in steps:
                inputs = model.node_inputs(outs, name, step, images,
                                           recurrence="off")
                for value in _layer_outputs(node, inputs, states):
                    probe = probes.standard_normal(value.shape[1:])
                    total += tf.reduce_sum(value * probe.astype(np.float32))
    grads = tape.gradient(total, [d.variable for d in dynamics])
    masks = []
    for d, g in zip(dynamics, grads):
        free = np.ones(d.variable.shape, np.float32) if g is None else (
            g.numpy() == 0).astype(np.float32)
        masks.append(free if d.mask is None else free * d.mask)
    return masks


def truth_model(model, seed, images, mix=0.5):
    """A copy of `model` whose purely recurrent weights are drawn again.

    Every element w that `recurrent_masks` marks as purely recurrent
    becomes sqrt(1 - mix^2) w + mix w', w' from a fresh initialisation of
    the same architecture (seed `seed`): the variance of the weights is
    kept, mix = 1 draws them anew. All other weights are `model`'s, so the
    truth and the model have identical feed-forward controls and differ
    only in what they carry over time (recurrent kernels and feedback).

    Args:
        model: a TNNGraph.
        seed: seed of the new draw (`keras.utils.set_random_seed`).
        images: normalised images used by `recurrent_masks`.
        mix: in (0, 1], how far the truth's recurrence is from `model`'s.

    Returns:
        A TNNGraph.
    """
    if not 0 < mix <= 1:
        raise ValueError(f"mix must be in (0, 1], got {mix!r}.")
    keras.utils.set_random_seed(int(seed))
    truth = TNNGraph.from_config(model.get_config())
    fresh = [d.variable.numpy() for d in dynamics_variables(truth)]
    truth.set_weights(model.get_weights())
    masks = recurrent_masks(truth, images)
    for d, value, mask in zip(dynamics_variables(truth), fresh, masks):
        old = d.variable.numpy()
        mixed = np.sqrt(1.0 - mix ** 2) * old + mix * value
        d.variable.assign(np.where(mask > 0, mixed, old))
    return truth


def default_areas(model, area_nodes=DEFAULT_AREA_NODES, n_neurons=40,
                  bin_width_ms=10.0, **kwargs):
    """AreaSpecs reading `area_nodes` with no neuron-level dynamics."""
    return tuple(synthetic_ventral.AreaSpec(
        area, node, n_neurons=n_neurons, leak=(0.0, 0.0),
        adaptation=(0.0, 0.0),
        latency_ms=model.first_image_step(node) * bin_width_ms, **kwargs)
        for area, node in area_nodes)


def generate_convrnn_ventral(n_per_category=80, size=32, n_trials=20,
                             seed=0, truth_seed=1, mix=0.5,
                             widths=DEFAULT_WIDTHS,
                             feedback=DEFAULT_FEEDBACK,
                             area_nodes=DEFAULT_AREA_NODES, n_neurons=40,
                             verbose=0):
    """Synthetic V4/IT data driven by a ConvRNN truth.

    Args:
        n_per_category: stimuli per category (6 categories).
        size: stimulus and model input size in pixels.
        n_trials: trials per stimulus.
        seed: seed of the stimuli, the model's weights and the noise.
        truth_seed: seed of the truth's recurrent weights.
        mix: distance of the truth's recurrence from the model's
            (`truth_model`).
        widths, feedback: `ventral_convrnn` architecture.
        area_nodes: (area, node) pairs of the truth.
        n_neurons: neurons per area.
        verbose: progress bars of the truth's feature extraction.

    Returns:
        (NeuralData, truth dict, model, truth model).
    """
    if truth_seed == seed:
        raise ValueError(
            f"truth_seed must differ from seed ({seed}): the truth's "
            "dynamics must not be the fitted model's starting point.")
    stimuli, labels, ids = synthetic_ventral.render_stimuli(
        n_per_category, size, seed=seed)
    keras.utils.set_random_seed(int(seed))
    model = ventral_convrnn(input_shape=(size, size, 3), widths=widths,
                            feedback=feedback)
    probe = preprocess_stimuli(stimuli[:16], model.graph_input_shape)
    truth = truth_model(model, truth_seed, probe, mix)
    nodes = sorted({node for _, node in area_nodes})

    def features_fn(images):
        return extract_features(truth, images, nodes=nodes,
                                reduction="none", verbose=verbose)

    data, info = synthetic_ventral.generate_synthetic_ventral(
        features_fn, stimuli, labels, ids,
        areas=default_areas(model, area_nodes, n_neurons),
        n_trials=n_trials, n_bins=model.times, seed=seed)
    info["model"] = {
        "builder": "ventral_convrnn", "input_shape": [size, size, 3],
        "widths": list(widths), "feedback": [list(e) for e in feedback],
        "times": model.times, "image_off": model.image_off,
        "seed": int(seed), "truth_seed": int(truth_seed), "mix": mix,
        "recurrent_weights_changed": int(sum(
            m.sum() for m in recurrent_masks(model, probe))),
        "first_image_step": model.first_image_step()}
    return data, info, model, truth
