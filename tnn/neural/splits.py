"""Cross-validation splits over stimuli, trials and neurons.

Stimulus splits follow Brain-Score's `Split` defaults: 10 shuffle splits,
train fraction 0.9, `random_state=1`, stratified by object label with
`sklearn.model_selection.StratifiedShuffleSplit` (plain `ShuffleSplit`
without labels), over stimuli in the order of the data file. Brain-Score
draws its splits over the assembly's stimulus order too, so the same order
and labels give the same splits.
"""

import numpy as np
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedShuffleSplit


def stimulus_splits(n_stimuli, object_label=None, n_splits=10,
                    train_size=0.9, seed=1):
    """Train/test stimulus indices for each split.

    Args:
        n_stimuli: number of stimuli N.
        object_label: optional [N] labels; stratifies the splits.
        n_splits: number of shuffle splits (Brain-Score: 10).
        train_size: training fraction (Brain-Score: 0.9).
        seed: `random_state` of the splitter (Brain-Score: 1).

    Returns:
        list of (train_idx, test_idx) int arrays, as scikit-learn returns
        them (not sorted).
    """
    if int(n_splits) != n_splits or n_splits < 1:
        raise ValueError(f"n_splits must be a positive int, got {n_splits!r}.")
    if not 0.0 < train_size < 1.0:
        raise ValueError(
            f"train_size must be in (0, 1), got {train_size!r}.")
    n_test = n_stimuli - int(np.floor(train_size * n_stimuli))
    if n_test < 2 or n_stimuli - n_test < 2:
        raise ValueError(
            f"{n_stimuli} stimuli with train_size={train_size} leave "
            f"{n_test} test stimuli; each side needs at least 2 for a "
            "correlation. Use more stimuli or another train_size.")
    dummy = np.zeros(n_stimuli)
    if object_label is None:
        splitter = ShuffleSplit(n_splits=int(n_splits), train_size=train_size,
                                random_state=seed)
        return [(tr, te) for tr, te in splitter.split(dummy)]
    labels = np.asarray(object_label)
    if labels.shape != (n_stimuli,):
        raise ValueError(
            f"object_label has shape {labels.shape}, expected ({n_stimuli},).")
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"object label {str(classes[counts.argmin()])!r} has a single "
            "stimulus; stratified splits need at least 2 per label. Merge "
            "rare labels or pass object_label=None.")
    if n_test < classes.size:
        raise ValueError(
            f"{n_test} test stimuli cannot hold all {classes.size} object "
            "labels; lower train_size or pass object_label=None.")
    splitter = StratifiedShuffleSplit(n_splits=int(n_splits),
                                      train_size=train_size,
                                      random_state=seed)
    return [(tr, te) for tr, te in splitter.split(dummy, labels)]


def trial_halves(n_trials, n_splits=10, seed=1):
    """Split-half trial indices, as Brain-Score's internal consistency.

    `ShuffleSplit(n_splits, train_size=0.5, random_state=seed)` over the
    trial (repetition) axis; the first half holds floor(R/2) trials.

    Returns:
        list of (half1_idx, half2_idx).
    """
    if n_trials < 2:
        raise ValueError(
            f"split halves need at least 2 trials, got {n_trials}.")
    splitter = ShuffleSplit(n_splits=int(n_splits), train_size=0.5,
                            random_state=seed)
    return list(splitter.split(np.zeros(n_trials)))


def bootstrap_halves(n_trials, seed):
    """One of Nayebi's split-halves (brainmodel_utils `get_splithalves`).

    `RandomState(seed).shuffle(range(R))`; half 1 = the first R // 2.
    """
    order = list(range(n_trials))
    np.random.RandomState(seed=seed).shuffle(order)
    half = n_trials // 2
    return np.asarray(order[:half]), np.asarray(order[half:])


def permutation_splits(n_stimuli, n_splits=5, train_frac=0.8, start_seed=0):
    """Nayebi's train/test splits (`generate_train_test_splits`).

    Split s permutes the stimuli with RandomState(start_seed + s) and takes
    the first ceil(train_frac * N) as training stimuli.
    """
    out = []
    for s in range(start_seed, start_seed + n_splits):
        order = np.random.RandomState(seed=s).permutation(n_stimuli)
        n_train = int(np.ceil(train_frac * n_stimuli))
        out.append((order[:n_train], order[n_train:]))
    return out


def neuron_folds(n_neurons, n_folds, seed=0):
    """K-fold partition of neurons for held-out-neuron cross-validation.

    Returns:
        list of (train_neurons, heldout_neurons) index arrays.
    """
    if n_folds < 2 or n_folds > n_neurons:
        raise ValueError(
            f"neuron folds must be in [2, n_neurons={n_neurons}], got "
            f"{n_folds}.")
    folds = KFold(n_splits=int(n_folds), shuffle=True, random_state=seed)
    return list(folds.split(np.zeros(n_neurons)))
