"""mkdocs hooks for the documentation site (``make docs``): the notebooks in ``notebooks/`` become pages, rendered by
mkdocs-jupyter from their saved outputs, and a repository file that a top-level page links as ``../PATH`` (like
``../examples/sweeps/boston.toml``) is published at ``PATH``, so the link works on the site and in the repository.
A link to a file that does not exist stays as written, and ``--strict`` fails on it."""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

REPOSITORY = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPOSITORY / "notebooks"
REPOSITORY_LINK = re.compile(r"\]\(\.\./([^)#\s]+)")  # ](../examples/x.toml) in a page at the top of docs/

published: set[str] = set()


def repository_links(markdown: str) -> set[str]:
    """The ``../PATH`` link targets in ``markdown`` that are files of the repository outside docs/."""
    return {path for path in REPOSITORY_LINK.findall(markdown)
            if (REPOSITORY / path).is_file() and not path.startswith("docs/")}


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files, config):
    def add(path: str) -> None:
        files.append(File(path, src_dir=str(REPOSITORY), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))

    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        add(notebook.relative_to(REPOSITORY).as_posix())
    published.clear()
    for page in sorted(Path(config["docs_dir"]).glob("*.md")):
        published.update(repository_links(page.read_text(encoding="utf-8")))
    for path in sorted(published):
        add(path)
    return files


def on_page_markdown(markdown, page, config, files):
    if "/" in page.file.src_uri:  # only top-level pages: there ../ is the repository
        return markdown
    return REPOSITORY_LINK.sub(lambda m: f"]({m[1]}" if m[1] in published else m[0], markdown)
