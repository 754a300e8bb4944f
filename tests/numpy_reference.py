"""Independent numpy references of the cells (TNN_REFERENCE §3) and of the
TF ops they use, in float64. Weights are read by their TF1 names, so a
swapped variable shows up as a wrong number; nothing here imports tnn."""

import numpy as np

# §3.8: the gate constants of the median reciprocal gated cell.
MEDIAN_TAU = 0.9219348064291611
MEDIAN_GATE = 0.7006566684988862


def _pad_same(x, kh, kw):
    """TF SAME padding for stride 1 (the extra row/col bottom/right)."""
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left),
                      (0, 0)))


def conv2d_same(x, kernel, bias=None):
    """Stride-1 SAME convolution (`kernel` `[kh, kw, C_in, C_out]`)."""
    kh, kw = kernel.shape[:2]
    padded = _pad_same(x, kh, kw)
    height, width = x.shape[1:3]
    out = np.zeros(x.shape[:3] + (kernel.shape[3],), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("bhwc,cd->bhwd",
                             padded[:, i:i + height, j:j + width],
                             kernel[i, j])
    return out if bias is None else out + bias


def depthwise_same(x, kernel):
    """Stride-1 SAME depthwise convolution (`kernel` `[kh, kw, C, 1]`)."""
    kh, kw = kernel.shape[:2]
    padded = _pad_same(x, kh, kw)
    height, width = x.shape[1:3]
    out = np.zeros(x.shape, np.float64)
    for i in range(kh):
        for j in range(kw):
            out += padded[:, i:i + height, j:j + width] * kernel[i, j, :, 0]
    return out


def separable_same(x, depthwise, pointwise, bias):
    return conv2d_same(depthwise_same(x, depthwise), pointwise, bias)


def layer_norm(x, gamma, beta, eps=1e-12):
    """`tf.contrib.layers.layer_norm`: moments over H, W, C per example."""
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = x.var(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def swish(x):
    return x * sigmoid(x)


ACT = {None: lambda z: z, "elu": elu, "tanh": np.tanh, "sigmoid": sigmoid,
       "swish": swish}


# --- the conv cells over a sequence xs [T, B, H, W, C] ----------------------

def np_gru(v, xs, forget_bias, layer_norm_, filters):
    """The zoo GRU of §3.3; returns (outputs, last h)."""
    p = "ConvGRUCell/"
    h = np.zeros(xs.shape[1:4] + (filters,))
    outs = []
    for x in xs.astype(np.float64):
        g = conv2d_same(np.concatenate([x, h], -1), v[p + "gates/weights"],
                        v[p + "gates/bias"])
        r_pre, u_pre = g[..., :filters], g[..., filters:]
        if layer_norm_:
            r_pre = layer_norm(r_pre, v[p + "gates/r_pre/gamma"],
                               v[p + "gates/r_pre/beta"])
            u_pre = layer_norm(u_pre, v[p + "gates/u_pre/gamma"],
                               v[p + "gates/u_pre/beta"])
        r = sigmoid(r_pre + forget_bias)
        u = sigmoid(u_pre)
        c_pre = conv2d_same(np.concatenate([x, r * h], -1),
                            v[p + "candidates/weights"],
                            v[p + "candidates/bias"])
        if layer_norm_:
            c_pre = layer_norm(c_pre, v[p + "candidates/c_pre/gamma"],
                               v[p + "candidates/c_pre/beta"])
        h = u * h + (1 - u) * np.tanh(c_pre)
        outs.append(h)
    return np.stack(outs), h


def np_lstm(v, xs, forget_bias, peepholes, layer_norm_, filters):
    """The conv LSTM of §3.4; returns (outputs, last state [c, h])."""
    p = "ConvLSTMCell/"
    c = np.zeros(xs.shape[1:4] + (filters,))
    h = np.zeros_like(c)
    outs = []
    for x in xs.astype(np.float64):
        z = conv2d_same(np.concatenate([x, h], -1), v[p + "weights"],
                        v[p + "bias"])
        i, j, f, o = np.split(z, 4, axis=-1)
        if layer_norm_:
            i, j, f, o = (layer_norm(g, v[f"{p}{s}/gamma"], v[f"{p}{s}/beta"])
                          for g, s in zip((i, j, f, o), (
                              "input", "transform", "forget", "output")))
        if peepholes:
            f = f + v[p + "peepholes/w_f_diag"] * c
            i = i + v[p + "peepholes/w_i_diag"] * c
            o = o + v[p + "peepholes/w_o_diag"] * c
        new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        if layer_norm_:
            new_c = layer_norm(new_c, v[p + "state/gamma"],
                               v[p + "state/beta"])
        h = np.tanh(new_c) * sigmoid(o)
        c = new_c
        outs.append(h)
    return np.stack(outs), np.concatenate([c, h], -1)


def np_rnn(v, xs, variant, layer_norm_, act, filters):
    """The vanilla conv RNN of §3.2 (zoo or tnn variant)."""
    h = np.zeros(xs.shape[1:4] + (filters,))
    outs = []
    for x in xs.astype(np.float64):
        if variant == "tnn":
            pre = conv2d_same(np.concatenate([x, h], -1),
                              v["ConvBasicCell/weights"],
                              v["ConvBasicCell/bias"])
        else:
            p = "ConvNormBasicCell/"
            pre = (conv2d_same(x, v[p + "i/weights"], v[p + "i/bias"])
                   + conv2d_same(h, v[p + "s/weights"], v[p + "s/bias"]))
            if layer_norm_:
                pre = layer_norm(pre, v[p + "layer_norm/gamma"],
                                 v[p + "layer_norm/beta"])
        h = act(pre)
        outs.append(h)
    return np.stack(outs), h


def np_ugrnn(v, xs, forget_bias, filters):
    """The UGRNN of §3.5."""
    h = np.zeros(xs.shape[1:4] + (filters,))
    outs = []
    for x in xs.astype(np.float64):
        z = conv2d_same(np.concatenate([x, h], -1),
                        v["ConvUGRNNCell/weights"], v["ConvUGRNNCell/bias"])
        g = sigmoid(z[..., :filters] + forget_bias)
        h = g * h + (1 - g) * np.tanh(z[..., filters:])
        outs.append(h)
    return np.stack(outs), h


def np_intersection(v, xs, forget_bias):
    """The IntersectionRNN of §3.6; the output differs from the state."""
    p = "ConvIntersectionRNNCell/"
    h = np.zeros(xs.shape[1:])
    outs = []
    for x in xs.astype(np.float64):
        z = conv2d_same(np.concatenate([x, h], -1), v[p + "weights"],
                        v[p + "bias"])
        gh_pre, h_pre, gy_pre, y_pre = np.split(z, 4, axis=-1)
        gh = sigmoid(gh_pre + forget_bias)
        gy = sigmoid(gy_pre + forget_bias)
        h = gh * h + (1 - gh) * np.tanh(h_pre)
        outs.append(gy * x + (1 - gy) * np.maximum(y_pre, 0.0))
    return np.stack(outs), h


# --- the cells with residual / feedback inputs: one step --------------------

def np_rgc_step(cfg, w, x, u, fb, c, h):
    """One step of the general RGC (§3.7); `w` by TF1 name in the scope."""
    def op(scope, z):
        if f"{scope}/weights" in w:
            return conv2d_same(z, w[f"{scope}/weights"])
        z = depthwise_same(z, w[f"{scope}/depthwise_weights"])
        z = conv2d_same(z, w[f"{scope}/pointwise_weights"])
        return z + w[f"{scope}/bias"]

    get = cfg.get

    def tau(z):
        f_tau = ACT[get("tau_nonlinearity", "tanh")]
        return get("tau_offset", 1.0) + get("tau_multiplier", -1.0) * f_tau(z)

    def gate(z):
        f_g = ACT[get("gate_nonlinearity", "tanh")]
        return get("gate_offset", 1.0) + get("gate_multiplier", -1.0) * f_g(z)

    fb_act = ACT[get("feedback_activation")]
    entry = get("feedback_entry", "out") if fb is not None else None
    if entry == "input":
        x = x + fb_act(op("input/feedback", fb))
    x = ACT[get("input_activation")](x)
    a = 0.0
    if get("cell_residual"):
        a = a + op("cell/res_to_cell", u)
    if get("input_to_cell"):
        a = a + op("cell/input_to_cell", x)
    if entry == "cell":
        a = a + fb_act(fb + op("cell/feedback", fb))
    c_new = tau(op("cell/tau", c)) * c + gate(op("cell/gate", h)) * a
    if get("layer_norm"):
        c_new = layer_norm(c_new, w["cell/cell_layer_norm/gamma"],
                              w["cell/cell_layer_norm/beta"])
    c_new = ACT[get("cell_activation", "elu")](c_new)
    if "out/input_to_out_weights" in w:   # plain conv: the bias is not added
        m = conv2d_same(x, w["out/input_to_out_weights"])
    else:
        m = op("out/input_to_out", x) if get("input_to_out") else x
    g = 0.0
    if get("cell_to_out"):
        m = m + op("out/gate", c)
    else:
        g = op("out/gate", c)
    if get("out_residual"):
        proj = w.get("out/res_add/residual_add_weights")
        m = m + (u if proj is None else conv2d_same(u, proj))
    if entry == "out":
        m = m + fb_act(op("out/feedback", fb))
    if get("residual_to_out_gate"):
        g = g + op("out/residual_to_out_gate", u)
    h_new = tau(op("out/tau", h)) * h + gate(g) * m
    if get("layer_norm"):
        h_new = layer_norm(h_new, w["out/out_layer_norm/gamma"],
                              w["out/out_layer_norm/beta"])
    return c_new, ACT[get("out_activation", "elu")](h_new)


def np_median_step(w, x, u, fb, c, h):
    """One step of the §3.8 equations (zoo settings) in numpy."""
    def ds(scope, z):
        z = depthwise_same(z, w[f"{scope}/depthwise_weights"])
        z = conv2d_same(z, w[f"{scope}/pointwise_weights"])
        return z + w[f"{scope}/bias"]

    def tau(z):
        return MEDIAN_TAU * (1.0 - ACT["sigmoid"](z))

    def gate(z):
        return MEDIAN_GATE * (1.0 - np.tanh(z))

    elu = ACT["elu"]
    xt = elu(x)
    a = conv2d_same(xt, w["cell/input_to_cell_weights"]) + w[
        "cell/input_to_cell_bias"]
    c_new = elu(tau(ds("cell/tau", c)) * c
                + gate(ds("cell/out_to_cell", h)) * a)
    m = conv2d_same(xt, w["out/input_to_out_weights"]) + w[
        "out/input_to_out_bias"]
    proj = w.get("out/residual_add_weights")
    m = m + (u if proj is None else conv2d_same(u, proj))
    if fb is not None:
        m = m + conv2d_same(fb, w["out/feedback_to_out_weights"]) + w[
            "out/feedback_to_out_bias"]
    # The gate on h uses the previous memory c (not c_new).
    h_new = elu(tau(ds("out/tau", h)) * h + gate(ds("out/gate", c)) * m)
    return c_new, h_new


def np_efficient_step(cfg, w, x, u, fb, cell, s):
    """One step of §3.9 in numpy (no batch norm, no drop-connect)."""
    act = ACT[cfg.get("activation", "swish")]
    update = act(depthwise_same(x + s, w["state_to_state/weights"]))
    if fb is not None:
        update = update + act(conv2d_same(fb, w["feedback_to_state/weights"]))
    s_new = s + update
    cell_new = u if cfg.get("res_cell") else cell
    z = x + s if cfg.get("bypass_state") else s_new
    if "se_reduce/weights" in w:
        pooled = z.mean(axis=(1, 2), keepdims=True)
        reduced = act(conv2d_same(pooled, w["se_reduce/weights"])
                      + w["se_reduce/bias"])
        z = ACT["sigmoid"](conv2d_same(reduced, w["se_expand/weights"])
                           + w["se_expand/bias"]) * z
    out = conv2d_same(z, w["state_to_out/weights"])
    if u is not None and u.shape[-1] == cfg["filters"]:
        out = out + u
    elif u is not None and cfg.get("residual_add"):
        out[..., :u.shape[-1]] += u
    return out, cell_new, s_new
