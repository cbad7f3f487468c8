"""The default transport of the fetcher: a connection pool per host name and a total deadline.

``httpx.HTTPTransport`` does not fit the fetcher for two reasons:

* The fetcher sends every request to the IP address it checked, so httpx would pool
  connections by that address alone. A TLS connection whose certificate was checked for one
  host name could then carry a request for another name served at the same address. Here each
  ``(scheme, host name, address, port)`` gets a pool of its own.
* A server that sends one byte just before each read timeout keeps a plain transport reading
  long past any total time limit. Here every connect, TLS handshake, read and write gets at most
  the time left until the deadline set with :func:`fetch_deadline`.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

__all__ = ["FetchTransport", "fetch_deadline"]

_DEADLINE: ContextVar[float | None] = ContextVar("valuetrace_fetch_deadline", default=None)

# httpcore exceptions and the httpx ones the fetcher catches, most specific first.
_TRANSLATED_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)

_HTTPCORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


@contextmanager
def fetch_deadline(deadline: float) -> Iterator[None]:
    """Make network operations in this context end by ``deadline`` (a ``time.monotonic()``)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _time_left(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    """Return ``timeout`` cut to the time left until the deadline, or raise ``error`` if none."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the total timeout of the fetch was reached")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current deadline.

    Since Python 3.5 a socket timeout bounds the whole call (a ``recv``, or a TLS handshake,
    read or write), not each system call inside it. So cutting each call's timeout to the time
    left bounds the total.
    """

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """The synchronous socket backend of httpcore, with streams that honour the deadline."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limit = _time_left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, limit, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.UnsupportedProtocol(
            f"the fetcher connects over TCP only, not to the Unix socket {path}"
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@contextmanager
def _translated_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except _HTTPCORE_ERRORS as error:
        raise _translate(error, request) from error


def _translate(error: Exception, request: httpx.Request) -> httpx.TransportError:
    for core_type, httpx_type in _TRANSLATED_ERRORS:
        if isinstance(error, core_type):
            return httpx_type(str(error) or type(error).__name__, request=request)
    return httpx.TransportError(str(error), request=request)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _translated_errors(self._request):
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            with _translated_errors(self._request):
                close()


class FetchTransport(httpx.BaseTransport):
    """Send the fetcher's requests over HTTP/1.1, pooling connections per host name.

    ``ssl_context`` checks the servers' certificates. Requests carry the target host name in
    the ``sni_hostname`` extension, which httpcore uses as the TLS server name and for the
    certificate's host name check.
    """

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context
        self._backend = _DeadlineBackend()
        self._pools: dict[tuple[bytes, str, bytes, int | None], httpcore.ConnectionPool] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host_name = str(request.extensions.get("sni_hostname") or url.host)
        pool = self._pool((url.raw_scheme, host_name, url.raw_host, url.port))
        stream = request.stream
        if not isinstance(stream, Iterable):
            raise TypeError("FetchTransport sends synchronous requests only")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=stream,
            extensions=request.extensions,
        )
        with _translated_errors(request):
            response = pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()

    def _pool(self, key: tuple[bytes, str, bytes, int | None]) -> httpcore.ConnectionPool:
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = httpcore.ConnectionPool(
                    ssl_context=self._ssl_context,
                    max_connections=10,
                    max_keepalive_connections=10,
                    keepalive_expiry=5.0,
                    network_backend=self._backend,
                )
                self._pools[key] = pool
            return pool
