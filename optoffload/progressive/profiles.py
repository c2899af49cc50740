"""Rate-accuracy profiles of image codecs, as data.

A profile says what (expected) accuracy the receiver reaches with the bytes
that arrived by the deadline (PNC section IV, eqs. 1-2: the reward is the
top-n accuracy of the classifier on the decoded, possibly truncated data).
Three kinds:

``features``
    A progressive feature codec (PNC, section V-D): ``accuracy[k]`` is the
    accuracy with the first ``k`` whole features (``accuracy[0]``: nothing
    received, all channels zero-filled), ``unit_bytes[j]`` the mean Huffman
    payload of feature ``j``. Only whole features count.
``bytes``
    A byte-progressive codec (progressive JPEG, LimitNet, RNN): ``points`` are
    ``(payload bytes, accuracy)``; a prefix of ``b`` bytes scores the accuracy
    of the largest point ``<= b`` (a step function: a scan or a chunk only
    helps once it is complete), ``fallback`` below the first point.
``all_or_nothing``
    A non-progressive codec (WebP, baseline JPEG, fixed-K autoencoders):
    ``accuracy`` if all ``total_bytes`` arrive, otherwise ``fallback`` (the
    chance-level reward, 5/1000 for top-5 on ImageNet).

Per-image sizes vary: image ``i`` has all its sizes multiplied by a factor
``f_i ~ LogNormal(-sigma^2/2, sigma)`` (mean 1), ``sigma = size_sigma``.

Transport (PNC protocol, anchors A.4): every codec's bytes travel in 64-byte
blocks of 1 control byte + 63 data bytes; each framed unit (a PNC feature, or
a whole image file) carries 7 header + 2 length + 2 CRC bytes. So a budget of
``S`` bytes gives ``63 * floor(S / 64)`` data bytes (:func:`data_bytes`), and
unit ``k`` of an image is usable once the data bytes reach its *threshold*
``f * cum_payload_k + 11 * k`` (:meth:`Profile.thresholds`).

The shipped catalog (``optoffload/data/progressive/profiles/catalog.json``)
holds the PNC table (top-5, exact) and the approximate WebP, JPEG, progressive
JPEG, RNN, fixed-K autoencoder and LimitNet curves, each with its source and
metric; :func:`check_same_metric` refuses to mix top-1 and top-5.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..errors import InvalidInstance
from ..validate import as_float, as_list, as_str, check_keys, nonneg, parse_json, probability, read_text, require

BLOCK_BYTES = 64
"""Size of one transport block (PNC protocol: 1 control byte + 63 data bytes)."""
BLOCK_PAYLOAD = 63
"""Data bytes carried by one 64-byte block."""
UNIT_OVERHEAD = 11
"""Framing bytes per unit: 7 header (``b'xxxx'``, uint16 seq, uint8 index) + 2 length + 2 CRC16."""
KB = 1000
"""Bytes per KB in every shipped table (the papers' axes say "KB"; we read 1 KB = 1000 B)."""

KINDS = ("features", "bytes", "all_or_nothing")
METRICS = ("top1", "top5")
CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "progressive" / "profiles" / "catalog.json"

_FIELDS = frozenset({
    "name", "kind", "metric", "source", "dataset", "exact", "accuracy", "unit_bytes", "points", "total_bytes",
    "fallback", "size_sigma", "encode_ms", "units", "notes",
})


def data_bytes(budget: Any) -> np.ndarray:
    """Data bytes delivered by a byte budget: 63 per complete 64-byte block (blocks cut at the deadline do not count)."""
    b = np.floor(np.maximum(np.asarray(budget, dtype=float), 0.0) / BLOCK_BYTES)
    return b * BLOCK_PAYLOAD


def size_factors(n: int, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Per-image size factors, mean 1: random (``rng``) or ``n`` quantile nodes (``rng=None``).

    The quantile nodes ``exp(sigma * z_j - sigma^2/2)``, ``z_j = Phi^-1((j + 1/2) / n)``
    give a deterministic quadrature of the expectation over images.
    """
    if sigma == 0:
        return np.ones(n)
    if rng is None:
        from scipy.stats import norm

        z = norm.ppf((np.arange(n) + 0.5) / n)
    else:
        z = rng.standard_normal(n)
    return np.exp(sigma * z - sigma * sigma / 2)


@dataclass(frozen=True)
class Profile:
    """One codec configuration's rate-accuracy profile (see the module docstring).

    Raises
    ------
    InvalidInstance
        From :meth:`from_dict` when a field is missing, out of range, or
        inconsistent (e.g. sizes not increasing), naming the field.
    """

    name: str
    kind: str
    metric: str
    accuracy: tuple[float, ...]
    """features: acc after k = 0..M features; bytes: acc at each point; all_or_nothing: (acc,)."""
    unit_bytes: tuple[float, ...]
    """features: mean payload of each feature; bytes: cumulative payload at each point; all_or_nothing: (total,)."""
    total_bytes: float
    fallback: float = 0.0
    size_sigma: float = 0.0
    encode_ms: float = 0.0
    units: int = 1
    """Framed units of a complete image (features: M; bytes: 1; all_or_nothing: e.g. K for a fixed-K AE)."""
    source: str = ""
    dataset: str = ""
    exact: bool = False
    notes: str = ""

    # ------------------------------------------------------------------ JSON
    @classmethod
    def from_dict(cls, d: Any, where: str = "profile") -> "Profile":
        if not isinstance(d, dict):
            raise InvalidInstance(where, f"must be an object, got {type(d).__name__}")
        check_keys(d, _FIELDS, where)
        name = as_str(require(d, "name", where), f"{where}.name")
        kind = as_str(require(d, "kind", where), f"{where}.kind", KINDS)
        metric = as_str(require(d, "metric", where), f"{where}.metric", METRICS)
        fallback = probability(d.get("fallback", 0.0), f"{where}.fallback")
        sigma = as_float(d.get("size_sigma", 0.0), f"{where}.size_sigma", min=0.0, max=2.0)
        enc = nonneg(d.get("encode_ms", 0.0), f"{where}.encode_ms")
        meta = dict(source=str(d.get("source", "")), dataset=str(d.get("dataset", "")),
                    exact=bool(d.get("exact", False)), notes=str(d.get("notes", "")))
        if kind == "features":
            acc = [probability(a, f"{where}.accuracy[{i}]")
                   for i, a in enumerate(as_list(require(d, "accuracy", where), f"{where}.accuracy", min_length=2))]
            m = len(acc) - 1
            ub = as_list(require(d, "unit_bytes", where), f"{where}.unit_bytes", length=m)
            sizes = [as_float(b, f"{where}.unit_bytes[{i}]", min=0.0, min_inclusive=False) for i, b in enumerate(ub)]
            return cls(name, kind, metric, tuple(acc), tuple(sizes), float(sum(sizes)), acc[0], sigma, enc, m, **meta)
        if kind == "bytes":
            pts = as_list(require(d, "points", where), f"{where}.points", min_length=1)
            bs, acc = [], []
            for i, p in enumerate(pts):
                p = as_list(p, f"{where}.points[{i}]", length=2)
                bs.append(as_float(p[0], f"{where}.points[{i}][0]", min=0.0, min_inclusive=False))
                acc.append(probability(p[1], f"{where}.points[{i}][1]"))
                if i and bs[i] <= bs[i - 1]:
                    raise InvalidInstance(f"{where}.points[{i}][0]", f"bytes must increase, got {bs[i]!r} after {bs[i - 1]!r}")
            total = as_float(d.get("total_bytes", bs[-1]), f"{where}.total_bytes", min=bs[-1])
            return cls(name, kind, metric, tuple(acc), tuple(bs), total, fallback, sigma, enc, 1, **meta)
        total = as_float(require(d, "total_bytes", where), f"{where}.total_bytes", min=0.0, min_inclusive=False)
        a = probability(require(d, "accuracy", where), f"{where}.accuracy")
        units = d.get("units", 1)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise InvalidInstance(f"{where}.units", f"must be an integer >= 1, got {units!r}")
        return cls(name, kind, metric, (a,), (total,), total, fallback, sigma, enc, units, **meta)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "metric": self.metric}
        if self.kind == "features":
            d["accuracy"] = list(self.accuracy)
            d["unit_bytes"] = list(self.unit_bytes)
        elif self.kind == "bytes":
            d["points"] = [[b, a] for b, a in zip(self.unit_bytes, self.accuracy)]
            d["total_bytes"] = self.total_bytes
            d["fallback"] = self.fallback
        else:
            d["total_bytes"] = self.total_bytes
            d["accuracy"] = self.accuracy[0]
            d["fallback"] = self.fallback
            d["units"] = self.units
        d.update(size_sigma=self.size_sigma, encode_ms=self.encode_ms, source=self.source, dataset=self.dataset,
                 exact=self.exact, notes=self.notes)
        return d

    # ------------------------------------------------------------ semantics
    @property
    def progressive(self) -> bool:
        return self.kind != "all_or_nothing"

    @property
    def full_accuracy(self) -> float:
        """Accuracy when the whole image arrives."""
        return self.accuracy[-1]

    def levels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(payload, overhead, accuracy)`` of the usable levels 1..J of one image of factor 1.

        Level ``j`` is usable once the data bytes reach ``f * payload[j] + overhead[j]``.
        """
        if self.kind == "features":
            pay = np.cumsum(self.unit_bytes)
            over = UNIT_OVERHEAD * np.arange(1, self.units + 1, dtype=float)
            return pay, over, np.asarray(self.accuracy[1:], dtype=float)
        if self.kind == "bytes":
            pay = np.asarray(self.unit_bytes, dtype=float)
            return pay, np.full(len(pay), float(UNIT_OVERHEAD)), np.asarray(self.accuracy, dtype=float)
        return (np.array([self.total_bytes]), np.array([float(UNIT_OVERHEAD * self.units)]),
                np.array([self.accuracy[0]]))

    def thresholds(self, factors: Any, framing: bool = True) -> np.ndarray:
        """Data-byte thresholds of each level for images of the given size factors, shape ``(n, J)``.

        ``framing=False`` drops the per-unit overhead (raw payload budgets, as in
        the PNC notebook's accuracy-vs-budget table).
        """
        pay, over, _ = self.levels()
        f = np.atleast_1d(np.asarray(factors, dtype=float))
        thr = f[:, None] * pay[None, :]
        if framing:
            thr = thr + over[None, :]
        return thr

    def complete_bytes(self, factors: Any, framing: bool = True) -> np.ndarray:
        """Data bytes for the whole image (all units): ``f * total + overhead``."""
        f = np.atleast_1d(np.asarray(factors, dtype=float))
        return f * self.total_bytes + (UNIT_OVERHEAD * self.units if framing else 0.0)

    def levels_received(self, data: Any, factors: Any, framing: bool = True) -> np.ndarray:
        """Number of usable levels (PNC: whole features) per image for ``data`` bytes received."""
        d, f = np.broadcast_arrays(np.atleast_1d(np.asarray(data, dtype=float)),
                                   np.atleast_1d(np.asarray(factors, dtype=float)))
        thr = self.thresholds(f, framing)
        return (thr <= d[:, None] + 1e-9).sum(axis=1)

    def accuracy_at(self, data: Any, factors: Any = 1.0, framing: bool = True) -> np.ndarray:
        """Accuracy of each image (size factor ``factors[i]``) given ``data[i]`` data bytes received."""
        _, _, acc = self.levels()
        table = np.concatenate([[self.fallback], acc])
        return table[self.levels_received(data, factors, framing)]

    def expected_accuracy(self, data: Any, n_quad: int = 64, framing: bool = True) -> np.ndarray:
        """Expected accuracy over the image-size distribution for each budget in ``data`` (quantile quadrature)."""
        d = np.atleast_1d(np.asarray(data, dtype=float))
        f = size_factors(n_quad if self.size_sigma > 0 else 1, self.size_sigma)
        thr = self.thresholds(f, framing)  # (q, J)
        _, _, acc = self.levels()
        table = np.concatenate([[self.fallback], acc])
        k = (thr[None, :, :] <= d[:, None, None] + 1e-9).sum(axis=2)  # (n, q)
        return table[k].mean(axis=1)

    def with_(self, **changes: Any) -> "Profile":
        return replace(self, **changes)

    @classmethod
    def from_measurements(cls, name: str, metric: str, feature_bytes: Any, correct: Any, **meta: Any) -> "Profile":
        """Build a ``features`` profile from per-image measurements.

        ``feature_bytes``: ``(n_images, M)`` payload sizes; ``correct``: ``(n_images, M + 1)``
        0/1 rewards with ``k = 0..M`` features. ``size_sigma`` is the standard
        deviation of the log of the per-image totals.
        """
        fb = np.asarray(feature_bytes, dtype=float)
        c = np.asarray(correct, dtype=float)
        if fb.ndim != 2 or fb.shape[0] < 1 or fb.shape[1] < 1:
            raise InvalidInstance("feature_bytes", f"must be a non-empty (n_images, M) array, got shape {fb.shape}")
        if c.shape != (fb.shape[0], fb.shape[1] + 1):
            raise InvalidInstance("correct", f"must have shape {(fb.shape[0], fb.shape[1] + 1)}, got {c.shape}")
        if not np.all(np.isfinite(fb)) or np.any(fb <= 0):
            raise InvalidInstance("feature_bytes", "must be finite and > 0")
        tot = fb.sum(axis=1)
        sigma = float(np.std(np.log(tot))) if len(tot) > 1 else 0.0
        d = {"name": name, "kind": "features", "metric": metric, "accuracy": c.mean(axis=0).tolist(),
             "unit_bytes": fb.mean(axis=0).tolist(), "size_sigma": min(sigma, 2.0), **meta}
        return cls.from_dict(d)


def check_same_metric(profiles: Iterable[Profile], where: str = "profiles") -> str:
    """The common metric of ``profiles``; raises if top-1 and top-5 are mixed (never compare them)."""
    metrics = {p.name: p.metric for p in profiles}
    if len(set(metrics.values())) > 1:
        raise InvalidInstance(where, f"profiles mix metrics (top-1 and top-5 are never compared): {metrics}")
    return next(iter(metrics.values()), "top5")


# ---------------------------------------------------------------- catalog
@lru_cache(maxsize=1)
def _catalog() -> dict[str, Profile]:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    out = {}
    for i, d in enumerate(raw["profiles"]):
        p = Profile.from_dict(d, f"catalog.profiles[{i}]")
        out[p.name] = p
    return out


def catalog() -> dict[str, Profile]:
    """The shipped profiles by name (a copy of the dict; profiles are immutable)."""
    return dict(_catalog())


def get_profile(spec: Any, where: str = "profile") -> Profile:
    """A profile from a shipped name (``"pnc"``), an inline dict, or a :class:`Profile`."""
    if isinstance(spec, Profile):
        return spec
    if isinstance(spec, str):
        cat = _catalog()
        if spec not in cat:
            raise InvalidInstance(where, f"unknown profile {spec!r} (shipped: {', '.join(sorted(cat))})")
        return cat[spec]
    return Profile.from_dict(spec, where)


def load_profile(path: str | Path, *, name: str | None = None, kind: str | None = None,
                 metric: str | None = None, **meta: Any) -> Profile:
    """Load a user profile from JSON (one profile object) or CSV.

    CSV columns: ``bytes,accuracy`` (kind ``bytes``) or ``feature_bytes,accuracy``
    with a first row ``0,acc_0`` for zero features (kind ``features``). ``name``,
    ``metric`` (and ``kind`` for CSV) are required for CSV files.
    """
    p = Path(path)
    text = read_text(p, "profile")
    if p.suffix.lower() == ".json":
        d = parse_json(text, p, "profile")
        return Profile.from_dict(d, str(p.name))
    rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise InvalidInstance("profile", f"{str(p)!r} has no data rows")
    if name is None or metric is None or kind is None:
        raise InvalidInstance("profile", "a CSV profile needs name=, kind= and metric=")

    def col(r: dict, c: str, i: int) -> float:
        if c not in r:
            raise InvalidInstance(f"{p.name}:{c}", f"missing column (have {', '.join(r)})")
        try:
            return float(r[c])
        except (TypeError, ValueError):
            raise InvalidInstance(f"{p.name}:{c}[{i}]", f"not a number: {r[c]!r}") from None

    d: dict[str, Any] = {"name": name, "kind": kind, "metric": metric, **meta}
    if kind == "features":
        fb = [col(r, "feature_bytes", i) for i, r in enumerate(rows)]
        if fb[0] != 0:
            raise InvalidInstance(f"{p.name}:feature_bytes[0]", "first row must be 0 (zero features)")
        d["unit_bytes"] = fb[1:]
        d["accuracy"] = [col(r, "accuracy", i) for i, r in enumerate(rows)]
    elif kind == "bytes":
        d["points"] = [[col(r, "bytes", i), col(r, "accuracy", i)] for i, r in enumerate(rows)]
    else:
        raise InvalidInstance("kind", f"CSV profiles are 'features' or 'bytes', got {kind!r}")
    return Profile.from_dict(d, str(p.name))


def chance_top_n(n: int, classes: int) -> float:
    """Chance-level top-n reward: ``n / classes``."""
    return min(1.0, n / classes)


__all__ = ["Profile", "catalog", "get_profile", "load_profile", "check_same_metric", "data_bytes", "size_factors",
           "BLOCK_BYTES", "BLOCK_PAYLOAD", "UNIT_OVERHEAD", "KB", "chance_top_n"]

