"""Progress reports that also work in a CI log.

On a terminal a :class:`Progress` draws a tqdm bar; otherwise (a pipe, a file, a CI log) it
prints one plain line to stderr every ``every`` items or every ``seconds`` seconds, whichever
comes first, plus a last line at the end::

    erds-paper: 12/40 tasks (30%), 1m20s elapsed, ~3m07s left

``enabled``: True (always), False (never), None (only on a terminal). The CLI's
``--progress/--no-progress`` sets it; the default of ``bench`` and ``compare`` is True.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _hms(s: float) -> str:
    s = int(round(max(s, 0.0)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m{sec:02d}s"
    if m:
        return f"{m}m{sec:02d}s"
    return f"{sec}s"


class Progress:
    """Count ``total`` items; report on stderr as a bar (terminal) or as lines (anything else)."""

    def __init__(self, total: int, desc: str, *, unit: str = "task", enabled: bool | None = True,
                 every: int | None = None, seconds: float = 30.0, stream: TextIO | None = None) -> None:
        self.total, self.desc, self.unit = int(total), desc, unit
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty if enabled is None else bool(enabled)
        self.every = every if every is not None else max(1, self.total // 20)
        self.seconds = seconds
        self.done = 0
        self.t0 = time.monotonic()
        self._last_n, self._last_t = 0, self.t0
        self._bar = None
        if self.enabled and tty and self.total > 0:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=self.total, desc=desc, unit=unit, file=self.stream, leave=False)
            except ImportError:  # pragma: no cover
                self._bar = None

    def line(self, note: str = "") -> str:
        """The plain status line: done/total, percentage, elapsed and estimated time left."""
        el = time.monotonic() - self.t0
        pct = 100.0 * self.done / self.total if self.total else 100.0
        left = el / self.done * (self.total - self.done) if self.done else float("nan")
        eta = f"~{_hms(left)} left" if self.done and self.done < self.total else ("done" if self.done >= self.total
                                                                                  else "time left unknown")
        s = f"{self.desc}: {self.done}/{self.total} {self.unit}s ({pct:.0f}%), {_hms(el)} elapsed, {eta}"
        return s + (f" [{note}]" if note else "")

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if self.done - self._last_n >= self.every or now - self._last_t >= self.seconds or self.done >= self.total:
            print(self.line(note), file=self.stream, flush=True)
            self._last_n, self._last_t = self.done, now

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self.done != self._last_n:
            print(self.line(), file=self.stream, flush=True)
