"""The Data Integrity cryptosuites: which keys they take and which bytes they sign.

Every suite signs ``hash(canonical proof configuration) || hash(canonical document)``:

- ``eddsa-jcs-2022``: RFC 8785 JSON canonicalization, SHA-256, Ed25519 (W3C "Data Integrity
  EdDSA Cryptosuites v1.0").
- ``eddsa-rdfc-2022``: RDFC-1.0 canonical N-Quads of the JSON-LD, SHA-256, Ed25519 (same
  specification).
- ``ecdsa-rdfc-2019``: RDFC-1.0 and SHA-256 with P-256 keys; RDFC-1.0 parameterised with
  SHA-384 and SHA-384 hashes with P-384 keys. The ECDSA signature, in ``r || s`` form, hashes
  its input once more with the same function (W3C "Data Integrity ECDSA Cryptosuites v1.0").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from valuetrace.did import KeyType
from valuetrace.jsonld._rdfc import DEFAULT_TIME_LIMIT, HashAlgorithm, canonicalize_jsonld
from valuetrace.vc._jcs import canonicalize

__all__ = [
    "CRYPTOSUITES",
    "ECDSA_RDFC_2019",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "Cryptosuite",
    "canonical_form",
    "digest",
    "hash_data",
]

EDDSA_JCS_2022: Final = "eddsa-jcs-2022"
EDDSA_RDFC_2022: Final = "eddsa-rdfc-2022"
ECDSA_RDFC_2019: Final = "ecdsa-rdfc-2019"

_HASHES: Final[dict[str, Callable[[bytes], Any]]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}


@dataclass(frozen=True)
class Cryptosuite:
    """A Data Integrity cryptosuite: its name, key types and canonicalization."""

    name: str
    key_types: frozenset[KeyType]
    rdf: bool
    """True when the suite signs RDFC-1.0 canonical N-Quads, false for RFC 8785 JSON."""

    def hash_algorithm(self, key_type: KeyType) -> HashAlgorithm:
        """Return the hash function that proofs with a key of ``key_type`` use."""
        return "sha384" if key_type is KeyType.P384 else "sha256"

    def key_types_text(self) -> str:
        """Name the suite's key types for messages, such as 'P-256 or P-384'."""
        return " or ".join(sorted(key_type.value for key_type in self.key_types))


CRYPTOSUITES: Final[Mapping[str, Cryptosuite]] = {
    EDDSA_JCS_2022: Cryptosuite(EDDSA_JCS_2022, frozenset({KeyType.ED25519}), rdf=False),
    EDDSA_RDFC_2022: Cryptosuite(EDDSA_RDFC_2022, frozenset({KeyType.ED25519}), rdf=True),
    ECDSA_RDFC_2019: Cryptosuite(
        ECDSA_RDFC_2019, frozenset({KeyType.P256, KeyType.P384}), rdf=True
    ),
}
"""The cryptosuites valuetrace signs and verifies, by name."""


def canonical_form(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    key_type: KeyType,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> bytes:
    """Canonicalize a document or proof configuration as ``suite`` does, as UTF-8 bytes.

    Raises :class:`~valuetrace.jsonld.JsonLdError` or
    :class:`~valuetrace.jsonld.CanonicalizationError` for RDF suites, and ``TypeError`` or
    ``ValueError`` for JSON that RFC 8785 cannot serialize.
    """
    if suite.rdf:
        canonical = canonicalize_jsonld(
            document, hash_algorithm=suite.hash_algorithm(key_type), time_limit=time_limit
        )
        return canonical.encode("utf-8")
    return canonicalize(document)


def digest(suite: Cryptosuite, key_type: KeyType, canonical: bytes) -> bytes:
    """Hash a canonical form with the function ``suite`` uses for keys of ``key_type``."""
    return bytes(_HASHES[suite.hash_algorithm(key_type)](canonical).digest())


def hash_data(
    suite: Cryptosuite,
    unsecured: Mapping[str, Any],
    proof_config: Mapping[str, Any],
    key_type: KeyType,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> bytes:
    """Return the bytes a proof signs: the proof configuration hash, then the document hash.

    ``proof_config`` is the proof without ``proofValue`` and with the document's ``@context``.
    Raises what :func:`canonical_form` raises.
    """
    proof_canonical = canonical_form(suite, proof_config, key_type, time_limit=time_limit)
    document_canonical = canonical_form(suite, unsecured, key_type, time_limit=time_limit)
    return digest(suite, key_type, proof_canonical) + digest(suite, key_type, document_canonical)
