"""CLI contract (ARCHITECTURE.md): instances, methods, solve --json, verify, compare, errors."""

import json
import subprocess
import sys

import pytest

from optoffload.cli import main


def test_instances_and_methods(capsys):
    assert main(["instances"]) == 0
    assert "picsys/table2" in capsys.readouterr().out.split()
    assert main(["methods", "picsys"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert {"all-device", "all-cloud"} <= set(names)


@pytest.mark.parametrize("method", ["all-device", "all-cloud"])
def test_solve_json_then_verify_replays_to_1e9(method, tmp_path, capsys):
    assert main(["solve", "picsys/table2", "--method", method, "--json"]) == 0
    out = capsys.readouterr().out
    d = json.loads(out)
    assert d["family"] == "picsys" and d["instance"] == "table2" and d["method"] == method
    p = tmp_path / "sol.json"
    p.write_text(out)
    assert main(["verify", "picsys/table2", str(p), "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert abs(v["objective"] - d["objective"]) <= 1e-9
    # a tampered objective fails verification (exit 1, one line)
    d["objective"] += 0.5
    p.write_text(json.dumps(d))
    assert main(["verify", "picsys/table2", str(p)]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_compare_prints_every_method(capsys):
    assert main(["compare", "picsys/table2", "--time-limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "all-device" in out and "all-cloud" in out


def test_bad_arguments_exit_2_without_traceback():
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", "picsys/table2"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", "nofile.json", "--method", "x"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
