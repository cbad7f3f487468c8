"""CBV 2.0 vocabulary values in canonical form, and event normalisation for indexing.

The term lists come from the bundled EPCIS 2.0 JSON-LD context (the scoped contexts of
``bizStep``, ``disposition``, …) and the enumerations of the bundled 2.0.1 JSON schema, so a
term that either artefact lists is a CBV term.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

from valuetrace.epcis._identifiers import canonical_identifier

__all__ = [
    "CBV_VOCABULARIES",
    "canonical_cbv",
    "cbv_terms",
    "normalise_event",
]

CBV_BASE = "https://ref.gs1.org/cbv/"
GS1_VOC_BASE = "https://gs1.org/voc/"

# Vocabulary name -> (web URI prefix, legacy URN prefix or None).
_VOCABULARY_PREFIXES: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        "bizStep": (CBV_BASE + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
        "disposition": (CBV_BASE + "Disp-", "urn:epcglobal:cbv:disp:"),
        "bizTransactionType": (CBV_BASE + "BTT-", "urn:epcglobal:cbv:btt:"),
        "sourceDestType": (CBV_BASE + "SDT-", "urn:epcglobal:cbv:sdt:"),
        "errorReason": (CBV_BASE + "ER-", "urn:epcglobal:cbv:er:"),
        "component": (CBV_BASE + "Comp-", None),
        "sensorMeasurementType": (GS1_VOC_BASE, None),
        "sensorAlertType": (GS1_VOC_BASE, None),
    }
)
CBV_VOCABULARIES = tuple(_VOCABULARY_PREFIXES)

# Locations of each vocabulary's terms in the bundled context and schema.
_CONTEXT_PATHS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "bizStep": ("bizStep",),
        "disposition": ("disposition",),
        "bizTransactionType": ("bizTransactionList", "type"),
        "sourceDestType": ("sourceList", "type"),
        "errorReason": ("errorDeclaration", "reason"),
        "component": ("sensorElementList", "sensorReport", "component"),
        "sensorMeasurementType": ("sensorElementList", "sensorReport", "type"),
        "sensorAlertType": ("sensorElementList", "sensorReport", "exception"),
    }
)
_SCHEMA_DEFINITIONS: Mapping[str, str] = MappingProxyType(
    {
        "bizStep": "bizStep",
        "disposition": "disposition",
        "bizTransactionType": "bizTransaction-type",
        "sourceDestType": "source-dest-type",
        "errorReason": "error-reason",
        "component": "component",
        "sensorMeasurementType": "measurementType",
        "sensorAlertType": "sensorAlertType",
    }
)
# CURIE prefixes that CBV values may use without the document defining them.
_STANDARD_PREFIXES = {"cbv": CBV_BASE, "gs1": GS1_VOC_BASE}


@functools.cache
def bundled_json(name: str) -> Any:
    """Load a bundled EPCIS artefact from ``valuetrace/data/epcis/``."""
    text = resources.files("valuetrace").joinpath("data", "epcis", name).read_text("utf-8")
    return json.loads(text)


def _scoped_context(context: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    """Walk the nested ``@context`` objects of the EPCIS context along ``path``."""
    current: Any = context
    for name in path:
        entry = current.get(name, {})
        scoped = entry.get("@context", {}) if isinstance(entry, Mapping) else {}
        # persistentDisposition and a few others use a list of contexts; merge them.
        if isinstance(scoped, list):
            merged: dict[str, Any] = {}
            for part in scoped:
                if isinstance(part, Mapping):
                    merged.update(part)
            scoped = merged
        current = scoped
    return current if isinstance(current, Mapping) else {}


def _expand_standard_curie(value: str) -> str:
    prefix, separator, rest = value.partition(":")
    if separator and prefix in _STANDARD_PREFIXES:
        return _STANDARD_PREFIXES[prefix] + rest
    return value


@functools.cache
def cbv_terms(vocabulary: str) -> Mapping[str, str]:
    """Return the bare CBV terms of ``vocabulary`` mapped to their full URIs."""
    if vocabulary not in _VOCABULARY_PREFIXES:
        raise ValueError(
            f"unknown CBV vocabulary {vocabulary!r}: use one of {', '.join(CBV_VOCABULARIES)}"
        )
    web_prefix, _ = _VOCABULARY_PREFIXES[vocabulary]
    terms: dict[str, str] = {}

    context = bundled_json("epcis-context.jsonld")["@context"]
    for term, curie in _scoped_context(context, _CONTEXT_PATHS[vocabulary]).items():
        if not term.startswith("@") and isinstance(curie, str) and ":" in curie:
            terms[term] = _expand_standard_curie(curie)

    definition = bundled_json("epcis-json-schema.json")["definitions"][
        _SCHEMA_DEFINITIONS[vocabulary]
    ]
    for branch in definition.get("anyOf", []):
        for term in branch.get("enum", []):
            terms.setdefault(term, web_prefix + term)
    return MappingProxyType(terms)


def cbv_web_prefix(vocabulary: str) -> str:
    """Return the web URI prefix of a CBV vocabulary, such as ``https://ref.gs1.org/cbv/BizStep-``."""
    return _VOCABULARY_PREFIXES[vocabulary][0]


def canonical_cbv(vocabulary: str, value: str) -> str:
    """Convert a CBV value to its web URI.

    A bare term (``shipping``), a CURIE (``cbv:BizStep-shipping``), a legacy URN
    (``urn:epcglobal:cbv:bizstep:shipping``) and the web URI all give
    ``https://ref.gs1.org/cbv/BizStep-shipping``. URIs outside the CBV come back unchanged.
    Raises ValueError for a bare word that is no term of ``vocabulary``.
    """
    terms = cbv_terms(vocabulary)
    if ":" not in value:
        uri = terms.get(value)
        if uri is None:
            raise ValueError(
                f"{value!r} is not a CBV {vocabulary} term: use a CBV term such as "
                f"{next(iter(terms))!r}, or a URI for a value of your own"
            )
        return uri
    web_prefix, urn_prefix = _VOCABULARY_PREFIXES[vocabulary]
    if urn_prefix is not None and value.startswith(urn_prefix):
        return web_prefix + value[len(urn_prefix) :]
    return _expand_standard_curie(value)


def _canonical_cbv_lenient(vocabulary: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return canonical_cbv(vocabulary, value)
    except ValueError:
        return value


def _canonical_identifier_value(value: Any) -> Any:
    return canonical_identifier(value) if isinstance(value, str) else value


_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_SENSOR_IDENTIFIERS = (
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
    "microorganism",
    "chemicalSubstance",
    "uriValue",
)


def _normalise_sensor_elements(elements: Any) -> None:
    if not isinstance(elements, list):
        return
    for element in elements:
        if not isinstance(element, dict):
            continue
        metadata = element.get("sensorMetadata")
        if isinstance(metadata, dict):
            for name in _SENSOR_IDENTIFIERS:
                if name in metadata:
                    metadata[name] = _canonical_identifier_value(metadata[name])
        reports = element.get("sensorReport")
        for report in reports if isinstance(reports, list) else []:
            if not isinstance(report, dict):
                continue
            for name in _SENSOR_IDENTIFIERS:
                if name in report:
                    report[name] = _canonical_identifier_value(report[name])
            for name, vocabulary in (
                ("type", "sensorMeasurementType"),
                ("exception", "sensorAlertType"),
                ("component", "component"),
            ):
                if name in report:
                    report[name] = _canonical_cbv_lenient(vocabulary, report[name])


def _normalise_typed_list(items: Any, id_field: str, vocabulary: str) -> None:
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if id_field in item:
            item[id_field] = _canonical_identifier_value(item[id_field])
        if "type" in item:
            item["type"] = _canonical_cbv_lenient(vocabulary, item["type"])


def normalise_event(event: Mapping[str, Any], *, context: Any = None) -> dict[str, Any]:
    """Return a copy of ``event`` with CBV values and identifiers in canonical form.

    EPCs, class identifiers, locations, parties and sensor identifiers become canonical Digital
    Links; CBV values become web URIs. Values that are neither stay as they are, so two
    spellings of one event normalise to equal values for indexing and query matching.
    ``context`` is accepted for symmetry with :func:`event_hash`; CBV CURIEs use the
    standard ``cbv`` and ``gs1`` prefixes.
    """
    del context  # NOTE: CURIEs with document-defined prefixes are left unexpanded here.
    normalised: dict[str, Any] = copy.deepcopy(dict(event))

    for name in _EPC_LISTS:
        values = normalised.get(name)
        if isinstance(values, list):
            normalised[name] = [_canonical_identifier_value(value) for value in values]
    for name in _QUANTITY_LISTS:
        for element in normalised.get(name) or []:
            if isinstance(element, dict) and "epcClass" in element:
                element["epcClass"] = _canonical_identifier_value(element["epcClass"])
    for name in ("parentID", "transformationID"):
        if name in normalised:
            normalised[name] = _canonical_identifier_value(normalised[name])
    for name in ("readPoint", "bizLocation"):
        location = normalised.get(name)
        if isinstance(location, dict) and "id" in location:
            location["id"] = _canonical_identifier_value(location["id"])

    for name in ("bizStep", "disposition"):
        if name in normalised:
            normalised[name] = _canonical_cbv_lenient(name, normalised[name])
    persistent = normalised.get("persistentDisposition")
    if isinstance(persistent, dict):
        for name in ("set", "unset"):
            if isinstance(persistent.get(name), list):
                persistent[name] = [
                    _canonical_cbv_lenient("disposition", value) for value in persistent[name]
                ]

    _normalise_typed_list(
        normalised.get("bizTransactionList"), "bizTransaction", "bizTransactionType"
    )
    _normalise_typed_list(normalised.get("sourceList"), "source", "sourceDestType")
    _normalise_typed_list(normalised.get("destinationList"), "destination", "sourceDestType")
    _normalise_sensor_elements(normalised.get("sensorElementList"))

    declaration = normalised.get("errorDeclaration")
    if isinstance(declaration, dict) and "reason" in declaration:
        declaration["reason"] = _canonical_cbv_lenient("errorReason", declaration["reason"])
    return normalised
