"""The PicSys family: image search over mobile devices and one cloud (PicSys seed, IEEE TMC 2021).

For method authors (docs/own-method.md): subclass :class:`Policy` (or satisfy
:class:`PolicyProtocol`), decide from a :class:`DeviceView`, and turn the policy into a
:class:`~optoffload.Solution` with :func:`policy_solution` (paper section 5.2, Algorithms 1-3).
"""

from .model import OUTCOMES, Device, Energy, PicsysInstance, feasible_outcomes, parse_plan, plan_to_decisions
from .policy import LOCAL, OFFLOAD, STOP, DeviceView, Policy, PolicyProtocol, SystemInfo
from .simulator import policy_solution, run_policy

__all__ = ["LOCAL", "OFFLOAD", "OUTCOMES", "STOP", "Device", "DeviceView", "Energy", "PicsysInstance", "Policy",
           "PolicyProtocol", "SystemInfo", "feasible_outcomes", "parse_plan", "plan_to_decisions", "policy_solution",
           "run_policy"]
