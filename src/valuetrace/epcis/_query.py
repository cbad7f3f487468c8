"""The EPCIS 2.0 standard query parameters, translated into SQL conditions over the index tables.

Parameter names and meanings follow EPCIS 2.0 (ISO/IEC 19987:2024) section 8.2.7.1 and the
REST binding's OpenAPI document: ``|`` separates alternatives in one value, and a parameter
given several times adds more alternatives. Identifiers and CBV values are compared in their
canonical forms, so an EPC URN finds an event captured with a GS1 Digital Link and vice versa.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select

from valuetrace.epcis._cbv import canonical_cbv
from valuetrace.epcis._identifiers import canonical_identifier
from valuetrace.epcis._tables import event_epcs, event_parties, event_transactions, events
from valuetrace.errors import InputError

__all__ = [
    "QueryPage",
    "QueryParameterError",
    "build_conditions",
    "class_of",
    "decode_page_token",
    "encode_page_token",
]

DL_ROOT = "https://id.gs1.org"
_GTIN_LEVEL = re.compile(r"^https://id\.gs1\.org/01/(\d{14})$")
_UNDER_GTIN = re.compile(r"^(https://id\.gs1\.org/01/\d{14})/.+$")
_EPC_PATTERN = re.compile(r"^urn:epc:idpat:([a-z]+):(.+)$")

# For each EPC scheme with patterns: its GS1 application identifier in Digital Link form, and
# whether a digit that the company prefix does not fix (GTIN indicator, SSCC extension, GRAI
# leading zero) comes before the company prefix.
_PATTERN_SCHEMES: dict[str, tuple[str, str]] = {
    "sgtin": ("01", "?"),
    "sscc": ("00", "?"),
    "sgln": ("414", ""),
    "grai": ("8003", "0"),
    "giai": ("8004", ""),
    "gdti": ("253", ""),
    "gsrn": ("8018", ""),
    "gsrnp": ("8017", ""),
    "sgcn": ("255", ""),
    "cpi": ("8010", ""),
    "pgln": ("417", ""),
    "ginc": ("401", ""),
    "gsin": ("402", ""),
    "itip": ("8006", "?"),
}

ACTIONS = ("ADD", "OBSERVE", "DELETE")

# Index roles searched by each MATCH_ parameter (EPCIS 2.0 section 8.2.7.1).
MATCH_ROLES: dict[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "parent", "child", "input", "output"),
    "MATCH_epcClass": ("epcClass", "childEPCClass"),
    "MATCH_inputEPCClass": ("inputEPCClass",),
    "MATCH_outputEPCClass": ("outputEPCClass",),
    "MATCH_anyEPCClass": ("epcClass", "childEPCClass", "inputEPCClass", "outputEPCClass"),
}

_EQ_COLUMNS = {
    "EQ_bizStep": ("bizStep", events.c.biz_step),
    "EQ_disposition": ("disposition", events.c.disposition),
}
_EQ_IDENTIFIER_COLUMNS = {
    "EQ_readPoint": events.c.read_point,
    "EQ_bizLocation": events.c.biz_location,
    "EQ_transformationID": events.c.transformation_id,
}
_TIME_BOUNDS = {
    "GE_eventTime": (events.c.event_time, True),
    "LT_eventTime": (events.c.event_time, False),
    "GE_recordTime": (events.c.record_time, True),
    "LT_recordTime": (events.c.record_time, False),
}
_PREFIXED = {
    "EQ_bizTransaction_": "bizTransaction",
    "EQ_source_": "source",
    "EQ_destination_": "destination",
}
SUPPORTED_PARAMETERS = (
    "eventType",
    *_TIME_BOUNDS,
    "EQ_action",
    *_EQ_COLUMNS,
    *_EQ_IDENTIFIER_COLUMNS,
    "EQ_eventID",
    *MATCH_ROLES,
    *(f"{prefix}<type>" for prefix in _PREFIXED),
)

# Page tokens carry a checksum so that an altered token is reported as invalid. The key is
# not secret: a forged token can only select a position in a query the caller may run anyway.
_TOKEN_KEY = b"valuetrace EPCIS page token v1"


class QueryParameterError(InputError):
    """A query parameter that is unknown or has a value that cannot be used."""

    def __init__(self, parameter: str, value: str, reason: str) -> None:
        self.parameter = parameter
        self.value = value
        super().__init__(f"invalid query parameter {parameter}={value!r}: {reason}")


@dataclass(frozen=True)
class QueryPage:
    """One page of query results, and the token of the next page (None on the last page)."""

    events: list[dict[str, Any]]
    next_page_token: str | None


def class_of(canonical: str) -> str | None:
    """Return the GTIN-level class of a canonical identifier below a GTIN (serial or lot)."""
    match = _UNDER_GTIN.match(canonical)
    return match.group(1) if match else None


@dataclass
class _Matcher:
    """Alternatives of one MATCH_ parameter: exact identifiers, classes and prefixes."""

    exact: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    def condition(self) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = []
        if self.exact:
            clauses.append(event_epcs.c.identifier.in_(sorted(self.exact)))
        if self.classes:
            clauses.append(event_epcs.c.class_identifier.in_(sorted(self.classes)))
        for prefix in sorted(self.prefixes):
            clauses.append(event_epcs.c.identifier.startswith(prefix, autoescape=True))
        return or_(*clauses) if clauses else false()


def _pattern_prefixes(parameter: str, value: str, scheme: str, fields: list[str]) -> set[str]:
    """Return the Digital Link prefixes of an EPC pattern whose wildcards start before the end.

    NOTE: a Digital Link does not mark where the company prefix ends, so a pattern for the
    company prefix 0614141 also matches keys of a longer company prefix such as 06141412.
    """
    if scheme not in _PATTERN_SCHEMES:
        raise QueryParameterError(
            parameter,
            value,
            f"patterns of the EPC scheme {scheme!r} are not supported; use one of "
            f"{', '.join(sorted(_PATTERN_SCHEMES))}, or the exact EPC",
        )
    ai, lead = _PATTERN_SCHEMES[scheme]
    first_wildcard = fields.index("*")
    if any(part != "*" for part in fields[first_wildcard:]):
        raise QueryParameterError(
            parameter, value, "a wildcard (*) must be followed by wildcards only"
        )
    if first_wildcard == 0:
        return {f"{DL_ROOT}/{ai}/"}
    if first_wildcard > 1:
        raise QueryParameterError(parameter, value, "the pattern names no valid EPC class")
    company_prefix = fields[0]
    if not company_prefix.isdigit():
        raise QueryParameterError(parameter, value, "the company prefix must be digits")
    if lead == "?":
        return {f"{DL_ROOT}/{ai}/{digit}{company_prefix}" for digit in "0123456789"}
    return {f"{DL_ROOT}/{ai}/{lead}{company_prefix}"}


def _epc_matcher(parameter: str, values: list[str]) -> _Matcher:
    matcher = _Matcher()
    for value in values:
        pattern = _EPC_PATTERN.match(value)
        if pattern and "*" in pattern.group(2):
            scheme, fields = pattern.group(1), pattern.group(2).split(".")
            class_level = canonical_identifier(value)
            if class_level.startswith(DL_ROOT):
                # A pattern with only its last field open names a class, such as a GTIN or a
                # GRAI asset type: it matches the class itself and every key below it.
                matcher.exact.add(class_level)
                if _GTIN_LEVEL.match(class_level):
                    matcher.classes.add(class_level)
                else:
                    matcher.prefixes.add(class_level)
            elif scheme == "sgln" and len(fields) == 3 and fields.index("*") == 2:
                # Any extension of one GLN, including the GLN without extension.
                sample = canonical_identifier(f"urn:epc:id:sgln:{fields[0]}.{fields[1]}.0")
                if not sample.startswith(DL_ROOT):
                    raise QueryParameterError(parameter, value, "the pattern names no valid GLN")
                matcher.exact.add(sample)
                matcher.prefixes.add(sample + "/254/")
            else:
                matcher.prefixes |= _pattern_prefixes(parameter, value, scheme, fields)
            continue
        canonical = canonical_identifier(value)
        matcher.exact.add(canonical)
        if _GTIN_LEVEL.match(canonical):
            # A GTIN-level Digital Link names the product class: it matches its serials and lots.
            matcher.classes.add(canonical)
    return matcher


def _split_values(parameter: str, raw_values: Sequence[str]) -> list[str]:
    if isinstance(raw_values, str):
        raw_values = [raw_values]
    values: list[str] = []
    for raw in raw_values:
        for value in str(raw).split("|"):
            if not value.strip():
                raise QueryParameterError(
                    parameter, str(raw), "empty value: give at least one value between the |"
                )
            values.append(value.strip())
    if not values:
        raise QueryParameterError(parameter, "", "the parameter has no value")
    return values


def _parse_time(parameter: str, values: list[str]) -> datetime:
    if len(values) != 1:
        raise QueryParameterError(parameter, "|".join(values), "give exactly one timestamp")
    text = values[0]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        hint = "not an ISO 8601 timestamp such as 2024-03-01T10:00:00Z"
        if " " in text:
            # A "+" of an offset that was not URL-encoded arrives as a space.
            hint += "; write a '+' of a time-zone offset as %2B in the URL"
        raise QueryParameterError(parameter, text, hint) from error
    if moment.tzinfo is None:
        raise QueryParameterError(
            parameter, text, "the timestamp has no time zone: add Z or an offset such as +01:00"
        )
    # SQLite stores timestamps without offset, and the repository writes them in UTC.
    return moment.astimezone(UTC)


def _canonical_cbv(parameter: str, vocabulary: str, value: str) -> str:
    try:
        return canonical_cbv(vocabulary, value)
    except ValueError as error:
        raise QueryParameterError(
            parameter, value, f"not a CBV {vocabulary} value nor a URI: {error}"
        ) from error


def _canonical_type(parameter: str, vocabulary: str, type_word: str, values: list[str]) -> str:
    """Return the type URI named in a parameter such as EQ_bizTransaction_po."""
    try:
        return canonical_cbv(vocabulary, type_word)
    except ValueError as error:
        raise QueryParameterError(
            parameter,
            "|".join(values),
            f"the type {type_word!r} in the parameter name is not a CBV {vocabulary} value "
            f"nor a URI: {error}",
        ) from error


def _canonical_identifier(parameter: str, value: str) -> str:
    try:
        return canonical_identifier(value)
    except (ValueError, InputError) as error:
        raise QueryParameterError(parameter, value, f"not a valid identifier: {error}") from error


def _typed_condition(parameter: str, kind: str, type_word: str, values: list[str]) -> Any:
    """Build the condition of EQ_bizTransaction_<type>, EQ_source_<type> or EQ_destination_."""
    if not type_word:
        raise QueryParameterError(
            parameter, "|".join(values), "the parameter name lacks the type after the last _"
        )
    if kind == "bizTransaction":
        type_uri = _canonical_type(parameter, "bizTransactionType", type_word, values)
        ids = [_canonical_identifier(parameter, value) for value in values]
        return exists(
            select(event_transactions.c.id).where(
                event_transactions.c.event_pk == events.c.id,
                event_transactions.c.transaction_type == type_uri,
                event_transactions.c.transaction_id.in_(ids),
            )
        )
    type_uri = _canonical_type(parameter, "sourceDestType", type_word, values)
    ids = [_canonical_identifier(parameter, value) for value in values]
    return exists(
        select(event_parties.c.id).where(
            event_parties.c.event_pk == events.c.id,
            event_parties.c.side == kind,
            event_parties.c.party_type == type_uri,
            event_parties.c.party_id.in_(ids),
        )
    )


def _condition(parameter: str, values: list[str]) -> Any:
    if parameter == "eventType":
        return events.c.event_type.in_(values)
    if parameter in _TIME_BOUNDS:
        column, lower = _TIME_BOUNDS[parameter]
        moment = _parse_time(parameter, values)
        return column >= moment if lower else column < moment
    if parameter == "EQ_action":
        for value in values:
            if value not in ACTIONS:
                raise QueryParameterError(parameter, value, f"use one of {', '.join(ACTIONS)}")
        return events.c.action.in_(values)
    if parameter in _EQ_COLUMNS:
        vocabulary, column = _EQ_COLUMNS[parameter]
        return column.in_([_canonical_cbv(parameter, vocabulary, value) for value in values])
    if parameter in _EQ_IDENTIFIER_COLUMNS:
        column = _EQ_IDENTIFIER_COLUMNS[parameter]
        return column.in_([_canonical_identifier(parameter, value) for value in values])
    if parameter == "EQ_eventID":
        return events.c.event_id.in_(values)
    if parameter in MATCH_ROLES:
        matcher = _epc_matcher(parameter, values)
        return events.c.id.in_(
            select(event_epcs.c.event_pk).where(
                event_epcs.c.role.in_(MATCH_ROLES[parameter]), matcher.condition()
            )
        )
    for prefix, kind in _PREFIXED.items():
        if parameter.startswith(prefix):
            return _typed_condition(parameter, kind, parameter[len(prefix) :], values)
    raise QueryParameterError(
        parameter,
        "|".join(values),
        f"unknown query parameter; supported are {', '.join(SUPPORTED_PARAMETERS)}",
    )


def build_conditions(parameters: Mapping[str, Sequence[str]]) -> list[Any]:
    """Translate query parameters into SQL conditions on ``epcis_events``, all to be met.

    Raises QueryParameterError naming the first unknown parameter or unusable value.
    """
    conditions: list[Any] = []
    for parameter, raw_values in parameters.items():
        values = _split_values(parameter, raw_values)
        conditions.append(_condition(parameter, values))
    return conditions


def _parameters_digest(parameters: Mapping[str, Sequence[str]], per_page: int) -> str:
    normalised = {
        name: [raw_values] if isinstance(raw_values, str) else list(raw_values)
        for name, raw_values in sorted(parameters.items())
    }
    text = json.dumps([normalised, per_page], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _mac(payload: bytes) -> str:
    return hmac.new(_TOKEN_KEY, payload, hashlib.sha256).hexdigest()[:16]


def encode_page_token(after_id: int, parameters: Mapping[str, Sequence[str]], per_page: int) -> str:
    """Return an opaque token for the page after the event with repository key ``after_id``."""
    payload = json.dumps(
        {"after": after_id, "query": _parameters_digest(parameters, per_page)},
        separators=(",", ":"),
    ).encode("utf-8")
    token = payload + b"." + _mac(payload).encode("ascii")
    return base64.urlsafe_b64encode(token).decode("ascii").rstrip("=")


def decode_page_token(token: str, parameters: Mapping[str, Sequence[str]], per_page: int) -> int:
    """Return the position stored in a page token of the same query.

    Raises QueryParameterError when the token was altered or belongs to another query.
    """
    invalid = QueryParameterError(
        "nextPageToken",
        token,
        "the token is invalid or was altered: repeat the query without it to start again",
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, _, mac = raw.rpartition(b".")
        if not payload or not hmac.compare_digest(mac, _mac(payload).encode("ascii")):
            raise invalid
        content = json.loads(payload)
        after = content["after"]
        digest = content["query"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise invalid from error
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise invalid
    if digest != _parameters_digest(parameters, per_page):
        raise QueryParameterError(
            "nextPageToken",
            token,
            "the token belongs to a query with other parameters or page size: "
            "send the same parameters as the first page",
        )
    return after
