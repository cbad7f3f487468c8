"""Typed pydantic models of UNTP 0.6.1 credentials and the parts that a verifier reads.

The models read credentials but do not validate them. Every field is optional and unknown
keys are kept (``extra="allow"``), so a model dumps back to the JSON it was read from. Check a
credential with :func:`valuetrace.untp.validate_credential` first. Python names are snake_case,
and each field has the JSON name as its alias. Dates and times stay strings as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from valuetrace.errors import InputError
from valuetrace.untp._versions import CredentialKind, detect_kind

__all__ = [
    "Address",
    "AggregationEvent",
    "AssociationEvent",
    "BinaryFile",
    "CircularityPerformance",
    "Claim",
    "Classification",
    "ConformityAssessment",
    "ConformityAttestation",
    "ConformityScheme",
    "Credential",
    "CredentialIssuer",
    "Criterion",
    "DigitalConformityCredential",
    "DigitalFacilityRecord",
    "DigitalIdentityAnchor",
    "DigitalProductPassport",
    "DigitalTraceabilityEvent",
    "Dimension",
    "EmissionsPerformance",
    "Endorsement",
    "Facility",
    "FacilityRecord",
    "FacilityVerification",
    "GeoPoint",
    "GeoPolygon",
    "IdentifierScheme",
    "Item",
    "Link",
    "Location",
    "Material",
    "Measure",
    "Metric",
    "ObjectEvent",
    "Party",
    "Product",
    "ProductPassport",
    "ProductVerification",
    "QuantityElement",
    "RegisteredIdentity",
    "Regulation",
    "SecureLink",
    "Sensor",
    "SensorData",
    "SensorElement",
    "Standard",
    "TraceabilityEvent",
    "TraceabilityPerformance",
    "TransactionEvent",
    "TransformationEvent",
    "UntpModel",
    "parse_credential",
    "to_json_dict",
]

Number = int | float
"""A JSON number; integers stay integers so that a model dumps back unchanged."""


class UntpModel(BaseModel):
    """Base of all UNTP models: JSON names as aliases, unknown keys kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Typed(UntpModel):
    """A UNTP object with an optional ``type`` list."""

    type: list[str] | str | None = None


class IdentifierScheme(Typed):
    """The scheme that issues identifiers, such as GS1 GTIN."""

    id: str | None = None
    name: str | None = None


class Classification(Typed):
    """A code from a classification scheme, such as UN CPC."""

    id: str | None = None
    code: str | None = None
    name: str | None = None
    scheme_id: str | None = Field(default=None, alias="schemeID")
    scheme_name: str | None = Field(default=None, alias="schemeName")


class Party(Typed):
    """An organisation, by its identifier in a register."""

    id: str | None = None
    name: str | None = None
    registered_id: str | None = Field(default=None, alias="registeredId")
    id_scheme: IdentifierScheme | None = Field(default=None, alias="idScheme")
    description: str | None = None
    registration_country: str | None = Field(default=None, alias="registrationCountry")
    organisation_website: str | None = Field(default=None, alias="organisationWebsite")
    industry_category: list[Classification] | None = Field(default=None, alias="industryCategory")
    party_also_known_as: list[Party] | None = Field(default=None, alias="partyAlsoKnownAs")


class CredentialIssuer(Typed):
    """The issuer of a credential, with other identifiers of the same organisation."""

    id: str | None = None
    name: str | None = None
    issuer_also_known_as: list[Party] | None = Field(default=None, alias="issuerAlsoKnownAs")


class Link(Typed):
    """A link to a document. With a hash digest and hash method it is a secure link."""

    link_url: str | None = Field(default=None, alias="linkURL")
    link_name: str | None = Field(default=None, alias="linkName")
    link_type: str | None = Field(default=None, alias="linkType")
    hash_digest: str | None = Field(default=None, alias="hashDigest")
    hash_method: str | None = Field(default=None, alias="hashMethod")
    encryption_method: str | None = Field(default=None, alias="encryptionMethod")


SecureLink = Link
"""A link with ``hashDigest`` and ``hashMethod``, read by the same model as :class:`Link`."""


class Measure(Typed):
    """A numeric value with a UN/CEFACT unit code (``KGM`` …)."""

    value: Number | None = None
    unit: str | None = None


class Dimension(Typed):
    """Weight, length, width, height and volume of a product."""

    weight: Measure | None = None
    length: Measure | None = None
    width: Measure | None = None
    height: Measure | None = None
    volume: Measure | None = None


class Metric(Typed):
    """A named measured value, with a score and accuracy."""

    metric_name: str | None = Field(default=None, alias="metricName")
    metric_value: Measure | None = Field(default=None, alias="metricValue")
    score: str | None = None
    accuracy: Number | None = None


class Standard(Typed):
    """A published standard that a claim or assessment refers to."""

    id: str | None = None
    name: str | None = None
    issuing_party: Party | None = Field(default=None, alias="issuingParty")
    issue_date: str | None = Field(default=None, alias="issueDate")


class Regulation(Typed):
    """A regulation that a claim or assessment refers to."""

    id: str | None = None
    name: str | None = None
    jurisdiction_country: str | None = Field(default=None, alias="jurisdictionCountry")
    administered_by: Party | None = Field(default=None, alias="administeredBy")
    effective_date: str | None = Field(default=None, alias="effectiveDate")


class Criterion(Typed):
    """An assessment criterion of a standard or regulation."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    conformity_topic: str | None = Field(default=None, alias="conformityTopic")
    status: str | None = None
    sub_criterion: list[Criterion] | None = Field(default=None, alias="subCriterion")
    threshold_value: Metric | None = Field(default=None, alias="thresholdValue")
    performance_level: str | None = Field(default=None, alias="performanceLevel")
    category: list[Classification] | None = None
    tag: list[str] | None = None


class Claim(Typed):
    """A conformity claim made about a product or facility."""

    id: str | None = None
    description: str | None = None
    reference_standard: Standard | None = Field(default=None, alias="referenceStandard")
    reference_regulation: Regulation | None = Field(default=None, alias="referenceRegulation")
    assessment_criteria: list[Criterion] | None = Field(default=None, alias="assessmentCriteria")
    assessment_date: str | None = Field(default=None, alias="assessmentDate")
    declared_value: list[Metric] | None = Field(default=None, alias="declaredValue")
    conformance: bool | None = None
    conformity_topic: str | None = Field(default=None, alias="conformityTopic")
    conformity_evidence: Link | None = Field(default=None, alias="conformityEvidence")


# Facility models come before Product, which refers to Facility.


class GeoPoint(UntpModel):
    """A GeoJSON point: ``type`` is ``"Point"`` and ``coordinates`` a position."""

    type: str | None = None
    coordinates: list[Number] | None = None


class GeoPolygon(UntpModel):
    """A GeoJSON polygon: ``type`` is ``"Polygon"`` and ``coordinates`` a list of rings."""

    type: str | None = None
    coordinates: list[list[list[Number]]] | None = None


class Location(Typed):
    """The location of a facility: a plus code, a point and a boundary."""

    plus_code: str | None = Field(default=None, alias="plusCode")
    geo_location: GeoPoint | None = Field(default=None, alias="geoLocation")
    geo_boundary: GeoPolygon | None = Field(default=None, alias="geoBoundary")


class Address(Typed):
    """A postal address."""

    street_address: str | None = Field(default=None, alias="streetAddress")
    postal_code: str | None = Field(default=None, alias="postalCode")
    address_locality: str | None = Field(default=None, alias="addressLocality")
    address_region: str | None = Field(default=None, alias="addressRegion")
    address_country: str | None = Field(default=None, alias="addressCountry")


class Facility(Typed):
    """A site where products are made or processed."""

    id: str | None = None
    name: str | None = None
    registered_id: str | None = Field(default=None, alias="registeredId")
    id_scheme: IdentifierScheme | None = Field(default=None, alias="idScheme")
    description: str | None = None
    country_of_operation: str | None = Field(default=None, alias="countryOfOperation")
    process_category: list[Classification] | None = Field(default=None, alias="processCategory")
    operated_by_party: Party | None = Field(default=None, alias="operatedByParty")
    facility_also_known_as: list[Facility] | None = Field(default=None, alias="facilityAlsoKnownAs")
    location_information: Location | None = Field(default=None, alias="locationInformation")
    address: Address | None = None


class Product(Typed):
    """A product, or a batch or item of it."""

    id: str | None = None
    name: str | None = None
    registered_id: str | None = Field(default=None, alias="registeredId")
    id_scheme: IdentifierScheme | None = Field(default=None, alias="idScheme")
    batch_number: str | None = Field(default=None, alias="batchNumber")
    product_image: Link | None = Field(default=None, alias="productImage")
    description: str | None = None
    characteristics: dict[str, Any] | None = None
    product_category: list[Classification] | None = Field(default=None, alias="productCategory")
    further_information: list[Link] | None = Field(default=None, alias="furtherInformation")
    produced_by_party: Party | None = Field(default=None, alias="producedByParty")
    produced_at_facility: Facility | None = Field(default=None, alias="producedAtFacility")
    production_date: str | None = Field(default=None, alias="productionDate")
    country_of_production: str | None = Field(default=None, alias="countryOfProduction")
    serial_number: str | None = Field(default=None, alias="serialNumber")
    dimensions: Dimension | None = None


class EmissionsPerformance(Typed):
    """The carbon footprint of a product."""

    carbon_footprint: Number | None = Field(default=None, alias="carbonFootprint")
    declared_unit: str | None = Field(default=None, alias="declaredUnit")
    operational_scope: str | None = Field(default=None, alias="operationalScope")
    primary_sourced_ratio: Number | None = Field(default=None, alias="primarySourcedRatio")
    reporting_standard: Standard | None = Field(default=None, alias="reportingStandard")


class TraceabilityPerformance(Typed):
    """How much of one value chain process is traced, with links to the events."""

    value_chain_process: str | None = Field(default=None, alias="valueChainProcess")
    verified_ratio: Number | None = Field(default=None, alias="verifiedRatio")
    traceability_event: list[Link] | None = Field(default=None, alias="traceabilityEvent")


class CircularityPerformance(Typed):
    """Recycling and repair information and circularity figures of a product."""

    recycling_information: Link | None = Field(default=None, alias="recyclingInformation")
    repair_information: Link | None = Field(default=None, alias="repairInformation")
    recyclable_content: Number | None = Field(default=None, alias="recyclableContent")
    recycled_content: Number | None = Field(default=None, alias="recycledContent")
    utility_factor: Number | None = Field(default=None, alias="utilityFactor")
    material_circularity_indicator: Number | None = Field(
        default=None, alias="materialCircularityIndicator"
    )


class Material(Typed):
    """A material in a product and where it comes from (a ``materialsProvenance`` entry)."""

    name: str | None = None
    origin_country: str | None = Field(default=None, alias="originCountry")
    material_type: Classification | None = Field(default=None, alias="materialType")
    mass_fraction: Number | None = Field(default=None, alias="massFraction")
    mass: Measure | None = None
    recycled_mass_fraction: Number | None = Field(default=None, alias="recycledMassFraction")
    hazardous: bool | None = None
    symbol: str | None = None
    material_safety_information: Link | None = Field(
        default=None, alias="materialSafetyInformation"
    )


class ProductPassport(Typed):
    """The subject of a Digital Product Passport."""

    id: str | None = None
    product: Product | None = None
    granularity_level: str | None = Field(default=None, alias="granularityLevel")
    conformity_claim: list[Claim] | None = Field(default=None, alias="conformityClaim")
    emissions_scorecard: EmissionsPerformance | None = Field(
        default=None, alias="emissionsScorecard"
    )
    traceability_information: list[TraceabilityPerformance] | None = Field(
        default=None, alias="traceabilityInformation"
    )
    circularity_scorecard: CircularityPerformance | None = Field(
        default=None, alias="circularityScorecard"
    )
    due_diligence_declaration: Link | None = Field(default=None, alias="dueDiligenceDeclaration")
    materials_provenance: list[Material] | None = Field(default=None, alias="materialsProvenance")


class BinaryFile(Typed):
    """A file embedded as base64, such as a trust mark image."""

    file_name: str | None = Field(default=None, alias="fileName")
    file_type: str | None = Field(default=None, alias="fileType")
    file: str | None = None


class Endorsement(Typed):
    """An accreditation or authorisation of a conformity assessment body."""

    id: str | None = None
    name: str | None = None
    trustmark: BinaryFile | None = None
    issuing_authority: Party | None = Field(default=None, alias="issuingAuthority")
    endorsement_evidence: Link | None = Field(default=None, alias="endorsementEvidence")


class ConformityScheme(Typed):
    """The conformity scheme under which an attestation is issued."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    version: str | None = None
    valid_from: str | None = Field(default=None, alias="validFrom")
    owner: Party | None = None
    trustmark: BinaryFile | None = None


class ProductVerification(Typed):
    """A product that an assessment covers."""

    product: Product | None = None
    id_verified_by_cab: bool | None = Field(default=None, alias="IDverifiedByCAB")


class FacilityVerification(Typed):
    """A facility that an assessment covers."""

    facility: Facility | None = None
    id_verified_by_cab: bool | None = Field(default=None, alias="IDverifiedByCAB")


class ConformityAssessment(Typed):
    """One assessment in a conformity attestation: criteria, result and what was assessed."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    assessment_date: str | None = Field(default=None, alias="assessmentDate")
    reference_standard: Standard | None = Field(default=None, alias="referenceStandard")
    reference_regulation: Regulation | None = Field(default=None, alias="referenceRegulation")
    assessment_criteria: list[Criterion] | None = Field(default=None, alias="assessmentCriteria")
    declared_value: list[Metric] | None = Field(default=None, alias="declaredValue")
    conformance: bool | None = None
    conformity_topic: str | None = Field(default=None, alias="conformityTopic")
    assessed_product: list[ProductVerification] | None = Field(
        default=None, alias="assessedProduct"
    )
    assessed_facility: list[FacilityVerification] | None = Field(
        default=None, alias="assessedFacility"
    )
    assessed_organisation: Party | None = Field(default=None, alias="assessedOrganisation")
    auditor: Party | None = None


class ConformityAttestation(Typed):
    """The subject of a Digital Conformity Credential."""

    id: str | None = None
    name: str | None = None
    assessor_level: str | None = Field(default=None, alias="assessorLevel")
    assessment_level: str | None = Field(default=None, alias="assessmentLevel")
    attestation_type: str | None = Field(default=None, alias="attestationType")
    description: str | None = None
    issued_to_party: Party | None = Field(default=None, alias="issuedToParty")
    authorisation: list[Endorsement] | None = None
    conformity_certificate: Link | None = Field(default=None, alias="conformityCertificate")
    auditable_evidence: Link | None = Field(default=None, alias="auditableEvidence")
    scope: ConformityScheme | None = None
    assessment: list[ConformityAssessment] | None = None


class Item(Typed):
    """An identified item (an EPC) in a traceability event."""

    id: str | None = None
    name: str | None = None


class QuantityElement(Typed):
    """A quantity of a product class in a traceability event."""

    product_id: str | None = Field(default=None, alias="productId")
    product_name: str | None = Field(default=None, alias="productName")
    quantity: Number | None = None
    uom: str | None = None


class Sensor(Typed):
    """The device that produced sensor data."""

    device: Item | None = None
    data_processing_method: str | None = Field(default=None, alias="dataProcessingMethod")


class SensorData(Typed):
    """One sensor reading."""

    time: str | None = None
    sensor_type: str | None = Field(default=None, alias="sensorType")
    value: Number | None = None
    uom: str | None = None


class SensorElement(Typed):
    """Sensor metadata and readings attached to an event."""

    sensor_metadata: Sensor | None = Field(default=None, alias="sensorMetadata")
    sensor_report: list[SensorData] | None = Field(default=None, alias="sensorReport")
    sensor_integrity_proof: str | None = Field(default=None, alias="sensorIntegrityProof")


class TraceabilityEventBase(Typed):
    """Fields that all traceability events share (after GS1 EPCIS)."""

    id: str | None = None
    process_type: str | None = Field(default=None, alias="processType")
    event_time: str | None = Field(default=None, alias="eventTime")
    action: str | None = None
    disposition: str | None = None
    biz_step: str | None = Field(default=None, alias="bizStep")
    biz_location: str | None = Field(default=None, alias="bizLocation")
    sensor_element_list: list[SensorElement] | None = Field(default=None, alias="sensorElementList")


class ObjectEvent(TraceabilityEventBase):
    """Something happened to the listed items."""

    epc_list: list[Item] | None = Field(default=None, alias="epcList")
    quantity_list: list[QuantityElement] | None = Field(default=None, alias="quantityList")


class TransformationEvent(TraceabilityEventBase):
    """Input items were consumed to make output items."""

    input_epc_list: list[Item] | None = Field(default=None, alias="inputEPCList")
    output_epc_list: list[Item] | None = Field(default=None, alias="outputEPCList")
    input_quantity_list: list[QuantityElement] | None = Field(
        default=None, alias="inputQuantityList"
    )
    output_quantity_list: list[QuantityElement] | None = Field(
        default=None, alias="outputQuantityList"
    )


class AggregationEvent(TraceabilityEventBase):
    """Child items were packed into, or unpacked from, a parent item."""

    parent_epc: Item | None = Field(default=None, alias="parentEPC")
    child_epc_list: list[Item] | None = Field(default=None, alias="childEPCList")
    child_quantity_list: list[QuantityElement] | None = Field(
        default=None, alias="childQuantityList"
    )


class TransactionEvent(TraceabilityEventBase):
    """Items changed hands between two parties."""

    source_party: str | None = Field(default=None, alias="sourceParty")
    destination_party: str | None = Field(default=None, alias="destinationParty")
    biz_transaction: str | None = Field(default=None, alias="bizTransaction")
    epc_list: list[Item] | None = Field(default=None, alias="epcList")
    quantity_list: list[QuantityElement] | None = Field(default=None, alias="quantityList")


class AssociationEvent(TraceabilityEventBase):
    """Child items were assigned to, or removed from, a parent item."""

    parent_epc: Item | None = Field(default=None, alias="parentEPC")
    child_epc_list: list[Item] | None = Field(default=None, alias="childEPCList")
    child_quantity_list: list[QuantityElement] | None = Field(
        default=None, alias="childQuantityList"
    )


_EVENT_TAGS = (
    "ObjectEvent",
    "TransformationEvent",
    "AggregationEvent",
    "TransactionEvent",
    "AssociationEvent",
)


def _event_tag(value: Any) -> str:
    """Pick the event model from the ``type`` list, or the base model for other event types."""
    if isinstance(value, BaseModel):
        return type(value).__name__ if type(value).__name__ in _EVENT_TAGS else "Event"
    types = value.get("type") if isinstance(value, Mapping) else None
    if isinstance(types, str):
        types = [types]
    for type_name in types if isinstance(types, list) else []:
        if type_name in _EVENT_TAGS:
            return str(type_name)
    return "Event"


TraceabilityEvent = Annotated[
    Annotated[ObjectEvent, Tag("ObjectEvent")]
    | Annotated[TransformationEvent, Tag("TransformationEvent")]
    | Annotated[AggregationEvent, Tag("AggregationEvent")]
    | Annotated[TransactionEvent, Tag("TransactionEvent")]
    | Annotated[AssociationEvent, Tag("AssociationEvent")]
    | Annotated[TraceabilityEventBase, Tag("Event")],
    Discriminator(_event_tag),
]
"""One event of a Digital Traceability Event, modelled by the event type in its ``type``."""


class FacilityRecord(Typed):
    """The subject of a Digital Facility Record."""

    id: str | None = None
    facility: Facility | None = None
    conformity_claim: list[Claim] | None = Field(default=None, alias="conformityClaim")


class RegisteredIdentity(Typed):
    """The subject of a Digital Identity Anchor: an identifier in an authoritative register."""

    id: str | None = None
    name: str | None = None
    registered_id: str | None = Field(default=None, alias="registeredId")
    id_scheme: IdentifierScheme | None = Field(default=None, alias="idScheme")
    register_type: str | None = Field(default=None, alias="registerType")
    registration_scope_list: list[str] | None = Field(default=None, alias="registrationScopeList")


SubjectT = TypeVar("SubjectT")


class Credential(Typed, Generic[SubjectT]):
    """A plain (not enveloped) verifiable credential with a subject of type ``SubjectT``."""

    context: list[Any] | str | None = Field(default=None, alias="@context")
    id: str | None = None
    issuer: str | CredentialIssuer | None = None
    valid_from: str | None = Field(default=None, alias="validFrom")
    valid_until: str | None = Field(default=None, alias="validUntil")
    credential_status: dict[str, Any] | list[dict[str, Any]] | None = Field(
        default=None, alias="credentialStatus"
    )
    credential_subject: SubjectT | None = Field(default=None, alias="credentialSubject")

    @property
    def issuer_id(self) -> str | None:
        """The issuer's identifier, whether ``issuer`` is a string or an object."""
        if isinstance(self.issuer, CredentialIssuer):
            return self.issuer.id
        return self.issuer


class DigitalProductPassport(Credential[ProductPassport]):
    """A Digital Product Passport (DPP)."""


class DigitalConformityCredential(Credential[ConformityAttestation]):
    """A Digital Conformity Credential (DCC)."""


class DigitalTraceabilityEvent(Credential[list[TraceabilityEvent]]):
    """A Digital Traceability Event (DTE), whose subject is a list of events."""


class DigitalFacilityRecord(Credential[FacilityRecord]):
    """A Digital Facility Record (DFR)."""


class DigitalIdentityAnchor(Credential[RegisteredIdentity]):
    """A Digital Identity Anchor (DIA)."""


UntpCredential = (
    DigitalProductPassport
    | DigitalConformityCredential
    | DigitalTraceabilityEvent
    | DigitalFacilityRecord
    | DigitalIdentityAnchor
)

_MODELS: dict[CredentialKind, type[Credential[Any]]] = {
    CredentialKind.DPP: DigitalProductPassport,
    CredentialKind.DCC: DigitalConformityCredential,
    CredentialKind.DTE: DigitalTraceabilityEvent,
    CredentialKind.DFR: DigitalFacilityRecord,
    CredentialKind.DIA: DigitalIdentityAnchor,
}


def parse_credential(document: Mapping[str, Any]) -> Credential[Any]:
    """Read a plain UNTP credential into the model of the UNTP type in its ``type`` list.

    Raises :class:`~valuetrace.errors.InputError` when ``type`` names no UNTP credential type or
    a field has a JSON type that the model cannot read (an object where a string belongs …).
    """
    kind = detect_kind(document)
    if kind is None:
        accepted = ", ".join(k.credential_type for k in CredentialKind)
        raise InputError(
            f"Cannot parse the credential: its type {document.get('type')!r} names no UNTP "
            f"credential type. Expected one of {accepted}."
        )
    model = _MODELS[kind]
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"Cannot parse the {kind.credential_type} {document.get('id')!r}: "
            f"{error.error_count()} field(s) have the wrong JSON type, the first at "
            f"{location!r}: {first['msg']}. Run validate_credential for all problems."
        ) from error


def to_json_dict(model: BaseModel) -> dict[str, Any]:
    """Dump a model to JSON data with the JSON names, leaving out every field that is ``None``."""
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data
