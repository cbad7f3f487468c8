"""The issuer key of a node and the securing mechanisms that issue credentials with it.

``SECURING_MECHANISMS`` maps a name to a :class:`SecuringMechanism`. ``jose`` wraps the
credential in an ``EnvelopedVerifiableCredential`` (VC-JOSE-COSE). Every Data Integrity
cryptosuite of :data:`valuetrace.vc._cryptosuites.CRYPTOSUITES` adds an embedded ``proof``
through :func:`valuetrace.vc._dataintegrity.add_proof`, so a suite added there is offered here
too. The request option ``cryptosuite`` selects one by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from valuetrace.did import KeyType, decrypt_private_key, did_key_from_public_key, did_of
from valuetrace.did._keys import SigningKeyPair, generate_key_pair
from valuetrace.errors import SigningKeyError
from valuetrace.store import Store
from valuetrace.vc import sign_enveloped
from valuetrace.vc._cryptosuites import CRYPTOSUITES, Cryptosuite
from valuetrace.vc._dataintegrity import add_proof

__all__ = [
    "DEFAULT_SECURING",
    "JOSE",
    "SECURING_MECHANISMS",
    "IssuerKey",
    "SecuringMechanism",
    "load_issuer_key",
]

JOSE = "jose"
DEFAULT_SECURING = JOSE


@dataclass(frozen=True)
class IssuerKey:
    """The signing key of this node's issuer and the DID URL that verifiers resolve it by."""

    verification_method: str
    key: SigningKeyPair

    @property
    def did(self) -> str:
        """The issuer's DID: the verification method without its fragment."""
        return did_of(self.verification_method)

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.ED25519) -> IssuerKey:
        """Create a new key pair with its ``did:key`` DID as issuer. It lives in memory only."""
        key = generate_key_pair(key_type)
        did = did_key_from_public_key(key.verification_key)
        return cls(f"{did}#{did.removeprefix('did:key:')}", key)


def load_issuer_key(store: Store, key_id: str, secret: bytes) -> IssuerKey:
    """Decrypt the key stored under ``key_id`` with the passphrase ``secret``.

    Raises ``SigningKeyError`` when the store has no such key or the passphrase is wrong.
    """
    blob = store.get_key(key_id)
    if blob is None:
        raise SigningKeyError(
            f"no key {key_id} in the store {store.location}; give the key id that "
            "'valuetrace keys new' printed, or create a key with it"
        )
    return IssuerKey(key_id, decrypt_private_key(blob, secret))


SecureFunction = Callable[[Mapping[str, Any], IssuerKey, datetime], dict[str, Any]]


@dataclass(frozen=True)
class SecuringMechanism:
    """One way to secure an issued credential.

    ``key_types`` are the issuer key types it signs with. ``cryptosuite`` is true for Data
    Integrity cryptosuites, which the request option ``cryptosuite`` selects by ``name``.
    ``secure(credential, issuer, now)`` returns the secured credential.
    """

    name: str
    key_types: frozenset[KeyType]
    cryptosuite: bool
    secure: SecureFunction

    def check_key(self, issuer: IssuerKey) -> None:
        """Raise ``ValueError`` when this mechanism cannot sign with the issuer's key type."""
        if issuer.key.key_type not in self.key_types:
            accepted = ", ".join(sorted(key_type.value for key_type in self.key_types))
            raise ValueError(
                f"{self.name} signs with {accepted} keys, but the issuer key "
                f"{issuer.verification_method} has the key type {issuer.key.key_type.value}: "
                "choose another securing mechanism or issuer key"
            )


def _data_integrity_mechanism(suite: Cryptosuite) -> SecuringMechanism:
    def secure(credential: Mapping[str, Any], issuer: IssuerKey, now: datetime) -> dict[str, Any]:
        created = now.astimezone(UTC).replace(microsecond=0)
        return add_proof(
            credential,
            issuer.key,
            issuer.verification_method,
            cryptosuite=suite.name,
            created=created,
        )

    return SecuringMechanism(suite.name, suite.key_types, cryptosuite=True, secure=secure)


def _secure_with_jose(
    credential: Mapping[str, Any], issuer: IssuerKey, now: datetime
) -> dict[str, Any]:
    return sign_enveloped(credential, issuer.key, issuer.verification_method)


SECURING_MECHANISMS: Mapping[str, SecuringMechanism] = {
    mechanism.name: mechanism
    for mechanism in (
        SecuringMechanism(JOSE, frozenset(KeyType), cryptosuite=False, secure=_secure_with_jose),
        *(_data_integrity_mechanism(suite) for suite in CRYPTOSUITES.values()),
    )
}
