"""Suite ``picsys-gap-overhead``: the ``gap`` command's own cost (issue #10, performance).

One task runs the command twice in subprocesses, as CI does, on 100 generated PicSys instances
(20 devices x 400 images: CP-SAT proves each optimum in about a second) with three heuristics:

1. **cold**: an empty reference cache, so every optimum is solved;
2. **warm**: a new output folder with the cache file of run 1 (what a committed
   ``--cache FILE`` gives CI): no reference is solved, only the methods run.

``overhead = wall time of the cold run (process start to exit, measured outside) - the time spent
inside oo.solve`` (every reference solve and every method solve, ``solve_wall_s`` of the cache
entries and rows, which includes OR-Tools' import on the first solve and the simulator replay).
The remainder is instance generation, hashing, the cache file, rows, summary, plot and process
start. Targets: overhead < 5 % of the solve time; warm run >= 5x faster than the cold one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..suite import Suite, markdown_table

METHODS = "time-heuristic,balance,all-cloud"


def _tasks(quick: bool) -> list[dict]:
    if quick:
        return [{"id": "quick", "instances": 10, "generate": "devices=5,images=40", "methods": METHODS}]
    return [{"id": "picsys-100", "instances": 100, "generate": "devices=20,images=400", "methods": METHODS}]


def _gap(args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "optoffload", "gap", "picsys", *args], cwd=cwd, capture_output=True,
                       text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"gap exited {r.returncode}: {r.stderr.strip().splitlines()[-1:]}")
    return wall


def _solve_s(out: Path, cache: Path, solved_here: bool) -> tuple[float, float]:
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines() if x.strip()]
    meth = sum(r["solve_wall_s"] for r in rows)
    ref = sum(e["solve_wall_s"] for e in json.loads(cache.read_text())["entries"].values()) if solved_here else 0.0
    return ref, meth


def _run(task: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="gap-overhead-") as tmp:
        d = Path(tmp)
        cache = d / "reference-cache.json"
        common = ["--methods", task["methods"], "--generate", task["generate"], "--seeds", str(task["instances"]),
                  "--cache", str(cache)]
        cold = _gap([*common, "--out", str(d / "cold")], d)
        cref, cmeth = _solve_s(d / "cold", cache, True)
        warm = _gap([*common, "--out", str(d / "warm")], d)
        _, wmeth = _solve_s(d / "warm", cache, False)
        summ = json.loads((d / "warm" / "summary.json").read_text())
    solve = cref + cmeth
    return {"instances": task["instances"], "cold_wall_s": cold, "cold_reference_s": cref, "cold_methods_s": cmeth,
            "cold_overhead_s": cold - solve, "overhead_pct": 100 * (cold - solve) / solve,
            "warm_wall_s": warm, "warm_methods_s": wmeth, "warm_cache_hits": summ["cache"]["hits"],
            "speedup": cold / warm}


def _report(rows: list[dict], out: Path) -> str:
    lines = ["# picsys-gap-overhead: the gap command's cost beyond its solves", "",
             "`optoffload gap picsys --methods time-heuristic,balance,all-cloud --generate devices=20,images=400 "
             "--seeds 100 --cache FILE`, run twice in subprocesses (cold cache, then warm cache in a new --out). "
             "overhead = cold wall time - time inside oo.solve (references and methods); target < 5 %. "
             "speedup = cold / warm wall time; target >= 5x.", "",
             markdown_table(rows, ["id", "instances", "cold_wall_s", "cold_reference_s", "cold_methods_s",
                                   "cold_overhead_s", "overhead_pct", "warm_wall_s", "warm_cache_hits", "speedup"],
                            "{:.3g}")]
    return "\n".join(lines)


SUITES = {"picsys-gap-overhead": Suite("picsys-gap-overhead",
                                       "gap command overhead over its solves, and the warm reference cache speedup",
                                       _tasks, _run, _report)}
