"""Tests of DID resolution: did:key derived locally, did:web fetched through the fetch layer.

did:web documents are served over HTTPS by a TLS server that each test starts on 127.0.0.1.
Its certificate comes from a throwaway CA made here and trusted through the policy's
``ca_bundle``, and host names reach it through ``host_map`` or ``connect_to``, so no DNS query
is sent and the certificate's host name check runs for real. Refused addresses go through a
stub resolver and a mock transport that fails the test if a request reaches one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from cryptography.x509.oid import NameOID

from valuetrace.did import Ed25519KeyPair, build_did_web_document, did_key_from_public_key
from valuetrace.did._resolve import DIDResolutionError, resolve_did_document
from valuetrace.fetch import Fetcher, FetchPolicy, blocked_reason

DOMAIN = "issuer.valuetrace.example"
PUBLIC_ADDRESS = "93.184.215.14"


# -- a throwaway certificate authority and a TLS server ----------------------------------------


@dataclass(frozen=True)
class _Authority:
    ca_file: Path
    certificate_file: Path
    key_file: Path


def _certificate(
    subject: str,
    public_key: ec.EllipticCurvePublicKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> _Authority:
    """A CA and a certificate it issued for the test domain, as PEM files."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "valuetrace test CA",
        ca_key.public_key(),
        "valuetrace test CA",
        ca_key,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
        ],
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate(
        DOMAIN,
        server_key.public_key(),
        "valuetrace test CA",
        ca_key,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName([x509.DNSName(DOMAIN)]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
    )
    found = _Authority(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.certificate_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.headers.get("Host", ""), self.path))
        status, body, headers = self.server.pages.get(self.path, (404, b"not found", {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    """A TLS server that returns ``pages[path]`` as ``(status, body, headers)``."""

    daemon_threads = True

    def __init__(self, authority: _Authority) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.server_names: list[str] = []
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(authority.certificate_file, authority.key_file)
        self._context.sni_callback = self._record_server_name

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def get_request(self) -> tuple[socket, Any]:
        connection, address = super().get_request()
        wrapped = self._context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, address

    def _record_server_name(
        self, connection: ssl.SSLObject, name: str | None, context: ssl.SSLContext
    ) -> None:
        self.server_names.append(name or "")

    def publish(self, path: str, document: Any, cache_control: str | None = None) -> None:
        headers = {"Content-Type": "application/did+json"}
        if cache_control is not None:
            headers["Cache-Control"] = cache_control
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.pages[path] = (200, body, headers)


@pytest.fixture
def server(authority: _Authority) -> Iterator[_Server]:
    httpd = _Server(authority)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _no_dns(host: str) -> list[str]:
    pytest.fail(f"the resolver was called for {host}, but no DNS lookup was expected")


def _fetcher(server: _Server, authority: _Authority) -> Fetcher:
    """Return a fetcher that reaches the test domain on port 443 and on the server's own port."""
    policy = FetchPolicy(
        host_map={(DOMAIN, server.port): "127.0.0.1"},
        connect_to={(DOMAIN, 443): ("127.0.0.1", server.port)},
        ca_bundle=authority.ca_file,
    )
    return Fetcher(policy, resolver=_no_dns)


def _document(did: str) -> dict[str, Any]:
    return build_did_web_document(did, [("key-1", Ed25519KeyPair.generate().public_key)])


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


# -- did:web over HTTPS ------------------------------------------------------------------------


def test_bare_domain_well_known(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}"
    document = _document(did)
    server.publish("/.well-known/did.json", document)

    with _fetcher(server, authority) as fetcher:
        resolved = resolve_did_document(did, fetcher)

    assert resolved == document
    assert server.requests == [(DOMAIN, "/.well-known/did.json")]
    assert server.server_names == [DOMAIN]


def test_path_segments_become_folders(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}:users:alice"
    document = _document(did)
    server.publish("/users/alice/did.json", document)

    with _fetcher(server, authority) as fetcher:
        resolved = resolve_did_document(did, fetcher)

    assert resolved == document
    assert server.requests == [(DOMAIN, "/users/alice/did.json")]


def test_percent_encoded_port(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}%3A{server.port}:users:bob"
    document = _document(did)
    server.publish("/users/bob/did.json", document)

    with _fetcher(server, authority) as fetcher:
        resolved = resolve_did_document(did, fetcher)

    assert resolved == document
    assert server.requests == [(f"{DOMAIN}:{server.port}", "/users/bob/did.json")]


def test_lower_case_port_escape(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}%3a{server.port}"
    document = _document(did)
    server.publish("/.well-known/did.json", document)

    with _fetcher(server, authority) as fetcher:
        resolved = resolve_did_document(did, fetcher)

    assert resolved["id"] == did


def test_wrong_id_rejected(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}:users:alice"
    other = f"did:web:{DOMAIN}:users:mallory"
    server.publish("/users/alice/did.json", _document(other))

    with _fetcher(server, authority) as fetcher, pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(did, fetcher)

    error = caught.value
    assert error.code == "did.document_mismatch"
    assert error.did == did
    assert error.url == f"https://{DOMAIN}/users/alice/did.json"
    assert other in error.reason
    assert did in str(error)
    assert error.url in str(error)


def test_missing_id_rejected(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}"
    document = _document(did)
    del document["id"]
    server.publish("/.well-known/did.json", document)

    with _fetcher(server, authority) as fetcher, pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(did, fetcher)

    assert caught.value.code == "did.document_mismatch"
    assert "None" in caught.value.reason


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>not here</html>", "not JSON"),
        (b"[1, 2]", "JSON list"),
        (b"\xff\xfe\x00", "not JSON"),
    ],
)
def test_non_document_rejected(
    server: _Server, authority: _Authority, body: bytes, words: str
) -> None:
    did = f"did:web:{DOMAIN}"
    server.publish("/.well-known/did.json", body)

    with _fetcher(server, authority) as fetcher, pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(did, fetcher)

    assert caught.value.code == "did.document_invalid"
    assert words in caught.value.reason


def test_not_published(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}:nobody"

    with _fetcher(server, authority) as fetcher, pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(did, fetcher)

    assert caught.value.code == "fetch.failed"
    assert caught.value.url == f"https://{DOMAIN}/nobody/did.json"
    assert "HTTP 404" in caught.value.reason


def test_cache_max_age(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}"
    server.publish("/.well-known/did.json", _document(did), cache_control="max-age=600")

    with _fetcher(server, authority) as fetcher:
        first = resolve_did_document(did, fetcher)
        second = resolve_did_document(did, fetcher)

    assert first == second
    assert len(server.requests) == 1


def test_cache_no_store(server: _Server, authority: _Authority) -> None:
    did = f"did:web:{DOMAIN}"
    server.publish("/.well-known/did.json", _document(did), cache_control="no-store")

    with _fetcher(server, authority) as fetcher:
        resolve_did_document(did, fetcher)
        resolve_did_document(did, fetcher)

    assert len(server.requests) == 2


# -- did:web that is not fetched --------------------------------------------------------------


@pytest.mark.parametrize(
    "did",
    ["did:web:127.0.0.1", "did:web:169.254.169.254%3A8080", "did:web:123", "did:web:10.0.0.1:x"],
)
def test_address_instead_of_domain(did: str) -> None:
    transport, seen = _guarded_transport()
    fetcher = Fetcher(FetchPolicy(), resolver=_no_dns, transport=transport)

    with pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(did, fetcher)

    assert caught.value.code == "did.invalid"
    assert "domain" in caught.value.reason
    assert seen == []


@pytest.mark.parametrize("did", ["did:web:example.com#key-1", "did:web:", "did:web:a..b"])
def test_malformed_did_web(did: str) -> None:
    transport, seen = _guarded_transport()
    fetcher = Fetcher(FetchPolicy(), resolver=_no_dns, transport=transport)

    with pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(did, fetcher)

    assert caught.value.code == "did.invalid"
    assert caught.value.url is None
    assert seen == []


@pytest.mark.parametrize(
    "location", ["http://169.254.169.254/latest/meta-data/", "https://127.0.0.1/did.json"]
)
def test_redirect_to_refused_address(location: str) -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    transport, seen = _guarded_transport(redirect)

    def resolve(host: str) -> list[str]:
        assert host == "docs.example", f"unexpected DNS lookup of {host}"
        return [PUBLIC_ADDRESS]

    fetcher = Fetcher(FetchPolicy(allow_http=True), resolver=resolve, transport=transport)

    with pytest.raises(DIDResolutionError) as caught:
        resolve_did_document("did:web:docs.example", fetcher)

    assert caught.value.code == "fetch.refused"
    assert caught.value.url == "https://docs.example/.well-known/did.json"
    assert len(seen) == 1


def test_did_web_without_fetcher() -> None:
    with pytest.raises(DIDResolutionError) as caught:
        resolve_did_document(f"did:web:{DOMAIN}", None)

    assert caught.value.code == "did.unresolved"
    assert caught.value.url == f"https://{DOMAIN}/.well-known/did.json"


def test_other_method_unsupported() -> None:
    with pytest.raises(DIDResolutionError) as caught:
        resolve_did_document("did:example:123456", None)

    assert caught.value.code == "did.unsupported_method"


# -- did:key -----------------------------------------------------------------------------------


def test_did_key_derived_locally() -> None:
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    transport, seen = _guarded_transport()
    fetcher = Fetcher(FetchPolicy(), resolver=_no_dns, transport=transport)

    document = resolve_did_document(did, fetcher)
    offline_document = resolve_did_document(did, None)

    assert document["id"] == did
    assert offline_document == document
    assert seen == []


def test_did_key_malformed() -> None:
    with pytest.raises(DIDResolutionError) as caught:
        resolve_did_document("did:key:z6MkNotAKey", None)

    assert caught.value.code == "did.invalid"
