"""Verification of single credentials and of presentations for the VC-API endpoints.

A credential goes through the same checks as in the chain walk (:func:`check_credential` for
the envelope or proof, dates, schemas and terms, then its ``credentialStatus``), plus the VC
Data Model rules of :mod:`valuetrace.api._datamodel`. DIDs resolve from the store, and
``did:key`` DIDs are derived locally. Nothing is fetched from the network, so a ``did:web``
issuer must have its DID document in the store, and status lists must be stored too.

UNTP credentials keep every finding of the UNTP validation. Other credentials, such as the
generic ones of the W3C test suites, skip the UNTP type and version checks, and a JSON-LD
context that valuetrace does not bundle is a warning for them instead of an error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from valuetrace.api._datamodel import (
    as_list,
    credential_model_findings,
    holder_id,
    presentation_model_findings,
)
from valuetrace.chain import Sources
from valuetrace.chain._check import check_credential
from valuetrace.chain._sources import LoadedDocument
from valuetrace.chain._status import StatusListLoader
from valuetrace.did import PublicKey, did_of, find_public_key
from valuetrace.errors import DIDError
from valuetrace.findings import Finding, Severity, has_errors, json_path
from valuetrace.jsonld import check_terms
from valuetrace.store import Store
from valuetrace.untp import detect_kind, detect_version, validate_credential
from valuetrace.vc._dataintegrity import verify_data_integrity
from valuetrace.vc._jose_presentation import (
    binding_findings,
    decode_enveloped_presentation,
    is_enveloped_presentation,
    verify_enveloped_presentation,
)
from valuetrace.vc._statuslist import check_status

__all__ = [
    "CHECKS",
    "CredentialVerification",
    "PresentationVerification",
    "Verifier",
    "credential_content_findings",
]

LOGGER = logging.getLogger(__name__)

# The checks every verification runs, as the ``checks`` member of a response names them.
CHECKS = ("proof", "validityPeriod", "status", "dataModel")

_AUTHENTICATION = "authentication"
# JWT claims (RFC 7519 section 4.1, and nonce and cnf) that a presentation's JWS payload may
# carry next to the presentation. They are no JSON-LD terms, so the term check skips them.
_JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "cnf"})

# UNTP checks that make no sense for a credential without UNTP type or context.
_UNTP_ONLY_CODES = frozenset({"untp.unknown_type", "untp.unknown_version"})
_CONTEXT_UNAVAILABLE = "jsonld.context_unavailable"


def _error(code: str, message: str, reference: str | None, path: str = "$") -> Finding:
    return Finding(code, Severity.ERROR, message, reference, path)


def _is_untp(credential: Mapping[str, Any]) -> bool:
    return detect_kind(credential) is not None or detect_version(credential)[1] is not None


def _relax_for_generic(findings: Iterable[Finding], document: Mapping[str, Any]) -> list[Finding]:
    """Drop the UNTP-only findings of a non-UNTP document, and make unbundled contexts warnings.

    NOTE: a context that is not bundled is never fetched, so the terms under it stay
    unchecked, as the warning states. The W3C examples context, which the test suites use, is
    not bundled.
    """
    if _is_untp(document):
        return list(findings)
    relaxed: list[Finding] = []
    for finding in findings:
        if finding.code in _UNTP_ONLY_CODES:
            continue
        if finding.code == _CONTEXT_UNAVAILABLE:
            finding = dataclasses.replace(finding, severity=Severity.WARNING)
        relaxed.append(finding)
    return relaxed


def credential_content_findings(
    credential: Mapping[str, Any], *, reference: str | None
) -> list[Finding]:
    """Validate a plain credential before it is issued: schemas, terms and data-model rules."""
    findings = validate_credential(credential, credential_ref=reference)
    findings = _relax_for_generic(findings, credential)
    findings.extend(credential_model_findings(credential, reference=reference))
    return findings


@dataclass
class CredentialVerification:
    """The result of verifying one credential: its plain form and every finding."""

    label: str
    credential: dict[str, Any] | None
    findings: list[Finding]
    issuer: str | None = None
    has_securing: bool = False

    @property
    def verified(self) -> bool:
        return not has_errors(self.findings)


@dataclass
class PresentationVerification:
    """The result of verifying a presentation and each credential in it."""

    presentation: dict[str, Any] | None
    findings: list[Finding]
    credentials: list[CredentialVerification] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        own = not has_errors(self.findings)
        return own and all(result.verified for result in self.credentials)


@dataclass
class _Signers:
    """The DIDs whose keys secured a presentation, and whether every signature verified."""

    dids: set[str] = field(default_factory=set)
    verified: bool = True


class Verifier:
    """Verify credentials and presentations with DID documents and status lists of a store."""

    def __init__(self, store: Store | None) -> None:
        self._store = store

    # -- credentials ---------------------------------------------------------------------------

    def verify_credential(
        self,
        document: Mapping[str, Any],
        *,
        at: datetime,
        reference: str = "verifiableCredential",
        sources: Sources | None = None,
    ) -> CredentialVerification:
        """Run every check on one credential, plain with a proof or enveloped, at time ``at``."""
        sources = sources or Sources(store=self._store)
        content = json.dumps(document, ensure_ascii=False).encode("utf-8")
        loaded = LoadedDocument(ref=reference, content=content, origin="request")
        checked = check_credential(loaded, resolve_did=sources.resolve_did, at=at)

        result = CredentialVerification(
            label=checked.label,
            credential=checked.credential,
            findings=checked.findings,
            issuer=checked.issuer,
            has_securing=checked.enveloped or "proof" in document,
        )
        if checked.credential is None:
            return result

        result.findings = _relax_for_generic(checked.findings, checked.credential)
        result.findings.extend(
            credential_model_findings(checked.credential, reference=checked.label)
        )
        status_lists = StatusListLoader(sources, at=at, key_cache={})
        result.findings.extend(
            check_status(checked.credential, status_lists, credential_ref=checked.label)
        )
        return result

    # -- presentations -------------------------------------------------------------------------

    def verify_presentation(
        self,
        document: Mapping[str, Any],
        *,
        at: datetime,
        challenge: str | None = None,
        domain: str | None = None,
    ) -> PresentationVerification:
        """Verify a presentation, plain or enveloped, and every credential in it.

        A ``challenge`` or ``domain`` must match each proof of the presentation (the JWT claims
        ``nonce`` and ``aud`` of an enveloped one). An unsigned presentation is accepted, with
        a warning, only when neither is given. A credential without a proof counts only when
        the holder signed the presentation and is the credential's issuer.
        """
        sources = Sources(store=self._store)
        reference = "verifiablePresentation"
        findings: list[Finding] = []
        signers = _Signers()

        if is_enveloped_presentation(document):
            presentation = self._open_envelope(
                document, sources, reference, at, challenge, domain, findings, signers
            )
            if presentation is None:
                return PresentationVerification(None, findings)
            enveloped = True
        else:
            presentation = dict(document)
            enveloped = False

        findings.extend(presentation_model_findings(presentation, reference=reference))
        skipped = {"verifiableCredential", *(_JWT_CLAIMS if enveloped else ())}
        terms = {name: value for name, value in presentation.items() if name not in skipped}
        findings.extend(_relax_for_generic(check_terms(terms, credential=reference), presentation))

        if "proof" in presentation:
            self._check_proofs(
                presentation, sources, reference, at, challenge, domain, findings, signers
            )
        elif not enveloped:
            findings.append(_unsigned_finding(reference, challenge, domain))
            signers.verified = False

        holder = holder_id(presentation)
        for signer in sorted(signers.dids):
            if holder is not None and signer != holder:
                findings.append(
                    _error(
                        "presentation.holder_mismatch",
                        f"the presentation was signed by {signer}, but its holder is {holder}: "
                        "the holder must sign its own presentation",
                        reference,
                        "$.holder",
                    )
                )

        result = PresentationVerification(presentation, findings)
        holder_signed = (
            holder is not None
            and signers.verified
            and signers.dids == {holder}
            and not has_errors(findings)
        )
        result.credentials = self._verify_embedded(
            presentation, sources, at, holder if holder_signed else None
        )
        return result

    def _verify_embedded(
        self,
        presentation: Mapping[str, Any],
        sources: Sources,
        at: datetime,
        signing_holder: str | None,
    ) -> list[CredentialVerification]:
        raw = presentation.get("verifiableCredential")
        entries = as_list(raw)
        results: list[CredentialVerification] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue  # the data-model check reports it
            reference = "verifiableCredential"
            if isinstance(raw, list):
                reference += f"[{index}]"
            result = self.verify_credential(entry, at=at, reference=reference, sources=sources)
            if not result.has_securing and signing_holder is not None:
                _accept_holder_claims(result, signing_holder)
            results.append(result)
        return results

    def _check_proofs(
        self,
        presentation: Mapping[str, Any],
        sources: Sources,
        reference: str,
        at: datetime,
        challenge: str | None,
        domain: str | None,
        findings: list[Finding],
        signers: _Signers,
    ) -> None:
        """Verify the Data Integrity proofs of a presentation and their challenge and domain."""

        def resolve_key(verification_method: str) -> PublicKey | None:
            return _authentication_key(sources, verification_method)

        proof_findings = verify_data_integrity(
            presentation,
            resolve_key,
            credential_ref=reference,
            proof_purpose=_AUTHENTICATION,
            now=at,
        )
        findings.extend(proof_findings)
        if has_errors(proof_findings):
            signers.verified = False

        raw = presentation.get("proof")
        proofs = raw if isinstance(raw, list) else [raw]
        for index, proof in enumerate(proofs):
            if not isinstance(proof, Mapping):
                continue  # verify_data_integrity reports it
            parts: list[str | int] = ["proof", index] if isinstance(raw, list) else ["proof"]
            method = proof.get("verificationMethod")
            if isinstance(method, str):
                try:
                    signers.dids.add(did_of(method))
                except DIDError:
                    signers.verified = False
            findings.extend(
                binding_findings(
                    proof.get("challenge"),
                    proof.get("domain"),
                    challenge=challenge,
                    domain=domain,
                    reference=reference,
                    challenge_path=json_path([*parts, "challenge"]),
                    domain_path=json_path([*parts, "domain"]),
                )
            )

    def _open_envelope(
        self,
        document: Mapping[str, Any],
        sources: Sources,
        reference: str,
        at: datetime,
        challenge: str | None,
        domain: str | None,
        findings: list[Finding],
        signers: _Signers,
    ) -> dict[str, Any] | None:
        """Verify an ``EnvelopedVerifiablePresentation`` and return the presentation inside.

        The JWS header, claims, signature, challenge (claim ``nonce``) and domain (claim
        ``aud``) are checked by :func:`verify_enveloped_presentation`; the credentials inside
        are verified afterwards like any other. Returns ``None`` when the envelope cannot be
        decoded, and the findings give the reason.
        """

        def resolve_key(kid: str) -> PublicKey | None:
            return _authentication_key(sources, kid)

        envelope = verify_enveloped_presentation(
            document,
            resolve_key,
            verify_credentials=False,
            presentation_ref=reference,
            now=at,
            challenge=challenge,
            domain=domain,
        )
        findings.extend(envelope.findings)
        if envelope.presentation is None:
            return None
        if has_errors(envelope.findings):
            signers.verified = False
            return envelope.presentation
        # Without errors, verify_jws has tied kid to the holder when the presentation names one.
        kid = decode_enveloped_presentation(document).header.get("kid")
        try:
            signers.dids.add(did_of(kid if isinstance(kid, str) else ""))
        except DIDError:
            signers.verified = False
        return envelope.presentation


def _authentication_key(sources: Sources, verification_method: str) -> PublicKey | None:
    """Find the key of a verification method that its DID document lists for authentication."""
    try:
        did = did_of(verification_method)
    except DIDError:
        return None
    did_document = sources.resolve_did(did)
    if did_document is None:
        return None
    return find_public_key(did_document, verification_method, _AUTHENTICATION)


def _unsigned_finding(reference: str, challenge: str | None, domain: str | None) -> Finding:
    if challenge is None and domain is None:
        return Finding(
            "presentation.unsigned",
            Severity.WARNING,
            "the presentation has no proof, so nothing shows who presented it; only its "
            "credentials were verified",
            reference,
            "$",
        )
    return _error(
        "presentation.unsigned",
        "the verifier asked for a challenge or domain, but the presentation has no proof "
        "that carries them: the holder must sign the presentation",
        reference,
        "$",
    )


def _accept_holder_claims(result: CredentialVerification, holder: str) -> None:
    """Accept a credential without proof when the holder who signed the presentation issued it.

    The presentation's proof then secures the credential, as the VC Data Model allows for
    claims a holder makes about itself.
    """
    if result.issuer != holder:
        return
    result.findings = [finding for finding in result.findings if finding.code != "proof.missing"]
    result.findings.append(
        Finding(
            "credential.holder_claims",
            Severity.INFO,
            f"the credential has no proof of its own; it is secured by the presentation that "
            f"its issuer {holder} signed as holder",
            result.label,
            "$",
        )
    )
