"""Keys (Ed25519, P-256, P-384), DIDs (``did:key`` and ``did:web``) and DID documents."""

from valuetrace.did._didkey import (
    did_key_document,
    did_key_from_public_key,
    public_key_from_did_key,
    verification_key_from_did_key,
)
from valuetrace.did._didweb import did_web_to_url
from valuetrace.did._document import (
    build_did_web_document,
    did_of,
    find_dia_urls,
    find_public_key,
)
from valuetrace.did._keys import (
    KEY_PASSPHRASE_ENV,
    Ed25519KeyPair,
    SigningKeyPair,
    decrypt_private_key,
    encrypt_private_key,
    generate_key_pair,
    key_secret_from_env,
    load_key_file,
    public_key_of_encrypted,
    save_key_file,
    verify_ed25519,
)
from valuetrace.did._publickey import EcKeyPair, KeyType, PublicKey
from valuetrace.did._resolve import DIDResolutionError, resolve_did_document

__all__ = [
    "KEY_PASSPHRASE_ENV",
    "DIDResolutionError",
    "EcKeyPair",
    "Ed25519KeyPair",
    "KeyType",
    "PublicKey",
    "SigningKeyPair",
    "build_did_web_document",
    "decrypt_private_key",
    "did_key_document",
    "did_key_from_public_key",
    "did_of",
    "did_web_to_url",
    "encrypt_private_key",
    "find_dia_urls",
    "find_public_key",
    "generate_key_pair",
    "key_secret_from_env",
    "load_key_file",
    "public_key_from_did_key",
    "public_key_of_encrypted",
    "resolve_did_document",
    "save_key_file",
    "verification_key_from_did_key",
    "verify_ed25519",
]
