"""Link types, link registration and lookup, and RFC 9264 linksets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valuetrace.errors import DigitalLinkError, InputError
from valuetrace.resolver import UNTP_LINK_TYPES, Resolver, normalise_link_type
from valuetrace.store import Store

UNTP = "https://test.uncefact.org/vocabulary/linkTypes/"
DPP = UNTP + "dpp"
DCC = UNTP + "dcc"
PIP = "https://ref.gs1.org/voc/pip"
DEFAULT_LINK = "https://ref.gs1.org/voc/defaultLink"

GTIN = "https://id.valuetrace.example/01/09520123456788"
LOT = GTIN + "/10/LOT-7"
SERIAL = GTIN + "/21/SN-1"
LOT_SERIAL = LOT + "/21/SN-1"


@pytest.fixture
def resolver() -> Iterator[Resolver]:
    with Store.open("sqlite://") as store:
        yield Resolver(store)


def test_untp_link_types_table() -> None:
    assert dict(UNTP_LINK_TYPES) == {
        name: UNTP + name for name in ("dpp", "dcc", "dte", "dfr", "dia", "idr")
    }


@pytest.mark.parametrize(
    ("written", "iri"),
    [
        ("untp:dpp", DPP),
        ("untp:idr", UNTP + "idr"),
        ("gs1:pip", PIP),
        ("gs1:certificationInfo", "https://ref.gs1.org/voc/certificationInfo"),
        (DPP, DPP),
        ("https://ref.gs1.org/voc/epcis", "https://ref.gs1.org/voc/epcis"),
        ("http://example.org/linkTypes/x", "http://example.org/linkTypes/x"),
    ],
)
def test_normalise_link_type_accepted(written: str, iri: str) -> None:
    assert normalise_link_type(written) == iri


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("untp:xyz", "unknown UNTP link type"),
        ("gs1:", "invalid GS1 link type"),
        ("gs1:bad term", "invalid GS1 link type"),
        ("dpp", "untp:dpp"),
        ("pip", "gs1:pip"),
        ("urn:x:y", "absolute http"),
        ("https://", "absolute http"),
        ("", "invalid link type"),
    ],
)
def test_normalise_link_type_rejected(written: str, message: str) -> None:
    with pytest.raises(DigitalLinkError, match=message):
        normalise_link_type(written)


def test_register_returns_canonical_record(resolver: Resolver) -> None:
    record = resolver.register(
        "https://ID.valuetrace.example/01/9520123456788",
        "untp:dpp",
        "https://credentials.valuetrace.example/dpp/1.json",
        title="Product passport",
    )

    assert record.identifier == GTIN
    assert record.link_type == DPP
    assert record.media_type == "application/json"
    assert record.default is False
    assert resolver.links(GTIN) == [record]


def test_links_any_host(resolver: Resolver) -> None:
    record = resolver.register(GTIN, "untp:dpp", "https://c.example/dpp", title="Passport")

    assert resolver.links("https://id.gs1.org/01/09520123456788") == [record]
    assert resolver.links("http://127.0.0.1:8080/resolver/01/9520123456788") == [record]


def test_links_filter_by_type(resolver: Resolver) -> None:
    dpp = resolver.register(GTIN, "untp:dpp", "https://c.example/dpp", title="Passport")
    dcc = resolver.register(GTIN, "untp:dcc", "https://c.example/dcc", title="Certificate")

    assert resolver.links(GTIN, "untp:dcc") == [dcc]
    assert resolver.links(GTIN, DPP) == [dpp]
    assert resolver.links(GTIN + "?linkType=untp:dpp") == [dpp]
    assert resolver.links(GTIN + "?linkType=" + DCC) == [dcc]
    assert resolver.links(GTIN + "?linkType=all") == [dpp, dcc]
    assert resolver.links(GTIN + "?linkType=untp:dpp", "untp:dcc") == [dcc]
    assert resolver.links(GTIN, "gs1:pip") == []


def test_links_unknown_type_rejected(resolver: Resolver) -> None:
    with pytest.raises(DigitalLinkError, match="unknown UNTP link type"):
        resolver.links(GTIN + "?linkType=untp:nothing")


def test_serial_falls_back_to_gtin(resolver: Resolver) -> None:
    record = resolver.register(GTIN, "untp:dpp", "https://c.example/dpp", title="Passport")

    assert resolver.links(SERIAL) == [record]
    assert resolver.links(LOT) == [record]
    assert resolver.links(LOT_SERIAL) == [record]


def test_serial_falls_back_to_lot_first(resolver: Resolver) -> None:
    resolver.register(GTIN, "untp:dpp", "https://c.example/model", title="Model passport")
    lot = resolver.register(LOT, "untp:dpp", "https://c.example/lot-7", title="Lot passport")

    assert resolver.links(LOT_SERIAL) == [lot]


def test_exact_identifier_wins(resolver: Resolver) -> None:
    resolver.register(GTIN, "untp:dpp", "https://c.example/model", title="Model passport")
    item = resolver.register(SERIAL, "untp:dpp", "https://c.example/sn-1", title="Item passport")

    assert resolver.links(SERIAL) == [item]


def test_fallback_per_link_type(resolver: Resolver) -> None:
    model_dcc = resolver.register(GTIN, "untp:dcc", "https://c.example/dcc", title="Certificate")
    item_dpp = resolver.register(SERIAL, "untp:dpp", "https://c.example/sn-1", title="Passport")

    assert resolver.links(SERIAL, "untp:dcc") == [model_dcc]
    assert resolver.links(SERIAL, "untp:dpp") == [item_dpp]
    assert resolver.links(SERIAL) == [item_dpp]


def test_gtin_does_not_see_serial_links(resolver: Resolver) -> None:
    resolver.register(SERIAL, "untp:dpp", "https://c.example/sn-1", title="Item passport")

    assert resolver.links(GTIN) == []
    assert resolver.links(GTIN + "/21/SN-2") == []


def test_unknown_identifier_empty_linkset(resolver: Resolver) -> None:
    assert resolver.links("https://id.gs1.org/01/04006381333931") == []
    assert resolver.linkset("https://id.gs1.org/01/04006381333931") == {"linkset": []}


def test_linkset_shape(resolver: Resolver) -> None:
    resolver.register(
        GTIN,
        "untp:dpp",
        "https://c.example/dpp.json",
        title="Product passport",
        default=True,
    )
    resolver.register(
        GTIN,
        "gs1:pip",
        "https://brand.example/product.html",
        title="Product page",
        media_type="text/html",
        language="en",
    )
    resolver.register(
        GTIN,
        "gs1:pip",
        "https://brand.example/produit.html",
        title="Page produit",
        media_type="text/html",
        language="fr",
    )

    linkset = resolver.linkset("https://id.gs1.org/01/9520123456788?linkType=untp:dcc")

    dpp_target = {
        "href": "https://c.example/dpp.json",
        "type": "application/json",
        "title": "Product passport",
    }
    assert linkset == {
        "linkset": [
            {
                "anchor": "https://id.gs1.org/01/09520123456788",
                DPP: [dpp_target],
                PIP: [
                    {
                        "href": "https://brand.example/product.html",
                        "type": "text/html",
                        "title": "Product page",
                        "hreflang": ["en"],
                    },
                    {
                        "href": "https://brand.example/produit.html",
                        "type": "text/html",
                        "title": "Page produit",
                        "hreflang": ["fr"],
                    },
                ],
                DEFAULT_LINK: [dpp_target],
            }
        ]
    }


def test_linkset_of_serial_from_gtin(resolver: Resolver) -> None:
    resolver.register(GTIN, "untp:dpp", "https://c.example/dpp.json", title="Passport")

    linkset = resolver.linkset(LOT_SERIAL)

    context = linkset["linkset"][0]
    assert context["anchor"] == LOT_SERIAL
    assert [target["href"] for target in context[DPP]] == ["https://c.example/dpp.json"]
    assert DEFAULT_LINK not in context


def test_new_default_replaces_old(resolver: Resolver) -> None:
    resolver.register(GTIN, "untp:dpp", "https://c.example/dpp", title="Passport", default=True)
    resolver.register(GTIN, "gs1:pip", "https://brand.example/p", title="Page", default=True)

    defaults = [record.href for record in resolver.links(GTIN) if record.default]
    context = resolver.linkset(GTIN)["linkset"][0]

    assert defaults == ["https://brand.example/p"]
    assert [target["href"] for target in context[DEFAULT_LINK]] == ["https://brand.example/p"]


def test_register_again_updates_link(resolver: Resolver) -> None:
    resolver.register(GTIN, "untp:dpp", "https://c.example/dpp", title="Old title")
    updated = resolver.register(GTIN, "untp:dpp", "https://c.example/dpp", title="New title")

    assert resolver.links(GTIN) == [updated]


def test_gln_links(resolver: Resolver) -> None:
    site = "https://id.gs1.org/414/9520123456788"
    record = resolver.register(site, "untp:dfr", "https://c.example/dfr", title="Facility")

    assert resolver.links(site + "/254/dock-3") == [record]
    assert resolver.links(site, "untp:dfr") == [record]


@pytest.mark.parametrize(
    ("identifier", "href", "title", "language", "error", "message"),
    [
        (GTIN + "?linkType=untp:dpp", "https://c.example/d", "T", None, InputError, "query"),
        (GTIN, "/relative/path", "T", None, InputError, "absolute http"),
        (GTIN, "ftp://c.example/d", "T", None, InputError, "absolute http"),
        (GTIN, "https://c.example/d", "  ", None, InputError, "title"),
        (GTIN, "https://c.example/d", "T", "english please", InputError, "language tag"),
        (GTIN[:-1] + "9", "https://c.example/d", "T", None, DigitalLinkError, "check digit"),
    ],
)
def test_register_rejects_invalid_input(
    resolver: Resolver,
    identifier: str,
    href: str,
    title: str,
    language: str | None,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        resolver.register(identifier, "untp:dpp", href, title=title, language=language)

    assert resolver.links(GTIN) == []


def test_register_rejects_bad_link_type(resolver: Resolver) -> None:
    with pytest.raises(DigitalLinkError, match="untp:dpp"):
        resolver.register(GTIN, "passport", "https://c.example/d", title="T")
