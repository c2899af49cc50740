"""ERDS data model: validation naming the field, JSON round trip, named instances, loaders."""

import json

import numpy as np
import pytest

import optoffload as oo
from optoffload.cli import main
from optoffload.erds import ErdsInstance, paper_instance
from optoffload.erds.paper import BASE, PI_RESNET, TR
from optoffload.erds.stats import load_exit_stats


def _base():
    return paper_instance(3).to_dict()


def _bad(**changes):
    d = _base()
    for k, v in changes.items():
        if v is None:
            d.pop(k)
        else:
            d[k] = v
    return d


@pytest.mark.parametrize("changes, field", [
    ({"exit_probs": [0.2, 0.2, 0.2, 0.2, 0.1]}, "exit_probs"),              # sums to 0.9
    ({"exit_probs": [[0.2] * 5, [0.2] * 5, [0.5, 0.5, 0.1, 0, 0]]}, "exit_probs[2]"),
    ({"exit_probs": [1.2, -0.2, 0, 0, 0]}, "exit_probs[0]"),                # outside [0, 1]
    ({"loads": [[1, 2, -4, 6, 8, 10], list(BASE[1]), list(BASE[2])]}, "loads[0][2]"),  # negative load
    ({"transmission": [list(TR[0]), list(TR[1]), [70, 23, -1, 8, 6, 4]]}, "transmission[2][2]"),
    ({"w_min": 0.4}, "w_min"),                                              # 3 x 0.4 > capacity 1
    ({"loads": [], "transmission": []}, "loads"),                           # U = 0
    ({"transmission": [list(TR[0]), list(TR[1])]}, "transmission"),         # 2 rows for 3 tasks
    ({"transmission": [list(TR[0]), list(TR[1]), [70, 23, 16, 8, 6]]}, "transmission[2]"),  # K+1 mismatch
    ({"exit_probs": [0.25, 0.25, 0.25, 0.25]}, "exit_probs"),               # K mismatch
    ({"loads": [[1, 2, 4, 6, 8], list(BASE[1]), list(BASE[2])]}, "loads[1]"),  # ragged table
    ({"capacity": 0}, "capacity"),
    ({"edge_factor": float("nan")}, "edge_factor"),
    ({"w_min": 0}, "w_min"),
    ({"exit_sequence": [2, 6, 1]}, "exit_sequence[1]"),                     # exit 6 > K = 5
    ({"exit_sequence": [2, 3]}, "exit_sequence"),                           # too short for 10 rounds
    ({"loads": None}, "loads"),                                             # missing
    ({"lods": [[1]]}, "lods"),                                              # typo -> unknown field
    ({"format": 2}, "format"),
])
def test_invalid_instance_names_field(changes, field):
    """Each malformed instance raises InvalidInstance whose field is the offending one (by hand)."""
    with pytest.raises(oo.InvalidInstance) as exc:
        ErdsInstance.from_dict(_bad(**changes))
    assert exc.value.field == field, str(exc.value)


def test_bad_instance_file_gives_cli_exit_2(tmp_path, capsys):
    """The CLI turns InvalidInstance into one line on stderr and exit status 2."""
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(_bad(exit_probs=[0.5, 0.5, 0.5, 0, 0])))
    assert main(["solve", str(p), "--method", "edgent-e"]) == 2
    err = capsys.readouterr().err
    assert "exit_probs" in err and "Traceback" not in err


def test_cli_bad_decision_option_exit_2(capsys):
    """An unknown method or a bad time limit is bad input too."""
    assert main(["solve", "erds/paper-u1", "--method", "nope"]) == 2
    assert main(["solve", "erds/paper-u1", "--method", "edgent-e", "--time-limit", "-1"]) == 2


def test_roundtrip_and_named_instances():
    """Shipped JSON equals the generator in paper.py, and to_dict/from_dict round-trips."""
    for U in (1, 2, 3):
        inst = oo.load(f"erds/paper-u{U}")
        assert inst.U == U and inst.K == 5
        assert inst.to_dict() == paper_instance(U).to_dict()
        again = ErdsInstance.from_dict(json.loads(json.dumps(inst.to_dict())))
        assert again.to_dict() == inst.to_dict()
    dn = oo.load("erds/paper-u3-densenet")
    assert dn.exit_probs[0, 0] == pytest.approx(0.4778 / sum([0.4778, 0.2749, 0.1153, 0.0420, 0.0900]))
    assert dn.exit_sequence is None


def test_per_task_probabilities_and_any_U_K():
    """Per-task exit vectors and U, K other than the paper's are accepted."""
    inst = oo.generate("erds", seed=3, tasks=7, exits=3, per_task_probs=True)
    assert inst.U == 7 and inst.K == 3 and not inst.shared_probs
    assert np.allclose(inst.exit_probs.sum(axis=1), 1)
    assert ErdsInstance.from_dict(inst.to_dict()).to_dict() == inst.to_dict()


@pytest.mark.parametrize("decisions, field", [
    ({"splits": [1, 1], "shares": [0.3, 0.3, 0.3]}, "decisions.splits"),
    ({"splits": [1, 1, 6], "shares": [0.3, 0.3, 0.3]}, "decisions.splits[2]"),
    ({"splits": [1, 1, 1], "shares": [0.05, 0.3, 0.3]}, "decisions.shares[0]"),   # below w_min
    ({"splits": [1, 1, 1], "shares": [0.5, 0.3, 0.3]}, "decisions.shares"),       # sum 1.1 > 1
    ({"splits": [1, 1, 1], "shares": [0.3, 0.3, 0.3], "evaluator": "mc"}, "decisions.evaluator"),
])
def test_bad_decisions(decisions, field):
    """verify/evaluate reject malformed or infeasible plans naming the field."""
    inst = oo.load("erds/paper-u3")
    with pytest.raises(oo.InvalidInstance) as exc:
        oo.verify(inst, {"status": "feasible", "objective": 1.0, "decisions": decisions})
    assert exc.value.field == field


def test_densenet_has_no_sampled_evaluator():
    """The DenseNet exit sequence is unknown (erds.md 5.3), so sampling names exit_sequence."""
    inst = oo.load("erds/paper-u3-densenet")
    with pytest.raises(oo.InvalidInstance) as exc:
        oo.verify(inst, {"status": "feasible", "objective": 1.0,
                         "decisions": {"splits": [1, 1, 1], "shares": [0.3] * 3, "evaluator": "sampled"}})
    assert exc.value.field == "exit_sequence"


def test_exit_stats_loaders(tmp_path):
    """Counts, per-image exits and probabilities load from JSON, CSV and NPZ alike."""
    counts = [1618, 3854, 1834, 713, 1981]  # erds.md 1.2 pi x 10,000 images
    exits = np.repeat(np.arange(1, 6), counts)
    (tmp_path / "c.json").write_text(json.dumps({"counts": counts}))
    (tmp_path / "e.json").write_text(json.dumps({"exits": exits.tolist(), "times": [[1, 2, 3]] * len(exits)}))
    (tmp_path / "c.csv").write_text("exit,count\n" + "".join(f"{k + 1},{c}\n" for k, c in enumerate(counts)))
    (tmp_path / "e.csv").write_text("exit,time_b0,time_b1\n" + "".join(f"{e},0.1,0.3\n" for e in exits))
    np.savez(tmp_path / "e.npz", exits=exits)
    np.savez(tmp_path / "p.npz", probabilities=np.array(PI_RESNET))
    for f in ("c.json", "e.json", "c.csv", "e.csv", "e.npz", "p.npz"):
        st = load_exit_stats(tmp_path / f, K=5)
        assert np.allclose(st.probabilities, PI_RESNET), f
    assert np.allclose(load_exit_stats(tmp_path / "e.csv").block_times, [0.1, 0.3])
    inst = paper_instance(3).with_exit_probs(load_exit_stats(tmp_path / "c.csv").probabilities)
    assert np.allclose(inst.exit_probs, paper_instance(3).exit_probs)


def test_loaders_refuse_pickle_and_bad_files(tmp_path):
    """Pickle needs an explicit opt-in; object NPZ arrays and malformed counts are refused."""
    import pickle

    (tmp_path / "x.pkl").write_bytes(pickle.dumps([10, 20, 30]))
    with pytest.raises(oo.InvalidInstance, match="allow_pickle"):
        load_exit_stats(tmp_path / "x.pkl")
    assert load_exit_stats(tmp_path / "x.pkl", K=3, allow_pickle=True).counts.tolist() == [10, 20, 30]
    np.savez(tmp_path / "o.npz", counts=np.array([{"a": 1}], dtype=object))
    with pytest.raises(oo.InvalidInstance):
        load_exit_stats(tmp_path / "o.npz")
    (tmp_path / "n.json").write_text(json.dumps({"counts": [1, -2, 3]}))
    with pytest.raises(oo.InvalidInstance, match="counts"):
        load_exit_stats(tmp_path / "n.json")
