r"""`python -m training.evaluate`: top-1/top-5 per decoder and per time step.

    python -m training.evaluate --base_dir=/tmp/tnn_run
    python -m training.evaluate --saved_model=/tmp/tnn_run/export \
        --output=/tmp/report.json
    python -m training.evaluate --base_dir=/tmp/tnn_run/export  # same

Evaluates a SavedModel exported by `training.train` (`<base_dir>/export`
by default) on its task's evaluation set. The task is rebuilt from the
run's operative gin config (`<base_dir>/operative_config.gin`, else the
copy stored with the SavedModel), then `--gin_files` / `--gin_bindings`
are applied on top (e.g. `--gin_bindings='digit_debris_task.level =
"light"'`). Prints a table and writes a JSON report (default
`<base_dir>/eval_report.json`, or next to the SavedModel):

    {"num_examples": 1000, "times": 12, "first_image_step": 3,
     "decoders": {"last": {"top1": 0.61, "top5": 0.93}, ...},
     "steps": {"top1": [0.1, ..., 0.61], "top5": [...]}, ...}

A saved model instead of a training run (`--model_file`): a converted zoo
checkpoint (`python -m training.convert_tf1`) or any TNNGraph saved with
`model.save("x.keras")`, optionally with its decoder (`--decoder_file`,
default `x.decoder.keras` when it exists), on ImageNet validation images
(tfds `imagenet2012`; `--imagenet_dir` holds ILSVRC2012_img_val.tar until
tfds has prepared it in `--tfds_data_dir`) or a folder of class
subfolders (`--image_folder`), to check the published top-1:

    python -m training.evaluate --model_file rgc_intermediate.keras \
        --imagenet_dir /data/imagenet --output rgc_intermediate_eval.json

Evaluation preprocessing (reference §5.1 and the usual ImageNet
evaluation crop): decode as RGB, scale to [0, 1], resize (bilinear,
antialiased) so that the shorter side is `image size / --crop_fraction`
(224 / 0.875 = 256) and cut the central 224×224 window (the model's input
size), then `(x − [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]`. The
model keeps the presentation it was saved with; a converted model has its
training presentation, the one of the published numbers (image on for
12 steps, then the 0.5 blank; T = 16 shallow, 17 intermediate; `_t22` /
`_t30`: always on). Labels are the tfds ones (the 1000 synsets in sorted
order, as the zoo's readout); an image folder's subfolders are the
readout's classes in sorted order, or ImageNet synset ids (n01440764, …)
mapped to their ImageNet index. The report has top-1/top-5 per step and
per decoder: "last" (the last step's logits, the zoo's
`decoder_type='last'`, the published number of the plain models) and
the decoder model's.

Accuracies are computed in numpy from the SavedModel's outputs: a top-k hit
when at most k classes, the true one included, score at least as high as
the true class (ties count as misses; Keras' `in_top_k`-based metrics in
the training logs count them as hits, which shows as accuracy 1.0 at steps
where all logits are still equal).
"""

import os

import gin
import tensorflow as tf
import tensorflow_datasets as tfds

from . import cli
from . import export as export_lib
from . import model_file
from . import tasks
from . import trainer  # noqa: F401  (the configurables gin names)
from .data import image_folder_dataset, imagenet
from .data.preprocessing import DEFAULT_CROP_FRACTION
from .evaluation import evaluate_model, evaluate_saved_model, \
    format_report, load_saved_model, write_report
from .settings import RENAMED_BINDINGS


def _renamed(config_text):
    """A stored operative config with pre-`training.settings` names
    (`train.epochs = 4`, ...) rewritten to the new ones."""
    lines = []
    for line in config_text.splitlines():
        name = line.split("=")[0].strip()
        if name in RENAMED_BINDINGS:
            line = line.replace(name, RENAMED_BINDINGS[name], 1)
        lines.append(line)
    return "\n".join(lines)


def load_run_config(base_dir, saved_model, gin_files=(), gin_bindings=()):
    """Parses the run's operative config, then the user's gin on top."""
    gin.clear_config()
    path = os.path.join(base_dir, cli.OPERATIVE_CONFIG) if base_dir \
        else None
    if path and os.path.isfile(path):
        with open(path) as f:
            stored = f.read()
    else:
        stored = export_lib.read_metadata(saved_model).get(
            "operative_config", "")
    # The stored config was valid for training; it may name the user's own
    # configurables, which need not be importable here.
    gin.parse_config(_renamed(stored), skip_unknown=True)
    cli.parse_gin(gin_files, gin_bindings, RENAMED_BINDINGS)


def _folder_labels(class_names, num_classes, folder):
    """Readout index per class subfolder (sorted order or ImageNet ids)."""
    synsets = tfds.core.tfds_path(
        "datasets/imagenet2012/labels.txt").read_text().split()
    if num_classes == len(synsets) and set(class_names) <= set(synsets):
        index = {name: i for i, name in enumerate(synsets)}
        return [index[name] for name in class_names]
    if len(class_names) != num_classes:
        raise ValueError(
            f"--image_folder {folder!r} has {len(class_names)} class "
            f"subfolders but the model has {num_classes} outputs; use one "
            f"subfolder per output (sorted names = output order), or "
            f"ImageNet synset ids (n01440764, ...) for a 1000-class model.")
    return list(range(num_classes))


def model_file_dataset(model, imagenet_dir=None, tfds_data_dir=None,
                       image_folder=None, split="validation", batch_size=32,
                       crop_fraction=DEFAULT_CROP_FRACTION):
    """`(name, dataset)` of evaluation batches for `--model_file`."""
    if (imagenet_dir or tfds_data_dir) and image_folder:
        raise ValueError("Pass --imagenet_dir / --tfds_data_dir (ImageNet) "
                         "or --image_folder, not both.")
    height, width, channels = model.graph_input_shape
    if height != width:
        raise ValueError(f"--model_file: the model's input {height}x{width} "
                         f"is not square; evaluate it from Python.")
    if image_folder:
        dataset, names = image_folder_dataset(
            image_folder, training=False, batch_size=batch_size,
            image_size=height, crop_fraction=crop_fraction,
            channels=channels)
        num_classes = model.output_shapes[model.spec.output][-1]
        table = tf.constant(_folder_labels(names, num_classes,
                                           image_folder), tf.int32)
        return "image_folder", dataset.map(
            lambda x, y: (x, tf.gather(table, y)))
    if channels != 3:
        raise ValueError(f"ImageNet images are RGB; the model takes "
                         f"{channels} channel(s).")
    return f"imagenet2012 {split}", imagenet.imagenet_dataset(
        split, manual_dir=imagenet_dir, data_dir=tfds_data_dir,
        training=False, batch_size=batch_size, image_size=height,
        crop_fraction=crop_fraction)


def evaluate_model_file(args):
    """`--model_file`: a saved TNNGraph on ImageNet or an image folder."""
    if args.base_dir or args.saved_model:
        raise ValueError("Pass --model_file or --base_dir / --saved_model, "
                         "not both.")
    if not (args.imagenet_dir or args.tfds_data_dir or args.image_folder):
        raise ValueError("--model_file needs the images: --imagenet_dir "
                         "(ImageNet validation via tfds) or --image_folder "
                         "(class subfolders).")
    if args.gin_files or args.gin_bindings:
        raise ValueError("--gin_files / --gin_bindings do not apply to "
                         "--model_file (the model file holds its settings).")
    model = model_file.load_model_file(args.model_file)
    decoder_path = args.decoder_file or model_file.decoder_file(
        args.model_file)
    decoder = (model_file.load_decoder_file(decoder_path, model)
               if decoder_path else None)
    task, dataset = model_file_dataset(
        model, args.imagenet_dir, args.tfds_data_dir, args.image_folder,
        args.split, args.batch_size, args.crop_fraction)
    report = evaluate_model(model, dataset, decoder, args.max_batches)
    report.update(task=task, model_file=os.fspath(args.model_file),
                  decoder_file=decoder_path,
                  crop_fraction=args.crop_fraction)
    stem = os.path.splitext(os.path.abspath(args.model_file))[0]
    output = args.output or stem + ".eval_report.json"
    write_report(report, output)
    print(format_report(report))
    print(f"Report: {output}")


def main(args):
    """Evaluates the run or SavedModel the flags name; writes the report."""
    if args.model_file:
        return evaluate_model_file(args)
    base_dir = args.base_dir
    saved_model = args.saved_model
    if base_dir and not saved_model and os.path.isfile(
            os.path.join(base_dir, "saved_model.pb")):
        saved_model, base_dir = base_dir, None  # a SavedModel was given
    elif base_dir and not saved_model:
        saved_model = os.path.join(base_dir, "export")
    if not saved_model:
        raise ValueError("Pass --base_dir (a training run) or "
                         "--saved_model.")
    load_saved_model(saved_model)
    load_run_config(base_dir, saved_model, args.gin_files,
                    args.gin_bindings)
    task = tasks.make_task()
    report = evaluate_saved_model(saved_model, task.eval_dataset(),
                                  args.max_batches)
    output = args.output or os.path.join(
        base_dir or os.path.dirname(os.path.abspath(saved_model)),
        "eval_report.json")
    write_report(report, output)
    print(format_report(report))
    print(f"Report: {output}")


def parser():
    """The flags of `python -m training.evaluate`."""
    result = cli.make_parser("training.evaluate", __doc__)
    cli.add_gin_flags(result)
    cli.add_base_dir(result, required=False, help="A training run "
                     "(its export/ is evaluated) or a SavedModel folder.")
    cli.add_flags(result, [
        ("saved_model", str, None, "SavedModel folder (default "
         "<base_dir>/export)."),
        ("output", str, None, "Path of the JSON report."),
        ("max_batches", int, None, "Evaluate at most this many batches "
         "(default: the whole evaluation set)."),
        ("model_file", str, None, "A saved TNNGraph (.keras, e.g. from "
         "training.convert_tf1) to evaluate instead of a run."),
        ("decoder_file", str, None, "Its decoder model (default "
         "<model stem>.decoder.keras if present)."),
        ("imagenet_dir", str, None, "--model_file on ImageNet: the folder "
         "of ILSVRC2012_img_val.tar (tfds manual_dir)."),
        ("tfds_data_dir", str, None, "--model_file on ImageNet: the tfds "
         "data folder (default ~/tensorflow_datasets)."),
        ("split", str, "validation", "--model_file on ImageNet: the tfds "
         "split (e.g. 'validation[:10%%]')."),
        ("image_folder", str, None, "--model_file on a folder of class "
         "subfolders."),
        ("batch_size", int, 32, "--model_file: images per batch."),
        ("crop_fraction", float, DEFAULT_CROP_FRACTION, "--model_file: "
         "central crop fraction (0.875: shorter side 256 -> 224).")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
