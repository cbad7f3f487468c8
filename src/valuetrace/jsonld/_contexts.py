"""Bundled JSON-LD context documents and an offline document loader for pyld."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = [
    "BUNDLED_CONTEXTS",
    "DATA_INTEGRITY_V2_CONTEXT_URL",
    "MULTIKEY_V1_CONTEXT_URL",
    "UNTP_CONTEXT_URLS",
    "VC_V2_CONTEXT_URL",
    "load_context",
    "pyld_document_loader",
    "register_context",
]

VC_V2_CONTEXT_URL = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2_CONTEXT_URL = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1_CONTEXT_URL = "https://w3id.org/security/multikey/v1"
# The W3C examples vocabulary: the W3C test suites send credentials that use it.
EXAMPLES_V2_CONTEXT_URL = "https://www.w3.org/ns/credentials/examples/v2"
_UNTP_CONTEXT_BASE = "https://test.uncefact.org/vocabulary/untp/"
_UNTP_BUNDLED_VERSION = "0.6.1"
_UNTP_CONTEXT_NAMES = ("core", "dpp", "dcc", "dte", "dfr", "dia")

UNTP_CONTEXT_URLS: frozenset[str] = frozenset(
    f"{_UNTP_CONTEXT_BASE}{name}/{_UNTP_BUNDLED_VERSION}/" for name in _UNTP_CONTEXT_NAMES
)
"""URLs of the bundled UNTP contexts. Their ``@vocab`` mappings count as UNTP-defined."""

BUNDLED_CONTEXTS: Mapping[str, str] = MappingProxyType(
    {
        VC_V2_CONTEXT_URL: "data/w3c/contexts/www.w3.org_ns_credentials_v2.jsonld",
        DATA_INTEGRITY_V2_CONTEXT_URL: (
            "data/w3c/contexts/w3id.org_security_data-integrity_v2.jsonld"
        ),
        MULTIKEY_V1_CONTEXT_URL: "data/w3c/contexts/w3id.org_security_multikey_v1.jsonld",
        EXAMPLES_V2_CONTEXT_URL: "data/w3c/contexts/www.w3.org_ns_credentials_examples_v2.jsonld",
        **{
            f"{_UNTP_CONTEXT_BASE}{name}/{_UNTP_BUNDLED_VERSION}/": (
                f"data/untp/{_UNTP_BUNDLED_VERSION}/{name}/context.jsonld"
            )
            for name in _UNTP_CONTEXT_NAMES
        },
    }
)
"""Context URL to the path of its file inside the ``valuetrace`` package."""

_loaded: dict[str, dict[str, Any]] = {}
_load_lock = threading.Lock()


def register_context(url: str, document: Mapping[str, Any]) -> None:
    """Make a context document available offline under ``url``, next to the bundled ones.

    Use it for contexts that valuetrace does not bundle, such as an issuer's own vocabulary:
    the term check, RDF canonicalization and Data Integrity verification then read ``document``
    wherever a credential names ``url``. Registration lasts for the whole process. Registering
    the same document again does nothing. Raises ``ValueError`` for a bundled URL, for a URL
    that already has another document, or for a document without an ``@context`` entry, and
    ``TypeError`` for a document that is not a JSON object.
    """
    if not isinstance(url, str) or ":" not in url:
        raise ValueError(f"context URL {url!r} must be an absolute URL such as 'https://…'")
    if not isinstance(document, Mapping):
        raise TypeError(
            f"the context document for {url!r} must be a JSON object, got {type(document).__name__}"
        )
    if "@context" not in document:
        raise ValueError(
            f"the context document for {url!r} has no '@context' entry: pass the whole "
            "document as served at the URL, such as {'@context': {...}}"
        )
    if url in BUNDLED_CONTEXTS:
        raise ValueError(
            f"context {url!r} is bundled with valuetrace and cannot be replaced; remove the "
            "register_context call"
        )
    # A JSON round trip makes a private copy and rejects values that JSON cannot hold.
    copied: dict[str, Any] = json.loads(json.dumps(document))
    with _load_lock:
        existing = _loaded.get(url)
        if existing is not None and existing != copied:
            raise ValueError(
                f"context {url!r} is already registered with another document; processed "
                "contexts are cached per URL, so a registered document cannot be replaced"
            )
        _loaded[url] = copied


def load_context(url: str) -> dict[str, Any] | None:
    """Return the context document bundled or registered for ``url``, or ``None`` if none is.

    Each document is read once and then shared between callers, so treat it as read-only and
    copy it before changing it. Nothing is fetched from the network.
    """
    document = _loaded.get(url)
    if document is not None:
        return document
    resource = BUNDLED_CONTEXTS.get(url)
    if resource is None:
        return None
    with _load_lock:
        document = _loaded.get(url)
        if document is None:
            text = resources.files("valuetrace").joinpath(resource).read_text(encoding="utf-8")
            document = json.loads(text)
            _loaded[url] = document
    return document


def pyld_document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load a bundled or registered context for pyld, as the ``documentLoader`` of pyld calls.

    Returns a remote document of the shape pyld expects, with a private copy of the context.
    Raises pyld's ``JsonLdError`` (code ``loading document failed``) for any other URL, so
    pyld never reaches the network through this loader.
    """
    document = load_context(url)
    if document is None:
        from pyld.jsonld import JsonLdError

        raise JsonLdError(
            f"Context {url!r} is neither bundled nor registered, and remote loading is "
            f"disabled. Bundled contexts: {', '.join(sorted(BUNDLED_CONTEXTS))}. Register "
            "others with valuetrace.jsonld.register_context.",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(document),
    }
