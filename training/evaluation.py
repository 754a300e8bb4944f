"""Top-1/top-5 per decoder and per time step of an exported model.

The library behind `python -m training.evaluate` (whose docs give the
report's format and the top-k rule: ties count as misses); `training.demo`
calls it too.
"""

import json
import os

import numpy as np
import tensorflow as tf

from tnn.readouts.step_accuracy import top_k_matches
from . import export as export_lib
from . import tasks

TOP_K = (1, 5)


def top_k_hits(scores, labels, k):
    """1.0 where at most k classes (the label's included) score >= it.

    The rule of `tnn.readouts.top_k_matches` (ties count as misses), on
    numpy scores of any leading shape `[..., K]`.
    """
    scores = np.asarray(scores, np.float32)
    labels = np.asarray(labels).reshape(-1)
    flat = scores.reshape(labels.shape[0], -1, scores.shape[-1])
    steps = flat.shape[1]
    hits = top_k_matches(np.repeat(labels, steps),
                         flat.reshape(-1, scores.shape[-1]), k)
    return np.asarray(hits, np.float64).reshape(scores.shape[:-1])


def accuracy_report(logits, probabilities, labels, ks=TOP_K):
    """Top-k per step and per decoder from collected outputs (numpy).

    Args:
        logits: per-step logits `[N, T, K]`.
        probabilities: `{decoder: [N, K]}`.
        labels: int labels `[N]`.
        ks: the k values (those above K are skipped).
    """
    num_classes = logits.shape[-1]
    ks = [k for k in ks if k <= num_classes]
    steps = {f"top{k}": top_k_hits(logits, labels, k).mean(axis=0).tolist()
             for k in ks}
    decoders = {
        name: {f"top{k}": float(top_k_hits(p, labels, k).mean())
               for k in ks}
        for name, p in probabilities.items()}
    return {"num_examples": int(len(labels)), "steps": steps,
            "decoders": decoders}


def load_saved_model(saved_model):
    """`(loaded SavedModel, its tnn metadata)`; fails if there is none."""
    saved_model = os.fspath(saved_model)
    if not os.path.isfile(os.path.join(saved_model, "saved_model.pb")):
        raise ValueError(f"No SavedModel at {saved_model!r}; pass the export "
                         f"folder of a run (<base_dir>/export).")
    metadata = export_lib.read_metadata(saved_model)
    loaded = tf.saved_model.load(saved_model)
    return loaded, metadata


def evaluate_saved_model(saved_model, dataset, max_batches=None):
    """Runs a SavedModel over `(normalised images, labels)` batches.

    Returns:
        The report dict (see module docs).
    """
    loaded, metadata = load_saved_model(saved_model)
    tasks.check_dataset(dataset, metadata["input_shape"], "eval")
    serve = loaded.signatures[export_lib.SERVE_NORMALIZED]
    logits, labels = [], []
    probabilities = {name: [] for name in metadata["decoders"]}
    for i, (images, batch_labels) in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        outputs = serve(images=tf.cast(images, tf.float32))
        logits.append(outputs["logits"].numpy())
        for name in probabilities:
            probabilities[name].append(
                outputs[export_lib.probability_key(name)].numpy())
        labels.append(batch_labels.numpy())
    if not labels:
        raise ValueError("The evaluation dataset is empty.")
    report = accuracy_report(
        np.concatenate(logits),
        {n: np.concatenate(p) for n, p in probabilities.items()},
        np.concatenate(labels))
    report.update(saved_model=os.fspath(saved_model),
                  times=metadata["times"],
                  first_image_step=metadata["first_image_step"],
                  image_off=metadata["image_off"],
                  task=metadata.get("task"))
    return report


def evaluate_model(model, dataset, decoder=None, max_batches=None):
    """Runs a `TNNGraph` (and its decoder model) over a dataset.

    The `training.evaluate --model_file` path: a converted zoo model or any
    TNNGraph saved with `model.save`, on `(normalised images, int labels)`
    batches (labels index the readout's units).

    Args:
        model: the TNNGraph (its own presentation is used).
        dataset: `tf.data.Dataset` of `(images [B, H, W, C], labels [B])`.
        decoder: optional decoder model, logits `[B, T, K]` -> `[B, K]`
            (`<model>.decoder.keras` of `training.convert_tf1`).
        max_batches: stop after this many batches.

    Returns:
        The report (module docs): per-step top-k of the readout logits and
        per decoder: "last" (the last step's logits, the zoo's
        `decoder_type='last'`) and the decoder model's name.
    """
    tasks.check_dataset(dataset, model.graph_input_shape, "eval")
    num_classes = model.output_shapes[model.spec.output][-1]
    logits, decoded, labels = [], [], []
    for i, (images, batch_labels) in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        batch_labels = np.asarray(batch_labels)
        if batch_labels.size and not (
                0 <= batch_labels.min() <= batch_labels.max() < num_classes):
            raise ValueError(
                f"Labels {batch_labels.min()}..{batch_labels.max()} do not "
                f"index the model's {num_classes} outputs; evaluate on "
                f"data with the classes the model was trained on.")
        out = np.asarray(model.predict_on_batch(images), np.float32)
        logits.append(out)
        if decoder is not None:
            decoded.append(np.asarray(decoder.predict_on_batch(out)))
        labels.append(batch_labels)
    if not labels:
        raise ValueError("The evaluation dataset is empty.")
    logits = np.concatenate(logits)
    probabilities = {"last": logits[:, -1]}
    if decoder is not None:
        probabilities[decoder.name] = np.concatenate(decoded)
    report = accuracy_report(logits, probabilities, np.concatenate(labels))
    report.update(model=model.name, times=model.times,
                  first_image_step=model.first_image_step(model.spec.output),
                  image_off=model.image_off)
    return report


def format_report(report):
    """A plain-text table of a report."""
    ks = sorted(report["steps"])
    lines = [f"{report.get('task') or 'task'}: {report['num_examples']} "
             f"examples, {report['times']} steps (readout image-driven from "
             f"step {report['first_image_step']})",
             "decoder      " + "  ".join(f"{k:>6}" for k in ks)]
    for name, scores in report["decoders"].items():
        lines.append(f"{name:<12} " + "  ".join(
            f"{scores[k]:6.3f}" for k in ks))
    lines.append("step         " + "  ".join(f"{k:>6}" for k in ks))
    for t in range(report["times"]):
        lines.append(f"t={t:<10} " + "  ".join(
            f"{report['steps'][k][t]:6.3f}" for k in ks))
    return "\n".join(lines)


def write_report(report, path):
    """Writes a report as JSON; returns the path."""
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    return path
