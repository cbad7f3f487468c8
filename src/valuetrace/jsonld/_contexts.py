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
    "UNTP_CONTEXT_URLS",
    "VC_V2_CONTEXT_URL",
    "load_context",
    "pyld_document_loader",
]

VC_V2_CONTEXT_URL = "https://www.w3.org/ns/credentials/v2"
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


def load_context(url: str) -> dict[str, Any] | None:
    """Return the parsed context document bundled for ``url``, or ``None`` if none is bundled.

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
    """Load a bundled context for pyld, as the ``documentLoader`` option of ``jsonld.expand``.

    Returns a remote document of the shape pyld expects, with a private copy of the context.
    Raises pyld's ``JsonLdError`` (code ``loading document failed``) for any URL that is not
    bundled, so pyld never reaches the network through this loader.
    """
    document = load_context(url)
    if document is None:
        from pyld.jsonld import JsonLdError

        raise JsonLdError(
            f"Context {url!r} is not bundled with valuetrace and remote loading is disabled. "
            f"Bundled contexts: {', '.join(sorted(BUNDLED_CONTEXTS))}.",
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
