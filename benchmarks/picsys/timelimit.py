"""Benchmark suite ``picsys-timelimit``: how far the PicSys MILP methods overrun their time limit.

``optoffload bench picsys-timelimit [--quick] [--workers 1]``

The architecture contract says time limits are honoured by every exact
method. Building and loading a MILP that grows with the square of the images
(cloud pairs) can take longer than the limit, so this suite measures
``wall / time_limit`` for each MILP backend on a ladder of sizes:

* backends: ``pyomo`` (HiGHS, default: model loaded through highspy's matrix
  API), ``pyomo-appsi`` (HiGHS through Pyomo's ``appsi_highs``,
  ``direct=False``), ``pyomo-cbc`` (``solver="cbc"``), ``pulp`` (CBC);
* instances: ``optoffload.picsys.generator.generate`` preset ``large``,
  20 devices, 100-3,000 images, seed recorded in the task; variant ``paper``
  (the paper's ``c_u``) and ``cloud`` (``c_u = 0.1``: the solvers use the whole
  limit); variant ``cold``: ``warm=False, cuts=False`` (no incumbent to fall
  back on), the author's original report;
* limits 1 s and 5 s; ``threads=1``.

``wall_s`` is measured around ``oo.solve`` in the worker (solver stacks
imported beforehand), so it includes presolve bounds, model building, loading,
the search and the simulator replay. Run with ``--workers 1`` for undisturbed
timings. Quick mode: 100 and 300 images, 1 s, variant ``paper``.
"""

from __future__ import annotations

from pathlib import Path

from ..suite import Suite, markdown_table

BACKENDS = {
    "pyomo": ("pyomo", {}),
    "pyomo-appsi": ("pyomo", {"direct": False}),
    "pyomo-cbc": ("pyomo", {"solver": "cbc"}),
    "pulp": ("pulp", {}),
}
SIZES = (100, 300, 1000, 3000)
LIMITS = (1.0, 5.0)
VARIANTS = {"paper": ({}, {}), "cloud": ({"c_u": 0.1}, {}), "cold": ({}, {"warm": False, "cuts": False})}
COLD_SIZES = (120, 300)
DEVICES = 20
SEED = 0


def _tasks(quick: bool) -> list[dict]:
    tasks = []
    for variant in VARIANTS:
        if quick and variant != "paper":
            continue
        sizes = COLD_SIZES if variant == "cold" else SIZES
        for backend in BACKENDS:
            for n in ((100, 300) if quick else sizes):
                for limit in ((1.0,) if quick else LIMITS):
                    tasks.append({"id": f"{variant}-{backend}-{n}-{limit:g}s", "variant": variant, "backend": backend,
                                  "images": n, "devices": DEVICES, "time_limit": limit, "seed": SEED})
    return tasks


def _run(task: dict) -> dict:
    import time

    import highspy  # noqa: F401
    import pulp  # noqa: F401
    import pyomo.environ  # noqa: F401
    import scipy.optimize  # noqa: F401
    from pyomo.contrib.appsi.solvers.highs import Highs  # noqa: F401

    import optoffload as oo
    import optoffload.formulations.picsys.pulp_milp  # noqa: F401
    import optoffload.formulations.picsys.pyomo_milp  # noqa: F401

    gen, opts = VARIANTS[task["variant"]]
    inst = oo.generate("picsys", seed=task["seed"], preset="large", devices=task["devices"], images=task["images"],
                       **gen)
    method, extra = BACKENDS[task["backend"]]
    t = time.perf_counter()
    sol = oo.solve(inst, method, time_limit=task["time_limit"], seed=task["seed"], threads=1, **extra, **opts)
    wall = time.perf_counter() - t
    if sol.objective is not None:
        oo.verify(inst, sol)
    return {"wall_s": wall, "ratio": wall / task["time_limit"], "status": sol.status.value,
            "native": sol.info.get("native_status"), "incumbent_from": sol.info.get("incumbent_from"),
            "objective": sol.objective, "bound": sol.bound, "gap": sol.gap, "nonzeros": sol.info.get("nonzeros")}


def _report(rows: list[dict], out: Path) -> str:
    ok = [r for r in rows if "error" not in r]
    lines = ["# picsys-timelimit: wall time / time limit of the PicSys MILP methods", ""]
    errors = [r for r in rows if "error" in r]
    if errors:
        lines += [f"**{len(errors)} task(s) failed**: " + ", ".join(r["id"] for r in errors[:10]), ""]
    summ = []
    for b in BACKENDS:
        rb = [r for r in ok if r["backend"] == b]
        if rb:
            worst = max(rb, key=lambda r: r["ratio"])
            summ.append({"backend": b, "rows": len(rb), "max_ratio": worst["ratio"], "worst_row": worst["id"],
                         "over_1.1": sum(r["ratio"] > 1.1 for r in rb),
                         "unknown": sum(r["status"] == "unknown" for r in rb)})
    lines += ["## Worst overrun per backend", "",
              "`max_ratio`: the largest wall / limit; `over_1.1`: rows more than 10 % over the limit; "
              "`unknown`: rows without an incumbent (only possible in variant `cold`).", "",
              markdown_table(summ, ["backend", "rows", "max_ratio", "worst_row", "over_1.1", "unknown"]), ""]
    table = sorted(ok, key=lambda r: (r["variant"], r["backend"], r["images"], r["time_limit"]))
    lines += ["## All rows", "",
              markdown_table(table, ["variant", "backend", "images", "time_limit", "wall_s", "ratio", "status",
                                     "native", "incumbent_from", "gap", "nonzeros"], floatfmt="{:.3g}"), ""]
    return "\n".join(lines)


SUITES = {
    "picsys-timelimit": Suite(
        name="picsys-timelimit",
        summary="PicSys MILP methods (pyomo HiGHS/appsi/CBC, pulp): wall time / time limit vs size",
        tasks=_tasks, run=_run, report=_report),
}
