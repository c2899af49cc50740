"""Exact methods of ERDS (eq. 7 of the ERDS model, erds.md 2.2).

``exact``: the branch and bound over splits with HiGHS cutting-plane LPs on the shares
(``erds-exact``). Registered by ``optoffload/erds/family.py``; see docs/erds.md.
"""
