"""Small-scale replication of the NeurIPS 2018 findings, with seeds.

    python -m training.replicate --gin_files=replication/small \\
        --base_dir=results/replication --workers=2

trains every (arm, seed) of three claims on occluded digits
(`training.tasks.occluded_digits_task`) and writes the tables and plots
(`training.replication_report`):

(a) "cells": the local cells at a matched parameter budget — the
    reciprocal gated cell, LSTM, GRU, UGRNN, SimpleRNN and TimeDecay in
    conv2 and conv3 of the demo chain, and the feed-forward control
    ("none"), every arm's widths scaled to the reference arm's parameter
    count within `tolerance` (`tnn.search.matched`);
(b) "occlusion": held-out accuracy of every arm at each occlusion level
    (`eval_levels`), recurrent vs feed-forward (the same trained runs);
(c) "searched": the best architecture of a search at the same budget
    (`search_dir`, a `training.search` study; `gin_configs/replication/
    search.gin`) retrained with the same seeds and schedule.

Seed k sets the weights, the data order and the occluder and debris draws
of both splits; arms with the same seed see identical images, so arms are
compared per seed (paired). Each run writes `runs/<arm>/seed<k>.json`;
runs already written are skipped, so an interrupted replication resumes.
`--workers=N` trains N runs at once, each process on
`threads_per_worker` CPU threads; a worker locks the run it trains
(`seed<k>.json.lock`), so more workers (or a second command) can join at
any time without training a run twice.
"""

import json
import os
import socket
import subprocess
import sys
import time

import gin
import numpy as np

from tnn.search import matched
from tnn.search.sample import Sample
from tnn.graphs.spec import GraphSpec
from . import cli, tasks, trainer  # noqa: F401  (gin configurables)
from .settings import RENAMED_BINDINGS

CLAIMS = ("cells", "occlusion", "searched")
ARMS = ("rgc", "lstm", "gru", "ugrnn", "simplernn", "timedecay", "none")
SEARCHED = "searched"
RUNS = "runs"


@gin.configurable
def replication(base_dir, claims=CLAIMS, arms=ARMS, reference="rgc",
                seeds=5, widths=matched.BASE_WIDTHS, times=12,
                feedforward_times=4, tolerance=0.05,
                eval_levels=(0.0, 0.2, 0.4, 0.6, 0.8), search_dir=None,
                task_fn=gin.REQUIRED, workers=1, threads_per_worker=1,
                worker=False):
    """Trains the missing runs and writes the report; returns its dict.

    Args:
        base_dir: output folder (`runs/`, `report.json`, tables, plots).
        claims: which of `CLAIMS` to run and report.
        arms: the cell arms of claim (a) (keys of `matched.HAND_DESIGNED`;
            "none" is the feed-forward control).
        reference: the arm whose parameter count all arms match.
        seeds: number of seeds (0 … seeds−1) per arm.
        widths: the reference arm's conv widths.
        times: steps of the recurrent arms (image at every step).
        feedforward_times: steps of the feed-forward arm (its readout is
            constant once the image has reached it).
        tolerance: the matched budget (relative).
        eval_levels: held-out occlusion levels of claim (b).
        search_dir: the search study of claim (c) (its best trial).
        task_fn: `(seed=…, eval_occlusion=…) -> Task`, e.g.
            `@occluded_digits_task`.
        workers: runs trained at once (subprocesses).
        threads_per_worker: CPU threads of each subprocess.
        worker: True in the subprocesses `workers` starts: train the
            missing runs this process can lock (`claim`), write no report.
    """
    unknown = sorted(set(claims) - set(CLAIMS))
    if unknown:
        raise ValueError(f"Unknown claims {unknown}; choose from {CLAIMS}.")
    if reference not in arms:
        raise ValueError(f"reference arm {reference!r} is not among the "
                         f"arms {tuple(arms)}.")
    if SEARCHED in claims and not search_dir:
        raise ValueError("Claim 'searched' needs replication.search_dir: "
                         "the folder of a training.search study at the "
                         "same budget (gin_configs/replication/search.gin).")
    trained = list(arms) + ([SEARCHED] if SEARCHED in claims else [])
    # seed-major: every arm has the same number of seeds at any time
    runs = [(arm, seed) for seed in range(seeds) for arm in trained]
    missing = [r for r in runs if not os.path.exists(run_file(base_dir, *r))]
    settings = dict(reference=reference, widths=tuple(widths), times=times,
                    feedforward_times=feedforward_times, tolerance=tolerance,
                    eval_levels=tuple(eval_levels), search_dir=search_dir)
    if workers > 1 and len(missing) > 1 and not worker:
        _spawn(base_dir, min(workers, len(missing)), threads_per_worker)
    else:
        for arm, seed in missing:
            if claim(run_file(base_dir, arm, seed)):
                try:
                    train_run(base_dir, arm, seed, task_fn, **settings)
                finally:
                    os.remove(run_file(base_dir, arm, seed) + ".lock")
    if worker:
        return None
    from . import replication_report
    return replication_report.write_report(base_dir, claims, arms, reference,
                                           seeds, search_dir)


def claim(path):
    """Takes the lock of a run (`<record>.lock`, holding host and pid);
    False if it is written or a live process on this host holds it. A
    lock of a dead process is taken over (a killed worker's run reruns)."""
    lock = path + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for _ in range(2):
        if os.path.exists(path):
            return False
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(lock) as f:
                    host, pid = f.read().split()
            except (OSError, ValueError):
                return False
            if host != socket.gethostname() or _alive(int(pid)):
                return False
            os.remove(lock)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{socket.gethostname()} {os.getpid()}")
        return True
    return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_file(base_dir, arm, seed):
    return os.path.join(base_dir, RUNS, arm, f"seed{seed}.json")


def arm_sample(arm, reference, widths, times, feedforward_times, tolerance,
               search_dir, input_shape, num_classes):
    """The `Sample` of one arm, matched to the reference's budget."""
    target = matched.arm_sample(reference, widths, input_shape, num_classes,
                                times=times).num_params
    if arm == SEARCHED:
        sample = searched_sample(search_dir)
        error = abs(sample.num_params - target) / target
        if error > tolerance:
            raise ValueError(
                f"The searched architecture has {sample.num_params:,} "
                f"parameters, {error:.1%} off the reference's {target:,}; "
                f"search within the budget (search.space's min_params / "
                f"max_params = reference ±{tolerance:.0%}).")
        return sample
    arm_times = feedforward_times if arm == matched.NONE else times
    if arm == reference:
        return matched.arm_sample(arm, widths, input_shape, num_classes,
                                  times=arm_times)
    return matched.matched_arm(arm, target, widths, tolerance,
                               input_shape=input_shape,
                               num_classes=num_classes, times=arm_times)


def searched_sample(search_dir):
    """The best complete trial of a `training.search` study."""
    path = os.path.join(search_dir, "report.json")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No search report at {path}; run the search first: python -m "
            f"training.search --gin_files=replication/search "
            f"--base_dir={search_dir}")
    with open(path) as f:
        best = json.load(f)["best"]
    if not best:
        raise ValueError(f"The search in {search_dir} has no complete trial.")
    spec_file = os.path.join(search_dir, "trials", str(best[0]["number"]),
                             "spec.json")
    with open(spec_file) as f:
        data = json.load(f)
    return Sample(GraphSpec.from_dict(data["spec"]), data["times"],
                  data["image_off"], tuple(data["input_shape"]),
                  dict(data["params"], trial=best[0]["number"]),
                  data["num_params"])


def train_run(base_dir, arm, seed, task_fn, eval_levels, **settings):
    """Trains one (arm, seed) and writes its JSON record."""
    from . import evaluation, trainer
    task = task_fn(seed=seed)
    sample = arm_sample(arm, input_shape=task.input_shape,
                        num_classes=task.num_classes, **settings)
    work_dir = os.path.join(base_dir, "work", f"{arm}_seed{seed}")
    start = time.time()
    result = trainer.train(
        work_dir, task=task, model_fn=lambda **_: sample.build(name=arm),
        seed=seed, verbose=0, export=False, num_sample_movies=0)
    seconds = time.time() - start
    backbone = result["model"].backbone
    levels = {}
    for level in eval_levels:
        level_task = task_fn(seed=seed, eval_occlusion=float(level))
        report = evaluation.evaluate_model(backbone,
                                           level_task.eval_dataset())
        levels[f"{level:g}"] = {"top1": report["decoders"]["last"]["top1"],
                                "steps_top1": report["steps"]["top1"],
                                "coverage": _coverage(level_task)}
    steps = np.mean([lv["steps_top1"] for lv in levels.values()], axis=0)
    record = {"arm": arm, "seed": seed, "num_params": sample.num_params,
              "widths": list(matched.arm_widths(sample)),
              "times": sample.times, "choices": sample.params,
              "train_seconds": round(seconds, 1),
              "top1": level_mean(levels),
              "steps_top1": steps.tolist(),
              "first_image_step": backbone.first_image_step(
                  backbone.spec.output),
              "levels": levels,
              "history": {k: [float(x) for x in v]
                          for k, v in result["history"].items()
                          if k in ("loss", "val_loss", "val_last_top1")}}
    path = run_file(base_dir, arm, seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(record, f, indent=1)
    os.replace(path + ".tmp", path)     # a killed run leaves no record
    print(f"{arm} seed {seed}: top-1 {record['top1']:.3f}, "
          f"{sample.num_params:,} parameters, {seconds:.0f} s", flush=True)
    return record


def level_mean(levels):
    """Top-1 averaged over the held-out occlusion levels (each level an
    equal share, as the training mixture's uniform draw)."""
    return float(np.mean([lv["top1"] for lv in levels.values()]))


def _coverage(task):
    """Mean achieved occlusion of the task's held-out images."""
    from .data.occluders import occluded_digits
    meta = dict(task.meta)
    if "eval_occlusion" not in meta:
        return None
    level = meta.pop("eval_occlusion")
    del meta["occlusion"]
    _, _, coverage = occluded_digits("test", level, return_coverage=True,
                                     **meta)
    return float(coverage.mean())


def _spawn(base_dir, workers, threads):
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(threads),
               TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS=str(threads))
    argv = [sys.executable, "-m", "training.replicate",
            f"--base_dir={base_dir}"] + _gin_argv()
    procs = [subprocess.Popen(
        argv + ["--gin_bindings=replication.worker = True"], env=env)
        for _ in range(workers)]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"A replication worker failed (exit codes "
                           f"{codes}); rerun the command to resume.")


_ARGS = {}


def _gin_argv():
    return ([f"--gin_files={f}" for f in _ARGS.get("gin_files", ())]
            + [f"--gin_bindings={b}" for b in _ARGS.get("gin_bindings", ())])


def main(args):
    _ARGS.update(gin_files=list(args.gin_files),
                 gin_bindings=list(args.gin_bindings))
    bindings = list(args.gin_bindings)
    if args.workers is not None:
        bindings.append(f"replication.workers = {args.workers}")
    cli.parse_gin(args.gin_files, bindings, RENAMED_BINDINGS)
    report = replication(args.base_dir)
    if report is not None:
        from . import replication_report
        print(replication_report.summary(report))


def parser():
    """The flags of `python -m training.replicate`."""
    result = cli.make_parser("training.replicate", __doc__)
    cli.add_gin_flags(result)
    cli.add_base_dir(result, help="Output folder (runs/, report.json, "
                     "replication.md, plots).")
    cli.add_flags(result, [("workers", int, None, "Runs trained at once "
                            "(replication.workers).")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
