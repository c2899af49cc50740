"""Small validation helpers: every check names the field and the offending value.

Families use these in their ``from_dict``/``__post_init__`` so that a bad
instance raises :class:`~optoffload.errors.InvalidInstance` with a message like
``devices[2].rate: must be finite and > 0, got -1.0``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidInstance

MAX_MAGNITUDE = 1e15
"""Default largest magnitude of any number in an instance, plan or option (docs/validation.md):
sums and products of up to ``limits.max_images`` such values stay far from float overflow, and
times scaled to CP-SAT integers stay below 2**62."""

SEED_MAX = 2**31 - 1
"""Seeds are integers in ``0..SEED_MAX`` for every method and generator (CP-SAT's ``random_seed``
is a 32-bit int; NumPy's ``default_rng`` rejects negative seeds)."""

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
    """Convert to a finite float in the given range, or raise naming ``field``.

    Without an explicit ``max`` the magnitude must be at most :data:`MAX_MAGNITUDE`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_np_number(value):
        raise InvalidInstance(field, f"must be a number, got {_short(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise InvalidInstance(field, f"must be a finite number, got an integer of {len(str(value))} digits") from None
    if max is None and math.isfinite(x) and abs(x) > MAX_MAGNITUDE:
        raise InvalidInstance(field, f"magnitude must be <= {MAX_MAGNITUDE:g}, got {x!r}")
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


def as_int(value: Any, field: str, *, min: int | None = None, max: int | None = None,
           limit: str | None = None) -> int:
    """An integer (bools and non-integral floats are rejected) in the given range.

    ``limit`` names a size limit of :mod:`optoffload.limits` used as ``max``; the message then
    says how to raise it.
    """
    if limit is not None:
        from .limits import check, limits

        max = getattr(limits, limit)
        v = as_int(value, field, min=min)
        check(limit, v, field, "value")
        return v
    if isinstance(value, bool):
        raise InvalidInstance(field, f"must be an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) and not _is_np_int(value):
        raise InvalidInstance(field, f"must be an integer, got {_short(value)}")
    v = int(value)
    if max is None and abs(v) > MAX_MAGNITUDE:
        raise InvalidInstance(field, f"magnitude must be <= {MAX_MAGNITUDE:g}, got {_short(v)}")
    if min is not None and v < min:
        raise InvalidInstance(field, f"must be >= {min}, got {_short(v)}")
    if max is not None and v > max:
        raise InvalidInstance(field, f"must be <= {max}, got {_short(v)}")
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


def _short(value: Any, n: int = 60) -> str:
    """``repr(value)`` cut to ``n`` characters (a 10**400 literal must not flood the message)."""
    try:
        r = repr(value)
    except ValueError:  # an int beyond Python's str conversion limit
        return f"an integer of more than {sys.get_int_max_str_digits()} digits"
    return r if len(r) <= n else r[: n - 3] + "..."


def as_seed(value: Any, field: str = "seed") -> int:
    """A seed: an integer in ``0..SEED_MAX``, the same range for every method and generator."""
    return as_int(value, field, min=0, max=SEED_MAX)


def read_text(path: Any, field: str) -> str:
    """The UTF-8 text of a user file, or ``InvalidInstance(field)`` saying why it cannot be read.

    Files larger than ``limits.max_file_bytes`` are refused before they are read.
    """
    from pathlib import Path

    from .limits import check

    p = Path(path)
    try:
        size = p.stat().st_size
        check("max_file_bytes", size, field, f"file {str(p)!r} of size (bytes)")
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInstance(field, f"{str(p)!r} is not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise InvalidInstance(field, f"cannot read {str(p)!r}: {exc.strerror or exc}") from None


class _DuplicateKey(ValueError):
    pass


class _BadNumber(ValueError):
    pass


def _pairs(pairs: list) -> dict:
    d: dict = {}
    for k, v in pairs:
        if k in d:
            raise _DuplicateKey(k)
        d[k] = v
    return d


def _int(text: str) -> int:
    # a huge literal (10**400) is kept as an int, so that the field's validator rejects it by name;
    # beyond 1,000 digits the conversion itself is refused (quadratic cost)
    if len(text) > 1000:
        raise _BadNumber(text)
    return int(text)


def _depth_ok(obj: Any, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > limit:
            return False
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values() if isinstance(v, (dict, list)))
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o if isinstance(v, (dict, list)))
    return True


def parse_json(text: str, path: Any, field: str) -> Any:
    """Strict ``json.loads``: ``InvalidInstance(field)`` naming the file and the problem.

    Beyond JSON syntax errors it rejects a key repeated in one object (the last would silently
    win), integer literals of more than 1,000 digits, and nesting deeper than
    ``limits.max_json_depth``. Non-finite (``1e400``, ``NaN``) and huge (``10**400``) numbers are
    kept so that the field's own validator rejects them naming the field.
    """
    import json

    from .limits import limits

    where = f"{str(path)!r}"
    try:
        obj = json.loads(text, object_pairs_hook=_pairs, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise InvalidInstance(field, f"{where} is not valid JSON: {exc}") from None
    except _DuplicateKey as exc:
        raise InvalidInstance(field, f"{where}: key {_short(exc.args[0])} appears twice in one object "
                                     "(duplicate JSON keys are rejected)") from None
    except _BadNumber as exc:
        raise InvalidInstance(field, f"{where}: integer literal of {len(exc.args[0])} digits is not "
                                     "representable (at most 1,000)") from None
    except RecursionError:
        raise InvalidInstance(field, f"{where}: JSON nested deeper than {limits.max_json_depth} levels") from None
    except ValueError as exc:  # e.g. Python's int-string conversion limit
        raise InvalidInstance(field, f"{where}: {str(exc).splitlines()[0]}") from None
    if not _depth_ok(obj, limits.max_json_depth):
        raise InvalidInstance(field, f"{where}: JSON nested deeper than {limits.max_json_depth} levels "
                                     "(limit max_json_depth)")
    return obj


def json_default(o: Any) -> Any:
    """``json.dumps(default=...)`` for what the library writes: numpy scalars and arrays, and
    enums (their ``value``). Shared by the CLI's output and the gap command's files."""
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(o, "value"):
        return o.value
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
