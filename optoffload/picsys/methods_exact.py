"""Registry entries of the PicSys exact methods (formulations/picsys/).

All three solve the offline problem of the PicSys seed, section 5.1 (eqs. (1)-(10)),
with the energy budgets of section 5.3 (eq. 15) when the instance enforces them,
and take the option ``objective="makespan"|"max-processed"``. See docs/picsys-exact.md.
"""

from ..family import MethodSpec

METHODS: dict[str, MethodSpec] = {
    "cpsat": MethodSpec("optoffload.formulations.picsys.cpsat:solve_cpsat", "exact",
                        "offline optimum (sec. 5.1, eq. 15), OR-Tools CP-SAT with interval variables"),
    "pyomo": MethodSpec("optoffload.formulations.picsys.pyomo_milp:solve_pyomo", "exact",
                        "offline optimum as a MILP in Pyomo (HiGHS by default; solver=, write=)"),
    "pulp": MethodSpec("optoffload.formulations.picsys.pulp_milp:solve_pulp", "exact",
                       "offline optimum as a MILP in PuLP (CBC), for cross-checking"),
}
