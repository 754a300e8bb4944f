"""Expected values from the reference, as literals (no file is read).

- `PARAMETER_COUNTS`: reference §4.4 "Parameter counts", trainable
  parameters of the 14 zoo architectures at 224×224×3 and 1000 classes.
- `APPENDIX_A`: reference Appendix A, "Predicted TF1 checkpoint variables
  (name, shape) for every zoo architecture", copied as literal data into
  `appendix_a_variables.json` (`{architecture: {name under tnn_model/:
  {"shape": [...], "trainable": false for the entries marked (nt), the
  decay-0 pass-through memories}}}`), as `{architecture: {full TF1 name:
  (shape, trainable)}}`.
"""

import json
import pathlib

VARIABLES_FILE = pathlib.Path(__file__).with_name("appendix_a_variables.json")

# Reference §4.4 (rgc_intermediate: +1 trainable β for `*_tmaxconf`).
PARAMETER_COUNTS = {
    "timedecay_shallow": 4_197_739,
    "simplernn_shallow": 6_272_872,
    "gru_shallow": 25_434_472,
    "lstm_shallow": 21_126_248,
    "intersectionrnn_shallow": 32_513_384,
    "ugrnn_shallow": 18_355_560,
    "rgc_shallow": 23_956_840,
    "timedecay_intermediate": 16_403_439,
    "simplernn_intermediate": 33_512_936,
    "gru_intermediate": 67_725_032,
    "lstm_intermediate": 84_832_232,
    "intersectionrnn_intermediate": 84_832_232,
    "ugrnn_intermediate": 50_617_832,
    "rgc_intermediate": 15_445_800,
}


def _appendix_a():
    with open(VARIABLES_FILE) as f:
        tables = json.load(f)
    return {arch: {f"tnn_model/{name}": (tuple(v["shape"]),
                                         v.get("trainable", True))
                   for name, v in variables.items()}
            for arch, variables in tables.items()}


APPENDIX_A = _appendix_a()
