"""Random ERDS instances for tests and benchmarks (any U and K).

Loads grow with depth and uploads shrink with depth, like the paper's tables (erds.md 1.3):
``loads[u][b] ~ U{1..4}`` cumulated plus a per-task offset, ``transmission[u][b]`` a decreasing
sequence starting in 30..80. Exit probabilities are Dirichlet(1) (one vector, or one per task).
``w_min`` defaults to min(0.1, 0.5 / U) so that sum of minimum shares stays <= half the capacity.
"""

from __future__ import annotations

import numpy as np

from .model import ErdsInstance


def generate(*, seed: int = 0, tasks: int = 3, exits: int = 5, per_task_probs: bool = False,
             w_min: float | None = None, edge_factor: float = 2.0, cloud_factor: float = 1.0,
             tr_factor: float = 1.0) -> ErdsInstance:
    """A random instance; the same seed gives the same instance."""
    from ..limits import limits
    from ..validate import as_float, as_int, as_seed

    seed = as_seed(seed)
    U = as_int(tasks, "tasks", min=1, limit="max_tasks")
    K = as_int(exits, "exits", min=1, limit="max_exits")
    for k, v in (("edge_factor", edge_factor), ("cloud_factor", cloud_factor), ("tr_factor", tr_factor)):
        as_float(v, k, min=0.0, max=1e6)
    if w_min is not None:
        as_float(w_min, "w_min", min=0.0, min_inclusive=False, max=1.0)
    rng = np.random.default_rng(seed)
    loads = np.cumsum(rng.integers(1, 5, size=(U, K + 1)), axis=1) + rng.integers(0, 4, size=(U, 1))
    first = rng.integers(30, 81, size=(U, 1))
    decay = rng.uniform(0.3, 0.8, size=(U, K + 1))
    decay[:, 0] = 1.0
    trans = np.maximum(1, np.round(first * np.cumprod(decay, axis=1)))
    if per_task_probs:
        probs = np.round(rng.dirichlet(np.ones(K), size=U), 6)
        probs[:, -1] = 1.0 - probs[:, :-1].sum(axis=1)
    else:
        probs = np.round(rng.dirichlet(np.ones(K)), 6)
        probs[-1] = 1.0 - probs[:-1].sum()
    probs = np.abs(probs)
    wm = min(0.1, 0.5 / U) if w_min is None else float(w_min)
    seq = rng.integers(1, K + 1, size=10 * U).tolist()
    return ErdsInstance.build(
        name=f"random-u{U}-k{K}-s{seed}", loads=loads.tolist(), transmission=trans.tolist(),
        exit_probs=probs.tolist(), edge_factor=edge_factor, cloud_factor=cloud_factor, tr_factor=tr_factor,
        capacity=1.0, w_min=wm, exit_sequence=seq, sample_rounds=10, sample_mode="independent",
        meta={"generator": "optoffload.erds.generate", "seed": seed})
