"""Execute one or more chapters outside the book build, for quick checks while writing.

    .venv/bin/python -m tools.run_chapter book/activation-functions.md              # both frameworks
    .venv/bin/python -m tools.run_chapter --framework pytorch book/perceptron.md   # one

(``.venv/bin/python tools/run_chapter.py ...`` works too.)

Each framework runs its own notebook (tools/frameworks.py: the chapter without the
other framework's cells) in a fresh kernel; a chapter without framework cells runs
once. Prints each run's execution time, or the failing cell with its traceback. The
executed notebook is written to _build/chapters/<framework>/<name>.ipynb.

:func:`execute` is also what ``tools/build_book.py`` runs in its worker processes.
"""
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a file (python tools/run_chapter.py): import the tools as a package
    sys.path[0] = str(ROOT)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def kernel_env(overrides=None):
    """The environment a chapter's kernel runs in: this one, without ``MPLBACKEND``.

    A matplotlib backend chosen outside (the test suite's conftest.py sets
    MPLBACKEND=Agg) would replace the notebooks' inline backend and every figure
    would silently vanish. ``SOURCE_DATE_EPOCH`` and a fixed ``svg.hashsalt``
    (through ``MATPLOTLIBRC``, when ``overrides`` names one) make SVG figures the
    same from run to run, so two frameworks' equal figures compare equal.
    ``DLBOOK_FIGURE_LANGUAGE=both`` makes ``dl.setup()`` show each figure in Korean
    and in English.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    # Each figure once per language (dlbook.language): the pages' language switch and
    # each PDF edition show their own.
    env.setdefault("DLBOOK_FIGURE_LANGUAGE", "both")
    env.update(overrides or {})
    return env


def kernel_threads(jobs, threads=None):
    """Environment overrides of each kernel when ``jobs`` notebooks run at once on this machine.

    The book's build and this script use the same setting (by default one notebook per
    core, one thread each), so a chapter gives here the numbers the build gives.

    ``threads``: the threads of each kernel (default: the cores shared out, at least 1).
    """
    cores = os.cpu_count() or 1
    if jobs <= 1 and threads is None:
        return {}
    threads = str(threads or max(1, cores // jobs))
    # Kernels that share the cores must not spin while they wait (as dlbook launch does).
    return {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}


def execute(nb, cwd, timeout=600, env=None, allow_errors=False):
    """Execute the notebook ``nb`` in place in a fresh kernel started in ``cwd``.

    Returns a dict: ``ok``, ``seconds``, and for a failure ``cell_index`` (the
    failing cell's index in ``nb``), ``ename`` and ``message`` (nbclient's
    message: the cell's source and the traceback, without colour codes).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    started = {"index": None}

    def on_cell_start(cell, cell_index):
        started["index"] = cell_index

    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}},
                            on_cell_start=on_cell_start)
    start = time.perf_counter()
    result = {"ok": True}
    # The kernel's own stderr (ipykernel's start-up warnings, C libraries' messages)
    # goes to a file, shown only when the kernel dies; cell outputs are unaffected.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        try:
            client.execute(env=kernel_env(env), stderr=log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            name = getattr(err, "ename", None) or type(err).__name__
            message = _ANSI.sub("", str(err))
            if isinstance(err, DeadKernelError):
                log.seek(0)
                message += "\nThe kernel's last messages:\n" + "".join(log.readlines()[-30:])
            result = {"ok": False, "cell_index": started["index"], "ename": name,
                      "message": message}
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


def execute_job(job):
    """Worker entry point of the build: execute ``job['notebook']`` (JSON); return JSON back.

    ``job``: notebook, cwd, timeout, env (overrides), allow_errors. Runs in a
    separate process so that several chapters execute at once.
    """
    import nbformat

    nb = nbformat.reads(job["notebook"], as_version=4)
    result = execute(nb, job["cwd"], timeout=job.get("timeout", 600), env=job.get("env"),
                     allow_errors=job.get("allow_errors", False))
    result["notebook"] = nbformat.writes(nb)
    return result


def run(path, timeout=600, return_notebook=False, framework="mxnet"):
    """Execute ``framework``'s notebook of the chapter at ``path``; return (ok, seconds, message[, nb])."""
    import nbformat

    from tools.frameworks import read_chapter, split

    path = Path(path).resolve()
    nb = split(read_chapter(path), framework)
    result = execute(nb, path.parent, timeout=timeout, env=kernel_threads(os.cpu_count() or 1))
    out = ROOT / "_build" / "chapters" / framework / (path.stem + ".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    message = result.get("message", "")
    if return_notebook:
        return result["ok"], result["seconds"], message, nb
    return result["ok"], result["seconds"], message


def main(argv=None):
    import argparse

    from tools.frameworks import FRAMEWORKS, read_chapter, runs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=list(FRAMEWORKS), action="append",
                        help="run only this framework's notebook (repeatable; default: all "
                             "the chapter has)")
    parser.add_argument("chapters", nargs="+")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.chapters:
        planned = [fw for fw, _, _ in runs(read_chapter(path))]
        for framework in args.framework or planned:
            ok, elapsed, message = run(path, framework=framework)
            print(f"{'ok  ' if ok else 'FAIL'} {elapsed:6.1f} s  {framework:8s} {path}")
            if not ok:
                failed += 1
                print(message)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
