"""Neural fitting on arrays: data format, ceilings, mappings, layer sweeps.

Its core modules (imported here) know nothing about Keras: they score any
model from arrays, features `[N, T, D]` per node and responses
`[R, N, B, K]` (trials x stimuli x bins x neurons), using numpy, scipy and
scikit-learn only. The parts that run a `TNNGraph` sit beside them:
`tnn.neural.features` (features over time), `tnn.neural.dynamics` (the
direct fit of recurrent dynamics and its baselines) and
`tnn.neural.synthetic` (a synthetic ventral stream with known truth).

Where the definitions coincide with Brain-Score's (brainscore_vision
`regression_correlation`, `internal_consistency`, `transformations`) the
numbers are equal, given the same stimulus order and labels:

- mapping `PLSMapping()` = `PLSRegression(n_components=25, scale=False)`;
  `RidgeMapping(alphas)` = `Ridge(alpha)` / `RidgeCV(alphas)`;
- splits: 10 `StratifiedShuffleSplit`s (train 0.9, random_state=1) over
  stimuli, stratified by object label (`ShuffleSplit` without labels);
- score: Pearson r per neuron on held-out stimuli, median over neurons,
  mean over splits, error = std(ddof=0)/sqrt(splits);
- ceiling: 10 split-halves of the trials (`ShuffleSplit`, train 0.5,
  random_state=1), Pearson r per neuron between half means, Spearman-Brown
  per neuron, median over neurons, mean over splits; per time bin;
- shared mapping across bins: bins stacked as samples ("spantime").

Differences: missing trials are skipped pairwise in the ceiling (Brain-Score
gives such a neuron NaN); ceiled scores need an explicit `version`; the
summary of a sweep averages per-bin numbers over the selected bins.
Nayebi's noise-corrected consistency follows brainmodel_utils (see
`tnn.neural.consistency`).
"""

from tnn.neural.brainio import load_brainio_assembly
from tnn.neural.ceiling import neuron_reliability
from tnn.neural.ceiling import split_half_ceiling
from tnn.neural.ceiling import split_half_correlations
from tnn.neural.consistency import noise_corrected_consistency
from tnn.neural.crossval import cross_validated_score
from tnn.neural.crossval import heldout_predictions
from tnn.neural.crossval import node_scores
from tnn.neural.data import NeuralData
from tnn.neural.data import load_neural_data
from tnn.neural.data import save_neural_data
from tnn.neural.mapping import PLSMapping
from tnn.neural.mapping import RidgeMapping
from tnn.neural.mapping import make_mapping
from tnn.neural.metrics import CEILING_VERSIONS
from tnn.neural.metrics import ceiled_score
from tnn.neural.metrics import pearson_per_neuron
from tnn.neural.metrics import spearman_brown
from tnn.neural.similarity import cka_ceiling
from tnn.neural.similarity import linear_cka
from tnn.neural.similarity import rdm
from tnn.neural.similarity import rsa
from tnn.neural.similarity import rsa_ceiling
from tnn.neural.similarity import similarity_per_bin
from tnn.neural.splits import neuron_folds
from tnn.neural.splits import stimulus_splits
from tnn.neural.splits import trial_halves
from tnn.neural.sweep import bin_steps
from tnn.neural.sweep import layer_sweep

__all__ = [
    "CEILING_VERSIONS", "NeuralData", "PLSMapping", "RidgeMapping",
    "bin_steps", "ceiled_score", "cross_validated_score",
    "heldout_predictions", "layer_sweep", "load_neural_data",
    "cka_ceiling", "linear_cka", "load_brainio_assembly", "rdm", "rsa",
    "rsa_ceiling", "similarity_per_bin",
    "make_mapping", "neuron_folds", "neuron_reliability", "node_scores",
    "noise_corrected_consistency", "pearson_per_neuron", "save_neural_data",
    "spearman_brown", "split_half_ceiling", "split_half_correlations",
    "stimulus_splits", "trial_halves",
]
