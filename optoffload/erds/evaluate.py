"""ERDS objective: exact E[max_u T_u] (erds.md 2.2, eq. (7)) and the paper's sampled evaluator (3.4).

Execution time of task u with split s, exit k and share w (erds.md 2.1)::

    T_u(s, k, w) = A[u, s, k] / w + B[u, s, k]
    A[u, s, k] = nu_E * sum_{b <= min(s, k)} loads[u, b]
    B[u, s, k] = 0                                                        if k <= s
               = nu_T * TR[u, s] + nu_C * sum_{b = s+1}^{k} loads[u, b]     if k > s

With exits independent across tasks, the max M = max_u T_u has CDF
P(M <= t) = prod_u P(T_u <= t), so E[M] = v_0 + sum_j (v_{j+1} - v_j) (1 - G(v_j)) over the
sorted support points v_j: O(U K log(U K)) instead of the K^U exit combinations of eq. (7).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInstance
from .model import ErdsInstance


def time_tables(inst: ErdsInstance) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``A, B`` of shape U x (K+1) x K with T_u(s, k, w) = A[u,s,k-1]/w + B[u,s,k-1]."""
    cached = getattr(inst, "_erds_tables", None)
    if cached is not None:
        return cached
    U, K = inst.U, inst.K
    cum = np.cumsum(inst.loads, axis=1)  # U x (K+1): sum_{b<=j}
    s = np.arange(K + 1)[:, None]  # split
    k = np.arange(1, K + 1)[None, :]  # exit
    on_edge = k <= s  # (K+1) x K
    m = np.minimum(s, k)
    A = inst.edge_factor * cum[:, m]  # U x (K+1) x K
    tr = inst.tr_factor * inst.transmission[:, :, None]  # U x (K+1) x 1
    cloud = inst.cloud_factor * (cum[:, None, 1:] - cum[:, :, None])  # U x (K+1) x K : sum_{s+1..k}
    B = np.where(on_edge[None], 0.0, tr + cloud)
    A.setflags(write=False)
    B.setflags(write=False)
    object.__setattr__(inst, "_erds_tables", (A, B))
    return A, B


def exit_matrix(inst: ErdsInstance, early_exit: bool = True) -> np.ndarray:
    """U x K exit probabilities; without early exits every task leaves at exit K (IAO, erds.md 4)."""
    if early_exit:
        return inst.exit_probs
    P = np.zeros_like(inst.exit_probs)
    P[:, -1] = 1.0
    return P


LEAN_TABLE_ENTRIES = 20_000_000
"""Above this U (K+1) K (and without cached tables) :func:`task_times` computes only the chosen
splits' rows: the full tables would be 16 GB at U = K = 1,000 (issue #14)."""


def task_times(inst: ErdsInstance, splits, shares) -> np.ndarray:
    """U x K matrix of T_u(s_u, k, w_u) for k = 1..K."""
    idx = np.arange(inst.U)
    s = np.asarray(splits, dtype=int)
    w = np.asarray(shares, dtype=float)
    if getattr(inst, "_erds_tables", None) is None and inst.U * (inst.K + 1) * inst.K > LEAN_TABLE_ENTRIES:
        # the rows [u, s_u] of time_tables, without the U x (K+1) x K arrays
        cum = np.cumsum(inst.loads, axis=1)
        k = np.arange(1, inst.K + 1)[None, :]
        sc = s[:, None]
        A = inst.edge_factor * np.take_along_axis(cum, np.minimum(sc, k), axis=1)
        tr = inst.tr_factor * inst.transmission[idx, s][:, None]
        cloud = inst.cloud_factor * (cum[:, 1:] - cum[idx, s][:, None])
        return A / w[:, None] + np.where(k <= sc, 0.0, tr + cloud)
    A, B = time_tables(inst)
    return A[idx, s] / w[:, None] + B[idx, s]


def expected_max(T: np.ndarray, P: np.ndarray) -> float:
    """E[max_u T_u] for independent discrete T_u with values ``T[u]`` and probabilities ``P[u]``.

    Product of CDFs over the sorted union of support points (erds.md 2.2); exact up to
    floating point, O(U K log(U K)).
    """
    T = np.asarray(T, dtype=float)
    P = np.asarray(P, dtype=float)
    U = T.shape[0]
    mask = P.ravel() > 0
    vals = T.ravel()[mask]
    probs = P.ravel()[mask]
    task = np.repeat(np.arange(U), T.shape[1])[mask]
    order = np.argsort(vals, kind="stable")
    vals, probs, task = vals[order], probs[order], task[order]
    tot = np.bincount(task, weights=probs, minlength=U)
    probs = probs / tot[task]  # renormalise each task's distribution
    # per-task running CDF in global (value) order: group by task, keeping the value order
    pos = np.argsort(task, kind="stable")
    cs = np.cumsum(probs[pos])
    starts = np.r_[0, np.flatnonzero(np.diff(task[pos])) + 1]
    sizes = np.diff(np.r_[starts, len(pos)])
    base = np.repeat(cs[starts] - probs[pos][starts], sizes)
    after = np.empty_like(probs)
    after[pos] = np.minimum(cs - base, 1.0)
    first = np.zeros(len(probs), dtype=bool)
    first[pos[starts]] = True
    before = np.where(first, 1.0, after - probs)
    dlog = np.log(after) - np.log(np.maximum(before, 1e-300))
    zeros_left = U - np.cumsum(first)
    G = np.where(zeros_left > 0, 0.0, np.minimum(np.exp(np.cumsum(dlog)), 1.0))
    return float(vals[0] + np.dot(np.diff(vals), 1.0 - G[:-1]))


def expected_max_sel(T: np.ndarray, P: np.ndarray, Z: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[float, np.ndarray]:
    """E[max(Z, max_u T_u)] and the selection probabilities ``sel[u, k]``.

    ``sel[u, k]`` = P(X_u = k and task u is the (lowest-index) argmax), so that
    E[max] = sum sel * T (+ the part where the constant block Z wins) and
    d E / d y_u = sum_k sel[u, k] * A[u, k] for T = A y + B: an exact subgradient.
    ``Z`` is an optional independent discrete variable (values, probs) that never depends on
    the shares (the relaxed free tasks of the exact branch and bound); it wins ties.
    O(U^2 K); meant for the small U of the exact method.
    """
    T = np.asarray(T, dtype=float)
    P = np.asarray(P, dtype=float)
    U, K = T.shape
    t = T.ravel()  # thresholds, owner u = j // K
    owner = np.repeat(np.arange(U), K)
    le = (T[:, :, None] <= t[None, None, :])  # U x K x UK
    lt = (T[:, :, None] < t[None, None, :])
    Fle = np.einsum("uk,ukj->uj", P, le)
    Flt = np.einsum("uk,ukj->uj", P, lt)
    v = np.arange(U)[:, None]
    F = np.where(v < owner[None, :], Flt, Fle)
    F[owner, np.arange(U * K)] = 1.0
    prod = np.prod(F, axis=0)
    if Z is not None:
        zv, zp = Z
        prod = prod * (zp[None, :] * (zv[None, :] < t[:, None])).sum(axis=1)
    sel = (P.ravel() * prod).reshape(U, K)
    val = float((sel * T).sum())
    if Z is not None:
        zv, zp = Z
        # Z wins (ties included): P(Z = z) * prod_u P(T_u <= z)
        FZ = np.prod(np.einsum("uk,ukj->uj", P, T[:, :, None] <= zv[None, None, :]), axis=0)
        val += float((zp * FZ * zv).sum())
    return val, sel


def _breakdown(inst: ErdsInstance, splits, shares, sel: np.ndarray) -> dict:
    """Expected edge / transmission / cloud time of the bottleneck task (paper Fig. 5 bars)."""
    A, B = time_tables(inst)
    idx = np.arange(inst.U)
    s = np.asarray(splits, dtype=int)
    edge = A[idx, s] / np.asarray(shares, dtype=float)[:, None]
    k = np.arange(1, inst.K + 1)[None, :]
    sent = k > s[:, None]
    tr = np.where(sent, inst.tr_factor * inst.transmission[idx, s][:, None], 0.0)
    cloud = B[idx, s] - tr
    return {"edge": float((sel * edge).sum()), "tr": float((sel * tr).sum()), "cloud": float((sel * cloud).sum())}


def objective(inst: ErdsInstance, splits, shares, *, early_exit: bool = True) -> float:
    """Exact F(w, s) = E[max_u T_u(s_u, X_u, w_u)] (eq. (7))."""
    return expected_max(task_times(inst, splits, shares), exit_matrix(inst, early_exit))


def round_exits(inst: ErdsInstance) -> np.ndarray:
    """R x U exits of the sampled evaluator (erds.md 3.4 and 5.4)."""
    if inst.exit_sequence is None:
        raise InvalidInstance("exit_sequence", "the sampled evaluator needs an exit_sequence in the instance")
    seq = np.asarray(inst.exit_sequence, dtype=int)
    R, U = inst.sample_rounds, inst.U
    r = np.arange(R)[:, None] * U
    if inst.sample_mode == "shared":
        return np.repeat(seq[r], U, axis=1)
    return seq[r + np.arange(U)[None, :]]


def sampled(inst: ErdsInstance, splits, shares, *, early_exit: bool = True) -> tuple[float, dict]:
    """The paper's evaluator F-hat (erds.md 3.4): mean over rounds of max_u T_u, plus the mean
    edge / transmission / cloud time of each round's bottleneck task."""
    X = round_exits(inst)
    if not early_exit:
        X = np.full_like(X, inst.K)
    T = task_times(inst, splits, shares)
    R, U = X.shape
    vals = T[np.arange(U)[None, :], X - 1]  # R x U
    bott = np.argmax(vals, axis=1)
    A, B = time_tables(inst)
    s = np.asarray(splits, dtype=int)
    w = np.asarray(shares, dtype=float)
    k = X[np.arange(R), bott]
    su = s[bott]
    edge = A[bott, su, k - 1] / w[bott]
    tr = np.where(k > su, inst.tr_factor * inst.transmission[bott, su], 0.0)
    cloud = B[bott, su, k - 1] - tr
    value = float(vals.max(axis=1).mean())
    return value, {"edge": float(edge.mean()), "tr": float(tr.mean()), "cloud": float(cloud.mean())}


def evaluate(inst: ErdsInstance, decisions: Any) -> float:
    """The family's simulator (single source of truth for :func:`optoffload.verify`).

    Replays ``decisions`` = ``{"splits", "shares"[, "evaluator", "early_exit"]}``: the exact
    expectation of eq. (7) by default, the paper's sampled evaluator with
    ``"evaluator": "sampled"``; ``"early_exit": false`` runs every task to exit K (IAO).
    Raises ``InvalidInstance`` naming the field for malformed or infeasible decisions.
    """
    s, w, ev, ee = inst.check_decisions(decisions)
    if ev == "sampled":
        return sampled(inst, s, w, early_exit=ee)[0]
    return objective(inst, s, w, early_exit=ee)


def breakdown(inst: ErdsInstance, decisions: Any) -> dict:
    """Edge / transmission / cloud parts of the bottleneck task under the decisions' evaluator."""
    s, w, ev, ee = inst.check_decisions(decisions)
    if ev == "sampled":
        return sampled(inst, s, w, early_exit=ee)[1]
    _, sel = expected_max_sel(task_times(inst, s, w), exit_matrix(inst, ee))
    return _breakdown(inst, s, w, sel)
