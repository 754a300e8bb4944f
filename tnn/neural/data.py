"""Time-binned neural data: the NPZ format, its loader and its validation.

One NPZ file holds one experiment, with exactly these keys:

    stimuli        uint8   [N, H, W, 3]  the images, as the animal saw them,
                   or      [N, F, H, W, 3]  movies of F frames
    stimulus_id    str     [N]           unique identifiers
    object_label   str     [N]           optional; stratifies the splits
    responses      float32 [R, N, B, K]  trials x stimuli x bins x neurons;
                                         NaN marks a missing trial
    bin_start_ms   float   [B]           strictly increasing
    bin_width_ms   float   scalar        > 0
    neuron_area    str     [K]           e.g. "V4", "IT"
    neuron_id      str     [K]           unique identifiers
    frame_ms       float   scalar        movies only: duration of a frame

Movie stimuli: frame f is on screen from f * frame_ms to (f + 1) *
frame_ms after onset (the time 0 of `bin_start_ms`); models show each
frame for frame_ms / 10 steps of 10 ms and then their blank
(`tnn.neural.movie_stimuli`).

Strings are stored as fixed-width unicode arrays, so the file loads with
`allow_pickle=False` (no code runs when a file is read).
"""

import dataclasses
import os

import numpy as np

from tnn.neural.metrics import nanmean

REQUIRED_KEYS = ("stimuli", "stimulus_id", "responses", "bin_start_ms",
                 "bin_width_ms", "neuron_area", "neuron_id")
OPTIONAL_KEYS = ("object_label", "frame_ms")


def _as_str_array(values, name, length=None):
    arr = np.asarray(values)
    if arr.dtype == object:
        try:
            arr = arr.astype(str)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"`{name}` must hold strings; converting it failed ({err})."
            ) from None
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be 1-D, got shape {arr.shape}; pass one entry "
            "per item.")
    if length is not None and arr.shape[0] != length:
        raise ValueError(
            f"`{name}` has {arr.shape[0]} entries but {length} are needed "
            "(one per item of the matching responses axis).")
    return arr.astype(str)


def _check_unique(ids, name):
    values, counts = np.unique(ids, return_counts=True)
    dup = values[counts > 1]
    if dup.size:
        shown = ", ".join(repr(str(v)) for v in dup[:5])
        raise ValueError(
            f"`{name}` must be unique; {dup.size} duplicated value(s), e.g. "
            f"{shown}. Rename or drop the duplicates.")


@dataclasses.dataclass(frozen=True, eq=False)
class NeuralData:
    """Validated, time-binned responses of K neurons to N stimuli.

    Construct it directly (validation runs in `__post_init__`) or with
    `load_neural_data`. Arrays are converted to their canonical dtypes:
    uint8 stimuli, float32 responses, float64 bins, unicode strings.

    Args:
        stimuli: uint8 [N, H, W, 3], or movies [N, F, H, W, 3].
        stimulus_id: [N] unique strings.
        responses: [R, N, B, K] trials x stimuli x bins x neurons, NaN for
            a missing trial. Needs R >= 2 (the split-half ceiling needs two
            halves), at least one valid trial for every (stimulus, bin,
            neuron) and, for each neuron, two valid trials of some stimulus.
        bin_start_ms: [B] strictly increasing bin starts in ms.
        bin_width_ms: positive bin width in ms.
        neuron_area: [K] area name per neuron.
        neuron_id: [K] unique neuron identifiers.
        object_label: optional [N] labels used to stratify stimulus splits.
        frame_ms: duration of one movie frame in ms (movies only).
    """

    stimuli: np.ndarray
    stimulus_id: np.ndarray
    responses: np.ndarray
    bin_start_ms: np.ndarray
    bin_width_ms: float
    neuron_area: np.ndarray
    neuron_id: np.ndarray
    object_label: np.ndarray = None
    frame_ms: float = None

    def __post_init__(self):
        for key, value in _validated(self).items():
            object.__setattr__(self, key, value)

    @property
    def n_trials(self):
        return self.responses.shape[0]

    @property
    def n_stimuli(self):
        return self.responses.shape[1]

    @property
    def n_bins(self):
        return self.responses.shape[2]

    @property
    def n_neurons(self):
        return self.responses.shape[3]

    @property
    def areas(self):
        """Area names in order of first appearance."""
        _, first = np.unique(self.neuron_area, return_index=True)
        return [str(self.neuron_area[i]) for i in sorted(first)]

    def area_indices(self, area):
        """Indices of the neurons of `area` (ValueError if it has none)."""
        idx = np.flatnonzero(self.neuron_area == area)
        if idx.size == 0:
            raise ValueError(
                f"area {area!r} has no neurons; known areas: {self.areas}.")
        return idx

    def trial_average(self):
        """Mean over valid trials, float64 [N, B, K]."""
        return nanmean(self.responses.astype(np.float64), axis=0)

    def select_neurons(self, indices):
        """A copy restricted to the neurons at `indices`."""
        idx = np.asarray(indices)
        return dataclasses.replace(
            self, responses=self.responses[..., idx],
            neuron_area=self.neuron_area[idx], neuron_id=self.neuron_id[idx])


def _validated(data):
    stimuli = np.asarray(data.stimuli)
    if stimuli.dtype.kind == "f" and np.isnan(stimuli).any():
        raise ValueError(
            "`stimuli` contain NaN; images must be finite uint8 values in "
            "[0, 255].")
    if stimuli.dtype != np.uint8:
        raise ValueError(
            f"`stimuli` must be uint8 [N, H, W, 3], got dtype {stimuli.dtype}"
            "; convert with np.clip(np.round(x), 0, 255).astype(np.uint8).")
    if stimuli.ndim not in (4, 5) or stimuli.shape[-1] != 3:
        raise ValueError(
            f"`stimuli` must have shape [N, H, W, 3] (or movies [N, F, H, W,"
            f" 3]), got {stimuli.shape}; stack RGB images (repeat grey "
            "images over 3 channels).")
    frame_ms = _frame_ms(data.frame_ms, stimuli)
    responses = np.asarray(data.responses)
    if responses.ndim != 4:
        raise ValueError(
            f"`responses` must be [trials, stimuli, bins, neurons], got "
            f"shape {responses.shape}; add singleton axes if needed.")
    if responses.dtype.kind not in "fiu":
        raise ValueError(
            f"`responses` must be numeric, got dtype {responses.dtype}.")
    responses = responses.astype(np.float32)
    n_trials, n_stim, n_bins, n_neurons = responses.shape
    if stimuli.shape[0] != n_stim:
        raise ValueError(
            f"`stimuli` has {stimuli.shape[0]} images but `responses` has "
            f"{n_stim} stimuli (axis 1); they must match.")
    if np.isinf(responses).any():
        raise ValueError(
            "`responses` contain +/-inf; mark missing trials with NaN.")
    stimulus_id = _as_str_array(data.stimulus_id, "stimulus_id", n_stim)
    _check_unique(stimulus_id, "stimulus_id")
    neuron_id = _as_str_array(data.neuron_id, "neuron_id", n_neurons)
    _check_unique(neuron_id, "neuron_id")
    neuron_area = _as_str_array(data.neuron_area, "neuron_area", n_neurons)
    object_label = data.object_label
    if object_label is not None:
        object_label = _as_str_array(object_label, "object_label", n_stim)
    bins = np.asarray(data.bin_start_ms, dtype=np.float64)
    if bins.ndim != 1 or bins.shape[0] != n_bins:
        raise ValueError(
            f"`bin_start_ms` must have shape [{n_bins}] (one start per bin "
            f"of `responses`), got {bins.shape}.")
    if not np.isfinite(bins).all() or np.any(np.diff(bins) <= 0):
        raise ValueError(
            f"`bin_start_ms` must be finite and strictly increasing, got "
            f"{bins.tolist()}; sort the bins (and the responses with them).")
    width = np.asarray(data.bin_width_ms, dtype=np.float64)
    if width.ndim != 0 or not np.isfinite(width) or width <= 0:
        raise ValueError(
            f"`bin_width_ms` must be a positive scalar, got {width!r}.")
    _check_trials(responses, neuron_id, stimulus_id)
    return dict(stimuli=stimuli, stimulus_id=stimulus_id,
                responses=responses, bin_start_ms=bins,
                bin_width_ms=float(width), neuron_area=neuron_area,
                neuron_id=neuron_id, object_label=object_label,
                frame_ms=frame_ms)


def _frame_ms(frame_ms, stimuli):
    if stimuli.ndim == 4:
        if frame_ms is not None:
            raise ValueError(
                "`frame_ms` is the frame duration of movie stimuli [N, F, H,"
                f" W, 3]; these stimuli are still images {stimuli.shape}.")
        return None
    value = np.asarray(np.nan if frame_ms is None else frame_ms, np.float64)
    if value.ndim != 0 or not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"movie stimuli {stimuli.shape} need `frame_ms`, the positive "
            f"duration of one frame in ms (e.g. 40 for 25 Hz); got "
            f"{frame_ms!r}.")
    return float(value)


def _check_trials(responses, neuron_id, stimulus_id):
    n_trials = responses.shape[0]
    if n_trials < 2:
        raise ValueError(
            f"`responses` has {n_trials} trial; the split-half ceiling needs "
            "at least 2 trials per stimulus. Keep the single-trial axis "
            "only if you record repetitions.")
    valid = np.isfinite(responses)
    dead = ~valid.any(axis=(0, 1, 2))
    if dead.any():
        names = ", ".join(repr(str(n)) for n in neuron_id[dead][:5])
        raise ValueError(
            f"{int(dead.sum())} neuron(s) have only NaN responses ({names}); "
            "drop them from `responses`, `neuron_id` and `neuron_area`.")
    count = valid.sum(axis=0)  # [N, B, K]
    empty = count == 0
    if empty.any():
        stim, _, neuron = np.nonzero(empty)
        raise ValueError(
            f"neuron {str(neuron_id[neuron[0]])!r} has no valid trial for "
            f"stimulus {str(stimulus_id[stim[0]])!r} ({int(empty.sum())} "
            "(stimulus, bin, neuron) cells are empty); drop that stimulus or "
            "neuron, or fill the cell.")
    single = count.max(axis=(0, 1)) < 2
    if single.any():
        names = ", ".join(repr(str(n)) for n in neuron_id[single][:5])
        raise ValueError(
            f"neuron(s) {names} never have 2 valid trials of one stimulus; "
            "the split-half ceiling needs at least 2 trials.")


def load_neural_data(path):
    """Loads and validates an NPZ file in the format of this module.

    Args:
        path: path of the .npz file.

    Returns:
        A `NeuralData`.
    """
    if not os.path.exists(path):
        raise ValueError(f"neural data file {path!r} does not exist.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            missing = [k for k in REQUIRED_KEYS if k not in keys]
            if missing:
                raise ValueError(
                    f"{path!r} lacks key(s) {missing}; the format needs "
                    f"{list(REQUIRED_KEYS)} (+ optional {list(OPTIONAL_KEYS)})"
                    ".")
            extra = sorted(keys - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
            if extra:
                raise ValueError(
                    f"{path!r} has unknown key(s) {extra}; the format has "
                    f"exactly {list(REQUIRED_KEYS + OPTIONAL_KEYS)}. Remove "
                    "them or keep metadata in a separate file.")
            fields = {k: npz[k] for k in keys}
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise ValueError(
                f"{path!r} stores Python objects, which are not loaded for "
                "safety; save strings as unicode arrays (np.asarray(x, "
                "dtype=str)), e.g. with save_neural_data.") from None
        raise
    return NeuralData(**fields)


def save_neural_data(data, path, compressed=True):
    """Writes `data` (a NeuralData) to `path` in the NPZ format.

    Args:
        data: the NeuralData to write.
        path: destination .npz path.
        compressed: use np.savez_compressed (default) or np.savez.
    """
    if not isinstance(data, NeuralData):
        raise ValueError(
            f"save_neural_data expects a NeuralData, got {type(data)}.")
    fields = dict(
        stimuli=data.stimuli, stimulus_id=data.stimulus_id,
        responses=data.responses, bin_start_ms=data.bin_start_ms,
        bin_width_ms=np.float64(data.bin_width_ms),
        neuron_area=data.neuron_area, neuron_id=data.neuron_id)
    if data.object_label is not None:
        fields["object_label"] = data.object_label
    if data.frame_ms is not None:
        fields["frame_ms"] = np.float64(data.frame_ms)
    save = np.savez_compressed if compressed else np.savez
    with open(path, "wb") as handle:
        save(handle, **fields)
