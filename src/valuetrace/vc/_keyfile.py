"""Verification keys read from files, for verifying against a key instead of the issuer's DID.

Test suites hand over the key that signed their vectors as a file. The file is a JSON Web Key,
a ``Multikey`` verification method, or a ``JsonWebKey`` / ``JsonWebKey2020`` verification
method. Private members (``d``, ``secretKeyJwk``, ``secretKeyMultibase``,
``privateKeyMultibase``) are ignored: only the public key is read.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuetrace.did import PublicKey
from valuetrace.errors import InputError

__all__ = [
    "VerificationMethodKey",
    "jwk_thumbprint",
    "load_verification_key",
    "read_verification_key",
]

_JWK_METHOD_TYPES = frozenset({"JsonWebKey", "JsonWebKey2020"})
_MULTIBASE_METHOD_TYPES = frozenset({"Multikey", "Ed25519VerificationKey2020"})
# RFC 7638 section 3.2: the members of a key that its thumbprint covers, per key type.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}
_THUMBPRINT_URI_PREFIX = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"


@dataclass(frozen=True)
class VerificationMethodKey:
    """A public key read from a key file, with the names that a signed document may use for it.

    ``key_id`` is the verification method's ``id``, or the JWK's ``kid`` for a bare JWK, or
    ``None``. ``names`` contains every value that identifies this key: the id, its fragment
    (``#key-1``), the JWK ``kid`` and the RFC 7638 thumbprint, bare and as a thumbprint URI.
    """

    public_key: PublicKey
    key_id: str | None
    names: frozenset[str]

    @property
    def label(self) -> str:
        """The key id, or the public key itself when the file gives no id, for messages."""
        if self.key_id is not None:
            return self.key_id
        return f"{self.public_key.key_type.value} key {self.public_key.multibase()}"

    def is_named_by(self, kid: str) -> bool:
        """Check whether ``kid`` names this key.

        It does when it is one of ``names`` or a URL that ends in the key's thumbprint URI, such
        as ``https://issuer.example/keys/urn:ietf:params:oauth:jwk-thumbprint:sha-256:…``.
        """
        if kid in self.names:
            return True
        return kid.endswith("/" + _THUMBPRINT_URI_PREFIX + jwk_thumbprint(self.public_key))


def jwk_thumbprint(public_key: PublicKey) -> str:
    """Compute the RFC 7638 SHA-256 thumbprint of a public key, base64url-encoded."""
    jwk = public_key.jwk()
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def read_verification_key(document: object) -> VerificationMethodKey:
    """Read the public key of a JWK or a verification method document.

    Accepted forms are a JWK (``{"kty": …}``), a ``Multikey`` or ``Ed25519VerificationKey2020``
    method with ``publicKeyMultibase``, an object with only ``publicKeyMultibase`` (the key pair
    files of the W3C Data Integrity test vectors), and a ``JsonWebKey`` or ``JsonWebKey2020``
    method with ``publicKeyJwk``. Raises ``InputError`` naming what is missing or unsupported.
    """
    if not isinstance(document, Mapping):
        raise InputError(
            f"the key file contains {type(document).__name__}, expected a JSON object: "
            "a JWK or a verification method"
        )

    method_type = document.get("type")
    if method_type is not None and not isinstance(method_type, str):
        raise InputError(f"the verification method's type is {method_type!r}, expected a string")
    key_id = document.get("id") if isinstance(document.get("id"), str) else None
    jwk: Mapping[str, Any] | None = None
    try:
        if "kty" in document:
            jwk = document
            public_key = PublicKey.from_jwk(document)
            key_id = document.get("kid") if isinstance(document.get("kid"), str) else None
        elif method_type in _JWK_METHOD_TYPES:
            found = document.get("publicKeyJwk")
            if not isinstance(found, Mapping):
                raise ValueError(f"the {method_type} method has no 'publicKeyJwk' object")
            jwk = found
            public_key = PublicKey.from_jwk(found)
        elif method_type in _MULTIBASE_METHOD_TYPES or (
            method_type is None and "publicKeyMultibase" in document
        ):
            multibase = document.get("publicKeyMultibase")
            if not isinstance(multibase, str):
                raise ValueError("the method has no 'publicKeyMultibase' string")
            public_key = PublicKey.from_multibase(multibase)
        else:
            raise ValueError(
                f"verification method type {method_type!r} is not supported: give a JWK, or "
                "a Multikey, JsonWebKey or JsonWebKey2020 verification method"
            )
    except ValueError as exc:
        raise InputError(f"the key file contains no usable public key: {exc}") from exc

    return VerificationMethodKey(public_key, key_id, _key_names(public_key, key_id, jwk))


def load_verification_key(path: Path) -> VerificationMethodKey:
    """Read a key file (see :func:`read_verification_key`). Raises ``InputError`` on failure."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read key file {str(path)!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"key file {str(path)!r} is not UTF-8 text: {exc}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InputError(f"key file {str(path)!r} is not valid JSON: {exc}") from exc
    try:
        return read_verification_key(document)
    except InputError as exc:
        raise InputError(f"key file {str(path)!r}: {exc}") from exc


def _key_names(
    public_key: PublicKey, key_id: str | None, jwk: Mapping[str, Any] | None
) -> frozenset[str]:
    thumbprint = jwk_thumbprint(public_key)
    names = {thumbprint, _THUMBPRINT_URI_PREFIX + thumbprint}
    if key_id:
        names.add(key_id)
        if "#" in key_id:
            names.add("#" + key_id.split("#", 1)[1])
    if jwk is not None and isinstance(jwk.get("kid"), str) and jwk["kid"]:
        names.add(jwk["kid"])
    return frozenset(names)
