"""ERDS inner problem (eq. (8)): the best splits for fixed shares w (erds.md 3.2-3.3).

* :func:`osa` -- ERDS-OSA (Algorithm ``EOA``): the exact minimiser of E[max_u T_u] over all split
  vectors. Splits first-order stochastically dominated by another split of the same task are
  dropped (E[max] is monotone under that order, so the optimum value is kept); the rest is
  enumerated exhaustively and vectorised while #vectors * K^U stays small, otherwise searched by
  a depth-first branch and bound over tasks (bound: free tasks at their pointwise-fastest split).
  Among equal values the first vector in lexicographic order of the kept splits wins (the
  paper's strict '<'); :func:`osa_exhaustive` is the unpruned enumeration of the paper.
* :func:`hsa` -- ERDS-HSA (Algorithm ``HA``): each task minimises its own E[T_u]; O(U K^2).
"""

from __future__ import annotations

import itertools

import numpy as np

from optoffload.erds.evaluate import exit_matrix, expected_max, time_tables
from optoffload.erds.model import ErdsInstance

ENUM_LIMIT = 200_000
"""Largest (#split vectors x #exit combinations) the exhaustive OSA enumerates in one go."""


def split_times(inst: ErdsInstance, shares) -> np.ndarray:
    """U x (K+1) x K array of T_u(s, k, w_u)."""
    A, B = time_tables(inst)
    return A / np.asarray(shares, dtype=float)[:, None, None] + B


def hsa(inst: ErdsInstance, shares, *, early_exit: bool = True) -> np.ndarray:
    """ERDS-HSA (erds.md 3.3): s_u = argmin_s sum_k pi_{u,k} T_u(s, k, w_u), per task."""
    T = split_times(inst, shares)
    P = exit_matrix(inst, early_exit)
    return np.argmin(np.einsum("usk,uk->us", T, P), axis=1)


def _enumerate(T: np.ndarray, P: np.ndarray, cand: list[np.ndarray]) -> tuple[float, np.ndarray]:
    """Exhaustive eq. (7) over the product of candidate splits and all K^U exit combinations."""
    U, _, K = T.shape
    combos = np.array(list(itertools.product(*cand)), dtype=int)  # C x U
    exits = np.array(list(itertools.product(range(K), repeat=U)), dtype=int)  # E x U
    pk = np.prod(P[np.arange(U)[None, :], exits], axis=1)  # E
    u = np.arange(U)
    vals = T[u[None, None, :], combos[:, None, :], exits[None, :, :]]  # C x E x U
    f = vals.max(axis=2) @ pk
    i = int(np.argmin(f))  # first minimiser in lexicographic order (the paper's strict '<')
    return float(f[i]), combos[i]


def _dominated(T: np.ndarray, P: np.ndarray) -> list[np.ndarray]:
    """Per task, the splits not first-order stochastically dominated by another split.

    E[max] is non-decreasing in each independent T_u under first-order dominance, so dropping a
    dominated split (ties: keep the lower index) never loses the optimum.
    """
    U, S, K = T.shape
    keep = []
    idx = np.arange(S)
    for u in range(U):
        t = np.unique(T[u])
        cdf = ((T[u][:, None, :] <= t[None, :, None]) * P[u][None, None, :]).sum(axis=2)  # S x nt
        ge = np.all(cdf[:, None, :] >= cdf[None, :, :] - 1e-12, axis=2)  # ge[r, s]: r dominates s weakly
        gt = np.any(cdf[:, None, :] > cdf[None, :, :] + 1e-12, axis=2)
        dom = ge & (gt | (idx[:, None] < idx[None, :]))
        np.fill_diagonal(dom, False)
        keep.append(idx[~dom.any(axis=0)])
    return keep


def _branch_and_bound(T: np.ndarray, P: np.ndarray, cand: list[np.ndarray]) -> tuple[float, np.ndarray]:
    U = T.shape[0]
    fastest = np.stack([T[u][cand[u]].min(axis=0) for u in range(U)])  # U x K pointwise minima
    order = np.argsort(-(fastest * P).sum(axis=1))  # most loaded tasks first
    best = [np.inf, None]
    cur = fastest.copy()
    choice = np.zeros(U, dtype=int)

    def leaf() -> None:
        val = expected_max(cur, P)
        if val < best[0]:
            best[0], best[1] = val, choice.copy()

    def expand(depth: int) -> list:
        u = order[depth]
        kids = []
        for s in cand[u]:
            cur[u] = T[u, s]
            kids.append((expected_max(cur, P), s))
        cur[u] = fastest[u]
        kids.sort(key=lambda x: x[0])
        return kids

    # depth-first, children by bound, pruned at the incumbent; an explicit stack instead of recursion
    # (recursion depth U raised RecursionError from U of about 1,000 tasks, issue #14 item 4)
    if U == 0:
        leaf()
        return float(best[0]), best[1]
    stack = [[0, expand(0), 0]]
    while stack:
        frame = stack[-1]
        depth, kids, i = frame
        u = order[depth]
        if i < len(kids) and kids[i][0] < best[0] * (1 - 1e-12):
            frame[2] = i + 1
            s = kids[i][1]
            cur[u] = T[u, s]
            choice[u] = s
            if depth + 1 == U:
                leaf()
            else:
                stack.append([depth + 1, expand(depth + 1), 0])
        else:
            cur[u] = fastest[u]
            stack.pop()
    return float(best[0]), best[1]


def osa(inst: ErdsInstance, shares, *, early_exit: bool = True, return_value: bool = False):
    """ERDS-OSA (erds.md 3.2): argmin over s in {0..K}^U of E[max_u T_u(s_u, X_u, w_u)]."""
    T = split_times(inst, shares)
    P = exit_matrix(inst, early_exit)
    U, S, K = T.shape
    cand = _dominated(T, P)
    size = 1
    for c in cand:
        size *= len(c)
    if size * K ** U <= ENUM_LIMIT:
        val, s = _enumerate(T, P, cand)
    else:
        val, s = _branch_and_bound(T, P, cand)
    return (s, val) if return_value else s


def osa_exhaustive(inst: ErdsInstance, shares, *, early_exit: bool = True) -> tuple[np.ndarray, float]:
    """The paper's ``EOA`` as written: every split vector, every exit combination (tests, tiny U)."""
    T = split_times(inst, shares)
    S = T.shape[1]
    val, s = _enumerate(T, exit_matrix(inst, early_exit), [np.arange(S)] * inst.U)
    return s, val
