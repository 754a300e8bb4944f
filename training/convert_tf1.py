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

from absl import logging

from . import cli


def parser():
    """The flags of `python -m training.convert_tf1` (`training.cli`)."""
    result = cli.make_parser("training.convert_tf1", __doc__)
    cli.add_flags(result, [
        ("ckpt", str, cli.REQUIRED, "TF1 checkpoint prefix, e.g. "
         "ckpts/rgc_shallow/model.ckpt."),
        ("model", str, cli.REQUIRED, "Registered model name, optionally "
         "with a decoder suffix (_tmaxconf, _dthresh)."),
        ("out", str, cli.REQUIRED, "Output .keras file of the model."),
        ("decoder_out", str, None, "Output .keras file of the decoder "
         "(default: <out stem>.decoder.keras)."),
        ("input_shape", str, None, "H,W,C of the images (default 224,224,3, "
         "the shape the checkpoints were trained at).")])
    return result


def _parse_shape(text):
    if text is None:
        return None
    values = text.split(",")
    try:
        shape = tuple(int(v) for v in values)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"--input_shape must be three positive ints H,W,C, "
                         f"got {text!r}.")
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

    from tnn.interop.tf1_checkpoint import from_tf1_checkpoint

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


def main(argv=None):
    """Runs the CLI on `argv` (default: sys.argv[1:]); returns the status.

    A checkpoint or argument that does not fit prints `convert_tf1:
    <message>` (the list of mismatched variables included) and returns 1.
    """
    args = parser().parse_args(argv)
    logging.set_verbosity(args.verbosity)
    try:
        written = convert(args.ckpt, args.model, args.out, args.decoder_out,
                          _parse_shape(args.input_shape))
    except ValueError as err:
        print(f"convert_tf1: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


def run(argv=None):
    """Console entry point: exits with `main`'s status."""
    sys.exit(main(argv))


if __name__ == "__main__":
    run()
