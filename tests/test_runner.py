"""The benchmark runner: rows written as tasks finish, --resume skips finished rows."""

import json

import optoffload.benchmarks.runner as runner
from optoffload.benchmarks.suite import Suite

CALLS = []


def _run(task):
    return {"square": task["x"] ** 2}


def _tasks(quick):
    return [{"id": f"x{i}", "x": i, "seed": i} for i in range(3 if quick else 6)]


SUITE = Suite("toy", "toy suite", _tasks, _run, None)


def test_resume_skips_finished_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "discover", lambda: {"toy": SUITE})
    out = tmp_path / "toy"
    # first a "killed" run: only quick tasks x0..x2 done, then a torn half line
    assert runner.run_suite("toy", out=out, quick=True, echo=False) == 0
    with (out / "rows.jsonl").open("a") as fh:
        fh.write('{"id": "x3", "squ')
    seen = []

    def counting(task):
        seen.append(task["id"])
        return _run(task)

    monkeypatch.setattr(runner, "discover", lambda: {"toy": Suite("toy", "", _tasks, counting, None)})
    assert runner.run_suite("toy", out=out, resume=True, echo=False) == 0
    assert seen == ["x3", "x4", "x5"]  # x0..x2 were not recomputed; the torn x3 line was
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == [f"x{i}" for i in range(6)]
    assert all(r["square"] == r["x"] ** 2 and r["seed"] == r["x"] for r in rows)


def test_failed_task_becomes_error_row_and_nonzero_status(tmp_path, monkeypatch):
    def boom(task):
        if task["x"] == 1:
            raise ValueError("bad x")
        return _run(task)

    monkeypatch.setattr(runner, "discover", lambda: {"toy": Suite("toy", "", _tasks, boom, None)})
    assert runner.run_suite("toy", out=tmp_path, quick=True, echo=False) == 1
    rows = runner.read_rows(tmp_path / "rows.jsonl")
    assert [r.get("error") for r in rows if r["id"] == "x1"] == ["ValueError: bad x"]


def test_picsys_sim_quick_suite_runs(tmp_path):
    """Smoke: the real picsys-sim suite runs end to end and reports the same makespan on every path."""
    assert runner.run_suite("picsys-sim", out=tmp_path, quick=True, echo=False) == 0
    rows = runner.read_rows(tmp_path / "rows.jsonl")
    assert len(rows) == 9 and all(r["images"] == 2000 for r in rows)
    assert all(r["identical"] for r in rows if r["path"] == "event-loop")  # batched == reference loop
    for policy in ("all-device", "all-cloud"):
        ms = [r["makespan"] for r in rows if r["policy"] == policy]
        assert max(ms) - min(ms) <= 1e-9 * max(ms)
    assert (tmp_path / "report.md").read_text().startswith("# picsys-sim")


def test_resume_matches_full_parameters_not_ids(tmp_path, monkeypatch):
    """Issue #14 item 2: quick and full tasks share an id with different parameters; a resume must
    rerun the task whose parameters differ (expected: by hand, x1 quick has n=10, full n=1000)."""
    def tasks(quick):
        return [{"id": "x0", "n": 5}, {"id": "x1", "n": 10 if quick else 1000}]

    seen = []

    def run(task):
        seen.append(task["id"])
        return {"total": task["n"] * 2}

    monkeypatch.setattr(runner, "discover", lambda: {"toy": Suite("toy", "", tasks, run, None)})
    out = tmp_path / "toy"
    assert runner.run_suite("toy", out=out, quick=True, echo=False) == 0
    seen.clear()
    assert runner.run_suite("toy", out=out, resume=True, echo=False) == 0
    assert seen == ["x1"]  # x0 has the same parameters in both modes and is kept
    rows = {r["id"]: r for r in (json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines())}
    assert rows["x1"]["n"] == 1000 and rows["x1"]["total"] == 2000
    seen.clear()  # and back: the full row of x1 must not stand in for the quick task
    assert runner.run_suite("toy", out=out, quick=True, resume=True, echo=False) == 0
    assert seen == ["x1"]
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert sorted((r["id"], r["n"]) for r in rows) == [("x0", 5), ("x1", 10)]


def test_resume_reads_rows_written_before_task_keys(tmp_path, monkeypatch):
    """Rows without ``task_key`` (older runs) match when every task field agrees."""
    def tasks(quick):
        return [{"id": "a", "n": 1}, {"id": "b", "n": 2}]

    seen = []

    def run(task):
        seen.append(task["id"])
        return {"v": task["n"]}

    monkeypatch.setattr(runner, "discover", lambda: {"toy": Suite("toy", "", tasks, run, None)})
    out = tmp_path / "toy"
    out.mkdir()
    (out / "rows.jsonl").write_text(json.dumps({"id": "a", "n": 1, "v": 1}) + "\n"
                                    + json.dumps({"id": "b", "n": 3, "v": 3}) + "\n")
    assert runner.run_suite("toy", out=out, resume=True, echo=False) == 0
    assert seen == ["b"]
