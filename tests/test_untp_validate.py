"""Tests of UNTP kind and version detection and of credential and subject validation."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from valuetrace.findings import Finding, Severity
from valuetrace.untp import (
    DTE_EVENT_TYPES,
    SUPPORTED_VERSIONS,
    CredentialKind,
    detect_kind,
    detect_version,
    untp_context_url,
    validate_credential,
    validate_subject,
)

KINDS = list(CredentialKind)
VC_V2 = "https://www.w3.org/ns/credentials/v2"
SUBJECT_SAMPLES = [
    (CredentialKind.DPP, "ProductPassport"),
    (CredentialKind.DCC, "ConformityAttestation"),
    (CredentialKind.DFR, "FacilityRecord"),
    (CredentialKind.DIA, "RegisteredIdentity"),
    *[(CredentialKind.DTE, event_type) for event_type in DTE_EVENT_TYPES],
]


def load_json(kind: CredentialKind, name: str) -> dict[str, Any]:
    path = f"data/untp/0.6.1/{kind.value}/{name}"
    text = resources.files("valuetrace").joinpath(path).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_sample(kind: CredentialKind) -> dict[str, Any]:
    return load_json(kind, f"untp-{kind.value}-instance.json")


def codes_and_paths(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(finding.code, finding.path) for finding in findings}


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_detect_kind_samples(kind: CredentialKind) -> None:
    assert detect_kind(load_sample(kind)) is kind


@pytest.mark.parametrize("kind", KINDS)
def test_detect_version_samples(kind: CredentialKind) -> None:
    assert detect_version(load_sample(kind)) == (kind, "0.6.1")


def test_credential_type_names() -> None:
    assert CredentialKind.DPP.credential_type == "DigitalProductPassport"
    assert CredentialKind.DCC.credential_type == "DigitalConformityCredential"
    assert CredentialKind.DTE.credential_type == "DigitalTraceabilityEvent"
    assert CredentialKind.DFR.credential_type == "DigitalFacilityRecord"
    assert CredentialKind.DIA.credential_type == "DigitalIdentityAnchor"
    assert CredentialKind("dpp") is CredentialKind.DPP
    assert SUPPORTED_VERSIONS == ("0.6.1",)


def test_detect_kind_type_string() -> None:
    assert detect_kind({"type": "DigitalIdentityAnchor"}) is CredentialKind.DIA


@pytest.mark.parametrize("types", [None, [], ["VerifiableCredential"], 5, [{"x": 1}]])
def test_detect_kind_none(types: Any) -> None:
    assert detect_kind({"type": types}) is None


@pytest.mark.parametrize(
    ("contexts", "expected"),
    [
        (
            [VC_V2, "https://test.uncefact.org/vocabulary/untp/dpp/working/"],
            (CredentialKind.DPP, "working"),
        ),
        (
            [VC_V2, "https://test.uncefact.org/vocabulary/untp/dte/0.5.0/"],
            (CredentialKind.DTE, "0.5.0"),
        ),
        ([VC_V2, "https://vocabulary.uncefact.org/untp/0.7.0/context/"], (None, "0.7.0")),
        ([VC_V2, "https://test.uncefact.org/vocabulary/untp/core/0.6.1/"], (None, None)),
        ([VC_V2], (None, None)),
        (None, (None, None)),
    ],
)
def test_detect_version_cases(contexts: Any, expected: tuple[Any, Any]) -> None:
    assert detect_version({"@context": contexts}) == expected


def test_untp_context_url() -> None:
    assert untp_context_url(CredentialKind.DFR, "0.6.1") == (
        "https://test.uncefact.org/vocabulary/untp/dfr/0.6.1/"
    )


# --- valid samples -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_validate_sample_clean(kind: CredentialKind) -> None:
    assert validate_credential(load_sample(kind)) == []


@pytest.mark.parametrize(("kind", "name"), SUBJECT_SAMPLES)
def test_validate_subject_sample_clean(kind: CredentialKind, name: str) -> None:
    subject = load_json(kind, f"{name}-instance.json")
    assert validate_subject(subject, kind) == []


@pytest.mark.parametrize("event_type", DTE_EVENT_TYPES)
def test_validate_subject_event_type(event_type: str) -> None:
    subject = load_json(CredentialKind.DTE, f"{event_type}-instance.json")
    assert validate_subject(subject, CredentialKind.DTE, event_type=event_type) == []


def test_validate_sample_subjects() -> None:
    # The subjects inside the full samples pass the subject-level schemas too.
    for kind in (CredentialKind.DPP, CredentialKind.DCC, CredentialKind.DFR, CredentialKind.DIA):
        assert validate_subject(load_sample(kind)["credentialSubject"], kind) == [], kind
    for event in load_sample(CredentialKind.DTE)["credentialSubject"]:
        assert validate_subject(event, CredentialKind.DTE) == []


# --- broken samples ------------------------------------------------------------------------

BROKEN = [
    (
        CredentialKind.DPP,
        ("credentialSubject", "product", "name"),
        42,
        "$.credentialSubject.product.name",
    ),
    (
        CredentialKind.DPP,
        ("credentialSubject", "materialsProvenance", 1, "massFraction"),
        "a fifth",
        "$.credentialSubject.materialsProvenance[1].massFraction",
    ),
    (
        CredentialKind.DCC,
        ("credentialSubject", "assessment", 0, "conformance"),
        "yes",
        "$.credentialSubject.assessment[0].conformance",
    ),
    (
        CredentialKind.DTE,
        ("credentialSubject", 1, "eventTime"),
        "last Tuesday",
        "$.credentialSubject[1].eventTime",
    ),
    (
        CredentialKind.DFR,
        ("credentialSubject", "facility", "locationInformation", "geoLocation", "type"),
        "Circle",
        "$.credentialSubject.facility.locationInformation.geoLocation.type",
    ),
    (
        CredentialKind.DIA,
        ("credentialSubject", "registrationScopeList"),
        "everything",
        "$.credentialSubject.registrationScopeList",
    ),
]


def set_at(document: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


@pytest.mark.parametrize(("kind", "path", "value", "expected_path"), BROKEN)
def test_wrong_value_schema_path(
    kind: CredentialKind, path: tuple[str | int, ...], value: Any, expected_path: str
) -> None:
    document = load_sample(kind)
    set_at(document, path, value)
    findings = validate_credential(document)
    assert findings, "the broken credential passed"
    assert {finding.code for finding in findings} == {"schema.invalid"}
    assert {finding.path for finding in findings} == {expected_path}
    assert all(
        finding.message.startswith(f"UNTP {kind.value.upper()} 0.6.1 schema:")
        for finding in findings
    )


MISSING_REQUIRED = [
    (CredentialKind.DPP, ("issuer",), "name", "$.issuer"),
    (CredentialKind.DPP, ("credentialSubject", "product"), "id", "$.credentialSubject.product"),
    (CredentialKind.DCC, ("credentialSubject",), "assessorLevel", "$.credentialSubject"),
    (
        CredentialKind.DTE,
        ("credentialSubject", 0, "outputEPCList", 0),
        "name",
        "$.credentialSubject[0].outputEPCList[0]",
    ),
    (CredentialKind.DFR, ("credentialSubject", "facility"), "name", "$.credentialSubject.facility"),
    (CredentialKind.DIA, ("credentialSubject",), "name", "$.credentialSubject"),
]


@pytest.mark.parametrize(("kind", "parent", "key", "expected_path"), MISSING_REQUIRED)
def test_missing_required_path(
    kind: CredentialKind, parent: tuple[str | int, ...], key: str, expected_path: str
) -> None:
    document = load_sample(kind)
    node: Any = document
    for part in parent:
        node = node[part]
    del node[key]
    findings = validate_credential(document)
    assert codes_and_paths(findings) == {("schema.invalid", expected_path)}
    assert f'"{key}" is a required property' in findings[0].message


def test_all_schema_errors_reported() -> None:
    document = load_sample(CredentialKind.DPP)
    document["credentialSubject"]["product"]["name"] = 1
    document["credentialSubject"]["materialsProvenance"][0]["hazardous"] = "no"
    document["credentialSubject"]["circularityScorecard"]["recycledContent"] = "high"
    paths = {finding.path for finding in validate_credential(document)}
    assert paths == {
        "$.credentialSubject.product.name",
        "$.credentialSubject.materialsProvenance[0].hazardous",
        "$.credentialSubject.circularityScorecard.recycledContent",
    }


def test_vc_schema_failure() -> None:
    document = load_sample(CredentialKind.DIA)
    document["credentialStatus"] = {"id": "https://example.org/status/1"}
    findings = validate_credential(document)
    vc_findings = [f for f in findings if f.message.startswith("VC Data Model 2.0 schema:")]
    assert [(f.code, f.path) for f in vc_findings] == [("schema.invalid", "$.credentialStatus")]
    assert '"type" is a required property' in vc_findings[0].message


def test_vc_schema_date_format() -> None:
    document = load_sample(CredentialKind.DPP)
    document["validFrom"] = "next week"
    findings = validate_credential(document)
    assert {f.path for f in findings} == {"$.validFrom"}
    assert any(f.message.startswith("VC Data Model 2.0 schema:") for f in findings)


# --- context, type and version ---------------------------------------------------------------


def test_first_context_not_vc() -> None:
    document = load_sample(CredentialKind.DPP)
    document["@context"].reverse()
    findings = validate_credential(document)
    first = findings[0]
    assert (first.code, first.path) == ("context.invalid", "$['@context'][0]")
    assert VC_V2 in first.message


def test_context_missing() -> None:
    document = load_sample(CredentialKind.DIA)
    del document["@context"]
    findings = validate_credential(document)
    assert ("context.invalid", "$['@context']") in codes_and_paths(findings)
    assert ("untp.unknown_version", "$['@context']") in codes_and_paths(findings)


@pytest.mark.parametrize(
    ("untp_context", "version_text"),
    [
        ("https://test.uncefact.org/vocabulary/untp/dpp/working/", "'working'"),
        ("https://vocabulary.uncefact.org/untp/0.7.0/context/", "'0.7.0'"),
    ],
)
def test_unsupported_version(untp_context: str, version_text: str) -> None:
    document = load_sample(CredentialKind.DPP)
    document["@context"][1] = untp_context
    findings = validate_credential(document)
    version_findings = [f for f in findings if f.code == "untp.unknown_version"]
    assert len(version_findings) == 1
    assert version_text in version_findings[0].message
    assert "0.6.1" in version_findings[0].message
    # The context is not bundled, so the term check reports it instead of guessing.
    assert "jsonld.context_unavailable" in {f.code for f in findings}
    assert all(f.severity is Severity.ERROR for f in findings)


def test_untp_context_missing() -> None:
    document = load_sample(CredentialKind.DPP)
    del document["@context"][1]
    findings = validate_credential(document)
    version_findings = [f for f in findings if f.code == "untp.unknown_version"]
    assert [f.path for f in version_findings] == ["$['@context']"]
    assert "no UNTP credential context" in version_findings[0].message


def test_unknown_type() -> None:
    document = load_sample(CredentialKind.DPP)
    document["type"] = ["VerifiableCredential", "ProductCertificate"]
    findings = validate_credential(document)
    type_findings = [f for f in findings if f.code == "untp.unknown_type"]
    assert [f.path for f in type_findings] == ["$.type"]
    for credential_type in (k.credential_type for k in CredentialKind):
        assert credential_type in type_findings[0].message


def test_type_context_mismatch() -> None:
    document = load_sample(CredentialKind.DPP)
    document["@context"][1] = "https://test.uncefact.org/vocabulary/untp/dcc/0.6.1/"
    findings = validate_credential(document)
    assert ("untp.type_mismatch", "$['@context']") in codes_and_paths(findings)


def test_undefined_term_reported() -> None:
    document = load_sample(CredentialKind.DFR)
    document["credentialSubject"]["facility"]["address"]["zzUnknown"] = "x"
    findings = validate_credential(document)
    # The UNTP schema forbids additional properties in an address, and the term check finds
    # the undefined term.
    assert codes_and_paths(findings) == {
        ("schema.invalid", "$.credentialSubject.facility.address"),
        ("jsonld.undefined_term", "$.credentialSubject.facility.address.zzUnknown"),
    }


def test_credential_ref_defaults_to_id() -> None:
    document = load_sample(CredentialKind.DPP)
    document["zzUnknown"] = 1
    (finding,) = validate_credential(document)
    assert finding.credential == document["id"]
    (finding,) = validate_credential(document, credential_ref="passport.json")
    assert finding.credential == "passport.json"


def test_validate_rejects_non_object() -> None:
    with pytest.raises(TypeError):
        validate_credential("not a credential")  # type: ignore[arg-type]


# --- subjects ------------------------------------------------------------------------------------


def test_subject_wrong_value_path() -> None:
    subject = load_json(CredentialKind.DPP, "ProductPassport-instance.json")
    subject["product"]["dimensions"]["weight"]["value"] = "ten"
    findings = validate_subject(subject, CredentialKind.DPP, credential_ref="dpp-1")
    assert codes_and_paths(findings) == {("schema.invalid", "$.product.dimensions.weight.value")}
    assert findings[0].message.startswith("UNTP ProductPassport 0.6.1 schema:")
    assert findings[0].credential == "dpp-1"


def test_subject_event_missing_required() -> None:
    subject = load_json(CredentialKind.DTE, "TransactionEvent-instance.json")
    del subject["sourceParty"]
    findings = validate_subject(subject, CredentialKind.DTE)
    assert codes_and_paths(findings) == {("schema.invalid", "$")}


def test_subject_event_type_unknown() -> None:
    findings = validate_subject({"type": ["Event"]}, CredentialKind.DTE)
    assert codes_and_paths(findings) == {("untp.unknown_type", "$.type")}


def test_subject_version_unsupported() -> None:
    subject = load_json(CredentialKind.DIA, "RegisteredIdentity-instance.json")
    findings = validate_subject(subject, CredentialKind.DIA, version="0.7.0")
    assert [f.code for f in findings] == ["untp.unknown_version"]
