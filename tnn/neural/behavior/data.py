"""The behaviour data file (.npz) and model probabilities from features.

Keys of a behaviour NPZ (arrays; N images, R trials, B time bins):

    stimulus_id        [N] str, unique
    image_object       [N] int, object index 0..K-1 of each image
    object_names       [K] str (optional)
    stimuli            [N, H, W, 3] uint8 (needed to run a model)
    trial_image, trial_distractor, trial_choice
                       [R] int: the primate trials (i1n / i2n)
    primate_ost, primate_i1, time_bin_start_ms
                       [N], [N], [B]: OSTs in ms, the per-image i1
                       threshold, the bins' start times (OST)
    ost_ceiling        scalar (optional; default Kar2019's 0.79)
    true_sensitivity, true_ost
                       [N] (optional): a synthetic set's truth
"""

import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tnn.neural.behavior import dprime as dp

TRIAL_KEYS = ("trial_image", "trial_distractor", "trial_choice")
OST_KEYS = ("primate_ost", "primate_i1", "time_bin_start_ms")


def save_behavior_data(path, **arrays):
    """Writes the keys above (checked by `load_behavior_data`)."""
    with open(os.fspath(path), "wb") as handle:
        np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()})
    return load_behavior_data(path)


def load_behavior_data(path):
    """Reads and checks a behaviour NPZ; returns a dict of arrays.

    "has_trials" / "has_ost" say which parts are present.
    """
    if not os.path.isfile(path):
        raise ValueError(f"behaviour data {path!r} does not exist.")
    with np.load(path, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    for key in ("stimulus_id", "image_object"):
        if key not in data:
            raise ValueError(f"{path!r} lacks {key!r}; see "
                             "tnn.neural.behavior.data for the keys.")
    ids = data["stimulus_id"].astype(str)
    n = ids.size
    if np.unique(ids).size != n:
        raise ValueError(f"{path!r}: stimulus_id has duplicates.")
    data["stimulus_id"] = ids
    labels, _ = dp.check_labels(data["image_object"])
    if labels.shape != (n,):
        raise ValueError(f"{path!r}: image_object must be [{n}].")
    for group in (TRIAL_KEYS, OST_KEYS):
        present = [k for k in group if k in data]
        if present and len(present) < len(group):
            raise ValueError(f"{path!r} has {present} but lacks "
                             f"{sorted(set(group) - set(present))}.")
    data["has_trials"] = all(k in data for k in TRIAL_KEYS)
    data["has_ost"] = all(k in data for k in OST_KEYS)
    if not (data["has_trials"] or data["has_ost"]):
        raise ValueError(f"{path!r} has neither trials ({TRIAL_KEYS}) nor "
                         f"OSTs ({OST_KEYS}): nothing to score.")
    if data["has_ost"]:
        for key in ("primate_ost", "primate_i1"):
            if data[key].shape != (n,):
                raise ValueError(f"{path!r}: {key} must be [{n}].")
    if "stimuli" in data and (data["stimuli"].ndim != 4 or
                              data["stimuli"].shape[0] != n):
        raise ValueError(f"{path!r}: stimuli must be [{n}, H, W, 3].")
    return data


def heldout_probabilities(features, image_object, n_folds=5, seed=0,
                          decoder=None):
    """Choice probabilities [N, K] of each image from a decoder that did
    not see it: `cross_val_predict` over `StratifiedKFold(n_folds,
    shuffle=True, random_state=seed)`.

    Deviation: Brain-Score fits the probabilities readout once on separate
    labelled "fitting" images (objectome.public, 240 images) and predicts
    the test images; without such a set, the images are held out in folds.
    The default decoder is z-scored logistic regression (scikit-learn's
    default C = 1).
    """
    x = np.asarray(features, dtype=np.float64)
    labels, k = dp.check_labels(image_object)
    if x.ndim != 2 or x.shape[0] != labels.size:
        raise ValueError(f"features must be [N={labels.size}, D], got "
                         f"{x.shape}.")
    counts = np.bincount(labels, minlength=k)
    if counts.min() < n_folds:
        raise ValueError(f"object {int(counts.argmin())} has {counts.min()} "
                         f"images, fewer than n_folds={n_folds}.")
    model = decoder if decoder is not None else make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return cross_val_predict(model, x, labels, cv=folds,
                             method="predict_proba")
