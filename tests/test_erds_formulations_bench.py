"""The erds-formulations benchmark suite: task list and a small report (no timing asserted)."""

from optoffload.benchmarks.erds.formulations import SUITES, _run


def test_quick_tasks_have_seeds_and_unique_ids():
    tasks = SUITES["erds-formulations"].tasks(True)
    assert tasks and len({t["id"] for t in tasks}) == len(tasks)
    assert all("seed" in t for t in tasks)
    assert {t["kind"] for t in tasks} == {"time", "grid", "build", "limit"}


def test_rows_and_report(tmp_path):
    tasks = [{"id": "t", "kind": "time", "U": 1, "seed": 0, "method": "erds-exact", "options": {}, "time_limit": 20},
             {"id": "g", "kind": "grid", "instance": "erds/paper-u1", "resolutions": [0.1], "seed": 0},
             {"id": "b", "kind": "build", "layer": "cpsat", "devices": 2, "images": 10, "seed": 0},
             {"id": "l", "kind": "limit", "U": 6, "seed": 0, "method": "erds-pyomo", "options": {"solver": "highs"},
              "time_limit": 0.5}]
    rows = []
    for t in tasks:
        rows += [{**t, **r} for r in _run(t)]
    g = next(r for r in rows if r["kind"] == "grid")
    # paper-u1's optimum gives the whole edge to the single task (w = 1, a grid point): no grid error
    assert abs(g["diff"]) <= 1e-9 and g["grid_status"] == "optimal"
    lim = next(r for r in rows if r["kind"] == "limit")
    # U = 6 joint model estimated at ~22 s (budget.model_units): refused at a 0.5 s limit
    assert lim["status"] in ("feasible", "unknown") and lim["path"].startswith("fallback")
    md = SUITES["erds-formulations"].report(rows, tmp_path)
    assert "wall / limit" in md
    assert "erds-formulations" in md and "| 1 |" in md and "cpsat" in md
