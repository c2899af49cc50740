"""ONNX import (dnn-graphs.md "Profiles"; docs/dnn.md "From ONNX").

:func:`task_from_onnx` runs ONNX shape inference, makes one layer per ONNX node (``Constant``
nodes are folded away like initializers) plus a source layer ``input`` for the graph's one
non-initializer input, and derives per layer:

* ``out_bytes``: sum over the node's outputs of (number of elements) x (bytes of the element type:
  float32 4, float16 2, int8/uint8 1, int64 8...). The source's is the graph input's size.
* ``work`` in multiply-accumulates (``work_unit="MAC"``), from the shapes:
  ``Conv``: N * C_out * prod(out spatial) * (C_in / group) * prod(kernel);
  ``ConvTranspose``: N * C_in * prod(in spatial) * (C_out / group) * prod(kernel);
  ``Gemm``: M * N * K; ``MatMul``: prod(batch) * M * N * K.
  Every other operator (activations, BatchNormalization, pooling, Add, Concat, reshapes) counts 0
  MACs -- the convention of the published MAC totals (ResNet-18 "1.8 G").
  With ``work_unit="FLOP"``: 2 x MACs for those, plus one FLOP per output element of every other
  operator except pure data movement (Reshape, Flatten, Transpose, Concat, Squeeze, Unsqueeze,
  Identity, Shape, Gather, Slice).
* times ``work / edge_speed`` and ``work / cloud_speed`` (work units per second).

Exits are named by the user (``exits=[(name, prob), ...]``, name = an ONNX node name or one of its
output tensor names), in exit order, the final classifier last. Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from .model import DnnInstance

_MOVE = {"Reshape", "Flatten", "Transpose", "Concat", "Squeeze", "Unsqueeze", "Identity", "Shape", "Gather",
         "Slice", "Split", "Constant"}


def _elem_bytes(elem_type: int) -> int:
    from onnx import helper

    return int(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)


def _attr(node, name, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def macs(node, shape) -> float:
    """Multiply-accumulates of one node from the shapes (module docstring); ``shape(name)`` gives a
    tensor's dims."""
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
        x, wt, y = shape(node.input[0]), shape(node.input[1]), shape(node.output[0])
        k = int(np.prod(wt[2:]))  # W's second dim is already (channels / group)
        if op == "Conv":  # W: (C_out, C_in/g, k...)
            return float(y[0] * y[1] * np.prod(y[2:]) * wt[1] * k)
        return float(x[0] * x[1] * np.prod(x[2:]) * (wt[1]) * k)  # W: (C_in, C_out/g, k...)
    if op == "Gemm":
        a, b = shape(node.input[0]), shape(node.input[1])
        ta, tb = int(_attr(node, "transA", 0)), int(_attr(node, "transB", 0))
        M, K = (a[1], a[0]) if ta else (a[0], a[1])
        N = b[0] if tb else b[1]
        return float(M * N * K)
    if op == "MatMul":
        a, b, y = shape(node.input[0]), shape(node.input[1]), shape(node.output[0])
        K = a[-1]
        return float(np.prod(y) * K)
    return 0.0


def task_from_onnx(model, *, exits: Iterable, link_bps: float, edge_speed: float, cloud_speed: float,
                   work_unit: str = "MAC", name: str | None = None, link_latency_s: float = 0.0,
                   input_offload: bool = True) -> dict:
    """The task JSON of an ONNX model (a ``ModelProto`` or a path), module docstring."""
    import onnx
    from onnx import shape_inference

    if not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(str(model))
        except Exception as exc:  # noqa: BLE001 - a bad file is bad input
            raise InvalidInstance("model", f"cannot read ONNX model {str(model)!r}: {exc}") from None
    if work_unit not in ("MAC", "FLOP"):
        raise InvalidInstance("work_unit", f"must be 'MAC' or 'FLOP', got {work_unit!r}")
    try:
        model = shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:  # noqa: BLE001
        raise InvalidInstance("model", f"ONNX shape inference failed: {str(exc).splitlines()[0]}") from None
    g = model.graph
    inits = {t.name: (list(t.dims), t.data_type) for t in g.initializer}
    info: dict[str, tuple[list, int]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            info[vi.name] = (dims, tt.elem_type)
    info.update(inits)
    consts = set(inits)
    for nd in g.node:
        if nd.op_type == "Constant":
            consts.update(nd.output)
    real_inputs = [i.name for i in g.input if i.name not in consts]
    if len(real_inputs) != 1:
        raise InvalidInstance("model.graph.input", f"need exactly one non-initializer input, got {real_inputs!r}")

    def shape(t):
        if t not in info or any(d is None for d in info[t][0]):
            raise InvalidInstance("model", f"tensor {t!r}: shape unknown after shape inference "
                                           "(give the model static shapes, batch included)")
        return [int(d) for d in info[t][0]]

    def nbytes(t):
        return float(np.prod(shape(t))) * _elem_bytes(info[t][1])

    src = real_inputs[0]
    producer = {src: "input"}
    nodes: list[dict[str, Any]] = [{"name": "input", "inputs": [], "work": 0.0, "out_bytes": nbytes(src),
                                    "op": "Input"}]
    alias: dict[str, str] = {}
    used = {"input"}
    for i, nd in enumerate(g.node):
        if nd.op_type == "Constant":
            continue
        nm = nd.name or (nd.output[0] if nd.output else f"{nd.op_type}_{i}")
        if nm in used:
            nm = f"{nm}_{i}"
        used.add(nm)
        ins = []
        for t in nd.input:
            if t and t not in consts:
                if t not in producer:
                    raise InvalidInstance("model", f"node {nm!r} reads {t!r}, produced by no earlier node")
                p = producer[t]
                if p not in ins:
                    ins.append(p)
        if not ins:
            ins = ["input"]
        mac = macs(nd, shape)
        if work_unit == "MAC":
            work = mac
        else:
            work = 2.0 * mac if mac else (0.0 if nd.op_type in _MOVE else
                                          float(sum(np.prod(shape(o)) for o in nd.output if o)))
        nodes.append({"name": nm, "inputs": ins, "work": work,
                      "out_bytes": float(sum(nbytes(o) for o in nd.output if o)), "op": nd.op_type})
        for o in nd.output:
            producer[o] = nm
            alias[o] = nm
        alias[nd.name] = nm if nd.name else alias.get(nd.name, nm)
    ex = []
    for k, (h, p) in enumerate(exits):
        if h not in alias and h not in used:
            raise InvalidInstance(f"exits[{k}]", f"{h!r} is neither an ONNX node name nor a node output")
        ex.append({"node": alias.get(h, h), "prob": p})
    return {"name": name or (g.name or "onnx"), "nodes": nodes, "exits": ex, "link_bps": link_bps,
            "link_latency_s": link_latency_s, "input_offload": input_offload, "work_unit": work_unit,
            "edge_speed": edge_speed, "cloud_speed": cloud_speed}


def from_onnx(model, *, exits: Iterable, link_bps: float, edge_speed: float, cloud_speed: float,
              capacity: float = 1.0, w_min: float = 0.1, w_max: float | None = None, **kw) -> DnnInstance:
    """A one-task :class:`DnnInstance` from an ONNX model (module docstring)."""
    t = task_from_onnx(model, exits=exits, link_bps=link_bps, edge_speed=edge_speed, cloud_speed=cloud_speed, **kw)
    return DnnInstance.build([t], name=t["name"], capacity=capacity, w_min=w_min, w_max=w_max)
