"""Many tasks: candidate splits per task and the share problems (dnn-graphs.md "Many tasks").

With a candidate split fixed, task u's exit-k time is A_k / w_u + B_k with A, B >= 0: exactly the
table form of ERDS (erds.md 2.1, ``optoffload.erds.evaluate.time_tables``), with the task's
candidate splits in the role of ERDS's split points. :class:`TableProblem` therefore offers the
interface of ERDS's node problem (``optoffload.erds.shares._Problem``), so ERDS's HiGHS
cutting-plane share LP (``_solve_node``) closes a node's share problem unchanged.

Candidate sets (docs/dnn.md "Why the candidate set loses nothing"):

``"ideals"``    every edge set closed under predecessors, minus the splits pointwise dominated over
                the task's share range (T_k affine in y = 1/w, so checking both ends suffices).
                E[max] and the weighted sum are non-decreasing in every T_uk, so a dominated split
                can be swapped for its dominator at the same shares without loss: the optimum over
                the candidates is the optimum. Needs the closed sets enumerated (small graphs).
``"envelope"``  the pieces of the min-cut lower envelope of E[T_u] over the share range, plus the
                min cut of every exit prefix at every share the envelope search probed. Lossless for the ``"sum"``
                objective (at the optimal shares each task's best split is a min cut at its share,
                which is an envelope piece) and for one task (E[max] = E[T]); for E[max] of several
                tasks a heuristic candidate set (the split distribution, not only its mean, matters).
``"auto"``      ideals when every task has at most ``IDEAL_LIMIT`` closed sets, else envelope.
"""

from __future__ import annotations

import json
import time

import numpy as np

from ..erds.evaluate import expected_max_sel
from .cut import envelope, ideals, nondominated, tables
from .model import DnnInstance

IDEAL_LIMIT = 4096
"""Largest number of closed edge sets per task enumerated by the ``"ideals"`` candidate set."""
CANDIDATE_MODES = ("auto", "ideals", "envelope")


def share_bounds(inst: DnnInstance) -> tuple[np.ndarray, np.ndarray]:
    """Per-task share range [lo, hi]: hi = min(share_max, C - (U-1) w_min)."""
    U = inst.U
    lo = np.full(U, inst.w_min)
    hi = np.minimum(inst.share_max, inst.capacity - (U - 1) * inst.w_min)
    return lo, np.maximum(hi, lo)


class Candidates:
    """Per task: candidate edge masks ``masks[u]`` (S_u x n_u) and tables ``A[u], B[u]`` (S_u x K_u).

    ``certified`` is True when the set provably contains an optimal split vector for the
    instance's objective (module docstring)."""

    def __init__(self, inst: DnnInstance, mode: str = "auto", limit: int = IDEAL_LIMIT, *, masks=None,
                 deadline: float | None = None):
        """``deadline`` (a ``time.perf_counter()`` value): tasks reached after it get only the two
        splits that need no search, the forced set (cloud-only) and every layer (edge-only), so a
        time limit also bounds the preparation; such tasks are not certified (``kind="timed-out"``)."""
        if masks is not None:  # one given split per task (baselines: optimal shares for fixed splits)
            self.masks = [np.asarray(m, dtype=bool)[None, :] for m in masks]
            tabs = [tables(t, m) for t, m in zip(inst.tasks, self.masks)]
            self.A = [a for a, _ in tabs]
            self.B = [b for _, b in tabs]
            self.kind = ["given"] * inst.U
            self.certified = False
            self.mode = "given"
            return
        if mode not in CANDIDATE_MODES:
            from ..errors import InvalidInstance

            raise InvalidInstance("candidates", f"must be one of {CANDIDATE_MODES}, got {mode!r}")
        lo, hi = share_bounds(inst)
        memo: dict = {}  # identical tasks (same JSON, same share range) share their envelope
        self.masks, self.A, self.B, self.kind = [], [], [], []
        for u, t in enumerate(inst.tasks):
            y1, y2 = 1.0 / hi[u], 1.0 / lo[u]
            if deadline is not None and time.perf_counter() > deadline:
                from .cut import forced

                M = np.unique(np.array([forced(t), np.ones(t.n, dtype=bool)]), axis=0)
                A, B = tables(t, M)
                self.masks.append(M)
                self.A.append(A)
                self.B.append(B)
                self.kind.append("timed-out")
                continue
            M = None
            # a task has at least n closed sets (the prefixes of a topological order), so more
            # than ``limit`` layers means more than ``limit`` closed sets: skip the enumeration
            if mode == "ideals" or (mode == "auto" and t.n <= limit):
                M = ideals(t, limit=limit)
                if M is None and mode == "ideals":
                    from ..errors import InvalidInstance

                    raise InvalidInstance("candidates", f"task {t.name!r} has more than {limit} closed edge sets")
            kind = "ideals"
            key = None
            if M is None:
                kind = "envelope"
                key = (json.dumps(t.to_dict(), sort_keys=True), y1, y2)
                if key in memo:
                    M, A, B = memo[key]
                    self.masks.append(M)
                    self.A.append(A)
                    self.B.append(B)
                    self.kind.append(kind)
                    continue
                extra: list = []
                ms = envelope(t, y1, y2, collect=extra) + extra
                M = np.unique(np.array(ms, dtype=bool), axis=0)
            A, B = tables(t, M)
            keep = nondominated(A, B, y1, y2)
            self.masks.append(M[keep])
            self.A.append(A[keep])
            self.B.append(B[keep])
            self.kind.append(kind)
            if key is not None:
                memo[key] = (M[keep], A[keep], B[keep])
        self.certified = "timed-out" not in self.kind and (all(k == "ideals" for k in self.kind)
                                                          or inst.objective == "sum" or inst.U == 1)
        self.mode = mode

    def sizes(self) -> list[int]:
        return [len(m) for m in self.masks]

    def exit_minima(self, inst: DnnInstance) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per task, (m(y1), m(y2)) with m_k(y) = min over *all* closed edge sets of T_k(E, 1/y), at
        the ends of the share range: one exact min cut per exit with all probability on exit k
        (``cut.best_split``). The free-task chord built from them is valid whatever the candidates,
        so the root LP bound of ``dnn-exact`` holds for the whole problem (docs/dnn.md)."""
        from .cut import best_split

        lo, hi = share_bounds(inst)
        out = []
        for u, t in enumerate(inst.tasks):
            if self.kind[u] == "ideals":  # the pointwise minimum over all closed sets is attained here
                out.append(tuple((self.A[u] / w + self.B[u]).min(axis=0) for w in (hi[u], lo[u])))
                continue
            E = np.eye(t.K)
            out.append(tuple(np.array([best_split(t, float(w), E[k])[1] for k in range(t.K)])
                             for w in (hi[u], lo[u])))
        return out


class TableProblem:
    """ERDS's node problem (``optoffload.erds.shares._Problem``) for per-task candidate tables.

    Times and exit probabilities are padded to K = max_u K_u (padded exits have probability 0).
    Free (not yet fixed) tasks are relaxed by the chord of m_uk(y) = min_s A_suk y + B_suk on
    [1/hi_u, 1/lo_u] (the ``"coupled"`` relaxation of erds-exact: m_uk is concave, so it lies
    above its chord; validity argument in formulations/erds/exact.py)."""

    relaxation = "coupled"

    def __init__(self, inst: DnnInstance, cand: Candidates, minima: list | None = None):
        self.inst = inst
        self.U = inst.U
        self.K = max(t.K for t in inst.tasks)
        self.lo, self.hi = share_bounds(inst)
        self.C = inst.capacity
        K = self.K
        self.P = np.zeros((self.U, K))
        self.A, self.B = [], []
        for u, t in enumerate(inst.tasks):
            self.P[u, :t.K] = t.exit_probs
            a = np.zeros((len(cand.A[u]), K))
            b = np.zeros_like(a)
            a[:, :t.K], b[:, :t.K] = cand.A[u], cand.B[u]
            a[:, t.K:], b[:, t.K:] = cand.A[u][:, -1:], cand.B[u][:, -1:]
            self.A.append(a)
            self.B.append(b)
        self.cand = [list(range(len(a))) for a in self.A]
        self.tangents = [(u, float(y0)) for u in range(self.U)
                         for y0 in np.geomspace(1.0 / self.hi[u], 1.0 / self.lo[u], 6)]
        y1, y2 = 1.0 / self.hi, 1.0 / self.lo
        self.free_a = np.zeros((self.U, K))
        self.free_b = np.zeros((self.U, K))
        for u, t in enumerate(inst.tasks):
            if minima is None:
                m1 = (self.A[u] * y1[u] + self.B[u]).min(axis=0)
                m2 = (self.A[u] * y2[u] + self.B[u]).min(axis=0)
            else:  # minima over all closed sets (``Candidates.exit_minima``), padded like the tables
                m1 = np.r_[minima[u][0], np.full(K - t.K, minima[u][0][-1])]
                m2 = np.r_[minima[u][1], np.full(K - t.K, minima[u][1][-1])]
            if not y2[u] > y1[u]:
                self.free_b[u] = m1
                continue
            slope = np.maximum((m2 - m1) / (y2[u] - y1[u]), 0.0)
            self.free_a[u] = slope
            self.free_b[u] = m1 - slope * y1[u]

    def relaxed_rows(self, fixed: dict) -> tuple[np.ndarray, np.ndarray]:
        a = self.free_a.copy()
        b = self.free_b.copy()
        for u, s in fixed.items():
            a[u], b[u] = self.A[u][s], self.B[u][s]
        return a, b

    def value(self, a, b, y) -> tuple[float, np.ndarray]:
        val, sel = expected_max_sel(a * y[:, None] + b, self.P)
        return val, (sel * a).sum(axis=1)

    def times(self, splits, shares) -> np.ndarray:
        return np.stack([self.A[u][s] / shares[u] + self.B[u][s] for u, s in enumerate(splits)])


def waterfill(alpha: np.ndarray, lo: np.ndarray, hi: np.ndarray, C: float) -> np.ndarray:
    """argmin sum_u alpha_u / w_u over lo <= w <= hi, sum w <= C (alpha >= 0): the KKT point
    w_u = clip(sqrt(alpha_u / lam), lo_u, hi_u) with lam found by bisection (convex, so exact)."""
    alpha = np.maximum(np.asarray(alpha, dtype=float), 0.0)
    if hi.sum() <= C * (1 + 1e-12):
        return hi.copy()
    sa = np.sqrt(alpha)
    if not sa.any():
        return lo.copy()
    # t = 1 / sqrt(lam): w(t) = clip(t sqrt(alpha)) is non-decreasing in t; bisect t in log space
    a, b = -700.0, 700.0
    for _ in range(200):
        m = 0.5 * (a + b)
        if np.clip(sa * np.exp(m), lo, hi).sum() > C:
            b = m
        else:
            a = m
        if b - a < 1e-15:
            break
    return np.clip(sa * np.exp(a), lo, hi)


def expected_lines(inst: DnnInstance, cand: Candidates) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per task and candidate: (alpha, beta) with E[T_u] = alpha / w + beta (weight included)."""
    al, be = [], []
    for u, t in enumerate(inst.tasks):
        al.append(t.weight * (cand.A[u] @ t.exit_probs))
        be.append(t.weight * (cand.B[u] @ t.exit_probs))
    return al, be


def sum_value(al, be, splits, w) -> float:
    return float(sum(al[u][s] / w[u] + be[u][s] for u, s in enumerate(splits)))


def alternate(inst: DnnInstance, cand: Candidates, prob: TableProblem | None = None, *, rounds: int = 6,
              gap: float = 1e-6, deadline: float | None = None, start=None) -> tuple[tuple, np.ndarray, float]:
    """Alternate (a) per-task best candidate for E[T_u] at the current shares (HSA, erds.md 3.3)
    and (b) optimal shares for the splits (ERDS share LP for ``"max"``, water-filling for ``"sum"``),
    from equal shares, until the splits repeat. Returns (splits, shares, objective)."""
    from ..erds.shares import _solve_node, _Timeout, feasible_shares

    lo, hi = share_bounds(inst)
    C = inst.capacity
    al, be = expected_lines(inst, cand)
    w = feasible_shares(np.full(inst.U, C / inst.U), lo, hi, C) if start is None else np.asarray(start, float)
    best = (None, None, np.inf)
    seen = set()
    for _ in range(rounds):
        s = tuple(int(np.argmin(al[u] / w[u] + be[u])) for u in range(inst.U))
        if s in seen:
            break
        seen.add(s)
        if inst.objective == "sum":
            wn = waterfill(np.array([al[u][x] for u, x in enumerate(s)]), lo, hi, C)
            v = sum_value(al, be, s, wn)
        else:
            if prob is None:
                prob = TableProblem(inst, cand)
            try:
                _, v, wn, _ = _solve_node(prob, dict(enumerate(s)), [], np.inf, gap, deadline)
            except _Timeout as to:  # the deadline passed: keep the best shares found for these splits
                if to.w is None:
                    if best[0] is None:
                        raise
                    break
                v, wn = to.ub, to.w
        if v < best[2]:
            best = (s, wn, v)
        w = wn
    return best


def optimal_shares(inst: DnnInstance, masks, *, gap: float = 1e-8,
                   deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Optimal shares for fixed splits (convex in y = 1/w): ERDS's share LP for ``"max"``,
    water-filling for ``"sum"``. Returns (shares, objective). With a ``deadline``
    (``time.perf_counter()`` value) the cutting planes stop there and the best shares found so far
    come back (at worst the equal shares, always feasible), with their objective."""
    from ..erds.shares import _solve_node, _Timeout, feasible_shares

    cand = Candidates(inst, masks=masks)
    s = tuple([0] * inst.U)
    lo, hi = share_bounds(inst)
    if inst.objective == "sum":
        al, be = expected_lines(inst, cand)
        w = waterfill(np.array([a[0] for a in al]), lo, hi, inst.capacity)
        return w, sum_value(al, be, s, w)
    try:
        _, v, w, _ = _solve_node(TableProblem(inst, cand), dict(enumerate(s)), [], np.inf, gap, deadline)
    except _Timeout as to:
        if to.w is not None:
            return to.w, float(to.ub)
        w = feasible_shares(np.full(inst.U, inst.capacity / inst.U), lo, hi, inst.capacity)
        from .evaluate import objective as _obj

        return w, float(_obj(inst, list(masks), w))
    return w, v
