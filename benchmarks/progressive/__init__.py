"""Progressive (PNC, LimitNet) benchmark suites: the PNC figures and testbed, codec speed, gaps."""
