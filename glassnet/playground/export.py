""""Export as Python": a self-contained glassnet script that reproduces the playground's current experiment.

The data settings, features, layers, initializers (with their seeds), regularizer, loss and optimizer all come
from the same recipe the session builds its model from; the script trains with ``model.fit`` for as many epochs
as the page has run and prints the training and test loss the page shows.
"""

from __future__ import annotations

import numpy as np

from glassnet.playground import features, recipe
from glassnet.playground.settings import hidden_activations

DEFAULT_EPOCHS = 100  # when the page has not trained yet


def _data_code(settings: dict, custom_data) -> list[str]:
    if settings["dataset"] == "custom":
        x, y = custom_data
        return [
            "# data: the CSV file uploaded to the playground (its rows shuffled as the playground shuffled them)",
            f"x = np.array({np.round(x.astype(np.float64), 6).tolist()!r}, dtype=np.float32)",
            f"y = np.array({np.round(y.astype(np.float64), 6).tolist()!r}, dtype=np.float32)",
        ]
    n = recipe.NUM_SAMPLES[settings["problem"]]
    return [
        f"# data: the playground's {settings['dataset']!r} set, {n} points, noise {settings['noise']}%",
        f"x, y = toy2d.load({settings['dataset']!r}, n_samples={n}, noise={settings['noise'] / 100!r}, "
        f"seed={settings['seed']})",
    ]


def python_code(settings: dict, epochs: int, custom_data=None) -> str:
    """The script for ``settings`` trained for ``epochs`` epochs (DEFAULT_EPOCHS if 0)."""
    s = settings
    loss = recipe.loss(s)
    activations = ", ".join(hidden_activations(s)) or "none"
    header = [
        '"""A glassnet experiment exported from the playground.',
        "",
        f"{s['problem'].capitalize()} of {s['dataset']!r} data with features {', '.join(s['features'])}; hidden "
        f"layers {s['layers']} ({activations}); {s['optimizer']} at learning rate {s['learning_rate']:g}, "
        f"batch size {s['batch_size']}.",
        "Run it as-is: python this_file.py",
        '"""',
        "",
        "import numpy as np",
        "",
        "from glassnet import initializers, layers, losses, models, optimizers, regularizers  # noqa: F401",
        "from glassnet.datasets import toy2d  # noqa: F401",
        "",
        f"EPOCHS = {epochs or DEFAULT_EPOCHS}",
        "",
    ]
    body = [
        *_data_code(s, custom_data),
        f"n_train = len(x) * {s['train_percent']} // 100  # the first {s['train_percent']}% train, the rest test",
        "",
        "",
        "def features(x):",
        '    """The input features chosen on the page."""',
        f"    return {features.code(s['features'])}.astype(np.float32)",
        "",
        "",
        "x_train, y_train = features(x[:n_train]), y[:n_train, None]",
        "x_test, y_test = features(x[n_train:]), y[n_train:, None]",
        "",
        f"model = {recipe.model(s).code()}",
        f"loss = {loss.code()}",
        f"model.compile(optimizer={recipe.optimizer(s).code()}, loss=loss)",
        f"model.fit(x_train, y_train, batch_size={s['batch_size']}, epochs=EPOCHS, shuffle=True, verbose=0)",
        "",
        "# the losses the playground shows: the data loss, without the regularization penalty",
        "train_loss = float(loss(y_train, model.predict(x_train, verbose=0)))",
        "test_loss = float(loss(y_test, model.predict(x_test, verbose=0)))",
        'print(f"epochs {EPOCHS}: training loss {train_loss:.4f}, test loss {test_loss:.4f}")',
    ]
    return "\n".join(header + body) + "\n"
