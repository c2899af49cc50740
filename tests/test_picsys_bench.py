"""PicSys paper suites through the runner: dask equals local, --resume recomputes nothing finished."""

from __future__ import annotations

import json

import pytest

import optoffload.benchmarks.runner as runner
from optoffload.benchmarks.picsys.paper import SUITES
from optoffload.benchmarks.suite import Suite


def _objectives(path):
    rows = runner.read_rows(path / "rows.jsonl")
    assert rows and not any("error" in r for r in rows)
    return {(r["id"], r["method"]): r["objective"] for r in rows}


def test_every_suite_has_quick_tasks_with_seeds():
    """Each issue #4 suite exists, its quick variant is small, and every task records a seed."""
    names = {"picsys-table2", "picsys-testbed", "picsys-large", "picsys-hetero", "picsys-stages", "picsys-ref25",
             "picsys-tokens", "picsys-energy", "picsys-gap"}
    assert names <= set(SUITES)
    for name in names:
        tasks = SUITES[name].tasks(True)
        assert 0 < len(tasks) <= 40 and all("seed" in t for t in tasks)
    assert len({t["id"] for t in SUITES["picsys-gap"].tasks(False) if t["kind"] == "small"}) >= 200
    large = SUITES["picsys-large"].tasks(False)
    per_point = {}
    for t in large:
        per_point[(t["sweep"], t["x"])] = per_point.get((t["sweep"], t["x"]), 0) + 1
    assert set(per_point.values()) == {100}


@pytest.mark.parametrize("name", ["picsys-table2", "picsys-gap", "picsys-energy", "picsys-tokens"])
def test_quick_suites_run_and_report(tmp_path, name):
    """Quick suites finish without error rows, write a report naming the paper and at least one plot."""
    assert runner.run_suite(name, out=tmp_path, quick=True, echo=False) == 0
    md = (tmp_path / "report.md").read_text()
    assert "paper" in md.lower()
    assert list(tmp_path.glob("*.png"))


def test_gap_quick_never_beats_optimum(tmp_path):
    assert runner.run_suite("picsys-gap", out=tmp_path, quick=True, echo=False) == 0
    rows = [r for r in runner.read_rows(tmp_path / "rows.jsonl") if r["kind"] == "small"]
    assert rows and all(r["gap"] >= -1e-9 for r in rows)


def test_dask_equals_local(tmp_path):
    """`--executor dask --workers 2` gives the same rows as `--executor local` for the same seeds."""
    assert runner.run_suite("picsys-large", out=tmp_path / "local", quick=True, echo=False) == 0
    assert runner.run_suite("picsys-large", out=tmp_path / "dask", quick=True, executor="dask", workers=2,
                            echo=False) == 0
    a, b = _objectives(tmp_path / "local"), _objectives(tmp_path / "dask")
    assert a.keys() == b.keys() and a == b


def test_resume_after_kill_recomputes_nothing_finished(tmp_path, monkeypatch):
    """A sweep killed half way (half the rows, then a torn line) resumes with only the missing tasks."""
    out = tmp_path / "large"
    assert runner.run_suite("picsys-large", out=out, quick=True, echo=False) == 0
    full = _objectives(out)
    lines = (out / "rows.jsonl").read_text().splitlines()
    ids = list(dict.fromkeys(json.loads(x)["id"] for x in lines))
    keep_ids = set(ids[: len(ids) // 2])
    kept = [x for x in lines if json.loads(x)["id"] in keep_ids]
    (out / "rows.jsonl").write_text("\n".join(kept) + "\n" + lines[-1][: len(lines[-1]) // 2])
    seen = []
    base = SUITES["picsys-large"]

    def counting(task):
        seen.append(task["id"])
        return base.run(task)

    monkeypatch.setattr(runner, "discover",
                        lambda: {"picsys-large": Suite("picsys-large", "", base.tasks, counting, base.report)})
    assert runner.run_suite("picsys-large", out=out, quick=True, resume=True, echo=False) == 0
    assert sorted(seen) == sorted(set(ids) - keep_ids)
    assert _objectives(out) == full
