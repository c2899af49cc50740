"""The DNN-graph family as the common API sees it (see optoffload/family.py for the contracts)."""

from __future__ import annotations

from ..family import Family, MethodSpec, Option

_H = "optoffload.heuristics.dnn.methods"
_X = "optoffload.formulations.dnn.exact"

FAMILY = Family(
    name="dnn",
    summary="Split DAG-shaped DNNs with early exits between edge and cloud, one task or many (dnn-graphs.md)",
    instance_type="optoffload.dnn.model:DnnInstance",
    evaluate="optoffload.dnn.evaluate:evaluate",
    methods={
        "dnn-exact": MethodSpec(f"{_X}:solve_exact", "exact",
                                "certified optimum: ERDS branch and bound over certified candidate splits"),
        "dnn-mincut": MethodSpec(f"{_H}:single_task", "exact",
                                 "per-task min cut over exit prefixes; certified for one task (largest share)"),
        "dnn-heuristic": MethodSpec(f"{_H}:dnn_heuristic", "heuristic",
                                    "min-cut envelope candidates + HSA/share-LP alternation + swaps"),
        "dads": MethodSpec(f"{_H}:dads", "baseline", "DADS: DAG min cut without exits, equal shares"),
        "neurosurgeon": MethodSpec(f"{_H}:neurosurgeon", "baseline", "best prefix of the layer order, no exits, equal shares"),
        "edgent": MethodSpec(f"{_H}:edgent", "baseline", "Edgent-style: best prefix with exits, equal shares"),
        "edge-only": MethodSpec(f"{_H}:edge_only", "baseline", "whole network on the edge, optimal shares"),
        "cloud-only": MethodSpec(f"{_H}:cloud_only", "baseline", "only the input on the edge, optimal shares"),
    },
    generate="optoffload.dnn.generate:generate",
    generate_options=(
        Option("tasks", int, 3, "number of tasks U"),
        Option("nodes", int, 8, "layers per task (input included)"),
        Option("exits", int, 3, "exit heads per task K"),
        Option("max_inputs", int, 2, "most inputs per layer"),
        Option("edge_slowdown", float, 2.0, "mean edge/cloud time ratio"),
        Option("link_bps", float, 1e7, "uplink rate (bit/s)"),
        Option("w_min", float, None, "minimum share (default min(0.1, 0.5/U))"),
        Option("objective", str, "max", "E[max] or E[sum] of the task times", ("max", "sum")),
    ),
    sense="min",
)
