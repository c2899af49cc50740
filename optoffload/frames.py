"""pandas views of result rows: ``oo.compare`` rows and a benchmark's ``rows.jsonl``.

::

    import optoffload as oo
    from optoffload.frames import to_frame, read_rows
    df = oo.compare("picsys/table2", frame=True)            # one row per method
    runs = to_frame("bench-out/erds-paper/rows.jsonl")       # one row per benchmark row

pandas is imported only by these functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a ``rows.jsonl`` (a torn last line, from a killed run, is skipped)."""
    rows = []
    p = Path(path)
    if p.is_dir():
        p = p / "rows.jsonl"
    from .errors import InvalidInstance

    if not p.is_file():
        raise InvalidInstance("rows", f"no such file {str(p)!r}")
    with p.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def to_frame(rows: Iterable[dict] | str | Path, *, drop: tuple[str, ...] = ("traceback",)) -> Any:
    """A DataFrame of ``rows`` (dicts, e.g. from :func:`optoffload.compare`) or of a
    ``rows.jsonl`` path (or its benchmark output folder). Columns are the union of the rows'
    keys in first-seen order, minus ``drop``; nested values (lists, dicts) stay Python objects."""
    import pandas as pd

    if isinstance(rows, (str, Path)):
        rows = read_rows(rows)
    rows = list(rows)
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols and k not in drop:
                cols.append(k)
    return pd.DataFrame([{k: r.get(k) for k in cols} for r in rows], columns=cols)
