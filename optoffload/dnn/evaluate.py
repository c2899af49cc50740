"""DNN-graph objective (dnn-graphs.md "Decision and time"): the family's single source of truth.

For task u with edge set E (closed under predecessors, source included) and share w::

    j(E)   = largest k with A_k subset of E (0 if none)
    X(E)   = nodes of E with a successor outside E      (each crossing tensor sent once)
    tau(E) = 8 sum_{v in X(E)} b_v / r  (+ link_latency_s when E != V)
    T_k    = sum_{v in A_k} e_v / w                                 if k <= j(E)
           = sum_{v in E} e_v / w + tau(E) + sum_{v in A_k \\ E} c_v   if k >  j(E)

so T_k = A_k / w + B_k with A_k, B_k >= 0 depending on E only (:func:`split_table`), the form of
ERDS (erds.md 2.1). Objective ``"max"``: E[max_u T_u] over independent exits (the product of CDFs
of :func:`optoffload.erds.evaluate.expected_max`); ``"sum"``: sum_u weight_u E[T_u].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..erds.evaluate import expected_max
from .model import DnnInstance, DnnTask


def crossing(task: DnnTask, mask: np.ndarray) -> np.ndarray:
    """Boolean mask of X(E): edge nodes with at least one successor on the cloud."""
    out = np.zeros(task.n, dtype=bool)
    for v in np.flatnonzero(mask):
        if any(not mask[s] for s in task.succs[v]):
            out[v] = True
    return out


def edge_exits(task: DnnTask, mask: np.ndarray) -> int:
    """j(E): the number of leading exits whose A_k lies inside E."""
    j = 0
    for k in range(task.K):
        if np.all(mask[task.anc[k]]):
            j = k + 1
        else:
            break
    return j


def transfer_s(task: DnnTask, mask: np.ndarray) -> float:
    """tau(E) in seconds: crossing tensors once each, plus the latency when something is sent."""
    x = crossing(task, mask)
    if not x.any():
        return 0.0
    return 8.0 * float(task.out_bytes[x].sum()) / task.link_bps + task.link_latency_s


def split_table(task: DnnTask, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B), each of length K: T_k(E, w) = A[k-1] / w + B[k-1] (module docstring)."""
    mask = np.asarray(mask, dtype=bool)
    K = task.K
    j = edge_exits(task, mask)
    anc = task.anc
    A = np.empty(K)
    B = np.empty(K)
    eE = float(task.edge_s[mask].sum())
    tau = transfer_s(task, mask) if j < K else 0.0
    for k in range(K):
        if k < j:
            A[k] = float(task.edge_s[anc[k]].sum())
            B[k] = 0.0
        else:
            A[k] = eE
            B[k] = tau + float(task.cloud_s[anc[k] & ~mask].sum())
    return A, B


def task_times(task: DnnTask, mask: np.ndarray, w: float) -> np.ndarray:
    """T_k(E, w) for k = 1..K."""
    A, B = split_table(task, mask)
    return A / w + B


def expected_time(task: DnnTask, mask: np.ndarray, w: float) -> float:
    """E[T] = sum_k pi_k T_k(E, w) for one task."""
    return float(task.exit_probs @ task_times(task, mask, w))


def padded(rows: list[np.ndarray], probs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack per-task rows of different lengths K_u; missing exits get probability 0."""
    K = max(len(r) for r in rows)
    T = np.zeros((len(rows), K))
    P = np.zeros((len(rows), K))
    for u, (r, p) in enumerate(zip(rows, probs)):
        T[u, :len(r)] = r
        T[u, len(r):] = r[-1]
        P[u, :len(p)] = p
    return T, P


def objective(inst: DnnInstance, masks, shares) -> float:
    """E[max_u T_u] (``objective="max"``) or sum_u weight_u E[T_u] (``"sum"``)."""
    rows = [task_times(t, m, float(w)) for t, m, w in zip(inst.tasks, masks, shares)]
    if inst.objective == "sum":
        return float(sum(t.weight * float(t.exit_probs @ r) for t, r in zip(inst.tasks, rows)))
    T, P = padded(rows, [t.exit_probs for t in inst.tasks])
    return expected_max(T, P)


def evaluate(inst: DnnInstance, decisions: Any) -> float:
    """Replay ``{"splits": [[edge node names]], "shares": [w_u]}``; raises ``InvalidInstance``
    naming the field for a malformed or infeasible plan (split not closed, share out of range...)."""
    masks, w = inst.check_decisions(decisions)
    return objective(inst, masks, w)


def breakdown(inst: DnnInstance, decisions: Any) -> list[dict]:
    """Per task: edge set size, j(E), crossing tensors, bytes sent, E[T_u] at its share."""
    masks, w = inst.check_decisions(decisions)
    out = []
    for t, m, x in zip(inst.tasks, masks, w):
        X = crossing(t, m)
        out.append({"task": t.name, "edge_nodes": int(m.sum()), "edge_exits": edge_exits(t, m),
                    "crossing": [t.names[i] for i in np.flatnonzero(X)],
                    "bytes_sent": float(t.out_bytes[X].sum()), "expected_s": expected_time(t, m, float(x))})
    return out
