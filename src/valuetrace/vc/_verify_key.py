"""Verify one secured credential or presentation against a given key instead of its issuer's DID.

The input is an enveloped credential or presentation (JSON), a compact JWS on its own (text,
as test suites store signed tokens), or a document with an embedded Data Integrity proof. The
key comes from a key file (see :mod:`valuetrace.vc._keyfile`). Nothing is resolved or fetched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from valuetrace.did import PublicKey
from valuetrace.errors import EnvelopeError
from valuetrace.findings import Finding, Severity
from valuetrace.vc._dataintegrity import verify_data_integrity
from valuetrace.vc._jose import (
    DecodedJWS,
    decode_enveloped_document,
    decode_jws,
    has_type,
    verify_jws_with_key,
)
from valuetrace.vc._jose_presentation import verify_presentation_jws
from valuetrace.vc._jose_rules import CREDENTIAL_MEDIA, PRESENTATION_MEDIA, MediaType
from valuetrace.vc._keyfile import VerificationMethodKey

__all__ = [
    "parse_secured_document",
    "verify_file_with_key",
    "verify_with_key",
]


def parse_secured_document(data: bytes, reference: str) -> str | dict[str, Any] | Finding:
    """Parse a file's content as a JSON object or a compact JWS.

    Returns the JSON object, the JWS text (also when the file is a JSON string), or a
    ``credential.malformed`` finding naming ``reference`` when it is neither.
    """
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        message = f"{reference} is not UTF-8 text: {exc}"
        return Finding("credential.malformed", Severity.ERROR, message, reference)
    try:
        value = json.loads(text)
    except ValueError as exc:
        if text and not any(character.isspace() or character in '{["' for character in text):
            return text
        message = f"{reference} is neither valid JSON ({exc}) nor a compact JWS"
        return Finding("credential.malformed", Severity.ERROR, message, reference)
    if isinstance(value, dict | str):
        return value
    message = f"{reference} contains a JSON {type(value).__name__}, expected an object or a JWS"
    return Finding("credential.malformed", Severity.ERROR, message, reference)


def verify_file_with_key(
    path: Path, key: VerificationMethodKey, *, now: datetime | None = None
) -> list[Finding]:
    """Read one file and verify what it contains with ``key`` (see :func:`verify_with_key`).

    An unreadable or malformed file gives a ``credential.unreadable`` or
    ``credential.malformed`` finding.
    """
    reference = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        message = f"cannot read {reference}: {exc.strerror}"
        return [Finding("credential.unreadable", Severity.ERROR, message, reference)]
    parsed = parse_secured_document(data, reference)
    if isinstance(parsed, Finding):
        return [parsed]
    return verify_with_key(parsed, key, reference=reference, now=now)


def verify_with_key(
    document: str | Mapping[str, Any],
    key: VerificationMethodKey,
    *,
    reference: str | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Verify a secured credential or presentation with ``key`` and return findings.

    A string is a compact JWS, optionally with its ``data:application/vc+jwt,`` (``vp+jwt``)
    prefix. Without the prefix, the ``typ`` header decides whether it is verified as a
    credential or a presentation. An ``EnvelopedVerifiableCredential`` or
    ``EnvelopedVerifiablePresentation`` is decoded and verified with
    :func:`~valuetrace.vc._jose.verify_jws_with_key`. The credentials inside a presentation
    get a ``signature.unchecked`` note, because ``key`` is the holder's key. Any other object
    must carry a Data Integrity proof, which is verified with ``key`` whatever its
    ``verificationMethod`` names. ``reference`` names the document in findings.
    """
    if isinstance(document, str):
        return _verify_token(document, key, reference, now)
    if not isinstance(document, Mapping):
        raise TypeError(
            f"the document to verify must be a JSON object or a JWS string, got "
            f"{type(document).__name__}"
        )
    for media in (CREDENTIAL_MEDIA, PRESENTATION_MEDIA):
        if has_type(document, media.envelope_type):
            try:
                decoded = decode_enveloped_document(document, media)
            except EnvelopeError as exc:
                return [Finding("envelope.malformed", Severity.ERROR, str(exc), reference, "$.id")]
            return _verify_decoded(decoded, media, key, reference, now)
    return _verify_embedded_proof(document, key, reference, now)


def _verify_token(
    token: str, key: VerificationMethodKey, reference: str | None, now: datetime | None
) -> list[Finding]:
    media: MediaType | None = None
    for candidate in (CREDENTIAL_MEDIA, PRESENTATION_MEDIA):
        if token.startswith(candidate.data_url_prefix):
            media = candidate
            token = token[len(candidate.data_url_prefix) :]
            break
    try:
        decoded = decode_jws(token)
    except EnvelopeError as exc:
        return [Finding("envelope.malformed", Severity.ERROR, str(exc), reference, "$")]
    if media is None:
        typ = decoded.header.get("typ")
        is_presentation = isinstance(typ, str) and typ in PRESENTATION_MEDIA.typ_values
        media = PRESENTATION_MEDIA if is_presentation else CREDENTIAL_MEDIA
    return _verify_decoded(decoded, media, key, reference, now)


def _verify_decoded(
    decoded: DecodedJWS,
    media: MediaType,
    key: VerificationMethodKey,
    reference: str | None,
    now: datetime | None,
) -> list[Finding]:
    if media.kind == "credential":
        return verify_jws_with_key(decoded, key, credential_ref=reference, now=now)
    result = verify_presentation_jws(
        decoded, None, presentation_key=key, presentation_ref=reference, now=now
    )
    return list(result.findings)


def _verify_embedded_proof(
    document: Mapping[str, Any],
    key: VerificationMethodKey,
    reference: str | None,
    now: datetime | None,
) -> list[Finding]:
    requested: list[str] = []

    def resolve_key(verification_method: str) -> PublicKey:
        requested.append(verification_method)
        return key.public_key

    is_presentation = has_type(document, PRESENTATION_MEDIA.payload_type)
    if is_presentation and "proof" not in document:
        message = (
            "the presentation is not secured: it has no Data Integrity proof and is not an "
            f"{PRESENTATION_MEDIA.envelope_type}"
        )
        return [Finding("proof.missing", Severity.ERROR, message, reference, "$")]
    # Presentations are signed for authentication, credentials for assertions.
    purpose = "authentication" if is_presentation else "assertionMethod"
    findings = verify_data_integrity(
        document, resolve_key, credential_ref=reference, proof_purpose=purpose, now=now
    )

    for method in dict.fromkeys(requested):
        if key.key_id is not None and not key.is_named_by(method):
            message = (
                f"the proof names verification method {method!r}, not the given key "
                f"{key.key_id!r}. The proof is checked with the given key anyway"
            )
            findings.append(
                Finding("signature.kid_mismatch", Severity.WARNING, message, reference, "$.proof")
            )
    if is_presentation and document.get("verifiableCredential"):
        message = (
            "the credentials in the presentation were not checked, because only the "
            "presentation's key was given. Verify each against its issuer's key"
        )
        findings.append(Finding("signature.unchecked", Severity.INFO, message, reference))
    return findings
