"""The safe fetch layer: one door to the network for documents that credentials point to.

:class:`Fetcher` rejects private, loopback, link-local, multicast and other non-public addresses
unless the :class:`FetchPolicy` allows them, pins each connection to the address it checked,
limits size, time and redirects, and caches documents by SHA-256.
"""

from __future__ import annotations

from valuetrace.fetch._cache import default_cache_dir
from valuetrace.fetch._errors import (
    FetchError,
    FetchFailed,
    FetchNotCached,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
)
from valuetrace.fetch._fetcher import Fetcher, FetchResult, Resolver, resolve_with_getaddrinfo
from valuetrace.fetch._mapping import parse_connect_to, parse_resolve
from valuetrace.fetch._policy import FetchPolicy, Timeouts, blocked_reason

__all__ = [
    "FetchError",
    "FetchFailed",
    "FetchNotCached",
    "FetchPolicy",
    "FetchRefused",
    "FetchResult",
    "FetchTimeout",
    "FetchTooLarge",
    "Fetcher",
    "Resolver",
    "Timeouts",
    "blocked_reason",
    "default_cache_dir",
    "parse_connect_to",
    "parse_resolve",
    "resolve_with_getaddrinfo",
]
