"""Convolution and pooling over 1 or 2 spatial axes, channels_last: each op is the sum or the maximum it is, run as
one gather of the input's windows (``kernels.im2col``) followed by one matrix product or one reduction.

The 2-D classes do the work for any number of spatial axes; the 1-D classes only state their own equations (the
docstring is what ``step_source`` and ``inspect.explain`` print). Symbols: s the stride, d the dilation, (p, q) the
offset inside a window, c an input channel, o an output channel (a filter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from glassnet import kernels
from glassnet.autodiff.function import Function
from glassnet.kernels.conv import pad_or_crop

PADDINGS = ("valid", "same", "causal")


# ----- arguments and shapes (Keras's rules) --------------------------------------------------------------------
def spatial_tuple(value, rank: int, name: str) -> tuple[int, ...]:
    """``value`` (an int, or ``rank`` ints) as a tuple of ``rank`` positive ints, as Keras standardizes
    kernel_size, strides, dilation_rate and pool_size."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value) if isinstance(
        value, (tuple, list)) else None
    if values is None or len(values) != rank or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"The `{name}` argument must be a positive integer or a tuple of {rank} positive integers. "
                         f"Received {name}={value!r}")
    return tuple(int(v) for v in values)


def padding_mode(padding, causal: bool = False) -> str:
    """'valid' or 'same' (any case), and 'causal' where allowed (a 1-D convolution: all the padding before, so
    an output never sees a later step)."""
    mode = padding.lower() if isinstance(padding, str) else padding
    allowed = PADDINGS if causal else PADDINGS[:2]
    if mode not in allowed:
        raise ValueError(f"The `padding` argument must be one of {', '.join(map(repr, allowed))}. Received "
                         f"padding={padding!r}")
    return mode


def paddings(spatial_shape: Sequence[int], window: Sequence[int], strides: Sequence[int],
             dilation: Sequence[int], padding: str) -> list[tuple[int, int]]:
    """(before, after) per spatial axis: none for 'valid', TF's split for 'same', d·(k − 1) before for 'causal'."""
    if padding == "valid":
        return [(0, 0)] * len(window)
    if padding == "causal":
        return [(d * (k - 1), 0) for k, d in zip(window, dilation)]
    return [kernels.same_padding(n, k, s, d) for n, k, s, d in zip(spatial_shape, window, strides, dilation)]


def output_length(size: int | None, window: int, stride: int, dilation: int, padding: str) -> int | None:
    """Windows along one axis, Keras's formula: ⌊(size − d·(k − 1) − 1) / s⌋ + 1 for 'valid', ⌈size / s⌉
    otherwise; None (an unknown size) stays None. Zero or less means the window is larger than the input."""
    if size is None:
        return None
    if padding == "valid":
        return (size - dilation * (window - 1) - 1) // stride + 1
    return -(-size // stride)


def transpose_output_length(size: int | None, window: int, stride: int, dilation: int, padding: str,
                            output_padding: int | None = None) -> int | None:
    """Outputs of a transposed convolution along one axis, Keras's formula (k = d·(k − 1) + 1 the span):
    (size − 1)·s + k + output_padding for 'valid' (output_padding defaults to max(k, s) − k); size·s for 'same',
    or (size − 1)·s + k mod 2 + output_padding when it is given. None (an unknown size) stays None."""
    if size is None:
        return None
    span = dilation * (window - 1) + 1
    if padding == "valid":
        return (size - 1) * stride + span + (max(span, stride) - span if output_padding is None else output_padding)
    return size * stride if output_padding is None else (size - 1) * stride + span % 2 + output_padding


def _check_windows(x: np.ndarray, window, strides, dilation, padding, what: str) -> None:
    """Refuse a window that does not fit the input with padding='valid' (an empty output), naming both."""
    sizes = [output_length(n, k, s, d, padding) for n, k, s, d in zip(x.shape[1:-1], window, strides, dilation)]
    if min(sizes, default=1) <= 0:
        span = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
        raise ValueError(f"{what}: the window {tuple(window)} (spanning {span} with dilation {tuple(dilation)}) is "
                         f"larger than the input's spatial size {x.shape[1:-1]} with padding='valid', so the output "
                         f"would be empty; use padding='same', a smaller window or larger inputs. Received input "
                         f"shape {x.shape}")


def _product(cols: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """im2col(X)·W: the windows as rows (n·positions, window·c) times the kernel as (window·c, filters)."""
    return (cols.reshape(-1, cols.shape[-1]) @ kernel).reshape(*cols.shape[:-1], kernel.shape[-1])


def _spread(dz: np.ndarray, w: np.ndarray, x_shape, strides, dilation, pads) -> np.ndarray:
    """col2im(dZ·Wᵀ): each output's gradient sent back over the window it read (the adjoint of X ↦ X ⋆ W)."""
    rows = kernels.times_transposed(dz.reshape(-1, dz.shape[-1]), w.reshape(-1, w.shape[-1]))
    return kernels.col2im(rows.reshape(*dz.shape[:-1], *w.shape[:-1]), x_shape, w.shape[:-2], strides, dilation, pads)


def _kernel_gradient(cols: np.ndarray, dz: np.ndarray, w_shape) -> np.ndarray:
    """im2col(X)ᵀ·dZ: the gradient of the kernel, every window times the gradient of its output."""
    dz2 = dz.reshape(-1, dz.shape[-1])
    return kernels.transposed_times(cols.reshape(len(dz2), -1), dz2).reshape(w_shape)


# ----- convolution ---------------------------------------------------------------------------------------------
class _Windowed(Function):
    """What the convolutions share: strides, dilation and padding, and the windows of an input (im2col)."""

    def __init__(self, strides: tuple[int, ...], dilation: tuple[int, ...], padding: str):
        self.strides, self.dilation, self.padding = strides, dilation, padding

    def windows(self, x: np.ndarray, window: tuple[int, ...], what: str, ones: bool = False) -> np.ndarray:
        """im2col(x): every window of x as a row (ending with a 1 if ``ones``), after checking that the window
        fits and finding the padding."""
        _check_windows(x, window, self.strides, self.dilation, self.padding, what)
        self.pads = paddings(x.shape[1:-1], window, self.strides, self.dilation, self.padding)
        return kernels.im2col(x, window, self.strides, self.dilation, self.pads, ones=ones)


class Conv2d(_Windowed):
    """Z = X ⋆ W: Z(n,i,j,o) = Σ_{p,q,c} X(n, i·s+p·d, j·s+q·d, c)·W(p,q,c,o) (s the stride, d the dilation), run as
    one product im2col(X)·W.  Backward: dX = col2im(dZ·Wᵀ), dW = im2col(X)ᵀ·dZ."""

    def forward(self, x, w):
        cols = self.windows(x, w.shape[:-2], "conv")
        self.save_for_backward(cols, w, x.shape)
        return _product(cols, w.reshape(-1, w.shape[-1]))

    def backward(self, dz):
        cols, w, x_shape = self.saved
        dx = _spread(dz, w, x_shape, self.strides, self.dilation, self.pads) if self.needs_input_grad[0] else None
        dw = _kernel_gradient(cols, dz, w.shape) if self.needs_input_grad[1] else None
        return dx, dw


class _PlusBias:
    """A convolution with its layer's bias added in the same op (as Affine does for a dense layer), so the written-out
    step shows dX, dW and db on one line: Z = conv(X, W) + b.  Backward: the convolution's dX and dW, db = Σ dZ."""

    def forward(self, x, w, b):
        z = super().forward(x, w)
        z += b  # into the product's own fresh array
        return z

    def backward(self, dz):
        dx, dw = super().backward(dz)
        return dx, dw, (kernels.sum_rows(dz) if self.needs_input_grad[2] else None)


class _BiasTrick:
    """A convolution with its layer's bias as one more row of the kernel, the course's bias trick: every window
    gets a constant input 1, so Z = [im2col(X) 1]·[W; b] is one product (no second pass over Z to add b), and
    its backward [dW; db] = [im2col(X) 1]ᵀ·dZ gives db = Σ dZ in the same product."""

    def forward(self, x, w, b):
        cols = self.windows(x, w.shape[:-2], "conv", ones=True)
        self.save_for_backward(cols, w, x.shape)
        return _product(cols, np.concatenate([w.reshape(-1, w.shape[-1]), b[None]]))  # [W; b]

    def backward(self, dz):
        cols, w, x_shape = self.saved
        dx = _spread(dz, w, x_shape, self.strides, self.dilation, self.pads) if self.needs_input_grad[0] else None
        if not (self.needs_input_grad[1] or self.needs_input_grad[2]):
            return dx, None, None
        dwb = _kernel_gradient(cols, dz, (cols.shape[-1], dz.shape[-1]))  # [dW; db]
        return dx, dwb[:-1].reshape(w.shape) if self.needs_input_grad[1] else None, \
            dwb[-1] if self.needs_input_grad[2] else None


class Conv2dBias(_BiasTrick, Conv2d):
    """Z = X ⋆ W + b: Z(n,i,j,o) = Σ_{p,q,c} X(n, i·s+p·d, j·s+q·d, c)·W(p,q,c,o) + b(o) (s the stride, d the
    dilation), run as one product [im2col(X) 1]·[W; b] (the bias trick: every window gets a constant input of
    one).  Backward: dX = col2im(dZ·Wᵀ), dW = im2col(X)ᵀ·dZ, db = Σ dZ (dW and db in one product, the transpose
    of the forward's)."""


class Conv1d(Conv2d):
    """Z = X ⋆ W: Z(n,i,o) = Σ_{p,c} X(n, i·s+p·d, c)·W(p,c,o) (s the stride, d the dilation), run as one product
    im2col(X)·W.  Backward: dX = col2im(dZ·Wᵀ), dW = im2col(X)ᵀ·dZ."""


class Conv1dBias(_BiasTrick, Conv1d):
    """Z = X ⋆ W + b: Z(n,i,o) = Σ_{p,c} X(n, i·s+p·d, c)·W(p,c,o) + b(o) (s the stride, d the dilation), run as
    one product [im2col(X) 1]·[W; b] (the bias trick).  Backward: dX = col2im(dZ·Wᵀ), dW = im2col(X)ᵀ·dZ,
    db = Σ dZ (dW and db in one product, the transpose of the forward's)."""


class DepthwiseConv2d(_Windowed):
    """Z = X ⊛ W: Z(n,i,j,c·M+m) = Σ_{p,q} X(n, i·s+p·d, j·s+q·d, c)·W(p,q,c,m) (each channel c convolved on its own
    by M filters), run as one product per channel im2col(X)[c]·W[c].  Backward: dX = col2im(dZ·Wᵀ),
    dW = im2col(X)ᵀ·dZ (each product taken channel by channel)."""

    def forward(self, x, w):
        cols = self.windows(x, w.shape[:-2], "depthwise_conv")
        by_channel = cols.reshape(-1, math.prod(w.shape[:-2]), x.shape[-1]).transpose(2, 0, 1)  # (c, rows, window)
        self.save_for_backward(by_channel, w, cols.shape, x.shape)
        z = by_channel @ _kernel_by_channel(w)  # (c, rows, m)
        return z.transpose(1, 0, 2).reshape(*cols.shape[:x.ndim - 1], -1)

    def backward(self, dz):
        by_channel, w, cols_shape, x_shape = self.saved
        dz_c = dz.reshape(-1, *w.shape[-2:]).transpose(1, 0, 2)  # (c, rows, m)
        dcols = (dz_c @ _kernel_by_channel(w).transpose(0, 2, 1)).transpose(1, 2, 0).reshape(
            *cols_shape[:-1], *w.shape[:-2], x_shape[-1])  # (n, *outputs, *window, c), as col2im reads it
        dx = kernels.col2im(dcols, x_shape, w.shape[:-2], self.strides, self.dilation, self.pads) \
            if self.needs_input_grad[0] else None
        dw = (by_channel.transpose(0, 2, 1) @ dz_c).transpose(1, 0, 2).reshape(w.shape) \
            if self.needs_input_grad[1] else None
        return dx, dw


def _kernel_by_channel(w: np.ndarray) -> np.ndarray:
    """A depthwise kernel (*window, c, m) as one (window, m) matrix per channel: (c, window, m)."""
    return w.reshape(-1, *w.shape[-2:]).transpose(1, 0, 2)


class ConvTranspose2d(_Windowed):
    """Z = X ⋆ᵀ W, the adjoint of a convolution (its forward is a convolution's backward to the input):
    Z(n, i·s+p·d−a, j·s+q·d−b, o) += Σ_c X(n,i,j,c)·W(p,q,o,c) ((a, b) the padding before), run as col2im(X·Wᵀ).
    Backward: dX = im2col(dZ)·W, dW = im2col(dZ)ᵀ·X."""

    def __init__(self, strides: tuple[int, ...], dilation: tuple[int, ...], padding: str,
                 output_padding: tuple[int, ...] | None = None):
        super().__init__(strides, dilation, padding)
        self.output_padding = output_padding

    def forward(self, x, w):
        window, no_pads = w.shape[:-2], [(0, 0)] * (x.ndim - 2)
        extra = self.output_padding or (None,) * len(window)
        sizes = [transpose_output_length(n, k, s, d, self.padding, e)
                 for n, k, s, d, e in zip(x.shape[1:-1], window, self.strides, self.dilation, extra)]
        spans = [(n - 1) * s + d * (k - 1) + 1  # how far the windows of x reach: the scatter's full size
                 for n, k, s, d in zip(x.shape[1:-1], window, self.strides, self.dilation)]
        befores = [0 if self.padding == "valid" else max(span - size, 0) // 2 for span, size in zip(spans, sizes)]
        self.placed = [(-before, size - span + before) for before, size, span in zip(befores, sizes, spans)]
        self.save_for_backward(x, w)
        scattered = _spread(x, w, (x.shape[0], *spans, w.shape[-2]), self.strides, self.dilation, no_pads)
        return pad_or_crop(scattered, self.placed)

    def backward(self, dz):
        x, w = self.saved
        window = w.shape[:-2]
        spanned = pad_or_crop(dz, [(-before, -after) for before, after in self.placed])
        cols = kernels.im2col(spanned, window, self.strides, self.dilation, [(0, 0)] * len(window))
        dx = _product(cols, w.reshape(-1, w.shape[-1])) if self.needs_input_grad[0] else None
        dw = _kernel_gradient(cols, x, w.shape) if self.needs_input_grad[1] else None
        return dx, dw


class DepthwiseConv1d(DepthwiseConv2d):
    """Z = X ⊛ W: Z(n,i,c·M+m) = Σ_p X(n, i·s+p·d, c)·W(p,c,m) (each channel c convolved on its own by M filters),
    run as one product per channel im2col(X)[c]·W[c].  Backward: dX = col2im(dZ·Wᵀ), dW = im2col(X)ᵀ·dZ (each
    product taken channel by channel)."""


class ConvTranspose1d(ConvTranspose2d):
    """Z = X ⋆ᵀ W, the adjoint of a convolution (its forward is a convolution's backward to the input):
    Z(n, i·s+p·d−a, o) += Σ_c X(n,i,c)·W(p,o,c) (a the padding before), run as col2im(X·Wᵀ).  Backward:
    dX = im2col(dZ)·W, dW = im2col(dZ)ᵀ·X."""


class DepthwiseConv2dBias(_PlusBias, DepthwiseConv2d):
    """Z = X ⊛ W + b: Z(n,i,j,c·M+m) = Σ_{p,q} X(n, i·s+p·d, j·s+q·d, c)·W(p,q,c,m) + b(c·M+m) (each channel c
    convolved on its own by M filters), run as one product per channel im2col(X)[c]·W[c] + b.  Backward:
    dX = col2im(dZ·Wᵀ), dW = im2col(X)ᵀ·dZ, db = Σ dZ (each product taken channel by channel)."""


class DepthwiseConv1dBias(_PlusBias, DepthwiseConv1d):
    """Z = X ⊛ W + b: Z(n,i,c·M+m) = Σ_p X(n, i·s+p·d, c)·W(p,c,m) + b(c·M+m) (each channel c convolved on its own
    by M filters), run as one product per channel im2col(X)[c]·W[c] + b.  Backward: dX = col2im(dZ·Wᵀ),
    dW = im2col(X)ᵀ·dZ, db = Σ dZ (each product taken channel by channel)."""


class ConvTranspose2dBias(_PlusBias, ConvTranspose2d):
    """Z = X ⋆ᵀ W + b, the adjoint of a convolution plus the bias: Z(n, i·s+p·d−a, j·s+q·d−b, o) += Σ_c
    X(n,i,j,c)·W(p,q,o,c), then + b(o) ((a, b) the padding before), run as col2im(X·Wᵀ) + b.  Backward:
    dX = im2col(dZ)·W, dW = im2col(dZ)ᵀ·X, db = Σ dZ."""


class ConvTranspose1dBias(_PlusBias, ConvTranspose1d):
    """Z = X ⋆ᵀ W + b, the adjoint of a convolution plus the bias: Z(n, i·s+p·d−a, o) += Σ_c X(n,i,c)·W(p,o,c), then
    + b(o) (a the padding before), run as col2im(X·Wᵀ) + b.  Backward: dX = im2col(dZ)·W, dW = im2col(dZ)ᵀ·X,
    db = Σ dZ."""


# ----- pooling -------------------------------------------------------------------------------------------------
class _Pool(Function):
    """What the poolings share: the window, its strides and padding, and the padding of an input."""

    def __init__(self, pool_size: tuple[int, ...], strides: tuple[int, ...], padding: str):
        self.pool_size, self.strides, self.padding = pool_size, strides, padding

    def setup(self, x) -> None:
        """Check the window fits and find the padding of this input (TF's split for 'same')."""
        ones = (1,) * len(self.pool_size)
        _check_windows(x, self.pool_size, self.strides, ones, self.padding, "pool")
        self.pads = paddings(x.shape[1:-1], self.pool_size, self.strides, ones, self.padding)


class MaxPool2d(_Pool):
    """Z = maxpool(X): Z(n,i,j,c) = max_{p,q} X(n, i·s+p, j·s+q, c) (s the stride; the padding of 'same' never wins).
    Backward: dX = col2im(dZ · [X = max of its window]) (the first maximum on ties; overlapping windows add up)."""

    floor = None  # MaxPoolRelu's 0

    def forward(self, x):
        self.setup(x)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        z, found = kernels.window_max(x, self.pool_size, self.strides, self.pads, fill, self.floor)
        self.save_for_backward(found, x.shape)
        return z

    def backward(self, dz):
        found, x_shape = self.saved
        return kernels.route_to_max(dz, found, x_shape, self.pool_size, self.strides, self.pads)


class MaxPoolRelu2d(MaxPool2d):
    """A = relu(maxpool(Z)): A(n,i,j,c) = max(0, max_{p,q} Z(n, i·s+p, j·s+q, c)), which is maxpool(relu(Z)) (fused:
    autodiff/fusions.py).  Backward: dZ = col2im(dA · [A > 0] · [Z = A]) (the first maximum on ties)."""

    floor = 0


class AvgPool2d(_Pool):
    """Z = avgpool(X): Z(n,i,j,c) = Σ_{p,q} X(n, i·s+p, j·s+q, c) / |w| (s the stride; |w| counts the window's real
    inputs, without the padding of 'same', as TensorFlow does).  Backward: dX = col2im(dZ / |w|) (each input gets a
    share from every window that holds it)."""

    def forward(self, x):
        self.setup(x)
        counts = kernels.window_counts(x.shape[1:-1], self.pool_size, self.strides, self.pads).astype(x.dtype)
        self.save_for_backward(counts, x.shape)
        return kernels.window_sum(x, self.pool_size, self.strides, self.pads) / counts

    def backward(self, dz):
        counts, x_shape = self.saved
        rank = len(self.pool_size)
        share = (dz / counts).reshape(*dz.shape[:-1], *(1,) * rank, dz.shape[-1])  # one value per window entry
        cols = np.broadcast_to(share, (*dz.shape[:-1], *self.pool_size, dz.shape[-1]))
        return kernels.col2im(cols, x_shape, self.pool_size, self.strides, (1,) * rank, self.pads)


class MaxPool1d(MaxPool2d):
    """Z = maxpool(X): Z(n,i,c) = max_p X(n, i·s+p, c) (s the stride; the padding of 'same' never wins).  Backward:
    dX = col2im(dZ · [X = max of its window]) (the first maximum on ties; overlapping windows add up)."""


class MaxPoolRelu1d(MaxPoolRelu2d):
    """A = relu(maxpool(Z)): A(n,i,c) = max(0, max_p Z(n, i·s+p, c)), which is maxpool(relu(Z)) (fused:
    autodiff/fusions.py).  Backward: dZ = col2im(dA · [A > 0] · [Z = A]) (the first maximum on ties)."""


class AvgPool1d(AvgPool2d):
    """Z = avgpool(X): Z(n,i,c) = Σ_p X(n, i·s+p, c) / |w| (s the stride; |w| counts the window's real inputs,
    without the padding of 'same', as TensorFlow does).  Backward: dX = col2im(dZ / |w|) (each input gets a share
    from every window that holds it)."""


CONV_OPS = {(1, False): Conv1d, (2, False): Conv2d, (1, True): Conv1dBias, (2, True): Conv2dBias}
DEPTHWISE_OPS = {(1, False): DepthwiseConv1d, (2, False): DepthwiseConv2d, (1, True): DepthwiseConv1dBias,
                 (2, True): DepthwiseConv2dBias}
TRANSPOSE_OPS = {(1, False): ConvTranspose1d, (2, False): ConvTranspose2d, (1, True): ConvTranspose1dBias,
                 (2, True): ConvTranspose2dBias}
POOL_OPS = {(1, "max"): MaxPool1d, (2, "max"): MaxPool2d, (1, "average"): AvgPool1d, (2, "average"): AvgPool2d,
            (1, "max_relu"): MaxPoolRelu1d, (2, "max_relu"): MaxPoolRelu2d}
