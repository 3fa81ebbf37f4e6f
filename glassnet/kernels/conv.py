"""The gathers behind convolution and pooling: every window of an image as one array (im2col), and its sum back
onto the image (col2im), so that a convolution is one matrix product and a pooling one reduction.

Arrays are channels_last, ``(batch, *spatial, channels)`` with any number of spatial axes (1 for sequences, 2 for
images). A window has a size, a stride and a dilation per spatial axis; ``pads`` holds the (before, after) padding
of each spatial axis, split as TensorFlow and Keras split 'same' padding (:func:`same_padding`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from glassnet import backend
from glassnet.kernels.compiled import compiled

Pads = Sequence[tuple[int, int]]


def same_padding(size: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) of TF/Keras 'same' padding: ceil(size / stride) outputs, the padding they need split in
    two with the odd one after (a 2×2 window on 5 pixels with stride 2 pads 0 before, 1 after)."""
    span = dilation * (window - 1) + 1
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def count_windows(size: int, window: int, stride: int, dilation: int, pads: tuple[int, int]) -> int:
    """How many windows fit along one axis: ⌊(size + padding − dilation·(window − 1) − 1) / stride⌋ + 1."""
    return (size + pads[0] + pads[1] - dilation * (window - 1) - 1) // stride + 1


def pad(x: np.ndarray, pads: Pads, fill: float = 0.0) -> np.ndarray:
    """x with ``fill`` added around its spatial axes (x itself when nothing is added)."""
    if not any(before or after for before, after in pads):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=fill)


def pad_or_crop(x: np.ndarray, pads: Pads) -> np.ndarray:
    """x with (before, after) zeros added around each spatial axis, a negative amount cut off instead: where a
    transposed convolution's scatter is placed inside its output (and its gradient read back)."""
    cut = (slice(None), *(slice(max(-before, 0), size - max(-after, 0))
                          for size, (before, after) in zip(x.shape[1:-1], pads)))
    return pad(x[cut], [(max(before, 0), max(after, 0)) for before, after in pads])


#: Up to this many channels, im2col copies one window offset at a time (a strided copy of the whole batch each),
#: which moves single values far faster than one copy of the 6-axis window view: MNIST's 28×28×1 images 0.77 →
#: 0.27 ms for a batch of 64. With more channels each window entry is a contiguous run of channels, which the fast
#: kernels copy in one compiled pass (the ch. 8 convnet's 13×13×32 maps: 0.55 → 0.46 ms), NumPy as one copy of the
#: window view.
FEW_CHANNELS = 4


def im2col(x: np.ndarray, window: Sequence[int], strides: Sequence[int], dilation: Sequence[int], pads: Pads,
           fill: float = 0.0, ones: bool = False) -> np.ndarray:
    """Every window of x as one row, a new contiguous array of shape ``(batch, *outputs, window·channels)``:
    ``cols[n, i, j, (p, q, c)] = x_padded[n, i·s + p·d, j·s + q·d, c]`` (the window entries in row-major order).
    Reshaped to (batch·outputs, window·channels) it is the left operand of a convolution's one matrix product.
    With ``ones``, each row ends with a 1 (the constant input of the bias trick: [im2col(x) 1]·[W; b])."""
    rank = len(window)
    spans = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    xp = pad(x, pads, fill)
    view = sliding_window_view(xp, spans, axis=tuple(range(1, rank + 1)))  # (n, *starts, c, *spans)
    view = view[(slice(None), *(slice(None, None, s) for s in strides), slice(None),
                 *(slice(None, None, d) for d in dilation))]
    view = np.moveaxis(view, 1 + rank, -1)  # (n, *outputs, *window, c)
    entries = math.prod(view.shape[1 + rank:])
    cols = np.empty((*view.shape[:1 + rank], entries + ones), dtype=x.dtype)
    target = cols[..., :entries].reshape(view.shape)  # a view: only the last axis is split
    if x.shape[-1] <= FEW_CHANNELS:
        for offset in np.ndindex(*window):
            target[(Ellipsis, *offset, slice(None))] = view[(Ellipsis, *offset, slice(None))]
    elif backend.kernels() == "fast" and rank in (1, 2):
        flat = _as_2d(rank)
        compiled(gather_loop)(xp.reshape(xp.shape[0], *flat(xp.shape[1:-1]), -1), *flat(window), *flat(strides),
                           *flat(dilation), cols.reshape(cols.shape[0], *flat(cols.shape[1:-1]), -1))
    else:
        np.copyto(target, view)
    if ones:
        cols[..., -1] = 1
    return cols


def _offsets(window: Sequence[int], strides: Sequence[int], dilation: Sequence[int], outputs: Sequence[int]):
    """For each offset (p, q) inside a window, in row-major order: the offset, and the index of the padded input
    positions it reads in every window at once (one strided slice per spatial axis)."""
    for offset in np.ndindex(*window):
        yield offset, (slice(None), *(slice(o * d, o * d + s * (m - 1) + 1, s)
                                      for o, d, s, m in zip(offset, dilation, strides, outputs)))


def _crop(padded: np.ndarray, spatial_shape: Sequence[int], pads: Pads) -> np.ndarray:
    return padded[(slice(None), *(slice(before, before + n) for n, (before, _) in zip(spatial_shape, pads)))]


def col2im(cols: np.ndarray, input_shape: Sequence[int], window: Sequence[int], strides: Sequence[int],
           dilation: Sequence[int], pads: Pads) -> np.ndarray:
    """The adjoint of :func:`im2col`: every window entry added back onto the input position it was read from
    (entries of overlapping windows add up), the padding cut off. ``cols`` is laid out as im2col makes it,
    ``(batch, *outputs, window·channels)``, or with the window's axes apart, ``(batch, *outputs, *window,
    channels)`` (a broadcast share per window, as average pooling's). One strided add per window offset (p, q),
    each over the whole batch: a scatter-add without ``np.add.at``."""
    rank = len(window)
    if cols.ndim == 2 + rank:
        cols = cols.reshape(*cols.shape[:-1], *window, input_shape[-1])
    padded = [size + before + after for size, (before, after) in zip(input_shape[1:-1], pads)]
    dx = np.zeros((input_shape[0], *padded, input_shape[-1]), dtype=cols.dtype)
    if backend.kernels() == "fast" and rank in (1, 2):  # one compiled pass: 5× faster than the strided adds
        flat = _as_2d(rank)
        compiled(scatter_loop)(cols.reshape(cols.shape[0], *flat(cols.shape[1:1 + rank]), *flat(window), -1),
                            *flat(strides), *flat(dilation), dx.reshape(dx.shape[0], *flat(padded), -1))
        return _crop(dx, input_shape[1:-1], pads)
    for offset, where in _offsets(window, strides, dilation, cols.shape[1:1 + rank]):
        dx[where] += cols[(slice(None),) * (1 + rank) + offset]
    return _crop(dx, input_shape[1:-1], pads)


def _as_2d(rank: int):
    """Spatial sizes as two (a 1-D size gets a height of 1), so one compiled 2-D loop serves both ranks."""
    return (lambda sizes: tuple(sizes)) if rank == 2 else (lambda sizes: (1, *sizes))


def _outputs(x: np.ndarray, window, strides, pads) -> list[int]:
    return [count_windows(n, k, s, 1, pad_) for n, k, s, pad_ in zip(x.shape[1:-1], window, strides, pads)]


def window_max(x: np.ndarray, window: Sequence[int], strides: Sequence[int], pads: Pads, fill: float,
               floor: float | None = None) -> tuple[np.ndarray, object]:
    """The maximum of every window, ``(batch, *outputs, channels)``, the padding filled with ``fill`` (−∞), and
    what :func:`route_to_max` needs to find each maximum again: with NumPy, one elementwise maximum per window offset
    over all windows at once (no copy of the windows); with the fast kernels, one compiled pass that also notes
    where each maximum is. With a ``floor``, the maximum of the window and the floor (ReLU's 0): a window whose
    values are all ≤ the floor has no winner, and routes no gradient."""
    xp = pad(x, pads, fill)
    outputs = _outputs(x, window, strides, pads)
    if backend.kernels() == "fast" and len(window) in (1, 2):
        as_2d = _as_2d(len(window))
        z = np.empty((x.shape[0], *as_2d(outputs), x.shape[-1]), dtype=x.dtype)
        offsets = np.int8 if math.prod(window) <= np.iinfo(np.int8).max else np.int32  # a quarter of the bytes
        winners = np.empty(z.shape, dtype=offsets)  # the offset p·kw + q of each window's first maximum, or −1
        compiled(max_loop)(np.ascontiguousarray(xp.reshape(x.shape[0], *as_2d(xp.shape[1:-1]), x.shape[-1])),
                        *as_2d(window), *as_2d(strides), z, winners, floor is not None, floor or 0)
        return z.reshape(x.shape[0], *outputs, x.shape[-1]), winners
    z = None
    for _, where in _offsets(window, strides, (1,) * len(window), outputs):
        z = xp[where].copy() if z is None else np.maximum(z, xp[where], out=z)
    if floor is not None:
        np.maximum(z, floor, out=z)
    return z, (xp, z, floor)


def route_to_max(dz: np.ndarray, found, input_shape: Sequence[int], window: Sequence[int],
                 strides: Sequence[int], pads: Pads) -> np.ndarray:
    """col2im(dZ · [X = max of its window]): each window's gradient added onto the first position (in row-major
    window order, as an argmax finds it) that holds the window's maximum; ``found`` is what :func:`window_max`
    returned beside the maxima."""
    padded = [n + before + after for n, (before, after) in zip(input_shape[1:-1], pads)]
    if not isinstance(found, tuple):  # the fast kernels' offsets of the maxima
        as_2d = _as_2d(len(window))
        outputs = dz.shape[1:-1]
        dz = np.ascontiguousarray(dz).reshape(found.shape)
        tiles = tuple(strides) == tuple(window)  # then each position is in one window: written once
        if tiles:
            dx = np.empty((input_shape[0], *padded, input_shape[-1]), dtype=dz.dtype)
            for axis, (count, size) in enumerate(zip(outputs, window)):  # zeros where no window reaches
                dx[(slice(None),) * (1 + axis) + (slice(count * size, None),)] = 0
        else:
            dx = np.zeros((input_shape[0], *padded, input_shape[-1]), dtype=dz.dtype)
        compiled(route_loop)(dz, found, *as_2d(window), *as_2d(strides), dx.reshape(dx.shape[0], *as_2d(padded), -1),
                          not tiles)
        return _crop(dx, input_shape[1:-1], pads)
    dx = np.zeros((input_shape[0], *padded, input_shape[-1]), dtype=dz.dtype)
    xp, z, floor = found
    overlapping = any(s < k for s, k in zip(strides, window))
    free = np.ones(z.shape, dtype=bool) if floor is None else z > floor  # windows whose maximum is not found yet
    for _, where in _offsets(window, strides, (1,) * len(window), z.shape[1:-1]):
        hit = np.equal(xp[where], z)
        hit &= free
        if overlapping:
            dx[where] += np.multiply(dz, hit)
        else:  # each input position is in one window at most: write dZ · hit straight into dx
            np.multiply(dz, hit, out=dx[where])
        free ^= hit  # hit ⊆ free: free and not hit
    return _crop(dx, input_shape[1:-1], pads)


# ----- the fast kernels' loops: plain Python that Numba compiles on first use (and caches on disk) ---------------
def max_loop(xp, kh, kw, sh, sw, z, winners, floored, floor):
    """z[n,i,j,c] = max over the window at (i·sh, j·sw) of the padded xp, winners[n,i,j,c] = the offset p·kw + q
    of its first maximum (row-major, as argmax). ``floored``: the maximum starts at ``floor`` with no winner (−1),
    which only a greater value replaces. The channels are the inner loop, which LLVM vectorizes."""
    batch, out_h, out_w, channels = z.shape
    for n in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                best, winner, first = z[n, i, j], winners[n, i, j], xp[n, i * sh, j * sw]
                for c in range(channels):
                    best[c] = floor if floored else first[c]
                    winner[c] = -1 if floored else 0
                for p in range(kh):
                    for q in range(kw):
                        row = xp[n, i * sh + p, j * sw + q]
                        for c in range(channels):
                            better = row[c] > best[c]
                            best[c] = row[c] if better else best[c]
                            winner[c] = p * kw + q if better else winner[c]


def route_loop(dz, winners, kh, kw, sh, sw, dx, accumulate):
    """dx[n, i·sh + p, j·sw + q, c] += dz[n,i,j,c] where (p, q) is the window's first maximum, 0 elsewhere in the
    window: one pass per window offset over the channels (a branch-free loop LLVM vectorizes, unlike a scatter
    through divmod(winner, kw)). Without ``accumulate`` each position is written, not added to: for windows that
    tile the input (each position in one window), so dx need not be zeroed first."""
    batch, out_h, out_w, channels = dz.shape
    for n in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                grad, winner = dz[n, i, j], winners[n, i, j]
                for p in range(kh):
                    for q in range(kw):
                        row = dx[n, i * sh + p, j * sw + q]
                        if accumulate:
                            for c in range(channels):
                                row[c] += grad[c] if winner[c] == p * kw + q else 0
                        else:
                            for c in range(channels):
                                row[c] = grad[c] if winner[c] == p * kw + q else 0


def gather_loop(xp, kh, kw, sh, sw, dh, dw, cols):
    """cols[n, i, j, (p·kw + q)·channels + c] = xp[n, i·sh + p·dh, j·sw + q·dw, c]: every window entry copied into
    its row (im2col), window by window, the channels the inner loop; a last column (the bias trick's ones) is left
    as it is."""
    batch, out_h, out_w, _ = cols.shape
    channels = xp.shape[-1]
    for n in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                row = cols[n, i, j]
                for p in range(kh):
                    for q in range(kw):
                        entry, start = xp[n, i * sh + p * dh, j * sw + q * dw], (p * kw + q) * channels
                        for c in range(channels):
                            row[start + c] = entry[c]


def scatter_loop(cols, sh, sw, dh, dw, dx):
    """dx[n, i·sh + p·dh, j·sw + q·dw, c] += cols[n, i, j, p, q, c]: every window entry added back where it was
    read (col2im), window by window, the channels the inner loop."""
    batch, out_h, out_w, kh, kw, channels = cols.shape
    for n in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                for p in range(kh):
                    for q in range(kw):
                        entry, row = cols[n, i, j, p, q], dx[n, i * sh + p * dh, j * sw + q * dw]
                        for c in range(channels):
                            row[c] += entry[c]


def window_sum(x: np.ndarray, window: Sequence[int], strides: Sequence[int], pads: Pads) -> np.ndarray:
    """The sum of every window, ``(batch, *outputs, channels)``, zeros for the padding: one add per window offset."""
    xp = pad(x, pads)
    z = None
    for _, where in _offsets(window, strides, (1,) * len(window), _outputs(x, window, strides, pads)):
        z = xp[where].copy() if z is None else np.add(z, xp[where], out=z)
    return z




def window_counts(spatial_shape: Sequence[int], window: Sequence[int], strides: Sequence[int],
                  pads: Pads) -> np.ndarray:
    """How many real (not padded) input positions each window covers, shape ``(1, *outputs, 1)``: the divisor of
    an average pooling that leaves the padding out, as TensorFlow's does."""
    counts = np.ones((), dtype=np.int64)
    for size, k, s, (before, after) in zip(spatial_shape, window, strides, pads):
        starts = np.arange(count_windows(size, k, s, 1, (before, after))) * s - before
        along = np.minimum(starts + k, size) - np.maximum(starts, 0)
        counts = np.multiply.outer(counts, along)
    return counts[None, ..., None]
