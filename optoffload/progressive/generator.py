"""Random instances of the progressive family (``optoffload generate progressive ...``)."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInstance
from ..family import Option
from ..validate import as_int, as_str, positive
from .model import PROBLEMS, ProgressiveInstance
from .profiles import data_bytes
from .traces import scenario as make_scenario

SCENARIO_NAMES = ("none", "light", "heavy", "switching", "decreasing")

OPTIONS = (
    Option("problem", str, "airtime", "problem kind", PROBLEMS),
    Option("size", int, 4, "devices (airtime), chunks (ordering) or traces (config)"),
    Option("slots", int, 40, "airtime slots (airtime)"),
    Option("scenario", str, "heavy", "bandwidth scenario", SCENARIO_NAMES),
    Option("period_s", float, 0.5, "image period T in seconds (config, airtime deadlines)"),
    Option("concave", bool, False, "airtime: concave per-slot accuracy profiles (greedy is then optimal)"),
)

_TOP5_PROGRESSIVE = ("pnc", "pjpeg-q30", "pjpeg-q50")
_TOP5_CLIFF = ("webp-m6-q0", "webp-m6-q10", "webp-m6-q20", "fixed-k2", "fixed-k4", "fixed-k6", "fixed-k8")


def concave_profile(name: str, rng: np.random.Generator, levels: int, block_bytes: float) -> dict:
    """A ``bytes`` profile with concave accuracy steps exactly one slot (``block_bytes``) apart."""
    inc = np.sort(rng.uniform(0.005, 0.2, size=levels))[::-1]
    acc = np.minimum(np.cumsum(inc), 1.0)
    acc = acc / max(1.0, acc[-1] / 0.95)
    pts = [[float(block_bytes * (k + 1) - 11), float(acc[k])] for k in range(levels)]
    return {"name": name, "kind": "bytes", "metric": "top5", "points": pts, "fallback": 0.0}


def generate(*, seed: int = 0, problem: str = "airtime", size: int = 4, slots: int = 40, scenario: str = "heavy",
             period_s: float = 0.5, concave: bool = False) -> ProgressiveInstance:
    from ..validate import as_seed

    seed = as_seed(seed)
    problem = as_str(problem, "problem", PROBLEMS)
    size = as_int(size, "size", min=1, max=64)
    slots = as_int(slots, "slots", min=1, max=10_000)
    from ..validate import as_float

    period_s = as_float(period_s, "period_s", min=0.0, min_inclusive=False, max=3600.0)
    as_str(scenario, "scenario", SCENARIO_NAMES)
    rng = np.random.default_rng(seed)
    name = f"gen-{problem}-{size}-s{seed}"
    if problem == "config":
        traces = [{"weight": float(rng.uniform(0.5, 2.0)),
                   "trace": {"generator": "scenario", "name": scenario, "duration": 300.0, "seed": int(seed * 101 + k)}}
                  for k in range(size)]
        d = {"problem": "config", "period_s": period_s, "n_images": 400, "seed": int(seed), "traces": traces,
             "candidates": list(_TOP5_CLIFF)}
    elif problem == "airtime":
        devices = []
        rate = 12000.0
        if concave:
            # one slot = exactly one 64-byte block for every device (deadline == period)
            rate = 64.0 * slots / period_s
            for i in range(size):
                devices.append({"name": f"cam{i}", "deadline_s": period_s, "weight": float(rng.uniform(0.5, 2.0)),
                                "profile": concave_profile(f"concave{i}", rng, slots, 63.0)})
        else:
            for i in range(size):
                devices.append({"name": f"cam{i}", "deadline_s": float(np.round(rng.uniform(0.5, 1.0) * period_s, 3)),
                                "weight": float(np.round(rng.uniform(0.5, 2.0), 3)),
                                "profile": str(rng.choice(_TOP5_PROGRESSIVE + _TOP5_CLIFF[:3]))})
            rate = float(np.round(rng.uniform(4000, 6000) * size, 0))
        d = {"problem": "airtime", "link_rate_Bps": rate, "slots": slots, "devices": devices}
    elif problem == "ordering":
        if size > 22:
            raise InvalidInstance("size", f"ordering instances have at most 22 chunks, got {size}")
        tr = make_scenario(scenario, duration=60.0, seed=int(seed))
        t = np.arange(0, 50, period_s)
        s = data_bytes(tr.integral(t, t + period_s))
        vals, counts = np.unique(s, return_counts=True)
        # chunk sizes scaled so that all chunks need 1.5 x the median budget: the budget bites
        raw = rng.uniform(0.5, 1.5, size=size)
        sizes = np.maximum(1.0, np.round(raw / raw.sum() * 1.5 * max(float(np.median(s)), 63.0)))
        chunks = [{"name": f"c{i}", "bytes": float(sizes[i]),
                   "importance": float(np.round(rng.uniform(0.1, 1.0) * (1.0 + (size - i) / size), 3))}
                  for i in range(size)]
        d = {"problem": "ordering", "chunks": chunks,
             "budget": {"bytes": vals.tolist(), "probs": (counts / counts.sum()).tolist()}}
    d.update({"format": 1, "family": "progressive", "name": name})
    return ProgressiveInstance.from_dict(d)
