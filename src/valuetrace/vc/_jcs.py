"""RFC 8785 JSON Canonicalization Scheme (JCS).

The canonical form has no whitespace, object members sorted by the UTF-16 code units of their
names, numbers serialised as ECMAScript ``Number.prototype.toString`` does, and strings with only
the escapes that JSON requires. It is the byte string that ``eddsa-jcs-2022`` proofs hash.
"""

from __future__ import annotations

import json.encoder
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["canonicalize", "serialize_number"]

# The C string encoder of the standard library escapes exactly what RFC 8785 section 3.2.2.2
# requires: '"', '\\', the short forms \b \t \n \f \r, and other controls below U+0020 as
# lowercase \u00xx. Everything else, U+007F included, is written as is.
_encode_string = json.encoder.encode_basestring

# Integers up to 2**53 are exact doubles, and ECMAScript prints them as plain digits.
_MAX_EXACT_INTEGER = 2**53
# ECMAScript switches to exponent notation from 1e21 upwards.
_MAX_PLAIN_EXPONENT = 21


def canonicalize(value: Any) -> bytes:
    """Serialise a JSON value (as ``json.loads`` returns it) to RFC 8785 canonical UTF-8 bytes.

    Mappings become objects and lists or tuples become arrays. Raises ``TypeError`` for a value
    JSON cannot hold or an object key that is not a string, and ``ValueError`` for NaN, infinity,
    an integer too large for a double, or a string with a lone surrogate.
    """
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"cannot canonicalize a string that contains the lone surrogate "
            f"{text[exc.start]!r}: JSON text must be valid Unicode"
        ) from exc


def _write(value: Any, parts: list[str]) -> None:
    # Exact type checks first: they are much faster than isinstance against the Mapping ABC,
    # and json.loads returns only these types.
    kind = type(value)
    if kind is str:
        parts.append(_encode_string(value))
    elif kind is dict:
        _write_object(value, parts)
    elif kind is list:
        _write_array(value, parts)
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_encode_string(value))
    elif isinstance(value, int):
        parts.append(_serialize_integer(value))
    elif isinstance(value, float):
        parts.append(serialize_number(value))
    elif isinstance(value, Mapping):
        _write_object(value, parts)
    elif isinstance(value, list | tuple):
        _write_array(value, parts)
    else:
        raise TypeError(
            f"cannot canonicalize a value of type {type(value).__name__}: a JSON value is one of "
            "object, arrays, strings, numbers, booleans and null"
        )


def _write_array(value: list[Any] | tuple[Any, ...], parts: list[str]) -> None:
    parts.append("[")
    for index, item in enumerate(value):
        if index:
            parts.append(",")
        _write(item, parts)
    parts.append("]")


def _write_object(value: Mapping[Any, Any], parts: list[str]) -> None:
    all_ascii = True
    for key in value:
        if not isinstance(key, str):
            raise TypeError(
                f"cannot canonicalize an object key of type {type(key).__name__} ({key!r}): "
                "JSON object keys are strings"
            )
        if all_ascii and not key.isascii():
            all_ascii = False
    # Big-endian UTF-16 bytes compare in the same order as UTF-16 code units. Plain code point
    # order differs only for characters above U+FFFF, which sort before U+E000..U+FFFF in UTF-16,
    # so ASCII keys can use the faster plain sort.
    keys = sorted(value) if all_ascii else sorted(value, key=_utf16_sort_key)
    parts.append("{")
    for index, key in enumerate(keys):
        if index:
            parts.append(",")
        parts.append(_encode_string(key))
        parts.append(":")
        _write(value[key], parts)
    parts.append("}")


def _utf16_sort_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _serialize_integer(value: int) -> str:
    if -_MAX_EXACT_INTEGER <= value <= _MAX_EXACT_INTEGER:
        return str(value)
    # JSON numbers are IEEE 754 doubles in RFC 8785, so a larger integer is rounded to the
    # nearest double, as an ECMAScript parser of the same document would do.
    try:
        number = float(value)
    except OverflowError as exc:
        raise ValueError(
            f"cannot canonicalize the integer {value}: it is too large for a double, "
            "so write it as a string instead"
        ) from exc
    return serialize_number(number)


def serialize_number(value: float) -> str:
    """Format a double as ECMAScript ``Number.prototype.toString`` does (RFC 8785 section 3.2.2.3).

    Raises ``ValueError`` for NaN and infinity, which JSON cannot hold.
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot canonicalize the number {value!r}: JSON has no NaN or infinity")
    if value == 0:
        return "0"  # negative zero too
    if value.is_integer() and abs(value) <= _MAX_EXACT_INTEGER:
        # Above 2**53 the exact integer has more digits than the shortest form that ECMAScript
        # prints (999999999999999868928 is printed as 999999999999999900000).
        return str(int(value))

    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    count = len(digits)

    # ``point`` is the ECMAScript n: the value is 0.<digits> * 10**point.
    if count <= point <= _MAX_PLAIN_EXPONENT:
        text = digits + "0" * (point - count)
    elif 0 < point <= _MAX_PLAIN_EXPONENT:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        exponent = point - 1
        exponent_text = f"+{exponent}" if exponent >= 0 else str(exponent)
        mantissa = digits if count == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{exponent_text}"
    return sign + text


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return the shortest round-trip decimal digits of a positive double and the point position.

    Python's ``repr`` gives the shortest digit string that reads back as the same double, the same
    digits that ECMAScript picks, so only the layout around them has to change.
    """
    mantissa, _, exponent_text = repr(value).partition("e")
    integer_part, _, fraction_part = mantissa.partition(".")
    exponent = int(exponent_text) if exponent_text else 0

    digits = integer_part + fraction_part
    point = len(integer_part) + exponent
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0"), point
