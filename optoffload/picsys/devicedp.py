"""Exact per-device DP with bound pruning, and the device decomposition of the PicSys optimum.

Issue #15: the merging DP of :func:`optoffload.picsys.bounds.device_bound` keeps the Pareto front
of ``(E, W)`` states (CPU end, last upload end) but has to coarsen it past a few thousand points
(the front reaches 10^5-10^6 points at 250 images), which weakens the bound and spoils its plan.
Here the same DP is run *exactly* (no merging) and states are pruned by a bound instead, as in
branch and bound for knapsack problems.

The relaxed device problem (module docstring of :mod:`~optoffload.picsys.bounds`): one device, a
cloud without queue; minimise ``max(E, W + f c)`` over the device's outcomes (PicSys seed,
eqs. (1) and (9) with the FIFO uplink of ``shared/design/picsys.md``); ``f`` = "the last upload
is an offload", ``c`` = ``inst.cloud_time``. Its optimum ``D_m`` is a lower bound on the
makespan of every plan, so ``max_m D_m`` is a lower bound on the optimum.

Suffix bound (used for pruning)
    From a state ``(E, W)`` before image ``i``, each later image ``k`` either takes an outcome
    without upload (CPU time at least ``p_k``, the least CPU time of such outcomes; ``f-disc``
    or ``s-disc``) or uploads (``tx_k`` more on the FIFO uplink, whose every upload starts after
    the previous one ends). So ``E_f >= E + sum_L p_k`` and ``W_f >= W + sum_U tx_k``, and the
    final makespan is at least the value of the fractional relaxation
    ``min_x max(E + sum p_k x_k, W + sum tx_k (1 - x_k))``, ``0 <= x <= 1`` (images without an
    upload-free outcome have ``x_k = 0``). Its optimum moves images to the CPU in increasing
    order of ``p_k / tx_k`` (fractional knapsack) until the two loads meet. The prefix sums of
    the current suffix in that order live in two Fenwick trees; one vectorised descent per step
    evaluates the bound for the whole front in ``O(log n)`` per state.
Exactness
    Pareto pruning is exact (completion times are monotone in ``(E, W)``; ``bounds`` docstring),
    and a state is dropped only if its suffix bound exceeds the threshold ``tau`` (by a relative
    ``PRUNE_SLACK``, for float rounding). If a complete state with value ``v <= tau`` survives,
    every dropped path is worse, so ``v = D_m``. Otherwise ``D_m >= min(v, b_min)``, ``b_min``
    the least bound of a dropped state (lowered by the slack): a valid lower bound, and the next
    threshold starts there. :func:`solve_device` raises ``tau`` from a lower bound towards the
    value of a known plan (the beam plan), so each run prunes hard; it stops as soon as a run is
    exact. An exact result is reported at the value of its plan, computed in the same float
    arithmetic as the simulator and :func:`~optoffload.picsys.bounds.device_bound`; inexact
    bounds keep the slack.
Beam plan (warm start)
    The same DP keeping the ``beam`` states of least suffix bound per step (real states, no
    merging): a plan whose value is an upper bound on ``D_m``.
Decomposition (:func:`decompose`)
    Beam plans for every device, then, from the largest beam value down, the exact ``D_m`` of
    every device whose beam plan is above the largest exact value found so far (``L``); the
    others keep their beam plans (their ``D_m`` is at most their beam value, at most ``L``). So
    ``L = max_m D_m`` exactly. The combined plan is replayed in the simulator (FIFO cloud on
    ``S`` servers); when it ends within ``OPT_TOL`` of ``L`` it is optimal. With the paper's
    parameters (cloud far from saturated) it does on every seed tried: 20 devices x 5,000 images
    in about a second (``optoffload bench picsys-exact``). When the cloud queue binds, the
    combined plan is a warm start and ``L`` (with the LP bound) a cut for the exact models.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .model import F_DISC, F_OFF, I_OFF, S_DISC, S_UP, PicsysInstance

PRUNE_SLACK = 1e-9
"""Relative slack of the pruning test and of the bounds derived from dropped states (float rounding
of sums over up to a few million images stays far below it)."""
BEAM = 64
"""States kept per step by the beam DP (the warm-start plan)."""
MAX_STATES = 4_000_000
"""Largest front of one step of the exact DP; a run that would exceed it stops (not exact)."""
MAX_STORED = 40_000_000
"""Most states stored over all steps of one run (parents as int32 and choices as int8: 200 MB)."""


class DPTimeout(Exception):
    """The deadline passed during a device DP."""


@dataclass
class Tables:
    """Option tables of one device without ``f-off`` (dominated by ``i-off``, see ``common.prepare``)."""

    codes: np.ndarray
    """``(n, 2)`` outcome codes; ``cpu``, ``up``, ``off``: CPU time, upload and offload flags of each."""
    cpu: np.ndarray
    up: np.ndarray
    off: np.ndarray
    tx: np.ndarray
    p: np.ndarray
    """Per image, the least CPU time of an outcome without upload (inf if every outcome uploads)."""


def tables(dev) -> Tables:
    """The two outcomes each image keeps (``i-off`` and the one local outcome its truth values allow,
    eqs. (4)-(7): ``f-disc`` if ``z1 = 0``, else ``s-up`` or ``s-disc``), vectorised over images."""
    n = dev.n
    z1 = np.asarray(dev.z1, dtype=bool)
    z2 = np.asarray(dev.z2, dtype=bool) & z1
    local = np.where(~z1, F_DISC, np.where(z2, S_UP, S_DISC)).astype(np.int8)
    codes = np.stack([np.full(n, I_OFF, dtype=np.int8), local], axis=1)
    base = np.asarray(dev.c_s, dtype=float) + dev.alpha
    cpu = np.stack([np.zeros(n), np.where(z1, base + dev.beta, base)], axis=1)
    up = np.stack([np.ones(n, dtype=bool), z2], axis=1)
    off = np.stack([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)], axis=1)
    p = np.where(z2, math.inf, cpu[:, 1])
    return Tables(codes, cpu, up, off, np.asarray(dev.tx, dtype=float), p)


def relaxed_value(tb: Tables, plan: np.ndarray, c: float) -> float:
    """``max(E, W + f c)`` of ``plan`` (codes; ``f-off`` counted as ``i-off``) on the relaxed device.

    Vectorised: with ``E_j`` the CPU end when image ``j`` joins the FIFO uplink, the last upload
    ends at ``W = max_j (E_j + sum of tx_k over uploads k >= j)`` (the max-plus form of
    ``W = max(W, E_j) + tx_j``)."""
    plan = np.asarray(plan)
    if not len(plan):
        return 0.0
    loc = (plan != I_OFF) & (plan != F_OFF)
    E = np.cumsum(np.where(loc, np.where(tb.codes[:, 1] == plan, tb.cpu[:, 1], 0.0), 0.0))
    upl = ~loc | tb.up[np.arange(len(plan)), 1] & loc
    if not upl.any():
        return float(E[-1])
    S = np.cumsum(np.where(upl, tb.tx, 0.0)[::-1])[::-1]
    W = float(np.max(np.where(upl, E + S, -math.inf)))
    last = int(np.flatnonzero(upl)[-1])
    return max(float(E[-1]), W + (c if not loc[last] else 0.0))


def local_plan(tb: Tables, limit: float, c: float, fracs=(1.0, 0.999, 0.995, 0.99, 0.98, 0.95, 0.9)) -> np.ndarray | None:
    """The most local plan found whose relaxed value is at most ``limit``: the images of least
    ``p_k / tx_k`` go to the CPU until their CPU time reaches ``frac * limit``, for the first
    ``frac`` that fits. None if none fits. Used to take offloads off a saturated cloud."""
    n = len(tb.p)
    order = _ratio_order(tb)
    P = np.cumsum(tb.p[order])
    for frac in fracs:
        plan = np.full(n, I_OFF, dtype=np.int8)
        j = int(np.searchsorted(P, limit * frac, side="right"))
        plan[order[:j]] = tb.codes[order[:j], 1]
        if relaxed_value(tb, plan, c) <= limit:
            return plan
    return None


def _ratio_order(tb: Tables) -> np.ndarray:
    """The images with an upload-free outcome, in increasing order of ``p_k / tx_k`` (stable)."""
    flex = np.flatnonzero(np.isfinite(tb.p))
    with np.errstate(divide="ignore"):
        ratio = np.where(tb.tx[flex] > 0, tb.p[flex] / np.where(tb.tx[flex] > 0, tb.tx[flex], 1.0), math.inf)
    order = flex[np.argsort(ratio, kind="stable")]
    return order


class _SuffixBound:
    """The fractional suffix bound of the module docstring for one device (see :class:`_Suffixes`)."""

    def __init__(self, tb: Tables):
        self.s = _Suffixes([tb])
        self.r0 = np.zeros(1, dtype=np.int64)

    def remove(self, i: int) -> None:
        """Image ``i`` is decided: take it out of the suffix."""
        self.s.remove(self.r0, i)

    def __call__(self, E: np.ndarray, W: np.ndarray) -> np.ndarray:
        return self.s(np.zeros(len(E), dtype=np.int64), E, W)


def _fenwick(w: np.ndarray) -> np.ndarray:
    """1-based Fenwick tree of ``w``: ``tree[k]`` = sum of ``w`` over ``(k - lowbit(k), k]``."""
    n = len(w)
    P = np.concatenate([[0.0], np.cumsum(w)])
    k = np.arange(1, n + 1)
    return np.concatenate([[0.0], P[k] - P[k - (k & -k)]])


@dataclass
class RunResult:
    value: float | None
    """Least value of a surviving complete state (None if every state was dropped)."""
    plan: np.ndarray | None
    dropped_bound: float
    """Least suffix bound of a dropped state, lowered by the slack (inf if none was dropped)."""
    front_max: int
    aborted: bool = False
    """The front outgrew :data:`MAX_STATES` / :data:`MAX_STORED`: nothing is known."""


def run(tb: Tables, c: float, tau: float, *, deadline: float | None = None,
        max_states: int = MAX_STATES, max_stored: int = MAX_STORED) -> RunResult:
    """One pass of the exact DP with threshold ``tau`` (module docstring)."""
    n = len(tb.codes)
    sb = _SuffixBound(tb)
    E = np.zeros(1)
    W = np.zeros(1)
    F = np.zeros(1, dtype=bool)
    parents: list[np.ndarray] = []
    choice: list[np.ndarray] = []
    dropped = math.inf
    fmax, stored = 1, 0
    cut = tau * (1 + PRUNE_SLACK) if math.isfinite(tau) else math.inf
    for i in range(n):
        if deadline is not None and time.perf_counter() > deadline:
            raise DPTimeout
        L = len(E)
        ks = len(tb.codes[i])
        nE = np.empty(L * ks)
        nW = np.empty(L * ks)
        nF = np.empty(L * ks, dtype=bool)
        for k in range(ks):
            sl = slice(k * L, (k + 1) * L)
            e2 = E + tb.cpu[i][k]
            nE[sl] = e2
            if tb.up[i][k]:
                nW[sl] = np.maximum(W, e2) + tb.tx[i]
                nF[sl] = bool(tb.off[i][k])
            else:
                nW[sl] = W
                nF[sl] = F
        sb.remove(i)
        if i + 1 < n:
            b = np.maximum(sb(nE, nW), nW)
        else:
            b = np.maximum(nE, nW + np.where(nF, c, 0.0))
        bad = b > cut
        if bad.any():
            dropped = min(dropped, float(b[bad].min()) * (1 - PRUNE_SLACK))
            cand = np.flatnonzero(~bad)
        else:
            cand = np.arange(len(b))
        keep_all = []
        for flag in (False, True):
            sel = cand[nF[cand] == flag]
            if not len(sel):
                continue
            order = sel[np.lexsort((nW[sel], nE[sel]))]
            w = nW[order]
            keep = np.ones(len(order), dtype=bool)
            keep[1:] = w[1:] < np.minimum.accumulate(w)[:-1]
            keep_all.append(order[keep])
        kept = np.concatenate(keep_all) if keep_all else np.zeros(0, dtype=np.int64)
        if not len(kept):
            return RunResult(None, None, dropped, fmax)
        fmax = max(fmax, len(kept))
        stored += len(kept)
        if len(kept) > max_states or stored > max_stored:
            return RunResult(None, None, dropped, fmax, aborted=True)
        E, W, F = nE[kept], nW[kept], nF[kept]
        parents.append((kept % L).astype(np.int32))
        choice.append((kept // L).astype(np.int8))
    if n == 0:
        return RunResult(0.0, np.zeros(0, dtype=np.int8), dropped, 1)
    val = np.maximum(E, W + np.where(F, c, 0.0))
    best = int(np.argmin(val))
    plan = np.empty(n, dtype=np.int8)
    s = best
    for i in range(n - 1, -1, -1):
        plan[i] = tb.codes[i][choice[i][s]]
        s = int(parents[i][s])
    return RunResult(float(val[best]), plan, dropped, fmax)


@dataclass
class DeviceResult:
    bound: float
    """A valid lower bound on the device's relaxed optimum ``D_m`` (equal to it when ``exact``)."""
    value: float
    """Relaxed value of :attr:`plan` (an upper bound on ``D_m``)."""
    plan: np.ndarray
    exact: bool
    runs: int = 0
    front_max: int = 0


def balance_plan(tb: Tables) -> np.ndarray:
    """The root relaxation rounded down: the images the fractional bound puts on the CPU (those of
    least ``p_k / tx_k``, up to where the CPU and uplink loads meet) go local, every other image
    is offloaded (``i-off``). ``O(n log n)``; the plan :func:`decompose` keeps for a device the
    beam DP has not reached by the deadline."""
    n = len(tb.p)
    plan = np.full(n, I_OFF, dtype=np.int8)
    order = _ratio_order(tb)
    if not len(order):
        return plan
    # moving j images to the CPU: CPU load P_j, uplink load X_all - X_j; keep the j where P_j <= X_all - X_j
    P = np.cumsum(tb.p[order])
    X = np.cumsum(tb.tx[order])
    j = int(np.searchsorted(P + X, float(tb.tx.sum()), side="right"))
    plan[order[:j]] = tb.codes[order[:j], 1]
    return plan


class _Suffixes:
    """The suffix bound of several devices at once (row ``r`` of every array is device ``r``):
    ``remove(rows, i)`` takes image ``i`` of those devices out, ``(r, E, W)`` evaluates it for
    states of devices ``r``."""

    def __init__(self, tbs: list[Tables]):
        R = len(tbs)
        orders = [_ratio_order(tb) for tb in tbs]
        self.N = np.array([len(o) for o in orders], dtype=np.int64)
        Nmax = int(self.N.max()) if R else 0
        n = max((len(tb.p) for tb in tbs), default=0)
        self.Ts = np.zeros((R, Nmax + 1))   # Fenwick trees over ratio positions of p + tx and of p
        self.Tp = np.zeros((R, Nmax + 1))
        self.ws = np.zeros((R, Nmax + 1))   # p + tx and p of each position (0 once decided)
        self.wp = np.zeros((R, Nmax + 1))
        self.pos = np.full((R, n), -1, dtype=np.int64)
        self.tx = np.zeros((R, n))
        for r, (tb, order) in enumerate(zip(tbs, orders)):
            N = len(order)
            self.ws[r, :N] = tb.p[order] + tb.tx[order]
            self.wp[r, :N] = tb.p[order]
            self.Ts[r, :N + 1] = _fenwick(self.ws[r, :N])
            self.Tp[r, :N + 1] = _fenwick(self.wp[r, :N])
            self.pos[r, order] = np.arange(N)
            self.tx[r, :len(tb.p)] = tb.tx
        self.x_all = np.array([float(tb.tx.sum()) for tb in tbs])
        self.x_flex = np.array([float(tb.tx[o].sum()) for tb, o in zip(tbs, orders)])
        self.p_flex = np.array([float(tb.p[o].sum()) for tb, o in zip(tbs, orders)])
        self.s_flex = self.x_flex + self.p_flex
        self.step = 1 << max(0, Nmax.bit_length() - 1) if Nmax else 0

    def remove(self, rows: np.ndarray, i: int) -> None:
        """Image ``i`` of every device in ``rows`` is decided."""
        tx = self.tx[rows, i]
        j = self.pos[rows, i]
        self.x_all[rows] -= tx
        fl = j >= 0
        rows, j, tx = rows[fl], j[fl], tx[fl]
        if not len(rows):
            return
        sv, pv = self.ws[rows, j], self.wp[rows, j]
        self.x_flex[rows] -= tx
        self.p_flex[rows] -= pv
        self.s_flex[rows] -= sv
        self.ws[rows, j] = self.wp[rows, j] = 0.0
        k = j + 1
        live = k <= self.N[rows]
        while live.any():
            rr, kk = rows[live], k[live]
            self.Ts[rr, kk] -= sv[live]
            self.Tp[rr, kk] -= pv[live]
            k = np.where(live, k + (k & -k), k)
            live = k <= self.N[rows]

    def __call__(self, r: np.ndarray, E: np.ndarray, W: np.ndarray) -> np.ndarray:
        xa = self.x_all[r]
        d = W + xa - E
        out = np.maximum(E, W + xa)
        high = d >= self.s_flex[r]
        out[high] = np.maximum(E[high] + self.p_flex[r[high]], W[high] + xa[high] - self.x_flex[r[high]])
        mid = np.flatnonzero((d > 0) & ~high)
        if len(mid):
            rm, N = r[mid], self.N[r[mid]]
            base = rm * self.Ts.shape[1]          # flat indices: one 1-D gather per level
            Ts, Tp = self.Ts.ravel(), self.Tp.ravel()
            rem = d[mid].copy()
            pos = np.zeros(len(mid), dtype=np.int64)
            acc = np.zeros(len(mid))
            step = self.step
            while step:
                nxt = pos + step
                cand = base + np.minimum(nxt, N)
                ts = Ts.take(cand)
                ok = (nxt <= N) & (ts < rem)
                pos[ok] = nxt[ok]
                rem[ok] -= ts[ok]
                acc[ok] += Tp.take(cand[ok])
                step >>= 1
            pos = base + np.minimum(pos, np.maximum(N - 1, 0))
            w = self.ws.ravel().take(pos)
            lam = np.divide(rem, w, out=np.ones_like(rem), where=w > 0)
            out[mid] = np.maximum(E[mid] + acc + np.minimum(lam, 1.0) * self.wp.ravel().take(pos), E[mid])
        return out


def beam_plans(tbs: list[Tables], c: float, *, beam: int = BEAM, deadline: float | None = None
               ) -> list[tuple[float, np.ndarray]]:
    """:func:`beam_plan` of several devices in lock step (one numpy pass per image index for all of
    them), with the same states, ranking and plans as one device at a time."""
    R = len(tbs)
    n = np.array([len(tb.p) for tb in tbs], dtype=np.int64)
    out: list[tuple[float, np.ndarray] | None] = [None] * R
    for r in range(R):
        if n[r] == 0:
            out[r] = (0.0, np.zeros(0, dtype=np.int8))
    sb = _Suffixes(tbs)
    # current states: device row, E, W, F
    D = np.flatnonzero(n > 0)
    E = np.zeros(len(D))
    W = np.zeros(len(D))
    F = np.zeros(len(D), dtype=bool)
    parents: list[np.ndarray] = []
    choice: list[np.ndarray] = []
    finals: dict[int, tuple[int, int, float]] = {}   # device -> (step, state index at that step, its value)
    nmax = int(n.max()) if R else 0
    CPU = np.zeros((R, nmax, 2))
    UP = np.zeros((R, nmax, 2), dtype=bool)
    OFF = np.zeros((R, nmax, 2), dtype=bool)
    TX = np.zeros((R, nmax))
    for r, tb in enumerate(tbs):
        CPU[r, :n[r]], UP[r, :n[r]], OFF[r, :n[r]], TX[r, :n[r]] = tb.cpu, tb.up, tb.off, tb.tx
    BIG = 4.0 * (max((float(tb.cpu.sum() + tb.tx.sum()) for tb in tbs), default=0.0) + 1.0)
    for i in range(nmax):
        if deadline is not None and time.perf_counter() > deadline:
            raise DPTimeout
        rows = np.flatnonzero(n > i)
        L = len(E)
        cpu, up, off, txi = CPU[:, i], UP[:, i], OFF[:, i], TX[:, i]
        nD = np.concatenate([D, D])
        nE = np.concatenate([E + cpu[D, 0], E + cpu[D, 1]])
        nW = np.empty(2 * L)
        nF = np.empty(2 * L, dtype=bool)
        for k in (0, 1):
            sl = slice(k * L, (k + 1) * L)
            u = up[D, k]
            nW[sl] = np.where(u, np.maximum(W, nE[sl]) + txi[D], W)
            nF[sl] = np.where(u, off[D, k], F)
        sb.remove(rows, i)
        last = n[nD] == i + 1
        b = np.maximum(sb(nD, nE, nW), nW)
        b[last] = np.maximum(nE[last], nW[last] + np.where(nF[last], c, 0.0))
        # Pareto front per (device, flag): sort by device, flag, E, W; keep W below the group's running minimum
        g = nD * 2 + nF
        order = np.lexsort((nW, nE, g))
        go, wo = g[order], nW[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = go[1:] != go[:-1]
        v = wo - go * BIG
        run_min = np.minimum.accumulate(v)
        keep = first.copy()
        keep[1:] |= v[1:] < run_min[:-1]
        kept = order[keep]
        # beam: the `beam` states of least bound per device
        o2 = kept[np.lexsort((b[kept], nD[kept]))]
        d2 = nD[o2]
        start = np.flatnonzero(np.r_[True, d2[1:] != d2[:-1]])
        rank = np.arange(len(o2)) - np.repeat(start, np.diff(np.r_[start, len(o2)]))
        kept = o2[rank < beam]
        parents.append((kept % L).astype(np.int32))
        choice.append((kept // L).astype(np.int8))
        E, W, F, D = nE[kept], nW[kept], nF[kept], nD[kept]
        done = n[D] == i + 1
        if done.any():
            val = np.maximum(E, W + np.where(F, c, 0.0))
            for r in np.unique(D[done]):
                idx = np.flatnonzero(D == r)
                best = int(idx[np.argmin(val[idx])])
                finals[int(r)] = (i, best, float(val[best]))
    for r, (step, s, value) in finals.items():
        tb = tbs[r]
        plan = np.empty(n[r], dtype=np.int8)
        for i in range(step, -1, -1):
            plan[i] = tb.codes[i][choice[i][s]]
            s = int(parents[i][s])
        out[r] = (value, plan)
    return out  # type: ignore[return-value]


def beam_plan(tb: Tables, c: float, *, beam: int = BEAM, deadline: float | None = None) -> tuple[float, np.ndarray]:
    """The beam DP of one device: ``(value, plan)``."""
    return beam_plans([tb], c, beam=beam, deadline=deadline)[0]


def solve_device(tb: Tables, c: float, *, lb: float = 0.0, ub: tuple[float, np.ndarray] | None = None,
                 deadline: float | None = None, start: float = 1e-4) -> DeviceResult:
    """Exact ``D_m`` by runs of :func:`run` with growing thresholds (module docstring).

    ``lb``: a known lower bound; ``ub``: (value, plan) of a known plan (default: the beam plan).
    Stops at the first exact run; a run that outgrows the state limits ends the search with the
    known plan and the best bound proven so far (``exact=False``)."""
    if ub is None:
        ub = beam_plan(tb, c, deadline=deadline)
    uv, uplan = ub
    root = float(_SuffixBound(tb)(np.zeros(1), np.zeros(1))[0]) * (1 - PRUNE_SLACK)
    lb = max(lb, root)
    if uv <= lb * (1 + PRUNE_SLACK):
        # the plan meets the bound up to the slack: exact, and (like an exact run) reported at the plan's value
        return DeviceResult(uv, uv, uplan, True)
    d, runs, fmax = start, 0, 0
    while True:
        tau = min(uv, lb * (1 + d))
        r = run(tb, c, tau, deadline=deadline)
        runs += 1
        fmax = max(fmax, r.front_max)
        if r.aborted:
            return DeviceResult(lb, uv, uplan, False, runs, fmax)
        if r.value is not None:
            if r.value <= r.dropped_bound:
                return DeviceResult(r.value, r.value, r.plan, True, runs, fmax)
            lb = max(lb, min(r.value, r.dropped_bound))
            if r.value < uv:
                uv, uplan = r.value, r.plan
        else:
            lb = max(lb, r.dropped_bound if math.isfinite(r.dropped_bound) else tau)
        if lb >= uv * (1 - PRUNE_SLACK):
            return DeviceResult(uv, uv, uplan, True, runs, fmax)
        if tau >= uv:
            return DeviceResult(min(lb, uv), uv, uplan, False, runs, fmax)
        d *= 2


@dataclass
class Decomposition:
    bound: float
    """``max_m`` of the device bounds: a valid lower bound on the optimum (``max_m D_m`` when exact)."""
    device_bounds: list[float]
    plan: list[np.ndarray]
    exact: bool
    """Every device bound is exact or not needed (``D_m`` at most the largest exact one)."""
    solved: int
    """Devices whose exact DP ran."""
    complete: bool = True
    """False when the deadline stopped it (bounds then cover only part of the devices)."""


def _relieve_cloud(inst: PicsysInstance, tbs: dict[int, Tables], plan: list, L: float, deadline: float | None) -> list:
    """When the combined plan's replay ends after ``L`` (the cloud queue delays offloads), give
    every device the most local plan that still ends by ``L`` on its own (:func:`local_plan`),
    and keep that combination if its replay is shorter. With a saturated cloud (``c_u = 0.1``,
    20 x 1,000 images) this closes the gap on 2 of 3 seeds tried and leaves 0.5 % on the third
    (before: 30-70 %)."""
    from .simulator import simulate_plan

    span = simulate_plan(inst, plan).makespan
    if span <= L * (1 + 1e-9):
        return plan
    new = list(plan)
    for m, tb in tbs.items():
        if deadline is not None and time.perf_counter() > deadline:
            return plan
        p = local_plan(tb, L, inst.cloud_time)
        if p is not None:
            new[m] = p
    return new if simulate_plan(inst, new).makespan < span else plan


def decompose(inst: PicsysInstance, *, devices: list[int] | None = None, deadline: float | None = None,
              beam: int = BEAM, relieve: bool = True) -> Decomposition:
    """Beam plans for every device and exact device optima (module docstring).

    ``devices``: the devices to bound (default all; e.g. leave out devices that may skip images).
    Every device gets a plan (:func:`balance_plan` first, then the beam plan, then the exact
    plan; with ``relieve``, :func:`_relieve_cloud` when the cloud queue delays the combination). At the deadline it returns what is done, ``complete=False``: the bounds found are
    valid, and ``plan[m]`` is None only for devices whose tables were not built."""
    from ..errors import InvalidInstance

    if isinstance(beam, bool) or not isinstance(beam, (int, np.integer)) or beam < 1:
        raise InvalidInstance("beam", f"must be an integer >= 1, got {beam!r}")
    if devices is not None:
        bad = [m for m in devices if isinstance(m, bool) or not isinstance(m, (int, np.integer))
               or not 0 <= m < inst.n_devices]
        if bad:
            raise InvalidInstance("devices", f"device indices must lie in 0..{inst.n_devices - 1}, got {bad[0]!r}")
    c = inst.cloud_time
    want = set(range(inst.n_devices)) if devices is None else {int(m) for m in devices}
    tbs: dict[int, Tables] = {}
    beams: dict[int, tuple[float, np.ndarray]] = {}
    plan: list[np.ndarray | None] = [None] * inst.n_devices
    bnds = [0.0] * inst.n_devices
    for m in range(inst.n_devices):  # cheap valid bounds and plans first: the root relaxation
        tbs[m] = tables(inst.devices[m])
        plan[m] = balance_plan(tbs[m])
        if m in want:
            bnds[m] = float(_SuffixBound(tbs[m])(np.zeros(1), np.zeros(1))[0]) * (1 - PRUNE_SLACK)
        if deadline is not None and time.perf_counter() > deadline:
            return Decomposition(max(bnds, default=0.0), bnds, plan, False, 0, complete=False)
    try:
        for m, bp in enumerate(beam_plans([tbs[m] for m in range(inst.n_devices)], c, beam=beam, deadline=deadline)):
            beams[m] = bp
            plan[m] = bp[1]
    except DPTimeout:
        return Decomposition(max(bnds, default=0.0), bnds, plan, False, 0, complete=False)
    L, exact, solved = 0.0, True, 0
    for m in sorted(want, key=lambda k: -beams[k][0]):
        if beams[m][0] <= L:
            continue  # D_m <= its beam value <= L: not needed for max_m D_m
        try:
            r = solve_device(tbs[m], c, lb=bnds[m], ub=beams[m], deadline=deadline)
        except DPTimeout:
            return Decomposition(max(max(bnds, default=0.0), L), bnds, plan, False, solved, complete=False)
        solved += 1
        bnds[m] = max(bnds[m], r.bound)
        plan[m] = r.plan
        exact &= r.exact
        L = max(L, r.bound)
    if relieve and L > 0:
        plan = _relieve_cloud(inst, tbs, plan, L, deadline)
    # devices skipped above have D_m <= L; an inexact device keeps its best proven bound
    return Decomposition(max(L, max(bnds, default=0.0)) if not exact else L, bnds, plan, exact, solved)
