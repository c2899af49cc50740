"""Piecewise-constant bandwidth traces: data type, generators, scenarios, loading.

A trace is ``times`` (strictly increasing, starting at 0) and ``rates`` in
bytes per second: the rate is ``rates[j]`` on ``[times[j], times[j+1])`` and
the last rate holds forever. The bytes that fit in a window are the integral
of the rate (PNC section IV: ``S_i = int b(t) dt`` over the offloading window).

PNC's testbed has no trace files: bandwidth was varied by a live WiFi jammer
(anchors A.4). The scenarios below are synthetic stand-ins with stated
parameters (:data:`SCENARIOS`), calibrated to the qualitative statements of
PNC section VII-C (e.g. WebP q0 fits almost always; WebP q20 fits only ~10 %
of the time at T = 300 ms under heavy jamming but mostly at T = 700 ms
without jamming). Users load their own traces from CSV or JSON.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..limits import check as check_limit
from ..units import warn_if

MAX_DURATION_S = 1e7
"""Longest generated trace (about 116 days); the sample count is also capped by
``limits.max_trace_samples`` (docs/validation.md)."""


def _samples(duration: Any, dt: Any, where: str = "duration") -> tuple[float, float, int]:
    """Checked ``(duration, dt, n)`` of a sampled generator, before anything is allocated."""
    dt = as_float(dt, "dt", min=1e-6, max=MAX_DURATION_S)
    duration = as_float(duration, "duration", min=0.0, min_inclusive=False, max=MAX_DURATION_S)
    n = max(1, int(np.ceil(duration / dt)))
    check_limit("max_trace_samples", n, where, f"duration / dt = {duration:g} / {dt:g} samples")
    return duration, dt, n
from ..validate import (as_float, as_int, as_list, as_str, check_keys, nonneg, parse_json, positive, probability,
                        read_text, require)


@dataclass(frozen=True)
class Trace:
    """A piecewise-constant bandwidth trace (bytes/s).

    Raises
    ------
    InvalidInstance
        If ``times`` does not start at 0 or is not strictly increasing, if
        lengths differ, or a rate is negative or not finite.
    """

    times: tuple[float, ...]
    rates: tuple[float, ...]
    name: str = ""

    def __post_init__(self) -> None:
        _check(list(self.times), list(self.rates), "trace")

    @property
    def _cum(self) -> np.ndarray:
        t = np.asarray(self.times)
        r = np.asarray(self.rates)
        return np.concatenate([[0.0], np.cumsum(np.diff(t) * r[:-1])])

    def bytes_until(self, t: Any) -> np.ndarray:
        """Bytes deliverable on ``[0, t]`` (vectorized)."""
        t = np.asarray(t, dtype=float)
        tt = np.asarray(self.times)
        r = np.asarray(self.rates)
        cum = self._cum
        j = np.clip(np.searchsorted(tt, t, side="right") - 1, 0, len(tt) - 1)
        return cum[j] + r[j] * np.maximum(t - tt[j], 0.0)

    def integral(self, a: Any, b: Any) -> np.ndarray:
        """Bytes deliverable on ``[a, b]`` (PNC section IV, ``S_i``), vectorized over windows."""
        return self.bytes_until(b) - self.bytes_until(a)

    def rate_at(self, t: Any) -> np.ndarray:
        tt = np.asarray(self.times)
        j = np.clip(np.searchsorted(tt, np.asarray(t, dtype=float), side="right") - 1, 0, len(tt) - 1)
        return np.asarray(self.rates)[j]

    def mean_rate(self, duration: float) -> float:
        return float(self.bytes_until(duration) / duration)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"times": list(self.times), "rates": list(self.rates)}
        if self.name:
            d["name"] = self.name
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "trace") -> "Trace":
        """From ``{"times": [...], "rates": [...]}`` or a generator spec ``{"generator": ..., ...}``."""
        if not isinstance(d, dict):
            raise InvalidInstance(where, f"must be an object, got {type(d).__name__}")
        if "generator" in d:
            return from_spec(d, where)
        check_keys(d, {"times", "rates", "name"}, where)
        times = as_list(require(d, "times", where), f"{where}.times", min_length=1)
        check_limit("max_trace_samples", len(times), f"{where}.times", "number of samples")
        rates = as_list(require(d, "rates", where), f"{where}.rates", length=len(times))
        t = [as_float(x, f"{where}.times[{i}]", min=0.0, max=MAX_DURATION_S) for i, x in enumerate(times)]
        r = [nonneg(x, f"{where}.rates[{i}]") for i, x in enumerate(rates)]
        _check(t, r, where)
        return cls(tuple(t), tuple(r), str(d.get("name", "")))


def _check(t: list, r: list, where: str) -> None:
    if len(t) == 0 or len(t) != len(r):
        raise InvalidInstance(f"{where}.rates", f"must have the length of times ({len(t)}), got {len(r)}")
    if t[0] != 0:
        raise InvalidInstance(f"{where}.times[0]", f"must be 0, got {t[0]!r}")
    for i in range(1, len(t)):
        if not t[i] > t[i - 1]:
            raise InvalidInstance(f"{where}.times[{i}]", f"must be > times[{i - 1}] = {t[i - 1]!r}, got {t[i]!r}")
    for i, x in enumerate(r):
        if not np.isfinite(x) or x < 0:
            raise InvalidInstance(f"{where}.rates[{i}]", f"must be finite and >= 0, got {x!r}")


# ------------------------------------------------------------- generators
def constant(rate: float) -> Trace:
    """A constant rate (bytes/s)."""
    return Trace((0.0,), (positive(rate, "rate"),), f"constant-{rate:g}")


def step(rates: list[float], durations: list[float], *, repeat: int = 1) -> Trace:
    """Rates held for the given durations, in order, the whole sequence ``repeat`` times."""
    rates = as_list(rates, "rates", min_length=1)
    durations = as_list(durations, "durations", length=len(rates))
    repeat = as_int(repeat, "repeat", min=1)
    check_limit("max_trace_samples", repeat * len(rates), "repeat", "samples (repeat x len(rates))")
    t, r, now = [], [], 0.0
    for _ in range(repeat):
        for i, (x, d) in enumerate(zip(rates, durations)):
            t.append(now)
            r.append(nonneg(x, f"rates[{i}]"))
            now += positive(d, f"durations[{i}]")
    return Trace(tuple(t), tuple(r), "step")


def markov(good_rate: float, bad_rate: float, p_good_bad: float, p_bad_good: float, *, dt: float = 0.1,
           duration: float = 600.0, seed: int = 0, start: str = "good") -> Trace:
    """Two-state (Gilbert-Elliott) Markov chain sampled every ``dt`` seconds."""
    g, b = positive(good_rate, "good_rate"), nonneg(bad_rate, "bad_rate")
    pgb, pbg = probability(p_good_bad, "p_good_bad"), probability(p_bad_good, "p_bad_good")
    duration, dt, n = _samples(duration, dt)
    as_str(start, "start", ("good", "bad"))
    rng = np.random.default_rng(as_int(seed, "seed", min=0, max=2**31 - 1))
    u = rng.random(n)
    state = np.empty(n, dtype=bool)  # True: good
    s = start == "good"
    for i in range(n):
        state[i] = s
        s = (u[i] >= pgb) if s else (u[i] < pbg)
    return Trace(tuple(np.arange(n) * dt), tuple(np.where(state, g, b)), "markov")


def lognormal_walk(mean_rate: float, sigma: float, *, theta: float = 1.0, dt: float = 0.1,
                   duration: float = 600.0, seed: int = 0) -> Trace:
    """A log-normal random walk (mean-reverting when ``theta > 0``) sampled every ``dt`` seconds.

    ``x = log(rate)`` follows ``dx = theta (mu - x) dt + sigma dW`` (exact
    Ornstein-Uhlenbeck discretisation, stationary start); ``mu`` is chosen so
    that the stationary mean rate is ``mean_rate``. ``theta = 0``: a pure
    random walk started at ``log(mean_rate)``.
    """
    m, s = positive(mean_rate, "mean_rate"), nonneg(sigma, "sigma")
    th = as_float(theta, "theta", min=0.0, max=1e6)
    s = as_float(sigma, "sigma", min=0.0, max=100.0)
    duration, dt, n = _samples(duration, dt)
    rng = np.random.default_rng(as_int(seed, "seed", min=0, max=2**31 - 1))
    z = rng.standard_normal(n)
    x = np.empty(n)
    if th > 0:
        var = s * s / (2 * th)
        mu = np.log(m) - var / 2
        a = np.exp(-th * dt)
        sd = np.sqrt(var * (1 - a * a))
        x[0] = mu + np.sqrt(var) * z[0]
        for i in range(1, n):
            x[i] = mu + a * (x[i - 1] - mu) + sd * z[i]
    else:
        x = np.log(m) + np.concatenate([[0.0], np.cumsum(s * np.sqrt(dt) * z[1:])])
    return Trace(tuple(np.arange(n) * dt), tuple(np.exp(x)), "lognormal-walk")


SCENARIOS: dict[str, dict[str, float]] = {
    "none": {"mean_rate": 12000.0, "sigma": 0.5, "theta": 2.0},
    "light": {"mean_rate": 8500.0, "sigma": 0.6, "theta": 2.0},
    "heavy": {"mean_rate": 6000.0, "sigma": 0.6, "theta": 2.0},
}
"""Synthetic stand-ins for PNC's jamming scenarios (section VII-C): a log-normal
walk of the IEEE 802.15.4 goodput in bytes/s (``sigma`` per sqrt(s), ``theta``
per s, ``dt`` = 0.1 s). The means are our calibration, not measurements."""


def scenario(name: str, *, duration: float = 600.0, seed: int = 0, switch_s: float = 10.0) -> Trace:
    """A named scenario: ``none``, ``light``, ``heavy`` (PNC Figs. 6-8),
    ``switching`` (none/heavy alternating every ``switch_s`` s, Fig. 10) or
    ``decreasing`` (none, light, heavy for ``switch_s`` s each, repeated, Fig. 9)."""
    as_str(name, "scenario", (*SCENARIOS, "switching", "decreasing"))
    duration, _, _ = _samples(duration, 0.1)
    seed = as_int(seed, "seed", min=0, max=2**31 - 1 - 2000)
    switch_s = as_float(switch_s, "switch_s", min=0.0, min_inclusive=False, max=MAX_DURATION_S)
    if name in SCENARIOS:
        return _named(lognormal_walk(duration=duration, seed=seed, **SCENARIOS[name]), name)
    seq = ("none", "heavy") if name == "switching" else ("none", "light", "heavy")
    parts = {s: lognormal_walk(duration=duration, seed=seed + 1000 * k, **SCENARIOS[s]) for k, s in enumerate(seq)}
    dt = 0.1
    n = int(np.ceil(duration / dt))
    t = np.arange(n) * dt
    which = (np.floor(t / switch_s).astype(int)) % len(seq)
    rates = np.empty(n)
    for k, s in enumerate(seq):
        rr = np.asarray(parts[s].rates)
        rates[which == k] = rr[: n][which == k]
    return Trace(tuple(t), tuple(rates), name)


def _named(tr: Trace, name: str) -> Trace:
    return Trace(tr.times, tr.rates, name)


_GENERATORS = {
    "constant": (constant, {"rate"}),
    "step": (step, {"rates", "durations", "repeat"}),
    "markov": (markov, {"good_rate", "bad_rate", "p_good_bad", "p_bad_good", "dt", "duration", "seed", "start"}),
    "lognormal_walk": (lognormal_walk, {"mean_rate", "sigma", "theta", "dt", "duration", "seed"}),
    "scenario": (scenario, {"name", "duration", "seed", "switch_s"}),
}


def from_spec(d: dict, where: str = "trace") -> Trace:
    """A trace from a generator spec, e.g. ``{"generator": "scenario", "name": "heavy", "seed": 3}``."""
    gen = as_str(require(d, "generator", where), f"{where}.generator", tuple(_GENERATORS))
    fn, allowed = _GENERATORS[gen]
    check_keys(d, allowed | {"generator"}, where)
    kw = {k: v for k, v in d.items() if k != "generator"}
    try:
        return fn(**kw)
    except InvalidInstance as exc:
        raise InvalidInstance(f"{where}.{exc.field}", str(exc).split(": ", 1)[-1]) from None
    except TypeError as exc:  # a missing required argument
        raise InvalidInstance(where, f"bad {gen} generator arguments: {exc}") from None


# ---------------------------------------------------------------- loading
def load_trace(path: str | Path, *, unit: str = "bytes/s") -> Trace:
    """Load a user trace.

    JSON: ``{"times": [...], "rates": [...]}`` (or a generator spec). CSV: two
    columns ``time_s,rate`` with a header, or headerless ``time rate`` lines
    (Pensieve/FCC/HSDPA "cooked" format); times are shifted to start at 0.
    ``unit``: ``bytes/s``, ``kbit/s`` or ``Mbit/s`` for the rate column.
    """
    scale = {"bytes/s": 1.0, "kbit/s": 1000 / 8, "Mbit/s": 1e6 / 8}
    as_str(unit, "unit", tuple(scale))
    p = Path(path)
    text = read_text(p, "trace")
    if p.suffix.lower() == ".json":
        d = parse_json(text, p, "trace")
        tr = Trace.from_dict(d, p.name)
        return Trace(tr.times, tuple(np.asarray(tr.rates) * scale[unit]), tr.name or p.stem)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InvalidInstance(p.name, "no data rows")
    rows = list(csv.reader(lines, delimiter="," if "," in lines[0] else " ", skipinitialspace=True))
    rows = [[c.strip() for c in row if c.strip() != ""] for row in rows]
    check_limit("max_trace_samples", len(rows), p.name, "rows")
    ti, ri, tscale, rscale = 0, 1, 1.0, scale[unit]
    try:
        float(rows[0][0])
        header = False
    except (ValueError, IndexError):
        header = True
    if header:  # columns by name (issue #14 item 10), units from the names
        ti, tscale, ri, rscale = _columns(rows[0], p.name, rscale)
        rows = rows[1:]
    t, r = [], []
    for i, row in enumerate(rows):
        if len(row) <= max(ti, ri):
            raise InvalidInstance(f"{p.name}:row {i + 1 + header}",
                                  f"expected at least {max(ti, ri) + 1} columns, got {row!r}")
        try:
            t.append(float(row[ti]) * tscale)
            r.append(float(row[ri]) * rscale)
        except ValueError:
            raise InvalidInstance(f"{p.name}:row {i + 1 + header}", f"not a number: {row!r}") from None
    if not t:
        raise InvalidInstance(p.name, "no data rows")
    t0 = t[0]
    warn_if(tscale == 1.0 and t0 > 1e11, p.name,
            f"times start at {t0:.6g}, which looks like epoch milliseconds read as seconds (name the column "
            "time_ms to read milliseconds)")
    return Trace.from_dict({"times": [x - t0 for x in t], "rates": r, "name": p.stem}, p.name)


_TIME_COLS = {"time": 1.0, "t": 1.0, "time_s": 1.0, "timestamp": 1.0, "timestamp_s": 1.0, "seconds": 1.0,
              "time_ms": 1e-3, "timestamp_ms": 1e-3, "ms": 1e-3}
_RATE_COLS = {"rate": None, "bandwidth": None, "throughput": None,
              "rate_bytes_per_s": 1.0, "bytes_per_s": 1.0, "rate_bps_bytes": 1.0, "rate_b_s": 1.0,
              "rate_kbit_s": 1000 / 8, "kbit_s": 1000 / 8, "kbps": 1000 / 8,
              "rate_mbit_s": 1e6 / 8, "mbit_s": 1e6 / 8, "mbps": 1e6 / 8, "bandwidth_mbps": 1e6 / 8,
              "throughput_mbps": 1e6 / 8, "rate_bit_s": 1 / 8, "bit_s": 1 / 8, "bps": 1 / 8}


def _columns(header: list[str], where: str, default_rate_scale: float) -> tuple[int, float, int, float]:
    """Indices and unit factors of the time and rate columns of a CSV header (by name)."""
    def norm(c: str) -> str:
        return c.strip().lower().replace(" ", "_").replace("/", "_").replace("(", "").replace(")", "")

    names = [norm(c) for c in header]
    ti = next((i for i, c in enumerate(names) if c in _TIME_COLS), None)
    ri = next((i for i, c in enumerate(names) if c in _RATE_COLS), None)
    if ti is None:
        raise InvalidInstance(f"{where}:header", f"no time column among {header!r} (known names: "
                                                 f"{', '.join(_TIME_COLS)})")
    if ri is None:
        raise InvalidInstance(f"{where}:header", f"no rate column among {header!r} (known names: "
                                                 f"{', '.join(_RATE_COLS)})")
    rs = _RATE_COLS[names[ri]]
    return ti, _TIME_COLS[names[ti]], ri, default_rate_scale if rs is None else rs


def save_trace(trace: Trace, path: str | Path) -> Path:
    """Write a trace as CSV (``time_s,rate_bytes_per_s``) or JSON (by suffix)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        p.write_text(json.dumps(trace.to_dict()) + "\n", encoding="utf-8")
    else:
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["time_s", "rate_bytes_per_s"])
            for a, b in zip(trace.times, trace.rates):
                w.writerow([repr(float(a)), repr(float(b))])
    return p


__all__ = ["Trace", "constant", "step", "markov", "lognormal_walk", "scenario", "SCENARIOS", "from_spec",
           "load_trace", "save_trace"]
