"""`python -m training.replicate`: seeds, paired statistics, resume."""

import json
import math
import os

import gin
import numpy as np
import pytest
from scipy import stats

from training import cli, replicate, replication_report

TINY = [
    "replication.widths = (4, 8, 8)", "replication.times = 4",
    "replication.feedforward_times = 4", "replication.seeds = 2",
    "replication.arms = ('rgc', 'none')",
    "replication.claims = ('cells', 'occlusion')",
    "replication.eval_levels = (0.6,)",
    "ScheduleSettings.epochs = 1", "ScheduleSettings.steps_per_epoch = 2",
    "occluded_digits_task.eval_batch_size = 500",
]


def test_interval_matches_scipy():
    values = [0.61, 0.64, 0.58, 0.66, 0.63]
    result = replication_report.interval(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values),
                                 scale=stats.sem(values))
    assert result["low"] == pytest.approx(low)
    assert result["high"] == pytest.approx(high)
    assert math.isnan(replication_report.interval([0.5])["low"])


def test_paired_difference_and_verdict():
    ref = {0: 0.60, 1: 0.62, 2: 0.58, 3: 0.61, 4: 0.63}
    better = {s: v + 0.02 + 0.001 * s for s, v in ref.items()}
    diff = replication_report.paired(better, ref)
    assert diff["mean"] == pytest.approx(0.022)
    assert diff["wins"] == 5 and diff["p"] < 1e-4
    assert replication_report.verdict(diff) == "yes"
    worse = replication_report.paired(ref, better)
    assert replication_report.verdict(worse).startswith("opposite")
    noisy = replication_report.paired(
        {0: 0.6, 1: 0.5, 2: 0.7}, {0: 0.55, 1: 0.6, 2: 0.6})
    assert replication_report.verdict(noisy).startswith("no")


@pytest.fixture(autouse=True)
def clean_gin():
    gin.clear_config()
    yield
    gin.clear_config()


@pytest.mark.extended
def test_tiny_replication_resumes(tmp_path, capsys):
    base = str(tmp_path)
    argv = [f"--base_dir={base}", "--gin_files=replication/small"] + [
        f"--gin_bindings={b}" for b in TINY]
    replicate.run(argv)
    records = sorted(os.listdir(os.path.join(base, "runs", "rgc")))
    assert records == ["seed0.json", "seed1.json"]
    with open(os.path.join(base, "runs", "none", "seed1.json")) as f:
        ff = json.load(f)
    with open(os.path.join(base, "runs", "rgc", "seed1.json")) as f:
        rec = json.load(f)
    # matched budget, the presentation and the per-level evaluation
    assert abs(ff["num_params"] - rec["num_params"]) <= 0.05 * rec[
        "num_params"]
    assert (rec["times"], len(rec["steps_top1"]), sorted(rec["levels"])) == (
        4, 4, ["0.6"])
    assert rec["levels"]["0.6"]["coverage"] >= 0.6
    assert rec["top1"] == rec["levels"]["0.6"]["top1"]
    report = json.load(open(os.path.join(base, "report.json")))
    assert report["few_seeds"] == ["none", "rgc"]
    assert [r["arm"] for r in report["cells"]] == sorted(
        ["rgc", "none"], key=lambda a: -report["cells"][
            [r["arm"] for r in report["cells"]].index(a)]["top1"]["mean"])
    text = open(os.path.join(base, "replication.md")).read()
    assert "Fewer than 5 seeds" in text and "| 0.6 (" in text
    assert os.path.exists(os.path.join(base, "occlusion.png"))
    # a second run finds every record and trains nothing
    mtime = os.path.getmtime(os.path.join(base, "runs", "rgc", "seed0.json"))
    capsys.readouterr()
    gin.clear_config()
    replicate.run(argv)
    assert "seed 0: top-1" not in capsys.readouterr().out
    assert os.path.getmtime(os.path.join(
        base, "runs", "rgc", "seed0.json")) == mtime


def test_bad_settings(tmp_path):
    cli.parse_gin(["replication/small"], [
        "replication.claims = ('cells', 'speed')"])
    with pytest.raises(ValueError, match=r"Unknown claims \['speed'\]"):
        replicate.replication(str(tmp_path))
    gin.clear_config()
    cli.parse_gin(["replication/small"], [
        "replication.search_dir = None"])
    with pytest.raises(ValueError, match="needs replication.search_dir"):
        replicate.replication(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run the search first"):
        replicate.searched_sample(str(tmp_path))


def test_claim_locks_runs(tmp_path):
    import socket
    path = str(tmp_path / "runs" / "rgc" / "seed0.json")
    assert replicate.claim(path)
    assert not replicate.claim(path)          # held by this live process
    with open(path + ".lock", "w") as f:      # a killed worker's lock
        f.write(f"{socket.gethostname()} 999999999")
    assert replicate.claim(path)
    os.remove(path + ".lock")
    with open(path, "w") as f:
        f.write("{}")
    assert not replicate.claim(path)          # already written


def test_searched_arm_reads_the_best_trial(tmp_path):
    from tnn.search.matched import arm_sample as hand_arm
    sample = hand_arm("gru", (16, 31, 47), (32, 32, 1), times=8)
    trial_dir = tmp_path / "trials" / "7"
    trial_dir.mkdir(parents=True)
    (trial_dir / "spec.json").write_text(json.dumps(sample.to_dict()))
    (tmp_path / "report.json").write_text(json.dumps(
        {"best": [{"number": 7, "value": 0.6}]}))
    settings = dict(reference="rgc", widths=(16, 32, 48), times=8,
                    feedforward_times=4, tolerance=0.05,
                    search_dir=str(tmp_path), input_shape=(32, 32, 1),
                    num_classes=10)
    searched = replicate.arm_sample("searched", **settings)
    assert searched.num_params == sample.num_params == 196_759
    assert searched.params["trial"] == 7 and searched.times == 8
    assert searched.build().count_params() == sample.num_params
    with pytest.raises(ValueError, match="search within the budget"):
        replicate.arm_sample("searched", **dict(settings, tolerance=0.001))
