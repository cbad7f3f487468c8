"""Verifiable credentials and presentations: JOSE envelopes and Data Integrity proofs.

Credentials are secured as JOSE enveloped credentials (``EnvelopedVerifiableCredential``,
``vc+jwt`` with EdDSA, ES256 or ES384) or with embedded W3C Data Integrity proofs
(``eddsa-jcs-2022``, ``eddsa-rdfc-2022``, ``ecdsa-rdfc-2019``).
"""

from valuetrace.vc._cryptosuites import CRYPTOSUITES, Cryptosuite
from valuetrace.vc._dataintegrity import (
    DATA_INTEGRITY_PROOF,
    ECDSA_RDFC_2019,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    add_proof,
    add_proof_eddsa_jcs,
    verify_data_integrity,
)
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
    verify_jws_with_key,
)
from valuetrace.vc._jose_presentation import (
    ENVELOPED_PRESENTATION_TYPE,
    PRESENTATION_DATA_URL_PREFIX,
    PresentationVerification,
    PresentedCredential,
    decode_enveloped_presentation,
    is_enveloped_presentation,
    sign_enveloped_presentation,
    verify_enveloped_presentation,
    verify_presentation_jws,
)
from valuetrace.vc._keyfile import (
    VerificationMethodKey,
    jwk_thumbprint,
    load_verification_key,
    read_verification_key,
)
from valuetrace.vc._verify_key import verify_file_with_key, verify_with_key

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "CRYPTOSUITES",
    "DATA_INTEGRITY_PROOF",
    "DATA_URL_PREFIX",
    "ECDSA_RDFC_2019",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "ENVELOPED_PRESENTATION_TYPE",
    "ENVELOPED_TYPE",
    "PRESENTATION_DATA_URL_PREFIX",
    "Cryptosuite",
    "DecodedJWS",
    "PresentationVerification",
    "PresentedCredential",
    "VerificationMethodKey",
    "add_proof",
    "add_proof_eddsa_jcs",
    "credential_issuer",
    "decode_envelope",
    "decode_enveloped_presentation",
    "decode_jws",
    "is_enveloped",
    "is_enveloped_presentation",
    "jwk_thumbprint",
    "load_verification_key",
    "read_verification_key",
    "sign_enveloped",
    "sign_enveloped_presentation",
    "verify_data_integrity",
    "verify_enveloped_presentation",
    "verify_file_with_key",
    "verify_jws",
    "verify_jws_with_key",
    "verify_presentation_jws",
    "verify_with_key",
]
