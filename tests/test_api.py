"""The common API contract (ARCHITECTURE.md): load/solve/verify/methods/generate/compare."""

import json
import subprocess
import sys

import pytest

import optoffload as oo


def test_import_is_light():
    """`import optoffload` (and listing methods) must not load OR-Tools, Pyomo, PuLP or HiGHS."""
    code = ("import sys, optoffload as oo; oo.methods('picsys'); oo.instances(); oo.load('picsys/table2');"
            "heavy = [m for m in ('ortools', 'pyomo', 'pulp', 'highspy') if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_load_from_name_path_dict_and_object(tmp_path):
    a = oo.load("picsys/table2")
    p = oo.save(a, tmp_path / "x.json")
    b = oo.load(str(p))
    c = oo.load(json.loads(p.read_text()))
    assert a.to_dict() == b.to_dict() == c.to_dict()
    assert oo.load(a) is a
    with pytest.raises(oo.UnknownName):
        oo.load("picsys/does-not-exist")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(oo.InvalidInstance, match="not valid JSON"):
        oo.load(str(bad))
    with pytest.raises(oo.UnknownName, match="family"):
        oo.load({"format": 1, "family": "nope"})


@pytest.mark.parametrize("kw,field", [
    ({"time_limit": 0}, "time_limit"), ({"time_limit": float("nan")}, "time_limit"),
    ({"seed": 1.5}, "seed"), ({"threads": 0}, "threads"),
])
def test_solve_rejects_bad_arguments(kw, field):
    with pytest.raises(oo.InvalidInstance) as exc:
        oo.solve("picsys/table2", "all-device", **kw)
    assert exc.value.field == field


def test_unknown_method_and_option():
    with pytest.raises(oo.UnknownName, match="method"):
        oo.solve("picsys/table2", "nope")
    with pytest.raises(oo.InvalidInstance):
        oo.solve("picsys/table2", "all-device", colour="red")
    with pytest.raises(oo.InvalidInstance, match="colour"):
        oo.generate("picsys", colour="red")


def test_verify_catches_a_wrong_objective_and_a_wrong_bound():
    inst = oo.load("picsys/table2")
    sol = oo.solve(inst, "all-device")
    sol.objective += 1e-3
    with pytest.raises(oo.VerificationError):
        oo.verify(inst, sol)
    sol = oo.solve(inst, "all-device")
    sol.bound = sol.objective + 1.0  # a lower bound above a feasible makespan is impossible
    with pytest.raises(oo.VerificationError, match="bound"):
        oo.verify(inst, sol)


def test_solution_to_dict_is_json_with_contract_keys():
    d = oo.solve("picsys/table2", "all-cloud").to_dict()
    json.dumps(d)
    assert {"family", "instance", "method", "status", "objective", "bound", "gap", "runtime_s",
            "decisions"} <= set(d)
    assert d["status"] == "feasible"


def test_compare_rows():
    rows = oo.compare("picsys/table2", ["all-device", "all-cloud"])
    assert [r["method"] for r in rows] == ["all-device", "all-cloud"]
    assert all(r["verified"] for r in rows)


@pytest.mark.parametrize("instance,method", [
    ("picsys/table2", "all-device"), ("picsys/table2", "cpsat"), ("picsys/table2", "time-heuristic"),
    ("erds/paper-u3", "erds-exact"), ("erds/paper-u3", "edgent-e"), ("progressive/ordering-small", "greedy"),
])
def test_every_family_rejects_an_unknown_option_naming_it(instance, method):
    with pytest.raises(oo.InvalidInstance) as exc:
        oo.solve(instance, method, colour=1)
    assert exc.value.field == "colour"


def test_boolean_options_must_be_booleans():
    with pytest.raises(oo.InvalidInstance, match="true or false"):
        oo.solve("picsys/table2", "pyomo", dominance="x")
    with pytest.raises(oo.InvalidInstance, match="early_exit"):
        oo.solve("erds/paper-u3", "erds-exact", early_exit="x")


def test_pyomo_bad_solver_and_write_path_are_input_errors(tmp_path):
    with pytest.raises(oo.InvalidInstance, match="solver"):
        oo.solve("picsys/table2", "pyomo", solver="no-such-solver")
    with pytest.raises(oo.InvalidInstance, match="write"):
        oo.solve("picsys/table2", "pyomo", write=str(tmp_path / "missing-dir" / "m.lp"))
