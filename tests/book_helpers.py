"""Shared helpers for the book tests: the table of contents and the build tools."""
import sys
from pathlib import Path

import yaml

from tools import build_book, check_bilingual

ROOT = Path(__file__).resolve().parent.parent

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


#: A small chapter in both frameworks (framework cells, a shared cell with equal outputs,
#: a shared cell whose outputs differ, a hidden PyTorch assertion, an MXNet-only cell).
TWO_FRAMEWORKS = ROOT / "tests" / "fixtures" / "two-frameworks.md"
INDEX_PAGE = "# 색인 (Index)\n\n:::{ko}\n처음.\n:::\n\n:::{en}\nStart.\n:::\n"


def make_book(folder, pages, config_edit=None):
    """A book in ``folder`` using this repo's configuration and extensions.

    ``pages``: {docname: text} in table-of-contents order, the first is the root.
    ``config_edit``: a function of the _config.yml text. Returns the folder.
    """
    import shutil

    folder = Path(folder)
    (folder / "book").mkdir(parents=True, exist_ok=True)
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    (folder / "_config.yml").write_text(config_edit(config) if config_edit else config,
                                        encoding="utf-8")
    shutil.copytree(ROOT / "book" / "_ext", folder / "book" / "_ext", dirs_exist_ok=True)
    shutil.copytree(ROOT / "book" / "_static", folder / "book" / "_static", dirs_exist_ok=True)
    names = list(pages)
    for name, text in pages.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    toc = f"format: jb-book\nroot: {names[0]}\n"
    if names[1:]:
        toc += "chapters:\n" + "".join(f"  - file: {n}\n" for n in names[1:])
    (folder / "_toc.yml").write_text(toc)
    return folder


def run_build(folder, *args, timeout=900):
    """tools/build_book.py on the book in ``folder``: the finished process (output captured)."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "tools.build_book", "--root", str(folder), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def python_for(version):
    """The interpreter for ``version`` on this machine: on PATH, or installed by pyenv.

    A pyenv shim of a version that is installed but not selected fails when run, so each
    candidate must answer ``--version``.
    """
    import glob
    import os
    import shutil
    import subprocess

    import pytest

    candidates = [shutil.which(f"python{version}")]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin",
                                                f"python{version}")))
    for candidate in filter(None, candidates):
        proc = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.split()[-1].startswith(version + "."):
            return candidate
    pytest.fail(f"python{version} is needed for the install test; none runs here "
                f"(tried {candidates}).")
