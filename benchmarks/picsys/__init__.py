"""PicSys benchmark suites: paper reproductions, exact-method scaling, simulator speed, time limits."""
