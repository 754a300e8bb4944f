"""`TemporalClassifier`: a TNNGraph read out over time by temporal decoders.

The task head of image categorisation (reference §5, §6): the backbone's
per-step readout logits `[B, T, K]` plus one decoded `[B, K]` output per
decoder, trained with cross-entropy on every step (`PerStepCrossEntropy`)
and/or on decoded logits, scored top-1/top-5 per step and per decoder.

    backbone = tnn.create_model("rgc_shallow", input_shape=(96, 96, 3),
                                num_classes=10)
    model = TemporalClassifier(backbone, decoders=("last", "max_conf"))
    model.compile(objective="steps")          # per-step CE, uniform weights
    model.fit(images_and_labels)              # labels: int class ids [B]
    outputs = model(images)  # {"steps": [B,T,K], "last": [B,K], ...}

Labels stay plain class ids: `compute_loss` / `compute_metrics` hand them
to every output. The regularisation losses of the layers (the TF1-style
weight decay of §5.3, `tnn.utils.tf1_l2`) are part of `model.losses` and
are added by Keras' `compute_loss`.

Decoders with learned weights (`w_avg_t`, `mlp`, `conv1d`) are trained by
default even when the objective does not name them
(`compile(train_decoders=True)`): each gets its own cross-entropy on
logits that do not pass gradients back to the backbone, so the backbone's
objective is unchanged and no decoder is reported at its initial weights.
All top-k metrics count ties as misses (`TopKAccuracy`).
"""

import keras
from keras import ops

from tnn.graphs.fit_hooks import build_optimizer
from tnn.graphs.tnn_graph import TNNGraph
from tnn.readouts import PerStepCrossEntropy, StepTopKAccuracy, get_decoder
from tnn.readouts.base import TemporalDecoder
from tnn.readouts.step_accuracy import TopKAccuracy

STEPS = "steps"
DEFAULT_TOP_K = (1, 5)


def _decoder_name(decoder):
    return decoder.name if isinstance(decoder, TemporalDecoder) else decoder


@keras.saving.register_keras_serializable(package="training")
class TemporalClassifier(keras.Model):
    """Per-step logits and decoded logits of a `TNNGraph`.

    Args:
        backbone: a `TNNGraph` whose output node gives logits `[B, T, K]`.
        decoders: decoder names (`tnn.readouts.list_decoders`) or
            `TemporalDecoder` instances; each becomes an output named after
            it (names must be unique and not "steps").
        decoder_start: first step of the window of decoders given by name;
            default: the first step at which the readout is image-driven
            (`backbone.first_image_step(readout)`; the outputs before are
            the same for every image).
        decoder_end: end of that window (exclusive; None = through T−1).
        detached_decoders: decoders whose input logits pass no gradient to
            the backbone (set by `compile(train_decoders=True)`; saved
            with the model).
        **kwargs: `keras.Model` arguments (`name`, ...).
    """

    def __init__(self, backbone, decoders=("last",), decoder_start=None,
                 decoder_end=None, detached_decoders=(), **kwargs):
        if not isinstance(backbone, TNNGraph):
            raise ValueError(
                f"backbone must be a tnn.TNNGraph (per-step logits), got "
                f"{type(backbone).__name__}; build one with "
                f"tnn.create_model(...).")
        if isinstance(decoders, (str, TemporalDecoder)):
            decoders = (decoders,)
        decoders = list(decoders)
        if not decoders:
            raise ValueError("decoders must name at least one decoder, e.g. "
                             "('last',).")
        names = [_decoder_name(d) for d in decoders]
        if len(set(names)) != len(names) or STEPS in names:
            raise ValueError(f"Decoder names must be unique and not "
                             f"{STEPS!r}, got {names}; give instances "
                             f"distinct `name`s.")
        super().__init__(**kwargs)
        self.detached_decoders = tuple(detached_decoders)
        self.backbone = backbone
        readout_step = backbone.first_image_step(backbone.output_node)
        self.decoder_start = (readout_step if decoder_start is None
                              else decoder_start)
        self.decoder_end = decoder_end
        self.decoder_layers = [
            d if isinstance(d, TemporalDecoder) else get_decoder(
                d, start=self.decoder_start, end=decoder_end, name=d,
                dtype="float32")
            for d in decoders]
        logits_shape = (None, backbone.times, self.num_classes)
        for decoder in self.decoder_layers:
            if not decoder.built:
                decoder.build(logits_shape)
        self.built = True

    @property
    def num_classes(self):
        return self.backbone.output_shapes[self.backbone.output_node][-1]

    @property
    def decoder_names(self):
        return [d.name for d in self.decoder_layers]

    @property
    def output_keys(self):
        return [STEPS] + self.decoder_names

    def call(self, images, training=None):
        steps = ops.cast(self.backbone(images, training=training), "float32")
        outputs = {STEPS: steps}
        detached = ops.stop_gradient(steps)
        for decoder in self.decoder_layers:
            outputs[decoder.name] = decoder(
                detached if decoder.name in self.detached_decoders
                else steps)
        return outputs

    @property
    def learned_decoders(self):
        """Names of the decoders with trainable weights."""
        return [d.name for d in self.decoder_layers if d.trainable_weights]

    # --- training configuration ------------------------------------------

    def compile(self, optimizer="auto", loss="auto", metrics="auto", *,
                objective=STEPS, step_weighting="uniform", gamma=0.9,
                loss_start=None, loss_end=None, label_smoothing=0.0,
                top_k=DEFAULT_TOP_K, train_decoders=True, **kwargs):
        """`keras.Model.compile` with the defaults of this head.

        Args:
            optimizer: an optimizer; "auto" = SGD(0.01, momentum 0.9,
                Nesterov).
            loss: "auto" builds the losses from `objective`; else passed on.
            metrics: "auto" = top-k accuracy of every step (named
                `steps_top{k}_t{t:02d}` in the logs) and of every decoder
                (`<decoder>_top{k}`), for each k in `top_k` not above the
                number of classes.
            objective: "steps" (cross-entropy at every step of the window,
                weighted by `step_weighting`), a decoder name (cross-entropy
                of its decoded logits), or a list of these (summed).
            step_weighting, gamma: `PerStepCrossEntropy` weighting
                ("uniform", "gamma" = γ^t, "last", or per-step weights).
            loss_start, loss_end: window of the per-step loss; default
                [first image-driven readout step, T).
            label_smoothing: of the per-step cross-entropy ("steps").
            top_k: the k of the accuracy metrics.
            train_decoders: also train every decoder with learned weights
                (w_avg_t, mlp, conv1d) that `objective` leaves out, by its
                own cross-entropy on logits detached from the backbone
                (added to the loss; the backbone's gradients are those of
                `objective`). With False such a decoder keeps its initial
                weights and its metrics are not computed.
            **kwargs: other `keras.Model.compile` arguments.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.SGD(0.01, momentum=0.9,
                                             nesterov=True)
        loss_was_auto = isinstance(loss, str) and loss == "auto"
        if loss == "auto":
            loss = self.make_losses(objective, step_weighting, gamma,
                                    loss_start, loss_end, label_smoothing,
                                    train_decoders)
        if metrics == "auto":
            metrics = self.make_metrics(top_k)
            if loss_was_auto and not train_decoders:
                untrained = set(self.learned_decoders) - set(
                    self._objective_names(objective))
                metrics = {k: v for k, v in metrics.items()
                           if k not in untrained}
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    @staticmethod
    def _objective_names(objective):
        return [objective] if isinstance(objective, str) else list(objective)

    def make_losses(self, objective=STEPS, step_weighting="uniform",
                    gamma=0.9, loss_start=None, loss_end=None,
                    label_smoothing=0.0, train_decoders=True):
        """The `{output: loss}` dict of `compile(objective=...)`.

        With `train_decoders`, learned decoders left out of `objective`
        get a cross-entropy too and are detached from the backbone
        (`detached_decoders`).
        """
        targets = self._objective_names(objective)
        unknown = [t for t in targets if t not in self.output_keys]
        if not targets or unknown:
            raise ValueError(
                f"Unknown objective {objective!r}: use {STEPS!r} (every "
                f"step) or one of this model's decoders "
                f"{self.decoder_names}, or a list of them.")
        if label_smoothing and targets != [STEPS]:
            raise ValueError(
                f"label_smoothing applies to the {STEPS!r} objective only, "
                f"got objective={objective!r}; set label_smoothing=0.")
        start = self.decoder_start if loss_start is None else loss_start
        losses = {key: None for key in self.output_keys}
        for target in targets:
            if target == STEPS:
                losses[STEPS] = PerStepCrossEntropy(
                    weighting=step_weighting, gamma=gamma, start=start,
                    end=loss_end, label_smoothing=label_smoothing)
            else:
                losses[target] = keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True, name=f"{target}_cross_entropy")
        extra = ([name for name in self.learned_decoders
                  if name not in targets] if train_decoders else [])
        for name in extra:
            losses[name] = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, name=f"{name}_cross_entropy")
        self.detached_decoders = tuple(extra)
        return losses

    def make_metrics(self, top_k=DEFAULT_TOP_K):
        """The `{output: [metrics]}` dict of `compile(metrics="auto")`."""
        ks = []
        for k in top_k:
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                raise ValueError(f"top_k must hold positive ints, got "
                                 f"{top_k!r}.")
            if k <= self.num_classes:
                ks.append(k)
        metrics = {STEPS: [StepTopKAccuracy(step=t, k=k,
                                            name=f"top{k}_t{t:02d}")
                           for k in ks for t in range(self.backbone.times)]}
        for name in self.decoder_names:
            metrics[name] = [TopKAccuracy(k=k, name=f"top{k}") for k in ks]
        return metrics

    def make_train_function(self, force=False):
        build_optimizer(self)   # one trace of the train step, not two
        return super().make_train_function(force)

    def compile_from_config(self, config):
        """Restores `compile` when a `.keras` file is loaded."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    # --- plain labels for every output -----------------------------------

    def _targets(self, y):
        if y is None or isinstance(y, dict):
            return y
        return {key: y for key in self.output_keys}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        return super().compute_loss(x, self._targets(y), y_pred,
                                    sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, self._targets(y), y_pred,
                                       sample_weight)

    # --- serialization ---------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            backbone=keras.saving.serialize_keras_object(self.backbone),
            decoders=[keras.saving.serialize_keras_object(d)
                      for d in self.decoder_layers],
            decoder_start=self.decoder_start,
            decoder_end=self.decoder_end,
            detached_decoders=list(self.detached_decoders))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"])
        config["decoders"] = [keras.saving.deserialize_keras_object(d)
                              for d in config["decoders"]]
        return cls(**config)
