"""Smoke tests of the progressive benchmark suites (quick sizes) and the testbed acceptance claim."""

import pytest

from optoffload.benchmarks.progressive import gap as progressive_gap, pnc as pnc_suites
from optoffload.benchmarks.runner import run_suite


def test_testbed_pnc_beats_every_non_progressive_codec():
    """PNC section VII-C / Fig. 6: PNC's accuracy >= WebP q0/10/20 in every scenario and period (200 images per
    cell, synthetic traces). Fixed-K AEs (Fig. 2 only, not in the testbed) may beat PNC where they always fit, by
    at most Fig. 2's margin at a design size (K=2: 69.62 vs 67.51 %, i.e. 2.1 pp)."""
    rows = [{**t, **pnc_suites._testbed_run(t)} for t in pnc_suites._testbed_tasks(True)]
    for s in pnc_suites.SCEN:
        for T in pnc_suites.PERIODS:
            pnc = pnc_suites._cell(rows, s, T, "pnc", "accuracy")
            for c in pnc_suites.TESTBED_CODECS:
                v = pnc_suites._cell(rows, s, T, c, "accuracy")
                if c.startswith("webp"):
                    assert pnc >= v, (s, T, c)
                elif c.startswith("fixed"):
                    assert pnc >= v - 0.025, (s, T, c)
    assert "YES" in pnc_suites._testbed_report(rows, __import__("pathlib").Path("/nonexistent"))


def test_fig2_paper_points():
    """PNC V-F text: K=2 69.62 % vs PNC 67.51 % at 1.5 KB; K=8 86.79 % vs PNC 86.46 % at 5.5 KB (within 1 pp)."""
    got = {}
    for t in pnc_suites._fig2_tasks(False):
        for r in pnc_suites._fig2_run(t):
            got[(t["codec"], r["cap_B"])] = r["accuracy"]
    for cap, codec, paper in pnc_suites.FIG2_PAPER:
        assert got[(codec, cap)] == pytest.approx(paper, abs=0.01)
    assert got[("fixed-k2", 1500)] > got[("pnc", 1500)] - 0.01  # fixed-K is (nearly) best at its design size
    assert got[("fixed-k8", 1500)] < 0.01  # ... and a cliff below it


@pytest.mark.parametrize("suite", ["pnc-fig2", "pnc-switching", "pnc-codec"])
def test_quick_suites_run(tmp_path, suite):
    assert run_suite(suite, out=tmp_path, quick=True, echo=False) == 0
    assert (tmp_path / "report.md").read_text().startswith("# ")


def test_gap_suite_rows():
    t = [x for x in progressive_gap._tasks(True) if x["id"] in ("air-c-3-30-0", "ord-5-0")]
    rows = [{**x, **progressive_gap._run(x)} for x in t]
    assert all(r["exact"] >= r["greedy"] - 1e-12 for r in rows)
    assert rows[0]["gap"] == pytest.approx(0.0, abs=1e-12)  # concave airtime: greedy optimal
    assert "progressive-gap" in progressive_gap._report(rows, None)
