"""optoffload: exact and heuristic optimization for edge/cloud computation offloading.

Quick tour::

    import optoffload as oo
    inst = oo.load("picsys/table2")
    sol = oo.solve(inst, method="cpsat", time_limit=10, seed=0)
    oo.verify(inst, sol)          # recomputes the objective with the simulator
    oo.methods("picsys")

Solver layers (OR-Tools, Pyomo, PuLP) are imported only when a method needs them.
"""

from .api import compare, from_dict, generate, load, methods, save, simulate, solve, verify
from .errors import InvalidInstance, UnknownName, VerificationError
from .registry import available_families as families
from .registry import instances
from .solution import Solution
from .status import Status

__version__ = "0.1.0"

__all__ = [
    "InvalidInstance",
    "Solution",
    "Status",
    "UnknownName",
    "VerificationError",
    "families",
    "from_dict",
    "generate",
    "compare",
    "instances",
    "load",
    "methods",
    "save",
    "simulate",
    "solve",
    "verify",
]
