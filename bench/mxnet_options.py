"""What MXNet's own settings do to the hand-written loop: one process per setting.

    .venv/bin/python bench/mxnet_options.py [--repeats 3] [--out bench/options]

Runs bench/train_bench.py (the hand-written Gluon loop beside its PyTorch
baseline) once per setting, each in fresh processes, since engine and OpenMP
settings are read when MXNet loads. Reports examples/s per model and setting
and the ratio to the default setting. Writes <out>.json and <out>.md.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS = [
    # (name, extra environment, extra train_bench arguments, what it tests)
    ("default", {}, [], "dlbook's defaults: OMP_NUM_THREADS = cores, OMP_WAIT_POLICY=ACTIVE "
                        "with GOMP_SPINCOUNT=300000 (spin briefly, then sleep)"),
    ("sleep at once", {"OMP_WAIT_POLICY": "PASSIVE"}, [],
     "OMP_WAIT_POLICY=PASSIVE: waiting threads sleep at once"),
    ("spin forever", {"OMP_WAIT_POLICY": "ACTIVE"}, [],
     "OMP_WAIT_POLICY=ACTIVE alone: waiting threads never sleep (an idle process burns its cores)"),
    ("1 thread", {"OMP_NUM_THREADS": "1"}, [], "what MXNet starts by itself on 2 cores"),
    ("static_shape", {}, ["--static-shape"], "hybridize(static_alloc=True, static_shape=True)"),
    ("optimize_for oneDNN", {}, ["--backend", "MKLDNN"], "oneDNN subgraph fusion (optimize_for)"),
    ("one parameter per fused update", {"MXNET_OPTIMIZER_AGGREGATION_SIZE": "1"}, [],
     "multi_sgd_update called with one parameter at a time (MXNet's SGD never calls "
     "sgd_update for dense weights; dlbook's SGD does)"),
    ("NaiveEngine", {"MXNET_ENGINE_TYPE": "NaiveEngine"}, [], "synchronous engine, no worker threads"),
    ("no oneDNN", {"MXNET_MKLDNN_ENABLED": "0"}, [], "MXNet's own kernels instead of oneDNN's"),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description="MXNet settings against the hand-written loop")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None, help="default: train_bench.py's per model")
    parser.add_argument("--models", default="softmax,mlp,lenet")
    parser.add_argument("--out", default=str(HERE / "options"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, env_extra, extra_args, what) in enumerate(SETTINGS):
            env = dict(os.environ, **env_extra)
            # train_bench.py always runs its baseline (PyTorch eager) beside the hand loop.
            out = Path(tmp) / f"setting{i}"
            cmd = [sys.executable, str(HERE / "train_bench.py"), "--loops", "hand-mxnet,torch-eager",
                   "--repeats", str(args.repeats), "--models", args.models, "--out", str(out),
                   *(["--epochs", str(args.epochs)] if args.epochs else []), *extra_args]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=HERE.parent)
            if proc.returncode != 0:
                error = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
                print(f"{name}: failed: {error}", flush=True)
                rows.append({"setting": name, "what": what, "error": error})
                continue
            report = json.loads(out.with_suffix(".json").read_text())
            for r in report["results"]:
                if "error" in r or (r["loop"] != "hand-mxnet" and name != "default"):
                    continue
                rows.append({"setting": name if r["loop"] == "hand-mxnet" else "PyTorch (reference)",
                             "what": what if r["loop"] == "hand-mxnet" else "torch eager, same data",
                             "model": r["model"], "examples_per_s": r["examples_per_s"],
                             "runs": r["runs_examples_per_s"], "test_accuracy": r["test_accuracy"]})
                print(f"{rows[-1]['setting']:22s} {r['model']:8s} {r['examples_per_s']:>9,} ex/s",
                      flush=True)
    base = {r["model"]: r for r in rows if r["setting"] == "default"}
    for r in rows:
        if "model" in r:
            r["vs_default"] = round(r["examples_per_s"] / base[r["model"]]["examples_per_s"], 3)
            # A setting that changes what is computed is no speed-up: flag lost accuracy.
            r["trains_correctly"] = r["test_accuracy"] >= base[r["model"]]["test_accuracy"] - 0.02
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"repeats": args.repeats, "epochs": args.epochs,
                                                    "cpu_count": os.cpu_count(), "rows": rows},
                                                   indent=2) + "\n")
    models = args.models.split(",")
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    lines = [f"Hand-written loop, examples/s (median of {args.repeats} interleaved rounds) and ratio to the "
             f"default setting, {os.cpu_count()} cores.", "",
             "| setting | what | " + " | ".join(models) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in models) + " |"]
    for s in settings:
        found = {r["model"]: r for r in rows if r["setting"] == s and "model" in r}
        what = next(r["what"] for r in rows if r["setting"] == s)
        errors = [r["error"] for r in rows if r["setting"] == s and "error" in r]
        cells = [(f"{found[m]['examples_per_s']:,} ({found[m]['vs_default']:.2f}×)"
                  + ("" if found[m]["trains_correctly"]
                     else f", **does not train: accuracy {found[m]['test_accuracy']:.2f}**"))
                 if m in found else ("failed" if errors else "–") for m in models]
        lines.append(f"| {s} | {what} | " + " | ".join(cells) + " |")
    for r in rows:
        if "error" in r:
            lines.append(f"\n{r['setting']} failed: `{r['error']}`")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
