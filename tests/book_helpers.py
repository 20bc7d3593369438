"""Shared helpers for the book tests: the table of contents and the build tools."""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_book  # noqa: E402  (tools/ is not a package)
import check_bilingual  # noqa: E402

#: The front matter that makes a MyST Markdown file a notebook for the python3 kernel.
NOTEBOOK_HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def toc_files():
    """Every page listed in _toc.yml, as paths relative to the root, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def source(page):
    return ROOT / f"{page}.md"


def has_code(page):
    return "```{code-cell}" in source(page).read_text(encoding="utf-8")
