"""Small validation helpers: every check names the field and the offending value.

Families use these in their ``from_dict``/``__post_init__`` so that a bad
instance raises :class:`~optoffload.errors.InvalidInstance` with a message like
``devices[2].rate: must be finite and > 0, got -1.0``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidInstance

FORMAT_VERSION = 1
"""The version written into (and required from) every instance JSON's ``format`` field."""

_MISSING = object()


def require(d: Mapping, key: str, where: str = "") -> Any:
    """Return ``d[key]`` or raise ``InvalidInstance`` naming the missing field."""
    field = f"{where}.{key}" if where else key
    if not isinstance(d, Mapping):
        raise InvalidInstance(where or key, f"expected an object, got {type(d).__name__}")
    if key not in d:
        raise InvalidInstance(field, "missing required field")
    return d[key]


def check_keys(d: Mapping, allowed: set[str] | frozenset[str], where: str) -> None:
    """Reject unknown keys (a typo in a field name must not be silently ignored)."""
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise InvalidInstance(f"{where}.{unknown[0]}" if where else unknown[0],
                              f"unknown field (allowed: {', '.join(sorted(allowed))})")


def check_format(d: Mapping, family: str) -> None:
    """Check the ``format`` version and ``family`` tag of an instance dict."""
    fmt = require(d, "format")
    if isinstance(fmt, bool) or fmt != FORMAT_VERSION:
        raise InvalidInstance("format", f"unsupported format version {fmt!r} (this library reads {FORMAT_VERSION})")
    fam = d.get("family", family)
    if fam != family:
        raise InvalidInstance("family", f"expected {family!r}, got {fam!r}")


def as_float(value: Any, field: str, *, min: float | None = None, min_inclusive: bool = True,
             max: float | None = None, max_inclusive: bool = True) -> float:
    """Convert to a finite float in the given range, or raise naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_np_number(value):
        raise InvalidInstance(field, f"must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidInstance(field, f"must be finite, got {x!r}")
    if min is not None and (x < min or (not min_inclusive and x == min)):
        op = ">=" if min_inclusive else ">"
        raise InvalidInstance(field, f"must be {op} {min:g}, got {x!r}")
    if max is not None and (x > max or (not max_inclusive and x == max)):
        op = "<=" if max_inclusive else "<"
        raise InvalidInstance(field, f"must be {op} {max:g}, got {x!r}")
    return x


def positive(value: Any, field: str) -> float:
    """A finite float > 0."""
    return as_float(value, field, min=0.0, min_inclusive=False)


def nonneg(value: Any, field: str) -> float:
    """A finite float >= 0."""
    return as_float(value, field, min=0.0)


def probability(value: Any, field: str) -> float:
    """A float in [0, 1]."""
    return as_float(value, field, min=0.0, max=1.0)


def as_int(value: Any, field: str, *, min: int | None = None, max: int | None = None) -> int:
    """An integer (bools and non-integral floats are rejected) in the given range."""
    if isinstance(value, bool):
        raise InvalidInstance(field, f"must be an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) and not _is_np_int(value):
        raise InvalidInstance(field, f"must be an integer, got {value!r}")
    v = int(value)
    if min is not None and v < min:
        raise InvalidInstance(field, f"must be >= {min}, got {v}")
    if max is not None and v > max:
        raise InvalidInstance(field, f"must be <= {max}, got {v}")
    return v


def as_bit(value: Any, field: str) -> int:
    """0 or 1 (also accepts booleans)."""
    if value is True or value is False:
        return int(value)
    if value in (0, 1) and not isinstance(value, str):
        return int(value)
    raise InvalidInstance(field, f"must be 0 or 1, got {value!r}")


def as_list(value: Any, field: str, *, length: int | None = None, min_length: int = 0) -> list:
    """A JSON array (list/tuple), optionally of an exact or minimum length."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        try:
            import numpy as np

            if isinstance(value, np.ndarray):
                value = value.tolist()
            else:
                raise TypeError
        except (ImportError, TypeError):
            raise InvalidInstance(field, f"must be a list, got {type(value).__name__}") from None
    value = list(value)
    if length is not None and len(value) != length:
        raise InvalidInstance(field, f"must have length {length}, got {len(value)}")
    if len(value) < min_length:
        raise InvalidInstance(field, f"must have at least {min_length} element(s), got {len(value)}")
    return value


def as_str(value: Any, field: str, choices: Sequence[str] | None = None) -> str:
    if not isinstance(value, str):
        raise InvalidInstance(field, f"must be a string, got {value!r}")
    if choices is not None and value not in choices:
        raise InvalidInstance(field, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _is_np_number(v: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(v, (np.integer, np.floating))


def _is_np_int(v: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(v, np.integer)


def read_text(path: Any, field: str) -> str:
    """The UTF-8 text of a user file, or ``InvalidInstance(field)`` saying why it cannot be read."""
    from pathlib import Path

    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInstance(field, f"cannot read {str(p)!r}: {exc}") from None


def parse_json(text: str, path: Any, field: str) -> Any:
    """``json.loads(text)``, or ``InvalidInstance(field)`` naming the file and the JSON error."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInstance(field, f"{str(path)!r} is not valid JSON: {exc}") from None
