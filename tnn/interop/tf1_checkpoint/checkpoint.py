"""Load a convrnns TF1 checkpoint into a Keras `TNNGraph` (reference §8).

    from tnn.interop.tf1_checkpoint import from_tf1_checkpoint
    model = from_tf1_checkpoint("ckpts/rgc_shallow/model.ckpt", "rgc_shallow")
    model, decoder = from_tf1_checkpoint(
        "ckpts/rgc_intermediate_tmaxconf/model.ckpt",
        "rgc_intermediate_tmaxconf")

The checkpoint is read with `tf.train.load_checkpoint` (TF2 reads TF1
name-based checkpoints; no TF1 needed). TensorFlow is imported only when a
checkpoint path is read, so `tnn.interop.tf1_checkpoint` itself stays
backend-neutral; a `{TF1 name: array}` mapping can be given instead of a
path.

Matching is strict, as the zoo loader: every Keras weight needs its TF1
variable with the same shape; every checkpoint variable must be used, except
optimizer slots (`*/Momentum`), `global_step` and the decay-0
`memory_decay` of pass-through memories. Otherwise
`CheckpointMismatchError` lists all missing, unexpected and wrong-shape
variables at once. One exception on the missing side: `probs/softmax_beta`
and `alpha/softmax_beta` (β1, β2 of the original's `compute_alpha`, a
diagnostic no decoder output depends on) may be absent; they then keep the
documented default (the decoder's `alpha_betas`, else 1.0, the original's
`tf.constant_initializer(1)`) and a warning names them. Layouts are
identical (`[kh, kw, in, out]` kernels, `[in, out]` dense, `[H, W, C]`
peepholes), so values are copied unchanged.
"""

import os
import warnings

import numpy as np

from tnn.interop.tf1_checkpoint import decoder_names
from tnn.interop.tf1_checkpoint import names as names_lib
from tnn.zoo import released

IGNORED_SUFFIXES = ("/Momentum",)
IGNORED_NAMES = ("global_step",)
# Decoder variables no output needs (compute_alpha's β1, β2; reference §6).
OPTIONAL_DECODER_NAMES = ("probs/softmax_beta", "alpha/softmax_beta")


class CheckpointMismatchError(ValueError):
    """A checkpoint that does not fit the model (the message lists why)."""


def _read(source):
    """(shapes {name: tuple}, getter name → array) of a checkpoint."""
    if isinstance(source, dict):
        arrays = {k: np.asarray(v) for k, v in source.items()}
        return {k: tuple(v.shape) for k, v in arrays.items()}, arrays.get
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"Pass a TF1 checkpoint prefix (e.g. "
                         f"'ckpts/rgc_shallow/model.ckpt') or a {{name: "
                         f"array}} dict, got {type(source).__name__}.")
    import tensorflow as tf  # lazy: only to read TF1 checkpoint files

    prefix = os.fspath(source)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.NotFoundError, tf.errors.DataLossError,
            ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err) else ""
        raise ValueError(
            f"Cannot read a TF1 checkpoint at {prefix!r} ({first}); give the "
            f"prefix shared by the .index and .data files, e.g. "
            f"'ckpts/rgc_shallow/model.ckpt'.") from None
    shapes = {k: tuple(v) for k, v in
              reader.get_variable_to_shape_map().items()}
    return shapes, reader.get_tensor


def _ignored(name):
    return name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def _strip_scope(shapes):
    prefix = names_lib.SCOPE + "/"
    stripped = {}
    for name, shape in shapes.items():
        if _ignored(name):
            continue
        stripped[name[len(prefix):] if name.startswith(prefix)
                 else "/" + name] = shape
    return stripped


def _full(name):
    return name[1:] if name.startswith("/") else f"{names_lib.SCOPE}/{name}"


def _report(missing, unexpected, wrong, nonzero, model_label):
    lines = [f"The checkpoint does not match {model_label}: "
             f"{len(missing)} missing, {len(unexpected)} unexpected, "
             f"{len(wrong)} wrong-shape variable(s)"
             + (f", {len(nonzero)} non-zero pass-through memory decay(s)"
                if nonzero else "") + "."]
    if missing:
        lines.append("Missing (needed by the Keras model):")
        lines += [f"  {_full(n)} {list(s)}" for n, s in missing]
    if unexpected:
        lines.append("Unexpected (in the checkpoint, not in the model):")
        lines += [f"  {_full(n)} {list(s)}" for n, s in unexpected]
    if wrong:
        lines.append("Wrong shape (checkpoint vs model):")
        lines += [f"  {_full(n)} {list(c)} vs {list(m)}"
                  for n, c, m in wrong]
    if nonzero:
        lines.append("Non-zero memory_decay where the model has no memory "
                     "(it would change the outputs):")
        lines += [f"  {_full(n)} = {v}" for n, v in nonzero]
    hints = []
    if wrong:
        hints.append("spatially sized weights (peepholes; kernels clipped "
                     "to small maps) depend on input_shape: the zoo "
                     "checkpoints were trained at (224, 224, 3)")
    if any(n.split("/")[0] in decoder_names.DECODER_SCOPES
           for n, _ in unexpected):
        hints.append("decoder variables are present: use the model name "
                     "with its decoder suffix (" + ", ".join(
                         f"_{s}" for s in released.SUFFIXES) + ")")
    if hints:
        lines.append("Hint: " + "; ".join(hints) + ".")
    return "\n".join(lines)


def load_tf1_weights(model, source, decoder=None, component_conv_nodes=None):
    """Copies a TF1 checkpoint's values into `model` (and `decoder`).

    Args:
        model: a built `TNNGraph` with the checkpoint's architecture.
        source: checkpoint prefix, or a `{TF1 name: array}` mapping.
        decoder: temporal decoder whose variables the checkpoint holds.
        component_conv_nodes: see
            `tnn.interop.tf1_checkpoint.names.variable_map`.

    Raises:
        CheckpointMismatchError: missing / unexpected / wrong-shape
            variables (all listed), or a non-zero pass-through decay.

    Warns:
        UserWarning: `probs/softmax_beta` / `alpha/softmax_beta` are absent
            (they keep their default, see the module docstring).
    """
    vmap = names_lib.variable_map(model, decoder, component_conv_nodes)
    shapes, get = _read(source)
    available = _strip_scope(shapes)
    expected = vmap.expected_shapes()
    missing = [(n, s) for n, s in expected.items() if n not in available]
    defaulted = [n for n, _ in missing if n in OPTIONAL_DECODER_NAMES]
    missing = [(n, s) for n, s in missing if n not in defaulted]
    wrong = [(n, available[n], s) for n, s in expected.items()
             if n in available and tuple(available[n]) != tuple(s)]
    zero = set(vmap.zero_memory)
    unexpected = [(n, s) for n, s in sorted(available.items())
                  if n not in expected and n not in zero]
    nonzero = []
    for name in vmap.zero_memory:
        if name in available:
            value = np.asarray(get(_full(name)))
            if value.shape not in ((1,), ()) or np.any(value != 0):
                nonzero.append((name, value.tolist()))
    if missing or wrong or unexpected or nonzero:
        label = f"model {model.name!r}" + (
            f" with decoder {type(decoder).__name__}" if decoder else "")
        raise CheckpointMismatchError(
            _report(missing, unexpected, wrong, nonzero, label))
    if defaulted:
        _default_alpha_betas(vmap, decoder, defaulted)
    for target in vmap.targets:
        if target.names[0] in defaulted:
            continue
        parts = [np.asarray(get(_full(n))) for n in target.names]
        value = parts[0] if len(parts) == 1 else np.concatenate(
            parts, axis=target.axis)
        target.variable.assign(value.astype(target.variable.dtype))


def _default_alpha_betas(vmap, decoder, names):
    """Sets the absent compute_alpha β's to their default, with a warning."""
    value = 1.0 if decoder.alpha_betas is None else decoder.alpha_betas
    for target in vmap.targets:
        if target.names[0] in names:
            target.variable.assign(
                np.full(target.variable.shape, value,
                        target.variable.dtype))
    warnings.warn(
        f"The checkpoint has no {', '.join(_full(n) for n in names)}: "
        f"{type(decoder).__name__} keeps the default {value} (the "
        f"original's constant initial value). They are compute_alpha's "
        f"diagnostic β's, which the original never reads at inference, "
        f"so the decoder's output does not depend on them.", stacklevel=3)


def from_tf1_checkpoint(ckpt_prefix, model_name, **create_kwargs):
    """The registered Keras model `model_name` with a zoo checkpoint's
    weights.

    Args:
        ckpt_prefix: TF1 checkpoint prefix (e.g.
            `ckpts/rgc_intermediate/model.ckpt`), or a `{name: array}` dict.
        model_name: a registered model (`tnn.list_models()`), optionally with
            a zoo decoder suffix (`tnn.zoo.released`): `_tmaxconf`
            (max-confidence decoder with a trainable β) or `_dthresh`
            (threshold decoder), e.g. `rgc_intermediate_t22_tmaxconf`.
        **create_kwargs: `tnn.create_model` arguments (`input_shape`,
            `presentation`, `times`, ...). Keep the default 224×224×3 input
            for `lstm_shallow` (its conv4 peepholes are 14×14) and
            `rgc_intermediate*` (7×7 kernels are clipped on small maps).

    Returns:
        The `TNNGraph`; with a decoder suffix, `(model, decoder)` where the
        decoder reads the readout logits `[B, T, K]` over the zoo window
        `[num_layers, T)`.

    Raises:
        ValueError: unknown model name.
        CheckpointMismatchError: the checkpoint does not fit the model.
    """
    from tnn.zoo import registry

    base, suffix = released.split_model_name(model_name)
    if base not in registry.list_models():
        suffixes = ", ".join(f"_{s}" for s in released.SUFFIXES)
        raise ValueError(
            f"Unknown model {model_name!r}; use a registered model "
            f"({', '.join(registry.list_models())}), optionally with a "
            f"decoder suffix ({suffixes}).")
    model = registry.create_model(base, **create_kwargs)
    decoder = (released.make_decoder(suffix, model)
               if suffix is not None else None)
    load_tf1_weights(model, ckpt_prefix, decoder)
    return model if decoder is None else (model, decoder)
