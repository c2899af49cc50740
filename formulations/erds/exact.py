"""ERDS certified global optimum of eq. (7): branch and bound over splits, LP cutting planes on shares.

Model (erds.md 2.2): min_{s, w} F(w, s) = E[max_u T_u(s_u, X_u, w_u)] with
T_u = A[u,s_u,X_u] / w_u + B[u,s_u,X_u], w_min <= w_u <= w_max, sum_u w_u <= C.

Why this method (docs/erds.md, "erds-exact"):

* Substitute y_u = 1/w_u. For fixed splits every T_u is affine in y_u, so F is an expectation of
  a max of affine functions: convex and piecewise linear in y. A subgradient comes for free from
  the product-of-CDFs evaluation (``expected_max_sel``): dF/dy_u = E[A_u 1{u is the argmax}].
  Kelley cuts theta >= F(y0) + g (y - y0) are therefore exact facets of F.
* The capacity constraint sum_u 1/y_u <= C is convex and separable: with w_u >= 1/y_u it is
  outer-approximated by tangent cuts w_u >= 2/y0 - y_u/y0^2 and sum_u w_u <= C.
* The LP (HiGHS, via highspy) min theta over these cuts is a relaxation: its value is a valid lower
  bound. Its solution, pulled back onto sum w <= C, is feasible: an upper bound. Iterate to a
  relative gap of 1e-8 (leaf) or until the bound exceeds the incumbent (prune).
* Splits: best-first branch and bound over tasks, with a depth-first dive every ``DIVE_EVERY``
  pops to find incumbents. A split that is pointwise slower than another split over the task's
  whole share range is removed up front. At a node each task u not yet fixed ("free") gets, per
  exit k, an affine underestimator a_uk y_u + b_uk of m_uk(y) = min_s A[u,s,k] y + B[u,s,k]
  (min over its candidate splits) on its range y in [y1, y2] = [1/hi_u, 1/lo_u]:

  - ``relaxation="coupled"`` (default; docs/erds.md "erds-exact: the coupled node relaxation"):
    the chord of m_uk through (y1, m_uk(y1)) and (y2, m_uk(y2)). Validity: m_uk is a minimum
    of affine functions of y, hence concave, and a concave function lies above its chord on the
    interval between the chord's ends. So for every split s and every share w_u in [lo_u, hi_u],
    T_u(s, k, w_u) >= m_uk(1/w_u) >= chord(1/w_u). The slope (m(y2) - m(y1)) / (y2 - y1) is >= 0
    because A >= 0. Free tasks keep their full share range and take part in the capacity cuts,
    so they compete for capacity with the fixed tasks. The chord is the convex envelope of m_uk
    on [y1, y2]: no convex underestimator of m_uk alone is tighter (one that ties a task's
    split across its exits could be).
  - ``relaxation="simple"`` (the former relaxation): the constant m_uk(y1), the fastest split at
    the largest share, with the task's share pinned at w_min (it uses the least capacity).

  In both, each task's relaxed time is <= its true time at the same y and the node's feasible
  set contains (the y, w of) every leaf below it; E[max] is non-decreasing in each task's time,
  so the node LP value is <= F at every leaf below it. The node's F is convex in y (expectation
  of a max of affine functions, a >= 0), so its Kelley cuts are valid for it, and a child's F is
  pointwise >= its parent's on the same box (fixing a split replaces the underestimator by one of
  the functions it underestimates), so children inherit the parent's cuts. Pointwise, the
  coupled node value is >= the simple one: from any coupled point, pin the free tasks' shares to
  w_min (capacity still met) and replace their chord times by the constant m(y1) <= chord.

Node LPs (``share_lp="warm"``, default; docs/erds.md "erds-exact: warm-started share LPs"): a
child starts from its parent's rows (Kelley cuts and tangents, valid by the argument above) and
HiGHS basis, a node's cutting planes stop at the gap, at the prune threshold or when they stall
(``STALL_ROUNDS``), and the incumbent is polished from its own leaf's LP. ``share_lp="legacy"``
keeps the implementation before issue #15 (fresh LP per node) for comparisons.

The returned bound is min(incumbent, LP bounds of all pruned nodes and leaves); status OPTIMAL
means the tree was exhausted, so bound <= optimum <= objective with gap <= 1e-6. Time or node
limit: FEASIBLE with the incumbent and min(incumbent, closed bounds, keys of the open nodes). A
node's key is max(parent key, own bounds), so this bound never decreases as more nodes are
processed, and best-first order raises it as fast as the relaxation allows.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from optoffload.erds.evaluate import objective
from optoffload.erds._shares_legacy import solve_node_legacy
from optoffload.erds.model import ErdsInstance, decisions
from optoffload.erds.shares import (INNER_GAP, LEAF_GAP, PRUNE_TOL, RELAXATIONS, _Problem, _solve_node, _Timeout,
                                    feasible_shares)
from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status

SHARE_LPS = ("warm", "legacy")
"""Node LP implementations of ``share_lp`` (docs/erds.md, "erds-exact: warm-started share LPs")."""

DIVE_EVERY = 8
"""Best-first pops between two depth-first dives (which look for incumbents)."""


def solve_exact(inst: ErdsInstance, *, time_limit: float | None = None, seed: int = 0, threads: int | None = None,
                gap: float = LEAF_GAP, early_exit: bool = True, node_limit: int | None = None,
                relaxation: str = "coupled", inner_gap: float = INNER_GAP, share_lp: str = "warm") -> Solution:
    """``erds-exact``: certified global optimum of eq. (7) (module docstring).

    ``early_exit`` (model the early exits of eq. (7); False: every task runs to its last exit, as without exits).

    Node order (docs/erds.md, "erds-exact: bound under a limit"): best-first on the node bound,
    with a depth-first dive every ``DIVE_EVERY`` pops. Every node carries a key that is a valid
    lower bound on its subtree and never below its parent's key, so the reported bound
    min(incumbent, open keys, closed bounds) is non-decreasing in the number of nodes processed.
    ``node_limit`` (deterministic) stops after that many tree nodes, like ``time_limit``.
    ``relaxation`` picks the node relaxation of the free tasks: "coupled" (default, chords that
    compete for capacity) or "simple" (fastest split at the largest share, w_min of capacity);
    both are valid, see the module docstring. ``inner_gap`` is the relative gap to which inner
    nodes' LPs are closed (``INNER_GAP``); leaves use ``gap``.
    ``share_lp`` picks the node LP implementation (docs/erds.md, "erds-exact: warm-started share
    LPs"): "warm" (default) hands each child its parent's cuts, tangents and HiGHS basis, stops a
    node's cutting planes when they stall and polishes the incumbent from its leaf's LP;
    "legacy" is the implementation before issue #15 (fresh model per node, kept for
    comparisons). Both are valid relaxations and certify the same optima.
    ``threads`` is accepted and ignored (one HiGHS thread).
    """
    if not (isinstance(gap, float) and 0 < gap < 0.1):
        raise InvalidInstance("gap", f"must be a float in (0, 0.1), got {gap!r}")
    if node_limit is not None and (isinstance(node_limit, bool) or not isinstance(node_limit, int) or node_limit < 0):
        raise InvalidInstance("node_limit", f"must be an integer >= 0, got {node_limit!r}")
    if not (isinstance(inner_gap, float) and 0 < inner_gap < 0.1):
        raise InvalidInstance("inner_gap", f"must be a float in (0, 0.1), got {inner_gap!r}")
    if share_lp not in SHARE_LPS:
        raise InvalidInstance("share_lp", f"must be one of {SHARE_LPS}, got {share_lp!r}")
    if relaxation not in RELAXATIONS:
        raise InvalidInstance("relaxation", f"must be one of {RELAXATIONS}, got {relaxation!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    prob = _Problem(inst, early_exit, relaxation)
    solve_node = _solve_node if share_lp == "warm" else solve_node_legacy
    U = prob.U
    from optoffload.erds.inner import hsa, osa

    stats = {"nodes": 0, "leaves": 0, "lp_pruned": 0, "cheap_pruned": 0, "dives": 0, "candidate_splits": prob.cand}
    inc_val, inc_s, inc_w, inc_state = np.inf, None, None, None
    a0, b0 = prob.relaxed_rows({})
    root_lb = prob.value(a0, b0, 1.0 / prob.hi)[0]  # every task at its fastest split and largest share
    closed = np.inf  # min bound of closed (pruned or solved) subtrees
    # open nodes: heap of (key, -depth, tie, fixed, cuts); key = valid bound of the subtree
    heap: list = [(root_lb, 0, 0, {}, [])]
    tie = 1
    seen: dict = {}
    current = None  # the node being processed (still open)
    dive = None  # node to process next in a depth-first dive (open, not in the heap)
    try:
        # incumbent: alternate best splits for the shares and optimal shares for the splits
        w = feasible_shares(np.full(U, prob.C / U), prob.lo, prob.hi, prob.C)
        for _ in range(5):
            s = osa(inst, w, early_exit=early_exit) if U <= 6 else hsa(inst, w, early_exit=early_exit)
            s = tuple(int(x) for x in s)
            if s in seen:
                break
            try:
                lb, ub, wn, st = solve_node(prob, dict(enumerate(s)), [], np.inf, gap, deadline)
            except _Timeout as to:  # keep the leaf's best shares so far as the incumbent (feasible)
                if to.w is not None and to.ub < inc_val:
                    inc_val, inc_s, inc_w = to.ub, s, to.w
                raise
            seen[s] = lb
            stats["leaves"] += 1
            if ub < inc_val:
                inc_val, inc_s, inc_w, inc_state = ub, s, wn, st
            w = wn
        order = list(np.argsort([-(prob.A[u, :, -1].max() / prob.hi[u] + prob.B[u].max()) for u in range(U)]))
        pops = 0
        diving = False
        while heap or dive is not None:
            if dive is not None:
                key, _, _, fixed, cuts = dive
                dive = None
            else:
                key, _, _, fixed, cuts = heapq.heappop(heap)
                pops += 1
                diving = pops % DIVE_EVERY == 0
                if diving:
                    stats["dives"] += 1
            current = (key, fixed, cuts)
            if key >= inc_val * (1 - PRUNE_TOL):
                closed = min(closed, key)
                current = None
                continue
            if node_limit is not None and stats["nodes"] >= node_limit:
                raise _Timeout(key)
            stats["nodes"] += 1
            depth = len(fixed)
            leaf_key = tuple(fixed[u] for u in range(U)) if depth == U else None
            if leaf_key in seen:
                closed = min(closed, max(key, seen[leaf_key]))  # solved while building the incumbent
                current = None
                continue
            try:
                node_gap = gap if depth == U else max(gap, inner_gap)
                lb, ub, wn, ncuts = solve_node(prob, fixed, cuts, inc_val * (1 - PRUNE_TOL), node_gap, deadline)
            except _Timeout as to:
                current = (max(key, float(to.lb)), fixed, cuts)
                if depth == U and to.w is not None and to.ub < inc_val:  # a leaf's shares are feasible
                    inc_val, inc_s, inc_w = to.ub, leaf_key, to.w
                raise
            lb = max(lb, key)
            current = None
            if depth == U:
                stats["leaves"] += 1
                if ub < inc_val:
                    inc_val, inc_s, inc_w, inc_state = ub, leaf_key, wn, ncuts
                closed = min(closed, lb)
                continue
            if lb >= inc_val * (1 - PRUNE_TOL):
                stats["lp_pruned"] += 1
                closed = min(closed, lb)
                continue
            u = order[depth]
            kids = []
            for s in prob.cand[u]:
                f2 = dict(fixed)
                f2[u] = s
                a, b = prob.relaxed_rows(f2)
                kids.append((max(lb, prob.value(a, b, 1.0 / prob.hi)[0]), s, f2))
            kids.sort(key=lambda x: (x[0], x[1]))
            for cheap, s, f2 in kids:
                if cheap >= inc_val * (1 - PRUNE_TOL):
                    stats["cheap_pruned"] += 1
                    closed = min(closed, cheap)
                    continue
                node = (cheap, -(depth + 1), tie, f2, ncuts)
                tie += 1
                if diving and dive is None:
                    dive = node  # the most promising child: continue the dive with it
                else:
                    heapq.heappush(heap, node)
            if dive is None:
                diving = False
        bound = min(inc_val, closed)
        status = Status.OPTIMAL
    except _Timeout:
        open_keys = [k for k, *_ in heap]
        if dive is not None:
            open_keys.append(dive[0])
        if current is not None:
            open_keys.append(current[0])
        bound = min([inc_val, closed, *open_keys])
        status = Status.FEASIBLE if inc_s is not None else Status.UNKNOWN
    stats["open_nodes"] = len(heap) + (dive is not None) + (current is not None)
    if inc_s is not None and (deadline is None or time.perf_counter() < deadline):
        # polish (only with time left: its first cuts cost two evaluations before any deadline
        # check): the incumbent leaf was closed to ``gap`` with inherited cuts; a 100x tighter share
        # solve for the same splits can only lower the objective (the bound is unchanged). "warm"
        # continues from the leaf's own LP (its cuts are valid for the same splits) and stops when
        # the cutting planes stall; "legacy" starts a fresh LP and runs up to 500 rounds
        try:
            polish_from = inc_state if share_lp == "warm" else []
            _, ub, wn, _ = solve_node(prob, dict(enumerate(inc_s)), polish_from, np.inf, gap * 1e-2, deadline)
            if ub < inc_val:
                inc_val, inc_w = ub, wn
        except _Timeout:
            pass
    stats["candidate_splits"] = [list(map(int, c)) for c in prob.cand]
    stats["lp_solves"] = prob.lp_solves
    runtime = time.perf_counter() - t0
    if inc_s is None:
        return Solution("erds", inst.name, "erds-exact", Status.UNKNOWN, None, bound, runtime, None, stats)
    dec = decisions(inc_s, inc_w, early_exit=early_exit)
    val = objective(inst, inc_s, inc_w, early_exit=early_exit)
    if bound is not None:
        bound = min(bound, val)
    return Solution("erds", inst.name, "erds-exact", status, val, bound, runtime, dec, stats)
