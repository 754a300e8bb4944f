"""Training workflow around `tnn` models: data pipelines and entry points.

In a checkout this folder is the package `training` (`python -m
training.train`); installed, it is `tnn.training` (setup.py's docstring),
which is why every import inside it is relative.
"""

import os
import sys

from tnn import _tf_guard

_OTHER_NAME = "tnn.training" if __name__ == "training" else "training"
if (os.path.realpath(getattr(sys.modules.get(_OTHER_NAME), "__file__", None)
                     or "") == os.path.realpath(__file__)):
    raise ImportError(
        f"{__name__}: these files are already imported as {_OTHER_NAME}; "
        "one process must use one name (gin would register every "
        "configurable twice). In a checkout use `training`, installed "
        "`tnn.training`.")

_tf_guard.require_tensorflow("tnn.training (its tf.data pipelines)")
