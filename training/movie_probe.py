"""Linear probe of a backbone's features on moving single digits.

What self-supervised pre-training learned is read out the usual way
(e.g. SimCLR, Chen et al. 2020): the backbone is frozen, a node's features
at one step are pooled over space (mean over h, w: `[N, C]`), standardised
and fed to a multinomial logistic regression (scikit-learn, L2, C = 1),
trained on clips of the train digit pool and scored (top-1) on clips of
the disjoint test pool. The clips show one moving digit (`n_digits=1`),
so the label is unambiguous.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .data import moving_digits as md
from .data import preprocessing


def pooled_features(backbone, frames, node, step=-1, batch_size=50,
                    recurrence="on"):
    """Mean-pooled `node` features at `step` of uint8 clips `[N,T,H,W,1]`."""
    out = []
    for start in range(0, len(frames), batch_size):
        movies = frames[start:start + batch_size].astype(np.float32) / 255.0
        movies = (movies - preprocessing.GRAYSCALE_MEAN[0]) \
            / preprocessing.GRAYSCALE_STD[0]
        feats = backbone.unroll(movies, nodes=[node],
                                recurrence=recurrence)[node]
        feats = np.asarray(feats)[:, step]
        out.append(feats.mean(axis=(1, 2)) if feats.ndim == 4 else feats)
    return np.concatenate(out)


def probe_clips(frames=12, n_train=1000, n_test=500, seed=0, **render):
    """Single-digit clips of both pools: dict split -> (frames, labels)."""
    result = {}
    for split, count in (("train", n_train), ("test", n_test)):
        clips = md.moving_digits(split, n_clips=count, frames=frames,
                                 n_digits=1, seed=seed, **render)
        result[split] = (clips["frames"], clips["labels"][:, 0])
    return result


def linear_probe(backbone, node, clips, step=-1):
    """Held-out top-1 accuracy of a logistic regression on the features."""
    x_train = pooled_features(backbone, clips["train"][0], node, step)
    x_test = pooled_features(backbone, clips["test"][0], node, step)
    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(C=1.0, max_iter=2000))
    probe.fit(x_train, clips["train"][1])
    return float(probe.score(x_test, clips["test"][1]))
