"""Quantities with units in instance files (issue #14, item 10; docs/validation.md "Units").

A numeric field is in the family's base unit (PicSys: bit/s, bytes, seconds; progressive:
bytes/s, bytes, seconds). A user may instead write a string with a unit, e.g.
``"rate": "20 Mbit/s"``, ``"size": "800 kB"``, ``"alpha": "300 ms"``. Decimal prefixes are powers
of 1000 (``kB`` = 1000 B), binary ones powers of 1024 (``KiB``). A number whose magnitude is
implausible for its field (a PicSys rate of 20 bit/s, probably meant as Mbit/s) raises a
:class:`UnitWarning` (the CLI prints it on stderr as one ``warning:`` line).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from .errors import InvalidInstance


class UnitWarning(UserWarning):
    """A number is valid but implausible for its unit (probably given in another unit)."""


_RATE_BIT = {"bit/s": 1.0, "bps": 1.0, "b/s": 1.0, "kbit/s": 1e3, "kbps": 1e3, "kb/s": 1e3,
             "mbit/s": 1e6, "mbps": 1e6, "mb/s": None, "gbit/s": 1e9, "gbps": 1e9}
# bytes per second (upper-case B); "Mb/s" is ambiguous and refused
_RATE_BYTE = {"B/s": 8.0, "kB/s": 8e3, "KB/s": 8e3, "MB/s": 8e6, "GB/s": 8e9, "KiB/s": 8 * 1024.0,
              "MiB/s": 8 * 1024.0 ** 2, "GiB/s": 8 * 1024.0 ** 3}
_BYTES = {"B": 1.0, "byte": 1.0, "bytes": 1.0, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1024.0,
          "MiB": 1024.0 ** 2, "GiB": 1024.0 ** 3, "bit": 1 / 8, "bits": 1 / 8, "kbit": 1e3 / 8, "Mbit": 1e6 / 8}
_SECONDS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0, "h": 3600.0}

_NUM = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d].*?)?\s*$")

KINDS = ("bit/s", "B/s", "bytes", "s")


def _table(kind: str) -> dict[str, float]:
    if kind == "bit/s":
        t = {k: v for k, v in _RATE_BIT.items() if v is not None}
        return {**t, **_RATE_BYTE}
    if kind == "B/s":
        t = {k: v / 8 for k, v in _RATE_BYTE.items()}
        t.update({k: v / 8 for k, v in _RATE_BIT.items() if v is not None})
        return t
    if kind == "bytes":
        return _BYTES
    if kind == "s":
        return _SECONDS
    raise ValueError(f"unknown unit kind {kind!r}")


def parse_quantity(value: Any, field: str, kind: str) -> Any:
    """``value`` in the base unit ``kind``: numbers pass through, ``"20 Mbit/s"`` is converted.

    Raises :class:`InvalidInstance` naming ``field`` for a string that is not a number with a
    known unit of this kind.
    """
    if not isinstance(value, str):
        return value
    m = _NUM.match(value)
    if not m:
        raise InvalidInstance(field, f"expected a number or a number with a unit, got {value[:40]!r}")
    num, unit = float(m.group(1)), (m.group(2) or "").strip()
    table = _table(kind)
    if not unit:
        return num
    factor = table.get(unit)
    if factor is None and kind in ("bit/s", "B/s"):
        low = unit.lower()
        if low == "mb/s":
            raise InvalidInstance(field, f"unit {unit!r} is ambiguous: write Mbit/s (megabits) or MB/s (megabytes)")
        factor = {k.lower(): v for k, v in table.items() if k.lower() not in ("mb/s", "kb/s", "gb/s")}.get(low)
    if factor is None:
        raise InvalidInstance(field, f"unknown unit {unit!r} for a value in {kind} (known: {', '.join(table)})")
    return num * factor


def warn_if(cond: bool, field: str, message: str) -> None:
    """Issue a :class:`UnitWarning` ``"field: message"`` when ``cond`` holds."""
    if cond:
        warnings.warn(f"{field}: {message}", UnitWarning, stacklevel=3)
