"""Build the book: execute every chapter once per framework, then write the site to _build/html.

    .venv/bin/python -m tools.build_book            # what `make book` runs
    .venv/bin/python -m tools.build_book --jobs 1   # one chapter at a time

Steps:
1. Read every chapter of ``_toc.yml`` that is a MyST notebook with code and plan
   its runs (tools/frameworks.py): a chapter with ``mxnet``/``pytorch`` cells runs
   once per framework, each in a fresh kernel, on that framework's notebook; a
   chapter without framework cells runs once.
2. Take each run from the execution cache (``_build/.dlbook/executed``) when its
   key matches -- the key covers the notebook's code, the chapter, the kernel and
   the fingerprint of dlbook's code (core plus that framework's layer; not its
   docstrings and comments) and the pins, never the prose -- else execute it.
   Runs execute ``--jobs`` at a time (default: one per CPU core, each kernel then
   using cores/jobs threads), the longest first. Each executed notebook is kept
   with its execution record (``metadata['dlbook']``: key, seconds, and for a
   failure the cell, the error's name and the traceback) in ``executed/`` or,
   when a cell failed, ``failed/``; every report below reads these records. A
   failing cell fails the build, naming the chapter, the framework, the cell (and
   its line) and the traceback.
3. Merge each chapter's runs into one notebook (``_build/.dlbook/merged``) that
   the site renders without executing anything (``book/_ext/frameworks_site.py``):
   framework cells with their own outputs, shared cells with the first run's
   (as a tab pair when the runs' outputs differ). Write the values recorded with
   ``dl.record`` per framework (``_build/.dlbook/records.json``, the results
   page) and the execution statistics (``_build/.dlbook/execution.json``).
4. Write one notebook per framework for readers (``_build/notebooks``: the
   download menu, and the ``notebooks`` branch that Colab and Binder open).
5. Run ``jupyter-book build`` with warnings as errors; fail if any figure lacked
   a glyph (a Hangul character drawn as a box). Print each run's time, whether
   this build executed it, and the totals; write them to
   _build/execution-times.json.
"""
import argparse
import ast
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a file (python tools/build_book.py): import the tools as a package
    sys.path[0] = str(ROOT)

from tools import frameworks  # noqa: E402

FINGERPRINT_INPUTS = ("pyproject.toml", "constraints.txt")
STATE = ".dlbook"  # under _build: executed/, merged/, failed/, records.json, ...
NOTEBOOKS = "notebooks"  # under _build: the notebooks branch
NOTEBOOKS_BRANCH = "notebooks"
BINDER_PYTHON = "python-3.11"
DEFAULT_REPOSITORY = "https://github.com/dlbook/dlbook"


# ----------------------------------------------------------------- fingerprints and cache
def fingerprint(root=ROOT, framework=None, docstrings=False):
    """SHA-256 over dlbook's Python code and the dependency pins.

    By default it hashes what can change a notebook's outputs: each module's syntax
    tree without its docstrings, so an edit of a docstring, a comment or the layout
    of the code re-executes nothing. A module that reads ``__doc__`` is hashed as
    text, docstrings included. ``docstrings=True`` hashes every file as text: the
    API reference is made from the docstrings. With ``framework``, the other
    frameworks' layers (``dlbook/<layer>/``) are left out: a change to the PyTorch
    layer re-executes no MXNet notebook.
    """
    root = Path(root)
    others = {frameworks.FRAMEWORKS[fw]["layer"].split(".")[-1] for fw in frameworks.FRAMEWORKS
              if framework is not None and fw != framework}
    digest = hashlib.sha256()
    files = sorted((root / "dlbook").rglob("*.py")) + [root / name for name in FINGERPRINT_INPUTS]
    for path in files:
        rel = path.relative_to(root)
        if len(rel.parts) > 2 and rel.parts[1] in others:
            continue
        if path.is_file():
            digest.update(rel.as_posix().encode())
            digest.update(b"\0")
            data = path.read_bytes()
            digest.update(data if docstrings or path.suffix != ".py" else _code(data))
    return digest.hexdigest()


def _code(source):
    """The bytes that stand for a module's behaviour: its syntax tree without docstrings.

    Falls back to the text itself when the module mentions ``__doc__`` (its docstrings
    may be output) or does not parse (the kernel will report the error).
    """
    if b"__doc__" in source:
        return source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    for node in ast.walk(tree):
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and ast.get_docstring(node, clean=False) is not None):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def invalidate_stale_cache(build_dir, current):
    """Make Sphinx re-read every page when dlbook changed since the last build.

    The API reference is generated from dlbook's docstrings, which Sphinx does not
    track; executed notebooks need nothing here (their keys hold the fingerprint).
    Also removes the execution cache of older builds (jupyter-cache). Returns True
    when something was cleared.
    """
    build_dir = Path(build_dir)
    stamp = build_dir / ".dlbook-fingerprint"
    previous = stamp.read_text().strip() if stamp.is_file() else None
    cleared = False
    if previous != current:
        for name in (".doctrees", ".jupyter_cache"):
            if (build_dir / name).exists():
                shutil.rmtree(build_dir / name)
                cleared = True
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return cleared


def write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it already holds it (Sphinx re-reads what is newer)."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _nb_text(nb):
    return json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# ----------------------------------------------------------------- the book
def load_config(root):
    """The execution settings of the book's ``_config.yml``: timeout, allow_errors, extensions."""
    import yaml

    config = yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf-8")) or {}
    execute = config.get("execute", {}) or {}
    parse = config.get("parse", {}) or {}
    return {"timeout": int(execute.get("timeout", 600)),
            "allow_errors": bool(execute.get("allow_errors", False)),
            "extensions": tuple(parse.get("myst_enable_extensions", []))}


def toc_docnames(root):
    """Every page of ``_toc.yml`` in order (docnames such as ``book/perceptron``)."""
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [str(Path(n).with_suffix("")) if n.endswith((".md", ".ipynb")) else n for n in names]


def chapters(root):
    """``[(docname, path)]`` of the pages that are MyST notebooks with code cells, in toc order."""
    found = []
    for docname in toc_docnames(root):
        path = Path(root) / f"{docname}.md"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if frameworks.is_notebook_text(text) and "{code-cell}" in text:
            found.append((docname, path))
    return found


class Run:
    """One framework's notebook of one chapter, to take from the cache or execute."""

    def __init__(self, docname, path, framework, notebook, served, key, state):
        self.docname, self.path, self.framework = docname, path, framework
        self.notebook, self.served, self.key = notebook, served, key
        #: Where the executed notebook is kept: executed/ (the cache) or failed/.
        self.cache_file = Path(state) / "executed" / framework / f"{docname}.ipynb"
        self.failed_file = Path(state) / "failed" / framework / f"{docname}.ipynb"
        self.executed = False
        #: The execution record, ``metadata['dlbook']`` of the executed notebook: read from
        #: the cache, or written by :func:`store` after the run. Every report of the build
        #: (the failure message, records, statistics, times) reads it.
        self.record = None

    @property
    def ok(self):
        return self.record is not None and "error" not in self.record

    @property
    def chapter(self):
        return f"{self.docname}.md"

    @property
    def label(self):
        labels = [frameworks.FRAMEWORKS[fw]["label"] for fw in self.served]
        return labels[0] if len(labels) == 1 else " and ".join(labels) + ", one notebook"

    def cached(self):
        """The cached executed notebook if its key matches, else None."""
        if not self.cache_file.is_file():
            return None
        import nbformat

        nb = nbformat.read(self.cache_file, as_version=4)
        return nb if nb.metadata.get("dlbook", {}).get("key") == self.key else None

    def previous_seconds(self):
        """How long this notebook took last time (cached, stale or failed), or None: for scheduling."""
        for path in (self.cache_file, self.failed_file):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return float(data["metadata"]["dlbook"]["seconds"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return None


def plan(root, build_dir, config):
    """The chapters and their runs: ``[(docname, path, source notebook, [Run])]``."""
    state = Path(build_dir) / STATE
    # The kernels import the dlbook installed in this environment: this checkout's.
    prints = {fw: fingerprint(ROOT, fw) for fw in frameworks.FRAMEWORKS}
    prints[None] = fingerprint(ROOT)
    book = []
    for docname, path in chapters(root):
        nb = frameworks.read_chapter(path, config["extensions"])
        runs = []
        for fw, fw_nb, served in frameworks.runs(nb):
            key = frameworks.execution_key(fw_nb, fw, Path(path).relative_to(root).as_posix(),
                                           prints[fw] if len(served) == 1 else prints[None])
            runs.append(Run(docname, path, fw, fw_nb, served, key, state))
        book.append((docname, path, nb, runs))
    return book


# ----------------------------------------------------------------- execution
def execute_runs(runs, jobs, config, env):
    """Execute ``runs`` (the cache misses), ``jobs`` at a time, longest first; store and print each."""
    import nbformat

    from tools.run_chapter import execute_job

    if not runs:
        return
    # Longest first (so that the longest does not start last); a notebook never run
    # counts as an average one.
    known = {id(r): r.previous_seconds() for r in runs}
    seen = [s for s in known.values() if s is not None]
    typical = sum(seen) / len(seen) if seen else 60.0
    order = sorted(runs, key=lambda r: -(known[id(r)] if known[id(r)] is not None else typical))
    todo = {}
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        for run in order:
            job = {"notebook": nbformat.writes(run.notebook), "cwd": str(Path(run.path).parent),
                   "timeout": config["timeout"], "env": env,
                   "allow_errors": config["allow_errors"]}
            todo[pool.submit(execute_job, job)] = run
        for future in concurrent.futures.as_completed(todo):
            run = todo[future]
            run.executed = True
            try:
                result = future.result()
            except Exception as err:  # the worker itself died (a crash, not a failing cell)
                result = {"ok": False, "seconds": 0.0, "ename": type(err).__name__,
                          "message": f"the worker executing it failed: {err}", "cell_index": None,
                          "notebook": nbformat.writes(run.notebook)}
            run.notebook = nbformat.reads(result.pop("notebook"), as_version=4)
            store(run, result)
            status = "executed" if run.ok else "FAILED"
            print(f"  {run.record['seconds']:7.1f} s  {run.chapter}  [{run.label}]  {status}",
                  flush=True)


def failure_message(run):
    """The message of a failed run: chapter, framework, cell, line, source and traceback.

    Everything comes from the run's execution record (``run.record['error']``) and its
    executed notebook, as kept under ``failed/``.
    """
    error = run.record["error"]
    index = error.get("cell_index")
    where = "before any cell ran"
    source = ""
    if index is not None and index < len(run.notebook.cells):
        cell = run.notebook.cells[index]
        source_index = cell.metadata.get("dlbook", {}).get("source_index", index)
        lines = run.notebook.metadata.get("source_map")
        line = f" (line {lines[index]} of the chapter)" if lines and index < len(lines) else ""
        where = f"cell {source_index}{line}"
        source = cell.get("source", "")
    head = (f"{run.chapter} [{run.label}]: Executing notebook failed: {where} raised "
            f"{error.get('ename')}")
    parts = [head]
    if source:
        parts.append("The failing cell:\n" + "\n".join("    " + s for s in source.splitlines()))
    parts.append(error.get("message", ""))
    return "\n".join(parts), f"{run.chapter} [{run.label}] {where}: {error.get('ename')}"


def store(run, result):
    """Keep an executed run with its record: in the cache when it succeeded, under failed/ when not.

    ``result``: what :func:`tools.run_chapter.execute` returned (ok, seconds, and for a
    failure cell_index, ename, message). A failed run's record has no key (it is never
    taken from the cache) and holds the ``error``.
    """
    import nbformat

    record = {"key": run.key if result["ok"] else None, "framework": run.framework,
              "served": run.served, "seconds": result["seconds"],
              "executed_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    if not result["ok"]:
        record["error"] = {name: result.get(name) for name in ("cell_index", "ename", "message")}
    run.notebook.metadata["dlbook"] = run.record = record
    target = run.cache_file if result["ok"] else run.failed_file
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(run.notebook, target)
    return target


def _output_lines(build_dir):
    """``(where, line)`` for every line of text the notebooks the site shows printed.

    Reads ``jupyter_execute/`` (what MyST-NB rendered: the merged notebooks, every
    framework's outputs); ``where`` names the notebook, the cell and its framework.
    """
    folder = Path(build_dir) / "jupyter_execute"
    for nb_path in sorted(folder.rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb.get("cells", [])):
            tags = [t for t in cell.get("metadata", {}).get("tags", []) if t in frameworks.FRAMEWORKS]
            where = f"{nb_path.relative_to(folder).as_posix()} cell {index}" + "".join(f" [{t}]" for t in tags)
            for output in cell.get("outputs", []):
                text = output.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                for line in text.splitlines():
                    yield where, line


def glyph_warnings(build_dir):
    """Missing-glyph messages in the outputs of the notebooks the site shows.

    Matplotlib reports a missing glyph as a warning ('Glyph ... missing from
    font(s)') for text, and as a log message ("Font 'default' does not have a
    glyph") for math text. Both languages' figures are drawn, so both are covered.
    """
    return [f"{where}: {line.strip()}" for where, line in _output_lines(build_dir)
            if ("Glyph" in line and "missing" in line) or "does not have a glyph" in line]


def figure_language_warnings(build_dir):
    """Figure texts that the English figure had to show in Korean (``dlbook.language``)."""
    return [f"{where}: {line.strip()}" for where, line in _output_lines(build_dir)
            if "FigureLanguageWarning" in line]


def prune(folder, keep):
    """Remove the notebooks under ``folder`` that are not in ``keep`` (removed chapters)."""
    keep = {Path(p).resolve() for p in keep}
    for path in Path(folder).rglob("*.ipynb") if Path(folder).is_dir() else []:
        if path.resolve() not in keep:
            path.unlink()


# ----------------------------------------------------------------- readers' notebooks
def repository(root):
    """(URL, owner/name) of the book's repository: pyproject's Source URL."""
    import tomllib

    for candidate in (Path(root) / "pyproject.toml", ROOT / "pyproject.toml"):
        if candidate.is_file():
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            url = data.get("project", {}).get("urls", {}).get("Source")
            if url:
                url = url.rstrip("/").removesuffix(".git")
                return url, "/".join(url.split("/")[-2:])
    return DEFAULT_REPOSITORY, "dlbook/dlbook"


def commit(root):
    """The commit the notebooks install dlbook from: $GITHUB_SHA in CI, else HEAD, else main."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "main"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "main"


def notebook_name(docname):
    """A chapter's name in the notebooks branch: ``book/perceptron`` -> ``perceptron``."""
    return docname.split("/", 1)[1] if docname.startswith("book/") else docname


def launch_links(slug, framework, name):
    """The page's launch links for ``framework``'s notebook ``name``: {'colab'|'binder': url}."""
    path = f"{framework}/{name}.ipynb"
    if framework == "pytorch":
        return {"colab": f"https://colab.research.google.com/github/{slug}/blob/"
                         f"{NOTEBOOKS_BRANCH}/{path}"}
    if framework == "mxnet":
        return {"binder": f"https://mybinder.org/v2/gh/{slug}/{NOTEBOOKS_BRANCH}"
                          f"?labpath={path.replace('/', '%2F')}"}
    return {}


def requirement(url, sha, framework, extras=()):
    """What pip installs for a reader's notebook: dlbook at this commit, with its extras."""
    names = ",".join([frameworks.FRAMEWORKS[framework]["extra"], *extras])
    return f"dlbook[{names}] @ git+{url}@{sha}"


def binder_files(url, sha, slug):
    """The notebooks branch's own files: Binder's environment and a README."""
    readme = f"""# dlbook notebooks

Generated by the book's build from {url} at commit `{sha}`; do not edit (every
push to `main` replaces this branch).

이 가지(branch)는 책을 빌드할 때 만든 노트북입니다. 장마다 프레임워크별로 하나씩 있고,
출력은 그 빌드에서 실행한 결과입니다.
This branch holds the notebooks the book's build made: one per chapter and framework,
with the outputs of that build.

- `pytorch/<chapter>.ipynb`: open in Colab,
  `https://colab.research.google.com/github/{slug}/blob/{NOTEBOOKS_BRANCH}/pytorch/<chapter>.ipynb`.
  The first cell installs `dlbook[torch]` (with the `text` extra where the chapter uses
  `dlbook.text`, and Debian's `bible-kjv` where it reads the King James Bible).
- `mxnet/<chapter>.ipynb`: open on Binder,
  `https://mybinder.org/v2/gh/{slug}/{NOTEBOOKS_BRANCH}?labpath=mxnet%2F<chapter>.ipynb`
  (Python 3.11 from `runtime.txt`, `dlbook[mxnet,text]` from `requirements.txt` and the
  Debian packages of `apt.txt`: MXNet 1.9.1 needs Python 3.11 or older).
"""
    # One Binder environment serves every chapter: all the extras and Debian packages any needs.
    return {"runtime.txt": BINDER_PYTHON + "\n",
            "requirements.txt": requirement(url, sha, "mxnet", sorted(frameworks.EXTRA_NEEDS)) + "\n",
            "apt.txt": "".join(f"{package}\n" for package in sorted(frameworks.APT_NEEDS)),
            "README.md": readme}


def write_reader_notebooks(book, build_dir, root):
    """_build/notebooks/<framework>/<chapter>.ipynb plus Binder's files; returns the manifest."""
    url, slug = repository(root)
    sha = commit(root)
    folder = Path(build_dir) / NOTEBOOKS
    manifest, written = {}, []
    for docname, _, _, runs in book:
        entry = {"notebooks": {}, "links": {}}
        name = notebook_name(docname)
        for run in runs:
            for fw in run.served:
                nb = frameworks.reader_notebook(run.notebook, [fw],
                                                lambda extras, fw=fw: requirement(url, sha, fw, extras))
                path = folder / fw / f"{name}.ipynb"
                write_if_changed(path, json.dumps(nb, ensure_ascii=False, indent=1) + "\n")
                written.append(path)
                entry["notebooks"][fw] = path.relative_to(folder).as_posix()
                entry["links"].update(launch_links(slug, fw, name))
        manifest[docname] = entry
    prune(folder, written)
    for name, text in binder_files(url, sha, slug).items():
        write_if_changed(folder / name, text)
    return manifest


# ----------------------------------------------------------------- main
def jupyter_book(root, build_dir):
    log_path = build_dir / "build.log"
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        raise SystemExit(f"{jb} not found: install the book extra (pip install -e '.[book]').")
    cmd = [str(jb), "build", str(root), "-W", "--keep-going"]
    print("$", " ".join(cmd), flush=True)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace", env=env)
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        return proc.wait(), log_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the book's folder (default: this repo)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks executed at once (default: the number of CPU cores)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of each kernel (default: the cores divided by --jobs)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    build_dir = root / "_build"
    state = build_dir / STATE

    if root == ROOT and (ROOT / "book" / "_glossary").is_dir():
        from tools import make_glossary

        if make_glossary.main(["--check"]) != 0:
            return 1
    if invalidate_stale_cache(build_dir, fingerprint(ROOT, docstrings=True)):
        print("dlbook or its dependencies changed: Sphinx re-reads every page.")
    start = time.perf_counter()
    config = load_config(root)
    book = plan(root, build_dir, config)
    runs = [run for *_, chapter_runs in book for run in chapter_runs]
    import nbformat

    for run in runs:
        hit = run.cached()
        if hit is not None:
            run.notebook, run.record = hit, hit.metadata["dlbook"]
    misses = [run for run in runs if run.record is None]
    jobs = max(1, min(args.jobs, len(misses) or 1))
    # From the jobs asked for, not those that are needed: how many chapters missed the cache
    # must not change a kernel's threads (and so the rounding of its numbers).
    from tools.run_chapter import kernel_threads

    env = kernel_threads(args.jobs, args.threads)
    rc = state / "matplotlibrc"  # the same SVG ids in every run (outputs compare equal)
    write_if_changed(rc, "svg.hashsalt: dlbook\n")
    env["MATPLOTLIBRC"] = str(rc)
    print(f"Executing {len(misses)} of {len(runs)} notebook(s) ({jobs} at a time); "
          "the others come from the cache.", flush=True)
    exec_start = time.perf_counter()
    execute_runs(misses, jobs, config, env)
    exec_wall = time.perf_counter() - exec_start

    problems, failures = [], []
    for run in runs:
        if not run.ok:
            message, summary = failure_message(run)
            print("\n" + message, file=sys.stderr, flush=True)
            failures.append(summary)
    prune(state / "executed", [r.cache_file for r in runs])
    prune(state / "failed", [r.failed_file for r in runs if not r.ok])

    # One notebook per chapter for the site, the recorded values, the statistics.
    records, stats = {"chapters": {}}, {"chapters": {}}
    for docname, path, source, chapter_runs in book:
        executed = {run.framework: run.notebook for run in chapter_runs}
        served = {run.framework: run.served for run in chapter_runs}
        merged = frameworks.merge(source, executed, served)
        merged.metadata["dlbook"] = {
            "source_sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            "frameworks": {run.framework: run.served for run in chapter_runs}}
        write_if_changed(state / "merged" / f"{docname}.ipynb", nbformat.writes(merged) + "\n")
        values = {}
        for run in chapter_runs:
            for fw in run.served:
                values[fw] = frameworks.records(run.notebook)
        records["chapters"][f"{docname}.md"] = {
            "docname": docname, "ran": [fw for run in chapter_runs for fw in run.served],
            "failed": [fw for run in chapter_runs if not run.ok for fw in run.served],
            "values": values}
        stats["chapters"][docname] = {run.framework: {
            "seconds": run.record["seconds"], "served": run.served, "ok": run.ok,
            "executed": run.executed, "executed_at": run.record.get("executed_at")}
            for run in chapter_runs}
    prune(state / "merged", [state / "merged" / f"{d}.ipynb" for d, *_ in book])
    write_if_changed(state / "records.json", json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    write_if_changed(state / "execution.json", json.dumps(stats, indent=1, ensure_ascii=False) + "\n")
    manifest = write_reader_notebooks(book, build_dir, root)
    write_if_changed(state / "notebooks.json", json.dumps(manifest, indent=1) + "\n")

    code, log_path = jupyter_book(root, build_dir)
    elapsed = time.perf_counter() - start
    if code != 0:
        problems.append(f"jupyter-book build failed (exit {code}); see the messages above "
                        f"and {log_path}.")
    glyphs = glyph_warnings(build_dir)
    if glyphs:
        problems.append("Figures with missing glyphs (text drawn as boxes):\n  " + "\n  ".join(glyphs))
    if failures:
        problems.append("Chapters whose execution failed (cell and traceback above):\n  "
                        + "\n  ".join(failures))

    report = {"wall_seconds": round(elapsed, 1), "execution_wall_seconds": round(exec_wall, 1),
              "jobs": jobs, "ok": not problems, "chapters": {}, "runs": {},
              "executed": sorted({r.chapter for r in runs if r.executed}),
              "executed_runs": sorted(f"{r.chapter} [{r.framework}]" for r in runs if r.executed)}
    print("\nExecution times (each notebook in a fresh kernel):")
    totals = {fw: 0.0 for fw in frameworks.FRAMEWORKS}
    for run in runs:
        seconds = float(run.record["seconds"])
        totals[run.framework] += seconds
        how = ("executed" if run.ok else "FAILED") if run.executed else "cached"
        print(f"  {seconds:7.1f} s  {run.chapter}  [{run.label}]  ({how})")
        report["chapters"][run.chapter] = round(report["chapters"].get(run.chapter, 0) + seconds, 2)
        report["runs"].setdefault(run.chapter, {})[run.framework] = {
            "seconds": seconds, "executed": run.executed, "ok": run.ok,
            "served": run.served}
    for fw, seconds in totals.items():
        print(f"  {seconds:7.1f} s  total {frameworks.FRAMEWORKS[fw]['label']}")
    report["framework_seconds"] = {fw: round(s, 1) for fw, s in totals.items()}
    print(f"Executed in this build: {len(report['executed_runs'])} notebook(s) of "
          f"{len(report['executed'])} chapter(s) in {exec_wall:.1f} s ({jobs} at a time); "
          "the others came from the cache.")
    print(f"Book build took {elapsed:.1f} s (wall time).")
    (build_dir / "execution-times.json").write_text(json.dumps(report, indent=2) + "\n")
    if problems:
        print("\nBUILD FAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print(f"The site is in {build_dir / 'html'}; preview it with `make serve`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
