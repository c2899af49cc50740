"""Run CLI cases, each in its own forked process (tests/test_badinput.py).

Reads a JSON list of cases ``{"id", "argv", "mem_mb"}`` on stdin and writes one JSON list of
``{"id", "rc", "stderr", "stdout", "peak_extra_mb"}``. The parent imports optoffload once;
every case runs in a child made by ``os.fork()``: a separate process with its own exit status,
stdout/stderr redirected to files, and, with ``mem_mb``, an address-space limit of the
parent's current size plus ``mem_mb`` MiB (``resource.setrlimit(RLIMIT_AS, ...)``), so a case
that tried to allocate beyond it dies (MemoryError -> exit 1) instead of passing.
"""

import json
import os
import resource
import sys
import tempfile
from pathlib import Path

# the checkout under test, as for ``python -m optoffload`` run from the repository root
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from optoffload import cli  # noqa: E402 - imported once in the parent
import optoffload.erds.family  # noqa: E402,F401
import optoffload.picsys.family  # noqa: E402,F401
import optoffload.progressive.family  # noqa: E402,F401


def vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run(case: dict, tmp: str) -> dict:
    out_p, err_p = os.path.join(tmp, "out"), os.path.join(tmp, "err")
    base = vm_size()
    pid = os.fork()
    if pid == 0:  # child
        rc = 1
        try:
            fo = os.open(out_p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            fe = os.open(err_p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fo, 1)
            os.dup2(fe, 2)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            if case.get("mem_mb"):
                lim = base + int(case["mem_mb"]) * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
            rc = cli.main(case["argv"])
        except BaseException as exc:  # noqa: BLE001 - reported as exit 1 + message
            print(f"DRIVER: {type(exc).__name__}: {exc}", file=sys.stderr)
            rc = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(int(rc) if isinstance(rc, int) else 1)
    _, status = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    with open(out_p, encoding="utf-8", errors="replace") as fh:
        out = fh.read()
    with open(err_p, encoding="utf-8", errors="replace") as fh:
        err = fh.read()
    return {"id": case["id"], "rc": rc, "stdout": out[-2000:], "stderr": err[-4000:]}


def main() -> None:
    cases = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(c, tmp) for c in cases]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
