"""Single-task splits: minimum s-t cut per exit prefix, the lower envelope over the share, brute force.

Minimum cut (dnn-graphs.md "What the library must offer"; DADS's construction with early exits).
Fix y = 1/w, the exit probabilities pi and a prefix j in 0..K. Over edge sets E closed under
predecessors with A_j in E, minimise::

    cut_j(E) = sum_{k<=j} pi_k e(A_k) y + sum_{k>j} pi_k [e(E) y + tau(E) + c(A_k \\ E)]

(tau including the latency). Graph: terminals S (edge side) and T (cloud side); per layer v an
arc v->T of capacity Q_j e_v y (paid when v is on the edge, Q_j = sum_{k>j} pi_k) and an arc S->v
of capacity c~_v = c_v sum_{k>j, v in A_k} pi_k (paid when v is on the cloud); for each DAG arc
p->v an infinite arc v->p (v on the edge forces p); per tensor v with successors an auxiliary
node x_v, an arc v->x_v of capacity Q_j 8 b_v / r and infinite arcs x_v->s for every successor s:
a tensor feeding several cloud successors is paid once. Forced nodes (the source, A_j, and the
source's successors when ``input_offload`` is false) get infinite arcs from S.

Why min over j of min cut_j is the optimum: for every closed E and every j <= j(E),
cut_j(E) >= E[T(E)] (an exit k in (j, j(E)] is charged e(E) y + tau + ... >= e(A_k) y), with
equality at j = j(E). So min_j min_E cut_j(E) = min_E E[T(E)]. A prefix j >= 1 with pi_j = 0 is
skipped: cut_{j-1} equals cut_j on the sets that cut_j allows and allows more.

Envelope: for fixed pi, every split's expected time is alpha(E) y + beta(E), so
F(y) = min_E E[T(E, 1/y)] is concave piecewise linear; :func:`envelope` finds all its pieces on
[y1, y2] by Eisner-Severance bisection (one min cut per breakpoint plus one per piece).
"""

from __future__ import annotations

import numpy as np

from .model import DnnTask

_PREC = 1e-12


def tables(task: DnnTask, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`optoffload.dnn.evaluate.split_table` for the rows of an S x n edge-set
    matrix ``M``: returns (A, B), each S x K."""
    M = np.asarray(M, dtype=bool)
    K = task.K
    anc = task.anc
    inside = np.stack([M[:, anc[k]].all(axis=1) for k in range(K)], axis=1)  # S x K
    j = np.cumprod(inside, axis=1).sum(axis=1)  # leading exits inside E
    X = np.zeros_like(M)
    for v in range(task.n):
        if task.succs[v]:
            X[:, v] = M[:, v] & ~M[:, list(task.succs[v])].all(axis=1)
    anyx = X.any(axis=1)
    tau = 8.0 * (X @ task.out_bytes) / task.link_bps + np.where(anyx, task.link_latency_s, 0.0)
    eE = M @ task.edge_s
    eA = anc.astype(float) @ task.edge_s  # K
    cloud = (~M).astype(float) @ (anc.T * task.cloud_s[:, None])  # S x K: c(A_k \ E)
    on_edge = np.arange(K)[None, :] < j[:, None]
    A = np.where(on_edge, eA[None, :], eE[:, None])
    B = np.where(on_edge, 0.0, tau[:, None] + cloud)
    return A, B


def forced(task: DnnTask) -> np.ndarray:
    """Nodes every split has on the edge: the source, and its successors without input offload."""
    f = np.zeros(task.n, dtype=bool)
    f[0] = True
    if not task.input_offload:
        for s in task.succs[0]:
            f[s] = True
        # and their predecessors (closure)
        stack = list(np.flatnonzero(f))
        while stack:
            v = stack.pop()
            for p in task.preds[v]:
                if not f[p]:
                    f[p] = True
                    stack.append(p)
    return f


CUT_SOLVERS = ("auto", "networkx", "lp")
NX_MAX_NODES = 40
"""``solver="auto"`` uses networkx's preflow-push up to this many layers and the LP above it."""


def min_cut_prefix(task: DnnTask, y: float, j: int, probs: np.ndarray | None = None, solver: str = "auto"
                   ) -> np.ndarray:
    """The edge set minimising cut_j at y = 1/w (module docstring); A_j is forced onto the edge.

    ``solver``: ``"networkx"`` (``networkx.minimum_cut``, preflow-push, on the graph of the module
    docstring), ``"lp"`` (the same cut as the LP of :func:`_cut_lp`, solved by HiGHS) or
    ``"auto"`` (networkx up to ``NX_MAX_NODES`` layers)."""
    p = task.exit_probs if probs is None else np.asarray(probs, dtype=float)
    n, K = task.n, task.K
    f = forced(task)
    if j >= 1:
        f = f | task.anc[j - 1]
    if j >= K or f.all():
        return np.ones(n, dtype=bool)
    Q = float(p[j:].sum())
    ct = (task.anc[j:].T.astype(float) @ p[j:]) * task.cloud_s  # c~_v
    if solver == "lp" or (solver == "auto" and n > NX_MAX_NODES):
        return _cut_lp(task, f, Q * task.edge_s * y, ct, Q * 8.0 * task.out_bytes / task.link_bps)
    import networkx as nx

    G = nx.DiGraph()
    S, T = 2 * n, 2 * n + 1
    G.add_nodes_from((S, T))
    G.add_nodes_from(range(n))
    for v in range(n):
        if f[v]:
            G.add_edge(S, v)  # infinite
        elif ct[v] > 0:
            G.add_edge(S, v, capacity=float(ct[v]))
        a = Q * task.edge_s[v] * y
        if a > 0:
            G.add_edge(v, T, capacity=float(a))
        for q in task.preds[v]:
            G.add_edge(v, q)  # infinite: v on the edge forces its input q
        if task.succs[v] and task.out_bytes[v] > 0 and Q > 0:
            G.add_edge(v, n + v, capacity=float(Q * 8.0 * task.out_bytes[v] / task.link_bps))
            for s in task.succs[v]:
                G.add_edge(n + v, s)
    _, (side, _) = nx.minimum_cut(G, S, T)
    m = np.zeros(n, dtype=bool)
    m[[v for v in side if v < n]] = True
    return m | f


def _cut_lp(task: DnnTask, f: np.ndarray, a: np.ndarray, ct: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The min cut of the module docstring as its LP (node potentials p in [0, 1], 1 = edge side):

        min sum_v a_v p_v + ct_v (1 - p_v) + sum_{v in X} q_v d_v
        s.t. p_v <= p_u for every DAG arc u -> v          (v on the edge needs its input u)
             p_x(v) <= p_s for every successor s of v     (auxiliary tensor node x(v))
             p_v - p_x(v) <= d_v,  d_v >= 0                (tensor v sent once when it crosses)
             p_v = 1 for the forced nodes

    This is the dual of the max flow on the cut graph; its constraint matrix is totally
    unimodular (each row is a difference of two potentials, plus an arc variable), so the simplex
    vertex HiGHS returns is integral and is a minimum cut."""
    import highspy

    n = task.n
    cross = [v for v in range(n) if task.succs[v] and q[v] > 0]
    m = len(cross)
    nv = n + 2 * m  # p (n), p_aux (m), d (m)
    cost = np.r_[a - ct, np.zeros(m), q[cross]]
    lo = np.r_[f.astype(float), np.zeros(2 * m)]
    hi = np.r_[np.ones(n + m), np.full(m, highspy.kHighsInf)]
    rows_i, rows_v, starts = [], [], []
    for v in range(n):
        for u in task.preds[v]:
            starts.append(len(rows_i))
            rows_i += [v, u]
            rows_v += [1.0, -1.0]
    for i, v in enumerate(cross):
        for s in task.succs[v]:
            starts.append(len(rows_i))
            rows_i += [n + i, s]
            rows_v += [1.0, -1.0]
        starts.append(len(rows_i))
        rows_i += [v, n + i, n + m + i]
        rows_v += [1.0, -1.0, -1.0]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", "simplex")
    h.addCols(nv, cost, lo, hi, 0, np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([]))
    nr = len(starts)
    h.addRows(nr, np.full(nr, -highspy.kHighsInf), np.zeros(nr), len(rows_i), np.array(starts, dtype=np.int32),
              np.array(rows_i, dtype=np.int32), np.array(rows_v))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - always feasible, bounded
        raise RuntimeError(f"min-cut LP: HiGHS status {h.modelStatusToString(h.getModelStatus())}")
    x = np.asarray(h.getSolution().col_value[:n])
    return (x > 0.5) | f


def best_split(task: DnnTask, w: float, probs=None, *, prefixes=None, solver: str = "auto",
               collect: list | None = None) -> tuple[np.ndarray, float]:
    """Exact min over closed E of sum_k pi_k T_k(E, w): min cut per exit prefix j (module docstring).

    ``probs`` replaces the task's exit probabilities (e.g. DADS: all mass on the final exit);
    ``prefixes`` restricts j. Returns (edge mask, expected time)."""
    p = task.exit_probs if probs is None else np.asarray(probs, dtype=float)
    y = 1.0 / float(w)
    js = range(task.K + 1) if prefixes is None else prefixes
    masks = [min_cut_prefix(task, y, j, p, solver) for j in js if j == 0 or p[j - 1] > 0 or j == task.K]
    if collect is not None:
        collect.extend(masks)  # the min cut of every exit prefix (candidates for many tasks)
    A, B = tables(task, np.array(masks))
    vals = (A * y + B) @ p
    i = int(np.argmin(vals))
    return masks[i], float(vals[i])


def envelope(task: DnnTask, y1: float, y2: float, probs=None, collect: list | None = None) -> list[np.ndarray]:
    """All splits that are optimal for some y = 1/w in [y1, y2] (pieces of the lower envelope of
    E[T(E, 1/y)]), by Eisner-Severance bisection with :func:`best_split` as the oracle.
    ``collect`` receives the min cut of every exit prefix at every probed share."""
    p = task.exit_probs if probs is None else np.asarray(probs, dtype=float)

    def line(m):
        A, B = tables(task, m[None, :])
        return float(A[0] @ p), float(B[0] @ p)

    m1, _ = best_split(task, 1.0 / y1, p, collect=collect)
    out = {m1.tobytes(): m1}
    if y2 > y1 * (1 + 1e-12):
        m2, _ = best_split(task, 1.0 / y2, p, collect=collect)
        out[m2.tobytes()] = m2
        stack = [(m1, m2)]
        while stack:
            ma, mb = stack.pop()
            (a1, b1), (a2, b2) = line(ma), line(mb)
            if abs(a1 - a2) <= _PREC * max(1.0, abs(a1)):
                continue
            ys = (b2 - b1) / (a1 - a2)
            if not (y1 < ys < y2):
                continue
            mc, vc = best_split(task, 1.0 / ys, p, collect=collect)
            if vc >= a1 * ys + b1 - 1e-12 * max(1.0, abs(vc)) or mc.tobytes() in out:
                continue
            out[mc.tobytes()] = mc
            stack.append((ma, mc))
            stack.append((mc, mb))
    return list(out.values())


def ideals(task: DnnTask, limit: int | None = None) -> np.ndarray | None:
    """All edge sets closed under predecessors that contain the forced nodes, as an S x n matrix
    (topological order makes the test 'all inputs included' local). None when more than ``limit``."""
    n = task.n
    f = forced(task)
    out: list[np.ndarray] = []
    cur = np.zeros(n, dtype=bool)

    def rec(i: int) -> bool:
        if i == n:
            out.append(cur.copy())
            return limit is None or len(out) <= limit
        ok = all(cur[p] for p in task.preds[i])
        if ok:
            cur[i] = True
            if not rec(i + 1):
                return False
            cur[i] = False
        if not f[i]:
            return rec(i + 1)
        return True

    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 4 * n + 100))
    try:
        done = rec(0)
    finally:
        sys.setrecursionlimit(old)
    if not done:
        return None
    return np.array(out, dtype=bool)


def brute_force(task: DnnTask, w: float, probs=None) -> tuple[np.ndarray, float]:
    """Min over every closed edge set of the expected time (tests; small graphs only)."""
    p = task.exit_probs if probs is None else np.asarray(probs, dtype=float)
    M = ideals(task)
    A, B = tables(task, M)
    vals = (A / w + B) @ p
    i = int(np.argmin(vals))
    return M[i], float(vals[i])


def nondominated(A: np.ndarray, B: np.ndarray, y1: float, y2: float) -> np.ndarray:
    """Indices of the splits not pointwise dominated over y in [y1, y2] (T_k = A_k y + B_k is affine
    in y, so dominance at both ends is dominance on the interval); among equal rows the first stays."""
    V = np.hstack([A * y1 + B, A * y2 + B])
    S = V.shape[0]
    keep = np.ones(S, dtype=bool)
    tol = 1e-12 * max(1.0, float(np.abs(V).max()) if V.size else 1.0)
    for i in range(S):
        if not keep[i]:
            continue
        le = np.all(V <= V[i] + tol, axis=1)  # rows that are everywhere <= row i
        lt = np.any(V < V[i] - tol, axis=1)
        eq = le & ~lt
        dom = le & (lt | (eq & (np.arange(S) < i)))
        if dom[keep].any():
            keep[i] = False
    return np.flatnonzero(keep)


def prefix_masks(task: DnnTask, order=None) -> np.ndarray:
    """Edge sets {order[0..i]} of a topological ``order`` (default: the stored layer order) that
    hold the forced nodes: the splits a chain method (Neurosurgeon, Edgent) can choose."""
    order = list(range(task.n)) if order is None else list(order)
    M = np.zeros((task.n, task.n), dtype=bool)
    for i, v in enumerate(order):
        M[i:, v] = True
    f = forced(task)
    return M[np.all(M[:, f], axis=1)]


def best_prefix(task: DnnTask, w: float, probs=None, order=None) -> tuple[np.ndarray, float]:
    """The best prefix split of a topological order for sum_k pi_k T_k(E, w)."""
    p = task.exit_probs if probs is None else np.asarray(probs, dtype=float)
    M = prefix_masks(task, order)
    A, B = tables(task, M)
    vals = (A / float(w) + B) @ p
    i = int(np.argmin(vals))
    return M[i], float(vals[i])


def topological_orders(task: DnnTask, count: int = 20, seed: int = 0) -> list[list[int]]:
    """The stored order, the breadth-first (FIFO Kahn) order, the depth-first (LIFO Kahn) order and
    ``count`` random topological orders (Kahn with a random pick), for prefix comparisons."""
    rng = np.random.default_rng(seed)
    out = [list(range(task.n))]
    for rule in ["fifo", "lifo"] + ["random"] * count:
        indeg = [len(p) for p in task.preds]
        ready, order = [0], []
        while ready:
            if rule == "fifo":
                v = ready.pop(0)
            elif rule == "lifo":
                v = ready.pop()
            else:
                v = ready.pop(int(rng.integers(len(ready))))
            order.append(v)
            for s in task.succs[v]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
        out.append(order)
    return out
