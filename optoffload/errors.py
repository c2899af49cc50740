"""Exceptions shared by every problem family."""

from __future__ import annotations


class InvalidInstance(ValueError):
    """An instance, a plan or an option is malformed.

    The message always names the offending field and value, e.g.
    ``devices[1].rate: must be finite and > 0, got nan``. The CLI turns it
    into a one-line message on stderr and exit status 2.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class VerificationError(AssertionError):
    """A solution does not replay in the simulator to the objective it reports."""


class UnknownName(InvalidInstance):
    """An unknown family, method, policy, instance or benchmark suite name."""
