"""Cross-validated neural predictivity of one model node, per time bin.

Brain-Score's `CrossRegressedCorrelation` per bin: for each stimulus split,
fit the mapping on the training stimuli, predict the held-out stimuli,
Pearson r per neuron, median over neurons; the score is the mean over
splits and the error the SEM over splits. With `shared_across_bins=True`
one mapping is fitted on all bins at once, the bins stacked as extra
samples (Brain-Score's "spantime" regression), and scored per bin.

Held-out-neuron validation (`n_neuron_folds` >= 2) splits the neurons into
folds; each fold is predicted from a mapping fitted to the other neurons on
the training stimuli (PLS: regression of the fold on the PLS latent scores;
ridge: the alpha chosen on the other neurons), then scored on the held-out
stimuli like the main score.
"""

import numpy as np

from tnn.neural import mapping as mapping_lib
from tnn.neural import metrics
from tnn.neural.splits import neuron_folds, stimulus_splits

_CHUNK_BYTES = 768 * 2 ** 20


def _split_masks(splits, n_stimuli):
    mask = np.zeros((len(splits), n_stimuli), dtype=bool)
    for i, (train, _) in enumerate(splits):
        mask[i, train] = True
    return mask


def _bin_chunks(n_bins, n_splits, n_stimuli, width):
    """Bins per chunk so that one chunk's arrays stay near _CHUNK_BYTES."""
    per_bin = 8 * n_stimuli * (n_stimuli + n_splits * (5 * width + 75))
    size = int(max(1, min(n_bins, _CHUNK_BYTES // per_bin)))
    return [np.arange(s, min(s + size, n_bins))
            for s in range(0, n_bins, size)]


def _grams(features, steps):
    out = np.empty((len(steps), features.shape[0], features.shape[0]))
    for i, step in enumerate(steps):
        x = np.asarray(features[:, step, :], dtype=np.float64)
        x = x - x.mean(axis=0)
        out[i] = x @ x.T
    return out


def _score_bins(preds, responses, splits, bins):
    """Per-neuron r [S, len(bins), q] from per-split test predictions.

    preds: list over splits of [len(bins), m, q] for the sorted test
    stimuli; responses: [N, B, q].
    """
    out = []
    for pred, (_, test) in zip(preds, splits):
        truth = responses[np.sort(test)][:, bins].swapaxes(0, 1)
        out.append(metrics.pearson_per_neuron(pred, truth, axis=1))
    return np.stack(out)


def _fold_targets(n_neurons, n_folds, seed):
    if not n_folds:
        return []
    return neuron_folds(n_neurons, n_folds, seed)


def _per_bin(mapping, features, steps, targets, splits, folds):
    n_stim, _, dim = features.shape
    mask = _split_masks(splits, n_stim)
    widths = [t.shape[-1] for t in targets.values()]
    n_bins = len(steps)
    per_neuron = {a: np.zeros((len(splits), n_bins, t.shape[-1]))
                  for a, t in targets.items()}
    heldout = {a: np.full((len(splits), n_bins, t.shape[-1]), np.nan)
               for a, t in targets.items() if folds.get(a)}
    for chunk in _bin_chunks(n_bins, len(splits), n_stim, max(widths)):
        gram = _grams(features, steps[chunk])
        for area, resp in targets.items():
            y = np.ascontiguousarray(resp[:, chunk].transpose(1, 0, 2))
            y = y[:, None]
            pred, _ = mapping_lib.predict_grouped(mapping, gram, dim, mask, y)
            per_neuron[area][:, chunk] = _score_bins(pred, resp, splits,
                                                     chunk)
            for train_n, held_n in folds.get(area, []):
                _, pred_h = mapping_lib.predict_grouped(
                    mapping, gram, dim, mask, y[..., train_n],
                    y[..., held_n])
                heldout[area][:, chunk[:, None], held_n] = _score_bins(
                    pred_h, resp[..., held_n], splits, chunk)
    return per_neuron, heldout


def _shared(mapping, features, steps, targets, splits, folds):
    n_stim, _, dim = features.shape
    n_bins = len(steps)
    x_rows = np.asarray(features[:, steps, :], dtype=np.float64)
    x_rows = x_rows.reshape(n_stim * n_bins, dim)
    rows = np.repeat(_split_masks(splits, n_stim), n_bins, axis=1)
    per_neuron, heldout = {}, {}
    bins = np.arange(n_bins)

    def score(preds, resp):
        preds = [p.reshape(-1, n_bins, p.shape[-1]).swapaxes(0, 1)
                 for p in preds]
        return _score_bins(preds, resp, splits, bins)

    for area, resp in targets.items():
        y_rows = resp.reshape(n_stim * n_bins, -1)
        pred, _ = mapping_lib.predict_rows(mapping, x_rows, y_rows, rows)
        per_neuron[area] = score(pred, resp)
        if folds.get(area):
            heldout[area] = np.full_like(per_neuron[area], np.nan)
            for train_n, held_n in folds[area]:
                _, pred_h = mapping_lib.predict_rows(
                    mapping, x_rows, y_rows[:, train_n], rows,
                    y_rows[:, held_n])
                heldout[area][..., held_n] = score(pred_h, resp[..., held_n])
    return per_neuron, heldout


def _summary(per_neuron):
    per_split = metrics.nanmedian(per_neuron, axis=-1)
    score, error = metrics.split_mean_and_sem(per_split, axis=0)
    return {"score": score, "error": error, "per_split": per_split,
            "per_neuron": per_neuron}


def node_scores(features, steps, targets, splits, mapping,
                shared_across_bins=False, n_neuron_folds=0, fold_seed=0):
    """Scores one node against several areas, sharing the feature work.

    Args:
        features: [N, T, D] features of the node over model steps.
        steps: [B] model step used for each neural bin.
        targets: dict area -> trial-averaged responses [N, B, K_area].
        splits: list of (train_idx, test_idx) stimulus splits.
        mapping: PLSMapping or RidgeMapping.
        shared_across_bins: one mapping for all bins (spantime) if True.
        n_neuron_folds: >= 2 adds held-out-neuron scores.
        fold_seed: KFold seed for the neuron folds.

    Returns:
        dict area -> {"score" [B], "error" [B], "per_split" [S, B],
        "per_neuron" [S, B, K]} plus, with neuron folds, "heldout" holding
        the same keys for the held-out-neuron scores.
    """
    steps = np.asarray(steps, dtype=int)
    folds = {a: _fold_targets(t.shape[-1], n_neuron_folds, fold_seed)
             for a, t in targets.items()}
    targets = {a: np.asarray(t, dtype=np.float64) for a, t in targets.items()}
    run = _shared if shared_across_bins else _per_bin
    per_neuron, heldout = run(mapping, features, steps, targets, splits, folds)
    out = {}
    for area in targets:
        out[area] = _summary(per_neuron[area])
        if area in heldout:
            out[area]["heldout"] = _summary(heldout[area])
    return out


def cross_validated_score(features, responses, mapping=None, splits=None,
                          object_label=None, shared_across_bins=False,
                          n_neuron_folds=0, n_splits=10, train_size=0.9,
                          seed=1):
    """Cross-validated predictivity of one feature set for one area.

    Args:
        features: [N, D] (one feature set for every bin) or [N, B, D]
            (features already aligned to the B bins).
        responses: trial-averaged [N, K] or [N, B, K].
        mapping: PLSMapping (default) or RidgeMapping.
        splits: explicit (train_idx, test_idx) pairs; default Brain-Score's
            stratified shuffle splits from `object_label`.
        object_label: [N] labels for stratification (optional).
        shared_across_bins: one mapping shared by all bins (spantime).
        n_neuron_folds: >= 2 adds held-out-neuron scores.
        n_splits, train_size, seed: split settings when `splits` is None.

    Returns:
        dict as one area of `node_scores`; bin axes have length 1 for 2-D
        responses.
    """
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim == 2:
        responses = responses[:, None, :]
    features = np.asarray(features)
    if features.ndim == 2:
        features = features[:, None, :]
        steps = np.zeros(responses.shape[1], dtype=int)
    else:
        steps = np.arange(features.shape[1])
    if features.ndim != 3 or features.shape[0] != responses.shape[0]:
        raise ValueError(
            f"features {features.shape} and responses {responses.shape} must "
            "share the stimulus axis (axis 0).")
    if len(steps) != responses.shape[1]:
        raise ValueError(
            f"features cover {len(steps)} bins but responses have "
            f"{responses.shape[1]}; align them or pass 2-D features.")
    if not np.isfinite(responses).all():
        raise ValueError("trial-averaged responses contain NaN or inf.")
    mapping = mapping or mapping_lib.PLSMapping()
    if splits is None:
        splits = stimulus_splits(responses.shape[0], object_label, n_splits,
                                 train_size, seed)
    return node_scores(features, steps, {"area": responses}, splits, mapping,
                       shared_across_bins, n_neuron_folds)["area"]


def heldout_predictions(features, steps, responses, split, mapping=None,
                        shared_across_bins=False):
    """Cross-validated predictions of one split, e.g. for trajectory plots.

    Args:
        features: [N, T, D] node features over model steps.
        steps: [B] model step of each bin (see sweep.bin_steps).
        responses: trial-averaged [N, B, K].
        split: one (train_idx, test_idx) pair.
        mapping: PLSMapping (default) or RidgeMapping.
        shared_across_bins: one mapping for all bins if True.

    Returns:
        (test_idx sorted ascending, predictions [m, B, K] for those stimuli).
    """
    mapping = mapping or mapping_lib.PLSMapping()
    steps = np.asarray(steps, dtype=int)
    responses = np.asarray(responses, dtype=np.float64)
    n_stim, _, dim = features.shape
    train = _split_masks([split], n_stim)
    if shared_across_bins:
        x_rows = np.asarray(features[:, steps, :], dtype=np.float64)
        rows = np.repeat(train, len(steps), axis=1)
        pred, _ = mapping_lib.predict_rows(
            mapping, x_rows.reshape(n_stim * len(steps), dim),
            responses.reshape(n_stim * len(steps), -1), rows)
        pred = pred[0].reshape(-1, len(steps), responses.shape[-1])
    else:
        y = np.ascontiguousarray(responses.transpose(1, 0, 2))[:, None]
        pred, _ = mapping_lib.predict_grouped(
            mapping, _grams(features, steps), dim, train, y)
        pred = pred[0].swapaxes(0, 1)
    return np.sort(split[1]), pred
