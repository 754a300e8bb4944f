"""Layer sweep vs a plain per-bin scikit-learn loop (issue #4, item 8).

    python benchmarks/neural_fit.py            # 640 x 5 x 26 x 10, minutes
    python benchmarks/neural_fit.py --quick    # seconds (used by the tests)

Data: 640 synthetic stimuli (8 shape categories x 80, 32 x 32 px) and one
synthetic IT-like area of 64 neurons x 20 trials x 26 bins of 10 ms
(`tnn.neural.synthetic.generator`), driven by node conv4 of a fixed random
numpy ConvNet with 5 nodes (`RandomConvFeatures`, 2048/1024/512/1024/1024
units). Each node's features are reduced to D = 1000 dims by a fixed
Gaussian random projection, as one would reduce a real layer.

Both sides score every node x bin x split (10 stratified 90/10 splits,
PLS with 25 components, scale=False, Pearson per neuron, median over
neurons, mean over splits):

- reference: `PLSRegression(25, scale=False).fit(X[train], Y[train])`,
  `.predict(X[test])` for every (node, bin, split): 1300 fits;
- sweep: `tnn.neural.layer_sweep` (batched kernel NIPALS; also computes the
  split-half ceilings, which the reference does not).

Both run with BLAS limited to one thread (threadpoolctl): on a 2-core,
shared machine both are faster that way (OpenBLAS threading of the many
small products costs more than it gains), so neither side is handicapped.
The script prints the speed ratio of one run and the largest difference
between the two sets of per-bin scores.
"""

import argparse
import sys
import time
import warnings

import numpy as np
import threadpoolctl
from sklearn.cross_decomposition import PLSRegression
from sklearn.exceptions import ConvergenceWarning

from tnn import neural
from tnn.neural.synthetic import generator as sv

FULL = dict(n_per_category=80, n_categories=8, nodes=5, bins=26, splits=10,
            dim=1000, neurons=64)
QUICK = dict(n_per_category=12, n_categories=6, nodes=3, bins=4, splits=3,
             dim=120, neurons=12)


def make_problem(n_per_category, n_categories, nodes, bins, dim, neurons,
                 seed=0):
    """Stimuli, projected node features and synthetic neural data."""
    stimuli, labels, ids = sv.render_stimuli(
        n_per_category, 32, sv.CATEGORIES[:n_categories], seed=seed)
    channels = (8, 16, 32, 64, 64)[:nodes]
    pool = (True, True, True, False, False)[:nodes]
    model = sv.RandomConvFeatures(channels, pool, n_steps=bins,
                                  image_off=min(10, bins), seed=seed)
    raw = model(stimuli)
    driver = model.nodes[min(3, nodes - 1)]
    area = sv.AreaSpec("IT", driver, n_neurons=neurons,
                       latency_ms=10.0 * min(6, bins - 2))
    data, _ = sv.generate_synthetic_ventral(
        lambda s: raw, stimuli, labels, ids, areas=(area,), n_bins=bins,
        seed=seed)
    rng = np.random.default_rng(seed)
    features = {}
    for node, x in raw.items():
        proj = rng.standard_normal((x.shape[-1], dim)) / np.sqrt(dim)
        features[node] = (x @ proj.astype(np.float32)).astype(np.float32)
    return features, data


def sklearn_loop(features, data, splits):
    """Per-bin mean scores [node][B] with one PLSRegression per fit."""
    average = data.trial_average()
    out = {}
    for node, x in features.items():
        per_split = np.zeros((len(splits), data.n_bins))
        for b in range(data.n_bins):
            for s, (train, test) in enumerate(splits):
                if np.ptp(x[train, b], axis=0).max() == 0:
                    per_split[s, b] = np.nan  # constant features: no fit
                    continue
                pls = PLSRegression(n_components=25, scale=False)
                pls.fit(x[train, b], average[train, b])
                pred = pls.predict(x[test, b])
                r = neural.pearson_per_neuron(pred, average[test, b])
                per_split[s, b] = np.median(r)
        out[node] = per_split.mean(axis=0)
    return out


def run(config):
    print(f"problem: {config['n_per_category'] * config['n_categories']} "
          f"stimuli x {config['nodes']} nodes x {config['bins']} bins x "
          f"{config['splits']} splits, D={config['dim']} (random "
          f"projection), {config['neurons']} neurons, PLS 25 components")
    features, data = make_problem(
        config["n_per_category"], config["n_categories"], config["nodes"],
        config["bins"], config["dim"], config["neurons"])
    splits = neural.stimulus_splits(data.n_stimuli, data.object_label,
                                    config["splits"])
    with warnings.catch_warnings(), threadpoolctl.threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        report = neural.layer_sweep(features, data, n_splits=config["splits"],
                                    blas_threads=None)
        sweep_s = time.perf_counter() - start
        start = time.perf_counter()
        reference = sklearn_loop(features, data, splits)
        sklearn_s = time.perf_counter() - start
    nodes = report["areas"]["IT"]["nodes"]
    diff = 0.0
    for node in features:
        ours = np.asarray(nodes[node]["score_per_bin"], dtype=np.float64)
        if not np.array_equal(np.isnan(ours), np.isnan(reference[node])):
            raise AssertionError(f"{node}: undefined bins differ")
        diff = max(diff, np.nanmax(np.abs(ours - reference[node])))
    for node in features:
        print(f"  {node}: mean score {nodes[node]['mean_score']:.4f}")
    print(f"best node: {report['areas']['IT']['best_node']}")
    print(f"sklearn loop {sklearn_s:.1f} s, sweep {sweep_s:.1f} s")
    print(f"speed: sweep / sklearn loop = {sklearn_s / sweep_s:.1f}x faster")
    print(f"max |score difference| = {diff:.2e}")
    return {"sweep_s": sweep_s, "sklearn_s": sklearn_s, "max_diff": diff}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny problem (seconds), for tests")
    args = parser.parse_args(argv)
    return run(QUICK if args.quick else FULL)


if __name__ == "__main__":
    main(sys.argv[1:])
