"""Conversion between EPCIS 2.0 JSON events and UNTP 0.6.1 Digital Traceability Events.

A UNTP 0.6.1 DTE event carries a subset of an EPCIS 2.0 event. It keeps the type, time, action,
business step, disposition and business location, the identifiers and quantities of the objects
and a few sensor readings. Transaction events also keep their owning parties and the type of
their business transaction. :func:`event_to_dte` reports every EPCIS field it could not carry
as a JSON path, and ``docs/epcis.md`` (section "DTE bridge") describes the mapping field by
field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

from valuetrace.epcis._cbv import canonical_cbv
from valuetrace.epcis._hash import event_hash
from valuetrace.epcis._identifiers import canonical_identifier
from valuetrace.errors import InputError
from valuetrace.findings import json_path
from valuetrace.untp import DTE_EVENT_TYPES, validate_credential

__all__ = ["CredentialIssuerParty", "dte_to_events", "event_to_dte", "issue_dte"]

LOGGER = logging.getLogger(__name__)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
DTE_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dte/0.6.1/"
CBV = "https://ref.gs1.org/cbv/"
OWNING_PARTY = CBV + "SDT-owning_party"

# The GS1 Web Vocabulary namespaces. EPCIS 2.0 JSON writes GS1 sensor measurement types as bare
# words ("Temperature") and its schema rejects them as full URIs in these namespaces.
_GS1_VOCABULARY_PREFIXES = (
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://www.gs1.org/voc/",
)

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")

_COMMON_FIELDS = frozenset(
    {
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "bizStep",
        "disposition",
        "bizLocation",
        "sensorElementList",
    }
)
CARRIED_FIELDS: dict[str, frozenset[str]] = {
    "ObjectEvent": _COMMON_FIELDS | {"action", "epcList", "quantityList"},
    "AggregationEvent": _COMMON_FIELDS | {"action", "parentID", "childEPCs", "childQuantityList"},
    "AssociationEvent": _COMMON_FIELDS | {"action", "parentID", "childEPCs", "childQuantityList"},
    "TransactionEvent": _COMMON_FIELDS
    | {
        "action",
        "epcList",
        "quantityList",
        "bizTransactionList",
        "sourceList",
        "destinationList",
    },
    "TransformationEvent": _COMMON_FIELDS
    | {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList"},
}
"""EPCIS fields, besides ``type``, that each event type keeps in a DTE, at least in part."""

# EPCIS identifier list -> DTE Item list, and EPCIS quantity list -> DTE QuantityElement list.
_ITEM_LISTS = {
    "epcList": "epcList",
    "inputEPCList": "inputEPCList",
    "outputEPCList": "outputEPCList",
    "childEPCs": "childEPCList",
}
_QUANTITY_LISTS = ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList")


class CredentialIssuerParty(Protocol):
    """An organisation that issues credentials: its DID and its name."""

    @property
    def did(self) -> str: ...

    @property
    def name(self) -> str: ...


# EPCIS 2.0 -> DTE


class _ToDTE:
    """One EPCIS event's conversion, collecting the JSON paths of what it drops."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names
        self.dropped: list[str] = []

    def drop(self, *parts: str | int) -> None:
        self.dropped.append(json_path(parts))

    def identifier(self, value: str) -> str:
        """Write an EPC URN as its GS1 Digital Link, so that it resolves. Keep other URIs."""
        if value.startswith("urn:epc:"):
            return canonical_identifier(value)
        return value

    def name(self, original: str, identifier: str) -> str:
        return self.names.get(original) or self.names.get(identifier) or identifier

    def item(self, value: str) -> dict[str, Any]:
        identifier = self.identifier(value)
        return {"type": ["Item"], "id": identifier, "name": self.name(value, identifier)}

    def items(self, key: str, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            self.drop(key)
            return []
        items = []
        for index, entry in enumerate(value):
            if isinstance(entry, str):
                items.append(self.item(entry))
            else:
                self.drop(key, index)
        return items

    def quantities(self, key: str, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            self.drop(key)
            return []
        elements = []
        for index, entry in enumerate(value):
            # A DTE QuantityElement requires a quantity, and EPCIS leaves it out when unknown.
            if (
                not isinstance(entry, Mapping)
                or not isinstance(entry.get("epcClass"), str)
                or not isinstance(entry.get("quantity"), int | float)
            ):
                self.drop(key, index)
                continue
            identifier = self.identifier(entry["epcClass"])
            element: dict[str, Any] = {
                "productId": identifier,
                "productName": self.name(entry["epcClass"], identifier),
                "quantity": entry["quantity"],
            }
            if isinstance(entry.get("uom"), str):
                element["uom"] = entry["uom"]
            for extra in entry:
                if extra not in ("epcClass", "quantity", "uom"):
                    self.drop(key, index, extra)
            elements.append(element)
        return elements

    def location(self, key: str, value: Any) -> str | None:
        if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
            self.drop(key)
            return None
        for extra in value:
            if extra != "id":
                self.drop(key, extra)
        return self.identifier(value["id"])

    def owning_party(self, key: str, value: Any, role: str) -> str | None:
        """Keep the first owning party of a source or destination list and drop the rest."""
        if not isinstance(value, list):
            self.drop(key)
            return None
        party: str | None = None
        for index, entry in enumerate(value):
            if (
                party is None
                and isinstance(entry, Mapping)
                and isinstance(entry.get("type"), str)
                and isinstance(entry.get(role), str)
                and set(entry) == {"type", role}
                and canonical_cbv("sourceDestType", entry["type"]) == OWNING_PARTY
            ):
                party = self.identifier(entry[role])
            else:
                self.drop(key, index)
        return party

    def transaction_type(self, value: Any) -> str | None:
        """Keep the type of the first typed business transaction and drop its identifier."""
        key = "bizTransactionList"
        if not isinstance(value, list):
            self.drop(key)
            return None
        kept: str | None = None
        for index, entry in enumerate(value):
            if kept is None and isinstance(entry, Mapping) and isinstance(entry.get("type"), str):
                kept = canonical_cbv("bizTransactionType", entry["type"])
                for extra in entry:
                    if extra != "type":
                        self.drop(key, index, extra)
            else:
                self.drop(key, index)
        return kept

    def sensor_elements(self, value: Any) -> list[dict[str, Any]]:
        key = "sensorElementList"
        if not isinstance(value, list):
            self.drop(key)
            return []
        elements = []
        for index, entry in enumerate(value):
            if not isinstance(entry, Mapping):
                self.drop(key, index)
                continue
            element: dict[str, Any] = {}
            for field, content in entry.items():
                if field == "sensorMetadata":
                    metadata = self.sensor_metadata(content, index)
                    if metadata:
                        element["sensorMetadata"] = metadata
                elif field == "sensorReport":
                    element["sensorReport"] = self.sensor_reports(content, index)
                else:
                    self.drop(key, index, field)
            if element:
                elements.append(element)
        return elements

    def sensor_metadata(self, value: Any, element: int) -> dict[str, Any]:
        path: tuple[str | int, ...] = ("sensorElementList", element, "sensorMetadata")
        if not isinstance(value, Mapping):
            self.drop(*path)
            return {}
        metadata: dict[str, Any] = {}
        for field, content in value.items():
            if field == "deviceID" and isinstance(content, str):
                metadata["device"] = self.item(content)
            elif field == "dataProcessingMethod" and isinstance(content, str):
                metadata["dataProcessingMethod"] = content
            else:
                self.drop(*path, field)
        return metadata

    def sensor_reports(self, value: Any, element: int) -> list[dict[str, Any]]:
        path: tuple[str | int, ...] = ("sensorElementList", element, "sensorReport")
        if not isinstance(value, list):
            self.drop(*path)
            return []
        reports = []
        for index, entry in enumerate(value):
            if not isinstance(entry, Mapping):
                self.drop(*path, index)
                continue
            report: dict[str, Any] = {}
            for field, content in entry.items():
                if field == "type" and isinstance(content, str):
                    report["sensorType"] = canonical_cbv("sensorMeasurementType", content)
                elif field in ("time", "uom") and isinstance(content, str):
                    report[field] = content
                elif field == "value" and isinstance(content, int | float):
                    report["value"] = content
                else:
                    self.drop(*path, index, field)
            reports.append(report)
        return reports


def event_to_dte(
    event: Mapping[str, Any],
    *,
    context: Any = None,
    names: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Convert an EPCIS 2.0 JSON event to a UNTP 0.6.1 DTE event (a ``credentialSubject`` item).

    Returns the DTE event and the JSON paths (``$.readPoint``, ``$.sourceList[1]``, ...) of the
    EPCIS fields it could not carry. The DTE event's ``id`` is the ``eventID``, or the CBV 2.0
    event hash when the event has none. ``context`` is the ``@context`` the event inherits from
    its document, used for that hash. ``names`` maps identifiers to the product or device names
    that DTE items require, and an identifier without a name is named by itself. Raises
    ValueError for an event type that UNTP does not define and for a bare word that is no CBV
    term.
    """
    event_type = event.get("type")
    if event_type not in DTE_EVENT_TYPES:
        raise ValueError(
            f"cannot convert an EPCIS event of type {event_type!r} to a DTE event: UNTP 0.6.1 "
            f"defines only {', '.join(DTE_EVENT_TYPES)}"
        )
    carried = CARRIED_FIELDS[event_type]
    conversion = _ToDTE(names or {})

    event_id = event.get("eventID")
    dte: dict[str, Any] = {
        "type": [event_type, "Event"],
        "id": event_id if isinstance(event_id, str) else event_hash(event, context=context),
    }
    for field, value in event.items():
        if field == "type":
            continue
        if field not in carried:
            conversion.drop(field)
            continue
        _convert_field(conversion, dte, event, field, value)
    return dte, conversion.dropped


def _convert_field(
    conversion: _ToDTE, dte: dict[str, Any], event: Mapping[str, Any], field: str, value: Any
) -> None:
    if field == "eventID":
        return  # set above as the DTE id
    if field == "eventTime":
        if isinstance(value, str):
            dte["eventTime"] = _dte_event_time(value, event.get("eventTimeZoneOffset"))
        else:
            conversion.drop(field)
    elif field == "eventTimeZoneOffset":
        # DTE eventTime is written in the event's own offset, which dte_to_events reads back.
        event_time = event.get("eventTime")
        restored = (
            _offset_of(_dte_event_time(event_time, value)) if isinstance(event_time, str) else None
        )
        if restored != value:
            conversion.drop(field)
    elif field == "action":
        if isinstance(value, str):
            dte["action"] = value.lower()
        else:
            conversion.drop(field)
    elif field in ("bizStep", "disposition"):
        if isinstance(value, str):
            dte[field] = canonical_cbv(field, value)
        else:
            conversion.drop(field)
    elif field == "bizLocation":
        location = conversion.location(field, value)
        if location is not None:
            dte["bizLocation"] = location
    elif field == "parentID":
        if isinstance(value, str):
            dte["parentEPC"] = conversion.item(value)
        else:
            conversion.drop(field)
    elif field in _ITEM_LISTS:
        dte[_ITEM_LISTS[field]] = conversion.items(field, value)
    elif field in _QUANTITY_LISTS:
        dte[field] = conversion.quantities(field, value)
    elif field == "sensorElementList":
        dte[field] = conversion.sensor_elements(value)
    elif field == "bizTransactionList":
        transaction_type = conversion.transaction_type(value)
        if transaction_type is not None:
            dte["bizTransaction"] = transaction_type
    elif field == "sourceList":
        party = conversion.owning_party(field, value, "source")
        if party is not None:
            dte["sourceParty"] = party
    elif field == "destinationList":
        party = conversion.owning_party(field, value, "destination")
        if party is not None:
            dte["destinationParty"] = party


# Times


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _parse_offset(value: Any) -> timedelta | None:
    match = _OFFSET.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def _format_offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _offset_of(event_time: str) -> str:
    """Return the EPCIS ``eventTimeZoneOffset`` read from a DTE ``eventTime``: "+00:00" if none."""
    moment = _parse_time(event_time)
    offset = moment.utcoffset() if moment is not None else None
    return _format_offset(offset) if offset is not None else "+00:00"


def _dte_event_time(event_time: str, time_zone_offset: Any) -> str:
    """Write an EPCIS ``eventTime`` in the offset of ``eventTimeZoneOffset``, the same instant."""
    moment = _parse_time(event_time)
    offset = _parse_offset(time_zone_offset)
    if moment is None or moment.tzinfo is None or offset is None or moment.utcoffset() == offset:
        return event_time
    local = moment.astimezone(timezone(offset))
    if local.microsecond == 0:
        return local.isoformat(timespec="seconds")
    if local.microsecond % 1000 == 0:
        return local.isoformat(timespec="milliseconds")
    return local.isoformat(timespec="microseconds")


# DTE -> EPCIS 2.0


_EVENT_HASH_PREFIX = "ni:///sha-256;"


def dte_to_events(credential: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Convert the events of a plain DTE credential to EPCIS 2.0 JSON events.

    CBV values come back as ``https://ref.gs1.org/cbv/`` URIs and ``eventTimeZoneOffset`` is
    the offset written in ``eventTime`` ("+00:00" when it has none). An identifier listed twice
    in an EPC list is listed once. ``eventID`` is the DTE event's id when that is a CBV 2.0 event
    hash, and otherwise the hash of the EPCIS event. DTE
    fields that EPCIS has no place for (``processType``, item names, ``sensorIntegrityProof``,
    ``bizTransaction``) are left out. Raises InputError when the credential is no DTE, or when
    an event has no known event type or no ``eventTime``.
    """
    types = credential.get("type")
    if not isinstance(types, list) or "DigitalTraceabilityEvent" not in types:
        raise InputError(
            f"the credential {credential.get('id', '(without id)')} is not a "
            f"DigitalTraceabilityEvent: its type is {types!r}. Pass a plain DTE credential."
        )
    subjects = credential.get("credentialSubject")
    if isinstance(subjects, Mapping):
        subjects = [subjects]
    if not isinstance(subjects, list):
        raise InputError(
            f"the credential {credential.get('id', '(without id)')} has no events: its "
            "credentialSubject is missing or not a list. Pass a DTE credential with its events."
        )
    events = []
    for index, subject in enumerate(subjects):
        path = json_path(["credentialSubject", index])
        if not isinstance(subject, Mapping):
            raise InputError(f"{path} is not a JSON object. Each DTE event must be an object.")
        event = _epcis_event(subject, path)
        events.append({**event, "eventID": _bridged_event_id(subject, event)})
    return events


def _bridged_event_id(subject: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    """Return the eventID of a bridged event: the DTE's own id when it is an event hash.

    An issuer that bridges from EPCIS writes the eventID, the hash of the complete EPCIS event,
    as the DTE event's id. That hash stays the event's identity even when the DTE could not
    carry every field (a transaction event loses its business transaction identifier), so it
    is kept. Other ids (a UUID URL, say) are replaced by the hash of the bridged EPCIS form, as
    capture does for an event without eventID.
    """
    subject_id = subject.get("id")
    if isinstance(subject_id, str) and subject_id.startswith(_EVENT_HASH_PREFIX):
        return subject_id
    return event_hash(event)


def _epcis_event(subject: Mapping[str, Any], path: str) -> dict[str, Any]:
    subject_types = subject.get("type")
    event_type = next(
        (kind for kind in _as_list(subject_types) if kind in DTE_EVENT_TYPES),
        None,
    )
    if event_type is None:
        raise InputError(
            f"{path} has no known event type in {subject_types!r}. Use one of "
            f"{', '.join(DTE_EVENT_TYPES)}."
        )
    event_time = subject.get("eventTime")
    if not isinstance(event_time, str) or _parse_time(event_time) is None:
        raise InputError(
            f"{path}.eventTime is missing or invalid: {event_time!r}. EPCIS events require an "
            "ISO 8601 date and time."
        )

    event: dict[str, Any] = {
        "type": event_type,
        "eventTime": event_time,
        "eventTimeZoneOffset": _offset_of(event_time),
    }
    action = subject.get("action")
    if isinstance(action, str) and event_type != "TransformationEvent":
        event["action"] = action.upper()
    for field in ("bizStep", "disposition"):
        if isinstance(subject.get(field), str):
            event[field] = _cbv_value(field, subject[field], f"{path}.{field}")
    if isinstance(subject.get("bizLocation"), str):
        event["bizLocation"] = {"id": subject["bizLocation"]}

    parent = _item_id(subject.get("parentEPC"))
    if parent is not None and event_type in ("AggregationEvent", "AssociationEvent"):
        event["parentID"] = parent
    for epcis_field, dte_field in _ITEM_LISTS.items():
        if epcis_field in CARRIED_FIELDS[event_type] and dte_field in subject:
            # An EPC list is a set in EPCIS, which rejects a repeated identifier.
            identifiers = map(_item_id, _as_list(subject[dte_field]))
            event[epcis_field] = list(dict.fromkeys(i for i in identifiers if i is not None))
    for field in _QUANTITY_LISTS:
        if field in CARRIED_FIELDS[event_type] and field in subject:
            event[field] = _epcis_quantities(subject[field])

    if event_type == "TransactionEvent":
        # NOTE: a DTE names only the type of the business transaction, so the EPCIS event has no
        # bizTransactionList and fails EPCIS validation until its transaction is added.
        for dte_field, epcis_field, role in (
            ("sourceParty", "sourceList", "source"),
            ("destinationParty", "destinationList", "destination"),
        ):
            if isinstance(subject.get(dte_field), str):
                event[epcis_field] = [{"type": OWNING_PARTY, role: subject[dte_field]}]
    if "sensorElementList" in subject:
        event["sensorElementList"] = [
            _epcis_sensor_element(element)
            for element in _as_list(subject["sensorElementList"])
            if isinstance(element, Mapping)
        ]
    return event


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _item_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _cbv_value(vocabulary: str, value: str, path: str) -> str:
    try:
        return canonical_cbv(vocabulary, value)
    except ValueError as error:
        raise InputError(
            f"{path} is {value!r}, which is no CBV {vocabulary} term: {error}. Use a CBV term or "
            "a URI."
        ) from error


def _epcis_quantities(value: Any) -> list[dict[str, Any]]:
    elements = []
    for entry in _as_list(value):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("productId"), str):
            continue
        element: dict[str, Any] = {"epcClass": entry["productId"]}
        if isinstance(entry.get("quantity"), int | float):
            element["quantity"] = entry["quantity"]
        if isinstance(entry.get("uom"), str):
            element["uom"] = entry["uom"]
        elements.append(element)
    return elements


def _epcis_sensor_element(element: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    metadata = element.get("sensorMetadata")
    if isinstance(metadata, Mapping):
        epcis_metadata: dict[str, Any] = {}
        device = _item_id(metadata.get("device"))
        if device is not None:
            epcis_metadata["deviceID"] = device
        if isinstance(metadata.get("dataProcessingMethod"), str):
            epcis_metadata["dataProcessingMethod"] = metadata["dataProcessingMethod"]
        if epcis_metadata:
            converted["sensorMetadata"] = epcis_metadata
    reports = []
    for report in _as_list(element.get("sensorReport")):
        if not isinstance(report, Mapping):
            continue
        epcis_report: dict[str, Any] = {}
        if isinstance(report.get("sensorType"), str):
            epcis_report["type"] = _measurement_type(report["sensorType"])
        if isinstance(report.get("time"), str):
            epcis_report["time"] = report["time"]
        if isinstance(report.get("value"), int | float):
            epcis_report["value"] = report["value"]
        if isinstance(report.get("uom"), str):
            epcis_report["uom"] = report["uom"]
        reports.append(epcis_report)
    converted["sensorReport"] = reports
    return converted


def _measurement_type(value: str) -> str:
    for prefix in _GS1_VOCABULARY_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


# Credentials


def issue_dte(
    events: Sequence[Mapping[str, Any]],
    *,
    issuer: CredentialIssuerParty | Mapping[str, Any],
    url: str,
    now: datetime,
    context: Any = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build a plain UNTP 0.6.1 DTE credential of EPCIS 2.0 events, ready to sign.

    ``issuer`` is an organisation with ``did`` and ``name``, or a UNTP ``CredentialIssuer``
    object with ``id`` and ``name``. ``url`` becomes the credential ``id`` and ``now`` its
    ``validFrom``; ``context`` and ``names`` are passed to :func:`event_to_dte`, and each event's
    dropped fields are logged. Sign the result with :func:`valuetrace.vc.sign_enveloped`.
    Raises InputError when the credential fails :func:`valuetrace.untp.validate_credential`,
    for example for a transaction event without owning parties.
    """
    if now.tzinfo is None:
        raise ValueError(
            f"now is the naive datetime {now.isoformat()}. Pass a timezone-aware datetime, "
            "such as datetime.now(UTC)."
        )
    subjects = []
    for event in events:
        subject, dropped = event_to_dte(event, context=context, names=names)
        if dropped:
            LOGGER.info(
                "DTE event %s leaves out EPCIS fields %s", subject["id"], ", ".join(dropped)
            )
        subjects.append(subject)

    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, DTE_CONTEXT],
        "type": ["DigitalTraceabilityEvent", "VerifiableCredential"],
        "id": url,
        "issuer": _issuer_object(issuer),
        "validFrom": _timestamp(now),
        "credentialSubject": subjects,
    }
    findings = validate_credential(credential)
    if findings:
        listed = "; ".join(f"{finding.path}: {finding.message}" for finding in findings[:5])
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        raise InputError(
            f"the DTE credential {url} built from {len(subjects)} events is invalid: "
            f"{listed}{more}. Check that the events are valid EPCIS 2.0 events and that "
            "transaction events name an owning party in their source and destination lists."
        )
    return credential


def _issuer_object(issuer: CredentialIssuerParty | Mapping[str, Any]) -> dict[str, Any]:
    identifier: Any
    name: Any
    if isinstance(issuer, Mapping):
        identifier, name = issuer.get("id"), issuer.get("name")
    else:
        identifier, name = issuer.did, issuer.name
    if not isinstance(identifier, str) or not isinstance(name, str):
        raise ValueError(
            f"invalid issuer: its DID and name must be strings, not {identifier!r} and {name!r}. "
            "Pass an object with did and name, or a mapping with id and name."
        )
    return {"type": ["CredentialIssuer"], "id": identifier, "name": name}


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
