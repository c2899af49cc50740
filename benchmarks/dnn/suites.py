"""DNN-graph benchmark suites: ``dnn-gap``, ``dnn-networks``, ``dnn-scale`` (docs/dnn.md "Benchmarks").

Scenarios of the shipped networks (``optoffload.dnn.networks``): ``fp32`` = float32 activations
and an 8-bit raw image (150,528 bytes), the library default; ``int8`` = int8-quantised
activations and a preprocessed float32 input (602,112 bytes), the setting of split-computing
systems that compress what they send. Edge 5e9 MAC/s (``int8``) or 2e10 MAC/s (``fp32``), cloud
1e12 MAC/s.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..suite import Suite, markdown_table

METHODS = ["dnn-exact", "dnn-heuristic", "dnn-mincut", "dads", "neurosurgeon", "edgent", "edge-only", "cloud-only"]
SCEN = {"fp32": {"tensor_bytes": 4.0, "input_bytes": 150528.0, "edge_speed": 2e10},
        "int8": {"tensor_bytes": 1.0, "input_bytes": 602112.0, "edge_speed": 5e9}}
PROBS = {"default": None, "late": "late", "none": "none"}


def _probs(label: str, K: int):
    if label == "late":
        return [0.05] * (K - 1) + [1 - 0.05 * (K - 1)]
    if label == "none":
        return [0.0] * (K - 1) + [1.0]
    return None


def _net_task(net: str, scen: str, *, bw: float, probs: str = "default", name: str | None = None) -> dict:
    from optoffload.dnn import networks as N

    K = len(N.EXITS[net]) + 1
    return N.network(net, probs=_probs(probs, K), link_bps=float(bw), task_name=name, **SCEN[scen])


# ------------------------------------------------------------------ dnn-gap
def _gap_tasks(quick: bool) -> list[dict]:
    out = []
    for U in ((2, 3) if quick else (2, 3, 4)):
        for s in range(2 if quick else 10):
            out.append({"id": f"random-u{U}-s{s}", "kind": "random", "U": U, "seed": s, "nodes": 7, "exits": 3})
    nets = ("resnet18", "googlenet") if quick else ("resnet18", "resnet50", "mobilenet_v2", "googlenet", "densenet121")
    for net in nets:
        for bw in ((1e7,) if quick else (3e6, 1e7, 3e7)):
            out.append({"id": f"{net}-int8-{bw:.0e}", "kind": "network", "net": net, "bw": bw, "seed": 0})
    out.append({"id": "mixed-sum-u3", "kind": "mixed", "seed": 0})
    return out


def _gap_instance(task: dict):
    import optoffload as oo
    from optoffload.dnn.model import DnnInstance

    if task["kind"] == "random":
        return oo.generate("dnn", seed=task["seed"], tasks=task["U"], nodes=task["nodes"], exits=task["exits"],
                           edge_slowdown=3.0 / task["U"], link_bps=3e6)
    if task["kind"] == "network":
        return DnnInstance.build([_net_task(task["net"], "int8", bw=task["bw"])], name=task["id"], w_min=0.1)
    ts = [_net_task(n, "int8", bw=b, name=n) for n, b in
          (("resnet18", 5e6), ("mobilenet_v2", 2e7), ("googlenet", 1e7))]
    return DnnInstance.build(ts, name=task["id"], objective="sum")


def _gap_run(task: dict) -> list[dict]:
    import optoffload as oo

    inst = _gap_instance(task)
    rows = []
    for m in METHODS:
        t0 = time.perf_counter()
        s = oo.solve(inst, m, time_limit=60, seed=task["seed"])
        rows.append({"method": m, "status": s.status.value, "objective": s.objective, "bound": s.bound,
                     "runtime_s": time.perf_counter() - t0, "U": inst.U, "objective_kind": inst.objective})
    ex = rows[0]
    ref = ex["objective"] if ex["status"] == "optimal" else None
    for r in rows:
        r["reference"] = ref
        r["gap_pct"] = None if ref is None or r["objective"] is None else 100 * (r["objective"] - ref) / ref
    return rows


def _gap_report(rows: list[dict], outdir: Path) -> str:
    lines = ["# dnn-gap: heuristic and baselines against the certified optimum", "",
             "Reference: dnn-exact's certified optimum (status optimal). Random: "
             "`oo.generate('dnn', seed, tasks=U, nodes=7, exits=3, edge_slowdown=3/U, link_bps=3e6)` (an edge that grows with U and a slow link, so that splits matter), objective E[max]. Networks: one task, "
             "int8 scenario (benchmarks/dnn/suites.py), share range [0.1, 1]. Mixed: ResNet-18 (5 Mbit/s), "
             "MobileNetV2 (20 Mbit/s), GoogLeNet (10 Mbit/s) sharing the edge, objective E[sum] "
             "(envelope candidates are lossless for the sum, docs/dnn.md).", ""]
    groups: dict = {}
    for r in rows:
        g = r["id"].rsplit("-s", 1)[0] if r["id"].startswith("random") else r["id"]
        groups.setdefault((g, r["method"]), []).append(r)
    table = []
    for (g, m), rs in groups.items():
        gaps = [r["gap_pct"] for r in rs if r["gap_pct"] is not None]
        table.append({"group": g, "method": m, "instances": len(rs),
                      "certified": sum(r["status"] == "optimal" for r in rs if r["method"] == "dnn-exact"),
                      "mean_gap_pct": float(np.mean(gaps)) if gaps else None,
                      "max_gap_pct": float(np.max(gaps)) if gaps else None,
                      "mean_runtime_s": float(np.mean([r["runtime_s"] for r in rs]))})
    lines.append(markdown_table(table, ["group", "method", "instances", "certified", "mean_gap_pct", "max_gap_pct",
                                        "mean_runtime_s"]))
    neg = [r for r in rows if r["gap_pct"] is not None and r["gap_pct"] < -1e-5]
    lines += ["", f"Rows where a method beat the certified optimum by more than 1e-5 %: {len(neg)} (must be 0)."]
    return "\n".join(lines)


# ------------------------------------------------------------------ dnn-networks
BW_GRID = np.geomspace(1e5, 1e9, 25)
NET_METHODS = ["dag-optimum", "prefix (layer order)", "dads", "neurosurgeon", "edgent", "edge-only", "cloud-only"]


def _net_tasks(quick: bool) -> list[dict]:
    nets = ("resnet18", "googlenet") if quick else ("resnet18", "resnet50", "mobilenet_v2", "googlenet", "densenet121")
    out = []
    for net in nets:
        for scen in SCEN:
            out.append({"id": f"{net}-{scen}-w1-default", "net": net, "scen": scen, "w": 1.0, "probs": "default",
                        "points": 7 if quick else 49, "seed": 0})
        if not quick:
            for w in (0.5, 0.2):
                out.append({"id": f"{net}-int8-w{w:g}-default", "net": net, "scen": "int8", "w": w,
                            "probs": "default", "points": 25, "seed": 0})
            for pl in ("late", "none"):
                out.append({"id": f"{net}-int8-w1-{pl}", "net": net, "scen": "int8", "w": 1.0, "probs": pl,
                            "points": 25, "seed": 0})
    # a fine sweep where the DAG optimum and the prefix cuts part (GoogLeNet's inception joins)
    for w in ((1.0,) if quick else (1.0, 0.5)):
        out.append({"id": f"googlenet-int8-w{w:g}-default-fine", "net": "googlenet", "scen": "int8", "w": w,
                    "probs": "default", "points": 15 if quick else 121, "bw_lo": 2e6, "bw_hi": 3e7, "seed": 0})
    return out


def _net_run(task: dict) -> list[dict]:
    from optoffload.dnn.cut import best_prefix, best_split, forced, topological_orders
    from optoffload.dnn.evaluate import crossing, edge_exits, expected_time
    from optoffload.dnn.model import DnnTask

    w = task["w"]
    rows = []
    base = DnnTask.from_dict(_net_task(task["net"], task["scen"], bw=1e7, probs=task["probs"]))
    orders = topological_orders(base, 20, seed=task["seed"])
    for bw in np.geomspace(task.get("bw_lo", 1e5), task.get("bw_hi", 1e9), task["points"]):
        t = DnnTask.from_dict(_net_task(task["net"], task["scen"], bw=bw, probs=task["probs"]))
        pK = np.eye(t.K)[-1]
        splits = {
            "dag-optimum": best_split(t, w)[0],
            "prefix (layer order)": best_prefix(t, w)[0],
            "dads": best_split(t, w, pK)[0],
            "neurosurgeon": best_prefix(t, w, pK)[0],
            "edgent": best_prefix(t, w)[0],
            "edge-only": np.ones(t.n, dtype=bool),
            "cloud-only": forced(t),
        }
        opt = expected_time(t, splits["dag-optimum"], w)
        pre = {"layer": best_prefix(t, w, order=orders[0])[1], "bfs": best_prefix(t, w, order=orders[1])[1],
               "dfs": best_prefix(t, w, order=orders[2])[1]}
        rnd = [best_prefix(t, w, order=o)[1] for o in orders[3:]]
        for m, mask in splits.items():
            X = crossing(t, mask)
            rows.append({"net": task["net"], "scen": task["scen"], "w": w, "probs": task["probs"], "bw_bps": float(bw),
                         "method": m, "expected_s": expected_time(t, mask, w), "edge_layers": int(mask.sum()),
                         "layers": t.n, "edge_exits": edge_exits(t, mask), "bytes_sent": float(t.out_bytes[X].sum()),
                         "crossing": [t.names[i] for i in np.flatnonzero(X)][:8],
                         "optimum_s": opt, "prefix_layer_s": pre["layer"], "prefix_bfs_s": pre["bfs"],
                         "prefix_dfs_s": pre["dfs"], "random_orders_missing_opt": int(sum(r > opt * (1 + 1e-9) for r in rnd)),
                         "random_orders": len(rnd)})
    return rows


def _net_report(rows: list[dict], outdir: Path) -> str:
    lines = ["# dnn-networks: best split and expected time of the shipped networks", "",
             "One task at edge share w (sample time with early exits, seconds), per uplink rate. `dag-optimum` is "
             "the exact min cut over all closed edge sets (docs/dnn.md); `prefix (layer order)` the best "
             "prefix cut of the layer list with exits (= edgent); DADS/Neurosurgeon choose without exits. "
             "Scenarios in benchmarks/dnn/suites.py.", ""]
    main = [r for r in rows if r["w"] == 1.0 and r["probs"] == "default" and "fine" not in r["id"]]
    # DAG vs prefix
    lines += ["## Where the DAG optimum beats every prefix cut of a fixed layer order", "",
              "Strict gain over the best prefix of the layer order, breadth-first and depth-first "
              "topological orders (and how many of 20 random topological orders also miss the optimum). "
              "Over *all* topological orders the prefixes are all closed sets (every closed set starts "
              "some topological order), so the comparison is with chain methods that fix one order.", ""]
    win = []
    for r in rows:
        if r["method"] != "dag-optimum":
            continue
        best_fixed = min(r["prefix_layer_s"], r["prefix_bfs_s"], r["prefix_dfs_s"])
        if r["optimum_s"] < best_fixed * (1 - 1e-9):
            win.append({"net": r["net"], "scen": r["scen"], "w": r["w"], "probs": r["probs"], "bw_bps": r["bw_bps"],
                        "optimum_s": r["optimum_s"], "best_fixed_prefix_s": best_fixed,
                        "gain_pct": 100 * (best_fixed - r["optimum_s"]) / best_fixed,
                        "random_missing": f"{r['random_orders_missing_opt']}/{r['random_orders']}",
                        "crossing": " ".join(r["crossing"])})
    lines.append(markdown_table(win, ["net", "scen", "w", "probs", "bw_bps", "optimum_s", "best_fixed_prefix_s",
                                      "gain_pct", "random_missing", "crossing"]) if win else "(none)")
    if win:
        keys = sorted({(r["net"], r["scen"], r["w"], r["probs"]) for r in win})
        lines += ["", "Summary (bandwidth range where the DAG optimum wins, largest gain):", ""]
        for k in keys:
            ws = [r for r in win if (r["net"], r["scen"], r["w"], r["probs"]) == k]
            lines.append(f"* {k[0]} {k[1]} w={k[2]:g} probs={k[3]}: {min(r['bw_bps'] for r in ws) / 1e6:.3g}-"
                         f"{max(r['bw_bps'] for r in ws) / 1e6:.3g} Mbit/s ({len(ws)} grid points), "
                         f"up to {max(r['gain_pct'] for r in ws):.2f} %")
    lines += ["", "## Expected time per method at 1, 10 and 100 Mbit/s (w = 1, default exit probabilities)", ""]
    sel = []
    for r in main:
        for target in (1e6, 1e7, 1e8):
            if abs(np.log10(r["bw_bps"]) - np.log10(target)) < 1e-6:
                sel.append(r)
    lines.append(markdown_table(sel, ["net", "scen", "bw_bps", "method", "expected_s", "edge_layers", "layers",
                                      "edge_exits", "bytes_sent"]))
    var = [r for r in rows if (r["w"] != 1.0 or r["probs"] != "default") and r["method"] == "dag-optimum"]
    if var:
        lines += ["", "## Optimum against edge share and exit probabilities (int8 scenario)", ""]
        lines.append(markdown_table(var, ["net", "w", "probs", "bw_bps", "expected_s", "edge_layers", "edge_exits",
                                          "bytes_sent"]))
    fine = [r for r in rows if "fine" in r["id"] and r["method"] == "dag-optimum"]
    if fine:
        _fine_plot(fine, outdir)
        lines.append("\n![DAG optimum against fixed-order prefix cuts](dnn_networks_dag_vs_prefix.png)")
    for scen in SCEN:
        _net_plot([r for r in main if r["scen"] == scen], outdir, scen)
        lines.append(f"\n![time against bandwidth, {scen}](dnn_networks_{scen}.png)")
    return "\n".join(lines)


def _fine_plot(rows: list[dict], outdir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for w in sorted({r["w"] for r in rows}, reverse=True):
        rs = sorted((r for r in rows if r["w"] == w), key=lambda r: r["bw_bps"])
        bw = [r["bw_bps"] / 1e6 for r in rs]
        for key, ls, lab in (("prefix_layer_s", "-", "layer order"), ("prefix_bfs_s", "--", "breadth-first"),
                             ("prefix_dfs_s", ":", "depth-first")):
            ax.plot(bw, [100 * (r[key] / r["optimum_s"] - 1) for r in rs], ls=ls, label=f"w={w:g}, {lab}")
    ax.set_xscale("log")
    ax.set_xlabel("uplink rate (Mbit/s)")
    ax.set_ylabel("best prefix cut over the DAG optimum (%)")
    ax.set_title(f"{rows[0]['net']} ({rows[0]['scen']}): prefix cuts of a fixed order vs the DAG min cut")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(outdir / f"dnn_networks_dag_vs_prefix.{ext}", dpi=110)
    plt.close(fig)


def _net_plot(rows: list[dict], outdir: Path, scen: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nets = list(dict.fromkeys(r["net"] for r in rows))
    if not nets:
        return
    fig, axes = plt.subplots(2, len(nets), figsize=(4.2 * len(nets), 6.8), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2]})
    styles = {"dag-optimum": ("k", "-", 2.2), "prefix (layer order)": ("tab:blue", "--", 1.5),
              "dads": ("tab:orange", "-.", 1.3), "neurosurgeon": ("tab:green", ":", 1.5),
              "edge-only": ("tab:red", "-", 1.0), "cloud-only": ("tab:purple", "-", 1.0)}
    for ax, net in zip(axes[0], nets):
        for m, (c, ls, lw) in styles.items():
            rs = sorted((r for r in rows if r["net"] == net and r["method"] == m), key=lambda r: r["bw_bps"])
            ax.plot([r["bw_bps"] / 1e6 for r in rs], [r["expected_s"] * 1e3 for r in rs], color=c, ls=ls, lw=lw,
                    label=m)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("uplink rate (Mbit/s)")
        ax.set_ylabel("expected time per sample (ms)")
        ax.set_title(f"{net} ({scen})")
        ax.grid(True, which="both", alpha=0.3)
    for ax, net in zip(axes[1], nets):
        opt = {r["bw_bps"]: r["expected_s"] for r in rows if r["net"] == net and r["method"] == "dag-optimum"}
        for m, (c, ls, lw) in styles.items():
            rs = sorted((r for r in rows if r["net"] == net and r["method"] == m), key=lambda r: r["bw_bps"])
            ax.plot([r["bw_bps"] / 1e6 for r in rs], [100 * (r["expected_s"] / opt[r["bw_bps"]] - 1) for r in rs],
                    color=c, ls=ls, lw=lw)
        ax.set_xscale("log")
        ax.set_ylim(-0.5, 10)
        ax.set_xlabel("uplink rate (Mbit/s)")
        ax.set_ylabel("excess over the DAG optimum (%)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(outdir / f"dnn_networks_{scen}.{ext}", dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ dnn-scale
def _scale_tasks(quick: bool) -> list[dict]:
    out = []
    for n in ((100, 1000) if quick else (100, 300, 1000, 3000)):
        out.append({"id": f"mincut-n{n}", "kind": "mincut", "n": n, "seed": 0})
    for n in ((8, 12) if quick else (8, 12, 16, 20, 24, 28, 32, 36)):
        out.append({"id": f"brute-n{n}", "kind": "brute", "n": n, "seed": 0, "limit": 200_000 if quick else 3_000_000})
    for U in ((10,) if quick else (10, 30, 100)):
        out.append({"id": f"heuristic-resnet50-u{U}", "kind": "heuristic", "U": U, "seed": 0})
    for U in ((2, 3) if quick else (2, 4, 6, 8, 10, 12, 16)):
        out.append({"id": f"exact-u{U}", "kind": "exact", "U": U, "seed": 0, "time_limit": 10 if quick else 60})
    return out


def _scale_run(task: dict) -> list[dict]:
    import optoffload as oo
    from optoffload.dnn.cut import best_split, brute_force, ideals
    from optoffload.dnn.generate import random_task
    from optoffload.dnn.model import DnnInstance, DnnTask

    k = task["kind"]
    rng = np.random.default_rng(task["seed"])
    if k == "mincut":
        t = DnnTask.from_dict(random_task(rng, nodes=task["n"], exits=4, max_inputs=3))
        row = {"n": task["n"], "arcs": sum(len(p) for p in t.preds), "exits": t.K}
        for sv in ("lp", "networkx"):
            if sv == "networkx" and task["n"] > 1000:
                continue
            t0 = time.perf_counter()
            _, v = best_split(t, 0.5, solver=sv)
            row[f"{sv}_s"] = time.perf_counter() - t0
            row[f"{sv}_value"] = v
        return [row]
    if k == "brute":
        # one input per layer (a random tree under the input): the closed sets grow exponentially
        t = DnnTask.from_dict(random_task(rng, nodes=task["n"], exits=3, max_inputs=1))
        M = ideals(t, limit=task["limit"])
        row = {"n": task["n"], "closed_sets": None if M is None else len(M)}
        t0 = time.perf_counter()
        _, v = best_split(t, 0.5, solver="networkx")
        row["mincut_s"] = time.perf_counter() - t0
        if M is not None:
            t0 = time.perf_counter()
            _, vb = brute_force(t, 0.5)
            row["brute_s"] = time.perf_counter() - t0
            row["agree"] = bool(abs(v - vb) <= 1e-9 * max(1.0, vb))
            row["brute_over_mincut"] = row["brute_s"] / row["mincut_s"]
        return [row]
    if k == "heuristic":
        ts = [_net_task("resnet50", "int8", bw=float(10 ** rng.uniform(6.3, 7.7)), name=f"r50-{u}")
              for u in range(task["U"])]
        for t, p in zip(ts, rng.dirichlet(np.ones(4), size=task["U"])):
            for x, q in zip(t["exits"], p):
                x["prob"] = float(q)
        inst = DnnInstance.build(ts, name=task["id"])
        t0 = time.perf_counter()
        s = oo.solve(inst, "dnn-heuristic")
        return [{"U": task["U"], "layers_per_task": inst.tasks[0].n, "runtime_s": time.perf_counter() - t0,
                 "objective": s.objective}]
    # an edge that grows with U (edge_slowdown 3/U, like erds-scale's "scaled" edge) and a 3 Mbit/s
    # link, so that splitting keeps mattering as the shares shrink
    inst = oo.generate("dnn", seed=task["seed"], tasks=task["U"], nodes=8, exits=3, edge_slowdown=3.0 / task["U"],
                       link_bps=3e6)
    t0 = time.perf_counter()
    s = oo.solve(inst, "dnn-exact", time_limit=task["time_limit"])
    return [{"U": task["U"], "status": s.status.value, "runtime_s": time.perf_counter() - t0,
             "objective": s.objective, "bound": s.bound, "nodes": s.info.get("nodes"),
             "time_limit": task["time_limit"]}]


def _scale_report(rows: list[dict], outdir: Path) -> str:
    lines = ["# dnn-scale: runtimes (the machine is shared; compare ratios within one run)", ""]
    mc = [r for r in rows if r["id"].startswith("mincut")]
    lines += ["## Min cut of one task (random DAG, 4 exits, up to 3 inputs per layer, all exit prefixes)", "",
              markdown_table(mc, ["n", "arcs", "exits", "lp_s", "networkx_s"]), ""]
    br = [r for r in rows if r["id"].startswith("brute")]
    lines += ["## Min cut against brute force over closed edge sets (random trees under the input, 3 exits)", "",
              markdown_table(br, ["n", "closed_sets", "mincut_s", "brute_s", "brute_over_mincut", "agree"])]
    done = [r for r in br if r.get("brute_s") is not None]
    if done:
        r = max(done, key=lambda r: r["n"])
        lines.append(f"\nLargest size brute force finished: n = {r['n']} ({r['closed_sets']} closed sets), "
                     f"brute force / min cut = {r['brute_over_mincut']:.1f}.")
    hs = [r for r in rows if r["id"].startswith("heuristic")]
    lines += ["", "## dnn-heuristic on U tasks of ResNet-50 size (int8 scenario, varied links and exits)", "",
              markdown_table(hs, ["U", "layers_per_task", "runtime_s", "objective"])]
    ex = [r for r in rows if r["id"].startswith("exact")]
    lines += ["", "## dnn-exact: random tasks of 8 layers, 3 exits, edge_slowdown 3/U, 3 Mbit/s, E[max]", "",
              markdown_table(ex, ["U", "status", "runtime_s", "nodes", "objective", "bound", "time_limit"])]
    cert = [r["U"] for r in ex if r["status"] == "optimal" and r["runtime_s"] <= r["time_limit"]]
    if cert:
        lines.append(f"\nLargest U certified within the time limit: {max(cert)}.")
    return "\n".join(lines)


SUITES = {
    "dnn-gap": Suite("dnn-gap", "DNN graphs: heuristic and baselines vs the certified optimum (random DAGs, networks)",
                     _gap_tasks, _gap_run, _gap_report),
    "dnn-networks": Suite("dnn-networks", "DNN graphs: best split of the shipped networks vs bandwidth, share, exits",
                          _net_tasks, _net_run, _net_report),
    "dnn-scale": Suite("dnn-scale", "DNN graphs: min cut on 1,000+ layers, brute-force ratio, U=100 heuristic, exact U",
                       _scale_tasks, _scale_run, _scale_report),
}
