"""The fetch policy and the check of the addresses a fetch may connect to."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Carrier-grade NAT (RFC 6598): neither private nor global in the ipaddress module.
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
# NAT64 well-known prefix (RFC 6052): the last 32 bits are an IPv4 address.
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Timeouts:
    """Time limits of one fetch, in seconds. ``total`` covers all redirects and the body."""

    connect: float = 5.0
    read: float = 10.0
    total: float = 30.0


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of a :class:`~valuetrace.fetch.Fetcher`: where it connects and how much it reads.

    ``allowed_hosts`` and ``allowed_networks`` are operator exceptions to the address check:
    a listed host name may resolve to any address, and an address inside a listed network is
    accepted even if it is private or loopback. ``host_map`` pins ``(host, port)`` to an address,
    like curl's ``--resolve HOST:PORT:ADDRESS``, and ``connect_to`` to an address and another
    port, like curl's ``--connect-to``. A mapped host skips DNS and the address check and may use
    plain HTTP, while the Host header and the TLS server name stay those of the URL. Host names
    in ``allowed_hosts``, ``host_map`` and ``connect_to`` are compared in lower case.

    ``ca_bundle`` is a PEM file of CA certificates that replaces the operating system's trust
    store for HTTPS, like curl's ``--cacert``.
    """

    allow_http: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: Sequence[IPNetwork] = ()
    host_map: Mapping[tuple[str, int], str] = field(default_factory=dict)
    connect_to: Mapping[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    ca_bundle: Path | None = None
    max_bytes: int = 16 * 1024 * 1024
    timeout: Timeouts = Timeouts()
    max_redirects: int = 5
    offline: bool = False

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise ValueError(f"max_bytes must be 0 or more, got {self.max_bytes}")
        if self.max_redirects < 0:
            raise ValueError(f"max_redirects must be 0 or more, got {self.max_redirects}")
        for name in ("connect", "read", "total"):
            seconds = getattr(self.timeout, name)
            if seconds <= 0:
                raise ValueError(f"timeout.{name} must be more than 0 seconds, got {seconds}")
        for (host, port), address in self.host_map.items():
            _check_mapping("host_map", host, port, address, port)
        for (host, port), (address, target_port) in self.connect_to.items():
            _check_mapping("connect_to", host, port, address, target_port)
        # The fetcher compares lower-case host names, so the policy stores them that way.
        object.__setattr__(self, "allowed_hosts", frozenset(h.lower() for h in self.allowed_hosts))
        object.__setattr__(
            self, "host_map", {(h.lower(), p): a for (h, p), a in self.host_map.items()}
        )
        object.__setattr__(
            self, "connect_to", {(h.lower(), p): t for (h, p), t in self.connect_to.items()}
        )
        for host, port in self.host_map.keys() & self.connect_to.keys():
            raise ValueError(
                f"{host}:{port} is in both host_map and connect_to; keep one of the two entries"
            )


def _check_mapping(name: str, host: str, port: int, address: str, target_port: int) -> None:
    for value in (port, target_port):
        if not 1 <= value <= 65535:
            raise ValueError(f"{name} entry {host}:{port} has port {value}, expected 1 to 65535")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(
            f"{name} entry {host}:{port} must map to an IP address, got {address!r}"
        ) from None


def blocked_reason(address: IPAddress) -> str | None:
    """Return why ``address`` is not publicly routable, or None for a public address.

    IPv4 addresses embedded in IPv6 (IPv4-mapped, 6to4, NAT64) are checked as IPv4 too.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = blocked_reason(embedded)
            if reason is not None:
                return f"{reason} (embedded in {address})"

    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (this includes cloud metadata services)"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a carrier-grade NAT address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not globally routable"
    return None
