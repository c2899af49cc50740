"""Benchmark suites and their runner.

Every module of this package may define ``SUITES: dict[str, Suite]``
(see :mod:`optoffload.benchmarks.suite`); :func:`optoffload.benchmarks.runner.run_suite` discovers
them, so adding a suite never means editing a shared list.
"""
