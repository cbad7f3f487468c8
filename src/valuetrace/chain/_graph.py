"""Small readers of UNTP credential content shared by the walk and its analyses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from valuetrace.errors import DigitalLinkError
from valuetrace.resolver import DigitalLink, parse_digital_link

__all__ = [
    "as_list",
    "gs1_link",
    "identifier_covers",
    "item_ids",
    "nested_id",
    "same_identifier",
]


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: a list unchanged, ``None`` as empty, anything else wrapped."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def nested_id(value: Any, *keys: str) -> str | None:
    """Follow ``keys`` through nested objects and return the ``id`` found there."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def gs1_link(identifier: str) -> DigitalLink | None:
    """Return the parsed GS1 Digital Link of an identifier, or ``None`` when it is not one."""
    try:
        return parse_digital_link(identifier)
    except DigitalLinkError:
        return None


def same_identifier(left: str, right: str) -> bool:
    """Check whether two identifiers name the same thing; Digital Links compare by GS1 key."""
    if left == right:
        return True
    left_link, right_link = gs1_link(left), gs1_link(right)
    if left_link is None or right_link is None:
        return False
    return bool(left_link.covers(right_link) and right_link.covers(left_link))


def identifier_covers(general: str, specific: str) -> bool:
    """Check whether ``general`` covers ``specific`` in the GS1 key hierarchy.

    A GTIN covers its lots and serials and a lot covers its serials; identifiers that are not
    Digital Links cover only themselves.
    """
    if general == specific:
        return True
    general_link, specific_link = gs1_link(general), gs1_link(specific)
    if general_link is None or specific_link is None:
        return False
    return bool(general_link.covers(specific_link))


def item_ids(event: dict[str, Any], *keys: str) -> Iterator[str]:
    """Yield the product identifiers named in the given EPC and quantity lists of an event."""
    for key in keys:
        for item in as_list(event.get(key)):
            if isinstance(item, dict):
                identifier = item.get("id") or item.get("productId")
                if isinstance(identifier, str):
                    yield identifier
            elif isinstance(item, str):
                yield item
