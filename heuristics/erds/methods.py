"""ERDS solve methods: the paper's ERDS-OSA / ERDS-HSA / BRB and the baselines of erds.md 4.

Common options
--------------
evaluator : ``"exact"`` (default; E[max] of eq. (7)) or ``"sampled"`` (the paper's 10-round
    evaluator, erds.md 3.4, used *inside* the search and for the reported objective, as in the
    paper's code). The choice is written into the decisions, so ``verify`` replays it.
tol, max_iter, stall_work : BRB stopping rule: converged within ``tol`` (default 1e-4 relative), or no
    improvement of the incumbent by more than ``tol`` for ceil(stall_work / U) iterations (default
    ``STALL_WORK`` = 100,000 task-iterations; ``null`` disables it), or ``max_iter`` (4000 as in the
    paper). See docs/erds.md, "BRB stopping rule".
decimals : round BRB box ends (the paper uses 3); default None.
allocation : baselines with their own split rule get ``"optimal"`` shares for those splits (the
    convex problem, solved by the share LP of formulations/erds/exact.py) by default under the
    exact evaluator, and ``"brb"`` (the paper's choice) under the sampled one.
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.erds.evaluate import evaluate, objective, sampled
from optoffload.erds.model import ErdsInstance, decisions
from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status

from .brb import STALL_WORK, brb
from optoffload.erds.inner import hsa, osa


def _opt(evaluator: str) -> str:
    if evaluator not in ("exact", "sampled"):
        raise InvalidInstance("evaluator", f"must be 'exact' or 'sampled', got {evaluator!r}")
    return evaluator


def _score(inst: ErdsInstance, s, w, evaluator: str, early_exit: bool = True) -> float:
    if evaluator == "sampled":
        return sampled(inst, s, w, early_exit=early_exit)[0]
    return objective(inst, s, w, early_exit=early_exit)


def _box(inst: ErdsInstance) -> tuple[np.ndarray, np.ndarray]:
    U = inst.U
    lo = np.full(U, inst.w_min)
    hi = np.full(U, inst.share_max)
    return lo, hi


def _solution(inst, method, s, w, evaluator, t0, *, bound=None, early_exit=True, info=None) -> Solution:
    dec = decisions(s, w, evaluator=evaluator, early_exit=early_exit)
    val = evaluate(inst, dec)
    if bound is not None:
        bound = min(bound, val)
    return Solution("erds", inst.name, method, Status.FEASIBLE, val, bound, time.perf_counter() - t0, dec,
                    dict(info or {}))


def _brb_method(inst: ErdsInstance, method: str, inner: str, *, time_limit=None, evaluator="exact", tol=1e-4,
                max_iter=4000, decimals=None, early_exit=True, splits=None, stall_work=STALL_WORK) -> Solution:
    """BRB over shares with an inner split rule (``osa``, ``hsa`` or fixed ``splits``)."""
    t0 = time.perf_counter()
    evaluator = _opt(evaluator)
    if inner == "fixed":
        def split_of(w):
            return splits
    elif inner == "osa":
        def split_of(w):
            return osa(inst, w, early_exit=early_exit)
    else:
        def split_of(w):
            return hsa(inst, w, early_exit=early_exit)
    if inner == "osa" and evaluator == "exact":
        seen: dict = {}  # shares -> OSA splits, so the final split_of(best w) is not one more OSA solve

        def F(w):
            s, val = osa(inst, w, early_exit=early_exit, return_value=True)
            if len(seen) > 64:
                seen.clear()
            seen[np.asarray(w, dtype=float).tobytes()] = s
            return val

        def split_of(w, _plain=split_of):
            hit = seen.get(np.asarray(w, dtype=float).tobytes())
            return hit if hit is not None else _plain(w)
    else:
        def F(w):
            return _score(inst, split_of(w), w, evaluator, early_exit)
    lo, hi = _box(inst)
    if stall_work is not None and (isinstance(stall_work, bool) or not isinstance(stall_work, int) or stall_work < 1):
        raise InvalidInstance("stall_work", f"must be a positive integer or null, got {stall_work!r}")
    w, _, bound, info = brb(F, lo, hi, inst.capacity, tol=tol, max_iter=max_iter, time_limit=time_limit,
                            decimals=decimals, stall_work=stall_work)
    # a proven bound on eq. (7) only with exact monotone F* (OSA inner, exact evaluator, early exits)
    valid = evaluator == "exact" and inner == "osa" and early_exit
    info.update(inner=inner, evaluator=evaluator, bound_valid=valid, brb_bound=bound)
    return _solution(inst, method, split_of(w), w, evaluator, t0, bound=bound if valid else None,
                     early_exit=early_exit, info=info)


def erds_osa(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", tol=1e-4, max_iter=4000,
             decimals=None, stall_work=STALL_WORK) -> Solution:
    """ERDS-OSA (erds.md 4): BRB allocation (3.1) with optimal splitting OSA (3.2)."""
    return _brb_method(inst, "erds-osa", "osa", time_limit=time_limit, evaluator=evaluator, tol=tol,
                       max_iter=max_iter, decimals=decimals, stall_work=stall_work)


def erds_hsa(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", tol=1e-4, max_iter=4000,
             decimals=None, stall_work=STALL_WORK) -> Solution:
    """ERDS-HSA (erds.md 4): BRB allocation (3.1) with per-task heuristic splitting HSA (3.3)."""
    return _brb_method(inst, "erds-hsa", "hsa", time_limit=time_limit, evaluator=evaluator, tol=tol,
                       max_iter=max_iter, decimals=decimals, stall_work=stall_work)


def erds_brb(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", inner="osa", tol=1e-4,
             max_iter=20000, decimals=None, stall_work=STALL_WORK) -> Solution:
    """BRB (erds.md 3.1) run to its tolerance; with ``inner="osa"`` and the exact evaluator its
    bound is a proven lower bound (monotonicity of F*, erds.md 2.3).

    ``inner`` (the splitting rule BRB calls for each share vector: "osa", optimal, or "hsa", per task)."""
    if inner not in ("osa", "hsa"):
        raise InvalidInstance("inner", f"must be 'osa' or 'hsa', got {inner!r}")
    return _brb_method(inst, "erds-brb", inner, time_limit=time_limit, evaluator=evaluator, tol=tol,
                       max_iter=max_iter, decimals=decimals, stall_work=stall_work)


def _fixed_split_method(inst, method: str, splits, *, time_limit, evaluator, allocation, tol, max_iter,
                        early_exit=True) -> Solution:
    evaluator = _opt(evaluator)
    if allocation is None:
        allocation = "optimal" if evaluator == "exact" else "brb"
    if allocation not in ("optimal", "brb"):
        raise InvalidInstance("allocation", f"must be 'optimal' or 'brb', got {allocation!r}")
    if allocation == "brb" or evaluator == "sampled":
        return _brb_method(inst, method, "fixed", time_limit=time_limit, evaluator=evaluator, tol=tol,
                           max_iter=max_iter, early_exit=early_exit, splits=np.asarray(splits))
    from optoffload.erds.shares import solve_shares

    t0 = time.perf_counter()
    from optoffload.erds.shares import LEAF_GAP

    w, ub, lb = solve_shares(inst, splits, early_exit=early_exit, time_limit=time_limit)
    info = {"allocation": "optimal", "share_bound_for_these_splits": lb}
    if ub - lb > 2 * LEAF_GAP * max(1.0, abs(ub)):  # stopped by the time limit: the best shares so far
        info["time_limit_reached"] = True
    return _solution(inst, method, splits, w, evaluator, t0, early_exit=early_exit, info=info)


def _fixed_share_method(inst, method: str, w, *, evaluator, split_rule) -> Solution:
    t0 = time.perf_counter()
    evaluator = _opt(evaluator)
    s = osa(inst, w) if split_rule == "osa" else hsa(inst, w)
    return _solution(inst, method, s, w, evaluator, t0, info={"split_rule": split_rule})


def iao(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", tol=1e-4, max_iter=4000,
        decimals=None, stall_work=STALL_WORK) -> Solution:
    """IAO (erds.md 4): joint splitting and allocation for a DNN *without* early exits: OSA with
    pi = (0, .., 0, 1) inside BRB, and every task runs to exit K (decisions ``early_exit: false``)."""
    return _brb_method(inst, "iao", "osa", time_limit=time_limit, evaluator=evaluator, tol=tol,
                       max_iter=max_iter, decimals=decimals, early_exit=False,
                       stall_work=stall_work)


def _equal(inst) -> np.ndarray:
    return np.full(inst.U, min(inst.share_max, inst.capacity / inst.U))


def edgent_e(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", split_rule="osa") -> Solution:
    """Edgent-E (erds.md 4): early-exit-aware splits (OSA) with equal shares C/U.

    ``split_rule`` (how the splits are chosen for the fixed shares: "osa", optimal, or "hsa", per task)."""
    return _fixed_share_method(inst, "edgent-e", _equal(inst), evaluator=evaluator, split_rule=split_rule)


def edgent_m(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", split_rule="osa") -> Solution:
    """Edgent-M (erds.md 4): early-exit-aware splits (OSA) with minimum shares w_min.

    ``split_rule`` (how the splits are chosen for the fixed shares: "osa", optimal, or "hsa", per task)."""
    return _fixed_share_method(inst, "edgent-m", np.full(inst.U, inst.w_min), evaluator=evaluator,
                               split_rule=split_rule)


def cloud_only(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", allocation=None, tol=1e-4,
               max_iter=4000) -> Solution:
    """Cloud-Only (erds.md 4): s_u = 0 (only the stem on the edge)."""
    return _fixed_split_method(inst, "cloud-only", np.zeros(inst.U, dtype=int), time_limit=time_limit,
                               evaluator=evaluator, allocation=allocation, tol=tol, max_iter=max_iter)


def edge_only(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", allocation=None, tol=1e-4,
              max_iter=4000) -> Solution:
    """Edge-Only (erds.md 4): s_u = K (the whole DNN on the edge, nothing uploaded)."""
    return _fixed_split_method(inst, "edge-only", np.full(inst.U, inst.K, dtype=int), time_limit=time_limit,
                               evaluator=evaluator, allocation=allocation, tol=tol, max_iter=max_iter)


def random_split(inst, *, time_limit=None, seed=0, threads=None, evaluator="exact", allocation=None, tol=1e-4,
                 max_iter=4000) -> Solution:
    """Random (erds.md 4): s_u ~ Uniform{0..K} from ``seed``."""
    s = np.random.default_rng(seed).integers(0, inst.K + 1, size=inst.U)
    sol = _fixed_split_method(inst, "random", s, time_limit=time_limit, evaluator=evaluator,
                              allocation=allocation, tol=tol, max_iter=max_iter)
    sol.info["seed"] = seed
    return sol
