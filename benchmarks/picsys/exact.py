"""Benchmark suite ``picsys-exact``: the exact PicSys methods versus instance size (issue #3).

``optoffload bench picsys-exact [--quick] [--workers 1]``

Tasks (each records its seed):

* ``scale``: random instances from the paper's large-system distributions
  (PicSys seed 6.2.3 via ``optoffload.picsys.generator.generate``, preset
  ``large``; ``M = clip(N / 10, 3, 20)`` devices) of growing size ``N``,
  solved by each backend with a time limit (60 s; quick: 10 s). Variant
  ``paper`` keeps the paper's ``c_u = 0.01``; variant ``cloud`` sets
  ``c_u = 0.1`` so that the cloud queue matters (the paper's parameters make
  the per-device bound tight, which makes them easy).
* ``table2``: the Table 2 instance, solved repeatedly per backend (median time).

The report gives, per backend, the largest instance proven optimal within the
limit, time to optimality and the gap at the limit versus ``N``, and the
median Table 2 time. Times are wall seconds on the machine that ran the
suite; run it with ``--workers 1`` for undisturbed timings.
"""

from __future__ import annotations

from pathlib import Path

from ..suite import Suite, markdown_table

BACKENDS = ("cpsat", "pyomo", "pulp")
SIZES = {"cpsat": (20, 50, 100, 200, 500, 1000, 2000, 3000, 5000), "pyomo": (20, 50, 100, 200, 300, 1000),
         "pulp": (20, 50, 100, 200, 300, 1000)}
SEEDS = (0, 1)
QUICK_SIZES = (10, 20)
PAPER_TABLE2_OPT = 1.74


def devices_for(n: int) -> int:
    return max(3, min(20, n // 10))


def _tasks(quick: bool) -> list[dict]:
    tasks = []
    limit = 10.0 if quick else 60.0
    seeds = (0,) if quick else SEEDS
    for variant in ("paper", "cloud"):
        for backend in BACKENDS:
            for n in (QUICK_SIZES if quick else SIZES[backend]):
                for seed in seeds:
                    tasks.append({"id": f"scale-{variant}-{backend}-{n}-s{seed}", "kind": "scale", "variant": variant,
                                  "backend": backend, "images": n, "devices": devices_for(n), "seed": seed,
                                  "time_limit": limit})
    for backend in BACKENDS:
        for rep in range(3 if quick else 7):
            tasks.append({"id": f"table2-{backend}-r{rep}", "kind": "table2", "backend": backend, "seed": rep,
                          "time_limit": limit})
    return tasks


def _warm_imports() -> None:
    """Import the solver stacks first so that no row's time includes an import."""
    import pulp  # noqa: F401
    import pyomo.environ  # noqa: F401
    import scipy.optimize  # noqa: F401
    from ortools.sat.python import cp_model  # noqa: F401


def _run(task: dict) -> dict:
    import optoffload as oo

    _warm_imports()

    if task["kind"] == "table2":
        inst = oo.load("picsys/table2")
    else:
        extra = {"c_u": 0.1} if task["variant"] == "cloud" else {}
        inst = oo.generate("picsys", seed=task["seed"], preset="large", devices=task["devices"],
                           images=task["images"], **extra)
    sol = oo.solve(inst, task["backend"], time_limit=task["time_limit"], seed=task["seed"], threads=1)
    return {"status": sol.status.value, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
            "runtime_s": sol.runtime, "native": sol.info.get("native_status"),
            "incumbent_from": sol.info.get("incumbent_from"), "n_images": inst.n_images}


def _median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = len(xs) // 2
    return xs[k] if len(xs) % 2 else 0.5 * (xs[k - 1] + xs[k])


def _report(rows: list[dict], out: Path) -> str:
    ok = [r for r in rows if "error" not in r]
    lines = ["# picsys-exact: exact PicSys methods versus instance size", ""]
    errors = [r for r in rows if "error" in r]
    if errors:
        lines += [f"**{len(errors)} task(s) failed**: " + ", ".join(r["id"] for r in errors[:10]), ""]
    # Table 2
    t2 = [r for r in ok if r["kind"] == "table2"]
    summ = []
    for b in BACKENDS:
        rb = [r for r in t2 if r["backend"] == b]
        if rb:
            summ.append({"backend": b, "runs": len(rb), "optimal": sum(r["status"] == "optimal" for r in rb),
                         "objective": rb[0]["objective"], "median_time_s": _median([r["runtime_s"] for r in rb])})
    lines += ["## Table 2 instance", "",
              f"Paper's optimum: {PAPER_TABLE2_OPT} s; ours: the proven optimum of the shipped instance. The paper's "
              "image sizes varied around 800 kB while the shipped instance uses exactly 800 kB, so the optimum "
              "differs in the second decimal (device 1 alone needs max(0.35 k, 0.32 (10 - k)) >= 1.75 s).", "",
              markdown_table(summ, ["backend", "runs", "optimal", "objective", "median_time_s"]), ""]
    # scaling
    sc = [r for r in ok if r["kind"] == "scale"]
    groups: dict = {}
    for r in sc:
        groups.setdefault((r["variant"], r["backend"], r["images"]), []).append(r)
    table = []
    for (variant, b, n), rs in sorted(groups.items()):
        opt = [r for r in rs if r["status"] == "optimal"]
        table.append({"variant": variant, "backend": b, "images": n, "devices": rs[0]["devices"],
                      "runs": len(rs), "optimal": len(opt),
                      "median_time_opt_s": _median([r["runtime_s"] for r in opt]),
                      "max_gap": max((r["gap"] or 0.0) for r in rs) if all(r["gap"] is not None for r in rs)
                      else None})
    lines += ["## Time to proven optimality and gap at the limit", "",
              "`optimal`: runs proven optimal within the limit; `max_gap`: the largest relative gap "
              "(objective - bound) / objective over the runs (0 when all are optimal).", "",
              markdown_table(table, ["variant", "backend", "images", "devices", "runs", "optimal",
                                     "median_time_opt_s", "max_gap"]), ""]
    best = []
    for variant in ("paper", "cloud"):
        for b in BACKENDS:
            ns = [t["images"] for t in table if t["variant"] == variant and t["backend"] == b
                  and t["optimal"] == t["runs"]]
            anyn = [t["images"] for t in table if t["variant"] == variant and t["backend"] == b and t["optimal"]]
            if any(t["variant"] == variant and t["backend"] == b for t in table):
                best.append({"variant": variant, "backend": b, "largest_all_seeds_optimal": max(ns, default=None),
                             "largest_some_seed_optimal": max(anyn, default=None)})
    lines += ["## Largest random instance proven optimal within the limit", "",
              markdown_table(best, ["variant", "backend", "largest_all_seeds_optimal", "largest_some_seed_optimal"]),
              ""]
    try:
        _plot(table, out)
        lines += ["![time to optimality](picsys_exact_time.png) ([PDF](picsys_exact_time.pdf))", ""]
    except Exception as exc:  # noqa: BLE001 - a plot must not hide the tables
        lines += [f"(plot failed: {exc})", ""]
    return "\n".join(lines)


def _plot(table: list[dict], out: Path) -> None:
    from optoffload import figures as F

    with F.style():
        fig, ax = F.figure(1, 2, width="text", height=2.4)
        for variant, ls in (("paper", "-"), ("cloud", "--")):
            for i, b in enumerate(BACKENDS):
                pts = [t for t in table if t["variant"] == variant and t["backend"] == b]
                if not pts:
                    continue
                ax[0].plot([t["images"] for t in pts], [t["median_time_opt_s"] or float("nan") for t in pts], ls,
                           marker="o", markersize=3, color=F.color(i), label=f"{b} ({variant})")
                ax[1].plot([t["images"] for t in pts], [100 * (t["max_gap"] or 0.0) for t in pts], ls, marker="o",
                           markersize=3, color=F.color(i), label=f"{b} ({variant})")
        for a, yl in zip(ax, ("median time to optimality (s, log)", "largest gap at the time limit (%)")):
            a.set_xscale("log")
            a.set_xlabel("images N (log)")
            a.set_ylabel(yl)
        ax[0].set_yscale("log")
        ax[0].legend(frameon=False, fontsize=5.5)
        runs = max((t.get("runs", 0) or 0 for t in table), default=0)
        F.save(fig, out, "picsys_exact_time", caption="PicSys exact backends; solid: the paper's system, dashed: "
               "the shared-cloud variant.", n=f"{runs} instance(s) per point" if runs else None)


SUITES = {
    "picsys-exact": Suite(
        name="picsys-exact",
        summary="PicSys exact methods (cpsat, pyomo, pulp): time to optimality and gap vs size; Table 2 time",
        tasks=_tasks, run=_run, report=_report),
}
