"""The chain walk: verify a product's whole value chain from signed UNTP credentials.

Start at a product (a GS1 Digital Link URI) or a credential, follow traceability events to input
products and their passports, conformity claims to conformity credentials, facilities to facility
records and issuers to identity anchors; check every credential and return a :class:`Report`.
"""

from valuetrace.chain._render import render_report
from valuetrace.chain._report import Report, verify_chain
from valuetrace.chain._sources import Sources, load_credential_files, subject_keys

__all__ = [
    "Report",
    "Sources",
    "load_credential_files",
    "render_report",
    "subject_keys",
    "verify_chain",
]
