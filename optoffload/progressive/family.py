"""The progressive family (PNC and LimitNet) for the common API (see optoffload/family.py)."""

from ..family import Family, MethodSpec
from .generator import OPTIONS

METHODS = {
    "exact": MethodSpec("optoffload.formulations.progressive.exact:exact", "exact",
                        "config: enumeration in the simulator; airtime: DP over slots; ordering: DP over subsets"),
    "milp": MethodSpec("optoffload.formulations.progressive.milp:milp", "exact",
                       "Pyomo + HiGHS MILP (config choice, multiple-choice knapsack, nested knapsack for ordering)"),
    "greedy": MethodSpec("optoffload.heuristics.progressive.greedy:greedy", "heuristic",
                         "config: fit-mean rule; airtime: greedy marginal gain per slot; ordering: ratio rule"),
}

FAMILY = Family(
    name="progressive",
    summary="progressive offloading under deadlines: codec choice, airtime shares, sending order (PNC, LimitNet)",
    instance_type="optoffload.progressive.model:ProgressiveInstance",
    evaluate="optoffload.progressive.model:evaluate",
    methods=METHODS,
    generate="optoffload.progressive.generator:generate",
    generate_options=OPTIONS,
    sense="max",
    frame="optoffload.progressive.view:frame",
    plot="optoffload.progressive.view:plot",
)
