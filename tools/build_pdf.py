"""Build the book's PDFs, a Korean and an English edition, from the site's executed notebooks.

    .venv/bin/python -m tools.build_pdf              # what `make pdf` runs: both editions
    .venv/bin/python -m tools.build_pdf --lang en    # one edition

Runs after ``tools/build_book.py`` (``make book``) and executes nothing: the pages are
read from the merged notebooks that build wrote (``_build/.dlbook/merged``, rendered
by ``book/_ext/frameworks_site.py`` exactly as for the site), so the PDFs show the
outputs of the build that made the site. A chapter edited since then fails the build
with a message to run ``make book`` first.

For each edition (``ko``, ``en``), at the same time:

1. Sphinx's LaTeX builder, through Jupyter Book's ``build_sphinx`` with the book's
   ``_config.yml`` and ``_toc.yml`` (as ``jupyter-book build --builder latex``), plus
   ``book/_ext/pdf_book.py`` (fonts, title page, SVG figures to PDF, framework cells)
   and the edition's ``language``; ``book/_ext/bilingual.py`` leaves the other
   language's blocks out. Warnings are errors, as in the site's build. Each edition
   has its folder beside the site's, ``_build/latex-<lang>`` (the extensions find the
   build's state in ``_build/.dlbook`` next to their output folder), with its parsed
   pages in ``.doctrees``: a later build re-reads only what changed.
2. XeLaTeX through ``latexmk`` on ``_build/latex-<lang>/dlbook-<lang>.tex``.
3. Checks of the LaTeX log: a "Missing character" (a glyph no font of the PDF has,
   printed as nothing) fails the build.

The PDFs are written to ``_build/pdf/dlbook-ko.pdf`` and ``_build/pdf/dlbook-en.pdf``
and, when the site exists, copied to ``_build/html/pdf/`` (the front page links
there). Times are printed and written to ``_build/pdf/build-times.json``.

Needs XeLaTeX with kotex, latexmk, fonts-nanum, FreeFont, DejaVu and rsvg-convert
(Debian: see the apt packages in ``.ci/run``).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a file (python tools/build_pdf.py): import the tools as a package
    sys.path[0] = str(ROOT)

from tools import build_book  # noqa: E402

LANGUAGES = ("ko", "en")
PDF_DIR = "pdf"  # under _build, and under _build/html for the site
EXTENSION = "pdf_book"  # book/_ext/pdf_book.py, loaded for the PDF builds only
ROOT_DOC = "book/index"
MISSING_CHARACTER = re.compile(r"^Missing character: .*$", re.MULTILINE)
TOOLS = ("xelatex", "latexmk", "rsvg-convert")


def pdf_name(lang):
    return f"dlbook-{lang}.pdf"


def edition_dir(build_dir, lang):
    """An edition's Sphinx output folder: beside _build/html, for the extensions' state."""
    return Path(build_dir) / f"latex-{lang}"


# ----------------------------------------------------------------- checks before building
def stale_chapters(root, build_dir):
    """Chapters whose merged notebook is missing or was made from an older source."""
    stale = []
    for docname, path in build_book.chapters(root):
        merged = Path(build_dir) / build_book.STATE / "merged" / f"{docname}.ipynb"
        if not merged.is_file():
            stale.append(f"{docname}.md (never executed)")
            continue
        made_from = json.loads(merged.read_text(encoding="utf-8")).get(
            "metadata", {}).get("dlbook", {}).get("source_sha256")
        if made_from != hashlib.sha256(Path(path).read_bytes()).hexdigest():
            stale.append(f"{docname}.md (edited since it was executed)")
    return stale


def missing_tools():
    return [tool for tool in TOOLS if shutil.which(tool) is None]


# ----------------------------------------------------------------- one edition's LaTeX
def sphinx_overrides(root, lang, date, sha):
    """The Sphinx settings of one edition, on top of the book's _config.yml."""
    from jupyter_book.config import get_final_config

    config, _ = get_final_config(user_yaml=Path(root) / "_config.yml",
                                 cli_config={"latex_individualpages": False},
                                 sourcedir=Path(root), use_external_toc=True)
    extensions = list(config["extensions"])
    if EXTENSION not in extensions:
        extensions.append(EXTENSION)
    return {
        "external_toc_path": (Path(root) / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "extensions": extensions,
        "language": lang,
        "pdf_book_language": lang,
        "pdf_book_date": date,
        "pdf_book_commit": sha,
        "latex_documents": [(ROOT_DOC, f"dlbook-{lang}.tex", config.get("html_title", "dlbook"),
                             config.get("author", ""), "manual", False)],
    }


def write_latex(root, lang, date, sha):
    """Sphinx's LaTeX builder for edition ``lang`` (run in its own process); returns its status."""
    from jupyter_book.sphinx import build_sphinx

    build_dir = Path(root) / "_build"
    folder = edition_dir(build_dir, lang)
    # The API reference comes from dlbook's docstrings, which Sphinx does not track.
    build_book.invalidate_stale_cache(folder, build_book.fingerprint(ROOT, docstrings=True))
    result = build_sphinx(Path(root), folder, doctreedir=folder / ".doctrees",
                          noconfig=True, path_config=Path(root) / "_config.yml",
                          confoverrides=sphinx_overrides(root, lang, date, sha),
                          builder="latex", warningiserror=True, keep_going=True)
    if isinstance(result, Exception):
        print(f"Sphinx failed: {result!r}", file=sys.stderr)
        return 1
    return int(result or 0)


# ----------------------------------------------------------------- both editions
def start_latex(root, lang, date, sha):
    """Start the Sphinx step of ``lang`` as a child process, its output to sphinx.log."""
    folder = edition_dir(Path(root) / "_build", lang)
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "sphinx.log", "w", encoding="utf-8")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--root", str(root),
           "--latex-only", lang, "--date", date, "--commit", sha]
    return subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT), log


def start_xelatex(folder, lang):
    """Start latexmk (XeLaTeX, as many runs as the TOC and references need) on one edition."""
    tex = f"dlbook-{lang}.tex"
    log = open(folder / "latexmk.log", "w", encoding="utf-8")
    cmd = ["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error",
           "-file-line-error", tex]
    return subprocess.Popen(cmd, cwd=folder, stdout=log, stderr=subprocess.STDOUT), log


def wait_all(procs, what):
    """Wait for ``{lang: (process, log)}``; returns the languages that failed."""
    failed = []
    for lang, (proc, log) in procs.items():
        code = proc.wait()
        log.close()
        if code != 0:
            failed.append(lang)
            tail = Path(log.name).read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            print(f"\n{what} of the {lang} edition failed (exit {code}); the end of {log.name}:\n  "
                  + "\n  ".join(tail), file=sys.stderr)
    return failed


def latex_problems(folder, lang):
    """What the LaTeX log of an edition reports as wrong: missing glyphs."""
    log = folder / f"dlbook-{lang}.log"
    if not log.is_file():
        return [f"{log} not written"]
    text = log.read_text(encoding="utf-8", errors="replace")
    return sorted(set(MISSING_CHARACTER.findall(text)))


def pdf_pages(path):
    try:
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, re.MULTILINE)
    return int(match.group(1)) if match else None


def build(root, languages):
    """Build ``languages``' PDFs; returns (exit code, report)."""
    root = Path(root)
    build_dir = root / "_build"
    start = time.perf_counter()
    report = {"editions": {}, "ok": False}
    missing = missing_tools()
    if missing:
        print(f"Not found: {', '.join(missing)}. Install the TeX and font packages listed in "
              ".ci/run (Debian: texlive-xetex texlive-lang-korean latexmk fonts-nanum "
              "librsvg2-bin ...).", file=sys.stderr)
        return 1, report
    stale = stale_chapters(root, build_dir)
    if stale:
        print("The PDFs are made from the site's executed notebooks, and these are missing or "
              "out of date:\n  " + "\n  ".join(stale) + "\nBuild the book first: make book",
              file=sys.stderr)
        return 1, report
    date = time.strftime("%Y-%m-%d")
    sha = build_book.commit(root)[:12]

    print(f"LaTeX of {', '.join(languages)} (Sphinx; logs in _build/latex-<lang>/sphinx.log) ...",
          flush=True)
    procs = {lang: start_latex(root, lang, date, sha) for lang in languages}
    failed = wait_all(procs, "Sphinx's LaTeX build")
    sphinx_seconds = time.perf_counter() - start
    if failed:
        return 1, report
    print(f"  {sphinx_seconds:6.1f} s  Sphinx (LaTeX sources)", flush=True)

    tex_start = time.perf_counter()
    procs = {lang: start_xelatex(edition_dir(build_dir, lang), lang) for lang in languages}
    failed = wait_all(procs, "XeLaTeX")
    tex_seconds = time.perf_counter() - tex_start
    if failed:
        return 1, report
    print(f"  {tex_seconds:6.1f} s  XeLaTeX (latexmk)", flush=True)

    problems = []
    site = build_dir / "html"
    for lang in languages:
        folder = edition_dir(build_dir, lang)
        pdf = folder / pdf_name(lang)
        found = latex_problems(folder, lang)
        if found:
            problems.append(f"{lang}: glyphs missing from the fonts (LaTeX log "
                            f"{folder / f'dlbook-{lang}.log'}):\n    "
                            + "\n    ".join(found[:20]))
        target = build_dir / PDF_DIR / pdf_name(lang)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, target)
        if site.is_dir():
            (site / PDF_DIR).mkdir(exist_ok=True)
            shutil.copyfile(pdf, site / PDF_DIR / pdf_name(lang))
        report["editions"][lang] = {"pdf": target.relative_to(root).as_posix(),
                                    "pages": pdf_pages(target),
                                    "bytes": target.stat().st_size}
    elapsed = time.perf_counter() - start
    report.update({"wall_seconds": round(elapsed, 1), "sphinx_seconds": round(sphinx_seconds, 1),
                   "xelatex_seconds": round(tex_seconds, 1), "date": date, "commit": sha,
                   "cpus": os.cpu_count(), "ok": not problems})
    (build_dir / PDF_DIR / "build-times.json").write_text(json.dumps(report, indent=2) + "\n")
    for lang, entry in report["editions"].items():
        print(f"  {entry['pdf']}: {entry['pages']} pages, {entry['bytes'] / 1e6:.1f} MB")
    print(f"PDF build took {elapsed:.1f} s (wall time).")
    if problems:
        print("\nPDF BUILD FAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1, report
    if site.is_dir():
        print(f"Copied to {site / PDF_DIR} (the site's links).")
    return 0, report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the book's folder (default: this repo)")
    parser.add_argument("--lang", choices=LANGUAGES, action="append",
                        help="an edition to build (repeatable; default: both)")
    parser.add_argument("--latex-only", choices=LANGUAGES, metavar="LANG",
                        help="only write one edition's LaTeX (the step each edition runs)")
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"), help=argparse.SUPPRESS)
    parser.add_argument("--commit", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.latex_only:
        return write_latex(root, args.latex_only, args.date,
                           args.commit or build_book.commit(root)[:12])
    code, _ = build(root, tuple(args.lang or LANGUAGES))
    return code


if __name__ == "__main__":
    sys.exit(main())
