"""Suite ``picsys-sim``: simulator throughput (issue #2 performance target).

Simulates the ``all-device`` and ``all-cloud`` policies on a generated
instance with 200 devices x 1,000 images (paper's large-system distributions,
section 6.2.3) and reports images simulated per second, three ways:

* ``plan``: the vectorised fixed-plan replay used by ``verify``;
* ``policy-static``: the online policy through ``run_policy`` (its
  state-independent decisions take the vectorised path);
* ``policy-events``: the same policy forced through the event-by-event loop
  that every state-dependent heuristic uses.

Target: at least 200,000 images/s on one core. Each row is the best of
``repeats`` runs (timings on a shared machine are noisy; the ratio between
the paths in one run is the figure to compare).
"""

from __future__ import annotations

import time
from pathlib import Path

from ..suite import Suite, markdown_table

TARGET = 200_000


def _tasks(quick: bool) -> list[dict]:
    devices, per = (20, 100) if quick else (200, 1000)
    out = []
    for policy in ("all-device", "all-cloud"):
        for path in ("plan", "policy-static", "policy-events"):
            out.append({"id": f"{policy}-{path}", "policy": policy, "path": path, "devices": devices,
                        "images_per_device": per, "seed": 0, "repeats": 3})
    return out


def _run(task: dict) -> dict:
    from optoffload.heuristics.picsys.baselines import AllCloud, AllDevice
    from optoffload.picsys.generator import generate
    from optoffload.picsys.simulator import run_policy, simulate_plan

    inst = generate(seed=task["seed"], devices=task["devices"], images=task["devices"] * task["images_per_device"])
    cls = AllDevice if task["policy"] == "all-device" else AllCloud
    ref = run_policy(inst, cls())
    best = float("inf")
    makespan = None
    for _ in range(task["repeats"]):
        pol = cls()
        t0 = time.perf_counter()
        if task["path"] == "plan":
            res = simulate_plan(inst, ref.outcomes)
        elif task["path"] == "policy-static":
            res = run_policy(inst, pol)
        else:
            pol.static_plan = None
            res = run_policy(inst, pol)
        best = min(best, time.perf_counter() - t0)
        makespan = res.makespan
    n = inst.n_images
    return {"images": n, "seconds": best, "images_per_s": n / best, "makespan": makespan,
            "meets_target": n / best >= TARGET}


def _report(rows: list[dict], outdir: Path) -> str:
    lines = ["# picsys-sim: simulator throughput", "",
             f"Target (issue #2): at least {TARGET:,} images simulated per second on one core.", "",
             markdown_table(rows, ["policy", "path", "devices", "images", "seconds", "images_per_s", "makespan",
                                   "meets_target"])]
    ev = {r["policy"]: r for r in rows if r["path"] == "policy-events"}
    st = {r["policy"]: r for r in rows if r["path"] == "policy-static"}
    for p in ev:
        if p in st:
            lines.append(f"\n{p}: the vectorised path is {st[p]['images_per_s'] / ev[p]['images_per_s']:.1f}x the "
                         f"event loop; both give makespan {st[p]['makespan']:.6g} vs {ev[p]['makespan']:.6g}.")
    return "\n".join(lines)


SUITES = {"picsys-sim": Suite("picsys-sim", "PicSys simulator throughput (images/s), 200 devices x 1,000 images",
                              _tasks, _run, _report)}
