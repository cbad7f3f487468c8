"""DID documents: build one for ``did:web``, and read keys and UNTP services from any."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from valuetrace.did._didkey import base58btc_decode, decode_ed25519_multikey
from valuetrace.did._didweb import did_web_to_url
from valuetrace.did._publickey import KeyType, PublicKey
from valuetrace.errors import DIDError

__all__ = [
    "DIA_SERVICE_TYPES",
    "build_did_web_document",
    "did_of",
    "find_dia_urls",
    "find_public_key",
]

LOGGER = logging.getLogger(__name__)

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
DIA_SERVICE_TYPE = "untp:dia"
# A service of either type points at the Digital Identity Anchor credential of the DID's owner.
DIA_SERVICE_TYPES = frozenset(
    {DIA_SERVICE_TYPE, "https://test.uncefact.org/vocabulary/linkTypes/dia"}
)

# DID syntax from DID Core: "did:" method-name ":" method-specific-id.
_ID_CHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID = re.compile(rf"^did:[a-z0-9]+:(?:{_ID_CHAR}|:)*{_ID_CHAR}$")
_FRAGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/?%-]+$")


def did_of(verification_method_id: str) -> str:
    """Return the DID of a DID URL: ``"did:web:a.example#key-1"`` gives ``"did:web:a.example"``.

    Raises ``DIDError`` if the value does not start with a well-formed DID.
    """
    if not isinstance(verification_method_id, str):
        raise DIDError(f"{verification_method_id!r} is not a DID URL: expected a string")
    did = re.split(r"[/?#]", verification_method_id, maxsplit=1)[0]
    if not _DID.match(did):
        raise DIDError(
            f"{verification_method_id!r} is not a DID URL: expected 'did:<method>:<id>' "
            "optionally followed by '#fragment', such as 'did:web:example.com#key-1'"
        )
    return did


def build_did_web_document(
    did: str, keys: Sequence[tuple[str, bytes | PublicKey]], *, dia_url: str | None = None
) -> dict[str, Any]:
    """Build the DID document to publish at the URL of a ``did:web`` DID.

    ``keys`` pairs a fragment (``"key-1"``) with a public key: a :class:`PublicKey` or the 32
    bytes of an Ed25519 key. Each key becomes a
    ``Multikey`` verification method listed in ``assertionMethod`` and ``authentication``.
    ``dia_url`` adds a ``untp:dia`` service pointing at the owner's Digital Identity Anchor.
    """
    did_web_to_url(did)
    if not keys:
        raise ValueError(f"DID document for {did!r} needs at least one key to sign credentials")

    methods: list[dict[str, str]] = []
    for fragment, public_key in keys:
        if not _FRAGMENT.match(fragment) or fragment.startswith("#"):
            raise ValueError(
                f"invalid key fragment {fragment!r}: give the part after '#' such as 'key-1'"
            )
        key_id = f"{did}#{fragment}"
        if any(method["id"] == key_id for method in methods):
            raise ValueError(f"key fragment {fragment!r} is used twice in the DID document")
        methods.append(
            {
                "id": key_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": _encode_multikey(public_key, fragment),
            }
        )

    method_ids = [method["id"] for method in methods]
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": list(method_ids),
        "authentication": list(method_ids),
    }
    if dia_url is not None:
        document["service"] = [
            {"id": f"{did}#dia", "type": DIA_SERVICE_TYPE, "serviceEndpoint": dia_url}
        ]
    return document


def _encode_multikey(public_key: bytes | PublicKey, fragment: str) -> str:
    if isinstance(public_key, PublicKey):
        return public_key.multibase()
    try:
        return PublicKey(KeyType.ED25519, bytes(public_key)).multibase()
    except ValueError as exc:
        raise ValueError(f"key {fragment!r}: {exc}") from exc


def _absolute_id(document_id: str | None, method_id: str) -> str:
    if method_id.startswith("#") and document_id:
        return document_id + method_id
    return method_id


def _public_key_of(method: Mapping[str, Any]) -> PublicKey:
    """Extract the public key of a verification method. Raises ``ValueError`` if it has none."""
    method_type = method.get("type")
    if method_type == "Multikey":
        multibase = method.get("publicKeyMultibase")
        if not isinstance(multibase, str):
            raise ValueError("Multikey method has no publicKeyMultibase string")
        return PublicKey.from_multibase(multibase)
    if method_type == "Ed25519VerificationKey2020":
        multibase = method.get("publicKeyMultibase")
        if not isinstance(multibase, str):
            raise ValueError("Ed25519VerificationKey2020 method has no publicKeyMultibase string")
        return PublicKey(KeyType.ED25519, decode_ed25519_multikey(multibase))
    if method_type in {"JsonWebKey", "JsonWebKey2020"}:
        return PublicKey.from_jwk(method.get("publicKeyJwk"))
    if method_type == "Ed25519VerificationKey2018":
        encoded = method.get("publicKeyBase58")
        if not isinstance(encoded, str):
            raise ValueError("Ed25519VerificationKey2018 method has no publicKeyBase58 string")
        key = base58btc_decode(encoded)
        if len(key) != 32:
            raise ValueError(f"publicKeyBase58 contains {len(key)} bytes, expected 32")
        return PublicKey(KeyType.ED25519, key)
    raise ValueError(
        f"verification method type {method_type!r} is not supported: use Multikey, "
        "JsonWebKey, JsonWebKey2020, Ed25519VerificationKey2020 or Ed25519VerificationKey2018"
    )


def _method_id(document_id: str | None, method: object) -> str | None:
    if isinstance(method, Mapping) and isinstance(method.get("id"), str):
        return _absolute_id(document_id, method["id"])
    return None


def _find_method(
    document: Mapping[str, Any], document_id: str | None, wanted: str, relationship: str
) -> Mapping[str, Any] | None:
    """Find the method ``wanted`` in a verification relationship, by reference or embedded."""
    assertion = document.get(relationship)
    if not isinstance(assertion, list):
        return None

    referenced = False
    for entry in assertion:
        if isinstance(entry, str) and _absolute_id(document_id, entry) == wanted:
            referenced = True
        elif isinstance(entry, Mapping) and _method_id(document_id, entry) == wanted:
            return entry
    if not referenced:
        return None

    methods = document.get("verificationMethod")
    for method in methods if isinstance(methods, list) else []:
        if isinstance(method, Mapping) and _method_id(document_id, method) == wanted:
            return method
    return None


def find_public_key(
    document: Mapping[str, Any],
    verification_method_id: str,
    relationship: str = "assertionMethod",
) -> PublicKey | None:
    """Return the public key that a DID document lists under an id for a relationship.

    ``verification_method_id`` may be absolute (``did:web:a.example#key-1``) or relative
    (``#key-1``). Only methods listed in ``relationship`` (``assertionMethod`` for credentials,
    ``authentication`` for presentations), by reference or embedded, count. Returns
    ``None`` if there is no such method or it contains no usable Ed25519, P-256 or P-384 key
    (logged as a warning).
    """
    document_id = document.get("id")
    if not isinstance(document_id, str):
        document_id = None
    wanted = _absolute_id(document_id, verification_method_id)
    if document_id is not None and not wanted.startswith(document_id + "#"):
        LOGGER.warning(
            "verification method %s does not belong to DID document %s", wanted, document_id
        )
        return None

    method = _find_method(document, document_id, wanted, relationship)
    if method is None:
        return None
    try:
        return _public_key_of(method)
    except ValueError as exc:
        LOGGER.warning("verification method %s has no usable public key: %s", wanted, exc)
        return None


def _endpoint_urls(endpoint: object) -> list[str]:
    if isinstance(endpoint, str):
        return [endpoint]
    if isinstance(endpoint, Mapping):
        for field in ("uri", "url"):
            value = endpoint.get(field)
            if isinstance(value, str):
                return [value]
        return []
    if isinstance(endpoint, list):
        return [url for item in endpoint for url in _endpoint_urls(item)]
    return []


def find_dia_urls(document: Mapping[str, Any]) -> list[str]:
    """Return the URLs of the Digital Identity Anchor services of a DID document, in order.

    A service counts if its ``type`` (a string or a list) is ``untp:dia`` or the UNTP link type
    IRI ``https://test.uncefact.org/vocabulary/linkTypes/dia``. ``serviceEndpoint`` may be a
    string, an object with ``uri`` or ``url``, or a list of those.
    """
    services = document.get("service")
    if isinstance(services, Mapping):
        services = [services]
    if not isinstance(services, list):
        return []

    urls: list[str] = []
    for service in services:
        if not isinstance(service, Mapping):
            continue
        service_type = service.get("type")
        types = service_type if isinstance(service_type, list) else [service_type]
        if not any(isinstance(item, str) and item in DIA_SERVICE_TYPES for item in types):
            continue
        for url in _endpoint_urls(service.get("serviceEndpoint")):
            if url not in urls:
                urls.append(url)
    return urls
