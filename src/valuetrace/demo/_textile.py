"""A realistic cotton T-shirt value chain, issued as signed UNTP 0.6.1 credentials.

Two organic cotton farms harvest seed cotton. A gin turns it into lint, a spinner into yarn, a
weaver into fabric and a garment maker into T-shirts that a brand sells. A certification body
certifies the farms' organic production and audits the garment factory, and a national business
register anchors every organisation's DID. Identifiers live on reserved ``.example`` domains and
are the same on every run. Dates are relative to the time of the run.

Harvests, transformations and shipments are built as EPCIS 2.0 events, captured into an event
repository when one is given, and issued as Digital Traceability Events through the DTE bridge,
so that the chain walk and the repository describe the same events. Each event's ``eventID`` is
its CBV 2.0 event hash, which changes with the event times.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from valuetrace.chain import subject_keys
from valuetrace.did import (
    Ed25519KeyPair,
    build_did_web_document,
    encrypt_private_key,
)
from valuetrace.epcis import DuplicateEventError, EventRepository, issue_dte
from valuetrace.resolver import Resolver, gs1_check_digit
from valuetrace.store import Store
from valuetrace.vc import decode_envelope, sign_enveloped
from valuetrace.vc._statuslist import StatusList, status_entry, status_list_credential

__all__ = [
    "DemoChain",
    "Organisation",
    "build_textile_chain",
    "revoke_credential",
    "tamper_credential",
]

LOGGER = logging.getLogger(__name__)

DL_BASE = "https://id.valuetrace.example"
DOMAIN = "valuetrace.example"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
UNTP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/{kind}/0.6.1/"
STATUS_LIST_NAME = "status-list-revocation"
LINK_TYPES = "https://test.uncefact.org/vocabulary/linkTypes/"
CBV = "https://ref.gs1.org/cbv/"
GS1_COMPANY_PREFIX = "9520123"  # the GS1 prefix range 952 is reserved for examples

ORGANIC_CRITERION = f"https://certifier.{DOMAIN}/schemes/organic-cotton/v3#organic-production"
LABOUR_CRITERION = f"https://certifier.{DOMAIN}/schemes/social-audit/v2#no-forced-labour"


def gtin(item_reference: int) -> str:
    """Return the GTIN-14 of an item of the example company, with its check digit."""
    body = f"0{GS1_COMPANY_PREFIX}00{item_reference:03d}"
    return body + str(gs1_check_digit(body))


def gln(location_reference: int) -> str:
    """Return the GLN of a location of the example company, with its check digit."""
    body = f"{GS1_COMPANY_PREFIX}00{location_reference:03d}"
    return body + str(gs1_check_digit(body))


def product_link(item_reference: int, lot: str | None = None) -> str:
    uri = f"{DL_BASE}/01/{gtin(item_reference)}"
    return f"{uri}/10/{lot}" if lot else uri


def facility_link(location_reference: int) -> str:
    return f"{DL_BASE}/414/{gln(location_reference)}"


@dataclass
class Organisation:
    """A party of the chain: its DID, signing key, register entry and facility."""

    slug: str
    name: str
    registered_id: str
    country: str
    region: str
    locality: str
    facility_reference: int | None = None
    facility_name: str | None = None
    process: str | None = None
    plot: list[list[float]] | None = None
    key: Ed25519KeyPair = field(default_factory=Ed25519KeyPair.generate)

    @property
    def did(self) -> str:
        return f"did:web:{self.slug}.{DOMAIN}"

    @property
    def kid(self) -> str:
        return f"{self.did}#key-1"

    @property
    def facility_id(self) -> str | None:
        if self.facility_reference is None:
            return None
        return facility_link(self.facility_reference)

    def credential_url(self, name: str) -> str:
        return f"https://{self.slug}.{DOMAIN}/credentials/{name}.json"

    def issuer(self) -> dict[str, Any]:
        return {"type": ["CredentialIssuer"], "id": self.did, "name": self.name}

    def party(self) -> dict[str, Any]:
        return {
            "id": f"https://register.{DOMAIN}/entities/{self.registered_id}",
            "name": self.name,
            "registeredId": self.registered_id,
        }

    def facility_reference_object(self) -> dict[str, Any]:
        assert self.facility_id is not None
        return {
            "id": self.facility_id,
            "name": self.facility_name or self.name,
            "registeredId": gln(self.facility_reference or 0),
        }


@dataclass
class DemoChain:
    """The built demo chain: the garment's identifier, the trusted DIDs and every credential."""

    garment_link: str
    trusted_dids: list[str]
    accreditation_bodies: list[str] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict)  # name -> URL
    organisations: dict[str, Organisation] = field(default_factory=dict)
    event_ids: dict[str, str] = field(default_factory=dict)  # DTE name -> EPCIS eventID
    key_secret_generated: bool = False
    # the certifier's revocation list and the index of each conformity credential in it
    status_list: StatusList | None = None
    status_indexes: dict[str, int] = field(default_factory=dict)


def _organisations() -> dict[str, Organisation]:
    organisations = [
        Organisation(
            "register", "Demo National Business Register", "REG-0001", "IN", "Delhi", "New Delhi"
        ),
        Organisation(
            "farm-a",
            "Sabarkantha Organic Cotton Growers",
            "IN-FARM-1001",
            "IN",
            "Gujarat",
            "Himmatnagar",
            1,
            "Sabarkantha cotton plots",
            "Cotton farming",
            plot=[[73.01, 23.59], [73.03, 23.59], [73.03, 23.61], [73.01, 23.61], [73.01, 23.59]],
        ),
        Organisation(
            "farm-b",
            "Vidarbha Organic Farmers Cooperative",
            "IN-FARM-1002",
            "IN",
            "Maharashtra",
            "Yavatmal",
            2,
            "Yavatmal cooperative plots",
            "Cotton farming",
            plot=[[78.11, 20.38], [78.14, 20.38], [78.14, 20.40], [78.11, 20.40], [78.11, 20.38]],
        ),
        Organisation(
            "gin",
            "Rajkot Ginning Mills",
            "IN-GIN-2001",
            "IN",
            "Gujarat",
            "Rajkot",
            3,
            "Rajkot ginning factory",
            "Ginning",
        ),
        Organisation(
            "spinner",
            "Coimbatore Spinning Company",
            "IN-SPN-3001",
            "IN",
            "Tamil Nadu",
            "Coimbatore",
            4,
            "Coimbatore ring-spinning mill",
            "Spinning",
        ),
        Organisation(
            "weaver",
            "Erode Textile Weavers",
            "IN-WEV-4001",
            "IN",
            "Tamil Nadu",
            "Erode",
            5,
            "Erode weaving shed",
            "Weaving",
        ),
        Organisation(
            "garments",
            "Tiruppur Apparel Makers",
            "IN-GAR-5001",
            "IN",
            "Tamil Nadu",
            "Tiruppur",
            6,
            "Tiruppur garment factory",
            "Sewing",
        ),
        Organisation(
            "brand", "Good Threads Clothing", "IN-BRD-6001", "IN", "Karnataka", "Bengaluru"
        ),
        Organisation(
            "certifier",
            "Demo Organic and Social Certification",
            "IN-CAB-7001",
            "IN",
            "Maharashtra",
            "Mumbai",
        ),
        Organisation(
            "accreditation",
            "Demo National Accreditation Board",
            "IN-AB-0001",
            "IN",
            "Delhi",
            "New Delhi",
        ),
    ]
    return {organisation.slug: organisation for organisation in organisations}


class _Issuer:
    """Signs credentials, stores them and registers their links."""

    def __init__(
        self,
        store: Store,
        resolver: Resolver,
        chain: DemoChain,
        now: datetime,
        repository: EventRepository | None,
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.chain = chain
        self.now = now
        self.repository = repository
        self.digests: dict[str, str] = {}

    def issue(
        self,
        organisation: Organisation,
        kind: str,
        name: str,
        subject: Any,
        *,
        valid_days: int = 365,
        status: dict[str, Any] | None = None,
    ) -> str:
        url = organisation.credential_url(name)
        credential_type = {
            "dpp": "DigitalProductPassport",
            "dcc": "DigitalConformityCredential",
            "dte": "DigitalTraceabilityEvent",
            "dfr": "DigitalFacilityRecord",
            "dia": "DigitalIdentityAnchor",
        }[kind]
        credential = {
            "@context": [VC_CONTEXT, UNTP_CONTEXT.format(kind=kind)],
            "type": [credential_type, "VerifiableCredential"],
            "id": url,
            "issuer": organisation.issuer(),
            "validFrom": _timestamp(self.now - timedelta(days=1)),
            "validUntil": _timestamp(self.now + timedelta(days=valid_days)),
            "credentialSubject": subject,
        }
        if status is not None:
            credential["credentialStatus"] = status
        return self._sign_and_store(organisation, name, credential)

    def issue_status_list(self, organisation: Organisation, status_list: StatusList) -> str:
        """Sign and store the organisation's revocation list, replacing an earlier version."""
        url = organisation.credential_url(STATUS_LIST_NAME)
        credential = status_list_credential(
            status_list,
            credential_id=url,
            issuer=organisation.did,
            purpose="revocation",
            valid_from=_timestamp(self.now - timedelta(days=1)),
        )
        return self._sign_and_store(organisation, STATUS_LIST_NAME, credential)

    def issue_event(
        self, organisation: Organisation, name: str, event: dict[str, Any], names: dict[str, str]
    ) -> str:
        """Capture an EPCIS event into the repository, then issue it as a DTE credential."""
        if self.repository is not None:
            try:
                event_id = self.repository.capture_event(event)
            except DuplicateEventError as error:
                # An earlier build on this database captured the same event, whose hash is its ID.
                event_id = error.event_id
            self.chain.event_ids[name] = event_id
        url = organisation.credential_url(name)
        # Backdated by a day, like every credential of the demo.
        credential = issue_dte(
            [event], issuer=organisation, url=url, now=self.now - timedelta(days=1), names=names
        )
        credential["validUntil"] = _timestamp(self.now + timedelta(days=365))
        return self._sign_and_store(organisation, name, credential)

    def _sign_and_store(
        self, organisation: Organisation, name: str, credential: dict[str, Any]
    ) -> str:
        url = str(credential["id"])
        credential_type = str(credential["type"][0])
        envelope = sign_enveloped(credential, organisation.key, organisation.kid)
        content = json.dumps(envelope, separators=(",", ":")).encode()
        stored = self.store.put_credential(
            url,
            content,
            credential_id=url,
            credential_type=credential_type,
            issuer=organisation.did,
            subject_ids=[identifier for _, identifier in subject_keys(credential)],
            replace=True,
        )
        self.digests[url] = stored.sha256
        self.chain.credentials[name] = url
        return url

    def link(self, url: str, name: str, kind: str) -> dict[str, Any]:
        """Return a UNTP SecureLink to a stored credential, with the digest of its bytes."""
        return {
            "linkURL": url,
            "linkName": name,
            "linkType": LINK_TYPES + kind,
            "hashDigest": self.digests[url],
            "hashMethod": "SHA-256",
        }


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _measure(value: float, unit: str = "KGM") -> dict[str, Any]:
    return {"value": value, "unit": unit}


def _classification(code: str, name: str) -> dict[str, Any]:
    return {
        "type": ["Classification"],
        "id": f"https://unstats.un.org/unsd/classifications/Econ/cpc/{code}",
        "code": code,
        "name": name,
        "schemeID": "https://unstats.un.org/unsd/classifications/Econ/cpc/",
        "schemeName": "UN Central Product Classification (CPC)",
    }


def _epcis_quantity(identifier: str, kilograms: float) -> dict[str, Any]:
    return {"epcClass": identifier, "quantity": kilograms, "uom": "KGM"}


def build_textile_chain(
    store: Store,
    *,
    now: datetime | None = None,
    key_secret: bytes | None = None,
    progress: Callable[[str], None] | None = None,
    repository: EventRepository | None = None,
) -> DemoChain:
    """Issue, sign and store the whole chain, register its links, and return where it is.

    With a ``repository``, every traceability event is captured there as an EPCIS 2.0 event
    before it is issued as a DTE credential.
    """
    now = now or datetime.now(UTC)
    organisations = _organisations()
    register = organisations["register"]
    chain = DemoChain(
        garment_link=product_link(6, "TS-2026-0042"),
        trusted_dids=[register.did],
        accreditation_bodies=[organisations["accreditation"].did],
        organisations=organisations,
    )
    if key_secret is None:
        key_secret = secrets.token_bytes(32)
        chain.key_secret_generated = True
    resolver = Resolver(store)
    issuer = _Issuer(store, resolver, chain, now, repository)

    def step(message: str) -> None:
        LOGGER.info("demo: %s", message)
        if progress is not None:
            progress(message)

    step("creating identities and identity anchors")
    for organisation in organisations.values():
        store.put_key(
            organisation.kid, encrypt_private_key(organisation.key, key_secret), replace=True
        )
        dia_url: str | None = None
        if organisation is not register:
            dia_url = issuer.issue(
                register,
                "dia",
                f"dia-{organisation.slug}",
                {
                    "type": ["RegisteredIdentity"],
                    "id": organisation.did,
                    "name": organisation.name,
                    "registeredId": organisation.registered_id,
                    "registerType": "Business",
                    "registrationScopeList": [f"https://register.{DOMAIN}/scopes/business"],
                },
            )
        document = build_did_web_document(
            organisation.did, [("key-1", organisation.key.public_key)], dia_url=dia_url
        )
        store.put_did_document(organisation.did, document)

    step("issuing facility records")
    for organisation in organisations.values():
        if organisation.facility_id is None:
            continue
        facility: dict[str, Any] = {
            "type": ["Facility"],
            "id": organisation.facility_id,
            "name": organisation.facility_name,
            "registeredId": gln(organisation.facility_reference or 0),
            "countryOfOperation": organisation.country,
            "operatedByParty": organisation.party(),
            "address": {
                "addressLocality": organisation.locality,
                "addressRegion": organisation.region,
                "addressCountry": organisation.country,
            },
        }
        if organisation.process:
            facility["description"] = f"{organisation.process} site of {organisation.name}"
        if organisation.plot is not None:
            centre = organisation.plot[0]
            facility["locationInformation"] = {
                "geoLocation": {"type": "Point", "coordinates": centre},
                "geoBoundary": {"type": "Polygon", "coordinates": [organisation.plot]},
            }
        url = issuer.issue(
            organisation,
            "dfr",
            f"dfr-{organisation.slug}",
            {"type": ["FacilityRecord"], "facility": facility},
        )
        resolver.register(
            organisation.facility_id,
            LINK_TYPES + "dfr",
            url,
            title=f"Facility record of {organisation.facility_name}",
            media_type="application/vc",
        )

    step("issuing the certifier's accreditation")
    certifier = organisations["certifier"]
    accreditation_body = organisations["accreditation"]
    accreditation_url = issuer.issue(
        accreditation_body,
        "dcc",
        "dcc-accreditation-certifier",
        _accreditation_attestation(accreditation_body, certifier, now),
    )
    endorsement = _endorsement(accreditation_body, certifier, accreditation_url)

    step("issuing conformity credentials and their revocation list")
    farm_a, farm_b = organisations["farm-a"], organisations["farm-b"]
    status_list = StatusList()
    status_url = certifier.credential_url(STATUS_LIST_NAME)
    chain.status_list = status_list
    chain.status_indexes["dcc-organic-cotton"] = organic_index = status_list.allocate()
    chain.status_indexes["dcc-social-audit"] = social_index = status_list.allocate()
    organic_dcc = issuer.issue(
        certifier,
        "dcc",
        "dcc-organic-cotton",
        {**_organic_attestation(certifier, farm_a, farm_b, now), "authorisation": [endorsement]},
        status=status_entry(status_url, organic_index, "revocation"),
    )
    garments = organisations["garments"]
    social_dcc = issuer.issue(
        certifier,
        "dcc",
        "dcc-social-audit",
        {**_social_attestation(certifier, garments, now), "authorisation": [endorsement]},
        status=status_entry(status_url, social_index, "revocation"),
    )
    issuer.issue_status_list(certifier, status_list)

    step("issuing traceability events and product passports")
    _issue_products(issuer, resolver, organisations, now, organic_dcc, social_dcc)
    return chain


def _accreditation_attestation(
    body: Organisation, certifier: Organisation, now: datetime
) -> dict[str, Any]:
    """Build the accreditation body's attestation that the certifier meets ISO/IEC 17065."""
    return {
        "type": ["ConformityAttestation", "Attestation"],
        "id": f"https://{body.slug}.{DOMAIN}/accreditations/{certifier.registered_id}",
        "name": f"Accreditation of {certifier.name} as a product certification body",
        "assessorLevel": "3rdParty",
        "assessmentLevel": "GovtApproval",
        "attestationType": "certification",
        "description": "Accreditation to ISO/IEC 17065 for organic production and social "
        "audit schemes.",
        "issuedToParty": {
            "id": certifier.did,
            "name": certifier.name,
            "registeredId": certifier.registered_id,
        },
        "assessment": [
            {
                "type": ["ConformityAssessment", "Declaration"],
                "id": f"https://{body.slug}.{DOMAIN}/assessments/{certifier.registered_id}/1",
                "name": "Competence of a product certification body",
                "assessmentDate": (now - timedelta(days=200)).date().isoformat(),
                "assessmentCriteria": [
                    _criterion(
                        f"https://{body.slug}.{DOMAIN}/schemes/iso-iec-17065",
                        "ISO/IEC 17065 requirements for product certification bodies",
                        "governance.compliance",
                    )
                ],
                "conformance": True,
                "conformityTopic": "governance.compliance",
            }
        ],
    }


def _endorsement(body: Organisation, certifier: Organisation, url: str) -> dict[str, Any]:
    return {
        "type": ["Endorsement"],
        "id": f"https://{body.slug}.{DOMAIN}/accreditations/{certifier.registered_id}",
        "name": f"Accreditation of {certifier.name} by {body.name}",
        "issuingAuthority": {"id": body.did, "name": body.name},
        "endorsementEvidence": {
            "linkURL": url,
            "linkName": "Accreditation credential",
            "linkType": "https://test.uncefact.org/vocabulary/linkTypes/dcc",
        },
    }


def _organic_attestation(
    certifier: Organisation, farm_a: Organisation, farm_b: Organisation, now: datetime
) -> dict[str, Any]:
    return {
        "type": ["ConformityAttestation", "Attestation"],
        "id": f"https://certifier.{DOMAIN}/attestations/organic-cotton-2026",
        "name": "Organic cotton production certificate",
        "assessorLevel": "3rdParty",
        "assessmentLevel": "Accredited",
        "attestationType": "certification",
        "description": "Certification of organic seed cotton production on the growers' plots.",
        "issuedToParty": farm_a.party(),
        "assessment": [
            {
                "type": ["ConformityAssessment", "Declaration"],
                "id": f"https://certifier.{DOMAIN}/assessments/organic-cotton-2026/1",
                "name": "Organic production of seed cotton",
                "assessmentDate": (now - timedelta(days=120)).date().isoformat(),
                "assessmentCriteria": [
                    _criterion(ORGANIC_CRITERION, "Organic production", "environment.biodiversity")
                ],
                "conformance": True,
                "conformityTopic": "environment.biodiversity",
                "assessedProduct": [
                    {
                        "product": {"id": product_link(1), "name": "Seed cotton, Sabarkantha"},
                        "IDverifiedByCAB": True,
                    },
                    {
                        "product": {"id": product_link(2), "name": "Seed cotton, Yavatmal"},
                        "IDverifiedByCAB": True,
                    },
                ],
                "assessedFacility": [
                    {
                        "facility": farm_a.facility_reference_object(),
                        "IDverifiedByCAB": True,
                    },
                    {
                        "facility": farm_b.facility_reference_object(),
                        "IDverifiedByCAB": True,
                    },
                ],
            }
        ],
    }


def _social_attestation(
    certifier: Organisation, garments: Organisation, now: datetime
) -> dict[str, Any]:
    return {
        "type": ["ConformityAttestation", "Attestation"],
        "id": f"https://certifier.{DOMAIN}/attestations/social-audit-2026",
        "name": "Social audit of the garment factory",
        "assessorLevel": "3rdParty",
        "assessmentLevel": "Accredited",
        "attestationType": "inspection",
        "description": "Announced and unannounced audit of labour conditions at the "
        "garment factory.",
        "issuedToParty": garments.party(),
        "assessment": [
            {
                "type": ["ConformityAssessment", "Declaration"],
                "id": f"https://certifier.{DOMAIN}/assessments/social-audit-2026/1",
                "name": "No forced or bonded labour",
                "assessmentDate": (now - timedelta(days=60)).date().isoformat(),
                "assessmentCriteria": [
                    _criterion(LABOUR_CRITERION, "No forced labour", "social.labour")
                ],
                "conformance": True,
                "conformityTopic": "social.labour",
                "assessedFacility": [
                    {
                        "facility": garments.facility_reference_object(),
                        "IDverifiedByCAB": True,
                    },
                ],
            }
        ],
    }


def _criterion(identifier: str, name: str, topic: str) -> dict[str, Any]:
    return {
        "type": ["Criterion"],
        "id": identifier,
        "name": name,
        "description": f"{name}, as defined by the certification scheme.",
        "conformityTopic": topic,
        "status": "active",
    }


@dataclass(frozen=True)
class _Stage:
    organisation: str
    item: int
    lot: str
    name: str
    cpc: tuple[str, str]
    kilograms: float
    inputs: tuple[tuple[str, float], ...]  # (stage key, kilograms used)
    process: str
    biz_step: str
    ships_to: str | None


_STAGES: dict[str, _Stage] = {
    "seed-a": _Stage(
        "farm-a",
        1,
        "SC-A-2026",
        "Seed cotton, Sabarkantha",
        ("01921", "Cotton, whether or not ginned"),
        12000,
        (),
        "Harvesting",
        "commissioning",
        "gin",
    ),
    "seed-b": _Stage(
        "farm-b",
        2,
        "SC-B-2026",
        "Seed cotton, Yavatmal",
        ("01921", "Cotton, whether or not ginned"),
        8000,
        (),
        "Harvesting",
        "commissioning",
        "gin",
    ),
    "lint": _Stage(
        "gin",
        3,
        "LINT-0417",
        "Organic cotton lint",
        ("01921", "Cotton, whether or not ginned"),
        7000,
        (("seed-a", 12000), ("seed-b", 8000)),
        "Ginning",
        "commissioning",
        "spinner",
    ),
    "yarn": _Stage(
        "spinner",
        4,
        "YRN-30S-118",
        "Organic cotton yarn 30s Ne",
        ("26310", "Cotton yarn"),
        6300,
        (("lint", 7000),),
        "Spinning",
        "commissioning",
        "weaver",
    ),
    "fabric": _Stage(
        "weaver",
        5,
        "FAB-JS-552",
        "Organic cotton single jersey fabric",
        ("26620", "Woven fabrics of cotton"),
        6000,
        (("yarn", 6300),),
        "Weaving",
        "commissioning",
        "garments",
    ),
    "garment": _Stage(
        "garments",
        6,
        "TS-2026-0042",
        "Organic cotton T-shirt",
        ("28226", "T-shirts, singlets and other vests"),
        5000,
        (("fabric", 6000),),
        "Sewing",
        "commissioning",
        "brand",
    ),
}


def _issue_products(
    issuer: _Issuer,
    resolver: Resolver,
    organisations: dict[str, Organisation],
    now: datetime,
    organic_dcc: str,
    social_dcc: str,
) -> None:
    names = {product_link(stage.item, stage.lot): stage.name for stage in _STAGES.values()}
    day = 0
    for key, stage in _STAGES.items():
        day += 7
        maker = organisations[stage.organisation]
        product_id = product_link(stage.item, stage.lot)
        produced_name = f"dte-{stage.process.lower()}-{key}"
        produced = issuer.issue_event(
            maker,
            produced_name,
            _production_event(maker, stage, product_id, now - timedelta(days=90 - day)),
            names,
        )
        links = [
            issuer.link(produced, f"{stage.process} event", "dte"),
        ]
        if stage.ships_to is not None:
            receiver = organisations[stage.ships_to]
            shipped = issuer.issue_event(
                maker,
                f"dte-shipping-{key}",
                _shipping_event(maker, receiver, stage, product_id, now - timedelta(days=88 - day)),
                names,
            )
            links.append(issuer.link(shipped, f"Shipment to {receiver.name}", "dte"))

        passport_issuer = organisations["brand"] if key == "garment" else maker
        subject = _passport_subject(
            issuer, stage, maker, product_id, links, organic_dcc, social_dcc, key
        )
        url = issuer.issue(passport_issuer, "dpp", f"dpp-{key}", subject)
        resolver.register(
            product_id,
            LINK_TYPES + "dpp",
            url,
            title=f"Product passport of {stage.name}",
            media_type="application/vc",
            default=True,
        )


def _production_event(
    maker: Organisation, stage: _Stage, product_id: str, moment: datetime
) -> dict[str, Any]:
    """Build the EPCIS event of a harvest (an ObjectEvent) or of a transformation.

    Each lot is named in an EPC list and, with its weight, in a quantity list.
    """
    # NOTE: EPCIS intends EPC lists for serialised items, but here a lot stands for its items.
    event: dict[str, Any] = {
        "type": "TransformationEvent" if stage.inputs else "ObjectEvent",
        "eventTime": _timestamp(moment),
        "eventTimeZoneOffset": "+00:00",
    }
    if not stage.inputs:
        event["action"] = "ADD"
    event["bizStep"] = CBV + "BizStep-" + stage.biz_step
    event["disposition"] = CBV + "Disp-active"
    event["bizLocation"] = {"id": maker.facility_id}
    if stage.inputs:
        inputs = [
            (product_link(_STAGES[name].item, _STAGES[name].lot), kilograms)
            for name, kilograms in stage.inputs
        ]
        event["inputEPCList"] = [lot for lot, _ in inputs]
        event["inputQuantityList"] = [_epcis_quantity(lot, kg) for lot, kg in inputs]
        event["outputEPCList"] = [product_id]
        event["outputQuantityList"] = [_epcis_quantity(product_id, stage.kilograms)]
    else:
        event["epcList"] = [product_id]
        event["quantityList"] = [_epcis_quantity(product_id, stage.kilograms)]
    return event


def _shipping_event(
    sender: Organisation,
    receiver: Organisation,
    stage: _Stage,
    product_id: str,
    moment: datetime,
) -> dict[str, Any]:
    """Build the EPCIS event of a shipment: a TransactionEvent under a despatch advice.

    The sender and the receiver are the owning parties before and after the shipment.
    """
    return {
        "type": "TransactionEvent",
        "eventTime": _timestamp(moment),
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "bizStep": CBV + "BizStep-shipping",
        "disposition": CBV + "Disp-in_transit",
        "bizLocation": {"id": sender.facility_id},
        "bizTransactionList": [
            {
                "type": CBV + "BTT-desadv",
                "bizTransaction": f"https://{sender.slug}.{DOMAIN}/despatch-advice/{stage.lot}",
            }
        ],
        "epcList": [product_id],
        "quantityList": [_epcis_quantity(product_id, stage.kilograms)],
        "sourceList": [{"type": CBV + "SDT-owning_party", "source": sender.party()["id"]}],
        "destinationList": [
            {"type": CBV + "SDT-owning_party", "destination": receiver.party()["id"]}
        ],
    }


def _passport_subject(
    issuer: _Issuer,
    stage: _Stage,
    maker: Organisation,
    product_id: str,
    links: list[dict[str, Any]],
    organic_dcc: str,
    social_dcc: str,
    key: str,
) -> dict[str, Any]:
    is_garment = key == "garment"
    unit_kg = 0.25 if is_garment else stage.kilograms
    product: dict[str, Any] = {
        "type": ["Product"],
        "id": product_id,
        "name": stage.name,
        "registeredId": gtin(stage.item),
        "batchNumber": stage.lot,
        "productCategory": [_classification(*stage.cpc)],
        "producedByParty": maker.party(),
        "producedAtFacility": maker.facility_reference_object(),
        "countryOfProduction": maker.country,
        "dimensions": {"weight": _measure(unit_kg)},
    }
    materials: list[dict[str, Any]] = [
        {
            "name": "Organic cotton",
            "originCountry": "IN",
            "materialType": _classification("01921", "Cotton, whether or not ginned"),
            "massFraction": 0.95 if is_garment else 1.0,
            "recycledMassFraction": 0.0,
            "hazardous": False,
        }
    ]
    if is_garment:
        materials.append(
            {
                "name": "Elastane",
                "originCountry": "CN",
                "materialType": _classification("35540", "Synthetic filament yarn"),
                "massFraction": 0.05,
                "recycledMassFraction": 0.0,
                "hazardous": False,
            }
        )
    subject: dict[str, Any] = {
        "type": ["ProductPassport"],
        "id": f"{product_id}#passport",
        "product": product,
        "granularityLevel": "batch",
        "materialsProvenance": materials,
        "traceabilityInformation": [
            {
                "valueChainProcess": stage.process,
                "verifiedRatio": 0.95 if is_garment else 1.0,
                "traceabilityEvent": links,
            }
        ],
    }
    if is_garment:
        subject["conformityClaim"] = [
            _claim(
                issuer,
                organic_dcc,
                ORGANIC_CRITERION,
                "Organic production",
                "environment.biodiversity",
                "Made with certified organic cotton",
                product_id,
            ),
            _claim(
                issuer,
                social_dcc,
                LABOUR_CRITERION,
                "No forced labour",
                "social.labour",
                "Sewn in a factory audited for forced labour",
                product_id,
            ),
        ]
    return subject


def _claim(
    issuer: _Issuer,
    dcc: str,
    criterion: str,
    name: str,
    topic: str,
    description: str,
    product_id: str,
) -> dict[str, Any]:
    return {
        "type": ["Claim", "Declaration"],
        "id": f"{product_id}#claim-{topic}",
        "description": description,
        "assessmentCriteria": [_criterion(criterion, name, topic)],
        "conformance": True,
        "conformityTopic": topic,
        "conformityEvidence": issuer.link(dcc, name + " certificate", "dcc"),
    }


def tamper_credential(store: Store, url: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Alter a stored credential's payload after signing, keeping its old signature.

    Used by ``valuetrace demo --tamper`` to show that the walk catches a changed credential.
    """
    stored = store.get_credential(url)
    if stored is None:
        raise ValueError(f"no credential stored at {url}")
    envelope = json.loads(stored.content)
    decoded = decode_envelope(envelope)
    payload = dict(decoded.payload)
    change(payload)
    encoded = (
        base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        .rstrip(b"=")
        .decode()
    )
    header, _, signature = decoded.compact.split(".")
    envelope["id"] = "data:application/vc+jwt," + ".".join((header, encoded, signature))
    store.put_credential(
        url,
        json.dumps(envelope, separators=(",", ":")).encode(),
        credential_id=stored.credential_id,
        credential_type=stored.credential_type,
        issuer=stored.issuer,
        subject_ids=[identifier for _, identifier in subject_keys(payload)],
        replace=True,
    )


def revoke_credential(store: Store, chain: DemoChain, name: str, *, now: datetime) -> None:
    """Revoke one of the demo's conformity credentials in the certifier's status list.

    The credential itself stays as issued; the certifier signs and publishes a new version of
    its revocation list with the credential's bit set.
    """
    if chain.status_list is None or name not in chain.status_indexes:
        raise ValueError(f"{name} has no entry in the demo's revocation list")
    chain.status_list.set(chain.status_indexes[name], True)
    issuer = _Issuer(store, Resolver(store), chain, now, None)
    issuer.issue_status_list(chain.organisations["certifier"], chain.status_list)
