"""Suite ``progressive-ordering-milp``: how far the ordering MILPs scale (issue #15).

The two models of ``milp`` for the ordering kind (``formulation="nested-knapsack"``, the
default, and the original ``"linear-ordering"``; module docstring of
``optoffload.formulations.progressive.milp``) on generated instances, against the subset DP
where it runs (at most 22 chunks). Above 22 chunks the generator refuses (the DP's limit), so
:func:`ordering_instance` builds instances by the generator's own recipe (heavy-jamming budget
windows at T = 0.5 s, chunk sizes summing to 1.5 x the median budget); there the reference is
the MILP's own dual bound (OPTIMAL or not).

Every run has a time limit (``TIME_LIMIT``); a run that reaches it is reported as such (status
``feasible``), never as a time. Times are wall-clock seconds of ``oo.solve`` on a shared machine:
compare rows of one run, not runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..suite import Suite, markdown_table

TIME_LIMIT = 60.0
NESTED = "nested-knapsack"
LINEAR = "linear-ordering"


def ordering_instance(n: int, seed: int):
    """An ordering instance of ``n`` chunks by the recipe of ``oo.generate("progressive",
    problem="ordering")`` (same budget, same size and importance draws), for any ``n``: the
    generator itself stops at 22 chunks, where the subset DP does."""
    import optoffload as oo

    if n <= 22:
        return oo.generate("progressive", problem="ordering", size=n, seed=seed)
    return oo.from_dict(recipe(n, seed))


def recipe(n: int, seed: int) -> dict:
    """The instance dict of :func:`ordering_instance` (the generator's recipe, any ``n``)."""
    from optoffload.progressive.profiles import data_bytes
    from optoffload.progressive.traces import scenario

    rng = np.random.default_rng(seed)
    tr = scenario("heavy", duration=60.0, seed=int(seed))
    t = np.arange(0, 50, 0.5)
    s = data_bytes(tr.integral(t, t + 0.5))
    vals, counts = np.unique(s, return_counts=True)
    raw = rng.uniform(0.5, 1.5, size=n)
    sizes = np.maximum(1.0, np.round(raw / raw.sum() * 1.5 * max(float(np.median(s)), 63.0)))
    chunks = [{"name": f"c{i}", "bytes": float(sizes[i]),
               "importance": float(np.round(rng.uniform(0.1, 1.0) * (1.0 + (n - i) / n), 3))} for i in range(n)]
    return {"format": 1, "family": "progressive", "name": f"ord-{n}-s{seed}", "problem": "ordering",
            "chunks": chunks, "budget": {"bytes": vals.tolist(), "probs": (counts / counts.sum()).tolist()}}


def _tasks(quick: bool) -> list[dict]:
    if quick:
        plan = [(NESTED, [5, 8], 2), (LINEAR, [5], 2)]
    else:
        plan = [(NESTED, [6, 8, 10, 12, 14, 16, 18, 20], 5), (NESTED, [25, 30, 40], 3), (LINEAR, [6, 8, 10], 3)]
    return [{"id": f"{f}-{n}-{s}", "formulation": f, "size": n, "seed": s}
            for f, sizes, seeds in plan for n in sizes for s in range(seeds)]


def _run(task: dict) -> dict:
    import optoffload as oo
    from optoffload.formulations.progressive.exact import MAX_ORDERING_CHUNKS, ordering_dp
    from optoffload.formulations.progressive.milp import model_nonzeros

    inst = ordering_instance(task["size"], task["seed"])
    m = oo.solve(inst, "milp", time_limit=TIME_LIMIT, formulation=task["formulation"])
    row = {"status": m.status.value, "objective": m.objective, "bound": m.bound, "milp_s": m.runtime,
           "nonzeros": model_nonzeros(inst, task["formulation"]),
           "time_limit_reached": m.status != oo.Status.OPTIMAL}
    if task["size"] <= MAX_ORDERING_CHUNKS:
        row["dp"] = inst.spec.value(ordering_dp(inst.spec))
        row["milp_vs_dp"] = None if m.objective is None else m.objective - row["dp"]
    return row


def _report(rows: list[dict], out: Path | None) -> str:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["formulation"], r["size"]), []).append(r)
    tab = []
    for (f, n), rs in sorted(groups.items(), key=lambda kv: (kv[0][0] != NESTED, kv[0][1])):
        opt = [r for r in rs if r["status"] == "optimal"]
        dev = [abs(r["milp_vs_dp"]) for r in rs if r.get("milp_vs_dp") is not None]
        gaps = [(r["bound"] - r["objective"]) / max(abs(r["bound"]), 1e-12) for r in rs
                if r["objective"] is not None and r["bound"] is not None]
        tab.append({"formulation": f, "chunks": n, "runs": len(rs), "optimal": f"{len(opt)}/{len(rs)}",
                    "mean_s_optimal": float(np.mean([r["milp_s"] for r in opt])) if opt else None,
                    "max_s_optimal": float(np.max([r["milp_s"] for r in opt])) if opt else None,
                    "max_gap_%": 100 * max(gaps) if gaps else None,
                    "max_dev_vs_dp": max(dev) if dev else None, "nonzeros": int(np.mean([r["nonzeros"] for r in rs]))})
    lines = ["# progressive-ordering-milp: ordering MILP models vs chunks", "",
             f"Time limit {TIME_LIMIT:g} s per run; `optimal`: runs proven optimal within it (times are over those "
             "runs only); `max_gap_%`: largest (bound - objective) / bound; `max_dev_vs_dp`: largest |MILP - subset "
             "DP| (<= 22 chunks). Wall-clock on a shared machine: compare rows of one run.", "",
             markdown_table(tab, ["formulation", "chunks", "runs", "optimal", "mean_s_optimal", "max_s_optimal",
                                  "max_gap_%", "max_dev_vs_dp", "nonzeros"], "{:.3g}")]
    return "\n".join(lines)


SUITES = {"progressive-ordering-milp": Suite("progressive-ordering-milp",
                                             "progressive ordering: nested-knapsack vs linear-ordering MILP by size",
                                             _tasks, _run, _report)}
