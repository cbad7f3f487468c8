"""Tests of Ed25519 key pairs and encrypted key files of Ed25519, P-256 and P-384 keys."""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from pathlib import Path

import pytest

from valuetrace.did import (
    EcKeyPair,
    Ed25519KeyPair,
    KeyType,
    PublicKey,
    decrypt_private_key,
    encrypt_private_key,
    key_secret_from_env,
    load_key_file,
    public_key_of_encrypted,
    save_key_file,
    verify_ed25519,
)
from valuetrace.did._keys import generate_key_pair
from valuetrace.errors import SigningKeyError

# RFC 8032 section 7.1, TEST 1: an empty message.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

# w3c/vc-jose-cose-test-suite, tests/input/vm-ed25519.json: secret "d" and public "x" of one key.
VC_JOSE_D = "cbxP1TvbhLteRSspEvwxEuFKRDHWpGmPla8ePI0cmv8"
VC_JOSE_X = "NvUhsjZe7Mdv8Esoc60o3ma1U5j2tFUTDsOQd39xMnI"

PASSPHRASE = "correct horse battery staple"

# A version 1 key file, written by valuetrace before key files held other key types than
# Ed25519. Its private key is the seed bytes 0x00 to 0x1f, its passphrase VERSION_ONE_PASSPHRASE.
VERSION_ONE_BLOB = b"""{
  "format": "valuetrace-ed25519-key",
  "version": 1,
  "publicKeyMultibase": "z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd",
  "kdf": {
    "name": "scrypt",
    "salt": "S6V6VhajfvfY3yn9bstMmA==",
    "n": 16384,
    "r": 8,
    "p": 1
  },
  "cipher": {
    "name": "AES-256-GCM",
    "nonce": "SvyqMz6Gmp6ZPiHj"
  },
  "ciphertext": "drabfuTfGiw4AUQj4zXPla84N8vzagAwhq1afYsLpk0OR3tMzQExiiKdASsAcAdp"
}
"""
VERSION_ONE_PASSPHRASE = "version one passphrase"
VERSION_ONE_SEED = bytes(range(32))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encodings_of(secret: bytes) -> list[bytes]:
    """The ways a private key could leak into a file: raw, hex, base64 and base64url."""
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret).rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


def test_rfc8032_vector_public_key() -> None:
    key = Ed25519KeyPair.from_private_bytes(RFC8032_SECRET)

    assert key.public_key == RFC8032_PUBLIC
    assert key.private_bytes() == RFC8032_SECRET


def test_rfc8032_vector_signature() -> None:
    key = Ed25519KeyPair.from_private_bytes(RFC8032_SECRET)

    assert key.sign(b"") == RFC8032_SIGNATURE
    assert verify_ed25519(RFC8032_PUBLIC, RFC8032_SIGNATURE, b"")


def test_vc_jose_vector_jwk() -> None:
    key = Ed25519KeyPair.from_private_bytes(b64url_decode(VC_JOSE_D))

    assert key.public_jwk == {"kty": "OKP", "crv": "Ed25519", "x": VC_JOSE_X}


def test_generate_sign_verify() -> None:
    key = Ed25519KeyPair.generate()
    signature = key.sign(b"payload")

    assert len(key.public_key) == 32
    assert len(signature) == 64
    assert verify_ed25519(key.public_key, signature, b"payload")
    assert not verify_ed25519(key.public_key, signature, b"payload!")


def test_generate_keys_differ() -> None:
    assert Ed25519KeyPair.generate().public_key != Ed25519KeyPair.generate().public_key


def test_verify_wrong_key() -> None:
    signer = Ed25519KeyPair.generate()
    other = Ed25519KeyPair.generate()

    assert not verify_ed25519(other.public_key, signer.sign(b"x"), b"x")


def test_verify_wrong_lengths() -> None:
    key = Ed25519KeyPair.generate()
    signature = key.sign(b"x")

    assert not verify_ed25519(key.public_key[:31], signature, b"x")
    assert not verify_ed25519(key.public_key, signature[:63], b"x")
    assert not verify_ed25519(key.public_key, b"", b"x")


def test_public_multibase_prefix() -> None:
    key = Ed25519KeyPair.generate()

    assert key.public_multibase.startswith("z6Mk")


def test_from_private_bytes_wrong_length() -> None:
    with pytest.raises(SigningKeyError, match="32 raw bytes, got 31"):
        Ed25519KeyPair.from_private_bytes(bytes(31))


def test_repr_hides_private_key() -> None:
    key = Ed25519KeyPair.from_private_bytes(RFC8032_SECRET)
    shown = (repr(key) + str(key)).encode()

    for leaked in encodings_of(RFC8032_SECRET):
        assert leaked not in shown
    assert key.public_multibase.encode() in shown


def test_encrypt_decrypt_round_trip() -> None:
    key = Ed25519KeyPair.generate()
    blob = encrypt_private_key(key, PASSPHRASE)

    restored = decrypt_private_key(blob, PASSPHRASE)

    assert restored.private_bytes() == key.private_bytes()
    assert restored.public_key == key.public_key


def test_encrypt_str_and_bytes_secret() -> None:
    key = Ed25519KeyPair.generate()

    blob = encrypt_private_key(key, PASSPHRASE)

    assert decrypt_private_key(blob, PASSPHRASE.encode()).public_key == key.public_key


def test_encrypt_unicode_normalised() -> None:
    key = Ed25519KeyPair.generate()
    composed = "caf\u00e9"
    decomposed = "cafe\u0301"

    blob = encrypt_private_key(key, composed)

    assert decrypt_private_key(blob, decomposed).public_key == key.public_key


def test_encrypt_blob_format() -> None:
    key = Ed25519KeyPair.from_private_bytes(RFC8032_SECRET)
    blob = encrypt_private_key(key, PASSPHRASE)
    document = json.loads(blob)

    assert document["format"] == "valuetrace-signing-key"
    assert document["version"] == 2
    assert document["keyType"] == "Ed25519"
    assert document["publicKeyMultibase"] == key.public_multibase
    assert document["kdf"]["name"] == "scrypt"
    assert len(base64.b64decode(document["kdf"]["salt"])) == 16
    assert document["cipher"]["name"] == "AES-256-GCM"
    assert len(base64.b64decode(document["cipher"]["nonce"])) == 12
    for leaked in encodings_of(RFC8032_SECRET):
        assert leaked not in blob


def test_encrypt_random_salt_nonce() -> None:
    key = Ed25519KeyPair.generate()

    first = json.loads(encrypt_private_key(key, PASSPHRASE))
    second = json.loads(encrypt_private_key(key, PASSPHRASE))

    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert first["cipher"]["nonce"] != second["cipher"]["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


def test_encrypt_empty_secret() -> None:
    with pytest.raises(SigningKeyError, match="passphrase is empty"):
        encrypt_private_key(Ed25519KeyPair.generate(), "")


def test_decrypt_wrong_passphrase() -> None:
    blob = encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE)

    with pytest.raises(SigningKeyError, match="passphrase is wrong"):
        decrypt_private_key(blob, "wrong passphrase")


def test_decrypt_tampered_ciphertext() -> None:
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    ciphertext = bytearray(base64.b64decode(document["ciphertext"]))
    ciphertext[0] ^= 0x01
    document["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()

    expected = "passphrase is wrong, or the encrypted key is damaged"
    with pytest.raises(SigningKeyError, match=expected):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_decrypt_swapped_public_key() -> None:
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    document["publicKeyMultibase"] = Ed25519KeyPair.generate().public_multibase

    with pytest.raises(SigningKeyError, match="encrypted key is damaged"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_decrypt_truncated_blob() -> None:
    blob = encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE)

    with pytest.raises(SigningKeyError, match="not valid JSON"):
        decrypt_private_key(blob[: len(blob) // 2], PASSPHRASE)


def test_decrypt_unknown_version() -> None:
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    document["version"] = 99

    with pytest.raises(SigningKeyError, match="unsupported key file version 99"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_decrypt_not_key_file() -> None:
    with pytest.raises(SigningKeyError, match="not a valuetrace key file"):
        decrypt_private_key(b'{"hello": "world"}', PASSPHRASE)


@pytest.mark.parametrize(
    ("field", "value"),
    [("n", 2**30), ("n", 1000), ("r", 0), ("p", "1"), ("r", True)],
)
def test_decrypt_rejects_scrypt_parameters(field: str, value: object) -> None:
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    document["kdf"][field] = value
    started = time.perf_counter()

    with pytest.raises(SigningKeyError, match=f"scrypt parameter {field}="):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)
    assert time.perf_counter() - started < 1.0


def test_decrypt_bad_base64_salt() -> None:
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    document["kdf"]["salt"] = "not base64!"

    with pytest.raises(SigningKeyError, match=r"'kdf\.salt' is not valid base64"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_save_key_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    key = Ed25519KeyPair.from_private_bytes(RFC8032_SECRET)

    save_key_file(path, key, PASSPHRASE)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_key_file_ignores_umask(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    previous = os.umask(0)
    try:
        save_key_file(path, Ed25519KeyPair.generate(), PASSPHRASE)
    finally:
        os.umask(previous)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_key_file_no_plain_key(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    key = Ed25519KeyPair.from_private_bytes(RFC8032_SECRET)

    save_key_file(path, key, PASSPHRASE)
    content = path.read_bytes()

    for leaked in encodings_of(RFC8032_SECRET):
        assert leaked not in content


def test_load_key_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    key = Ed25519KeyPair.generate()

    save_key_file(path, key, PASSPHRASE)
    loaded = load_key_file(path, PASSPHRASE)

    assert loaded.private_bytes() == key.private_bytes()


def test_load_key_file_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    save_key_file(path, Ed25519KeyPair.generate(), PASSPHRASE)

    with pytest.raises(SigningKeyError, match=r"issuer\.key.*passphrase is wrong"):
        load_key_file(path, "not the passphrase")


def test_load_key_file_missing(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="cannot read key file"):
        load_key_file(tmp_path / "absent.key", PASSPHRASE)


def test_save_key_file_no_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    first = Ed25519KeyPair.generate()
    save_key_file(path, first, PASSPHRASE)

    with pytest.raises(SigningKeyError, match=r"already exists.*overwrite=True"):
        save_key_file(path, Ed25519KeyPair.generate(), PASSPHRASE)
    assert load_key_file(path, PASSPHRASE).public_key == first.public_key


def test_save_key_file_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    save_key_file(path, Ed25519KeyPair.generate(), PASSPHRASE)
    path.chmod(0o644)
    second = Ed25519KeyPair.generate()

    save_key_file(path, second, PASSPHRASE, overwrite=True)

    assert load_key_file(path, PASSPHRASE).public_key == second.public_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in tmp_path.iterdir()] == ["issuer.key"]


def test_load_key_file_warns_on_mode(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "issuer.key"
    save_key_file(path, Ed25519KeyPair.generate(), PASSPHRASE)
    path.chmod(0o644)

    load_key_file(path, PASSPHRASE)

    assert "chmod 600" in caplog.text
    assert PASSPHRASE not in caplog.text


def test_key_secret_from_env_set() -> None:
    assert key_secret_from_env({"VALUETRACE_KEY_PASSPHRASE": "s3cret"}) == b"s3cret"


def test_key_secret_from_env_unset() -> None:
    assert key_secret_from_env({}) is None
    assert key_secret_from_env({"VALUETRACE_KEY_PASSPHRASE": ""}) is None


def test_key_secret_from_env_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALUETRACE_KEY_PASSPHRASE", "from the environment")

    assert key_secret_from_env() == b"from the environment"


def test_key_secret_from_env_decrypts(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    key = Ed25519KeyPair.generate()
    save_key_file(path, key, "p\u00e4ssword")

    secret = key_secret_from_env({"VALUETRACE_KEY_PASSPHRASE": "p\u00e4ssword"})

    assert secret is not None
    assert load_key_file(path, secret).public_key == key.public_key


# Key types and key file versions ----------------------------------------------------------------


def test_version_one_blob_decrypts() -> None:
    key = decrypt_private_key(VERSION_ONE_BLOB, VERSION_ONE_PASSPHRASE)

    assert isinstance(key, Ed25519KeyPair)
    assert key.private_bytes() == VERSION_ONE_SEED
    assert key.public_multibase == "z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd"


def test_version_one_blob_public_key() -> None:
    public_key = public_key_of_encrypted(VERSION_ONE_BLOB)

    assert public_key == Ed25519KeyPair.from_private_bytes(VERSION_ONE_SEED).verification_key


def test_version_one_blob_wrong_passphrase() -> None:
    with pytest.raises(SigningKeyError, match="passphrase is wrong"):
        decrypt_private_key(VERSION_ONE_BLOB, PASSPHRASE)


def test_version_one_blob_swapped_public_key() -> None:
    document = json.loads(VERSION_ONE_BLOB)
    document["publicKeyMultibase"] = Ed25519KeyPair.generate().public_multibase

    with pytest.raises(SigningKeyError, match="encrypted key is damaged"):
        decrypt_private_key(json.dumps(document).encode(), VERSION_ONE_PASSPHRASE)


def test_version_one_wrong_version() -> None:
    document = json.loads(VERSION_ONE_BLOB)
    document["version"] = 2

    with pytest.raises(SigningKeyError, match="unsupported key file version 2"):
        decrypt_private_key(json.dumps(document).encode(), VERSION_ONE_PASSPHRASE)


def test_downgrade_to_version_one_fails() -> None:
    """A version 2 file relabelled as version 1 binds other associated data and fails."""
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    document["format"] = "valuetrace-ed25519-key"
    document["version"] = 1
    del document["keyType"]

    with pytest.raises(SigningKeyError, match="passphrase is wrong, or the encrypted key"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_ec_round_trip(key_type: KeyType) -> None:
    key = EcKeyPair.generate(key_type)

    restored = decrypt_private_key(encrypt_private_key(key, PASSPHRASE), PASSPHRASE)

    assert isinstance(restored, EcKeyPair)
    assert restored.key_type is key_type
    assert restored.private_bytes() == key.private_bytes()
    assert restored.verification_key == key.verification_key


@pytest.mark.parametrize(
    ("key_type", "prefix", "private_length"),
    [(KeyType.P256, "zDn", 32), (KeyType.P384, "z82", 48)],
)
def test_ec_blob_format(key_type: KeyType, prefix: str, private_length: int) -> None:
    key = EcKeyPair.generate(key_type)

    blob = encrypt_private_key(key, PASSPHRASE)
    document = json.loads(blob)

    assert document["keyType"] == key_type.value
    assert document["publicKeyMultibase"].startswith(prefix)
    # AES-GCM adds a 16-byte tag to the private scalar.
    assert len(base64.b64decode(document["ciphertext"])) == private_length + 16
    for leaked in encodings_of(key.private_bytes()):
        assert leaked not in blob


def test_ec_public_key_of_encrypted() -> None:
    key = EcKeyPair.generate(KeyType.P384)

    public_key = public_key_of_encrypted(encrypt_private_key(key, PASSPHRASE))

    assert public_key == key.verification_key
    assert public_key.key_type is KeyType.P384


def test_ec_swapped_public_key() -> None:
    document = json.loads(encrypt_private_key(EcKeyPair.generate(KeyType.P256), PASSPHRASE))
    document["publicKeyMultibase"] = EcKeyPair.generate(KeyType.P256).public_multibase

    with pytest.raises(SigningKeyError, match="encrypted key is damaged"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_key_type_disagrees_with_key() -> None:
    document = json.loads(encrypt_private_key(EcKeyPair.generate(KeyType.P256), PASSPHRASE))
    document["keyType"] = "P-384"

    with pytest.raises(SigningKeyError, match=r"'keyType' is 'P-384'.*contains a P-256 key"):
        public_key_of_encrypted(json.dumps(document).encode())


def test_key_type_unsupported() -> None:
    document = json.loads(encrypt_private_key(EcKeyPair.generate(KeyType.P256), PASSPHRASE))
    document["keyType"] = "P-521"

    with pytest.raises(SigningKeyError, match="unsupported 'keyType' 'P-521'"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_key_type_swapped_with_public_key() -> None:
    """Replacing a P-256 key's type and public key by a P-384 pair's fails to decrypt."""
    document = json.loads(encrypt_private_key(EcKeyPair.generate(KeyType.P256), PASSPHRASE))
    other = EcKeyPair.generate(KeyType.P384)
    document["keyType"] = "P-384"
    document["publicKeyMultibase"] = other.public_multibase

    with pytest.raises(SigningKeyError, match="passphrase is wrong, or the encrypted key"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)


def test_ec_key_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "issuer.key"
    key = EcKeyPair.generate(KeyType.P256)

    save_key_file(path, key, PASSPHRASE)
    loaded = load_key_file(path, PASSPHRASE)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert loaded == key
    assert key.verification_key.verify(loaded.sign(b"data"), b"data")


@pytest.mark.parametrize("key_type", list(KeyType))
def test_generate_key_pair_types(key_type: KeyType) -> None:
    key = generate_key_pair(key_type)

    assert key.key_type is key_type
    assert isinstance(key.verification_key, PublicKey)
    assert key.verification_key.verify(key.sign(b"data"), b"data")


@pytest.mark.parametrize("format_value", [["valuetrace-signing-key"], None, 2])
def test_decrypt_format_not_string(format_value: object) -> None:
    document = json.loads(encrypt_private_key(Ed25519KeyPair.generate(), PASSPHRASE))
    document["format"] = format_value

    with pytest.raises(SigningKeyError, match="not a valuetrace key file"):
        decrypt_private_key(json.dumps(document).encode(), PASSPHRASE)
