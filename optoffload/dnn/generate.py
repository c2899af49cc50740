"""Random DNN-graph instances (tests, ``dnn-gap`` / ``dnn-scale``, ``optoffload generate dnn``).

A random task: node 0 is the input (e = c = 0, b = input size); node i >= 1 reads 1 to
``max_inputs`` earlier nodes (so tensors often feed several successors: residual- and
concat-like joins); every node that would end without a successor feeds the last node (the final
classifier) unless it is an exit head. Exit heads: K-1 distinct interior nodes in topological
order, then the last node. Edge times e_v ~ U(0.5, 2) * edge_slowdown * c_v with c_v ~ U(0.01,
0.1) s; output sizes b_v ~ U(0.1, 1) * 1e5 bytes, the input ``input_bytes``; link ``link_bps``.
"""

from __future__ import annotations

import numpy as np

from .model import DnnInstance


def random_task(rng: np.random.Generator, *, nodes: int = 8, exits: int = 3, max_inputs: int = 2,
                edge_slowdown: float = 2.0, link_bps: float = 1e7, input_bytes: float = 3e5,
                input_offload: bool = True, name: str = "t") -> dict:
    n = max(2, int(nodes))
    K = max(1, min(int(exits), n - 1))
    preds: list[list[int]] = [[]]
    for i in range(1, n):
        m = int(rng.integers(1, max_inputs + 1))
        preds.append(sorted(set(int(x) for x in rng.choice(i, size=min(m, i), replace=False))))
    heads = sorted(int(x) for x in rng.choice(np.arange(1, n - 1), size=K - 1, replace=False)) if K > 1 else []
    heads.append(n - 1)
    has_succ = np.zeros(n, dtype=bool)
    for ps in preds:
        has_succ[ps] = True
    for v in range(n - 1):
        if not has_succ[v] and v not in heads:
            preds[n - 1].append(v)
    c = rng.uniform(0.01, 0.1, n)
    e = rng.uniform(0.5, 2.0, n) * edge_slowdown * c
    b = rng.uniform(0.1, 1.0, n) * 1e5
    c[0] = e[0] = 0.0
    b[0] = input_bytes
    p = rng.dirichlet(np.ones(K))
    nodes_d = [{"name": f"n{i}", "inputs": [f"n{q}" for q in sorted(set(preds[i]))], "edge_s": float(e[i]),
                "cloud_s": float(c[i]), "out_bytes": float(b[i])} for i in range(n)]
    return {"name": name, "nodes": nodes_d, "exits": [{"node": f"n{h}", "prob": float(q)} for h, q in zip(heads, p)],
            "link_bps": float(link_bps), "input_offload": bool(input_offload)}


def generate(*, seed: int = 0, tasks: int = 3, nodes: int = 8, exits: int = 3, max_inputs: int = 2,
             edge_slowdown: float = 2.0, link_bps: float = 1e7, w_min: float | None = None,
             objective: str = "max", input_offload: bool = True) -> DnnInstance:
    """A random instance of ``tasks`` random DAG tasks (module docstring).

    Sizes are checked before anything is built (``oo.limits``: ``max_tasks``, ``max_layers``,
    ``max_dnn_layers``, ``max_exits``); ``exits`` must leave room for the heads (``<= nodes - 1``).
    """
    from ..limits import check as check_limit
    from ..validate import as_int

    tasks = as_int(tasks, "tasks", min=1, limit="max_tasks")
    nodes = as_int(nodes, "nodes", min=2, limit="max_layers")
    check_limit("max_dnn_layers", tasks * nodes, "nodes", "total number of layers (tasks x nodes)")
    exits = as_int(exits, "exits", min=1, limit="max_exits")
    if exits > nodes - 1:
        from ..errors import InvalidInstance

        raise InvalidInstance("exits", f"must be <= nodes - 1 = {nodes - 1} (the input layer is no exit head), "
                                       f"got {exits}")
    max_inputs = as_int(max_inputs, "max_inputs", min=1)
    rng = np.random.default_rng(seed)
    ts = [random_task(rng, nodes=nodes, exits=exits, max_inputs=max_inputs, edge_slowdown=edge_slowdown,
                      link_bps=link_bps, input_offload=input_offload, name=f"t{u}") for u in range(tasks)]
    return DnnInstance.build(ts, name=f"random-s{seed}-u{tasks}-n{nodes}", w_min=w_min, objective=objective,
                             meta={"generator": {"seed": seed, "tasks": tasks, "nodes": nodes, "exits": exits,
                                                 "max_inputs": max_inputs, "edge_slowdown": edge_slowdown,
                                                 "link_bps": link_bps}})
