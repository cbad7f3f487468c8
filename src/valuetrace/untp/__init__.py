"""UNTP 0.6.1 credentials: kind and version detection, and validation.

:func:`validate_credential` checks a plain (not enveloped) credential against the VC Data Model
2.0 schema, the UNTP schema of its type and version, and the JSON-LD term rules, and returns
findings with the JSON path of each problem. Typed models of the credentials are in
:mod:`valuetrace.untp.models`.
"""

from valuetrace.untp._validate import DTE_EVENT_TYPES, validate_credential, validate_subject
from valuetrace.untp._versions import (
    SUPPORTED_VERSIONS,
    CredentialKind,
    detect_kind,
    detect_version,
    untp_context_url,
)

__all__ = [
    "DTE_EVENT_TYPES",
    "SUPPORTED_VERSIONS",
    "CredentialKind",
    "detect_kind",
    "detect_version",
    "untp_context_url",
    "validate_credential",
    "validate_subject",
]
