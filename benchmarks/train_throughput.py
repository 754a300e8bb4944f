"""Training throughput and input-pipeline headroom (issue #3, item 7).

For the demo ConvRNN on digit debris (32×32×1, 12 steps) and for
`rgc_shallow` at 128 px (16 steps, 1000 classes) on an ImageNet-style
JPEG pipeline, prints:

  model images/s      `fit` steps of the `TemporalClassifier` (per-step
                      loss, SGD) on a batch held in memory;
  pipeline images/s   the task's tf.data pipeline alone (digit debris:
                      normalisation of the rendered images; rgc_shallow:
                      JPEG decode + random resized crop + flip + normalise
                      of a folder of 256×320 JPEGs, as for ImageNet);
  ratio               pipeline ÷ model, which must be ≥ 3 (the pipeline is
                      never the bottleneck).

Both are measured separately on the same machine, after warm-up.

Usage:
  python benchmarks/train_throughput.py            # the issue's setting
  python benchmarks/train_throughput.py --quick    # seconds: tiny sizes
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tnn  # noqa: E402
from tnn.zoo import small_models  # noqa: E402
from tnn.tasks.classifier import TemporalClassifier  # noqa: E402
from training.data import digit_debris_dataset, image_folder_dataset  # noqa

REQUIRED_RATIO = 3.0


def log(*args):
    print(*args, flush=True)


def model_throughput(backbone, batch_size, steps, warmup=1):
    """Training images/s of a classifier around `backbone`."""
    model = TemporalClassifier(backbone, ("last",))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9,
                                                 nesterov=True))
    rng = np.random.default_rng(0)
    height, width, channels = backbone.graph_input_shape
    images = rng.normal(size=(batch_size, height, width, channels)).astype(
        np.float32)
    labels = rng.integers(0, model.num_classes, batch_size).astype(np.int32)
    for _ in range(warmup):
        model.train_on_batch(images, labels)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, labels)
    return batch_size * steps / (time.perf_counter() - start)


def pipeline_throughput(dataset, batches, warmup=2):
    """Images/s of iterating a (repeated) dataset of (images, labels)."""
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    count = 0
    for _ in range(batches):
        images, _ = next(iterator)
        count += int(images.shape[0])
    return count / (time.perf_counter() - start)


def jpeg_folder(root, per_class, classes=4, shape=(256, 320)):
    """Writes `classes × per_class` random-texture JPEGs; returns root."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = os.path.join(root, f"class_{c}")
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            small = rng.integers(0, 256, (shape[0] // 8, shape[1] // 8, 3))
            image = tf.image.resize(small.astype(np.float32), shape)
            data = tf.io.encode_jpeg(tf.cast(image, tf.uint8), quality=90)
            tf.io.write_file(os.path.join(folder, f"{i}.jpg"), data)
    return root


def run(name, backbone, dataset, batch_size, model_steps, pipeline_batches):
    keras.utils.set_random_seed(0)
    log(f"\n{name}: {backbone.count_params():,} parameters, "
        f"{backbone.times} steps, input {backbone.graph_input_shape}, "
        f"batch {batch_size}")
    model_rate = model_throughput(backbone, batch_size, model_steps)
    log(f"  model     {model_rate:10.1f} images/s (training)")
    pipe_rate = pipeline_throughput(dataset, pipeline_batches)
    log(f"  pipeline  {pipe_rate:10.1f} images/s")
    ratio = pipe_rate / model_rate
    verdict = "ok" if ratio >= REQUIRED_RATIO else "TOO LOW"
    log(f"  ratio     {ratio:10.1f}  (pipeline / model, need >= "
        f"{REQUIRED_RATIO:g}: {verdict})")
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, a few seconds")
    args = parser.parse_args()
    quick = args.quick
    log(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"{os.cpu_count()} CPUs{' (quick)' if quick else ''}")
    ratios = {}

    batch = 8 if quick else 64
    demo = small_models.small_convrnn(
        widths=(4, 8, 8) if quick else small_models.DEFAULT_WIDTHS,
        times=4 if quick else 12)
    debris = digit_debris_dataset("train", "heavy", batch_size=batch,
                                  repeat=True)
    ratios["demo"] = run("demo ConvRNN (digit debris)", demo, debris, batch,
                         model_steps=2 if quick else 10,
                         pipeline_batches=10 if quick else 100)

    size = 96 if quick else 128  # the shallow readout needs >= 65 px
    batch = 2 if quick else 32
    shallow = tnn.create_model("rgc_shallow", input_shape=(size, size, 3),
                               num_classes=1000, times=6 if quick else None)
    with tempfile.TemporaryDirectory() as root:
        jpeg_folder(root, per_class=4 if quick else 32)
        images, _ = image_folder_dataset(root, training=True,
                                         batch_size=batch, image_size=size,
                                         seed=0, repeat=True)
        ratios["rgc_shallow"] = run(
            f"rgc_shallow at {size} px (JPEG pipeline)", shallow, images,
            batch, model_steps=1 if quick else 5,
            pipeline_batches=5 if quick else 50)
    worst = min(ratios.values())
    log(f"\nmin pipeline/model ratio: {worst:.1f} "
        f"({'ok' if worst >= REQUIRED_RATIO else 'below'} the required "
        f"{REQUIRED_RATIO:g})")


if __name__ == "__main__":
    main()
