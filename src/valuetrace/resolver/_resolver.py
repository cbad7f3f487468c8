"""The linkset resolver: typed links for GS1 Digital Link identifiers, kept in the store."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from valuetrace.errors import InputError
from valuetrace.resolver._digitallink import DigitalLink, parse_digital_link
from valuetrace.resolver._linkset import LinkRecord, build_linkset, normalise_link_type

if TYPE_CHECKING:
    from valuetrace.store import Store

__all__ = ["Resolver"]

LOGGER = logging.getLogger(__name__)

# The linkType query value that selects links of every type.
ALL_LINK_TYPES = "all"
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def _anchor(link: DigitalLink) -> str:
    return replace(link, query={}).uri()


class Resolver:
    """Register and look up links of GS1 Digital Link identifiers.

    Identifiers match by their GS1 key path, so ``https://id.gs1.org/01/09520123456788`` and
    ``https://id.valuetrace.example/01/09520123456788`` name the same product.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def register(
        self,
        identifier_uri: str,
        link_type: str,
        href: str,
        *,
        title: str,
        media_type: str = "application/json",
        default: bool = False,
        language: str | None = None,
    ) -> LinkRecord:
        """Add a typed link from a Digital Link identifier to ``href`` and return it.

        ``link_type`` is a CURIE such as ``untp:dpp`` or ``gs1:pip``, or an IRI. Registering
        the same identifier, type, href and language again updates that link. A default link
        replaces the identifier's previous default. Raises DigitalLinkError for an invalid
        identifier or link type, and InputError for an invalid href, title or language.
        """
        link = parse_digital_link(identifier_uri)
        if link.query:
            raise InputError(
                f"identifier {identifier_uri!r} has a query string: register the identifier "
                "without it and pass the link type as link_type"
            )
        target = urlsplit(href)
        if target.scheme not in ("http", "https") or not target.netloc:
            raise InputError(
                f"invalid link target {href!r}: it must be an absolute http or https URL"
            )
        if not title.strip():
            raise InputError(f"the link to {href} needs a title that people can read")
        if language is not None and not _LANGUAGE_TAG.fullmatch(language):
            raise InputError(
                f"invalid language tag {language!r}: use a BCP 47 tag such as en or en-GB"
            )

        record = LinkRecord(
            identifier=_anchor(link),
            link_type=normalise_link_type(link_type),
            href=href,
            title=title,
            media_type=media_type,
            language=language,
            default=default,
        )
        self._store.put_link(record)
        LOGGER.info("registered %s link of %s to %s", record.link_type, record.identifier, href)
        return record

    def links(self, uri: str, link_type: str | None = None) -> list[LinkRecord]:
        """Return the links of ``uri``, falling back to its less specific forms.

        The link type comes from ``link_type`` or else from the URI's ``linkType`` query
        parameter; ``all`` or neither returns links of every type. The exact identifier is
        tried first, then its ancestors nearest first (serial, then lot, then GTIN), and the
        first one with matching links wins. An unknown identifier returns an empty list.
        """
        link = parse_digital_link(uri)
        requested = link_type if link_type is not None else link.query.get("linkType")
        if requested is None or requested == ALL_LINK_TYPES:
            return self._find(link, None)
        return self._find(link, normalise_link_type(requested))

    def linkset(self, uri: str) -> dict[str, Any]:
        """Build the RFC 9264 JSON linkset of ``uri`` with links of every type.

        The anchor is the canonical form of ``uri`` without query, also when the links come
        from a less specific form. A ``linkType`` query parameter is ignored. An unknown
        identifier gives ``{"linkset": []}``.
        """
        link = parse_digital_link(uri)
        return build_linkset(_anchor(link), self._find(link, None))

    def _find(self, link: DigitalLink, link_type: str | None) -> list[LinkRecord]:
        for candidate in [link, *link.ancestors()]:
            found = self._store.get_links(candidate.uri())
            if link_type is not None:
                found = [record for record in found if record.link_type == link_type]
            if found:
                return found
        return []
