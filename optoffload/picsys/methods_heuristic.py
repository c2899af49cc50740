"""Registry entries of the PicSys paper heuristics and our own (heuristics/picsys_*.py)."""

from ..family import MethodSpec

METHODS: dict[str, MethodSpec] = {}
