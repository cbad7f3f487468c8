"""The CBV 2.0 EPCIS event hash (``ni:///sha-256;…?ver=CBV2.0``).

The pre-hash string lists an event's fields in the canonical property order of the CBV 2.0
event hash algorithm as ``key=value`` pieces without separators. Values are canonical: UTC
timestamps with milliseconds, numbers without trailing zeros, CBV web URIs, canonical GS1
Digital Links and expanded CURIEs. List members and user extensions are sorted by code point.
The output matches the published vectors of the reference generator
(RalphTro/epcis-event-hash-generator). Section "Event hash" of docs/epcis.md lists where that
generator and this code differ from the algorithm's prose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from valuetrace.epcis._cbv import bundled_json, cbv_terms
from valuetrace.epcis._identifiers import canonical_identifier

__all__ = ["HASH_VERSION", "context_prefixes", "event_hash", "event_prehash"]

HASH_VERSION = "CBV2.0"

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"([Zz]|[+-]\d{2}:\d{2})?"
)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Exponents beyond this stay as written: a plain rendering of 1e999999 would be a megabyte.
_MAX_PLAIN_EXPONENT = 100

_LEGACY_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)
# The characters a decimal number can start with, to skip the regular expression for others.
_NUMBER_START = frozenset("+-.0123456789")
_RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"

# Event fields that never enter the hash.
_EXCLUDED_EVENT_FIELDS = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})
_EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
_SENSOR_METADATA_ORDER = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
# NOTE: the CBV order of sensorReport has no place for bizRules, which the 2.0.1 JSON schema
# allows; it goes after the listed fields here.
_SENSOR_REPORT_ORDER = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
    "bizRules",
)
_TIMESTAMP_FIELDS = frozenset({"eventTime", "time", "startTime", "endTime"})
_SENSOR_REPORT_VOCABULARIES = {
    "type": "sensorMeasurementType",
    "exception": "sensorAlertType",
    "component": "component",
}

Prefixes = Mapping[str, str]


def _standard_prefixes() -> dict[str, str]:
    """Return the namespace prefixes that the EPCIS 2.0 context itself defines."""
    context = bundled_json("epcis-context.jsonld")["@context"]
    return {
        name: value
        for name, value in context.items()
        if isinstance(value, str) and not name.startswith("@") and "://" in value
    } | {"cbvmda": context["cbvmda"]}


_STANDARD_PREFIXES = _standard_prefixes()


def _add_context_prefixes(prefixes: dict[str, str], context: Any) -> None:
    contexts = context if isinstance(context, list) else [context]
    for entry in contexts:
        if not isinstance(entry, Mapping):
            # A context URL: only the EPCIS context is known, and its prefixes are built in.
            continue
        for name, value in entry.items():
            if name.startswith("@"):
                continue
            if isinstance(value, Mapping):
                value = value.get("@id")
            if isinstance(value, str) and not value.startswith("@"):
                prefixes[name] = value


def context_prefixes(context: Any, event: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Collect the namespace prefixes an event can use: standard, document and event ones."""
    prefixes = dict(_STANDARD_PREFIXES)
    _add_context_prefixes(prefixes, context)
    if event is not None and "@context" in event:
        _add_context_prefixes(prefixes, event["@context"])
    return prefixes


def _expand_key(key: str, prefixes: Prefixes) -> str:
    """Write an extension key as ``{namespace}localName``."""
    prefix, separator, local = key.partition(":")
    if not separator:
        return key
    namespace = prefixes.get(prefix)
    if namespace is not None and not local.startswith("//"):
        return "{" + namespace + "}" + local
    if local.startswith("//"):
        cut = max(key.rfind("#"), key.rfind("/")) + 1
        return "{" + key[:cut] + "}" + key[cut:]
    return key


def _expand_curie(value: str, prefixes: Prefixes) -> str:
    prefix, separator, rest = value.partition(":")
    if separator and not rest.startswith("//"):
        namespace = prefixes.get(prefix)
        if namespace is not None:
            return namespace + rest
    return value


def _format_decimal(number: Decimal) -> str | None:
    if not number.is_finite():
        return None
    number = number.normalize()
    if abs(number.adjusted()) > _MAX_PLAIN_EXPONENT:
        return None
    if number.is_zero():
        return "0"
    return format(number, "f")


def _format_number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    formatted = _format_decimal(Decimal(repr(value)))
    return repr(value) if formatted is None else formatted


def canonical_timestamp(text: str) -> str:
    """Write an ISO 8601 date-time in UTC with milliseconds, rounding half up.

    A value that is no date-time comes back stripped but otherwise unchanged.
    """
    text = text.strip()
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return text
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    digits = (fraction or "").ljust(4, "0")
    milliseconds = int(digits[:3]) + (1 if digits[3] >= "5" else 0)
    if zone is None or zone in "Zz":
        # NOTE: a timestamp without a zone is taken as UTC; EPCIS requires one.
        offset = dt.timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
        )
    except ValueError:
        return text
    moment = moment - offset + dt.timedelta(milliseconds=milliseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _canonical_value(value: Any, prefixes: Prefixes) -> str | None:
    """Return the pre-hash form of a scalar value, or None for a JSON null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _format_number(value)
    text = _expand_curie(str(value).strip(), prefixes)
    if text.startswith("urn:epcglobal:cbv:"):
        for urn, web in _LEGACY_CBV_URNS:
            if text.startswith(urn):
                return web + text[len(urn) :]
    if text[:1] in _NUMBER_START and _DECIMAL.fullmatch(text):
        try:
            formatted = _format_decimal(Decimal(text))
        except InvalidOperation:
            formatted = None
        return text if formatted is None else formatted
    return canonical_identifier(text)


def _vocabulary_value(vocabulary: str, value: Any, prefixes: Prefixes) -> str | None:
    if isinstance(value, str):
        term = cbv_terms(vocabulary).get(value.strip())
        if term is not None:
            return term
    return _canonical_value(value, prefixes)


def _pair(name: str, value: str | None) -> str:
    return f"{name}={value}" if value else ""


def _is_comment(key: str, prefixes: Prefixes) -> bool:
    return key == "comment" or _expand_curie(key, prefixes) == _RDFS_COMMENT


def _extension_strings(key: str, value: Any, prefixes: Prefixes) -> list[str]:
    """Return the pre-hash pieces of a user extension (one per value of a list)."""
    if key.startswith("@") or _is_comment(key, prefixes):
        return []
    name = _expand_key(key, prefixes)
    if isinstance(value, list):
        return [piece for item in value for piece in _extension_strings(key, item, prefixes)]
    if isinstance(value, Mapping):
        return [name + _sorted_extensions(value, (), prefixes)]
    canonical = _canonical_value(value, prefixes)
    if canonical is None:
        return []
    return [f"{name}={canonical}" if canonical else name]


def _sorted_extensions(
    obj: Mapping[str, Any], standard: Collection[str], prefixes: Prefixes
) -> str:
    """Join the sorted pieces of every member of ``obj`` that is not a standard field."""
    pieces: list[str] = []
    for key, value in obj.items():
        if key not in standard:
            pieces.extend(_extension_strings(key, value, prefixes))
    pieces.sort()
    return "".join(pieces)


def _ordered_fields(
    obj: Mapping[str, Any],
    order: Collection[str],
    prefixes: Prefixes,
    value_of: Callable[[str, Any], str | None],
) -> str:
    """Join ``name=value`` for the fields in ``order``, then the sorted extensions."""
    text = ""
    for name in order:
        if name not in obj:
            continue
        values = obj[name]
        pieces = sorted(
            _pair(name, value_of(name, value))
            for value in (values if isinstance(values, list) else [values])
        )
        text += "".join(pieces)
    return text + _sorted_extensions(obj, order, prefixes)


def _element_list(name: str, elements: Any, serialise: Callable[[Any], str]) -> str:
    """Write a list field as its name followed by its sorted, non-empty members."""
    items = elements if isinstance(elements, list) else [elements]
    pieces = sorted(piece for piece in map(serialise, items) if piece)
    return name + "".join(pieces) if pieces else ""


class _PrehashBuilder:
    """Build the pre-hash string of one event with the prefixes of its context."""

    def __init__(self, prefixes: Prefixes) -> None:
        self.prefixes = prefixes

    def value(self, name: str, value: Any) -> str | None:
        if name in _TIMESTAMP_FIELDS and isinstance(value, str):
            return canonical_timestamp(value)
        return _canonical_value(value, self.prefixes)

    def wrapped(self, name: str, obj: Any, order: Collection[str], value_of: Any = None) -> str:
        if not isinstance(obj, Mapping):
            return "".join(_extension_strings(name, obj, self.prefixes))
        inner = _ordered_fields(obj, order, self.prefixes, value_of or self.value)
        return name + inner if inner else ""

    def epc(self, value: Any) -> str:
        return _pair("epc", _canonical_value(value, self.prefixes))

    def quantity_element(self, element: Any) -> str:
        return self.wrapped("quantityElement", element, ("epcClass", "quantity", "uom"))

    def sensor_report_value(self, name: str, value: Any) -> str | None:
        vocabulary = _SENSOR_REPORT_VOCABULARIES.get(name)
        if vocabulary is not None:
            return _vocabulary_value(vocabulary, value, self.prefixes)
        return self.value(name, value)

    def sensor_element(self, element: Any) -> str:
        if not isinstance(element, Mapping):
            return "".join(_extension_strings("sensorElement", element, self.prefixes))
        text = ""
        if "sensorMetadata" in element:
            metadata = element["sensorMetadata"]
            text += self.wrapped("sensorMetadata", metadata, _SENSOR_METADATA_ORDER)
        if "sensorReport" in element:
            reports = element["sensorReport"]
            text += "".join(
                sorted(
                    self.wrapped(
                        "sensorReport", report, _SENSOR_REPORT_ORDER, self.sensor_report_value
                    )
                    for report in (reports if isinstance(reports, list) else [reports])
                )
            )
        text += _sorted_extensions(element, ("sensorMetadata", "sensorReport"), self.prefixes)
        return "sensorElement" + text if text else ""

    def typed_entry(self, id_field: str, vocabulary: str) -> Callable[[Any], str]:
        """Serialise a bizTransaction, source or destination: its type, then its value."""

        def serialise(entry: Any) -> str:
            if not isinstance(entry, Mapping):
                return "".join(_extension_strings(id_field, entry, self.prefixes))
            text = ""
            if "type" in entry:
                text += _pair("type", _vocabulary_value(vocabulary, entry["type"], self.prefixes))
            if id_field in entry:
                text += _pair(id_field, _canonical_value(entry[id_field], self.prefixes))
            return text + _sorted_extensions(entry, ("type", id_field), self.prefixes)

        return serialise

    def ordered(self, event: Mapping[str, Any]) -> list[str]:
        """Return the pieces of the fields with a fixed place in the canonical order."""
        prefixes = self.prefixes
        pieces = [
            _pair("eventTime", self.value("eventTime", event.get("eventTime"))),
            _pair(
                "eventTimeZoneOffset", _canonical_value(event.get("eventTimeZoneOffset"), prefixes)
            ),
        ]
        if "certificationInfo" in event:
            pieces.append(
                _element_list(
                    "",
                    event["certificationInfo"],
                    lambda value: _pair("certificationInfo", _canonical_value(value, prefixes)),
                )
            )
        pieces.append(_pair("parentID", _canonical_value(event.get("parentID"), prefixes)))

        for name in ("epcList", "inputEPCList", "childEPCs"):
            if name in event:
                pieces.append(_element_list(name, event[name], self.epc))
        for name in ("quantityList", "childQuantityList", "inputQuantityList"):
            if name in event:
                pieces.append(_element_list(name, event[name], self.quantity_element))
        if "outputEPCList" in event:
            pieces.append(_element_list("outputEPCList", event["outputEPCList"], self.epc))
        if "outputQuantityList" in event:
            pieces.append(
                _element_list(
                    "outputQuantityList", event["outputQuantityList"], self.quantity_element
                )
            )

        pieces.append(_pair("action", _canonical_value(event.get("action"), prefixes)))
        pieces.append(
            _pair("transformationID", _canonical_value(event.get("transformationID"), prefixes))
        )
        for name in ("bizStep", "disposition"):
            pieces.append(_pair(name, _vocabulary_value(name, event.get(name), prefixes)))
        if "persistentDisposition" in event:
            pieces.append(
                self.wrapped(
                    "persistentDisposition",
                    event["persistentDisposition"],
                    ("set", "unset"),
                    lambda _name, value: _vocabulary_value("disposition", value, prefixes),
                )
            )

        for name in ("readPoint", "bizLocation"):
            if name in event:
                pieces.append(self.wrapped(name, event[name], ("id",)))
        if "sensorElementList" in event:
            pieces.append(
                _element_list("sensorElementList", event["sensorElementList"], self.sensor_element)
            )
        return pieces

    def sorted_rest(self, event: Mapping[str, Any], handled: Collection[str]) -> list[str]:
        """Return the pieces that the reference generator sorts together at the end.

        These are bizTransactionList, sourceList, destinationList, ilmd and every user
        extension, sorted as whole strings.
        """
        prefixes = self.prefixes
        pieces: list[str] = []
        for key, value in event.items():
            if key in handled:
                continue
            if key == "bizTransactionList":
                entry = self.typed_entry("bizTransaction", "bizTransactionType")
                pieces.append(_element_list(key, value, entry))
            elif key in ("sourceList", "destinationList"):
                entry = self.typed_entry(key[:-4], "sourceDestType")
                pieces.append(_element_list(key, value, entry))
            elif key == "ilmd" and isinstance(value, Mapping):
                pieces.append("ilmd" + _sorted_extensions(value, (), prefixes))
            else:
                pieces.extend(_extension_strings(key, value, prefixes))
        pieces.sort()
        return pieces


_ORDERED_EVENT_FIELDS = frozenset(
    {
        "eventTime",
        "eventTimeZoneOffset",
        "certificationInfo",
        "parentID",
        *_EPC_LISTS,
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
        "action",
        "transformationID",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "sensorElementList",
    }
)


def event_prehash(
    event: Mapping[str, Any], *, context: Any = None, ignore_fields: Collection[str] = ()
) -> str:
    """Build the CBV 2.0 pre-hash string of an EPCIS 2.0 JSON event.

    ``context`` is the ``@context`` the event inherits from its document (see
    :func:`document_context`); it supplies the namespace prefixes of user extensions.
    ``recordTime``, ``eventID``, ``errorDeclaration`` and comments never enter the string;
    top-level fields named in ``ignore_fields`` (compact or ``{namespace}local`` form) are
    left out too.
    """
    prefixes = context_prefixes(context, event)
    builder = _PrehashBuilder(prefixes)
    ignored = {_expand_key(name, prefixes) for name in ignore_fields} | set(ignore_fields)
    handled = set(_ORDERED_EVENT_FIELDS | _EXCLUDED_EVENT_FIELDS)
    handled.update(key for key in event if key in ignored or _expand_key(key, prefixes) in ignored)

    pieces = [_pair("eventType", _canonical_value(event.get("type"), prefixes))]
    pieces.extend(builder.ordered(event))
    pieces.extend(builder.sorted_rest(event, handled))
    return "".join(pieces)


def event_hash(
    event: Mapping[str, Any], *, context: Any = None, ignore_fields: Collection[str] = ()
) -> str:
    """Compute the CBV 2.0 event hash ``ni:///sha-256;<hex>?ver=CBV2.0`` of an event.

    Two serialisations of one event (EPC URN or Digital Link, bare CBV word or URI, any
    member order, any time zone) give the same hash. See :func:`event_prehash` for the
    parameters.
    """
    prehash = event_prehash(event, context=context, ignore_fields=ignore_fields)
    digest = hashlib.sha256(prehash.encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={HASH_VERSION}"
