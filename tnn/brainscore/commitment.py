"""Region -> node commitments from our own layer sweep on the user's data.

Brain-Score commits each region to a layer by scoring candidate layers on
a public benchmark (`LayerSelection`). `commit_regions` does the same on
the user's own recordings (a `tnn.neural.NeuralData`) with
`tnn.neural.layer_sweep`: every candidate node is scored per area over the
data's bins (PLS, 10 stratified splits, Brain-Score's definitions; see
`tnn.neural`) and the area is committed to the node with the best mean raw
score over the selected bins.

The node features the sweep sees are exactly what `TNNBrainModel` records
for those bins: the stimuli placed at the model's visual degrees (when the
data's `visual_degrees` is given), preprocessed the same way, and each bin
`[start, start + bin_width_ms)` mapped onto model steps by the adapter's
timing rule (`tnn.brainscore.timing`), so a committed node is scored in
Brain-Score on the same features it was chosen with.
"""

import numpy as np

from tnn.brainscore import placement, timing
from tnn.neural import NeuralData, layer_sweep
from tnn.neural.features import default_nodes


def commit_regions(brain_model, data, nodes=None, areas=None,
                   visual_degrees=None, **sweep_kwargs):
    """Best node per area of `data` for `brain_model` (a TNNBrainModel).

    Args:
        brain_model: the adapter (its model, timing and feature settings).
        data: a NeuralData; its areas are the region names.
        nodes: candidate nodes (default: every node but the readout).
        areas: areas to commit (default: all of the data's).
        visual_degrees: the visual angle the data's stimuli span; None
            means they are already at the model's `visual_degrees()`.
        **sweep_kwargs: passed to `tnn.neural.layer_sweep` (mapping,
            shared_across_bins, selection_ms, ...).

    Returns:
        (`{area: node}`, the layer-sweep report).
    """
    if not isinstance(data, NeuralData):
        raise ValueError(
            f"data must be a tnn.neural.NeuralData, got {type(data)}; load "
            "recordings with tnn.neural.load_neural_data.")
    for key in ("step_offset", "model_steps"):
        if key in sweep_kwargs:
            raise ValueError(
                f"{key} is set by the adapter's timing rule (step_ms, "
                "latency_ms); pass those to TNNBrainModel instead.")
    model = brain_model.model
    nodes = list(default_nodes(model) if nodes is None else nodes)
    bins = np.stack([data.bin_start_ms,
                     data.bin_start_ms + data.bin_width_ms], axis=1)
    stimuli = data.stimuli
    target = brain_model.visual_degrees()
    if visual_degrees is not None and visual_degrees != target:
        stimuli = [placement.place_on_screen(s, visual_degrees, target)
                   for s in stimuli]
    features = brain_model.binned_features(stimuli, nodes, bins)
    report = layer_sweep(features, data, areas=areas,
                         model_steps=np.arange(data.n_bins), **sweep_kwargs)
    report["timing"] = {"step_ms": float(brain_model.step_ms),
                        "latency_ms": float(brain_model.latency_ms),
                        "rule": "bin [start, end) ms = overlap-weighted mean "
                                "of model steps t, step t standing for "
                                "[latency_ms + t step_ms, latency_ms + "
                                "(t + 1) step_ms) (tnn.brainscore.timing)"}
    layers = {area: entry["best_node"]
              for area, entry in report["areas"].items()}
    return layers, report
