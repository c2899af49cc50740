"""The public API a method author uses passes mypy (issue #10): `python -m mypy` with the
configuration in pyproject.toml ([tool.mypy]; the files it checks are listed there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = ["optoffload/__init__.py", "optoffload/api.py", "optoffload/registry.py", "optoffload/solution.py",
          "optoffload/status.py", "optoffload/errors.py", "optoffload/family.py", "optoffload/picsys/policy.py",
          "optoffload/picsys/model.py", "optoffload/erds/model.py"]


def test_mypy_config_lists_the_public_api():
    text = (ROOT / "pyproject.toml").read_text()
    section = text[text.index("[tool.mypy]"):]
    start = section.index("files = [")
    files = section[start:section.index("]", start)]
    for f in PUBLIC:
        assert f'"{f}"' in files, f
    assert (ROOT / "optoffload" / "py.typed").is_file()


def test_mypy_passes_on_the_public_api(tmp_path):
    # mypy is in the `test` extra (pyproject.toml), so CI has it: no skip
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success" in r.stdout
