"""Heuristic solvers, online policies and baselines, one module per family and idea."""
