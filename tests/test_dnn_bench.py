"""dnn benchmark suites: task lists, one small task of each suite, the reports and plots."""

from optoffload.benchmarks.dnn.suites import SUITES


def test_quick_tasks_have_seeds_and_unique_ids():
    for name in ("dnn-gap", "dnn-networks", "dnn-scale"):
        tasks = SUITES[name].tasks(True)
        assert tasks and len({t["id"] for t in tasks}) == len(tasks)
        assert all("seed" in t for t in tasks)
        full = SUITES[name].tasks(False)
        assert len({t["id"] for t in full}) == len(full) >= len(tasks)


def test_gap_task_and_report(tmp_path):
    s = SUITES["dnn-gap"]
    task = {"id": "random-u2-s0", "kind": "random", "U": 2, "seed": 0, "nodes": 6, "exits": 2}
    rows = [{**task, **r} for r in s.run(task)]
    ex = rows[0]
    assert ex["method"] == "dnn-exact" and ex["status"] == "optimal"
    assert all(r["objective"] >= ex["objective"] * (1 - 1e-7) for r in rows)
    md = s.report(rows, tmp_path)
    assert "must be 0" in md and "dnn-heuristic" in md


def test_networks_task_report_and_plot(tmp_path):
    s = SUITES["dnn-networks"]
    task = {"id": "resnet18-int8-w1-default", "net": "resnet18", "scen": "int8", "w": 1.0, "probs": "default",
            "points": 3, "seed": 0}
    rows = [{**task, **r} for r in s.run(task)]
    opt = [r for r in rows if r["method"] == "dag-optimum"]
    assert len(opt) == 3
    # the DAG optimum is never slower than any other method at the same bandwidth
    for r in rows:
        o = next(x for x in opt if x["bw_bps"] == r["bw_bps"])
        assert o["expected_s"] <= r["expected_s"] * (1 + 1e-12)
    s.report(rows, tmp_path)
    assert (tmp_path / "dnn_networks_int8.png").is_file() and (tmp_path / "dnn_networks_int8.pdf").is_file()


def test_scale_tasks_run(tmp_path):
    s = SUITES["dnn-scale"]
    rows = []
    for task in [{"id": "mincut-n100", "kind": "mincut", "n": 100, "seed": 0},
                 {"id": "brute-n10", "kind": "brute", "n": 10, "seed": 0, "limit": 10000},
                 {"id": "exact-u2", "kind": "exact", "U": 2, "seed": 0, "time_limit": 10}]:
        rows += [{**task, **r} for r in s.run(task)]
    assert rows[0]["lp_value"] == rows[0]["networkx_value"] or abs(rows[0]["lp_value"] - rows[0]["networkx_value"]) <= 1e-9 * rows[0]["lp_value"]
    assert rows[1]["agree"] is True
    assert rows[2]["status"] == "optimal"
    md = s.report(rows, tmp_path)
    assert "Largest U certified" in md
