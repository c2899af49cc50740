"""DNN-graph data model: validated, JSON-serializable instances (dnn-graphs.md "Data").

A :class:`DnnInstance` holds U tasks (:class:`DnnTask`), the edge capacity ``capacity``, the share
bounds ``w_min`` / ``w_max`` and the objective (``"max"``: E[max_u T_u], as ERDS; ``"sum"``:
E[sum_u weight_u T_u]). A task is a DAG of layers:

``nodes``        list of ``{"name", "inputs": [names], "edge_s", "cloud_s", "out_bytes"}``; or, instead
                 of ``edge_s``/``cloud_s``, ``"work"`` (in the task's ``work_unit``), divided by the
                 task's ``edge_speed`` / ``cloud_speed`` (work units per second). The one node with
                 no inputs is the *source* (the raw input; its ``out_bytes`` is b_source); it is
                 always on the edge (the data is there).
``exits``        ordered ``[{"node", "prob"}]``: exit heads h_1..h_K (h_K the final classifier),
                 probabilities summing to 1 (within 1e-6, then renormalised).
``link_bps``     uplink rate r in bit/s: B bytes take 8 B / r seconds.
``link_latency_s`` fixed latency of the one transfer of a sample that leaves the edge (default 0).
``input_offload`` whether the raw input may be sent (default true); false forces every successor
                 of the source onto the edge.
``weight``       the task's weight in the ``"sum"`` objective (default 1).

Units: seconds (``edge_s`` at full edge share w = 1, ``cloud_s``), bytes, bit/s.

Every node must be needed by some exit (an ancestor of an exit head, or one): a node that no
exit needs is rejected (dnn-graphs.md: "a node with no path to the output"; BranchyNet exit
branches end in their own head, so "output" means "an exit head"). With that, A_K = V.

Decisions (``check_decisions``): ``{"splits": [[names of the edge nodes of task u]], "shares": [w_u]}``;
each split must be closed under predecessors and contain the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..validate import (
    FORMAT_VERSION,
    as_float,
    as_list,
    as_str,
    check_format,
    check_keys,
    nonneg,
    positive,
    require,
)

FAMILY = "dnn"
PROB_TOL = 1e-6
OBJECTIVES = ("max", "sum")
WORK_UNITS = ("MAC", "FLOP")

_KEYS = frozenset({"format", "family", "name", "description", "tasks", "capacity", "w_min", "w_max",
                   "objective", "meta"})
_TASK_KEYS = frozenset({"name", "nodes", "exits", "link_bps", "link_latency_s", "input_offload", "weight",
                        "work_unit", "edge_speed", "cloud_speed", "meta"})
_NODE_KEYS = frozenset({"name", "inputs", "edge_s", "cloud_s", "work", "out_bytes", "op"})


@dataclass(frozen=True, eq=False)
class DnnTask:
    """One task: a layer DAG in topological order (index 0 is the source).

    Arrays are indexed by node position ``i`` (``names[i]``); ``preds[i]`` / ``succs[i]`` are
    tuples of positions. ``anc[k]`` is the boolean mask of A_{k+1} (nodes needed by exits 1..k+1).
    """

    name: str
    names: tuple
    preds: tuple
    succs: tuple
    edge_s: np.ndarray
    cloud_s: np.ndarray
    out_bytes: np.ndarray
    exit_nodes: tuple
    exit_probs: np.ndarray
    link_bps: float
    link_latency_s: float = 0.0
    input_offload: bool = True
    weight: float = 1.0
    work: np.ndarray | None = None
    work_unit: str | None = None
    edge_speed: float | None = None
    cloud_speed: float | None = None
    ops: tuple | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def K(self) -> int:
        return len(self.exit_nodes)

    @property
    def anc(self) -> np.ndarray:
        """K x n boolean: anc[k-1, v] = v in A_k."""
        c = self.__dict__.get("_anc")
        if c is None:
            c = np.zeros((self.K, self.n), dtype=bool)
            need = np.zeros(self.n, dtype=bool)
            for k, h in enumerate(self.exit_nodes):
                stack = [h]
                while stack:
                    v = stack.pop()
                    if not need[v]:
                        need[v] = True
                        stack.extend(self.preds[v])
                c[k] = need
            c.setflags(write=False)
            object.__setattr__(self, "_anc", c)
        return c

    def index(self, name: str) -> int:
        m = self.__dict__.get("_index")
        if m is None:
            m = {v: i for i, v in enumerate(self.names)}
            object.__setattr__(self, "_index", m)
        return m[name]

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        nodes = []
        for i, nm in enumerate(self.names):
            d: dict[str, Any] = {"name": nm, "inputs": [self.names[p] for p in self.preds[i]]}
            if self.work is not None:
                d["work"] = float(self.work[i])
            else:
                d["edge_s"] = float(self.edge_s[i])
                d["cloud_s"] = float(self.cloud_s[i])
            d["out_bytes"] = float(self.out_bytes[i])
            if self.ops is not None and self.ops[i]:
                d["op"] = self.ops[i]
            nodes.append(d)
        t: dict[str, Any] = {"name": self.name, "nodes": nodes,
                             "exits": [{"node": self.names[h], "prob": float(p)}
                                       for h, p in zip(self.exit_nodes, self.exit_probs)],
                             "link_bps": self.link_bps}
        if self.work is not None:
            t.update(work_unit=self.work_unit, edge_speed=self.edge_speed, cloud_speed=self.cloud_speed)
        if self.link_latency_s:
            t["link_latency_s"] = self.link_latency_s
        if not self.input_offload:
            t["input_offload"] = False
        if self.weight != 1.0:
            t["weight"] = self.weight
        if self.meta:
            t["meta"] = self.meta
        return t

    @classmethod
    def from_dict(cls, d: Any, where: str = "task") -> DnnTask:
        """Validate one task object; every error names its field (``tasks[u].nodes[i].edge_s``...)."""
        if not isinstance(d, dict):
            raise InvalidInstance(where, f"must be an object, got {type(d).__name__}")
        check_keys(d, _TASK_KEYS, where)
        name = as_str(d.get("name", where), f"{where}.name")
        raw = as_list(require(d, "nodes", where), f"{where}.nodes", min_length=1)
        from ..limits import check as check_limit

        check_limit("max_layers", len(raw), f"{where}.nodes", "number of layers")
        unit = d.get("work_unit")
        es = d.get("edge_speed")
        cs = d.get("cloud_speed")
        if unit is not None:
            unit = as_str(unit, f"{where}.work_unit", WORK_UNITS)
        if es is not None:
            es = positive(es, f"{where}.edge_speed")
        if cs is not None:
            cs = positive(cs, f"{where}.cloud_speed")
        names: list[str] = []
        pos: dict[str, int] = {}
        inputs: list[list[str]] = []
        e, c, b, w, ops = [], [], [], [], []
        uses_work = None
        for i, nd in enumerate(raw):
            f = f"{where}.nodes[{i}]"
            if not isinstance(nd, dict):
                raise InvalidInstance(f, f"must be an object, got {type(nd).__name__}")
            check_keys(nd, _NODE_KEYS, f)
            nm = as_str(require(nd, "name", f), f"{f}.name")
            if not nm:
                raise InvalidInstance(f"{f}.name", "must not be empty")
            if nm in pos:
                raise InvalidInstance(f"{f}.name", f"duplicate node name {nm!r}")
            pos[nm] = i
            names.append(nm)
            ins = as_list(nd.get("inputs", []), f"{f}.inputs")
            ins = [as_str(x, f"{f}.inputs[{j}]") for j, x in enumerate(ins)]
            if len(set(ins)) != len(ins):
                raise InvalidInstance(f"{f}.inputs", f"lists an input twice: {ins!r}")
            inputs.append(ins)
            has_work = "work" in nd
            has_time = "edge_s" in nd or "cloud_s" in nd
            if has_work and has_time:
                raise InvalidInstance(f, "give either work or edge_s/cloud_s, not both")
            if uses_work is None:
                uses_work = has_work
            elif uses_work != has_work:
                raise InvalidInstance(f, "all nodes of a task give work, or all give edge_s/cloud_s")
            if has_work:
                wv = nonneg(nd["work"], f"{f}.work")
                w.append(wv)
                if es is None or cs is None:
                    raise InvalidInstance(f"{where}.edge_speed" if es is None else f"{where}.cloud_speed",
                                          "needed when nodes give work")
                e.append(wv / es)
                c.append(wv / cs)
            else:
                e.append(nonneg(require(nd, "edge_s", f), f"{f}.edge_s"))
                c.append(nonneg(require(nd, "cloud_s", f), f"{f}.cloud_s"))
            b.append(nonneg(require(nd, "out_bytes", f), f"{f}.out_bytes"))
            ops.append(as_str(nd.get("op", ""), f"{f}.op"))
        n = len(names)
        preds_n: list[list[int]] = []
        for i, ins in enumerate(inputs):
            ps = []
            for j, x in enumerate(ins):
                if x not in pos:
                    raise InvalidInstance(f"{where}.nodes[{i}].inputs[{j}]", f"unknown node {x!r}")
                if x == names[i]:
                    raise InvalidInstance(f"{where}.nodes[{i}].inputs[{j}]", f"node {x!r} feeds itself")
                ps.append(pos[x])
            preds_n.append(ps)
        sources = [i for i in range(n) if not preds_n[i]]
        if len(sources) != 1:
            raise InvalidInstance(f"{where}.nodes", "need exactly one source (node without inputs), got "
                                                    f"{len(sources)}: {[names[i] for i in sources][:5]!r}")
        # topological order (Kahn with the smallest listed index first: a listed order that is
        # already topological is kept, which Neurosurgeon/Edgent-style prefix cuts use); a node
        # left over lies on a cycle
        import heapq

        indeg = [len(p) for p in preds_n]
        succ_n: list[list[int]] = [[] for _ in range(n)]
        for i, ps in enumerate(preds_n):
            for p in ps:
                succ_n[p].append(i)
        order, heap = [], [sources[0]]
        while heap:
            v = heapq.heappop(heap)
            order.append(v)
            for s in succ_n[v]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    heapq.heappush(heap, s)
        if len(order) != n:
            bad = next(i for i in range(n) if indeg[i] > 0)
            raise InvalidInstance(f"{where}.nodes[{bad}].inputs", f"node {names[bad]!r} lies on a cycle")
        rank = {v: r for r, v in enumerate(order)}
        # exits
        rawx = as_list(require(d, "exits", where), f"{where}.exits", min_length=1)
        xn, xp = [], []
        for k, x in enumerate(rawx):
            f = f"{where}.exits[{k}]"
            if not isinstance(x, dict):
                raise InvalidInstance(f, f"must be an object, got {type(x).__name__}")
            check_keys(x, {"node", "prob"}, f)
            nm = as_str(require(x, "node", f), f"{f}.node")
            if nm not in pos:
                raise InvalidInstance(f"{f}.node", f"exit head {nm!r} is not a node")
            if nm in [names[h] for h in xn]:
                raise InvalidInstance(f"{f}.node", f"exit head {nm!r} listed twice")
            xn.append(pos[nm])
            xp.append(as_float(require(x, "prob", f), f"{f}.prob", min=0.0, max=1.0))
        ps = float(sum(xp))
        if abs(ps - 1.0) > PROB_TOL:
            raise InvalidInstance(f"{where}.exits", f"exit probabilities must sum to 1, got sum {ps!r}")
        # every node needed by some exit
        need = np.zeros(n, dtype=bool)
        stack = list(xn)
        while stack:
            v = stack.pop()
            if not need[v]:
                need[v] = True
                stack.extend(preds_n[v])
        if not need.all():
            bad = int(np.flatnonzero(~need)[0])
            raise InvalidInstance(f"{where}.nodes[{bad}]",
                                  f"node {names[bad]!r} has no path to an exit head (no exit needs it)")
        r = positive(require(d, "link_bps", where), f"{where}.link_bps")
        lat = nonneg(d.get("link_latency_s", 0.0), f"{where}.link_latency_s")
        io = d.get("input_offload", True)
        if not isinstance(io, bool):
            raise InvalidInstance(f"{where}.input_offload", f"must be true or false, got {io!r}")
        wt = nonneg(d.get("weight", 1.0), f"{where}.weight")
        meta = d.get("meta", {})
        if not isinstance(meta, dict):
            raise InvalidInstance(f"{where}.meta", f"must be an object, got {type(meta).__name__}")
        # renumber in topological order
        new = [names[v] for v in order]
        preds = tuple(tuple(sorted(rank[p] for p in preds_n[v])) for v in order)
        succs = tuple(tuple(sorted(rank[s] for s in succ_n[v])) for v in order)
        arr = lambda a: np.asarray([a[v] for v in order], dtype=float)
        probs = np.asarray(xp) / ps
        return cls(name=name, names=tuple(new), preds=preds, succs=succs, edge_s=arr(e), cloud_s=arr(c),
                   out_bytes=arr(b), exit_nodes=tuple(rank[h] for h in xn), exit_probs=probs, link_bps=r,
                   link_latency_s=lat, input_offload=io, weight=wt, work=arr(w) if uses_work else None,
                   work_unit=unit if uses_work else None, edge_speed=es if uses_work else None,
                   cloud_speed=cs if uses_work else None,
                   ops=tuple(ops[v] for v in order) if any(ops) else None, meta=dict(meta))

    def closed(self, mask: np.ndarray) -> bool:
        """True when ``mask`` (edge set) contains the source and is closed under predecessors."""
        if not mask[0]:
            return False
        return all(mask[p] for v in np.flatnonzero(mask) for p in self.preds[v])

    def with_exit_probs(self, probs) -> DnnTask:
        d = self.to_dict()
        for x, p in zip(d["exits"], probs):
            x["prob"] = float(p)
        return DnnTask.from_dict(d, self.name)

    def __str__(self) -> str:
        return (f"{self.name}: {self.n} nodes, {sum(len(p) for p in self.preds)} edges, K={self.K} exits, "
                f"edge {self.edge_s.sum():.4g} s, cloud {self.cloud_s.sum():.4g} s, link {self.link_bps:.4g} bit/s")


@dataclass(frozen=True, eq=False)
class DnnInstance:
    """U tasks sharing the edge (dnn-graphs.md "Many tasks"). Build with :meth:`from_dict`/:meth:`build`."""

    name: str
    tasks: tuple
    capacity: float = 1.0
    w_min: float = 0.1
    w_max: float | None = None
    objective: str = "max"
    description: str = ""
    meta: dict = field(default_factory=dict)
    family: str = FAMILY

    @property
    def U(self) -> int:
        return len(self.tasks)

    @property
    def share_max(self) -> float:
        return self.capacity if self.w_max is None else min(self.w_max, self.capacity)

    @classmethod
    def build(cls, tasks, *, name: str = "dnn", capacity: float = 1.0, w_min: float | None = None,
              w_max: float | None = None, objective: str = "max", description: str = "",
              meta: dict | None = None) -> DnnInstance:
        """Validate and build from task dicts or :class:`DnnTask` objects."""
        tl = [t.to_dict() if isinstance(t, DnnTask) else t for t in tasks]
        if w_min is None:
            w_min = min(0.1, 0.5 * capacity / max(1, len(tl)))
        d = {"format": FORMAT_VERSION, "family": FAMILY, "name": name, "tasks": tl, "capacity": capacity,
             "w_min": w_min, "objective": objective, "description": description}
        if w_max is not None:
            d["w_max"] = w_max
        if meta:
            d["meta"] = meta
        return cls.from_dict(d)

    @classmethod
    def from_dict(cls, d: Any) -> DnnInstance:
        if not isinstance(d, dict):
            raise InvalidInstance("instance", f"must be an object, got {type(d).__name__}")
        check_format(d, FAMILY)
        check_keys(d, _KEYS, "")
        name = as_str(d.get("name", "dnn"), "name")
        raw = as_list(require(d, "tasks"), "tasks", min_length=1)
        from ..limits import check as check_limit

        check_limit("max_tasks", len(raw), "tasks", "number of tasks U")
        total = sum(len(t["nodes"]) for t in raw if isinstance(t, dict) and isinstance(t.get("nodes"), list))
        check_limit("max_dnn_layers", total, "tasks", "total number of layers")
        tasks = tuple(DnnTask.from_dict(t, f"tasks[{u}]") for u, t in enumerate(raw))
        cap = positive(d.get("capacity", 1.0), "capacity")
        w_min = as_float(d.get("w_min", 0.1), "w_min", min=0.0, min_inclusive=False)
        w_max = d.get("w_max")
        if w_max is not None:
            w_max = as_float(w_max, "w_max", min=w_min)
        hi = cap if w_max is None else min(w_max, cap)
        if w_min > hi:
            raise InvalidInstance("w_min", f"must be <= min(w_max, capacity) = {hi!r}, got {w_min!r}")
        if len(tasks) * w_min > cap * (1 + 1e-12):
            raise InvalidInstance("w_min", f"{len(tasks)} tasks x w_min {w_min!r} exceeds capacity {cap!r}")
        obj = as_str(d.get("objective", "max"), "objective", OBJECTIVES)
        meta = d.get("meta", {})
        if not isinstance(meta, dict):
            raise InvalidInstance("meta", f"must be an object, got {type(meta).__name__}")
        return cls(name=name, tasks=tasks, capacity=cap, w_min=w_min, w_max=w_max, objective=obj,
                   description=as_str(d.get("description", ""), "description"), meta=dict(meta))

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"format": FORMAT_VERSION, "family": FAMILY, "name": self.name,
                             "tasks": [t.to_dict() for t in self.tasks], "capacity": self.capacity,
                             "w_min": self.w_min, "objective": self.objective}
        if self.w_max is not None:
            d["w_max"] = self.w_max
        if self.description:
            d["description"] = self.description
        if self.meta:
            d["meta"] = self.meta
        return d

    def replace(self, **changes: Any) -> DnnInstance:
        d = self.to_dict()
        d.update(changes)
        return DnnInstance.from_dict(d)

    def check_decisions(self, decisions: Any) -> tuple[list[np.ndarray], np.ndarray]:
        """Validate ``{"splits": [[edge node names]], "shares": [w_u]}``; returns (masks, shares)."""
        if not isinstance(decisions, dict):
            raise InvalidInstance("decisions", f"must be an object, got {type(decisions).__name__}")
        check_keys(decisions, {"splits", "shares"}, "decisions")
        sl = as_list(require(decisions, "splits", "decisions"), "decisions.splits", length=self.U)
        masks = []
        for u, (t, s) in enumerate(zip(self.tasks, sl)):
            f = f"decisions.splits[{u}]"
            names = as_list(s, f)
            m = np.zeros(t.n, dtype=bool)
            for i, x in enumerate(names):
                x = as_str(x, f"{f}[{i}]")
                try:
                    m[t.index(x)] = True
                except KeyError:
                    raise InvalidInstance(f"{f}[{i}]", f"unknown node {x!r} of task {t.name!r}") from None
            if not m[0]:
                raise InvalidInstance(f, f"must contain the source {t.names[0]!r} (the input is on the edge)")
            for v in np.flatnonzero(m):
                for p in t.preds[v]:
                    if not m[p]:
                        raise InvalidInstance(f, f"not closed under predecessors: {t.names[v]!r} is on the edge "
                                                 f"but its input {t.names[p]!r} is not")
            if not t.input_offload:
                for s2 in t.succs[0]:
                    if not m[s2]:
                        raise InvalidInstance(f, f"task {t.name!r} forbids sending the raw input, but "
                                                 f"{t.names[s2]!r} is not on the edge")
            masks.append(m)
        wl = as_list(require(decisions, "shares", "decisions"), "decisions.shares", length=self.U)
        w = np.asarray([as_float(x, f"decisions.shares[{u}]") for u, x in enumerate(wl)], dtype=float)
        tol = 1e-9
        for u, x in enumerate(w):
            if x < self.w_min - tol or x > self.share_max + tol:
                raise InvalidInstance(f"decisions.shares[{u}]",
                                      f"must lie in [{self.w_min!r}, {self.share_max!r}], got {x!r}")
        if w.sum() > self.capacity * (1 + tol) + tol:
            raise InvalidInstance("decisions.shares", f"sum {w.sum()!r} exceeds capacity {self.capacity!r}")
        return masks, w

    def __str__(self) -> str:
        return (f"dnn/{self.name}: U={self.U} tasks, objective E[{self.objective}], capacity={self.capacity:g}, "
                f"w_min={self.w_min:g}\n" + "\n".join("  " + str(t) for t in self.tasks))


def decisions(inst: DnnInstance, masks, shares) -> dict:
    """The plain decisions object: per task the names of the edge nodes (topological order)."""
    return {"splits": [[t.names[i] for i in np.flatnonzero(m)] for t, m in zip(inst.tasks, masks)],
            "shares": [float(x) for x in shares]}
