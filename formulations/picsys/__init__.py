"""Exact models of PicSys (PicSys seed, sections 5.1 and 5.3): CP-SAT, Pyomo and PuLP.

Registered as the methods ``cpsat``, ``pyomo`` and ``pulp`` by
``optoffload/picsys/methods_exact.py``; see ``docs/picsys-exact.md``.
"""
