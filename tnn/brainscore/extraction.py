"""A TNNGraph's node features over any number of steps, from image files or
arrays of any size.

Stimuli are read batch by batch (`placement.read_image` for paths, or
uint8 arrays), resized to the model's input and normalised
(`tnn.neural.stimuli.preprocess_stimuli`; images of different sizes one by
one). The model is then unrolled for `n_steps` steps: its presentation,
extended when `n_steps > model.times`. Every node's outputs are reduced to
D features per step by `tnn.neural.features.NodeReducer` ("projection",
"pool" or "none"; module docs of `tnn.neural.features`). The unroll,
reduction and batching are the library's one extraction path
(`tnn.neural.streaming`): only the requested nodes and their ancestors are
computed, up to the last kept step.
"""

import numpy as np

from tnn.brainscore import placement
from tnn.neural import streaming
from tnn.neural.features import NodeReducer, make_reducers
from tnn.neural.stimuli import preprocess_stimuli
from tnn.neural.stimulus_source import StimulusSource


def model_inputs(model, stimuli):
    """Normalised model inputs `[N, H, W, C]` (float32).

    Args:
        model: a TNNGraph (its `graph_input_shape`).
        stimuli: a list of image paths, a list of uint8 `[H_i, W_i, 3]`
            arrays, or one uint8 array `[N, H, W, 3]`.
    """
    if isinstance(stimuli, np.ndarray) and stimuli.ndim == 4:
        return preprocess_stimuli(stimuli, model.graph_input_shape)
    images = [np.asarray(item) if isinstance(item, np.ndarray)
              else placement.read_image(item) for item in stimuli]
    if not images:
        raise ValueError("no stimuli to present.")
    if len({image.shape for image in images}) == 1:
        return preprocess_stimuli(np.stack(images), model.graph_input_shape)
    return np.concatenate([preprocess_stimuli(image[None],
                                              model.graph_input_shape)
                           for image in images])


class FeatureExtractor:
    """Reduced node features of one model over time.

    Args:
        model: a TNNGraph.
        reduction, dims, seed: per-node reduction (`tnn.neural.features`).
        batch_size: stimuli per forward pass.
        precision: the forward pass's (None: as the model was built;
            "float32", "mixed_bfloat16" or "auto", `tnn.graphs.precision`).
    """

    def __init__(self, model, reduction="projection", dims=1024, seed=0,
                 batch_size=32, precision=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got "
                             f"{batch_size!r}.")
        self.model, self.batch_size = model, batch_size
        self.reduction, self.dims, self.seed = reduction, dims, seed
        self.precision = streaming.resolve_precision(precision)
        self._reducers = {}
        self._unrollers = {}
        NodeReducer("settings", (1,), reduction, dims, seed)  # validates

    def reducers(self, nodes):
        missing = [n for n in nodes if n not in self._reducers]
        if missing:
            self._reducers.update(make_reducers(
                self.model, missing, self.reduction, self.dims, self.seed))
        return {n: self._reducers[n] for n in nodes}

    def __call__(self, stimuli, nodes, n_steps, steps=None):
        """`{node: float32 [N, T_kept, D]}` for `stimuli` (paths or uint8
        images, as `model_inputs` takes them), read batch by batch, over
        `n_steps` steps of the (extended) presentation; `steps` keeps only
        those steps (None: all `n_steps`), and only they are computed up
        to the last of them (`tnn.neural.streaming`)."""
        nodes = list(dict.fromkeys(nodes))
        reducers = self.reducers(nodes)
        if not (isinstance(stimuli, np.ndarray) and stimuli.ndim == 4):
            stimuli = list(stimuli)
        n = len(stimuli)
        if n == 0:
            raise ValueError("no stimuli to present.")
        source = StimulusSource(
            lambda start, stop: _read(stimuli[start:stop]), n, None,
            self.model.graph_input_shape, times=int(n_steps),
            blank_value=self.model.blank_value)
        return streaming.extract_in_memory(
            self.model, source, nodes, steps, batch_size=self.batch_size,
            reducers=reducers, cache=self._unrollers,
            precision=self.precision)


def _read(batch):
    """A batch as the stimulus source takes it: uint8 images, or a list of
    images (paths read with `placement.read_image`)."""
    if isinstance(batch, np.ndarray):
        return batch
    return [np.asarray(item) if isinstance(item, np.ndarray)
            else placement.read_image(item) for item in batch]
