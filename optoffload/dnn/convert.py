"""The chain case: an ERDS instance as a DNN-graph instance (dnn-graphs.md; docs/dnn.md "Relation to erds").

ERDS task u (erds.md 2.1) is the chain b0 -> b1 -> ... -> bK with exit k after block k. Node b_i
gets e = nu_E loads[u][i] (at w = 1), c = nu_C loads[u][i]; the link rate is r = 8 bit/s and
b_i's output is nu_T TR[u][i] bytes, so sending it takes 8 nu_T TR / 8 = nu_T TR seconds; exit
head k is b_k. Block 0 (the stem, always on the ERDS edge) is the source, always on the edge here.
Then E = {b0..bs} has j(E) = s and the times of dnn-graphs.md equal ERDS's T_u(s, k, w) term by
term; ERDS split s corresponds to the edge set {b0..bs} (:func:`erds_split`).
"""

from __future__ import annotations

import numpy as np

from .model import DnnInstance


def from_erds(inst) -> DnnInstance:
    """The chain-graph DNN instance of an :class:`optoffload.erds.ErdsInstance` (module docstring)."""
    tasks = []
    for u in range(inst.U):
        K = inst.K
        nodes = [{"name": f"b{i}", "inputs": [f"b{i - 1}"] if i else [],
                  "edge_s": float(inst.edge_factor * inst.loads[u, i]),
                  "cloud_s": float(inst.cloud_factor * inst.loads[u, i]),
                  "out_bytes": float(inst.tr_factor * inst.transmission[u, i])} for i in range(K + 1)]
        exits = [{"node": f"b{k}", "prob": float(inst.exit_probs[u, k - 1])} for k in range(1, K + 1)]
        tasks.append({"name": f"task{u}", "nodes": nodes, "exits": exits, "link_bps": 8.0})
    return DnnInstance.build(tasks, name=f"chain-{inst.name}", capacity=inst.capacity, w_min=inst.w_min,
                             w_max=inst.w_max, objective="max",
                             description=f"chain view of erds/{inst.name} (optoffload.dnn.convert)")


def erds_split(dinst: DnnInstance, splits) -> list[np.ndarray]:
    """Edge masks {b0..b_s} of ERDS split points ``splits``."""
    return [np.arange(t.n) <= int(s) for t, s in zip(dinst.tasks, splits)]
