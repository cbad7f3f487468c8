"""The exceptions of the fetch layer; each one names the URL and the reason."""

from __future__ import annotations

from valuetrace.errors import ValuetraceError


class FetchError(ValuetraceError):
    """A document could not be fetched. ``url`` is the URL requested, ``reason`` why it failed.

    ``code`` is the stable finding code that a verifier reports for this kind of failure.
    """

    code = "fetch.failed"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"fetching {url} failed: {reason}")
        self.url = url
        self.reason = reason


class FetchRefused(FetchError):
    """The policy rejected the request: a blocked address or scheme."""

    code = "fetch.refused"


class FetchNotCached(FetchRefused):
    """A cache miss in offline mode: the cache has no copy of the URL."""

    code = "fetch.not_cached"


class FetchTooLarge(FetchError):
    """The response body is larger than the policy's ``max_bytes``."""

    code = "fetch.too_large"


class FetchTimeout(FetchError):
    """Connecting, reading or the whole fetch took longer than the policy's timeouts."""

    code = "fetch.timeout"


class FetchFailed(FetchError):
    """The connection or the HTTP exchange failed: an error status, bad redirect, network error.

    ``status`` is the HTTP status code when the server returned an error status, else None.
    """

    code = "fetch.failed"

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(url, reason)
        self.status = status
