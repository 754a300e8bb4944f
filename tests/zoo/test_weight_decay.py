"""The zoo's L2 weight decay is the original's objective (§4, §5.3).

The original decays kernel AND bias of every feed-forward conv / fc
(convrnns `component_conv`, `model_tool.conv` / `fc`) and every cell weight
it gives a regularizer, with TF1's `l2_regularizer(s) = s · Σw² / 2`; the
`residual_add_weights` projection has none. Hand count in numpy.
"""

import numpy as np
import pytest

import tnn

DECAY = 1e-4


@pytest.mark.parametrize("name, size", [("rgc_shallow", 72),
                                        ("ugrnn_intermediate", 32)])
def test_model_losses_match_a_hand_count(name, size, rng):
    model = tnn.create_model(name, input_shape=(size, size, 3))
    # Random values everywhere: the zoo's biases start at 0 (or 1).
    for w in model.trainable_weights:
        w.assign(rng.normal(0.0, 0.05, tuple(w.shape)).astype("float32"))
    decayed = [w for w in model.trainable_weights
               if not w.path.endswith("residual_add_weights")]
    biases = [w for w in decayed if w.path.endswith("/bias")
              and ("/pre_" in w.path or "/post_" in w.path)]
    assert len(biases) == (6 if name == "rgc_shallow" else 20)
    expected = sum(DECAY / 2 * np.sum(np.asarray(w, "float64") ** 2)
                   for w in decayed)
    losses = [float(loss) for loss in model.losses]
    assert len(losses) == len(decayed)
    np.testing.assert_allclose(sum(losses), expected, rtol=1e-5)
