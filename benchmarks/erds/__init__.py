"""ERDS benchmark suites: the paper's figures, gaps to the certified optimum, scaling."""
