"""The PicSys family: image search over mobile devices and one cloud (PicSys seed, IEEE TMC 2021)."""

from .model import OUTCOMES, Device, Energy, PicsysInstance, feasible_outcomes, parse_plan, plan_to_decisions

__all__ = ["OUTCOMES", "Device", "Energy", "PicsysInstance", "feasible_outcomes", "parse_plan", "plan_to_decisions"]
