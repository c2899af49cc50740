"""ERDS optimal edge shares for fixed splits: HiGHS cutting-plane LPs on y_u = 1/w_u.

The convex share problem of eq. (7) (erds.md 2.2) with the splits fixed, and the node LP that
``erds-exact`` (``optoffload.formulations.erds.exact``) solves at every tree node. Lives in the
core family package because both the exact method and the heuristics (optimal shares for their
splits) need it; the argument for its validity is in the docstring of the exact method's module
and in docs/erds.md ("erds-exact").

Public helper for method authors: :func:`optimal_shares` (optimal shares for given splits,
re-exported as ``optoffload.erds.optimal_shares``).
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from optoffload.erds.evaluate import exit_matrix, expected_max_sel, time_tables
from optoffload.erds.model import ErdsInstance
from optoffload.errors import InvalidInstance

LEAF_GAP = 1e-8
"""Relative gap to which a leaf's share LP is closed."""
PRUNE_TOL = 1e-8
"""A node is pruned when its bound >= incumbent * (1 - PRUNE_TOL)."""
INNER_GAP = 1e-2
"""Relative gap to which an inner (non-leaf) node's LP is closed. Any stopping point of the cutting
planes gives a valid bound (the LP is a relaxation); leaves still close to ``gap``, so certified
optima do not change. Measured in docs/erds.md ("erds-exact: the coupled node relaxation")."""


class _Timeout(Exception):
    """The deadline passed inside :func:`_solve_node`: ``args = (lower bound, best value, best shares)``.

    Internal: every caller catches it (``solve_shares`` returns the incumbent shares instead), so it
    never escapes a method under a time limit (issue #14, item 4).
    """

    def __init__(self, lb: float, ub: float = float("inf"), w=None):
        super().__init__(lb, ub, w)
        self.lb, self.ub, self.w = lb, ub, w


def _bounds(inst: ErdsInstance) -> tuple[np.ndarray, np.ndarray]:
    U = inst.U
    lo = np.full(U, inst.w_min)
    hi = np.minimum(inst.share_max, inst.capacity - (U - 1) * inst.w_min)
    return lo, np.maximum(hi, lo)


def feasible_shares(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, C: float) -> np.ndarray:
    """Pull ``w`` (clipped to [lo, hi]) down onto sum <= C: w_u <- max(lo_u, t w_u).

    F is non-increasing in every share, so the result is a feasible point whose value is an upper
    bound; it equals ``w`` when ``w`` is already feasible. ``t`` is the largest root of the
    piecewise-linear, non-decreasing g(t) = sum_u max(lo_u, t w_u) = C, found in closed form over
    the sorted breakpoints lo_u / w_u (the former 100-step bisection, issue #15), then nudged
    down by a few ulps until the sum is <= C in floating point.
    """
    w = np.clip(w, lo, hi)
    if w.sum() <= C:
        return w
    slo = float(lo.sum())
    if slo >= C:
        return lo.copy()
    bk = lo / w  # task u is scaled (t w_u >= lo_u) for t >= bk[u]
    order = np.argsort(bk)
    b = bk[order]
    cw = np.cumsum(w[order])
    clo = np.cumsum(lo[order])
    g = b * cw + (slo - clo)  # g at each breakpoint, non-decreasing
    j = int(np.searchsorted(g, C, side="right")) - 1  # last breakpoint with g <= C
    t = 0.0 if j < 0 else min(1.0, max(float(b[j]), (C - slo + float(clo[j])) / float(cw[j])))
    out = np.maximum(lo, t * w)
    while out.sum() > C and t > 0:
        t = float(np.nextafter(t, 0.0)) * (1 - 4e-16)
        out = np.maximum(lo, t * w)
    return out


class ShareLP:
    """The cutting-plane LP in (theta, y, w) of one node (module docstring).

    Columns: theta (0), y_u (1..U), w_u (U+1..2U); row 0 is sum_u w_u <= C. One HiGHS object
    lives for the whole node: rows are added in one ``addRows`` batch per cutting-plane round,
    so HiGHS re-solves from the previous optimal basis (dual simplex warm start). A child node
    starts from its parent's rows (Kelley cuts stay valid: its objective is pointwise >= the
    parent's; tangents w_u >= 2/y0 - y_u/y0^2 are valid everywhere) and its final basis.
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray, C: float, cuts: list = (), tangents: list = (),
                 parent: "NodeState | None" = None):
        import highspy

        self.U = U = len(lo)
        self.lo, self.hi, self.C = lo, hi, C
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("threads", 1)
        self.inf = inf = highspy.kHighsInf
        self._optimal = highspy.HighsModelStatus.kOptimal
        cost = np.zeros(2 * U + 1)
        cost[0] = 1.0
        h.addVars(2 * U + 1, np.r_[0.0, 1.0 / hi, lo], np.r_[inf, 1.0 / lo, hi])
        h.changeColsCost(2 * U + 1, np.arange(2 * U + 1, dtype=np.int32), cost)
        h.addRow(-inf, C, U, np.arange(U + 1, 2 * U + 1, dtype=np.int32), np.ones(U))
        self.h = h
        self._cols = np.arange(U + 1, dtype=np.int32)
        # the rows beyond the capacity row, as CSR pieces (lower bounds, lengths, indices, values)
        self._lower: list = []
        self._len: list = []
        self._idx: list = []
        self._val: list = []
        self._tkeys: set = set()
        if parent is not None:
            lower, lens, idx, val = parent.rows
            self._push(lower, lens, idx, val)
            self._tkeys = set(parent.tkeys)
            if parent.basis is not None:
                h.setBasis(parent.basis)
        self.add(list(cuts), list(tangents))

    def _push(self, lower, lens, idx, val) -> None:
        m = len(lower)
        if not m:
            return
        starts = np.zeros(m, dtype=np.int32)
        np.cumsum(lens[:-1], out=starts[1:])
        self.h.addRows(m, lower, np.full(m, self.inf), len(idx), starts, idx, val)
        self._lower.append(lower)
        self._len.append(lens)
        self._idx.append(idx)
        self._val.append(val)

    def add(self, cuts: list, tangents: list) -> None:
        """Add Kelley cuts (g, rhs): theta - g . y >= rhs, and tangents (u, y0):
        w_u + y_u / y0^2 >= 2 / y0, in one batch; tangents already present are skipped."""
        U = self.U
        lower, lens, idx, val = [], [], [], []
        if cuts:
            D = np.empty((len(cuts), U + 1))
            D[:, 0] = 1.0
            D[:, 1:] = -np.array([g for g, _ in cuts])
            mask = D != 0
            lower.append(np.array([r for _, r in cuts], dtype=float))
            lens.append(mask.sum(axis=1).astype(np.int32))
            idx.append(np.broadcast_to(self._cols, D.shape)[mask])
            val.append(D[mask])
        tl, ti, tv = [], [], []
        for u, y0 in tangents:
            key = (u, round(float(y0), 12))
            if key in self._tkeys:
                continue
            self._tkeys.add(key)
            tl.append(2.0 / y0)
            ti += (1 + u, 1 + U + u)
            tv += (1.0 / y0 ** 2, 1.0)
        if tl:
            lower.append(np.array(tl))
            lens.append(np.full(len(tl), 2, dtype=np.int32))
            idx.append(np.array(ti, dtype=np.int32))
            val.append(np.array(tv))
        if lower:
            self._push(np.concatenate(lower), np.concatenate(lens), np.concatenate(idx).astype(np.int32),
                       np.concatenate(val))

    def rows(self) -> tuple:
        """The cut and tangent rows as (lower, lengths, indices, values) arrays."""
        if not self._lower:
            return (np.zeros(0), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        return tuple(np.concatenate(x) for x in (self._lower, self._len, self._idx, self._val))

    def solve(self) -> tuple[float, np.ndarray] | None:
        """Optimal (theta, y) of the LP, or None when HiGHS does not report OPTIMAL twice."""
        h = self.h
        h.run()
        if h.getModelStatus() != self._optimal:
            h.clearSolver()  # numerical trouble with a warm basis: retry from scratch
            h.run()
            if h.getModelStatus() != self._optimal:
                return None
        x = np.asarray(h.getSolution().col_value)
        return float(h.getInfo().objective_function_value), x[1:1 + self.U]


class NodeState:
    """What a node hands its children (and the incumbent's leaf hands the polish solve): its cut
    and tangent rows (``ShareLP.rows``), the tangents' keys, HiGHS's final basis, and its last
    LP point and best shares."""

    __slots__ = ("rows", "tkeys", "basis", "y", "w")

    def __init__(self, rows: tuple, tkeys: set, basis=None, y=None, w=None):
        self.rows, self.tkeys, self.basis, self.y, self.w = rows, tkeys, basis, y, w


STALL_ROUNDS = 4
"""A node's cutting planes stop after this many rounds without progress in either bound (the LP
has reached HiGHS's 1e-9 feasibility tolerances; the bounds kept are still valid)."""


RELAXATIONS = ("coupled", "simple")
"""Node relaxations of the free (not yet fixed) tasks; module docstring and docs/erds.md
"erds-exact: the coupled node relaxation"."""


class _Problem:
    def __init__(self, inst: ErdsInstance, early_exit: bool = True, relaxation: str = "coupled"):
        self.inst = inst
        self.relaxation = relaxation
        self.A, self.B = time_tables(inst)
        self.P = exit_matrix(inst, early_exit)
        self.lo, self.hi = _bounds(inst)
        self.C = inst.capacity
        self.U, self.K = inst.U, inst.K
        self.lp_solves = 0  # LP solves so far (deterministic; erds-exact reports it)
        self.tangents: list = []
        for u in range(self.U):
            for y0 in np.geomspace(1.0 / self.hi[u], 1.0 / self.lo[u], 6):
                self.tangents.append((u, float(y0)))
        # splits pointwise dominated over y in [1/hi, 1/lo] (T affine in y: check both ends)
        self.cand = []
        for u in range(self.U):
            ends = [self.A[u] * y + self.B[u] for y in (1.0 / self.hi[u], 1.0 / self.lo[u])]
            keep = []
            for s in range(self.K + 1):
                dom = any(all(np.all(e[r] <= e[s] + 1e-12) for e in ends)
                          and (r < s or any(np.any(e[r] < e[s] - 1e-12) for e in ends))
                          for r in range(self.K + 1) if r != s)
                if not dom:
                    keep.append(s)
            self.cand.append(keep)
        # free-task rows (a_u, b_u): T_u(y) >= a_u y + b_u for every candidate split, y in [1/hi, 1/lo]
        y1, y2 = 1.0 / self.hi, 1.0 / self.lo
        self.free_a = np.zeros((self.U, self.K))
        self.free_b = np.zeros((self.U, self.K))
        for u in range(self.U):
            c = self.cand[u]
            m1 = (self.A[u, c] * y1[u] + self.B[u, c]).min(axis=0)  # fastest split at the largest share
            if relaxation == "simple" or not y2[u] > y1[u]:
                self.free_b[u] = m1
                continue
            # chord of the concave m(y) = min_s A_s y + B_s between y1 and y2 (per exit); A >= 0
            # makes m non-decreasing, so the slope is >= 0 (also in floating point)
            m2 = (self.A[u, c] * y2[u] + self.B[u, c]).min(axis=0)
            slope = np.maximum((m2 - m1) / (y2[u] - y1[u]), 0.0)
            self.free_a[u] = slope
            self.free_b[u] = m1 - slope * y1[u]

    def relaxed_rows(self, fixed: dict) -> tuple[np.ndarray, np.ndarray]:
        """Per task (a_u, b_u) rows of T_u = a_u y_u + b_u: fixed tasks their split's times, free
        tasks the relaxation's underestimator (a constant for "simple", a chord for "coupled")."""
        a = self.free_a.copy()
        b = self.free_b.copy()
        for u, s in fixed.items():
            a[u], b[u] = self.A[u, s], self.B[u, s]
        return a, b

    def value(self, a, b, y) -> tuple[float, np.ndarray]:
        val, sel = expected_max_sel(a * y[:, None] + b, self.P)
        return val, (sel * a).sum(axis=1)


def _solve_node(prob: _Problem, fixed: dict, state: "NodeState | list | None", threshold: float, gap: float,
                deadline: float | None) -> tuple[float, float, np.ndarray | None, NodeState]:
    """Close the node's share problem. Returns (lower bound, upper bound, shares, state).

    ``state`` is the parent's :class:`NodeState` (or a list of its Kelley cuts, or None/[] for a
    fresh node). Each round solves the LP, pulls its point onto sum w <= C (an upper bound),
    and adds Kelley cuts at both points and the tangents at the LP point in one batch; it stops
    at the relative ``gap``, as soon as the LP bound reaches ``threshold`` (the node is pruned),
    or after ``STALL_ROUNDS`` rounds without progress.
    """
    U = prob.U
    lo = prob.lo.copy()
    hi = prob.hi.copy()
    coupled = prob.relaxation == "coupled"
    if not coupled:
        for u in range(U):
            if u not in fixed:
                hi[u] = lo[u]  # free tasks keep only w_min of the capacity
    a, b = prob.relaxed_rows(fixed)
    if isinstance(state, NodeState):
        lp = ShareLP(lo, hi, prob.C, parent=state)
    else:
        lp = ShareLP(lo, hi, prob.C, list(state or []), prob.tangents)
    # initial cuts: at the largest shares and at equal shares (an upper bound), and when a
    # parent is given at its last LP point and best shares (where the parent's cuts are tight)
    w_eq = feasible_shares(np.full(U, prob.C / U), lo, hi, prob.C)
    pts = [1.0 / hi, 1.0 / w_eq]
    if isinstance(state, NodeState) and state.w is not None:
        pts += [1.0 / feasible_shares(state.w, lo, hi, prob.C), state.y]
    best_ub, best_w = np.inf, None
    new = []
    for i, y in enumerate(pts):
        v, g = prob.value(a, b, y)
        new.append((g, v - g @ y))
        if i in (1, 2) and v < best_ub:
            best_ub, best_w = v, 1.0 / y  # feasible points
    lp.add(new, [])
    lb = 0.0  # times are >= 0
    y = None
    ok = False  # the last LP solve was optimal (its basis is a warm start for the children)
    stall = 0
    for _ in range(500):
        if deadline is not None and time.perf_counter() > deadline:
            raise _Timeout(lb, best_ub, best_w)
        res = lp.solve()
        prob.lp_solves = getattr(prob, "lp_solves", 0) + 1  # any node problem (ERDS, dnn tables)
        ok = res is not None
        if res is None:
            break  # keep the last proven bound (cuts only tighten the LP, so it stays valid)
        tol = 1e-13 * max(1.0, abs(best_ub)) if np.isfinite(best_ub) else 0.0
        progress = res[0] > lb + tol
        lb, y = max(lb, res[0]), res[1]
        if lb >= threshold:
            break
        w = feasible_shares(1.0 / y, lo, hi, prob.C)
        yw = 1.0 / w
        v, g = prob.value(a, b, yw)
        if v < best_ub - tol:
            progress = True
        if v < best_ub:
            best_ub, best_w = v, w
        if best_ub - lb <= gap * max(1.0, abs(best_ub)):
            break
        stall = 0 if progress else stall + 1
        if stall >= STALL_ROUNDS:
            break
        v2, g2 = prob.value(a, b, y)
        lp.add([(g, v - g @ yw), (g2, v2 - g2 @ y)],
               [(u, float(y[u])) for u in range(U) if coupled or u in fixed])
    basis = lp.h.getBasis() if ok else None
    return lb, best_ub, best_w, NodeState(lp.rows(), lp._tkeys, basis, y, best_w)


def solve_shares(inst: ErdsInstance, splits, *, early_exit: bool = True, gap: float = LEAF_GAP,
                 time_limit: float | None = None) -> tuple[np.ndarray, float, float]:
    """Optimal shares for fixed splits (the convex problem in w): returns (shares, value, bound).

    Under ``time_limit`` the cutting planes stop at the deadline and the best shares found so far
    are returned (at worst the equal shares, feasible), with the last proven bound; the caller
    can tell by ``bound < value`` beyond ``gap``. :class:`_Timeout` never escapes.
    """
    t0 = time.perf_counter()
    prob = _Problem(inst, early_exit)
    fixed = {u: int(s) for u, s in enumerate(splits)}
    deadline = None if time_limit is None else t0 + time_limit
    try:
        lb, ub, w, _ = _solve_node(prob, fixed, [], np.inf, gap, deadline)
    except _Timeout as to:
        lb, ub, w = to.lb, to.ub, to.w
    return w, ub, lb




def optimal_shares(inst: ErdsInstance, splits: Sequence[int] | np.ndarray, *, early_exit: bool = True,
                   gap: float = LEAF_GAP) -> tuple[np.ndarray, float]:
    """Optimal edge shares for given splits: the convex share problem of eq. (7) (docs/erds.md 2.2).

    The public helper for ERDS method authors: choose the splits ``s_u in {0..K}`` (one per task),
    get the shares ``w`` minimising ``E[max_u T_u]`` subject to ``w_min <= w_u <= w_max`` and
    ``sum_u w_u <= capacity``, closed to relative ``gap`` by HiGHS cutting planes. Returns
    ``(shares, value)``; ``optoffload.erds.decisions(splits, shares)`` is then a plan that
    ``oo.evaluate`` scores to ``value``. Raises :class:`~optoffload.InvalidInstance` naming a
    bad split.
    """
    from optoffload.validate import as_int, as_list

    sl = as_list(splits.tolist() if isinstance(splits, np.ndarray) else splits, "splits", length=inst.U)
    s = [as_int(x, f"splits[{u}]", min=0, max=inst.K) for u, x in enumerate(sl)]
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not 0 < gap < 1:
        raise InvalidInstance("gap", f"must be a number in (0, 1), got {gap!r}")
    w, value, _ = solve_shares(inst, s, early_exit=early_exit, gap=float(gap))
    return np.asarray(w, dtype=float), float(value)
