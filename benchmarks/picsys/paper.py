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

# ----------------------------------------------------------------------------- helpers

LA_LARGE = {"bound": "simple", "search_evals": 60, "exact": "none"}


def _solve_row(inst, method: str, label: str | None = None, **kw) -> dict:
    import optoffload as oo

    sol = oo.solve(inst, method, **kw)
    info = sol.info or {}
    row = {"method": label or method, "objective": sol.objective, "status": sol.status.value,
           "bound": sol.bound, "runtime_s": sol.runtime, "images": inst.n_images,
           "processed": info.get("processed"), "recall": info.get("recall")}
    if "outcome_counts" in info:
        row["counts"] = info["outcome_counts"]
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


def _line_plot(path: Path, series: dict, xlabel: str, ylabel: str, title: str, logx: bool = False) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, pts in series.items():
        pts = sorted(p for p in pts if p[1] is not None)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(v, nd=3):
    return "-" if v is None else (f"{v:.{nd}g}" if isinstance(v, float) else str(v))


# ----------------------------------------------------------------------------- picsys-table2

TABLE2_PAPER = {"opt": 1.74, "look-ahead": 1.74, "time-heuristic": 1.83, "greedy": 1.98, "all-device": 4.5,
                "all-cloud": 2.86}
TABLE2_ORDER = ["opt", "look-ahead", "balance (ours)", "time-heuristic", "greedy", "all-cloud", "all-device"]


def _table2_tasks(quick: bool) -> list[dict]:
    return [{"id": m, "method": m, "seed": 0} for m in TABLE2_ORDER]


def _table2_run(task: dict) -> dict:
    import optoffload as oo

    inst = oo.load("picsys/table2")
    m = task["method"]
    if m == "opt":
        if "cpsat" in oo.methods("picsys"):
            row = _solve_row(inst, "cpsat", "opt", time_limit=60)
            if row["status"] == "optimal":
                return {**row, "how": "cpsat"}
        row = _solve_row(inst, "look-ahead", "opt", exact="none")
        return {**row, "how": "offline search + issue #3 lower bound"}
    if m == "balance (ours)":
        return _solve_row(inst, "balance", m)
    return _solve_row(inst, m)


def _table2_report(rows: list[dict], out: Path) -> str:
    by = {r["method"]: r for r in rows}
    opt = by.get("opt", {}).get("objective")
    table = []
    for m in TABLE2_ORDER:
        r = by.get(m)
        if r is None:
            continue
        p = TABLE2_PAPER.get(m)
        table.append({"method": m, "paper [s]": p, "ours [s]": r["objective"], "status": r["status"],
                      "paper / opt": p / TABLE2_PAPER["opt"] if p else None,
                      "ours / opt": r["objective"] / opt if opt else None})
    lines = ["# picsys-table2: Table 2 of the PicSys paper (section 6.2.1)", "",
             markdown_table(table, ["method", "paper [s]", "ours [s]", "status", "paper / opt", "ours / opt"],
                            "{:.3f}"), ""]
    o = {m: by[m]["objective"] for m in by}
    notes = []
    if opt is not None:
        notes.append(f"- opt: ours {opt:.3f} s ({by['opt'].get('how', '')}, status {by['opt']['status']}) vs the "
                     "paper's 1.74 s: every image is exactly 800 kB here, the paper's sizes 'varied around 800 kB' "
                     "and are not published, so the digits differ while the order is the same.")
    if "look-ahead" in o:
        notes.append(f"- look-ahead equals opt ({o['look-ahead']:.3f} s) as in the paper: on 20 images the oracle is "
                     "the exact optimum.")
    if "time-heuristic" in o and opt:
        notes.append(f"- time-heuristic: {o['time-heuristic']:.3f} s, {100 * (o['time-heuristic'] / opt - 1):.0f} % "
                     "above opt (paper 5 %). Device 1 follows the paper's Table 3 trace exactly; device 3 offloads its "
                     "last hit after the accelerated CNN (f-off) where the paper's run ran the expensive CNN (s-up), "
                     "which is the cloud round trip the paper blames for its 1.83 s.")
    if "greedy" in o and "time-heuristic" in o:
        notes.append(f"- greedy {o['greedy']:.3f} s vs time-heuristic {o['time-heuristic']:.3f} s (paper 1.98 vs "
                     "1.83): with 3 devices and c_u = 0.01 s the cloud queue never holds more than an image or two, so "
                     "ignoring it changes no decision here; the paper's greedy differs, probably through its "
                     "unpublished sizes.")
    if "balance (ours)" in o and "time-heuristic" in o:
        notes.append(f"- balance (ours) {o['balance (ours)']:.3f} s: on this 20-image instance it is "
                     f"{'better' if o['balance (ours)'] < o['time-heuristic'] else 'not better'} than the "
                     "time-heuristic; its advantage is on average (picsys-gap, picsys-large), not on every instance.")
    if "all-cloud" in o:
        notes.append(f"- all-cloud {o['all-cloud']:.3f} s (paper 2.86) and all-device {o.get('all-device', 0):.3f} s "
                     "(paper 4.5): state-independent, computed by hand in docs/picsys.md; the gaps come from the "
                     "image sizes (ours 0.32 s per upload at 20 Mbps).")
    lines += notes
    _bar(out / "table2.png", [(t["method"], t["ours [s]"], t["paper [s]"]) for t in table], "Table 2: completion [s]")
    return "\n".join(lines)


def _bar(path: Path, items, title: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    xs = range(len(items))
    ax.bar([x - 0.2 for x in xs], [i[1] or 0 for i in items], width=0.4, label="ours")
    ax.bar([x + 0.2 for x in xs], [i[2] or 0 for i in items], width=0.4, label="paper")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([i[0] for i in items], rotation=25, ha="right", fontsize=8)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    import optoffload as oo
    from optoffload.picsys.generator import generate

    inst = oo.load("picsys/testbed") if task["kind"] == "shipped" else \
        generate(seed=task["seed"], preset="testbed", images=task["images"])
    la = {"time_limit": 10.0} if task["kind"] == "shipped" else LA_LARGE
    return [_solve_row(inst, m, **(la if m == "look-ahead" else {})) for m in TESTBED_METHODS]


def _testbed_report(rows: list[dict], out: Path) -> str:
    ship = {r["method"]: r for r in rows if r["kind"] == "shipped"}
    lines = ["# picsys-testbed: section 6.2.2 (336 images) and Fig. 7b", "",
             markdown_table([{"method": m, "paper [s]": TESTBED_PAPER.get(m), "ours [s]": ship[m]["objective"]}
                             for m in TESTBED_METHODS if m in ship], ["method", "paper [s]", "ours [s]"], "{:.2f}"),
             ""]
    if ship:
        th, ad, ac = (ship[m]["objective"] for m in ("time-heuristic", "all-device", "all-cloud"))
        lines += [f"- Speed-ups of the time-heuristic: {ac / th:.1f}x over all-cloud (paper 3.4x), {ad / th:.1f}x over "
                  "all-device (paper 2.3x). Our testbed instance is calibrated only on the two state-independent "
                  "baselines (sizes and CNN times are not published, docs/picsys.md), so the heuristic's figure is "
                  "a prediction, not a fit; the testbed's measured times also include effects (network jitter, "
                  "phone scheduling) that the simulator does not model.",
                  f"- balance (ours) {ship['balance']['objective']:.2f} s and look-ahead "
                  f"{ship['look-ahead']['objective']:.2f} s (not measured on the testbed by the paper).", ""]
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
                  "fastest, the heuristic best with growing savings) is what we compare: see fig7b.png."]
        _line_plot(out / "fig7b.png", series, "images in the system", "completion [s]", "Fig. 7b (ours)")
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
    return [_solve_row(inst, m, **(LA_LARGE if m == "look-ahead" else {})) for m in LARGE_METHODS]


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
            row: dict = {sweep: x, "runs": len(g.get((x, "time-heuristic"), []))}
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
                  markdown_table(tab, [sweep, "runs", *LARGE_METHODS, "ours vs TH", "TH vs LA"], "{:.2f}"), ""]
        _line_plot(out / f"fig{fig}.png", series, LARGE_LABEL[sweep], "completion [s]", f"Fig. {fig} (ours)",
                   logx=sweep == "rate")
    at8 = _group([r for r in rows if r["sweep"] == "rate" and r["x"] == 8e6], "method")
    if at8:
        th, la = (_mean([r["objective"] for r in at8.get((m,), [])]) for m in ("time-heuristic", "look-ahead"))
        lines.append(f"- Fig. 8b at 8 Mbps: paper time-heuristic 32.7 s, look-ahead 27.5 s (ratio 1.19); ours "
                     f"{_fmt(th)} s and {_fmt(la)} s (ratio {_fmt(th / la if th and la else None)}). The paper does "
                     "not state how many images Fig. 8b uses; with our 1,000 images the absolute times are smaller. "
                     "Our look-ahead is the best plan of an offline search that knows all truth values (issue #3's "
                     "CP-SAT cannot prove optima at this size), so it is an upper estimate of the oracle.")
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
        plt = _plt()
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for j, m in enumerate(("time-heuristic", "balance", "all-device", "all-cloud")):
            ax.bar([k + 0.2 * j for k in range(4)],
                   [_mean([r["device_completion"] for r in g.get((k, m), [])]) or 0 for k in range(4)], 0.2, label=m)
        ax.set_xticks([k + 0.3 for k in range(4)])
        ax.set_xticklabels([f"r {a} / cpu {b}" for a, b in HETERO_GROUPS], fontsize=8)
        ax.set_ylabel("device completion [s]")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "table4.png", dpi=110)
        plt.close(fig)
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
            _line_plot(out / f"{fig}-{sweep}.png", series, sweep, "completion [s]", f"{fig} (ours)")
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
    _bar(out / "tokens.png", [(t["method"], t["mean [s]"], t["paper [s]"]) for t in tab], "tokens: completion [s]")
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
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    labels = [f"{t['network']} {t['budget %']:g}%\n{t['method'][:18]}" for t in tab]
    ax.bar(range(len(tab)), [t["processed %"] for t in tab])
    ax.set_xticks(range(len(tab)))
    ax.set_xticklabels(labels, rotation=90, fontsize=6)
    ax.set_ylabel("processed %")
    fig.tight_layout()
    fig.savefig(out / "fig11-12.png", dpi=110)
    plt.close(fig)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- picsys-gap

GAP_METHODS = [("time-heuristic", {}), ("time-heuristic+tokens", {"tokens": True}), ("greedy", {}),
               ("energy-heuristic", {}), ("balance", {}), ("balance+tokens", {"tokens": True}),
               ("all-device", {}), ("all-cloud", {}), ("look-ahead search", {"exact": "none"})]


def _gap_tasks(quick: bool) -> list[dict]:
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
    lines = [f"# picsys-gap: gap to the proven optimum on {n_small} random small instances", "",
             "Instances: 1-3 devices, 4-9 images, section 6.2.3 distributions with r in {4, 10, 40} Mbps and "
             "h in {0.25, 0.5}; optimum by issue #3's brute force (all outcomes). Gap = makespan / opt - 1.", ""]
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
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    labs = [t["method"] for t in tab]
    ax.boxplot([[100 * r["gap"] for r in small if r["method"] == m] for m in labs], showfliers=True)
    ax.set_xticks(range(1, len(labs) + 1))
    ax.set_xticklabels(labs, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("gap to optimum [%]")
    fig.tight_layout()
    fig.savefig(out / "gap.png", dpi=110)
    plt.close(fig)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- registry

SUITES = {
    "picsys-table2": Suite("picsys-table2", "PicSys Table 2: all methods on the small system", _table2_tasks,
                           _table2_run, _table2_report),
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
