"""DID resolution: ``did:key`` documents derived locally, ``did:web`` documents fetched.

A ``did:web`` document is fetched through :class:`valuetrace.fetch.Fetcher`, so the fetch
policy's address checks, limits and cache apply to it, and it counts only if it is a JSON object
whose ``id`` is the DID that was resolved. A server can publish any document at a URL, so a
document for another DID is rejected rather than used for its keys.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from valuetrace.did._didkey import did_key_document
from valuetrace.did._didweb import DID_WEB_PREFIX, did_web_to_url
from valuetrace.errors import DIDError
from valuetrace.fetch import Fetcher, FetchError

__all__ = ["DIDResolutionError", "resolve_did_document"]

DID_KEY_PREFIX = "did:key:"


class DIDResolutionError(DIDError):
    """A DID document could not be resolved or was rejected.

    ``code`` is the stable finding code of the failure (``did.document_mismatch``,
    ``fetch.timeout`` …), ``url`` the URL of the document when the DID has one, and ``reason``
    what failed.
    """

    def __init__(self, did: str, url: str | None, code: str, reason: str) -> None:
        where = f" from {url}" if url is not None else ""
        super().__init__(f"resolving {did}{where} failed: {reason}")
        self.did = did
        self.url = url
        self.code = code
        self.reason = reason


def resolve_did_document(did: str, fetcher: Fetcher | None) -> dict[str, Any]:
    """Return the DID document of ``did``.

    ``did:key`` documents are derived from the DID itself. ``did:web`` documents are fetched
    with ``fetcher`` from the URL that :func:`did_web_to_url` gives. Raises
    :class:`DIDResolutionError` naming the DID, the URL and the reason when the DID is
    malformed, of another method, cannot be fetched, or its document is rejected.
    """
    if did.startswith(DID_KEY_PREFIX):
        try:
            return did_key_document(did)
        except DIDError as error:
            raise DIDResolutionError(did, None, "did.invalid", str(error)) from error
    if not did.startswith(DID_WEB_PREFIX):
        raise DIDResolutionError(
            did,
            None,
            "did.unsupported_method",
            "only did:key and did:web DIDs can be resolved; give the DID document in a file "
            "or the store instead",
        )

    url = _did_web_url(did)
    if fetcher is None:
        raise DIDResolutionError(
            did,
            url,
            "did.unresolved",
            "no fetcher was given, so did:web documents cannot be read; pass a Fetcher",
        )
    try:
        result = fetcher.fetch(url)
    except FetchError as error:
        raise DIDResolutionError(did, url, error.code, error.reason) from error
    return _checked_document(did, url, result.content)


def _did_web_url(did: str) -> str:
    try:
        url = did_web_to_url(did)
    except DIDError as error:
        raise DIDResolutionError(did, None, "did.invalid", str(error)) from error

    # did:web names a domain: an IP address has no certificate name to check, and a top-level
    # label of digits only is how a shortened IPv4 address such as "did:web:123" would read.
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        is_address = host.rsplit(".", 1)[-1].isdigit()
    else:
        is_address = True
    if is_address:
        raise DIDResolutionError(
            did,
            url,
            "did.invalid",
            f"did:web must name a domain, not the IP address {host}; publish the document "
            "under a domain name",
        )
    return url


def _checked_document(did: str, url: str, content: bytes) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError) as error:
        raise DIDResolutionError(
            did, url, "did.document_invalid", f"the response is not JSON: {error}"
        ) from error
    if not isinstance(document, dict):
        raise DIDResolutionError(
            did,
            url,
            "did.document_invalid",
            f"the response is a JSON {type(document).__name__}, expected a DID document object",
        )
    document_id = document.get("id")
    if document_id != did:
        raise DIDResolutionError(
            did,
            url,
            "did.document_mismatch",
            f"the document's id is {document_id!r}, not the DID that was resolved; a DID "
            "document must name its own DID",
        )
    return document
