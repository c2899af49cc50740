"""Formal models as objects: oo.build_model, export, independent solves of the files, read_solution.

Expected values: picsys/table2's optimum 1.75 s is the paper's Table 2 figure (and what the
exact methods certify, tests/test_picsys_exact.py); ERDS optima are erds-exact's. The exported
files are solved by solvers that never saw our objects (HiGHS's reader, the CBC binary, CP-SAT
parsing the text proto, SCIP's LP reader), and their solution files come back through
read_solution, which replays the decisions in the simulator.
"""

import subprocess
import sys

import pytest

import optoffload as oo

PY = [sys.executable, "-m", "optoffload"]


def _cli(*args, cwd=None):
    return subprocess.run([*PY, *args], capture_output=True, text=True, cwd=cwd)


def _cbc():
    from pulp.apis import coin_api

    return coin_api.pulp_cbc_path


@pytest.mark.parametrize("layer", ["pyomo", "pulp", "cpsat"])
def test_picsys_model_objects_solve_to_table2_optimum(layer):
    m = oo.build_model("picsys/table2", layer=layer)
    names = m.variables()
    assert "makespan" in names and "outcome[0,0,0]" in names and "cpu_end[0,0]" in names
    s = m.solve()
    assert s.status is oo.Status.OPTIMAL and abs(s.objective - 1.75) <= 1e-9


def test_picsys_pyomo_components_are_named_after_equations():
    import pyomo.environ as pyo

    m = oo.build_model("picsys/table2", layer="pyomo").native
    cons = {c.local_name for c in m.component_objects(pyo.Constraint)}
    assert {"one_outcome", "cpu_chain", "uplink_fifo", "uplink_after_cpu", "makespan_cpu"} <= cons
    assert (0, 3) in m.cpu_chain  # cpu_chain[m, i]: eq. (9) for image 3 of device 0
    vars_ = {v.local_name for v in m.component_objects(pyo.Var)}
    assert {"outcome", "cpu_end", "uplink_end", "cloud_start", "makespan"} <= vars_


def test_picsys_clean_default_and_options_change_the_model():
    clean = oo.build_model("picsys/table2", layer="pyomo")
    tuned = oo.build_model("picsys/table2", layer="pyomo", warm=True, cuts=True, dominance=True)
    # dominance drops f-off outcomes; warm lowers the big-M horizon H (the makespan bound)
    assert len(tuned.variables()) < len(clean.variables())
    assert tuned.native.makespan.ub < clean.native.makespan.ub
    assert tuned.solve().objective == pytest.approx(clean.solve().objective, abs=1e-9)


def test_export_lp_mps_solved_by_highs_and_cbc_and_read_back(tmp_path):
    import highspy

    for layer, fname in [("pyomo", "m.lp"), ("pulp", "m.mps"), ("pyomo", "p.mps"), ("pulp", "p.lp")]:
        r = _cli("export", "picsys/table2", "--layer", layer, "-o", fname, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        assert h.readModel(str(tmp_path / fname)) == highspy.HighsStatus.kOk
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        assert abs(h.getInfo().objective_function_value - 1.75) <= 1e-7
        h.writeSolution(str(tmp_path / (fname + ".sol")), 0)
        out = subprocess.run([_cbc(), str(tmp_path / fname), "solve", "solu", str(tmp_path / (fname + ".cbc"))],
                             capture_output=True, text=True).stdout
        assert "Optimal solution found" in out
        for sol in (fname + ".sol", fname + ".cbc"):
            s = oo.read_solution("picsys/table2", layer, str(tmp_path / sol))
            assert s.status is oo.Status.FEASIBLE and abs(s.objective - 1.75) <= 1e-9


def test_export_cpsat_text_proto_solved_from_file_and_read_back(tmp_path):
    from ortools.sat.python import cp_model

    for inst in ("picsys/table2", "erds/paper-u2"):
        r = _cli("export", inst, "--layer", "cpsat", "-o", "m.pb.txt", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        md = cp_model.CpModel()
        md.Proto().parse_text_format((tmp_path / "m.pb.txt").read_text())
        s = cp_model.CpSolver()
        s.parameters.num_workers = 1
        assert s.StatusName(s.Solve(md)) == "OPTIMAL"
        (tmp_path / "r.pb.txt").write_text(str(s.ResponseProto()))
        r = _cli("read-solution", inst, "r.pb.txt", "--layer", "cpsat", "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        got = oo.read_solution(inst, "cpsat", str(tmp_path / "r.pb.txt"))
        if inst == "picsys/table2":
            assert abs(got.objective - 1.75) <= 1e-9
        else:  # the grid optimum: equal to erds-cpsat's (same model)
            ref = oo.solve(inst, "erds-cpsat", dominance=False, continuous_bound=False)
            assert got.objective == pytest.approx(ref.objective, rel=1e-6)


def test_erds_lp_export_solved_by_scip_and_read_back(tmp_path):
    pyscipopt = pytest.importorskip("pyscipopt")
    r = _cli("export", "erds/paper-u3", "--layer", "pyomo", "-o", "e.lp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "share_inverse" in (tmp_path / "e.lp").read_text()  # the bilinear row w*y >= 1
    m = pyscipopt.Model()
    m.hideOutput()
    m.readProblem(str(tmp_path / "e.lp"))
    m.setParam("limits/gap", 1e-9)
    m.setParam("numerics/feastol", 1e-9)
    m.optimize()
    ex = oo.solve("erds/paper-u3", "erds-exact")
    assert m.getStatus() == "optimal"
    assert m.getObjVal() == pytest.approx(ex.objective, rel=1e-6)
    m.writeBestSol(str(tmp_path / "e.sol"))
    got = oo.read_solution("erds/paper-u3", "pyomo", str(tmp_path / "e.sol"))
    assert got.objective == pytest.approx(ex.objective, rel=1e-6)


def test_erds_linearized_export_is_a_milp_relaxation(tmp_path):
    import highspy

    m = oo.build_model("erds/paper-u2", layer="pyomo", linearize=True)
    m.write(tmp_path / "e.mps")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(tmp_path / "e.mps"))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.run()
    ex = oo.solve("erds/paper-u2", "erds-exact")
    # tangents underestimate 1/y: a relaxation, so its optimum is a lower bound, and close with 12 tangents
    assert h.getInfo().objective_function_value <= ex.objective * (1 + 1e-9)
    assert h.getInfo().objective_function_value >= ex.objective * 0.9


def test_read_solution_dict_round_trip_each_layer():
    for inst, layer in [("picsys/table2", "pyomo"), ("picsys/table2", "pulp"), ("picsys/table2", "cpsat"),
                        ("erds/paper-u3", "pyomo"), ("erds/paper-u3", "cpsat")]:
        m = oo.build_model(inst, layer=layer)
        s = m.solve()
        if layer == "cpsat":
            from ortools.sat.python import cp_model

            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            solver.Solve(m.native)
            vals = {n: solver.Value(m.native.GetIntVarFromProtoIndex(j)) for j, n in enumerate(m.variables())}
        elif inst.startswith("erds"):
            from optoffload.formulations.erds.pyomo import var_values

            vals = var_values(m.native)
        else:
            vals = {n: (c.varValue if layer == "pulp" else c.value) for n, c in zip(m.names, m.cols)}
        got = oo.read_solution(inst, layer, vals)
        assert got.objective == pytest.approx(s.objective, rel=1e-6), (inst, layer)


def test_erds_model_solve_scip_and_highs_equal_exact():
    ex = oo.solve("erds/paper-u2", "erds-exact").objective
    m = oo.build_model("erds/paper-u2", layer="pyomo")
    assert m.solve(solver="highs").objective == pytest.approx(ex, rel=1e-6)
    pytest.importorskip("pyscipopt")
    m = oo.build_model("erds/paper-u2", layer="pyomo")
    assert m.solve(solver="scip").objective == pytest.approx(ex, rel=1e-6)


@pytest.mark.parametrize("args,needle", [
    (["export", "picsys/table2", "--layer", "gurobi", "-o", "m.lp"], "layer: unknown layer 'gurobi'"),
    (["export", "erds/paper-u3", "--layer", "pulp", "-o", "m.lp"], "family 'erds' has no 'pulp' model"),
    (["export", "picsys/table2", "--layer", "pyomo", "-o", "/nonexistent-dir/m.lp"], "path: cannot write"),
    (["export", "picsys/table2", "--layer", "pyomo", "-o", "m.pb.txt"], "path: 'm.pb.txt'"),
    (["export", "erds/paper-u3", "--layer", "pyomo", "-o", "m.mps"], "path: 'm.mps'"),
    (["export", "picsys/table2", "--layer", "pyomo", "-o", "m.lp", "--option", "bogus=1"], "bogus"),
    (["read-solution", "picsys/table2", "missing.sol", "--layer", "pyomo"], "source: cannot read"),
])
def test_bad_input_one_line_exit_2(tmp_path, args, needle):
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_read_solution_of_another_model_and_infeasible_values(tmp_path):
    import highspy

    assert _cli("export", "picsys/table2", "--layer", "pyomo", "-o", "m.lp", cwd=tmp_path).returncode == 0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(tmp_path / "m.lp"))
    h.run()
    h.writeSolution(str(tmp_path / "m.sol"), 0)
    cases = []
    # a PicSys solution for the ERDS model
    cases.append((["read-solution", "erds/paper-u3", "m.sol", "--layer", "pyomo"], "a solution of another model"))
    # an image with no outcome: one_outcome[0,0] (eqs. 2-8) violated
    text = (tmp_path / "m.sol").read_text().replace("outcome(0_0_0) 1\n", "outcome(0_0_0) 0\n")
    (tmp_path / "bad.sol").write_text(text)
    cases.append((["read-solution", "picsys/table2", "bad.sol", "--layer", "pyomo"], "one_outcome[0,0]"))
    # a CP-SAT response of a different size
    (tmp_path / "r.pb.txt").write_text("status: OPTIMAL\nsolution: 1\nsolution: 0\n")
    cases.append((["read-solution", "picsys/table2", "r.pb.txt", "--layer", "cpsat"], "another model"))
    for args, needle in cases:
        r = _cli(*args, cwd=tmp_path)
        assert r.returncode == 2 and needle in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1
    with pytest.raises(oo.InvalidInstance, match=r"values.split\[0,\*\]"):
        half = {f"split[{u},{s}]": 0.5 * (s < 2) for u in range(2) for s in range(6)}
        oo.read_solution("erds/paper-u2", "pyomo", {**half, "share[0]": 0.5, "share[1]": 0.5})
    with pytest.raises(oo.InvalidInstance, match="capacity"):
        vals = {f"split[{u},{s}]": float(s == 1) for u in range(2) for s in range(6)}
        oo.read_solution("erds/paper-u2", "pyomo", {**vals, "share[0]": 0.6, "share[1]": 0.6})
