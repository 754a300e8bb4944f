"""What `look_at` is given -> images to present + presentation coordinates.

Accepted stimuli:

- a Brain-Score `StimulusSet` (a pandas DataFrame with a `stimulus_id`
  column and `get_stimulus(stimulus_id) -> path`): every column becomes a
  presentation coordinate, plus `stimulus_path`, as Brain-Score's
  activation extractors attach them;
- a list of image paths: `stimulus_id` and `stimulus_path` are the paths;
- uint8 images: one array `[N, H, W, 3]` or a list of `[H_i, W_i, 3]`
  arrays: `stimulus_id` is "stimulus_00000", ... .

Fitting stimuli for a behavioural readout are a StimulusSet with an
`image_label` column, or a pair `(stimuli, labels)` of any of the above and
one label per stimulus.
"""

import os

import numpy as np


def is_stimulus_set(stimuli):
    return hasattr(stimuli, "columns") and hasattr(stimuli, "get_stimulus")


def _is_path(item):
    return isinstance(item, (str, os.PathLike))


def stimulus_table(stimuli):
    """(items, presentation coords): paths or uint8 arrays to present and
    `{coordinate: [N] array}`."""
    if is_stimulus_set(stimuli):
        if "stimulus_id" not in stimuli.columns:
            raise ValueError(
                "the StimulusSet has no stimulus_id column; Brain-Score "
                "stimulus sets name each stimulus by stimulus_id.")
        ids = stimuli["stimulus_id"].values
        paths = []
        for stimulus_id in ids:
            try:
                paths.append(str(os.fspath(
                    stimuli.get_stimulus(stimulus_id))))
            except (KeyError, AttributeError, TypeError):
                raise ValueError(
                    f"stimulus {stimulus_id!r} cannot be read: the "
                    "StimulusSet has no file for it (stimulus_paths); "
                    "set stimulus_set.stimulus_paths = {stimulus_id: "
                    "path}.") from None
        coords = {str(c): np.asarray(stimuli[c].values)
                  for c in stimuli.columns}
        coords.setdefault("stimulus_path", np.asarray(paths))
        return paths, coords
    if isinstance(stimuli, np.ndarray) and stimuli.ndim == 4:
        items = list(stimuli)
    elif _is_path(stimuli):
        items = [stimuli]
    elif isinstance(stimuli, np.ndarray) and stimuli.ndim == 3:
        raise ValueError(
            f"stimuli of shape {stimuli.shape}: pass a batch [N, H, W, 3] "
            "(or a list of images or paths).")
    else:
        try:
            items = list(stimuli)
        except TypeError:
            raise ValueError(
                f"cannot present {type(stimuli).__name__} stimuli; pass a "
                "StimulusSet, a list of image paths or uint8 images "
                "[N, H, W, 3].") from None
    if not items:
        raise ValueError("no stimuli to present (empty list).")
    if all(_is_path(i) for i in items):
        paths = [str(os.fspath(i)) for i in items]
        coords = np.asarray(paths)
        return paths, {"stimulus_id": coords, "stimulus_path": coords}
    if all(isinstance(i, np.ndarray) for i in items):
        ids = np.asarray([f"stimulus_{i:05d}" for i in range(len(items))])
        return items, {"stimulus_id": ids}
    kinds = sorted({type(i).__name__ for i in items})
    raise ValueError(
        f"stimuli must all be image paths or all uint8 images, got {kinds}.")


def fitting_table(fitting_stimuli):
    """(items, presentation coords, labels [N]) of labelled fitting
    stimuli."""
    if is_stimulus_set(fitting_stimuli):
        if "image_label" not in fitting_stimuli.columns:
            raise ValueError(
                "fitting stimuli need an image_label column (the labels the "
                f"readout is fitted to); columns are "
                f"{list(fitting_stimuli.columns)}.")
        items, coords = stimulus_table(fitting_stimuli)
        return items, coords, np.asarray(fitting_stimuli["image_label"].values)
    if isinstance(fitting_stimuli, tuple) and len(fitting_stimuli) == 2:
        items, coords = stimulus_table(fitting_stimuli[0])
        labels = np.asarray(fitting_stimuli[1])
        if labels.shape != (len(items),):
            raise ValueError(
                f"{len(items)} fitting stimuli but labels of shape "
                f"{labels.shape}; pass one label per stimulus.")
        return items, coords, labels
    raise ValueError(
        "fitting_stimuli must be a StimulusSet with an image_label column or "
        f"a pair (stimuli, labels), got {type(fitting_stimuli).__name__}.")
