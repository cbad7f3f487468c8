"""Checks of one credential on its own: envelope, signature, dates, schema and terms."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from valuetrace.chain._sources import LoadedDocument
from valuetrace.did import PublicKey, did_of, find_public_key
from valuetrace.errors import DIDError, EnvelopeError
from valuetrace.findings import Finding, Severity, has_errors
from valuetrace.untp import CredentialKind, detect_kind, validate_credential
from valuetrace.vc import credential_issuer, decode_envelope, is_enveloped, verify_jws
from valuetrace.vc._dataintegrity import verify_data_integrity

__all__ = ["CheckedCredential", "check_credential", "lookup_key", "parse_datetime"]

# Findings about the credential's place in the chain rather than its own content.
_JUDGED_APART = frozenset({"issuer.unanchored"})

DidResolver = Callable[[str], dict[str, Any] | None]


@dataclass(slots=True)
class CheckedCredential:
    """One credential after its own checks, before the walk relates it to others."""

    ref: str
    origin: str
    content: bytes
    credential: dict[str, Any] | None = None
    kind: CredentialKind | None = None
    issuer: str | None = None
    enveloped: bool = False
    signature_valid: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def credential_id(self) -> str | None:
        if self.credential is not None and isinstance(self.credential.get("id"), str):
            return str(self.credential["id"])
        return None

    @property
    def label(self) -> str:
        """The name findings use for this credential: its id, or where it was read from."""
        if self.credential is not None:
            credential_id = self.credential.get("id")
            if isinstance(credential_id, str):
                return credential_id
        return self.ref

    @property
    def intact(self) -> bool:
        """Whether the credential passed every check of its own; anchoring is judged apart."""
        return self.credential is not None and not has_errors(
            f for f in self.findings if f.code not in _JUDGED_APART
        )

    @property
    def intact_ignoring_proof(self) -> bool:
        """Whether the credential passed every check of its own but for a missing proof.

        The UNTP test suite's trust-graph tier takes unsigned credentials; the strict result
        it gives is recomputed with this.
        """
        return self.credential is not None and not has_errors(
            f for f in self.findings if f.code not in _JUDGED_APART and f.code != "proof.missing"
        )

    def subjects(self) -> list[dict[str, Any]]:
        if self.credential is None:
            return []
        subject = self.credential.get("credentialSubject")
        if isinstance(subject, dict):
            return [subject]
        if isinstance(subject, list):
            return [item for item in subject if isinstance(item, dict)]
        return []


def parse_datetime(value: str) -> datetime:
    """Parse an XML Schema / ISO 8601 date-time; a value without offset is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _error(code: str, message: str, credential: str, path: str = "$") -> Finding:
    return Finding(code, Severity.ERROR, message, credential, path)


def check_credential(
    loaded: LoadedDocument,
    *,
    resolve_did: DidResolver,
    at: datetime,
    key_cache: dict[str, PublicKey] | None = None,
) -> CheckedCredential:
    """Run every check that needs only the credential itself and its issuer's DID document."""
    checked = CheckedCredential(ref=loaded.ref, origin=loaded.origin, content=loaded.content)

    try:
        document = json.loads(loaded.content)
    except UnicodeDecodeError as exc:
        checked.findings.append(
            _error("credential.malformed", f"{loaded.ref} is not UTF-8 text: {exc}", loaded.ref)
        )
        return checked
    except ValueError as exc:
        checked.findings.append(
            _error(
                "credential.malformed",
                f"{loaded.ref} is not valid JSON ({exc}); re-export the credential",
                loaded.ref,
            )
        )
        return checked
    if not isinstance(document, dict):
        checked.findings.append(
            _error(
                "credential.malformed",
                f"{loaded.ref} holds a JSON {type(document).__name__}, expected an object",
                loaded.ref,
            )
        )
        return checked

    if is_enveloped(document):
        checked.enveloped = True
        _check_envelope(checked, document, resolve_did, at, {} if key_cache is None else key_cache)
    else:
        checked.credential = document
        checked.issuer = credential_issuer(document)
        if "proof" in document:
            _check_embedded_proof(
                checked, document, resolve_did, at, {} if key_cache is None else key_cache
            )
        else:
            checked.findings.append(
                _error(
                    "proof.missing",
                    "the credential is not signed: it is neither an enveloped credential nor "
                    "secured with a proof; ask its issuer for the signed version",
                    checked.label,
                )
            )

    if checked.credential is None:
        return checked

    checked.kind = detect_kind(checked.credential)
    _check_dates(checked, at)
    checked.findings.extend(validate_credential(checked.credential, credential_ref=checked.label))
    return checked


def lookup_key(
    kid: str,
    resolve_did: DidResolver,
    key_cache: dict[str, PublicKey],
    missing_dids: set[str] | None = None,
) -> PublicKey | None:
    """Find the public key of a verification method in its DID's document, cached per walk.

    A DID whose document cannot be found is added to ``missing_dids`` when that set is given.
    """
    if kid in key_cache:
        return key_cache[kid]
    try:
        did = did_of(kid)
    except DIDError:
        return None
    did_document = resolve_did(did)
    if did_document is None:
        if missing_dids is not None:
            missing_dids.add(did)
        return None
    key = find_public_key(did_document, kid)
    if key is not None:
        key_cache[kid] = key
    return key


def _check_envelope(
    checked: CheckedCredential,
    document: dict[str, Any],
    resolve_did: DidResolver,
    at: datetime,
    key_cache: dict[str, PublicKey],
) -> None:
    try:
        decoded = decode_envelope(document)
    except EnvelopeError as exc:
        checked.findings.append(_error("envelope.malformed", str(exc), checked.ref, "$.id"))
        return

    checked.credential = decoded.payload
    checked.issuer = credential_issuer(decoded.payload)
    missing_dids: set[str] = set()

    def resolve_key(kid: str) -> PublicKey | None:
        return lookup_key(kid, resolve_did, key_cache, missing_dids)

    findings = verify_jws(decoded, resolve_key, credential_ref=checked.label, now=at)
    findings = _report_missing_dids(findings, missing_dids, checked.label)
    checked.signature_valid = not has_errors(findings)
    checked.findings.extend(findings)


def _report_missing_dids(
    findings: list[Finding], missing_dids: set[str], label: str
) -> list[Finding]:
    """Report a missing DID document as ``did.unresolved``, not ``signature.key_not_found``."""
    if not missing_dids:
        return findings
    remaining = [f for f in findings if f.code != "signature.key_not_found"]
    for did in sorted(missing_dids):
        remaining.append(
            _error(
                "did.unresolved",
                f"the DID document of {did} was not found in the given files or the store "
                "(or fetched, with --online), so the signature cannot be checked; publish the "
                "issuer's DID document (valuetrace did web stores it) or pass it with "
                "--credentials",
                label,
            )
        )
    return remaining


def _check_embedded_proof(
    checked: CheckedCredential,
    document: dict[str, Any],
    resolve_did: DidResolver,
    at: datetime,
    key_cache: dict[str, PublicKey],
) -> None:
    """Verify Data Integrity proofs (eddsa-jcs-2022, eddsa-rdfc-2022, ecdsa-rdfc-2019) with keys
    of the issuer's DID only."""
    foreign: set[str] = set()
    missing_dids: set[str] = set()

    def resolve_key(verification_method: str) -> PublicKey | None:
        try:
            did = did_of(verification_method)
        except DIDError:
            return None
        if did != checked.issuer:
            foreign.add(verification_method)
            return None
        return lookup_key(verification_method, resolve_did, key_cache, missing_dids)

    findings = verify_data_integrity(document, resolve_key, credential_ref=checked.label, now=at)
    findings = _report_missing_dids(findings, missing_dids, checked.label)
    for method in sorted(foreign):
        findings.append(
            _error(
                "signature.kid_mismatch",
                f"the proof's verificationMethod {method} does not belong to the issuer "
                f"{checked.issuer}; a credential must be secured with its issuer's key",
                checked.label,
                "$.proof",
            )
        )
    checked.signature_valid = not has_errors(findings)
    checked.findings.extend(findings)


def _check_dates(checked: CheckedCredential, at: datetime) -> None:
    assert checked.credential is not None
    for key in ("validFrom", "validUntil"):
        value = checked.credential.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            continue  # the schema check reports the wrong type
        try:
            moment = parse_datetime(value)
        except ValueError:
            checked.findings.append(
                _error(
                    "credential.invalid_date",
                    f"{key} {value!r} is not an ISO 8601 date-time",
                    checked.label,
                    f"$.{key}",
                )
            )
            continue
        if key == "validFrom" and moment > at:
            checked.findings.append(
                _error(
                    "credential.not_yet_valid",
                    f"the credential is valid from {value}, after the verification time "
                    f"{at.isoformat()}",
                    checked.label,
                    "$.validFrom",
                )
            )
        if key == "validUntil" and moment < at:
            checked.findings.append(
                _error(
                    "credential.expired",
                    f"the credential expired at {value}, before the verification time "
                    f"{at.isoformat()}; ask the issuer for a renewed credential",
                    checked.label,
                    "$.validUntil",
                )
            )
