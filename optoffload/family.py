"""The description a problem family gives the common API.

Each family package (``optoffload.picsys``, ``optoffload.erds``,
``optoffload.progressive``) holds a module ``family.py`` that defines
``FAMILY = Family(...)``. Everything solver-related is named by a
``"module:attribute"`` string and imported only when used, so that
``import optoffload`` stays fast and never loads OR-Tools or Pyomo.

Contracts of the targets
------------------------
instance_type
    A class with ``from_dict(d) -> instance`` (validating, raising
    ``InvalidInstance``), ``to_dict() -> dict`` (with ``format`` and
    ``family``), and a ``name`` attribute.
methods[name].target
    ``fn(instance, *, time_limit=None, seed=0, threads=None, **options) -> Solution``.
    ``time_limit`` is in seconds (None: no limit / the method's default).
evaluate
    ``fn(instance, decisions) -> float``: replays the decisions in the family's
    simulator and returns the objective; raises ``InvalidInstance`` for a
    malformed or infeasible plan. This is the single source of truth.
simulate (optional)
    ``fn(instance, policy, *, seed=0, **options) -> Solution``: runs an online
    policy in the simulator. Default: ``solve(instance, method=policy)``.
generate (optional)
    ``fn(*, seed=0, **options) -> instance``; ``generate_options`` describe the
    keyword options for the CLI.
frame, plot (optional)
    ``fn(instance, decisions) -> list[dict]`` (one row per decision unit) and
    ``fn(instance, decisions, ax=None) -> Figure``: what ``Solution.to_frame``
    and ``optoffload plot`` show.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable


def resolve(target: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class MethodSpec:
    """One solve method of a family.

    kind: ``"exact"`` (returns proven status and bound), ``"heuristic"``
    (offline heuristic), ``"policy"`` (online policy run in the simulator) or
    ``"baseline"``.
    """

    target: str
    kind: str
    summary: str = ""
    fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    """The callable itself, for a method registered as a function (``target`` then only names it)."""
    source: str = "built-in"
    """Where the method comes from: ``"built-in"``, ``"registered"`` (:func:`optoffload.register_method`),
    ``"entry point <name> (<distribution>)"`` or ``"callable"`` / ``"module:function"`` (passed to solve)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"MethodSpec.kind: unknown kind {self.kind!r}")

    def load(self) -> Callable[..., Any]:
        if self.fn is not None:
            return self.fn
        fn: Callable[..., Any] = resolve(self.target)
        return fn


KINDS = ("exact", "heuristic", "policy", "baseline")
"""The method kinds (see :class:`MethodSpec`)."""


@dataclass(frozen=True)
class Option:
    """A generator option exposed on the CLI as ``--name`` (underscores become dashes)."""

    name: str
    type: type
    default: Any
    help: str = ""
    choices: tuple | None = None


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    instance_type: str
    evaluate: str
    methods: dict[str, MethodSpec] = field(default_factory=dict)
    simulate: str | None = None
    generate: str | None = None
    generate_options: tuple[Option, ...] = ()
    sense: str = "min"
    """``"min"`` or ``"max"``: the direction of the family's objective."""
    frame: str | None = None
    """``fn(instance, decisions) -> list[dict]``: one row per decision unit (image, task, chunk),
    the rows of :meth:`Solution.to_frame`; the columns are documented by the target module's
    ``FRAME_COLUMNS`` (see docs/readable.md)."""
    plot: str | None = None
    """``fn(instance, decisions, ax=None) -> matplotlib Figure``: the picture drawn by
    :mod:`optoffload.plot` and ``optoffload plot``."""
    plan_info: str | None = None
    """Optional ``fn(instance, decisions) -> dict``: what a verified objective alone does not say
    (PicSys mode ``max-processed``: images processed and the most the budgets allow); printed by
    ``optoffload verify``."""
    counterpart: str | None = None
    """Optional ``fn(instance, name) -> instance | None``: a related system (e.g. PicSys's
    two-stage counterpart ``<name>-2stage``) whose plans a method may return; ``verify`` replays
    a Solution naming it there. Any other instance name in a Solution is rejected."""

    def instance_class(self) -> Any:
        """The instance class (has ``from_dict``, ``to_dict`` and ``name``; see the module docstring)."""
        return resolve(self.instance_type)
