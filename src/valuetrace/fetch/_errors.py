"""The exceptions of the fetch layer; each one names the URL and the reason."""

from __future__ import annotations

from valuetrace.errors import ValuetraceError


class FetchError(ValuetraceError):
    """A document could not be fetched. ``url`` is the URL requested, ``reason`` why it failed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"fetching {url} failed: {reason}")
        self.url = url
        self.reason = reason


class FetchRefused(FetchError):
    """The policy rejected the request: a blocked address, scheme or an offline cache miss."""


class FetchTooLarge(FetchError):
    """The response body is larger than the policy's ``max_bytes``."""


class FetchTimeout(FetchError):
    """Connecting, reading or the whole fetch took longer than the policy's timeouts."""


class FetchFailed(FetchError):
    """The connection or the HTTP exchange failed: an error status, bad redirect, network error."""
