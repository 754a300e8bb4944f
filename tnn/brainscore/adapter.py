"""`TNNBrainModel`: any TNNGraph behind Brain-Score's `BrainModel` interface.

    brain_model = TNNBrainModel(model, region_layers={"V4": "conv4",
                                                      "IT": "conv5"},
                                visual_degrees=8)
    brain_model.start_recording("IT", [(70, 170)])
    recordings = brain_model.look_at(stimulus_set)   # NeuroidAssembly

The interface is brainscore_vision 2.4.2's `model_interface.BrainModel`:
`identifier`, `visual_degrees()`, `start_recording(region, time_bins)`,
`start_task(task, fitting_stimuli)`, `look_at(stimuli, number_of_trials)`.
The class does not inherit from it, so `tnn` imports without Brain-Score;
`make_brain_model` returns an instance that does (what Brain-Score's
submission checks ask for).

- Recordings: for each requested bin (ms after onset) the overlap-weighted
  mean of the committed node's reduced features over the model steps the
  bin covers (`tnn.brainscore.timing`: 10 ms per step, onset at step 0,
  `latency_ms`, the presentation extended with a warning when bins need more
  steps than the model unrolls). Assemblies have dims (presentation,
  neuroid, time_bin), every StimulusSet column on `presentation`,
  `neuroid_id` ("<node>.<unit>"), `neuroid_num`, `layer` and `region` on
  `neuroid`, `time_bin_start` / `time_bin_end` on `time_bin`. Units are the
  node's outputs reduced as in `tnn.neural.features` (default: a fixed
  sparse random projection to 1024 per node, which preserves inner
  products; `reduction="none"` keeps every unit, as Brain-Score's
  activation extractors do).
- Stimuli arrive already placed at the model's `visual_degrees` (the
  benchmark calls `place_on_screen`); each is resized to the model's input
  and normalised with the model's constants.
- Behaviour: "probabilities" and "label" fit a logistic regression
  (`tnn.brainscore.readout`) on the behavioural readout node's features
  (default: IT's node) in one bin or one readout per bin, so no 1000-class
  head is needed. The default bin is 70-170 ms, the window of the mean IT
  rates whose weighted sums Majaj et al. (2015) found to predict object
  recognition behaviour (steps 7-16 at 10 ms per step); "last" reads the
  model's last step, "steps" fits one readout per step. "passive" stops it.
- Deterministic models: `number_of_trials` repeats nothing (one
  presentation per stimulus), as for Brain-Score's deterministic models.
- The last of `start_recording` / `start_task` decides what `look_at`
  returns.
"""

import dataclasses

import numpy as np

from tnn.brainscore import assemblies, commitment, timing
from tnn.brainscore import readout as readout_lib
from tnn.brainscore import stimuli as stimuli_lib
from tnn.brainscore.extraction import FeatureExtractor
from tnn.neural.features import default_nodes

TASKS = ("passive", "label", "probabilities")


@dataclasses.dataclass
class Recording:
    """Recordings as numpy: values `[P, K, B]` and coordinates per dim."""

    values: np.ndarray
    presentation: dict
    neuroid: dict
    time_bin: dict


def _check_region_layers(model, region_layers):
    out = {}
    for region, nodes in dict(region_layers or {}).items():
        nodes = [nodes] if isinstance(nodes, str) else list(nodes)
        unknown = [n for n in nodes if n not in model.graph_nodes]
        if not nodes or unknown:
            raise ValueError(
                f"region {region!r} is committed to node(s) {nodes}, but "
                f"model {model.name!r} has no node {unknown[:1] or nodes}; "
                f"its nodes are {model.spec.node_names}.")
        out[str(region)] = nodes
    return out


def _time_bin_coords(bins):
    return {"time_bin_start": bins[:, 0], "time_bin_end": bins[:, 1]}


class TNNBrainModel:
    """A TNNGraph as a Brain-Score `BrainModel` (module docs).

    Args:
        model: a TNNGraph (its presentation: `times`, `image_off`).
        region_layers: `{region: node or [nodes]}`, e.g. `{"V4": "conv4",
            "IT": "conv5"}`; regions may also be committed later from data
            (`commit_regions`).
        visual_degrees: the visual angle the model's input spans.
        identifier: the model's Brain-Score name (default `model.name`).
        behavioral_readout_layer: node of the behavioural readout (default:
            IT's node, else the last node before the readout).
        readout_time_bins: bins (ms) of the behavioural readout (default
            [(70, 170)]; "last": the model's last step; "steps": one
            readout per step).
        step_ms, latency_ms, max_steps: the timing rule
            (`tnn.brainscore.timing`).
        reduction, dims, seed, batch_size: feature extraction
            (`tnn.brainscore.extraction`).
        precision: the forward pass's: None (as the model was built),
            "float32", "mixed_bfloat16" or "auto" (bfloat16 where the
            machine computes it natively; `tnn.graphs.precision`).
        readout_C: inverse L2 strength of the logistic readout.
    """

    def __init__(self, model, region_layers=None, visual_degrees=8,
                 identifier=None, behavioral_readout_layer=None,
                 readout_time_bins=((70, 170),), step_ms=timing.STEP_MS,
                 latency_ms=0.0, max_steps=timing.DEFAULT_MAX_STEPS,
                 reduction="projection", dims=1024, seed=0, batch_size=32,
                 readout_C=1e-3, precision=None):
        if isinstance(visual_degrees, bool) or not isinstance(
                visual_degrees, (int, float)) or visual_degrees <= 0:
            raise ValueError(f"visual_degrees must be a positive number, got "
                             f"{visual_degrees!r}.")
        self.model = model
        self.region_layers = _check_region_layers(model, region_layers)
        self._visual_degrees = visual_degrees
        self._identifier = str(identifier or model.name)
        if behavioral_readout_layer is not None:
            _check_region_layers(model,
                                 {"behaviour": behavioral_readout_layer})
        self._readout_layer = behavioral_readout_layer
        self.readout_time_bins = readout_time_bins
        self.step_ms = timing.check_positive(step_ms, "step_ms")
        if isinstance(latency_ms, bool) or not isinstance(
                latency_ms, (int, float)) or not np.isfinite(latency_ms):
            raise ValueError(f"latency_ms must be a finite number, got "
                             f"{latency_ms!r}.")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or \
                max_steps < 1:
            raise ValueError(f"max_steps must be a positive int, got "
                             f"{max_steps!r}.")
        self.latency_ms, self.max_steps = float(latency_ms), max_steps
        self.extractor = FeatureExtractor(model, reduction, dims, seed,
                                          batch_size, precision)
        self.readout_C = readout_C
        self._recording = None
        self._task = None

    # --- the BrainModel interface -------------------------------------------

    @property
    def identifier(self):
        return self._identifier

    def visual_degrees(self):
        return self._visual_degrees

    def start_recording(self, recording_target, time_bins):
        """Records `recording_target`'s node(s) in `time_bins` (ms) from the
        next `look_at` on."""
        region = str(recording_target)
        if region not in self.region_layers:
            raise ValueError(
                f"region {region!r} has no committed node in "
                f"{self.identifier!r} (committed: "
                f"{sorted(self.region_layers) or 'none'}); pass region_layers="
                f"{{{region!r}: '<node>'}} or commit it from your own data "
                "with commit_regions(neural_data).")
        bins = timing.check_time_bins(time_bins)
        weights = self._weights(bins)
        self._recording = (region, bins, weights)
        self._task = None

    def start_task(self, task, fitting_stimuli=None, time_bins=None,
                   choice_labels=None, number_of_trials=1,
                   require_variance=False, aggregation=None):
        """"probabilities" / "label": fits the logistic readout on
        `fitting_stimuli` (a StimulusSet with `image_label`, or
        `(stimuli, labels)`); "passive": no output.

        Args:
            task: "passive", "label" or "probabilities".
            fitting_stimuli: the labelled stimuli of the readout.
            time_bins: bins (ms) of the readout, overriding
                `readout_time_bins`; several bins fit one readout per bin.
            choice_labels: optional labels the fitted ones must be among.
            number_of_trials, require_variance, aggregation: accepted as
                Brain-Score's benchmarks pass them; a deterministic model
                has nothing to repeat, and the fitted readout nothing to
                aggregate.
        """
        task = str(task)
        if task not in TASKS:
            raise ValueError(
                f"task {task!r} is not supported by TNNBrainModel; it "
                f"performs {list(TASKS)}.")
        self._recording = None
        if task == "passive":
            self._task = None
            return
        given = fitting_stimuli
        if given is None or isinstance(given, str) or (
                isinstance(given, list) and given and
                all(isinstance(v, str) for v in given)):
            shown = "" if given is None else f" (got {given!r})"
            raise ValueError(
                f"the {task!r} task needs labelled fitting stimuli{shown}: "
                "TNNBrainModel reads behaviour out with a logistic regression "
                f"fitted on them (it has no ImageNet head mapping); call "
                f"start_task({task!r}, fitting_stimuli) with a StimulusSet "
                "holding an image_label column, or a pair (stimuli, labels).")
        items, _, labels = stimuli_lib.fitting_table(given)
        readout_lib.check_labels(labels, len(items))   # before the model runs
        if choice_labels is not None and not isinstance(choice_labels, str):
            extra = sorted(set(labels.tolist()) - set(list(choice_labels)))
            if extra:
                raise ValueError(
                    f"fitting labels {extra} are not among the choice labels "
                    f"{list(choice_labels)}.")
        bins = self._readout_bins(time_bins)
        weights = self._weights(bins)
        features = self.binned_features(items, [self.readout_layer], bins,
                                        weights)[self.readout_layer]
        if bins.shape[0] == 1:
            fitted = readout_lib.LogisticReadout(self.readout_C).fit(
                features[:, 0], labels)
        else:
            fitted = readout_lib.StepReadout(self.readout_C).fit(features,
                                                                 labels)
        self._task = (task, bins, weights, fitted)

    def look_at(self, stimuli, number_of_trials=1, require_variance=False):
        """Recordings (`NeuroidAssembly`), behaviour (`BehavioralAssembly`)
        or None (passive), as the last start_* call asked."""
        if self._task is not None or self._recording is not None:
            assemblies.brainio()   # fails early without Brain-Score
        if self._task is not None:
            values, dims, coords = self.behave(stimuli)
            return assemblies.behavioral_assembly(values, dims, coords)
        if self._recording is None:
            return None
        rec = self.record(stimuli)
        return assemblies.neuroid_assembly(rec.values, rec.presentation,
                                           rec.neuroid, rec.time_bin)

    # --- numpy core ---------------------------------------------------------

    @property
    def readout_layer(self):
        if self._readout_layer is not None:
            return self._readout_layer
        if "IT" in self.region_layers:
            return self.region_layers["IT"][-1]
        return default_nodes(self.model)[-1]

    def _weights(self, bins):
        return timing.time_bin_weights(
            bins, self.model.times, self.step_ms, self.latency_ms,
            self.max_steps, f"model {self.model.name!r}")

    def _readout_bins(self, time_bins):
        time_bins = self.readout_time_bins if time_bins is None else time_bins
        start = self.latency_ms + self.step_ms * np.arange(self.model.times)
        if isinstance(time_bins, str):
            if time_bins not in ("last", "steps"):
                raise ValueError(f"readout time bins must be (start_ms, "
                                 f"end_ms) pairs, 'last' or 'steps', got "
                                 f"{time_bins!r}.")
            bins = np.stack([start, start + self.step_ms], axis=1)
            return bins[-1:] if time_bins == "last" else bins
        return timing.check_time_bins(time_bins)

    def binned_features(self, items, nodes, bins, weights=None):
        """`{node: [N, B, D]}`: features of `items` in time bins `[B, 2]`
        (`weights`: their `timing.time_bin_weights`, if known)."""
        weights = self._weights(bins) if weights is None else weights
        # only the steps some bin weighs are kept (and unrolled up to)
        kept = np.flatnonzero(np.any(np.asarray(weights) != 0, axis=0))
        kept = kept if kept.size else None
        features = self.extractor(items, nodes, weights.shape[1], kept)
        weights = weights if kept is None else np.asarray(weights)[:, kept]
        return {n: timing.bin_features(f, weights)
                for n, f in features.items()}

    def record(self, stimuli):
        """The current recording as a `Recording` (numpy)."""
        if self._recording is None:
            raise ValueError("nothing is recorded; call start_recording("
                             "region, time_bins) first.")
        region, bins, weights = self._recording
        items, presentation = stimuli_lib.stimulus_table(stimuli)
        nodes = self.region_layers[region]
        features = self.binned_features(items, nodes, bins, weights)
        blocks = [features[n] for n in nodes]
        values = np.concatenate(blocks, axis=-1).transpose(0, 2, 1)
        layer = np.concatenate([[n] * b.shape[-1]
                                for n, b in zip(nodes, blocks)])
        unit = np.concatenate([np.arange(b.shape[-1]) for b in blocks])
        neuroid = {"neuroid_id": np.asarray([f"{n}.{u}" for n, u in
                                             zip(layer, unit)]),
                   "neuroid_num": np.arange(layer.size),
                   "layer": layer.astype(str),
                   "region": np.asarray([region] * layer.size)}
        return Recording(values, presentation, neuroid,
                         _time_bin_coords(bins))

    def behave(self, stimuli):
        """(values, dims, coords) of the current task on `stimuli`."""
        task, bins, weights, fitted = self._task
        items, presentation = stimuli_lib.stimulus_table(stimuli)
        features = self.binned_features(items, [self.readout_layer], bins,
                                        weights)[self.readout_layer]
        per_bin = bins.shape[0] > 1
        proba = (fitted.predict_proba(features) if per_bin else
                 fitted.predict_proba(features[:, 0])[:, None])  # [N, B, K]
        choices = np.asarray(fitted.choices, dtype=object)
        time_bin = _time_bin_coords(bins)
        if task == "probabilities":
            values = proba.transpose(0, 2, 1)
            dims = ["presentation", "choice", "time_bin"]
            coords = {"presentation": presentation,
                      "choice": {"choice": choices}, "time_bin": time_bin}
            if not per_bin:
                return values[..., 0], dims[:2], {
                    k: coords[k] for k in dims[:2]}
            return values, dims, coords
        labels = choices[proba.argmax(axis=-1)]       # [N, B]
        if not per_bin:
            return labels[None, :, 0], ["choice", "presentation"], {
                "presentation": {**presentation, "label": labels[:, 0]}}
        return labels[None], ["choice", "presentation", "time_bin"], {
            "presentation": presentation, "time_bin": time_bin}

    def commit_regions(self, data, **kwargs):
        """Commits regions to nodes from a layer sweep on `data` (a
        `tnn.neural.NeuralData`); see `tnn.brainscore.commit_regions`.
        Returns the sweep report."""
        layers, report = commitment.commit_regions(self, data, **kwargs)
        self.region_layers.update({r: [n] for r, n in layers.items()})
        return report


def make_brain_model(model, **kwargs):
    """A `TNNBrainModel` that is also a `brainscore_vision` `BrainModel`
    instance (needs `pip install 'tnn[brainscore]'`)."""
    try:
        from brainscore_vision.model_interface import BrainModel
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] not in ("brainscore_vision",
                                                      "brainscore_core"):
            raise
        raise ModuleNotFoundError(assemblies.INSTALL_HINT) from None

    class BrainScoreTNNModel(TNNBrainModel, BrainModel):
        """TNNBrainModel registered as a Brain-Score BrainModel."""

    return BrainScoreTNNModel(model, **kwargs)
