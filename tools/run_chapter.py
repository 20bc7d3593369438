"""Execute one or more chapters outside the book build, for quick checks while writing.

    .venv/bin/python tools/run_chapter.py book/activation-functions.md              # both frameworks
    .venv/bin/python tools/run_chapter.py --framework pytorch book/perceptron.md   # one

Each framework runs its own notebook (tools/frameworks.py: the chapter without the
other framework's cells) in a fresh kernel. Prints each run's execution time, or
the failing cell with its traceback. The executed notebook is written to
_build/chapters/<framework>/<name>.ipynb.
"""
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def run(path, timeout=600, return_notebook=False, framework="mxnet"):
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from frameworks import split

    path = Path(path).resolve()
    nb = split(jupytext.read(path), framework)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        ok, message = True, ""
    except CellExecutionError as err:
        ok, message = False, str(err)
    elapsed = time.perf_counter() - start
    out = ROOT / "_build" / "chapters" / framework / (path.stem + ".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    import nbformat

    nbformat.write(nb, out)
    if return_notebook:
        return ok, elapsed, message, nb
    return ok, elapsed, message


def main(argv=None):
    import argparse

    from frameworks import FRAMEWORKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=list(FRAMEWORKS), action="append",
                        help="run only this framework's notebook (repeatable; default: all)")
    parser.add_argument("chapters", nargs="+")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.chapters:
        for framework in args.framework or list(FRAMEWORKS):
            ok, elapsed, message = run(path, framework=framework)
            print(f"{'ok  ' if ok else 'FAIL'} {elapsed:6.1f} s  {framework:8s} {path}")
            if not ok:
                failed += 1
                print(message)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
