r"""`python -m training.movie_demo`: recurrent vs feed-forward on movies.

The three movie objectives on the embedded moving digits, each trained
through `training.train`'s `trainer.train` (`model.fit`), for a ConvRNN
(`small_convrnn`: Reciprocal Gated Cells in conv2, conv3) and its
parameter-matched feed-forward control (`small_feedforward`: the same
chain widened to the ConvRNN's backbone parameter count; it sees one frame
per step), with the same heads:

  next_frame    clean clips; held-out PSNR / SSIM of frame t + 1 from
                step t, next to copying the last frame (the baseline any
                predictor must beat);
  segmentation  30% of every frame under moving occluders, light debris;
                digit pixels weighted 5x in the loss; held-out mean IoU of
                the visible digit classes and class-agnostic foreground IoU;
  contrastive   InfoNCE between steps t and t + 2 (no labels), then a
                linear probe (`training.movie_probe`) of conv3 at the last
                step on single moving digits, against the same network at
                its random initialisation.

Each seed draws its own clips, weights and shuffling; per arm the report
gives the mean, a 95% t-interval over seeds and the paired difference
(recurrent - control, same seed) with its interval, in
`<base_dir>/results.json` and `results.md`.

    python -m training.movie_demo --quick          # `make movie-demo`
    python -m training.movie_demo --seeds 0 1 2 --base_dir runs/movie_evidence
"""

import functools
import json
import os
import time

import numpy as np
from scipy import stats

from tnn.tasks import movie_losses
from tnn.zoo.small_models import small_convrnn, small_feedforward
from . import cli, movie_probe, movie_tasks, optimizers, trainer
from .data import moving_digits as md
from .settings import ScheduleSettings

WIDTHS = (16, 32, 48)
ARCHES = {"convrnn": small_convrnn, "feedforward": small_feedforward}
SETTINGS = {
    "full": dict(frames=12, train_clips=1500, eval_clips=300, epochs=3,
                 probe_train=1000, probe_test=500),
    "quick": dict(frames=12, train_clips=800, eval_clips=200, epochs=2,
                  probe_train=400, probe_test=200),
}
OBJECTIVES = {
    "next_frame": (dict(objectives={"next_frame": {"offset": 1}}),
                   ("psnr", "ssim")),
    "segmentation": (dict(objectives={"segmentation": {
        "foreground_weight": 5.0}}, occlusion=0.3, debris=5),
        ("mean_iou", "foreground_iou")),
}


def model_fn(arch, frames):
    def build(input_shape, num_classes):
        return ARCHES[arch](input_shape=input_shape, num_classes=num_classes,
                            widths=WIDTHS, times=frames)
    build.__name__ = f"{arch}_backbone"
    return build


def _train(base_dir, task, arch, frames, epochs, seed):
    return trainer.train(
        base_dir, task=task, model_fn=model_fn(arch, frames),
        schedule=ScheduleSettings(epochs=epochs),
        optimizer_fn=functools.partial(optimizers.adam,
                                       learning_rate=0.002),
        seed=seed, verbose=0, num_sample_movies=2)


def copy_baseline(settings, seed, render):
    """PSNR / SSIM of copying frame t as frame t + 1, held-out clips."""
    clips = md.moving_digits("test", n_clips=settings["eval_clips"],
                             frames=settings["frames"], seed=seed, **render)
    frames = clips["frames"].astype(np.float32) / 255.0
    pred, true = movie_losses.copy_last_frame(frames, 1)
    shape = (-1,) + frames.shape[2:]
    pred, true = pred.reshape(shape), true.reshape(shape)
    return {"psnr": float(np.mean(movie_losses.psnr(true, pred))),
            "ssim": float(np.mean(movie_losses.ssim(true, pred)))}


def run_seed(base_dir, seed, settings, log):
    """All arms for one seed: {arm: {metric: value}}."""
    result = {}
    frames = settings["frames"]
    for objective, (task_kwargs, metrics) in OBJECTIVES.items():
        render = {k: v for k, v in task_kwargs.items() if k != "objectives"}
        task = movie_tasks.moving_digits_task(
            frames=frames, train_clips=settings["train_clips"],
            eval_clips=settings["eval_clips"], seed=seed, **task_kwargs)
        for arch in ARCHES:
            start = time.time()
            out = _train(os.path.join(base_dir, f"seed{seed}",
                                      f"{objective}_{arch}"),
                         task, arch, frames, settings["epochs"], seed)
            model = out["model"]
            values = {m: float(out["history"][f"val_{m}"][-1])
                      for m in metrics}
            values["params_backbone"] = model.backbone.count_params()
            values["params_total"] = model.count_params()
            result[f"{objective}/{arch}"] = values
            log(f"seed {seed} {objective:12s} {arch:11s} {values} "
                f"({time.time() - start:.0f} s)")
        if objective == "next_frame":
            result["next_frame/copy_last_frame"] = copy_baseline(
                settings, seed, render)
            log(f"seed {seed} next_frame   copy-last   "
                f"{result['next_frame/copy_last_frame']}")
    result.update(contrastive_arms(base_dir, seed, settings, log))
    return result


def contrastive_arms(base_dir, seed, settings, log):
    frames = settings["frames"]
    task = movie_tasks.moving_digits_task(
        objectives={"contrastive": {"offset": 2, "temperature": 0.1}},
        frames=frames, train_clips=settings["train_clips"],
        eval_clips=settings["eval_clips"], batch_size=64, seed=seed)
    clips = movie_probe.probe_clips(frames, settings["probe_train"],
                                    settings["probe_test"], seed=seed)
    random_init = model_fn("convrnn", frames)((32, 32, 1), 10)
    random_acc = movie_probe.linear_probe(random_init, "conv3", clips)
    start = time.time()
    out = _train(os.path.join(base_dir, f"seed{seed}", "contrastive"),
                 task, "convrnn", frames, settings["epochs"], seed)
    trained_acc = movie_probe.linear_probe(out["model"].backbone, "conv3",
                                           clips)
    log(f"seed {seed} contrastive  probe: pre-trained {trained_acc:.3f}, "
        f"random init {random_acc:.3f} ({time.time() - start:.0f} s)")
    return {"contrastive/pretrained_probe": {"accuracy": trained_acc},
            "contrastive/random_init_probe": {"accuracy": random_acc}}


def interval(values):
    """Mean and 95% t-interval half-width (None with one value)."""
    values = np.asarray(values, float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, None
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) \
        / np.sqrt(len(values))
    return mean, float(half)


PAIRS = [("next_frame/convrnn", "next_frame/feedforward", "psnr"),
         ("next_frame/convrnn", "next_frame/copy_last_frame", "psnr"),
         ("next_frame/convrnn", "next_frame/feedforward", "ssim"),
         ("segmentation/convrnn", "segmentation/feedforward", "mean_iou"),
         ("segmentation/convrnn", "segmentation/feedforward",
          "foreground_iou"),
         ("contrastive/pretrained_probe", "contrastive/random_init_probe",
          "accuracy")]


def summarize(per_seed):
    arms = {}
    for seed_result in per_seed.values():
        for arm, values in seed_result.items():
            for metric, value in values.items():
                arms.setdefault(arm, {}).setdefault(metric, []).append(value)
    summary = {arm: {m: interval(v) for m, v in metrics.items()}
               for arm, metrics in arms.items()}
    pairs = []
    for a, b, metric in PAIRS:
        diffs = [r[a][metric] - r[b][metric] for r in per_seed.values()]
        mean, half = interval(diffs)
        pairs.append({"a": a, "b": b, "metric": metric, "diff": mean,
                      "ci95": half, "per_seed": diffs})
    return summary, pairs


def _fmt(mean, half):
    return f"{mean:.4f}" if half is None else f"{mean:.4f} ± {half:.4f}"


def write_report(base_dir, per_seed, settings, seconds):
    summary, pairs = summarize(per_seed)
    seeds = sorted(per_seed)
    lines = [f"# Movie demo: {len(seeds)} seed(s) {seeds}, settings "
             f"{settings}, {seconds / 60:.1f} min", "",
             "| arm | metric | mean ± 95% CI | per seed |",
             "|---|---|---|---|"]
    for arm, metrics in summary.items():
        for metric, (mean, half) in metrics.items():
            if metric.startswith("params"):
                continue
            values = [per_seed[s][arm][metric] for s in seeds]
            lines.append(f"| {arm} | {metric} | {_fmt(mean, half)} | "
                         + ", ".join(f"{v:.4f}" for v in values) + " |")
    lines += ["", "| paired difference (same seed) | metric | "
              "mean ± 95% CI |", "|---|---|---|"]
    for p in pairs:
        lines.append(f"| {p['a']} − {p['b']} | {p['metric']} | "
                     f"{_fmt(p['diff'], p['ci95'])} |")
    params = {arm: per_seed[seeds[0]][arm].get("params_backbone")
              for arm in summary if "params_backbone" in summary[arm]}
    lines += ["", f"Backbone parameters: {params}"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(base_dir, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(base_dir, "results.json"), "w") as f:
        json.dump({"settings": settings, "per_seed": per_seed,
                   "summary": summary, "pairs": pairs,
                   "minutes": seconds / 60}, f, indent=2)
    return text


def main(args):
    settings = SETTINGS["quick" if args.quick else "full"]
    seeds = args.seeds or [0]
    os.makedirs(args.base_dir, exist_ok=True)
    start = time.time()

    def log(message):
        print(message, flush=True)

    per_seed = {}
    for seed in seeds:
        per_seed[seed] = run_seed(args.base_dir, seed, settings, log)
        write_report(args.base_dir, per_seed, settings, time.time() - start)
    print(write_report(args.base_dir, per_seed, settings,
                       time.time() - start))


def parser():
    result = cli.make_parser("training.movie_demo", __doc__)
    result.add_argument("--quick", action="store_true",
                        help="fewer clips and epochs (`make movie-demo`)")
    result.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seeds (default: 0)")
    result.add_argument("--base_dir", default="runs/movie_demo",
                        help="output folder")
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
