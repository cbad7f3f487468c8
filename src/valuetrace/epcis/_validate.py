"""Validation of EPCIS 2.0 JSON documents and events.

Two layers: the official EPCIS 2.0.1 JSON schema (draft-07, bundled) and the rules of the
standard that a schema cannot express. Each problem carries a JSON path and a stable rule id:

``schema``               the JSON schema rejects the value
``unknown-event-type``   ``type`` is neither an EPCIS event type nor a URI
``association-parent``   an AssociationEvent without ``parentID``
``ilmd-action``          ILMD on an event whose action is not ADD
``transformation-io``    a TransformationEvent without inputs and outputs or a transformationID
``epc-or-quantity``      an Object, Aggregation, Association or Transaction event without EPCs
                         or quantities
``cbv-term``             a bare word in a CBV field that is no CBV term
``extension-namespace``  a user extension field without a prefix defined in ``@context``
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema_rs

from valuetrace.epcis._cbv import bundled_json, canonical_cbv, cbv_terms, cbv_web_prefix
from valuetrace.epcis._document import EPCISProblem, document_context
from valuetrace.epcis._hash import context_prefixes

__all__ = ["EVENT_TYPES", "validate_document", "validate_event"]

EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
_STRUCTURE_RULES = frozenset(
    {"epc-or-quantity", "ilmd-action", "transformation-io", "association-parent"}
)
_MAX_VALUE_TEXT = 80
_PLAIN_KEY = re.compile(r"[A-Za-z_@$][A-Za-z0-9_@$-]*")


@functools.cache
def _document_validator() -> Any:
    return jsonschema_rs.Draft7Validator(bundled_json("epcis-json-schema.json"))


@functools.cache
def _event_validator() -> Any:
    schema = bundled_json("epcis-json-schema.json")
    wrapper = {
        "$schema": schema["$schema"],
        "allOf": [{"$ref": "#/definitions/EPCIS-Document-Event"}],
        "definitions": schema["definitions"],
    }
    return jsonschema_rs.Draft7Validator(wrapper)


def _enum_names(definition: Mapping[str, Any]) -> set[str]:
    """Collect the property names that a definition's ``propertyNames`` enumerates."""
    names: set[str] = set()
    for branch in definition.get("propertyNames", {}).get("anyOf", []):
        names.update(branch.get("enum", []))
    return names


@functools.cache
def _standard_fields() -> dict[str, frozenset[str]]:
    """Return the fields the standard defines for each event type and nested structure."""
    definitions = bundled_json("epcis-json-schema.json")["definitions"]
    common = set(definitions["common-event-properties"]["anyOf"][0]["enum"])
    fields: dict[str, frozenset[str]] = {}
    for event_type in EVENT_TYPES:
        names = set(common)
        for part in definitions[event_type]["allOf"]:
            names |= _enum_names(part)
        fields[event_type] = frozenset(names)
    fields["sensorElement"] = frozenset(_enum_names(definitions["sensorElement"]))
    fields["sensorMetadata"] = frozenset(_enum_names(definitions["sensorMetadata"]))
    fields["sensorReport"] = frozenset(definitions["sensorReport"]["properties"])
    fields["errorDeclaration"] = frozenset(_enum_names(definitions["errorDeclaration"]))
    fields["location"] = frozenset({"id"})
    fields["document"] = frozenset(_enum_names(definitions["epcisDocument"]))
    return fields


def json_path(base: str, parts: Iterator[str | int] | list[str | int]) -> str:
    """Extend a JSON path such as ``$.epcisBody`` by keys and list indexes."""
    path = base
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}"
        else:
            path += "[" + json.dumps(part) + "]"
    return path


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_VALUE_TEXT else text[: _MAX_VALUE_TEXT - 3] + "..."


# Schema errors -----------------------------------------------------------------------------


def _schema_problems(error: Any, base: str) -> list[tuple[EPCISProblem, str | None]]:
    """Turn one jsonschema_rs error into problems, each with the path of its anyOf origin.

    For anyOf and oneOf failures the branch that came closest (deepest paths, then fewest
    errors) explains the failure, because the bare "matches none" message names no field.
    """
    kind = error.kind
    path = json_path(base, list(error.instance_path))
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [
            (
                EPCISProblem(
                    json_path(path, [kind.property]),
                    "schema",
                    f"required field {kind.property!r} is missing",
                ),
                None,
            )
        ]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        name = kind.error.instance
        return [
            (
                EPCISProblem(
                    json_path(path, [str(name)]),
                    "schema",
                    f"field name {name!r} is not allowed here: {kind.error.message}",
                ),
                None,
            )
        ]
    if isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.AnyOf | jsonschema_rs.ValidationErrorKind.OneOfNotValid,
    ):
        branches = [
            [problem for sub in branch for problem, _ in _schema_problems(sub, base)]
            for branch in kind.context
        ]
        branches = [branch for branch in branches if branch]
        if branches:
            closest = max(
                branches,
                key=lambda branch: (max(len(p.path) for p in branch), -len(branch)),
            )
            return [(problem, path) for problem in closest]
        message = f"{_short(error.instance)} matches none of the allowed forms"
        return [(EPCISProblem(path, "schema", message), path)]
    message = error.message
    if isinstance(error.instance, str) and error.instance.startswith("urn:epcglobal:cbv:"):
        message = (
            f"{error.instance!r} is a CBV 1.x URN, which EPCIS 2.0 JSON does not accept here: "
            "write the bare CBV term or its https://ref.gs1.org/cbv/ URI"
        )
    return [(EPCISProblem(path, "schema", message), None)]


def _run_schema(validator: Any, instance: Any, base: str) -> list[tuple[EPCISProblem, str | None]]:
    problems: list[tuple[EPCISProblem, str | None]] = []
    for error in validator.iter_errors(instance):
        problems.extend(_schema_problems(error, base))
    return problems


# Rules the schema cannot express -----------------------------------------------------------


class _RuleChecker:
    """Apply the extra rules to the events of one document."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.problems: list[EPCISProblem] = []

    def add(self, path: str, rule: str, message: str) -> None:
        self.problems.append(EPCISProblem(path, rule, message))

    def check_cbv(self, path: str, vocabulary: str, value: Any) -> None:
        if not isinstance(value, str):
            return
        terms = cbv_terms(vocabulary)
        if ":" in value:
            # A CURIE or URI in the CBV's own namespace must still name a CBV term.
            canonical = canonical_cbv(vocabulary, value)
            prefix = cbv_web_prefix(vocabulary)
            if canonical.startswith(prefix) and canonical not in terms.values():
                term = canonical[len(prefix) :]
                self.add(
                    path,
                    "cbv-term",
                    f"{value!r} names {term!r}, which is not a CBV {vocabulary} term: check the "
                    f"spelling (for example {next(iter(terms))!r}), or use a URI of your own "
                    "namespace for a value of your own",
                )
            return
        if value not in terms:
            self.add(
                path,
                "cbv-term",
                f"{value!r} is not a CBV {vocabulary} term: use a CBV term (for example "
                f"{next(iter(terms))!r}) or a full URI for a value of your own",
            )

    def check_extension_name(self, path: str, key: str, prefixes: Mapping[str, str]) -> bool:
        prefix, separator, local = key.partition(":")
        if not separator:
            self.add(
                path,
                "extension-namespace",
                f"{key!r} is not a field of the EPCIS standard here; a user extension needs a "
                f"namespace prefix defined in @context, such as 'example:{key}'",
            )
            return False
        if local.startswith("//") or prefix in prefixes or prefix == "urn":
            return True
        self.add(
            path,
            "extension-namespace",
            f"the prefix {prefix!r} of extension field {key!r} is not defined in @context: "
            f'add an entry such as {{"{prefix}": "https://example.com/{prefix}/"}}',
        )
        return False

    def check_extensions(
        self,
        obj: Mapping[str, Any],
        path: str,
        standard: frozenset[str],
        prefixes: Mapping[str, str],
    ) -> None:
        """Check that each non-standard field of ``obj`` is a namespaced user extension.

        Only the names at the extension point are checked: the members inside an extension
        value belong to its owner, and the GS1 examples use plain names there.
        """
        for key in obj:
            if key not in standard and not key.startswith("@"):
                self.check_extension_name(json_path(path, [key]), key, prefixes)

    def check_event(self, event: Mapping[str, Any], path: str) -> None:
        event_type = event.get("type")
        if not isinstance(event_type, str):
            return
        if event_type not in EVENT_TYPES:
            if ":" not in event_type:
                self.add(
                    json_path(path, ["type"]),
                    "unknown-event-type",
                    f"{event_type!r} is not an EPCIS event type: use one of "
                    f"{', '.join(EVENT_TYPES)}, or a URI for an extension event type",
                )
            return

        self.check_structure(event, event_type, path)
        self.check_vocabularies(event, path)
        prefixes = context_prefixes(self.context, event)
        fields = _standard_fields()
        self.check_extensions(event, path, fields[event_type], prefixes)
        self.check_nested_extensions(event, path, prefixes)

    def check_structure(self, event: Mapping[str, Any], event_type: str, path: str) -> None:
        action = event.get("action")

        def present(name: str) -> bool:
            value = event.get(name)
            return isinstance(value, list) and len(value) > 0

        if event_type == "AssociationEvent" and "parentID" not in event:
            self.add(
                json_path(path, ["parentID"]),
                "association-parent",
                "an AssociationEvent needs parentID, the identifier its children are associated "
                "with",
            )
        if "ilmd" in event and action != "ADD" and event_type == "ObjectEvent":
            self.add(
                json_path(path, ["ilmd"]),
                "ilmd-action",
                f"ILMD is allowed only when action is ADD, but action is {_short(action)}: "
                "move the instance/lot master data to the ADD event that commissions the objects",
            )
        if event_type == "TransformationEvent":
            inputs = present("inputEPCList") or present("inputQuantityList")
            outputs = present("outputEPCList") or present("outputQuantityList")
            if not (inputs and outputs) and "transformationID" not in event:
                missing = " and ".join(
                    side for side, found in (("inputs", inputs), ("outputs", outputs)) if not found
                )
                self.add(
                    path,
                    "transformation-io",
                    f"a TransformationEvent needs inputs and outputs, or a transformationID; "
                    f"it has no {missing} (inputEPCList/inputQuantityList, "
                    "outputEPCList/outputQuantityList) and no transformationID",
                )

        article = _article(event_type)
        if event_type in ("ObjectEvent", "TransactionEvent"):
            sensor_only = (
                event_type == "ObjectEvent"
                and present("sensorElementList")
                and "readPoint" in event
            )
            if not (present("epcList") or present("quantityList") or sensor_only):
                alternative = (
                    " (or a sensorElementList with a readPoint)"
                    if event_type == "ObjectEvent"
                    else ""
                )
                self.add(
                    path,
                    "epc-or-quantity",
                    f"{article} {event_type} needs EPCs in epcList or quantities in "
                    f"quantityList{alternative}; both lists are missing or empty",
                )
        needs_children = (
            event_type in ("AggregationEvent", "AssociationEvent") and action != "DELETE"
        )
        if needs_children and not (present("childEPCs") or present("childQuantityList")):
            self.add(
                path,
                "epc-or-quantity",
                f"{article} {event_type} with action {_short(action)} needs children in "
                "childEPCs or childQuantityList; both lists are missing or empty",
            )

    def check_vocabularies(self, event: Mapping[str, Any], path: str) -> None:
        for name in ("bizStep", "disposition"):
            if name in event:
                self.check_cbv(json_path(path, [name]), name, event[name])
        persistent = event.get("persistentDisposition")
        if isinstance(persistent, Mapping):
            for name in ("set", "unset"):
                values = persistent.get(name)
                for index, value in enumerate(values if isinstance(values, list) else []):
                    self.check_cbv(
                        json_path(path, ["persistentDisposition", name, index]),
                        "disposition",
                        value,
                    )
        for list_name, vocabulary in (
            ("bizTransactionList", "bizTransactionType"),
            ("sourceList", "sourceDestType"),
            ("destinationList", "sourceDestType"),
        ):
            entries = event.get(list_name)
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                if isinstance(entry, Mapping) and "type" in entry:
                    self.check_cbv(
                        json_path(path, [list_name, index, "type"]), vocabulary, entry["type"]
                    )
        declaration = event.get("errorDeclaration")
        if isinstance(declaration, Mapping) and "reason" in declaration:
            self.check_cbv(
                json_path(path, ["errorDeclaration", "reason"]),
                "errorReason",
                declaration["reason"],
            )
        for element_path, report in self.sensor_reports(event, path):
            for name, vocabulary in (
                ("type", "sensorMeasurementType"),
                ("exception", "sensorAlertType"),
                ("component", "component"),
            ):
                if name in report:
                    self.check_cbv(json_path(element_path, [name]), vocabulary, report[name])

    @staticmethod
    def sensor_reports(
        event: Mapping[str, Any], path: str
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        elements = event.get("sensorElementList")
        for index, element in enumerate(elements if isinstance(elements, list) else []):
            if not isinstance(element, Mapping):
                continue
            reports = element.get("sensorReport")
            for report_index, report in enumerate(reports if isinstance(reports, list) else []):
                if isinstance(report, Mapping):
                    yield (
                        json_path(path, ["sensorElementList", index, "sensorReport", report_index]),
                        report,
                    )

    def check_nested_extensions(
        self, event: Mapping[str, Any], path: str, prefixes: Mapping[str, str]
    ) -> None:
        fields = _standard_fields()
        for name in ("readPoint", "bizLocation"):
            if isinstance(event.get(name), Mapping):
                self.check_extensions(
                    event[name], json_path(path, [name]), fields["location"], prefixes
                )
        if isinstance(event.get("ilmd"), Mapping):
            self.check_extensions(event["ilmd"], json_path(path, ["ilmd"]), frozenset(), prefixes)
        if isinstance(event.get("errorDeclaration"), Mapping):
            self.check_extensions(
                event["errorDeclaration"],
                json_path(path, ["errorDeclaration"]),
                fields["errorDeclaration"],
                prefixes,
            )
        elements = event.get("sensorElementList")
        for index, element in enumerate(elements if isinstance(elements, list) else []):
            if not isinstance(element, Mapping):
                continue
            element_path = json_path(path, ["sensorElementList", index])
            self.check_extensions(element, element_path, fields["sensorElement"], prefixes)
            if isinstance(element.get("sensorMetadata"), Mapping):
                self.check_extensions(
                    element["sensorMetadata"],
                    json_path(element_path, ["sensorMetadata"]),
                    fields["sensorMetadata"],
                    prefixes,
                )
        for report_path, report in self.sensor_reports(event, path):
            self.check_extensions(report, report_path, fields["sensorReport"], prefixes)


# Merging ----------------------------------------------------------------------------------


def _path_key(problem: EPCISProblem) -> tuple[Any, ...]:
    """Sort key that orders list indexes numerically: [2] before [10]."""
    return tuple(
        (0, int(token), "") if token.isdigit() else (1, 0, token)
        for token in re.split(r"[.\[\]]+", problem.path)
        if token
    )


def _merge(
    schema: list[tuple[EPCISProblem, str | None]], rules: list[EPCISProblem]
) -> list[EPCISProblem]:
    """Combine schema and rule problems, dropping schema problems that a rule explains better."""
    rule_paths = {problem.path for problem in rules}
    structure_paths = {
        problem.path.rsplit(".", 1)[0]
        if problem.rule in ("ilmd-action", "association-parent")
        else problem.path
        for problem in rules
        if problem.rule in _STRUCTURE_RULES
    }
    # A closest-branch problem adds nothing where a direct schema error names the same value.
    direct_paths = {problem.path for problem, origin in schema if origin is None}
    merged: list[EPCISProblem] = list(rules)
    seen: set[EPCISProblem] = set(rules)
    for problem, origin in schema:
        if problem.path in rule_paths:
            continue
        if origin is not None and (origin in structure_paths or problem.path in direct_paths):
            continue
        if problem not in seen:
            seen.add(problem)
            merged.append(problem)
    merged.sort(key=_path_key)
    return merged


def _event_list_path(document: Mapping[str, Any]) -> tuple[str, list[Any]]:
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        return "$.epcisBody.eventList", []
    if isinstance(body.get("eventList"), list):
        return "$.epcisBody.eventList", body["eventList"]
    results = body.get("queryResults")
    if isinstance(results, Mapping):
        results_body = results.get("resultsBody")
        if isinstance(results_body, Mapping) and isinstance(results_body.get("eventList"), list):
            return "$.epcisBody.queryResults.resultsBody.eventList", results_body["eventList"]
    return "$.epcisBody.eventList", []


def validate_document(document: Mapping[str, Any]) -> list[EPCISProblem]:
    """Validate an EPCISDocument or EPCISQueryDocument; an empty list means valid.

    Every problem is reported, not only the first: schema errors and the rules listed in
    this module's documentation, each with the JSON path of the offending value.
    """
    if not isinstance(document, Mapping):
        return [EPCISProblem("$", "schema", "an EPCIS document must be a JSON object")]
    document_type = document.get("type")
    if document_type not in ("EPCISDocument", "EPCISQueryDocument"):
        return [
            EPCISProblem(
                "$.type",
                "schema",
                f"type is {_short(document_type)}, but an EPCIS document has type "
                "'EPCISDocument' or 'EPCISQueryDocument'",
            )
        ]

    schema = _run_schema(_document_validator(), document, "$")
    checker = _RuleChecker(document_context(document))
    prefixes = context_prefixes(checker.context)
    if document_type == "EPCISDocument":
        checker.check_extensions(document, "$", _standard_fields()["document"], prefixes)
    list_path, events = _event_list_path(document)
    for index, event in enumerate(events):
        if isinstance(event, Mapping):
            checker.check_event(event, f"{list_path}[{index}]")
    return _merge(schema, checker.problems)


def validate_event(
    event: Mapping[str, Any], *, context: Any = None, path: str = "$"
) -> list[EPCISProblem]:
    """Validate one EPCIS 2.0 JSON event; an empty list means valid.

    ``context`` is the ``@context`` the event inherits from its document; its prefixes (and
    those of the event's own ``@context``) define which user extensions are namespaced.
    Problem paths start at ``path``, for example ``$.epcisBody.eventList[3]``.
    """
    if not isinstance(event, Mapping):
        return [EPCISProblem(path, "schema", "an EPCIS event must be a JSON object")]
    schema = _run_schema(_event_validator(), event, path)
    checker = _RuleChecker(context)
    checker.check_event(event, path)
    return _merge(schema, checker.problems)
