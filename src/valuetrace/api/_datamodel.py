"""VC Data Model 2.0 rules that the bundled JSON schema of credentials does not express.

The schema checks types and required members. These functions add the rules on values:
identifiers that must be URLs, ``@context`` entries, the order of ``validFrom`` and
``validUntil``, ``relatedResource`` entries, and the members of a verifiable presentation, for
which no schema is bundled. Every finding is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from valuetrace.findings import Finding, Severity, json_path

__all__ = [
    "PRESENTATION_TYPE",
    "VC_V2_CONTEXT",
    "as_list",
    "credential_model_findings",
    "holder_id",
    "is_url",
    "presentation_model_findings",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PRESENTATION_TYPE = "VerifiablePresentation"

# RFC 3986 scheme, then at least one more character.
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:.")
_HIERARCHICAL_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})
# Subresource Integrity: a hash name and the standard base64 digest.
_DIGEST_SRI = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}$")
# Multibase base64url without padding ("u") or base58btc ("z").
_DIGEST_MULTIBASE = re.compile(r"^(u[A-Za-z0-9_-]+|z[1-9A-HJ-NP-Za-km-z]+)$")

# Credential members whose objects may carry an ``id`` that must then be a URL.
_LINKED_MEMBERS = ("credentialStatus", "credentialSchema", "refreshService", "termsOfUse")


def is_url(value: object) -> bool:
    """Check whether ``value`` is an absolute URL string, such as a DID, a URN or an https URL.

    The string needs a scheme and contains no whitespace or control characters. http(s), ftp
    and ws(s) URLs also need a host.
    """
    if not isinstance(value, str) or not _ABSOLUTE_URL.match(value):
        return False
    if any(character.isspace() or ord(character) < 0x20 for character in value):
        return False
    scheme = value.split(":", 1)[0].lower()
    if scheme in _HIERARCHICAL_SCHEMES:
        try:
            return bool(urlsplit(value).hostname)
        except ValueError:
            return False
    return True


def holder_id(presentation: Mapping[str, Any]) -> str | None:
    """Return the holder of a presentation, whose ``holder`` is a string or ``{"id": ...}``."""
    holder = presentation.get("holder")
    if isinstance(holder, str):
        return holder
    if isinstance(holder, Mapping) and isinstance(holder.get("id"), str):
        return str(holder["id"])
    return None


def as_list(value: object) -> list[Any]:
    """Return a JSON value as a list: an array as it is, ``None`` as ``[]``, others wrapped."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _error(code: str, message: str, reference: str | None, parts: list[str | int]) -> Finding:
    return Finding(code, Severity.ERROR, message, reference, json_path(parts))


def _url_findings(
    value: object, what: str, reference: str | None, parts: list[str | int]
) -> list[Finding]:
    if is_url(value):
        return []
    message = (
        f"{what} {value!r} is not a URL: use an absolute URL such as "
        "'https://example.com/credentials/1', 'urn:uuid:…' or a DID"
    )
    return [_error("datamodel.invalid_url", message, reference, parts)]


def _later_context_findings(context: object, reference: str | None) -> list[Finding]:
    """Check the ``@context`` entries after the first: each must be a URL or an object."""
    if not isinstance(context, list):
        return []
    findings: list[Finding] = []
    for index, entry in enumerate(context[1:], start=1):
        if isinstance(entry, Mapping):
            continue
        if isinstance(entry, str) and is_url(entry):
            continue
        findings.append(
            _error(
                "datamodel.invalid_context",
                f"@context entry {entry!r} is neither a context URL nor a context object",
                reference,
                ["@context", index],
            )
        )
    return findings


def _first_context_findings(context: object, reference: str | None) -> list[Finding]:
    first = context[0] if isinstance(context, list) and context else context
    if first == VC_V2_CONTEXT:
        return []
    problem = "is missing" if context is None else f"starts with {first!r}"
    return [
        _error(
            "context.invalid",
            f"@context {problem}, but its first entry must be {VC_V2_CONTEXT!r}",
            reference,
            ["@context"],
        )
    ]


def _objects_with_paths(
    document: Mapping[str, Any], member: str
) -> Iterator[tuple[Mapping[str, Any], list[str | int]]]:
    value = document.get(member)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield item, [member, index]
    elif isinstance(value, Mapping):
        yield value, [member]


def _parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _validity_findings(credential: Mapping[str, Any], reference: str | None) -> list[Finding]:
    valid_from = _parse_datetime(credential.get("validFrom"))
    valid_until = _parse_datetime(credential.get("validUntil"))
    if valid_from is None or valid_until is None or valid_until >= valid_from:
        return []
    return [
        _error(
            "datamodel.invalid_validity_period",
            f"validUntil {credential['validUntil']} is before validFrom "
            f"{credential['validFrom']}, so the credential is never valid",
            reference,
            ["validUntil"],
        )
    ]


def _related_resource_findings(
    credential: Mapping[str, Any], reference: str | None
) -> list[Finding]:
    if "relatedResource" not in credential:
        return []
    findings: list[Finding] = []
    seen: set[str] = set()

    def invalid(message: str, parts: list[str | int]) -> None:
        findings.append(_error("datamodel.invalid_related_resource", message, reference, parts))

    raw = credential["relatedResource"]
    entries = raw if isinstance(raw, list) else [raw]
    for index, entry in enumerate(entries):
        parts: list[str | int] = (
            ["relatedResource", index] if isinstance(raw, list) else ["relatedResource"]
        )
        if not isinstance(entry, Mapping):
            invalid(
                f"relatedResource entry {entry!r} is not an object with 'id' and a digest",
                parts,
            )
            continue
        resource_id = entry.get("id")
        if resource_id is None:
            invalid("a relatedResource entry has no 'id': give the URL of the resource", parts)
        else:
            url_findings = _url_findings(
                resource_id, "relatedResource id", reference, [*parts, "id"]
            )
            if url_findings:
                findings += url_findings
            elif resource_id in seen:
                invalid(f"relatedResource id {resource_id!r} appears more than once", parts)
            else:
                seen.add(resource_id)

        if "digestSRI" not in entry and "digestMultibase" not in entry:
            invalid(
                f"relatedResource {resource_id!r} has neither 'digestSRI' nor 'digestMultibase'",
                parts,
            )
        sri = entry.get("digestSRI")
        if sri is not None and not (isinstance(sri, str) and _DIGEST_SRI.match(sri)):
            invalid(
                f"digestSRI {sri!r} is not a Subresource Integrity value such as "
                "'sha384-<standard base64 digest>'",
                [*parts, "digestSRI"],
            )
        multibase = entry.get("digestMultibase")
        if multibase is not None and not (
            isinstance(multibase, str) and _DIGEST_MULTIBASE.match(multibase)
        ):
            invalid(
                f"digestMultibase {multibase!r} is not a multibase value starting with 'u' "
                "(base64url) or 'z' (base58btc)",
                [*parts, "digestMultibase"],
            )
    return findings


def credential_model_findings(
    credential: Mapping[str, Any], *, reference: str | None
) -> list[Finding]:
    """Check the value rules of a plain credential that its JSON schema leaves out.

    Values of the wrong JSON type are left to the schema check, so each problem is reported
    once. The first ``@context`` entry is checked by the credential validation as well, so it
    is not checked here. ``relatedResource`` digests are checked for their syntax only: the
    resources are never fetched to compare them.
    """
    findings = _later_context_findings(credential.get("@context"), reference)

    if isinstance(credential.get("id"), str):
        findings += _url_findings(credential["id"], "the credential id", reference, ["id"])

    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        findings += _url_findings(issuer, "the issuer", reference, ["issuer"])
    elif isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        findings += _url_findings(issuer["id"], "the issuer id", reference, ["issuer", "id"])

    for member in ("credentialSubject", *_LINKED_MEMBERS, "evidence"):
        for item, parts in _objects_with_paths(credential, member):
            if isinstance(item.get("id"), str):
                findings += _url_findings(item["id"], f"{member} id", reference, [*parts, "id"])

    findings.extend(_validity_findings(credential, reference))
    findings.extend(_related_resource_findings(credential, reference))
    return findings


def presentation_model_findings(
    presentation: Mapping[str, Any], *, reference: str | None
) -> list[Finding]:
    """Check the members of a plain verifiable presentation.

    ``@context`` must start with the VC 2.0 context, ``type`` must contain
    ``VerifiablePresentation``, ``id`` and ``holder`` must be URLs (``holder`` may be an object
    with such an ``id``), and every ``verifiableCredential`` entry must be an object.
    """
    context = presentation.get("@context")
    findings = _first_context_findings(context, reference)
    findings.extend(_later_context_findings(context, reference))

    types = as_list(presentation.get("type"))
    if PRESENTATION_TYPE not in types:
        findings.append(
            _error(
                "datamodel.missing_type",
                f"the presentation's type {presentation.get('type')!r} does not contain "
                f"{PRESENTATION_TYPE!r}",
                reference,
                ["type"],
            )
        )

    if "id" in presentation:
        findings += _url_findings(presentation["id"], "the presentation id", reference, ["id"])

    if "holder" in presentation:
        holder = presentation["holder"]
        if isinstance(holder, Mapping):
            if "id" in holder:
                findings += _url_findings(
                    holder["id"], "the holder id", reference, ["holder", "id"]
                )
            else:
                findings.append(
                    _error(
                        "datamodel.invalid_url",
                        "the holder object has no 'id': give the holder's URL, such as its DID",
                        reference,
                        ["holder"],
                    )
                )
        else:
            findings += _url_findings(holder, "the holder", reference, ["holder"])

    credentials = presentation.get("verifiableCredential")
    for index, entry in enumerate(as_list(credentials)):
        if not isinstance(entry, Mapping):
            parts: list[str | int] = ["verifiableCredential"]
            if isinstance(credentials, list):
                parts.append(index)
            findings.append(
                _error(
                    "datamodel.invalid_credential",
                    f"verifiableCredential entry {entry!r} is not an object: embed the "
                    "verifiable credential or an EnvelopedVerifiableCredential, not a link",
                    reference,
                    parts,
                )
            )
    return findings
