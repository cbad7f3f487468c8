"""Tests of the safe fetch layer.

Successful fetches go to an HTTP server that each test starts on 127.0.0.1. Rejected addresses
are given by a stub resolver, and the transport is an ``httpx.MockTransport`` that fails the
test if a request reaches a rejected address, so no connection to one can happen.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from valuetrace.fetch import (
    Fetcher,
    FetchError,
    FetchFailed,
    FetchNotCached,
    FetchPolicy,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    Timeouts,
    blocked_reason,
    default_cache_dir,
    parse_connect_to,
    parse_resolve,
)

DOCUMENT = b'{"type": ["VerifiableCredential"], "id": "urn:uuid:1"}'
BIG_SIZE = 5000
DRIP_BYTES = 40
DRIP_INTERVAL = 0.05

# Public address given to the stub resolver. Requests to it only ever reach a MockTransport.
PUBLIC_ADDRESS = "93.184.215.14"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        path = self.path
        if path.startswith("/redirect/"):
            remaining = int(path.rsplit("/", 1)[1])
            target = "/doc" if remaining == 0 else f"/redirect/{remaining - 1}"
            self._send(302, b"", {"Location": target})
        elif path == "/doc":
            self._send(200, DOCUMENT, {"Cache-Control": "public, max-age=3600"})
        elif path == "/plain":
            self._send(200, DOCUMENT, {})
        elif path == "/nostore":
            self._send(200, DOCUMENT, {"Cache-Control": "no-store"})
        elif path == "/stale":
            self._send(200, DOCUMENT, {"Cache-Control": "max-age=0"})
        elif path == "/big-declared":
            self._send(200, b"x" * BIG_SIZE, {})
        elif path == "/big":
            self.send_response(200)
            self.end_headers()
            self._write(b"x" * BIG_SIZE)
        elif path == "/drip":
            self.send_response(200)
            self.end_headers()
            for _ in range(DRIP_BYTES):
                if not self._write(b"x"):
                    return
                time.sleep(DRIP_INTERVAL)
        elif path == "/drip-headers":
            self._write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(DRIP_BYTES):
                if not self._write(b"X"):
                    return
                time.sleep(DRIP_INTERVAL)
            self._write(b": y\r\nContent-Length: 0\r\n\r\n")
        elif path == "/endless":
            self.send_response(200)
            self.end_headers()
            chunk = b"x" * 4096
            while self._write(chunk):
                self.server.endless_bytes += len(chunk)
            self.server.endless_stopped.set()
        elif path == "/accept":
            accept = self.headers.get("Accept") or "none"
            self._send(200, accept.encode(), {"Cache-Control": "max-age=600"})
        else:
            self._send(404, b"not found", {})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write(body)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str]] = []
        self.endless_bytes = 0
        self.endless_stopped = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def hits(self, path: str) -> int:
        return sum(1 for requested, _host in self.requests if requested == path)


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _no_dns(host: str) -> list[str]:
    pytest.fail(f"the resolver was called for {host}, but no DNS lookup was expected")


def _mapped_policy(server: _Server, **changes: Any) -> FetchPolicy:
    """Return a policy that maps docs.test to the local server, the only loopback exception."""
    return replace(FetchPolicy(host_map={("docs.test", server.port): "127.0.0.1"}), **changes)


def _url(server: _Server, path: str) -> str:
    return f"http://docs.test:{server.port}{path}"


def _stub_resolver(answers: dict[str, list[str]]) -> Callable[[str], list[str]]:
    def resolve(host: str) -> list[str]:
        if host not in answers:
            pytest.fail(f"unexpected DNS lookup of {host}")
        return answers[host]

    return resolve


def _guarded_transport(
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Return a mock transport that fails the test on a request to a non-public address."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        address = ipaddress.ip_address(request.url.host)
        reason = blocked_reason(address)
        if reason is not None:
            pytest.fail(f"a request reached {address}, {reason}")
        if handler is None:
            pytest.fail(f"no request was expected, got {request.url}")
        return handler(request)

    return httpx.MockTransport(handle), seen


# Success, pinning and limits against the local server.


def test_fetch_mapped_host(server: _Server) -> None:
    with Fetcher(_mapped_policy(server), resolver=_no_dns) as fetcher:
        result = fetcher.fetch(_url(server, "/doc"))

    assert result.status == 200
    assert result.content == DOCUMENT
    assert result.sha256 == hashlib.sha256(DOCUMENT).hexdigest()
    assert result.final_url == _url(server, "/doc")
    assert result.from_cache is False
    assert server.requests == [("/doc", f"docs.test:{server.port}")]


def test_fetch_allowed_network(server: _Server) -> None:
    policy = FetchPolicy(allow_http=True, allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    with Fetcher(policy, resolver=_no_dns) as fetcher:
        result = fetcher.fetch(f"http://127.0.0.1:{server.port}/plain")

    assert result.content == DOCUMENT


def test_fetch_loopback_default_rejected(server: _Server) -> None:
    with (
        Fetcher(FetchPolicy(allow_http=True), resolver=_no_dns) as fetcher,
        pytest.raises(FetchRefused, match="loopback"),
    ):
        fetcher.fetch(f"http://127.0.0.1:{server.port}/doc")

    assert server.requests == []


def test_size_cap_streamed(server: _Server) -> None:
    policy = _mapped_policy(server, max_bytes=1000)
    with Fetcher(policy, resolver=_no_dns) as fetcher, pytest.raises(FetchTooLarge) as caught:
        fetcher.fetch(_url(server, "/big"))

    assert "1000 bytes" in str(caught.value)
    assert caught.value.url == _url(server, "/big")


def test_size_cap_declared(server: _Server) -> None:
    policy = _mapped_policy(server, max_bytes=1000)
    with (
        Fetcher(policy, resolver=_no_dns) as fetcher,
        pytest.raises(FetchTooLarge, match="Content-Length 5000"),
    ):
        fetcher.fetch(_url(server, "/big-declared"))


def test_size_cap_exact_limit(server: _Server) -> None:
    policy = _mapped_policy(server, max_bytes=BIG_SIZE)
    with Fetcher(policy, resolver=_no_dns) as fetcher:
        result = fetcher.fetch(_url(server, "/big"))

    assert len(result.content) == BIG_SIZE


def test_endless_body_stops_at_cap(server: _Server) -> None:
    policy = _mapped_policy(server, max_bytes=100_000)
    with Fetcher(policy, resolver=_no_dns) as fetcher, pytest.raises(FetchTooLarge) as caught:
        fetcher.fetch(_url(server, "/endless"))

    assert "100000 bytes" in caught.value.reason
    # Closing the connection makes the server's next write fail. The generous wait only guards
    # against a hung test and measures nothing.
    assert server.endless_stopped.wait(timeout=30)
    assert server.endless_bytes < 100 * policy.max_bytes


def test_slow_drip_total_timeout(server: _Server) -> None:
    # The server sends a byte more often than the read timeout, and would finish the body in
    # DRIP_BYTES * DRIP_INTERVAL seconds. Only the total timeout can stop it first.
    policy = _mapped_policy(server, timeout=Timeouts(connect=1.0, read=1.0, total=0.5))
    with (
        Fetcher(policy, resolver=_no_dns) as fetcher,
        pytest.raises(FetchTimeout, match="total timeout"),
    ):
        fetcher.fetch(_url(server, "/drip"))


def test_slow_headers_total_timeout(server: _Server) -> None:
    # The header bytes come as slowly as the body bytes of the previous test. A read timeout
    # alone would let them take DRIP_BYTES * DRIP_INTERVAL seconds.
    policy = _mapped_policy(server, timeout=Timeouts(connect=1.0, read=1.0, total=0.5))
    with (
        Fetcher(policy, resolver=_no_dns) as fetcher,
        pytest.raises(FetchTimeout, match=re.escape("total timeout of 0.5 s")) as caught,
    ):
        fetcher.fetch(_url(server, "/drip-headers"))

    assert caught.value.url == _url(server, "/drip-headers")


def test_connect_to_other_port(server: _Server) -> None:
    policy = FetchPolicy(connect_to={("docs.test", 8080): ("127.0.0.1", server.port)})
    with Fetcher(policy, resolver=_no_dns) as fetcher:
        result = fetcher.fetch("http://docs.test:8080/doc")

    assert result.content == DOCUMENT
    assert result.final_url == "http://docs.test:8080/doc"
    assert server.requests == [("/doc", "docs.test:8080")]


def test_host_map_case_insensitive(server: _Server) -> None:
    policy = FetchPolicy(host_map={("Docs.TEST", server.port): "127.0.0.1"})
    with Fetcher(policy, resolver=_no_dns) as fetcher:
        result = fetcher.fetch(f"http://DOCS.test:{server.port}/doc")

    assert result.content == DOCUMENT


def test_redirects_within_limit(server: _Server) -> None:
    policy = _mapped_policy(server, max_redirects=2)
    with Fetcher(policy, resolver=_no_dns) as fetcher:
        result = fetcher.fetch(_url(server, "/redirect/1"))

    assert result.url == _url(server, "/redirect/1")
    assert result.final_url == _url(server, "/doc")
    assert result.content == DOCUMENT


def test_redirects_over_limit(server: _Server) -> None:
    policy = _mapped_policy(server, max_redirects=2)
    with (
        Fetcher(policy, resolver=_no_dns) as fetcher,
        pytest.raises(FetchFailed, match="more than 2 redirects"),
    ):
        fetcher.fetch(_url(server, "/redirect/5"))

    assert server.hits("/doc") == 0
    assert len(server.requests) == 3


def test_error_status_fails(server: _Server) -> None:
    with (
        Fetcher(_mapped_policy(server), resolver=_no_dns) as fetcher,
        pytest.raises(FetchFailed, match="HTTP 404") as caught,
    ):
        fetcher.fetch(_url(server, "/missing"))

    assert caught.value.status == 404
    assert caught.value.code == "fetch.failed"


# The cache.


def test_cache_hit_same_fetcher(server: _Server) -> None:
    with Fetcher(_mapped_policy(server), resolver=_no_dns) as fetcher:
        first = fetcher.fetch(_url(server, "/plain"))
        second = fetcher.fetch(_url(server, "/plain"))

    assert server.hits("/plain") == 1
    assert second.from_cache is True
    assert second.content == first.content
    assert second.sha256 == first.sha256


def test_cache_content_addressed(server: _Server, tmp_path: Path) -> None:
    with Fetcher(_mapped_policy(server), resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        result = fetcher.fetch(_url(server, "/doc"))

    stored = tmp_path / "objects" / result.sha256
    assert stored.read_bytes() == DOCUMENT
    assert (tmp_path / "index.json").exists()


def test_cache_max_age_across_fetchers(server: _Server, tmp_path: Path) -> None:
    policy = _mapped_policy(server)
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        fetcher.fetch(_url(server, "/doc"))
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        result = fetcher.fetch(_url(server, "/doc"))

    assert server.hits("/doc") == 1
    assert result.from_cache is True


def test_cache_no_max_age_refetched(server: _Server, tmp_path: Path) -> None:
    policy = _mapped_policy(server)
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        fetcher.fetch(_url(server, "/plain"))
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        fetcher.fetch(_url(server, "/plain"))

    assert server.hits("/plain") == 2


def test_cache_no_store(server: _Server, tmp_path: Path) -> None:
    with Fetcher(_mapped_policy(server), resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        fetcher.fetch(_url(server, "/nostore"))
        result = fetcher.fetch(_url(server, "/nostore"))

    assert server.hits("/nostore") == 2
    assert result.from_cache is False
    assert not (tmp_path / "objects").exists()


def test_cache_keeps_accept_apart(server: _Server, tmp_path: Path) -> None:
    policy = _mapped_policy(server)
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        plain = fetcher.fetch(_url(server, "/accept"))
        linkset = fetcher.fetch(_url(server, "/accept"), accept="application/linkset+json")
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        cached = fetcher.fetch(_url(server, "/accept"), accept="application/linkset+json")

    assert plain.content == b"none"
    assert linkset.content == b"application/linkset+json"
    assert cached.content == b"application/linkset+json"
    assert cached.from_cache is True
    assert server.hits("/accept") == 2


def test_cache_index_without_accept(server: _Server, tmp_path: Path) -> None:
    # Index records written before the Accept header was part of the key have no "accept".
    with Fetcher(_mapped_policy(server), resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        fetcher.fetch(_url(server, "/doc"))
    index = tmp_path / "index.json"
    records = json.loads(index.read_text())
    for record in records:
        del record["accept"]
    index.write_text(json.dumps(records))

    with Fetcher(_mapped_policy(server), resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        result = fetcher.fetch(_url(server, "/doc"))

    assert result.from_cache is True
    assert server.hits("/doc") == 1


def test_cache_unwritable_keeps_document(
    server: _Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")

    with Fetcher(_mapped_policy(server), resolver=_no_dns, cache_dir=not_a_folder) as fetcher:
        result = fetcher.fetch(_url(server, "/doc"))

    assert result.content == DOCUMENT
    assert any("not cached" in record.getMessage() for record in caplog.records)


def test_cache_max_age_zero(server: _Server) -> None:
    with Fetcher(_mapped_policy(server), resolver=_no_dns) as fetcher:
        fetcher.fetch(_url(server, "/stale"))
        fetcher.fetch(_url(server, "/stale"))

    assert server.hits("/stale") == 2


def test_offline_answers_from_cache(server: _Server, tmp_path: Path) -> None:
    with Fetcher(_mapped_policy(server), resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        fetcher.fetch(_url(server, "/stale"))

    transport, seen = _guarded_transport()
    offline = _mapped_policy(server, offline=True)
    fetcher = Fetcher(offline, resolver=_no_dns, transport=transport, cache_dir=tmp_path)
    result = fetcher.fetch(_url(server, "/stale"))

    assert result.content == DOCUMENT
    assert result.from_cache is True
    assert seen == []


def test_offline_cache_miss(tmp_path: Path) -> None:
    transport, seen = _guarded_transport()
    fetcher = Fetcher(
        FetchPolicy(offline=True), resolver=_no_dns, transport=transport, cache_dir=tmp_path
    )

    with pytest.raises(FetchNotCached, match="offline") as caught:
        fetcher.fetch("https://docs.example/credential.json")
    assert caught.value.code == "fetch.not_cached"
    assert isinstance(caught.value, FetchRefused)
    assert seen == []


# Rejected addresses, through a stub resolver and a guarded mock transport.

REJECTED_ADDRESSES = [
    ("169.254.169.254", "link-local"),
    ("fd00:ec2::254", "private"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("fc00::1", "private"),
    ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
    ("2002:7f00:1::", "loopback"),
]


@pytest.mark.parametrize(("address", "kind"), REJECTED_ADDRESSES)
def test_rejected_resolved_address(address: str, kind: str) -> None:
    transport, seen = _guarded_transport()
    resolver = _stub_resolver({"docs.example": [address]})
    fetcher = Fetcher(FetchPolicy(), resolver=resolver, transport=transport)

    with pytest.raises(FetchRefused) as caught:
        fetcher.fetch("https://docs.example/credential.json")

    assert kind in caught.value.reason
    assert str(ipaddress.ip_address(address)) in caught.value.reason
    assert caught.value.url == "https://docs.example/credential.json"
    assert seen == []


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/", "https://[::1]/"],
)
def test_rejected_literal_address(url: str) -> None:
    transport, seen = _guarded_transport()
    fetcher = Fetcher(FetchPolicy(allow_http=True), resolver=_no_dns, transport=transport)

    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert seen == []


def test_rejected_mixed_answers() -> None:
    transport, seen = _guarded_transport()
    resolver = _stub_resolver({"docs.example": [PUBLIC_ADDRESS, "10.0.0.7"]})
    fetcher = Fetcher(FetchPolicy(), resolver=resolver, transport=transport)

    with pytest.raises(FetchRefused, match=re.escape("10.0.0.7")):
        fetcher.fetch("https://docs.example/credential.json")
    assert seen == []


def test_http_without_permission() -> None:
    transport, seen = _guarded_transport()
    resolver = _stub_resolver({"docs.example": [PUBLIC_ADDRESS]})
    fetcher = Fetcher(FetchPolicy(), resolver=resolver, transport=transport)

    with pytest.raises(FetchRefused, match="plain HTTP"):
        fetcher.fetch("http://docs.example/credential.json")
    assert seen == []


def test_other_scheme_rejected() -> None:
    transport, seen = _guarded_transport()
    fetcher = Fetcher(FetchPolicy(), resolver=_no_dns, transport=transport)

    with pytest.raises(FetchRefused, match="'file'"):
        fetcher.fetch("file:///etc/hostname")
    assert seen == []


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/admin",
        "https://[fd00:ec2::254]/",
        "https://metadata.internal/",
    ],
)
def test_redirect_to_rejected(location: str) -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    transport, seen = _guarded_transport(redirect)
    resolver = _stub_resolver(
        {"docs.example": [PUBLIC_ADDRESS], "metadata.internal": ["169.254.169.254"]}
    )
    fetcher = Fetcher(FetchPolicy(allow_http=True), resolver=resolver, transport=transport)

    with pytest.raises(FetchRefused) as caught:
        fetcher.fetch("https://docs.example/credential.json")

    assert caught.value.url == "https://docs.example/credential.json"
    assert len(seen) == 1


def test_request_pinned_to_checked_address() -> None:
    answers = iter([[PUBLIC_ADDRESS], ["169.254.169.254"]])

    def changing_resolver(host: str) -> list[str]:
        return next(answers)

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=DOCUMENT)

    transport, seen = _guarded_transport(respond)
    fetcher = Fetcher(FetchPolicy(), resolver=changing_resolver, transport=transport)
    result = fetcher.fetch("https://docs.example:8443/credential.json")

    assert result.content == DOCUMENT
    assert len(seen) == 1
    assert seen[0].url.host == PUBLIC_ADDRESS
    assert seen[0].url.port == 8443
    assert seen[0].headers["Host"] == "docs.example:8443"
    assert seen[0].extensions["sni_hostname"] == "docs.example"


def test_allowed_host_exception() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=DOCUMENT)

    resolver = _stub_resolver({"registry.corp.example": ["10.20.0.5"]})
    policy = FetchPolicy(allowed_hosts=frozenset({"registry.corp.example"}))
    fetcher = Fetcher(policy, resolver=resolver, transport=httpx.MockTransport(handle))
    result = fetcher.fetch("https://registry.corp.example/credential.json")

    assert result.content == DOCUMENT
    assert seen[0].url.host == "10.20.0.5"


def test_resolver_failure() -> None:
    def failing_resolver(host: str) -> list[str]:
        raise OSError("Name or service not known")

    transport, seen = _guarded_transport()
    fetcher = Fetcher(FetchPolicy(), resolver=failing_resolver, transport=transport)

    with pytest.raises(FetchFailed, match=re.escape("cannot resolve host docs.example")):
        fetcher.fetch("https://docs.example/credential.json")
    assert seen == []


def test_errors_share_base() -> None:
    for error_type in (FetchRefused, FetchNotCached, FetchTooLarge, FetchTimeout, FetchFailed):
        assert issubclass(error_type, FetchError)


def test_error_codes_distinct() -> None:
    error_types = (FetchRefused, FetchNotCached, FetchTooLarge, FetchTimeout, FetchFailed)
    codes = [error_type.code for error_type in error_types]

    assert len(set(codes)) == len(codes)
    assert all(code.startswith("fetch.") for code in codes)


def test_policy_invalid_values() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        FetchPolicy(max_bytes=-1)
    with pytest.raises(ValueError, match="host_map"):
        FetchPolicy(host_map={("docs.test", 80): "docs.local"})
    with pytest.raises(ValueError, match=re.escape("timeout.total")):
        FetchPolicy(timeout=Timeouts(total=0))
    with pytest.raises(ValueError, match="connect_to"):
        FetchPolicy(connect_to={("docs.test", 443): ("docs.local", 8443)})
    with pytest.raises(ValueError, match="expected 1 to 65535"):
        FetchPolicy(connect_to={("docs.test", 443): ("127.0.0.1", 0)})
    with pytest.raises(ValueError, match="both host_map and connect_to"):
        FetchPolicy(
            host_map={("docs.test", 443): "127.0.0.1"},
            connect_to={("docs.test", 443): ("127.0.0.1", 8443)},
        )


def test_policy_lowercases_hosts() -> None:
    policy = FetchPolicy(
        allowed_hosts=frozenset({"Registry.Example"}),
        host_map={("Docs.Test", 80): "127.0.0.1"},
        connect_to={("API.Test", 443): ("127.0.0.1", 8443)},
    )

    assert policy.allowed_hosts == frozenset({"registry.example"})
    assert dict(policy.host_map) == {("docs.test", 80): "127.0.0.1"}
    assert dict(policy.connect_to) == {("api.test", 443): ("127.0.0.1", 8443)}


# Parsing of curl-style mappings.


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("docs.test:443:127.0.0.1", (("docs.test", 443), "127.0.0.1")),
        ("Docs.Test:8080:10.1.2.3", (("docs.test", 8080), "10.1.2.3")),
        ("docs.test:443:[::1]", (("docs.test", 443), "::1")),
        ("docs.test:443:::1", (("docs.test", 443), "::1")),
    ],
)
def test_parse_resolve(value: str, expected: tuple[tuple[str, int], str]) -> None:
    assert parse_resolve(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("docs.test:443", "HOST:PORT:ADDRESS"),
        ("docs.test:https:127.0.0.1", "invalid port"),
        ("docs.test:70000:127.0.0.1", "invalid port"),
        ("docs.test:443:localhost", "IP address"),
        (":443:127.0.0.1", "invalid host name"),
    ],
)
def test_parse_resolve_invalid(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        parse_resolve(value)

    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("docs.test:443:127.0.0.1:8443", (("docs.test", 443), ("127.0.0.1", 8443))),
        ("docs.test:443:[::1]:8443", (("docs.test", 443), ("::1", 8443))),
    ],
)
def test_parse_connect_to(value: str, expected: tuple[tuple[str, int], tuple[str, int]]) -> None:
    assert parse_connect_to(value) == expected


@pytest.mark.parametrize(
    "value", ["docs.test:443:127.0.0.1", "docs.test:443", "docs.test:443:127.0.0.1:x"]
)
def test_parse_connect_to_invalid(value: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_connect_to(value)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG applies elsewhere")
def test_default_cache_dir_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "valuetrace" / "fetch"

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert default_cache_dir() == Path.home() / ".cache" / "valuetrace" / "fetch"


def test_public_address_passes() -> None:
    assert blocked_reason(ipaddress.ip_address(PUBLIC_ADDRESS)) is None
    assert blocked_reason(ipaddress.ip_address("2606:4700::1111")) is None
