"""Tests of the bundled contexts and the offline term check, cross-checked against pyld."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from pyld import jsonld
from pyld.jsonld import JsonLdError

from valuetrace.findings import Finding, Severity, json_path
from valuetrace.jsonld import (
    BUNDLED_CONTEXTS,
    check_terms,
    load_context,
    pyld_document_loader,
)

KINDS = ("dpp", "dcc", "dte", "dfr", "dia")
VC_V2 = "https://www.w3.org/ns/credentials/v2"
DPP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/"


def load_sample(kind: str) -> dict[str, Any]:
    path = f"data/untp/0.6.1/{kind}/untp-{kind}-instance.json"
    text = resources.files("valuetrace").joinpath(path).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def expand(document: dict[str, Any]) -> list[Any]:
    """Expand with pyld, offline, with no base IRI so that relative IRIs stay relative."""
    result: list[Any] = jsonld.expand(
        copy.deepcopy(document), {"documentLoader": pyld_document_loader, "base": None}
    )
    return result


def errors(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity is Severity.ERROR]


def undefined_paths(findings: list[Finding]) -> set[str]:
    return {finding.path for finding in findings if finding.code == "jsonld.undefined_term"}


def objects(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Yield every JSON object of a document with its path, skipping @context values."""
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            if key != "@context":
                yield from objects(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from objects(item, (*path, index))


def at(document: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def expanded_types(expanded: Any) -> list[str]:
    found: list[str] = []
    if isinstance(expanded, dict):
        for key, value in expanded.items():
            if key == "@type":
                found.extend(value if isinstance(value, list) else [value])
            else:
                found.extend(expanded_types(value))
    elif isinstance(expanded, list):
        for item in expanded:
            found.extend(expanded_types(item))
    return found


# --- bundled contexts and the pyld loader -------------------------------------------------


def test_bundled_contexts_all_load() -> None:
    assert len(BUNDLED_CONTEXTS) == 10
    for url in BUNDLED_CONTEXTS:
        document = load_context(url)
        assert document is not None, url
        assert isinstance(document["@context"], dict), url


def test_load_context_cached_once() -> None:
    assert load_context(VC_V2) is load_context(VC_V2)


def test_load_context_unknown_url() -> None:
    assert load_context("https://example.org/unknown-context") is None


def test_pyld_loader_returns_copy() -> None:
    first = pyld_document_loader(DPP_CONTEXT)
    assert first["documentUrl"] == DPP_CONTEXT
    assert first["contextUrl"] is None
    first["document"]["@context"].clear()
    second = pyld_document_loader(DPP_CONTEXT, {})
    assert second["document"]["@context"], "the loader must not hand out the cached document"


def test_pyld_loader_rejects_unbundled() -> None:
    with pytest.raises(JsonLdError) as raised:
        pyld_document_loader("https://example.org/other-context")
    assert raised.value.code == "loading document failed"


@pytest.mark.parametrize("kind", KINDS)
def test_pyld_expands_sample_offline(kind: str) -> None:
    expanded = expand(load_sample(kind))
    assert expanded
    assert f"https://test.uncefact.org/vocabulary/untp/{kind}/0/" in json.dumps(expanded)


# --- the samples ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_check_terms_sample_clean(kind: str) -> None:
    assert check_terms(load_sample(kind)) == []


def test_check_terms_credential_name() -> None:
    document = load_sample("dpp")
    document["zzUnknown"] = 1
    findings = check_terms(document, credential="dpp-1")
    assert [finding.credential for finding in findings] == ["dpp-1"]


def test_check_terms_rejects_non_object() -> None:
    with pytest.raises(TypeError):
        check_terms([])  # type: ignore[arg-type]


# --- undefined keys, each cross-checked with pyld -----------------------------------------


def assert_dropped_exactly(
    original: dict[str, Any], mutated: dict[str, Any], expected_path: str
) -> None:
    """pyld drops the added key, and the check flags that key and nothing else."""
    assert expand(mutated) == expand(original), "pyld keeps the key, so it is not undefined"
    findings = check_terms(mutated)
    assert undefined_paths(findings) == {expected_path}
    assert len(errors(findings)) == 1


def assert_kept_unflagged(original: dict[str, Any], mutated: dict[str, Any]) -> None:
    """pyld keeps the added key, and the check reports no error."""
    assert expand(mutated) != expand(original), "pyld drops the key"
    assert errors(check_terms(mutated)) == []


CASES_DROPPED = [
    # An unknown key at the top level.
    (("dpp", ()), "zzUnknown", "$.zzUnknown"),
    # Inside credentialSubject.
    (("dpp", ("credentialSubject",)), "zzUnknown", "$.credentialSubject.zzUnknown"),
    # Inside an object whose terms come from its type-scoped context (Product).
    (
        ("dpp", ("credentialSubject", "product")),
        "zzUnknown",
        "$.credentialSubject.product.zzUnknown",
    ),
    # A term of the Product type-scoped context used one node further down: it does not
    # propagate into the nested IdentifierScheme node.
    (
        ("dpp", ("credentialSubject", "product", "idScheme")),
        "batchNumber",
        "$.credentialSubject.product.idScheme.batchNumber",
    ),
    # Inside an object without type under a property-scoped context (a Link).
    (
        ("dpp", ("credentialSubject", "product", "productImage")),
        "zzUnknown",
        "$.credentialSubject.product.productImage.zzUnknown",
    ),
    # A term from a sibling property-scoped context does not apply here.
    (
        ("dpp", ("credentialSubject", "product", "dimensions", "weight")),
        "linkName",
        "$.credentialSubject.product.dimensions.weight.linkName",
    ),
    # Inside an object reached through a property of a type-scoped context (CredentialIssuer).
    (
        ("dpp", ("issuer", "issuerAlsoKnownAs", 0)),
        "zzUnknown",
        "$.issuer.issuerAlsoKnownAs[0].zzUnknown",
    ),
    # A term of the credential's type-scoped context (VerifiableCredential) inside the subject.
    (("dpp", ("credentialSubject",)), "validFrom", "$.credentialSubject.validFrom"),
    # A DTE event and a DFR geometry, where the property-scoped context redefines `type`.
    (("dte", ("credentialSubject", 0)), "zzUnknown", "$.credentialSubject[0].zzUnknown"),
    (
        ("dfr", ("credentialSubject", "facility", "locationInformation", "geoLocation")),
        "zzUnknown",
        "$.credentialSubject.facility.locationInformation.geoLocation.zzUnknown",
    ),
    # A key that only looks like a keyword.
    (("dia", ("credentialSubject",)), "@unknownKeyword", "$.credentialSubject['@unknownKeyword']"),
]


@pytest.mark.parametrize(("where", "key", "expected_path"), CASES_DROPPED)
def test_undefined_key_flagged(
    where: tuple[str, tuple[str | int, ...]], key: str, expected_path: str
) -> None:
    kind, path = where
    original = load_sample(kind)
    mutated = copy.deepcopy(original)
    at(mutated, path)[key] = "probe value"
    assert_dropped_exactly(original, mutated, expected_path)


def test_undefined_key_message() -> None:
    document = load_sample("dpp")
    document["credentialSubject"]["zzUnknown"] = 1
    (finding,) = check_terms(document)
    assert finding.code == "jsonld.undefined_term"
    assert "'zzUnknown'" in finding.message
    assert "Define it in a context or remove it" in finding.message


def test_dropped_subtree_flagged_once() -> None:
    original = load_sample("dpp")
    mutated = copy.deepcopy(original)
    mutated["credentialSubject"]["zzUnknown"] = {"alsoUnknown": {"deeper": 1}}
    assert_dropped_exactly(original, mutated, "$.credentialSubject.zzUnknown")


@pytest.mark.parametrize(
    "key",
    ["schemaorg:probe", "untp-core:probe", "https://example.org/probe", "urn:example:probe"],
)
def test_iri_keys_defined(key: str) -> None:
    original = load_sample("dpp")
    mutated = copy.deepcopy(original)
    mutated["credentialSubject"]["product"][key] = "probe value"
    assert_kept_unflagged(original, mutated)


def test_scoped_untp_vocab_defined() -> None:
    # countryOfProduction has a property-scoped context with a UNTP code list @vocab.
    original = load_sample("dpp")
    mutated = copy.deepcopy(original)
    mutated["credentialSubject"]["product"]["countryOfProduction"] = {"probeCode": "x"}
    assert expand(mutated) != expand(original)
    assert check_terms(mutated) == []


# --- type values -----------------------------------------------------------------------------


def test_unknown_type_flagged() -> None:
    document = load_sample("dpp")
    document["credentialSubject"]["type"].append("BogusPassport")
    assert "BogusPassport" in expanded_types(expand(document))  # kept as a relative IRI
    findings = check_terms(document)
    assert undefined_paths(findings) == {"$.credentialSubject.type[1]"}
    assert "'BogusPassport'" in findings[0].message


def test_type_string_flagged() -> None:
    document = load_sample("dpp")
    document["credentialSubject"]["product"]["productImage"]["type"] = "Bogus"
    assert undefined_paths(check_terms(document)) == {
        "$.credentialSubject.product.productImage.type"
    }


def test_geojson_type_not_checked() -> None:
    # Inside geoLocation, `type` is the geojson:type property, so "NotAType" is a plain string.
    document = load_sample("dfr")
    document["credentialSubject"]["facility"]["locationInformation"]["geoLocation"]["type"] = (
        "NotAType"
    )
    assert "NotAType" not in expanded_types(expand(document))
    assert check_terms(document) == []


# --- exhaustive cross-check against pyld ---------------------------------------------------


def context_terms(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("@"):
                found.add(key)
            context_terms(item, found)
    elif isinstance(value, list):
        for item in value:
            context_terms(item, found)
    return found


def probe_terms() -> list[str]:
    """Every term of the bundled contexts, plus undefined and IRI-shaped keys."""
    terms: set[str] = set()
    for url in BUNDLED_CONTEXTS:
        context_terms(load_context(url), terms)
    terms -= {"id", "type"}  # Keyword aliases would change the node, not probe it.
    terms |= {"zzUnknown", "untp-core:probe", "unknownprefix:probe", "_:b0"}
    return sorted(terms)


@pytest.mark.parametrize("kind", KINDS)
def test_probes_match_pyld(kind: str) -> None:
    """Put every context term into every distinct object and compare with what pyld drops.

    Objects at the second and later index of an array repeat the first one in the samples,
    so only the first is probed to keep the test fast.
    """
    sample = load_sample(kind)
    terms = probe_terms()
    mismatches = []
    for path, node in objects(sample):
        if any(isinstance(part, int) and part > 0 for part in path):
            continue
        document = copy.deepcopy(sample)
        target = at(document, path)
        markers = {}
        for number, term in enumerate(terms):
            if term not in node:
                markers[term] = f"probe{number}x"
                target[term] = markers[term]
        expanded_text = json.dumps(expand(document))
        flagged = undefined_paths(check_terms(document))
        for term, marker in markers.items():
            term_path = json_path([*path, term])
            if (marker in expanded_text) == (term_path in flagged):
                mismatches.append(
                    (term_path, "pyld keeps" if marker in expanded_text else "pyld drops")
                )
            flagged.discard(term_path)
        assert not flagged, f"flagged keys that were not probed: {flagged}"
    assert mismatches == []


@pytest.mark.parametrize("kind", ["dpp", "dfr"])
def test_type_probes_match_pyld(kind: str) -> None:
    """Append each probe as a type value and compare with the types pyld leaves relative."""
    sample = load_sample(kind)
    candidates = [
        "Product",
        "Party",
        "Link",
        "Criterion",
        "BogusType",
        "untp-core:Probe",
        "linkURL",
    ]
    for path, node in objects(sample):
        if any(isinstance(part, int) and part > 0 for part in path):
            continue
        if not isinstance(node.get("type"), list):
            continue
        for candidate in candidates:
            document = copy.deepcopy(sample)
            types = at(document, path)["type"]
            types.append(candidate)
            type_path = json_path([*path, "type", len(types) - 1])
            try:
                relative = candidate in expanded_types(expand(document))
            except JsonLdError as error:
                # A type whose scoped context redefines a protected term: pyld rejects the
                # document, and the check reports the redefinition.
                assert error.code == "protected term redefinition"
                codes = {finding.code for finding in check_terms(document)}
                assert "jsonld.protected_redefinition" in codes, type_path
                continue
            flagged = undefined_paths(check_terms(document))
            assert (type_path in flagged) == relative, type_path
            assert flagged <= {type_path}, type_path


# --- contexts in the document ------------------------------------------------------------


def test_unbundled_context_reported_once() -> None:
    document = load_sample("dpp")
    document["@context"].append("https://example.org/extra-context")
    document["credentialSubject"]["zzUnknown"] = 1
    findings = check_terms(document)
    assert [finding.code for finding in findings] == ["jsonld.context_unavailable"]
    assert findings[0].path == "$['@context']"
    assert "https://example.org/extra-context" in findings[0].message


def test_nested_unbundled_context() -> None:
    document = load_sample("dpp")
    document["credentialSubject"]["product"]["@context"] = "https://example.org/nested"
    document["credentialSubject"]["product"]["zzUnknown"] = 1
    findings = check_terms(document)
    assert [(finding.code, finding.path) for finding in findings] == [
        ("jsonld.context_unavailable", "$.credentialSubject.product['@context']")
    ]


def test_protected_redefinition_flagged() -> None:
    document = load_sample("dpp")
    document["@context"].append({"name": "https://example.org/otherName"})
    with pytest.raises(JsonLdError) as raised:
        expand(document)
    assert raised.value.code == "protected term redefinition"
    findings = check_terms(document)
    assert [finding.code for finding in findings] == ["jsonld.protected_redefinition"]
    assert "'name'" in findings[0].message


def test_same_redefinition_allowed() -> None:
    document = load_sample("dpp")
    document["@context"].append({"name": "https://schema.org/name"})
    expand(document)
    assert check_terms(document) == []


def test_inline_term_defined() -> None:
    original = load_sample("dpp")
    mutated = copy.deepcopy(original)
    mutated["@context"].append({"extraNote": "https://example.org/extraNote"})
    mutated["extraNote"] = "x"
    original["@context"].append({"extraNote": "https://example.org/extraNote"})
    assert_kept_unflagged(original, mutated)


def test_foreign_vocab_warns() -> None:
    document = load_sample("dpp")
    document["@context"].append({"@vocab": "https://example.org/vocab#"})
    document["credentialSubject"]["product"]["zzVocabTerm"] = "x"
    document["credentialSubject"]["product"]["type"].append("VocabType")
    expanded = json.dumps(expand(document))
    assert "https://example.org/vocab#zzVocabTerm" in expanded
    assert "https://example.org/vocab#VocabType" in expanded
    findings = check_terms(document)
    assert errors(findings) == []
    assert {(finding.code, finding.path) for finding in findings} == {
        ("jsonld.vocab_term", "$.credentialSubject.product.zzVocabTerm"),
        ("jsonld.vocab_term", "$.credentialSubject.product.type[1]"),
    }


def test_json_literal_not_checked() -> None:
    document = {
        "@context": [VC_V2, {"payload": {"@id": "https://example.org/payload", "@type": "@json"}}],
        "type": ["VerifiableCredential"],
        "payload": {"anything": {"goes": [1, 2]}},
    }
    assert "anything" in json.dumps(expand(document))
    assert check_terms(document) == []


def test_nest_keys_checked() -> None:
    context = {
        "meta": "@nest",
        "nestedNote": {"@id": "https://example.org/nestedNote", "@nest": "meta"},
    }
    document = {
        "@context": [VC_V2, context],
        "type": ["VerifiableCredential"],
        "meta": {"nestedNote": "kept", "zzUnknown": "dropped"},
    }
    expanded = json.dumps(expand(document))
    assert "kept" in expanded
    assert "dropped" not in expanded
    assert undefined_paths(check_terms(document)) == {"$.meta.zzUnknown"}


@pytest.mark.parametrize("propagate", [True, False])
def test_type_scope_propagation(propagate: bool) -> None:
    scoped: dict[str, Any] = {"innerNote": "https://example.org/innerNote"}
    if propagate:
        scoped["@propagate"] = True
    context = {
        "Thing": {"@id": "https://example.org/Thing", "@context": scoped},
        "child": "https://example.org/child",
    }
    document = {
        "@context": [VC_V2, context],
        "type": "Thing",
        "child": {"innerNote": "probe"},
    }
    pyld_keeps_note = "probe" in json.dumps(expand(document))
    assert pyld_keeps_note is propagate
    flagged = undefined_paths(check_terms(document))
    assert flagged == (set() if propagate else {"$.child.innerNote"})


def test_type_scope_kept_for_id_only() -> None:
    # A node with only an @id still uses the type-scoped context of its parent.
    context = {
        "Thing": {
            "@id": "https://example.org/Thing",
            "@context": {"ref": {"@id": "https://example.org/ref", "@type": "@id"}},
        },
    }
    document = {"@context": [VC_V2, context], "type": "Thing", "ref": {"id": "urn:x:1"}}
    expand(document)
    assert check_terms(document) == []


def test_two_type_keys() -> None:
    # `type` and `@type` in one object: the type-scoped contexts of both apply.
    context = {
        "Thing": {
            "@id": "https://example.org/Thing",
            "@context": {"innerNote": "https://example.org/innerNote"},
        }
    }
    document = {
        "@context": [VC_V2, context],
        "type": "Thing",
        "@type": "VerifiableCredential",
        "innerNote": "kept",
        "zzUnknown": "dropped",
    }
    expanded = json.dumps(expand(document))
    assert "kept" in expanded
    assert "dropped" not in expanded
    assert undefined_paths(check_terms(document)) == {"$.zzUnknown"}


def test_context_registered_after_failure() -> None:
    from valuetrace.jsonld import register_context

    url = "https://example.org/contexts/registered-late/v1"
    document = {
        "@context": [VC_V2, url],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"lateTerm": 1},
    }

    before = [finding.code for finding in check_terms(document)]
    register_context(url, {"@context": {"lateTerm": "https://example.org/vocab#lateTerm"}})
    after = [finding.code for finding in check_terms(document)]

    assert before == ["jsonld.context_unavailable"]
    assert after == []


EX = "http://example.org/"


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"@version": 1.0}, id="version-not-1.1"),
        pytest.param({"@base": True}, id="base-not-string"),
        pytest.param({"@direction": "up"}, id="direction-value"),
        pytest.param({"@language": 5}, id="language-not-string"),
        pytest.param({"@type": {}}, id="type-without-set"),
        pytest.param({"@type": {"@protected": True}}, id="type-protected-only"),
        pytest.param({"term": {"@id": EX + "t", "@index": True}}, id="index-without-container"),
        pytest.param(
            {"term": {"@id": EX + "t", "@container": "@index", "@index": "@id"}},
            id="index-keyword",
        ),
        pytest.param({"term": {"@id": EX + "t", "@nest": "@id"}}, id="nest-keyword"),
        pytest.param({"term": {"@reverse": EX + "r", "@nest": "@nest"}}, id="reverse-nest"),
        pytest.param({"term": {"@id": EX + "t", "@reverse": EX + "r"}}, id="reverse-and-id"),
        pytest.param({"term": {"@reverse": EX + "r", "@container": "@list"}}, id="reverse-list"),
        pytest.param({"term": {"@id": EX + "t", "@language": True}}, id="term-language"),
        pytest.param({"term": {"@id": EX + "t", "@direction": "up"}}, id="term-direction"),
        pytest.param({"term": {"@id": EX + "t", "@prefix": 10}}, id="prefix-not-boolean"),
        pytest.param({"term": {"@id": EX + "t", "@type": "_:blank"}}, id="type-blank-node"),
        pytest.param({"v": EX, "v:term": "v:other"}, id="compact-iri-term-elsewhere"),
        pytest.param({"./relative": EX + "other"}, id="relative-iri-term"),
        pytest.param({EX + "a": {"@id": EX + "b"}}, id="absolute-iri-term-elsewhere"),
        pytest.param(
            {"unused": {"@id": EX + "u", "@context": {"inner": {"@context": {"x": None}}}}},
            id="unused-invalid-scoped-context",
        ),
    ],
)
def test_invalid_context_rejected(context: dict[str, Any]) -> None:
    document = {"@context": [VC_V2, context], "type": ["VerifiableCredential"]}

    codes = [finding.code for finding in check_terms(document)]

    assert "jsonld.invalid_context" in codes


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"@type": {"@container": "@set", "@protected": True}}, id="type-set"),
        pytest.param({"v": EX, "v:term": {"@id": "v:term"}}, id="compact-iri-term-itself"),
        pytest.param({EX + "a": {"@id": EX + "a", "@type": "@id"}}, id="iri-term-itself"),
        pytest.param(
            {"term": {"@id": EX + "t", "@container": "@index", "@index": "label"}},
            id="property-index",
        ),
        pytest.param({"term": {"@reverse": EX + "r", "@container": "@set"}}, id="reverse-set"),
    ],
)
def test_valid_context_accepted(context: dict[str, Any]) -> None:
    document = {"@context": [VC_V2, context], "type": ["VerifiableCredential"]}

    codes = [finding.code for finding in check_terms(document)]

    assert "jsonld.invalid_context" not in codes


def test_self_including_scoped_context() -> None:
    from valuetrace.jsonld import register_context

    url = "https://example.org/contexts/self-including/v1"
    register_context(url, {"@context": {"tree": {"@id": EX + "tree", "@context": url}}})
    document = {"@context": [VC_V2, url], "type": ["VerifiableCredential"], "tree": {"tree": {}}}

    codes = [finding.code for finding in check_terms(document)]

    assert "jsonld.invalid_context" not in codes
