"""numpy arrays + coordinate dicts -> Brain-Score assemblies.

The only module of `tnn.brainscore` that needs Brain-Score: it imports
`brainscore_core` (installed with `pip install 'tnn[brainscore]'`) when
called, so the rest of the package works without it.
"""

import numpy as np

INSTALL_HINT = (
    "Brain-Score assemblies need brainscore-vision: pip install "
    "'tnn[brainscore]' (brainscore-vision 2.4.2; see brainscore_plugin/"
    "README.md for the environment).")


def brainio():
    """`brainscore_core.supported_data_standards.brainio` (assemblies and
    stimuli), with a clear error when Brain-Score is not installed."""
    try:
        from brainscore_core.supported_data_standards import brainio as lib
        from brainscore_core.supported_data_standards.brainio import (  # noqa
            assemblies, stimuli)
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] != "brainscore_core":
            raise
        raise ModuleNotFoundError(INSTALL_HINT) from None
    return lib


def _coords(dim, values):
    out = {}
    for name, column in values.items():
        column = np.asarray(column)
        if column.ndim != 1:
            raise ValueError(f"coordinate {name!r} of {dim!r} must be 1-D, "
                             f"got shape {column.shape}.")
        out[name] = (dim, column)
    return out


def neuroid_assembly(values, presentation, neuroid, time_bin):
    """A `NeuroidAssembly` with dims (presentation, neuroid, time_bin).

    Args:
        values: `[P, K, B]`.
        presentation, neuroid, time_bin: dicts coordinate name -> 1-D array
            along that dim (`time_bin` holds `time_bin_start` and
            `time_bin_end`).
    """
    lib = brainio()
    coords = {**_coords("presentation", presentation),
              **_coords("neuroid", neuroid),
              **_coords("time_bin", time_bin)}
    return lib.assemblies.NeuroidAssembly(
        np.asarray(values), coords=coords,
        dims=["presentation", "neuroid", "time_bin"])


def behavioral_assembly(values, dims, coords):
    """A `BehavioralAssembly`; `coords` maps dim -> {name: 1-D array}."""
    lib = brainio()
    flat = {}
    for dim, names in coords.items():
        flat.update(_coords(dim, names))
    return lib.assemblies.BehavioralAssembly(np.asarray(values), coords=flat,
                                             dims=list(dims))
