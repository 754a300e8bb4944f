"""`python -m training.convert_tf1`: convert, save, reload."""

import keras
import numpy as np
import pytest

import tnn
from tests.interop.helpers import write_tf1_checkpoint, zoo_arrays
from tnn.interop.tf1_checkpoint import variable_map
from training import convert_tf1


@pytest.fixture
def run_cli():
    def run(*args):
        return convert_tf1.main([str(a) for a in args])
    return run


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3))
    arrays = zoo_arrays(variable_map(model), np.random.default_rng(8))
    prefix = tmp_path_factory.mktemp("ckpt") / "model.ckpt"
    return write_tf1_checkpoint(prefix, arrays), arrays


def test_cli_writes_a_reloadable_model(run_cli, checkpoint, tmp_path,
                                       capsys):
    prefix, arrays = checkpoint
    out = tmp_path / "td.keras"
    assert run_cli("--ckpt", prefix, "--model", "timedecay_shallow",
                   "--out", str(out), "--input_shape", "72,72,3") == 0
    assert f"wrote {out}" in capsys.readouterr().out
    model = keras.saving.load_model(out)
    assert model.graph_input_shape == (72, 72, 3)
    for target in variable_map(model).targets:
        np.testing.assert_array_equal(
            target.variable.numpy(), arrays[f"tnn_model/{target.names[0]}"])


def test_cli_reports_mismatch_and_bad_flags(run_cli, checkpoint, tmp_path,
                                            capsys):
    prefix, _ = checkpoint
    out = tmp_path / "x.keras"
    assert run_cli("--ckpt", prefix, "--model", "ugrnn_shallow",
                   "--out", str(out), "--input_shape", "72,72,3") == 1
    err = capsys.readouterr().err
    assert err.startswith("convert_tf1: The checkpoint does not match model "
                          "'ugrnn_shallow'")
    assert "tnn_model/conv3/ConvUGRNNCell/weights [3, 3, 512, 512]" in err
    assert not out.exists()
    assert run_cli("--ckpt", prefix, "--model", "timedecay_shallow",
                   "--out", str(out), "--input_shape", "72,72") == 1
    assert "--input_shape must be three positive ints" in \
        capsys.readouterr().err
    assert run_cli("--ckpt", prefix, "--model", "timedecay_shallow",
                   "--out", str(tmp_path / "x.h5")) == 1
    assert "--out must end with .keras" in capsys.readouterr().err


@pytest.mark.large
def test_cli_writes_the_decoder(run_cli, tmp_path):
    model = tnn.create_model("rgc_intermediate", input_shape=(32, 32, 3))
    vmap = variable_map(model)
    arrays = zoo_arrays(vmap, np.random.default_rng(9), momentum=False)
    arrays.update({f"tnn_model/{n}": np.array([v], "float32") for n, v in (
        ("probs/softmax_beta", 1.0), ("alpha/softmax_beta", 1.0),
        ("normalize/softmax_beta", 1.0), ("decoder_threshold", 0.6))})
    prefix = write_tf1_checkpoint(tmp_path / "ckpt" / "model.ckpt", arrays)
    out = tmp_path / "rgc.keras"
    assert run_cli("--ckpt", prefix, "--model", "rgc_intermediate_dthresh",
                   "--out", str(out), "--input_shape", "32,32,3") == 0
    wrapper = keras.saving.load_model(tmp_path / "rgc.decoder.keras")
    decoder = wrapper.layers[-1]
    assert type(decoder).__name__ == "ThresholdDecoder"
    assert decoder.start == 11
    np.testing.assert_array_equal(decoder.decoder_threshold.numpy(),
                                  np.array([0.6], "float32"))
    logits = np.zeros((1, model.times, 1000), "float32")
    logits[0, 13, 5] = 10.0     # first step with confidence >= 0.6
    np.testing.assert_array_equal(np.asarray(wrapper(logits)), logits[:, 13])
