"""`MovieModel`: a TNNGraph with per-step heads for objectives beyond labels.

    backbone = tnn.zoo.small_models.small_convrnn(input_shape=(32, 32, 1))
    model = MovieModel(backbone, {
        "next_frame": {"kind": "next_frame", "nodes": ["conv1", "conv2"],
                       "offset": 1},
        "segmentation": {"kind": "segmentation", "nodes": ["conv1",
                         "conv2", "conv3"], "num_classes": 11}})
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(movies, {"next_frame": frames01, "segmentation": masks})
    out = model(movies)   # {"next_frame": [B,T,H,W,C], "segmentation":
                          #  [B,T,H,W,11]}

The backbone is unrolled on the movie `[B, T, H, W, C]` (frame t at step
t; a still image is presented with the backbone's own presentation) and
each objective's head reads its nodes at every step. Timing: a node d
layers deep sees frame t at step t + d - 1 (biological unroll) or t
(feed-forward per step), so the next-frame output at step t predicts
frame t + k from what has reached the node by step t. Losses and
metrics leave out the steps before the first of a head's nodes is
image-driven (`TNNGraph.first_image_step`): outputs there are the same for
every clip. Nodes that no head reads, directly or through other nodes
(e.g. the backbone's class readout), are made untrainable
(`frozen_nodes`).

Objectives are data: `OBJECTIVES` maps a kind to a builder returning the
head, the loss and the metrics (`register_objective` adds one):

    next_frame    FrameDecoder (sigmoid pixels); NextFrameLoss(offset);
                  FramePSNR, FrameSSIM. Target: the clip in [0, 1].
    segmentation  FrameDecoder (class logits); PixelCrossEntropy
                  (foreground_weight); MeanIoU, ForegroundIoU. Target:
                  int classes [B, T, H, W].
    classes       PooledHead; PresentClassesLoss; PresentTopAccuracy.
                  Target: multi-hot / counts of the classes [B, K].
    contrastive   ProjectionHead; InfoNCELoss(offset, temperature);
                  ContrastiveAccuracy. Target: ignored (any [B] array).

`recurrence="off"` unrolls the backbone as its feed-forward control
(`TNNGraph.unroll(..., recurrence="off")`); a parameter-matched
feed-forward backbone (`small_feedforward`) is the other control.
"""

import keras
from keras import ops

from tnn.graphs.fit_hooks import build_optimizer
from tnn.graphs.tnn_graph import TNNGraph
from tnn.tasks import movie_heads as heads
from tnn.tasks import movie_losses as losses


def _next_frame(backbone, start, offset=1, width=32):
    h, w, c = backbone.graph_input_shape
    return (heads.FrameDecoder(c, (h, w), width, activation="sigmoid"),
            losses.NextFrameLoss(offset, start),
            [losses.FramePSNR(offset, start, name="psnr"),
             losses.FrameSSIM(offset, start, name="ssim")])


def _segmentation(backbone, start, num_classes=11, width=32,
                  foreground_weight=1.0):
    h, w, _ = backbone.graph_input_shape
    return (heads.FrameDecoder(num_classes, (h, w), width),
            losses.PixelCrossEntropy(start, foreground_weight),
            [losses.MeanIoU(num_classes, start=start, name="mean_iou"),
             losses.ForegroundIoU(start, name="foreground_iou")])


def _classes(backbone, start, num_classes=10):
    return (heads.PooledHead(num_classes), losses.PresentClassesLoss(start),
            [losses.PresentTopAccuracy(name="present_top_accuracy")])


def _contrastive(backbone, start, offset=1, temperature=0.1, units=64,
                 hidden=128):
    return (heads.ProjectionHead(units, hidden),
            losses.InfoNCELoss(offset, temperature, start),
            [losses.ContrastiveAccuracy(offset, start, name="accuracy")])


OBJECTIVES = {"next_frame": _next_frame, "segmentation": _segmentation,
              "classes": _classes, "contrastive": _contrastive}


def register_objective(kind, builder):
    """Adds an objective kind: `builder(backbone, start, **settings)`
    (`start`: the first step the head's nodes are image-driven) returns
    `(head layer, loss, [metrics])`; the head takes a list of `[N, ...]`
    node features (time folded into N)."""
    if kind in OBJECTIVES:
        raise ValueError(f"Objective kind {kind!r} is already registered.")
    OBJECTIVES[kind] = builder


def _check_objectives(objectives, backbone):
    if not isinstance(objectives, dict) or not objectives:
        raise ValueError("objectives must be a non-empty dict name -> "
                         "{'kind': ..., 'nodes': [...], ...}.")
    for name, settings in objectives.items():
        kind = settings.get("kind", name)
        if kind not in OBJECTIVES:
            raise ValueError(f"Objective {name!r}: unknown kind {kind!r}; "
                             f"known: {sorted(OBJECTIVES)} (add one with "
                             f"register_objective).")
        nodes = settings.get("nodes")
        if not nodes or isinstance(nodes, str):
            raise ValueError(f"Objective {name!r} needs 'nodes': a list of "
                             f"node names of {backbone.name}.")
        unknown = [n for n in nodes if n not in backbone.spec.node_names]
        if unknown:
            raise ValueError(f"Objective {name!r} reads unknown node(s) "
                             f"{unknown}; the backbone has "
                             f"{list(backbone.spec.node_names)}.")


@keras.saving.register_keras_serializable(package="tnn")
class MovieModel(keras.Model):
    """Per-step heads on a `TNNGraph` (see the module docstring).

    Args:
        backbone: a `TNNGraph`.
        objectives: dict output name -> settings: "kind" (default: the
            name), "nodes" (node names the head reads) and the builder's
            keyword arguments (e.g. "offset", "num_classes", "width").
        recurrence: "on", or "off" for the feed-forward control.
        **kwargs: `keras.Model` arguments.
    """

    def __init__(self, backbone, objectives, recurrence="on", **kwargs):
        if not isinstance(backbone, TNNGraph):
            raise ValueError(f"backbone must be a tnn.TNNGraph, got "
                             f"{type(backbone).__name__}.")
        _check_objectives(objectives, backbone)
        super().__init__(**kwargs)
        self.backbone = backbone
        self.recurrence = recurrence
        self.objectives = {k: dict(v) for k, v in objectives.items()}
        self.heads, made = {}, {}
        for name, settings in self.objectives.items():
            kwargs = {k: v for k, v in settings.items()
                      if k not in ("kind", "nodes")}
            start = min(backbone.first_image_step(n)
                        for n in settings["nodes"])
            head, loss, metrics = OBJECTIVES[settings.get("kind", name)](
                backbone, start, **kwargs)
            self.heads[name] = head
            made[name] = (loss, metrics)
            head.build([(None,) + tuple(backbone.output_shapes[n])
                        for n in settings["nodes"]])
        # A function, not attributes: Keras would track (and log) metric
        # objects held by the model.
        self._objective_outputs = lambda: made
        self.nodes = sorted({n for s in self.objectives.values()
                             for n in s["nodes"]})
        self._freeze_unread_nodes()
        self.built = True

    def _freeze_unread_nodes(self):
        """Nodes no head reads, directly or through any edge (e.g. the
        backbone's class readout), get no gradient: make them untrainable
        so the optimizer neither warns nor decays them."""
        needed, todo = set(), list(self.nodes)
        while todo:
            node = todo.pop()
            if node not in needed:
                needed.add(node)
                todo += [s for s in self.backbone.harbor_inputs(node)
                         if s is not None]
        self.frozen_nodes = sorted(set(self.backbone.spec.node_names)
                                   - needed)
        for node in self.frozen_nodes:
            self.backbone.graph_nodes[node].trainable = False

    def call(self, movies, training=None):
        feats = self.backbone.unroll(movies, nodes=self.nodes,
                                     training=training,
                                     recurrence=self.recurrence)
        steps = feats[self.nodes[0]].shape[1]
        outputs = {}
        for name, settings in self.objectives.items():
            folded = [ops.reshape(feats[n], (-1,) + tuple(feats[n].shape[2:]))
                      for n in settings["nodes"]]
            out = ops.cast(self.heads[name](folded), "float32")
            outputs[name] = ops.reshape(out, (-1, steps) + tuple(
                out.shape[1:]))
        return outputs

    def compile(self, optimizer="adam", loss="auto", metrics="auto",
                **kwargs):
        """`keras.Model.compile` with each objective's loss and metrics
        ("auto"); `loss_weights` (dict by output) balances objectives."""
        made = self._objective_outputs()
        if isinstance(loss, str) and loss == "auto":
            loss = {k: v[0] for k, v in made.items()}
        if isinstance(metrics, str) and metrics == "auto":
            metrics = {k: list(v[1]) for k, v in made.items()}
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    def make_train_function(self, force=False):
        build_optimizer(self)   # one trace of the train step, not two
        return super().make_train_function(force)

    def compile_from_config(self, config):
        """Restores `compile` when a `.keras` file is loaded."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update(
            backbone=keras.saving.serialize_keras_object(self.backbone),
            objectives=self.objectives, recurrence=self.recurrence)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"])
        return cls(**config)
