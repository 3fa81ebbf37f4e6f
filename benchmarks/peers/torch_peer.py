"""PyTorch 2.13 on the CPU, written as a PyTorch user writes a training loop (nn.Sequential, an optimizer,
index a shuffled batch, zero_grad / backward / step), with the losses fused on logits as PyTorch recommends.

RMSprop here is PyTorch's (alpha = ρ = 0.9, eps = 1e-7); it divides by √v + ε where Keras divides by √(v + ε),
a difference that does not change the work per step.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks.data import Dataset
from benchmarks.workloads import LSTM_SHAPE, RMSPROP_EPSILON, RMSPROP_RHO, Workload, batch_order, conv_layers

LABEL = "PyTorch (CPU)"
REQUIRES = ("torch",)
WORKLOADS = ("A", "B", "C", "D", "CONV", "LSTM")


def version() -> str:
    import torch

    return torch.__version__


def prepare() -> None:
    """Import torch and give it the benchmark's thread count."""
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))


def network(workload: Workload, weights: list[np.ndarray]):
    """The workload's nn.Module without its output activation (the loss reads the logits): Linear layers holding
    ``weights``, CONV's Conv2d/MaxPool2d stack or LSTM's Embedding → LSTM → Linear (PyTorch's initialization)."""
    import torch
    from torch import nn

    if workload.network == "convnet":
        modules: list = []
        for i, ((_, c_in), (_, c_out), kernel) in enumerate(conv_layers()):
            modules += [nn.Conv2d(c_in, c_out, kernel), nn.ReLU()]
            if i < len(conv_layers()) - 1:
                modules.append(nn.MaxPool2d(2))
        _, (side, channels), _ = conv_layers()[-1]
        return nn.Sequential(*modules, nn.Flatten(), nn.Linear(side * side * channels, 10))
    if workload.network == "lstm":
        return lstm_model()
    modules = []
    for l, (n_in, n_out) in enumerate(zip(workload.units[:-1], workload.units[1:])):
        linear = nn.Linear(n_in, n_out)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[2 * l].T))  # torch keeps (out, in)
            linear.bias.copy_(torch.from_numpy(weights[2 * l + 1]))
        modules.append(linear)
        if l < len(workload.activations) - 1:
            modules.append({"relu": nn.ReLU, "tanh": nn.Tanh}[workload.activations[l]]())
    return nn.Sequential(*modules)


def lstm_model():
    """Embedding → LSTM (batch first) → Linear on the last step's hidden state, as Keras's LSTM returns it."""
    from torch import nn

    vocabulary, dim, _, units = LSTM_SHAPE

    class LastStateLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, dim)
            self.lstm = nn.LSTM(dim, units, batch_first=True)
            self.linear = nn.Linear(units, 1)

        def forward(self, x):
            _, (h, _) = self.lstm(self.embedding(x))
            return self.linear(h[-1])

    return LastStateLSTM()


class Trainer:
    def __init__(self, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        import torch
        from torch import nn

        torch.manual_seed(seed)
        self.torch, self.workload, self.seed = torch, workload, seed
        self.model = network(workload, weights)
        params = self.model.parameters()
        if workload.optimizer == "rmsprop":
            self.optimizer = torch.optim.RMSprop(params, lr=workload.learning_rate, alpha=RMSPROP_RHO,
                                                 eps=RMSPROP_EPSILON)
        else:
            self.optimizer = torch.optim.SGD(params, lr=workload.learning_rate)
        # CONV's images channels first, as a PyTorch user holds them
        self.x = torch.from_numpy(data.x.transpose(0, 3, 1, 2).copy() if data.x.ndim == 4 else data.x)
        output = workload.activations[-1]
        if output == "softmax":  # softmax + categorical cross-entropy, fused on the logits
            self.y = torch.from_numpy(data.labels)
            self.loss_fn = nn.functional.cross_entropy
        elif output == "sigmoid":  # sigmoid + binary cross-entropy, fused on the logits
            self.y = torch.from_numpy(data.y)
            self.loss_fn = nn.functional.binary_cross_entropy_with_logits
        else:  # tanh output, mean squared error
            self.y = torch.from_numpy(data.y)
            self.loss_fn = lambda z, y: nn.functional.mse_loss(torch.tanh(z), y)

    def train(self, order: np.ndarray) -> list[float]:
        index = self.torch.from_numpy(order)
        bs = self.workload.batch_size
        losses = []
        for s in range(0, len(index), bs):
            batch = index[s:s + bs]
            loss = self.loss_fn(self.model(self.x.index_select(0, batch)), self.y.index_select(0, batch))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return losses

    def warmup(self) -> None:
        self.train(np.arange(min(len(self.x), 5 * self.workload.batch_size)))

    def run_round(self, i: int) -> None:
        self.train(batch_order(len(self.x), self.seed + i))
