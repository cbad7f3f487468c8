"""EPC URNs and GS1 Digital Link URIs in one canonical form.

EPCIS events name the same object either by an EPC URN (GS1 EPC Tag Data Standard 2.0, for
example ``urn:epc:id:sgtin:0614141.107346.2017``) or by a GS1 Digital Link URI on any host.
:func:`canonical_identifier` maps both to the constrained canonical Digital Link on
``https://id.gs1.org`` that the CBV 2.0 event hash uses, so that the two spellings compare equal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import unquote

from valuetrace.resolver._digitallink import gs1_check_digit

__all__ = ["GS1_ID_HOST", "canonical_identifier"]

GS1_ID_HOST = "https://id.gs1.org"

# Characters of a key or qualifier value that stay literal in the canonical Digital Link. Every
# other character is percent-encoded with upper-case hex digits, so "!" becomes "%21" whether
# the source wrote it raw (allowed in an EPC URN) or encoded.
_LITERAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._'~;=$@")

# Digital Link short names (GS1 Digital Link URI Syntax 1.2) and the AIs they stand for.
_SHORT_NAMES = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}

# Primary keys and the key qualifiers each accepts in a Digital Link path.
_QUALIFIERS: dict[str, tuple[str, ...]] = {
    "00": (),
    "01": ("22", "10", "21", "235"),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "8017": (),
    "8018": (),
}

# Fixed-length numeric primary keys, by AI: the number of digits.
_NUMERIC_KEY_LENGTHS = {
    "00": 18,
    "01": 14,
    "402": 17,
    "414": 13,
    "417": 13,
    "8017": 18,
    "8018": 18,
}

_COMPANY_PREFIX = r"\d{6,12}"
_DIGITS = re.compile(r"\d+")
_TWO_DIGITS = re.compile(r"\d{2}")


def _encode(value: str) -> str:
    """Percent-encode a decoded key or qualifier value for the canonical Digital Link."""
    pieces: list[str] = []
    for character in value:
        if character in _LITERAL:
            pieces.append(character)
        else:
            pieces.extend(f"%{byte:02X}" for byte in character.encode("utf-8"))
    return "".join(pieces)


def _recode(value: str) -> str:
    """Decode the escapes of a URN or URI component and encode it again canonically."""
    return _encode(unquote(value))


def _with_check_digit(digits: str) -> str:
    return digits + str(gs1_check_digit(digits))


def _gtin(company_prefix: str, indicator_and_item: str) -> str | None:
    """Build a GTIN-14 from the company prefix and the indicator digit plus item reference."""
    if len(company_prefix) + len(indicator_and_item) != 13:
        return None
    return _with_check_digit(indicator_and_item[:1] + company_prefix + indicator_and_item[1:])


def _twelve_digit_key(company_prefix: str, reference: str) -> str | None:
    """Build a 13-digit key (GLN, GDTI, GCN, GRAI body) from a prefix and a reference."""
    if len(company_prefix) + len(reference) != 12:
        return None
    return _with_check_digit(company_prefix + reference)


def _fields(body: str, count: int) -> list[str] | None:
    """Split an EPC URN body into ``count`` dot-separated fields, the last one free text."""
    parts = body.split(".", count - 1)
    if len(parts) != count:
        return None
    if not re.fullmatch(_COMPANY_PREFIX, parts[0]):
        return None
    return parts


def _numeric(*values: str) -> bool:
    return all(value == "" or _DIGITS.fullmatch(value) for value in values)


def _piece_and_total(piece: str, total: str) -> bool:
    """Check the piece number and total count of an ITIP: two digits each."""
    return bool(_TWO_DIGITS.fullmatch(piece) and _TWO_DIGITS.fullmatch(total))


def _sgtin(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not parts[1] or not _numeric(parts[1]) or not parts[2]:
        return None
    gtin = _gtin(parts[0], parts[1])
    return None if gtin is None else f"/01/{gtin}/21/{_recode(parts[2])}"


def _sscc(body: str) -> str | None:
    parts = _fields(body, 2)
    if parts is None or not parts[1] or not _numeric(parts[1]):
        return None
    if len(parts[0]) + len(parts[1]) != 17:
        return None
    return "/00/" + _with_check_digit(parts[1][:1] + parts[0] + parts[1][1:])


def _sgln(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not _numeric(parts[1]) or not parts[2]:
        return None
    gln = _twelve_digit_key(parts[0], parts[1])
    if gln is None:
        return None
    # The extension "0" means "no extension" in an SGLN.
    if parts[2] == "0":
        return f"/414/{gln}"
    return f"/414/{gln}/254/{_recode(parts[2])}"


def _grai(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not _numeric(parts[1]) or not parts[2]:
        return None
    key = _twelve_digit_key(parts[0], parts[1])
    return None if key is None else f"/8003/0{key}{_recode(parts[2])}"


def _giai(body: str) -> str | None:
    parts = _fields(body, 2)
    if parts is None or not parts[1]:
        return None
    return f"/8004/{parts[0]}{_recode(parts[1])}"


def _gsrn(ai: str) -> Callable[[str], str | None]:
    def convert(body: str) -> str | None:
        parts = _fields(body, 2)
        if parts is None or not _numeric(parts[1]) or len(parts[0]) + len(parts[1]) != 17:
            return None
        return f"/{ai}/" + _with_check_digit(parts[0] + parts[1])

    return convert


def _gdti(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not _numeric(parts[1]):
        return None
    key = _twelve_digit_key(parts[0], parts[1])
    return None if key is None else f"/253/{key}{_recode(parts[2])}"


def _sgcn(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not _numeric(parts[1], parts[2]):
        return None
    key = _twelve_digit_key(parts[0], parts[1])
    return None if key is None else f"/255/{key}{parts[2]}"


def _cpi(body: str) -> str | None:
    head, dot, serial = body.rpartition(".")
    parts = _fields(head, 2) if dot else None
    if parts is None or not parts[1] or not serial or not _numeric(serial):
        return None
    return f"/8010/{_recode(parts[0] + parts[1])}/8011/{serial}"


def _ginc(body: str) -> str | None:
    parts = _fields(body, 2)
    if parts is None or not parts[1]:
        return None
    return f"/401/{parts[0]}{_recode(parts[1])}"


def _gsin(body: str) -> str | None:
    parts = _fields(body, 2)
    if parts is None or not _numeric(parts[1]) or len(parts[0]) + len(parts[1]) != 16:
        return None
    return "/402/" + _with_check_digit(parts[0] + parts[1])


def _itip(body: str) -> str | None:
    parts = _fields(body, 5)
    if parts is None or not parts[4]:
        return None
    if not _numeric(parts[1]) or not _piece_and_total(parts[2], parts[3]):
        return None
    gtin = _gtin(parts[0], parts[1])
    if gtin is None:
        return None
    return f"/8006/{gtin}{parts[2]}{parts[3]}/21/{_recode(parts[4])}"


def _upui(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not _numeric(parts[1]) or not parts[2]:
        return None
    gtin = _gtin(parts[0], parts[1])
    return None if gtin is None else f"/01/{gtin}/235/{_recode(parts[2])}"


def _pgln(body: str) -> str | None:
    parts = _fields(body, 2)
    if parts is None or not _numeric(parts[1]):
        return None
    key = _twelve_digit_key(parts[0], parts[1])
    return None if key is None else f"/417/{key}"


def _lgtin(body: str) -> str | None:
    parts = _fields(body, 3)
    if parts is None or not _numeric(parts[1]) or not parts[2]:
        return None
    gtin = _gtin(parts[0], parts[1])
    return None if gtin is None else f"/01/{gtin}/10/{_recode(parts[2])}"


def _pattern(convert: Callable[[list[str]], str | None], count: int) -> Callable[[str], str | None]:
    """Convert an EPC pattern whose last field is the wildcard ``*`` to the class-level key."""

    def converter(body: str) -> str | None:
        parts = _fields(body, count)
        if parts is None or parts[-1] != "*" or "*" in "".join(parts[:-1]):
            return None
        return convert(parts[:-1])

    return converter


def _gtin_pattern(parts: list[str]) -> str | None:
    if not _numeric(parts[1]):
        return None
    gtin = _gtin(parts[0], parts[1])
    return None if gtin is None else f"/01/{gtin}"


def _twelve_digit_pattern(template: str) -> Callable[[list[str]], str | None]:
    def convert(parts: list[str]) -> str | None:
        if not _numeric(parts[1]):
            return None
        key = _twelve_digit_key(parts[0], parts[1])
        return None if key is None else template.format(key=key)

    return convert


def _cpi_pattern(parts: list[str]) -> str | None:
    return f"/8010/{_recode(parts[0] + parts[1])}" if parts[1] else None


def _itip_pattern(parts: list[str]) -> str | None:
    if not _numeric(parts[1]) or not _piece_and_total(parts[2], parts[3]):
        return None
    gtin = _gtin(parts[0], parts[1])
    return None if gtin is None else f"/8006/{gtin}{parts[2]}{parts[3]}"


_URN_CONVERTERS: dict[str, Callable[[str], str | None]] = {
    "urn:epc:id:sgtin:": _sgtin,
    "urn:epc:id:sscc:": _sscc,
    "urn:epc:id:sgln:": _sgln,
    "urn:epc:id:grai:": _grai,
    "urn:epc:id:giai:": _giai,
    "urn:epc:id:gsrn:": _gsrn("8018"),
    "urn:epc:id:gsrnp:": _gsrn("8017"),
    "urn:epc:id:gdti:": _gdti,
    "urn:epc:id:sgcn:": _sgcn,
    "urn:epc:id:cpi:": _cpi,
    "urn:epc:id:ginc:": _ginc,
    "urn:epc:id:gsin:": _gsin,
    "urn:epc:id:itip:": _itip,
    "urn:epc:id:upui:": _upui,
    "urn:epc:id:pgln:": _pgln,
    "urn:epc:class:lgtin:": _lgtin,
    "urn:epc:idpat:sgtin:": _pattern(_gtin_pattern, 3),
    "urn:epc:idpat:upui:": _pattern(_gtin_pattern, 3),
    "urn:epc:idpat:grai:": _pattern(_twelve_digit_pattern("/8003/0{key}"), 3),
    "urn:epc:idpat:gdti:": _pattern(_twelve_digit_pattern("/253/{key}"), 3),
    "urn:epc:idpat:sgcn:": _pattern(_twelve_digit_pattern("/255/{key}"), 3),
    "urn:epc:idpat:cpi:": _pattern(_cpi_pattern, 3),
    "urn:epc:idpat:itip:": _pattern(_itip_pattern, 5),
}


def _from_urn(value: str) -> str | None:
    prefix_end = value.find(":", value.find(":", 8) + 1) + 1
    convert = _URN_CONVERTERS.get(value[:prefix_end])
    if convert is None:
        return None
    path = convert(value[prefix_end:])
    return None if path is None else GS1_ID_HOST + path


def _pad_gtin(value: str) -> str | None:
    if len(value) in (8, 12, 13, 14) and _DIGITS.fullmatch(value):
        return value.zfill(14)
    return None


def _from_digital_link(value: str) -> str | None:
    """Return the constrained canonical form of a Digital Link URI, or None for other URIs."""
    scheme, separator, rest = value.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        return None
    rest = rest.split("#", 1)[0].split("?", 1)[0]
    segments = rest.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()

    # A Digital Link may sit below a custom path prefix: the key starts at the first segment
    # that names a primary key and is followed by exactly pairs of qualifiers.
    for start, segment in enumerate(segments):
        ai = _SHORT_NAMES.get(segment, segment)
        if ai in _QUALIFIERS and (len(segments) - start) % 2 == 0:
            return _canonical_path(ai, segments[start + 1 :])
    return None


def _canonical_path(ai: str, values: list[str]) -> str | None:
    key = unquote(values[0])
    if ai == "01":
        padded = _pad_gtin(key)
        if padded is None:
            return None
        key = padded
    elif ai in _NUMERIC_KEY_LENGTHS:
        if len(key) != _NUMERIC_KEY_LENGTHS[ai] or not _DIGITS.fullmatch(key):
            return None
    elif (ai == "8006" and not re.fullmatch(r"\d{18}", key)) or not key:
        return None

    qualifiers: dict[str, str] = {}
    allowed = _QUALIFIERS[ai]
    for index in range(1, len(values), 2):
        qualifier = _SHORT_NAMES.get(values[index], values[index])
        if qualifier not in allowed or qualifier in qualifiers or not values[index + 1]:
            return None
        qualifiers[qualifier] = unquote(values[index + 1])

    # Only the finest level of identification stays: the consumer product variant (AI 22)
    # goes, and so does the lot (AI 10) when a serial (AI 21) is present.
    qualifiers.pop("22", None)
    if "21" in qualifiers:
        qualifiers.pop("10", None)

    path = f"/{ai}/{_encode(key)}"
    for qualifier in allowed:
        if qualifier in qualifiers:
            path += f"/{qualifier}/{_encode(qualifiers[qualifier])}"
    return GS1_ID_HOST + path


@functools.lru_cache(maxsize=65536)
def canonical_identifier(value: str) -> str:
    """Convert an EPC URN or a GS1 Digital Link URI to its canonical Digital Link.

    EPC URNs (``urn:epc:id:…``), the LGTIN class URN and EPC patterns whose last field is a
    wildcard map to ``https://id.gs1.org/<AI>/<key>…``. Patterns map to the class level, such
    as the GTIN alone. A Digital Link on any host moves to ``https://id.gs1.org`` without query,
    fragment, consumer product variant, or lot when a serial is present. Anything else,
    including a malformed URN, is returned unchanged.
    """
    if value.startswith("urn:epc:"):
        converted = _from_urn(value)
    elif value.startswith(("http://", "https://", "HTTP://", "HTTPS://")):
        converted = _from_digital_link(value)
    else:
        return value
    return value if converted is None else converted
