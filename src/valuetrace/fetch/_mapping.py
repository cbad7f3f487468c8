"""Parsing of curl-style host mappings: ``HOST:PORT:ADDRESS`` and ``HOST:PORT:ADDRESS:PORT``."""

from __future__ import annotations

import ipaddress

__all__ = ["parse_connect_to", "parse_resolve"]


def parse_resolve(value: str) -> tuple[tuple[str, int], str]:
    """Parse ``HOST:PORT:ADDRESS`` (curl's ``--resolve``) into ``((host, port), address)``.

    An IPv6 address may be written in brackets. Raises ``ValueError`` naming the value.
    """
    parts = value.split(":", 2)
    if len(parts) != 3:
        raise ValueError(f"{value!r} is not HOST:PORT:ADDRESS, such as docs.example:443:127.0.0.1")
    host, port, address = parts
    return (_host(value, host), _port(value, port)), _address(value, address)


def parse_connect_to(value: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """Parse ``HOST:PORT:ADDRESS:PORT`` (curl's ``--connect-to``) into pairs.

    The result maps ``(host, port)`` to ``(address, port)``. An IPv6 address may be written in
    brackets. Raises ``ValueError`` naming the value.
    """
    parts = value.split(":", 2)
    target = parts[2].rsplit(":", 1) if len(parts) == 3 else []
    if len(target) != 2:
        raise ValueError(
            f"{value!r} is not HOST:PORT:ADDRESS:PORT, such as docs.example:443:127.0.0.1:8443"
        )
    host, port = parts[0], parts[1]
    address, target_port = target
    return (
        (_host(value, host), _port(value, port)),
        (_address(value, address), _port(value, target_port)),
    )


def _host(value: str, host: str) -> str:
    if not host or any(character in host for character in "/[]@ "):
        raise ValueError(f"{value!r} has an invalid host name {host!r}")
    return host.lower()


def _port(value: str, port: str) -> int:
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r} has an invalid port {port!r}: expected 1 to 65535")
    return int(port)


def _address(value: str, address: str) -> str:
    bare = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        raise ValueError(
            f"{value!r} has {address!r} where an IP address is expected, such as 127.0.0.1 or [::1]"
        ) from None
