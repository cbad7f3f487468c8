"""Link types and link records of the resolver, and their RFC 9264 JSON linkset form."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from valuetrace.errors import DigitalLinkError

__all__ = [
    "GS1_DEFAULT_LINK",
    "GS1_VOCABULARY",
    "UNTP_LINK_TYPES",
    "LinkRecord",
    "build_linkset",
    "normalise_link_type",
]

UNTP_LINK_TYPE_BASE = "https://test.uncefact.org/vocabulary/linkTypes/"
GS1_VOCABULARY = "https://ref.gs1.org/voc/"
GS1_DEFAULT_LINK = GS1_VOCABULARY + "defaultLink"

UNTP_LINK_TYPES: Mapping[str, str] = MappingProxyType(
    {name: UNTP_LINK_TYPE_BASE + name for name in ("dpp", "dcc", "dte", "dfr", "dia", "idr")}
)

# GS1 Web Vocabulary terms are camelCase words such as pip, certificationInfo or epcis.
_GS1_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def normalise_link_type(value: str) -> str:
    """Return the IRI of a link type given as a CURIE (``untp:dpp``, ``gs1:pip``) or an IRI.

    Raises DigitalLinkError for anything else, listing the accepted forms.
    """
    prefix, colon, term = value.partition(":")
    if colon and prefix == "untp":
        if term in UNTP_LINK_TYPES:
            return UNTP_LINK_TYPES[term]
        raise DigitalLinkError(
            f"unknown UNTP link type {value!r}: use one of "
            + ", ".join(f"untp:{name}" for name in UNTP_LINK_TYPES)
        )
    if colon and prefix == "gs1":
        if _GS1_TERM.fullmatch(term):
            return GS1_VOCABULARY + term
        raise DigitalLinkError(
            f"invalid GS1 link type {value!r}: write gs1: followed by a GS1 Web Vocabulary "
            "term such as gs1:pip"
        )
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in value):
        return value
    raise DigitalLinkError(
        f"invalid link type {value!r}: use a UNTP CURIE ("
        + ", ".join(f"untp:{name}" for name in UNTP_LINK_TYPES)
        + "), a GS1 CURIE such as gs1:pip, or an absolute http(s) IRI"
    )


@dataclass(frozen=True)
class LinkRecord:
    """A typed link from a Digital Link identifier to a resource, as the resolver stores it.

    ``identifier`` is the canonical Digital Link URI of the anchor without query, and
    ``link_type`` is the link type IRI. ``language`` is a language tag such as ``en``.
    """

    identifier: str
    link_type: str
    href: str
    title: str
    media_type: str = "application/json"
    language: str | None = None
    default: bool = False

    def to_target(self) -> dict[str, Any]:
        """Build the RFC 9264 target object of this link."""
        target: dict[str, Any] = {"href": self.href, "type": self.media_type, "title": self.title}
        if self.language is not None:
            target["hreflang"] = [self.language]
        return target


def build_linkset(anchor: str, links: Sequence[LinkRecord]) -> dict[str, Any]:
    """Build an RFC 9264 JSON linkset for ``anchor`` from ``links``.

    Links are grouped under their link type IRI, in the given order. A link marked as default
    is listed again under the GS1 ``defaultLink`` type. No links gives ``{"linkset": []}``.
    """
    if not links:
        return {"linkset": []}
    context: dict[str, Any] = {"anchor": anchor}
    for link in links:
        context.setdefault(link.link_type, []).append(link.to_target())
        if link.default and link.link_type != GS1_DEFAULT_LINK:
            context.setdefault(GS1_DEFAULT_LINK, []).append(link.to_target())
    return {"linkset": [context]}
