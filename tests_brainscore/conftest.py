"""Brain-Score runs offline and leaves nothing in the home directory.

Set before any test module imports Brain-Score: no plugin requirements are
pip-installed (`BS_INSTALL_DEPENDENCIES=no`), result caching is off, and
the converted stimuli `place_on_screen` writes go to a temporary folder
(`BRAINSCORE_HOME`, read when `brainscore_vision` is imported).
"""

import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="tnn_brainscore_home_")
os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
os.environ.setdefault("RESULTCACHING_DISABLE", "1")
os.environ.setdefault("RESULTCACHING_HOME", os.path.join(_HOME, "cache"))
os.environ.setdefault("BRAINSCORE_HOME", _HOME)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
