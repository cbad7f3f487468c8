"""Analyses over a finished walk: claim attestation, upstream reach and material provenance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from valuetrace.chain._check import CheckedCredential
from valuetrace.chain._graph import (
    as_list,
    gs1_link,
    identifier_covers,
    nested_id,
    same_identifier,
)
from valuetrace.chain._walk import WalkResult
from valuetrace.findings import Finding, Severity
from valuetrace.untp import CredentialKind

__all__ = [
    "CriterionResult",
    "ProvenanceResult",
    "attest_claims",
    "compute_provenance",
    "upstream_passports",
]

# Mass units of UN/ECE Recommendation 20 that materials are declared in, in kilograms.
MASS_UNITS_KG = {
    "KGM": Decimal(1),
    "GRM": Decimal("0.001"),
    "MGM": Decimal("0.000001"),
    "TNE": Decimal(1000),
    "LBR": Decimal("0.45359237"),
}


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Whether one criterion of one DPP claim is attested, and by what."""

    passport: str
    claim: str | None
    criterion: str | None
    topic: str | None
    attested: bool
    match: str | None  # "product", "facility" or "upstream"
    evidence: str | None
    verifier: str | None
    strict_attested: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "passport": self.passport,
            "claim": self.claim,
            "criterion": self.criterion,
            "topic": self.topic,
            "attested": self.attested,
            "match": self.match,
            "evidence": self.evidence,
            "verifier": self.verifier,
            "strictAttested": self.strict_attested,
        }


def _untrusted_reason(result: WalkResult, checked: CheckedCredential) -> str:
    """Return the reason a credential does not count as evidence, for claim findings."""
    if not checked.intact:
        return "failed verification"
    if not result.is_anchored(checked.issuer):
        return f"its issuer {checked.issuer} is not anchored"
    return f"its issuer {checked.issuer} is not accredited"


def _trusted(result: WalkResult, checked: CheckedCredential) -> bool:
    """Check that a credential counts as evidence: it passed its checks, its issuer is anchored,
    and, when accreditation is required, a conformity credential's issuer is accredited.

    Called once the walk is complete, so the result is kept per credential.
    """
    known = result.trust_memo.get(id(checked))
    if known is None:
        known = (
            checked.intact
            and result.is_anchored(checked.issuer)
            and result.accredited.get(checked.ref, True)
        )
        result.trust_memo[id(checked)] = known
    return known


def verified_event_edges(result: WalkResult) -> dict[str, list[str]]:
    """Map each DPP ref to the input DPP refs its verified events lead to.

    An event counts when its DTE passed every check and its issuer is anchored.
    """
    edges: dict[str, list[str]] = {}
    for use in result.event_uses:
        dte = result.checked.get(use.dte_ref)
        if dte is None or not _trusted(result, dte):
            continue
        edges.setdefault(use.dpp_ref, []).extend(use.input_dpp_refs)
    return edges


def upstream_passports(
    result: WalkResult, dpp_ref: str, edges: dict[str, list[str]] | None = None
) -> list[str]:
    """Return the DPP refs reached from ``dpp_ref`` through verified events, nearest first.

    The path goes on only through passports that passed their checks and whose issuer is
    anchored. The last passport on a path is returned whatever its state, so that callers can
    judge it.
    Pass ``edges`` from :func:`verified_event_edges` when calling this for many passports.
    """
    if edges is None:
        edges = verified_event_edges(result)
    seen: dict[str, None] = {}
    frontier = [dpp_ref]
    while frontier:
        following: list[str] = []
        for ref in frontier:
            passport = result.checked.get(ref)
            if ref != dpp_ref and (passport is None or not _trusted(result, passport)):
                continue  # a broken passport breaks the path through it
            for upstream in edges.get(ref, []):
                if upstream != dpp_ref and upstream not in seen:
                    seen[upstream] = None
                    following.append(upstream)
        frontier = following
    return list(seen)


def find_cycles(result: WalkResult) -> list[list[str]]:
    """Return the product-to-input cycles among passports, each as a list of DPP refs."""
    edges: dict[str, set[str]] = {}
    for use in result.event_uses:
        edges.setdefault(use.dpp_ref, set()).update(use.input_dpp_refs)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in sorted(edges):
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(edges.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, pending = stack[-1]
            if not pending:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            following = pending.pop(0)
            if state.get(following) == 1:
                cycles.append([*path[path.index(following) :], following])
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                stack.append((following, sorted(edges.get(following, ()))))
    return cycles


class _UpstreamProducts:
    """The products upstream of one passport, indexed on first use for coverage tests."""

    def __init__(self, result: WalkResult, dpp_ref: str, edges: dict[str, list[str]]) -> None:
        self._result = result
        self._dpp_ref = dpp_ref
        self._edges = edges
        self._keys: set[str] | None = None

    def _index(self) -> set[str]:
        # Every upstream identifier, and for Digital Links the GS1 key path of it and of each
        # less specific form: an assessed product covers an upstream product exactly when its
        # own path is among them.
        keys: set[str] = set()
        for ref in upstream_passports(self._result, self._dpp_ref, self._edges):
            product_id = _product_id(self._result.checked[ref])
            if product_id is None:
                continue
            keys.add(product_id)
            link = gs1_link(product_id)
            if link is not None:
                keys.add(link.path)
                keys.update(ancestor.path for ancestor in link.ancestors())
        return keys

    def any_covered_by(self, general: str) -> bool:
        """Check whether ``general`` covers some upstream product (see ``identifier_covers``)."""
        if self._keys is None:
            self._keys = self._index()
        if general in self._keys:
            return True
        link = gs1_link(general)
        return link is not None and link.path in self._keys


def _product_id(checked: CheckedCredential) -> str | None:
    for subject in checked.subjects():
        product_id = nested_id(subject, "product")
        if product_id:
            return product_id
    return None


def _facility_id(checked: CheckedCredential) -> str | None:
    for subject in checked.subjects():
        facility_id = nested_id(subject, "product", "producedAtFacility")
        if facility_id:
            return facility_id
    return None


def _issuer_name(checked: CheckedCredential) -> str | None:
    issuer = checked.credential.get("issuer") if checked.credential else None
    if isinstance(issuer, dict) and isinstance(issuer.get("name"), str):
        return str(issuer["name"])
    return checked.issuer


def _assessments(dcc: CheckedCredential) -> Iterable[dict[str, Any]]:
    for subject in dcc.subjects():
        for assessment in as_list(subject.get("assessment")):
            if isinstance(assessment, dict):
                yield assessment


def _assessment_matches(assessment: dict[str, Any], criterion: str, topic: str | None) -> bool:
    if assessment.get("conformance") is not True:
        return False
    if topic is not None and assessment.get("conformityTopic") != topic:
        return False
    return any(
        isinstance(item, dict) and item.get("id") == criterion
        for item in as_list(assessment.get("assessmentCriteria"))
    )


def _assessed(assessment: dict[str, Any], key: str, inner: str) -> list[str]:
    ids: list[str] = []
    for item in as_list(assessment.get(key)):
        identifier = nested_id(item, inner)
        if identifier:
            ids.append(identifier)
    return ids


def attest_claims(result: WalkResult) -> tuple[list[CriterionResult], list[Finding]]:
    """Match every claim criterion of every walked DPP with a DCC assessment.

    A criterion is attested by an assessment with the same criterion IRI and topic and
    ``conformance: true`` in a DCC that passed its checks and whose issuer is anchored, when the
    assessment covers the passport's product (a GTIN covers its lots and serials), the facility
    that produced it, or an input reached upstream through verified events. The strict rule of
    the UNTP test suite (same product id, nothing else) is recorded beside it.
    """
    dccs = [c for c in result.checked.values() if c.kind is CredentialKind.DCC]
    edges = verified_event_edges(result)
    results: list[CriterionResult] = []
    findings: list[Finding] = []

    passports = [(ref, c) for ref, c in result.checked.items() if c.kind is CredentialKind.DPP]
    for dpp_ref, dpp in passports:
        product_id = _product_id(dpp)
        facility_id = _facility_id(dpp)
        upstream = _UpstreamProducts(result, dpp_ref, edges)
        for subject in dpp.subjects():
            for claim_index, claim in enumerate(as_list(subject.get("conformityClaim"))):
                if not isinstance(claim, dict):
                    continue
                claim_path = f"$.credentialSubject.conformityClaim[{claim_index}]"
                criteria = [
                    c for c in as_list(claim.get("assessmentCriteria")) if isinstance(c, dict)
                ]
                if not criteria:
                    findings.append(
                        Finding(
                            "claim.no_criteria",
                            Severity.ERROR,
                            f"claim {claim.get('id', claim_index)} names no assessment criterion, "
                            "so no conformity credential can attest it",
                            dpp.label,
                            claim_path,
                        )
                    )
                    continue
                if claim.get("conformance") is False:
                    continue
                topic = claim.get("conformityTopic")
                topic = topic if isinstance(topic, str) else None
                for criterion_index, criterion in enumerate(criteria):
                    outcome = _attest_one(
                        result,
                        dccs,
                        criterion.get("id") if isinstance(criterion.get("id"), str) else None,
                        topic,
                        product_id,
                        facility_id,
                        upstream,
                    )
                    results.append(
                        CriterionResult(
                            passport=dpp.label,
                            claim=claim.get("id") if isinstance(claim.get("id"), str) else None,
                            criterion=criterion.get("id")
                            if isinstance(criterion.get("id"), str)
                            else None,
                            topic=topic,
                            attested=outcome[0] is not None,
                            match=outcome[0],
                            evidence=outcome[1],
                            verifier=outcome[2],
                            strict_attested=outcome[3],
                        )
                    )
                    if outcome[0] is None:
                        findings.append(
                            Finding(
                                "claim.unattested",
                                Severity.ERROR,
                                f"criterion {criterion.get('id')} (topic {topic}) of claim "
                                f"{claim.get('id', claim_index)} is not attested: {outcome[4]}",
                                dpp.label,
                                f"{claim_path}.assessmentCriteria[{criterion_index}]",
                            )
                        )
    return results, findings


def _attest_one(
    result: WalkResult,
    dccs: list[CheckedCredential],
    criterion: str | None,
    topic: str | None,
    product_id: str | None,
    facility_id: str | None,
    upstream: _UpstreamProducts,
) -> tuple[str | None, str | None, str | None, bool, str]:
    """Return (match kind, evidence, verifier, strict result, reason when unattested)."""
    if criterion is None:
        return None, None, None, False, "the criterion has no id"
    strict = False
    best: tuple[str, str, str | None] | None = None
    rejected: list[str] = []
    rank = {"product": 0, "facility": 1, "upstream": 2}
    for dcc in dccs:
        for assessment in _assessments(dcc):
            if not _assessment_matches(assessment, criterion, topic):
                continue
            products = _assessed(assessment, "assessedProduct", "product")
            facilities = _assessed(assessment, "assessedFacility", "facility")
            kind: str | None = None
            if product_id and any(identifier_covers(p, product_id) for p in products):
                kind = "product"
            elif facility_id and any(same_identifier(f, facility_id) for f in facilities):
                kind = "facility"
            elif any(upstream.any_covered_by(p) for p in products):
                kind = "upstream"
            if (
                product_id
                and product_id in products
                and dcc.intact_ignoring_proof
                and result.graph_anchored.get(dcc.issuer or "", False)
            ):
                strict = True
            if kind is None:
                continue
            if not _trusted(result, dcc):
                rejected.append(f"{dcc.label} matches but {_untrusted_reason(result, dcc)}")
                continue
            if best is None or rank[kind] < rank[best[0]]:
                best = (kind, dcc.label, _issuer_name(dcc))
    if best is None:
        reason = (
            "; ".join(rejected)
            if rejected
            else (
                "no conformity credential in the chain assesses this criterion and topic with "
                "conformance true for the product, its facility or its verified inputs"
            )
        )
        return None, None, None, strict, reason
    return best[0], best[1], best[2], strict, ""


@dataclass
class ProvenanceResult:
    """Material origins of the root passport and how much of them verified credentials back."""

    declared_mass_kg: Decimal
    backed_mass_kg: Decimal
    by_country: dict[str, dict[str, Decimal]]
    declared_ratios: dict[str, float]
    unmeasured: list[str]

    @property
    def verified_ratio(self) -> float | None:
        if self.declared_mass_kg == 0:
            return None
        return float(self.backed_mass_kg / self.declared_mass_kg)

    def to_dict(self) -> dict[str, Any]:
        countries = {}
        for country, values in sorted(self.by_country.items()):
            declared = values["declared"]
            countries[country] = {
                "declaredMassKg": float(declared),
                "backedMassKg": float(values["backed"]),
                "share": float(values["backed"] / declared) if declared else None,
            }
        declared_values = list(self.declared_ratios.values())
        return {
            "declaredMassKg": float(self.declared_mass_kg),
            "backedMassKg": float(self.backed_mass_kg),
            "share": self.verified_ratio,
            "byCountry": countries,
            "verifiedRatio": self.verified_ratio,
            "declaredVerifiedRatio": (min(declared_values) if declared_values else None),
            "declaredVerifiedRatioByProcess": self.declared_ratios,
            "materialsWithoutMass": self.unmeasured,
        }


def _mass_kg(measure: Any) -> Decimal | None:
    if not isinstance(measure, dict):
        return None
    value, unit = measure.get("value"), measure.get("unit", "KGM")
    factor = MASS_UNITS_KG.get(str(unit))
    if factor is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value)) * factor


def _country_of(result: WalkResult, checked: CheckedCredential) -> set[str]:
    countries: set[str] = set()
    for subject in checked.subjects():
        if checked.kind is CredentialKind.DPP:
            product = subject.get("product")
            if isinstance(product, dict) and isinstance(product.get("countryOfProduction"), str):
                countries.add(product["countryOfProduction"])
        if checked.kind is CredentialKind.DFR:
            facility = subject.get("facility")
            if isinstance(facility, dict):
                if isinstance(facility.get("countryOfOperation"), str):
                    countries.add(facility["countryOfOperation"])
                address = facility.get("address")
                if isinstance(address, dict) and isinstance(address.get("addressCountry"), str):
                    countries.add(address["addressCountry"])
    return countries


def nested_code(classification: Any) -> str | None:
    """Return the ``code`` of a UNTP Classification object, if it has one."""
    if isinstance(classification, dict) and isinstance(classification.get("code"), str):
        return str(classification["code"])
    return None


def _category_codes(dpp: CheckedCredential) -> set[str]:
    codes: set[str] = set()
    for subject in dpp.subjects():
        product = subject.get("product")
        if isinstance(product, dict):
            for category in as_list(product.get("productCategory")):
                code = nested_code(category)
                if code is not None:
                    codes.add(code)
    return codes


def compute_provenance(
    result: WalkResult, root_ref: str
) -> tuple[ProvenanceResult | None, list[Finding]]:
    """Recompute which share of the root passport's declared material mass has a backed origin.

    An origin is backed when the walk reached, through verified events, a passport of an
    anchored issuer for a product of the material's type. The type matches when the product has
    the classification code of the material's ``materialType``, or the material has none. The
    passport's country of production, or the country of its facility's record, must equal the
    origin the material claims.
    """
    root = result.checked.get(root_ref)
    if root is None or root.kind is not CredentialKind.DPP:
        return None, []
    findings: list[Finding] = []

    # (countries, product category codes) of each upstream producer the walk verified
    evidence: list[tuple[set[str], set[str]]] = []
    for ref in upstream_passports(result, root_ref):
        dpp = result.checked[ref]
        if not _trusted(result, dpp):
            continue
        countries = _country_of(result, dpp)
        facility_id = _facility_id(dpp)
        for dfr_ref in result.facility_records.get(facility_id or "", []):
            dfr = result.checked.get(dfr_ref)
            if dfr is not None and _trusted(result, dfr):
                countries |= _country_of(result, dfr)
        evidence.append((countries, _category_codes(dpp)))

    declared = Decimal(0)
    backed = Decimal(0)
    by_country: dict[str, dict[str, Decimal]] = {}
    unmeasured: list[str] = []
    ratios: dict[str, float] = {}
    for subject in root.subjects():
        weight = _mass_kg((subject.get("product") or {}).get("dimensions", {}).get("weight"))
        for index, material in enumerate(as_list(subject.get("materialsProvenance"))):
            if not isinstance(material, dict):
                continue
            mass = _mass_kg(material.get("mass"))
            fraction = material.get("massFraction")
            if mass is None and weight is not None and isinstance(fraction, int | float):
                mass = weight * Decimal(str(fraction))
            name = str(material.get("name", index))
            if mass is None:
                unmeasured.append(name)
                continue
            country = str(material.get("originCountry", "unknown"))
            entry = by_country.setdefault(country, {"declared": Decimal(0), "backed": Decimal(0)})
            entry["declared"] += mass
            declared += mass
            material_code = nested_code(material.get("materialType"))
            if any(
                country in countries and (material_code is None or material_code in codes)
                for countries, codes in evidence
            ):
                entry["backed"] += mass
                backed += mass
        for info in as_list(subject.get("traceabilityInformation")):
            if isinstance(info, dict) and isinstance(info.get("verifiedRatio"), int | float):
                ratios[str(info.get("valueChainProcess", len(ratios)))] = float(
                    info["verifiedRatio"]
                )

    provenance = ProvenanceResult(declared, backed, by_country, ratios, unmeasured)
    recomputed = provenance.verified_ratio
    for process, ratio in ratios.items():
        if recomputed is not None and ratio > recomputed + 0.005:
            findings.append(
                Finding(
                    "provenance.ratio_overstated",
                    Severity.WARNING,
                    f"the passport declares a verified ratio of {ratio:.2f} for {process}, but "
                    f"verified credentials back only {recomputed:.2f} of the declared material "
                    "mass",
                    root.label,
                    "$.credentialSubject.traceabilityInformation",
                )
            )
    for country, values in sorted(by_country.items()):
        if values["backed"] == 0:
            findings.append(
                Finding(
                    "provenance.unbacked",
                    Severity.WARNING,
                    f"no verified upstream credential shows production in {country}, the "
                    f"claimed origin of {float(values['declared']):g} kg of material",
                    root.label,
                    "$.credentialSubject.materialsProvenance",
                )
            )
    return provenance, findings
