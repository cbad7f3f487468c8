"""Findings: what a validator or verifier discovered about a credential.

Verification never raises for a bad credential. It collects findings and returns them, so that a
report shows every problem and not only the first. A finding has a stable dotted ``code`` that
machines match on (``signature.invalid``, ``schema.invalid`` …), a ``severity``, the credential it
belongs to, a JSON path inside that credential, and a sentence for people.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "Severity", "has_errors", "json_path"]


class Severity(enum.StrEnum):
    """How much a finding matters. Any ``error`` makes a report unverified."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of a check.

    ``credential`` is the credential's ``id`` when known, otherwise the file or URL it was read
    from, or ``None`` for findings about the walk as a whole. ``path`` is a JSON path into that
    credential in the form ``$.credentialSubject.product.id`` (``$`` for the whole document).
    """

    code: str
    severity: Severity
    message: str
    credential: str | None = None
    path: str = "$"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "credential": self.credential,
            "path": self.path,
            "message": self.message,
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    """Return whether any finding is an error."""
    return any(finding.severity is Severity.ERROR for finding in findings)


def json_path(parts: Iterable[str | int]) -> str:
    """Build a JSON path such as ``$.credentialSubject.product[0].id`` from keys and indexes.

    Keys that are not plain identifiers are written in bracket form (``$['@context'][1]``).
    """
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}"
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            path += f"['{escaped}']"
    return path
