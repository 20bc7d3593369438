"""Build the book: execute every chapter and write the HTML site to _build/html.

    python tools/build_book.py            # what `make book` runs

Steps:
1. Clear the execution cache when dlbook's source or the pinned dependencies
   changed since the cache was filled (jupyter-cache alone only notices
   changes of a notebook's own code), so no page shows stale outputs.
2. Run `jupyter-book build` with warnings as errors. A failing cell stops the
   build with the chapter, the cell and the traceback in the output.
3. Fail if any figure lacked a glyph (a Hangul character drawn as a box).
4. Print each chapter's execution time, whether this build executed it or took
   it from the cache, and the totals; write them to _build/execution-times.json.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FINGERPRINT_INPUTS = ("pyproject.toml", "constraints.txt")


def fingerprint(root=ROOT):
    """SHA-256 over dlbook's Python files and the dependency pins."""
    digest = hashlib.sha256()
    files = sorted((root / "dlbook").rglob("*.py")) + [root / name for name in FINGERPRINT_INPUTS]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def invalidate_stale_cache(build_dir, current):
    """Delete the execution cache if it was made with other dlbook code.

    Returns True when the cache was cleared.
    """
    build_dir = Path(build_dir)
    cache = build_dir / ".jupyter_cache"
    stamp = build_dir / ".dlbook-fingerprint"
    previous = stamp.read_text().strip() if stamp.is_file() else None
    cleared = False
    if previous != current and cache.exists():
        shutil.rmtree(cache)
        # Executed notebooks and pages built from the old cache go too.
        shutil.rmtree(build_dir / "jupyter_execute", ignore_errors=True)
        shutil.rmtree(build_dir / ".doctrees", ignore_errors=True)
        cleared = True
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return cleared


def glyph_warnings(build_dir):
    """Missing-glyph messages in the executed notebooks' outputs.

    Matplotlib reports them as a warning ('Glyph ... missing from font(s)') for
    text, and as a log message ("Font 'default' does not have a glyph") for math text.
    """
    found = []
    for nb_path in sorted((Path(build_dir) / "jupyter_execute").rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb.get("cells", [])):
            for output in cell.get("outputs", []):
                text = output.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                for line in text.splitlines():
                    if ("Glyph" in line and "missing" in line) or "does not have a glyph" in line:
                        found.append(f"{nb_path.name} cell {index}: {line.strip()}")
    return found


def failed_chapters(log_path):
    """Chapters the build log reports as failed to execute."""
    failed = []
    text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        if "Executing notebook failed" in line:
            chapter = line.split(": WARNING")[0].replace("\x1b[91m", "").strip()
            if chapter not in failed:
                failed.append(chapter)
    return failed


def _records(build_dir):
    cache_dir = Path(build_dir) / ".jupyter_cache"
    if not cache_dir.exists():
        return []
    from jupyter_cache import get_cache

    return get_cache(str(cache_dir)).list_cache_records()


def execution_times(build_dir):
    """{notebook path: seconds} from the jupyter-cache records."""
    times = {}
    for record in _records(build_dir):
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None:
            times[Path(record.uri).resolve()] = float(seconds)
    return times


def executed_since(build_dir, since):
    """Notebooks executed (not taken from the cache) after the POSIX time ``since``."""
    from datetime import timezone

    executed = []
    for record in _records(build_dir):
        created = record.created
        if created.tzinfo is None:  # jupyter-cache stores naive UTC times
            created = created.replace(tzinfo=timezone.utc)
        if created.timestamp() >= since:
            executed.append(Path(record.uri).resolve())
    return sorted(executed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the book's folder (default: this repo)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    build_dir = root / "_build"

    if root == ROOT and (ROOT / "book" / "_glossary").is_dir():
        import make_glossary

        if make_glossary.main(["--check"]) != 0:
            return 1
    if invalidate_stale_cache(build_dir, fingerprint(ROOT)):
        print("dlbook or its dependencies changed: the execution cache was cleared.")
    start = time.perf_counter()
    started_at = time.time()  # cache records made by this build are newer
    log_path = build_dir / "build.log"
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        raise SystemExit(f"{jb} not found: install the book extra (pip install -e '.[book]').")
    cmd = [str(jb), "build", str(root), "-W", "--keep-going"]
    print("$", " ".join(cmd), flush=True)
    # The kernels inherit this environment. A matplotlib backend chosen outside (the test
    # suite's conftest.py sets MPLBACKEND=Agg) would replace the notebooks' inline backend
    # and every figure would silently vanish from the pages (and from the cache).
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace", env=env)
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        code = proc.wait()
    elapsed = time.perf_counter() - start

    problems = []
    if code != 0:
        problems.append(f"jupyter-book build failed (exit {code}); see the messages above "
                        f"and {log_path}.")
    glyphs = glyph_warnings(build_dir)
    if glyphs:
        problems.append("Figures with missing glyphs (text drawn as boxes):\n  " + "\n  ".join(glyphs))

    failed = failed_chapters(log_path)
    if failed:
        problems.append("Chapters whose execution failed (cell and traceback above):\n  "
                        + "\n  ".join(failed))
    times = execution_times(build_dir)

    def name(path):
        try:
            return str(path.relative_to(root))
        except ValueError:
            return str(path)

    executed = [name(p) for p in executed_since(build_dir, started_at)]
    report = {"wall_seconds": round(elapsed, 1), "ok": not problems, "chapters": {},
              "executed": executed}
    if times:
        print("\nChapter execution times (jupyter-cache):")
        for path, seconds in sorted(times.items(), key=lambda kv: str(kv[0])):
            how = "executed" if name(path) in executed else "cached"
            print(f"  {seconds:7.1f} s  {name(path)}  ({how})")
            report["chapters"][name(path)] = round(seconds, 2)
        print(f"  {sum(times.values()):7.1f} s  total execution")
    print(f"Executed in this build: {len(executed)} chapter(s); the others came from the cache.")
    print(f"Book build took {elapsed:.1f} s (wall time).")
    (build_dir / "execution-times.json").write_text(json.dumps(report, indent=2) + "\n")
    if problems:
        print("\nBUILD FAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print(f"The site is in {build_dir / 'html'}; preview it with `make serve`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
