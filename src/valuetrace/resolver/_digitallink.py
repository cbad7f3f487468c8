"""GS1 Digital Link URIs: parsing, check digits and canonical forms.

Supported primary keys are GTIN (AI 01, with the qualifiers lot AI 10 and serial AI 21) and GLN
(AI 414, with the qualifier GLN extension AI 254). Only numeric AIs are accepted in the path.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from valuetrace.errors import DigitalLinkError

_NO_QUERY: Mapping[str, str] = MappingProxyType({})

__all__ = ["DigitalLink", "gs1_check_digit", "parse_digital_link"]

# GS1 AI encodable character set 82, the set allowed in lot, serial and GLN extension values.
CSET_82 = frozenset("!\"%&'()*+,-./:;<=>?_" + string.ascii_letters + string.digits)
MAX_QUALIFIER_LENGTH = 20
GTIN_LENGTHS = (8, 12, 13, 14)
GLN_LENGTH = 13

AI_GTIN = "01"
AI_CPV = "22"
AI_LOT = "10"
AI_SERIAL = "21"
AI_GLN = "414"
AI_GLN_EXTENSION = "254"

# The qualifiers each primary key accepts, in the order the GS1 Digital Link path requires.
_QUALIFIERS = {AI_GTIN: (AI_CPV, AI_LOT, AI_SERIAL), AI_GLN: (AI_GLN_EXTENSION,)}
_QUALIFIER_NAMES = {
    AI_CPV: "consumer product variant",
    AI_LOT: "lot",
    AI_SERIAL: "serial",
    AI_GLN_EXTENSION: "GLN extension",
}
_DIGITS = re.compile(r"[0-9]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@functools.lru_cache(maxsize=65536)
def gs1_check_digit(digits_without_check: str) -> int:
    """Compute the GS1 mod-10 check digit of a GTIN, GLN or other GS1 key without its last digit.

    Raises DigitalLinkError if the value is empty or contains anything other than ASCII digits.
    """
    if not _DIGITS.fullmatch(digits_without_check):
        raise DigitalLinkError(
            f"cannot compute a GS1 check digit of {digits_without_check!r}: "
            "pass the key's digits without its check digit"
        )
    # Weights alternate 3, 1, 3, … starting from the rightmost digit.
    total = 0
    for position, digit in enumerate(reversed(digits_without_check)):
        weight = 3 if position % 2 == 0 else 1
        total += int(digit) * weight
    return (10 - total % 10) % 10


def _verify_check_digit(kind: str, value: str) -> None:
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise DigitalLinkError(
            f"{kind} {value} has check digit {value[-1]}, but the GS1 check digit of "
            f"{value[:-1]} is {expected}: check the number for a typing error "
            f"(a correct {kind} would end in {expected})"
        )


def normalise_gtin(value: str) -> str:
    """Validate a GTIN-8, -12, -13 or -14 and return it as 14 digits with leading zeros."""
    if not _DIGITS.fullmatch(value) or len(value) not in GTIN_LENGTHS:
        raise DigitalLinkError(
            f"invalid GTIN {value!r}: a GTIN has 8, 12, 13 or 14 digits and nothing else"
        )
    _verify_check_digit("GTIN", value)
    return value.zfill(14)


def validate_gln(value: str) -> str:
    """Validate a 13-digit GLN and return it unchanged."""
    if not _DIGITS.fullmatch(value) or len(value) != GLN_LENGTH:
        raise DigitalLinkError(f"invalid GLN {value!r}: a GLN has exactly 13 digits")
    _verify_check_digit("GLN", value)
    return value


def _validate_qualifier(name: str, value: str) -> str:
    if not 1 <= len(value) <= MAX_QUALIFIER_LENGTH:
        raise DigitalLinkError(
            f"invalid {name} {value!r}: it must have 1 to {MAX_QUALIFIER_LENGTH} characters, "
            f"but has {len(value)}"
        )
    outside = sorted({char for char in value if char not in CSET_82})
    if outside:
        raise DigitalLinkError(
            f"invalid {name} {value!r}: the characters {''.join(outside)!r} are outside the GS1 "
            "character set 82 (letters, digits and !\"%&'()*+,-./:;<=>?_); "
            "percent-encode only characters of that set"
        )
    return value


@dataclass(frozen=True)
class DigitalLink:
    """A parsed GS1 Digital Link URI for a GTIN (with optional lot and serial) or a GLN.

    ``base`` is the scheme and host with any path prefix before the primary key, without a
    trailing slash. The GTIN is stored as 14 digits. Values are stored percent-decoded.
    Construction validates every value and raises DigitalLinkError on the first invalid one.
    """

    base: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    gln: str | None = None
    gln_extension: str | None = None
    query: Mapping[str, str] = field(default_factory=lambda: _NO_QUERY, hash=False)

    def __post_init__(self) -> None:
        if (self.gtin is None) == (self.gln is None):
            raise DigitalLinkError(
                "a Digital Link needs exactly one primary key: pass either gtin or gln"
            )
        if self.gtin is not None:
            object.__setattr__(self, "gtin", normalise_gtin(self.gtin))
            if self.gln_extension is not None:
                raise DigitalLinkError(
                    f"GLN extension {self.gln_extension!r} given with GTIN {self.gtin}: "
                    "a GLN extension qualifies only a GLN"
                )
        if self.gln is not None:
            validate_gln(self.gln)
            if self.lot is not None or self.serial is not None:
                raise DigitalLinkError(
                    f"lot or serial given with GLN {self.gln}: they qualify only a GTIN"
                )
        for name, value in (
            ("lot", self.lot),
            ("serial", self.serial),
            ("GLN extension", self.gln_extension),
        ):
            if value is not None:
                _validate_qualifier(name, value)
        object.__setattr__(self, "base", self.base.rstrip("/"))

    @property
    def key(self) -> str:
        """Primary key path without qualifiers, such as ``01/09520123456788``."""
        if self.gtin is not None:
            return f"{AI_GTIN}/{self.gtin}"
        return f"{AI_GLN}/{self.gln}"

    @functools.cached_property
    def path(self) -> str:  # cached: links are immutable, and walks compare paths often
        """Percent-encoded key path with qualifiers, such as ``/01/09520123456788/10/ABC1``.

        Two Digital Links name the same thing exactly when their paths are equal, whatever
        their hosts.
        """
        parts = [self.key]
        qualifiers = (
            (AI_LOT, self.lot),
            (AI_SERIAL, self.serial),
            (AI_GLN_EXTENSION, self.gln_extension),
        )
        for ai, value in qualifiers:
            if value is not None:
                # A-Z, a-z, 0-9 and "-._" are the only set-82 characters that stay unencoded
                # (GS1 Digital Link URI grammar 1.2, and RFC 3986 for '"').
                parts.append(f"{ai}/{quote(value, safe='')}")
        return "/" + "/".join(parts)

    def uri(self, base: str | None = None) -> str:
        """Build the canonical URI on ``base`` (default: this link's own base), with its query."""
        prefix = (base if base is not None else self.base).rstrip("/")
        text = prefix + self.path
        if self.query:
            text += "?" + urlencode(self.query, safe=":/", quote_via=quote)
        return text

    def ancestors(self) -> list[DigitalLink]:
        """Return the less specific forms of this link, nearest first, without query.

        GTIN+lot+serial gives [GTIN+lot, GTIN]. GTIN+lot and GTIN+serial give [GTIN].
        GLN+extension gives [GLN]. A bare GTIN or GLN gives [].
        """
        return list(_ancestors(self))

    def _compute_ancestors(self) -> tuple[DigitalLink, ...]:
        found: list[DigitalLink] = []
        if self.gtin is not None:
            if self.serial is not None and self.lot is not None:
                found.append(replace(self, serial=None, query=_NO_QUERY))
            if self.serial is not None or self.lot is not None:
                found.append(replace(self, lot=None, serial=None, query=_NO_QUERY))
        elif self.gln_extension is not None:
            found.append(replace(self, gln_extension=None, query=_NO_QUERY))
        return tuple(found)

    def covers(self, other: DigitalLink) -> bool:
        """Return whether ``other`` is this identifier or a more specific form of it.

        A GTIN covers its lots and serials, a GTIN+lot covers itself and its serials, and a
        GLN covers its extensions. Hosts and query parameters are ignored.
        """
        if self.path == other.path:
            return True
        return any(ancestor.path == self.path for ancestor in other.ancestors())


def _split_base(scheme: str, netloc: str, segments: list[str], uri: str) -> tuple[str, int]:
    for index, segment in enumerate(segments):
        if segment in _QUALIFIERS:
            prefix = "/".join(segments[:index])
            base = f"{scheme}://{netloc}" + (f"/{prefix}" if prefix else "")
            return base, index
    raise DigitalLinkError(
        f"no GS1 primary key in {uri!r}: the path needs a /01/<GTIN> or /414/<GLN> segment pair"
    )


def _decode_segment(segment: str, uri: str) -> str:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError as error:
        raise DigitalLinkError(
            f"the path segment {segment!r} in {uri!r} does not decode to UTF-8 text: "
            "percent-encode only characters of the GS1 character set 82"
        ) from error


def _parse_query(query: str, uri: str) -> Mapping[str, str]:
    parsed: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as error:
        raise DigitalLinkError(f"invalid query string in {uri!r}: {error}") from error
    for name, value in pairs:
        if name in parsed:
            raise DigitalLinkError(
                f"query parameter {name!r} appears more than once in {uri!r}: keep one of them"
            )
        parsed[name] = value
    return MappingProxyType(parsed) if parsed else _NO_QUERY


@functools.lru_cache(maxsize=65536)
def _ancestors(link: DigitalLink) -> tuple[DigitalLink, ...]:
    # Cached for the same reason as parse_digital_link; the links are immutable.
    return link._compute_ancestors()


# Parsed links are cached because a chain walk parses the same identifiers many times. They are
# immutable (frozen, with a read-only query), so sharing them is safe.
@functools.lru_cache(maxsize=65536)
def parse_digital_link(uri: str) -> DigitalLink:
    """Parse a GS1 Digital Link URI such as ``https://id.gs1.org/01/09520123456788/10/ABC1``.

    Accepts any http or https host, a path prefix before the primary key, and query parameters
    such as ``linkType``. A fragment is ignored. Raises DigitalLinkError on anything malformed,
    naming the value and the rule it breaks.
    """
    parts = urlsplit(uri.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise DigitalLinkError(
            f"{uri!r} is not a GS1 Digital Link: it must start with https:// (or http://) "
            "and a host name"
        )
    if _BAD_PERCENT.search(parts.path):
        raise DigitalLinkError(f"malformed percent-encoding in {uri!r}: write '%' itself as %25")

    raw_path = parts.path[:-1] if parts.path.endswith("/") else parts.path
    segments = raw_path.split("/")[1:]
    if any(segment == "" for segment in segments):
        raise DigitalLinkError(f"empty path segment ('//') in {uri!r}")
    base, start = _split_base(scheme, parts.netloc.lower(), segments, uri)

    pairs = segments[start:]
    if len(pairs) % 2:
        raise DigitalLinkError(
            f"the path segment {pairs[-1]!r} in {uri!r} has no value after it: "
            "GS1 Digital Link paths alternate application identifier and value"
        )
    primary_ai = pairs[0]
    values: dict[str, str] = {}
    allowed = _QUALIFIERS[primary_ai]
    last_position = -1
    for ai, encoded in zip(pairs[2::2], pairs[3::2], strict=True):
        if ai == AI_CPV:
            raise DigitalLinkError(
                f"consumer product variant (/22/) in {uri!r} is not supported: "
                "register and resolve the GTIN with lot or serial instead"
            )
        if ai not in allowed:
            supported = [code for code in allowed if code != AI_CPV]
            names = ", ".join(f"{code} ({_QUALIFIER_NAMES[code]})" for code in supported)
            raise DigitalLinkError(
                f"unsupported qualifier /{ai}/ after /{primary_ai}/ in {uri!r}: "
                f"the accepted qualifiers are {names}"
            )
        position = allowed.index(ai)
        if position <= last_position:
            order = ", ".join(code for code in allowed if code != AI_CPV)
            raise DigitalLinkError(
                f"qualifier /{ai}/ is repeated or out of order in {uri!r}: "
                f"write the qualifiers in the order {order}, each at most once"
            )
        last_position = position
        values[ai] = _decode_segment(encoded, uri)

    primary = _decode_segment(pairs[1], uri)
    query = _parse_query(parts.query, uri)
    if primary_ai == AI_GTIN:
        return DigitalLink(
            base=base,
            gtin=primary,
            lot=values.get(AI_LOT),
            serial=values.get(AI_SERIAL),
            query=query,
        )
    return DigitalLink(
        base=base, gln=primary, gln_extension=values.get(AI_GLN_EXTENSION), query=query
    )
