"""docs/gap.md runs: its module block is saved as ``my_heuristics.py``, every ``optoffload`` line of
its console blocks and of its GitHub Actions snippet runs in a subprocess (in the doc's order, in
one folder, so the committed-cache and baseline steps feed the CI steps) and must exit with the
status of its ``# exit N`` comment (0 without one), and its other python blocks run afterwards.
The doc's sample outputs are checked against what the commands print, so the page stays true."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "gap.md"


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w+)\n(.*?)```", text, re.S)


def _commands(lang: str, body: str) -> list[tuple[str, int]]:
    out = []
    for ln in body.splitlines():
        s = ln.strip()
        if lang == "yaml":
            s = s[len("- run:"):].strip() if s.startswith("- run:") else ""
        if s.startswith("optoffload "):
            m = re.search(r"#\s*exit\s+(\d+)\s*$", s)
            out.append((s, int(m.group(1)) if m else 0))
    return out


def test_gap_doc_runs(tmp_path, monkeypatch):
    text = DOC.read_text(encoding="utf-8")
    blocks = _blocks(text)
    module = [b for lang, b in blocks if lang == "python" and b.startswith("# my_heuristics.py")]
    assert len(module) == 1
    (tmp_path / "my_heuristics.py").write_text(module[0])
    texts = [b for lang, b in blocks if lang == "text"]
    ran = []
    for lang, body in blocks:
        if lang not in ("console", "yaml"):
            continue
        for line, status in _commands(lang, body):
            argv = shlex.split(line, comments=True)
            r = subprocess.run([sys.executable, "-m", "optoffload", *argv[1:]], cwd=tmp_path, capture_output=True,
                               text=True, timeout=600)
            assert r.returncode == status, (line, r.returncode, r.stderr)
            assert "Traceback" not in r.stderr, (line, r.stderr)
            ran.append((line, lang, r))
    assert any(lang == "yaml" for _, lang, _ in ran) and len(ran) >= 6
    # the sample outputs are what the commands print
    quick = next(r for line, _, r in ran if "--out gap-out" in line and "--baseline" not in line)
    table = [ln for ln in texts[0].splitlines() if ln.startswith("| ")]
    printed = quick.stdout.splitlines()
    assert table and all(ln in printed for ln in table), (table, printed)
    failing = next(r for line, _, r in ran if "--max-mean-gap 0.0001" in line)
    gate_lines = [ln for ln in texts[1].splitlines() if ln.startswith("gate failed:")]
    assert gate_lines == [ln for ln in failing.stderr.splitlines() if ln.startswith("gate failed:")]
    assert (tmp_path / "gap-junit.xml").is_file() and (tmp_path / "ci" / "reference-cache.json").is_file()
    # the python blocks (assert_gap) run afterwards, in the same folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    ns: dict = {"__name__": "gap_doc"}
    try:
        for lang, body in blocks:
            if lang == "python" and not body.startswith("# my_heuristics.py"):
                exec(compile(body, str(DOC), "exec"), ns)  # noqa: S102 - the documentation's own code
    finally:
        sys.modules.pop("my_heuristics", None)
    assert ns["summary"]["n"] == 20
