"""Fusions: where one op does the work of several, and why. Each shows in ``model.step_source()`` as its own line,
so the written-out step never hides one.

- ``Affine`` (ops_math): Z = X·W + b, a Dense layer's product and bias add as one op; its backward gives the
  course's three lines at once, dX = dZ·Wᵀ, dW = Xᵀ·dZ and db = Σ dZ.
- ``AddMatMul`` (ops_math): z = c + X·W, a SimpleRNN's or LSTM's z⟨t⟩ = xW⟨t⟩ + h⟨t−1⟩·U as one op: c is added
  into the product's output, so no h·U array is made and no addition runs as an op of its own; backward
  dc = dz, dh = dz·Uᵀ, dU = hᵀ·dz in one line.
- ``SigmoidCrossEntropy``, ``SoftmaxCrossEntropy``, ``SparseSoftmaxCrossEntropy`` (ops_nn): a cross-entropy of the
  probabilities A = σ(Z) or softmax(Z) is computed from the logits Z instead, which is stable for any Z and whose
  backward is the course's dZ = A − Y (times the upstream gradient). The model still computes A for its
  predictions; the loss reads Z through :func:`logits_behind`. Sigmoid and Softmax keep the link to their input
  even when no gradient is recorded (``Function.keeps_inputs``), so evaluate computes the same loss as fit.
- ``SquaredError`` (ops_nn): mean squared error per sample, (1/n) Σ (Z − Y)² over the last axis, as one op instead
  of a difference, a square and a mean: its backward is dZ = dL · 2(Z − Y)/n in one line (and a small network's
  step does three ops fewer each way).
- ``MaxPoolRelu1d``, ``MaxPoolRelu2d`` (ops_conv): ReLU then max pooling (a ``Conv2D(activation="relu")`` before
  ``MaxPooling2D``) as one op, A = relu(maxpool(Z)): max over a window of max(z, 0) is max(0, max over the window
  of z), since ReLU never reverses an order, and the gradient reaches the same winner (none when the window holds
  no positive value). ReLU's pass over the whole convolution output, forward and backward, is gone
  (``ops.max_pool`` asks :func:`relu_behind`). The convolution's own activations are not computed in the replayed
  step: its source shows the fused op reading Z.
- ``GetItem.backward_into`` (ops_shape), used by the backward walk (graph.py): a slice's gradient is x's zeros
  with dz at the sliced places, so a tensor cut into k slices (an LSTM's four gates, its timesteps) cost k arrays
  of x's size and k − 1 additions. Once x's gradient is an array the walk itself made (the first slice's zeros, or
  a sum), each further slice adds dz into its place, dx[key] += dz: the work of the slice. A gradient that may be
  shared (an addition passes the same dz to both inputs) is never written into. The step's source shows it:
  ``lstm_get_item_2.backward_into(dxW_all, dxW_2)  # dxW_all[128:256] += dxW⟨2⟩``.
- ``LstmGates``, ``LstmCellState``, ``LstmCellOutput`` (ops_recurrent): an LSTM step (sigmoid and tanh, the
  defaults) as the textbook's three lines, a⟨t⟩ = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)], c⟨t⟩ = f ⊙ c⟨t−1⟩ + i ⊙ c̃,
  h⟨t⟩ = o ⊙ tanh(c⟨t⟩), instead of a slice, an activation and a product per gate (16 ops each way a timestep,
  each a NumPy call's overhead for a microsecond of work). Their backward rules are the same chain rule, the
  gates' gradients side by side (``da⟨t⟩ = [dc ⊙ c̃, dc ⊙ c⟨t−1⟩, dc ⊙ i, 0]``).
- ``GruGates``, ``GruState`` (ops_recurrent): a GRU step (sigmoid, tanh and reset_after=True, the defaults) as two
  lines, a⟨t⟩ = [σ(xW_z + hU_z), σ(xW_r + hU_r), tanh(xW_h + r ⊙ hU_h)] and h⟨t⟩ = z ⊙ h⟨t−1⟩ + (1 − z) ⊙ h̃,
  instead of 20 ops a timestep (slices, sums, activations, products); the recurrent bias b_U is sliced once per
  sequence, not at every step.
- ``LstmCellState.backward_into`` (ops_recurrent), the same walk as a slice's: a⟨t⟩ feeds both the cell state and
  the output, and the output's backward (visited first) returns a new da⟨t⟩ holding the o block's gradient (its
  op declares ``fresh_gradients``: no other tensor shares the array). The cell state then adds its three blocks into
  it, ``da⟨t⟩ += [dc ⊙ c̃, dc ⊙ c⟨t−1⟩, dc ⊙ i, 0]``, instead of returning a second da⟨t⟩ for the walk to add: one
  pass over a batch × 4·units array fewer a timestep, and no second array.
- An RNN's input part (layers/recurrent.py): x⟨t⟩·W + b does not depend on the previous step, so it is one
  product over every timestep's rows (``xW_all = x_all·W + b``), each step reading its block ``xW⟨t⟩``; backward,
  one dW = x_allᵀ·dxW_all for all the steps instead of one product and one sum per step. A long sequence (more
  than ``recurrent.BLOCK_ROWS`` rows) takes one product per block of timesteps (``xW⟨1:32⟩ = x⟨1:32⟩·W + b``), so
  that neither pass holds every step's input part, or its gradient, at once.
"""

from __future__ import annotations

from glassnet.autodiff.ops_nn import Relu, Sigmoid, Softmax
from glassnet.autodiff.tensor import Tensor


def logits_behind(y_pred: Tensor, activation: str) -> Tensor | None:
    """The logits z when ``y_pred`` is ``sigmoid(z)`` (``activation="sigmoid"``) or ``softmax(z)`` over its last
    axis (``"softmax"``), else None."""
    op = y_pred.op
    if activation == "sigmoid" and isinstance(op, Sigmoid):
        return op.inputs[0]
    if activation == "softmax" and isinstance(op, Softmax) and op.axis in (-1, y_pred.ndim - 1):
        return op.inputs[0]
    return None


def relu_behind(x: Tensor) -> Tensor | None:
    """z when ``x`` is ``relu(z)`` recorded on the tape, else None."""
    return x.op.inputs[0] if isinstance(x.op, Relu) else None
