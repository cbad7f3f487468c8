"""Typed public keys (Ed25519, P-256, P-384) and ECDSA key pairs.

Verifiers receive a :class:`PublicKey` from a DID document, a did:key DID or a key file, so the
same code checks JOSE signatures and Data Integrity proofs of every supported algorithm.
ECDSA signatures use the IEEE P1363 form (``r || s``, each as long as the curve order) that JOSE
and the Data Integrity ECDSA cryptosuites both use.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from valuetrace.did._didkey import (
    base58btc_decode,
    base58btc_encode,
    decode_varint,
    encode_varint,
    multicodec_name,
)
from valuetrace.errors import SigningKeyError

__all__ = [
    "EcKeyPair",
    "KeyType",
    "PublicKey",
    "verify_ed25519",
]


class KeyType(StrEnum):
    """Key algorithms that valuetrace signs and verifies with."""

    ED25519 = "Ed25519"
    P256 = "P-256"
    P384 = "P-384"

    @property
    def with_article(self) -> str:
        """The name with its indefinite article, for messages: "an Ed25519", "a P-256"."""
        return f"an {self.value}" if self is KeyType.ED25519 else f"a {self.value}"


@dataclass(frozen=True)
class _CurveInfo:
    curve: ec.EllipticCurve
    hash_algorithm: type[hashes.SHA256] | type[hashes.SHA384]
    coordinate_length: int
    public_codec: int
    private_codec: int
    jose_algorithm: str


# Multicodec codes from the multiformats table: p256-pub 0x1200, p384-pub 0x1201,
# p256-priv 0x1306, p384-priv 0x1307. Public keys are compressed SEC1 points.
_CURVES: dict[KeyType, _CurveInfo] = {
    KeyType.P256: _CurveInfo(ec.SECP256R1(), hashes.SHA256, 32, 0x1200, 0x1306, "ES256"),
    KeyType.P384: _CurveInfo(ec.SECP384R1(), hashes.SHA384, 48, 0x1201, 0x1307, "ES384"),
}
_ED25519_PUBLIC_CODEC = 0xED
_ED25519_LENGTH = 32
_ED25519_SIGNATURE_LENGTH = 64

# JOSE algorithm names per key type. RFC 8037 names Ed25519 signatures "EdDSA"; RFC 9864 adds
# the fully specified name "Ed25519".
JOSE_ALGORITHMS: Mapping[KeyType, frozenset[str]] = {
    KeyType.ED25519: frozenset({"EdDSA", "Ed25519"}),
    KeyType.P256: frozenset({"ES256"}),
    KeyType.P384: frozenset({"ES384"}),
}

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public key with its algorithm.

    ``raw`` is the 32-byte key for Ed25519 and the compressed SEC1 point (33 bytes for P-256,
    49 for P-384) for the NIST curves.
    """

    key_type: KeyType
    raw: bytes

    def __post_init__(self) -> None:
        if self.key_type is KeyType.ED25519:
            if len(self.raw) != _ED25519_LENGTH:
                raise ValueError(f"an Ed25519 public key is 32 bytes, got {len(self.raw)} bytes")
            return
        _ec_public_key(self.key_type, self.raw)

    @property
    def jose_algorithms(self) -> frozenset[str]:
        """JOSE ``alg`` values that this key verifies."""
        return JOSE_ALGORITHMS[self.key_type]

    @property
    def signature_length(self) -> int:
        """Length in bytes of a signature by this key (ECDSA in ``r || s`` form)."""
        if self.key_type is KeyType.ED25519:
            return 64
        return 2 * _CURVES[self.key_type].coordinate_length

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Check a signature over ``data``; ``False`` also for a signature of the wrong length.

        ECDSA hashes ``data`` with SHA-256 for P-256 and SHA-384 for P-384.
        """
        if self.key_type is KeyType.ED25519:
            return verify_ed25519(self.raw, signature, data)
        info = _CURVES[self.key_type]
        if len(signature) != 2 * info.coordinate_length:
            return False
        half = info.coordinate_length
        r = int.from_bytes(signature[:half], "big")
        s = int.from_bytes(signature[half:], "big")
        try:
            _ec_public_key(self.key_type, self.raw).verify(
                encode_dss_signature(r, s), data, ec.ECDSA(info.hash_algorithm())
            )
        except InvalidSignature:
            return False
        return True

    @classmethod
    def from_multibase(cls, value: str) -> PublicKey:
        """Decode a Multikey ``publicKeyMultibase`` (``z6Mk…``, ``zDn…``, ``z82…``).

        Raises ``ValueError`` naming the problem: another multibase, an unsupported key type,
        a wrong length or a point that is not on the curve.
        """
        if not isinstance(value, str) or not value.startswith("z"):
            raise ValueError(f"multibase value {value!r} does not start with 'z' (base58btc)")
        data = base58btc_decode(value[1:])
        codec, used = decode_varint(data)
        key = data[used:]
        if codec == _ED25519_PUBLIC_CODEC:
            if len(key) != _ED25519_LENGTH:
                raise ValueError(
                    f"multibase value {value!r} contains {len(key)} key bytes, "
                    "an Ed25519 public key is 32 bytes"
                )
            return cls(KeyType.ED25519, key)
        for key_type, info in _CURVES.items():
            if codec == info.public_codec:
                return cls(key_type, key)
        raise ValueError(
            f"multibase value {value!r} contains a {multicodec_name(codec)} "
            f"(multicodec 0x{codec:x}); supported keys are Ed25519, P-256 and P-384"
        )

    @classmethod
    def from_jwk(cls, jwk: object) -> PublicKey:
        """Read the public part of a JSON Web Key (OKP Ed25519, EC P-256 or P-384).

        A private member ``d`` is ignored. Raises ``ValueError`` naming the problem.
        """
        if not isinstance(jwk, Mapping):
            raise ValueError("the JSON Web Key is missing or not an object")
        kty = jwk.get("kty")
        crv = jwk.get("crv")
        if kty == "OKP" and crv == "Ed25519":
            x = _jwk_bytes(jwk, "x")
            if len(x) != _ED25519_LENGTH:
                raise ValueError(
                    f"JWK 'x' contains {len(x)} bytes, an Ed25519 public key is 32 bytes"
                )
            return cls(KeyType.ED25519, x)
        if kty == "EC" and crv in (KeyType.P256, KeyType.P384):
            key_type = KeyType(crv)
            length = _CURVES[key_type].coordinate_length
            x = _jwk_bytes(jwk, "x")
            y = _jwk_bytes(jwk, "y")
            if len(x) != length or len(y) != length:
                raise ValueError(
                    f"JWK coordinates of a {crv} key are {length} bytes each, "
                    f"got x={len(x)} and y={len(y)} bytes"
                )
            point = b"\x04" + x + y
            public = _load_point(key_type, point)
            return cls(key_type, _compressed(public))
        raise ValueError(
            f"JWK kty={kty!r} crv={crv!r} is not supported: use kty 'OKP' with crv 'Ed25519', "
            "or kty 'EC' with crv 'P-256' or 'P-384'"
        )

    def multibase(self) -> str:
        """Encode the key as a Multikey ``publicKeyMultibase`` value."""
        if self.key_type is KeyType.ED25519:
            codec = _ED25519_PUBLIC_CODEC
        else:
            codec = _CURVES[self.key_type].public_codec
        return "z" + base58btc_encode(encode_varint(codec) + self.raw)

    def jwk(self) -> dict[str, str]:
        """Encode the key as a public JSON Web Key (RFC 7517, RFC 8037)."""
        if self.key_type is KeyType.ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(self.raw)}
        info = _CURVES[self.key_type]
        numbers = _ec_public_key(self.key_type, self.raw).public_numbers()
        return {
            "kty": "EC",
            "crv": self.key_type.value,
            "x": _b64url(numbers.x.to_bytes(info.coordinate_length, "big")),
            "y": _b64url(numbers.y.to_bytes(info.coordinate_length, "big")),
        }

    def __repr__(self) -> str:
        return f"PublicKey({self.key_type.value}, {self.multibase()})"


class EcKeyPair:
    """An ECDSA key pair on P-256 or P-384 for signing credentials.

    The private key stays inside the object: ``repr`` and ``str`` show only the public key.
    """

    __slots__ = ("_private", "key_type", "verification_key")

    key_type: KeyType
    verification_key: PublicKey

    def __init__(self, key_type: KeyType, private_key: ec.EllipticCurvePrivateKey) -> None:
        if key_type not in _CURVES:
            raise SigningKeyError(f"{key_type} is not an ECDSA key type; use P-256 or P-384")
        if private_key.curve.name != _CURVES[key_type].curve.name:
            raise SigningKeyError(
                f"the private key is on {private_key.curve.name}, expected {key_type.value}"
            )
        self._private = private_key
        self.key_type = key_type
        self.verification_key = PublicKey(key_type, _compressed(private_key.public_key()))

    @classmethod
    def generate(cls, key_type: KeyType) -> EcKeyPair:
        """Create a new random key pair on the curve of ``key_type``."""
        if key_type not in _CURVES:
            raise SigningKeyError(f"{key_type} is not an ECDSA key type; use P-256 or P-384")
        return cls(key_type, ec.generate_private_key(_CURVES[key_type].curve))

    @classmethod
    def from_private_bytes(cls, key_type: KeyType, raw: bytes) -> EcKeyPair:
        """Load a key pair from its private scalar (32 bytes for P-256, 48 for P-384)."""
        if key_type not in _CURVES:
            raise SigningKeyError(f"{key_type} is not an ECDSA key type; use P-256 or P-384")
        info = _CURVES[key_type]
        if len(raw) != info.coordinate_length:
            raise SigningKeyError(
                f"a {key_type.value} private key is {info.coordinate_length} bytes, "
                f"got {len(raw)} bytes"
            )
        try:
            private = ec.derive_private_key(int.from_bytes(raw, "big"), info.curve)
        except ValueError as exc:
            raise SigningKeyError(f"invalid {key_type.value} private key: {exc}") from exc
        return cls(key_type, private)

    @classmethod
    def from_private_multibase(cls, value: str) -> EcKeyPair:
        """Load a key pair from a Multikey ``secretKeyMultibase`` value (p256-priv, p384-priv)."""
        if not isinstance(value, str) or not value.startswith("z"):
            raise SigningKeyError(
                "secretKeyMultibase must be a base58btc multibase string starting with 'z'"
            )
        try:
            data = base58btc_decode(value[1:])
            codec, used = decode_varint(data)
        except ValueError as exc:
            raise SigningKeyError(f"secretKeyMultibase is not valid multibase: {exc}") from exc
        for key_type, info in _CURVES.items():
            if codec == info.private_codec:
                return cls.from_private_bytes(key_type, data[used:])
        raise SigningKeyError(
            f"secretKeyMultibase contains a {multicodec_name(codec)} (multicodec 0x{codec:x}); "
            "expected a P-256 or P-384 private key"
        )

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> EcKeyPair:
        """Load a key pair from a private EC JSON Web Key (``d`` with ``x`` and ``y``)."""
        try:
            public = PublicKey.from_jwk(jwk)
            d = _jwk_bytes(jwk, "d")
        except ValueError as exc:
            raise SigningKeyError(f"invalid private JWK: {exc}") from exc
        if public.key_type is KeyType.ED25519:
            raise SigningKeyError("the JWK is an Ed25519 key; load it as an Ed25519 key pair")
        pair = cls.from_private_bytes(public.key_type, d)
        if pair.verification_key != public:
            raise SigningKeyError("the JWK's 'd' does not match its public coordinates x and y")
        return pair

    def private_bytes(self) -> bytes:
        """Return the private scalar. Keep it out of logs and unencrypted files."""
        length = _CURVES[self.key_type].coordinate_length
        return self._private.private_numbers().private_value.to_bytes(length, "big")

    def private_multibase(self) -> str:
        """Encode the private key as a Multikey ``secretKeyMultibase`` value."""
        codec = _CURVES[self.key_type].private_codec
        return "z" + base58btc_encode(encode_varint(codec) + self.private_bytes())

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (hashed with the curve's SHA-2) and return the ``r || s`` signature."""
        info = _CURVES[self.key_type]
        der = self._private.sign(data, ec.ECDSA(info.hash_algorithm()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(info.coordinate_length, "big") + s.to_bytes(info.coordinate_length, "big")

    @property
    def public_multibase(self) -> str:
        """The public key as a Multikey ``publicKeyMultibase`` value."""
        return self.verification_key.multibase()

    @property
    def public_jwk(self) -> dict[str, str]:
        """The public key as an EC JSON Web Key."""
        return self.verification_key.jwk()

    @property
    def jose_algorithm(self) -> str:
        """The JOSE ``alg`` of signatures by this key (ES256 or ES384)."""
        return _CURVES[self.key_type].jose_algorithm

    def __repr__(self) -> str:
        return f"EcKeyPair({self.key_type.value}, public={self.public_multibase})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EcKeyPair):
            return NotImplemented
        return self.verification_key == other.verification_key

    def __hash__(self) -> int:
        return hash(self.verification_key)


@functools.lru_cache(maxsize=4096)
def _verify_key(public_key: bytes) -> VerifyKey:
    """Return the verify key for raw public key bytes; a chain has few issuers, so cache them."""
    return VerifyKey(public_key)


def verify_ed25519(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Check an Ed25519 signature. Returns ``False`` also for a key or signature of wrong length.

    Verification uses libsodium (PyNaCl), which measured about twice as fast as OpenSSL through
    ``cryptography`` on 4 KB signing inputs (``bench/chain_walk.py``).
    """
    if len(public_key) != _ED25519_LENGTH or len(signature) != _ED25519_SIGNATURE_LENGTH:
        return False
    try:
        _verify_key(public_key).verify(data, signature)
    except (BadSignatureError, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _ec_public_key(key_type: KeyType, raw: bytes) -> ec.EllipticCurvePublicKey:
    """Load a compressed or uncompressed SEC1 point; a chain has few issuers, so cache them."""
    info = _CURVES.get(key_type)
    if info is None:
        raise ValueError(f"{key_type} is not an elliptic-curve key type")
    if len(raw) != info.coordinate_length + 1 or raw[0] not in (2, 3):
        raise ValueError(
            f"a compressed {key_type.value} public key is {info.coordinate_length + 1} bytes "
            f"starting with 0x02 or 0x03, got {len(raw)} bytes"
        )
    return _load_point(key_type, raw)


def _load_point(key_type: KeyType, point: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[key_type].curve, point)
    except ValueError as exc:
        raise ValueError(f"the {key_type.value} public key is not a point on the curve") from exc


def _compressed(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwk_bytes(jwk: Mapping[str, Any], member: str) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        raise ValueError(f"JWK {member!r} is missing or not base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"JWK {member!r} is not base64url: {exc}") from exc
