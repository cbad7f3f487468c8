"""GS1 Digital Link parsing, check digits and canonical forms."""

from __future__ import annotations

import pytest

from valuetrace.errors import DigitalLinkError
from valuetrace.resolver import DigitalLink, gs1_check_digit, parse_digital_link

# Valid GS1 keys from GS1 examples and from printed barcodes.
VALID_KEYS = [
    "09520123456788",  # GTIN-14 of the GS1 Digital Link standard examples
    "9520123456788",  # GLN of the same examples, also a valid GTIN-13
    "4006381333931",  # GTIN-13
    "036000291452",  # GTIN-12 (UPC-A)
    "96385074",  # GTIN-8
    "0614141073467",  # GLN of the EPCIS 2.0 examples (sgln 0614141.07346.1234)
]


@pytest.mark.parametrize("key", VALID_KEYS)
def test_check_digit_valid_keys(key: str) -> None:
    assert gs1_check_digit(key[:-1]) == int(key[-1])


@pytest.mark.parametrize("value", ["", "12a4", "\uff11\uff12\uff13", " 123"])
def test_check_digit_rejects_non_digits(value: str) -> None:
    with pytest.raises(DigitalLinkError, match="without its check digit"):
        gs1_check_digit(value)


def test_parse_full_gtin_link() -> None:
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/10/ABC1/21/12345")

    assert link.base == "https://id.gs1.org"
    assert link.gtin == "09520123456788"
    assert link.lot == "ABC1"
    assert link.serial == "12345"
    assert link.gln is None
    assert link.query == {}
    assert link.key == "01/09520123456788"
    assert link.path == "/01/09520123456788/10/ABC1/21/12345"
    assert link.uri() == "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345"


@pytest.mark.parametrize(
    ("written", "gtin14"),
    [
        ("9520123456788", "09520123456788"),
        ("036000291452", "00036000291452"),
        ("96385074", "00000096385074"),
        ("09520123456788", "09520123456788"),
    ],
)
def test_parse_normalises_gtin(written: str, gtin14: str) -> None:
    link = parse_digital_link(f"https://example.com/01/{written}")

    assert link.gtin == gtin14
    assert link.uri() == f"https://example.com/01/{gtin14}"


def test_parse_path_prefix_and_query() -> None:
    uri = "https://Brand.Example.COM/products/EU/01/09520123456788/21/S1?linkType=gs1:pip&17=201231"
    link = parse_digital_link(uri)

    assert link.base == "https://brand.example.com/products/EU"
    assert link.serial == "S1"
    assert link.lot is None
    assert link.query == {"linkType": "gs1:pip", "17": "201231"}
    assert link.uri() == (
        "https://brand.example.com/products/EU/01/09520123456788/21/S1?linkType=gs1:pip&17=201231"
    )


def test_parse_ignores_fragment_and_trailing_slash() -> None:
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/#top")

    assert link.path == "/01/09520123456788"
    assert link.query == {}


def test_parse_gln_with_extension() -> None:
    link = parse_digital_link("https://id.gs1.org/414/9520123456788/254/32a%2Fb")

    assert link.gln == "9520123456788"
    assert link.gln_extension == "32a/b"
    assert link.gtin is None
    assert link.key == "414/9520123456788"
    assert link.uri() == "https://id.gs1.org/414/9520123456788/254/32a%2Fb"


def test_lot_percent_decoding_round_trip() -> None:
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/10/A%2FB%25C%26%3F")

    assert link.lot == "A/B%C&?"
    assert link.uri() == "https://id.gs1.org/01/09520123456788/10/A%2FB%25C%26%3F"
    assert parse_digital_link(link.uri()) == link


def test_uri_encodes_reserved_characters() -> None:
    link = DigitalLink(base="https://id.gs1.org/", gtin="09520123456788", lot="ab!'()*+,:;<=>\"")

    assert link.uri() == (
        "https://id.gs1.org/01/09520123456788/10/ab%21%27%28%29%2A%2B%2C%3A%3B%3C%3D%3E%22"
    )
    assert parse_digital_link(link.uri()).lot == link.lot


def test_uri_rebases_on_other_host() -> None:
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/10/L1")

    assert link.uri("https://id.valuetrace.example/") == (
        "https://id.valuetrace.example/01/09520123456788/10/L1"
    )


def test_lot_of_twenty_characters_accepted() -> None:
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/10/" + "A" * 20)

    assert link.lot == "A" * 20


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://id.gs1.org/01/09520123456789", "check digit 9.*is 8"),
        ("https://id.gs1.org/01/9520123456780", "check digit 0.*is 8"),
        ("https://id.gs1.org/01/036000291453", "check digit 3.*is 2"),
        ("https://id.gs1.org/01/96385075", "check digit 5.*is 4"),
        ("https://id.gs1.org/414/9520123456781", "GLN 9520123456781 has check digit 1.*is 8"),
    ],
)
def test_wrong_check_digit_rejected(uri: str, message: str) -> None:
    with pytest.raises(DigitalLinkError, match=message) as caught:
        parse_digital_link(uri)

    assert "typing error" in str(caught.value)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://id.gs1.org/01/95201234567", "8, 12, 13 or 14 digits"),
        ("https://id.gs1.org/01/009520123456788", "8, 12, 13 or 14 digits"),
        ("https://id.gs1.org/01/0952012345678X", "8, 12, 13 or 14 digits"),
        ("https://id.gs1.org/414/09520123456788", "exactly 13 digits"),
        ("https://id.gs1.org/01/09520123456788/10/" + "A" * 21, "1 to 20 characters"),
        ("https://id.gs1.org/01/09520123456788/10/A%20B", "character set 82"),
        ("https://id.gs1.org/01/09520123456788/21/caf%C3%A9", "character set 82"),
        ("https://id.gs1.org/01/09520123456788/21/%FF", "UTF-8"),
        ("https://id.gs1.org/01/09520123456788/10/50%", "percent-encoding"),
        ("https://id.gs1.org/01/09520123456788/22/2A/10/ABC", "consumer product variant"),
        ("https://id.gs1.org/01/09520123456788/17/201231", "unsupported qualifier /17/"),
        ("https://id.gs1.org/414/9520123456788/10/ABC", "unsupported qualifier /10/"),
        ("https://id.gs1.org/01/09520123456788/21/S1/10/L1", "out of order"),
        ("https://id.gs1.org/01/09520123456788/10/L1/10/L2", "repeated or out of order"),
        ("https://id.gs1.org/01/09520123456788/10", "no value after it"),
        ("https://id.gs1.org/01", "no value after it"),
        ("https://id.gs1.org/01//10/L1", "empty path segment"),
        ("https://id.gs1.org/gtin/09520123456788", "no GS1 primary key"),
        ("https://id.gs1.org/", "no GS1 primary key"),
        ("ftp://id.gs1.org/01/09520123456788", "https://"),
        ("/01/09520123456788", "https://"),
        ("urn:epc:id:sgtin:9520123.045678.1", "https://"),
        ("https://id.gs1.org/01/09520123456788?linkType=a&linkType=b", "more than once"),
    ],
)
def test_malformed_link_rejected(uri: str, message: str) -> None:
    with pytest.raises(DigitalLinkError, match=message):
        parse_digital_link(uri)


def test_constructor_needs_one_primary_key() -> None:
    with pytest.raises(DigitalLinkError, match="exactly one primary key"):
        DigitalLink(base="https://id.gs1.org")
    with pytest.raises(DigitalLinkError, match="exactly one primary key"):
        DigitalLink(base="https://id.gs1.org", gtin="09520123456788", gln="9520123456788")


def test_constructor_rejects_mixed_qualifiers() -> None:
    with pytest.raises(DigitalLinkError, match="qualify only a GTIN"):
        DigitalLink(base="https://id.gs1.org", gln="9520123456788", lot="L1")
    with pytest.raises(DigitalLinkError, match="qualifies only a GLN"):
        DigitalLink(base="https://id.gs1.org", gtin="09520123456788", gln_extension="1")


def test_ancestors_of_serial_with_lot() -> None:
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/10/L1/21/S1?linkType=all")

    paths = [ancestor.path for ancestor in link.ancestors()]

    assert paths == ["/01/09520123456788/10/L1", "/01/09520123456788"]
    assert all(ancestor.query == {} for ancestor in link.ancestors())
    assert all(ancestor.base == "https://id.gs1.org" for ancestor in link.ancestors())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/01/09520123456788/10/L1", ["/01/09520123456788"]),
        ("/01/09520123456788/21/S1", ["/01/09520123456788"]),
        ("/01/09520123456788", []),
        ("/414/9520123456788/254/7", ["/414/9520123456788"]),
        ("/414/9520123456788", []),
    ],
)
def test_ancestors_by_form(path: str, expected: list[str]) -> None:
    link = parse_digital_link("https://id.gs1.org" + path)

    assert [ancestor.path for ancestor in link.ancestors()] == expected


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("/01/09520123456788", "/01/09520123456788/10/L1", True),
        ("/01/09520123456788", "/01/09520123456788/21/S1", True),
        ("/01/09520123456788", "/01/09520123456788/10/L1/21/S1", True),
        ("/01/09520123456788/10/L1", "/01/09520123456788/10/L1", True),
        ("/01/09520123456788/10/L1", "/01/09520123456788/10/L1/21/S1", True),
        ("/01/09520123456788/10/L1", "/01/09520123456788/10/L2", False),
        ("/01/09520123456788/10/L1", "/01/09520123456788/21/S1", False),
        ("/01/09520123456788/10/L1", "/01/09520123456788", False),
        ("/01/09520123456788", "/01/04006381333931", False),
        ("/414/9520123456788", "/414/9520123456788/254/7", True),
        ("/414/9520123456788", "/01/09520123456788", False),
    ],
)
def test_covers_by_form(outer: str, inner: str, expected: bool) -> None:
    outer_link = parse_digital_link("https://id.gs1.org" + outer)
    inner_link = parse_digital_link("https://id.valuetrace.example" + inner + "?linkType=all")

    assert outer_link.covers(inner_link) is expected
