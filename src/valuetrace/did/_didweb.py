"""The ``did:web`` method: where a DID's document is published on the web.

``did:web:example.com`` is served at ``https://example.com/.well-known/did.json`` and
``did:web:example.com:org:unit`` at ``https://example.com/org/unit/did.json``. A port is written
percent-encoded in the domain (``did:web:localhost%3A8443``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from valuetrace.errors import DIDError

__all__ = ["DID_WEB_PREFIX", "did_web_to_url"]

DID_WEB_PREFIX = "did:web:"

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# A path segment is made of DID idchars: letters, digits, '.', '-', '_' and percent-encoded bytes.
_PATH_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")


def _check_host(did: str, host: str) -> None:
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise DIDError(
            f"did:web {did!r} has an invalid domain name {host!r}: use letters, digits, "
            "hyphens and dots, and write a port as %3A followed by the number"
        )


def _check_port(did: str, port: str) -> None:
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise DIDError(
            f"did:web {did!r} has an invalid port {port!r}: expected a number from 1 to 65535"
        )


def did_web_to_url(did: str) -> str:
    """Return the HTTPS URL of the DID document of a ``did:web`` DID.

    Raises ``DIDError`` naming the value if it is not a well-formed ``did:web`` DID. A DID URL
    with a fragment, query or path is rejected, so strip it first with ``did_of``.
    """
    if not isinstance(did, str) or not did.startswith(DID_WEB_PREFIX):
        raise DIDError(f"{did!r} is not a did:web DID: it must start with 'did:web:'")
    if any(separator in did for separator in "#?/"):
        raise DIDError(
            f"{did!r} is a DID URL, not a DID: remove the fragment, query or path "
            "(valuetrace.did.did_of does this) before resolving it"
        )

    domain, *path = did[len(DID_WEB_PREFIX) :].split(":")
    if not domain:
        raise DIDError(f"did:web {did!r} has no domain name after 'did:web:'")

    host, separator, port = domain.replace("%3a", "%3A").partition("%3A")
    _check_host(did, host)
    if separator:
        _check_port(did, port)

    for segment in path:
        if not _PATH_SEGMENT.match(segment) or unquote(segment) in {".", ".."}:
            raise DIDError(
                f"did:web {did!r} has an invalid path segment {segment!r}: segments between "
                "':' must be non-empty, must not be '.' or '..', and may use letters, digits, "
                "'.', '-', '_' or %-escapes"
            )

    authority = f"{host}:{port}" if separator else host
    if path:
        return f"https://{authority}/{'/'.join(path)}/did.json"
    return f"https://{authority}/.well-known/did.json"
