"""PicSys heuristics, online policies and baselines (PicSys seed, sections 5.2, 5.4, 6).

Registered by ``optoffload/picsys/methods_heuristic.py`` and ``optoffload/picsys/family.py``;
see docs/picsys-heuristics.md.
"""
