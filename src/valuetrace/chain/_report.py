"""The verification report: one object for machines (JSON) and for people (the terminal)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from valuetrace.chain._analysis import (
    CriterionResult,
    ProvenanceResult,
    attest_claims,
    compute_provenance,
    find_cycles,
)
from valuetrace.chain._check import CheckedCredential
from valuetrace.chain._sources import Sources
from valuetrace.chain._trust import TrustSettings
from valuetrace.chain._walk import DEFAULT_MAX_DEPTH, ChainWalk, WalkOptions, WalkResult
from valuetrace.errors import DigitalLinkError
from valuetrace.findings import Finding, Severity, has_errors
from valuetrace.resolver import parse_digital_link

__all__ = ["Report", "verify_chain"]


@dataclass
class Report:
    """The outcome of one chain walk."""

    root: str | None
    root_credential: str | None
    verified_at: datetime
    trusted_dids: list[str]
    findings: list[Finding]
    credentials: list[dict[str, Any]]
    claims: list[CriterionResult] = field(default_factory=list)
    provenance: ProvenanceResult | None = None
    accreditation_bodies: list[str] = field(default_factory=list)
    require_accreditation: bool = False

    @property
    def verified(self) -> bool:
        return not has_errors(self.findings)

    @property
    def strict_rule_passed(self) -> bool:
        return all(result.strict_attested for result in self.claims)

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(finding.severity.value for finding in self.findings)
        return {
            "verified": self.verified,
            "root": self.root,
            "rootCredential": self.root_credential,
            "verifiedAt": self.verified_at.isoformat(),
            "trustedDids": self.trusted_dids,
            "accreditationBodies": self.accreditation_bodies,
            "requireAccreditation": self.require_accreditation,
            "credentials": len(self.credentials),
            "counts": {severity.value: counts.get(severity.value, 0) for severity in Severity},
            "findings": [finding.to_dict() for finding in self.findings],
            "claims": [result.to_dict() for result in self.claims],
            "strictRule": {
                "description": "UNTP test suite tier 3: every criterion attested by an "
                "assessment of the same product id",
                "passed": self.strict_rule_passed,
                "attested": sum(1 for result in self.claims if result.strict_attested),
                "criteria": len(self.claims),
            },
            "provenance": self.provenance.to_dict() if self.provenance else None,
            "credentialList": self.credentials,
        }


def _signature_state(checked: CheckedCredential) -> str:
    if checked.signature_valid:
        return "valid"
    if any(finding.code == "proof.missing" for finding in checked.findings):
        return "missing"
    if checked.enveloped:
        return "invalid"
    return "unchecked"


def _credential_rows(result: WalkResult, findings: list[Finding]) -> list[dict[str, Any]]:
    by_label: dict[str, Counter[str]] = {}
    for finding in findings:
        if finding.credential is not None:
            by_label.setdefault(finding.credential, Counter())[finding.severity.value] += 1
    rows: list[dict[str, Any]] = []
    for ref, checked in result.checked.items():
        counts = by_label.get(checked.label, Counter())
        if checked.label != ref:
            counts = counts + by_label.get(ref, Counter())
        rows.append(
            {
                "ref": ref,
                "id": checked.credential_id,
                "type": checked.kind.credential_type if checked.kind else None,
                "issuer": checked.issuer,
                "signed": checked.signature_valid,
                "signature": _signature_state(checked),
                "anchored": result.is_anchored(checked.issuer),
                "errors": counts.get("error", 0),
                "warnings": counts.get("warning", 0),
            }
        )
    return rows


def verify_chain(
    target: str,
    sources: Sources,
    *,
    at: datetime,
    trusted_dids: Sequence[str] = (),
    trust: TrustSettings | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    progress: Callable[[int, str], None] | None = None,
) -> Report:
    """Walk the chain from ``target`` and return the report.

    ``target`` is a GS1 Digital Link URI of a product, or the ref of a credential: a file given
    to ``sources`` or a URL in the store. The trusted registers are ``trusted_dids`` together
    with those of ``trust``, which also sets the accreditation bodies and whether conformity
    bodies must be accredited. Raises only for misuse; everything the walk discovers is a
    finding.
    """
    settings = TrustSettings(registers=frozenset(trusted_dids))
    if trust is not None:
        settings = settings.merged(trust)
    options = WalkOptions(
        at=at,
        trusted_dids=settings.registers,
        max_depth=max_depth,
        accreditation_bodies=settings.accreditation_bodies,
        require_accreditation=settings.require_accreditation,
    )
    walk = ChainWalk(sources, options, progress=progress)
    if _is_product_link(target, sources):
        result = walk.walk_product(target)
    else:
        result = walk.walk_credential(target)

    findings = list(result.findings)
    findings.extend(result.credential_findings())
    for cycle in find_cycles(result):
        findings.append(
            Finding(
                "chain.cycle",
                Severity.ERROR,
                "products are their own inputs through this loop of passports: "
                + " -> ".join(result.checked[ref].label for ref in cycle),
                result.checked[cycle[0]].label,
            )
        )
    claims, claim_findings = attest_claims(result)
    findings.extend(claim_findings)
    provenance = None
    if result.root_ref is not None:
        provenance, provenance_findings = compute_provenance(result, result.root_ref)
        findings.extend(provenance_findings)

    return Report(
        root=result.root_product,
        root_credential=result.root_ref,
        verified_at=at,
        trusted_dids=sorted(settings.registers),
        findings=findings,
        credentials=_credential_rows(result, findings),
        claims=claims,
        provenance=provenance,
        accreditation_bodies=sorted(settings.accreditation_bodies),
        require_accreditation=settings.require_accreditation,
    )


def _is_product_link(target: str, sources: Sources) -> bool:
    if Path(target).exists() or sources.load(target) is not None:
        return False
    try:
        link = parse_digital_link(target)
    except DigitalLinkError:
        return False
    return link.gtin is not None
