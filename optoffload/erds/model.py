"""ERDS data model: validated, JSON-serializable instances (erds.md sections 1-2).

An :class:`ErdsInstance` holds, for U tasks (sub-DTs) and K exits:

``loads[u][b]``          base compute load of block b = 0..K of task u (block 0 is the stem,
                         block k >= 1 is followed by exit k; erds.md section 1.3 ``base``)
``transmission[u][b]``   time to upload the output of block b (``TR``)
``exit_probs``           one vector of K exit probabilities shared by all tasks, or one per task
``edge_factor``          nu_E: edge time of block b is nu_E * loads[u][b] / w_u
``cloud_factor``         nu_C: cloud time of block b is nu_C * loads[u][b]
``tr_factor``            nu_T: transmission time after block s is nu_T * transmission[u][s]
``capacity``             edge capacity C (the paper normalises it to 1)
``w_min``, ``w_max``     per-task share bounds (paper: 0.1 and 1)

Feasible decisions (eq. (7)): splits s_u in {0..K}, shares w_u in [w_min, w_max] with
sum_u w_u <= capacity. The optional ``exit_sequence`` drives the paper's sampled evaluator
(erds.md section 3.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import InvalidInstance
from ..validate import (
    FORMAT_VERSION,
    as_float,
    as_int,
    as_list,
    as_str,
    check_format,
    check_keys,
    nonneg,
    positive,
    require,
)

FAMILY = "erds"

MAX_LOAD = 1e9
"""Largest load or transmission entry, and (MAX_FACTOR) the largest of nu_E, nu_C, nu_T and the
capacity (docs/validation.md): an edge time nu_E * sum(loads) / w_min stays far below float
overflow for every U, K under the limits."""
MAX_FACTOR = 1e6
MIN_SHARE = 1e-9

PROB_TOL = 1e-6
"""Exit probabilities must sum to 1 within this tolerance (they are then renormalised)."""

SAMPLE_MODES = ("shared", "independent")
"""``shared``: every task of round r uses exit ``exit_sequence[r*U]`` (the evaluator that produced
the paper's numbers, erds.md 3.4); ``independent``: task u uses ``exit_sequence[r*U+u]``."""

_KEYS = frozenset({
    "format", "family", "name", "description", "loads", "transmission", "exit_probs", "edge_factor",
    "cloud_factor", "tr_factor", "capacity", "w_min", "w_max", "exit_sequence", "sample_rounds",
    "sample_mode", "meta",
})


def _matrix(value: Any, fld: str, *, rows: int | None, cols: int | None, check: Any) -> np.ndarray:
    """A rows x cols table of numbers validated entry by entry by ``check(x, field)``."""
    lst = as_list(value, fld, length=rows, min_length=1)
    out = []
    for i, row in enumerate(lst):
        r = as_list(row, f"{fld}[{i}]", length=cols, min_length=1)
        if cols is None:
            cols = len(r)
        out.append([check(x, f"{fld}[{i}][{j}]") for j, x in enumerate(r)])
    return np.asarray(out, dtype=float)


def _prob_vector(value: Any, fld: str, K: int) -> np.ndarray:
    v = as_list(value, fld, length=K)
    p = np.asarray([as_float(x, f"{fld}[{k}]", min=0.0, max=1.0) for k, x in enumerate(v)], dtype=float)
    s = float(p.sum())
    if abs(s - 1.0) > PROB_TOL:
        raise InvalidInstance(fld, f"exit probabilities must sum to 1, got sum {s!r}")
    return p / s


@dataclass(eq=False)
class ErdsInstance:
    """One ERDS problem (erds.md eq. (7)); build with :meth:`from_dict` or :meth:`build`.

    Arrays are NumPy (``loads``/``transmission``: U x (K+1); ``exit_probs``: U x K, one row per
    task even when the JSON gives one shared vector). Construct through :meth:`build`, which
    validates; the constructor itself trusts its arguments.
    """

    name: str
    loads: np.ndarray
    transmission: np.ndarray
    exit_probs: np.ndarray
    edge_factor: float = 2.0
    cloud_factor: float = 1.0
    tr_factor: float = 1.0
    capacity: float = 1.0
    w_min: float = 0.1
    w_max: float | None = None
    exit_sequence: list[int] | None = None
    sample_rounds: int = 10
    sample_mode: str = "shared"
    description: str = ""
    shared_probs: bool = True
    meta: dict = field(default_factory=dict)
    family: str = FAMILY

    # ------------------------------------------------------------------ shape
    @property
    def U(self) -> int:
        """Number of tasks (sub-DTs)."""
        return int(self.loads.shape[0])

    @property
    def K(self) -> int:
        """Number of exits (the final classifier is exit K); splits are 0..K."""
        return int(self.loads.shape[1]) - 1

    @property
    def share_max(self) -> float:
        """Upper bound of one share: ``w_max`` or, when unset, the capacity."""
        return self.capacity if self.w_max is None else min(self.w_max, self.capacity)

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, *, loads: Any, transmission: Any, exit_probs: Any, name: str = "erds", edge_factor: float = 2.0,
              cloud_factor: float = 1.0, tr_factor: float = 1.0, capacity: float = 1.0,
              w_min: float = 0.1, w_max: float | None = None, exit_sequence: Any = None, sample_rounds: int = 10,
              sample_mode: str = "shared", description: str = "", meta: dict | None = None) -> ErdsInstance:
        """Validate the fields (each error names its field) and return an instance."""
        d = {"format": FORMAT_VERSION, "family": FAMILY, "name": name, "loads": loads,
             "transmission": transmission, "exit_probs": exit_probs, "edge_factor": edge_factor,
             "cloud_factor": cloud_factor, "tr_factor": tr_factor, "capacity": capacity, "w_min": w_min,
             "sample_rounds": sample_rounds, "sample_mode": sample_mode, "description": description}
        if w_max is not None:
            d["w_max"] = w_max
        if exit_sequence is not None:
            d["exit_sequence"] = exit_sequence
        if meta:
            d["meta"] = meta
        return cls.from_dict(d)

    @classmethod
    def from_dict(cls, d: dict) -> ErdsInstance:
        """Validate a JSON object (see the module docstring) and build the instance."""
        if not isinstance(d, dict):
            raise InvalidInstance("instance", f"must be an object, got {type(d).__name__}")
        check_format(d, FAMILY)
        check_keys(d, _KEYS, "")
        name = as_str(d.get("name", "erds"), "name")
        from ..limits import check as check_limit

        raw_loads = as_list(require(d, "loads"), "loads", min_length=1)
        check_limit("max_tasks", len(raw_loads), "loads", "number of tasks U")
        if isinstance(raw_loads[0], (list, tuple)):
            check_limit("max_exits", len(raw_loads[0]) - 1, "loads[0]", "number of exits K")

        def load(x: Any, f: str) -> float:
            return as_float(x, f, min=0.0, max=MAX_LOAD)

        loads = _matrix(raw_loads, "loads", rows=None, cols=None, check=load)
        U, K1 = loads.shape
        if K1 < 2:
            raise InvalidInstance("loads[0]", f"needs at least 2 blocks (stem + one exit), got {K1}")
        trans = _matrix(require(d, "transmission"), "transmission", rows=U, cols=K1, check=load)
        K = K1 - 1
        raw_p = require(d, "exit_probs")
        raw_list = as_list(raw_p, "exit_probs", min_length=1)
        if isinstance(raw_list[0], (list, tuple, np.ndarray)):
            as_list(raw_list, "exit_probs", length=U)
            probs = np.vstack([_prob_vector(row, f"exit_probs[{u}]", K) for u, row in enumerate(raw_list)])
            shared = False
        else:
            p = _prob_vector(raw_list, "exit_probs", K)
            probs = np.tile(p, (U, 1))
            shared = True
        ef = as_float(d.get("edge_factor", 2.0), "edge_factor", min=0.0, min_inclusive=False, max=MAX_FACTOR)
        cf = as_float(d.get("cloud_factor", 1.0), "cloud_factor", min=0.0, max=MAX_FACTOR)
        tf = as_float(d.get("tr_factor", 1.0), "tr_factor", min=0.0, max=MAX_FACTOR)
        cap = as_float(d.get("capacity", 1.0), "capacity", min=0.0, min_inclusive=False, max=MAX_FACTOR)
        w_min = as_float(d.get("w_min", 0.1), "w_min", min=MIN_SHARE * cap, max=MAX_FACTOR)
        w_max = d.get("w_max")
        if w_max is not None:
            w_max = as_float(w_max, "w_max", min=w_min, max=MAX_FACTOR)
        hi = cap if w_max is None else min(w_max, cap)
        if w_min > hi:
            raise InvalidInstance("w_min", f"must be <= min(w_max, capacity) = {hi!r}, got {w_min!r}")
        if U * w_min > cap * (1 + 1e-12):
            raise InvalidInstance(
                "w_min", f"{U} tasks x w_min {w_min!r} = {U * w_min!r} exceeds capacity {cap!r}: "
                         "no shares >= w_min fit")
        for u in range(U):
            if loads[u].sum() <= 0:
                raise InvalidInstance(f"loads[{u}]", "all blocks have zero load")
        from ..limits import limits

        rounds = as_int(d.get("sample_rounds", 10), "sample_rounds", min=1, limit="max_exit_sequence")
        mode = as_str(d.get("sample_mode", "shared"), "sample_mode", SAMPLE_MODES)
        seq = d.get("exit_sequence")
        if seq is not None:
            seq_l = as_list(seq, "exit_sequence", min_length=1)
            check_limit("max_exit_sequence", len(seq_l), "exit_sequence", "length")
            seq = [as_int(x, f"exit_sequence[{i}]", min=1, max=K) for i, x in enumerate(seq_l)]
            need = (rounds - 1) * U + (1 if mode == "shared" else U)
            if len(seq) < need:
                raise InvalidInstance(
                    "exit_sequence", f"{rounds} rounds of {U} task(s) in {mode!r} mode need {need} entries, "
                                     f"got {len(seq)}")
        meta = d.get("meta", {})
        if not isinstance(meta, dict):
            raise InvalidInstance("meta", f"must be an object, got {type(meta).__name__}")
        desc = as_str(d.get("description", ""), "description")
        return cls(name=name, loads=loads, transmission=trans, exit_probs=probs, edge_factor=ef,
                   cloud_factor=cf, tr_factor=tf, capacity=cap, w_min=w_min, w_max=w_max, exit_sequence=seq,
                   sample_rounds=rounds, sample_mode=mode, description=desc, shared_probs=shared,
                   meta=dict(meta))

    def to_dict(self) -> dict:
        """The JSON object (``format`` 1, ``family`` "erds"); ``from_dict(to_dict())`` round-trips."""
        d: dict[str, Any] = {
            "format": FORMAT_VERSION, "family": FAMILY, "name": self.name,
            "loads": self.loads.tolist(), "transmission": self.transmission.tolist(),
            "exit_probs": self.exit_probs[0].tolist() if self.shared_probs else self.exit_probs.tolist(),
            "edge_factor": self.edge_factor, "cloud_factor": self.cloud_factor, "tr_factor": self.tr_factor,
            "capacity": self.capacity, "w_min": self.w_min,
            "sample_rounds": self.sample_rounds, "sample_mode": self.sample_mode,
        }
        if self.w_max is not None:
            d["w_max"] = self.w_max
        if self.exit_sequence is not None:
            d["exit_sequence"] = list(self.exit_sequence)
        if self.description:
            d["description"] = self.description
        if self.meta:
            d["meta"] = self.meta
        return d

    def replace(self, **changes: Any) -> ErdsInstance:
        """A validated copy with some JSON fields changed (e.g. ``tr_factor=2``)."""
        d = self.to_dict()
        d.update(changes)
        if "loads" in changes and "exit_sequence" not in changes:
            d.pop("exit_sequence", None)
        return ErdsInstance.from_dict(d)

    def with_exit_probs(self, probs: Any) -> ErdsInstance:
        """A copy whose exit probabilities are ``probs`` (one vector or one per task)."""
        return self.replace(exit_probs=np.asarray(probs, dtype=float).tolist())

    # ------------------------------------------------------------------ decisions
    def check_decisions(self, decisions: Any) -> tuple[np.ndarray, np.ndarray, str, bool]:
        """Validate a decisions object; returns ``(splits, shares, evaluator, early_exit)``.

        Format: ``{"splits": [s_u], "shares": [w_u], "evaluator": "exact"|"sampled",
        "early_exit": true}`` with s_u in 0..K, w_min <= w_u <= w_max and
        sum_u w_u <= capacity (tolerance 1e-9). ``evaluator`` and ``early_exit`` are optional.
        """
        if not isinstance(decisions, dict):
            raise InvalidInstance("decisions", f"must be an object, got {type(decisions).__name__}")
        check_keys(decisions, {"splits", "shares", "evaluator", "early_exit"}, "decisions")
        U, K = self.U, self.K
        sl = as_list(require(decisions, "splits", "decisions"), "decisions.splits", length=U)
        splits = np.asarray([as_int(x, f"decisions.splits[{u}]", min=0, max=K) for u, x in enumerate(sl)], dtype=int)
        wl = as_list(require(decisions, "shares", "decisions"), "decisions.shares", length=U)
        tol = 1e-9
        hi = self.share_max
        shares = np.asarray([as_float(x, f"decisions.shares[{u}]") for u, x in enumerate(wl)], dtype=float)
        for u, w in enumerate(shares):
            if w < self.w_min - tol or w > hi + tol:
                raise InvalidInstance(f"decisions.shares[{u}]", f"must lie in [{self.w_min!r}, {hi!r}], got {w!r}")
        total = float(shares.sum())
        if total > self.capacity * (1 + tol) + tol:
            raise InvalidInstance("decisions.shares", f"sum {total!r} exceeds capacity {self.capacity!r}")
        ev = as_str(decisions.get("evaluator", "exact"), "decisions.evaluator", ("exact", "sampled"))
        ee = decisions.get("early_exit", True)
        if not isinstance(ee, bool):
            raise InvalidInstance("decisions.early_exit", f"must be true or false, got {ee!r}")
        return splits, shares, ev, ee

    def __repr__(self) -> str:
        """Short: the shape and factors, never the tables (``to_dict()`` has everything)."""
        return (f"ErdsInstance({self.name!r}: U={self.U} tasks, K={self.K} exits, nu_E={self.edge_factor:g}, "
                f"nu_C={self.cloud_factor:g}, nu_T={self.tr_factor:g}, capacity={self.capacity:g}, w_min={self.w_min:g})")

    def __str__(self) -> str:
        return (f"erds/{self.name}: U={self.U} tasks, K={self.K} exits, nu_E={self.edge_factor:g}, "
                f"nu_C={self.cloud_factor:g}, nu_T={self.tr_factor:g}, capacity={self.capacity:g}, "
                f"w_min={self.w_min:g}")


def decisions(splits: Sequence[int] | np.ndarray, shares: Sequence[float] | np.ndarray, *, evaluator: str = "exact",
              early_exit: bool = True) -> dict[str, Any]:
    """The plain decisions object of a Solution (see :meth:`ErdsInstance.check_decisions`)."""
    d: dict[str, Any] = {"splits": [int(s) for s in splits], "shares": [float(w) for w in shares]}
    if evaluator != "exact":
        d["evaluator"] = evaluator
    if not early_exit:
        d["early_exit"] = False
    return d


