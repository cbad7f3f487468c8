"""Enveloped verifiable credentials secured with JOSE (VC-JOSE-COSE, compact JWS).

An enveloped credential is a small JSON object whose ``id`` is a data URL holding a compact JWS:
``data:application/vc+jwt,<header>.<payload>.<signature>``. The payload is the plain credential
JSON, and the header names the signing key in ``kid`` as a DID URL of the credential's issuer.
Signatures are EdDSA (Ed25519), ES256 (P-256) or ES384 (P-384); the algorithm must match the
type of the key that the issuer's DID document lists under ``kid``. Presentations use the same
form with ``vp+jwt`` (see :mod:`valuetrace.vc._jose_presentation`), and the header and claim
rules of both are in :mod:`valuetrace.vc._jose_rules`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from valuetrace.did import PublicKey, did_of
from valuetrace.did._keys import SigningKeyPair
from valuetrace.errors import DIDError, EnvelopeError, ValuetraceError
from valuetrace.findings import Finding, Severity
from valuetrace.vc._jose_rules import (
    CREDENTIAL_MEDIA,
    DocumentKind,
    MediaType,
    claims_findings,
    header_findings,
    media_type_of,
    party_id,
)
from valuetrace.vc._keyfile import VerificationMethodKey

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "DATA_URL_PREFIX",
    "ENVELOPED_TYPE",
    "DecodedJWS",
    "credential_issuer",
    "decode_envelope",
    "decode_enveloped_document",
    "decode_jws",
    "has_type",
    "is_enveloped",
    "sign_enveloped",
    "sign_enveloped_document",
    "verify_jws",
    "verify_jws_with_key",
]

ENVELOPED_TYPE = CREDENTIAL_MEDIA.envelope_type
DATA_URL_PREFIX = CREDENTIAL_MEDIA.data_url_prefix
CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# RFC 8037 names the Ed25519 algorithm "EdDSA", and RFC 9864 adds the fully specified name
# "Ed25519". ES256 and ES384 are ECDSA on P-256 and P-384 (RFC 7518).
ACCEPTED_ALGORITHMS = frozenset({"EdDSA", "Ed25519", "ES256", "ES384"})

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_PART_NAMES = ("header", "payload", "signature")


@dataclass(frozen=True)
class DecodedJWS:
    """A compact JWS split into its parts. Nothing in it has been verified yet."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    compact: str


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")


def _b64url_decode(text: str, part: str) -> bytes:
    # Fast path: characters outside the base64url alphabet are rejected by a2b_base64 in strict
    # mode once "-_" are mapped to "+/", except "+", "/" and "=", which are checked first.
    if len(text) % 4 != 1 and not ("+" in text or "/" in text or "=" in text):
        try:
            raw = text.encode("ascii").translate(_TO_STANDARD_ALPHABET)
            return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
        except (UnicodeEncodeError, binascii.Error):
            pass  # the slow path below reports what is wrong
    if not _BASE64URL.match(text):
        position, character = next(
            (index, char)
            for index, char in enumerate(text)
            if not (char.isascii() and (char.isalnum() or char in "-_"))
        )
        hint = " (padding '=' is not allowed)" if character == "=" else ""
        raise EnvelopeError(
            f"the JWS {part} is not valid base64url: invalid character {character!r} "
            f"at position {position}{hint}"
        )
    if len(text) % 4 == 1:
        raise EnvelopeError(
            f"the JWS {part} is not valid base64url: its length {len(text)} is impossible, "
            "so the token is probably truncated"
        )
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"the JWS {part} is not valid base64url: {exc}") from exc


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member name {key!r}")
        result[key] = value
    return result


def _json_type_name(value: object) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if value is None:
        return "JSON null"
    return f"a JSON {type(value).__name__}"


def _parse_json_object(data: bytes, part: str) -> dict[str, Any]:
    expected = "a JOSE header object" if part == "header" else "a credential object"
    # A duplicate member name in the header is rejected. In the payload the last one wins,
    # which RFC 7515 section 5.2 also allows, because the hook would double the parse time of
    # every credential.
    hook = _reject_duplicate_keys if part == "header" else None
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=hook)
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"the JWS {part} is not UTF-8 text: {exc}") from exc
    except ValueError as exc:
        # json.JSONDecodeError is a ValueError, and so is a duplicate member name.
        raise EnvelopeError(f"the JWS {part} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise EnvelopeError(f"the JWS {part} is {_json_type_name(value)}, expected {expected}")
    return value


def decode_jws(compact: str) -> DecodedJWS:
    """Split and decode a compact JWS without verifying it.

    Raises ``EnvelopeError`` saying which part is wrong and how: a wrong number of parts, invalid
    base64url, invalid JSON, or a header or payload that is not a JSON object.
    """
    if not isinstance(compact, str):
        raise EnvelopeError(f"the JWS must be a string, got {type(compact).__name__}")
    if not compact:
        raise EnvelopeError("the JWS is empty: expected header.payload.signature")
    if compact != compact.strip():
        raise EnvelopeError("the JWS has leading or trailing whitespace: remove it")

    parts = compact.split(".")
    if len(parts) == 5:
        raise EnvelopeError(
            "the token has 5 parts, so it is an encrypted JWE: valuetrace reads signed "
            "credentials only (a compact JWS with 3 parts)"
        )
    if len(parts) != 3:
        reason = "the token is truncated" if len(parts) < 3 else "the token has extra '.'"
        count = "1 part" if len(parts) == 1 else f"{len(parts)} parts"
        raise EnvelopeError(
            f"the JWS has {count}, expected 3: {reason} or is not a compact JWS "
            "(header.payload.signature)"
        )

    header_text, payload_text, signature_text = parts
    if not header_text:
        raise EnvelopeError("the JWS header is empty: the token is damaged")
    if not payload_text:
        raise EnvelopeError(
            "the JWS payload is empty: detached payloads are not supported for credentials"
        )

    header = _parse_json_object(_b64url_decode(header_text, "header"), "header")
    payload = _parse_json_object(_b64url_decode(payload_text, "payload"), "payload")
    signature = _b64url_decode(signature_text, "signature")
    return DecodedJWS(
        header=header,
        payload=payload,
        signing_input=f"{header_text}.{payload_text}".encode("ascii"),
        signature=signature,
        compact=compact,
    )


def has_type(document: object, type_name: str) -> bool:
    """Check whether a JSON object's ``type`` (a string or a list) contains ``type_name``."""
    if not isinstance(document, Mapping):
        return False
    types = document.get("type")
    if isinstance(types, str):
        return types == type_name
    return isinstance(types, list) and type_name in types


def is_enveloped(document: Mapping[str, Any]) -> bool:
    """Check whether ``document`` has the type ``EnvelopedVerifiableCredential``."""
    return has_type(document, ENVELOPED_TYPE)


def decode_enveloped_document(document: Mapping[str, Any], media: MediaType) -> DecodedJWS:
    """Decode the JWS inside an enveloped credential or presentation without verifying it.

    ``media`` selects which of the two ``document`` must be. Raises ``EnvelopeError`` if
    ``document`` is not of that envelope type, its ``@context`` does not start with the VC 2.0
    context, its ``id`` is not a data URL of the media type, or the JWS cannot be decoded.
    """
    if not has_type(document, media.envelope_type):
        found = document.get("type") if isinstance(document, Mapping) else type(document).__name__
        raise EnvelopeError(
            f"not an enveloped {media.kind}: 'type' is {found!r}, expected {media.envelope_type!r}"
        )

    context = document.get("@context")
    first_context = context[0] if isinstance(context, list) and context else context
    if first_context != CREDENTIALS_V2_CONTEXT:
        raise EnvelopeError(
            f"the enveloped {media.kind}'s '@context' must start with "
            f"{CREDENTIALS_V2_CONTEXT!r}, got {context!r}"
        )

    data_url = document.get("id")
    if not isinstance(data_url, str) or not data_url.startswith(media.data_url_prefix):
        shown = data_url[:60] if isinstance(data_url, str) else data_url
        raise EnvelopeError(
            f"the enveloped {media.kind}'s 'id' must be a data URL starting with "
            f"{media.data_url_prefix!r}, got {shown!r}"
        )
    return decode_jws(data_url[len(media.data_url_prefix) :])


def decode_envelope(document: Mapping[str, Any]) -> DecodedJWS:
    """Decode the JWS inside an enveloped credential without verifying it.

    The first ``@context`` entry must be the VC 2.0 context, and further entries (UNTP contexts,
    for example) are allowed. Raises ``EnvelopeError`` if ``document`` is not an enveloped
    credential or its JWS cannot be decoded.
    """
    return decode_enveloped_document(document, CREDENTIAL_MEDIA)


def credential_issuer(credential: Mapping[str, Any]) -> str | None:
    """Return the issuer id of a credential, whose ``issuer`` is a string or ``{"id": ...}``."""
    return party_id(credential, CREDENTIAL_MEDIA)


def sign_enveloped(credential: Mapping[str, Any], key: SigningKeyPair, kid: str) -> dict[str, Any]:
    """Sign a credential as a compact JWS and wrap it in an ``EnvelopedVerifiableCredential``.

    ``kid`` is the DID URL of ``key`` in the issuer's DID document, such as
    ``did:web:example.com#key-1``. Raises ``ValueError`` if the DID of ``kid`` is not the
    credential's issuer, or the credential is not JSON-serialisable.
    """
    issuer = credential_issuer(credential)
    if issuer is None:
        raise ValueError("the credential has no issuer: set 'issuer' to the issuer's DID")
    return sign_enveloped_document(credential, key, kid, CREDENTIAL_MEDIA, signer=issuer)


def sign_enveloped_document(
    document: Mapping[str, Any],
    key: SigningKeyPair,
    kid: str,
    media: MediaType,
    *,
    signer: str | None,
) -> dict[str, Any]:
    """Sign a credential or presentation as a compact JWS and wrap it in its envelope.

    ``signer`` is the issuer or holder id that the DID of ``kid`` must equal, or ``None`` to
    accept any DID URL. Raises ``ValueError`` for a ``kid`` that does not fit, or a document
    that is not JSON-serialisable.
    """
    try:
        kid_did = did_of(kid)
    except DIDError as exc:
        raise ValueError(f"kid {kid!r} is not a DID URL: {exc}") from exc
    if signer is not None and kid_did != signer:
        raise ValueError(
            f"kid {kid!r} belongs to {kid_did!r}, but the {media.kind}'s {media.party} is "
            f"{signer!r}: sign with a key from the {media.party}'s DID document"
        )

    header = {"alg": key.jose_algorithm, "kid": kid, "typ": media.typ, "cty": media.cty}
    try:
        payload_json = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the {media.kind} cannot be serialised to JSON: {exc}") from exc
    header_json = json.dumps(header, separators=(",", ":"))
    signing_input = (
        f"{_b64url_encode(header_json.encode('utf-8'))}."
        f"{_b64url_encode(payload_json.encode('utf-8'))}"
    )
    signature = key.sign(signing_input.encode("ascii"))
    return {
        "@context": [CREDENTIALS_V2_CONTEXT],
        "type": media.envelope_type,
        "id": f"{media.data_url_prefix}{signing_input}.{_b64url_encode(signature)}",
    }


def _reference(decoded: DecodedJWS, credential_ref: str | None) -> str | None:
    if credential_ref is None and isinstance(decoded.payload.get("id"), str):
        return str(decoded.payload["id"])
    return credential_ref


def _alg_finding(header: Mapping[str, Any], reference: str | None) -> Finding | None:
    alg = header.get("alg")
    if isinstance(alg, str) and alg in ACCEPTED_ALGORITHMS:
        return None
    message = (
        f"JWS algorithm {alg!r} is rejected: valuetrace accepts only EdDSA or Ed25519 "
        "(Ed25519 keys), ES256 (P-256) and ES384 (P-384) signatures"
    )
    return Finding("signature.alg_rejected", Severity.ERROR, message, reference, "$.header.alg")


def _kid_findings(
    kid: str, payload: Mapping[str, Any], media: MediaType, reference: str | None
) -> list[Finding]:
    party = party_id(payload, media)
    try:
        kid_did: str | None = did_of(kid)
    except DIDError:
        kid_did = None

    if party is None and media.kind == "credential":
        message = (
            f"the credential has no issuer, so kid {kid!r} cannot be tied to it: "
            "set 'issuer' to the issuer's DID"
        )
        return [Finding("signature.kid_mismatch", Severity.ERROR, message, reference, "$.issuer")]
    if party is None:
        # A presentation need not name its holder, so any DID URL may sign it.
        if kid_did is not None:
            return []
        message = (
            f"JWS kid {kid!r} is not a DID URL: a presentation must name its signing key as a "
            "DID URL such as 'did:web:example.com#key-1'"
        )
    elif kid_did != party:
        message = (
            f"JWS kid {kid!r} is not a DID URL of the {media.party} {party!r}: the {media.kind} "
            f"must be signed with a key from its {media.party}'s DID document"
        )
    else:
        return []
    return [Finding("signature.kid_mismatch", Severity.ERROR, message, reference, "$.header.kid")]


def _signature_findings(
    decoded: DecodedJWS, public_key: PublicKey, key_label: str, reference: str | None
) -> list[Finding]:
    alg = decoded.header.get("alg")
    if alg not in public_key.jose_algorithms:
        message = (
            f"JWS algorithm {alg!r} does not fit the {public_key.key_type.value} key "
            f"{key_label}, which signs with {', '.join(sorted(public_key.jose_algorithms))}; "
            "the header was changed or the token was signed with another key"
        )
        return [
            Finding("signature.alg_rejected", Severity.ERROR, message, reference, "$.header.alg")
        ]

    if public_key.verify(decoded.signature, decoded.signing_input):
        return []
    message = f"the JWS signature does not verify with key {key_label}: "
    if len(decoded.signature) != public_key.signature_length:
        message += (
            f"it is {len(decoded.signature)} bytes, a {alg} signature is "
            f"{public_key.signature_length} bytes, so the token is probably truncated"
        )
    else:
        message += "the document was changed after signing or was signed with another key"
    return [Finding("signature.invalid", Severity.ERROR, message, reference, "$")]


def verify_jws(
    decoded: DecodedJWS,
    resolve_key: Callable[[str], PublicKey | None],
    *,
    credential_ref: str | None = None,
    now: datetime | None = None,
    kind: DocumentKind = "credential",
) -> list[Finding]:
    """Verify a decoded JWS credential or presentation and return findings (empty when valid).

    The checks cover the algorithm, the header and the JWT claims (see
    :mod:`valuetrace.vc._jose_rules`), with ``exp`` and ``nbf`` compared to ``now``, default
    the current time. ``typ`` must be ``vc+jwt``, or ``vp+jwt`` when ``kind`` is
    ``"presentation"``. ``kid`` must be a DID URL of the payload's issuer, or of the holder
    when a presentation names one. The algorithm must fit the type of the key that
    ``resolve_key(kid)`` returns, and the signature must verify with it.

    ``resolve_key`` returns ``None`` when the key is not found, and a ``ValuetraceError`` it
    raises becomes a finding too. Header findings have the path ``$.header.<field>``.
    ``credential_ref`` names the document in findings and defaults to the payload's ``id``.
    """
    media = media_type_of(kind)
    reference = _reference(decoded, credential_ref)
    alg_finding = _alg_finding(decoded.header, reference)
    if alg_finding is not None:
        return [alg_finding]

    findings = header_findings(decoded.header, media, reference, kid_required=True)
    findings += claims_findings(
        decoded.payload, media, reference, now=now or datetime.now(UTC), party_required=False
    )
    kid = decoded.header.get("kid")
    if not isinstance(kid, str) or not kid:
        return findings

    kid_findings = _kid_findings(kid, decoded.payload, media, reference)
    if kid_findings:
        # The key of another DID is never looked up, so a forged kid cannot trigger fetches.
        return findings + kid_findings

    try:
        public_key = resolve_key(kid)
        lookup_error = ""
    except ValuetraceError as exc:
        public_key = None
        lookup_error = f" ({exc})"
    if public_key is None:
        relationship = "authentication" if media.kind == "presentation" else "assertionMethod"
        message = (
            f"signing key {kid!r} was not found{lookup_error}: the {media.party}'s DID "
            f"document must list it in {relationship}"
        )
        findings.append(
            Finding("signature.key_not_found", Severity.ERROR, message, reference, "$.header.kid")
        )
        return findings

    return findings + _signature_findings(decoded, public_key, repr(kid), reference)


def verify_jws_with_key(
    decoded: DecodedJWS,
    key: VerificationMethodKey,
    *,
    credential_ref: str | None = None,
    now: datetime | None = None,
    kind: DocumentKind = "credential",
) -> list[Finding]:
    """Verify a decoded JWS credential or presentation with a given key instead of its DID.

    Applies the checks of :func:`verify_jws` except those that tie ``kid`` to a DID: ``kid`` is
    optional unless the key's id is a DID URL, and the issuer may be any URL. A ``kid`` that
    does not name ``key`` (see :meth:`VerificationMethodKey.is_named_by`) gives a warning,
    because the signature decides. A credential without an issuer is an error.
    """
    media = media_type_of(kind)
    reference = _reference(decoded, credential_ref)
    alg_finding = _alg_finding(decoded.header, reference)
    if alg_finding is not None:
        return [alg_finding]

    key_is_did_url = key.key_id is not None and key.key_id.startswith("did:")
    findings = header_findings(decoded.header, media, reference, kid_required=key_is_did_url)
    findings += claims_findings(
        decoded.payload,
        media,
        reference,
        now=now or datetime.now(UTC),
        party_required=media.kind == "credential",
    )

    kid = decoded.header.get("kid")
    if isinstance(kid, str) and kid and not key.is_named_by(kid):
        message = (
            f"JWS kid {kid!r} does not name the given key {key.label!r}. The signature is "
            "checked with the given key anyway"
        )
        findings.append(
            Finding("signature.kid_mismatch", Severity.WARNING, message, reference, "$.header.kid")
        )
    return findings + _signature_findings(decoded, key.public_key, repr(key.label), reference)
