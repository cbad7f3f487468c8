"""The chain walk: verify a product's whole value chain from signed UNTP credentials.

Start at a product (a GS1 Digital Link URI) or a credential, follow traceability events to input
products and their passports, conformity claims to conformity credentials, facilities to facility
records and issuers to identity anchors; check every credential and return a :class:`Report`.
"""

from valuetrace.chain._render import render_report
from valuetrace.chain._report import Report, verify_chain
from valuetrace.chain._sources import Sources, load_credential_files, subject_keys
from valuetrace.chain._trust import (
    TRUST_FILE_ENV,
    TrustSettings,
    load_trust_file,
    trust_file_from_env,
)

__all__ = [
    "TRUST_FILE_ENV",
    "Report",
    "Sources",
    "TrustSettings",
    "load_credential_files",
    "load_trust_file",
    "render_report",
    "subject_keys",
    "trust_file_from_env",
    "verify_chain",
]
