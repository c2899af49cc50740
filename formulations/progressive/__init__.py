"""Exact methods of the progressive family (PNC, LimitNet).

``exact``: enumeration and dynamic programmes; ``milp``: Pyomo + HiGHS models.
Registered by ``optoffload/progressive/family.py``; see docs/progressive.md.
"""
