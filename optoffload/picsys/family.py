"""The PicSys family description for the common API (see optoffload/family.py)."""

from ..family import Family, MethodSpec
from .generator import OPTIONS
from .methods_exact import METHODS as EXACT
from .methods_heuristic import METHODS as HEURISTIC

BASELINES = {
    "all-device": MethodSpec("optoffload.heuristics.picsys.baselines:all_device", "baseline",
                             "every image processed on its device (paper 6.1)"),
    "all-cloud": MethodSpec("optoffload.heuristics.picsys.baselines:all_cloud", "baseline",
                            "every image offloaded at the initial stage (paper 6.1)"),
}

FAMILY = Family(
    name="picsys",
    summary="makespan of image search over mobile devices and one cloud (PicSys, IEEE TMC 2021)",
    instance_type="optoffload.picsys.model:PicsysInstance",
    evaluate="optoffload.picsys.simulator:evaluate",
    methods={**EXACT, **HEURISTIC, **BASELINES},
    generate="optoffload.picsys.generator:generate",
    generate_options=OPTIONS,
    sense="min",
    frame="optoffload.picsys.view:frame",
    plot="optoffload.picsys.view:plot",
    counterpart="optoffload.picsys.simulator:counterpart",
    plan_info="optoffload.picsys.simulator:plan_info",
)
