"""``optoffload bench erds-formulations``: the formal models against the custom branch and bound.

* Time to a proven optimum on random instances ``oo.generate("erds", seed=0, tasks=U)`` (K = 5),
  U = 1..6 (quick: 1..3), 60 s limit each: ``erds-exact``, ``erds-pyomo`` with HiGHS (OA loop)
  and with SCIP, ``erds-cpsat`` at the 1 % grid (proof of the *grid* optimum,
  ``continuous_bound=False``). Ratios to ``erds-exact`` measured in the same run.
* ``erds-cpsat`` objective minus ``erds-exact`` per grid resolution on erds/paper-u1..u3, with the
  certified error objective - bound (the relaxed-grid bound).
* Time-limit rule (issue #14): wall / limit at U = 6, 8, 50 (quick: 6) for a 5 s limit, per
  ``erds-pyomo`` solver and ``erds-cpsat``, with the path taken (model solved or the budget
  fallback of formulations/erds/budget.py).
* PicSys build-only time per layer (``oo.build_model``, nothing solved) for the paper's large
  preset with 20 devices and 1,000 images (quick: 200 images).
"""

from __future__ import annotations

import time
from pathlib import Path

from ..suite import Suite, markdown_table

ERDS_METHODS = (("erds-exact", {}), ("erds-pyomo", {"solver": "highs"}), ("erds-pyomo", {"solver": "scip"}),
                ("erds-cpsat", {"resolution": 0.01, "continuous_bound": False}))
RESOLUTIONS = (0.1, 0.05, 0.02, 0.01)
LIMIT_METHODS = (("erds-pyomo", {"solver": "highs"}), ("erds-pyomo", {"solver": "scip"}),
                 ("erds-cpsat", {"resolution": 0.01}))
LIMIT_S = 5.0


def _label(m, opts):
    if m == "erds-pyomo":
        return f"erds-pyomo/{opts['solver']}"
    if m == "erds-cpsat":
        return "erds-cpsat (1% grid)"
    return m


def _tasks(quick: bool) -> list[dict]:
    tasks = []
    for U in ((1, 2, 3) if quick else (1, 2, 3, 4, 5, 6)):
        for m, opts in ERDS_METHODS:
            tasks.append({"id": f"time-u{U}-{_label(m, opts)}", "kind": "time", "U": U, "seed": 0, "method": m,
                          "options": opts, "time_limit": 20 if quick else 60})
    for name in ("erds/paper-u1", "erds/paper-u2", "erds/paper-u3"):
        tasks.append({"id": f"grid-{name}", "kind": "grid", "instance": name, "seed": 0,
                      "resolutions": list(RESOLUTIONS[:2] if quick else RESOLUTIONS)})
    for U in ((6,) if quick else (6, 8, 50)):
        for m, opts in LIMIT_METHODS:
            tasks.append({"id": f"limit-u{U}-{_label(m, opts)}", "kind": "limit", "U": U, "seed": 0, "method": m,
                          "options": opts, "time_limit": LIMIT_S})
    for layer in ("pyomo", "pulp", "cpsat"):
        tasks.append({"id": f"build-{layer}", "kind": "build", "layer": layer, "devices": 20,
                      "images": 200 if quick else 1000, "seed": 0})
    return tasks


def _run(task: dict) -> list[dict]:
    import optoffload as oo

    if task["kind"] == "time":
        inst = oo.generate("erds", seed=task["seed"], tasks=task["U"])
        t0 = time.perf_counter()
        s = oo.solve(inst, task["method"], time_limit=task["time_limit"], **task["options"])
        wall = time.perf_counter() - t0
        proven = s.status is oo.Status.OPTIMAL or s.info.get("grid_status") == "optimal"
        return [{"method": _label(task["method"], task["options"]), "status": s.status.value, "proven": proven,
                 "objective": s.objective, "bound": s.bound, "runtime_s": wall}]
    if task["kind"] == "limit":
        inst = oo.generate("erds", seed=task["seed"], tasks=task["U"])
        t0 = time.perf_counter()
        s = oo.solve(inst, task["method"], time_limit=task["time_limit"], **task["options"])
        wall = time.perf_counter() - t0
        fb = s.info.get("fallback")
        return [{"method": _label(task["method"], task["options"]), "status": s.status.value,
                 "objective": s.objective, "wall_s": wall, "limit_s": task["time_limit"],
                 "wall_over_limit": wall / task["time_limit"],
                 "path": ("fallback: " + fb) if fb else f"model ({s.info.get('outcomes', 'joint')})"}]
    if task["kind"] == "grid":
        ex = oo.solve(task["instance"], "erds-exact")
        rows = []
        for r in task["resolutions"]:
            s = oo.solve(task["instance"], "erds-cpsat", resolution=r)
            rows.append({"resolution": r, "exact": ex.objective, "cpsat": s.objective, "diff": s.objective - ex.objective,
                         "rel_diff": (s.objective - ex.objective) / ex.objective,
                         "certified_error": s.objective - s.bound, "grid_status": s.info["grid_status"],
                         "runtime_s": s.runtime})
        return rows
    from optoffload.picsys.generator import generate

    inst = generate(seed=task["seed"], devices=task["devices"], images=task["images"])
    t0 = time.perf_counter()
    m = oo.build_model(inst, layer=task["layer"])
    wall = time.perf_counter() - t0
    return [{"build_s": wall, "variables": len(m.variables()), "n_images": inst.n_images}]


def _report(rows: list[dict], outdir: Path) -> str:
    tm = [r for r in rows if r.get("kind") == "time"]
    Us = sorted({r["U"] for r in tm})
    labels = [_label(m, o) for m, o in ERDS_METHODS]
    table = []
    for U in Us:
        row = {"U": U}
        base = next((r for r in tm if r["U"] == U and r.get("method") == "erds-exact"), None)
        for lab in labels:
            r = next((r for r in tm if r["U"] == U and r.get("method") == lab), None)
            if r is None or r.get("runtime_s") is None:
                row[lab] = "error" if r is not None else "-"
                continue
            txt = f"{r['runtime_s']:.3f}" + ("" if r.get("proven") else " (limit)")
            if base and base.get("runtime_s") and lab != "erds-exact":
                txt += f" ({r['runtime_s'] / base['runtime_s']:.1f}x)"
            row[lab] = txt
        table.append(row)
    gr = [r for r in rows if r.get("kind") == "grid"]
    bd = [r for r in rows if r.get("kind") == "build"]
    lines = ["# erds-formulations", "",
             "## Time (s) to a proven optimum, and ratio to erds-exact (same run)", "",
             "`oo.generate('erds', seed=0, tasks=U)` (K = 5), 60 s limit; '(limit)' = not proven. "
             "erds-cpsat proves the optimum of its 1 % grid. The machine is shared (2 cores): read ratios.", "",
             markdown_table(table, ["U"] + labels), "",
             "## erds-cpsat minus erds-exact per grid resolution", "",
             markdown_table(gr, ["instance", "resolution", "exact", "cpsat", "diff", "rel_diff", "certified_error",
                                 "grid_status", "runtime_s"], floatfmt="{:.6g}"), "",
             "## Time-limit rule: wall / limit (5 s), issue #14", "",
             "Every method returns within the limit plus a small overhead; 'path' says whether the model "
             "was built and solved or the budget refused it (formulations/erds/budget.py).", "",
             markdown_table([r for r in rows if r.get("kind") == "limit"],
                            ["U", "method", "status", "objective", "wall_s", "limit_s", "wall_over_limit", "path"]),
             "",
             "## PicSys build-only time per layer (oo.build_model, clean model)", "",
             markdown_table(bd, ["layer", "devices", "n_images", "variables", "build_s"])]
    return "\n".join(lines)


SUITES = {
    "erds-formulations": Suite("erds-formulations",
                               "ERDS Pyomo/CP-SAT models vs erds-exact (time to optimum, grid error); PicSys build time",
                               _tasks, _run, _report),
}
