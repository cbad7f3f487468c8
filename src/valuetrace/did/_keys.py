"""Signing keys (Ed25519, P-256, P-384) and their encrypted storage at rest.

A key file is a small versioned JSON document. The private key is encrypted with AES-256-GCM
under a key derived from a passphrase with scrypt, and the public key is bound to the ciphertext
as associated data, so a file whose public key was swapped fails to decrypt.

Version 2 (format ``valuetrace-signing-key``) holds any supported key type and names it in
``keyType``. Its associated data is the public key with its multicodec prefix, which also binds
the key type. Version 1 (format ``valuetrace-ed25519-key``) holds an Ed25519 key with the raw
32-byte public key as associated data; it is still read, but no longer written.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import stat
import tempfile
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from valuetrace.did._didkey import base58btc_decode, encode_ed25519_multikey
from valuetrace.did._publickey import EcKeyPair, KeyType, PublicKey, verify_ed25519
from valuetrace.errors import SigningKeyError

__all__ = [
    "KEY_PASSPHRASE_ENV",
    "Ed25519KeyPair",
    "SigningKeyPair",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_key_pair",
    "key_secret_from_env",
    "load_key_file",
    "public_key_of_encrypted",
    "save_key_file",
    "verify_ed25519",
]

LOGGER = logging.getLogger(__name__)

KEY_PASSPHRASE_ENV = "VALUETRACE_KEY_PASSPHRASE"

_KEY_LENGTH = 32
_BLOB_FORMAT = "valuetrace-signing-key"
_BLOB_VERSION = 2
_ED25519_BLOB_FORMAT = "valuetrace-ed25519-key"
_ED25519_BLOB_VERSION = 1

# scrypt cost: N = 2**14, r = 8, p = 1 uses 16 MiB. One derivation took about 40 ms on a 2-core
# x86-64 machine with cryptography 50, so a demo that opens ten keys stays fast.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
# Upper bounds for parameters read from a file, so a crafted file cannot make loading take
# minutes or gigabytes (128 * r * N bytes of memory).
_SCRYPT_MAX_N = 2**20
_SCRYPT_MAX_R = 16
_SCRYPT_MAX_P = 16


class Ed25519KeyPair:
    """An Ed25519 key pair for signing credentials.

    The private key stays inside the object: ``repr`` and ``str`` show only the public key.
    """

    __slots__ = ("_private", "public_key")

    public_key: bytes

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def generate(cls) -> Ed25519KeyPair:
        """Create a new random key pair."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> Ed25519KeyPair:
        """Load a key pair from the 32-byte private key (the RFC 8032 seed)."""
        if not isinstance(raw, bytes | bytearray) or len(raw) != _KEY_LENGTH:
            length = len(raw) if isinstance(raw, bytes | bytearray) else type(raw).__name__
            raise SigningKeyError(
                f"an Ed25519 private key is 32 raw bytes, got {length}. "
                "Pass the raw seed, not a PEM, hex or base64 encoding of it"
            )
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(raw)))

    def private_bytes(self) -> bytes:
        """Return the 32-byte private key. Keep it out of logs and unencrypted files."""
        return self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` and return the 64-byte Ed25519 signature."""
        return self._private.sign(data)

    @property
    def public_multibase(self) -> str:
        """The public key as a Multikey ``publicKeyMultibase`` value (``z6Mk…``)."""
        return encode_ed25519_multikey(self.public_key)

    @property
    def public_jwk(self) -> dict[str, str]:
        """The public key as an OKP JSON Web Key (RFC 8037)."""
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(self.public_key)}

    @property
    def verification_key(self) -> PublicKey:
        """The public key with its type, as verifiers take it."""
        return PublicKey(KeyType.ED25519, self.public_key)

    @property
    def key_type(self) -> KeyType:
        """The key algorithm: always Ed25519."""
        return KeyType.ED25519

    @property
    def jose_algorithm(self) -> str:
        """The JOSE ``alg`` of signatures by this key (RFC 8037 ``EdDSA``)."""
        return "EdDSA"

    def __repr__(self) -> str:
        return f"Ed25519KeyPair(public={self.public_multibase})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ed25519KeyPair):
            return NotImplemented
        return self.public_key == other.public_key

    def __hash__(self) -> int:
        return hash(self.public_key)


SigningKeyPair = Ed25519KeyPair | EcKeyPair


def generate_key_pair(key_type: KeyType) -> SigningKeyPair:
    """Create a new random key pair of ``key_type``."""
    if key_type is KeyType.ED25519:
        return Ed25519KeyPair.generate()
    return EcKeyPair.generate(key_type)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise SigningKeyError(f"the encrypted key is damaged: field {field!r} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError(
            f"the encrypted key is damaged: field {field!r} is not valid base64"
        ) from exc


def _secret_bytes(secret: str | bytes) -> bytes:
    # NFC, so that the same passphrase typed on systems that compose accents differently matches.
    if isinstance(secret, str):
        secret = unicodedata.normalize("NFC", secret).encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise SigningKeyError(
            f"the key passphrase is empty: set {KEY_PASSPHRASE_ENV} or pass a non-empty secret"
        )
    return secret


def _derive_key(secret: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)


def encrypt_private_key(key: SigningKeyPair, secret: str | bytes) -> bytes:
    """Encrypt a key pair with a passphrase and return the versioned JSON document as bytes."""
    secret_bytes = _secret_bytes(secret)
    salt = os.urandom(16)
    nonce = os.urandom(12)
    public_multibase = key.verification_key.multibase()
    wrapping_key = _derive_key(secret_bytes, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    ciphertext = AESGCM(wrapping_key).encrypt(
        nonce, key.private_bytes(), _associated_data(public_multibase)
    )
    document = {
        "format": _BLOB_FORMAT,
        "version": _BLOB_VERSION,
        "keyType": key.key_type.value,
        "publicKeyMultibase": public_multibase,
        "kdf": {
            "name": "scrypt",
            "salt": base64.b64encode(salt).decode("ascii"),
            "n": _SCRYPT_N,
            "r": _SCRYPT_R,
            "p": _SCRYPT_P,
        },
        "cipher": {"name": "AES-256-GCM", "nonce": base64.b64encode(nonce).decode("ascii")},
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _associated_data(public_multibase: str) -> bytes:
    """Return the multicodec-prefixed public key that a version 2 document binds as AAD."""
    return base58btc_decode(public_multibase[1:])


def _read_blob(blob: bytes) -> dict[str, Any]:
    try:
        document: object = json.loads(blob)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SigningKeyError(
            f"the encrypted key is damaged: it is not valid JSON ({exc})"
        ) from exc
    formats = {_BLOB_FORMAT: _BLOB_VERSION, _ED25519_BLOB_FORMAT: _ED25519_BLOB_VERSION}
    declared_format = document.get("format") if isinstance(document, dict) else None
    if (
        not isinstance(document, dict)
        or not isinstance(declared_format, str)
        or declared_format not in formats
    ):
        raise SigningKeyError(
            f"the data is not a valuetrace key file: 'format' must be {_BLOB_FORMAT!r} "
            f"or {_ED25519_BLOB_FORMAT!r}"
        )
    expected_version = formats[declared_format]
    if document.get("version") != expected_version:
        raise SigningKeyError(
            f"unsupported key file version {document.get('version')!r} of format "
            f"{declared_format!r}: this valuetrace reads version {expected_version}, so "
            "upgrade valuetrace or create the key again"
        )
    return document


def _scrypt_parameter(kdf: dict[str, Any], name: str, maximum: int) -> int:
    value = kdf.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise SigningKeyError(
            f"the encrypted key has an invalid scrypt parameter {name}={value!r}: "
            f"expected an integer from 1 to {maximum}"
        )
    return value


def _scrypt_parameters(kdf: object) -> tuple[bytes, int, int, int]:
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise SigningKeyError("the encrypted key is damaged: 'kdf.name' must be 'scrypt'")
    salt = _b64decode(kdf.get("salt"), "kdf.salt")
    n = _scrypt_parameter(kdf, "n", _SCRYPT_MAX_N)
    r = _scrypt_parameter(kdf, "r", _SCRYPT_MAX_R)
    p = _scrypt_parameter(kdf, "p", _SCRYPT_MAX_P)
    if n < 2 or n & (n - 1):
        raise SigningKeyError(
            f"the encrypted key has an invalid scrypt parameter n={n}: it must be a power of 2"
        )
    return salt, n, r, p


def _stored_public_key(document: dict[str, Any]) -> PublicKey:
    """Read the public key of a key document and check it against the declared key type."""
    multibase = document.get("publicKeyMultibase")
    try:
        public_key = PublicKey.from_multibase(multibase if isinstance(multibase, str) else "")
    except ValueError as exc:
        raise SigningKeyError(
            f"the encrypted key is damaged: 'publicKeyMultibase' is invalid ({exc})"
        ) from exc

    declared: object = KeyType.ED25519.value
    if document["format"] == _BLOB_FORMAT:
        declared = document.get("keyType")
        supported = ", ".join(key_type.value for key_type in KeyType)
        if declared not in {key_type.value for key_type in KeyType}:
            raise SigningKeyError(
                f"the encrypted key has an unsupported 'keyType' {declared!r}: this valuetrace "
                f"reads {supported} keys"
            )
    if public_key.key_type.value != declared:
        raise SigningKeyError(
            f"the encrypted key is damaged: 'keyType' is {declared!r}, but "
            f"'publicKeyMultibase' contains {public_key.key_type.with_article} key"
        )
    return public_key


def public_key_of_encrypted(blob: bytes) -> PublicKey:
    """Return the public key stored in clear beside an encrypted private key.

    No passphrase is needed; raises ``SigningKeyError`` when the document is damaged.
    """
    return _stored_public_key(_read_blob(blob))


def decrypt_private_key(blob: bytes, secret: str | bytes) -> SigningKeyPair:
    """Decrypt a key pair made by :func:`encrypt_private_key`, or by version 1 of it.

    Raises ``SigningKeyError`` for a wrong passphrase or a damaged or unknown document.
    """
    document = _read_blob(blob)
    salt, n, r, p = _scrypt_parameters(document.get("kdf"))

    cipher = document.get("cipher")
    if not isinstance(cipher, dict) or cipher.get("name") != "AES-256-GCM":
        raise SigningKeyError("the encrypted key is damaged: 'cipher.name' must be 'AES-256-GCM'")
    nonce = _b64decode(cipher.get("nonce"), "cipher.nonce")
    if len(nonce) != 12:
        raise SigningKeyError("the encrypted key is damaged: 'cipher.nonce' must be 12 bytes")
    ciphertext = _b64decode(document.get("ciphertext"), "ciphertext")

    public_key = _stored_public_key(document)
    if document["format"] == _ED25519_BLOB_FORMAT:
        associated_data = public_key.raw
    else:
        associated_data = _associated_data(document["publicKeyMultibase"])

    wrapping_key = _derive_key(_secret_bytes(secret), salt, n, r, p)
    try:
        private = AESGCM(wrapping_key).decrypt(nonce, ciphertext, associated_data)
    except InvalidTag as exc:
        raise SigningKeyError(
            "cannot decrypt the signing key: the passphrase is wrong, or the encrypted key is "
            "damaged"
        ) from exc

    key: SigningKeyPair
    if public_key.key_type is KeyType.ED25519:
        key = Ed25519KeyPair.from_private_bytes(private)
    else:
        key = EcKeyPair.from_private_bytes(public_key.key_type, private)
    if key.verification_key != public_key:
        raise SigningKeyError(
            "the decrypted private key does not match the public key in the key file, "
            "so the file is damaged: restore it from a backup"
        )
    return key


def save_key_file(
    path: Path, key: SigningKeyPair, secret: str | bytes, *, overwrite: bool = False
) -> None:
    """Encrypt a key pair and write it to ``path`` with file mode 0600.

    The file is created with mode 0600 from the start. An existing file is kept unless
    ``overwrite`` is true, in which case the new file replaces it atomically.
    """
    path = Path(path)
    blob = encrypt_private_key(key, secret)
    try:
        if overwrite:
            # mkstemp creates the file with O_EXCL and mode 0600 next to the target, so the
            # final os.replace is atomic and no reader ever sees a partly written key file.
            descriptor, temporary_name = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
        else:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise SigningKeyError(
            f"key file {str(path)!r} already exists: choose another path, "
            "or pass overwrite=True to replace it"
        ) from exc
    except OSError as exc:
        raise SigningKeyError(f"cannot create key file {str(path)!r}: {exc.strerror}") from exc

    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary_name, path)
    except OSError as exc:
        if overwrite:
            Path(temporary_name).unlink(missing_ok=True)
        raise SigningKeyError(f"cannot write key file {str(path)!r}: {exc.strerror}") from exc
    LOGGER.info("wrote signing key %s to %s", key.public_multibase, path)


def load_key_file(path: Path, secret: str | bytes) -> SigningKeyPair:
    """Read and decrypt a key file written by :func:`save_key_file`."""
    path = Path(path)
    try:
        blob = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise SigningKeyError(f"cannot read key file {str(path)!r}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        LOGGER.warning(
            "key file %s is accessible to other users (mode %o); run chmod 600 on it",
            path,
            stat.S_IMODE(mode),
        )
    try:
        return decrypt_private_key(blob, secret)
    except SigningKeyError as exc:
        raise SigningKeyError(f"key file {str(path)!r}: {exc}") from exc


def key_secret_from_env(environ: Mapping[str, str] | None = None) -> bytes | None:
    """Return the key passphrase from ``VALUETRACE_KEY_PASSPHRASE``, or ``None`` if unset or empty.

    ``environ`` defaults to ``os.environ``.
    """
    source = os.environ if environ is None else environ
    value = source.get(KEY_PASSPHRASE_ENV)
    if not value:
        return None
    return unicodedata.normalize("NFC", value).encode("utf-8")
