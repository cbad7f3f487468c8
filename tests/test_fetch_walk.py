"""Tests of the chain walk over the network: the demo chain served by a local HTTPS server.

Every host of the demo (``*.valuetrace.example``) is mapped to a TLS server that the test
starts on 127.0.0.1, through the fetch policy's ``connect_to`` (``--connect-to`` on the command
line). So no DNS query is sent, and the resolver given to every fetcher fails the test if it is
called. The server's certificate comes from a throwaway CA made in the test and trusted
through ``ca_bundle``, so the TLS server name and the certificate's host name check run for
real. Refused addresses go through a stub resolver and a mock transport that fails the test
if a request reaches a non-public address.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import socket
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from valuetrace.chain import Sources, verify_chain
from valuetrace.chain._report import Report
from valuetrace.cli import app
from valuetrace.demo import DemoChain, build_textile_chain
from valuetrace.did import Ed25519KeyPair, did_key_from_public_key
from valuetrace.errors import InputError
from valuetrace.fetch import (
    Fetcher,
    FetchFailed,
    FetchPolicy,
    Timeouts,
    blocked_reason,
)
from valuetrace.resolver import Resolver, gs1_check_digit
from valuetrace.store import Store
from valuetrace.vc import sign_enveloped

DEMO_DOMAIN = "valuetrace.example"
RESOLVER_HOST = f"id.{DEMO_DOMAIN}"
LINKSET_MEDIA_TYPE = "application/linkset+json"
LINK_TYPES = "https://test.uncefact.org/vocabulary/linkTypes/"
KEY_SECRET = b"fetch-walk-test-key-secret-32byt"

# Public address given to the stub resolver. Requests to it only ever reach a MockTransport.
PUBLIC_ADDRESS = "93.184.215.14"


# -- a throwaway certificate authority ---------------------------------------------------------


@dataclass(frozen=True)
class _Authority:
    """PEM files of a test CA and of a server certificate it issued."""

    ca_file: Path
    certificate_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue_authority(folder: Path, dns_names: list[str]) -> _Authority:
    """Create a CA and a server certificate for ``dns_names``, valid for one day."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("valuetrace test CA"))
        .issuer_name(_name("valuetrace test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0]))
        .issuer_name(ca_certificate.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    authority = _Authority(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    authority.ca_file.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    authority.certificate_file.write_bytes(
        server_certificate.public_bytes(serialization.Encoding.PEM)
    )
    authority.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return authority


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> _Authority:
    return _issue_authority(tmp_path_factory.mktemp("tls"), [f"*.{DEMO_DOMAIN}"])


# -- the demo chain as a network of web servers ------------------------------------------------


@dataclass
class _DemoNetwork:
    """The demo chain's credentials, DID documents and resolver links, as the web serves them."""

    chain: DemoChain
    now: datetime
    store: Store
    credentials: dict[str, bytes]
    did_documents: dict[str, dict[str, Any]]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def linkset(self, identifier: str) -> dict[str, Any]:
        # The store's SQLite connection is shared by the server's threads, one at a time.
        with self.lock:
            return Resolver(self.store).linkset(identifier)

    @property
    def register_did(self) -> str:
        return self.chain.trusted_dids[0]

    def hosts(self) -> list[str]:
        slugs = sorted(self.chain.organisations)
        return [RESOLVER_HOST, *(f"{slug}.{DEMO_DOMAIN}" for slug in slugs)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_DemoNetwork]:
    now = datetime.now(UTC)
    store = Store.open(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    chain = build_textile_chain(store, now=now, key_secret=KEY_SECRET)
    credentials: dict[str, bytes] = {}
    for url in chain.credentials.values():
        stored = store.get_credential(url)
        assert stored is not None
        credentials[url] = stored.content
    did_documents: dict[str, dict[str, Any]] = {}
    for organisation in chain.organisations.values():
        document = store.get_did_document(organisation.did)
        assert document is not None
        did_documents[organisation.did] = document
    yield _DemoNetwork(chain, now, store, credentials, did_documents)
    store.close()


@dataclass
class _Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class _DemoHandler(BaseHTTPRequestHandler):
    server: _DemoServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes, so with Nagle's algorithm the body would wait for
    # the client's delayed acknowledgement.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        host = self.headers.get("Host", "").partition(":")[0]
        path = self.path.partition("?")[0]
        self.server.requests.append((host, self.path))
        response = self.server.respond(host, path, self.headers.get("Accept", ""))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        # A fetcher that stops reading at its size limit closes the connection mid-body.
        with contextlib.suppress(OSError):
            self.wfile.write(response.body)


class _DemoServer(ThreadingHTTPServer):
    """A TLS server that plays every web host of the demo chain, chosen by the Host header.

    ``cache_control`` gives the Cache-Control header of each URL (None for no header), and
    ``replaced`` replaces the response of a URL.
    """

    daemon_threads = True

    def __init__(self, network: _DemoNetwork, authority: _Authority) -> None:
        super().__init__(("127.0.0.1", 0), _DemoHandler)
        self.network = network
        self.requests: list[tuple[str, str]] = []
        self.server_names: list[str] = []
        self.cache_control: Callable[[str], str | None] = lambda url: "max-age=600"
        self.replaced: dict[str, _Response] = {}
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(authority.certificate_file, authority.key_file)
        self._context.sni_callback = self._record_server_name

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def get_request(self) -> tuple[socket, Any]:
        connection, address = super().get_request()
        # The handshake runs on the first read, in the thread that handles the connection.
        wrapped = self._context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, address

    def _record_server_name(
        self, connection: ssl.SSLObject, name: str | None, context: ssl.SSLContext
    ) -> None:
        self.server_names.append(name or "")

    def respond(self, host: str, path: str, accept: str) -> _Response:
        url = f"https://{host}{path}"
        if url in self.replaced:
            return self.replaced[url]
        headers = {"Content-Type": "application/json"}
        cache_control = self.cache_control(url)
        if cache_control is not None:
            headers["Cache-Control"] = cache_control

        body: bytes | None = None
        if host == RESOLVER_HOST:
            if LINKSET_MEDIA_TYPE in accept:
                linkset = self.network.linkset(url)
                if linkset["linkset"]:
                    body = json.dumps(linkset).encode()
                    headers["Content-Type"] = LINKSET_MEDIA_TYPE
        elif path == "/.well-known/did.json":
            document = self.network.did_documents.get(f"did:web:{host}")
            if document is not None:
                body = json.dumps(document).encode()
        else:
            body = self.network.credentials.get(url)
        if body is None:
            return _Response(404, b"not found", {"Content-Type": "text/plain"})
        return _Response(200, body, headers)

    def hits(self) -> Counter[tuple[str, str]]:
        return Counter(self.requests)


@pytest.fixture
def web(demo: _DemoNetwork, authority: _Authority) -> Iterator[_DemoServer]:
    server = _DemoServer(demo, authority)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _no_dns(host: str) -> list[str]:
    pytest.fail(f"the resolver was called for {host}, but every host should be mapped")


def _policy(
    demo: _DemoNetwork, server: _DemoServer, authority: _Authority, **changes: Any
) -> FetchPolicy:
    """Return a policy that sends every host of the demo to the local TLS server."""
    connect_to = {(host, 443): ("127.0.0.1", server.port) for host in demo.hosts()}
    return FetchPolicy(connect_to=connect_to, ca_bundle=authority.ca_file, **changes)


def _walk(
    demo: _DemoNetwork,
    fetcher: Fetcher | None,
    *,
    store: Store | None = None,
    target: str | None = None,
) -> Report:
    sources = Sources(store=store, fetcher=fetcher)
    return verify_chain(
        target or demo.chain.garment_link,
        sources,
        at=demo.now,
        trusted_dids=[demo.register_did],
    )


@pytest.fixture(scope="module")
def local_report(demo: _DemoNetwork) -> Report:
    """The report of the walk over the demo's store, without network access."""
    return _walk(demo, None, store=demo.store)


def _refs(report: Report) -> set[str]:
    return {row["ref"] for row in report.credentials}


def _codes(report: Report) -> Counter[str]:
    return Counter(finding.code for finding in report.findings)


def _findings(report: Report, code: str) -> list[str]:
    return [finding.message for finding in report.findings if finding.code == code]


# -- the whole chain over HTTPS ----------------------------------------------------------------


def test_chain_verified_over_https(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, local_report: Report
) -> None:
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        online = _walk(demo, fetcher)
    local = local_report

    assert local.verified is True
    assert online.verified is True
    assert _refs(online) == _refs(local)
    assert len(online.credentials) == len(local.credentials)
    assert all(row["signature"] == "valid" for row in online.credentials)
    assert all(row["anchored"] for row in online.credentials)
    assert _codes(online) == _codes(local)
    assert not [f for f in online.findings if f.code.startswith(("fetch.", "did.", "linkset."))]


def test_chain_requests_use_host_names(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        _walk(demo, fetcher)

    hosts = {host for host, _path in web.requests}
    assert RESOLVER_HOST in hosts
    assert f"garments.{DEMO_DOMAIN}" in hosts
    assert hosts <= set(demo.hosts())
    assert set(web.server_names) == hosts


def test_each_document_fetched_once(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, local_report: Report
) -> None:
    # Without Cache-Control the fetcher's cache keeps nothing across runs, so only the walk's
    # own bookkeeping stops a second request.
    web.cache_control = lambda url: None
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    assert report.verified is True
    repeated = {request: count for request, count in web.hits().items() if count > 1}
    assert repeated == {}
    fetched_credentials = {f"https://{host}{path}" for host, path in web.requests}
    assert _refs(local_report) <= fetched_credentials
    did_requests = [host for host, path in web.requests if path == "/.well-known/did.json"]
    issuers = {row["issuer"] for row in local_report.credentials}
    assert sorted(did_requests) == sorted(did.removeprefix("did:web:") for did in issuers)


def test_no_store_fetched_once_per_walk(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    web.cache_control = lambda url: "no-store"
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    assert report.verified is True
    assert max(web.hits().values()) == 1


def test_nothing_fetched_without_opt_in(demo: _DemoNetwork, web: _DemoServer) -> None:
    report = _walk(demo, None)

    assert report.verified is False
    assert "credential.missing" in _codes(report)
    assert web.requests == []


# -- documents that are rejected ---------------------------------------------------------------


def test_did_document_wrong_id(demo: _DemoNetwork, web: _DemoServer, authority: _Authority) -> None:
    spinner = demo.chain.organisations["spinner"]
    farm = demo.chain.organisations["farm-a"]
    forged = dict(demo.did_documents[farm.did])
    url = f"https://spinner.{DEMO_DOMAIN}/.well-known/did.json"
    web.replaced[url] = _Response(200, json.dumps(forged).encode())

    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    mismatches = [f for f in report.findings if f.code == "did.document_mismatch"]
    assert len(mismatches) == 1
    assert mismatches[0].credential == url
    assert spinner.did in mismatches[0].message
    assert farm.did in mismatches[0].message
    assert report.verified is False
    unresolved = _findings(report, "did.unresolved")
    assert unresolved
    assert all(spinner.did in message for message in unresolved)


def test_did_document_not_json(demo: _DemoNetwork, web: _DemoServer, authority: _Authority) -> None:
    url = f"https://gin.{DEMO_DOMAIN}/.well-known/did.json"
    web.replaced[url] = _Response(200, b"<html>maintenance</html>", {"Content-Type": "text/html"})

    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    invalid = [f for f in report.findings if f.code == "did.document_invalid"]
    assert len(invalid) == 1
    assert invalid[0].credential == url
    assert "not JSON" in invalid[0].message
    assert report.verified is False


def test_missing_credential_reported(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    url = demo.chain.credentials["dcc-social-audit"]
    web.replaced[url] = _Response(404, b"gone")

    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    failed = [f for f in report.findings if f.code == "fetch.failed"]
    assert [f.credential for f in failed] == [url]
    assert "HTTP 404" in failed[0].message
    assert any(url in message for message in _findings(report, "credential.missing"))
    assert report.verified is False


def test_credential_too_large(demo: _DemoNetwork, web: _DemoServer, authority: _Authority) -> None:
    url = demo.chain.credentials["dcc-organic-cotton"]
    limit = max(len(body) for body in demo.credentials.values()) + 100
    web.replaced[url] = _Response(200, b" " * (limit + 1))

    policy = _policy(demo, web, authority, max_bytes=limit)
    with Fetcher(policy, resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    too_large = [f for f in report.findings if f.code == "fetch.too_large"]
    assert [f.credential for f in too_large] == [url]
    assert str(limit) in too_large[0].message


def test_linkset_invalid_reported(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    garment = demo.chain.garment_link
    web.replaced[garment] = _Response(
        200, b"<html>product page</html>", {"Content-Type": "text/html"}
    )

    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    invalid = [f for f in report.findings if f.code == "linkset.invalid"]
    assert [f.credential for f in invalid] == [garment]
    assert LINKSET_MEDIA_TYPE in invalid[0].message
    assert any(garment in message for message in _findings(report, "credential.missing"))
    assert report.verified is False


def test_linkset_unknown_product_quiet(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    unknown = f"https://{RESOLVER_HOST}/01/{_gtin('9520123999')}"

    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher, target=unknown)

    assert web.requests == [(RESOLVER_HOST, unknown.removeprefix(f"https://{RESOLVER_HOST}"))]
    assert _codes(report)["credential.missing"] == 1
    assert not [f for f in report.findings if f.code.startswith(("fetch.", "linkset."))]


def _gtin(body: str) -> str:
    """Return a GTIN-14 for the 13 digits ``body`` (zero-padded), with its check digit."""
    digits = body.rjust(13, "0")
    return digits + str(gs1_check_digit(digits))


def test_linkset_anchor_and_relative_target(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    # One context describes another product and must be ignored. The other describes the
    # GTIN of the garment's lot, which covers the lot, and gives its target as a relative URL.
    garment_dpp = demo.chain.credentials["dpp-garment"]
    gtin_link = demo.chain.garment_link.split("/10/")[0]
    other_link = f"https://{RESOLVER_HOST}/01/{_gtin('9520123777')}"
    decoy = f"https://brand.{DEMO_DOMAIN}/credentials/decoy.json"
    linkset = {
        "linkset": [
            {"anchor": other_link, f"{LINK_TYPES}dpp": [{"href": decoy}]},
            {"anchor": gtin_link, f"{LINK_TYPES}dpp": [{"href": "/passports/garment.json"}]},
        ]
    }
    copy_url = f"https://{RESOLVER_HOST}/passports/garment.json"
    web.replaced[demo.chain.garment_link] = _Response(200, json.dumps(linkset).encode())
    web.replaced[copy_url] = _Response(200, demo.credentials[garment_dpp])

    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        report = _walk(demo, fetcher)

    assert report.root_credential == copy_url
    assert (f"brand.{DEMO_DOMAIN}", "/credentials/decoy.json") not in web.requests
    assert report.verified is True


# -- redirects to refused addresses, through a stub resolver and a mock transport --------------


def _guarded_transport(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Return a mock transport that fails the test on a request to a non-public address."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        address = ipaddress.ip_address(request.url.host)
        reason = blocked_reason(address)
        if reason is not None:
            pytest.fail(f"a request reached {address}, {reason}")
        return handler(request)

    return httpx.MockTransport(handle), seen


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://127.0.0.1/admin", "loopback"),
        ("https://metadata.internal/computeMetadata/v1/", "link-local"),
    ],
)
def test_redirect_to_refused_address(location: str, kind: str) -> None:
    credential_url = "https://docs.example/credentials/dpp.json"

    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    transport, seen = _guarded_transport(redirect)
    answers = {"docs.example": [PUBLIC_ADDRESS], "metadata.internal": ["169.254.169.254"]}

    def resolve(host: str) -> list[str]:
        if host not in answers:
            pytest.fail(f"unexpected DNS lookup of {host}")
        return answers[host]

    policy = FetchPolicy(allow_http=True)
    with Fetcher(policy, resolver=resolve, transport=transport) as fetcher:
        sources = Sources(fetcher=fetcher)
        report = verify_chain(credential_url, sources, at=datetime.now(UTC))

    refused = [f for f in report.findings if f.code == "fetch.refused"]
    assert len(refused) == 1
    assert refused[0].credential == credential_url
    assert kind in refused[0].message
    assert "credential.missing" in _codes(report)
    assert len(seen) == 1
    assert seen[0].url.host == PUBLIC_ADDRESS


# -- limits of time ----------------------------------------------------------------------------


class _TrickleHandler(BaseHTTPRequestHandler):
    """Send the status line, then one header byte at a time, slower than any fetch allows."""

    server: _TrickleServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            for _ in range(self.server.byte_count):
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(self.server.interval)
            self.wfile.write(b": y\r\nContent-Length: 0\r\n\r\n")
            self.server.finished.set()
        except OSError:
            self.server.cut_off.set()


class _TrickleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, byte_count: int, interval: float) -> None:
        super().__init__(("127.0.0.1", 0), _TrickleHandler)
        self.byte_count = byte_count
        self.interval = interval
        self.finished = threading.Event()
        self.cut_off = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def test_trickled_headers_hit_total_timeout() -> None:
    # Each byte comes well within the read timeout, and all of them would take 4 s. Only the
    # total timeout of 0.5 s can stop the fetch first.
    server = _TrickleServer(byte_count=80, interval=0.05)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://slow.test:{server.port}/credential.json"
        policy = FetchPolicy(
            host_map={("slow.test", server.port): "127.0.0.1"},
            timeout=Timeouts(connect=1.0, read=1.0, total=0.5),
        )
        with Fetcher(policy, resolver=_no_dns) as fetcher:
            report = verify_chain(url, Sources(fetcher=fetcher), at=datetime.now(UTC))
        finished = server.finished.is_set()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    timeouts = [f for f in report.findings if f.code == "fetch.timeout"]
    assert [f.credential for f in timeouts] == [url]
    assert "total timeout of 0.5 s" in timeouts[0].message
    assert finished is False


# -- the cache across walks, and offline mode --------------------------------------------------


def _cache_control_by_name(
    demo: _DemoNetwork, headers: dict[str, str | None], default: str | None
) -> Callable[[str], str | None]:
    by_url = {demo.chain.credentials[name]: value for name, value in headers.items()}
    return lambda url: by_url.get(url, default)


def test_cache_across_two_walks(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, tmp_path: Path
) -> None:
    fresh = "dpp-yarn"
    unstored = "dcc-social-audit"
    unmarked = "dfr-gin"
    web.cache_control = _cache_control_by_name(
        demo, {unstored: "no-store", unmarked: None}, "max-age=600"
    )
    policy = _policy(demo, web, authority)
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        first = _walk(demo, fetcher)
    first_hits = web.hits()
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        second = _walk(demo, fetcher)
    hits = web.hits() - first_hits

    assert first.verified is True
    assert second.verified is True
    path_of = {url: url.split(DEMO_DOMAIN, 1)[1] for url in demo.credentials}
    assert hits[(f"gin.{DEMO_DOMAIN}", path_of[demo.chain.credentials[unmarked]])] == 1
    assert hits[(f"certifier.{DEMO_DOMAIN}", path_of[demo.chain.credentials[unstored]])] == 1
    assert hits[(f"spinner.{DEMO_DOMAIN}", path_of[demo.chain.credentials[fresh]])] == 0
    assert sum(hits.values()) == 2


def test_cache_max_age_expired(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, tmp_path: Path
) -> None:
    web.cache_control = lambda url: "max-age=0"
    policy = _policy(demo, web, authority)
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        _walk(demo, fetcher)
    first_count = len(web.requests)
    with Fetcher(policy, resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        _walk(demo, fetcher)

    assert len(web.requests) == 2 * first_count


def _refusing_transport() -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        pytest.fail(f"offline mode sent a request to {request.url}")

    return httpx.MockTransport(handle), seen


def test_offline_reads_cache(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, tmp_path: Path
) -> None:
    web.cache_control = lambda url: None  # an entry without max-age is stale in a later run
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns, cache_dir=tmp_path) as fetcher:
        _walk(demo, fetcher)

    transport, seen = _refusing_transport()
    offline = FetchPolicy(offline=True)
    with Fetcher(offline, resolver=_no_dns, transport=transport, cache_dir=tmp_path) as fetcher:
        report = _walk(demo, fetcher)

    assert report.verified is True
    assert seen == []


def test_offline_cache_and_store(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, tmp_path: Path
) -> None:
    # The first walk fetches only what the store lacks: the passports and events of the
    # garment are in a smaller store, everything else comes from the web.
    partial = Store.open(tmp_path / "partial.sqlite")
    garment_names = [name for name in demo.chain.credentials if "garment" in name]
    assert garment_names
    for name in garment_names:
        url = demo.chain.credentials[name]
        stored = demo.store.get_credential(url)
        assert stored is not None
        partial.put_credential(url, stored.content)
    cache = tmp_path / "cache"
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns, cache_dir=cache) as fetcher:
        online = _walk(demo, fetcher, store=partial)
    fetched = {f"https://{host}{path}" for host, path in web.requests}

    transport, seen = _refusing_transport()
    offline = FetchPolicy(offline=True)
    with Fetcher(offline, resolver=_no_dns, transport=transport, cache_dir=cache) as fetcher:
        report = _walk(demo, fetcher, store=partial)
    partial.close()

    assert online.verified is True
    assert report.verified is True
    assert seen == []
    for name in garment_names:
        assert demo.chain.credentials[name] not in fetched


def test_offline_empty_cache(demo: _DemoNetwork, tmp_path: Path) -> None:
    transport, seen = _refusing_transport()
    offline = FetchPolicy(offline=True)
    with Fetcher(offline, resolver=_no_dns, transport=transport, cache_dir=tmp_path) as fetcher:
        report = _walk(demo, fetcher)

    not_cached = [f for f in report.findings if f.code == "fetch.not_cached"]
    assert not_cached
    assert all(finding.credential for finding in not_cached)
    assert all("--online" in finding.message for finding in not_cached)
    assert report.verified is False
    assert seen == []


# -- HTTPS through the real transport ----------------------------------------------------------


def test_https_server_name_per_host(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    # Both hosts are served at one address. Each must get a TLS connection of its own, opened
    # with its own server name, even though the transport keeps connections alive.
    spinner = demo.chain.credentials["dpp-yarn"]
    gin = demo.chain.credentials["dfr-gin"]
    with Fetcher(_policy(demo, web, authority), resolver=_no_dns) as fetcher:
        fetcher.fetch(spinner)
        fetcher.fetch(gin)
        fetcher.fetch(spinner + "?again")

    assert web.server_names == [f"spinner.{DEMO_DOMAIN}", f"gin.{DEMO_DOMAIN}"]
    assert [host for host, _path in web.requests] == [
        f"spinner.{DEMO_DOMAIN}",
        f"gin.{DEMO_DOMAIN}",
        f"spinner.{DEMO_DOMAIN}",
    ]


def test_https_host_name_mismatch(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority
) -> None:
    policy = FetchPolicy(
        connect_to={("docs.test", 443): ("127.0.0.1", web.port)}, ca_bundle=authority.ca_file
    )
    with (
        Fetcher(policy, resolver=_no_dns) as fetcher,
        pytest.raises(FetchFailed, match="certificate") as caught,
    ):
        fetcher.fetch("https://docs.test/credential.json")

    assert caught.value.url == "https://docs.test/credential.json"
    assert web.server_names == ["docs.test"]
    assert web.requests == []


def test_https_untrusted_authority(demo: _DemoNetwork, web: _DemoServer) -> None:
    url = demo.chain.credentials["dpp-yarn"]
    policy = FetchPolicy(connect_to={(f"spinner.{DEMO_DOMAIN}", 443): ("127.0.0.1", web.port)})
    with Fetcher(policy, resolver=_no_dns) as fetcher, pytest.raises(FetchFailed) as caught:
        fetcher.fetch(url)

    assert "certificate verify failed" in caught.value.reason
    assert "--ca-bundle" in caught.value.reason
    assert web.requests == []


def test_https_ca_bundle_missing(tmp_path: Path) -> None:
    policy = FetchPolicy(ca_bundle=tmp_path / "missing.pem")

    with pytest.raises(InputError, match=re.escape("missing.pem")):
        Fetcher(policy, resolver=_no_dns)


# -- the command line --------------------------------------------------------------------------


def _cli_network_options(
    demo: _DemoNetwork, server: _DemoServer, authority: _Authority
) -> list[str]:
    options = ["--online", "--ca-bundle", str(authority.ca_file)]
    for host in demo.hosts():
        options += ["--connect-to", f"{host}:443:127.0.0.1:{server.port}"]
    return options


@pytest.fixture
def cli_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run the command line in an empty folder with no store, and fail it on any DNS lookup."""

    def refuse(host: str) -> list[str]:
        pytest.fail(f"the command line looked up {host} in DNS")

    monkeypatch.setattr("valuetrace.fetch._fetcher.resolve_with_getaddrinfo", refuse)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VALUETRACE_DB", raising=False)
    monkeypatch.delenv("VALUETRACE_STORE", raising=False)


@pytest.mark.usefixtures("cli_sandbox")
def test_cli_verify_online(
    demo: _DemoNetwork,
    web: _DemoServer,
    authority: _Authority,
    local_report: Report,
    tmp_path: Path,
) -> None:
    arguments = [
        "verify",
        demo.chain.garment_link,
        "--trust-did",
        demo.register_did,
        "--cache",
        str(tmp_path / "cache"),
        "--at",
        demo.now.isoformat(),
        "--json",
        *_cli_network_options(demo, web, authority),
    ]
    result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verified"] is True
    assert report["credentials"] == len(local_report.credentials)
    assert (tmp_path / "cache" / "index.json").exists()


@pytest.mark.usefixtures("cli_sandbox")
def test_cli_offline_after_online(
    demo: _DemoNetwork, web: _DemoServer, authority: _Authority, tmp_path: Path
) -> None:
    web.cache_control = lambda url: None  # stale in the next run, unless it is --offline
    base = ["verify", demo.chain.garment_link, "--trust-did", demo.register_did]
    base += ["--at", demo.now.isoformat(), "--json"]
    cached = [*base, "--cache", str(tmp_path / "cache")]
    online = CliRunner().invoke(app, [*cached, *_cli_network_options(demo, web, authority)])
    requests_online = len(web.requests)
    offline = CliRunner().invoke(app, [*cached, "--offline"])
    without_network = CliRunner().invoke(app, base)

    assert online.exit_code == 0, online.output
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.stdout)["verified"] is True
    assert len(web.requests) == requests_online
    assert without_network.exit_code == 1
    assert json.loads(without_network.stdout)["verified"] is False


class _PlainHandler(BaseHTTPRequestHandler):
    server: _PlainServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.headers.get("Host", ""), self.path))
        body = self.server.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


class _PlainServer(ThreadingHTTPServer):
    """A plain HTTP server that returns ``pages[path]``."""

    daemon_threads = True

    def __init__(self, pages: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _PlainHandler)
        self.pages = pages
        self.requests: list[tuple[str, str]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.mark.usefixtures("cli_sandbox")
def test_cli_resolve_plain_http(tmp_path: Path) -> None:
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    server = _PlainServer({})
    url = f"http://docs.test:{server.port}/credentials/statement.json"
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "id": url,
        "issuer": did,
        "validFrom": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:example:subject"},
    }
    envelope = sign_enveloped(credential, key, f"{did}#{did.removeprefix('did:key:')}")
    server.pages["/credentials/statement.json"] = json.dumps(envelope).encode()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        arguments = ["verify", url, "--online", "--resolve", f"docs.test:{server.port}:127.0.0.1"]
        arguments += ["--cache", str(tmp_path / "cache"), "--json"]
        result = CliRunner().invoke(app, arguments)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    report = json.loads(result.stdout)
    rows = {row["ref"]: row for row in report["credentialList"]}
    assert rows[url]["signature"] == "valid"
    assert rows[url]["issuer"] == did
    assert server.requests == [(f"docs.test:{server.port}", "/credentials/statement.json")]
    assert not [f for f in report["findings"] if f["code"].startswith("fetch.")]


@pytest.mark.usefixtures("cli_sandbox")
@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--resolve", "docs.test:443:127.0.0.1"], "apply only with --online"),
        (["--allow-host", "docs.test", "--fetch-timeout", "5"], "--allow-host, --fetch-timeout"),
        (["--online", "--offline"], "exclude each other"),
        (["--cache", "cache"], "--cache applies with --online or --offline"),
        (["--online", "--resolve", "docs.test:443"], "HOST:PORT:ADDRESS"),
        (["--online", "--connect-to", "docs.test:443:127.0.0.1"], "HOST:PORT:ADDRESS:PORT"),
        (["--online", "--allow-network", "10.0.0.1/8"], "host bits set"),
        (["--online", "--ca-bundle", "missing.pem"], "cannot read the CA bundle missing.pem"),
    ],
)
def test_cli_fetch_option_misuse(options: list[str], words: str) -> None:
    target = "https://docs.example/credentials/statement.json"
    result = CliRunner().invoke(app, ["verify", target, *options])

    assert result.exit_code == 2
    assert words in " ".join(result.output.split())


def test_cli_help_names_units() -> None:
    result = CliRunner().invoke(app, ["verify", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.output.split())

    assert result.exit_code == 0
    for option in ("--online", "--offline", "--resolve", "--connect-to", "--allow-host"):
        assert option in text
    assert "in seconds" in text
    assert "in bytes" in text
