"""Exact models, one module per problem family and modelling layer.

Modules here import OR-Tools, Pyomo or PuLP at import time; ``optoffload``
reaches them only through its method registry (see ``optoffload.registry``).
"""
