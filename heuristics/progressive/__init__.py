"""Progressive (PNC, LimitNet) heuristics: the greedy rules of config, airtime and ordering.

Registered by ``optoffload/progressive/family.py``; see docs/progressive.md.
"""
