"""JSON-LD to RDF and RDFC-1.0 canonicalization: the W3C rdf-canon suite and pyld cross-checks."""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from valuetrace.demo import build_textile_chain
from valuetrace.jsonld import (
    JsonLdError,
    check_terms,
    jsonld_to_nquads,
    load_context,
    pyld_document_loader,
    register_context,
)
from valuetrace.jsonld._rdfc import (
    CanonicalizationError,
    _canonicalize_text,
    _is_simple,
    canonicalize_jsonld,
    canonicalize_nquads,
)
from valuetrace.store import Store
from valuetrace.vc import decode_envelope

DATA = Path(__file__).parent / "data"
RDF_CANON = DATA / "rdf-canon"
VC_DI = DATA / "vc-di"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
CITIZENSHIP_CONTEXT = "https://w3id.org/citizenship/v4rc1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
XSD = "http://www.w3.org/2001/XMLSchema#"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def register_test_contexts() -> None:
    """Make the citizenship context of the W3C vectors available, as a user would."""
    contexts = VC_DI / "contexts"
    register_context(CITIZENSHIP_CONTEXT, read_json(contexts / "w3id.org_citizenship_v4rc1.jsonld"))


register_test_contexts()


def manifest_entries(kind: str) -> list[dict[str, Any]]:
    manifest = read_json(RDF_CANON / "manifest.jsonld")
    return [entry for entry in manifest["entries"] if entry["type"] == kind]


def pyld_nquads(document: dict[str, Any]) -> str:
    result: str = jsonld.to_rdf(
        copy.deepcopy(document),
        {"documentLoader": pyld_document_loader, "format": "application/n-quads"},
    )
    return result


def pyld_canonical(document: dict[str, Any]) -> str:
    result: str = jsonld.normalize(
        copy.deepcopy(document),
        {
            "algorithm": "URDNA2015",
            "documentLoader": pyld_document_loader,
            "format": "application/n-quads",
        },
    )
    return result


# --- W3C rdf-canon test suite -----------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    manifest_entries("rdfc:RDFC10EvalTest"),
    ids=lambda entry: entry["id"].lstrip("#"),
)
def test_rdf_canon_eval(entry: dict[str, Any]) -> None:
    source = (RDF_CANON / entry["action"]).read_text(encoding="utf-8")
    expected = (RDF_CANON / entry["result"]).read_text(encoding="utf-8")
    hash_algorithm = "sha384" if entry.get("hashAlgorithm") == "SHA384" else "sha256"

    assert canonicalize_nquads(source, hash_algorithm=hash_algorithm) == expected


def test_rdf_canon_suite_covers_escaping_and_sha384() -> None:
    names = {entry["id"]: entry for entry in manifest_entries("rdfc:RDFC10EvalTest")}

    assert "#test060c" in names  # N-Quads escaping
    assert names["#test075c"]["hashAlgorithm"] == "SHA384"
    assert len(names) == 64


def test_poison_graph_stopped_at_time_limit() -> None:
    (entry,) = manifest_entries("rdfc:RDFC10NegativeEvalTest")
    assert entry["id"] == "#test074c"
    source = (RDF_CANON / entry["action"]).read_text(encoding="utf-8")

    with pytest.raises(CanonicalizationError) as raised:
        canonicalize_nquads(source, time_limit=1.0)

    assert raised.value.code == "rdfc.time_limit"
    assert "time limit of 1 s" in str(raised.value)


def test_child_process_matches_in_process() -> None:
    # Two circles of blank nodes: the look-alike nodes share quads, so the child process runs.
    source = (RDF_CANON / "rdfc10" / "test022-in.nq").read_text(encoding="utf-8")
    expected = (RDF_CANON / "rdfc10" / "test022-rdfc10.nq").read_text(encoding="utf-8")

    assert canonicalize_nquads(source) == expected
    assert _canonicalize_text(source, "sha256") == expected


def test_invalid_nquads_rejected() -> None:
    with pytest.raises(CanonicalizationError) as raised:
        canonicalize_nquads("<urn:a> <urn:b> .\n")

    assert raised.value.code == "rdfc.failed"


@pytest.mark.parametrize(
    ("hash_algorithm", "time_limit"), [("sha512", 5.0), ("sha256", 0.0), ("sha256", -1.0)]
)
def test_bad_arguments_rejected(hash_algorithm: Any, time_limit: float) -> None:
    with pytest.raises(ValueError):
        canonicalize_nquads("", hash_algorithm=hash_algorithm, time_limit=time_limit)


# --- the decision between this process and a child process -------------------------------------


def quads_of(nquads: str) -> list[tuple[str, str, str, str]]:
    quads = []
    for line in nquads.splitlines():
        terms = line.removesuffix(" .").split(" ")
        quads.append((terms[0], terms[1], terms[2], terms[3] if len(terms) > 3 else ""))
    return quads


def test_simple_without_blank_nodes() -> None:
    assert _is_simple(quads_of("<urn:a> <urn:p> <urn:b> ."))


def test_simple_with_distinct_blank_nodes() -> None:
    assert _is_simple(quads_of("<urn:a> <urn:p> _:x .\n_:x <urn:q> _:y .\n_:y <urn:r> <urn:c> ."))


def test_simple_with_look_alike_leaves() -> None:
    # Two equal leaves under one distinct parent: N-degree hashing finds only named neighbours.
    nquads = "_:p <urn:kind> <urn:parent> .\n_:p <urn:has> _:a .\n_:p <urn:has> _:b ."

    assert _is_simple(quads_of(nquads))


def test_not_simple_when_look_alikes_touch() -> None:
    nquads = "_:a <urn:p> _:b .\n_:b <urn:p> _:a ."

    assert not _is_simple(quads_of(nquads))


def test_not_simple_for_clique() -> None:
    source = (RDF_CANON / "rdfc10" / "test074-in.nq").read_text(encoding="utf-8")

    assert not _is_simple(quads_of(source))


# --- JSON-LD to RDF: rdf-canon escaping through JSON-LD -------------------------------------------


def test_control_characters_escaped() -> None:
    case = read_json(RDF_CANON / "interop" / "control-chars.json")

    assert canonicalize_jsonld(case["input"]) == case["expected_rdfc10"]


def test_control_characters_same_rdf_as_pyld() -> None:
    # pyld's own canonical form does not escape these characters, so compare its RDF after
    # canonicalizing both with pyoxigraph.
    case = read_json(RDF_CANON / "interop" / "control-chars.json")

    assert canonicalize_jsonld(case["input"]) == canonicalize_nquads(pyld_nquads(case["input"]))


# --- cross-checks against pyld ------------------------------------------------------------------


def vector_documents() -> list[Path]:
    paths = sorted(VC_DI.glob("vc-di-*/**/*.json"))
    return [
        path
        for path in paths
        if "keypair" not in path.name.lower() and "Ed25519Signature2020" not in path.parts
    ]


def untp_samples() -> list[str]:
    return [f"data/untp/0.6.1/{kind}/untp-{kind}-instance.json" for kind in KINDS]


KINDS = ("dpp", "dcc", "dte", "dfr", "dia")


@pytest.fixture(scope="module")
def demo_credentials() -> Iterator[dict[str, dict[str, Any]]]:
    """The demo chain's credentials, decoded from their JOSE envelopes."""
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "demo.sqlite") as store:
        chain = build_textile_chain(store, now=datetime(2026, 3, 1, tzinfo=UTC))
        credentials = {}
        for name, url in sorted(chain.credentials.items()):
            stored = store.get_credential(url)
            assert stored is not None, name
            credentials[name] = decode_envelope(json.loads(stored.content)).payload
        yield credentials


@pytest.mark.parametrize("path", vector_documents(), ids=lambda path: str(path.relative_to(VC_DI)))
def test_vector_documents_match_pyld(path: Path) -> None:
    document = read_json(path)

    ours = canonicalize_jsonld(document)

    assert ours == canonicalize_nquads(pyld_nquads(document))
    assert ours == pyld_canonical(document)


def test_vector_documents_found() -> None:
    names = {path.name for path in vector_documents()}

    assert {"unsigned.json", "employmentAuth.json", "signedProofSet2.json"} <= names
    assert {"signedECDSAP256.json", "signedECDSAP384.json", "proofConfigDataInt.json"} <= names


@pytest.mark.parametrize("resource", untp_samples())
def test_untp_samples_match_pyld(resource: str) -> None:
    document = json.loads(resources.files("valuetrace").joinpath(resource).read_text("utf-8"))

    ours = canonicalize_jsonld(document)

    assert ours == canonicalize_nquads(pyld_nquads(document))
    assert ours == pyld_canonical(document)


def test_demo_credentials_match_pyld(demo_credentials: dict[str, dict[str, Any]]) -> None:
    assert len(demo_credentials) > 30
    for name, credential in demo_credentials.items():
        ours = canonicalize_jsonld(credential)

        assert ours == canonicalize_nquads(pyld_nquads(credential)), name
        assert ours == pyld_canonical(credential), name


# --- JSON-LD to RDF: values -----------------------------------------------------------------------


def nquads_of(properties: dict[str, Any], context: dict[str, Any] | None = None) -> str:
    document = {
        "@context": {"@vocab": "urn:example:", **(context or {})},
        "@id": "urn:example:s",
        **properties,
    }
    return jsonld_to_nquads(document)


# Expected literals are those jsonld.js 9.0.0 (rdf-canonize 5.0.0) writes for the same JSON.
@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (1, f'"1"^^<{XSD}integer>'),
        (12345678901234567890, f'"12345678901234567168"^^<{XSD}integer>'),
        (9007199254740993, f'"9007199254740992"^^<{XSD}integer>'),
        (5e-324, f'"0"^^<{XSD}integer>'),
        (1.7976931348623157e308, f'"1.797693134862316E308"^^<{XSD}double>'),
        (1.0, f'"1"^^<{XSD}integer>'),
        (-0.0, f'"0"^^<{XSD}integer>'),
        (1e-7, f'"0"^^<{XSD}integer>'),  # jsonld.js prints 1e-7 without a decimal point
        (1.5e-7, f'"1.5E-7"^^<{XSD}double>'),
        (0.25, f'"2.5E-1"^^<{XSD}double>'),
        (1e21, f'"1.0E21"^^<{XSD}double>'),
        (123456789.5, f'"1.234567895E8"^^<{XSD}double>'),
        (True, f'"true"^^<{XSD}boolean>'),
        ("plain", '"plain"'),
        ('quote " and \\ and \n', '"quote \\" and \\\\ and \\n"'),
    ],
)
def test_native_values(value: Any, literal: str) -> None:
    assert nquads_of({"v": value}) == f"<urn:example:s> <urn:example:v> {literal} .\n"


@pytest.mark.parametrize(
    ("value", "literal"),
    [(5, '"5.0E0"'), (0.5, '"5.0E-1"'), ("0.25", '"2.5E-1"'), ("not a number", '"NaN"')],
)
def test_double_coercion(value: Any, literal: str) -> None:
    context = {"d": {"@id": "urn:example:d", "@type": f"{XSD}double"}}

    nquads = nquads_of({"d": value}, context)

    assert nquads == f"<urn:example:s> <urn:example:d> {literal}^^<{XSD}double> .\n"


def test_json_literal_canonical() -> None:
    context = {"j": {"@id": "urn:example:j", "@type": "@json"}}

    nquads = nquads_of({"j": {"b": [1.0, "x"], "a": None}}, context)

    rdf_json = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
    literal = '"{\\"a\\":null,\\"b\\":[1,\\"x\\"]}"'
    assert nquads == f"<urn:example:s> <urn:example:j> {literal}^^<{rdf_json}> .\n"


def test_language_tag_lowercased() -> None:
    nquads = nquads_of({"v": {"@value": "Grüezi", "@language": "de-CH", "@direction": "ltr"}})

    assert nquads == '<urn:example:s> <urn:example:v> "Grüezi"@de-ch .\n'


def test_list_container() -> None:
    nquads = nquads_of({"l": ["a", ["b"]]}, {"l": {"@id": "urn:example:l", "@container": "@list"}})

    canonical = canonicalize_nquads(nquads)
    assert canonical.count("rdf-syntax-ns#first") == 3
    assert canonical.count("rdf-syntax-ns#nil") == 2


def test_graph_container_names_graph() -> None:
    context = {"g": {"@id": "urn:example:g", "@container": "@graph"}}

    nquads = nquads_of({"g": {"@id": "urn:example:inner", "v": "x"}}, context)

    assert nquads == (
        '<urn:example:inner> <urn:example:v> "x" _:b0 .\n<urn:example:s> <urn:example:g> _:b0 .\n'
    )


# --- JSON-LD to RDF: what safe mode rejects ------------------------------------------------------


def credential(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [VC_V2, EXAMPLES_CONTEXT],
        "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject", "name": "Alice"},
    }
    document.update(changes)
    return document


def conversion_error(document: dict[str, Any]) -> JsonLdError:
    with pytest.raises(JsonLdError) as raised:
        jsonld_to_nquads(document)
    return raised.value


def test_undefined_term_rejected() -> None:
    document = credential(**{"@context": [VC_V2]})
    document["credentialSubject"]["undefinedTerm"] = "x"

    error = conversion_error(document)

    assert error.code == "jsonld.undefined_term"
    assert error.path == "$.credentialSubject.undefinedTerm"


def test_undefined_term_same_as_term_check() -> None:
    document = credential(**{"@context": [VC_V2]})
    document["credentialSubject"]["undefinedTerm"] = "x"

    paths = [finding.path for finding in check_terms(document)]

    assert paths == [conversion_error(document).path]


def test_undefined_type_rejected() -> None:
    document = credential(**{"@context": [VC_V2], "type": ["VerifiableCredential", "Alumni"]})

    error = conversion_error(document)

    assert error.code == "jsonld.undefined_term"
    assert error.path == "$.type[1]"


def test_unknown_context_rejected() -> None:
    error = conversion_error(credential(**{"@context": [VC_V2, "https://contexts.example/v9"]}))

    assert error.code == "jsonld.context_unavailable"
    assert "https://contexts.example/v9" in str(error)
    assert "register_context" in str(error)


def test_relative_identifier_rejected() -> None:
    error = conversion_error(credential(id="credentials/1"))

    assert error.code == "jsonld.relative_iri"
    assert error.path == "$.id"


@pytest.mark.parametrize(
    "identifier",
    ["urn:a> <urn:p> <urn:o> .\n<urn:x", "https://example.com/a b", 'urn:a"b', "urn:a\\u0041"],
)
def test_identifier_cannot_inject_quads(identifier: str) -> None:
    error = conversion_error(credential(id=identifier))

    assert error.code in ("jsonld.invalid_iri", "jsonld.relative_iri")


def test_default_language_rejected() -> None:
    document = credential(**{"@context": [VC_V2, {"@language": "en"}]})

    error = conversion_error(document)

    assert error.code == "jsonld.unsupported"
    assert "@language" in str(error)


def test_free_floating_value_rejected() -> None:
    document = {"@context": {"@vocab": "urn:example:"}, "@graph": ["a string"]}

    assert conversion_error(document).code == "jsonld.dropped_value"


def test_invalid_language_tag_rejected() -> None:
    document = credential()
    document["credentialSubject"]["name"] = {"@value": "x", "@language": "en US"}

    assert conversion_error(document).code == "jsonld.invalid_language"


def test_non_mapping_rejected() -> None:
    with pytest.raises(TypeError, match="JSON object"):
        jsonld_to_nquads([])  # type: ignore[arg-type]


# --- registered contexts --------------------------------------------------------------------------


def test_registered_context_used_everywhere() -> None:
    url = "https://contexts.test.example/registered/v1"
    register_context(url, {"@context": {"shoeSize": "urn:example:shoeSize"}})
    document = credential(**{"@context": [VC_V2, url]})
    document["credentialSubject"]["shoeSize"] = 42

    assert load_context(url) == {"@context": {"shoeSize": "urn:example:shoeSize"}}
    assert pyld_document_loader(url)["document"] == load_context(url)
    assert check_terms(document) == []
    assert '<urn:example:shoeSize> "42"' in canonicalize_jsonld(document)


def test_register_same_document_twice() -> None:
    url = "https://contexts.test.example/twice/v1"
    register_context(url, {"@context": {"a": "urn:example:a"}})

    register_context(url, {"@context": {"a": "urn:example:a"}})

    assert load_context(url) == {"@context": {"a": "urn:example:a"}}


def test_register_other_document_rejected() -> None:
    url = "https://contexts.test.example/conflict/v1"
    register_context(url, {"@context": {"a": "urn:example:a"}})

    with pytest.raises(ValueError, match="already registered"):
        register_context(url, {"@context": {"a": "urn:example:b"}})


def test_register_bundled_rejected() -> None:
    with pytest.raises(ValueError, match="bundled"):
        register_context(VC_V2, {"@context": {}})


def test_register_without_context_rejected() -> None:
    with pytest.raises(ValueError, match="@context"):
        register_context("https://contexts.test.example/empty/v1", {"a": "urn:example:a"})


def test_register_copies_document() -> None:
    url = "https://contexts.test.example/copied/v1"
    document: dict[str, Any] = {"@context": {"a": "urn:example:a"}}
    register_context(url, document)

    document["@context"]["a"] = "urn:example:changed"

    assert load_context(url) == {"@context": {"a": "urn:example:a"}}


@pytest.mark.parametrize("kind", ["dcc", "dfr", "dia", "dpp", "dte"])
def test_untp_sample_matches_jsonld_js(kind: str) -> None:
    """The canonical N-Quads of each UNTP sample equal those jsonld.js 9.0.0 produced."""
    sample = resources.files("valuetrace") / "data" / "untp" / "0.6.1" / kind
    document = json.loads((sample / f"untp-{kind}-instance.json").read_text(encoding="utf-8"))
    expected = (DATA / "jsonld-js" / f"untp-{kind}-instance.nq").read_text(encoding="utf-8")

    assert canonicalize_jsonld(document) == expected
