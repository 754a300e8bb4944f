"""Split-half (Spearman-Brown) noise ceilings, per time bin.

The definition is Brain-Score's `InternalConsistency` applied per bin
(`TemporalCeiling`): 10 split-halves of the trials (`ShuffleSplit`,
train_size=0.5, random_state=1), each half averaged over its trials,
Pearson r per neuron over stimuli between the halves, Spearman-Brown
2r / (1 + r) per neuron, median over neurons, mean over splits; the error is
the SEM over splits. With complete data the numbers equal Brain-Score's.

Missing trials (NaN) are skipped when averaging a half; a stimulus whose
half has no valid trial is dropped from that neuron's correlation (pairwise
deletion). Brain-Score would give that neuron NaN in that split instead.
"""

import numpy as np

from tnn.neural import metrics
from tnn.neural.splits import trial_halves


def _check_responses(responses):
    responses = np.asarray(responses)
    if responses.ndim == 3:
        responses = responses[:, :, None, :]
    if responses.ndim != 4:
        raise ValueError(
            f"responses must be [trials, stimuli, bins, neurons] (or without "
            f"the bin axis), got shape {responses.shape}.")
    if responses.shape[0] < 2:
        raise ValueError(
            f"responses have {responses.shape[0]} trial; the split-half "
            "ceiling needs at least 2 trials.")
    return responses.astype(np.float64)


def split_half_correlations(responses, n_splits=10, seed=1):
    """Spearman-Brown-corrected split-half r per split, bin and neuron.

    Args:
        responses: [R, N, B, K] (or [R, N, K]) with NaN for missing trials.
        n_splits: number of split-halves (Brain-Score: 10).
        seed: ShuffleSplit random_state (Brain-Score: 1).

    Returns:
        float64 [n_splits, B, K].
    """
    responses = _check_responses(responses)
    out = []
    for half1, half2 in trial_halves(responses.shape[0], n_splits, seed):
        mean1 = metrics.nanmean(responses[half1], axis=0)
        mean2 = metrics.nanmean(responses[half2], axis=0)
        out.append(metrics.spearman_brown(
            metrics.pearson_per_neuron(mean1, mean2, axis=0)))
    return np.stack(out)


def split_half_ceiling(responses, n_splits=10, seed=1):
    """Brain-Score's internal-consistency ceiling for every time bin.

    Args:
        responses: [R, N, B, K] responses of ONE area's neurons (the median
            runs over all K), NaN for missing trials.
        n_splits: number of split-halves.
        seed: ShuffleSplit random_state.

    Returns:
        dict with float64 arrays: "ceiling" [B] (mean over splits),
        "error" [B] (SEM over splits), "per_split" [n_splits, B].
    """
    per_neuron = split_half_correlations(responses, n_splits, seed)
    per_split = metrics.nanmedian(per_neuron, axis=-1)
    center, error = metrics.split_mean_and_sem(per_split, axis=0)
    return {"ceiling": center, "error": error, "per_split": per_split}


def neuron_reliability(responses, n_splits=10, seed=1):
    """Per-neuron split-half reliability, mean over splits, [B, K]."""
    return metrics.nanmean(
        split_half_correlations(responses, n_splits, seed), axis=0)
