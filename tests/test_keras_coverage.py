"""Honest gaps: glassnet/keras_names.json holds the installed Keras 3's public names, docs/keras_coverage.md says
which of them glassnet has, and a Keras name glassnet lacks raises an AttributeError that says so."""

from __future__ import annotations

import difflib
import json
import time

import pytest

import glassnet
from glassnet import keras_coverage, keras_names

DOCUMENT = "docs/keras_coverage.md"
REFRESH = f"run `{keras_coverage.REFRESH_COMMAND}` from the repository root"
# every glassnet module users reach as keras.<namespace>: each ends in the honest __getattr__
NAMESPACES = ["", "activations", "backend", "callbacks", "config", "constraints", "datasets", "initializers",
              "layers", "losses", "metrics", "models", "ops", "optimizers", "optimizers.schedules", "random",
              "regularizers", "saving", "utils", "wrappers"]


def first_differences(recorded: dict[str, list[str]], installed: dict[str, list[str]], limit: int = 10) -> list[str]:
    differences = []
    for namespace in sorted(set(recorded) | set(installed)):
        old, new = set(recorded.get(namespace, ())), set(installed.get(namespace, ()))
        differences += [f"keras.{namespace}: +{name}" for name in sorted(new - old)]
        differences += [f"keras.{namespace}: -{name}" for name in sorted(old - new)]
    return differences[:limit]


def test_the_recorded_names_are_the_installed_keras_public_names(keras):
    recorded = json.loads(keras_coverage.NAMES_FILE.read_text(encoding="utf-8"))
    installed = keras_coverage.keras_public_names(keras)
    assert "Dense" in installed["layers"] and "schedules" in installed["optimizers"]
    assert "src" not in installed[""]
    assert not any(name.startswith("_") for names in installed.values() for name in names)
    assert recorded["namespaces"] == installed, (
        f"glassnet/keras_names.json records Keras {recorded['keras_version']}'s names, which differ from the installed "
        f"Keras {keras.__version__}'s ({', '.join(first_differences(recorded['namespaces'], installed))}): {REFRESH}")


def test_the_coverage_document_is_up_to_date():
    written = keras_coverage.DOCUMENT.read_text(encoding="utf-8")
    fresh = keras_coverage.coverage_markdown()
    changes = [line for line in difflib.unified_diff(written.splitlines(), fresh.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert written == fresh, f"docs/keras_coverage.md is stale ({'; '.join(changes[:8])}): {REFRESH}"


def test_the_document_counts_the_keras_layers_glassnet_exports():
    keras_layers = keras_names.keras_namespaces()["layers"]
    has = len(keras_layers & set(glassnet.layers.__all__))
    assert f"| [`keras.layers`](#keraslayers) | {has} | {len(keras_layers)} |" in keras_coverage.coverage_markdown()


def test_a_keras_layer_glassnet_lacks_says_so_and_where_to_look():
    if hasattr(glassnet.layers, "ConvLSTM2D"):
        pytest.skip("glassnet implements keras.layers.ConvLSTM2D now; the test below covers every namespace")
    with pytest.raises(AttributeError) as error:
        glassnet.layers.ConvLSTM2D  # noqa: B018
    assert str(error.value) == ("glassnet does not implement keras.layers.ConvLSTM2D (yet); "
                                "what it has: docs/keras_coverage.md")


def test_a_misspelt_name_gets_pythons_message_and_a_suggestion():
    with pytest.raises(AttributeError) as error:
        glassnet.layers.Dens  # noqa: B018
    assert str(error.value) == "module 'glassnet.layers' has no attribute 'Dens'. Did you mean: 'Dense'?"
    with pytest.raises(AttributeError) as error:
        glassnet.Sequentail  # noqa: B018
    assert str(error.value) == "module 'glassnet' has no attribute 'Sequentail'. Did you mean: 'Sequential'?"


def test_private_and_dunder_lookups_stay_plain_and_fast():
    assert not hasattr(glassnet.layers, "__wrapped__")
    with pytest.raises(AttributeError) as error:
        glassnet.ops._Dense  # noqa: B018
    assert str(error.value) == "module 'glassnet.ops' has no attribute '_Dense'"
    start = time.perf_counter()
    for _ in range(2000):
        hasattr(glassnet.layers, "__wrapped__")
    assert time.perf_counter() - start < 1.0  # ~3 µs a lookup: no name list is read, no suggestion searched


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_keras_namespace_raises_the_honest_error(namespace):
    module = keras_coverage.glassnet_module(namespace)
    assert module is not None and "__getattr__" in vars(module)
    lacking = sorted(name for name in keras_names.keras_namespaces()[namespace]
                     if not keras_coverage.implements(module, namespace, name))
    for name in lacking[:1]:
        with pytest.raises(AttributeError) as error:
            getattr(module, name)
        keras_name = keras_names.dotted("keras", namespace, name)
        assert str(error.value) == f"glassnet does not implement {keras_name} (yet); what it has: {DOCUMENT}"
    with pytest.raises(AttributeError) as error:
        module.qqq_nothing_like_it  # noqa: B018
    assert str(error.value) == f"module '{module.__name__}' has no attribute 'qqq_nothing_like_it'"


def test_the_refresh_command_rewrites_a_stale_document_and_then_finds_nothing_stale(keras, tmp_path, monkeypatch,
                                                                                    capsys):
    names, document = tmp_path / "keras_names.json", tmp_path / "keras_coverage.md"
    names.write_text(keras_coverage.NAMES_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    document.write_text("# an old page\n", encoding="utf-8")
    monkeypatch.setattr(keras_coverage, "NAMES_FILE", names)
    monkeypatch.setattr(keras_coverage, "DOCUMENT", document)
    assert keras_coverage.main([]) == 1
    assert capsys.readouterr().out == f"stale: {document}\n"
    assert keras_coverage.main(["--write"]) == 0
    assert document.read_text(encoding="utf-8") == keras_coverage.coverage_markdown()
    assert keras_coverage.main([]) == 0
