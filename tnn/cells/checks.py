"""Argument checks shared by the cells.

Each check raises a `ValueError` quoting the bad value and returns the
normalized value, so a cell validates and stores in one line:

    self.forget_bias = checks.number(forget_bias, "forget_bias")
"""

from tnn import utils


def number(value, name):
    """A real number (not a bool), returned as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    return float(value)


def boolean(value, name):
    """Exactly True or False (1, "yes" and None are refused)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return value


def weight_decay(value, name="weight_decay"):
    """None or a number >= 0 (a TF1-convention L2 weight decay)."""
    if value is not None and (isinstance(value, bool) or not isinstance(
            value, (int, float)) or value < 0):
        raise ValueError(f"{name} must be a number >= 0 or None, got "
                         f"{value!r}.")
    return value


def initializer(value, **kwargs):
    """Anything `utils.get_initializer` accepts; returned unchanged."""
    utils.get_initializer(value, **kwargs)
    return value


def activation_name(value, name, allow_none=True):
    """An activation name (or None = identity), so that configs serialize."""
    if not isinstance(value, str) and not (allow_none and value is None):
        hint = " (or None for identity)" if allow_none else ""
        raise ValueError(f"{name} must be an activation name such as 'elu'"
                         f"{hint}, got {value!r}.")
    utils.get_activation(value)
    return value


def optional_channels(value, name):
    """None or a positive int (the channels of a residual / feedback)."""
    return None if value is None else utils.check_positive_int(value, name)
