"""docs/own-method.md runs: its python blocks are executed, its `optoffload ...` console lines are
run in subprocesses, and its pyproject's entry points are installed with pip (a wheel built from
the doc's own module and entry-point table) and used. Expected values: each command exits 0, and
the doc's own asserts (the plan an ERDS method returns scores, by oo.evaluate, what solve reports)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import optoffload as oo
from plugin_helpers import build_wheel

DOC = Path(__file__).resolve().parents[1] / "docs" / "own-method.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def doc_dir(tmp_path, monkeypatch):
    """The doc's module file (the python block starting with '# my_heuristics.py') in a tmp dir."""
    files = [b for b in blocks("python") if b.startswith("# my_heuristics.py")]
    assert len(files) == 1
    (tmp_path / "my_heuristics.py").write_text(files[0])
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("my_heuristics", None)
    oo.unregister_method("picsys", "queue-aware")
    oo.unregister_method("erds", "split-descent")


def test_python_blocks_run(doc_dir, capsys):
    ns: dict = {"__name__": "own_method_doc"}
    code = [b for b in blocks("python") if not b.startswith("# my_heuristics.py")]
    assert len(code) >= 2
    for b in code:
        exec(compile(b, str(DOC), "exec"), ns)  # noqa: S102 - the documentation's own code
    out = capsys.readouterr().out
    assert "queue-aware" in out and "split-descent" in out


def test_console_lines_run(doc_dir):
    lines = [ln.strip() for b in blocks("console") for ln in b.splitlines() if ln.strip().startswith("optoffload ")]
    assert len(lines) >= 4
    for ln in lines:
        r = subprocess.run([sys.executable, "-m", "optoffload", *shlex.split(ln)[1:]], cwd=doc_dir,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (ln, r.stderr)
        assert "Traceback" not in r.stderr


def test_entry_point_package_of_the_doc(tmp_path):
    toml = [b for b in blocks("toml") if "optoffload.methods" in b]
    assert len(toml) == 1
    table = toml[0].split('[project.entry-points."optoffload.methods"]', 1)[1].split("\n[", 1)[0]
    eps = re.findall(r'^"([^"]+)"\s*=\s*"([^"]+)"', table, re.M)
    assert ("picsys.queue-aware", "my_heuristics:queue_aware") in eps
    module = [b for b in blocks("python") if b.startswith("# my_heuristics.py")][0]
    ep_txt = "[optoffload.methods]\n" + "".join(f"{k} = {v}\n" for k, v in eps)
    whl = build_wheel(tmp_path, "my-heuristics", ep_txt, {"my_heuristics.py": module})
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                        str(site), str(whl)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    env = {**os.environ, "PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    work = tmp_path / "elsewhere"  # not the module's folder: only the installed package can provide it
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "optoffload", *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=300)

    r = run("methods", "picsys")
    assert r.returncode == 0 and "queue-aware" in r.stdout, r.stderr
    r = run("methods", "erds")
    assert r.returncode == 0 and "split-descent" in r.stdout, r.stderr
    for inst, method in [("picsys/table2", "queue-aware"), ("erds/paper-u2", "split-descent")]:
        r = run("solve", inst, "--method", method, "--json")
        assert r.returncode == 0, r.stderr
