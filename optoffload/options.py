"""What options a method takes: name, type, default and meaning, from its signature and docstring.

``optoffload methods FAMILY --options`` prints this table; :func:`method_options` returns it.
The meaning is the docstring's text after the option's name (``name`` in double back-quotes, the
style of this library's docstrings), up to the next option or the end of the sentence.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

#: Parameters every method takes from :func:`optoffload.solve` itself (not method options).
COMMON = ("instance", "inst", "time_limit", "seed", "threads")


def _type_name(p: inspect.Parameter) -> str:
    ann = p.annotation
    if ann is not inspect.Parameter.empty:
        return ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
    d = p.default
    if d is None or d is inspect.Parameter.empty:
        return "any"
    return type(d).__name__


def _meaning(doc: str, name: str) -> str:
    flat = " ".join(doc.split())
    for m in re.finditer(r"``" + re.escape(name) + r"``", flat):
        rest = flat[m.end():]
        if re.match(r"\s*(,|\)|and\b|or\b|$)", rest):
            continue  # a list of names, or a mention inside another option's text
        cut = len(rest)
        for pat in (r",\s*``[A-Za-z_]+``", r"\.\s+[A-Z`]", r"\.$", r";\s*``"):
            mm = re.search(pat, rest)
            if mm:
                cut = min(cut, mm.start())
        text = rest[:cut].strip(" ,:;")
        if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
            text = text[1:-1]
        text = text.replace("``", "").strip()
        if text:
            return text[:140] + ("..." if len(text) > 140 else "")
    return ""


def _field_list(doc: str, name: str) -> str:
    """numpydoc-style ``name : meaning`` (or ``a, b : meaning``) entries, continuation lines joined."""
    lines = doc.splitlines()
    for k, line in enumerate(lines):
        m = re.match(r"^([A-Za-z_][A-Za-z_0-9]*(?:\s*,\s*[A-Za-z_][A-Za-z_0-9]*)*)\s+:\s+(.*)$", line)
        if m and name in [x.strip() for x in m.group(1).split(",")]:
            text = [m.group(2)]
            for nxt in lines[k + 1:]:
                if not nxt.startswith((" ", "\t")) or not nxt.strip():
                    break
                text.append(nxt.strip())
            t = " ".join(text).replace("``", "")
            return t[:140] + ("..." if len(t) > 140 else "")
    return ""


def method_options(family: str, method: str) -> list[dict[str, Any]]:
    """``[{name, type, default, meaning}]`` of ``method``'s own keyword options.

    The meaning comes from the method's docstring, else its module's (``name : meaning`` field
    lists too), else the first other method of the family that documents an option of that name.
    """
    from .registry import get_family, get_method

    fn = get_method(family, method).load()
    doc = inspect.getdoc(fn) or ""
    mod = inspect.getmodule(fn)
    mod_doc = inspect.getdoc(mod) if mod is not None else ""

    def sibling(name: str) -> str:
        for other, spec in get_family(family).methods.items():
            if other == method:
                continue
            try:
                f = spec.load()
            except Exception:  # noqa: BLE001 - a method whose solver is missing documents nothing
                continue
            if name in getattr(inspect.signature(f), "parameters", {}):
                t = _meaning(inspect.getdoc(f) or "", name)
                if t:
                    return t
        return ""
    out = []
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return out
    for name, p in params.items():
        if name in COMMON or p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        meaning = (_meaning(doc, name) or _field_list(doc, name) or _meaning(mod_doc or "", name)
                   or _field_list(mod_doc or "", name) or sibling(name))
        out.append({"name": name, "type": _type_name(p),
                    "default": None if p.default is inspect.Parameter.empty else p.default,
                    "meaning": meaning or "(undocumented)"})
    return out
