"""DNN-graph heuristic (``dnn-heuristic``) and baselines (DADS, Neurosurgeon, Edgent-style, edge-only,
cloud-only) and the exact single-task ``dnn-mincut``. Registered by ``optoffload/dnn/family.py``; docs/dnn.md."""
