"""PicSys paper experiments (PicSys seed, section 6) as benchmark suites (issue #4).

Suites (``optoffload bench NAME [--quick] [--executor local|dask] [--workers N] [--resume]``):

``picsys-table2``   Table 2: every method on the Table 2 instance, in the paper's order of merit.
``picsys-testbed``  6.2.2 and Fig. 7b: the testbed instance and a sweep over the number of images.
``picsys-large``    Fig. 8a-c: images, uplink rate and hit-rate sweeps, 100 runs per point.
``picsys-hetero``   Table 4: four device groups (rate x speed), per-group stages and completion.
``picsys-stages``   Fig. 9: three stages (time-heuristic) versus two stages (no Filtering stage).
``picsys-ref25``    Fig. 10: PicSys versus the longest-expected-completion baseline of ref. [25].
``picsys-tokens``   end of 6.2.3: 100 devices x 4 images, with and without cloud tokens (eq. 18).
``picsys-energy``   Figs. 11-12: energy budgets 1/2/3 %, WiFi and LTE.
``picsys-gap``      every heuristic's gap to the proven optimum on >= 200 random small instances,
                    and to the best lower bound (and the look-ahead) on large ones.

Every task records its seed; one row per (task, method). Reports put the paper's
figures beside ours with a sentence on each difference and save plots (Agg).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..suite import Suite, markdown_table
from . import repro as _repro

# ----------------------------------------------------------------------------- helpers

LA_LARGE = {"bound": "simple", "search_evals": 60, "exact": "none"}
#: picsys-large's look-ahead (issue #13): CP-SAT's proven optimum when it proves one within 30 s
#: (it does at the paper's 20 x 1,000 images in seconds), else the offline search; rows say which.
LA_PROVEN = {"bound": "simple", "search_evals": 60, "exact": "cpsat", "time_limit": 30, "threads": 1}


def _solve_row(inst, method: str, label: str | None = None, **kw) -> dict:
    import optoffload as oo

    sol = oo.solve(inst, method, **kw)
    info = sol.info or {}
    row = {"method": label or method, "objective": sol.objective, "status": sol.status.value,
           "bound": sol.bound, "runtime_s": sol.runtime, "images": inst.n_images,
           "processed": info.get("processed"), "recall": info.get("recall")}
    if "outcome_counts" in info:
        row["counts"] = info["outcome_counts"]
    if method == "look-ahead":
        row["how"] = info.get("method") or ("proven optimum" if sol.status.value == "optimal" else "search")
    return row


def _mean(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return sum(xs) / len(xs) if xs else None


def _group(rows, *keys):
    out: dict = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return out


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _line_plot(path: Path, series: dict, xlabel: str, ylabel: str, title: str, logx: bool = False, *,
               n: str | int | None = None, caption: str | None = None) -> None:
    """Column-width line plot of our means (PNG 200 dpi + PDF, optoffload/figures.py); log y when
    one method dwarfs the rest."""
    from optoffload import figures as F

    if not any(F.worth_plotting([p[0] for p in pts if p[1] is not None]) for pts in series.values()):
        return  # one point per line (a --quick run): a figure would show nothing
    with F.style():
        fig, ax = F.figure(width="column", height=2.5)
        allv = []
        for i, (name, pts) in enumerate(series.items()):
            pts = sorted(p for p in pts if p[1] is not None)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=F.color(i), label=name, **F.OURS)
                allv += [p[1] for p in pts]
        if logx:
            ax.set_xscale("log")
        scale = F.auto_scale(ax, allv, ratio=8.0)
        ax.set_xlabel(LARGE_LABEL.get(xlabel, xlabel) + (" (log)" if logx else ""))
        ax.set_ylabel(ylabel + (" (log)" if scale == "log" else ""))
        ax.set_title(title)
        ax.grid(alpha=0.3, linewidth=0.4)
        ax.legend(frameon=False, fontsize=5.5)
        F.save(fig, path.parent, path.stem, caption=caption or f"{title}: our simulator, mean per point.", n=n)


def _fmt(v, nd=3):
    return "-" if v is None else (f"{v:.{nd}g}" if isinstance(v, float) else str(v))


# ----------------------------------------------------------------------------- picsys-table2
# in benchmarks/picsys/repro.py (issue #13)


def _bar(path: Path, items, title: str, *, ylabel: str = "completion time (s)", n: str | int | None = None,
         caption: str | None = None) -> None:
    """Ours beside the paper per method, values printed on the bars, a missing paper value marked
    "n/a" (PNG 200 dpi + PDF, optoffload/figures.py)."""
    from optoffload import figures as F

    with F.style():
        fig, ax = F.figure(width="column", height=2.6)
        xs = list(range(len(items)))
        ours = [i[1] for i in items]
        paper = [i[2] for i in items]
        b1 = ax.bar([x - 0.2 for x in xs], [v if v is not None else float("nan") for v in ours], width=0.4,
                    color="0.35", edgecolor="black", linewidth=0.4, label="ours")
        b2 = ax.bar([x + 0.2 for x in xs], [v if v is not None else float("nan") for v in paper], width=0.4,
                    color="white", edgecolor="black", linewidth=0.4, hatch="////", label="paper")
        F.label_bars(ax, b1, ours, fmt="{:.2f}", fontsize=5)
        F.label_bars(ax, b2, paper, fmt="{:.2f}", fontsize=5)
        for x, v in zip(xs, paper):
            if v is None:
                F.mark_missing(ax, x + 0.2)
        top = max([v for v in ours + paper if v is not None] or [1.0])
        ax.set_ylim(0, top * 1.45)
        ax.set_xticks(xs, [i[0] for i in items], rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(frameon=False, loc="upper left", ncol=2)
        F.save(fig, path.parent, path.stem, caption=caption or f"{title}; n/a: the paper gives no value.", n=n)


def _table4_plot(g: dict, out: Path) -> None:
    """Table 4: mean device completion per (rate, CPU) group and method."""
    from optoffload import figures as F

    meths = ("time-heuristic", "balance", "all-device", "all-cloud")
    with F.style():
        fig, ax = F.figure(width="column", height=2.5)
        for j, m in enumerate(meths):
            vals = [_mean([r["device_completion"] for r in g.get((k, m), [])]) for k in range(4)]
            ax.bar([k + 0.2 * j for k in range(4)], [v if v is not None else float("nan") for v in vals], 0.2,
                   label=m, color=F.color(j), edgecolor="black", linewidth=0.3)
        ax.set_xticks([k + 0.3 for k in range(4)], [f"rate {a}\nCPU {b}" for a, b in HETERO_GROUPS])
        ax.set_xlabel("device group (uplink rate / CPU speed)")
        ax.set_ylabel("device completion time (s)")
        ax.set_title("Table 4 (ours): heterogeneous devices")
        ax.legend(frameon=False, fontsize=5.5, ncol=2)
        runs = max((len(v) for v in g.values()), default=0)
        F.save(fig, out, "table4", caption="Mean completion of the devices of each group, our simulator.",
               n=f"{runs} run(s) per bar")


def _energy_plot(tab: list, out: Path) -> None:
    """Figs. 11-12: share of the images processed under each budget, network and method."""
    from optoffload import figures as F

    with F.style():
        fig, ax = F.figure(width="column", height=0.14 * len(tab) + 1.0)
        labels = [f"{t['network']}, {t['budget %']:g} %: {t['method']}" for t in tab]
        y = list(range(len(tab)))
        nets = sorted({t["network"] for t in tab})
        bars = ax.barh(y, [t["processed %"] for t in tab], color=[F.color(nets.index(t["network"])) for t in tab],
                       edgecolor="black", linewidth=0.3, height=0.7)
        for yy, t in zip(y, tab):
            ax.text(t["processed %"], yy, f" {t['processed %']:.0f}", va="center", fontsize=5)
        ax.set_yticks(y, labels, fontsize=5)
        ax.set_ylim(len(tab) - 0.5, -0.5)
        ax.set_xlim(0, 115)
        ax.set_xlabel("images processed (%)")
        ax.set_title("Figs. 11-12 (ours): images processed within the budget")
        F.save(fig, out, "fig11-12", caption="Share of the images processed before the budget runs out.")


def _gap_plot(tab: list, small: list, out: Path, n_small: int) -> None:
    """Gap to the proven optimum per method: box plots, y axis clipped where one method dwarfs
    the rest (its maximum printed at the clip)."""
    from optoffload import figures as F

    labs = [t["method"] for t in tab]
    data = [[100 * r["gap"] for r in small if r["method"] == m] for m in labs]
    with F.style():
        fig, ax = F.figure(width="column", height=2.7)
        ax.boxplot(data, showfliers=True, widths=0.6, flierprops={"markersize": 2},
                   medianprops={"color": "#D55E00"})
        ax.set_xticks(range(1, len(labs) + 1), labs, rotation=35, ha="right")
        worst = max((max(d) for d in data if d), default=0.0)
        if worst > 50:  # one method dwarfs the rest (all-cloud: hundreds of %): log above 10 %, 0 kept
            ax.set_yscale("symlog", linthresh=10, linscale=0.8)
            ticks = [t for t in (0, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if t <= worst * 1.3]
            ax.set_yticks(ticks, [str(t) for t in ticks])
            ax.set_ylim(-0.5, worst * 1.4)
        ax.set_ylabel("gap to the optimum (%)" + (", log above 10" if worst > 50 else ""))
        ax.set_title("picsys-gap: gap to the proven optimum")
        ax.grid(axis="y", alpha=0.3, linewidth=0.4)
        F.save(fig, out, "gap", caption="Random small instances (1-3 devices, 4-9 images), optimum by brute force; "
                                        "box: quartiles, whiskers 1.5 IQR, dots: outliers.", n=f"{n_small} instances per method")


# ----------------------------------------------------------------------------- picsys-testbed

TESTBED_PAPER = {"time-heuristic": 14.99, "all-device": 35.7, "all-cloud": 51.015}
TESTBED_METHODS = ["time-heuristic", "balance", "all-device", "all-cloud", "look-ahead"]


def _testbed_tasks(quick: bool) -> list[dict]:
    tasks = [{"id": "shipped", "kind": "shipped", "images": 336, "seed": 2021}]
    sizes, runs = ([60], 1) if quick else ([60, 150, 336, 600, 900], 10)
    for n in sizes:
        for s in range(runs):
            tasks.append({"id": f"fig7b-n{n}-s{s}", "kind": "fig7b", "images": n, "seed": s})
    return tasks


def _testbed_run(task: dict) -> list[dict]:
    from optoffload.picsys.generator import generate

    if task["kind"] == "shipped":
        return _repro.testbed_shipped_run(task)
    inst = generate(seed=task["seed"], preset="testbed", images=task["images"])
    return [_solve_row(inst, m, **(LA_LARGE if m == "look-ahead" else {})) for m in TESTBED_METHODS]


def _testbed_report(rows: list[dict], out: Path) -> str:
    ship = {r["method"]: r for r in rows if r["kind"] == "shipped"}
    lines = _repro.testbed_shipped_report(ship) + [""]
    fig = _group([r for r in rows if r["kind"] == "fig7b"], "images", "method")
    tab = []
    series: dict = {}
    for (n, m), rs in sorted(fig.items()):
        v = _mean([r["objective"] for r in rs])
        tab.append({"images": n, "method": m, "runs": len(rs), "mean [s]": v})
        series.setdefault(m, []).append((n, v))
    if tab:
        lines += ["## Fig. 7b: completion vs number of images (3 devices, mean over runs)", "",
                  markdown_table(tab, ["images", "method", "runs", "mean [s]"], "{:.2f}"), "",
                  "- The paper's Fig. 7b is a plot without published values; its shape (all-cloud worst and growing "
                  "fastest, the heuristic best with growing savings) is what we compare: see fig7b.png. The sweep's "
                  "instances come from the generator's 'testbed' preset (per-image means, i.i.d. truth values), "
                  "not from the exactly calibrated shipped instance."]
        _line_plot(out / "fig7b.png", series, "images in the system", "completion [s]", "Fig. 7b (ours)",
                   n=f"{max(t['runs'] for t in tab)} run(s) per point")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- picsys-large

LARGE_METHODS = ["time-heuristic", "greedy", "balance", "look-ahead", "all-device", "all-cloud"]
SWEEPS = {"images": [250, 500, 1000, 2000], "rate": [4e6, 8e6, 10e6, 25e6, 50e6, 100e6],
          "hit_rate": [0.0, 0.25, 0.5, 0.75, 1.0]}


def _large_tasks(quick: bool) -> list[dict]:
    tasks = []
    runs = 2 if quick else 100
    for sweep, xs in SWEEPS.items():
        if quick:
            xs = xs[1:2]
        for x in xs:
            for s in range(runs):
                t = {"id": f"{sweep}={x:g}-s{s}", "sweep": sweep, "x": x, "seed": s}
                if quick:
                    t.update(devices=4, base_images=80)
                tasks.append(t)
    return tasks


def _large_instance(task: dict):
    from optoffload.picsys.generator import generate

    kw: dict[str, Any] = {"devices": task.get("devices", 20), "images": task.get("base_images", 1000)}
    if task["sweep"] == "images":
        kw["images"] = int(task["x"]) if "base_images" not in task else int(task["base_images"])
    else:
        kw[task["sweep"]] = task["x"]
    return generate(seed=task["seed"], **kw)


def _large_run(task: dict) -> list[dict]:
    inst = _large_instance(task)
    return [_solve_row(inst, m, **(LA_PROVEN if m == "look-ahead" else {})) for m in LARGE_METHODS]


LARGE_LABEL = {"images": "images in the system", "rate": "uplink rate r [bit/s]", "hit_rate": "hit rate h"}


def _large_report(rows: list[dict], out: Path) -> str:
    lines = ["# picsys-large: Fig. 8a-c (20 devices, section 6.2.3 distributions, mean over runs)", ""]
    n_img = sum(r["images"] for r in rows if r["method"] == "time-heuristic")
    t_all = sum(r["runtime_s"] for r in rows)
    lines.append(f"{len(rows)} rows, {n_img} images per method; solver time summed over rows {t_all:.1f} s "
                 f"({len(LARGE_METHODS) * n_img / max(t_all, 1e-9):,.0f} images/s over all methods).")
    lines.append("")
    for sweep in SWEEPS:
        g = _group([r for r in rows if r["sweep"] == sweep], "x", "method")
        if not g:
            continue
        xs = sorted({k[0] for k in g})
        tab, series = [], {}
        for x in xs:
            la_rows = g.get((x, "look-ahead"), [])
            row: dict = {sweep: x, "runs": len(g.get((x, "time-heuristic"), [])),
                         "LA proven": f"{sum(r['status'] == 'optimal' for r in la_rows)}/{len(la_rows)}"}
            for m in LARGE_METHODS:
                v = _mean([r["objective"] for r in g.get((x, m), [])])
                row[m] = v
                series.setdefault(m, []).append((x, v))
            th, bl, la = row.get("time-heuristic"), row.get("balance"), row.get("look-ahead")
            row["ours vs TH"] = f"{100 * (bl / th - 1):+.1f} %" if th and bl else "-"
            row["TH vs LA"] = f"{100 * (th / la - 1):+.1f} %" if th and la else "-"
            tab.append(row)
        fig = {"images": "8a", "rate": "8b", "hit_rate": "8c"}[sweep]
        lines += [f"## Fig. {fig}: {LARGE_LABEL[sweep]}", "",
                  markdown_table(tab, [sweep, "runs", *LARGE_METHODS, "ours vs TH", "TH vs LA", "LA proven"],
                                 "{:.2f}"), ""]
        _line_plot(out / f"fig{fig}.png", series, LARGE_LABEL[sweep], "completion [s]", f"Fig. {fig} (ours)",
                   logx=sweep == "rate", n=f"{max(t['runs'] for t in tab)} run(s) per point")
    at8 = _group([r for r in rows if r["sweep"] == "rate" and r["x"] == 8e6], "method")
    if at8:
        th, la = (_mean([r["objective"] for r in at8.get((m,), [])]) for m in ("time-heuristic", "look-ahead"))
        lines.append(f"- Fig. 8b at 8 Mbps: paper time-heuristic 32.7 s, look-ahead 27.5 s (ratio 1.19); ours "
                     f"{_fmt(th)} s and {_fmt(la)} s (ratio {_fmt(th / la if th and la else None)}). The paper does "
                     "not state how many images Fig. 8b uses; with our 1,000 images the absolute times are smaller. "
                     "Our look-ahead is CP-SAT's proven optimum where CP-SAT proves it within 30 s (column 'LA "
                     "proven'; at 20 x 1,000 images it usually does in seconds), else the best plan of an offline "
                     "search that knows all truth values (an upper estimate of the oracle).")
    lines += ["- The paper reports Fig. 8 as plots only. Shapes to compare: all-cloud grows fastest with the number "
              "of images (cloud queueing), the heuristic is closest to look-ahead, it reaches the look-ahead at hit "
              "rates 0 and 1, and at high rates it still processes some images locally (the cloud stays a "
              "bottleneck). The tables above show where each holds for us.",
              "- 'ours vs TH' is balance against the time-heuristic on the same instances (negative: ours faster)."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- picsys-hetero

HETERO_PAPER = [  # Table 4: bandwidth, processing, i-off, f-off, f-disc, s, heuristic, all-device, all-cloud
    ("high", "high", 19, 5, 66, 10, 27.748, 35.424, 80.07),
    ("high", "low", 31, 12, 56, 1, 35.8, 63.16, 80.07),
    ("low", "high", 4, 1, 76, 19, 37.83, 42.964, 160.07),
    ("low", "low", 15, 4, 68, 13, 51.802, 63.542, 160.07),
]
HETERO_GROUPS = [("high", "high"), ("high", "low"), ("low", "high"), ("low", "low")]


def _hetero_tasks(quick: bool) -> list[dict]:
    runs = 1 if quick else 20
    return [{"id": f"s{s}", "seed": s, "devices": 4 if quick else 20, "images": 80 if quick else 2000}
            for s in range(runs)]


def _hetero_run(task: dict) -> list[dict]:
    import numpy as np

    from optoffload.picsys.generator import generate
    from optoffload.picsys.simulator import run_policy

    from optoffload.heuristics.picsys.balance import Balance
    from optoffload.heuristics.picsys.baselines import AllCloud, AllDevice
    from optoffload.heuristics.picsys.time_heuristic import TimeHeuristic

    inst = generate(seed=task["seed"], preset="hetero", devices=task["devices"], images=task["images"])
    M = inst.n_devices
    rows = []
    for name, pol in (("time-heuristic", TimeHeuristic()), ("balance", Balance()), ("all-device", AllDevice()),
                      ("all-cloud", AllCloud())):
        res = run_policy(inst, pol, seed=task["seed"])
        for g in range(4):
            devs = [m for m in range(M) if (m * 4) // M == g]
            cnt = {k: float(np.mean([np.sum(res.outcomes[m] == c) for m in devs])) for k, c in
                   (("i-off", 0), ("f-off", 1), ("f-disc", 2))}
            cnt["s"] = float(np.mean([np.sum((res.outcomes[m] == 3) | (res.outcomes[m] == 4)) for m in devs]))
            rows.append({"method": name, "group": g, "bandwidth": HETERO_GROUPS[g][0],
                         "processing": HETERO_GROUPS[g][1], **cnt,
                         "device_completion": float(np.mean(res.device_completion[devs])),
                         "makespan": res.makespan, "cloud_completion": res.cloud_completion})
    return rows


def _hetero_report(rows: list[dict], out: Path) -> str:
    g = _group(rows, "group", "method")
    tab = []
    for k, p in enumerate(HETERO_PAPER):
        th = g.get((k, "time-heuristic"), [])
        if not th:
            continue
        tab.append({"r": p[0], "alpha,beta": p[1],
                    "i-off": f"{_mean([r['i-off'] for r in th]):.0f} ({p[2]})",
                    "f-off": f"{_mean([r['f-off'] for r in th]):.0f} ({p[3]})",
                    "f-disc": f"{_mean([r['f-disc'] for r in th]):.0f} ({p[4]})",
                    "s": f"{_mean([r['s'] for r in th]):.0f} ({p[5]})",
                    "heuristic [s]": f"{_mean([r['device_completion'] for r in th]):.1f} ({p[6]})",
                    "balance [s]": f"{_mean([r['device_completion'] for r in g.get((k, 'balance'), [])]):.1f}",
                    "all-device [s]": f"{_mean([r['device_completion'] for r in g.get((k, 'all-device'), [])]):.1f}"
                                      f" ({p[7]})",
                    "all-cloud [s]": f"{_mean([r['device_completion'] for r in g.get((k, 'all-cloud'), [])]):.1f}"
                                     f" ({p[8]})"})
    mk = {m: _mean([r["makespan"] for r in rows if r["method"] == m]) for m in
          ("time-heuristic", "balance", "all-device", "all-cloud")}
    lines = ["# picsys-hetero: Table 4 (20 devices in 4 groups, 100 images each; ours (paper))", "",
             markdown_table(tab, list(tab[0]) if tab else []), "",
             f"System completion: time-heuristic {_fmt(mk['time-heuristic'])} s (paper 54.57), all-device "
             f"{_fmt(mk['all-device'])} s (paper 64.51), all-cloud {_fmt(mk['all-cloud'])} s (paper 160.17), balance "
             f"(ours) {_fmt(mk['balance'])} s.", "",
             "- Device completion here is the mean over a group's devices of the last completion of their images "
             "(cloud part included), the paper's 'device completion time'.",
             "- All-cloud: the paper's group values (80.07/160.07 s) are the upload times of 100 x 1 MB at 10 and "
             "5 Mbps; ours differ by the truncated-normal sizes' mean (slightly above 1 MB) and the shared cloud.",
             "- As in the paper, fast-uplink groups offload more and fast-CPU groups process more locally; the slow "
             "x slow group is the bottleneck. Counts differ in detail because our hit-rate estimate and eq. 12/13 "
             "switch are our reading of the paper (docs/picsys-heuristics.md)."]
    if tab:
        _table4_plot(g, out)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- picsys-stages / ref25

STAGE_SWEEPS = {"hit_rate": [0.05, 0.25, 0.5, 0.75], "images": [250, 500, 1000, 2000]}


def _stage_tasks(quick: bool, prefix: str) -> list[dict]:
    runs = 1 if quick else 20
    tasks = []
    for sweep, xs in STAGE_SWEEPS.items():
        for x in (xs[1:2] if quick else xs):
            for s in range(runs):
                t = {"id": f"{prefix}-{sweep}={x:g}-s{s}", "sweep": sweep, "x": x, "seed": s}
                if quick:
                    t.update(devices=4, base_images=80)
                tasks.append(t)
    return tasks


def _stages_run(task: dict) -> list[dict]:
    inst = _large_instance(task)
    return [_solve_row(inst, m) for m in ("time-heuristic", "two-stage", "balance")]


def _ref25_run(task: dict) -> list[dict]:
    inst = _large_instance(task)
    return [_solve_row(inst, m) for m in ("time-heuristic", "two-stage", "longest-expected", "balance")]


def _compare_report(rows, out, title, methods, ref, paper_lines, fig):
    lines = [title, ""]
    all_tab = []
    for sweep in STAGE_SWEEPS:
        g = _group([r for r in rows if r["sweep"] == sweep], "x", "method")
        xs = sorted({k[0] for k in g})
        tab, series = [], {}
        for x in xs:
            row: dict = {sweep: x}
            for m in methods:
                row[m] = _mean([r["objective"] for r in g.get((x, m), [])])
                series.setdefault(m, []).append((x, row[m]))
                row[f"recall {m}"] = _mean([r["recall"] for r in g.get((x, m), [])])
            tab.append(row)
        all_tab += tab
        if tab:
            cols = [sweep, *methods] + [f"recall {m}" for m in methods]
            lines += [f"## sweep over {sweep}", "", markdown_table(tab, cols, "{:.3g}"), ""]
            _line_plot(out / f"{fig}-{sweep}.png", series, sweep, "completion [s]", f"{fig} (ours)",
                       n=f"{max(len(v) for v in g.values())} run(s) per point")
    for a, b, paper in ref:
        red = [1 - r[a] / r[b] for r in all_tab if r.get(a) and r.get(b)]
        lines.append(f"- {a} vs {b}: completion {100 * _mean(red):.0f} % lower on average over all points "
                     f"(paper: {paper})." if red else f"- {a} vs {b}: no data")
    lines += paper_lines
    return "\n".join(lines)


def _stages_report(rows, out):
    return _compare_report(
        rows, out, "# picsys-stages: Fig. 9, three stages (time-heuristic) vs two stages (no Filtering stage)",
        ["time-heuristic", "two-stage", "balance"],
        [("time-heuristic", "two-stage", "35 % lower"), ("balance", "two-stage", "not in the paper")],
        ["- Recall: the paper reports the three-stage system losing < 1 % recall. Ours loses more (see the recall "
         "columns) because our two-stage counterpart takes the expensive CNN's verdict on images the accelerated "
         "CNN rejected to be the ground truth (docs/picsys-heuristics.md), while the three-stage system keeps "
         "both CNNs' misses (TPR 0.81 x 0.82 on local positives); the paper does not say how it drew these.",
         "- As in the paper the gap grows as the hit rate falls (more images are discarded after the cheap CNN)."],
        "fig9")


def _ref25_report(rows, out):
    return _compare_report(
        rows, out, "# picsys-ref25: Fig. 10, PicSys vs the longest-expected-completion baseline of ref. [25]",
        ["time-heuristic", "two-stage", "longest-expected", "balance"],
        [("time-heuristic", "longest-expected", "44 % lower"), ("two-stage", "longest-expected", "15 % lower"),
         ("balance", "longest-expected", "not in the paper")],
        ["- [25] is adapted as the paper describes (longest expected device completion assigned to the cloud, "
         "no hit rate, no upload of positives in its estimate, no Filtering stage); its exact adaptation is not "
         "published, so the percentages can differ while the order (PicSys < two-stage < [25]) is what we check."],
        "fig10")


# ----------------------------------------------------------------------------- picsys-tokens

def _tokens_tasks(quick: bool) -> list[dict]:
    return [{"id": f"s{s}", "seed": s} for s in range(2 if quick else 100)]


def _tokens_run(task: dict) -> list[dict]:
    from optoffload.picsys.generator import generate
    from optoffload.picsys.simulator import system_info

    from optoffload.heuristics.picsys.time_heuristic import token_counts

    inst = generate(seed=task["seed"], preset="tokens")
    n_tok = int(token_counts(system_info(inst)).sum())
    rows = []
    for m in ("time-heuristic", "balance"):
        rows.append({**_solve_row(inst, m), "tokens": n_tok})
        rows.append({**_solve_row(inst, m, f"{m}+tokens", tokens=True), "tokens": n_tok})
    return rows


def _tokens_report(rows, out):
    g = _group(rows, "method")
    v = {m[0]: _mean([r["objective"] for r in rs]) for m, rs in g.items()}
    tok = _mean([r["tokens"] for r in rows])
    tab = [{"method": m, "mean [s]": v.get(m), "paper [s]": p} for m, p in
           (("time-heuristic", 6.0), ("time-heuristic+tokens", 4.0), ("balance", None), ("balance+tokens", None))]
    lines = ["# picsys-tokens: 100 devices x 4 images, cloud tokens (eq. 18, end of 6.2.3)", "",
             markdown_table(tab, ["method", "mean [s]", "paper [s]"], "{:.2f}"), "",
             f"- Tokens per instance (eq. 18): mean {_fmt(tok)} (paper 'around 75').",
             f"- Tokens change the time-heuristic by {100 * (v['time-heuristic+tokens'] / v['time-heuristic'] - 1):+.0f}"
             " % (paper -33 %, from about 6 s to 4 s). "
             + ("Our gain is smaller: eq. 18 with alpha and c_u drawn in [0.6 x, x] gives more tokens than there are "
                "images the cloud can absorb early, and our time-heuristic already processes locally once the "
                "uplink backlog exceeds c_s + alpha (Algorithm 3, line 2), which limits the initial burst."
                if v['time-heuristic+tokens'] / v['time-heuristic'] > 0.8 else
                "The effect has the paper's direction and size."),
             f"- balance (ours) sees the cloud backlog through q_c and its fluid model, and needs no tokens: "
             f"{_fmt(v.get('balance'))} s without, {_fmt(v.get('balance+tokens'))} s with."]
    _bar(out / "tokens.png", [(t["method"], t["mean [s]"], t["paper [s]"]) for t in tab],
         "picsys-tokens: completion time", n=f"{len(g.get(('time-heuristic',), []))} instances per method")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- picsys-energy

ENERGY_CASES = [("wifi", 1.0), ("wifi", 2.0), ("wifi", 3.0), ("lte", 1.0), ("lte", 3.0)]
ENERGY_METHODS = [("time-heuristic (no budget)", "time-heuristic", {}, False),
                  ("time-heuristic", "time-heuristic", {}, True),
                  ("energy-heuristic", "energy-heuristic", {}, True),
                  ("energy-heuristic adaptive", "energy-heuristic", {"probe": "adaptive"}, True),
                  ("balance", "balance", {}, True)]


def _energy_tasks(quick: bool) -> list[dict]:
    runs = 1 if quick else 10
    return [{"id": f"{e}-{b:g}-s{s}", "energy": e, "budget": b, "seed": s,
             **({"devices": 2, "images": 400} if quick else {})}
            for e, b in (ENERGY_CASES[:1] if quick else ENERGY_CASES) for s in range(runs)]


def _energy_run(task: dict) -> list[dict]:
    from optoffload.picsys.generator import generate

    inst = generate(seed=task["seed"], preset="energy", energy=task["energy"], budget=task["budget"],
                    devices=task.get("devices"), images=task.get("images"))
    free = generate(seed=task["seed"], preset="energy", energy="none", devices=task.get("devices"),
                    images=task.get("images"))   # same draws, no energy data: no budget at all
    rows = []
    for label, m, kw, enforce in ENERGY_METHODS:
        i2 = inst if enforce else free
        rows.append(_solve_row(i2, m, label, **kw))
    return rows


def _energy_report(rows, out):
    g = _group(rows, "energy", "budget", "method")
    tab = []
    for (e, b), _ in _group(rows, "energy", "budget").items():
        for label, *_ in ENERGY_METHODS:
            rs = g.get((e, b, label), [])
            if not rs:
                continue
            c = {k: _mean([r["counts"][k] for r in rs]) for k in ("i-off", "f-disc", "f-off", "s-disc", "s-up",
                                                                   "skip")}
            tab.append({"network": e, "budget %": b, "method": label, "completion [s]": _mean([r["objective"]
                                                                                            for r in rs]),
                        "processed %": 100 * _mean([r["processed"] / r["images"] for r in rs]), **c})
    lines = ["# picsys-energy: Figs. 11-12 (10 devices, 10,000 images, energy of 6.2.6)", "",
             markdown_table(tab, ["network", "budget %", "method", "completion [s]", "processed %", "i-off", "f-disc",
                                  "f-off", "s-disc", "s-up", "skip"], "{:.4g}"), "",
             "Paper (text of 6.2.6): at 1 % WiFi the energy-heuristic processes 86 % of the images and the "
             "time-heuristic 51 %; at 2 % it processes all images, 1.3x slower than the time-heuristic; at 3 % WiFi "
             "the energy suffices and it follows the time-heuristic; with LTE at a restrictive budget it processes "
             "more locally than it offloads initially.", ""]

    def pick(e, b, m, k):
        rs = g.get((e, b, m), [])
        if not rs:
            return None
        return 100 * _mean([r["processed"] / r["images"] for r in rs]) if k == "p" else _mean(
            [r["objective"] for r in rs])

    p_eh, p_th = pick("wifi", 1.0, "energy-heuristic", "p"), pick("wifi", 1.0, "time-heuristic", "p")
    p_ad = pick("wifi", 1.0, "energy-heuristic adaptive", "p")
    lines.append(f"- 1 % WiFi, processed: energy-heuristic {_fmt(p_eh)} % (paper 86 %), our adaptive probe "
                 f"{_fmt(p_ad)} %, time-heuristic {_fmt(p_th)} % (paper 51 %). Per device 1,000 images processed "
                 "fully locally need 14 % of battery and even the time-heuristic's mix about 4 %, so with our "
                 "simulator's energy accounting (eq. 16) a 1 % budget covers far fewer images than in the paper; "
                 "Algorithm 4 as printed (next_probe = max(E_r / full cost, window)) overshoots the residual, which "
                 "our 'adaptive' probe avoids.")
    c2 = pick("wifi", 2.0, "energy-heuristic", "c")
    c0 = pick("wifi", 2.0, "time-heuristic (no budget)", "c")
    if c2 and c0:
        lines.append(f"- 2 % WiFi: energy-heuristic {c2 / c0:.1f}x the unconstrained time-heuristic's completion "
                     f"(paper 1.3x) while processing {_fmt(pick('wifi', 2.0, 'energy-heuristic', 'p'))} % "
                     "(paper 100 %): our devices spend most of the budget on initial offloads, whose 0.0006 % "
                     "per image is cheap but whose uploads are slow, hence the longer completion.")
    lines.append("- LTE: Algorithm 4's line 3 compares num_imgs e_t with num_imgs (e_s + e_alpha) + num_hits e_t; "
                 "with the paper's LTE e_t = 0.0032 % < e_s + e_alpha = 0.00386 % it still picks ALL OFFLOAD, so "
                 "unlike the paper's Fig. 12 our LTE runs offload more than they process locally.")
    _energy_plot(tab, out)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- picsys-gap

GAP_METHODS = [("time-heuristic", {}), ("time-heuristic+with-head", {"queue": "with-head"}),
               ("time-heuristic+tokens", {"tokens": True}), ("greedy", {}),
               ("greedy+no-queue", {"reading": "no-queue", "queue": "with-head"}),
               ("energy-heuristic", {}), ("balance", {}), ("balance+tokens", {"tokens": True}),
               ("all-device", {}), ("all-cloud", {}), ("look-ahead search", {"exact": "none"})]


def _gap_tasks(quick: bool) -> list[dict]:
    return _repro.family_tasks(quick) + _gap_stress_tasks(quick)


def _gap_stress_tasks(quick: bool) -> list[dict]:
    n_small = 12 if quick else 240
    tasks = [{"id": f"small-{s}", "kind": "small", "seed": s, "devices": 1 + s % 3, "images": 4 + s % 6,
              "rate": [4e6, 10e6, 40e6][(s // 3) % 3], "hit_rate": [0.25, 0.5][(s // 9) % 2]} for s in range(n_small)]
    if quick:
        tasks.append({"id": "large-0", "kind": "large", "seed": 0, "devices": 5, "images": 150})
    else:
        tasks += [{"id": f"large-{s}", "kind": "large", "seed": s, "devices": 20, "images": 1000} for s in range(20)]
        tasks += [{"id": f"huge-{s}", "kind": "large", "seed": s, "devices": 200, "images": 10000} for s in range(3)]
    return tasks


def _gap_tasks_with(quick: bool, methods: list[str] | None, seeds: int | None) -> list[dict]:
    """``bench picsys-gap --methods a,b --seeds N``: N small instances (the large ones as in the
    suite), the given methods instead of GAP_METHODS (labels of GAP_METHODS keep their options)."""
    tasks = _gap_tasks(quick)
    if seeds is not None:
        small = [t for t in _gap_tasks(False) if t["kind"] == "small"]
        while len(small) < seeds:  # the same pattern of sizes, continued
            s = len(small)
            small.append({"id": f"small-{s}", "kind": "small", "seed": s, "devices": 1 + s % 3, "images": 4 + s % 6,
                          "rate": [4e6, 10e6, 40e6][(s // 3) % 3], "hit_rate": [0.25, 0.5][(s // 9) % 2]})
        tasks = small[:seeds] + [t for t in tasks if t["kind"] != "small"]
    if methods is not None:
        import hashlib

        from optoffload.gap import check_method

        for m in methods:
            if m not in dict(GAP_METHODS):  # GAP_METHODS' labels (e.g. "balance+tokens") are known
                check_method("picsys", m)

        tag = hashlib.sha256(",".join(methods).encode()).hexdigest()[:8]
        tasks = [{**t, "id": f"{t['id']}-m{tag}", "methods": list(methods)} for t in tasks]
    return tasks


def _gap_methods(task: dict) -> list[tuple[str, str, dict]]:
    """``(label, method, options)`` of a task: GAP_METHODS, or the task's ``methods``."""
    known = dict(GAP_METHODS)
    labels = task.get("methods") or [label for label, _ in GAP_METHODS]
    out = []
    for label in labels:
        opts = known.get(label, {})
        m = "look-ahead" if label.startswith("look-ahead") else (label.split("+")[0] if label in known else label)
        out.append((label, m, opts))
    return out


def _gap_solve(inst, label: str, m: str, opts: dict) -> dict:
    """One method's row; an exception of the method becomes an ``error`` row (never hides others)."""
    try:
        return _solve_row(inst, m, label, **opts)
    except Exception as exc:  # noqa: BLE001 - reported in its row
        return {"method": label, "objective": None, "status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _gap_run(task: dict) -> list[dict]:
    import optoffload as oo
    from optoffload.picsys.generator import generate

    if task["kind"] == "family":
        return _repro.family_run(task)
    kw = {k: task[k] for k in ("devices", "images", "rate", "hit_rate") if k in task}
    inst = generate(seed=task["seed"], **kw)
    rows = []
    if task["kind"] == "small":
        from optoffload.picsys.bruteforce import brute_force

        ref, _ = brute_force(inst)
        ref_kind = "optimum"
        for label, m, opts in _gap_methods(task):
            r = _gap_solve(inst, label, m, opts)
            if r.get("error"):
                rows.append({**r, "ref": ref, "ref_kind": ref_kind})
                continue
            rows.append({**r, "ref": ref, "ref_kind": ref_kind, "gap": r["objective"] / ref - 1 if ref > 0 else 0.0})
        return rows
    la = oo.solve(inst, "look-ahead", exact="none", search_evals=400, bound="simple")
    from optoffload.heuristics.picsys.lookahead import best_lower_bound

    lb = best_lower_bound(inst)
    for label, m, opts in _gap_methods(task):
        if label.startswith("look-ahead"):
            r = {"method": label, "objective": la.objective, "status": la.status.value, "runtime_s": la.runtime,
                 "images": inst.n_images}
        else:
            r = _gap_solve(inst, label, m, opts)
        if r.get("error"):
            rows.append({**r, "ref": lb, "ref_kind": "lower bound"})
            continue
        rows.append({**r, "ref": lb, "ref_kind": "lower bound", "gap": r["objective"] / lb - 1,
                     "gap_la": r["objective"] / la.objective - 1})
    return rows


def _gap_labels(rows) -> list[str]:
    """The compared methods in display order: GAP_METHODS first, then the others as they come."""
    seen = list(dict.fromkeys(r["method"] for r in rows))
    return [label for label, _ in GAP_METHODS if label in seen] + [m for m in seen if m not in dict(GAP_METHODS)]


def _gap_report(rows, out):
    small = [r for r in rows if r["kind"] == "small"]
    large = [r for r in rows if r["kind"] == "large"]
    n_small = len({r["id"] for r in small})
    lines = ["# picsys-gap: heuristics against the optimum", ""] + _repro.family_report(rows) + [
             "", f"## Stress test: gap to the proven optimum on {n_small} random tiny instances", "",
             "Not a paper setting: 1-3 devices, 4-9 images, section 6.2.3 distributions with r in {4, 10, 40} Mbps "
             "and h in {0.25, 0.5}; optimum by issue #3's brute force (all outcomes). Gap = makespan / opt - 1. "
             "On so few images one wrong offload sets the makespan, so these gaps are far larger than on the "
             "paper's settings above.", ""]
    tab = []
    for label in _gap_labels(rows):
        rs = [r for r in small if r["method"] == label]
        if not rs:
            continue
        gaps = [r["gap"] for r in rs]
        tab.append({"method": label, "instances": len(rs), "mean gap %": 100 * _mean(gaps),
                    "worst gap %": 100 * max(gaps), "optimal %": 100 * sum(g <= 1e-9 for g in gaps) / len(gaps),
                    "beats opt": sum(g < -1e-9 for g in gaps)})
    lines += [markdown_table(tab, ["method", "instances", "mean gap %", "worst gap %", "optimal %", "beats opt"],
                             "{:.2f}"), ""]
    by = {t["method"]: t for t in tab}
    if "balance" in by and "time-heuristic" in by:
        lines.append(f"- Ours (balance) vs time-heuristic: mean gap {by['balance']['mean gap %']:.1f} % vs "
                     f"{by['time-heuristic']['mean gap %']:.1f} %, worst {by['balance']['worst gap %']:.1f} % vs "
                     f"{by['time-heuristic']['worst gap %']:.1f} %. The paper gives one small instance (Table 2: "
                     "heuristic 5 % above opt); random tiny instances are harder for online policies because every "
                     "mistake on 4-9 images shows in the makespan.")
    lines.append(f"- No heuristic beats the optimum: 'beats opt' is {sum(t['beats opt'] for t in tab)} in total "
                 "(tests/test_picsys_heuristics.py checks the same on other instances).")
    if large:
        tabl = []
        for kind in sorted({(r["devices"], r["images"]) for r in large}):
            for label in _gap_labels(rows):
                rs = [r for r in large if (r["devices"], r["images"]) == kind and r["method"] == label]
                if rs:
                    tabl.append({"system": f"{kind[0]} x {kind[1]}", "method": label, "instances": len(rs),
                                 "gap to LB %": 100 * _mean([r["gap"] for r in rs]),
                                 "gap to look-ahead %": 100 * _mean([r["gap_la"] for r in rs])})
        lines += ["", "## Large instances: gap to the best lower bound (issue #3) and to the look-ahead search", "",
                  markdown_table(tabl, ["system", "method", "instances", "gap to LB %", "gap to look-ahead %"],
                                 "{:.2f}"), "",
                  "- Paper: with 200 devices the time-heuristic is 3 % worse than the look-ahead. Our look-ahead "
                  "is an offline search (an upper estimate of the oracle) and the lower bound a relaxation, so "
                  "the true gap lies between the two columns."]
    _gap_plot(tab, small, out, n_small)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- registry

SUITES = {
    "picsys-table2": Suite("picsys-table2", "PicSys Tables 2-3: printed and fitted small system",
                           _repro.table2_tasks, _repro.table2_run, _repro.table2_report),
    "picsys-testbed": Suite("picsys-testbed", "PicSys 6.2.2 testbed and Fig. 7b", _testbed_tasks, _testbed_run,
                            _testbed_report),
    "picsys-large": Suite("picsys-large", "PicSys Fig. 8a-c sweeps (100 runs per point)", _large_tasks, _large_run,
                          _large_report),
    "picsys-hetero": Suite("picsys-hetero", "PicSys Table 4 heterogeneous groups", _hetero_tasks, _hetero_run,
                           _hetero_report),
    "picsys-stages": Suite("picsys-stages", "PicSys Fig. 9: three vs two stages",
                           lambda q: _stage_tasks(q, "stages"), _stages_run, _stages_report),
    "picsys-ref25": Suite("picsys-ref25", "PicSys Fig. 10: vs the baseline of ref. [25]",
                          lambda q: _stage_tasks(q, "ref25"), _ref25_run, _ref25_report),
    "picsys-tokens": Suite("picsys-tokens", "PicSys cloud tokens: 100 devices x 4 images", _tokens_tasks,
                           _tokens_run, _tokens_report),
    "picsys-energy": Suite("picsys-energy", "PicSys Figs. 11-12: energy budgets", _energy_tasks, _energy_run,
                           _energy_report),
    "picsys-gap": Suite("picsys-gap", "PicSys: every heuristic's gap to the optimum / best bound", _gap_tasks,
                        _gap_run, _gap_report, tasks_with=_gap_tasks_with),
}
