"""Behavioural metrics on arrays: i1n / i2n and object solution times.

numpy / scipy / scikit-learn only (no Keras), as Brain-Score defines them
(brainscore_vision 2.4.2; parity checked in tests_brainscore/):

- `tnn.neural.behavior.dprime`: image-by-distractor d' from trials or model
  probabilities (Rajalingham et al. 2018), clipping, normalisation;
- `tnn.neural.behavior.i1i2`: i1 / i1n / i2 / i2n and their split-half
  ceiled consistency (benchmark Rajalingham2018-i2n);
- `tnn.neural.behavior.ost`: object solution times from features over time
  (Kar et al. 2019; benchmark Kar2019-ost);
- `tnn.neural.behavior.synthetic`: a behaviour generator with known image
  difficulty and solution times.
"""

from tnn.neural.behavior.dprime import DPRIME_CAP
from tnn.neural.behavior.dprime import dprime_matrix
from tnn.neural.behavior.dprime import false_alarm_rates_from_probabilities
from tnn.neural.behavior.dprime import false_alarm_rates_from_trials
from tnn.neural.behavior.i1i2 import METRICS
from tnn.neural.behavior.i1i2 import behavior_consistency
from tnn.neural.behavior.i1i2 import dprimes_from_probabilities
from tnn.neural.behavior.i1i2 import dprimes_from_trials
from tnn.neural.behavior.ost import KAR2019_OST_CEILING
from tnn.neural.behavior.ost import LogisticDecoder
from tnn.neural.behavior.ost import ost_consistency
from tnn.neural.behavior.ost import solution_times
from tnn.neural.behavior.ost import temporally_varying
from tnn.neural.behavior.synthetic import SyntheticBehavior
from tnn.neural.behavior.synthetic import synthetic_behavior

__all__ = [
    "DPRIME_CAP", "KAR2019_OST_CEILING", "LogisticDecoder", "METRICS",
    "SyntheticBehavior", "behavior_consistency", "dprime_matrix",
    "dprimes_from_probabilities", "dprimes_from_trials",
    "false_alarm_rates_from_probabilities", "false_alarm_rates_from_trials",
    "ost_consistency", "solution_times", "synthetic_behavior",
    "temporally_varying",
]
