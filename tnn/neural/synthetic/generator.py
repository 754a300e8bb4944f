"""Synthetic ventral stream: stimuli and V4/IT-like responses with known truth.

Ground truth, per area:

- a driving node: responses read out the node's features at the model step
  mapped to each bin (bin b <- step b + step_offset, the one-to-one mapping
  that `tnn.neural.layer_sweep` assumes by default) with a fixed random
  linear readout W [D, K];
- an onset latency: the drive is zero in bins that start before it;
- neuron-level recurrent dynamics over bins: a leaky integrator with
  adaptation, x_b = leak x_{b-1} + (1 - leak) e_b - adapt a_{b-1},
  a_b = 0.7 a_{b-1} + 0.3 x_b, and a rate mu = baseline + gain softplus(x);
- trial noise: Gaussian with variance floor^2 + fano * mu (Poisson-like),
  the floor set per neuron from a signal-to-noise ratio.

The true split-half ceiling follows from mu and the noise variance: with V
the variance of mu over stimuli, E the mean noise variance and halves of
m1 = R // 2 and m2 = R - m1 trials, the half means correlate with
rho = V / sqrt((V + E/m1) (V + E/m2)); the ceiling is the median over the
area's neurons of 2 rho / (1 + rho), which Brain-Score's split-half
estimate converges to (exactly so with no missing trials).

`features_fn(stimuli) -> {node: [N, T, D]}` supplies the model; any model
works (a TNNGraph wrapped in a function, or `RandomConvFeatures`, a fixed
random numpy ConvNet used in tests and demos).
"""

import dataclasses

import numpy as np

from tnn.neural.data import NeuralData, save_neural_data

CATEGORIES = ("disk", "square", "triangle", "cross", "star", "ring",
              "hexagon", "bar")


def _shape_mask(category, xx, yy):
    """Inside-test of a unit-size shape in its own (rotated) coordinates."""
    rho = np.hypot(xx, yy)
    theta = np.arctan2(yy, xx)
    if category == "disk":
        return rho <= 1.0
    if category == "ring":
        return (rho <= 1.0) & (rho >= 0.55)
    if category == "square":
        return np.maximum(np.abs(xx), np.abs(yy)) <= 0.8
    if category == "bar":
        return (np.abs(xx) <= 1.0) & (np.abs(yy) <= 0.3)
    if category == "cross":
        return ((np.abs(xx) <= 1.0) & (np.abs(yy) <= 0.3)) | \
            ((np.abs(yy) <= 1.0) & (np.abs(xx) <= 0.3))
    if category in ("triangle", "hexagon"):
        sides = 3 if category == "triangle" else 6
        sector = 2 * np.pi / sides
        local = np.mod(theta, sector) - sector / 2
        return rho * np.cos(local) <= np.cos(np.pi / sides)
    if category == "star":
        return rho <= 0.45 + 0.55 * np.abs(np.cos(2.5 * theta))
    raise ValueError(f"unknown category {category!r}; known: {CATEGORIES}.")


def render_stimuli(n_per_category, size=32, categories=CATEGORIES[:6],
                   seed=0):
    """Renders shapes at random positions, sizes, rotations and colours.

    Each image is one object on a textured background (a random sum of
    oriented gratings plus pixel noise).

    Args:
        n_per_category: images per category.
        size: image height = width in pixels.
        categories: names from CATEGORIES.
        seed: random seed.

    Returns:
        (stimuli uint8 [N, size, size, 3], object_label [N] str,
        stimulus_id [N] str), N = n_per_category * len(categories).
    """
    if n_per_category < 1 or size < 8:
        raise ValueError(
            f"need n_per_category >= 1 and size >= 8, got {n_per_category} "
            f"and {size}.")
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise ValueError(
            f"unknown category {str(unknown[0])!r}; known: {CATEGORIES}.")
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.asarray(categories, dtype=str), n_per_category)
    n = labels.size
    grid = (np.arange(size) + 0.5) / size * 2 - 1
    gx, gy = np.meshgrid(grid, grid)
    images = np.empty((n, size, size, 3))
    for i, label in enumerate(labels):
        back = np.zeros((size, size))
        for _ in range(3):
            ori, freq = rng.uniform(0, np.pi), rng.uniform(2, 8)
            back += np.sin(freq * (gx * np.cos(ori) + gy * np.sin(ori)) +
                           rng.uniform(0, 2 * np.pi))
        back = 0.5 + 0.12 * back + 0.05 * rng.standard_normal((size, size))
        tint = rng.uniform(0.7, 1.0, size=3)
        image = back[..., None] * tint
        scale = rng.uniform(0.3, 0.6)
        cx, cy = rng.uniform(-0.45, 0.45, size=2)
        rot = rng.uniform(0, 2 * np.pi)
        dx, dy = (gx - cx) / scale, (gy - cy) / scale
        xx = dx * np.cos(rot) + dy * np.sin(rot)
        yy = -dx * np.sin(rot) + dy * np.cos(rot)
        inside = _shape_mask(str(label), xx, yy)
        image[inside] = rng.uniform(0.0, 1.0, size=3)
        images[i] = image
    stimuli = np.clip(np.round(images * 255), 0, 255).astype(np.uint8)
    ids = np.asarray([f"stim_{i:05d}" for i in range(n)])
    return stimuli, labels, ids


class RandomConvFeatures:
    """A fixed random ConvNet in numpy with a simple temporal profile.

    Node "conv<d>" (d = 1, 2, ...) applies a 3x3 convolution to the
    previous node (the image for d = 1), squares it (energy units, like
    complex cells), normalises it divisively by the mean energy over
    channels at each position (+0.01), then pools 2x2 (average) where
    `pool[d-1]` is true. The normalisation keeps every node at unit scale
    and makes each node a strongly nonlinear function of the previous one,
    so that a linear readout tells the nodes apart. Like a TNN unrolled
    biologically, node d outputs nothing before step d; while the image is
    on (steps d .. image_off + d - 1) a sustained response s_t (leaky
    integration, factor 0.5) and a transient one (on-signal minus s_t,
    floored at 0) weight two filter banks:
    features_t = s_t * sustained_bank + transient_t * transient_bank.
    The sustained bank feeds the next node.

    Args:
        channels: output channels per node.
        pool: 2x2 average pooling after each node.
        n_steps: model steps T.
        image_off: step at which the image is switched off.
        seed: weight seed.
    """

    def __init__(self, channels=(8, 16, 32), pool=None, n_steps=26,
                 image_off=10, seed=0):
        if not channels or min(channels) < 1:
            raise ValueError(f"channels must be positive ints, got "
                             f"{channels!r}.")
        pool = (True,) * len(channels) if pool is None else tuple(pool)
        if len(pool) != len(channels):
            raise ValueError(
                f"pool has {len(pool)} entries for {len(channels)} nodes.")
        if n_steps < 1 or not 0 < image_off <= n_steps:
            raise ValueError(
                f"need n_steps >= 1 and 0 < image_off <= n_steps, got "
                f"{n_steps} and {image_off}.")
        self.channels, self.pool = tuple(channels), pool
        self.n_steps, self.image_off, self.seed = n_steps, image_off, seed
        self.nodes = [f"conv{d + 1}" for d in range(len(channels))]

    def _weights(self, depth, c_in, c_out, bank):
        rng = np.random.default_rng([self.seed, depth, bank])
        scale = np.sqrt(2.0 / (9 * c_in))
        return rng.standard_normal((9 * c_in, c_out)) * scale

    @staticmethod
    def _conv(x, weight):
        n, h, w, c = x.shape
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        cols = [padded[:, i:i + h, j:j + w] for i in range(3)
                for j in range(3)]
        energy = np.square(np.concatenate(cols, axis=-1) @ weight)
        return energy / (energy.mean(axis=-1, keepdims=True) + 0.01)

    @staticmethod
    def _pool(x):
        n, h, w, c = x.shape
        x = x[:, :h - h % 2, :w - w % 2]
        return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))

    def time_profile(self, depth):
        """(sustained [T], transient [T]) weights of node `depth` (1-based)."""
        on = np.zeros(self.n_steps)
        on[depth:self.image_off + depth] = 1.0
        sustained = np.zeros(self.n_steps)
        for t in range(1, self.n_steps):
            sustained[t] = 0.5 * sustained[t - 1] + 0.5 * on[t]
        return sustained, np.maximum(on - sustained, 0.0)

    def __call__(self, stimuli):
        x = np.asarray(stimuli, dtype=np.float32) / 255.0 - 0.5
        out = {}
        for d, (c_out, pool) in enumerate(zip(self.channels, self.pool)):
            banks = []
            for bank in range(2):
                weight = self._weights(d, x.shape[-1], c_out, bank)
                y = self._conv(x, weight.astype(np.float32))
                banks.append(self._pool(y) if pool else y)
            sustained, transient = self.time_profile(d + 1)
            flat = [b.reshape(b.shape[0], -1) for b in banks]
            feats = (sustained[None, :, None] * flat[0][:, None] +
                     transient[None, :, None] * flat[1][:, None])
            out[self.nodes[d]] = feats.astype(np.float32)
            x = banks[0]
        return out


@dataclasses.dataclass(frozen=True)
class AreaSpec:
    """Ground truth of one synthetic area.

    Args:
        name: area name, e.g. "V4".
        node: the model node whose features drive the area.
        n_neurons: number of neurons K.
        latency_ms: bins starting before this get no drive.
        leak: range of the per-neuron leak of the recurrence (0 = none).
        adaptation: range of the per-neuron adaptation strength.
        snr: range of the per-neuron signal-to-noise-floor ratio.
        fano: Poisson-like variance per unit rate.
        readout_size: feature units read by each neuron (a random subset,
            Gaussian weights); None reads all units.
    """

    name: str
    node: str
    n_neurons: int = 40
    latency_ms: float = 60.0
    leak: tuple = (0.3, 0.7)
    adaptation: tuple = (0.0, 0.4)
    snr: tuple = (0.5, 1.2)
    fano: float = 0.5
    readout_size: int = 16

    def __post_init__(self):
        if self.n_neurons < 1:
            raise ValueError(f"area {self.name!r}: n_neurons must be >= 1, "
                             f"got {self.n_neurons}.")
        for key in ("leak", "adaptation", "snr"):
            lo, hi = getattr(self, key)
            if not 0 <= lo <= hi or (key == "leak" and hi >= 1):
                raise ValueError(
                    f"area {self.name!r}: {key} range {(lo, hi)} is invalid.")


DEFAULT_AREAS = (AreaSpec("V4", "conv2", latency_ms=60.0),
                 AreaSpec("IT", "conv3", latency_ms=80.0))


def _area_rates(spec, feats, steps, bin_start, rng):
    """Noise-free rates mu [N, B, K] and noise variances of one area."""
    n, _, dim = feats.shape
    k = spec.n_neurons
    readout = rng.standard_normal((dim, k))
    if spec.readout_size is not None and spec.readout_size < dim:
        keep = np.argsort(rng.random((dim, k)), axis=0) < spec.readout_size
        readout *= keep
    drive = np.einsum("nbd,dk->nbk", feats[:, steps].astype(np.float64),
                      readout)
    drive -= drive.mean(axis=(0, 1))
    drive /= drive.std(axis=(0, 1)) + 1e-12
    drive[:, bin_start < spec.latency_ms] = 0.0
    leak = rng.uniform(*spec.leak, size=k)
    adapt = rng.uniform(*spec.adaptation, size=k)
    state, trace = np.zeros((n, k)), np.zeros((n, k))
    x = np.zeros_like(drive)
    for b in range(drive.shape[1]):
        state = leak * state + (1 - leak) * drive[:, b] - adapt * trace
        trace = 0.7 * trace + 0.3 * state
        x[:, b] = state
    gain, baseline = rng.uniform(5, 15, size=k), rng.uniform(2, 10, size=k)
    mu = baseline + gain * np.logaddexp(0.0, x)
    signal_sd = mu.std(axis=0).max(axis=0)
    floor = signal_sd / rng.uniform(*spec.snr, size=k)
    var = floor ** 2 + spec.fano * mu
    return mu, var, {"leak": leak, "adaptation": adapt}


def true_reliability(mu, var, n_trials):
    """Per-neuron split-half SB reliability [B, K] implied by the truth."""
    m1 = n_trials // 2
    m2 = n_trials - m1
    v = mu.var(axis=0)
    e = var.mean(axis=0)
    v = np.where(v > 1e-12 * e, v, 0.0)  # rounding of a constant rate
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = v / np.sqrt((v + e / m1) * (v + e / m2))
    rho = np.where(v > 0, rho, 0.0)
    return 2 * rho / (1 + rho)


def generate_synthetic_ventral(features_fn, stimuli, object_label=None,
                               stimulus_id=None, areas=DEFAULT_AREAS,
                               n_trials=20, n_bins=26, bin_width_ms=10.0,
                               first_bin_ms=0.0, step_offset=0,
                               missing_fraction=0.0, seed=0):
    """Synthetic V4/IT-like data for `stimuli` from a model's features.

    Args:
        features_fn: callable stimuli -> {node: [N, T, D]}.
        stimuli: uint8 [N, H, W, 3].
        object_label: optional [N] labels written to the data.
        stimulus_id: optional [N] ids (default "stim_00000", ...).
        areas: AreaSpecs (default V4 <- conv2, IT <- conv3).
        n_trials: trials R per stimulus (>= 2).
        n_bins: neural bins B.
        bin_width_ms: bin width; bins start at first_bin_ms + b * width.
        first_bin_ms: start of the first bin.
        step_offset: bin b is driven by model step b + step_offset.
        missing_fraction: fraction of trials set to NaN at random (the
            truth's ceiling is exact only when 0).
        seed: random seed.

    Returns:
        (NeuralData, truth): truth is a JSON-ready dict with "step_offset",
        "model_steps" and per area "node", "latency_ms",
        "reliability_per_bin" [B] (true split-half ceiling),
        "neuron_reliability" [B][K], "leak" [K], "adaptation" [K].
    """
    if n_trials < 2:
        raise ValueError(f"n_trials must be >= 2, got {n_trials}.")
    if not 0 <= missing_fraction < 0.5:
        raise ValueError(
            f"missing_fraction must be in [0, 0.5), got {missing_fraction}.")
    stimuli = np.asarray(stimuli)
    n = stimuli.shape[0]
    feats = features_fn(stimuli)
    steps = step_offset + np.arange(n_bins)
    bin_start = first_bin_ms + bin_width_ms * np.arange(n_bins)
    rng = np.random.default_rng(seed)
    blocks, names, ids, truth = [], [], [], {}
    for spec in areas:
        if spec.node not in feats:
            raise ValueError(
                f"area {spec.name!r} is driven by node {spec.node!r}, but "
                f"features_fn returned {sorted(feats)}.")
        f = np.asarray(feats[spec.node])
        if f.ndim != 3 or f.shape[0] != n or f.shape[1] <= steps.max():
            raise ValueError(
                f"node {spec.node!r} features have shape {f.shape}; need "
                f"[{n}, > {int(steps.max())}, D] to cover {n_bins} bins.")
        mu, var, dyn = _area_rates(spec, f, steps, bin_start, rng)
        noise = rng.standard_normal((n_trials,) + mu.shape)
        blocks.append((mu + np.sqrt(var) * noise).astype(np.float32))
        names += [spec.name] * spec.n_neurons
        ids += [f"{spec.name}_{i:03d}" for i in range(spec.n_neurons)]
        rel = true_reliability(mu, var, n_trials)
        truth[spec.name] = {
            "node": spec.node, "latency_ms": float(spec.latency_ms),
            "reliability_per_bin": np.median(rel, axis=1).tolist(),
            "neuron_reliability": rel.tolist(),
            "leak": dyn["leak"].tolist(),
            "adaptation": dyn["adaptation"].tolist()}
    responses = np.concatenate(blocks, axis=-1)
    if missing_fraction:
        drop = rng.random(responses.shape[:2]) < missing_fraction
        drop[0] = False
        drop[1] = False
        responses[drop] = np.nan
    data = NeuralData(
        stimuli=stimuli, responses=responses,
        stimulus_id=(np.asarray([f"stim_{i:05d}" for i in range(n)])
                     if stimulus_id is None else stimulus_id),
        object_label=object_label, bin_start_ms=bin_start,
        bin_width_ms=bin_width_ms, neuron_area=np.asarray(names),
        neuron_id=np.asarray(ids))
    return data, {"step_offset": int(step_offset),
                  "model_steps": steps.tolist(), "areas": truth}


def write_synthetic_ventral(path, n_per_category=40, size=32, seed=0,
                            features_fn=None, **kwargs):
    """Renders stimuli, generates responses and writes the NPZ file.

    Args:
        path: destination .npz.
        n_per_category: images per category (6 categories).
        size: image size.
        seed: seed of stimuli and responses.
        features_fn: the model (default RandomConvFeatures(seed=seed)).
        **kwargs: passed to generate_synthetic_ventral.

    Returns:
        The truth dict of generate_synthetic_ventral.
    """
    stimuli, labels, ids = render_stimuli(n_per_category, size, seed=seed)
    features_fn = features_fn or RandomConvFeatures(seed=seed)
    data, truth = generate_synthetic_ventral(
        features_fn, stimuli, labels, ids, seed=seed, **kwargs)
    save_neural_data(data, path)
    return truth
