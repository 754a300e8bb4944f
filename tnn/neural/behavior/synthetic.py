"""A synthetic primate-behaviour generator with known truth.

Images i (K objects, M images each) have a true sensitivity a_i (higher =
easier) and a true object solution time t_i (ms). Object pairs have a
symmetric confusability s[o, c] >= 0. Then:

- primate trials: image i shown with a distractor c drawn uniformly from
  the other objects; the distractor is chosen with the true false-alarm
  rate far[i, c] = Phi(-(a_i - s[o_i, c])), Phi the standard normal CDF.
  The population d' (infinitely many trials) is `dprime` of these rates
  (`expected_dprime`); i1n recovers the within-object ranks of a_i.
- primate OSTs: t_i plus optional Gaussian measurement noise, and the
  primate's per-image i1 threshold of Kar et al.'s OST (the d' a decoder
  must reach), drawn uniformly from `ost_threshold`: a narrow range, so
  that the true t_i alone orders the crossings. (The i1 of the trials
  above is `expected_dprime("i1")`; it spans too wide a range of d' to
  serve as the threshold of these features.)
- model features over time [N, T, D] at bin starts 70, 80, ..., 240 ms
  (Kar et al. 2019's bins): amplitude * sigmoid((t - t_i) / tau) times
  the object's prototype, plus a fixed per-image offset and per-bin noise,
  so a decoder's per-image d' rises around t_i. A feed-forward control
  repeats one step (no time course).
- model probabilities [N, K]: softmax of logits whose target-vs-c margin
  is kappa * (a_i - s[o_i, c]) plus Gaussian noise (`model_noise`), so a
  noiseless model has the primate's image-level pattern.

Everything is drawn from `numpy.random.default_rng(seed)`.
"""

import dataclasses

import numpy as np
import scipy.stats

from tnn.neural.behavior import dprime as dp
from tnn.neural.behavior import i1i2

KAR2019_BIN_STARTS = np.arange(70, 250, 10)


@dataclasses.dataclass
class SyntheticBehavior:
    """Generated arrays and their truth (see the module docstring)."""

    image_object: np.ndarray      # [N] object index per image
    true_sensitivity: np.ndarray  # [N] a_i
    confusability: np.ndarray     # [K, K] s, zero diagonal
    true_far: np.ndarray          # [N, K] true false-alarm rates
    trials: dict                  # image, distractor, choice: [R] each
    probabilities: np.ndarray     # [N, K] model choice probabilities
    true_ost: np.ndarray          # [N] ms
    primate_ost: np.ndarray       # [N] ms, measured (t_i + noise)
    primate_i1: np.ndarray        # [N] the OST's i1 threshold per image
    time_bins: np.ndarray         # [T] bin starts, ms
    features: np.ndarray          # [N, T, D] model features over time

    def expected_dprime(self, metric="i2n"):
        """Population d' of the true rates (infinitely many trials)."""
        d = dp.dprime_matrix(self.true_far, self.image_object)
        return i1i2._finish(d, self.image_object, metric)

    def feedforward_features(self, step=-1):
        """The control without time course: one step repeated over T."""
        one = self.features[:, [step]]
        return np.repeat(one, self.features.shape[1], axis=1)


def synthetic_behavior(n_objects=4, images_per_object=16,
                       trials_per_image=200, sensitivity=(0.3, 2.5),
                       max_confusability=0.8, ost_range=(80.0, 230.0),
                       ost_noise=0.0, ost_threshold=(0.8, 1.2),
                       time_bins=KAR2019_BIN_STARTS,
                       n_features=32, amplitude=3.0, tau=3.0,
                       image_noise=0.5, bin_noise=0.3, model_noise=0.0,
                       kappa=1.6, seed=0):
    """Draw a `SyntheticBehavior` (deterministic given `seed`).

    Args:
        n_objects, images_per_object: K and M (N = K * M images).
        trials_per_image: primate trials per image.
        sensitivity: (low, high) of the uniform a_i.
        max_confusability: s[o, c] ~ U(0, max) per object pair.
        ost_range: (low, high) of the uniform true OST t_i, ms.
        ost_noise: std of the measurement noise on the primate OSTs, ms.
        ost_threshold: (low, high) of the uniform primate i1 thresholds.
        time_bins: [T] bin starts, ms.
        n_features, amplitude, tau, image_noise, bin_noise: the features.
        model_noise: std of the noise on the model's logit margins.
        kappa: scale of the model's logit margins.
        seed: seed of `numpy.random.default_rng`.
    """
    if n_objects < 2 or images_per_object < 1 or trials_per_image < 1:
        raise ValueError("need n_objects >= 2, images_per_object >= 1 and "
                         "trials_per_image >= 1.")
    rng = np.random.default_rng(seed)
    k, n = int(n_objects), int(n_objects * images_per_object)
    labels = np.repeat(np.arange(k), images_per_object)
    a = rng.uniform(*sensitivity, size=n)
    s = np.triu(rng.uniform(0.0, max_confusability, size=(k, k)), 1)
    s = s + s.T
    margin = a[:, None] - s[labels]  # [N, K]
    far = scipy.stats.norm.cdf(-margin)
    far[np.arange(n), labels] = np.nan

    image = np.repeat(np.arange(n), trials_per_image)
    offset = rng.integers(1, k, size=image.size)  # a distractor != target
    distractor = (labels[image] + offset) % k
    wrong = rng.random(image.size) < far[image, distractor]
    choice = np.where(wrong, distractor, labels[image])
    order = rng.permutation(image.size)
    trials = {"image": image[order], "distractor": distractor[order],
              "choice": choice[order]}

    logits = np.zeros((n, k))
    noisy = kappa * margin + model_noise * rng.standard_normal((n, k))
    logits -= noisy  # logit_c = -margin(c) relative to the target at 0
    logits[np.arange(n), labels] = 0.0
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)

    t_true = rng.uniform(*ost_range, size=n)
    t_measured = t_true + ost_noise * rng.standard_normal(n)
    bins = np.asarray(time_bins, dtype=np.float64)
    prototypes = rng.standard_normal((k, n_features))
    gain = amplitude / (1.0 + np.exp(-(bins[None] - t_true[:, None]) / tau))
    features = (gain[:, :, None] * prototypes[labels][:, None]
                + image_noise * rng.standard_normal((n, 1, n_features))
                + bin_noise * rng.standard_normal((n, bins.size, n_features)))

    primate_i1 = rng.uniform(*ost_threshold, size=n)
    return SyntheticBehavior(
        image_object=labels, true_sensitivity=a, confusability=s,
        true_far=far, trials=trials, probabilities=probabilities,
        true_ost=t_true, primate_ost=t_measured, primate_i1=primate_i1,
        time_bins=bins, features=features.astype(np.float32))
