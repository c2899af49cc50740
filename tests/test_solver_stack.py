"""The pinned solver pair loads in one process (ortools 9.15 + highspy 1.12).

ortools 9.15 and highspy >= 1.13 fail with undefined HiGHS symbols when loaded
together (either order); this test solves a tiny LP/MIP with every backend in
one process so that a bad pin fails here, not deep in a formulation.
Expected values by hand: max x + y s.t. x + 2y <= 4, x <= 2, integer -> x=2, y=1, 3.
"""

import shutil

import pytest


def test_ortools_and_highspy_in_one_process():
    from ortools.sat.python import cp_model
    import highspy

    m = cp_model.CpModel()
    x, y = m.NewIntVar(0, 10, "x"), m.NewIntVar(0, 10, "y")
    m.Add(x + 2 * y <= 4)
    m.Add(x <= 2)
    m.Maximize(x + y)
    s = cp_model.CpSolver()
    assert s.Solve(m) == cp_model.OPTIMAL
    assert s.ObjectiveValue() == 3

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    hx = h.addVariable(0, 10)
    hy = h.addVariable(0, 10)
    h.addConstr(hx + 2 * hy <= 4)
    h.addConstr(hx <= 2)
    h.changeColsIntegrality(2, [0, 1], [highspy.HighsVarType.kInteger] * 2)
    h.maximize(hx + hy)
    assert h.getInfo().objective_function_value == pytest.approx(3)


def test_pyomo_appsi_highs_and_cbc_from_pulp():
    import pyomo.environ as pyo
    import pulp

    def model():
        m = pyo.ConcreteModel()
        m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
        m.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
        m.c1 = pyo.Constraint(expr=m.x + 2 * m.y <= 4)
        m.c2 = pyo.Constraint(expr=m.x <= 2)
        m.o = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)
        return m

    m = model()
    pyo.SolverFactory("appsi_highs").solve(m)
    assert pyo.value(m.o) == pytest.approx(3)

    cbc = pulp.PULP_CBC_CMD(msg=False)
    assert cbc.available()
    m2 = model()
    res = pyo.SolverFactory("cbc", executable=cbc.path).solve(m2)
    assert str(res.solver.termination_condition) == "optimal"
    assert pyo.value(m2.o) == pytest.approx(3)
    assert shutil.which(cbc.path) or cbc.path
