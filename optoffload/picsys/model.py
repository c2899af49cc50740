"""PicSys instance: devices with image queues, one cloud (PicSys seed, section 3 and 5.1).

Semantics are fixed by ``shared/design/picsys.md`` and written down in
``docs/picsys.md``. Units: seconds, bytes, bit/s; energies in % of battery.

JSON schema (``format`` 1)::

    {"format": 1, "family": "picsys", "name": "table2", "description": "...",
     "cloud": {"servers": 1, "c_u": 0.01,
               "c_step": 0.05},                  # optional cloud-side step per offloaded image; default 0
     "enforce_energy": true,                # optional; default: true iff any device has a budget
     "devices": [
       {"rate": 20e6, "alpha": 0.3, "beta": 0.6,
        "energy": {"budget": 1.0, "e_s": 0.00016, "e_t": 0.0006,
                   "e_alpha": 0.0037, "e_beta": 0.0103},          # optional (paper eq. 15-16)
        "images": {"count": 10,                                   # optional when a list is given
                   "size": 800000 | [..],                         # bytes, > 0
                   "c_s": 0.05 | [..] | "fit",                    # scaling time; "fit": 0.033*B_MB+0.031
                   "hit": "0000100010" | [0,0,...],               # ground truth (recall)
                   "z1": ..., "z2": ...}}                         # CNN truth values; default z1 = z2 = hit
     ]}

``e_s`` and ``e_t`` may be scalars or per-image lists (they may depend on the
image size); ``z2`` must be 0 where ``z1`` is 0 (z2 is only defined after a
positive accelerated CNN).

``cloud.c_step`` (issue #13) is a cloud-side step every offloaded image
(``i-off``, ``f-off``) takes before its cloud CNN, for example scaling at the
cloud: the cloud spends ``c_u + c_step`` seconds per image (the paper's
``c_u^p`` of cost1/cost2 in section 5.1.2 is then that sum). It is one number
for the whole cloud, so the service times stay identical and FIFO stays
makespan-optimal (every exact model relies on it). Default 0: the printed model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..limits import check as check_limit
from ..units import parse_quantity, warn_if
from ..validate import (FORMAT_VERSION, as_float, as_int, as_list, as_str, check_format, check_keys, nonneg,
                        positive, require)

#: Valid ranges (docs/validation.md, "picsys"): seconds, bit/s, bytes, % of battery.
MAX_TIME_S = 1e6
MAX_RATE = 1e12
MAX_SIZE = 1e10
MAX_ENERGY = 1e6

FAMILY = "picsys"

#: Outcome codes (the paper's x1..x5, section 5.1.2) in the order of their integer ids.
OUTCOMES: tuple[str, ...] = ("i-off", "f-off", "f-disc", "s-up", "s-disc")
#: Extra code for the energy variant's "most images processed" mode: the image is left unprocessed.
SKIP = "skip"
CODE = {name: k for k, name in enumerate(OUTCOMES)}
CODE[SKIP] = 5
I_OFF, F_OFF, F_DISC, S_UP, S_DISC, SKIPPED = range(6)


def scaling_time_fit(size_bytes: Any) -> Any:
    """The paper's fit of the scaling time (section 6.2.3): ``c_s = 0.033 * B[MB] + 0.031`` s."""
    return 0.033 * (np.asarray(size_bytes, dtype=float) / 1e6) + 0.031


def feasible_outcomes(z1: int, z2: int) -> tuple[int, ...]:
    """Outcomes allowed by the truth values (paper constraints (4)-(7))."""
    if not z1:
        return (I_OFF, F_DISC)
    return (I_OFF, F_OFF, S_UP) if z2 else (I_OFF, F_OFF, S_DISC)


@dataclass(frozen=True)
class Energy:
    """Energy parameters of one device, in % of battery (paper section 5.3, Table 1)."""

    budget: float
    e_s: np.ndarray
    e_t: np.ndarray
    e_alpha: float
    e_beta: float

    def to_dict(self) -> dict:
        def compact(a: np.ndarray) -> Any:
            return float(a[0]) if len(a) and np.all(a == a[0]) else a.tolist()

        return {"budget": self.budget, "e_s": compact(self.e_s), "e_t": compact(self.e_t),
                "e_alpha": self.e_alpha, "e_beta": self.e_beta}


@dataclass(frozen=True)
class Device:
    """One mobile device and its ordered image queue."""

    rate: float
    alpha: float
    beta: float
    size: np.ndarray
    c_s: np.ndarray
    z1: np.ndarray
    z2: np.ndarray
    hit: np.ndarray
    energy: Energy | None = None

    @property
    def n(self) -> int:
        return len(self.size)

    @property
    def tx(self) -> np.ndarray:
        """Transmission time of each image, ``8 B / r`` seconds (section 5.1.1)."""
        return 8.0 * self.size / self.rate

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"rate": self.rate, "alpha": self.alpha, "beta": self.beta,
                             "images": {"count": self.n, "size": self.size.tolist(), "c_s": self.c_s.tolist(),
                                        "hit": self.hit.tolist(), "z1": self.z1.tolist(), "z2": self.z2.tolist()}}
        if self.energy is not None:
            d["energy"] = self.energy.to_dict()
        return d


@dataclass(frozen=True)
class PicsysInstance:
    """A PicSys instance: devices (with image queues and truth values) and one cloud."""

    name: str
    devices: tuple[Device, ...]
    c_u: float
    servers: int = 1
    enforce_energy: bool = False
    description: str = ""
    meta: dict = field(default_factory=dict)
    family: str = FAMILY
    c_step: float = 0.0
    """Cloud-side step per offloaded image, seconds (e.g. scaling at the cloud); default 0."""
    stages: int = 3
    """3: the paper's system (accelerated CNN, then expensive CNN); 2: a two-stage counterpart
    (:func:`~optoffload.picsys.simulator.two_stage_counterpart`); plans must match it."""

    def __repr__(self) -> str:
        """Short: the shape, never the image arrays (``to_dict()`` has everything)."""
        per = sorted({d.n for d in self.devices})
        imgs = f"{per[0]} images each" if len(per) == 1 else f"{per[0]}-{per[-1]} images each"
        return (f"PicsysInstance({self.name!r}: {self.n_devices} devices, {imgs}, {self.n_images} images, "
                f"c_u={self.c_u:g} s, {self.servers} server(s), energy={'enforced' if self.enforce_energy else 'off' if not self.has_energy else 'not enforced'})")

    # ---------------------------------------------------------------- derived
    @property
    def n_devices(self) -> int:
        return len(self.devices)

    @property
    def n_images(self) -> int:
        return sum(d.n for d in self.devices)

    @property
    def cloud_time(self) -> float:
        """Cloud seconds per offloaded image: ``c_u + c_step`` (the cloud-side step, issue #13)."""
        return self.c_u + self.c_step

    @property
    def has_energy(self) -> bool:
        return any(d.energy is not None for d in self.devices)

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        d: dict[str, Any] = {"format": FORMAT_VERSION, "family": FAMILY, "name": self.name}
        if self.description:
            d["description"] = self.description
        if self.meta:
            d["meta"] = self.meta
        d["cloud"] = {"servers": self.servers, "c_u": self.c_u}
        if self.c_step:
            d["cloud"]["c_step"] = self.c_step
        if self.has_energy:
            d["enforce_energy"] = self.enforce_energy
        if self.stages != 3:
            d["stages"] = self.stages
        d["devices"] = [dev.to_dict() for dev in self.devices]
        return d

    @classmethod
    def from_dict(cls, d: Any) -> "PicsysInstance":
        if not isinstance(d, dict):
            raise InvalidInstance("instance", f"must be a JSON object, got {type(d).__name__}")
        check_format(d, FAMILY)
        check_keys(d, {"format", "family", "name", "description", "meta", "cloud", "devices", "enforce_energy",
                       "stages"}, "instance")
        stages = d.get("stages", 3)
        if isinstance(stages, bool) or stages not in (2, 3):
            raise InvalidInstance("stages", f"must be 2 or 3, got {stages!r}")
        name = as_str(d.get("name", "unnamed"), "name")
        cloud = require(d, "cloud")
        if not isinstance(cloud, dict):
            raise InvalidInstance("cloud", f"must be an object, got {cloud!r}")
        check_keys(cloud, {"servers", "c_u", "c_step"}, "cloud")
        c_u = _seconds(require(cloud, "c_u", "cloud"), "cloud.c_u", strictly_positive=True)
        c_step = _seconds(cloud.get("c_step", 0.0), "cloud.c_step", strictly_positive=False)
        from ..limits import limits

        servers = as_int(cloud.get("servers", 1), "cloud.servers", min=1, limit="max_servers")
        devs_raw = as_list(require(d, "devices"), "devices", min_length=1)
        check_limit("max_devices", len(devs_raw), "devices", "number of devices")
        total = 0
        for m, x in enumerate(devs_raw):  # sizes before any array is allocated (limits.max_images)
            if isinstance(x, dict) and isinstance(x.get("images"), dict):
                total += _count(x["images"], f"devices[{m}].images")
                check_limit("max_images", total, f"devices[{m}].images.count", "total number of images")
        devices = tuple(_device_from_dict(x, f"devices[{m}]") for m, x in enumerate(devs_raw))
        _check_horizon(devices, c_u)
        has_energy = any(dev.energy is not None for dev in devices)
        enforce = d.get("enforce_energy", has_energy)
        if not isinstance(enforce, bool):
            raise InvalidInstance("enforce_energy", f"must be true or false, got {enforce!r}")
        if enforce and not all(dev.energy is not None for dev in devices):
            missing = [m for m, dev in enumerate(devices) if dev.energy is None]
            raise InvalidInstance("enforce_energy",
                                  f"energy budgets are enforced but devices {missing} have no 'energy' block")
        meta = d.get("meta", {})
        if not isinstance(meta, dict):
            raise InvalidInstance("meta", f"must be an object, got {meta!r}")
        desc = as_str(d.get("description", ""), "description")
        return cls(name=name, devices=devices, c_u=c_u, servers=servers, enforce_energy=enforce,
                   description=desc, meta=meta, c_step=c_step, stages=int(stages))

    def with_(self, **changes: Any) -> "PicsysInstance":
        """A copy with fields replaced (e.g. ``enforce_energy=False``)."""
        from dataclasses import replace

        return replace(self, **changes)


MAX_HORIZON_S = 1e12
"""Largest serial horizon of an instance: every image's CPU work and upload on its device plus
every cloud job one after the other. It bounds every plan's makespan; at most 1e12 s keeps the
CP-SAT model within 2**50 ticks at >= 1,000 ticks per second, and every MILP coefficient finite
(docs/validation.md)."""


def _check_horizon(devices: tuple, c_u: float) -> None:
    per_dev = [float(np.sum(d.c_s + d.alpha + d.beta + d.tx)) for d in devices]
    total = sum(per_dev) + c_u * sum(d.n for d in devices)
    if total > MAX_HORIZON_S:
        m = int(np.argmax(per_dev)) if per_dev else 0
        raise InvalidInstance(f"devices[{m}]", f"the instance's serial horizon (all work and uploads one after the "
                                               f"other) is {total:.3g} s, more than {MAX_HORIZON_S:g} s: check the "
                                               f"units of rate (bit/s), size (bytes) and times (s)")


def _bits(value: Any, field: str, n: int | None) -> np.ndarray:
    """A 0/1 vector from a list of bits/bools or a string such as ``"0010"``."""
    if isinstance(value, str):
        if any(c not in "01" for c in value):
            raise InvalidInstance(field, f"a bit string may hold only '0' and '1', got {value!r}")
        vals = [int(c) for c in value]
    else:
        vals = as_list(value, field)
        out = []
        for k, v in enumerate(vals):
            if isinstance(v, bool):
                v = int(v)
            if isinstance(v, (int, np.integer)) and v in (0, 1):
                out.append(int(v))
            elif isinstance(v, float) and v in (0.0, 1.0):
                out.append(int(v))
            else:
                raise InvalidInstance(f"{field}[{k}]", f"must be 0 or 1, got {v!r}")
        vals = out
    if n is not None and len(vals) != n:
        raise InvalidInstance(field, f"has {len(vals)} entries but the device has {n} images")
    return np.asarray(vals, dtype=np.int8)


def _number(value: Any, field: str, *, strictly_positive: bool, hi: float, kind: str | None) -> float:
    if kind is not None:
        value = parse_quantity(value, field, kind)
    return as_float(value, field, min=0.0, min_inclusive=not strictly_positive, max=hi)


def _seconds(value: Any, field: str, *, strictly_positive: bool = False) -> float:
    x = _number(value, field, strictly_positive=strictly_positive, hi=MAX_TIME_S, kind="s")
    warn_if(x > 3600.0, field, f"{x:g} s per image is implausibly long (numbers are seconds; write e.g. "
                               f"\"{x:g} ms\" for milliseconds)")
    return x


def _floats(value: Any, field: str, n: int, *, strictly_positive: bool, hi: float = MAX_ENERGY,
            kind: str | None = None) -> np.ndarray:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise InvalidInstance(field, f"has {len(value)} entries but the device has {n} images")
        return np.asarray([_number(v, f"{field}[{k}]", strictly_positive=strictly_positive, hi=hi, kind=kind)
                           for k, v in enumerate(value)], dtype=float)
    return np.full(n, _number(value, field, strictly_positive=strictly_positive, hi=hi, kind=kind), dtype=float)


def _count(imgs: dict, where: str) -> int:
    if "count" in imgs:
        from ..limits import limits

        return as_int(imgs["count"], f"{where}.count", min=0, limit="max_images")
    for key in ("size", "hit", "z1", "c_s"):
        v = imgs.get(key)
        if isinstance(v, (list, tuple)) or (isinstance(v, str) and key in ("hit", "z1")):
            return len(v)
    raise InvalidInstance(f"{where}.count", "missing: give 'count' or a per-image list ('size' or 'hit')")


def _device_from_dict(x: Any, where: str) -> Device:
    if not isinstance(x, dict):
        raise InvalidInstance(where, f"must be an object, got {x!r}")
    check_keys(x, {"rate", "alpha", "beta", "images", "energy"}, where)
    rate = _number(require(x, "rate", where), f"{where}.rate", strictly_positive=True, hi=MAX_RATE, kind="bit/s")
    warn_if(rate < 1e3, f"{where}.rate", f"{rate:g} bit/s is implausibly slow (numbers are bit/s; write e.g. "
                                         f"\"{rate:g} Mbit/s\")")
    alpha = _seconds(require(x, "alpha", where), f"{where}.alpha")
    beta = _seconds(require(x, "beta", where), f"{where}.beta")
    imgs = require(x, "images", where)
    iw = f"{where}.images"
    if not isinstance(imgs, dict):
        raise InvalidInstance(iw, f"must be an object, got {imgs!r}")
    check_keys(imgs, {"count", "size", "c_s", "hit", "z1", "z2"}, iw)
    n = _count(imgs, iw)
    size = _floats(require(imgs, "size", iw), f"{iw}.size", n, strictly_positive=True, hi=MAX_SIZE, kind="bytes")
    smallest = float(size.min()) if n else math.inf
    warn_if(smallest < 100.0, f"{iw}.size", f"an image of {smallest:g} bytes is implausibly small (numbers are "
                                            f"bytes; write e.g. \"{smallest:g} kB\")")
    cs_raw = imgs.get("c_s", "fit")
    if cs_raw == "fit":
        c_s = scaling_time_fit(size)
    else:
        c_s = _floats(cs_raw, f"{iw}.c_s", n, strictly_positive=False, hi=MAX_TIME_S, kind="s")
    hit = _bits(require(imgs, "hit", iw), f"{iw}.hit", n)
    z1 = _bits(imgs["z1"], f"{iw}.z1", n) if "z1" in imgs else hit.copy()
    z2 = _bits(imgs["z2"], f"{iw}.z2", n) if "z2" in imgs else z1 & hit
    bad = np.flatnonzero((z2 == 1) & (z1 == 0))
    if len(bad):
        k = int(bad[0])
        raise InvalidInstance(f"{iw}.z2[{k}]",
                              "is 1 while z1 is 0 (z2 exists only after a positive accelerated CNN)")
    energy = None
    if "energy" in x and x["energy"] is not None:
        e = x["energy"]
        ew = f"{where}.energy"
        if not isinstance(e, dict):
            raise InvalidInstance(ew, f"must be an object, got {e!r}")
        check_keys(e, {"budget", "e_s", "e_t", "e_alpha", "e_beta"}, ew)
        energy = Energy(
            budget=as_float(require(e, "budget", ew), f"{ew}.budget", min=0.0, max=MAX_ENERGY),
            e_s=_floats(require(e, "e_s", ew), f"{ew}.e_s", n, strictly_positive=False),
            e_t=_floats(require(e, "e_t", ew), f"{ew}.e_t", n, strictly_positive=False),
            e_alpha=as_float(require(e, "e_alpha", ew), f"{ew}.e_alpha", min=0.0, max=MAX_ENERGY),
            e_beta=as_float(require(e, "e_beta", ew), f"{ew}.e_beta", min=0.0, max=MAX_ENERGY),
        )
    if not math.isfinite(float(np.sum(8.0 * size / rate))):
        raise InvalidInstance(f"{where}.rate", f"transmission times overflow (rate {rate!r})")
    return Device(rate=rate, alpha=alpha, beta=beta, size=size, c_s=np.asarray(c_s, dtype=float), z1=z1, z2=z2,
                  hit=hit, energy=energy)


def parse_plan(inst: PicsysInstance, decisions: Any, *, allow_skip: bool | None = None) -> list[np.ndarray]:
    """Validate a plan and return one int array of outcome codes per device.

    ``decisions`` is ``{"outcomes": [[code, ...] per device]}`` with codes from
    :data:`OUTCOMES` (or ``"skip"`` in the ``max-processed`` mode of the energy
    variant: ``{"mode": "max-processed", ...}``). Each outcome must be feasible
    for the image's truth values (paper constraints (2)-(8)).
    """
    if not isinstance(decisions, dict):
        raise InvalidInstance("decisions", f"must be an object with 'outcomes', got {type(decisions).__name__}")
    check_keys(decisions, {"outcomes", "mode", "stages"}, "decisions")
    mode = decisions.get("mode", "makespan")
    if not isinstance(mode, str) or mode not in ("makespan", "max-processed"):
        raise InvalidInstance("decisions.mode", f"must be 'makespan' or 'max-processed', got {mode!r}")
    if mode == "max-processed" and not inst.enforce_energy:
        # without enforced budgets every image can be processed: the lexicographic mode (and with
        # it any skip) does not exist for this instance (issue #14: an all-skip plan scored 0)
        raise InvalidInstance("decisions.mode", f"'max-processed' exists only for instances with enforced energy "
                                                f"budgets; {inst.name!r} has none, so every image must be processed")
    if allow_skip is None:
        allow_skip = mode == "max-processed"
    outs = require(decisions, "outcomes", "decisions")
    outs = as_list(outs, "decisions.outcomes", length=inst.n_devices)
    plan = []
    for m, (dev, row) in enumerate(zip(inst.devices, outs)):
        row = as_list(row, f"decisions.outcomes[{m}]", length=dev.n)
        codes = np.empty(dev.n, dtype=np.int8)
        for i, c in enumerate(row):
            if isinstance(c, str) and c in CODE:
                k = CODE[c]
            elif isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= int(c) <= 5:
                k = int(c)
            else:
                raise InvalidInstance(f"decisions.outcomes[{m}][{i}]",
                                      f"unknown outcome code {c!r} (known: {', '.join(OUTCOMES)}, {SKIP})")
            if k == SKIPPED:
                if not allow_skip:
                    raise InvalidInstance(f"decisions.outcomes[{m}][{i}]",
                                          "'skip' is allowed only with mode 'max-processed'")
            elif k not in feasible_outcomes(int(dev.z1[i]), int(dev.z2[i])):
                raise InvalidInstance(
                    f"decisions.outcomes[{m}][{i}]",
                    f"outcome {OUTCOMES[k]!r} is infeasible for truth values z1={int(dev.z1[i])}, "
                    f"z2={int(dev.z2[i])}")
            codes[i] = k
        plan.append(codes)
    return plan


def plan_to_decisions(plan: list[np.ndarray] | list[list[int]], mode: str = "makespan") -> dict:
    """The JSON decisions of a plan given as integer codes."""
    all_codes = OUTCOMES + (SKIP,)
    d: dict[str, Any] = {"outcomes": [[all_codes[int(k)] for k in row] for row in plan]}
    if mode != "makespan":
        d["mode"] = mode
    return d
