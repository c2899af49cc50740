"""Suite ``erds-perf``: the ERDS speed figures of issue #15, measured in one run.

Rows:

* ``hsa-scale``: ``erds-hsa`` with the default stopping rule (``STALL_WORK``) at U = 1,000 and
  10,000 (quick: 200, 2,000), its runtime, iterations and the stop reason; the ratio of the two
  runtimes is the "linear in U" figure (target: U x 10 costs about 10x, and U = 10,000 in under
  1 s on an idle machine).
* ``hsa-vs-paper``: the same instance at U = 1,000 (quick: 200) with ``stall_work=None`` (the
  paper's fixed 4000 iterations): runtime ratio old / new in the same run and the relative
  objective difference (0 means the stall rule loses nothing there).
* ``stall-quality``: for U in 2..16, seeds 0-3, the worst relative loss of the stall rule against
  the fixed rule (HSA inner). By construction the patience is >= 4000 for U <= 25, so 0 is the
  expected value; the row guards the claim in docs/erds.md.
* ``exact-u3``: ``erds-exact`` on ``erds/paper-u3`` with the warm-started share LPs (default) and
  the previous implementation (``share_lp="legacy"``), alternated in the same run, best of 5
  each (quick: 1): runtime, LP solves and tree nodes (both deterministic), the ratio legacy /
  warm, and the relative objective difference (target: under 50 ms).
* ``cli-cold``: ``optoffload solve picsys/table2 --method cpsat`` from a cold process against a
  bare ``python -c "import numpy, ortools.sat.python.cp_model"`` (best of 3 each; target ratio
  <= 1.3).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..suite import Suite, markdown_table


def _tasks(quick: bool) -> list[dict]:
    big = (200, 2000) if quick else (1000, 10000)
    out = [{"id": f"hsa-scale-U{U}", "kind": "hsa-scale", "U": U, "quick": quick} for U in big]
    out.append({"id": f"hsa-vs-paper-U{big[0]}", "kind": "hsa-vs-paper", "U": big[0], "quick": quick})
    out.append({"id": "stall-quality", "kind": "stall-quality", "quick": quick,
                "Us": [2, 4, 8] if quick else [2, 3, 4, 6, 8, 12, 16], "seeds": 2 if quick else 4})
    out.append({"id": "exact-u3", "kind": "exact-u3", "quick": quick, "repeats": 1 if quick else 5})
    out.append({"id": "cli-cold", "kind": "cli-cold", "quick": quick, "repeats": 1 if quick else 3})
    return out


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _run(task: dict) -> dict:
    import optoffload as oo

    kind = task["kind"]
    if kind == "hsa-scale":
        with oo.limits.raised(max_tasks=max(task["U"], oo.limits.max_tasks)):  # past the default 1,000
            inst = oo.generate("erds", tasks=task["U"], seed=1)
        sol, dt = _timed(lambda: oo.solve(inst, "erds-hsa"))
        return {"runtime_s": dt, "objective": sol.objective, "iterations": sol.info.get("iterations"),
                "stop": sol.info.get("stop"), "patience": sol.info.get("patience")}
    if kind == "hsa-vs-paper":
        with oo.limits.raised(max_tasks=max(task["U"], oo.limits.max_tasks)):
            inst = oo.generate("erds", tasks=task["U"], seed=1)
        new, t_new = _timed(lambda: oo.solve(inst, "erds-hsa"))
        old, t_old = _timed(lambda: oo.solve(inst, "erds-hsa", stall_work=None))
        return {"runtime_s": t_new, "runtime_paper_s": t_old, "ratio_paper_over_new": t_old / t_new,
                "rel_objective_diff": new.objective / old.objective - 1}
    if kind == "stall-quality":
        worst = 0.0
        for U in task["Us"]:
            for seed in range(task["seeds"]):
                inst = oo.generate("erds", tasks=U, seed=seed)
                a = oo.solve(inst, "erds-hsa", stall_work=None).objective
                b = oo.solve(inst, "erds-hsa").objective
                worst = max(worst, b / a - 1)
        return {"worst_rel_loss": worst, "n": len(task["Us"]) * task["seeds"]}
    if kind == "exact-u3":
        inst = oo.load("erds/paper-u3")
        best = {"warm": float("inf"), "legacy": float("inf")}
        sols = {}
        oo.solve(inst, "erds-exact", verify=False)  # imports and HiGHS loaded before timing
        for _ in range(task["repeats"]):
            for mode in best:
                sol, dt = _timed(lambda: oo.solve(inst, "erds-exact", share_lp=mode, verify=False))
                best[mode] = min(best[mode], dt)
                sols[mode] = sol
        w, lg = sols["warm"], sols["legacy"]
        return {"runtime_s": best["warm"], "runtime_legacy_s": best["legacy"],
                "ratio_legacy_over_warm": best["legacy"] / best["warm"], "lp_solves": w.info["lp_solves"],
                "lp_solves_legacy": lg.info["lp_solves"], "nodes": w.info["nodes"], "nodes_legacy": lg.info["nodes"],
                "status": str(w.status), "objective": w.objective, "bound": w.bound,
                "rel_objective_diff": w.objective / lg.objective - 1, "target_s": 0.05}
    if kind == "cli-cold":
        def best(cmd):
            ts = []
            for _ in range(task["repeats"]):
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                ts.append(time.perf_counter() - t0)
            return min(ts)
        cli = best([sys.executable, "-m", "optoffload", "solve", "picsys/table2", "--method", "cpsat"])
        bare = best([sys.executable, "-c", "import numpy, ortools.sat.python.cp_model"])
        return {"runtime_s": cli, "bare_import_s": bare, "ratio_cli_over_bare": cli / bare}
    raise ValueError(f"unknown task kind {kind!r}")


def _report(rows: list[dict], out: Path) -> str:
    by = {r["id"]: r for r in rows}
    lines = ["# erds-perf (issue #15): ERDS speed and the cold CLI", "",
             "Ratios are measured in one run; absolute times depend on the machine's load.", ""]
    scale = sorted((r for r in rows if r.get("kind") == "hsa-scale"), key=lambda r: r["U"])
    if scale:
        lines += [markdown_table(scale, ["U", "runtime_s", "iterations", "patience", "stop", "objective"]), ""]
        if len(scale) == 2 and scale[0].get("runtime_s"):
            lines.append(f"- U x {scale[1]['U'] // scale[0]['U']} costs "
                         f"{scale[1]['runtime_s'] / scale[0]['runtime_s']:.1f}x (linear would be "
                         f"{scale[1]['U'] // scale[0]['U']}x); target: U = 10,000 in under 1 s idle.")
    for r in rows:
        if r.get("kind") == "hsa-vs-paper" and "ratio_paper_over_new" in r:
            lines.append(f"- U = {r['U']}: the paper's fixed 4000 iterations take {r['ratio_paper_over_new']:.1f}x "
                         f"as long; objective difference {r['rel_objective_diff']:+.2e} (new vs fixed).")
        if r.get("kind") == "stall-quality" and "worst_rel_loss" in r:
            lines.append(f"- Stall rule vs fixed rule, U in {r['Us']}, {r['seeds']} seeds: worst relative loss "
                         f"{r['worst_rel_loss']:.2e} (expected 0: the patience is >= 4000 for U <= 25).")
        if r.get("kind") == "exact-u3" and "ratio_legacy_over_warm" in r:
            lines.append(f"- `erds-exact` on `erds/paper-u3`: {r['runtime_s'] * 1e3:.1f} ms (target < 50 ms), "
                         f"{r['lp_solves']} LP solves for {r['nodes']} tree nodes; previous implementation "
                         f"(`share_lp=legacy`) {r['runtime_legacy_s'] * 1e3:.1f} ms, {r['lp_solves_legacy']} LP "
                         f"solves for {r['nodes_legacy']} nodes: {r['ratio_legacy_over_warm']:.1f}x; "
                         f"objective difference {r['rel_objective_diff']:+.1e} ({r['status']}).")
        if r.get("kind") == "cli-cold" and "ratio_cli_over_bare" in r:
            lines.append(f"- Cold `optoffload solve picsys/table2 --method cpsat`: {r['runtime_s']:.2f} s, bare "
                         f"`import numpy, ortools.sat.python.cp_model`: {r['bare_import_s']:.2f} s, ratio "
                         f"{r['ratio_cli_over_bare']:.2f} (target <= 1.3).")
    errs = [r for r in rows if r.get("error")]
    if errs:
        lines.append(f"- {len(errs)} task(s) failed: " + ", ".join(r["id"] for r in errs))
    _ = by
    return "\n".join(lines) + "\n"


SUITES = {"erds-perf": Suite("erds-perf", "ERDS heuristic scaling with the stall rule, cold CLI vs bare import "
                                          "(issue #15)", _tasks, _run, _report)}
