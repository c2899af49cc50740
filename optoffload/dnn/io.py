"""Ways in: a ``networkx.DiGraph`` with node attributes, and a per-layer CSV profile (docs/dnn.md).

Both build a task object (the JSON of ``DnnTask``) and validate it through
:meth:`DnnInstance.from_dict`, so their errors name the field like every family's.

Graph (:func:`task_from_graph` / :func:`from_graph`): node attributes ``edge_s``, ``cloud_s``
(seconds) or ``work`` (with ``edge_speed`` / ``cloud_speed`` in work units per second), and
``out_bytes``; arcs are data dependencies; exits are ``[(node, prob), ...]`` in exit order.

CSV (:func:`task_from_csv` / :func:`read_csv`): one row per layer, read by column name::

    layer,inputs,edge_s,cloud_s,out_bytes,exit_prob
    input,,0,0,150528,
    conv1,input,0.012,0.001,802816,
    head1,conv1,0.001,0.0001,4000,0.3
    ...

``inputs`` lists the layer's inputs separated by ``;`` (or spaces); ``work`` may replace
``edge_s``/``cloud_s`` (then pass the speeds); a non-empty ``exit_prob`` makes the row an exit
head, exits ordered by row (the last head is the final classifier). Extra columns are ignored.
"""

from __future__ import annotations

import csv
import io as _io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InvalidInstance
from ..validate import as_float
from .model import DnnInstance

_SHARE_KW = ("name", "capacity", "w_min", "w_max", "objective", "description")


def task_from_graph(G, *, exits: Iterable, link_bps: float, name: str = "task", link_latency_s: float = 0.0,
                    input_offload: bool = True, work_unit: str | None = None, edge_speed: float | None = None,
                    cloud_speed: float | None = None) -> dict:
    """The task JSON of a ``networkx.DiGraph`` (module docstring); node names become ``str(node)``."""
    import networkx as nx

    if not isinstance(G, nx.DiGraph):
        raise InvalidInstance("graph", f"must be a networkx.DiGraph, got {type(G).__name__}")
    nodes = []
    order = list(nx.topological_sort(G)) if nx.is_directed_acyclic_graph(G) else list(G.nodes)
    for v in order:
        a = G.nodes[v]
        d: dict[str, Any] = {"name": str(v), "inputs": [str(p) for p in G.predecessors(v)]}
        for k in ("edge_s", "cloud_s", "work", "out_bytes", "op"):
            if k in a:
                d[k] = a[k]
        nodes.append(d)
    t: dict[str, Any] = {"name": name, "nodes": nodes,
                         "exits": [{"node": str(h), "prob": p} for h, p in exits], "link_bps": link_bps,
                         "link_latency_s": link_latency_s, "input_offload": input_offload}
    if work_unit is not None or edge_speed is not None or cloud_speed is not None:
        t.update(work_unit=work_unit or "MAC", edge_speed=edge_speed, cloud_speed=cloud_speed)
    return t


def from_graph(G, *, exits: Iterable, link_bps: float, **kw) -> DnnInstance:
    """A one-task :class:`DnnInstance` from a ``networkx.DiGraph`` (module docstring).

    Keywords ``name, capacity, w_min, w_max, objective`` go to the instance, the rest to
    :func:`task_from_graph`."""
    ik = {k: kw.pop(k) for k in list(kw) if k in _SHARE_KW}
    ik.setdefault("w_min", 0.1)
    return DnnInstance.build([task_from_graph(G, exits=exits, link_bps=link_bps, name=ik.get("name", "task"), **kw)],
                             **ik)


def task_from_csv(source, *, link_bps: float, name: str | None = None, link_latency_s: float = 0.0,
                  input_offload: bool = True, work_unit: str | None = None, edge_speed: float | None = None,
                  cloud_speed: float | None = None) -> dict:
    """The task JSON of a per-layer CSV profile (module docstring): a path or a text stream."""
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and "\n" in source):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInstance("profile", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        label = path.name
    else:
        text = source.read() if hasattr(source, "read") else str(source)
        label = "profile"
    rows = list(csv.DictReader(_io.StringIO(text)))
    if not rows:
        raise InvalidInstance(label, "no layer rows")
    cols = set(rows[0])
    timed = {"edge_s", "cloud_s"} <= cols
    need = {"layer", "inputs", "out_bytes"} | ({"edge_s", "cloud_s"} if timed else {"work"})
    missing = sorted(need - cols)
    if missing:
        raise InvalidInstance(f"{label}.{missing[0]}",
                              "missing column (need layer, inputs, edge_s and cloud_s or work, out_bytes)")
    nodes, exits = [], []
    for r, row in enumerate(rows, start=2):  # line number in the file (header is line 1)
        where = f"{label}:{r}"
        nm = (row["layer"] or "").strip()
        if not nm:
            raise InvalidInstance(f"{where}.layer", "empty layer name")

        def num(col, row=row, where=where):
            v = (row.get(col) or "").strip()
            try:
                x = float(v)
            except ValueError:
                raise InvalidInstance(f"{where}.{col}", f"must be a number, got {v!r}") from None
            return as_float(x, f"{where}.{col}")

        ins = (row["inputs"] or "").replace(";", " ").split()
        d: dict[str, Any] = {"name": nm, "inputs": ins, "out_bytes": num("out_bytes")}
        if timed:
            d["edge_s"], d["cloud_s"] = num("edge_s"), num("cloud_s")
        else:
            d["work"] = num("work")
        if (row.get("exit_prob") or "").strip():
            exits.append({"node": nm, "prob": num("exit_prob")})
        nodes.append(d)
    if not exits:
        raise InvalidInstance(f"{label}.exit_prob", "no row has an exit probability (the final classifier needs one)")
    t: dict[str, Any] = {"name": name or label.rsplit(".", 1)[0], "nodes": nodes, "exits": exits,
                         "link_bps": link_bps, "link_latency_s": link_latency_s, "input_offload": input_offload}
    if not timed:
        t.update(work_unit=work_unit or "MAC", edge_speed=edge_speed, cloud_speed=cloud_speed)
    return t


def read_csv(source, *, link_bps: float, **kw) -> DnnInstance:
    """A one-task :class:`DnnInstance` from a per-layer CSV profile (module docstring)."""
    ik = {k: kw.pop(k) for k in list(kw) if k in _SHARE_KW and k != "name"}
    ik.setdefault("w_min", 0.1)
    t = task_from_csv(source, link_bps=link_bps, **kw)
    return DnnInstance.build([t], name=t["name"], **ik)
