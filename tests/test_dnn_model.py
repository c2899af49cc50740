"""dnn data model: validation naming the field, JSON round trip, decisions, CLI errors."""

import copy
import json
import subprocess
import sys

import pytest

import optoffload as oo
from optoffload.dnn import DnnInstance, evaluate
from optoffload.dnn.generate import generate


def _base():
    return generate(seed=1, tasks=2, nodes=5, exits=2).to_dict()


def _edit(fn):
    d = copy.deepcopy(_base())
    fn(d)
    return d


def _cycle(d):  # n1 reads n4, n4 (transitively) reads n1
    d["tasks"][0]["nodes"][1]["inputs"].append("n4")


def _isolated(d):  # a layer that no exit needs
    d["tasks"][1]["nodes"].append({"name": "dead", "inputs": ["n0"], "edge_s": 1, "cloud_s": 1, "out_bytes": 1})


@pytest.mark.parametrize("fn, field", [
    (_cycle, "tasks[0].nodes"),
    (_isolated, "tasks[1].nodes[5]"),
    (lambda d: d["tasks"][0]["exits"][0].update(node="nope"), "tasks[0].exits[0].node"),
    (lambda d: d["tasks"][0]["exits"][0].update(prob=d["tasks"][0]["exits"][0]["prob"] + 0.2), "tasks[0].exits"),
    (lambda d: d["tasks"][1]["nodes"][2].update(out_bytes=-5), "tasks[1].nodes[2].out_bytes"),
    (lambda d: d["tasks"][1]["nodes"][2].update(edge_s=-1), "tasks[1].nodes[2].edge_s"),
    (lambda d: d["tasks"][0]["nodes"][3].update(inputs=["ghost"]), "tasks[0].nodes[3].inputs[0]"),
    (lambda d: d["tasks"][0]["nodes"][3].update(inputs=[]), "tasks[0].nodes"),  # two sources
    (lambda d: d["tasks"][0]["nodes"][2].update(name="n1"), "tasks[0].nodes[2].name"),
    (lambda d: d["tasks"][0].update(link_bps=0), "tasks[0].link_bps"),
    (lambda d: d.update(w_min=0.6), "w_min"),
    (lambda d: d.update(objective="mean"), "objective"),
    (lambda d: d["tasks"][0]["nodes"][1].update(edge_sec=1), "tasks[0].nodes[1].edge_sec"),
    (lambda d: d["tasks"][0]["nodes"][1].update(work=5), "tasks[0].nodes[1]"),  # work and times both
])
def test_bad_input_names_the_field(fn, field):
    with pytest.raises(oo.InvalidInstance) as e:
        DnnInstance.from_dict(_edit(fn))
    assert e.value.field.startswith(field), (e.value.field, str(e.value))


def test_cycle_error_mentions_cycle():
    with pytest.raises(oo.InvalidInstance, match="cycle"):
        DnnInstance.from_dict(_edit(_cycle))


def test_json_round_trip_and_load(tmp_path):
    inst = generate(seed=4, tasks=3, nodes=7, exits=3)
    d = inst.to_dict()
    again = DnnInstance.from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d
    p = tmp_path / "i.json"
    p.write_text(json.dumps(d))
    assert oo.load(str(p)).to_dict() == d


def test_work_and_speeds_give_times():
    # work 2e9 MAC on an edge of 1e9 MAC/s = 2 s; on a 4e9 MAC/s cloud = 0.5 s
    d = {"format": 1, "family": "dnn", "tasks": [{
        "link_bps": 1e6, "work_unit": "MAC", "edge_speed": 1e9, "cloud_speed": 4e9,
        "nodes": [{"name": "x", "work": 0, "out_bytes": 10}, {"name": "y", "inputs": ["x"], "work": 2e9, "out_bytes": 1}],
        "exits": [{"node": "y", "prob": 1}]}]}
    t = DnnInstance.from_dict(d).tasks[0]
    assert t.edge_s.tolist() == [0.0, 2.0] and t.cloud_s.tolist() == [0.0, 0.5]
    assert DnnInstance.from_dict(json.loads(json.dumps(DnnInstance.from_dict(d).to_dict()))).tasks[0].work.tolist() == [0, 2e9]


def test_decisions_are_checked():
    inst = generate(seed=2, tasks=2, nodes=5, exits=2)
    t0, t1 = inst.tasks
    ok = {"splits": [[t0.names[0]], list(t1.names)], "shares": [0.3, 0.3]}
    assert evaluate(inst, ok) > 0
    for bad, field in [
        ({"splits": [[t0.names[1]], list(t1.names)], "shares": [0.3, 0.3]}, "decisions.splits[0]"),  # no source
        ({"splits": [[t0.names[0], "zz"], list(t1.names)], "shares": [0.3, 0.3]}, "decisions.splits[0][1]"),
        ({"splits": [[t0.names[0]], list(t1.names)], "shares": [0.8, 0.3]}, "decisions.shares"),
        ({"splits": [[t0.names[0]], list(t1.names)], "shares": [0.3, 0.01]}, "decisions.shares[1]"),
    ]:
        with pytest.raises(oo.InvalidInstance) as e:
            evaluate(inst, bad)
        assert e.value.field == field
    # not closed: a node without its input
    v = next(i for i in range(1, t0.n) if t0.preds[i] != (0,))
    with pytest.raises(oo.InvalidInstance, match="closed"):
        evaluate(inst, {"splits": [[t0.names[0], t0.names[v]], list(t1.names)], "shares": [0.3, 0.3]})


def test_cli_bad_instance_exit_2_one_line(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(_edit(_cycle)))
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", str(p), "--method", "dnn-heuristic"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "tasks[0].nodes" in r.stderr and "Traceback" not in r.stderr


def test_cli_solve_and_verify(tmp_path):
    p = tmp_path / "i.json"
    p.write_text(json.dumps(generate(seed=5, tasks=2, nodes=6, exits=2).to_dict()))
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", str(p), "--method", "dnn-exact", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sol = json.loads(r.stdout)
    assert sol["status"] == "optimal"
    s = tmp_path / "s.json"
    s.write_text(r.stdout)
    r2 = subprocess.run([sys.executable, "-m", "optoffload", "verify", str(p), str(s)], capture_output=True, text=True)
    assert r2.returncode == 0, r2.stderr


@pytest.mark.parametrize("args,field", [
    (["--tasks", "100000000"], "tasks"),      # > max_tasks (1,000): rejected before any task is built
    (["--nodes", "100000000"], "nodes"),      # > max_layers (100,000)
    (["--tasks", "1000", "--nodes", "5000"], "nodes"),  # 5 M layers > max_dnn_layers (1 M)
    (["--exits", "100000000"], "exits"),      # > max_exits (1,000)
    (["--exits", "9", "--nodes", "5"], "exits"),  # more heads than non-input layers
    (["--max-inputs", "0"], "max_inputs"),
])
def test_generate_sizes_checked_before_building(tmp_path, args, field):
    """Each case once ran for minutes or was clipped silently; now exit 2 naming the field, run under a
    3 GB address-space cap (the generator never starts building)."""
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    r = subprocess.run([sys.executable, "-m", "optoffload", "generate", "dnn", *args, "-o", str(tmp_path / "x.json")],
                       capture_output=True, text=True, timeout=120, preexec_fn=cap)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), r.stderr
    assert not (tmp_path / "x.json").exists()


def test_instance_layer_limit_names_the_field():
    from optoffload.dnn import DnnInstance

    t = {"name": "t", "nodes": [{"name": f"n{i}", "inputs": [f"n{i - 1}"] if i else [], "edge_s": 0.1,
                                 "cloud_s": 0.05, "out_bytes": 10.0} for i in range(30)],
         "exits": [{"node": "n29", "prob": 1.0}], "link_bps": 1e6}
    with oo.limits.raised(max_layers=20):
        with pytest.raises(oo.InvalidInstance, match=r"^tasks\[0\]\.nodes"):
            DnnInstance.build([t])
    assert DnnInstance.build([t]).U == 1
