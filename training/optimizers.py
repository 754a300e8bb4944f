"""SGD with momentum, gradient clipping and learning-rate schedules (§5.3).

The one stored training record of the zoo (`lstm_shallow.npz`) used
momentum 0.9 with Nesterov, learning rate 0.0076, element-wise clipping to
±0.324 and batch size 64:

    sgd.learning_rate = 0.007587217634546547
    sgd.nesterov = True
    sgd.clipvalue = 0.32374580586841245

Weight decay is not an optimizer setting here: it is the layers' TF1-style
L2 regularisation (`tnn.utils.tf1_l2`, `s · Σw²/2`), added to the loss.

Gradient clipping (Keras) acts on each replica's gradients before they are
summed across replicas.
"""

import gin
import keras
from absl import logging

SCHEDULES = ("constant", "cosine", "step", "exponential")


def _check_positive(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            value <= 0):
        raise ValueError(f"{name} must be a number > 0"
                         f"{' or None' if allow_none else ''}, got {value!r}.")
    return float(value)


def _clip_warmup(warmup_steps, total_steps):
    """`warmup_steps`, clipped to a tenth of a run it would not fit in.

    A task file sets a warm-up for full-length runs (e.g. 500 steps in
    `image_folder.gin`); a shorter run (a smoke test, a small folder) keeps
    a tenth of its steps as warm-up and logs a warning instead of failing.
    """
    if isinstance(warmup_steps, bool) or not isinstance(
            warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an int >= 0, got "
                         f"{warmup_steps!r}.")
    if warmup_steps < total_steps:
        return warmup_steps
    clipped = total_steps // 10
    logging.warning(
        "sgd.warmup_steps = %d does not fit in this run of %d steps; "
        "warming up for %d steps (a tenth of the run) instead. Set "
        "sgd.warmup_steps below the run's length to choose.",
        warmup_steps, total_steps, clipped)
    return clipped


def learning_rate_schedule(learning_rate, total_steps, schedule="constant",
                           warmup_steps=0, decay_rate=0.1,
                           boundaries=(0.5, 0.75), final_fraction=0.0):
    """A Keras learning-rate schedule (or a float for "constant").

    Args:
        learning_rate: peak learning rate.
        total_steps: optimizer steps of the whole run (needed by all but
            "constant").
        schedule: "constant"; "cosine" (cosine decay to
            `final_fraction · learning_rate`, after a linear warm-up of
            `warmup_steps`); "step" (multiply by `decay_rate` at each of
            `boundaries`, given as fractions of `total_steps`);
            "exponential" (smooth decay by `decay_rate` over the run).
        warmup_steps: linear warm-up steps (cosine only); one that does
            not fit in `total_steps` is clipped to a tenth of the run,
            with a logged warning.
        decay_rate: factor of "step" and "exponential".
        boundaries: fractions of the run where "step" decays.
        final_fraction: the cosine schedule's final learning rate,
            relative to the peak.
    """
    learning_rate = _check_positive(learning_rate, "learning_rate")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got "
                         f"{schedule!r}.")
    if schedule == "constant":
        return learning_rate
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or (
            total_steps < 1):
        raise ValueError(
            f"The {schedule!r} schedule needs the run's total number of "
            f"steps, got {total_steps!r}; set "
            f"ScheduleSettings.steps_per_epoch when the dataset's size is "
            f"unknown.")
    _check_positive(decay_rate, "decay_rate")
    if schedule == "cosine":
        warmup_steps = _clip_warmup(warmup_steps, total_steps)
        if warmup_steps:
            return keras.optimizers.schedules.CosineDecay(
                0.0, total_steps - warmup_steps, alpha=final_fraction,
                warmup_target=learning_rate, warmup_steps=warmup_steps)
        return keras.optimizers.schedules.CosineDecay(
            learning_rate, total_steps, alpha=final_fraction)
    if schedule == "step":
        fractions = sorted(float(b) for b in boundaries)
        if not fractions or fractions[0] <= 0 or fractions[-1] >= 1:
            raise ValueError(f"boundaries must be fractions in (0, 1) of the "
                             f"run, got {boundaries!r}.")
        steps = [max(1, int(round(f * total_steps))) for f in fractions]
        values = [learning_rate * decay_rate ** i
                  for i in range(len(steps) + 1)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(steps,
                                                                 values)
    return keras.optimizers.schedules.ExponentialDecay(
        learning_rate, total_steps, decay_rate)


@gin.configurable
def sgd(total_steps=None, learning_rate=0.01, momentum=0.9, nesterov=True,
        schedule="constant", warmup_steps=0, decay_rate=0.1,
        boundaries=(0.5, 0.75), final_fraction=0.0, clipvalue=None,
        clipnorm=None, global_clipnorm=None):
    """`keras.optimizers.SGD` with momentum and an optional schedule.

    Args:
        total_steps: optimizer steps of the run (set by `train`).
        learning_rate: (peak) learning rate.
        momentum: momentum in [0, 1).
        nesterov: Nesterov momentum (as the zoo's LSTM record).
        schedule, warmup_steps, decay_rate, boundaries, final_fraction:
            see `learning_rate_schedule`.
        clipvalue: clip every gradient element to ±clipvalue.
        clipnorm: clip each gradient tensor to this L2 norm.
        global_clipnorm: clip all gradients jointly to this L2 norm.
    """
    if isinstance(momentum, bool) or not isinstance(
            momentum, (int, float)) or not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
    clips = {name: _check_positive(value, name, allow_none=True)
             for name, value in (("clipvalue", clipvalue),
                                 ("clipnorm", clipnorm),
                                 ("global_clipnorm", global_clipnorm))}
    if clips["clipnorm"] is not None and clips["global_clipnorm"] is not None:
        raise ValueError("Set clipnorm or global_clipnorm, not both.")
    rate = learning_rate_schedule(learning_rate, total_steps, schedule,
                                  warmup_steps, decay_rate, boundaries,
                                  final_fraction)
    return keras.optimizers.SGD(learning_rate=rate, momentum=float(momentum),
                                nesterov=bool(nesterov), **clips)


@gin.configurable
def adam(total_steps=None, learning_rate=1e-3, schedule="constant",
         warmup_steps=0, decay_rate=0.1, boundaries=(0.5, 0.75),
         final_fraction=0.0, global_clipnorm=None):
    """`keras.optimizers.Adam` with an optional schedule (the dense and
    self-supervised movie objectives train with it).

    Args:
        total_steps: optimizer steps of the run (set by `train`).
        learning_rate: (peak) learning rate.
        schedule, warmup_steps, decay_rate, boundaries, final_fraction:
            see `learning_rate_schedule`.
        global_clipnorm: clip all gradients jointly to this L2 norm.
    """
    clip = _check_positive(global_clipnorm, "global_clipnorm",
                           allow_none=True)
    rate = learning_rate_schedule(learning_rate, total_steps, schedule,
                                  warmup_steps, decay_rate, boundaries,
                                  final_fraction)
    return keras.optimizers.Adam(learning_rate=rate, global_clipnorm=clip)
