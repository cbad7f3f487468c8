"""Tests of the typed UNTP credential models."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from valuetrace.errors import InputError
from valuetrace.untp import CredentialKind
from valuetrace.untp.models import (
    AggregationEvent,
    ConformityAttestation,
    CredentialIssuer,
    DigitalConformityCredential,
    DigitalFacilityRecord,
    DigitalIdentityAnchor,
    DigitalProductPassport,
    DigitalTraceabilityEvent,
    Link,
    ObjectEvent,
    Product,
    ProductPassport,
    TransformationEvent,
    parse_credential,
    to_json_dict,
)

MODELS = {
    CredentialKind.DPP: DigitalProductPassport,
    CredentialKind.DCC: DigitalConformityCredential,
    CredentialKind.DTE: DigitalTraceabilityEvent,
    CredentialKind.DFR: DigitalFacilityRecord,
    CredentialKind.DIA: DigitalIdentityAnchor,
}


def load_sample(kind: CredentialKind) -> dict[str, Any]:
    path = f"data/untp/0.6.1/{kind.value}/untp-{kind.value}-instance.json"
    text = resources.files("valuetrace").joinpath(path).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@pytest.mark.parametrize("kind", list(CredentialKind))
def test_sample_round_trip(kind: CredentialKind) -> None:
    document = load_sample(kind)
    model = parse_credential(document)
    assert type(model) is MODELS[kind]
    assert to_json_dict(model) == document
    # Same JSON text, so integers stayed integers.
    assert json.dumps(to_json_dict(model), sort_keys=True) == json.dumps(document, sort_keys=True)


@pytest.mark.parametrize("kind", list(CredentialKind))
def test_sample_fully_typed(kind: CredentialKind) -> None:
    # Every key of the samples has a typed field: nothing lands in the extra fields.
    model = parse_credential(load_sample(kind))
    assert model.model_extra == {}
    subject = model.credential_subject
    assert subject is not None
    subjects = subject if isinstance(subject, list) else [subject]
    for item in subjects:
        assert item.model_extra == {}


def test_dpp_fields_read() -> None:
    model = parse_credential(load_sample(CredentialKind.DPP))
    assert isinstance(model, DigitalProductPassport)
    assert model.issuer_id == "did:web:identifiers.example-company.com:12345"
    assert model.valid_from == "2024-03-15T12:00:00Z"
    subject = model.credential_subject
    assert isinstance(subject, ProductPassport)
    assert subject.product is not None
    assert subject.product.id == "https://id.gs1.org/01/09520123456788/21/12345"
    assert subject.product.produced_at_facility is not None
    assert subject.product.produced_at_facility.id == "https://sample-facility-register.com/1234567"
    assert subject.materials_provenance is not None
    material = subject.materials_provenance[0]
    assert (material.origin_country, material.mass_fraction) == ("AU", 0.2)
    assert material.mass is not None
    assert material.mass.value == 10
    assert subject.traceability_information is not None
    trace = subject.traceability_information[0]
    assert trace.verified_ratio == 0.5
    assert trace.traceability_event is not None
    assert trace.traceability_event[0].hash_method == "SHA-256"


def test_dcc_assessment_read() -> None:
    model = parse_credential(load_sample(CredentialKind.DCC))
    subject = model.credential_subject
    assert isinstance(subject, ConformityAttestation)
    assert subject.assessment is not None
    assessment = subject.assessment[0]
    assert assessment.assessed_product is not None
    product = assessment.assessed_product[0]
    assert product.product is not None
    assert product.product.id == "https://id.gs1.org/01/09520123456788/21/12345"
    assert product.id_verified_by_cab is True
    assert assessment.assessed_facility is not None
    assert assessment.assessed_facility[0].facility is not None
    assert assessment.conformance is not None
    assert assessment.conformity_topic is not None


def test_dte_events_by_type() -> None:
    model = parse_credential(load_sample(CredentialKind.DTE))
    assert isinstance(model, DigitalTraceabilityEvent)
    events = model.credential_subject
    assert events is not None
    assert [type(event) for event in events] == [TransformationEvent, ObjectEvent]
    transformation = events[0]
    assert isinstance(transformation, TransformationEvent)
    assert transformation.output_epc_list is not None
    assert transformation.output_epc_list[0].id == "https://id.gs1.org/01/09520123456788/21/12345"
    assert transformation.event_time == "2024-09-01T12:00:00Z"


def test_dte_event_other_types() -> None:
    document = load_sample(CredentialKind.DTE)
    document["credentialSubject"] = [
        {"type": ["AggregationEvent", "Event"], "parentEPC": {"id": "urn:x:1", "name": "pallet"}},
        {"type": ["Event"], "id": "urn:x:2"},
    ]
    events = parse_credential(document).credential_subject
    assert events is not None
    aggregation, other = events
    assert isinstance(aggregation, AggregationEvent)
    assert aggregation.parent_epc is not None
    assert aggregation.parent_epc.name == "pallet"
    assert type(other).__name__ == "TraceabilityEventBase"


def test_dfr_location_read() -> None:
    model = parse_credential(load_sample(CredentialKind.DFR))
    assert isinstance(model, DigitalFacilityRecord)
    assert model.credential_subject is not None
    facility = model.credential_subject.facility
    assert facility is not None
    assert facility.location_information is not None
    assert facility.location_information.geo_location is not None
    assert facility.location_information.geo_location.type == "Point"
    assert facility.address is not None
    assert facility.country_of_operation is not None


def test_dia_subject_read() -> None:
    model = parse_credential(load_sample(CredentialKind.DIA))
    subject = model.credential_subject
    assert subject is not None
    assert subject.registered_id is not None
    assert subject.register_type is not None


def test_issuer_string() -> None:
    document = load_sample(CredentialKind.DIA)
    document["issuer"] = "did:web:example.com"
    model = parse_credential(document)
    assert model.issuer == "did:web:example.com"
    assert model.issuer_id == "did:web:example.com"
    assert isinstance(parse_credential(load_sample(CredentialKind.DIA)).issuer, CredentialIssuer)


def test_extra_keys_kept() -> None:
    document = load_sample(CredentialKind.DPP)
    document["credentialSubject"]["product"]["customNote"] = {"text": "kept"}
    document["credentialStatus"] = {"type": "BitstringStatusListEntry", "statusListIndex": "7"}
    model = parse_credential(document)
    assert to_json_dict(model) == document


def test_populate_by_name() -> None:
    # Keyword arguments by Python name; unpacked because type checkers without the pydantic
    # plugin only know the aliases.
    link = Link(**{"link_url": "https://example.org/doc", "link_type": "https://example.org/type"})
    assert to_json_dict(link) == {
        "linkURL": "https://example.org/doc",
        "linkType": "https://example.org/type",
    }
    product = Product.model_validate({"id": "urn:x", "batchNumber": "7"})
    assert product.batch_number == "7"


def test_context_alias() -> None:
    model = parse_credential(load_sample(CredentialKind.DPP))
    assert model.context == [
        "https://www.w3.org/ns/credentials/v2",
        "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/",
    ]


def test_parse_unknown_type() -> None:
    document = load_sample(CredentialKind.DPP)
    document["type"] = ["VerifiableCredential"]
    with pytest.raises(InputError, match="names no UNTP credential type"):
        parse_credential(document)


def test_parse_wrong_json_type() -> None:
    document = load_sample(CredentialKind.DPP)
    document["credentialSubject"]["product"] = ["not", "an", "object"]
    with pytest.raises(InputError, match=r"credentialSubject\.product"):
        parse_credential(document)
