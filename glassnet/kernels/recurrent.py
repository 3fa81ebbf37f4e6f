"""An LSTM's and a GRU's step: the gates and the gradients of their equations (autodiff/ops_recurrent.py), one
compiled pass each.

Written in NumPy, each is a handful of elementwise operations on batch × units arrays (128 × 32 in the IMDB
example), each paying NumPy's call overhead for a microsecond of work, at each of 200 timesteps a batch. The
compiled loops read each value once and write the four gates' blocks side by side, in the layout of
a = [i, f, c̃, o]. They go a row at a time, each inner loop over one block of contiguous values, which LLVM
vectorizes (indexing a[r, 3u + k] element by element in one loop did not: 9.4 → 3.4 µs for the output's gradient
at 128 × 32). The gates' activations take one NumPy tanh over all of z (the transcendental function that NumPy
vectorizes and a compiled loop would not): σ(x) = ½ + ½·tanh(x/2) and tanh(x) = 2·tanh(x/2) / (1 + tanh²(x/2)).

A GRU's gates (reset_after=True) are a = [z, r, h̃] from the step's input part xw and recurrent part hu, each with
blocks z, r, h side by side in Keras's order; the candidate h̃ needs r first, so they are two tanh passes, each after
a compiled loop that writes its input.
"""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet.kernels.compiled import compiled
from glassnet.kernels.elementwise import stable_sigmoid


def lstm_gates(z: np.ndarray) -> np.ndarray:
    """a = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)], z's four blocks of units columns side by side."""
    if _compiled_for(z, z):
        a = np.multiply(z, z.dtype.type(0.5))
        np.tanh(a, out=a)
        compiled(lstm_gates_loop)(a)
        return a
    u = z.shape[-1] // 4
    return np.concatenate([stable_sigmoid(z[:, :2 * u]), np.tanh(z[:, 2 * u:3 * u]), stable_sigmoid(z[:, 3 * u:])],
                          axis=-1)


def lstm_gates_gradient(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """dz = da ⊙ [i(1 − i), f(1 − f), 1 − c̃², o(1 − o)] for a = [i, f, c̃, o] = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)]."""
    if _compiled_for(da, a):
        return _outputs_of(lstm_gates_gradient_loop, (da, a), a)
    u = a.shape[-1] // 4
    slope = a * (1 - a)
    slope[:, 2 * u:3 * u] = 1 - a[:, 2 * u:3 * u] * a[:, 2 * u:3 * u]
    return da * slope


def lstm_cell_state(a: np.ndarray, c_prev: np.ndarray) -> np.ndarray:
    """c = f ⊙ c_prev + i ⊙ c̃ (a = [i, f, c̃, o]), the products in NumPy's order: (f·c_prev) + (i·c̃)."""
    if _compiled_for(c_prev, a):
        return _outputs_of(lstm_cell_state_loop, (a, c_prev), c_prev)
    u = c_prev.shape[-1]
    c = a[:, u:2 * u] * c_prev
    c += a[:, :u] * a[:, 2 * u:3 * u]
    return c


def lstm_state_gradients(dc: np.ndarray, a: np.ndarray, c_prev: np.ndarray, da: np.ndarray) -> np.ndarray:
    """da += [dc ⊙ c̃, dc ⊙ c_prev, dc ⊙ i, 0] in place, and returns dc_prev = dc ⊙ f, for c = f ⊙ c_prev + i ⊙ c̃
    (a = [i, f, c̃, o]). da arrives holding the o block's gradient (from h = o ⊙ tanh(c)), or zeros."""
    if _compiled_for(dc, a) and da.dtype == dc.dtype:
        return _outputs_of(lstm_state_loop, (dc, a, c_prev, da), dc)
    u = dc.shape[-1]
    i, f, c_tilde = a[:, :u], a[:, u:2 * u], a[:, 2 * u:3 * u]
    da[:, :u] += dc * c_tilde
    da[:, u:2 * u] += dc * c_prev
    da[:, 2 * u:3 * u] += dc * i
    return dc * f


def lstm_output_gradients(dh: np.ndarray, a: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """da = [0, 0, 0, dh ⊙ tanh(c)] and dc = dh ⊙ o ⊙ (1 − tanh²(c)), for h = o ⊙ tanh(c) (a = [i, f, c̃, o])."""
    tanh_c = np.tanh(c)
    if _compiled_for(dh, a):
        return _outputs_of(lstm_output_loop, (dh, a, tanh_c), a, dh)
    o = a[:, 3 * dh.shape[-1]:]
    da = np.concatenate([np.zeros_like(a[:, :3 * dh.shape[-1]]), dh * tanh_c], axis=-1)
    return da, dh * o * (1 - tanh_c * tanh_c)


def gru_gates(xw: np.ndarray, hu: np.ndarray) -> np.ndarray:
    """a = [σ(xw_z + hu_z), σ(xw_r + hu_r), tanh(xw_h + r ⊙ hu_h)], xw's and hu's three blocks of units columns."""
    u = xw.shape[-1] // 3
    if _compiled_for(xw, hu):
        a = np.empty_like(hu)
        compiled(gru_half_sums_loop)(xw, hu, a)
        np.tanh(a[:, :2 * u], out=a[:, :2 * u])
        compiled(gru_candidate_loop)(xw, hu, a)
        np.tanh(a[:, 2 * u:], out=a[:, 2 * u:])
        return a
    a = np.empty(xw.shape, dtype=np.result_type(xw, hu))
    a[:, :2 * u] = stable_sigmoid(xw[:, :2 * u] + hu[:, :2 * u])
    np.tanh(xw[:, 2 * u:] + a[:, u:2 * u] * hu[:, 2 * u:], out=a[:, 2 * u:])
    return a


def gru_gates_gradients(da: np.ndarray, a: np.ndarray, hu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dxw = [dz ⊙ z(1 − z), (dr + dn ⊙ hu_h) ⊙ r(1 − r), dn] and dhu = [dxw_z, dxw_r, dn ⊙ r] for a = [z, r, h̃],
    where dn = dh̃ ⊙ (1 − h̃²) is the gradient of the candidate's pre-activation xw_h + r ⊙ hu_h."""
    if _compiled_for(da, a) and hu.dtype == a.dtype:
        return _outputs_of(gru_gates_gradients_loop, (da, a, hu), a, a)
    u = a.shape[-1] // 3
    z, r, h_tilde = a[:, :u], a[:, u:2 * u], a[:, 2 * u:]
    dxw = np.empty_like(a)
    dn = dxw[:, 2 * u:]
    np.multiply(da[:, 2 * u:], 1 - h_tilde * h_tilde, out=dn)
    np.multiply(da[:, :u], z * (1 - z), out=dxw[:, :u])
    np.multiply(da[:, u:2 * u] + dn * hu[:, 2 * u:], r * (1 - r), out=dxw[:, u:2 * u])
    dhu = dxw.copy()
    dhu[:, 2 * u:] *= r
    return dxw, dhu


def gru_state(a: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    """h = z ⊙ h_prev + (1 − z) ⊙ h̃ (a = [z, r, h̃]), the products in NumPy's order: (z·h_prev) + ((1 − z)·h̃)."""
    if _compiled_for(h_prev, a):
        return _outputs_of(gru_state_loop, (a, h_prev), h_prev)
    u = h_prev.shape[-1]
    z = a[:, :u]
    h = z * h_prev
    h += (1 - z) * a[:, 2 * u:]
    return h


def gru_state_gradients(dh: np.ndarray, a: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """da = [dh ⊙ (h_prev − h̃), 0, dh ⊙ (1 − z)] and dh_prev = dh ⊙ z, for h = z ⊙ h_prev + (1 − z) ⊙ h̃."""
    if _compiled_for(dh, a) and h_prev.dtype == a.dtype:
        return _outputs_of(gru_state_gradients_loop, (dh, a, h_prev), a, dh)
    u = dh.shape[-1]
    z, h_tilde = a[:, :u], a[:, 2 * u:]
    da = np.zeros_like(a)
    np.multiply(dh, h_prev - h_tilde, out=da[:, :u])
    np.multiply(dh, 1 - z, out=da[:, 2 * u:])
    return da, dh * z


def gru_half_sums_loop(xw, hu, a):
    """(xw + hu)/2 into a's z and r blocks (tanh of it gives σ: ½ + ½·tanh(x/2))."""
    half = a.dtype.type(0.5)
    u = a.shape[1] // 3
    for r in range(a.shape[0]):
        xw_r, hu_r, a_r = xw[r], hu[r], a[r]
        for k in range(2 * u):
            a_r[k] = half * (xw_r[k] + hu_r[k])


def gru_candidate_loop(xw, hu, a):
    """The z and r blocks from tanh(x/2) to σ(x) = ½ + ½·tanh(x/2) in place, then the candidate's pre-activation
    xw_h + r ⊙ hu_h into the h block (its tanh follows)."""
    half = a.dtype.type(0.5)
    u = a.shape[1] // 3
    for r in range(a.shape[0]):
        xw_r, hu_r, a_r = xw[r], hu[r], a[r]
        for k in range(2 * u):
            a_r[k] = half + half * a_r[k]
        for k in range(u):
            a_r[2 * u + k] = xw_r[2 * u + k] + a_r[u + k] * hu_r[2 * u + k]


def gru_gates_gradients_loop(da, a, hu, dxw, dhu):
    """The loop of :func:`gru_gates_gradients` (its products in NumPy's order), a row at a time."""
    one = a.dtype.type(1)
    u = a.shape[1] // 3
    for r in range(a.shape[0]):
        da_r, a_r, hu_r, dxw_r, dhu_r = da[r], a[r], hu[r], dxw[r], dhu[r]
        for k in range(u):
            dn = da_r[2 * u + k] * (one - a_r[2 * u + k] * a_r[2 * u + k])
            gate_r = a_r[u + k]
            dxw_r[2 * u + k] = dn
            dhu_r[2 * u + k] = dn * gate_r
            dxw_r[u + k] = dhu_r[u + k] = (da_r[u + k] + dn * hu_r[2 * u + k]) * (gate_r * (one - gate_r))
        for k in range(u):
            dxw_r[k] = dhu_r[k] = da_r[k] * (a_r[k] * (one - a_r[k]))


def gru_state_loop(a, h_prev, h):
    """The loop of :func:`gru_state`, a row at a time."""
    one = a.dtype.type(1)
    u = h_prev.shape[1]
    for r in range(h_prev.shape[0]):
        a_r, hp, h_r = a[r], h_prev[r], h[r]
        for k in range(u):
            h_r[k] = a_r[k] * hp[k] + (one - a_r[k]) * a_r[2 * u + k]


def gru_state_gradients_loop(dh, a, h_prev, da, dh_prev):
    """The loop of :func:`gru_state_gradients`, a row at a time (the r block's gradient is zero here)."""
    one, zero = a.dtype.type(1), a.dtype.type(0)
    u = dh.shape[1]
    for r in range(dh.shape[0]):
        d, a_r, hp, da_r, dhp = dh[r], a[r], h_prev[r], da[r], dh_prev[r]
        for k in range(u):
            da_r[k] = d[k] * (hp[k] - a_r[2 * u + k])
        for k in range(u):
            da_r[u + k] = zero
        for k in range(u):
            da_r[2 * u + k] = d[k] * (one - a_r[k])
        for k in range(u):
            dhp[k] = d[k] * a_r[k]


def lstm_gates_loop(t):
    """t = tanh(z/2) becomes a in place: ½ + ½t in the σ blocks, 2t / (1 + t²) in c̃'s (branch-free inner loops)."""
    half, one, two = t.dtype.type(0.5), t.dtype.type(1), t.dtype.type(2)
    u = t.shape[1] // 4
    for r in range(t.shape[0]):
        row = t[r]
        for k in range(2 * u):
            row[k] = half + half * row[k]
        for k in range(2 * u, 3 * u):
            row[k] = two * row[k] / (one + row[k] * row[k])
        for k in range(3 * u, 4 * u):
            row[k] = half + half * row[k]


def lstm_cell_state_loop(a, c_prev, c):
    """The loop of :func:`lstm_cell_state`, a row at a time."""
    u = c_prev.shape[1]
    for r in range(c_prev.shape[0]):
        a_r, cp, c_r = a[r], c_prev[r], c[r]
        for k in range(u):
            c_r[k] = a_r[u + k] * cp[k] + a_r[k] * a_r[2 * u + k]


def lstm_gates_gradient_loop(da, a, dz):
    """The loop of :func:`lstm_gates_gradient` (its products in NumPy's order: da · (a(1 − a)))."""
    one = a.dtype.type(1)
    u = a.shape[1] // 4
    for r in range(a.shape[0]):
        da_r, a_r, dz_r = da[r], a[r], dz[r]
        for k in range(2 * u):
            dz_r[k] = da_r[k] * (a_r[k] * (one - a_r[k]))
        for k in range(2 * u, 3 * u):
            dz_r[k] = da_r[k] * (one - a_r[k] * a_r[k])
        for k in range(3 * u, 4 * u):
            dz_r[k] = da_r[k] * (a_r[k] * (one - a_r[k]))


def lstm_state_loop(dc, a, c_prev, da, dc_prev):
    """The loop of :func:`lstm_state_gradients`, a row at a time, one block per inner loop (o's is left as it is)."""
    u = dc.shape[1]
    for r in range(dc.shape[0]):
        d, a_r, c_r, da_r, dc_r = dc[r], a[r], c_prev[r], da[r], dc_prev[r]
        for k in range(u):
            da_r[k] += d[k] * a_r[2 * u + k]
        for k in range(u):
            da_r[u + k] += d[k] * c_r[k]
        for k in range(u):
            da_r[2 * u + k] += d[k] * a_r[k]
        for k in range(u):
            dc_r[k] = d[k] * a_r[u + k]


def lstm_output_loop(dh, a, tanh_c, da, dc):
    """The loop of :func:`lstm_output_gradients`, a row at a time, one output block per inner loop."""
    one, zero = dh.dtype.type(1), dh.dtype.type(0)
    u = dh.shape[1]
    for r in range(dh.shape[0]):
        d, a_r, t, da_r, dc_r = dh[r], a[r], tanh_c[r], da[r], dc[r]
        for k in range(3 * u):
            da_r[k] = zero
        for k in range(u):
            da_r[3 * u + k] = d[k] * t[k]
        for k in range(u):
            dc_r[k] = d[k] * a_r[3 * u + k] * (one - t[k] * t[k])


def _outputs_of(loop, inputs: tuple, *like: np.ndarray):
    """Run a compiled loop that writes its results into new arrays shaped like ``like`` (passed after
    ``inputs``); return them (one array, or a tuple)."""
    outputs = tuple(np.empty_like(x) for x in like)
    compiled(loop)(*inputs, *outputs)
    return outputs if len(outputs) > 1 else outputs[0]


def _compiled_for(values: np.ndarray, a: np.ndarray) -> bool:
    """Whether the compiled loop runs: Numba installed and chosen, on 2-D float32/float64 arrays of one dtype."""
    return (backend.numba() is not None and values.ndim == 2 and values.dtype.char in "fd"
            and a.dtype == values.dtype)
