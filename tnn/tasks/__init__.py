"""Task heads on a `TNNGraph` (Keras, backend-neutral).

- `TemporalClassifier`: per-step class logits, temporal decoders, per-step
  losses and metrics (categorization).
"""

from tnn.tasks.classifier import STEPS, TemporalClassifier

__all__ = ["STEPS", "TemporalClassifier"]
