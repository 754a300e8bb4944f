"""`make demo` (`training.demo`): the quick run and the comparison table."""

import os

import gin
import pytest

from training import cli, demo, trainer
from tnn.zoo import small_models

MODEL_FNS = {"convrnn": small_models.small_convrnn,
             "feedforward": small_models.small_feedforward}


def test_demo_gin_files_build_matched_models():
    gin.clear_config()
    try:
        params = {}
        for name, path in demo.RUNS.items():
            gin.clear_config()
            cli.parse_gin([os.path.join(demo.REPO_ROOT, path)])
            model_fn = MODEL_FNS[name]
            assert str(gin.query_parameter("train.model_fn")) == \
                f"@{model_fn.__name__}"
            backbone = trainer.build_backbone(model_fn,
                                            demo.tasks.make_task())
            params[name] = backbone.count_params()
            assert backbone.graph_input_shape == (32, 32, 1)
    finally:
        gin.clear_config()
    assert abs(params["feedforward"] / params["convrnn"] - 1) < 0.01


def test_comparison_table():
    reports = {
        "convrnn": {"times": 3, "steps": {"top1": [0.1, 0.5, 0.6]},
                    "decoders": {"last": {"top1": 0.6}}},
        "feedforward": {"times": 3, "steps": {"top1": [0.1, 0.4, 0.4]},
                        "decoders": {"last": {"top1": 0.4}}},
    }
    table = demo.format_comparison(reports, {"convrnn": 1234,
                                             "feedforward": 1250})
    lines = table.splitlines()
    assert lines[1].split() == ["convrnn", "feedforward", "difference"]
    assert lines[2].split() == ["parameters", "1,234", "1,250"]
    assert lines[6].split() == ["t", "=", "2", "0.600", "0.400", "+0.200"]
    assert lines[-1].split() == ["last", "0.600", "0.400", "+0.200"]


@pytest.mark.large
def test_quick_demo_trains_and_compares_both_models(tmp_path):
    gin.clear_config()
    try:
        text, reports, results = demo.run_demo(str(tmp_path), quick=True)
    finally:
        gin.clear_config()
    assert set(reports) == {"convrnn", "feedforward"}
    # smoke.gin: the ConvRNN runs 5 steps; the control is trained with 4
    # and exported with train.export_times = 5 for the table.
    assert [r["times"] for r in reports.values()] == [5, 5]
    assert results["feedforward"]["model"].backbone.times == 4
    for name, result in results.items():
        assert os.path.isfile(os.path.join(result["export_dir"],
                                           "saved_model.pb"))
        assert os.path.isfile(os.path.join(result["base_dir"],
                                           "eval_report.json"))
        assert f"{name}: SavedModel {result['export_dir']}" in text
        assert f"--logdir {result['log_dir']}" in text
    assert "t = 4" in text and "max_conf" in text
