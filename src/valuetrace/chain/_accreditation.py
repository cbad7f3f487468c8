"""Accreditation of conformity assessment bodies, checked after the walk.

A conformity credential (DCC) names the authority it is issued under in
``credentialSubject.authorisation``: each Endorsement gives the ``issuingAuthority`` and an
``endorsementEvidence`` link to the accreditation credential. The accreditation holds when the
linked credential passed every check, was issued by the named authority, that authority is a
trusted accreditation body, and the credential is issued to the DCC's issuer without stating
non-conformance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valuetrace.chain._check import CheckedCredential
from valuetrace.chain._graph import as_list
from valuetrace.findings import Finding, Severity
from valuetrace.untp import CredentialKind

__all__ = ["accreditation_links", "check_accreditation"]


def accreditation_links(checked: CheckedCredential) -> list[tuple[str, str]]:
    """Return ``(JSON path, URL)`` of every endorsement evidence link of a conformity credential."""
    links: list[tuple[str, str]] = []
    for subject_index, subject in enumerate(checked.subjects()):
        for index, endorsement in enumerate(as_list(subject.get("authorisation"))):
            if not isinstance(endorsement, Mapping):
                continue
            evidence = endorsement.get("endorsementEvidence")
            url = evidence.get("linkURL") if isinstance(evidence, Mapping) else None
            if isinstance(url, str) and url:
                links.append((_endorsement_path(checked, subject_index, index), url))
    return links


def check_accreditation(
    checked_by_ref: Mapping[str, CheckedCredential],
    evidence_refs: Mapping[str, str],
    accreditation_bodies: frozenset[str],
) -> dict[str, bool]:
    """Decide for every conformity credential whether its issuer has a trusted accreditation.

    ``evidence_refs`` maps each endorsement evidence URL to the ref the walk read it under.
    Credentials issued by a trusted accreditation body need no accreditation themselves.
    A failed decision adds an ``accreditation.missing`` or ``accreditation.invalid`` finding to
    the credential that names the link of the trust path that failed. Returns the decision per
    credential ref.
    """
    evidence_targets = set(evidence_refs.values())
    decisions: dict[str, bool] = {}
    for ref, checked in checked_by_ref.items():
        if checked.kind is not CredentialKind.DCC or checked.credential is None:
            continue
        if checked.issuer in accreditation_bodies or (
            ref in evidence_targets and not _has_product_scope(checked)
        ):
            continue
        decisions[ref] = _decide(checked, checked_by_ref, evidence_refs, accreditation_bodies)
    return decisions


def _has_product_scope(checked: CheckedCredential) -> bool:
    """Check whether a credential attests products or facilities, not only a party."""
    for subject in checked.subjects():
        for assessment in as_list(subject.get("assessment")):
            if isinstance(assessment, Mapping) and (
                assessment.get("assessedProduct") or assessment.get("assessedFacility")
            ):
                return True
    return False


def _decide(
    checked: CheckedCredential,
    checked_by_ref: Mapping[str, CheckedCredential],
    evidence_refs: Mapping[str, str],
    accreditation_bodies: frozenset[str],
) -> bool:
    endorsements: list[tuple[str, Mapping[str, Any]]] = []
    for subject_index, subject in enumerate(checked.subjects()):
        for index, endorsement in enumerate(as_list(subject.get("authorisation"))):
            if isinstance(endorsement, Mapping):
                path = _endorsement_path(checked, subject_index, index)
                endorsements.append((path, endorsement))

    if not endorsements:
        checked.findings.append(
            Finding(
                "accreditation.missing",
                Severity.ERROR,
                f"the conformity credential names no accreditation (credentialSubject."
                f"authorisation is empty), but accreditation of conformity bodies is required: "
                f"{checked.issuer} must link an accreditation credential from a trusted "
                "accreditation body",
                checked.label,
                "$.credentialSubject.authorisation",
            )
        )
        return False

    failures: list[str] = []
    for path, endorsement in endorsements:
        failure = _endorsement_failure(
            checked, endorsement, checked_by_ref, evidence_refs, accreditation_bodies
        )
        if failure is None:
            return True
        failures.append(f"{path}: {failure}")

    checked.findings.append(
        Finding(
            "accreditation.invalid",
            Severity.ERROR,
            f"the issuer {checked.issuer} has no valid accreditation from a trusted "
            "accreditation body: " + "; ".join(failures),
            checked.label,
            endorsements[0][0],
        )
    )
    return False


def _endorsement_failure(
    checked: CheckedCredential,
    endorsement: Mapping[str, Any],
    checked_by_ref: Mapping[str, CheckedCredential],
    evidence_refs: Mapping[str, str],
    accreditation_bodies: frozenset[str],
) -> str | None:
    """Return the first link of the endorsement's trust path that fails, or ``None``."""
    authority_party = endorsement.get("issuingAuthority")
    authority = authority_party.get("id") if isinstance(authority_party, Mapping) else None
    if not isinstance(authority, str):
        return "the endorsement names no issuingAuthority.id"
    if authority not in accreditation_bodies:
        return (
            f"the issuing authority {authority} is not a trusted accreditation body "
            "(add it to the trust file's accreditation_bodies if you trust it)"
        )

    evidence = endorsement.get("endorsementEvidence")
    url = evidence.get("linkURL") if isinstance(evidence, Mapping) else None
    if not isinstance(url, str) or not url:
        return "the endorsement has no endorsementEvidence.linkURL to an accreditation credential"
    accreditation = checked_by_ref.get(evidence_refs.get(url, url))
    if accreditation is None or accreditation.credential is None:
        return f"the accreditation credential {url} could not be read"
    if not accreditation.intact:
        codes = sorted({f.code for f in accreditation.findings if f.severity is Severity.ERROR})
        return (
            f"the accreditation credential {accreditation.label} failed verification "
            f"({', '.join(codes)})"
        )
    if accreditation.issuer != authority:
        return (
            f"the accreditation credential {accreditation.label} was issued by "
            f"{accreditation.issuer}, not by the issuing authority {authority} it is linked for"
        )

    accredited_parties = _issued_to(accreditation)
    if checked.issuer not in accredited_parties:
        named = ", ".join(sorted(accredited_parties)) or "no party"
        return (
            f"the accreditation credential {accreditation.label} is issued to {named}, "
            f"not to the conformity body {checked.issuer}"
        )
    if _states_nonconformance(accreditation):
        return (
            f"the accreditation credential {accreditation.label} records an assessment with "
            "conformance false"
        )
    return None


def _issued_to(accreditation: CheckedCredential) -> set[str]:
    parties: set[str] = set()
    for subject in accreditation.subjects():
        party = subject.get("issuedToParty")
        if isinstance(party, Mapping) and isinstance(party.get("id"), str):
            parties.add(party["id"])
    return parties


def _states_nonconformance(accreditation: CheckedCredential) -> bool:
    for subject in accreditation.subjects():
        for assessment in as_list(subject.get("assessment")):
            if isinstance(assessment, Mapping) and assessment.get("conformance") is False:
                return True
    return False


def _endorsement_path(checked: CheckedCredential, subject_index: int, index: int) -> str:
    subject = "credentialSubject"
    if isinstance(checked.credential, Mapping) and isinstance(
        checked.credential.get("credentialSubject"), list
    ):
        subject = f"credentialSubject[{subject_index}]"
    return f"$.{subject}.authorisation[{index}]"
