"""The exception tree of valuetrace.

Exceptions are for misuse and for input that cannot be read at all. Problems that a verifier
discovers in a credential are findings (see :mod:`valuetrace.findings`), not exceptions.

    ValuetraceError
    ├── InputError            unreadable input: malformed JSON, a truncated JWT, a bad identifier
    │   ├── EnvelopeError     an enveloped credential or JWS that cannot be decoded
    │   ├── DigitalLinkError  a GS1 Digital Link URI that is malformed or fails a check digit
    │   └── JsonLdError       JSON-LD that cannot become RDF without losing data (in jsonld)
    ├── CanonicalizationError RDF that cannot be canonicalized in time (in jsonld)
    ├── SigningKeyError       a key that cannot be created, read or decrypted
    ├── DIDError              a DID that is malformed or of an unsupported method
    └── StoreError            the store cannot be opened or written
"""

from __future__ import annotations

__all__ = [
    "DIDError",
    "DigitalLinkError",
    "EnvelopeError",
    "InputError",
    "SigningKeyError",
    "StoreError",
    "ValuetraceError",
]


class ValuetraceError(Exception):
    """Base class of every error valuetrace raises on purpose."""


class InputError(ValuetraceError):
    """Input that cannot be read. The message names the value and what to do next."""


class EnvelopeError(InputError):
    """An enveloped credential or compact JWS that cannot be decoded."""


class DigitalLinkError(InputError):
    """A GS1 Digital Link URI that is malformed or has a wrong check digit."""


class SigningKeyError(ValuetraceError):
    """A signing key that cannot be generated, read, decrypted or stored."""


class DIDError(ValuetraceError):
    """A DID that is malformed, of an unsupported method, or has no usable key."""


class StoreError(ValuetraceError):
    """The store cannot be opened, migrated or written."""
