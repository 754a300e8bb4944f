"""`python -m training.search`: a shared, resumable Optuna study.

One scenario (the module fixture) exercises the real entry point on
gin_configs/search/smoke.gin: two worker processes share one SQLite study,
both are killed with SIGKILL once each has completed a trial, and a third
run resumes the study. The DB is read with sqlite3, not through Optuna.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import gin
import keras
import pytest

from training import cli
from training import search as search_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
N_TRIALS = 4


def _rows(db):
    if not os.path.exists(db):
        return []
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute(
                "SELECT t.number, t.state, a.value_json FROM trials t "
                "LEFT JOIN trial_user_attributes a ON a.trial_id = "
                "t.trial_id AND a.key = 'worker' ORDER BY t.number"
            ).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


def _complete_by_worker(db):
    done = {}
    for number, state, worker in _rows(db):
        if state == "COMPLETE":
            done.setdefault(json.loads(worker), []).append(number)
    return done


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    base = tmp_path_factory.mktemp("search")
    db = str(base / "study.db")
    argv = ["--gin_files=search/smoke", f"--base_dir={base}",
            f"--n_trials={N_TRIALS}"]
    logs = [open(base / f"worker{i}.log", "w") for i in range(2)]
    workers = [subprocess.Popen(
        [sys.executable, "-m", "training.search", *argv], cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT) for log in logs]
    deadline = time.time() + 300
    try:
        while len(_complete_by_worker(db)) < 2:
            dead = [w.poll() for w in workers if w.poll() is not None]
            assert not dead and time.time() < deadline, (
                f"workers exited {dead} or timed out; DB {_rows(db)}; logs: "
                + (base / "worker0.log").read_text()[-2000:])
            time.sleep(0.5)
        before = _rows(db)
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        for log in logs:
            log.close()
    time.sleep(2.5)   # > smoke.gin's grace_period: the heartbeats are stale
    gin.clear_config()
    try:
        search_lib.run([*argv, "--gin_bindings=search.max_retry = 1"])
    finally:
        gin.clear_config()
    report = json.loads((base / "report.json").read_text())
    return {"base": base, "before": before, "after": _rows(db),
            "pids": [w.pid for w in workers], "report": report}


def test_two_workers_share_one_study(study):
    complete = {}
    for number, state, worker in study["before"]:
        if state == "COMPLETE":
            complete.setdefault(json.loads(worker), set()).add(number)
    assert {int(w.rsplit(":", 1)[1]) for w in complete} == set(study["pids"])
    first, second = complete.values()
    assert not first & second      # distinct trials


def test_kill_9_loses_no_completed_trial_and_the_study_finishes(study):
    before = {n: s for n, s, _ in study["before"]}
    after = {n: s for n, s, _ in study["after"]}
    for number, state in before.items():
        if state == "COMPLETE":
            assert after[number] == "COMPLETE"
        if state == "RUNNING":    # the killed workers' trials
            assert after[number] == "FAIL"
    assert "RUNNING" not in after.values()
    finished = [s for s in after.values() if s in ("COMPLETE", "PRUNED")]
    assert N_TRIALS <= len(finished) <= N_TRIALS + 1
    counts = study["report"]["counts"]
    assert counts["COMPLETE"] + counts.get("PRUNED", 0) == len(finished)


def test_report_plots_and_best_exports(study):
    base, report = study["base"], study["report"]
    for name in report["files"]:
        assert (base / name).stat().st_size > 0, name
    rows = (base / "trials.csv").read_text().splitlines()
    assert len(rows) == 1 + len(study["after"])
    killed = [n for n, s, _ in study["before"] if s == "RUNNING"]
    retries = [line.split(",")[9] for line in rows[1:]]
    assert {str(n) for n in killed} <= set(retries)  # retried trials
    best = report["best"]
    assert [b["rank"] for b in best] == [1, 2]
    assert best[0]["value"] >= best[1]["value"]
    front = [t["num_params"] for t in report["pareto_front"]]
    assert front == sorted(front)
    for entry in best:
        assert os.path.isdir(os.path.join(entry["trial_dir"], "logs"))
        model = keras.saving.load_model(entry["model_file"])
        assert model.count_params() == entry["num_params"]
        gin.clear_config()
        try:
            cli.parse_gin([entry["gin_file"]])
            built = gin.query_parameter("train.model_fn").scoped_configurable_fn(
                input_shape=(16, 16, 1), num_classes=10)
        finally:
            gin.clear_config()
        assert built.count_params() == entry["num_params"]
        assert built.times == entry["times"]


def test_unreachable_storage_is_one_clear_line(tmp_path):
    url = f"sqlite:///{tmp_path}/missing/folder/study.db"
    with pytest.raises(ValueError, match="Cannot open the study storage "
                       f"'{url}'"):
        search_lib.open_storage(url)
    with pytest.raises(ValueError) as err:
        search_lib.open_storage("postgresql://me:secret@127.0.0.1:9/db")
    assert "secret" not in str(err.value)
    assert "postgresql://me:***@127.0.0.1:9/db" in str(err.value)


def test_impossible_budget_fails_before_training(tmp_path):
    gin.clear_config()
    try:
        with pytest.raises(SystemExit, match="training.search: error: No "
                           "sample of search space 'demo' meets"):
            search_lib.run(["--gin_files=search/smoke",
                            f"--base_dir={tmp_path}",
                            "--gin_bindings=demo_space.max_params = 10"])
    finally:
        gin.clear_config()
    assert not (tmp_path / "trials").exists()


def test_report_only_needs_an_existing_study(tmp_path):
    gin.clear_config()
    try:
        with pytest.raises(SystemExit, match="No study 'tnn_search' in"):
            search_lib.run(["--gin_files=search/smoke",
                            f"--base_dir={tmp_path}", "--report_only"])
    finally:
        gin.clear_config()
