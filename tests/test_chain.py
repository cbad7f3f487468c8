"""The chain walk over the demo's textile chain, intact and with one fault at a time."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from valuetrace.chain import (
    Report,
    Sources,
    TrustSettings,
    load_credential_files,
    subject_keys,
    verify_chain,
)
from valuetrace.demo import DemoChain, build_textile_chain, export_chain, tamper_credential
from valuetrace.findings import Finding
from valuetrace.store import Store
from valuetrace.vc import credential_issuer, decode_envelope, sign_enveloped

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoChain]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    with Store.open(path) as store:
        chain = build_textile_chain(store, now=NOW, key_secret=b"test passphrase")
    return path, chain


@pytest.fixture
def demo(demo_build: tuple[Path, DemoChain], tmp_path: Path) -> Iterator[tuple[Store, DemoChain]]:
    """A private copy of the demo store, so a test can damage it."""
    source, chain = demo_build
    copy = tmp_path / "demo.sqlite"
    shutil.copy(source, copy)
    with Store.open(copy) as store:
        yield store, chain


def walk(store: Store, chain: DemoChain, **options: Any) -> Report:
    options.setdefault("at", NOW)
    options.setdefault("trusted_dids", chain.trusted_dids)
    return verify_chain(chain.garment_link, Sources(store=store), **options)


def codes(report: Report) -> list[str]:
    return [finding.code for finding in report.findings]


def errors(report: Report) -> list[Finding]:
    return [finding for finding in report.findings if finding.severity.value == "error"]


def resign(
    store: Store, chain: DemoChain, name: str, change: Callable[[dict[str, Any]], None]
) -> str:
    """Change a stored credential and sign it again with its issuer's key."""
    url = chain.credentials[name]
    stored = store.get_credential(url)
    assert stored is not None
    payload = decode_envelope(json.loads(stored.content)).payload
    change(payload)
    issuer = credential_issuer(payload)
    organisation = next(o for o in chain.organisations.values() if o.did == issuer)
    envelope = sign_enveloped(payload, organisation.key, organisation.kid)
    store.put_credential(
        url,
        json.dumps(envelope).encode(),
        credential_id=url,
        credential_type=stored.credential_type,
        issuer=issuer,
        subject_ids=[identifier for _, identifier in subject_keys(payload)],
        replace=True,
    )
    return url


def test_demo_chain_verified(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain)
    assert errors(report) == []
    assert report.verified
    assert report.root == chain.garment_link
    # 8 DIAs, 6 DFRs, 2 DCCs, 6 production and 6 shipment DTEs, 6 DPPs
    assert len(report.credentials) == 34


def test_demo_claims_matched_by_kind(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain)
    matches = {result.topic: result.match for result in report.claims}
    assert matches == {"environment.biodiversity": "upstream", "social.labour": "facility"}
    assert all(result.attested for result in report.claims)
    assert not report.strict_rule_passed
    verifiers = {result.verifier for result in report.claims}
    assert verifiers == {"Demo Organic and Social Certification"}


def test_demo_provenance_backed_share(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain)
    assert report.provenance is not None
    data = report.provenance.to_dict()
    assert data["declaredMassKg"] == pytest.approx(0.25)
    assert data["verifiedRatio"] == pytest.approx(0.95)
    assert data["declaredVerifiedRatio"] == pytest.approx(0.95)
    assert data["byCountry"]["IN"]["share"] == pytest.approx(1.0)
    assert data["byCountry"]["CN"]["share"] == pytest.approx(0.0)
    assert "provenance.unbacked" in codes(report)
    assert "provenance.ratio_overstated" not in codes(report)


def test_tampered_passport_signature_invalid(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    url = chain.credentials["dpp-yarn"]

    def double_weight(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["product"]["dimensions"]["weight"]["value"] *= 2

    tamper_credential(store, url, double_weight)
    report = walk(store, chain)
    assert not report.verified
    invalid = [f for f in report.findings if f.code == "signature.invalid"]
    assert [f.credential for f in invalid] == [url]
    # the walk went on past the broken passport, up to the farms
    assert chain.credentials["dpp-seed-a"] in {row["ref"] for row in report.credentials}
    # but the broken passport cuts the evidence that reaches the garment through it
    organic = [r for r in report.claims if r.topic == "environment.biodiversity"]
    assert [r.attested for r in organic] == [False]
    assert report.provenance is not None
    assert report.provenance.to_dict()["verifiedRatio"] == pytest.approx(0.0)


def test_unsigned_credential_proof_missing(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    url = chain.credentials["dpp-fabric"]
    stored = store.get_credential(url)
    assert stored is not None
    plain = decode_envelope(json.loads(stored.content)).payload
    store.put_credential(
        url,
        json.dumps(plain).encode(),
        credential_type=stored.credential_type,
        issuer=stored.issuer,
        replace=True,
    )
    report = walk(store, chain)
    mine = [f for f in report.findings if f.credential == url]
    assert [f.code for f in mine] == ["proof.missing"]
    assert not report.verified


def test_schema_violation_reported_with_path(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def break_name(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["product"]["name"] = 5

    url = resign(store, chain, "dpp-yarn", break_name)
    report = walk(store, chain)
    schema = [f for f in report.findings if f.code == "schema.invalid" and f.credential == url]
    assert schema
    assert {f.path for f in schema} == {"$.credentialSubject.product.name"}


def test_changed_certificate_hash_mismatch(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def rename(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["name"] = "Organic cotton production certificate (renewed)"

    resign(store, chain, "dcc-organic-cotton", rename)
    report = walk(store, chain)
    mismatches = [f for f in report.findings if f.code == "link.hash_mismatch"]
    assert len(mismatches) == 1
    assert mismatches[0].credential == chain.credentials["dpp-garment"]
    assert mismatches[0].path == (
        "$.credentialSubject.conformityClaim[0].conformityEvidence.hashDigest"
    )


def test_anchor_of_other_subject_unanchored(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def other_subject(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["id"] = "did:web:someone-else.valuetrace.example"

    resign(store, chain, "dia-spinner", other_subject)
    report = walk(store, chain)
    unanchored = [f for f in report.findings if f.code == "issuer.unanchored"]
    spinner_credentials = {
        chain.credentials["dpp-yarn"],
        chain.credentials["dte-spinning-yarn"],
        chain.credentials["dte-shipping-yarn"],
        chain.credentials["dfr-spinner"],
    }
    assert {f.credential for f in unanchored} == spinner_credentials
    assert all("anchors another subject" in f.message for f in unanchored)


def test_untrusted_root_unanchored(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain, trusted_dids=["did:web:unknown-register.valuetrace.example"])
    assert "issuer.unanchored" in codes(report)
    assert not report.verified


def test_no_trust_roots_reported(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain, trusted_dids=[])
    assert "trust.no_roots" in codes(report)
    assert not report.verified


def test_every_unattested_criterion_reported(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def add_claims(payload: dict[str, Any]) -> None:
        claims = payload["credentialSubject"]["conformityClaim"]
        extra = json.loads(json.dumps(claims[1]))
        extra["id"] += "-extra"
        extra.pop("conformityEvidence")
        for number in (1, 2):
            criterion = dict(extra["assessmentCriteria"][0])
            criterion["id"] = f"https://certifier.valuetrace.example/schemes/x#criterion-{number}"
            extra["assessmentCriteria"].append(criterion)
        claims.append(extra)

    resign(store, chain, "dpp-garment", add_claims)
    report = walk(store, chain)
    unattested = [f for f in report.findings if f.code == "claim.unattested"]
    assert len(unattested) == 2
    assert {f.path for f in unattested} == {
        "$.credentialSubject.conformityClaim[2].assessmentCriteria[1]",
        "$.credentialSubject.conformityClaim[2].assessmentCriteria[2]",
    }
    attested = [result for result in report.claims if result.attested]
    assert len(attested) == 3  # the two original criteria and the repeated labour one


def test_missing_linked_event_reported(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def dangling_link(payload: dict[str, Any]) -> None:
        links = payload["credentialSubject"]["traceabilityInformation"][0]["traceabilityEvent"]
        links.append(
            {
                "linkURL": "https://weaver.valuetrace.example/credentials/not-published.json",
                "linkName": "Dyeing event",
                "linkType": "https://test.uncefact.org/vocabulary/linkTypes/dte",
            }
        )

    url = resign(store, chain, "dpp-fabric", dangling_link)
    report = walk(store, chain)
    missing = [f for f in report.findings if f.code == "credential.missing"]
    assert len(missing) == 1
    assert missing[0].credential == url
    assert missing[0].path == "$.credentialSubject.traceabilityInformation[0].traceabilityEvent[2]"
    # the rest of the chain was still walked
    assert chain.credentials["dpp-seed-b"] in {row["ref"] for row in report.credentials}


def test_verification_after_expiry(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain, at=NOW + timedelta(days=400))
    expired = {f.credential for f in report.findings if f.code == "credential.expired"}
    assert len(expired) == len(report.credentials)


def test_verification_before_issue(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain, at=NOW - timedelta(days=30))
    assert "credential.not_yet_valid" in codes(report)


def test_event_cycle_detected(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def garment_as_input(payload: dict[str, Any]) -> None:
        event = payload["credentialSubject"][0]
        event["inputEPCList"].append(
            {"type": ["Item"], "id": chain.garment_link, "name": "T-shirt"}
        )

    resign(store, chain, "dte-ginning-lint", garment_as_input)
    report = walk(store, chain)
    cycles = [f for f in report.findings if f.code == "chain.cycle"]
    assert len(cycles) == 1
    assert chain.credentials["dpp-garment"] in cycles[0].message


def test_depth_limit_stops_walk(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    report = walk(store, chain, max_depth=2)
    assert "chain.depth_limit" in codes(report)
    assert chain.credentials["dpp-seed-a"] not in {row["ref"] for row in report.credentials}


def test_exported_files_verify_offline(demo: tuple[Store, DemoChain], tmp_path: Path) -> None:
    store, chain = demo
    export_chain(store, chain, tmp_path)
    sources = Sources(store=None)
    sources.add_files(load_credential_files([tmp_path / "enveloped", tmp_path / "did"]))
    report = verify_chain(chain.garment_link, sources, at=NOW, trusted_dids=chain.trusted_dids)
    assert errors(report) == []
    assert len(report.credentials) == 36


def test_plain_files_checked_as_graph(demo: tuple[Store, DemoChain], tmp_path: Path) -> None:
    store, chain = demo
    export_chain(store, chain, tmp_path)
    sources = Sources(store=None)
    sources.add_files(load_credential_files([tmp_path / "plain"]))
    report = verify_chain(chain.garment_link, sources, at=NOW, trusted_dids=chain.trusted_dids)
    error_codes = {f.code for f in errors(report)}
    # unsigned credentials are checked for everything else, but are no evidence; an unsigned
    # status list cannot vouch for the certificates' status either
    assert error_codes == {
        "proof.missing",
        "issuer.unanchored",
        "claim.unattested",
        "status.unavailable",
    }
    assert len([f for f in report.findings if f.code == "proof.missing"]) == 36
    unanchored = [f for f in report.findings if f.code == "issuer.unanchored"]
    assert all("is not signed" in f.message for f in unanchored)
    assert not any(result.attested for result in report.claims)


def test_sha1_link_weak_hash_warning(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    dcc = store.get_credential(chain.credentials["dcc-social-audit"])
    assert dcc is not None
    sha1 = hashlib.sha1(dcc.content, usedforsecurity=False).hexdigest()

    def use_sha1(payload: dict[str, Any]) -> None:
        evidence = payload["credentialSubject"]["conformityClaim"][1]["conformityEvidence"]
        evidence["hashDigest"] = sha1
        evidence["hashMethod"] = "SHA-1"

    resign(store, chain, "dpp-garment", use_sha1)
    report = walk(store, chain)
    weak = [f for f in report.findings if f.code == "link.weak_hash"]
    assert len(weak) == 1
    assert weak[0].severity.value == "warning"
    assert "link.hash_mismatch" not in codes(report)
    assert report.verified


def test_sha1_link_mismatch_detected(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def wrong_sha1(payload: dict[str, Any]) -> None:
        evidence = payload["credentialSubject"]["conformityClaim"][1]["conformityEvidence"]
        evidence["hashDigest"] = "0" * 40
        evidence["hashMethod"] = "SHA-1"

    resign(store, chain, "dpp-garment", wrong_sha1)
    report = walk(store, chain)
    assert "link.hash_mismatch" in codes(report)
    assert not report.verified


def test_revoked_certificate_reported(demo: tuple[Store, DemoChain]) -> None:
    from valuetrace.demo import revoke_credential

    store, chain = demo
    revoke_credential(store, chain, "dcc-organic-cotton", now=NOW)
    report = walk(store, chain)
    revoked = [f for f in report.findings if f.code == "status.revoked"]
    assert [f.credential for f in revoked] == [chain.credentials["dcc-organic-cotton"]]
    organic = [r for r in report.claims if r.topic == "environment.biodiversity"]
    assert [r.attested for r in organic] == [False]
    assert not report.verified


def test_unsigned_status_list_unavailable(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    url = chain.credentials["status-list-revocation"]
    stored = store.get_credential(url)
    assert stored is not None
    plain = decode_envelope(json.loads(stored.content)).payload
    store.put_credential(url, json.dumps(plain).encode(), replace=True)
    report = walk(store, chain)
    unavailable = {f.credential for f in report.findings if f.code == "status.unavailable"}
    assert unavailable == {
        chain.credentials["dcc-organic-cotton"],
        chain.credentials["dcc-social-audit"],
    }
    assert not report.verified


def _secure_with_data_integrity(
    store: Store, chain: DemoChain, name: str, signer: str | None = None
) -> tuple[str, dict[str, Any]]:
    from valuetrace.vc._dataintegrity import add_proof_eddsa_jcs

    url = chain.credentials[name]
    stored = store.get_credential(url)
    assert stored is not None
    plain = decode_envelope(json.loads(stored.content)).payload
    issuer = credential_issuer(plain)
    organisation = next(o for o in chain.organisations.values() if o.did == (signer or issuer))
    secured = add_proof_eddsa_jcs(plain, organisation.key, organisation.kid, created=NOW)
    return url, secured


def test_data_integrity_proof_verified(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    url, secured = _secure_with_data_integrity(store, chain, "dpp-fabric")
    store.put_credential(url, json.dumps(secured).encode(), replace=True)
    report = walk(store, chain)
    assert [f for f in report.findings if f.credential == url] == []
    assert report.verified


def _secure_with(
    store: Store, chain: DemoChain, name: str, mechanism: str
) -> tuple[str, dict[str, Any]]:
    """Secure a stored credential again with another mechanism, adding a P-256 key if needed."""
    from valuetrace.did import EcKeyPair, KeyType, build_did_web_document, find_dia_urls
    from valuetrace.vc import add_proof

    url = chain.credentials[name]
    stored = store.get_credential(url)
    assert stored is not None
    plain = decode_envelope(json.loads(stored.content)).payload
    organisation = next(
        o for o in chain.organisations.values() if o.did == credential_issuer(plain)
    )
    if mechanism == "eddsa-rdfc-2022":
        secured = add_proof(
            plain, organisation.key, organisation.kid, cryptosuite=mechanism, created=NOW
        )
        return url, secured

    ec_key = EcKeyPair.generate(KeyType.P256)
    old_document = store.get_did_document(organisation.did)
    assert old_document is not None
    document = build_did_web_document(
        organisation.did,
        [("key-1", organisation.key.verification_key), ("key-2", ec_key.verification_key)],
        dia_url=find_dia_urls(old_document)[0],
    )
    store.put_did_document(organisation.did, document)
    kid = f"{organisation.did}#key-2"
    if mechanism == "ecdsa-rdfc-2019":
        return url, add_proof(plain, ec_key, kid, cryptosuite=mechanism, created=NOW)
    return url, sign_enveloped(plain, ec_key, kid)


@pytest.mark.parametrize("mechanism", ["eddsa-rdfc-2022", "ecdsa-rdfc-2019", "jose-es256"])
def test_walk_other_securing_mechanisms(demo: tuple[Store, DemoChain], mechanism: str) -> None:
    store, chain = demo
    url, secured = _secure_with(store, chain, "dpp-fabric", mechanism)
    store.put_credential(url, json.dumps(secured).encode(), replace=True)

    report = walk(store, chain)

    assert [f for f in report.findings if f.credential == url] == []
    assert report.verified
    row = next(row for row in report.credentials if row["ref"] == url)
    assert row["signature"] == "valid"


@pytest.mark.parametrize("mechanism", ["eddsa-rdfc-2022", "ecdsa-rdfc-2019", "jose-es256"])
def test_walk_other_mechanisms_tampered(demo: tuple[Store, DemoChain], mechanism: str) -> None:
    store, chain = demo
    url, secured = _secure_with(store, chain, "dpp-fabric", mechanism)
    if mechanism == "jose-es256":
        header, payload, signature = secured["id"].split(",", 1)[1].split(".")
        changed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        changed["credentialSubject"]["product"]["countryOfProduction"] = "BD"
        encoded = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
        secured["id"] = f"data:application/vc+jwt,{header}.{encoded}.{signature}"
    else:
        secured["credentialSubject"]["product"]["countryOfProduction"] = "BD"
    store.put_credential(url, json.dumps(secured).encode(), replace=True)

    report = walk(store, chain)

    assert "signature.invalid" in {f.code for f in report.findings if f.credential == url}
    assert not report.verified


def test_data_integrity_proof_tampered(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    url, secured = _secure_with_data_integrity(store, chain, "dpp-fabric")
    secured["credentialSubject"]["product"]["countryOfProduction"] = "BD"
    store.put_credential(url, json.dumps(secured).encode(), replace=True)
    report = walk(store, chain)
    assert "signature.invalid" in {f.code for f in report.findings if f.credential == url}


def test_data_integrity_foreign_key(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    url, secured = _secure_with_data_integrity(
        store, chain, "dpp-fabric", signer="did:web:spinner.valuetrace.example"
    )
    store.put_credential(url, json.dumps(secured).encode(), replace=True)
    report = walk(store, chain)
    codes_here = {f.code for f in report.findings if f.credential == url}
    assert "signature.kid_mismatch" in codes_here
    assert not report.verified


def accreditation_trust(chain: DemoChain, *, bodies: list[str] | None = None) -> TrustSettings:
    return TrustSettings.of(
        chain.trusted_dids,
        chain.accreditation_bodies if bodies is None else bodies,
        require_accreditation=True,
    )


def accreditation_findings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.code.startswith("accreditation.")]


def test_accreditation_required_verified(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    report = walk(store, chain, trust=accreditation_trust(chain))

    assert report.verified, errors(report)
    assert report.require_accreditation
    assert report.accreditation_bodies == chain.accreditation_bodies
    walked = {row["ref"] for row in report.credentials}
    assert chain.credentials["dcc-accreditation-certifier"] in walked


def test_accreditation_not_followed_by_default(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    report = walk(store, chain)

    walked = {row["ref"] for row in report.credentials}
    assert chain.credentials["dcc-accreditation-certifier"] not in walked
    assert accreditation_findings(report) == []


def test_untrusted_accreditation_body(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    report = walk(store, chain, trust=accreditation_trust(chain, bodies=[]))

    found = accreditation_findings(report)
    assert [f.code for f in found] == ["accreditation.invalid", "accreditation.invalid"]
    assert all("is not a trusted accreditation body" in f.message for f in found)
    assert {f.path for f in found} == {"$.credentialSubject.authorisation[0]"}
    assert not report.verified
    organic = next(c for c in report.claims if "organic" in c.criterion)
    assert not organic.attested


def test_accreditation_for_other_party(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    other = chain.organisations["farm-a"].did

    def reassign(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["issuedToParty"]["id"] = other

    resign(store, chain, "dcc-accreditation-certifier", reassign)
    report = walk(store, chain, trust=accreditation_trust(chain))

    found = accreditation_findings(report)
    assert len(found) == 2
    assert all(f"is issued to {other}" in f.message for f in found)


def test_accreditation_tampered_evidence(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def widen(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["description"] = "Accredited for every scheme."

    tamper_credential(store, chain.credentials["dcc-accreditation-certifier"], widen)
    report = walk(store, chain, trust=accreditation_trust(chain))

    found = accreditation_findings(report)
    assert len(found) == 2
    assert all("failed verification (signature.invalid)" in f.message for f in found)


def test_accreditation_from_other_issuer(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo
    impostor = chain.organisations["brand"]

    def reissue(payload: dict[str, Any]) -> None:
        payload["issuer"] = impostor.issuer()

    resign(store, chain, "dcc-accreditation-certifier", reissue)
    report = walk(store, chain, trust=accreditation_trust(chain))

    found = accreditation_findings(report)
    assert len(found) == 2
    assert all(f"was issued by {impostor.did}" in f.message for f in found)


def test_accreditation_missing_authorisation(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def drop(payload: dict[str, Any]) -> None:
        del payload["credentialSubject"]["authorisation"]

    url = resign(store, chain, "dcc-social-audit", drop)
    report = walk(store, chain, trust=accreditation_trust(chain))

    missing = [f for f in report.findings if f.code == "accreditation.missing"]
    assert len(missing) == 1
    assert missing[0].credential == url
    assert missing[0].path == "$.credentialSubject.authorisation"


def test_accreditation_nonconformance(demo: tuple[Store, DemoChain]) -> None:
    store, chain = demo

    def fail(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["assessment"][0]["conformance"] = False

    resign(store, chain, "dcc-accreditation-certifier", fail)
    report = walk(store, chain, trust=accreditation_trust(chain))

    found = accreditation_findings(report)
    assert len(found) == 2
    assert all("conformance false" in f.message for f in found)


@pytest.mark.parametrize("mechanism", ["eddsa-jcs-2022", "jose"])
def test_missing_did_document_unresolved(
    demo: tuple[Store, DemoChain], tmp_path: Path, mechanism: str
) -> None:
    store, chain = demo
    if mechanism == "jose":
        stored = store.get_credential(chain.credentials["dpp-fabric"])
        assert stored is not None
        content = stored.content
    else:
        _, secured = _secure_with_data_integrity(store, chain, "dpp-fabric")
        content = json.dumps(secured).encode()
    path = tmp_path / "dpp-fabric.json"
    path.write_bytes(content)
    sources = Sources(store=None)
    sources.add_files(load_credential_files([path]))

    report = verify_chain(str(path), sources, at=NOW, trusted_dids=chain.trusted_dids)

    own = {f.code for f in report.findings if f.credential == chain.credentials["dpp-fabric"]}
    assert "did.unresolved" in own
    assert "signature.key_not_found" not in own
    unanchored = [f for f in report.findings if f.code == "issuer.unanchored"]
    assert unanchored
    assert "its DID document could not be resolved" in unanchored[0].message
