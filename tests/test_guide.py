"""docs/guide.md's python blocks run, in order, in one namespace (a notebook-style check that the
user guide cannot drift from the code)."""

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide.md"


def test_guide_python_blocks_run(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for k, code in enumerate(blocks):
        exec(compile(code, f"{GUIDE.name}[block {k}]", "exec"), ns)  # noqa: S102 - our own documentation
    assert (tmp_path / "table2-plan.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "two-phones.json").is_file()
