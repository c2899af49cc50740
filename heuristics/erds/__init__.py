"""ERDS heuristics and baselines: OSA, HSA, BRB, IAO, Edgent and the single-tier baselines.

Registered by ``optoffload/erds/family.py``; see docs/erds.md. The split rules (OSA, HSA) and
the optimal-share LPs they share with the exact method live in the core family package
(``optoffload.erds.inner``, ``optoffload.erds.shares``).
"""
