r"""`python -m training.train`: train a TNN model on a task with Keras `fit`.

    python -m training.train \
        --gin_files=gin_configs/tasks/digit_debris.gin \
        --gin_files=gin_configs/tasks/smoke.gin --base_dir=/tmp/tnn_run

    python -m training.train --gin_files=gin_configs/models/rgc_shallow.gin \
        --gin_files=gin_configs/tasks/imagenet.gin \
        --gin_bindings='imagenet_task.manual_dir = "/data/imagenet"' \
        --base_dir=runs/rgc_shallow

Writes into `base_dir`:

    operative_config.gin  the gin bindings in effect, written once the model
                          is built
    logs/                 TensorBoard: train/ and validation/ scalars (loss,
                          top-1/top-5 per decoder and per step), time_curves/
                          (accuracy vs time step), samples/ (input movies);
                          history.csv
    checkpoints/          last.keras (every epoch), best.keras (lowest
                          validation loss)
    backup/               BackupAndRestore state: rerunning the same command
                          after a crash or kill resumes at the last finished
                          epoch (removed when the run completes)
    export/               SavedModel (`training.export`): uint8 images ->
                          per-step logits and decoded class probabilities

With `DeviceSettings.strategy = "multi_worker"` every worker runs the same
command with its own TF_CONFIG; the chief (worker 0) writes the files
above, the others only their backups and gin config, under
`base_dir/workers/worker_<i>/` (`training.strategy` explains the Keras
3.15 workaround this needs).

The model is `train.model_fn(input_shape=..., num_classes=...)` with the
task's shape and classes; by default `build_model` (a zoo model, see
gin_configs/models) when a gin file binds `build_model.name`, else the demo
ConvRNN `small_convrnn`. Unknown gin bindings fail (`skip_unknown=False`).
Settings that travel together are gin-configurable objects
(`training.settings`): `LossSettings` (objective, step weighting),
`ScheduleSettings` (epochs, steps) and `DeviceSettings` (strategy, mixed
precision), e.g. `--gin_bindings='ScheduleSettings.epochs = 3'`.
"""

import numpy as np

from . import cli
from . import trainer
from .settings import RENAMED_BINDINGS


def main(args):
    """Trains with the parsed flags; prints the final metrics and paths."""
    cli.parse_gin(args.gin_files, args.gin_bindings, RENAMED_BINDINGS)
    result = trainer.train(args.base_dir)
    final = {k: float(np.asarray(v[-1]).reshape(-1)[0])
             for k, v in result["history"].items()
             if k in ("loss", "val_loss") or k.endswith("_top1")}
    print(f"Finished: {final}")
    print(f"SavedModel: {result['export_dir']}")
    print(f"TensorBoard: tensorboard --logdir {result['log_dir']}")


def parser():
    """The flags of `python -m training.train`."""
    result = cli.make_parser("training.train", __doc__)
    cli.add_gin_flags(result)
    cli.add_base_dir(result)
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
