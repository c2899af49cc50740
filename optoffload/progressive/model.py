"""Instances of the progressive family and ``evaluate`` (the single source of truth).

One JSON schema with a ``problem`` field naming one of three decision problems
(``docs/progressive.md`` has the full schema and examples):

``config``
    Best configuration of a (typically non-progressive) codec for a bandwidth
    trace or a weighted set of traces and a period ``T`` (PNC section VII-C:
    which WebP quality, which fixed rate K). Decision ``{"config": name}``;
    objective: the weighted mean, over traces, of the mean accuracy of
    ``n_images`` images replayed in the deadline simulator (section IV).
``airtime``
    Several devices share one link of rate ``link_rate_Bps``; airtime is cut
    into ``slots`` equal shares. Device ``d`` with ``s`` slots sends
    ``s / slots * rate * deadline_s`` bytes per image (its window, in 64-byte
    blocks) and scores its profile's expected accuracy there. Decision
    ``{"slots": [s_d]}`` with ``sum s_d <= slots``; objective
    ``sum_d weight_d * E[acc_d]``.
``ordering``
    Content-aware sending order (LimitNet's idea): chunks with ``bytes`` and
    ``importance``, an uncertain byte budget ``S`` with a discrete distribution.
    A chunk counts if it is whole by the budget. Decision ``{"order": [...]}``
    (a permutation of chunk indices); objective
    ``sum_i importance_i * P(S >= C_i)``, ``C_i`` the bytes sent up to and
    including chunk ``i``.

All three objectives are maximized (``FAMILY.sense == "max"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..validate import (FORMAT_VERSION, as_int, as_list, as_str, check_format, check_keys, nonneg,
                        positive, probability, require)
from .profiles import Profile, check_same_metric, data_bytes, get_profile
from .traces import Trace

from ..limits import check as check_limit
from ..units import parse_quantity, warn_if
from ..validate import as_float

PROBLEMS = ("config", "airtime", "ordering")
MAX_RATE_BPS = 1.25e11   # 1 Tbit/s in bytes/s
MAX_SECONDS = 1e6
MAX_BYTES = 1e12
MAX_WEIGHT = 1e6
_COMMON = {"format", "family", "name", "problem", "description"}


@dataclass(frozen=True)
class WeightedTrace:
    weight: float
    trace: Trace
    spec: dict


@dataclass(frozen=True, eq=False)
class ConfigProblem:
    period_s: float
    n_images: int
    seed: int
    traces: tuple[WeightedTrace, ...]
    candidates: tuple[Profile, ...]
    raw_candidates: tuple[Any, ...]

    @cached_property
    def accuracy(self) -> dict[str, float]:
        """Expected accuracy of every candidate (the simulator's replay, cached)."""
        return self.accuracy_until(None)

    def accuracy_of(self, name: str) -> float:
        """Expected accuracy of one candidate (replayed once, cached)."""
        done = self.__dict__.get("accuracy") or self.__dict__.setdefault("_acc", {})
        if name not in done:
            from .simulator import simulate

            p = next(c for c in self.candidates if c.name == name)
            tot = sum(t.weight for t in self.traces)
            v = 0.0
            for k, wt in enumerate(self.traces):
                v += wt.weight * simulate(p, wt.trace, self.period_s, self.n_images, seed=self.seed + k).summary()[
                    "accuracy"]
            done[name] = v / tot
        return done[name]

    def accuracy_until(self, deadline: float | None) -> dict[str, float]:
        """Accuracies of the candidates replayed before ``deadline`` (a ``time.perf_counter()``
        value; at least one), in candidate order; all of them (and cached) with ``deadline=None``."""
        import time

        out = {}
        for p in self.candidates:
            if out and deadline is not None and time.perf_counter() > deadline:
                return out
            out[p.name] = self.accuracy_of(p.name)
        self.__dict__["accuracy"] = out
        return out

    def mean_budget(self) -> float:
        """Weighted mean window budget S_i (bytes) over the traces (used by the fit-mean heuristic)."""
        from .simulator import windows

        tot = sum(t.weight for t in self.traces)
        v = 0.0
        for wt in self.traces:
            a, b = windows(self.period_s, self.n_images, 0.0)
            v += wt.weight * float(np.mean(wt.trace.integral(a, b)))
        return v / tot


@dataclass(frozen=True, eq=False)
class Device:
    name: str
    profile: Profile
    raw_profile: Any
    deadline_s: float
    weight: float


@dataclass(frozen=True, eq=False)
class AirtimeProblem:
    link_rate_Bps: float
    slots: int
    devices: tuple[Device, ...]
    n_quad: int = 64

    def bytes_for(self, d: int, s: Any) -> np.ndarray:
        dev = self.devices[d]
        return np.asarray(s, dtype=float) / self.slots * self.link_rate_Bps * dev.deadline_s

    @cached_property
    def utility(self) -> np.ndarray:
        """``U[d, s]``: weighted expected accuracy of device ``d`` with ``s`` slots, ``s = 0..slots``."""
        return self.utility_rows()

    def utility_rows(self, deadline: float | None = None) -> np.ndarray | None:
        """:attr:`utility`, computed one device at a time; None if ``deadline`` (a
        ``time.perf_counter()`` value) passes first (the rows done so far are kept for the next call)."""
        import time

        if "utility" in self.__dict__:
            return self.__dict__["utility"]
        done = self.__dict__.setdefault("_rows", {})
        s = np.arange(self.slots + 1)
        for d, dev in enumerate(self.devices):
            if d in done:
                continue
            if deadline is not None and time.perf_counter() > deadline:
                return None
            done[d] = dev.weight * dev.profile.expected_accuracy(data_bytes(self.bytes_for(d, s)), n_quad=self.n_quad)
        U = np.asarray([done[d] for d in range(len(self.devices))])
        self.__dict__["utility"] = U
        self.__dict__.pop("_rows", None)
        return U

    def utility_at(self, d: int, s: int) -> float:
        """``U[d, s]`` without computing the whole table (the table's value once it exists)."""
        if "utility" in self.__dict__:
            return float(self.__dict__["utility"][d, s])
        rows = self.__dict__.get("_rows", {})
        if d in rows:
            return float(rows[d][s])
        dev = self.devices[d]
        return float(dev.weight * dev.profile.expected_accuracy(data_bytes(self.bytes_for(d, [s])),
                                                                n_quad=self.n_quad)[0])


@dataclass(frozen=True, eq=False)
class OrderingProblem:
    names: tuple[str, ...]
    sizes: np.ndarray
    importance: np.ndarray
    budget_values: np.ndarray
    budget_probs: np.ndarray

    def survival(self, c: Any) -> np.ndarray:
        """``G(c) = P(S >= c)`` for the discrete budget distribution."""
        order = np.argsort(self.budget_values, kind="stable")
        v, p = self.budget_values[order], self.budget_probs[order]
        tail = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])
        idx = np.searchsorted(v, np.asarray(c, dtype=float) - 1e-9, side="left")
        return tail[idx]

    def value(self, order: Any) -> float:
        o = np.asarray(order, dtype=int)
        comp = np.cumsum(self.sizes[o])
        return float(np.sum(self.importance[o] * self.survival(comp)))


def ratio_order(sizes: np.ndarray, importance: np.ndarray) -> list[int]:
    """The ratio rule of the ordering problem: chunks by importance per byte, descending (ties:
    smaller index first). Shared by the ``greedy`` heuristic and the ``exact`` DP (its incumbent).
    """
    return sorted(range(len(sizes)), key=lambda i: (-importance[i] / sizes[i], i))


@dataclass(frozen=True, eq=False)
class ProgressiveInstance:
    """A validated progressive-family instance (see the module docstring for the kinds)."""

    name: str
    problem: str
    spec: Any
    raw: dict = field(repr=False)
    description: str = ""
    family: str = "progressive"

    @classmethod
    def from_dict(cls, d: Any) -> "ProgressiveInstance":
        if not isinstance(d, dict):
            raise InvalidInstance("instance", f"must be an object, got {type(d).__name__}")
        check_format(d, "progressive")
        problem = as_str(require(d, "problem"), "problem", PROBLEMS)
        name = as_str(d.get("name", "unnamed"), "name")
        desc = str(d.get("description", ""))
        spec = {"config": _config, "airtime": _airtime, "ordering": _ordering}[problem](d)
        raw = {k: v for k, v in d.items() if k not in ("format", "family")}
        return cls(name, problem, spec, raw, desc)

    def to_dict(self) -> dict:
        return {"format": FORMAT_VERSION, "family": "progressive", **self.raw}

    def __repr__(self) -> str:
        """Short: the problem and its size, never the traces or tables."""
        sp = self.spec
        if self.problem == "config":
            size = f"{len(sp.candidates)} candidates, {len(sp.traces)} trace(s), {sp.n_images} images, T={sp.period_s:g} s"
        elif self.problem == "airtime":
            size = f"{len(sp.devices)} devices, {sp.slots} slots"
        else:
            size = f"{len(sp.sizes)} chunks, {len(sp.budget_values)} budget values"
        return f"ProgressiveInstance({self.name!r}: {self.problem}, {size})"


# ----------------------------------------------------------------- parsers
def _config(d: dict) -> ConfigProblem:
    check_keys(d, _COMMON | {"period_s", "n_images", "seed", "traces", "trace", "candidates"}, "")
    period = as_float(parse_quantity(require(d, "period_s"), "period_s", "s"), "period_s", min=0.0,
                      min_inclusive=False, max=3600.0)
    from ..limits import limits

    n = as_int(d.get("n_images", 1000), "n_images", min=1, limit="max_sim_images")
    seed = as_int(d.get("seed", 0), "seed", min=0, max=2**31 - 1 - 10_000)
    if "trace" in d and "traces" in d:
        raise InvalidInstance("traces", "give either trace or traces, not both")
    if "trace" in d:
        tr = [WeightedTrace(1.0, Trace.from_dict(d["trace"], "trace"), d["trace"])]
    else:
        items = as_list(require(d, "traces"), "traces", min_length=1)
        tr = []
        for i, it in enumerate(items):
            w = f"traces[{i}]"
            if not isinstance(it, dict):
                raise InvalidInstance(w, f"must be an object, got {type(it).__name__}")
            check_keys(it, {"weight", "trace"}, w)
            tr.append(WeightedTrace(positive(it.get("weight", 1.0), f"{w}.weight"),
                                    Trace.from_dict(require(it, "trace", w), f"{w}.trace"), it["trace"]))
    raw_c = as_list(require(d, "candidates"), "candidates", min_length=1)
    cands = tuple(get_profile(c, f"candidates[{i}]") for i, c in enumerate(raw_c))
    names = [c.name for c in cands]
    for i, nm in enumerate(names):
        if names.index(nm) != i:
            raise InvalidInstance(f"candidates[{i}]", f"duplicate candidate name {nm!r}")
    for i, c in enumerate(cands):
        if c.encode_ms / 1000.0 >= period:
            raise InvalidInstance(f"candidates[{i}]", f"encoding latency {c.encode_ms:g} ms of {c.name!r} "
                                                      f"exceeds the period {period:g} s")
    check_same_metric(cands, "candidates")
    return ConfigProblem(period, n, seed, tuple(tr), cands, tuple(raw_c))


def _airtime(d: dict) -> AirtimeProblem:
    check_keys(d, _COMMON | {"link_rate_Bps", "slots", "devices"}, "")
    rate = as_float(parse_quantity(require(d, "link_rate_Bps"), "link_rate_Bps", "B/s"), "link_rate_Bps",
                    min=0.0, min_inclusive=False, max=MAX_RATE_BPS)
    warn_if(rate < 100.0, "link_rate_Bps", f"{rate:g} bytes/s is implausibly slow (numbers are bytes/s; write e.g. "
                                           f"\"{rate:g} kB/s\" or \"{rate:g} Mbit/s\")")
    from ..limits import limits

    slots = as_int(require(d, "slots"), "slots", min=1, limit="max_slots")
    items = as_list(require(d, "devices"), "devices", min_length=1)
    check_limit("max_cells", len(items) * (slots + 1), "slots", "devices x (slots + 1)")
    devs = []
    for i, it in enumerate(items):
        w = f"devices[{i}]"
        if not isinstance(it, dict):
            raise InvalidInstance(w, f"must be an object, got {type(it).__name__}")
        check_keys(it, {"name", "profile", "deadline_s", "weight"}, w)
        prof = get_profile(require(it, "profile", w), f"{w}.profile")
        devs.append(Device(str(it.get("name", f"d{i}")), prof, it["profile"],
                           as_float(parse_quantity(require(it, "deadline_s", w), f"{w}.deadline_s", "s"),
                                    f"{w}.deadline_s", min=0.0, min_inclusive=False, max=MAX_SECONDS),
                           as_float(it.get("weight", 1.0), f"{w}.weight", min=0.0, max=MAX_WEIGHT)))
    if len(devs) * (slots + 1) > 5_000_000:
        raise InvalidInstance("slots", f"devices x (slots + 1) must be <= 5e6, got {len(devs) * (slots + 1)}")
    check_same_metric([d.profile for d in devs], "devices")
    return AirtimeProblem(rate, slots, tuple(devs))


def _ordering(d: dict) -> OrderingProblem:
    check_keys(d, _COMMON | {"chunks", "budget"}, "")
    items = as_list(require(d, "chunks"), "chunks", min_length=1)
    check_limit("max_chunks", len(items), "chunks", "number of chunks")
    names, sizes, imp = [], [], []
    for i, it in enumerate(items):
        w = f"chunks[{i}]"
        if not isinstance(it, dict):
            raise InvalidInstance(w, f"must be an object, got {type(it).__name__}")
        check_keys(it, {"name", "bytes", "importance"}, w)
        names.append(str(it.get("name", f"c{i}")))
        sizes.append(as_float(parse_quantity(require(it, "bytes", w), f"{w}.bytes", "bytes"), f"{w}.bytes",
                              min=0.0, min_inclusive=False, max=MAX_BYTES))
        imp.append(as_float(require(it, "importance", w), f"{w}.importance", min=0.0, max=MAX_WEIGHT))
    b = require(d, "budget")
    if not isinstance(b, dict):
        raise InvalidInstance("budget", f"must be an object with bytes and probs, got {type(b).__name__}")
    check_keys(b, {"bytes", "probs"}, "budget")
    vals = as_list(require(b, "bytes", "budget"), "budget.bytes", min_length=1)
    probs = as_list(require(b, "probs", "budget"), "budget.probs", length=len(vals))
    v = [as_float(parse_quantity(x, f"budget.bytes[{i}]", "bytes"), f"budget.bytes[{i}]", min=0.0,
                  max=MAX_BYTES * 1000) for i, x in enumerate(vals)]
    p = [probability(x, f"budget.probs[{i}]") for i, x in enumerate(probs)]
    if not math.isclose(sum(p), 1.0, abs_tol=1e-6):
        raise InvalidInstance("budget.probs", f"must sum to 1, got {sum(p)!r}")
    return OrderingProblem(tuple(names), np.asarray(sizes), np.asarray(imp), np.asarray(v), np.asarray(p))


# ---------------------------------------------------------------- evaluate
def evaluate(instance: ProgressiveInstance, decisions: Any) -> float:
    """Replay ``decisions`` and return the objective (maximized); raises for a malformed or infeasible plan."""
    if not isinstance(decisions, dict):
        raise InvalidInstance("decisions", f"must be an object, got {type(decisions).__name__}")
    sp = instance.spec
    # a plan of another problem kind (or with extra fields) is not a plan of this instance
    check_keys(decisions, {"config": {"config"}, "airtime": {"slots"}, "ordering": {"order"}}[instance.problem],
               "decisions")
    if instance.problem == "config":
        name = as_str(require(decisions, "config", "decisions"), "decisions.config")
        names = [c.name for c in sp.candidates]
        if name not in names:
            raise InvalidInstance("decisions.config", f"not a candidate: {name!r} (have {', '.join(names)})")
        return sp.accuracy_of(name)
    if instance.problem == "airtime":
        s = as_list(require(decisions, "slots", "decisions"), "decisions.slots", length=len(sp.devices))
        s = [as_int(x, f"decisions.slots[{i}]", min=0, max=sp.slots) for i, x in enumerate(s)]
        if sum(s) > sp.slots:
            raise InvalidInstance("decisions.slots", f"use {sum(s)} slots, only {sp.slots} exist")
        return float(sum(sp.utility_at(d, x) for d, x in enumerate(s)))
    o = as_list(require(decisions, "order", "decisions"), "decisions.order", length=len(sp.sizes))
    o = [as_int(x, f"decisions.order[{i}]", min=0, max=len(sp.sizes) - 1) for i, x in enumerate(o)]
    if len(set(o)) != len(o):
        raise InvalidInstance("decisions.order", "must be a permutation of the chunk indices")
    return sp.value(o)



