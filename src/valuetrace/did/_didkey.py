"""The ``did:key`` method for Ed25519, P-256 and P-384 keys, with base58btc and Multikey encoding.

A ``did:key`` DID is the public key itself: ``did:key:`` followed by the multibase (base58btc,
prefix ``z``) encoding of a multicodec key type (``ed25519-pub`` is the varint ``0xed 0x01``)
and the key bytes. The DID document is derived from the key, so resolving it needs no network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from valuetrace.errors import DIDError

if TYPE_CHECKING:
    from valuetrace.did._publickey import PublicKey

__all__ = [
    "base58btc_decode",
    "base58btc_encode",
    "decode_ed25519_multikey",
    "decode_varint",
    "did_key_document",
    "did_key_from_public_key",
    "encode_ed25519_multikey",
    "encode_varint",
    "multicodec_name",
    "public_key_from_did_key",
    "verification_key_from_did_key",
]

DID_KEY_PREFIX = "did:key:"
ED25519_PUBLIC_KEY_LENGTH = 32

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {character: index for index, character in enumerate(_BASE58_ALPHABET)}

# Multicodec codes, as unsigned varints, from the multiformats multicodec table.
_ED25519_PUB = 0xED
_X25519_PUB = 0xEC
_MULTICODEC_NAMES = {
    0xE7: "secp256k1-pub",
    0xEB: "bls12_381-g2-pub",
    0xEC: "x25519-pub",
    0xED: "ed25519-pub",
    0x1200: "p256-pub",
    0x1201: "p384-pub",
    0x1202: "p521-pub",
    0x1205: "rsa-pub",
    0x1300: "ed25519-priv",
    0x1306: "p256-priv",
    0x1307: "p384-priv",
}

# Field prime of Curve25519 and Edwards25519, used to map an Ed25519 key to its X25519 key.
_FIELD_PRIME = 2**255 - 19


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in base58 with the Bitcoin alphabet (each leading zero byte becomes ``1``)."""
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    return "1" * leading_zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode base58 text in the Bitcoin alphabet. Raises ``ValueError`` on any other character."""
    number = 0
    for position, character in enumerate(text):
        digit = _BASE58_INDEX.get(character)
        if digit is None:
            raise ValueError(f"invalid base58btc character {character!r} at position {position}")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def multicodec_name(codec: int) -> str:
    """Return the multicodec table name of a key codec, or a generic phrase for unknown ones."""
    return _MULTICODEC_NAMES.get(codec, "key of unknown type")


def encode_varint(value: int) -> bytes:
    """Encode an unsigned varint as multiformats use it (7 bits per byte, low bits first)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes) -> tuple[int, int]:
    """Return the unsigned varint at the start of ``data`` and the number of bytes it used."""
    value = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, index + 1
    raise ValueError("invalid multicodec prefix: the varint is not terminated")


def _encode_multikey(codec: int, key: bytes) -> str:
    return "z" + base58btc_encode(encode_varint(codec) + key)


def encode_ed25519_multikey(public_key: bytes) -> str:
    """Encode a 32-byte Ed25519 public key as a Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
    if len(public_key) != ED25519_PUBLIC_KEY_LENGTH:
        raise ValueError(f"an Ed25519 public key is 32 bytes, got {len(public_key)} bytes")
    return _encode_multikey(_ED25519_PUB, public_key)


def decode_ed25519_multikey(multibase: str) -> bytes:
    """Decode a ``z6Mk…`` Multikey value to the 32-byte Ed25519 public key.

    Raises ``ValueError`` naming the problem: another multibase, another key type, a wrong length.
    """
    if not multibase.startswith("z"):
        raise ValueError(f"multibase value {multibase!r} does not start with 'z' (base58btc)")
    raw = base58btc_decode(multibase[1:])
    codec, used = decode_varint(raw)
    if codec != _ED25519_PUB:
        name = _MULTICODEC_NAMES.get(codec, "key of unknown type")
        raise ValueError(
            f"multibase value {multibase!r} contains a {name} (multicodec 0x{codec:x}), "
            "expected ed25519-pub (0xed)"
        )
    key = raw[used:]
    if len(key) != ED25519_PUBLIC_KEY_LENGTH:
        raise ValueError(
            f"multibase value {multibase!r} contains {len(key)} key bytes, "
            "an Ed25519 public key is 32 bytes"
        )
    return key


def did_key_from_public_key(public_key: bytes | PublicKey) -> str:
    """Build the ``did:key`` DID of a public key (raw bytes mean a 32-byte Ed25519 key)."""
    if isinstance(public_key, bytes | bytearray):
        return DID_KEY_PREFIX + encode_ed25519_multikey(bytes(public_key))
    return DID_KEY_PREFIX + public_key.multibase()


def _method_specific_id(did: str) -> str:
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise DIDError(f"{did!r} is not a did:key DID: it must start with 'did:key:'")
    multibase = did[len(DID_KEY_PREFIX) :]
    if any(separator in multibase for separator in "#?/"):
        raise DIDError(f"{did!r} is a DID URL, not a DID: remove the fragment, query or path first")
    return multibase


def public_key_from_did_key(did: str) -> bytes:
    """Extract the Ed25519 public key from a ``did:key`` DID.

    Raises ``DIDError`` if the value is not a ``did:key`` DID or contains another kind of key.
    """
    multibase = _method_specific_id(did)
    try:
        return decode_ed25519_multikey(multibase)
    except ValueError as exc:
        raise DIDError(
            f"did:key {did!r} is not a usable Ed25519 key: {exc}. "
            "This function reads Ed25519 did:key DIDs only (they start with 'did:key:z6Mk'); "
            "use verification_key_from_did_key for P-256 and P-384 keys"
        ) from exc


def verification_key_from_did_key(did: str) -> PublicKey:
    """Extract the public key (Ed25519, P-256 or P-384) from a ``did:key`` DID.

    Raises ``DIDError`` if the value is not a ``did:key`` DID or contains an unsupported key.
    """
    from valuetrace.did._publickey import PublicKey

    multibase = _method_specific_id(did)
    try:
        return PublicKey.from_multibase(multibase)
    except ValueError as exc:
        raise DIDError(
            f"did:key {did!r} is not a usable key: {exc}. valuetrace supports did:key DIDs of "
            "Ed25519 ('did:key:z6Mk…'), P-256 ('did:key:zDn…') and P-384 ('did:key:z82…') keys"
        ) from exc


def _x25519_from_ed25519(public_key: bytes) -> bytes:
    """Map an Ed25519 public key to the X25519 key of the same secret (u = (1 + y) / (1 - y))."""
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    if (1 - y) % _FIELD_PRIME == 0:
        raise ValueError("the Ed25519 public key is the identity point, which has no X25519 key")
    u = (1 + y) * pow(1 - y, -1, _FIELD_PRIME) % _FIELD_PRIME
    return u.to_bytes(32, "little")


def did_key_document(did: str) -> dict[str, Any]:
    """Derive the DID document of a ``did:key`` DID (Ed25519, P-256 or P-384 key).

    The key is a ``Multikey`` verification method in every verification relationship. For an
    Ed25519 key, ``keyAgreement`` gets the matching X25519 key instead, as the did:key method
    specifies. A P-256 or P-384 key is listed under ``keyAgreement`` itself.
    """
    from valuetrace.did._publickey import KeyType

    key = verification_key_from_did_key(did)
    multibase = did[len(DID_KEY_PREFIX) :]
    key_id = f"{did}#{multibase}"
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": key_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multibase,
            }
        ],
        "authentication": [key_id],
        "assertionMethod": [key_id],
        "capabilityDelegation": [key_id],
        "capabilityInvocation": [key_id],
    }
    if key.key_type is not KeyType.ED25519:
        document["keyAgreement"] = [key_id]
        return document
    try:
        agreement_key = _x25519_from_ed25519(key.raw)
    except ValueError as exc:
        raise DIDError(f"did:key {did!r} is not a usable Ed25519 key: {exc}") from exc
    agreement_multibase = _encode_multikey(_X25519_PUB, agreement_key)
    document["keyAgreement"] = [
        {
            "id": f"{did}#{agreement_multibase}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": agreement_multibase,
        }
    ]
    return document
