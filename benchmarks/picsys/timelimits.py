"""Benchmark suite ``timelimits``: wall time / time limit of every method that takes a limit, every family.

``optoffload bench timelimits [--quick] [--workers 1]`` (issue #14, acceptance "time-limit benchmark").

It extends ``picsys-timelimit`` (same folder, the PicSys MILP build pricing) to every family;
it lives here because ``benchmarks/`` keeps only the runner flat.

Every method of every family is called through ``oo.solve(instance, method, time_limit=L)``
on a ladder of sizes up to the largest the validators accept (read from the validators'
constants where they exist: :func:`max_sizes`), and the row records ``wall_s`` (measured in the
worker around ``oo.solve``, so it includes preparation, bounds, model building, the search, the
decoding and the simulator replay of ``verify``), ``ratio = wall_s / L``, the status, the
objective and bound, ``native_status``, and the exception if one escaped (there should be none).

Not counted in ``wall_s``: generating the instance, and the process start (interpreter and
solver imports, done once per worker before the clock starts). The row ``process-start``
measures that fixed overhead from the outside: ``python -m optoffload solve picsys/table2
--method cpsat --time-limit 1`` in a fresh subprocess, against the same command's own
``runtime_s``.

Sizes (full): PicSys 20 devices x 100 / 1,000 / 20,000 / 2,500,000 images (``large`` preset);
ERDS U = 3 / 100 / 1,000 tasks; progressive airtime 8 x 400 and 64 x 10,000 and 50 x 99,999
(the validator's 5 M cells), ordering 12 and 22 chunks, config 8 traces x 1,000 images.
Limits 2 s and 10 s (PicSys 2.5 M images: 10 s only, one replay of a plan there takes about 2 s).
Quick: the smallest size of each family at 1 s.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..suite import Suite, markdown_table

FAMILIES = ("picsys", "erds", "progressive", "dnn")
LIMITS = (2.0, 10.0)
SEED = 0


def max_sizes() -> dict:
    """The largest sizes the suite runs: the validators' own limits (``optoffload.limits``, issue
    #14 item 6; raised with ``OPTOFFLOAD_MAX_IMAGES=N`` etc., which this suite then follows).
    """
    from optoffload.limits import limits

    return {"picsys_images": int(limits.max_images), "erds_tasks": int(limits.max_tasks),
            "airtime_cells": int(limits.max_cells), "ordering_chunks": 22, "dnn_tasks": 100}


def _picsys_methods() -> list[str]:
    return ["cpsat", "pyomo", "pulp", "look-ahead", "time-heuristic", "balance", "all-cloud"]


def _erds_methods() -> list[str]:
    return ["erds-exact", "erds-osa", "erds-hsa", "erds-brb", "iao", "edgent-e", "edgent-m", "cloud-only",
            "edge-only", "random", "erds-pyomo", "erds-cpsat"]


def _dnn_methods() -> list[str]:
    import optoffload as oo

    return oo.methods("dnn")


def _tasks(quick: bool) -> list[dict]:
    mx = max_sizes()
    tasks: list[dict] = [{"id": "process-start", "family": "-", "method": "cpsat", "size": "table2",
                          "time_limit": 1.0, "seed": SEED}]
    if quick:
        pic = [("20x100", 20, 100)]
        erds = [3]
        dnn = [2]
        prog = [("airtime-8x400", {"problem": "airtime", "size": 8, "slots": 400}),
                ("ordering-12", {"problem": "ordering", "size": 12})]
        limits = (1.0,)
    else:
        pic = [("20x100", 20, 100), ("20x1000", 20, 1000), ("20x20000", 20, 20_000),
               (f"20x{mx['picsys_images']}", 20, mx["picsys_images"])]
        erds = [3, 100, mx["erds_tasks"]]
        dnn = [2, 8, mx["dnn_tasks"]]
        prog = [("airtime-8x400", {"problem": "airtime", "size": 8, "slots": 400}),
                ("airtime-64x10000", {"problem": "airtime", "size": 64, "slots": 10_000}),
                ("airtime-50x99999", {"problem": "airtime", "size": 64, "slots": 10_000, "stretch": (50, 99_999)}),
                ("ordering-12", {"problem": "ordering", "size": 12}),
                (f"ordering-{mx['ordering_chunks']}", {"problem": "ordering", "size": mx["ordering_chunks"]}),
                ("config-8", {"problem": "config", "size": 8})]
        limits = LIMITS
    for label, dev, n in pic:
        for m in _picsys_methods():
            for L in limits:
                if n > 100_000 and L < 10:
                    continue
                tasks.append({"id": f"picsys-{m}-{label}-{L:g}s", "family": "picsys", "method": m, "size": label,
                              "devices": dev, "images": n, "time_limit": L, "seed": SEED})
    for U in erds:
        for m in _erds_methods():
            for L in limits:
                tasks.append({"id": f"erds-{m}-u{U}-{L:g}s", "family": "erds", "method": m, "size": f"U={U}",
                              "tasks": U, "time_limit": L, "seed": SEED})
    for U in dnn:
        for m in _dnn_methods():
            for L in limits:
                tasks.append({"id": f"dnn-{m}-u{U}-{L:g}s", "family": "dnn", "method": m, "size": f"U={U}",
                              "dnn_tasks": U, "time_limit": L, "seed": SEED})
    for label, gen in prog:
        for m in ("exact", "milp", "greedy"):
            for L in limits:
                tasks.append({"id": f"progressive-{m}-{label}-{L:g}s", "family": "progressive", "method": m,
                              "size": label, "gen": gen, "time_limit": L, "seed": SEED})
    return tasks


@functools.lru_cache(maxsize=4)
def _instance(family: str, key: str, seed: int):
    import json

    import optoffload as oo

    p = json.loads(key)
    if family == "picsys":
        return oo.generate("picsys", seed=seed, preset="large", devices=p["devices"], images=p["images"])
    if family == "dnn":
        return oo.generate("dnn", seed=seed, tasks=p["dnn_tasks"], nodes=12, exits=3)
    if family == "erds":
        if p["tasks"] == 3:
            return oo.load("erds/paper-u3")
        return oo.generate("erds", seed=seed, tasks=p["tasks"])
    gen = dict(p["gen"])
    stretch = gen.pop("stretch", None)
    inst = oo.generate("progressive", seed=seed, **gen)
    if stretch is not None:  # past the generator's limits, up to the validator's: rebuild from the dict
        d = inst.to_dict()
        d["devices"] = d["devices"][:stretch[0]]
        d["slots"] = stretch[1]
        d["name"] = f"gen-airtime-{stretch[0]}x{stretch[1]}"
        inst = oo.from_dict(d)
    return inst


def _process_start(task: dict) -> dict:
    import json
    import subprocess
    import sys
    import time

    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", "picsys/table2", "--method", "cpsat",
                        "--time-limit", "1", "--json"], capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t
    runtime = json.loads(r.stdout)["runtime_s"] if r.returncode == 0 else None
    return {"wall_s": wall, "ratio": wall / task["time_limit"], "status": "ok" if r.returncode == 0 else "error",
            "method_runtime_s": runtime, "overhead_s": None if runtime is None else wall - runtime}


def _run(task: dict) -> dict:
    import json
    import time

    if task["id"] == "process-start":
        return _process_start(task)
    import highspy  # noqa: F401 - solver stacks imported before the clock (process start is its own row)
    import scipy.optimize  # noqa: F401
    import pyomo.environ  # noqa: F401
    from ortools.sat.python import cp_model  # noqa: F401

    import optoffload as oo

    key = json.dumps({k: task[k] for k in ("devices", "images", "tasks", "gen", "dnn_tasks") if k in task}, sort_keys=True)
    inst = _instance(task["family"], key, task["seed"])
    t = time.perf_counter()
    row: dict = {}
    try:
        sol = oo.solve(inst, task["method"], time_limit=task["time_limit"], seed=task["seed"], threads=1)
        row.update(status=sol.status.value, objective=sol.objective, bound=sol.bound,
                   native=sol.info.get("native_status"), warning=sol.info.get("warning"))
    except Exception as exc:  # noqa: BLE001 - the suite's point: record any exception that escapes a method
        row.update(status="exception", exception=f"{type(exc).__name__}: {str(exc)[:200]}")
    wall = time.perf_counter() - t
    row.update(wall_s=wall, ratio=wall / task["time_limit"])
    return row


def _report(rows: list[dict], out: Path) -> str:
    lines = ["# timelimits: wall time / time limit of every method that takes a limit", ""]
    start = [r for r in rows if r["id"] == "process-start"]
    if start and start[0].get("overhead_s") is not None:
        s = start[0]
        lines += [f"Process start (not in `wall_s`): `optoffload solve picsys/table2 --method cpsat --time-limit 1` "
                  f"took {s['wall_s']:.2f} s from outside, of which the method {s['method_runtime_s']:.3f} s: "
                  f"a fixed overhead of {s['overhead_s']:.2f} s.", ""]
    ok = [r for r in rows if r["id"] != "process-start"]
    bad = [r for r in ok if "error" in r or r.get("status") == "exception"]
    lines += [f"**Exceptions: {len(bad)}**" + (": " + ", ".join(r["id"] for r in bad[:20]) if bad else ""), ""]
    summ = []
    for fam in FAMILIES:
        for m in dict.fromkeys(r["method"] for r in ok if r["family"] == fam):
            rm = [r for r in ok if r["family"] == fam and r["method"] == m and "ratio" in r]
            if rm:
                w = max(rm, key=lambda r: r["ratio"])
                summ.append({"family": fam, "method": m, "rows": len(rm), "max_ratio": w["ratio"],
                             "worst_row": w["id"], "over_1.5": sum(r["ratio"] > 1.5 for r in rm),
                             "unknown": sum(r.get("status") == "unknown" for r in rm)})
    worst = max((s["max_ratio"] for s in summ), default=None)
    lines += [f"Worst wall / limit over all rows: {worst:.3g}" if worst is not None else "", "",
              "## Worst ratio per method", "",
              markdown_table(summ, ["family", "method", "rows", "max_ratio", "worst_row", "over_1.5", "unknown"],
                             floatfmt="{:.3g}"), "",
              "## All rows", "",
              markdown_table(sorted(ok, key=lambda r: (r["family"], r["method"], str(r["size"]), r["time_limit"])),
                             ["family", "method", "size", "time_limit", "wall_s", "ratio", "status", "native",
                              "objective", "bound", "exception"], floatfmt="{:.4g}"), ""]
    return "\n".join(lines)


SUITES = {
    "timelimits": Suite(
        name="timelimits",
        summary="every method that takes a time limit, every family, sizes up to the validators' maxima: wall/limit",
        tasks=_tasks, run=_run, report=_report),
}
