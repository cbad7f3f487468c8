"""Verifiable credentials secured as JOSE envelopes (``EnvelopedVerifiableCredential``)."""

from valuetrace.vc._jose import (
    ACCEPTED_ALGORITHMS,
    DATA_URL_PREFIX,
    ENVELOPED_TYPE,
    DecodedJWS,
    credential_issuer,
    decode_envelope,
    decode_jws,
    is_enveloped,
    sign_enveloped,
    verify_jws,
)

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "DATA_URL_PREFIX",
    "ENVELOPED_TYPE",
    "DecodedJWS",
    "credential_issuer",
    "decode_envelope",
    "decode_jws",
    "is_enveloped",
    "sign_enveloped",
    "verify_jws",
]
