"""Helpers of tests/test_plugins.py and tests/test_own_method_doc.py (imported via conftest's sys.path)."""

from __future__ import annotations

from pathlib import Path


def build_wheel(path: Path, name: str, entry_points: str, code: str | dict[str, str]) -> Path:
    """A real wheel file (a zip with ``.dist-info``; PEP 427), built by hand so that no build
    backend or the ``wheel`` package is needed; pip installs it like any other.

    ``code``: the text of a module named like the distribution, or ``{path in the wheel: text}``.
    """
    import base64
    import hashlib
    import zipfile

    norm = name.replace("-", "_")
    whl = path / f"{norm}-0.1-py3-none-any.whl"
    info = f"{norm}-0.1.dist-info"
    files = {
        **({f"{norm}.py": code} if isinstance(code, str) else code),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": entry_points,
    }
    record = []
    with zipfile.ZipFile(whl, "w") as z:
        for arc, text in files.items():
            data = text.encode()
            z.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return whl
