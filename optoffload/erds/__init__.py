"""ERDS: early-exit-aware edge resource allocation and DNN splitting (Kim & Lee, IEEE IoT-J 2024).

See ``docs/erds.md``. Public pieces: :class:`ErdsInstance` (data model), :func:`evaluate` (exact
E[max_u T_u], eq. (7)), :func:`sampled` (the paper's evaluator), :func:`paper_instance` and the
exit-statistics loaders in :mod:`optoffload.erds.stats`, and for method authors
:func:`optimal_shares` (optimal edge shares for given splits; docs/own-method.md).
"""

from .evaluate import evaluate, expected_max, objective, sampled, task_times, time_tables
from .model import ErdsInstance, decisions
from .paper import paper_instance
from .shares import optimal_shares

__all__ = ["ErdsInstance", "decisions", "evaluate", "expected_max", "objective", "optimal_shares", "paper_instance", "sampled",
           "task_times", "time_tables"]
