"""A symbolic loop over time steps, per Keras backend.

`keras.ops.scan` requires the per-step outputs to have the carry's structure
and `keras.ops.fori_loop` has no per-step outputs, so collecting node outputs
over time would mean carrying (and, for gradients, storing) a growing buffer.
This module is the one place that talks to the backend's native loop:
TensorFlow `tf.while_loop` + `TensorArray`, JAX `lax.scan`, and a Python
loop elsewhere (e.g. torch, where a symbolic loop brings nothing).

The graph size (and so trace/compile time) is independent of the number of
steps on TensorFlow and JAX.
"""

import functools

import keras
from keras import ops
from keras import tree


# "auto" unrolls at most this many steps in Python on CPU TensorFlow.
MAX_PYTHON_STEPS = 32


def resolve_mode(mode, times=None, remat=False):
    """Resolves a `time_loop` setting ("auto", "symbolic", "python").

    "auto" unrolls in Python for TensorFlow on CPU-only machines when
    `times <= MAX_PYTHON_STEPS` — TensorFlow runs unrolled graphs measurably
    faster than `tf.while_loop` on CPU (benchmarks/RESULTS.md), and XLA is
    off there by default — and uses the symbolic loop everywhere else: on
    GPU/TPU (compile time matters and XLA handles loops well), for long
    unrolls (trace time and graph size grow with T when unrolled), with
    `remat` (inside a loop body grappler cannot merge the recomputation
    back into the forward pass, and the recomputed steps run one by one, so
    memory really drops), and on the JAX and torch backends.
    """
    if mode not in ("auto", "symbolic", "python"):
        raise ValueError(f"time_loop must be 'auto', 'symbolic' or 'python', "
                         f"got {mode!r}.")
    if mode != "auto":
        return mode
    if (keras.backend.backend() != "tensorflow" or _has_accelerator()
            or remat):
        return "symbolic"
    if times is not None and times > MAX_PYTHON_STEPS:
        return "symbolic"
    return "python"


@functools.lru_cache(maxsize=None)
def _has_accelerator():
    import tensorflow as tf

    return any(d.device_type in ("GPU", "TPU")
               for d in tf.config.list_logical_devices())


def loop(body, carry, start, stop, ys_specs, remat=False, constants=(),
         symbolic=True):
    """Runs `carry, ys = body(t, carry, *constants)` for t in [start, stop).

    Args:
        body: `(t, carry, *constants) -> (new_carry, ys)`; `t` is a scalar
            int tensor; `ys` is a tuple of tensors collected at every step.
            The body must reach outside tensors only through `constants`
            (gradient checkpointing needs them as explicit inputs).
        ys_specs: `(shape, dtype)` of each element of `ys` (shape may hold
            None, e.g. for the batch axis).
        carry: nested structure of tensors (shapes fixed across steps).
        start, stop: Python ints.
        remat: recompute each step's activations in the backward pass
            instead of storing them (gradient checkpointing over time).
        constants: tensors used by every step (e.g. the images).
        symbolic: False unrolls the steps in Python instead (a graph that
            grows with the number of steps, but that runs faster on CPU;
            see `TNNGraph`'s `time_loop` argument).

    Returns:
        `(final_carry, stacked_ys)` with each of `stacked_ys` shaped
        `[stop - start, ...]`; `final_carry` is None for a rematerialized
        TensorFlow loop (its gradient is defined through `stacked_ys` only).
    """
    if stop <= start:
        raise ValueError(f"Empty time loop [{start}, {stop}).")
    constants = tuple(constants)
    backend = keras.backend.backend()
    if not symbolic:
        backend = "python"
    if backend == "tensorflow" and remat:
        return _tf_remat_loop(body, carry, start, stop, ys_specs, constants)
    if remat:
        step = _rematted(body, constants)
    else:
        def step(t, c):
            return body(t, c, *constants)
    if backend == "tensorflow":
        return _tf_loop(step, carry, start, stop, ys_specs)
    if backend == "jax":
        return _jax_loop(step, carry, start, stop)
    return _python_loop(step, carry, start, stop)


def remat_call(fn, *args):
    """`fn(*args)` whose activations are recomputed for the gradient.

    `fn` must reach outside tensors only through `args`. On TensorFlow the
    recomputation waits for the incoming gradients (a control dependency),
    so in a graph the steps of an unrolled loop are recomputed one at a time
    in reverse order and memory really drops; `tf.recompute_grad` has no
    such dependency, and graph executors then recompute every step at once.
    Elsewhere this is `keras.remat`.
    """
    if keras.backend.backend() != "tensorflow":
        return keras.remat(fn)(*args)
    import tensorflow as tf

    @tf.custom_gradient
    def wrapped(*xs):
        ys = fn(*xs)

        def grad(*dys, variables=None):
            variables = list(variables or [])
            deps = [d for d in dys if d is not None]
            with tf.control_dependencies(deps):
                xs2 = [tf.identity(x) for x in xs]
            with tf.GradientTape() as tape:
                tape.watch(xs2)
                ys2 = list(fn(*xs2))
            dys = [tf.zeros_like(y) if d is None else d
                   for d, y in zip(dys, ys2)]
            grads = tape.gradient(
                ys2, xs2 + variables, output_gradients=dys,
                unconnected_gradients=tf.UnconnectedGradients.ZERO)
            return grads[:len(xs)], grads[len(xs):]

        return ys, grad

    return wrapped(*args)


def _rematted(body, constants):
    """Wraps `body(t, carry, *constants)` for rematerialization.

    The step index stays a Python value where it is one (static steps); a
    tensor index (JAX, torch loops) travels as a float input.
    """
    n_const = len(constants)

    def step(t, carry):
        flat = tree.flatten(carry)
        n_carry = len(flat)
        structure = {}
        static = isinstance(t, int)

        def flat_body(*args):
            t_arg = t if static else ops.cast(args[0], "int32")
            args = args if static else args[1:]
            new_carry, ys = body(
                t_arg, tree.pack_sequence_as(carry, args[n_const:]),
                *args[:n_const])
            structure["carry"] = new_carry
            structure["ys"] = ys
            return tuple(tree.flatten(new_carry)) + tuple(tree.flatten(ys))

        lead = () if static else (ops.cast(t, "float32"),)
        out = list(remat_call(flat_body, *lead, *constants, *flat))
        new_carry = tree.pack_sequence_as(structure["carry"], out[:n_carry])
        ys = tree.pack_sequence_as(structure["ys"], out[n_carry:])
        return new_carry, ys

    return step


def _tf_loop(body, carry, start, stop, ys_specs):
    import tensorflow as tf

    n = stop - start
    tas = [tf.TensorArray(dtype, size=n, element_shape=tf.TensorShape(shape))
           for shape, dtype in ys_specs]

    def cond(t, c, arrays):
        return t < stop

    def step(t, c, arrays):
        new_c, ys = body(t, c)
        arrays = [a.write(t - start, y)
                  for a, y in zip(arrays, tree.flatten(ys))]
        return t + 1, new_c, arrays

    _, final, tas = tf.while_loop(
        cond, step, (tf.constant(start, tf.int32), carry, tas),
        maximum_iterations=n)
    return final, tuple(ta.stack() for ta in tas)


def _tf_remat_loop(body, carry, start, stop, ys_specs, constants):
    """Gradient checkpointing over time with TensorFlow.

    `tf.recompute_grad` cannot be used inside a `tf.while_loop` body (its
    gradient captures variable handles across the loop boundary), so the
    loop gets its own gradient: the forward pass stores only each step's
    input carry (node outputs and states); the backward pass walks the steps
    in reverse, recomputes one step under a tape and propagates the
    vector-Jacobian product to the previous carry, the constants and the
    variables.
    """
    import tensorflow as tf

    n = stop - start
    flat_init = tree.flatten(carry)
    n_const, n_carry = len(constants), len(flat_init)

    def run_step(t, flat, consts):
        new_c, ys = body(t, tree.pack_sequence_as(carry, flat), *consts)
        return tree.flatten(new_c), list(tree.flatten(ys))

    @tf.custom_gradient
    def forward(*args):
        consts, flat0 = list(args[:n_const]), list(args[n_const:])
        saved = [tf.TensorArray(x.dtype, size=n, element_shape=x.shape)
                 for x in flat0]
        outs = [tf.TensorArray(dtype, size=n,
                               element_shape=tf.TensorShape(shape))
                for shape, dtype in ys_specs]

        def step(t, flat, saved, outs):
            saved = [a.write(t - start, x) for a, x in zip(saved, flat)]
            new_flat, ys = run_step(t, flat, consts)
            outs = [a.write(t - start, y) for a, y in zip(outs, ys)]
            return t + 1, new_flat, saved, outs

        _, _, saved, outs = tf.while_loop(
            lambda t, *_: t < stop, step,
            (tf.constant(start, tf.int32), flat0, saved, outs),
            maximum_iterations=n)
        stacked = [a.stack() for a in outs]

        def grad_fn(*dys, variables=None):
            variables = list(variables or [])
            dys = [tf.zeros_like(y) if d is None else d
                   for d, y in zip(dys, stacked)]

            def back(t, dflat, dconsts, dvars):
                # Recompute step t only once the gradient of its outputs
                # exists, so iterations are not recomputed ahead of time.
                with tf.control_dependencies(dflat):
                    flat = [a.read(t - start) for a in saved]
                dy = [d[t - start] for d in dys]
                with tf.GradientTape() as tape:
                    tape.watch(flat)
                    tape.watch(consts)
                    new_flat, ys = run_step(t, flat, consts)
                grads = tape.gradient(
                    new_flat + ys, flat + consts + variables,
                    output_gradients=dflat + dy,
                    unconnected_gradients=tf.UnconnectedGradients.ZERO)
                gflat = grads[:n_carry]
                gconst = grads[n_carry:n_carry + n_const]
                gvars = grads[n_carry + n_const:]
                return (t - 1, gflat,
                        [a + b for a, b in zip(dconsts, gconst)],
                        [a + b for a, b in zip(dvars, gvars)])

            zeros = ([tf.zeros_like(x) for x in flat0],
                     [tf.zeros_like(c) for c in consts],
                     [tf.zeros_like(v) for v in variables])
            _, dflat, dconsts, dvars = tf.while_loop(
                lambda t, *_: t >= start, back,
                (tf.constant(stop - 1, tf.int32),) + zeros,
                maximum_iterations=n)
            return list(dconsts) + list(dflat), list(dvars)

        return stacked, grad_fn

    stacked = forward(*constants, *flat_init)
    return None, tuple(stacked)


def _jax_loop(body, carry, start, stop):
    import jax.numpy as jnp
    from jax import lax

    def step(c, t):
        new_c, ys = body(t, c)
        return new_c, ys

    return lax.scan(step, carry, jnp.arange(start, stop))


def _python_loop(body, carry, start, stop):
    # Python ints: steps are static, so e.g. the image/blank choice is made
    # while tracing instead of by a select op at run time.
    collected = []
    for t in range(start, stop):
        carry, ys = body(t, carry)
        collected.append(tuple(ys))
    return carry, tuple(ops.stack(list(col)) for col in zip(*collected))
