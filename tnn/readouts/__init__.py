"""Temporal decoders (reference §6), per-step losses and metrics.

Decoders map per-step readout logits `[B, T, K]` to `[B, K]`:

    from tnn.readouts import get_decoder, list_decoders
    decoder = get_decoder("max_conf", start=11)   # window [11, T)
    logits = decoder(per_step_logits)
"""

from tnn.readouts.base import TemporalDecoder, beta_softmax, linear_normalize
from tnn.readouts.confidence_weighted import ConfidenceWeightedDecoder
from tnn.readouts.conv1d import Conv1DDecoder
from tnn.readouts.decoded_accuracy import DecodedTopKAccuracy
from tnn.readouts.last import LastDecoder
from tnn.readouts.learned_weights import LearnedWeightsDecoder
from tnn.readouts.max_confidence import MaxConfidenceDecoder
from tnn.readouts.mlp import MLPDecoder
from tnn.readouts.per_step_loss import PerStepCrossEntropy, step_weights
from tnn.readouts.registry import get_decoder, list_decoders
from tnn.readouts.step_accuracy import StepTopKAccuracy, per_step_metrics
from tnn.readouts.threshold import ThresholdDecoder
from tnn.readouts.time_max import TimeMaxDecoder
from tnn.readouts.uniform import UniformDecoder
from tnn.readouts.weighted_average import WeightedAverageDecoder

__all__ = [
    "TemporalDecoder", "beta_softmax", "linear_normalize",
    "LastDecoder", "UniformDecoder", "WeightedAverageDecoder",
    "LearnedWeightsDecoder", "ConfidenceWeightedDecoder",
    "MaxConfidenceDecoder", "TimeMaxDecoder", "ThresholdDecoder",
    "MLPDecoder", "Conv1DDecoder", "get_decoder", "list_decoders",
    "PerStepCrossEntropy", "step_weights", "StepTopKAccuracy",
    "per_step_metrics", "DecodedTopKAccuracy",
]
