"""W3C VC Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite.

A proof signs two SHA-256 hashes: one of the RFC 8785 canonical proof configuration (the proof
without ``proofValue``) and one of the canonical document without its ``proof``. The Ed25519
signature over ``proof hash || document hash`` is stored in ``proofValue`` as multibase base58btc
(``z…``). The algorithms follow the W3C "Data Integrity EdDSA Cryptosuites v1.0" specification.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from valuetrace.did import Ed25519KeyPair, KeyType, PublicKey
from valuetrace.did._didkey import base58btc_decode, base58btc_encode
from valuetrace.errors import ValuetraceError
from valuetrace.findings import Finding, Severity, json_path
from valuetrace.vc._jcs import canonicalize

__all__ = [
    "DATA_INTEGRITY_PROOF",
    "EDDSA_JCS_2022",
    "add_proof_eddsa_jcs",
    "verify_data_integrity",
]

LOGGER = logging.getLogger(__name__)

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
EDDSA_JCS_2022 = "eddsa-jcs-2022"

_ED25519_SIGNATURE_LENGTH = 64


def add_proof_eddsa_jcs(
    document: Mapping[str, Any],
    key: Ed25519KeyPair,
    verification_method: str,
    *,
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Sign ``document`` with an ``eddsa-jcs-2022`` Data Integrity proof and return a copy.

    ``verification_method`` is the DID URL of ``key`` that verifiers resolve. ``created`` must be
    timezone-aware and is written in UTC. The proof copies the document's ``@context``. When the
    document already has proofs, the new proof is signed over the document without them and
    appended, which makes a proof set. Raises ``ValueError`` or ``TypeError`` for an argument
    that cannot be signed.
    """
    if not isinstance(document, Mapping):
        raise TypeError(
            f"the document to sign must be a JSON object, got {type(document).__name__}"
        )
    if not isinstance(verification_method, str) or not verification_method:
        raise ValueError(
            "verification_method must be a non-empty DID URL such as 'did:web:…#key-1'"
        )
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise ValueError("proof_purpose must be a non-empty string such as 'assertionMethod'")

    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof: dict[str, Any] = {
        "type": DATA_INTEGRITY_PROOF,
        "cryptosuite": EDDSA_JCS_2022,
        "created": _format_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in unsecured:
        proof["@context"] = unsecured["@context"]

    signature = key.sign(_hash_data(unsecured, proof))
    proof["proofValue"] = "z" + base58btc_encode(signature)

    secured = dict(unsecured)
    existing = document.get("proof")
    if existing is None:
        secured["proof"] = proof
    elif isinstance(existing, list):
        secured["proof"] = [*existing, proof]
    else:
        secured["proof"] = [existing, proof]
    return secured


def verify_data_integrity(
    document: Mapping[str, Any],
    resolve_key: Callable[[str], PublicKey | None],
    *,
    credential_ref: str | None = None,
    proof_purpose: str = "assertionMethod",
    now: datetime | None = None,
) -> list[Finding]:
    """Verify every Data Integrity proof on ``document`` and return findings (empty when valid).

    Each proof of a proof set must verify. ``resolve_key(verificationMethod)`` returns the
    method's :class:`PublicKey`, or ``None`` when the key is not found, and a ``ValuetraceError``
    it raises becomes a finding too. A proof must have the purpose ``proof_purpose``, and one
    whose ``expires`` is not after ``now`` (default: the current time) is rejected.
    ``credential_ref`` names the credential in findings and defaults to the document's ``id``.
    Raises ``TypeError`` only when ``document`` is not a mapping.
    """
    if not isinstance(document, Mapping):
        raise TypeError(
            f"the document to verify must be a JSON object, got {type(document).__name__}"
        )
    reference = credential_ref
    if reference is None and isinstance(document.get("id"), str):
        reference = document["id"]
    check = _ProofCheck(document, resolve_key, reference, proof_purpose, now or datetime.now(UTC))

    proof = document.get("proof")
    if proof is None:
        message = (
            "the document has no Data Integrity proof: add a 'proof' signed with "
            f"{EDDSA_JCS_2022}, or secure it as a JOSE envelope"
        )
        return [Finding("proof.missing", Severity.ERROR, message, reference, "$")]
    if isinstance(proof, list):
        if not proof:
            message = "the 'proof' array is empty: it must contain at least one proof"
            return [Finding("proof.invalid", Severity.ERROR, message, reference, "$.proof")]
        findings: list[Finding] = []
        for index, item in enumerate(proof):
            findings.extend(check.verify(item, ["proof", index]))
        return findings
    return check.verify(proof, ["proof"])


class _ProofCheck:
    """The checks of one document's proofs, sharing the verifier's settings."""

    def __init__(
        self,
        document: Mapping[str, Any],
        resolve_key: Callable[[str], PublicKey | None],
        reference: str | None,
        proof_purpose: str,
        now: datetime,
    ) -> None:
        self.document = document
        self.resolve_key = resolve_key
        self.reference = reference
        self.proof_purpose = proof_purpose
        self.now = now

    def finding(self, code: str, message: str, parts: list[str | int]) -> Finding:
        return Finding(code, Severity.ERROR, message, self.reference, json_path(parts))

    def verify(self, proof: object, parts: list[str | int]) -> list[Finding]:
        if not isinstance(proof, Mapping):
            message = f"the proof is a {type(proof).__name__}, expected a JSON object"
            return [self.finding("proof.invalid", message, parts)]

        unsupported = self.unsupported(proof, parts)
        if unsupported:
            return unsupported
        findings = self.structure_findings(proof, parts)
        if findings:
            return findings

        signature = self.decode_proof_value(proof["proofValue"], [*parts, "proofValue"])
        if isinstance(signature, Finding):
            return [signature]

        unsecured = {name: value for name, value in self.document.items() if name != "proof"}
        options = {name: value for name, value in proof.items() if name != "proofValue"}
        if "@context" in options:
            context_finding = self.context_finding(options["@context"], parts)
            if context_finding is not None:
                return [context_finding]
            unsecured["@context"] = options["@context"]

        try:
            hash_data = _hash_data(unsecured, options)
        except (TypeError, ValueError) as exc:
            message = f"the document or proof cannot be canonicalized with RFC 8785: {exc}"
            return [self.finding("proof.invalid", message, parts)]

        return self.signature_findings(proof["verificationMethod"], signature, hash_data, parts)

    def unsupported(self, proof: Mapping[str, Any], parts: list[str | int]) -> list[Finding]:
        proof_type = proof.get("type")
        if proof_type != DATA_INTEGRITY_PROOF:
            message = (
                f"proof type {proof_type!r} is not supported: valuetrace verifies "
                f"{DATA_INTEGRITY_PROOF} proofs with the {EDDSA_JCS_2022} cryptosuite"
            )
            return [self.finding("proof.unsupported", message, [*parts, "type"])]
        cryptosuite = proof.get("cryptosuite")
        if cryptosuite != EDDSA_JCS_2022:
            message = (
                f"cryptosuite {cryptosuite!r} is not supported: valuetrace verifies only "
                f"{EDDSA_JCS_2022}; re-sign the credential with it or as a JOSE envelope"
            )
            return [self.finding("proof.unsupported", message, [*parts, "cryptosuite"])]
        if "previousProof" in proof:
            # NOTE: proof chains are not implemented, because verifying one needs the previous
            # proofs in the signed document. Proof sets without previousProof are verified.
            message = (
                "proof chains ('previousProof') are not supported: valuetrace verifies single "
                "proofs and proof sets"
            )
            return [self.finding("proof.unsupported", message, [*parts, "previousProof"])]
        return []

    def structure_findings(self, proof: Mapping[str, Any], parts: list[str | int]) -> list[Finding]:
        findings: list[Finding] = []
        for name in ("verificationMethod", "proofPurpose", "proofValue"):
            value = proof.get(name)
            if not isinstance(value, str) or not value:
                message = f"the proof's {name!r} is missing, empty or not a string"
                findings.append(self.finding("proof.invalid", message, [*parts, name]))

        purpose = proof.get("proofPurpose")
        if isinstance(purpose, str) and purpose and purpose != self.proof_purpose:
            message = (
                f"the proof's purpose is {purpose!r}, expected {self.proof_purpose!r}: "
                "this verifier accepts only proofs made for that purpose"
            )
            findings.append(self.finding("proof.invalid", message, [*parts, "proofPurpose"]))

        for name in ("created", "expires"):
            if name not in proof:
                continue
            moment = _parse_datetime(proof[name])
            if moment is None:
                message = (
                    f"the proof's {name!r} value {proof[name]!r} is not a date-time with a "
                    "time zone, such as '2024-05-01T12:00:00Z'"
                )
                findings.append(self.finding("proof.invalid", message, [*parts, name]))
            elif name == "expires" and moment <= self.now:
                message = f"the proof expired at {proof[name]}: ask the issuer for a new proof"
                findings.append(self.finding("proof.expired", message, [*parts, name]))
        return findings

    def decode_proof_value(self, proof_value: str, parts: list[str | int]) -> bytes | Finding:
        if not proof_value.startswith("z"):
            message = (
                f"proofValue {proof_value[:16]!r}… is not multibase base58btc: it must start "
                "with 'z'"
            )
            return self.finding("proof.invalid", message, parts)
        try:
            signature = base58btc_decode(proof_value[1:])
        except ValueError as exc:
            return self.finding("proof.invalid", f"proofValue is not valid base58btc: {exc}", parts)
        if len(signature) != _ED25519_SIGNATURE_LENGTH:
            message = (
                f"proofValue decodes to {len(signature)} bytes, an Ed25519 signature is 64 "
                "bytes, so the proof is probably truncated"
            )
            return self.finding("signature.invalid", message, parts)
        return signature

    def context_finding(self, proof_context: object, parts: list[str | int]) -> Finding | None:
        # The document's @context must start with the proof's @context, in the same order.
        expected = _as_list(proof_context)
        actual = _as_list(self.document.get("@context"))
        if actual[: len(expected)] == expected:
            return None
        message = (
            "the document's @context does not start with the proof's @context: "
            f"proof has {expected!r}, document has {actual!r}"
        )
        return self.finding("proof.invalid", message, [*parts, "@context"])

    def signature_findings(
        self,
        verification_method: str,
        signature: bytes,
        hash_data: bytes,
        parts: list[str | int],
    ) -> list[Finding]:
        try:
            public_key = self.resolve_key(verification_method)
            lookup_error = ""
        except ValuetraceError as exc:
            public_key = None
            lookup_error = f" ({exc})"
        if public_key is None:
            message = (
                f"verification method {verification_method!r} was not found{lookup_error}: its "
                f"DID document must list it in {self.proof_purpose}"
            )
            return [
                self.finding("signature.key_not_found", message, [*parts, "verificationMethod"])
            ]

        if public_key.key_type is not KeyType.ED25519:
            message = (
                f"verification method {verification_method!r} is a "
                f"{public_key.key_type.value} key, but {EDDSA_JCS_2022} proofs are signed with "
                "Ed25519 keys"
            )
            return [self.finding("signature.invalid", message, [*parts, "verificationMethod"])]

        if not public_key.verify(signature, hash_data):
            LOGGER.debug(
                "eddsa-jcs-2022 signature of %s failed with %s", self.reference, verification_method
            )
            message = (
                f"the {EDDSA_JCS_2022} signature does not verify with key "
                f"{verification_method!r}: the document or its proof options were changed after "
                "signing, or it was signed with another key"
            )
            return [self.finding("signature.invalid", message, [*parts, "proofValue"])]
        return []


def _hash_data(unsecured: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """Return SHA-256(canonical proof configuration) followed by SHA-256(canonical document)."""
    proof_hash = hashlib.sha256(canonicalize(proof_config)).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured)).digest()
    return proof_hash + document_hash


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def _format_datetime(moment: datetime) -> str:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(
            f"created must be a timezone-aware datetime, got {moment!r}: "
            "pass for example datetime.now(UTC)"
        )
    utc = moment.astimezone(UTC)
    timespec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _parse_datetime(value: object) -> datetime | None:
    """Parse an XML Schema dateTimeStamp, which must carry a time zone."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.utcoffset() is None:
        return None
    return moment
