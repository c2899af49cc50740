"""DNN-graph heuristic and the baselines of the field (dnn-graphs.md; docs/dnn.md "Methods").

* ``dnn-heuristic``: per-task min-cut envelope candidates (``optoffload.dnn.multi.Candidates``,
  mode ``"envelope"``), then ERDS-HSA-style alternation (erds.md 3.3): best candidate per task for
  its E[T_u] at the current shares, optimal shares for those splits (ERDS share LP / water-filling),
  until the splits repeat; then one pass of single-task candidate swaps at fixed shares, each
  followed by re-optimised shares when it helps (U <= ``SWAP_MAX_U``).
* ``dads`` (Hu et al., INFOCOM 2019): min cut of the DAG without exits (every sample runs to h_K),
  equal shares C/U.
* ``neurosurgeon`` (Kang et al., ASPLOS 2017): best prefix of the layer list (a topological order),
  no exits in the choice, equal shares.
* ``edgent`` (Li et al., 2018/2020): the chain view with exits: best prefix of the layer list for
  the expected time with exits, one task at a time, equal shares.
* ``edge-only`` / ``cloud-only``: everything on the edge / only the forced nodes (the input) on the
  edge, optimal shares.

Every baseline's split is evaluated in the full model (with exits): the baseline only *chooses*
without them.
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.dnn.cut import best_prefix, best_split, forced
from optoffload.dnn.evaluate import objective
from optoffload.dnn.model import DnnInstance, decisions
from optoffload.dnn.multi import (
    Candidates,
    TableProblem,
    alternate,
    optimal_shares,
    share_bounds,
)
from optoffload.solution import Solution
from optoffload.status import Status

SWAP_MAX_U = 30
SWAP_SLACK = 0.05
"""With more than ``SWAP_FULL_U`` tasks, only a swap whose value at the current shares is within 5 % of
the incumbent gets its shares re-optimised; up to ``SWAP_FULL_U`` tasks every swap does."""
SWAP_FULL_U = 8


def _sol(inst, method, masks, w, t0, info=None) -> Solution:
    val = objective(inst, masks, w)
    return Solution("dnn", inst.name, method, Status.FEASIBLE, val, None, time.perf_counter() - t0,
                    decisions(inst, masks, w), dict(info or {}))


def _equal(inst: DnnInstance) -> np.ndarray:
    return np.full(inst.U, min(inst.share_max, inst.capacity / inst.U))


def dnn_heuristic(inst: DnnInstance, *, time_limit=None, seed=0, threads=None, candidates: str = "envelope",
                  swaps: bool = True) -> Solution:
    """``dnn-heuristic`` (module docstring)."""
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    cand = Candidates(inst, candidates, deadline=deadline)
    prob = TableProblem(inst, cand) if inst.objective == "max" else None
    s, w, v = alternate(inst, cand, prob, deadline=deadline)
    info = {"candidate_sizes": cand.sizes(), "swaps": 0}
    if swaps and inst.U <= SWAP_MAX_U:
        s = list(s)
        improved = True
        while improved:
            improved = False
            for u in range(inst.U):
                for x in range(len(cand.masks[u])):
                    if x == s[u] or (deadline is not None and time.perf_counter() > deadline):
                        continue
                    s2 = s.copy()
                    s2[u] = x
                    m2 = [cand.masks[q][z] for q, z in enumerate(s2)]
                    v2 = objective(inst, m2, w)
                    if inst.U <= SWAP_FULL_U or v2 < v * (1 + SWAP_SLACK):  # re-optimise the shares
                        w2, v3 = optimal_shares(inst, m2, deadline=deadline)
                        if v3 < v2:
                            v2 = v3
                        else:
                            w2 = w
                        if v2 < v * (1 - 1e-9):
                            s, v, w = s2, v2, w2
                            info["swaps"] += 1
                            improved = True
    masks = [cand.masks[u][x] for u, x in enumerate(s)]
    return _sol(inst, "dnn-heuristic", masks, w, t0, info)


def _no_exit_probs(t) -> np.ndarray:
    p = np.zeros(t.K)
    p[-1] = 1.0
    return p


def _per_task(inst: DnnInstance, split, time_limit, t0: float) -> tuple[list, dict]:
    """``split(u, task) -> mask`` for every task; tasks reached after the time limit get the forced
    set (the cloud-only split, no search), so the limit bounds the work; ``info`` counts them."""
    deadline = None if time_limit is None else t0 + time_limit
    masks, late = [], 0
    for u, t in enumerate(inst.tasks):
        if deadline is not None and time.perf_counter() > deadline:
            masks.append(forced(t))
            late += 1
        else:
            masks.append(split(u, t))
    return masks, ({"tasks_after_time_limit": late, "time_limit_reached": True} if late else {})


def dads(inst: DnnInstance, *, time_limit=None, seed=0, threads=None) -> Solution:
    """DADS: per task the min cut of the DAG for a sample that always runs to h_K, shares C/U."""
    t0 = time.perf_counter()
    w = _equal(inst)
    masks, info = _per_task(inst, lambda u, t: best_split(t, w[u], _no_exit_probs(t))[0], time_limit, t0)
    return _sol(inst, "dads", masks, w, t0, info)


def _best_prefix(t, w: float, probs) -> np.ndarray:
    """Best prefix {0..i} of the task's layer order (topological) that holds the forced nodes."""
    return best_prefix(t, w, probs)[0]


def neurosurgeon(inst: DnnInstance, *, time_limit=None, seed=0, threads=None) -> Solution:
    """Neurosurgeon: best prefix cut of the layer order, choosing as if there were no exits; C/U."""
    t0 = time.perf_counter()
    w = _equal(inst)
    masks, info = _per_task(inst, lambda u, t: _best_prefix(t, w[u], _no_exit_probs(t)), time_limit, t0)
    return _sol(inst, "neurosurgeon", masks, w, t0, info)


def edgent(inst: DnnInstance, *, time_limit=None, seed=0, threads=None) -> Solution:
    """Edgent-style: best prefix cut of the layer order for the expected time with exits; C/U."""
    t0 = time.perf_counter()
    w = _equal(inst)
    masks, info = _per_task(inst, lambda u, t: _best_prefix(t, w[u], t.exit_probs), time_limit, t0)
    return _sol(inst, "edgent", masks, w, t0, info)


def edge_only(inst: DnnInstance, *, time_limit=None, seed=0, threads=None) -> Solution:
    """Every layer on the edge (nothing sent), optimal shares."""
    t0 = time.perf_counter()
    masks = [np.ones(t.n, dtype=bool) for t in inst.tasks]
    w, _ = optimal_shares(inst, masks, deadline=None if time_limit is None else t0 + time_limit)
    return _sol(inst, "edge-only", masks, w, t0)


def cloud_only(inst: DnnInstance, *, time_limit=None, seed=0, threads=None) -> Solution:
    """Only the forced nodes (the input; its consumers when raw input may not be sent) on the edge,
    optimal shares."""
    t0 = time.perf_counter()
    masks = [forced(t) for t in inst.tasks]
    w, _ = optimal_shares(inst, masks, deadline=None if time_limit is None else t0 + time_limit)
    return _sol(inst, "cloud-only", masks, w, t0)


def single_task(inst: DnnInstance, *, time_limit=None, seed=0, threads=None) -> Solution:
    """``dnn-mincut``: per task the exact min cut over all exit prefixes (cut.py). With one task at
    share min(w_max, C) it is the certified optimum (T is non-increasing in the share); with several
    tasks each gets C/U (clipped) and the result is FEASIBLE only."""
    t0 = time.perf_counter()
    if inst.U == 1:
        _, w = share_bounds(inst)
    else:
        w = _equal(inst)
    masks, info = _per_task(inst, lambda u, t: best_split(t, float(w[u]))[0], time_limit, t0)
    sol = _sol(inst, "dnn-mincut", masks, w, t0, info)
    if inst.U == 1 and not info:
        sol.status, sol.bound = Status.OPTIMAL, sol.objective
    return sol
