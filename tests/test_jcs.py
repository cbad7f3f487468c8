"""RFC 8785 canonicalization against the reference test data of the JCS authors."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest

from valuetrace.vc._jcs import canonicalize, serialize_number

DATA = Path(__file__).parent / "data" / "vc-di" / "json-canonicalization"
CASES = sorted(path.stem for path in (DATA / "input").glob("*.json"))


def test_reference_cases_present() -> None:
    assert CASES == ["arrays", "french", "structures", "unicode", "values", "weird"]


@pytest.mark.parametrize("name", CASES)
def test_reference_output(name: str) -> None:
    value = json.loads((DATA / "input" / f"{name}.json").read_text(encoding="utf-8"))
    expected = (DATA / "output" / f"{name}.json").read_bytes()

    assert canonicalize(value) == expected


@pytest.mark.parametrize("name", CASES)
def test_reference_outhex(name: str) -> None:
    value = json.loads((DATA / "input" / f"{name}.json").read_text(encoding="utf-8"))
    expected = bytes.fromhex((DATA / "outhex" / f"{name}.txt").read_text(encoding="ascii"))

    assert canonicalize(value) == expected


# IEEE 754 bit patterns and their ECMAScript serialisation, from the README of the JCS reference
# test data and from ECMAScript's Number.prototype.toString rules.
NUMBER_CASES = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("4340000000000001", "9007199254740994"),
    ("4340000000000002", "9007199254740996"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("3fb999999999999a", "0.1"),
    ("c000000000000000", "-2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBER_CASES)
def test_number_from_bits(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))

    assert serialize_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (123e-20, "1.23e-18"),
        (0.0000012, "0.0000012"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e20, "100000000000000000000"),
        (123456.789, "123456.789"),
        (-0.5, "-0.5"),
        (56.0, "56"),
    ],
)
def test_number_layout(value: float, expected: str) -> None:
    assert serialize_number(value) == expected


def test_number_round_trips() -> None:
    for value in (0.1 + 0.2, 1 / 3, 2.0**-1074, 2.0**60, 9.87654321e-300, -4.35e250):
        assert float(serialize_number(value)) == value


def test_integers() -> None:
    assert canonicalize([0, -1, 2**53, -(2**53)]) == b"[0,-1,9007199254740992,-9007199254740992]"


def test_large_integer_rounds_to_double() -> None:
    assert canonicalize(2**53 + 1) == b"9007199254740992"
    assert canonicalize(10**21) == b"1e+21"


def test_integer_beyond_double_rejected() -> None:
    with pytest.raises(ValueError, match="too large for a double"):
        canonicalize(10**400)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_rejected(value: float) -> None:
    with pytest.raises(ValueError, match="no NaN or infinity"):
        canonicalize({"x": value})


def test_key_order_utf16() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+FB33 although its
    # code point is larger.
    value = {"\ufb33": 1, "\U0001f600": 2, "a": 3, "": 4}

    assert canonicalize(value) == '{"":4,"a":3,"\U0001f600":2,"\ufb33":1}'.encode()


def test_string_escapes() -> None:
    value = '"\\/\b\f\n\r\t\x00\x1f\x7f\u2028<é'

    assert (
        canonicalize(value) == b'"\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\xe2\x80\xa8<\xc3\xa9"'
    )


def test_lone_surrogate_rejected() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        canonicalize({"text": "\ud800"})


def test_non_string_key_rejected() -> None:
    with pytest.raises(TypeError, match="object key of type int"):
        canonicalize({1: "one"})


def test_unknown_type_rejected() -> None:
    with pytest.raises(TypeError, match="type set"):
        canonicalize({"values": {1, 2}})


def test_tuple_is_array() -> None:
    assert canonicalize({"b": (True, False, None), "a": []}) == b'{"a":[],"b":[true,false,null]}'


def test_nested_structures() -> None:
    value = {"z": {"y": [{"b": 1, "a": [1.5, "x"]}]}, "a": {}}

    assert canonicalize(value) == b'{"a":{},"z":{"y":[{"a":[1.5,"x"],"b":1}]}}'
