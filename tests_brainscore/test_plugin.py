"""The plugin template, copied as a user would, on Keras' PyTorch backend.

A small model is saved as `.keras` (here, on the TensorFlow backend) into
a copy of `brainscore_plugin/`; a fresh process with KERAS_BACKEND=torch
imports the copy (its `model_registry` entry), builds the Brain-Score
model and records IT; the recordings equal the TensorFlow backend's.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np

from tnn import TNNGraph
from tnn.brainscore import TNNBrainModel
from tnn.neural.synthetic.convrnn import ventral_convrnn

REPO = pathlib.Path(__file__).resolve().parents[1]
IDENTIFIER = "tnn_rgc_intermediate"
BINS = [(70, 80), (150, 250)]

SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import tnn_plugin_copy
from brainscore_vision import model_registry
from brainscore_vision.model_interface import BrainModel
import keras
model = model_registry[{identifier!r}]()
assert keras.backend.backend() == "torch", keras.backend.backend()
assert isinstance(model, BrainModel)
assert model.model.times == 26 and model.model.image_off == 10
model.start_recording("IT", {bins!r})
np.save(sys.argv[3], model.record(np.load(sys.argv[2])).values)
"""


def test_plugin_template_records_under_torch(tmp_path):
    keras.utils.set_random_seed(1)
    model = ventral_convrnn(input_shape=(32, 32, 3), widths=(4, 6, 8, 8),
                            times=8, image_off=4)   # a training presentation
    plugin = tmp_path / "tnn_plugin_copy"
    shutil.copytree(REPO / "brainscore_plugin", plugin)
    model.save(plugin / f"{IDENTIFIER}.keras")
    (plugin / "region_layer_map" / f"{IDENTIFIER}.json").write_text(
        json.dumps({"V4": "conv2", "IT": "conv4"}))
    images = np.random.default_rng(0).integers(0, 256, (3, 40, 40, 3),
                                               dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)

    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=str(REPO))
    env.pop("TNN_BRAINSCORE_MODEL", None)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(identifier=IDENTIFIER,
                                             bins=BINS),
         str(tmp_path), str(tmp_path / "images.npy"),
         str(tmp_path / "torch.npy")],
        env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    torch_values = np.load(tmp_path / "torch.npy")

    neural = TNNGraph.from_config(dict(model.get_config(), times=26,
                                       image_off=10))
    neural.set_weights(model.get_weights())
    reference = TNNBrainModel(neural, region_layers={"IT": "conv4"},
                              visual_degrees=8)
    reference.start_recording("IT", BINS)
    expected = reference.record(images).values
    assert torch_values.shape == expected.shape == (3, 32, 2)
    np.testing.assert_allclose(torch_values, expected, rtol=1e-4, atol=1e-4)
    assert np.abs(expected[..., 1] - expected[..., 0]).max() > 1e-3
