"""Measure the book's build against its time budget, in a throwaway copy of the repository.

    .venv/bin/python -m tools.build_budget [--chapter book/install.md] [--out bench/build-budget]

The budget, for the 2-core CI machine:
1. the full executed build (empty execution cache), every chapter in each of its
   frameworks: at most 15 minutes;
2. a rebuild after editing one chapter's prose: at most 60 s, executing nothing;
3. a rebuild after editing one chapter's code (its first code cell): executes that
   chapter only -- in a chapter with framework cells, where the first code cell
   is the MXNet one, only its MXNet notebook (the report lists the notebooks run);
4. the two PDF editions (``tools/build_pdf.py``) on top of the full build: at most
   5 minutes, executing nothing (``--no-pdf`` leaves this step out where XeLaTeX
   is not installed).

Each step runs ``python -m tools.build_book`` in a copy of the working tree (the
checkout itself is never edited) and reads which chapters it executed from
``_build/execution-times.json``. Prints a verdict per step and writes
<out>.json and <out>.md. Exits 1 if any step is over budget. A timing
measured on a busy machine is no verdict: run it on an idle one.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_BUILD_LIMIT = 15 * 60
PROSE_REBUILD_LIMIT = 60
PDF_LIMIT = 5 * 60
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "_build", "test-artifacts", "dist", "build",
                                     "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis")


def build(root, jobs=None):
    """Run the book build in ``root``; return (wall seconds, report of execution-times.json)."""
    start = time.perf_counter()
    extra = ["--jobs", str(jobs)] if jobs else []
    proc = subprocess.run([sys.executable, "-m", "tools.build_book", "--root", str(root), *extra],
                          cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, json.loads((root / "_build" / "execution-times.json").read_text())


def build_pdf(root):
    """Run the PDF build in ``root`` after its book build; return (wall seconds, its report)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tools.build_pdf", "--root", str(root)], cwd=root,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the PDF build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, json.loads((root / "_build" / "pdf" / "build-times.json").read_text())


def edit_prose(path):
    """Append a sentence to the chapter's last Korean and English blocks' text."""
    text = path.read_text(encoding="utf-8")
    edited = text.rstrip("\n") + "\n\n:::{ko}\n예산 측정용 문장.\n:::\n\n:::{en}\nA budget probe sentence.\n:::\n"
    path.write_text(edited, encoding="utf-8")


def edit_code(path):
    """Add a statement to the chapter's first code cell."""
    text = path.read_text(encoding="utf-8")
    edited, n = re.subn(r"(```\{code-cell\}[^\n]*\n(?::[^\n]*\n)*)", r"\1_budget_probe = 1\n", text, count=1)
    if n != 1:
        raise SystemExit(f"{path} has no code cell to edit")
    path.write_text(edited, encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description="the book's build-time budget")
    parser.add_argument("--chapter", default="book/install.md",
                        help="the chapter whose prose and code are edited (default: the quickest)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "build-budget"))
    parser.add_argument("--jobs", type=int, default=None,
                        help="notebooks executed at once (default: build_book's, one per core)")
    parser.add_argument("--no-pdf", action="store_true", help="leave out the PDF editions' step")
    args = parser.parse_args(argv)
    steps = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "book"
        shutil.copytree(ROOT, root, ignore=COPY_IGNORE)
        chapter = root / args.chapter
        if not chapter.is_file():
            raise SystemExit(f"--chapter: no file {args.chapter}")

        def step(name, seconds, report, limit, ok):
            return {"step": name, "limit_seconds": limit, "seconds": round(seconds, 1),
                    "executed": report["executed"], "executed_runs": report.get("executed_runs", []),
                    "execution_wall_seconds": report.get("execution_wall_seconds"),
                    "jobs": report.get("jobs"), "ok": ok}

        seconds, report = build(root, args.jobs)
        full = step("full build", seconds, report, FULL_BUILD_LIMIT,
                    seconds <= FULL_BUILD_LIMIT and report["ok"])
        full["execution_seconds"] = round(sum(report["chapters"].values()), 1)
        full["framework_seconds"] = report.get("framework_seconds", {})
        steps.append(full)
        print(f"full build: {seconds:.0f} s, {len(full['executed_runs'])} notebooks of "
              f"{len(report['executed'])} chapters executed", flush=True)

        if not args.no_pdf:
            before = json.loads((root / "_build" / "execution-times.json").read_text())
            seconds, pdf_report = build_pdf(root)
            after = json.loads((root / "_build" / "execution-times.json").read_text())
            untouched = before == after  # the PDFs executed nothing
            steps.append({"step": "PDF editions (ko, en) after the full build",
                          "limit_seconds": PDF_LIMIT, "seconds": round(seconds, 1),
                          "executed": [] if untouched else ["(execution-times.json changed)"],
                          "editions": pdf_report.get("editions"),
                          "ok": seconds <= PDF_LIMIT and untouched and bool(pdf_report.get("ok"))})
            print(f"PDF editions: {seconds:.0f} s", flush=True)

        edit_prose(chapter)
        seconds, report = build(root, args.jobs)
        steps.append(step(f"prose edit of {args.chapter}", seconds, report, PROSE_REBUILD_LIMIT,
                          seconds <= PROSE_REBUILD_LIMIT and not report["executed"]))
        print(f"prose edit: {seconds:.0f} s, executed {report['executed']}", flush=True)

        edit_code(chapter)
        seconds, report = build(root, args.jobs)
        runs = report.get("executed_runs", [])
        steps.append(step(f"code edit of {args.chapter}", seconds, report, None,
                          report["executed"] == [args.chapter]))
        print(f"code edit: {seconds:.0f} s, executed {runs}", flush=True)

    result = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
              "measured": time.strftime("%Y-%m-%d %H:%M"), "steps": steps,
              "ok": all(s["ok"] for s in steps)}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    full = steps[0]
    per_framework = ", ".join(f"{fw} {s:.0f} s" for fw, s in full.get("framework_seconds", {}).items())
    lines = [f"Build-time budget, {os.cpu_count()} cores, measured {result['measured']}.", "",
             f"Full build: {len(full['executed_runs'])} notebooks executed, {full['jobs']} at a time, "
             f"in {full['execution_wall_seconds']:.0f} s of wall time; kernel time per framework: "
             f"{per_framework}.", "",
             "| step | wall time | budget | executed | verdict |", "| --- | ---: | --- | --- | --- |"]
    budgets = {"full build": "≤ 15 min", "prose": "≤ 60 s, nothing executed", "code": "that chapter only",
               "PDF": "≤ 5 min, nothing executed"}
    for s in steps:
        budget = next(v for k, v in budgets.items() if s["step"].startswith(k))
        runs = s.get("executed_runs") or s["executed"]
        executed = ", ".join(runs) if len(runs) <= 2 else f"{len(runs)} notebooks"
        lines.append(f"| {s['step']} | {s['seconds']:.0f} s | {budget} | {executed or 'none'} | "
                     f"{'within' if s['ok'] else 'OVER'} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
