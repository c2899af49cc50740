"""Load exit statistics from the seed's training outputs (erds.md 0 and 1.2).

``train_model_for_ERDS.py`` stores, per test image, the exit it left at and the time per block.
:func:`load_exit_stats` reads that information from

* JSON: ``{"counts": [...]}`` (images per exit), ``{"exits": [...]}`` (one exit 1..K per image)
  or ``{"probabilities": [...]}``; optional ``"times"`` (per image x block, or per block);
* CSV: a header row, then either columns ``exit,count`` (one row per exit) or a column
  ``exit`` with one row per image; optional ``time_b0 .. time_bK`` columns per image;
* NPZ: arrays ``counts`` / ``exits`` / ``probabilities`` and optional ``times``, read with
  ``np.load(allow_pickle=False)``;
* pickle (``.pkl``): only with ``allow_pickle=True``, since unpickling runs arbitrary code.
  The object may be a list of per-image exits, a list of K counts or a dict as in JSON.

Exits are numbered 1..K as in the paper. Errors raise ``InvalidInstance`` naming the file and field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInstance


@dataclass(frozen=True)
class ExitStats:
    """Exit statistics: ``counts[k-1]`` images left at exit k; ``exits`` the per-image sequence
    when known; ``block_times`` the mean time per block (not used by the optimisation, erds.md 1.2)."""

    counts: np.ndarray
    exits: np.ndarray | None = None
    block_times: np.ndarray | None = None

    @property
    def K(self) -> int:
        return int(len(self.counts))

    @property
    def probabilities(self) -> np.ndarray:
        return self.counts / self.counts.sum()


def _from_obj(obj: Any, where: str, K: int | None) -> ExitStats:
    if isinstance(obj, dict):
        keys = {"counts", "exits", "probabilities", "times", "K"}
        unknown = sorted(set(obj) - keys)
        if unknown:
            raise InvalidInstance(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(keys))})")
        K = obj.get("K", K)
        given = [k for k in ("counts", "exits", "probabilities") if obj.get(k) is not None]
        if len(given) != 1:
            raise InvalidInstance(where, f"needs exactly one of counts, exits, probabilities; got {given}")
        key = given[0]
        times = obj.get("times")
    else:
        arr = np.asarray(obj)
        key = "exits" if (K is None or arr.size != K) and arr.size > 0 and arr.ndim == 1 and arr.size > 10 else "counts"
        obj, times = {key: obj}, None
    try:
        arr = np.asarray(obj[key], dtype=float)
    except (TypeError, ValueError):
        raise InvalidInstance(f"{where}.{key}", "must be an array of numbers") from None
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise InvalidInstance(f"{where}.{key}", f"must be a non-empty 1-D array of finite numbers, got shape {arr.shape}")
    exits = None
    if key == "exits":
        if np.any(arr != np.round(arr)) or arr.min() < 1:
            raise InvalidInstance(f"{where}.exits", "exits must be integers >= 1 (numbered 1..K)")
        exits = arr.astype(int)
        K = int(K or exits.max())
        if exits.max() > K:
            raise InvalidInstance(f"{where}.exits", f"exit {exits.max()} exceeds K = {K}")
        counts = np.bincount(exits - 1, minlength=K).astype(float)
    else:
        if np.any(arr < 0):
            raise InvalidInstance(f"{where}.{key}", f"must be >= 0, got {arr.min()!r}")
        if key == "probabilities" and abs(arr.sum() - 1) > 1e-6:
            raise InvalidInstance(f"{where}.probabilities", f"must sum to 1, got {arr.sum()!r}")
        counts = arr
        if K is not None and len(counts) != K:
            raise InvalidInstance(f"{where}.{key}", f"must have length K = {K}, got {len(counts)}")
    if counts.sum() <= 0:
        raise InvalidInstance(f"{where}.{key}", "no image exits anywhere (all counts are 0)")
    bt = None
    if times is not None:
        t = np.asarray(times, dtype=float)
        if not np.all(np.isfinite(t)) or np.any(t < 0) or t.ndim not in (1, 2):
            raise InvalidInstance(f"{where}.times", "must be finite, >= 0, per block or per image x block")
        bt = t if t.ndim == 1 else t.mean(axis=0)
    return ExitStats(counts=counts, exits=exits, block_times=bt)


def _read_csv(path: Path, K: int | None) -> ExitStats:
    from ..validate import read_text

    rows = list(csv.DictReader(read_text(path, str(path)).splitlines()))  # columns by name
    if not rows:
        raise InvalidInstance(str(path), "CSV has no data rows")
    cols = set(rows[0])
    try:
        if {"exit", "count"} <= cols:
            ex = [int(r["exit"]) for r in rows]
            K = K or max(ex)
            counts = np.zeros(K)
            for e, r in zip(ex, rows):
                if not 1 <= e <= K:
                    raise InvalidInstance(f"{path}.exit", f"exit {e} outside 1..{K}")
                counts[e - 1] += float(r["count"])
            return _from_obj({"counts": counts.tolist()}, str(path), K)
        if "exit" in cols:
            tcols = sorted((c for c in cols if c.startswith("time_b")), key=lambda c: int(c[6:]))
            d: dict = {"exits": [int(r["exit"]) for r in rows]}
            if tcols:
                d["times"] = [[float(r[c]) for c in tcols] for r in rows]
            return _from_obj(d, str(path), K)
    except ValueError as exc:
        raise InvalidInstance(str(path), f"bad number in CSV: {exc}") from None
    raise InvalidInstance(str(path), "CSV needs columns exit,count or a per-image exit column")


def load_exit_stats(path: str | Path, *, K: int | None = None, allow_pickle: bool = False) -> ExitStats:
    """Read exit statistics from JSON, CSV, NPZ (or pickle with ``allow_pickle=True``)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInstance("path", f"no such file {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".json":
        from ..validate import parse_json, read_text

        obj = parse_json(read_text(path, str(path)), path, str(path))
        return _from_obj(obj, str(path), K)
    if suffix == ".csv":
        return _read_csv(path, K)
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                obj = {k: z[k] for k in z.files}
        except ValueError as exc:  # object arrays need pickle: refused
            raise InvalidInstance(str(path), f"cannot read NPZ without pickle: {exc}") from None
        return _from_obj(obj, str(path), K)
    if suffix in (".pkl", ".pickle"):
        if not allow_pickle:
            raise InvalidInstance(str(path), "refusing to unpickle (pass allow_pickle=True if you trust the file)")
        import pickle

        with path.open("rb") as fh:
            obj = pickle.load(fh)  # noqa: S301 - explicit opt-in above
        return _from_obj(obj, str(path), K)
    raise InvalidInstance(str(path), f"unknown exit-statistics format {suffix!r} (json, csv, npz, pkl)")
