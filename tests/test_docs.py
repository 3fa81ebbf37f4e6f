"""The documentation site (mkdocs.yml, ``make docs``) builds with ``--strict``: every page, the notebooks rendered from
their saved outputs, the API reference from the docstrings, and the repository files the guides link."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

for plugin in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
    pytest.importorskip(plugin, reason="the documentation site needs the 'docs' extra")

ROOT = Path(__file__).resolve().parents[1]


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_site_builds_strictly_with_every_part(tmp_path):
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert out.returncode == 0, out.stderr
    for page in ("getting_started", "architecture", "custom_layers", "sweeps", "api/layers"):
        assert (site / page / "index.html").is_file()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):  # rendered with their outputs
        assert "jp-OutputArea" in (site / "notebooks" / notebook.stem / "index.html").read_text()
    models = (site / "api" / "models" / "index.html").read_text()
    assert 'id="glassnet.models.Sequential"' in models and 'id="glassnet.models.trainer.Trainer.fit"' in models
    coverage = (site / "keras_coverage" / "index.html").read_text()  # docs/keras_coverage.md, kept fresh by a test
    assert "keras.layers" in coverage and "Dense" in coverage
    linked = "examples/sweeps/boston.toml"  # docs/sweeps.md links ../examples/sweeps/boston.toml
    assert (site / linked).read_text() == (ROOT / linked).read_text()


def test_only_existing_repository_files_are_published_for_links():
    hooks = load_hooks()
    markdown = "[config](../examples/sweeps/boston.toml), [gone](../examples/nothing.toml), [doc](../docs/index.md)"
    assert hooks.repository_links(markdown) == {"examples/sweeps/boston.toml"}


@pytest.mark.parametrize("link, complaint", [("[gone](nowhere.md)", "nowhere.md"),
                                             ("[anchor](#no-such-heading)", "no-such-heading")],
                         ids=["missing page", "missing anchor"])
def test_a_broken_link_fails_the_strict_build(tmp_path, link, complaint):
    """The site's own settings (inherited from mkdocs.yml) on a one-page site whose page has a broken link."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(f"# Home\n\n{link}\n")
    (tmp_path / "mkdocs.yml").write_text(f"INHERIT: {ROOT / 'mkdocs.yml'}\ndocs_dir: docs\nsite_dir: site\n"
                                         "hooks: []\nplugins: [search]\nnav: [index.md]\nexclude_docs: ''\n")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert out.returncode != 0 and complaint in out.stderr
