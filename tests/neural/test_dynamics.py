"""Direct fit of dynamics: trained parameters, frozen weights, readouts,
the ConvRNN ground truth, and the fit against its baselines."""

import ast
import glob
import json
import os

import keras
import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from tnn.graphs.tnn_graph import TNNGraph
from tests.graphs.helpers import chain_spec, conv
from tnn.neural.dynamics import compare as neural_compare
from tnn.neural.dynamics import model as dynamics_model
from tnn.neural.dynamics import readouts as neural_readouts
from tnn.zoo import small_models
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


def small_problem():
    rng = np.random.default_rng(0)
    stimuli = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    responses = {"A": rng.standard_normal((16, 8, 3)),
                 "B": rng.standard_normal((16, 8, 2))}
    return stimuli, responses


def test_fit_trains_dynamics_only_and_solves_readouts():
    model = lstm_model()
    before = by_path(model)
    stimuli, responses = small_problem()
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


# The hand-written GradientTape loop that `DynamicsFit` used before it moved
# to `keras.Model.fit`, run on `small_problem` with `lstm_model()`, dims=20,
# learning_rate=0.05, 3 epochs, validation_fraction=0.25 (12 training
# stimuli), restore_best=False: history (epoch, loss, val_loss) and the
# predictions pred["A"][0, :, 0], pred["B"][1, :, 1] of stimuli[:4].
# With batch_size=5 the last batch has 2 stimuli, and the old "loss" was the
# plain mean over batches where Keras weighs batches by size: only val_loss
# and the predictions (the trained weights) are compared there.
OLD_LOOP = {
    ("gradient", 4): {
        "history": [(0, None, 1.887355089187622),
                    (1, 2.073368509610494, 1.9484200477600098),
                    (2, 1.9865045547485352, 1.9120078086853027),
                    (3, 1.9534831444422405, 1.917401671409607)],
        "A": [-0.15708799093987305, -0.09989087771772273,
              -0.029733362279674436, 0.005627990720953303,
              0.014305175296185572, 0.0017087615589426938,
              -0.01783594233418828, -0.034654774609935005],
        "B": [-0.03189085349637261, -0.01784017911862064,
              -0.013974529917589393, -0.023988785632129292,
              -0.055019453553303566, -0.09936072203206063,
              -0.13729140574928828, -0.1591042183620297]},
    ("ridge", 5): {
        "history": [(0, None, 1.887355089187622),
                    (1, 2.067997694015503, 1.8985419273376465),
                    (2, 2.0106563568115234, 1.8996593952178955),
                    (3, 1.9019033114115398, 1.9334039688110352)],
        "A": [-0.09198646705908875, -0.014480442146063963,
              0.06604908369424653, 0.06755522888750422,
              0.0639404924780307, 0.031618770624977234,
              0.0692912805741413, 0.0690458089078912],
        "B": [-0.06985977836593188, -0.012058796693159082,
              0.014972946169845819, 0.003985933021759397,
              -0.0575258493433842, -0.16039722264916742,
              -0.2753981339246506, -0.3897989551212206]}}


def check_against_old_loop(fit, history, stimuli, mode, batch_size):
    """History and predictions equal the old loop's up to float round-off
    (measured: 1.3e-7 relative on val_loss, 3e-7 on the predictions)."""
    old = OLD_LOOP[(mode, batch_size)]
    assert [h["epoch"] for h in history] == [0, 1, 2, 3]
    np.testing.assert_allclose([h["val_loss"] for h in history],
                               [h[2] for h in old["history"]], rtol=1e-5)
    assert history[0]["loss"] is None
    if 12 % batch_size == 0:
        np.testing.assert_allclose([h["loss"] for h in history[1:]],
                                   [h[1] for h in old["history"][1:]],
                                   rtol=1e-5)
    pred = fit.predict(stimuli[:4])
    np.testing.assert_allclose(pred["A"][0, :, 0], old["A"], rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(pred["B"][1, :, 1], old["B"], rtol=1e-5,
                               atol=1e-6)


def new_fit(mode, **kwargs):
    return DynamicsFit(lstm_model(), {"A": "conv2", "B": "conv4"},
                       np.arange(8), dims=20, learning_rate=0.05,
                       readout=mode, **kwargs)


def test_fit_reproduces_the_previous_loop_ridge_mode():
    stimuli, responses = small_problem()
    fit = new_fit("ridge")
    history = fit.fit(stimuli, responses, epochs=3, batch_size=5,
                      validation_fraction=0.25, restore_best=False,
                      verbose=0)
    check_against_old_loop(fit, history, stimuli, "ridge", 5)
    # readouts are not trained by gradient: they are the exact ridge
    # solution for the final dynamics
    assert not fit.keras_model.readout_variables["A"][0].trainable
    assert len(fit.keras_model.trainable_variables) == len(fit.dynamics)
    train = fit.split["train"]
    feats = fit.features(stimuli[train])
    for area, node in fit.area_nodes.items():
        mean, std = fit.norms[area]
        z = (responses[area][train] - mean) / std
        exact = neural_readouts.ridge_readout(feats[node], z,
                                              fit.alphas[area])
        np.testing.assert_allclose(fit.readouts[area][0].numpy(),
                                   exact["weights"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fit.readouts[area][1].numpy(),
                                   exact["bias"], rtol=1e-5, atol=1e-6)


class Interrupt(keras.callbacks.Callback):
    """Records the epochs and their logs; raises after epoch `at`."""

    def __init__(self, at=None):
        super().__init__()
        self.at, self.epochs, self.logs = at, [], []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        self.logs.append(dict(logs))
        if epoch == self.at:
            raise KeyboardInterrupt("interrupted for the test")


def test_fit_runs_through_keras_fit_writes_logs_and_resumes(tmp_path):
    stimuli, responses = small_problem()
    original = lstm_model()
    (fb,) = [d for d in dynamics_variables(original)
             if d.role == "feedback_slice"]
    kernel = fb.variable.numpy()
    kwargs = dict(epochs=3, batch_size=4, validation_fraction=0.25,
                  restore_best=False, verbose=0, log_dir=str(tmp_path))
    first = Interrupt(at=1)
    with pytest.raises(KeyboardInterrupt):
        new_fit("gradient").fit(stimuli, responses, callbacks=[first],
                                **kwargs)
    assert first.epochs == [0, 1]
    assert os.listdir(tmp_path / "backup")
    # a new fit with the same log_dir resumes after the backed-up epoch 0
    second = Interrupt()
    fit = new_fit("gradient")
    history = fit.fit(stimuli, responses, callbacks=[second], **kwargs)
    assert second.epochs == [1, 2]
    for logs, entry in zip(second.logs, history[2:]):
        assert logs["val_loss"] == entry["val_loss"]
        assert logs["loss"] == pytest.approx(entry["loss"])
    check_against_old_loop(fit, history, stimuli, "gradient", 4)
    assert fit.readouts["A"][0].trainable
    # the feed-forward part of the feedback kernel never moves
    (trained,) = [d for d in fit.dynamics if d.role == "feedback_slice"]
    after = trained.variable.numpy()
    np.testing.assert_array_equal(after[fb.mask == 0], kernel[fb.mask == 0])
    assert np.all(after[fb.mask == 1] != kernel[fb.mask == 1])
    # TensorBoard, CSV history, checkpoints; the backup is gone
    assert glob.glob(str(tmp_path / "logs" / "train" / "events.out.*"))
    assert glob.glob(str(tmp_path / "logs" / "validation" / "events.out.*"))
    assert (tmp_path / "logs" / "history.csv").exists()
    for name in ("last", "best"):
        assert (tmp_path / "checkpoints" / f"{name}.weights.h5").exists()
    assert not (tmp_path / "backup").exists()
    fit.keras_model.load_weights(tmp_path / "checkpoints" / "last.weights.h5")


@pytest.mark.parametrize("kind", dynamics_model.KINDS)
def test_reductions_dense_sparse_and_segments_agree(kind):
    reducer = DynamicsFit(lstm_model(), {"A": "conv2"}, np.arange(8),
                          dims=20).reducers["conv2"]
    x = np.random.default_rng(0).standard_normal(
        (5, reducer.units)).astype(np.float32)
    reduction = dynamics_model.Reduction(reducer.matrix, kind=kind)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reduction(keras.ops.convert_to_tensor(x))),
        x @ reducer.matrix.toarray(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="reduction kind must be one of"):
        dynamics_model.Reduction(reducer.matrix, kind="csr")


def test_large_reductions_stay_sparse_without_xla(monkeypatch):
    monkeypatch.setattr(dynamics_model, "DENSE_LIMIT", 0)
    fit = DynamicsFit(lstm_model(), {"A": "conv2", "B": "conv4"},
                      np.arange(8), dims=20)
    features = fit._features
    assert features._reductions["conv2"].kind == "sparse"
    assert features._reductions["conv4"] is None  # 4 units: identity
    assert not features.supports_jit
    stimuli = small_problem()[0][:3]
    outputs = fit.model.unroll(preprocess_stimuli(stimuli, (16, 16, 3)),
                               nodes=["conv2"])
    np.testing.assert_allclose(
        fit.features(stimuli)["conv2"],
        fit.reducers["conv2"](outputs["conv2"].numpy()), atol=1e-5)

def test_dynamics_modules_are_backend_neutral():
    folder = os.path.dirname(dynamics_model.__file__)
    for name in ("fit.py", "model.py", "callbacks.py"):
        with open(os.path.join(folder, name)) as f:
            source = f.read()
        tree = ast.parse(source)
        imported = [a.name for node in tree.body
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    for a in node.names] + [
            node.module for node in tree.body
            if isinstance(node, ast.ImportFrom)]
        assert not any(str(m).startswith("tensorflow") for m in imported), \
            name
        assert "GradientTape" not in source, name


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
    control = model.unroll(images, ["conv2", "conv4"], recurrence="off")
    same = truth.unroll(images, ["conv2", "conv4"], recurrence="off")
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
            # The headline: common bins only, with bootstrap intervals;
            # "beats_baselines" is its verdict, not the all-bins mean's.
            headline = entry["headline"][kind]
            assert headline["bins"] == entry[f"common_bins_{kind}"]
            assert entry["beats_baselines"][kind] == (
                headline["recurrent_fit_wins"])
            for baseline in neural_compare.BASELINES:
                diff = headline["differences"][baseline]
                assert diff["low"] <= diff["high"]
                assert diff["verdict"] in ("recurrent_fit wins",
                                           "baseline wins",
                                           "no clear winner")
        assert curves[area]["recorded"].shape == (24, 26, 9)
        assert curves[area]["time_varied"].shape == (24, 26, 9)


def test_headline_uses_common_bins_and_reports_a_winning_baseline():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((40, 6, 5))
    good = y + 0.3 * rng.standard_normal(y.shape)
    bad = y + 1.5 * rng.standard_normal(y.shape)
    baseline = good.copy()
    baseline[:, 3:] = 0.0          # constant: undefined in bins 3..5
    preds = {"recurrent_fit": bad, "feedforward_shared": baseline,
             "time_varied": baseline + 0.01 * rng.standard_normal(y.shape)}
    preds["time_varied"][:, 3:] = 0.0
    # The old headline (all bins, undefined = 0) favoured the recurrent fit.
    old = {m: neural_readouts.score_curve(p, y)["mean"]
           for m, p in preds.items()}
    assert old["recurrent_fit"] > old["feedforward_shared"]
    out = neural_compare.compare_on_common_bins(preds, y, n_bootstrap=200)
    json.dumps(out, allow_nan=False)
    assert out["bins"] == [0, 1, 2]
    assert out["recurrent_fit_wins"] is False
    for baseline_name in neural_compare.BASELINES:
        diff = out["differences"][baseline_name]
        assert diff["verdict"] == "baseline wins"
        assert diff["low"] <= diff["mean"] <= diff["high"] < 0
    # The other way round the recurrent fit wins; equal ones do not.
    swapped = {"recurrent_fit": good, "feedforward_shared": bad,
               "time_varied": bad}
    won = neural_compare.compare_on_common_bins(swapped, y, n_bootstrap=200)
    assert won["recurrent_fit_wins"] is True
    assert won["bins"] == list(range(6))
    tie = {"recurrent_fit": good, "feedforward_shared": good,
           "time_varied": bad}
    tied = neural_compare.compare_on_common_bins(tie, y, n_bootstrap=200)
    assert tied["differences"]["feedforward_shared"]["verdict"] == (
        "no clear winner")
    assert tied["recurrent_fit_wins"] is False
