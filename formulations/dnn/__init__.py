"""Exact methods of the DNN-graph family (dnn-graphs.md): ``exact`` (``dnn-exact``, the ERDS branch
and bound over certified candidate splits). Registered by ``optoffload/dnn/family.py``; docs/dnn.md."""
