"""The ERDS family as the common API sees it (see optoffload/family.py for the contracts)."""

from __future__ import annotations

from ..family import Family, MethodSpec, Option

_H = "optoffload.heuristics.erds.methods"
_X = "optoffload.formulations.erds.exact"

FAMILY = Family(
    name="erds",
    summary="Early-exit-aware edge resource allocation and DNN splitting (Kim & Lee, IEEE IoT-J 2024)",
    instance_type="optoffload.erds.model:ErdsInstance",
    evaluate="optoffload.erds.evaluate:evaluate",
    methods={
        "erds-exact": MethodSpec(f"{_X}:solve_exact", "exact",
                                 "certified optimum: branch and bound over splits, HiGHS LP cutting planes on shares"),
        "erds-pyomo": MethodSpec("optoffload.formulations.erds.pyomo:solve_erds_pyomo", "exact",
                                 "eq. (7) in Pyomo (binary splits, w*y>=1, E[max] over joint exits): HiGHS OA or SCIP"),
        "erds-cpsat": MethodSpec("optoffload.formulations.erds.cpsat:solve_erds_cpsat", "exact",
                                 "eq. (7) in CP-SAT on a share grid (resolution option); bound on the continuous optimum"),
        "erds-osa": MethodSpec(f"{_H}:erds_osa", "heuristic", "paper ERDS-OSA: BRB allocation + optimal splitting"),
        "erds-hsa": MethodSpec(f"{_H}:erds_hsa", "heuristic", "paper ERDS-HSA: BRB allocation + per-task splitting"),
        "erds-brb": MethodSpec(f"{_H}:erds_brb", "heuristic",
                               "branch-reduce-and-bound (monotonic) with a tolerance; valid bound with exact inner"),
        "iao": MethodSpec(f"{_H}:iao", "baseline", "no early exits: OSA with exit K only + BRB allocation"),
        "edgent-e": MethodSpec(f"{_H}:edgent_e", "baseline", "early-exit-aware splits, equal shares"),
        "edgent-m": MethodSpec(f"{_H}:edgent_m", "baseline", "early-exit-aware splits, minimum shares w_min"),
        "cloud-only": MethodSpec(f"{_H}:cloud_only", "baseline", "split after the stem (s=0), optimal shares"),
        "edge-only": MethodSpec(f"{_H}:edge_only", "baseline", "whole DNN on the edge (s=K), optimal shares"),
        "random": MethodSpec(f"{_H}:random_split", "baseline", "uniform random splits (seeded), optimal shares"),
    },
    generate="optoffload.erds.generate:generate",
    generate_options=(
        Option("tasks", int, 3, "number of tasks U"),
        Option("exits", int, 5, "number of exits K"),
        Option("per_task_probs", bool, False, "one exit distribution per task"),
        Option("w_min", float, None, "minimum share (default min(0.1, 0.5/U))"),
        Option("edge_factor", float, 2.0, "nu_E"),
        Option("cloud_factor", float, 1.0, "nu_C"),
        Option("tr_factor", float, 1.0, "nu_T"),
    ),
    sense="min",
    frame="optoffload.erds.view:frame",
    plot="optoffload.erds.view:plot",
)
