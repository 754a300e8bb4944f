"""SavedModel export of a `TemporalClassifier` and its metadata.

The SavedModel has two endpoints (signatures):

- `serve` (also `serving_default`): uint8 images `[B, H, W, C]` (any
  H, W: resized bilinearly to the model's size when they differ) →
  `{"logits": [B, T, K] per-step logits, "probabilities_<decoder>": [B, K]
  softmax of each decoder's logits}`. The images are scaled to [0, 1] and
  normalised with the task's mean/std inside the signature (§5.1).
- `serve_normalized`: the same for already normalised float32 images at
  the model's size (what the tf.data pipelines yield).

`assets.extra/tnn_metadata.json` records the decoders, the presentation,
the classes, the normalisation and the operative gin config of the run
(`read_metadata`).
"""

import json
import os

import keras
import tensorflow as tf

from tnn.graphs.tnn_graph import TNNGraph
from tnn.readouts import Conv1DDecoder, LearnedWeightsDecoder, MLPDecoder
from tnn.tasks.classifier import STEPS, TemporalClassifier
from .data import preprocessing

METADATA_FILE = os.path.join("assets.extra", "tnn_metadata.json")
SERVE = "serve"
SERVE_NORMALIZED = "serve_normalized"
# Decoders with weights sized by the number of steps in their window.
STEP_SIZED_DECODERS = (LearnedWeightsDecoder, MLPDecoder, Conv1DDecoder)


def probability_key(decoder_name):
    return f"probabilities_{decoder_name}"


def with_times(classifier, times):
    """A copy of `classifier` whose backbone runs `times` steps.

    Same weights. Decoders whose weights depend on the number of steps
    (learned per-step weights, MLP, conv1d) cannot change length.
    """
    if times is None or times == classifier.backbone.times:
        return classifier
    fixed = [d.name for d in classifier.decoder_layers
             if isinstance(d, STEP_SIZED_DECODERS)]
    if fixed:
        raise ValueError(
            f"Cannot change the number of steps to {times}: decoders "
            f"{fixed} have weights sized by the trained number of steps; "
            f"export at the trained length (train.export_times = None).")
    config = classifier.backbone.get_config()
    config["times"] = times
    backbone = TNNGraph.from_config(config)
    backbone.set_weights(classifier.backbone.get_weights())
    decoders = []
    for decoder in classifier.decoder_layers:
        copy = type(decoder).from_config(decoder.get_config())
        copy.build((None, times, classifier.num_classes))
        copy.set_weights(decoder.get_weights())
        decoders.append(copy)
    return TemporalClassifier(backbone, decoders,
                              decoder_start=classifier.decoder_start,
                              decoder_end=classifier.decoder_end,
                              name=classifier.name)


def _outputs(classifier, images):
    outputs = classifier(images, training=False)
    result = {"logits": outputs[STEPS]}
    for name in classifier.decoder_names:
        result[probability_key(name)] = tf.nn.softmax(outputs[name], axis=-1)
    return result


def export_saved_model(classifier, export_dir, mean, std, metadata=None):
    """Writes the SavedModel (see module docs) and its metadata.

    Args:
        classifier: a trained `TemporalClassifier`.
        export_dir: output folder (replaced if it exists).
        mean, std: the task's per-channel normalisation.
        metadata: extra JSON-serialisable entries for the metadata file.

    Returns:
        The export folder.
    """
    export_dir = os.fspath(export_dir)
    height, width, channels = classifier.backbone.graph_input_shape

    def serve(images):
        images = preprocessing.to_unit_range(images)
        if images.shape[1] != height or images.shape[2] != width:
            images = tf.image.resize(images, (height, width))
        return _outputs(classifier,
                        preprocessing.normalize(images, mean, std))

    def serve_normalized(images):
        return _outputs(classifier, images)

    archive = keras.export.ExportArchive()
    archive.track(classifier)
    archive.add_endpoint(SERVE, serve, input_signature=[tf.TensorSpec(
        (None, None, None, channels), tf.uint8, name="images")])
    archive.add_endpoint(SERVE_NORMALIZED, serve_normalized,
                         input_signature=[tf.TensorSpec(
                             (None, height, width, channels), tf.float32,
                             name="images")])
    archive.write_out(export_dir, verbose=False)
    info = {
        "decoders": classifier.decoder_names,
        "decoder_start": classifier.decoder_start,
        "decoder_end": classifier.decoder_end,
        "times": classifier.backbone.times,
        "image_off": classifier.backbone.image_off,
        "blank_value": classifier.backbone.blank_value,
        "first_image_step": classifier.backbone.first_image_step(
            classifier.backbone.output_node),
        "input_shape": [height, width, channels],
        "num_classes": classifier.num_classes,
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
        "signatures": {
            SERVE: "uint8 images [B, H, W, C] -> logits [B, T, K], "
                   "probabilities_<decoder> [B, K]",
            SERVE_NORMALIZED: "normalised float32 images -> same outputs"},
        **(metadata or {}),
    }
    path = os.path.join(export_dir, METADATA_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(info, f, indent=2)
    return export_dir


def read_metadata(export_dir):
    """The metadata dict written next to a SavedModel by this module."""
    path = os.path.join(os.fspath(export_dir), METADATA_FILE)
    if not os.path.isfile(path):
        raise ValueError(
            f"{export_dir!r} is not a SavedModel exported by "
            f"training.train (no {METADATA_FILE}); pass the export folder "
            f"of a run (<base_dir>/export).")
    with open(path) as f:
        return json.load(f)
