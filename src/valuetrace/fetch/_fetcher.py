"""The fetcher: every HTTP(S) request valuetrace makes goes through :class:`Fetcher`."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from valuetrace.errors import InputError, StoreError
from valuetrace.fetch._cache import CacheEntry, DocumentCache, parse_cache_control
from valuetrace.fetch._errors import (
    FetchFailed,
    FetchNotCached,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
)
from valuetrace.fetch._policy import FetchPolicy, blocked_reason
from valuetrace.fetch._transport import FetchTransport, fetch_deadline

LOGGER = logging.getLogger(__name__)

Resolver = Callable[[str], list[str]]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_USER_AGENT = "valuetrace-fetch"


@dataclass(frozen=True)
class FetchResult:
    """A fetched document. ``url`` is the URL requested, ``final_url`` the one after redirects."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    sha256: str
    from_cache: bool = False


def resolve_with_getaddrinfo(host: str) -> list[str]:
    """Return the IP addresses of ``host`` from the system resolver, in the order it gives."""
    answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _protocol, _name, sockaddr in answers:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class _Target:
    """A checked request target: the URL as given and the address and port to connect to."""

    url: httpx.URL
    host: str
    address: str
    port: int


class Fetcher:
    """Fetch documents over HTTP(S) under a :class:`FetchPolicy`.

    Before every connection, redirects included, the host is resolved and each address is
    checked. The request then goes to that checked address with the original Host header and
    TLS server name, so a second DNS lookup cannot change where it goes. Responses are
    cached by URL (see ``cache_dir``). Use it as a context manager or call :meth:`close`.

    ``transport`` replaces the network, for tests. With the default transport the total timeout
    bounds every connect, TLS handshake and read. With another transport it is checked only
    between redirects and body chunks.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        transport: httpx.BaseTransport | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.policy = policy if policy is not None else FetchPolicy()
        self._resolver = resolver if resolver is not None else resolve_with_getaddrinfo
        self._owns_transport = transport is None
        # No client on purpose: a client would add cookies and environment proxies, and a proxy
        # would connect to the host by name and undo the address check.
        if transport is None:
            transport = FetchTransport(_ssl_context(self.policy))
        self._transport = transport
        self._cache = DocumentCache(cache_dir)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections of the default transport; a transport passed in stays open."""
        if self._owns_transport:
            self._transport.close()

    def fetch(self, url: str, *, accept: str | None = None) -> FetchResult:
        """Fetch ``url`` and return its body, from the cache when a fresh copy is there.

        ``accept`` is sent as the Accept header; the cache keeps responses to different
        Accept values apart. Raises :class:`FetchRefused` (:class:`FetchNotCached` for an
        offline cache miss), :class:`FetchTooLarge`, :class:`FetchTimeout` or
        :class:`FetchFailed`, all subclasses of :class:`FetchError`.
        """
        cached = self._cache.lookup(url, accept=accept, allow_stale=self.policy.offline)
        if cached is not None:
            entry, body = cached
            LOGGER.debug("fetch %s answered from the cache", url)
            return FetchResult(
                url=url,
                final_url=entry.final_url,
                status=entry.status,
                headers=dict(entry.headers),
                content=body,
                sha256=entry.sha256,
                from_cache=True,
            )
        if self.policy.offline:
            raise FetchNotCached(url, "offline mode is on and the URL is not in the cache")

        deadline = time.monotonic() + self.policy.timeout.total
        with fetch_deadline(deadline):
            result = self._fetch_following_redirects(url, accept, deadline)
        self._store(result, accept)
        return result

    def _fetch_following_redirects(
        self, url: str, accept: str | None, deadline: float
    ) -> FetchResult:
        current = _parse_url(url, url)
        redirects = 0
        while True:
            target = self._check_target(url, current)
            with self._open(url, target, accept, deadline) as response:
                if response.status_code in _REDIRECT_STATUSES:
                    if redirects >= self.policy.max_redirects:
                        raise FetchFailed(
                            url,
                            f"more than {self.policy.max_redirects} redirects "
                            f"(the last one from {current})",
                        )
                    location = response.headers.get("location")
                    if not location:
                        raise FetchFailed(
                            url, f"redirect {response.status_code} from {current} has no Location"
                        )
                    LOGGER.debug("fetch %s: %s redirects to %s", url, current, location)
                    current = _parse_url(url, location, base=current)
                    redirects += 1
                    continue
                if response.status_code >= 400:
                    raise FetchFailed(
                        url,
                        f"{current} returned HTTP {response.status_code}",
                        status=response.status_code,
                    )
                content = self._read_body(url, response, deadline)
                return FetchResult(
                    url=url,
                    final_url=str(current),
                    status=response.status_code,
                    headers=dict(response.headers.items()),
                    content=content,
                    sha256=hashlib.sha256(content).hexdigest(),
                )

    def _check_target(self, url: str, current: httpx.URL) -> _Target:
        """Check the scheme and the addresses of ``current`` and pick the address to use."""
        policy = self.policy
        scheme = current.scheme
        if scheme not in _DEFAULT_PORTS:
            raise FetchRefused(url, f"scheme {scheme!r} of {current} is not http or https")
        host = current.raw_host.decode("ascii").lower()
        port = current.port if current.port is not None else _DEFAULT_PORTS[scheme]

        mapped = policy.host_map.get((host, port))
        if mapped is not None:
            return _Target(current, host, mapped, port)
        connect_to = policy.connect_to.get((host, port))
        if connect_to is not None:
            return _Target(current, host, *connect_to)
        if scheme == "http" and not policy.allow_http:
            raise FetchRefused(
                url,
                f"plain HTTP to {current} is not allowed; use https, or map the host to an "
                "address (host_map, or --resolve on the command line)",
            )

        addresses = self._resolve(url, host)
        for text in addresses:
            address = ipaddress.ip_address(text)
            if host in policy.allowed_hosts:
                continue
            if any(address in network for network in policy.allowed_networks):
                continue
            reason = blocked_reason(address)
            if reason is not None:
                raise FetchRefused(
                    url,
                    f"host {host} resolves to {address}, {reason}; if it is trusted, allow "
                    "the host (allowed_hosts, --allow-host) or its network "
                    "(allowed_networks, --allow-network)",
                )
        return _Target(current, host, addresses[0], port)

    def _resolve(self, url: str, host: str) -> list[str]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [host]

        try:
            answers = self._resolver(host)
        except OSError as error:
            raise FetchFailed(url, f"cannot resolve host {host}: {error}") from error
        if not answers:
            raise FetchFailed(url, f"host {host} has no addresses")
        for answer in answers:
            try:
                ipaddress.ip_address(answer)
            except ValueError:
                raise FetchFailed(
                    url, f"the resolver returned {answer!r} for {host}, not an IP address"
                ) from None
        return answers

    @contextmanager
    def _open(
        self, url: str, target: _Target, accept: str | None, deadline: float
    ) -> Iterator[httpx.Response]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._total_timeout(url)
        limits = self.policy.timeout
        timeout = httpx.Timeout(
            connect=min(limits.connect, remaining),
            read=min(limits.read, remaining),
            write=min(limits.read, remaining),
            pool=min(limits.connect, remaining),
        )
        pinned_url = target.url.copy_with(host=target.address, port=target.port)
        headers = {
            "Host": target.url.netloc.decode("ascii"),
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        }
        if accept is not None:
            headers["Accept"] = accept
        request = httpx.Request(
            "GET",
            pinned_url,
            headers=headers,
            extensions={"timeout": timeout.as_dict(), "sni_hostname": target.host},
        )
        LOGGER.debug("fetch %s: GET %s at %s:%d", url, target.url, target.address, target.port)
        try:
            response = self._transport.handle_request(request)
        except httpx.TimeoutException as error:
            if time.monotonic() >= deadline:
                raise self._total_timeout(url) from error
            raise FetchTimeout(url, f"{target.url} timed out: {error}") from error
        except httpx.TransportError as error:
            if _is_certificate_error(error):
                raise FetchFailed(
                    url,
                    f"the TLS certificate of {target.url} could not be verified ({error}); if the "
                    "server uses a private certificate authority, pass its certificate with "
                    "--ca-bundle",
                ) from error
            raise FetchFailed(url, f"request to {target.url} failed: {error}") from error
        try:
            yield response
        finally:
            response.close()

    def _read_body(self, url: str, response: httpx.Response, deadline: float) -> bytes:
        max_bytes = self.policy.max_bytes
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise FetchTooLarge(
                url, f"Content-Length {declared} is over the limit of {max_bytes} bytes"
            )

        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchTooLarge(url, f"body is over the limit of {max_bytes} bytes")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise self._total_timeout(url, size)
        except httpx.TimeoutException as error:
            if time.monotonic() >= deadline:
                raise self._total_timeout(url, size) from error
            raise FetchTimeout(url, f"reading the body timed out: {error}") from error
        except (httpx.TransportError, httpx.DecodingError) as error:
            raise FetchFailed(url, f"reading the body failed: {error}") from error
        return b"".join(chunks)

    def _total_timeout(self, url: str, body_bytes: int | None = None) -> FetchTimeout:
        reason = f"total timeout of {self.policy.timeout.total} s reached"
        if body_bytes is not None:
            reason += f" after {body_bytes} bytes of the body"
        return FetchTimeout(url, reason)

    def _store(self, result: FetchResult, accept: str | None) -> None:
        if result.status != 200:
            return
        no_store, max_age = parse_cache_control(result.headers.get("cache-control"))
        if no_store:
            return
        entry = CacheEntry(
            url=result.url,
            accept=accept,
            final_url=result.final_url,
            status=result.status,
            headers=dict(result.headers),
            sha256=result.sha256,
            stored_at=time.time(),
            max_age=max_age,
        )
        try:
            self._cache.store(entry, result.content)
        except StoreError as error:
            # The document was fetched, so a cache that cannot be written costs only a refetch.
            LOGGER.warning("fetch %s: not cached: %s", result.url, error)


def _is_certificate_error(error: BaseException) -> bool:
    """Check whether a transport error was caused by a failed TLS certificate check."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def _ssl_context(policy: FetchPolicy) -> ssl.SSLContext:
    """Return the TLS settings of the default transport: the CA bundle, else the system store."""
    if policy.ca_bundle is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(policy.ca_bundle))
    except (OSError, ssl.SSLError) as error:
        raise InputError(
            f"cannot read the CA bundle {policy.ca_bundle}: {error}; give a file of "
            "PEM-encoded CA certificates"
        ) from error


def _parse_url(url: str, text: str, base: httpx.URL | None = None) -> httpx.URL:
    try:
        parsed = httpx.URL(text) if base is None else base.join(text)
    except httpx.InvalidURL as error:
        raise FetchFailed(url, f"invalid URL {text!r}: {error}") from error
    if parsed.scheme not in _DEFAULT_PORTS:
        raise FetchRefused(url, f"scheme {parsed.scheme!r} of {parsed} is not http or https")
    if not parsed.host:
        raise FetchFailed(url, f"URL {text!r} has no host")
    return parsed
