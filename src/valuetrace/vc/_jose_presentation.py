"""Enveloped verifiable presentations secured with JOSE (VC-JOSE-COSE, ``vp+jwt``).

An ``EnvelopedVerifiablePresentation`` has an ``id`` of the form
``data:application/vp+jwt,<compact JWS>``, and the JWS payload is the presentation. Each
credential in its ``verifiableCredential`` must itself be secured, as an
``EnvelopedVerifiableCredential``; valuetrace verifies those of type ``vc+jwt``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from valuetrace.did import PublicKey
from valuetrace.did._keys import SigningKeyPair
from valuetrace.errors import EnvelopeError
from valuetrace.findings import Finding, Severity, has_errors, json_path
from valuetrace.vc._jose import (
    DecodedJWS,
    decode_enveloped_document,
    has_type,
    sign_enveloped_document,
    verify_jws,
    verify_jws_with_key,
)
from valuetrace.vc._jose_rules import CREDENTIAL_MEDIA, PRESENTATION_MEDIA, party_id
from valuetrace.vc._keyfile import VerificationMethodKey

__all__ = [
    "ENVELOPED_PRESENTATION_TYPE",
    "PRESENTATION_DATA_URL_PREFIX",
    "PresentationVerification",
    "PresentedCredential",
    "binding_findings",
    "decode_enveloped_presentation",
    "is_enveloped_presentation",
    "sign_enveloped_presentation",
    "verify_enveloped_presentation",
    "verify_presentation_jws",
]

ENVELOPED_PRESENTATION_TYPE = PRESENTATION_MEDIA.envelope_type
PRESENTATION_DATA_URL_PREFIX = PRESENTATION_MEDIA.data_url_prefix

KeyResolver = Callable[[str], PublicKey | None]


@dataclass(frozen=True)
class PresentedCredential:
    """One entry of a presentation's ``verifiableCredential``.

    ``envelope`` is the entry as the presentation contains it. ``credential`` is the decoded
    JWS payload, or ``None`` when the entry is not a decodable ``vc+jwt`` envelope. ``findings``
    are the findings about this entry only.
    """

    index: int
    envelope: Any
    credential: dict[str, Any] | None
    findings: tuple[Finding, ...]

    @property
    def verified(self) -> bool:
        """Whether no finding about this credential is an error."""
        return not has_errors(self.findings)


@dataclass(frozen=True)
class PresentationVerification:
    """The result of verifying a presentation and the credentials in it.

    ``presentation`` is the decoded JWS payload, or ``None`` when the JWS cannot be decoded. It
    and ``credentials`` are returned even when verification fails, so check ``verified``
    before trusting them. ``findings`` contains the presentation's findings followed by those
    of every credential.
    """

    presentation: dict[str, Any] | None
    credentials: tuple[PresentedCredential, ...]
    findings: tuple[Finding, ...]

    @property
    def verified(self) -> bool:
        """Whether no finding is an error."""
        return not has_errors(self.findings)


def is_enveloped_presentation(document: Mapping[str, Any]) -> bool:
    """Check whether ``document`` has the type ``EnvelopedVerifiablePresentation``."""
    return has_type(document, ENVELOPED_PRESENTATION_TYPE)


def decode_enveloped_presentation(document: Mapping[str, Any]) -> DecodedJWS:
    """Decode the JWS inside an enveloped presentation without verifying it.

    Raises ``EnvelopeError`` if ``document`` is not an ``EnvelopedVerifiablePresentation``
    whose ``id`` starts with ``data:application/vp+jwt,``, or its JWS cannot be decoded.
    """
    return decode_enveloped_document(document, PRESENTATION_MEDIA)


def sign_enveloped_presentation(
    presentation: Mapping[str, Any], key: SigningKeyPair, kid: str
) -> dict[str, Any]:
    """Sign a presentation as a compact JWS and wrap it in an ``EnvelopedVerifiablePresentation``.

    ``kid`` is the DID URL of ``key``. When the presentation names a ``holder``, the DID of
    ``kid`` must be the holder. Raises ``ValueError`` otherwise, or for a presentation that is
    not JSON-serialisable.
    """
    holder = party_id(presentation, PRESENTATION_MEDIA)
    return sign_enveloped_document(presentation, key, kid, PRESENTATION_MEDIA, signer=holder)


def verify_enveloped_presentation(
    document: Mapping[str, Any],
    resolve_key: KeyResolver | None,
    *,
    presentation_key: VerificationMethodKey | None = None,
    verify_credentials: bool = True,
    presentation_ref: str | None = None,
    now: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
) -> PresentationVerification:
    """Decode and verify an ``EnvelopedVerifiablePresentation`` and the credentials in it.

    A document that cannot be decoded gives one ``envelope.malformed`` finding. Otherwise the
    result is that of :func:`verify_presentation_jws`, which describes the arguments.
    """
    try:
        decoded = decode_enveloped_presentation(document)
    except EnvelopeError as exc:
        finding = Finding("envelope.malformed", Severity.ERROR, str(exc), presentation_ref, "$.id")
        return PresentationVerification(None, (), (finding,))
    return verify_presentation_jws(
        decoded,
        resolve_key,
        presentation_key=presentation_key,
        verify_credentials=verify_credentials,
        presentation_ref=presentation_ref,
        now=now,
        challenge=challenge,
        domain=domain,
    )


def verify_presentation_jws(
    decoded: DecodedJWS,
    resolve_key: KeyResolver | None,
    *,
    presentation_key: VerificationMethodKey | None = None,
    verify_credentials: bool = True,
    presentation_ref: str | None = None,
    now: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
) -> PresentationVerification:
    """Verify a decoded ``vp+jwt`` presentation and the credentials in it.

    With ``presentation_key``, the presentation's signature is checked as
    :func:`~valuetrace.vc._jose.verify_jws_with_key` checks it. Otherwise the key comes from
    ``resolve_key(kid)`` as in :func:`~valuetrace.vc._jose.verify_jws`, and ``kid`` must be a
    DID URL of the holder when the presentation names one. ``exp`` and ``nbf`` are checked
    against ``now``, default the current time. When given, ``challenge`` must equal the JWT
    claim ``nonce``, and ``domain`` must be the claim ``aud`` or one of its values.

    Every ``verifiableCredential`` entry must be an ``EnvelopedVerifiableCredential``. When
    ``verify_credentials`` is true, each ``vc+jwt`` credential is verified with
    ``resolve_key``, and without a resolver it gets a ``signature.unchecked`` note. Raises
    ``TypeError`` when neither a resolver nor a key is given.
    """
    moment = now or datetime.now(UTC)
    if presentation_key is not None:
        findings = verify_jws_with_key(
            decoded,
            presentation_key,
            credential_ref=presentation_ref,
            now=moment,
            kind="presentation",
        )
    elif resolve_key is not None:
        findings = verify_jws(
            decoded, resolve_key, credential_ref=presentation_ref, now=moment, kind="presentation"
        )
    else:
        raise TypeError("give resolve_key or presentation_key to verify a presentation")

    reference = presentation_ref
    if reference is None and isinstance(decoded.payload.get("id"), str):
        reference = str(decoded.payload["id"])
    findings += binding_findings(
        decoded.payload.get("nonce"),
        decoded.payload.get("aud"),
        challenge=challenge,
        domain=domain,
        reference=reference,
        challenge_path="$.nonce",
        domain_path="$.aud",
    )
    check = _CredentialCheck(reference, resolve_key, verify_credentials, moment)
    credentials = tuple(
        check.entry(index, entry)
        for index, entry in enumerate(_credential_entries(decoded.payload))
    )
    all_findings = [*findings]
    for credential in credentials:
        all_findings.extend(credential.findings)
    return PresentationVerification(decoded.payload, credentials, tuple(all_findings))


def binding_findings(
    actual_challenge: object,
    actual_domain: object,
    *,
    challenge: str | None,
    domain: str | None,
    reference: str | None,
    challenge_path: str,
    domain_path: str,
) -> list[Finding]:
    """Compare a presentation's challenge and domain with those the verifier set.

    A JWT carries them as the claims ``nonce`` and ``aud``, and a Data Integrity proof as its
    ``challenge`` and ``domain``. The domain may be one value or a list that contains it. The
    paths name where the values sit, for the findings.
    """
    findings: list[Finding] = []
    if challenge is not None and actual_challenge != challenge:
        message = (
            f"the presentation's challenge is {actual_challenge!r}, but the verifier requested "
            f"{challenge!r}: sign the presentation again with this challenge"
        )
        code = "presentation.challenge_mismatch"
        findings.append(Finding(code, Severity.ERROR, message, reference, challenge_path))
    domains = actual_domain if isinstance(actual_domain, list) else [actual_domain]
    if domain is not None and domain not in domains:
        message = (
            f"the presentation's domain is {actual_domain!r}, but the verifier expects "
            f"{domain!r}: the presentation was made for another verifier"
        )
        findings.append(
            Finding("presentation.domain_mismatch", Severity.ERROR, message, reference, domain_path)
        )
    return findings


def _credential_entries(presentation: Mapping[str, Any]) -> list[Any]:
    entries = presentation.get("verifiableCredential")
    if entries is None:
        return []
    return entries if isinstance(entries, list) else [entries]


class _CredentialCheck:
    """The checks of the credentials in one presentation."""

    def __init__(
        self,
        presentation_ref: str | None,
        resolve_key: KeyResolver | None,
        verify_credentials: bool,
        now: datetime,
    ) -> None:
        self.presentation_ref = presentation_ref
        self.resolve_key = resolve_key
        self.verify_credentials = verify_credentials
        self.now = now

    def error(self, code: str, message: str, index: int) -> Finding:
        path = json_path(["verifiableCredential", index])
        return Finding(code, Severity.ERROR, message, self.presentation_ref, path)

    def entry(self, index: int, entry: Any) -> PresentedCredential:
        if not has_type(entry, CREDENTIAL_MEDIA.envelope_type):
            message = (
                f"credential {index} of the presentation is not an "
                f"{CREDENTIAL_MEDIA.envelope_type}: credentials in a JOSE-secured presentation "
                "must be secured as enveloped credentials"
            )
            finding = self.error("presentation.credential_invalid", message, index)
            return PresentedCredential(index, entry, None, (finding,))

        data_url = entry.get("id")
        if (
            isinstance(data_url, str)
            and data_url.startswith("data:")
            and not data_url.startswith(CREDENTIAL_MEDIA.data_url_prefix)
        ):
            media_type = data_url[len("data:") :].split(",", 1)[0]
            message = (
                f"credential {index} of the presentation is secured as {media_type!r}, which "
                f"valuetrace does not verify: it verifies {CREDENTIAL_MEDIA.typ} credentials"
            )
            finding = self.error("presentation.credential_unsupported", message, index)
            return PresentedCredential(index, entry, None, (finding,))

        try:
            decoded = decode_enveloped_document(entry, CREDENTIAL_MEDIA)
        except EnvelopeError as exc:
            message = f"credential {index} of the presentation cannot be decoded: {exc}"
            finding = self.error("envelope.malformed", message, index)
            return PresentedCredential(index, entry, None, (finding,))

        label = decoded.payload.get("id")
        if not isinstance(label, str):
            label = f"{self.presentation_ref or 'presentation'} verifiableCredential[{index}]"
        if not self.verify_credentials:
            return PresentedCredential(index, entry, decoded.payload, ())
        if self.resolve_key is None:
            note = Finding(
                "signature.unchecked",
                Severity.INFO,
                "the credential's signature was not checked, because only the presentation's "
                "key was given. Verify the credential against its issuer's key",
                label,
            )
            return PresentedCredential(index, entry, decoded.payload, (note,))
        findings = verify_jws(decoded, self.resolve_key, credential_ref=label, now=self.now)
        return PresentedCredential(index, entry, decoded.payload, tuple(findings))
