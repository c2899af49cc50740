"""PicSys Table 2 and Table 3 reproduced as the paper ran them (issue #13).

``picsys-table2`` runs every method on both shipped Table 2 instances:

* ``picsys/table2``: the parameters printed in section 6.2.1;
* ``picsys/table2-fit``: the effective parameters the paper's own figures pin down
  (upload 0.28 s, cloud 0.06 s per image through the cloud-side step, beta 0.5;
  derivation in docs/picsys-repro.md).

The report puts Table 2 beside both instances, the paper's remaining readings as
options with their measured effect, and a per-device, per-image decision table beside
Table 3 (heuristic and opt rows) with each device's completion time.
"""

from __future__ import annotations

from pathlib import Path

from ..suite import markdown_table

TABLE2_PAPER = {"opt": 1.74, "look-ahead": 1.74, "time-heuristic": 1.83, "greedy": 1.98, "all-device": 4.5,
                "all-cloud": 2.86}
INSTANCES = ("picsys/table2", "picsys/table2-fit")
#: (label, method, options): the paper's methods first (paper readings), then variants.
TABLE2_METHODS = [
    ("opt", "cpsat", {}),
    ("look-ahead", "look-ahead", {}),
    ("time-heuristic", "time-heuristic", {"queue": "paper"}),
    ("greedy", "greedy", {"queue": "paper"}),
    ("all-cloud", "all-cloud", {}),
    ("all-device", "all-device", {}),
    ("balance (ours)", "balance", {}),
    ("time-heuristic queue=with-head", "time-heuristic", {"queue": "with-head"}),
    ("time-heuristic tokens", "time-heuristic", {"queue": "paper", "tokens": True}),
    ("time-heuristic hit_rate=device", "time-heuristic", {"queue": "paper", "hit_rate": "device"}),
    ("time-heuristic filter=direct", "time-heuristic", {"queue": "paper", "filter": "direct"}),
    ("greedy refilter", "greedy", {"queue": "paper", "refilter": True}),
    ("greedy reading=no-queue", "greedy", {"reading": "no-queue", "queue": "with-head"}),
]
TABLE3_PAPER = {
    "heuristic": [
        "i-off i-off f-disc i-off f-off f-disc i-off f-disc i-off f-disc".split(),
        "i-off i-off f-disc f-disc".split(),
        "i-off i-off f-disc i-off f-off s-up".split()],
    "heuristic_times": [1.75, 0.7, 1.83],
    "opt": [["i-off"] * 5 + ["f-disc"] * 3 + ["i-off", "f-disc"], ["i-off"] * 4, ["i-off"] * 5 + ["s-up"]],
    "opt_times": [1.68, 1.12, 1.68],
    "opt_cloud": 1.74,
}
ABBREV = {"i-off": "i", "f-off": "F", "f-disc": "f", "s-up": "S", "s-disc": "s"}


def table2_tasks(quick: bool) -> list[dict]:
    return [{"id": f"{inst.split('/')[1]}:{label}", "instance": inst, "label": label, "seed": 0}
            for inst in INSTANCES for label, _, _ in TABLE2_METHODS]


def table2_run(task: dict) -> dict:
    import optoffload as oo
    from optoffload.picsys.model import parse_plan
    from optoffload.picsys.simulator import device_side_completion, simulate_plan

    inst = oo.load(task["instance"])
    label, meth, opts = next(t for t in TABLE2_METHODS if t[0] == task["label"])
    kw = dict(opts)
    if kw.get("hit_rate") == "device":        # the per-device average of 6.2.1: h = {0.2, 0, 0.5}
        kw["hit_rate"] = [float(d.hit.mean()) for d in inst.devices]
    if meth in ("cpsat", "look-ahead"):
        kw.update(threads=1, time_limit=60)
    sol = oo.solve(inst, meth, **kw)
    row = {"instance": task["instance"], "method": label, "objective": sol.objective, "status": sol.status.value,
           "bound": sol.bound, "runtime_s": sol.runtime}
    if sol.decisions is not None and "stages" not in sol.decisions:
        plan = parse_plan(inst, sol.decisions)
        row["outcomes"] = sol.decisions["outcomes"]
        row["device_side"] = device_side_completion(inst, plan).tolist()
        row["cloud_completion"] = simulate_plan(inst, plan).cloud_completion
    return row


def _cell(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


def table2_report(rows: list[dict], out: Path) -> str:
    by = {(r["instance"], r["method"]): r for r in rows}
    table = []
    for label, meth, opts in TABLE2_METHODS:
        p = TABLE2_PAPER.get(label)
        rec = {"method": label, "paper [s]": p}
        for inst in INSTANCES:
            r = by.get((inst, label))
            rec[inst.split("/")[1] + " [s]"] = r["objective"] if r else None
        fit = rec.get("table2-fit [s]")
        rec["fit = paper"] = ("yes" if abs(fit - p) < 5e-3 else "no") if (p is not None and fit is not None) else ""
        table.append(rec)
    cols = ["method", "paper [s]", "table2 [s]", "table2-fit [s]", "fit = paper"]
    lines = ["# picsys-table2: Table 2 and Table 3 of the PicSys paper (section 6.2.1)", "",
             "`table2`: the printed parameters; `table2-fit`: the effective parameters fitted to the paper's own "
             "figures (upload 0.28 s, cloud 0.06 s per image with the cloud-side step, beta 0.5; derivation in "
             "docs/picsys-repro.md). The first six rows are the paper's methods in its readings (issue #13: "
             "`queue=paper`, greedy as section 6.1); the rest are our method and the other readings.", "",
             markdown_table(table, cols, "{:.3f}"), ""]
    fit_ok = [t for t in table[:6] if t["fit = paper"] == "yes"]
    lines.append(f"- On `table2-fit` {len(fit_ok)} of the 6 Table 2 figures come out to the paper's digits.")
    o = {k: v["objective"] for k, v in by.items()}
    f = "picsys/table2-fit"
    if (f, "time-heuristic queue=with-head") in o:
        lines.append(f"- `queue=with-head` (q_m counts the head image; our reading before issue #13): "
                     f"{o[(f, 'time-heuristic queue=with-head')]:.3f} s on table2-fit, "
                     f"{o.get(('picsys/table2', 'time-heuristic queue=with-head'), float('nan')):.3f} s on table2; "
                     "it misses Table 3's decisions listed below; it is the better heuristic on the Table 2 "
                     "system with random hit positions but not on the section 6.2.3 families "
                     "(picsys-gap; docs/picsys-repro.md).")
    for lab, what in [("time-heuristic tokens", "cloud tokens on (eq. 18; the paper's trace mentions 'available "
                                                 "tokens')"),
                      ("time-heuristic hit_rate=device", "the per-device average hit rate h = {0.2, 0, 0.5} of 6.2.1 "
                                                    "instead of the running estimate"),
                      ("time-heuristic filter=direct", "Algorithm 2 called directly after Algorithm 1's local "
                                                       "decision (no line-5 backlog test on that path)"),
                      ("greedy refilter", "greedy repeating its comparison after a positive accelerated CNN"),
                      ("greedy reading=no-queue", "the pre-#13 greedy (time-heuristic minus the cloud term)")]:
        if (f, lab) in o:
            lines.append(f"- {what}: {o[(f, lab)]:.3f} s on table2-fit, "
                         f"{o.get(('picsys/table2', lab), float('nan')):.3f} s on table2.")
    # ---- Table 3
    lines += ["", "## Table 3: decisions per device and image", "",
              "Codes: i = i-off, F = f-off, f = f-disc, S = s-up, s = s-disc. A `*` marks a decision that differs "
              "from the paper's row. Times are each device's own completion (last CPU or upload end), as in "
              "Table 3; the cloud completion is the separate row.", ""]
    t3 = []

    def add(label, outcomes, times, cloud, ref):
        for m, row in enumerate(outcomes):
            cells = [ABBREV[c] + ("*" if ref is not None and c != ref[m][i] else "") for i, c in enumerate(row)]
            t3.append({"run": label if m == 0 else "", "device": m + 1, "decisions": " ".join(cells),
                       "time [s]": _cell(times[m]) if times else "-"})
        t3.append({"run": "", "device": "cloud", "decisions": "", "time [s]": _cell(cloud) if cloud else "-"})

    add("paper heuristic", TABLE3_PAPER["heuristic"], TABLE3_PAPER["heuristic_times"], None, None)
    for inst in INSTANCES:
        for lab in ("time-heuristic", "time-heuristic queue=with-head"):
            r = by.get((inst, lab))
            if r and "outcomes" in r:
                add(f"{lab} on {inst.split('/')[1]}", r["outcomes"], r["device_side"], r["cloud_completion"],
                    TABLE3_PAPER["heuristic"])
    add("paper opt", TABLE3_PAPER["opt"], TABLE3_PAPER["opt_times"], TABLE3_PAPER["opt_cloud"], None)
    for inst in INSTANCES:
        r = by.get((inst, "opt"))
        if r and "outcomes" in r:
            add(f"opt (CP-SAT) on {inst.split('/')[1]}", r["outcomes"], r["device_side"], r["cloud_completion"],
                None)
    lines += [markdown_table(t3, ["run", "device", "decisions", "time [s]"]), ""]
    for inst in INSTANCES:
        r = by.get((inst, "time-heuristic"))
        if r and "outcomes" in r:
            miss = sum(c != p for a, b in zip(r["outcomes"], TABLE3_PAPER["heuristic"]) for c, p in zip(a, b))
            lines.append(f"- time-heuristic (queue=paper) on {inst}: {20 - miss} of 20 decisions as in Table 3.")
        r = by.get((inst, "time-heuristic queue=with-head"))
        if r and "outcomes" in r:
            miss = [(m + 1, i + 1) for m, (a, b) in enumerate(zip(r["outcomes"], TABLE3_PAPER["heuristic"]))
                    for i, (c, p) in enumerate(zip(a, b)) if c != p]
            lines.append(f"- queue=with-head on {inst}: differs at (device, image) {miss}.")
    lines.append("- The opt row: many plans are optimal (the paper: 'we only show one of them'); the solver's "
                 "plan need not be the paper's, only its makespan; the paper's opt plan replays to 1.68/1.12/1.68 "
                 "and 1.74 s on table2-fit (tests/test_picsys_repro.py).")
    _bar(out / "table2.png", table[:6])
    return "\n".join(lines)


def _bar(path: Path, table: list[dict]) -> None:
    """Table 2 beside the paper: paper, printed and fitted instance per method, values on the bars,
    a missing value marked "n/a" (PNG 200 dpi + PDF, optoffload/figures.py)."""
    from optoffload import figures as F

    with F.style():
        fig, ax = F.figure(width="column", height=2.6)
        xs = list(range(len(table)))
        top = 0.0
        for k, (col, lab, face, hatch) in enumerate([("paper [s]", "paper", "white", "////"),
                                                     ("table2 [s]", "ours, printed", "0.75", None),
                                                     ("table2-fit [s]", "ours, fitted", "0.35", None)]):
            vals = [t.get(col) for t in table]
            pos = [x + (k - 1) * 0.27 for x in xs]
            bars = ax.bar(pos, [v if v is not None else float("nan") for v in vals], width=0.27, color=face,
                          edgecolor="black", linewidth=0.4, hatch=hatch, label=lab)
            F.label_bars(ax, bars, vals, fmt="{:.2f}", fontsize=4)
            for x, v in zip(pos, vals):
                if v is None:
                    F.mark_missing(ax, x)
            top = max([top] + [v for v in vals if v is not None])
        ax.set_ylim(0, top * 1.35)
        ax.set_xticks(xs, [t["method"] for t in table], rotation=30, ha="right")
        ax.set_ylabel("completion time (s)")
        ax.set_title("PicSys Table 2")
        ax.legend(frameon=False, loc="upper left", ncol=3)
        F.save(fig, path.parent, path.stem, caption="PicSys Table 2: the paper, our printed instance and our "
               "fitted instance; n/a: no value.", n="1 instance each (3 devices x 20 images)")


# ----------------------------------------------------------------------------- picsys-gap: paper-setting families

#: Methods of the family rows: the paper's in their paper readings, then variants and ours.
FAMILY_METHODS = [
    ("time-heuristic", "time-heuristic", {"queue": "paper"}),
    ("time-heuristic+with-head", "time-heuristic", {"queue": "with-head"}),
    ("time-heuristic+tokens", "time-heuristic", {"queue": "paper", "tokens": True}),
    ("greedy", "greedy", {"queue": "paper"}),
    ("greedy+no-queue", "greedy", {"reading": "no-queue", "queue": "with-head"}),
    ("balance", "balance", {}),
    ("all-device", "all-device", {}),
    ("all-cloud", "all-cloud", {}),
]
FAMILY_RATES = [4e6, 8e6, 10e6, 20e6]
FAMILY_PER_DEVICE = [5, 20, 50]
CPSAT_LIMIT = 30.0


def table2_random(seed: int, fitted: bool):
    """The Table 2 system with the hits of each device at random positions (counts kept: 2, 0, 3)."""
    import numpy as np

    import optoffload as oo

    d = oo.load("picsys/table2-fit" if fitted else "picsys/table2").to_dict()
    rng = np.random.default_rng(seed)
    for dev in d["devices"]:
        hit = [int(c) for c in dev["images"]["hit"]] if isinstance(dev["images"]["hit"], str) else \
            list(dev["images"]["hit"])
        perm = rng.permutation(hit).tolist()
        dev["images"].update(hit=perm, z1=perm, z2=perm)
    d["name"] = f"{d['name']}-random-{seed}"
    d.pop("meta", None)
    return oo.from_dict(d)


def family_tasks(quick: bool) -> list[dict]:
    n_t2 = 2 if quick else 30
    runs = 1 if quick else 8
    tasks = [{"id": f"t2-{'fit' if f else 'printed'}-{s}", "kind": "family",
              "family": "table2-fit random hits" if f else "table2 random hits", "fitted": f, "seed": s}
             for f in (False, True) for s in range(n_t2)]
    per = FAMILY_PER_DEVICE[:1] if quick else FAMILY_PER_DEVICE
    rates = FAMILY_RATES[:2] if quick else FAMILY_RATES
    for n in per:
        for r in rates:
            for s in range(runs):
                tasks.append({"id": f"623-{n}-{r / 1e6:g}-{s}", "kind": "family", "family": f"6.2.3 20 x {n}",
                              "per_device": n, "rate": r, "seed": s})
    return tasks


def family_run(task: dict) -> list[dict]:
    import optoffload as oo
    from optoffload.picsys.generator import generate

    if task["family"].startswith("table2"):
        inst = table2_random(task["seed"], task["fitted"])
    else:
        inst = generate(seed=task["seed"], devices=20, images=20 * task["per_device"], rate=task["rate"])
    cp = oo.solve(inst, "cpsat", threads=1, time_limit=CPSAT_LIMIT, seed=task["seed"])
    proven = cp.status.value == "optimal"
    rows = []
    for label, meth, opts in FAMILY_METHODS:
        sol = oo.solve(inst, meth, **opts)
        rows.append({"method": label, "objective": sol.objective, "status": sol.status.value,
                     "runtime_s": sol.runtime, "images": inst.n_images, "opt": cp.objective if proven else None,
                     "cp_best": cp.objective, "cp_bound": cp.bound, "proven": proven, "cp_runtime_s": cp.runtime,
                     "gap": sol.objective / cp.objective - 1 if proven else None,
                     "gap_ub": sol.objective / cp.bound - 1 if (not proven and cp.bound) else None})
    return rows


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def family_report(rows: list[dict]) -> list[str]:
    fam = [r for r in rows if r.get("kind") == "family"]
    if not fam:
        return []
    names = sorted({r["family"] for r in fam},
                   key=lambda f: (not f.startswith("table2"), int(f.split()[-1]) if f.startswith("6.2.3") else 0, f))
    lines = ["## Paper-setting families: gap to CP-SAT's proven optimum", "",
             "Families drawn from the paper's own settings (issue #13): the Table 2 system (3 devices, {10, 4, 6} "
             "images, hits 2/0/3 per device at random positions) with the printed and with the fitted parameters, "
             "and the section 6.2.3 generator at 20 devices x {5, 20, 50} images per device and r in "
             f"{{4, 8, 10, 20}} Mbps. Reference: CP-SAT's optimum, proven within {CPSAT_LIMIT:g} s "
             "(1 thread); 'proven' is the share of instances where it was. Gap = makespan / opt - 1 over proven instances. Heuristics in the "
             "paper's readings unless the label says otherwise (`+with-head`: q_m counts the head image; "
             "`greedy+no-queue`: the pre-#13 greedy).", ""]
    tab = []
    for f in names:
        fr = [r for r in fam if r["family"] == f]
        ids = {(r["id"]) for r in fr}
        n_proven = len({r["id"] for r in fr if r["proven"]})
        for label, _, _ in FAMILY_METHODS:
            rs = [r for r in fr if r["method"] == label and r["proven"]]
            gaps = [r["gap"] for r in rs]
            tab.append({"family": f, "method": label, "instances": len(ids), "proven": f"{n_proven}/{len(ids)}",
                        "mean gap %": 100 * _mean(gaps) if gaps else None,
                        "worst gap %": 100 * max(gaps) if gaps else None,
                        "optimal %": 100 * sum(g <= 1e-9 for g in gaps) / len(gaps) if gaps else None})
    lines += [markdown_table(tab, ["family", "method", "instances", "proven", "mean gap %", "worst gap %",
                                   "optimal %"], "{:.2f}"), ""]
    g623 = [r for r in fam if r["family"].startswith("6.2.3")]
    if g623:
        lines += ["### Section 6.2.3 families per uplink rate (all sizes pooled; mean gap % over proven instances)", ""]
        rt = []
        for rate in sorted({r["rate"] for r in g623}):
            for n in sorted({r["per_device"] for r in g623}):
                rec = {"rate [Mbps]": rate / 1e6, "images/device": n}
                sub = [r for r in g623 if r["rate"] == rate and r["per_device"] == n]
                rec["proven"] = f"{len({r['id'] for r in sub if r['proven']})}/{len({r['id'] for r in sub})}"
                for label, _, _ in FAMILY_METHODS:
                    v = _mean([r["gap"] for r in sub if r["method"] == label and r["proven"]])
                    rec[label] = 100 * v if v is not None else None
                rt.append(rec)
        lines += [markdown_table(rt, ["rate [Mbps]", "images/device", "proven",
                                      *[m for m, _, _ in FAMILY_METHODS]], "{:.1f}"), ""]
    by = {(t["family"], t["method"]): t for t in tab}
    for f in ("table2 random hits", "table2-fit random hits"):
        t = by.get((f, "time-heuristic"))
        if t and t["mean gap %"] is not None:
            lines.append(f"- Paper: heuristic 5 % above opt on its Table 2 instance (1.83 / 1.74). {f}: mean "
                         f"{t['mean gap %']:.1f} %, worst {t['worst gap %']:.1f} %, optimal on "
                         f"{t['optimal %']:.0f} % of the instances.")
    at8 = [r for r in g623 if r["rate"] == 8e6 and r["method"] == "time-heuristic" and r["proven"]]
    if at8:
        for n in sorted({r["per_device"] for r in at8}):
            v = _mean([r["gap"] for r in at8 if r["per_device"] == n])
            lines.append(f"- Paper, Fig. 8b: at 8 Mbps the heuristic is 19 % above the look-ahead (32.7 / 27.5 s). "
                         f"6.2.3 at 20 x {n}, 8 Mbps: {100 * v:.1f} % above the proven optimum.")
    wh = [(by.get((f, "time-heuristic")), by.get((f, "time-heuristic+with-head"))) for f in names]
    wh = [(f, a, b) for f, (a, b) in zip(names, wh) if a and b and a["mean gap %"] is not None
          and b["mean gap %"] is not None]
    if wh:
        lines.append("- q_m reading: mean gap paper / with-head per family: " + "; ".join(
            f"{f} {a['mean gap %']:.2f} / {b['mean gap %']:.2f} %" for f, a, b in wh) + ".")
    return lines


# ----------------------------------------------------------------------------- picsys-testbed: the shipped instance

TESTBED_PAPER = {"time-heuristic": 14.99, "all-device": 35.7, "all-cloud": 51.015}
TESTBED_ROWS = [("time-heuristic", "time-heuristic", {"queue": "paper"}),
                ("time-heuristic+with-head", "time-heuristic", {"queue": "with-head"}),
                ("time-heuristic+tokens", "time-heuristic", {"queue": "paper", "tokens": True}),
                ("time-heuristic+filter=direct", "time-heuristic", {"queue": "paper", "filter": "direct"}),
                ("greedy", "greedy", {"queue": "paper"}),
                ("balance", "balance", {}),
                ("all-device", "all-device", {}),
                ("all-cloud", "all-cloud", {}),
                ("look-ahead", "look-ahead", {"exact": "cpsat", "time_limit": 60, "threads": 1, "bound": "simple"})]


def testbed_shipped_run(task: dict) -> list[dict]:
    import optoffload as oo
    from optoffload.picsys.bounds import content_blind_bound, lower_bound

    inst = oo.load("picsys/testbed")
    rows = []
    for label, meth, opts in TESTBED_ROWS:
        sol = oo.solve(inst, meth, **opts)
        rows.append({"method": label, "objective": sol.objective, "status": sol.status.value, "bound": sol.bound,
                     "runtime_s": sol.runtime, "images": inst.n_images, "counts": (sol.info or {}).get(
                         "outcome_counts"), "how": (sol.info or {}).get("method")})
    rows.append({"method": "lower bound (offline)", "objective": lower_bound(inst), "status": "bound"})
    rows.append({"method": "content-blind bound (online)", "objective": content_blind_bound(inst),
                 "status": "bound"})
    return rows


def testbed_shipped_report(ship: dict) -> list[str]:
    lab = list(ship)
    lines = ["# picsys-testbed: section 6.2.2 (336 images) and Fig. 7b", "",
             "`picsys/testbed` is reconstructed so that both published baselines come out exactly "
             "(optoffload/picsys/testbed.py, docs/picsys-repro.md): 28 hits, 37 accelerated-CNN and 14 "
             "expensive-CNN positives per device (42 uploads in all-device, as the paper says), sizes scaled for "
             "all-cloud = 51.015 s, alpha (beta = 2 alpha) for all-device = 35.7 s.", "",
             markdown_table([{"method": m, "paper [s]": TESTBED_PAPER.get(m), "ours [s]": ship[m]["objective"],
                              "status": ship[m]["status"]} for m in lab],
                            ["method", "paper [s]", "ours [s]", "status"], "{:.3f}"), ""]
    g = {m: ship[m]["objective"] for m in lab}
    if all(k in g for k in ("time-heuristic", "all-device", "all-cloud")):
        th = g["time-heuristic"]
        lines.append(f"- Realized baselines: all-cloud {g['all-cloud']:.3f} s (paper 51.015), all-device "
                     f"{g['all-device']:.3f} s (paper 35.7). Time-heuristic {th:.2f} s: {g['all-cloud'] / th:.1f}x "
                     f"faster than all-cloud (paper 3.4x), {g['all-device'] / th:.1f}x than all-device (paper 2.3x).")
    if "look-ahead" in g:
        la = ship["look-ahead"]
        lines.append(f"- Offline (truth values known): CP-SAT's plan {g['look-ahead']:.2f} s "
                     f"({la['status']}, bound {_cell(la.get('bound'))} s), under the paper's 14.99 s: an offline "
                     "plan can reach it, so the old 'no plan can reach 14.99 s' was an artifact of the "
                     "per-image-mean calibration.")
    cb = g.get("content-blind bound (online)")
    if cb is not None:
        lines.append(f"- Online: content_blind_bound = {cb:.2f} s. It bounds the expected makespan of any policy "
                     "that decides each image before computing its truth values (all three paths: i-off, f-off, "
                     "the selection stage), with truth values i.i.d. at this instance's rates. The printed "
                     "heuristic is such a policy, so on instances like this one it cannot reach 14.99 s on "
                     f"average; {cb:.2f} s is {'above' if cb > 14.99 else 'below'} the paper's figure. The paper's "
                     "14.99 s needs what the simulator lacks or a different, unpublished system (sizes, CNN times, "
                     "a shared WiFi that slows all-cloud more than proportionally).")
    return lines
