"""Export of a search trial: a gin file that rebuilds it, and its model.

`best/<rank>_trial<n>.gin` binds `train.model_fn = @searched_model` with
the trial's GraphSpec and presentation, so

    python -m training.train --gin_files=<the study's task gin> \
        --gin_files=best/1_trial7.gin --base_dir=runs/trial7

retrains the architecture (from scratch, with the task's full schedule);
`best/<rank>_trial<n>.keras` is the `TNNGraph` as trained in the trial
(`python -m training.evaluate --model_file ...`).
"""

import json
import os
import pprint
import shutil

BEST = "best"


def gin_text(sample, header=""):
    """Gin bindings of a sample dict (`Sample.to_dict()`)."""
    spec = pprint.pformat(sample["spec"], indent=1, width=78,
                          sort_dicts=False)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["train.model_fn = @searched_model",
              f"searched_model.spec = {spec}",
              f"searched_model.times = {sample['times']!r}",
              f"searched_model.image_off = {sample['image_off']!r}", ""]
    return "\n".join(lines)


def export_trial(trial, rank, base_dir, metric, study_name):
    """Writes `best/<rank>_trial<n>.gin` (+ `.keras` when the trial saved
    its model); returns their paths."""
    trial_dir = os.path.join(base_dir, "trials", str(trial.number))
    out = os.path.join(base_dir, BEST)
    os.makedirs(out, exist_ok=True)
    stem = os.path.join(out, f"{rank}_trial{trial.number}")
    result = {"rank": rank, "gin_file": None, "model_file": None}
    spec_file = os.path.join(trial_dir, "spec.json")
    if not os.path.isfile(spec_file):
        return result
    with open(spec_file) as f:
        sample = json.load(f)
    header = (f"Trial {trial.number} of study {study_name!r} (rank {rank}): "
              f"{metric} {trial.value:.4f}, {sample['num_params']:,} "
              f"parameters,\ninput {tuple(sample['input_shape'])}, choices "
              f"{json.dumps(trial.params, sort_keys=True)}.\n"
              f"Retrain: python -m training.train --gin_files=<task gin> "
              f"--gin_files={stem}.gin --base_dir=<dir>")
    with open(stem + ".gin", "w") as f:
        f.write(gin_text(sample, header))
    result["gin_file"] = stem + ".gin"
    model = os.path.join(trial_dir, "model.keras")
    if os.path.isfile(model):
        shutil.copyfile(model, stem + ".keras")
        result["model_file"] = stem + ".keras"
    return result
