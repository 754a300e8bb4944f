r"""Convert a convrnns TF1 zoo checkpoint to a Keras `.keras` file.

    python -m training.convert_tf1 \
        --ckpt ckpts/rgc_intermediate_tmaxconf/model.ckpt \
        --model rgc_intermediate_tmaxconf --out rgc_intermediate.keras

Writes the `TNNGraph` to `--out`; a model name with a decoder suffix
(`_tmaxconf`, `_dthresh`) also writes the decoder, wrapped in a
`keras.Sequential` over the readout logits `[B, T, K]`, to `--decoder_out`
(default: `<out stem>.decoder.keras`). Reload with
`keras.saving.load_model(path)` after `import tnn`. A checkpoint that does
not fit the model is refused with the list of missing, unexpected and
wrong-shape variables (exit status 1).
"""

import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("ckpt", None, "TF1 checkpoint prefix, e.g. "
                    "ckpts/rgc_shallow/model.ckpt.")
flags.DEFINE_string("model", None, "Registered model name, optionally with "
                    "a decoder suffix (_tmaxconf, _dthresh).")
flags.DEFINE_string("out", None, "Output .keras file of the model.")
flags.DEFINE_string("decoder_out", None, "Output .keras file of the decoder "
                    "(default: <out stem>.decoder.keras).")
flags.DEFINE_list("input_shape", None, "H,W,C of the images (default "
                  "224,224,3, the shape the checkpoints were trained at).")


def _parse_shape(values):
    if values is None:
        return None
    try:
        shape = tuple(int(v) for v in values)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"--input_shape must be three positive ints H,W,C, "
                         f"got {','.join(values)!r}.")
    return shape


def convert(ckpt, model_name, out, decoder_out=None, input_shape=None):
    """Converts and saves; returns the written paths.

    Args:
        ckpt: TF1 checkpoint prefix.
        model_name: registered model name (+ optional decoder suffix).
        out: `.keras` path of the model.
        decoder_out: `.keras` path of the decoder (if any).
        input_shape: `(H, W, C)`; None keeps the registry default.
    """
    import keras

    from tnn.convert import from_tf1_checkpoint

    if not str(out).endswith(".keras"):
        raise ValueError(f"--out must end with .keras, got {out!r}.")
    kwargs = {} if input_shape is None else {"input_shape": input_shape}
    result = from_tf1_checkpoint(ckpt, model_name, **kwargs)
    model, decoder = result if isinstance(result, tuple) else (result, None)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    model.save(out)
    written = [out]
    if decoder is not None:
        decoder_out = decoder_out or out[:-len(".keras")] + ".decoder.keras"
        logits = model.output_shapes[model.spec.output]
        wrapper = keras.Sequential(
            [keras.Input((model.times,) + tuple(logits)), decoder],
            name=decoder.name)
        wrapper.save(decoder_out)
        written.append(decoder_out)
    return written


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}.")
    for name in ("ckpt", "model", "out"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required.")
    try:
        written = convert(FLAGS.ckpt, FLAGS.model, FLAGS.out,
                          FLAGS.decoder_out, _parse_shape(FLAGS.input_shape))
    except ValueError as err:
        print(f"convert_tf1: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    app.run(main)
