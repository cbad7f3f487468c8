"""UNTP credential kinds and versions, detected from a credential's ``type`` and ``@context``."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "SUPPORTED_VERSIONS",
    "CredentialKind",
    "detect_kind",
    "detect_version",
    "untp_context_url",
]

SUPPORTED_VERSIONS: tuple[str, ...] = ("0.6.1",)
"""UNTP versions whose schemas and contexts are bundled."""

# Up to 0.6.x each credential type has its own context URL, for example
# https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/.
_PER_KIND_CONTEXT = re.compile(
    r"^https://test\.uncefact\.org/vocabulary/untp/(dpp|dcc|dte|dfr|dia)/([^/]+)/?$"
)
# From 0.7.0 all credential types share one context, for example
# https://vocabulary.uncefact.org/untp/0.7.0/context/.
_SHARED_CONTEXT = re.compile(
    r"^https://(?:test\.)?(?:vocabulary\.)?uncefact\.org/(?:vocabulary/)?untp/([^/]+)/context/?$"
)


class CredentialKind(enum.StrEnum):
    """The five UNTP credential types, by their short names."""

    DPP = "dpp"
    DCC = "dcc"
    DTE = "dte"
    DFR = "dfr"
    DIA = "dia"

    @property
    def credential_type(self) -> str:
        """The ``type`` value that marks a credential of this kind."""
        return _CREDENTIAL_TYPES[self]


_CREDENTIAL_TYPES: dict[CredentialKind, str] = {
    CredentialKind.DPP: "DigitalProductPassport",
    CredentialKind.DCC: "DigitalConformityCredential",
    CredentialKind.DTE: "DigitalTraceabilityEvent",
    CredentialKind.DFR: "DigitalFacilityRecord",
    CredentialKind.DIA: "DigitalIdentityAnchor",
}
_KINDS_BY_TYPE: dict[str, CredentialKind] = {
    credential_type: kind for kind, credential_type in _CREDENTIAL_TYPES.items()
}


def untp_context_url(kind: CredentialKind, version: str) -> str:
    """Return the JSON-LD context URL of a UNTP credential kind before version 0.7.0."""
    return f"https://test.uncefact.org/vocabulary/untp/{kind.value}/{version}/"


def detect_kind(credential: Mapping[str, Any]) -> CredentialKind | None:
    """Return the UNTP kind named by the credential's ``type``, or ``None`` if it names none.

    When ``type`` names several UNTP types, the first one wins.
    """
    types = credential.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list):
        return None
    for type_name in types:
        if isinstance(type_name, str) and type_name in _KINDS_BY_TYPE:
            return _KINDS_BY_TYPE[type_name]
    return None


def detect_version(credential: Mapping[str, Any]) -> tuple[CredentialKind | None, str | None]:
    """Return the UNTP kind and version named by the credential's ``@context`` URLs.

    ``.../untp/dpp/0.6.1/`` gives ``(CredentialKind.DPP, "0.6.1")`` and the shared context of
    later versions, ``https://vocabulary.uncefact.org/untp/0.7.0/context/``, gives
    ``(None, "0.7.0")``. Returns ``(None, None)`` when no UNTP credential context is present. The
    version is returned as written, supported or not (``"working"`` for the working drafts).
    """
    contexts = credential.get("@context")
    if isinstance(contexts, str):
        contexts = [contexts]
    if not isinstance(contexts, list):
        return (None, None)
    for url in contexts:
        if not isinstance(url, str):
            continue
        match = _PER_KIND_CONTEXT.match(url)
        if match is not None:
            return (CredentialKind(match.group(1)), match.group(2))
        match = _SHARED_CONTEXT.match(url)
        if match is not None:
            return (None, match.group(1))
    return (None, None)
