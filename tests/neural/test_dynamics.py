"""Direct fit of dynamics: trained parameters, frozen weights, readouts,
the ConvRNN ground truth, and the fit against its baselines."""

import json

import keras
import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from tnn.graphs.tnn_graph import TNNGraph
from tests.graphs.helpers import chain_spec, conv
from tnn.neural.dynamics import compare as neural_compare
from tnn.neural.dynamics import readouts as neural_readouts
from tnn.zoo import small_models
from tnn.neural.dynamics import feedforward as nff
from tnn.neural.synthetic import convrnn as ns
from tnn.neural.dynamics.fit import DynamicsFit
from tnn.neural.features import preprocess_stimuli
from tnn.neural.dynamics.trainable import dynamics_variables


def lstm_model(seed=0):
    keras.utils.set_random_seed(seed)
    return ns.ventral_convrnn(input_shape=(16, 16, 3), widths=(2, 3, 4, 4),
                              times=8, image_off=4)


def by_path(model):
    return {w.path.split("/", 1)[1]: w.numpy() for w in model.weights}


def test_trainable_parameters_per_kind_of_feedback():
    model = lstm_model()
    found = dynamics_variables(model)
    roles = {(d.node, d.role) for d in found}
    assert roles == {("conv2", "cell"), ("conv3", "cell"), ("conv4", "cell"),
                     ("conv2", "feedback_slice")}
    (fb,) = [d for d in found if d.role == "feedback_slice"]
    assert fb.variable is model.graph_nodes["conv2"].pre_memory[0].kernel
    assert fb.mask.shape == (3, 3, 2 + 4, 3)
    np.testing.assert_array_equal(fb.mask[0, 0, :, 0], [0, 0, 1, 1, 1, 1])
    assert fb.size() == 3 * 3 * 4 * 3
    # a cell that takes feedback itself holds the feedback weights
    rgc = TNNGraph(small_models.convrnn_spec(
        (4, 4, 4), 3, (8, 8, 3), feedback=[("conv3", "conv2")]), times=4)
    found = dynamics_variables(rgc)
    assert {d.role for d in found} == {"cell"}
    assert any("out_feedback" in d.variable.path for d in found)
    # an "add" harbor projects the feedback: that projection is trained
    spec = chain_spec(n=3, size=8, channels=2, feedback=[("conv3", "conv2")])
    spec["nodes"][2]["pre_memory"] = [conv(3, "elu")]
    spec["nodes"][1]["harbor"] = {"channel_op": "add"}
    found = dynamics_variables(TNNGraph(spec, times=4))
    assert [(d.node, d.role, tuple(d.variable.shape)) for d in found] == [
        ("conv2", "harbor_projection", (1, 1, 3, 2)),
        ("conv2", "harbor_projection", (2,))]
    with pytest.raises(ValueError, match="no recurrent or feedback param"):
        dynamics_variables(TNNGraph(chain_spec(n=2, size=8), times=3))


def test_fit_trains_dynamics_only_and_solves_readouts():
    model = lstm_model()
    before = by_path(model)
    rng = np.random.default_rng(0)
    stimuli = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    responses = {"A": rng.standard_normal((16, 8, 3)),
                 "B": rng.standard_normal((16, 8, 2))}
    fit = DynamicsFit(model, {"A": "conv2", "B": "conv4"}, np.arange(8),
                      dims=20, learning_rate=0.05)
    history = fit.fit(stimuli, responses, epochs=1, batch_size=4,
                      validation_fraction=0.25, restore_best=False,
                      verbose=0)
    assert [h["epoch"] for h in history] == [0, 1]
    after = by_path(fit.model)
    for name, value in before.items():
        changed = not np.allclose(value, after[name])
        trained = "/cell/" in name or name == "conv2/pre_0/kernel"
        assert changed == trained, name
    np.testing.assert_array_equal(before["conv2/pre_0/kernel"][:, :, :2],
                                  after["conv2/pre_0/kernel"][:, :, :2])
    for name, value in by_path(model).items():
        np.testing.assert_array_equal(value, before[name])
    pred = fit.predict(stimuli[:5])
    assert pred["A"].shape == (5, 8, 3) and pred["B"].shape == (5, 8, 2)
    # "ridge" readouts are the ridge solution for the trained dynamics
    train = fit.split["train"]
    feats = fit.features(stimuli[train])
    mean, std = fit.norms["A"]
    z = (responses["A"][train] - mean) / std
    ridge = neural_readouts.ridge_readout(feats["conv2"], z, fit.alphas["A"])
    np.testing.assert_allclose(fit.readouts["A"][0].numpy(),
                               ridge["weights"], atol=1e-4)
    # conv2's 4x4x3 outputs go through its sparse projection to 20 dims
    assert fit.reducers["conv2"].method == "projection"
    outputs = fit.model.unroll(preprocess_stimuli(stimuli[:3], (16, 16, 3)),
                               nodes=["conv2", "conv4"])
    for node in ("conv2", "conv4"):
        np.testing.assert_allclose(
            fit.features(stimuli[:3])[node],
            fit.reducers[node](outputs[node].numpy()), atol=1e-5)
    described = fit.describe()
    assert described["trained_parameters"]["feedback_slice"] == 108
    assert described["readout_parameters"] == {"A": 20 * 3 + 3,
                                               "B": 4 * 2 + 2}
    with pytest.raises(ValueError, match="readout must be one of"):
        DynamicsFit(model, {"A": "conv2"}, np.arange(8), readout="pls")
    with pytest.raises(ValueError, match="has no node 'v4'"):
        DynamicsFit(model, {"A": "v4"}, np.arange(8))


def test_recurrent_masks_and_truth_share_the_feedforward_control():
    model = lstm_model()
    images = preprocess_stimuli(np.random.default_rng(1).integers(
        0, 256, (6, 16, 16, 3), dtype=np.uint8), (16, 16, 3))
    found = dynamics_variables(model)
    masks = ns.recurrent_masks(model, images)
    kernel = {d.variable.path: m for d, m in zip(found, masks)}
    lstm = kernel[model.graph_nodes["conv3"].cell.kernel.path]
    f = 4  # [kh, kw, x (4) + h (4), 4 gates (i, j, f, o) x 4]
    expected = np.zeros((3, 3, 8, 16))
    expected[:, :, 4:] = 1  # rows reading h_{t-1}
    expected[:, :, :, 2 * f:3 * f] = 1  # the forget gate scales c_{t-1} = 0
    np.testing.assert_array_equal(lstm, expected)
    ((fb_var, fb),) = [(d, m) for d, m in zip(found, masks)
                       if d.role == "feedback_slice"]
    np.testing.assert_array_equal(fb, fb_var.mask)
    truth = ns.truth_model(model, seed=5, images=images, mix=0.5)
    control = nff.feedforward_unroll(model, images, ["conv2", "conv4"])
    same = nff.feedforward_unroll(truth, images, ["conv2", "conv4"])
    for node in control:
        np.testing.assert_allclose(same[node], control[node], atol=1e-6)
    full = model.unroll(images, nodes=["conv4"])["conv4"]
    other = truth.unroll(images, nodes=["conv4"])["conv4"]
    assert np.abs(np.asarray(full) - np.asarray(other))[:, 5:].max() > 1e-3
    changed = []
    for d, t, m in zip(found, dynamics_variables(truth), masks):
        old, new = d.variable.numpy(), t.variable.numpy()
        np.testing.assert_array_equal(new[m == 0], old[m == 0])
        changed.append(new[m > 0] != old[m > 0])
    # all but the constant-initialised forget-gate biases (0 in both draws)
    assert np.concatenate(changed).mean() > 0.99
    with pytest.raises(ValueError, match="mix must be in"):
        ns.truth_model(model, 5, images, mix=0.0)


def test_readouts_match_scikit_learn(rng):
    x = rng.standard_normal((30, 4, 6))
    y = x @ rng.standard_normal((6, 3)) + rng.standard_normal((30, 4, 3))
    ridge = neural_readouts.ridge_readout(x, y, 2.5)
    ref = Ridge(alpha=2.5).fit(x.reshape(-1, 6), y.reshape(-1, 3))
    np.testing.assert_allclose(ridge["weights"], ref.coef_.T, atol=1e-10)
    np.testing.assert_allclose(ridge["bias"], ref.intercept_, atol=1e-10)
    chosen = neural_readouts.fit_shared_readout(x, y, folds=5, seed=3)
    rows = x.reshape(-1, 6) - x.reshape(-1, 6).mean(0)
    scale = (rows ** 2).sum() / 6
    errors = []
    for rel in neural_readouts.RELATIVE_ALPHAS:
        err = 0.0
        for tr, te in KFold(5, shuffle=True, random_state=3).split(x):
            m = Ridge(alpha=rel * scale).fit(x[tr].reshape(-1, 6),
                                             y[tr].reshape(-1, 3))
            err += ((m.predict(x[te].reshape(-1, 6))
                     - y[te].reshape(-1, 3)) ** 2).sum()
        errors.append(err)
    best = int(np.argmin(errors))
    assert chosen["relative_alpha"] == neural_readouts.RELATIVE_ALPHAS[best]
    np.testing.assert_allclose(chosen["alpha"],
                               neural_readouts.RELATIVE_ALPHAS[best] * scale)
    pred = neural_readouts.predict_shared(x, ridge)
    score = neural_readouts.score_curve(pred, y, bins=[1, 3])
    r = [[stats.pearsonr(pred[:, b, k], y[:, b, k])[0] for k in range(3)]
         for b in range(4)]
    np.testing.assert_allclose(score["per_bin"], np.median(r, axis=1))
    np.testing.assert_allclose(score["mean"], np.median(r, 1)[[1, 3]].mean())
    with pytest.raises(ValueError, match="too few for 5 folds"):
        neural_readouts.fit_shared_readout(x[:6], y[:6])


def test_recurrent_fit_beats_both_baselines_on_heldout_data():
    data, truth, model, _ = ns.generate_convrnn_ventral(
        n_per_category=20, widths=(4, 8, 8, 8), n_neurons=12, n_trials=10)
    report, curves = neural_compare.compare_dynamics(
        data, model, {"V4": "conv2", "IT": "conv4"}, epochs=3, verbose=0)
    json.dumps(report, allow_nan=False)
    assert report["split"]["n_test"] == 24
    history = report["fit"]["history"]
    assert min(h["val_loss"] for h in history[1:]) < history[0]["val_loss"]
    for area in ("V4", "IT"):
        entry = report["areas"][area]
        assert entry["n_fitted"] == 9 and entry["n_heldout"] == 3
        for kind in ("heldout_stimuli", "heldout_neurons"):
            fit = entry["recurrent_fit"][kind]["mean"]
            for baseline in neural_compare.BASELINES:
                assert fit > entry[baseline][kind]["mean"] + 0.1, (
                    area, kind, baseline)
            assert entry["beats_baselines"][kind]
        assert curves[area]["recorded"].shape == (24, 26, 9)
        assert curves[area]["time_varied"].shape == (24, 26, 9)
