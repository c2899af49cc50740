"""Registry entries of the PicSys exact methods (formulations/picsys_*.py)."""

from ..family import MethodSpec

METHODS: dict[str, MethodSpec] = {}
