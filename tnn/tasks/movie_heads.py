"""Heads that read a TNNGraph's node features out at every step of a movie.

Each head maps the features of one step — a dict node -> `[B, h, w, c]`
(or `[B, d]`) — to that step's output; `MovieModel` applies it to every
step at once by folding time into the batch. All are plain Keras layers
(`keras.ops`), so they run on every backend.

    FrameDecoder(channels, size)  dense output [B, S, S, channels]: each
        node -> 1x1 conv to `width` -> bilinear resize to S x S, summed,
        ReLU, 3x3 conv to `channels` (a light feature-pyramid decoder;
        next-frame pixels or per-pixel class logits).
    PooledHead(units)             global average pool of each node,
        concatenated, one Dense (per-step class logits).
    ProjectionHead(units, hidden) global average pool, Dense-ReLU-Dense,
        L2-normalised (the projection head of SimCLR, Chen et al. 2020).
"""

import keras
from keras import ops


def _pool(features):
    return ops.concatenate(
        [ops.mean(f, axis=(1, 2)) if len(f.shape) == 4 else f
         for f in features], axis=-1)


@keras.saving.register_keras_serializable(package="tnn")
class FrameDecoder(keras.layers.Layer):
    """Dense per-pixel output from one or more nodes' feature maps.

    Args:
        channels: output channels (frame channels, or classes).
        size: output side `S` (or `(H, W)`).
        width: channels of the fused features.
        activation: of the output (None: linear; e.g. "sigmoid").
    """

    def __init__(self, channels, size, width=32, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.size = (tuple(size) if isinstance(size, (tuple, list))
                     else (int(size), int(size)))
        self.width = int(width)
        self.activation = activation
        self.output_conv = keras.layers.Conv2D(
            self.channels, 3, padding="same", activation=activation,
            name="output_conv")
        self.lateral = []

    def build(self, input_shapes):
        self.lateral = []
        for i, shape in enumerate(input_shapes):
            if len(shape) != 4:
                raise ValueError(
                    f"FrameDecoder needs feature maps [B, h, w, c]; input "
                    f"{i} has shape {tuple(shape)}. Read a dense output out "
                    f"with a conv node, or use PooledHead.")
            conv = keras.layers.Conv2D(self.width, 1, name=f"lateral_{i}")
            conv.build(shape)
            self.lateral.append(conv)
        self.output_conv.build((None,) + self.size + (self.width,))
        self.built = True

    def call(self, features):
        fused = 0
        for conv, feat in zip(self.lateral, features):
            fused = fused + ops.image.resize(
                conv(feat), self.size, interpolation="bilinear")
        return self.output_conv(ops.relu(fused))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels,
                "size": self.size, "width": self.width,
                "activation": self.activation}


@keras.saving.register_keras_serializable(package="tnn")
class PooledHead(keras.layers.Layer):
    """Global average pool of each node, concatenated, then one Dense."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.dense = keras.layers.Dense(self.units, name="dense")

    def build(self, input_shapes):
        depth = sum(int(s[-1]) for s in input_shapes)
        self.dense.build((None, depth))
        self.built = True

    def call(self, features):
        return self.dense(_pool(features))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="tnn")
class ProjectionHead(keras.layers.Layer):
    """Pool, Dense(hidden)-ReLU-Dense(units), L2-normalised embedding."""

    def __init__(self, units=64, hidden=128, **kwargs):
        super().__init__(**kwargs)
        self.units, self.hidden = int(units), int(hidden)
        self.dense_hidden = keras.layers.Dense(self.hidden, name="hidden")
        self.dense_out = keras.layers.Dense(self.units, name="out")

    def build(self, input_shapes):
        depth = sum(int(s[-1]) for s in input_shapes)
        self.dense_hidden.build((None, depth))
        self.dense_out.build((None, self.hidden))
        self.built = True

    def call(self, features):
        z = self.dense_out(ops.relu(self.dense_hidden(_pool(features))))
        return z / ops.sqrt(ops.sum(z * z, axis=-1, keepdims=True) + 1e-12)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "hidden": self.hidden}
