"""Every CLI command and every ``--help`` page in a fresh interpreter (issue #14, item 9).

Two crashes once reached users because tests imported the CLI in one process: ``optoffload
methods`` without a family (``importlib.util`` never imported) and ``optoffload generate
picsys --help`` (an unescaped ``%`` in a help string). Each case here runs
``python -m optoffload ...`` in its own process and must exit 0 without a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ["picsys", "erds", "progressive", "dnn"]
COMMANDS = ["instances", "methods", "solve", "simulate", "verify", "generate", "compare", "bench", "gap", "export",
            "read-solution", "plot"]


def run(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "optoffload", *args], capture_output=True, text=True,
                          cwd=cwd or str(ROOT), timeout=timeout)


def ok(p):
    assert p.returncode == 0, (p.args, p.stderr[-2000:])
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
    return p


HELP_PAGES = [["--help"]] + [[c, "--help"] for c in COMMANDS] + [["generate", f, "--help"] for f in FAMILIES]


@pytest.mark.parametrize("args", HELP_PAGES, ids=[" ".join(a) for a in HELP_PAGES])
def test_help_page(args):
    p = ok(run(*args))
    assert "usage:" in p.stdout


def test_every_command_is_covered():
    """The list above is the parser's list of subcommands (a new command needs a case here)."""
    from optoffload.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)


def test_instances_and_methods_in_fresh_interpreters():
    names = ok(run("instances")).stdout.split()
    assert "picsys/table2" in names
    allm = ok(run("methods")).stdout.split()
    assert "picsys:cpsat" in allm and "erds:erds-exact" in allm and "progressive:exact" in allm
    for fam in FAMILIES:
        lines = ok(run("methods", fam)).stdout.splitlines()
        assert lines and all(len(ln.split("\t")) == 3 for ln in lines)


def test_python_api_lists_in_a_fresh_interpreter():
    code = "import optoffload as oo; print(len(oo.methods()), ','.join(oo.families()))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert p.returncode == 0, p.stderr
    n, fams = p.stdout.split()
    assert int(n) > 20 and fams.split(",") == FAMILIES


@pytest.mark.parametrize("instance,method", [("picsys/table2", "greedy"), ("picsys/table2", "two-stage"),
                                             ("erds/paper-u1", "erds-osa"),
                                             ("progressive/ordering-small", "exact")])
def test_solve_json_then_verify(tmp_path, instance, method):
    out = ok(run("solve", instance, "--method", method, "--json")).stdout
    d = json.loads(out)
    sol = tmp_path / "sol.json"
    sol.write_text(out)
    v = json.loads(ok(run("verify", instance, str(sol), "--json")).stdout)
    assert v["verified"] and abs(v["objective"] - d["objective"]) <= 1e-9 * max(1.0, abs(d["objective"]))


def test_simulate_compare_bench_list():
    assert "objective=" in ok(run("simulate", "picsys/table2", "--policy", "time-heuristic")).stdout
    out = ok(run("compare", "progressive/ordering-small", "--time-limit", "5")).stdout
    assert "exact" in out and "greedy" in out
    suites = ok(run("bench")).stdout.splitlines()
    assert any(s.startswith("picsys-table2") for s in suites)


@pytest.mark.parametrize("family,args", [("picsys", ["--devices", "2", "--images", "6"]),
                                         ("erds", ["--tasks", "2", "--exits", "3"]),
                                         ("progressive", ["--problem", "ordering", "--size", "4"])])
def test_generate_then_solve(tmp_path, family, args):
    f = tmp_path / "g.json"
    ok(run("generate", family, *args, "--seed", "3", "-o", str(f)))
    assert json.loads(f.read_text())["family"] == family
    ok(run("solve", str(f), "--method", {"picsys": "all-device", "erds": "edge-only", "progressive": "greedy"}[family]))


def test_unit_warning_is_one_stderr_line(tmp_path):
    """A PicSys rate of 20 (bit/s, probably meant as Mbit/s) solves but warns on stderr."""
    d = {"format": 1, "family": "picsys", "name": "w", "cloud": {"c_u": 0.05},
         "devices": [{"rate": 20, "alpha": 0.2, "beta": 0.4, "images": {"count": 2, "size": 800000, "hit": "01"}}]}
    f = tmp_path / "w.json"
    f.write_text(json.dumps(d))
    p = ok(run("solve", str(f), "--method", "all-device"))
    warn = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert warn == [w for w in warn if w.startswith("warning: devices[0].rate: 20 bit/s")] and len(warn) == 1


def test_ctrl_c_exits_130_cleanly():
    """Item 12: KeyboardInterrupt anywhere in a command (here: while the report is written) ends
    the process with status 130 and one line, never a fatal interpreter error."""
    code = ("import sys, optoffload.benchmarks.runner as r, optoffload.cli as c\n"
            "def boom(*a, **k):\n    raise KeyboardInterrupt\n"
            "r.run_suite = boom\nsys.argv = ['optoffload', 'bench', 'picsys-sim']\nsys.exit(c.main())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert p.returncode == 130 and p.stderr.strip() == "interrupted", p.stderr


def test_sigint_during_a_bench_run(tmp_path):
    """A real SIGINT to a running sweep: exit 130 (or 0 if it had already finished), no fatal error."""
    proc = subprocess.Popen([sys.executable, "-m", "optoffload", "bench", "picsys-sim", "--quick", "--out",
                             str(tmp_path / "o")], cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (130, 0), err[-2000:]
    assert "Fatal Python error" not in err and "Traceback" not in err


def test_verify_reports_images_processed_in_max_processed_mode(tmp_path):
    """An all-skip plan of an instance with enforced budgets verifies with makespan 0, so verify
    says what ranks it: 0 images processed of the 4 the budgets allow (budget 100 %, every
    image costing at most 0.02 %: all 4 fit, by hand)."""
    energy = {"budget": 100.0, "e_s": 0.0, "e_t": 0.01, "e_alpha": 0.01, "e_beta": 0.0}
    inst = {"format": 1, "family": "picsys", "name": "e", "cloud": {"c_u": 0.05},
            "devices": [{"rate": 8e6, "alpha": 0.2, "beta": 0.4, "energy": energy,
                         "images": {"count": 4, "size": 800000, "hit": "0101"}}]}
    f, s = tmp_path / "e.json", tmp_path / "s.json"
    f.write_text(json.dumps(inst))
    s.write_text(json.dumps({"status": "feasible", "objective": 0.0,
                             "decisions": {"mode": "max-processed", "outcomes": [["skip"] * 4]}}))
    v = json.loads(ok(run("verify", str(f), str(s), "--json")).stdout)
    assert v["objective"] == 0.0 and v["processed"] == 0 and v["max_processed"] == 4 and v["images"] == 4
    assert "0 of 4 images processed, at most 4" in ok(run("verify", str(f), str(s))).stdout


def test_ctrl_c_to_the_process_group_with_workers(tmp_path):
    """A terminal's Ctrl-C reaches the parent and its pool workers: the parent stops the workers
    and exits 130 at once with one line (a worker left running once kept the pipes open forever);
    the rows written so far are intact and --resume counts them."""
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "optoffload", "bench", "picsys-sim", "--workers", "2", "--out",
                             str(out)], cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    time.sleep(5.0)
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:  # already finished
        pass
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # pragma: no cover - a hang: do not leave it behind
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode in (130, 0), err[-2000:]
    if proc.returncode == 130:
        assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()] if (out / "rows.jsonl").exists() else []
    assert all("id" in r and "task_key" in r for r in rows)
