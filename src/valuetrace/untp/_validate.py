"""Validation of plain UNTP credentials: VC Data Model 2.0, UNTP schemas and JSON-LD terms."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

import jsonschema_rs

from valuetrace.findings import Finding, Severity, json_path
from valuetrace.jsonld import check_terms
from valuetrace.untp._versions import (
    SUPPORTED_VERSIONS,
    CredentialKind,
    detect_kind,
    detect_version,
)

__all__ = ["DTE_EVENT_TYPES", "validate_credential", "validate_subject"]

LOGGER = logging.getLogger(__name__)

VC_V2_CONTEXT_URL = "https://www.w3.org/ns/credentials/v2"
_VC_SCHEMA_RESOURCE = "data/w3c/schema/verifiable-credential-schema.json"

DTE_EVENT_TYPES: tuple[str, ...] = (
    "ObjectEvent",
    "TransformationEvent",
    "AggregationEvent",
    "TransactionEvent",
    "AssociationEvent",
)
"""Event types of a Digital Traceability Event, each with its own subject schema."""

_SUBJECT_SCHEMAS: dict[CredentialKind, str] = {
    CredentialKind.DPP: "ProductPassport",
    CredentialKind.DCC: "ConformityAttestation",
    CredentialKind.DFR: "FacilityRecord",
    CredentialKind.DIA: "RegisteredIdentity",
}

# Schema messages quote the failing value, and a whole credential subject is too long to read.
_MAX_MESSAGE_LENGTH = 400


@functools.cache
def _validator(resource: str) -> Any:
    """Compile the bundled JSON schema at ``resource`` once. It never loads remote references."""
    text = resources.files("valuetrace").joinpath(resource).read_text(encoding="utf-8")
    LOGGER.debug("compiling JSON schema %s", resource)
    return jsonschema_rs.Draft202012Validator(json.loads(text), validate_formats=True, offline=True)


def _untp_schema_resource(kind: CredentialKind, version: str, name: str) -> str:
    return f"data/untp/{version}/{kind.value}/{name}"


def _schema_findings(
    resource: str,
    instance: Any,
    label: str,
    credential: str | None,
) -> list[Finding]:
    validator = _validator(resource)
    if validator.is_valid(instance):
        return []
    findings = []
    for error in _specific_errors(validator.iter_errors(instance)):
        message = error.message
        if len(message) > _MAX_MESSAGE_LENGTH:
            message = message[: _MAX_MESSAGE_LENGTH - 1] + "…"
        findings.append(
            Finding(
                "schema.invalid",
                Severity.ERROR,
                f"{label}: {message}",
                credential,
                json_path(error.instance_path),
            )
        )
    return findings


def _specific_errors(errors: Iterable[Any]) -> Iterator[Any]:
    """Replace a failed ``oneOf``/``anyOf`` by the errors of the branch that came closest.

    The DTE schema, for example, accepts each event through a ``oneOf`` of the five event
    types, and the useful errors are those of the event's own type. A branch is closer when the
    instance has its JSON type and its ``type`` property, and then when it has fewer errors.
    When several branches tie, the combined error is kept.
    """
    for error in errors:
        branches = _branch_errors(error)
        if branches:
            ranks = [_branch_rank(error, branch) for branch in branches]
            best = min(ranks)
            if ranks.count(best) == 1 and best[1] > 0:
                yield from _specific_errors(branches[ranks.index(best)])
                continue
        yield error


def _branch_rank(error: Any, branch: list[Any]) -> tuple[bool, int]:
    base = list(error.instance_path)
    mismatched = any(
        list(branch_error.instance_path) == [*base, "type"]
        or (list(branch_error.instance_path) == base and type(branch_error.kind).__name__ == "Type")
        for branch_error in branch
    )
    return (mismatched, len(branch))


def _branch_errors(error: Any) -> list[list[Any]]:
    if type(error.kind).__name__ not in ("OneOfNotValid", "AnyOf"):
        return []
    context = getattr(error.kind, "context", None)
    return [list(branch) for branch in context] if context else []


def _as_dict(document: Mapping[str, Any]) -> dict[str, Any]:
    # jsonschema_rs reads only built-in JSON types.
    return document if isinstance(document, dict) else dict(document)


def validate_credential(
    credential: Mapping[str, Any], *, credential_ref: str | None = None
) -> list[Finding]:
    """Validate a plain (not enveloped) UNTP credential and return every problem found.

    The checks run in this order and do not stop at the first failure:

    1. The first ``@context`` is the VC 2.0 context.
    2. The VC Data Model 2.0 JSON schema.
    3. The UNTP type and the version of the UNTP context.
    4. The UNTP JSON schema of that type and version, when both are known and supported.
    5. The JSON-LD term check.

    All findings are errors except ``jsonld.vocab_term`` warnings. ``credential_ref`` names the
    credential in findings and defaults to its ``id``.
    """
    if not isinstance(credential, Mapping):
        raise TypeError(
            f"validate_credential expects a parsed JSON object, not {type(credential).__name__}"
        )
    document = _as_dict(credential)
    ref = credential_ref
    if ref is None and isinstance(document.get("id"), str):
        ref = document["id"]

    findings = _check_first_context(document, ref)
    findings += _schema_findings(_VC_SCHEMA_RESOURCE, document, "VC Data Model 2.0 schema", ref)

    kind, version, identity_findings = _check_kind_and_version(document, ref)
    findings += identity_findings
    if kind is not None and version is not None:
        findings += _schema_findings(
            _untp_schema_resource(kind, version, f"untp-{kind.value}-schema.json"),
            document,
            f"UNTP {kind.value.upper()} {version} schema",
            ref,
        )

    findings += check_terms(document, credential=ref)
    return findings


def _check_first_context(document: Mapping[str, Any], ref: str | None) -> list[Finding]:
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first == VC_V2_CONTEXT_URL:
        return []
    if contexts is None:
        problem = "is missing"
        path = json_path(["@context"])
    else:
        problem = f"starts with {first!r}"
        path = json_path(["@context", 0]) if isinstance(contexts, list) else json_path(["@context"])
    return [
        Finding(
            "context.invalid",
            Severity.ERROR,
            f"@context {problem}, but the first context of a VC 2.0 credential must be "
            f"{VC_V2_CONTEXT_URL!r}. Put that URL first in @context.",
            ref,
            path,
        )
    ]


def _check_kind_and_version(
    document: Mapping[str, Any], ref: str | None
) -> tuple[CredentialKind | None, str | None, list[Finding]]:
    """Return the kind and a supported version, or ``None`` for each that cannot be used."""
    findings: list[Finding] = []
    kind = detect_kind(document)
    if kind is None:
        accepted = ", ".join(k.credential_type for k in CredentialKind)
        findings.append(
            Finding(
                "untp.unknown_type",
                Severity.ERROR,
                f"type {document.get('type')!r} names no UNTP credential type. Add one of "
                f"{accepted}.",
                ref,
                json_path(["type"]),
            )
        )

    context_kind, version = detect_version(document)
    supported = ", ".join(SUPPORTED_VERSIONS)
    if version is None:
        findings.append(
            Finding(
                "untp.unknown_version",
                Severity.ERROR,
                "@context contains no UNTP credential context, so the UNTP version is unknown. "
                f"Add the context of a supported version ({supported}), for example "
                "'https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/'.",
                ref,
                json_path(["@context"]),
            )
        )
    elif version not in SUPPORTED_VERSIONS:
        findings.append(
            Finding(
                "untp.unknown_version",
                Severity.ERROR,
                f"UNTP version {version!r} in @context is not supported; supported versions: "
                f"{supported}. Issue the credential against a supported version.",
                ref,
                json_path(["@context"]),
            )
        )
        version = None

    if kind is not None and context_kind is not None and context_kind is not kind:
        findings.append(
            Finding(
                "untp.type_mismatch",
                Severity.ERROR,
                f"type says {kind.credential_type} but @context has the "
                f"{context_kind.credential_type} context. Use the context of "
                f"{kind.credential_type}.",
                ref,
                json_path(["@context"]),
            )
        )
    return kind, version, findings


def validate_subject(
    subject: Mapping[str, Any],
    kind: CredentialKind,
    *,
    version: str = "0.6.1",
    event_type: str | None = None,
    credential_ref: str | None = None,
) -> list[Finding]:
    """Validate a credential subject against the UNTP subject schema of ``kind``.

    The schemas are ProductPassport, ConformityAttestation, FacilityRecord, RegisteredIdentity
    and, for DTE, one event schema: ``event_type`` (for example ``"ObjectEvent"``) or else the
    event type found in the subject's ``type``. Finding paths start at the subject itself.
    """
    if not isinstance(subject, Mapping):
        raise TypeError(
            f"validate_subject expects a parsed JSON object, not {type(subject).__name__}"
        )
    kind = CredentialKind(kind)
    if version not in SUPPORTED_VERSIONS:
        return [
            Finding(
                "untp.unknown_version",
                Severity.ERROR,
                f"UNTP version {version!r} is not supported; supported versions: "
                f"{', '.join(SUPPORTED_VERSIONS)}.",
                credential_ref,
            )
        ]

    if kind is CredentialKind.DTE:
        schema_name = event_type or _detect_event_type(subject)
        if schema_name not in DTE_EVENT_TYPES:
            return [
                Finding(
                    "untp.unknown_type",
                    Severity.ERROR,
                    f"Event type {schema_name!r} is not a UNTP traceability event. Use one of "
                    f"{', '.join(DTE_EVENT_TYPES)} in the subject's type.",
                    credential_ref,
                    json_path(["type"]),
                )
            ]
    else:
        schema_name = _SUBJECT_SCHEMAS[kind]

    return _schema_findings(
        _untp_schema_resource(kind, version, f"{schema_name}-schema.json"),
        _as_dict(subject),
        f"UNTP {schema_name} {version} schema",
        credential_ref,
    )


def _detect_event_type(subject: Mapping[str, Any]) -> str | None:
    types = subject.get("type")
    if isinstance(types, str):
        types = [types]
    if isinstance(types, list):
        for type_name in types:
            if type_name in DTE_EVENT_TYPES:
                return str(type_name)
    return None
