"""Bilinear resize with TF1 `align_corners=True` semantics (§1.3).

For an output index `i` along an axis of length `n_out` from `n_in`:
`src = i * (n_in - 1) / (n_out - 1)` (0 if `n_out == 1`), `i0 = floor(src)`,
`i1 = min(i0 + 1, n_in - 1)`, `w = src - i0`, `y[i] = (1 - w) x[i0] + w x[i1]`.
Sizes are static, so the resize is two small matrix products with
precomputed interpolation matrices: `Y = A_H · X · A_Wᵀ` per channel. This is
backend-portable (keras.ops) and exact for same-size inputs (identity).
"""

import functools

import numpy as np
from keras import ops


@functools.lru_cache(maxsize=None)
def interpolation_matrix(n_in, n_out):
    """`[n_out, n_in]` align-corners bilinear interpolation matrix."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"Cannot resize between sizes {n_in} and {n_out}.")
    # TF1 computes the scale and source coordinates in float32.
    scale = np.float32((n_in - 1) / (n_out - 1)) if n_out > 1 else 0.0
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        src = float(np.float32(i) * np.float32(scale))
        i0 = min(int(np.floor(src)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        w = src - i0
        matrix[i, i0] += 1.0 - w
        matrix[i, i1] += w
    matrix.setflags(write=False)
    return matrix


def resize_align_corners(x, size):
    """Resizes NHWC `x` to `size = (H, W)` (identity if already that size)."""
    h_in, w_in = int(x.shape[1]), int(x.shape[2])
    h_out, w_out = int(size[0]), int(size[1])
    if (h_in, w_in) == (h_out, w_out):
        return x
    dtype = x.dtype
    if h_in != h_out:
        a_h = ops.convert_to_tensor(interpolation_matrix(h_in, h_out), dtype)
        x = ops.einsum("hH,bHwc->bhwc", a_h, x)
    if w_in != w_out:
        a_w = ops.convert_to_tensor(interpolation_matrix(w_in, w_out), dtype)
        x = ops.einsum("wW,bhWc->bhwc", a_w, x)
    return x
