"""The VC-JOSE-COSE rules for the header and claims of a JOSE-secured credential or presentation.

A credential is secured as ``vc+jwt`` and a presentation as ``vp+jwt``. The JWS payload is the
credential or presentation itself in the VC Data Model 2.0 form, so the VC 1.1 JWT claims
``vc`` and ``vp`` must not appear. Registered JWT claims may appear beside the document's own
properties, and they must agree with them: ``iss`` with the issuer (the holder of a
presentation), ``jti`` with ``id`` and ``sub`` with a subject's ``id``. ``exp`` and ``nbf``
limit when the signature is valid (RFC 7519 section 4.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

from valuetrace.findings import Finding, Severity

__all__ = [
    "CREDENTIAL_MEDIA",
    "PRESENTATION_MEDIA",
    "DocumentKind",
    "MediaType",
    "claims_findings",
    "header_findings",
    "media_type_of",
    "party_id",
]

DocumentKind = Literal["credential", "presentation"]


@dataclass(frozen=True)
class MediaType:
    """The header values and payload type of a JOSE-secured credential or presentation.

    ``typ`` and ``cty`` are the header values without the ``application/`` prefix, which
    RFC 7515 section 4.1.9 lets a header omit. ``party`` is the property that names who signed:
    ``issuer`` for a credential and ``holder`` for a presentation.
    """

    kind: DocumentKind
    typ: str
    cty: str
    payload_type: str
    party: str
    envelope_type: str

    @cached_property
    def typ_values(self) -> frozenset[str]:
        """Accepted ``typ`` header values, with and without the ``application/`` prefix."""
        return frozenset({self.typ, f"application/{self.typ}"})

    @cached_property
    def cty_values(self) -> frozenset[str]:
        """Accepted ``cty`` header values, with and without the ``application/`` prefix."""
        return frozenset({self.cty, f"application/{self.cty}"})

    @property
    def data_url_prefix(self) -> str:
        """The start of the ``id`` of an enveloped document: ``data:application/vc+jwt,``."""
        return f"data:application/{self.typ},"


CREDENTIAL_MEDIA = MediaType(
    kind="credential",
    typ="vc+jwt",
    cty="vc",
    payload_type="VerifiableCredential",
    party="issuer",
    envelope_type="EnvelopedVerifiableCredential",
)
PRESENTATION_MEDIA = MediaType(
    kind="presentation",
    typ="vp+jwt",
    cty="vp",
    payload_type="VerifiablePresentation",
    party="holder",
    envelope_type="EnvelopedVerifiablePresentation",
)

_FORBIDDEN_CLAIMS = ("vc", "vp")


def media_type_of(kind: DocumentKind) -> MediaType:
    """Return the media type of a credential or a presentation."""
    if kind == "presentation":
        return PRESENTATION_MEDIA
    if kind == "credential":
        return CREDENTIAL_MEDIA
    raise ValueError(f"kind must be 'credential' or 'presentation', got {kind!r}")


def party_id(document: Mapping[str, Any], media: MediaType) -> str | None:
    """Return the issuer of a credential or the holder of a presentation.

    The property is a string or an object with an ``id``. Returns ``None`` when it is missing.
    """
    value = document.get(media.party) if isinstance(document, Mapping) else None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def header_findings(
    header: Mapping[str, Any], media: MediaType, reference: str | None, *, kid_required: bool
) -> list[Finding]:
    """Check ``typ``, ``cty``, ``kid`` and ``crit`` of a JOSE header, but not ``alg``.

    ``typ`` must be the media type of ``media``. ``cty`` is optional, but when present it must
    be ``vc`` (``vp`` for a presentation). ``kid`` must be a non-empty string when given and is
    required when ``kid_required`` is true. Critical extensions are not supported.
    """
    findings: list[Finding] = []

    def invalid(field: str, message: str) -> None:
        findings.append(
            Finding(
                "envelope.header_invalid", Severity.ERROR, message, reference, f"$.header.{field}"
            )
        )

    # A header value may be any JSON value, and lists or objects cannot be looked up in a set.
    typ = header.get("typ")
    if not isinstance(typ, str) or typ not in media.typ_values:
        other = PRESENTATION_MEDIA if media.kind == "credential" else CREDENTIAL_MEDIA
        hint = (
            f". The token is a JOSE-secured {other.kind}, so verify it as one"
            if isinstance(typ, str) and typ in other.typ_values
            else ""
        )
        invalid(
            "typ",
            f"JWS header typ is {typ!r}, expected {media.typ!r} for a JOSE-secured "
            f"{media.kind}{hint}",
        )
    cty = header.get("cty")
    if "cty" in header and (not isinstance(cty, str) or cty not in media.cty_values):
        invalid(
            "cty",
            f"JWS header cty is {cty!r}, expected {media.cty!r} for a JOSE-secured "
            f"{media.kind}, or no cty",
        )

    kid = header.get("kid")
    if "kid" in header and (not isinstance(kid, str) or not kid):
        invalid("kid", f"JWS header kid is {kid!r}, expected a non-empty string")
    elif kid is None and kid_required:
        invalid(
            "kid",
            f"JWS header has no kid: the {media.party} must name its signing key as a DID URL "
            "such as 'did:web:example.com#key-1'",
        )

    if "crit" in header:
        invalid(
            "crit",
            f"JWS header lists critical extensions {header['crit']!r}, which valuetrace "
            "does not support, so the token is rejected",
        )
    return findings


def claims_findings(
    payload: Mapping[str, Any],
    media: MediaType,
    reference: str | None,
    *,
    now: datetime,
    party_required: bool,
) -> list[Finding]:
    """Check the JWT claims of a payload against the document that the payload is.

    Reports the forbidden ``vc`` and ``vp`` claims, a ``type`` without ``VerifiableCredential``
    (``VerifiablePresentation``), ``iss``, ``jti`` and ``sub`` values that disagree with the
    document, and an ``exp`` or ``nbf`` that excludes ``now``. A missing issuer is reported
    only when ``party_required`` is true. ``iat`` is not checked, because it does not limit
    validity.
    """
    check = _ClaimsCheck(payload, media, reference)
    check.forbidden_claims()
    check.document_type()
    check.party(party_required)
    check.identifier()
    if media.kind == "credential":
        check.subject()
    check.validity(now)
    return check.findings


class _ClaimsCheck:
    """The claim checks of one payload, collecting findings."""

    def __init__(self, payload: Mapping[str, Any], media: MediaType, reference: str | None):
        self.payload = payload
        self.media = media
        self.reference = reference
        self.findings: list[Finding] = []

    def add(self, code: str, message: str, path: str) -> None:
        self.findings.append(Finding(code, Severity.ERROR, message, self.reference, path))

    def forbidden_claims(self) -> None:
        for claim in _FORBIDDEN_CLAIMS:
            if claim in self.payload:
                self.add(
                    "envelope.claims_invalid",
                    f"the JWS payload has a {claim!r} claim, which is the VC Data Model 1.1 JWT "
                    f"form: a {self.media.typ} payload is the {self.media.kind} itself, so "
                    f"re-issue it in the VC Data Model 2.0 form without {claim!r}",
                    f"$.{claim}",
                )

    def document_type(self) -> None:
        types = self.payload.get("type")
        listed = types if isinstance(types, list) else [types]
        if self.media.payload_type not in listed:
            self.add(
                "envelope.payload_invalid",
                f"the JWS payload's type is {types!r}, which does not include "
                f"{self.media.payload_type!r}, so it is not a {self.media.kind}",
                "$.type",
            )

    def party(self, required: bool) -> None:
        party = party_id(self.payload, self.media)
        if party is None:
            if required:
                self.add(
                    "envelope.payload_invalid",
                    f"the {self.media.kind} has no {self.media.party}: set "
                    f"'{self.media.party}' to the id of who signed it",
                    f"$.{self.media.party}",
                )
            return
        if "iss" in self.payload and self.payload["iss"] != party:
            self.add(
                "envelope.claim_mismatch",
                f"JWT claim iss is {self.payload['iss']!r}, but the {self.media.kind}'s "
                f"{self.media.party} is {party!r}: they must be equal",
                "$.iss",
            )

    def identifier(self) -> None:
        identifier = self.payload.get("id")
        if (
            "jti" in self.payload
            and isinstance(identifier, str)
            and self.payload["jti"] != identifier
        ):
            self.add(
                "envelope.claim_mismatch",
                f"JWT claim jti is {self.payload['jti']!r}, but the {self.media.kind}'s id is "
                f"{identifier!r}: remove jti or make it equal to id",
                "$.jti",
            )

    def subject(self) -> None:
        if "sub" not in self.payload:
            return
        subjects = self.payload.get("credentialSubject")
        listed = subjects if isinstance(subjects, list) else [subjects]
        subject_ids = [
            item["id"]
            for item in listed
            if isinstance(item, Mapping) and isinstance(item.get("id"), str)
        ]
        # A sub beside subjects without ids conflicts with nothing, so it is accepted.
        if subject_ids and self.payload["sub"] not in subject_ids:
            self.add(
                "envelope.claim_mismatch",
                f"JWT claim sub is {self.payload['sub']!r}, but the credential's subject ids are "
                f"{subject_ids!r}: remove sub or make it the subject's id",
                "$.sub",
            )

    def validity(self, now: datetime) -> None:
        current = now.timestamp()
        expires = self.numeric_date("exp")
        if expires is not None and current >= expires:
            self.add(
                "envelope.expired",
                f"the JWS expired at {_format_timestamp(expires)} (exp), before the "
                f"verification time {_format_timestamp(current)}: ask the "
                f"{self.media.party} to sign it again",
                "$.exp",
            )
        not_before = self.numeric_date("nbf")
        if not_before is not None and current < not_before:
            self.add(
                "envelope.not_yet_valid",
                f"the JWS is not valid before {_format_timestamp(not_before)} (nbf), after the "
                f"verification time {_format_timestamp(current)}",
                "$.nbf",
            )

    def numeric_date(self, claim: str) -> float | None:
        """Return a NumericDate claim (seconds since 1970 UTC), or ``None`` if absent or invalid."""
        if claim not in self.payload:
            return None
        value = self.payload[claim]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(
                "envelope.claims_invalid",
                f"JWT claim {claim} is {value!r}, expected a NumericDate: a number of seconds "
                "since 1970-01-01T00:00:00Z",
                f"$.{claim}",
            )
            return None
        return float(value)


def _format_timestamp(seconds: float) -> str:
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return f"{seconds} seconds after 1970-01-01T00:00:00Z"
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
