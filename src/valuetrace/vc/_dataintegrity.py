"""W3C VC Data Integrity proofs: ``eddsa-jcs-2022``, ``eddsa-rdfc-2022`` and ``ecdsa-rdfc-2019``.

A proof signs two hashes: one of the canonical proof configuration (the proof without
``proofValue``, with the document's ``@context``) and one of the canonical document without its
``proof``. :mod:`valuetrace.vc._cryptosuites` defines how each suite canonicalizes and hashes.
The signature is stored in ``proofValue`` as multibase base58btc (``z…``). The algorithms follow
the W3C "Data Integrity EdDSA Cryptosuites v1.0" and "Data Integrity ECDSA Cryptosuites v1.0"
specifications.

Verification of the RDF suites runs in "safe mode". The document and the proof configuration
must not contain a key or type that their JSON-LD contexts leave undefined. JSON-LD would drop
it from the signed N-Quads, so a proof would hold whatever its value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from valuetrace.did import EcKeyPair, Ed25519KeyPair, PublicKey
from valuetrace.did._didkey import base58btc_decode, base58btc_encode
from valuetrace.errors import ValuetraceError
from valuetrace.findings import Finding, Severity, json_path
from valuetrace.jsonld._rdf import JsonLdError
from valuetrace.jsonld._rdfc import DEFAULT_TIME_LIMIT, CanonicalizationError
from valuetrace.jsonld._terms import check_terms
from valuetrace.vc._cryptosuites import (
    CRYPTOSUITES,
    ECDSA_RDFC_2019,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    Cryptosuite,
    canonical_form,
    digest,
    hash_data,
)

__all__ = [
    "DATA_INTEGRITY_PROOF",
    "ECDSA_RDFC_2019",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "add_proof",
    "add_proof_eddsa_jcs",
    "verify_data_integrity",
]

LOGGER = logging.getLogger(__name__)

DATA_INTEGRITY_PROOF = "DataIntegrityProof"

SigningKey = Ed25519KeyPair | EcKeyPair
"""A key pair that can sign Data Integrity proofs."""

_SUPPORTED_TEXT = ", ".join(sorted(CRYPTOSUITES))


def add_proof(
    document: Mapping[str, Any],
    key: SigningKey,
    verification_method: str,
    *,
    cryptosuite: str,
    created: datetime,
    proof_purpose: str = "assertionMethod",
    canonicalization_time_limit: float = DEFAULT_TIME_LIMIT,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
) -> dict[str, Any]:
    """Sign ``document`` with a Data Integrity proof of ``cryptosuite`` and return a copy.

    ``cryptosuite`` is ``eddsa-jcs-2022`` or ``eddsa-rdfc-2022`` for an Ed25519 key, and
    ``ecdsa-rdfc-2019`` for a P-256 or P-384 key. ``verification_method`` is the DID URL of
    ``key`` that verifiers resolve. ``created`` must be timezone-aware and is written in UTC.
    When the document already has proofs, the new proof is signed over the document without
    them and appended, which makes a proof set. With ``previous_proof`` (the ``id`` of one or
    more existing proofs) it is signed over the document with those proofs instead, which makes
    a proof chain. ``proof_id`` sets the new proof's own ``id``, so that later proofs can follow
    it.
    Raises ``ValueError`` or ``TypeError`` for an
    argument that cannot be signed, and :class:`~valuetrace.jsonld.JsonLdError` when an RDF
    suite would drop part of the document (an undefined term, a relative IRI, a context that is
    neither bundled nor registered). Raises :class:`~valuetrace.jsonld.CanonicalizationError`
    when RDFC-1.0 canonicalization takes longer than ``canonicalization_time_limit`` seconds.
    """
    if not isinstance(document, Mapping):
        raise TypeError(
            f"the document to sign must be a JSON object, got {type(document).__name__}"
        )
    suite = CRYPTOSUITES.get(cryptosuite)
    if suite is None:
        raise ValueError(f"cryptosuite {cryptosuite!r} is not supported; use {_SUPPORTED_TEXT}")
    if key.key_type not in suite.key_types:
        raise ValueError(
            f"{cryptosuite} signs with {suite.key_types_text()} keys, and the given key is "
            f"{key.key_type.value}"
        )
    if not isinstance(verification_method, str) or not verification_method:
        raise ValueError(
            "verification_method must be a non-empty DID URL such as 'did:web:…#key-1'"
        )
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise ValueError("proof_purpose must be a non-empty string such as 'assertionMethod'")

    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof: dict[str, Any] = {"type": DATA_INTEGRITY_PROOF}
    if proof_id is not None:
        proof["id"] = proof_id
    proof.update(
        {
            "cryptosuite": cryptosuite,
            "created": _format_datetime(created),
            "verificationMethod": verification_method,
            "proofPurpose": proof_purpose,
        }
    )
    proof_config = _proof_config(proof, unsecured)
    if previous_proof is not None:
        proof["previousProof"] = previous_proof
        proof_config["previousProof"] = previous_proof
        unsecured_for_signing = {
            **unsecured,
            "proof": _followed_proofs(document.get("proof"), previous_proof),
        }
    else:
        unsecured_for_signing = unsecured
    if "@context" in unsecured and not suite.rdf:
        # eddsa-jcs-2022 proofs carry the @context they were signed with.
        proof["@context"] = unsecured["@context"]

    signed_bytes = hash_data(
        suite,
        unsecured_for_signing,
        proof_config,
        key.key_type,
        time_limit=canonicalization_time_limit,
    )
    signature = key.sign(signed_bytes)
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


def _followed_proofs(existing: object, previous_proof: str | list[str]) -> list[Any]:
    """Return the existing proofs whose ``id`` ``previous_proof`` names, in that order."""
    named_ids = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof)
    proofs = existing if isinstance(existing, list) else [existing]
    by_id = {
        item["id"]: item
        for item in proofs
        if isinstance(item, Mapping) and isinstance(item.get("id"), str)
    }
    missing = [item for item in named_ids if item not in by_id]
    if not named_ids or missing:
        raise ValueError(
            f"previous_proof names {missing or named_ids}, but the document has no proof with that "
            "id: give the id of a proof already on the document"
        )
    return [by_id[item] for item in named_ids]


def add_proof_eddsa_jcs(
    document: Mapping[str, Any],
    key: Ed25519KeyPair,
    verification_method: str,
    *,
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Sign ``document`` with an ``eddsa-jcs-2022`` proof: :func:`add_proof` with that suite."""
    return add_proof(
        document,
        key,
        verification_method,
        cryptosuite=EDDSA_JCS_2022,
        created=created,
        proof_purpose=proof_purpose,
    )


def verify_data_integrity(
    document: Mapping[str, Any],
    resolve_key: Callable[[str], PublicKey | None],
    *,
    credential_ref: str | None = None,
    proof_purpose: str = "assertionMethod",
    now: datetime | None = None,
    canonicalization_time_limit: float = DEFAULT_TIME_LIMIT,
) -> list[Finding]:
    """Verify every Data Integrity proof on ``document`` and return findings (empty when valid).

    Each proof of a proof set must verify. ``resolve_key(verificationMethod)`` returns the
    method's :class:`PublicKey`, or ``None`` when the key is not found, and a ``ValuetraceError``
    it raises becomes a finding too. A proof must have the purpose ``proof_purpose``, and one
    whose ``expires`` is not after ``now`` (default: the current time) is rejected. Proofs of
    the RDF suites also fail on every error that :func:`~valuetrace.jsonld.check_terms` reports,
    and JSON-LD contexts come only from the bundled and registered documents (see
    :func:`~valuetrace.jsonld.register_context`). RDFC-1.0 canonicalization that takes longer
    than ``canonicalization_time_limit`` seconds gives an ``rdfc.time_limit`` finding.
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
    check = _ProofCheck(
        document,
        resolve_key,
        reference,
        proof_purpose,
        now or datetime.now(UTC),
        canonicalization_time_limit,
    )

    proof = document.get("proof")
    if proof is None:
        message = (
            "the document has no Data Integrity proof: add a 'proof' signed with one of "
            f"{_SUPPORTED_TEXT}, or secure it as a JOSE envelope"
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
        time_limit: float,
    ) -> None:
        self.document = document
        self.resolve_key = resolve_key
        self.reference = reference
        self.proof_purpose = proof_purpose
        self.now = now
        self.time_limit = time_limit
        # Term check results of unsecured documents, by the text of their @context.
        self.term_errors: dict[str, list[Finding]] = {}
        # Hashes of unsecured documents, shared by the proofs of a proof set.
        self.document_hashes: dict[tuple[bool, str, str], bytes] = {}

    def finding(self, code: str, message: str, parts: list[str | int]) -> Finding:
        return Finding(code, Severity.ERROR, message, self.reference, json_path(parts))

    def verify(self, proof: object, parts: list[str | int]) -> list[Finding]:
        if not isinstance(proof, Mapping):
            message = f"the proof is a {type(proof).__name__}, expected a JSON object"
            return [self.finding("proof.invalid", message, parts)]

        suite, findings = self.suite_of(proof, parts)
        if suite is None:
            return findings
        findings = self.structure_findings(proof, parts)
        if findings:
            return findings

        signature = self.decode_proof_value(proof["proofValue"], [*parts, "proofValue"])
        if isinstance(signature, Finding):
            return [signature]

        previous = self.previous_proofs(proof, parts)
        if isinstance(previous, Finding):
            return [previous]

        unsecured = {name: value for name, value in self.document.items() if name != "proof"}
        if previous is not None:
            # A chained proof signs the document with the proofs it follows.
            unsecured["proof"] = previous
        options = {name: value for name, value in proof.items() if name != "proofValue"}
        if "@context" in options:
            context_finding = self.context_finding(options["@context"], parts)
            if context_finding is not None:
                return [context_finding]
            unsecured["@context"] = options["@context"]
        proof_config = _proof_config(options, unsecured)

        if suite.rdf:
            findings = self.term_findings(unsecured, proof_config, parts)
            if findings:
                return findings

        public_key = self.public_key(suite, proof["verificationMethod"], parts)
        if isinstance(public_key, Finding):
            return [public_key]

        proof_hash = self.canonical_hash(suite, public_key, proof_config, parts, parts)
        if isinstance(proof_hash, Finding):
            return [proof_hash]
        document_hash = self.canonical_hash(suite, public_key, unsecured, [], parts)
        if isinstance(document_hash, Finding):
            return [document_hash]
        signed_bytes = proof_hash + document_hash

        return self.signature_findings(
            suite, public_key, proof["verificationMethod"], signature, signed_bytes, parts
        )

    def canonical_hash(
        self,
        suite: Cryptosuite,
        public_key: PublicKey,
        document: Mapping[str, Any],
        document_parts: list[str | int],
        parts: list[str | int],
    ) -> bytes | Finding:
        """Canonicalize and hash the unsecured document or a proof configuration.

        ``document_parts`` is where ``document`` sits in the secured document, for the paths
        of findings. The unsecured document's hash is computed once per proof set.
        """
        # Unsecured documents differ only in the @context that a proof may replace, and in the
        # previous proofs that a chained proof signs with the document.
        key = (
            suite.rdf,
            suite.hash_algorithm(public_key.key_type),
            repr((document.get("@context"), document.get("proof"))),
        )
        if not document_parts:
            cached = self.document_hashes.get(key)
            if cached is not None:
                return cached
        try:
            canonical = canonical_form(
                suite, document, public_key.key_type, time_limit=self.time_limit
            )
        except JsonLdError as exc:
            message = f"the {suite.name} proof cannot be verified: {exc}"
            return Finding(
                exc.code,
                Severity.ERROR,
                message,
                self.reference,
                json_path(document_parts) + exc.path[1:],
            )
        except CanonicalizationError as exc:
            message = f"the {suite.name} proof cannot be verified: {exc}"
            return self.finding(exc.code, message, parts)
        except (TypeError, ValueError) as exc:
            message = f"the document or proof cannot be canonicalized with RFC 8785: {exc}"
            return self.finding("proof.invalid", message, parts)
        hashed = digest(suite, public_key.key_type, canonical)
        if not document_parts:
            self.document_hashes[key] = hashed
        return hashed

    def suite_of(
        self, proof: Mapping[str, Any], parts: list[str | int]
    ) -> tuple[Cryptosuite | None, list[Finding]]:
        proof_type = proof.get("type")
        if proof_type != DATA_INTEGRITY_PROOF:
            message = (
                f"proof type {proof_type!r} is not supported: valuetrace verifies "
                f"{DATA_INTEGRITY_PROOF} proofs with the cryptosuites {_SUPPORTED_TEXT}"
            )
            return None, [self.finding("proof.unsupported", message, [*parts, "type"])]
        cryptosuite = proof.get("cryptosuite")
        suite = CRYPTOSUITES.get(cryptosuite) if isinstance(cryptosuite, str) else None
        if suite is None:
            message = (
                f"cryptosuite {cryptosuite!r} is not supported: valuetrace verifies only "
                f"{_SUPPORTED_TEXT}; re-sign the credential with one of them or as a JOSE "
                "envelope"
            )
            return None, [self.finding("proof.unsupported", message, [*parts, "cryptosuite"])]
        return suite, []

    def previous_proofs(
        self, proof: Mapping[str, Any], parts: list[str | int]
    ) -> list[Any] | Finding | None:
        """Return the proofs that a chained proof's ``previousProof`` names, in that order.

        A proof of a proof chain signs the document together with the proofs it follows, so
        those must be in the same proof set. Returns ``None`` for a proof without
        ``previousProof``.

        NOTE: the order matters only for eddsa-jcs-2022 chains (RDF ignores it); the official
        chain vectors are eddsa-rdfc-2022 and list previous proofs in set order.
        """
        if "previousProof" not in proof:
            return None
        raw = proof["previousProof"]
        named_ids = [raw] if isinstance(raw, str) else raw
        if (
            not isinstance(named_ids, list)
            or not named_ids
            or not all(isinstance(item, str) for item in named_ids)
        ):
            message = "previousProof must be a proof id or a non-empty list of proof ids"
            return self.finding("proof.invalid", message, [*parts, "previousProof"])
        all_proofs = self.document.get("proof")
        candidates = all_proofs if isinstance(all_proofs, list) else [all_proofs]
        by_id = {
            item["id"]: item
            for item in candidates
            if isinstance(item, Mapping) and isinstance(item.get("id"), str)
        }
        missing = [item for item in named_ids if item not in by_id]
        if missing:
            message = (
                f"previousProof names {missing}, but the proof set has no proof with that id: "
                "a chained proof can be verified only together with the proofs it follows"
            )
            return self.finding("proof.invalid", message, [*parts, "previousProof"])
        return [by_id[item] for item in named_ids]

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
            return base58btc_decode(proof_value[1:])
        except ValueError as exc:
            return self.finding("proof.invalid", f"proofValue is not valid base58btc: {exc}", parts)

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

    def term_findings(
        self,
        unsecured: Mapping[str, Any],
        proof_config: Mapping[str, Any],
        parts: list[str | int],
    ) -> list[Finding]:
        """Return the term check's errors for the document and the proof configuration."""
        key = repr(unsecured.get("@context"))
        document_errors = self.term_errors.get(key)
        if document_errors is None:
            document_errors = self.errors_of(check_terms(unsecured, credential=self.reference))
            self.term_errors[key] = document_errors
        # The proof configuration shares the document's @context, so a context problem would
        # be reported twice; keep the document's report.
        reported = {(found.code, found.message) for found in document_errors}
        proof_errors = [
            Finding(
                found.code,
                found.severity,
                found.message,
                found.credential,
                json_path(parts) + found.path[1:],
            )
            for found in self.errors_of(check_terms(proof_config, credential=self.reference))
            if (found.code, found.message) not in reported
        ]
        return [*document_errors, *proof_errors]

    @staticmethod
    def errors_of(findings: list[Finding]) -> list[Finding]:
        return [
            Finding(
                found.code,
                Severity.ERROR,
                "the proof cannot be verified over terms that JSON-LD drops: " + found.message,
                found.credential,
                found.path,
            )
            for found in findings
            if found.severity is Severity.ERROR
        ]

    def public_key(
        self, suite: Cryptosuite, verification_method: str, parts: list[str | int]
    ) -> PublicKey | Finding:
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
            return self.finding("signature.key_not_found", message, [*parts, "verificationMethod"])
        if public_key.key_type not in suite.key_types:
            message = (
                f"the key found for verification method {verification_method!r} is "
                f"{public_key.key_type.with_article} key, but {suite.name} proofs are signed with "
                f"{suite.key_types_text()} keys"
            )
            return self.finding("signature.invalid", message, [*parts, "verificationMethod"])
        return public_key

    def signature_findings(
        self,
        suite: Cryptosuite,
        public_key: PublicKey,
        verification_method: str,
        signature: bytes,
        signed_bytes: bytes,
        parts: list[str | int],
    ) -> list[Finding]:
        if len(signature) != public_key.signature_length:
            message = (
                f"proofValue decodes to {len(signature)} bytes, but a "
                f"{public_key.key_type.value} signature is {public_key.signature_length} bytes, "
                "so the proof is probably truncated"
            )
            return [self.finding("signature.invalid", message, [*parts, "proofValue"])]
        if not public_key.verify(signature, signed_bytes):
            LOGGER.debug(
                "%s signature of %s failed with %s", suite.name, self.reference, verification_method
            )
            message = (
                f"the {suite.name} signature does not verify with key "
                f"{verification_method!r}: the document or its proof options were changed after "
                "signing, or it was signed with another key"
            )
            return [self.finding("signature.invalid", message, [*parts, "proofValue"])]
        return []


def _proof_config(options: Mapping[str, Any], unsecured: Mapping[str, Any]) -> dict[str, Any]:
    """Return the proof configuration: the proof options with the document's ``@context``."""
    config = {name: value for name, value in options.items() if name != "@context"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return config


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
