"""Pre- and post-memory building blocks and the table that names them.

A layer spec is `{"layer": <name>, **kwargs}`; `build_layer` resolves the
name through `LAYERS`, an explicit table (no getattr guessing). A Keras-
serialized dict `{"class_name": ..., "config": ...}` is accepted too, so any
Keras layer can sit in a node.

Names and their keyword arguments (TF1 conventions where they differ):

    conv          filters, kernel_size, strides=1, padding="same",
                  activation=None, use_bias=True,
                  kernel_initializer="variance_scaling", bias_initializer=0,
                  weight_decay=None (TF1 l2 on the kernel: adds wd·Σw²/2),
                  bias_weight_decay=None (the same on the bias)
    fc / dense    units, activation=None, use_bias=True,
                  kernel_initializer="variance_scaling", bias_initializer=1
                  (the original model_tool default), weight_decay=None,
                  bias_weight_decay=None; flattens its input first
                  (row-major H, W, C)
    max_pool      pool_size=2, strides=2, padding="same"
    avg_pool      pool_size=2, strides=2, padding="same"
    global_pool   kind="avg" | "max"
    flatten
    dropout       rate=0.0 (the original's keep_prob = 1 - rate)
    activation    activation ("elu", "relu", ...); also the shortcuts
                  elu, relu, tanh, sigmoid, identity
    residual_add  weight_decay=None, kernel_initializer="variance_scaling":
                  adds the node's harbor input (§1.5 residual_add)
    batch_norm    momentum=0.9, epsilon=1e-5 (Keras BatchNormalization)
    lrn           depth_radius=5, bias=1.0, alpha=1.0, beta=0.5 (TF LRN)

The original's `conv`, `fc` and `component_conv` decay kernel and bias with
one `weight_decay`; here the bias takes its own `bias_weight_decay` (the
key the cells use), None meaning no decay. The zoo tables and the JSON
importer set both, so the zoo trains on the original's objective.
"""

import copy

import keras
from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.graphs.resize import resize_align_corners


@tnn_export
class ResidualAdd(keras.layers.Layer):
    """`x + ℛ(res)`: the original `residual_add` post-memory op (§1.5).

    ℛ is the identity when shapes match; a bias-free 1×1 projection
    (`residual_add_weights [1, 1, C_res, C_x]`) when channels differ; when
    the spatial sizes differ, an align-corners bilinear resize followed by
    that projection, ALWAYS, even when the channel counts agree (the
    original's `sp_resize` branch). Called as `layer(x, residual)`.

    Args:
        weight_decay: TF1-convention L2 on the projection kernel.
        kernel_initializer: initializer of the projection kernel.
    """

    uses_residual = True

    def __init__(self, weight_decay=None, kernel_initializer="variance_scaling",
                 **kwargs):
        super().__init__(**kwargs)
        self.weight_decay = weight_decay
        self.kernel_initializer = kernel_initializer
        self._regularizer = utils.tf1_l2(weight_decay)

    def build(self, x_shape, residual_shape=None):
        if residual_shape is None:
            raise ValueError(f"ResidualAdd '{self.name}' needs the residual "
                             f"shape to build.")
        if len(x_shape) != len(residual_shape):
            raise ValueError(f"ResidualAdd '{self.name}': input rank "
                             f"{len(x_shape)} and residual rank "
                             f"{len(residual_shape)} differ; add a residual "
                             f"of the input's rank.")
        resized = (len(x_shape) == 4
                   and tuple(residual_shape[1:3]) != tuple(x_shape[1:3]))
        self.projection = None
        if residual_shape[-1] != x_shape[-1] or resized:
            self.projection = self.add_weight(
                name="residual_add_weights",
                shape=(1, 1, int(residual_shape[-1]), int(x_shape[-1])),
                initializer=utils.get_initializer(self.kernel_initializer),
                regularizer=self._regularizer)

    def call(self, x, residual):
        if len(x.shape) != len(residual.shape):
            raise ValueError(f"ResidualAdd '{self.name}': input rank "
                             f"{len(x.shape)} and residual rank "
                             f"{len(residual.shape)} differ.")
        if tuple(residual.shape[1:3]) != tuple(x.shape[1:3]):
            residual = resize_align_corners(residual, x.shape[1:3])
        if self.projection is not None:
            residual = ops.conv(residual, self.projection, strides=1,
                                padding="same")
        return x + residual

    def compute_output_shape(self, x_shape, residual_shape=None):
        return x_shape

    def get_config(self):
        config = super().get_config()
        config.update(weight_decay=self.weight_decay,
                      kernel_initializer=self.kernel_initializer)
        return config


@tnn_export
class LocalResponseNorm(keras.layers.Layer):
    """TF's `local_response_normalization` over channels (AlexNet).

    `y = x / (bias + alpha · Σ_{c' ∈ [c−r, c+r]} x_{c'}²) ** beta`.

    Args:
        depth_radius: half-width r of the channel window.
        bias, alpha, beta: as in `tf.nn.local_response_normalization`.
    """

    def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5,
                 **kwargs):
        super().__init__(**kwargs)
        if int(depth_radius) < 0:
            raise ValueError(f"depth_radius must be >= 0, got "
                             f"{depth_radius!r}.")
        self.depth_radius = int(depth_radius)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, x):
        r = self.depth_radius
        sq = ops.square(x)
        channels = x.shape[-1]
        padded = ops.pad(sq, [[0, 0]] * (len(x.shape) - 1) + [[r, r]])
        total = padded[..., 0:channels]
        for k in range(1, 2 * r + 1):
            total = total + padded[..., k:k + channels]
        return x / ops.power(self.bias + self.alpha * total, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(depth_radius=self.depth_radius, bias=self.bias,
                      alpha=self.alpha, beta=self.beta)
        return config


def _conv(filters, kernel_size, strides=1, padding="same", activation=None,
          use_bias=True, kernel_initializer="variance_scaling",
          bias_initializer=0.0, weight_decay=None, bias_weight_decay=None,
          name=None):
    return keras.layers.Conv2D(
        filters=utils.check_positive_int(filters, "conv filters"),
        kernel_size=utils.as_pair(kernel_size, "conv kernel_size"),
        strides=utils.as_pair(strides, "conv strides"),
        padding=utils.check_choice(str(padding).lower(), "conv padding",
                                   ("same", "valid")),
        activation=utils.get_activation(activation),
        use_bias=use_bias,
        kernel_initializer=utils.get_initializer(kernel_initializer),
        bias_initializer=utils.get_initializer(bias_initializer),
        kernel_regularizer=utils.tf1_l2(weight_decay),
        bias_regularizer=utils.tf1_l2(bias_weight_decay),
        name=name)


def _dense(units, activation=None, use_bias=True,
           kernel_initializer="variance_scaling", bias_initializer=1.0,
           weight_decay=None, bias_weight_decay=None, name=None):
    return FlatDense(
        units=utils.check_positive_int(units, "fc units"),
        activation=utils.get_activation(activation),
        use_bias=use_bias,
        kernel_initializer=utils.get_initializer(kernel_initializer),
        bias_initializer=utils.get_initializer(bias_initializer),
        kernel_regularizer=utils.tf1_l2(weight_decay),
        bias_regularizer=utils.tf1_l2(bias_weight_decay),
        name=name)


@tnn_export
class FlatDense(keras.layers.Dense):
    """Dense on the row-major flattened input (the original `fc`)."""

    def build(self, input_shape):
        flat = 1
        for d in input_shape[1:]:
            flat *= int(d)
        super().build((input_shape[0], flat))
        self.input_spec = keras.InputSpec(min_ndim=2)

    def call(self, x):
        if len(x.shape) > 2:
            x = ops.reshape(x, (-1, self.kernel.shape[0]))
        return super().call(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


def _pool(cls):
    def make(pool_size=2, strides=2, padding="same", name=None):
        return cls(pool_size=utils.as_pair(pool_size, "pool_size"),
                   strides=utils.as_pair(strides, "pool strides"),
                   padding=utils.check_choice(str(padding).lower(),
                                              "pool padding",
                                              ("same", "valid")),
                   name=name)
    return make


def _global_pool(kind="avg", name=None):
    utils.check_choice(kind, "global_pool kind", ("avg", "max"))
    cls = (keras.layers.GlobalAveragePooling2D if kind == "avg"
           else keras.layers.GlobalMaxPooling2D)
    return cls(name=name)


def _dropout(rate=0.0, seed=None, name=None):
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}.")
    return keras.layers.Dropout(float(rate), seed=seed, name=name)


def _activation(activation, name=None):
    return keras.layers.Activation(utils.get_activation(activation), name=name)


def _named_activation(activation):
    return lambda name=None: _activation(activation, name=name)


def _batch_norm(momentum=0.9, epsilon=1e-5, center=True, scale=True,
                name=None):
    return keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon,
                                           center=center, scale=scale,
                                           name=name)


LAYERS = {
    "conv": _conv,
    "fc": _dense,
    "dense": _dense,
    "max_pool": _pool(keras.layers.MaxPooling2D),
    "avg_pool": _pool(keras.layers.AveragePooling2D),
    "global_pool": _global_pool,
    "flatten": lambda name=None: keras.layers.Flatten(name=name),
    "dropout": _dropout,
    "activation": _activation,
    "elu": _named_activation("elu"),
    "relu": _named_activation("relu"),
    "tanh": _named_activation("tanh"),
    "sigmoid": _named_activation("sigmoid"),
    "identity": lambda name=None: keras.layers.Identity(name=name),
    "residual_add": lambda name=None, **kw: ResidualAdd(name=name, **kw),
    "batch_norm": _batch_norm,
    "lrn": lambda name=None, **kw: LocalResponseNorm(name=name, **kw),
}


def build_layer(spec, name):
    """Instantiates a layer from a spec dict (see the module docstring)."""
    spec = copy.deepcopy(spec)
    if "class_name" in spec:
        layer = keras.saving.deserialize_keras_object(spec)
        return layer
    kind = spec.pop("layer")
    if callable(kind):
        return kind(name=name, **spec)
    if kind not in LAYERS:
        raise ValueError(f"Unknown layer {kind!r}; the supported layers are "
                         f"{sorted(LAYERS)} (or pass a Keras-serialized dict "
                         f"with 'class_name' and 'config').")
    try:
        return LAYERS[kind](name=name, **spec)
    except TypeError as err:
        raise ValueError(f"Bad arguments for layer {kind!r} ({name}): "
                         f"{err}.") from None
