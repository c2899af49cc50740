"""Size limits checked before anything is allocated (issue #14, item 6; docs/validation.md).

Every limit has a default chosen so that an accepted instance fits comfortably in memory and in
the solvers' number types (see ``docs/validation.md`` for the derivation). A file asking for more
is rejected with :class:`~optoffload.errors.InvalidInstance` naming the field, the value and the
way to raise the limit. Raise a limit

* for one process: ``OPTOFFLOAD_MAX_IMAGES=5000000 optoffload solve ...`` (the environment
  variable is ``OPTOFFLOAD_`` + the upper-case name, read when the limit is checked), or
* in Python: ``oo.limits.max_images = 5_000_000``, or temporarily
  ``with oo.limits.raised(max_images=5_000_000): ...``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from .errors import InvalidInstance

DEFAULTS: dict[str, int] = {
    # generic
    "max_file_bytes": 1 << 30,          # a user JSON/CSV file (1 GiB)
    "max_json_depth": 64,               # nesting of arrays/objects in a JSON file
    # picsys
    "max_images": 1_000_000,            # images of one instance, over all devices
    "max_devices": 100_000,             # devices of one instance
    "max_servers": 1_000_000,           # cloud servers S
    # erds
    "max_tasks": 1_000,                 # tasks U
    "max_exits": 1_000,                 # exits K
    "max_exit_sequence": 10_000_000,    # entries of exit_sequence (= rounds x tasks)
    # dnn (ERDS's max_tasks / max_exits apply too)
    "max_layers": 100_000,              # layers of one DNN task
    "max_dnn_layers": 1_000_000,        # layers over all tasks of one instance
    # progressive
    "max_trace_samples": 1_000_000,     # samples of a bandwidth trace (read or generated)
    "max_slots": 100_000,               # airtime slots
    "max_cells": 5_000_000,             # devices x (slots + 1) utility table entries
    "max_chunks": 100_000,              # chunks of an ordering problem
    "max_sim_images": 1_000_000,        # images replayed per trace (n_images)
}


class Limits:
    """The active size limits: attributes named as in :data:`DEFAULTS`."""

    def __init__(self) -> None:
        object.__setattr__(self, "_set", {})

    def __getattr__(self, name: str) -> int:
        if name not in DEFAULTS:
            raise AttributeError(f"no limit named {name!r} (known: {', '.join(DEFAULTS)})")
        if name in self._set:
            return self._set[name]
        env = os.environ.get("OPTOFFLOAD_" + name.upper())
        if env is not None:
            try:
                v = int(float(env))
            except ValueError:
                raise InvalidInstance("OPTOFFLOAD_" + name.upper(), f"must be an integer, got {env!r}") from None
            if v < 1:
                raise InvalidInstance("OPTOFFLOAD_" + name.upper(), f"must be >= 1, got {env!r}")
            return v
        return DEFAULTS[name]

    def __setattr__(self, name: str, value: int) -> None:
        if name not in DEFAULTS:
            raise AttributeError(f"no limit named {name!r} (known: {', '.join(DEFAULTS)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"limits.{name} must be an integer >= 1, got {value!r}")
        self._set[name] = value

    def reset(self) -> None:
        """Forget values set in Python (environment variables still apply)."""
        self._set.clear()

    @contextmanager
    def raised(self, **values: int) -> Iterator["Limits"]:
        """Temporarily set limits: ``with oo.limits.raised(max_images=10**7): ...``."""
        old = dict(self._set)
        try:
            for k, v in values.items():
                setattr(self, k, v)
            yield self
        finally:
            self._set.clear()
            self._set.update(old)

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in DEFAULTS}

    def __repr__(self) -> str:
        return f"Limits({self.as_dict()})"


limits = Limits()


def check(name: str, value: int, field: str, what: str = "") -> None:
    """Raise ``InvalidInstance(field)`` when ``value`` exceeds the limit ``name``."""
    lim = getattr(limits, name)
    if value > lim:
        raise InvalidInstance(field, f"{what or 'size'} {value:,} exceeds the limit {lim:,} ({name}; raise it with "
                                     f"OPTOFFLOAD_{name.upper()}=N or oo.limits.{name} = N)")
