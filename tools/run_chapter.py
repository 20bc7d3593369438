"""Execute one or more chapters outside the book build, for quick checks while writing.

    .venv/bin/python tools/run_chapter.py book/activation-functions.md

Prints each chapter's execution time, or the failing cell with its traceback.
The executed notebook is written to _build/chapters/<name>.ipynb.
"""
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(path, timeout=600, return_notebook=False):
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    nb = jupytext.read(path)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        ok, message = True, ""
    except CellExecutionError as err:
        ok, message = False, str(err)
    elapsed = time.perf_counter() - start
    out = ROOT / "_build" / "chapters" / (path.stem + ".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    import nbformat

    nbformat.write(nb, out)
    if return_notebook:
        return ok, elapsed, message, nb
    return ok, elapsed, message


def main(argv=None):
    failed = 0
    for path in (argv if argv is not None else sys.argv[1:]):
        ok, elapsed, message = run(path)
        print(f"{'ok  ' if ok else 'FAIL'} {elapsed:6.1f} s  {path}")
        if not ok:
            failed += 1
            print(message)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
