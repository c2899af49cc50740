"""Helpers for users' own test suites (docs/gap.md, "Gate it inside pytest").

::

    from optoffload.testing import assert_gap

    def test_my_heuristic_stays_close_to_the_optimum():
        assert_gap("picsys", "mypkg.heuristics:my_policy", reference="cpsat",
                   generate="small", seeds=20, max_mean=0.5, max_worst=2.0,
                   cache="tests/reference-cache.json")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["assert_gap"]


def assert_gap(family: str, method: Any, *, reference: str = "auto", instances: Any = None,
               generate: Any = None, seeds: int | None = None, max_mean: float | None = None,
               max_worst: float | None = None, time_limit: float | None = None,
               cache: str | Path | None = None, out: str | Path | None = None) -> dict:
    """Assert that ``method``'s gap to ``reference`` stays within the thresholds.

    ``method`` is a registered name, a ``"module:function"`` string or a callable; the instances
    are ``instances`` (a folder of JSON files, one file, or a list of instances/paths) or
    ``generate`` (a preset name, ``"KEY=VALUE,..."`` or a dict of generator options) with
    ``seeds`` seeds. The gap is :func:`optoffload.gap.gap` (``objective/reference - 1`` when
    minimizing). ``cache`` keeps the reference results between runs (commit the file so that CI
    does not re-solve them). Raises ``AssertionError`` naming every failed gate, or the method's
    error rows; returns the method's summary (``n``, ``mean``, ``median``, ``worst``,
    ``share_optimal``, ``errors``, ...).
    """
    from . import gap as G

    max_mean = G.check_threshold("max_mean", max_mean)
    max_worst = G.check_threshold("max_worst", max_worst)
    res = G.run_gap(family, [method], reference=reference, instances=instances, generate=generate, seeds=seeds,
                    time_limit=time_limit, out=out, cache=cache, plot_figure=out is not None)
    results = G.gates(res.summary, max_mean_gap=max_mean, max_worst_gap=max_worst,
                      reference_errors=res.reference_errors)
    failed = [g for g in results if not g.passed]
    if failed:
        errs = [r["error"] for r in res.rows if r.get("error")][:3]
        detail = f" (first errors: {'; '.join(errs)})" if errs else ""
        raise AssertionError("; ".join(g.message for g in failed) + detail)
    summary: dict = res.summary["methods"][G.method_label(family, method)]
    return summary
