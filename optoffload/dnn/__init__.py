"""DNN graphs: split DAG-shaped networks with early exits between edge and cloud (dnn-graphs.md).

See ``docs/dnn.md``. Public pieces: :class:`DnnInstance` / :class:`DnnTask` (data model),
:func:`evaluate` (the objective), :func:`best_split` (exact single-task min cut),
:func:`from_graph` (networkx), :func:`read_csv` (per-layer profile), :func:`from_onnx` (ONNX),
:func:`from_erds` (the chain case), and :mod:`optoffload.dnn.networks` (shipped networks).
"""

from .cut import best_split, brute_force, envelope
from .evaluate import evaluate, objective, split_table
from .model import DnnInstance, DnnTask, decisions

__all__ = [
    "DnnInstance",
    "DnnTask",
    "best_split",
    "brute_force",
    "decisions",
    "envelope",
    "evaluate",
    "from_erds",
    "from_graph",
    "from_onnx",
    "objective",
    "read_csv",
    "split_table",
]


def __getattr__(name):  # readers import networkx / onnx lazily
    if name in ("from_graph", "read_csv", "task_from_graph", "task_from_csv"):
        from . import io

        return getattr(io, name)
    if name in ("from_onnx", "task_from_onnx"):
        from . import onnx_import

        return getattr(onnx_import, name)
    if name == "from_erds":
        from .convert import from_erds

        return from_erds
    raise AttributeError(name)
