"""ERDS benchmark suites: quick task lists, a paper row set, the report and its .mat export."""

import numpy as np
from scipy.io import loadmat

from optoffload.benchmarks.erds.suites import SUITES


def test_suites_quick_tasks_have_seeds_and_unique_ids():
    """Every quick task records its seed; ids are unique (the runner's resume key)."""
    for name in ("erds-paper", "erds-gap", "erds-scale"):
        tasks = SUITES[name].tasks(True)
        assert tasks and len({t["id"] for t in tasks}) == len(tasks)
        assert all("seed" in t for t in tasks)


def test_paper_report_and_mat_export(tmp_path):
    """One original-scenario task per evaluator; the report shows the paper's 81.60 beside ours and
    the .mat file holds methods x levels matrices (paper values from erds.md 5.2)."""
    suite = SUITES["erds-paper"]
    rows = []
    for ev in ("sampled", "exact"):
        task = {"id": f"original-0-u3-{ev}", "scenario": "original", "level": 0, "U": 3, "evaluator": ev,
                "seed": 1, "max_iter": 50}
        rows += [{**task, **r} for r in suite.run(task)]
    md = suite.report(rows, tmp_path)
    assert "81.60 / 81.60" in md  # Edgent-E: paper / ours (sampled)
    m = loadmat(tmp_path / "erds_paper.mat")
    assert m["original_paper"].shape == (10, 1)
    assert np.nanmin(m["original_exact"]) > 77.7  # the exact optimum is 77.78 (erds.md 5.3)
    assert (tmp_path / "erds_paper.png").is_file()
