"""Benchmark the chain walk on a synthetic UNTP 0.6.1 value chain.

The script generates a signed chain of about N credentials in a fresh SQLite store. It walks
and verifies the chain from the root product with ``verify_chain``, and compares the walk rate
with the bare Ed25519 verify rate of PyNaCl measured in the same run. It prints ratios and
never asserts absolute times.

    python bench/chain_walk.py [--credentials N] [--processes P] [--store PATH] [--profile]
        [--repeat K] [--bare-seconds SECONDS]

The chain is a full binary tree of product passports (DPPs). Each DPP links, with a SHA-256
``hashDigest``, to one traceability event (DTE). An inner product's DTE is a
TransformationEvent with two input products, and each input has its own DPP registered in the
resolver. A leaf product's DTE is a harvest ObjectEvent. Every DPP names its producing
facility, which has a facility record (DFR). The farms' passports and the root passport claim
organic production, which one conformity credential (DCC) attests. Every organisation has a
did:web DID document and an identity anchor (DIA) issued by one trusted register.

PyNaCl, the reference it measures against, is a dependency of valuetrace itself.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import multiprocessing
import platform
import pstats
import queue
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from nacl.signing import VerifyKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import valuetrace
from valuetrace.chain import Report, Sources, subject_keys, verify_chain
from valuetrace.chain._walk import DEFAULT_MAX_DEPTH
from valuetrace.demo import Organisation
from valuetrace.demo._textile import LINK_TYPES, UNTP_CONTEXT, VC_CONTEXT, gln, gtin, product_link
from valuetrace.did import build_did_web_document
from valuetrace.findings import Finding, Severity
from valuetrace.resolver import Resolver
from valuetrace.store import NewCredential, Store
from valuetrace.untp import validate_credential
from valuetrace.vc import decode_envelope, sign_enveloped

DEFAULT_CREDENTIALS = 10_000
DEFAULT_BARE_SECONDS = 3.0
DEFAULT_REPEAT = 3
TARGET_RATIO = 0.3
# Credentials flushed to the store per Store.put_credentials call.
INSERT_BATCH = 2_000
# Verifications between two clock reads in the bare-rate loop.
VERIFY_BATCH = 200

DOMAIN = "valuetrace.example"
CBV = "https://ref.gs1.org/cbv/"
ORGANIC_CRITERION = f"https://certifier.{DOMAIN}/schemes/organic-cotton/v3#organic-production"
ORGANIC_TOPIC = "environment.biodiversity"
CPC_COTTON = ("01921", "Cotton, whether or not ginned")
LEAF_MASS_KG = 1000.0
# Share of the input mass that a blending step keeps in its output.
BLEND_YIELD = 0.98

CREDENTIAL_TYPES = {
    "dpp": "DigitalProductPassport",
    "dcc": "DigitalConformityCredential",
    "dte": "DigitalTraceabilityEvent",
    "dfr": "DigitalFacilityRecord",
    "dia": "DigitalIdentityAnchor",
}

# Functions whose cumulative time --profile reports as a share of the walk:
# (label, end of the module path, function name).
PROFILE_BREAKDOWN: tuple[tuple[str, str, str], ...] = (
    ("check_credential (all checks of one credential)", "chain/_check.py", "check_credential"),
    ("  JOSE envelope and signature", "chain/_check.py", "_check_envelope"),
    ("    Ed25519 verify (verify_ed25519)", "did/_publickey.py", "verify_ed25519"),
    ("  validate_credential (schemas and terms)", "untp/_validate.py", "validate_credential"),
    ("    JSON-LD term check", "jsonld/_terms.py", "check_terms"),
    ("json.loads (every caller)", "json/__init__.py", "loads"),
    ("Sources.load (store reads)", "chain/_sources.py", "load"),
    ("find_product_passports", "chain/_sources.py", "find_product_passports"),
    ("find_facility_records", "chain/_sources.py", "find_facility_records"),
    ("find_identity_anchors", "chain/_sources.py", "find_identity_anchors"),
    ("link hash checks", "chain/_walk.py", "_check_link_hash"),
    ("issuer anchoring", "chain/_walk.py", "_resolve_anchors"),
    ("attest_claims", "chain/_analysis.py", "attest_claims"),
    ("  upstream_passports", "chain/_analysis.py", "upstream_passports"),
    ("find_cycles", "chain/_analysis.py", "find_cycles"),
    ("compute_provenance", "chain/_analysis.py", "compute_provenance"),
)


# -- the synthetic chain -----------------------------------------------------------------------


# slug, name, registered id, country, region, locality, facility reference, facility, process
_ORGANISATIONS: tuple[tuple[Any, ...], ...] = (
    ("register", "Bench Business Register", "REG-9001", "IN", "Delhi", "New Delhi"),
    ("certifier", "Bench Organic Certification", "IN-CAB-9002", "IN", "Maharashtra", "Mumbai"),
    (
        "farm-a",
        "Bench Farm A",
        "IN-FARM-9101",
        "IN",
        "Gujarat",
        "Rajkot",
        11,
        "Farm A plots",
        "Cotton farming",
    ),
    (
        "farm-b",
        "Bench Farm B",
        "IN-FARM-9102",
        "IN",
        "Maharashtra",
        "Yavatmal",
        12,
        "Farm B plots",
        "Cotton farming",
    ),
    (
        "farm-c",
        "Bench Farm C",
        "IN-FARM-9103",
        "IN",
        "Telangana",
        "Adilabad",
        13,
        "Farm C plots",
        "Cotton farming",
    ),
    (
        "mill-a",
        "Bench Mill A",
        "IN-MIL-9201",
        "IN",
        "Gujarat",
        "Ahmedabad",
        14,
        "Mill A blending hall",
        "Blending",
    ),
    (
        "mill-b",
        "Bench Mill B",
        "IN-MIL-9202",
        "IN",
        "Tamil Nadu",
        "Coimbatore",
        15,
        "Mill B blending hall",
        "Blending",
    ),
    (
        "mill-c",
        "Bench Mill C",
        "IN-MIL-9203",
        "IN",
        "Tamil Nadu",
        "Tiruppur",
        16,
        "Mill C blending hall",
        "Blending",
    ),
)


def _organisations() -> dict[str, Organisation]:
    """Create the organisations, each with a new Ed25519 key."""
    organisations = [Organisation(*row) for row in _ORGANISATIONS]
    return {organisation.slug: organisation for organisation in organisations}


FARMS = ("farm-a", "farm-b", "farm-c")
MILLS = ("mill-a", "mill-b", "mill-c")
# GS1 item references of the farms' seed cotton and the mills' blended lint.
ITEM_REFERENCES = {
    "farm-a": 101,
    "farm-b": 102,
    "farm-c": 103,
    "mill-a": 201,
    "mill-b": 202,
    "mill-c": 203,
}


def fixed_credential_count() -> int:
    """Return the number of credentials that do not depend on N: DIAs, DFRs and the DCC."""
    organisations = _organisations()
    dias = len(organisations) - 1  # the register is trusted and has no anchor
    dfrs = sum(1 for organisation in organisations.values() if organisation.facility_reference)
    return dias + dfrs + 1


def product_count(credentials: int) -> int:
    """Return the number of products for about ``credentials`` credentials.

    Each product has one DPP and one DTE. The count is odd, so that every inner node of the
    binary tree has exactly two inputs.
    """
    products = max(3, (credentials - fixed_credential_count()) // 2)
    return products if products % 2 == 1 else products - 1


def tree_depth(products: int) -> int:
    """Return the depth of the deepest leaf of a heap-ordered binary tree of ``products``."""
    return (products).bit_length() - 1


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class GeneratedChain:
    """A generated chain: where to start the walk, whom to trust, and one signed sample."""

    root_product: str
    trusted_dids: list[str]
    products: int
    credentials: int
    depth: int
    sample_public_key: bytes = b""
    sample_signing_input: bytes = b""
    sample_signature: bytes = b""


class _Issuer:
    """Sign credentials and write them to the store in batches."""

    def __init__(self, store: Store, now: datetime, advance: Callable[[int], None]) -> None:
        self.store = store
        self.now = now
        self.advance = advance
        self.pending: list[NewCredential] = []
        self.issued = 0
        self.validated: set[str] = set()

    def issue(
        self,
        organisation: Organisation,
        kind: str,
        name: str,
        subject: Any,
        *,
        shape: str,
    ) -> tuple[str, str, dict[str, Any]]:
        """Sign and queue one credential, and return its URL, SHA-256 digest and envelope.

        The first credential of each ``shape`` is validated at once, so that a generator
        mistake stops the run before the whole chain is signed.
        """
        url = organisation.credential_url(name)
        credential = {
            "@context": [VC_CONTEXT, UNTP_CONTEXT.format(kind=kind)],
            "type": [CREDENTIAL_TYPES[kind], "VerifiableCredential"],
            "id": url,
            "issuer": organisation.issuer(),
            "validFrom": _timestamp(self.now - timedelta(days=1)),
            "validUntil": _timestamp(self.now + timedelta(days=365)),
            "credentialSubject": subject,
        }
        if shape not in self.validated:
            _require_valid(credential)
            self.validated.add(shape)
        envelope = sign_enveloped(credential, organisation.key, organisation.kid)
        content = json.dumps(envelope, separators=(",", ":")).encode()
        self.pending.append(
            NewCredential(
                uri=url,
                content=content,
                credential_id=url,
                credential_type=CREDENTIAL_TYPES[kind],
                issuer=organisation.did,
                subject_ids=[identifier for _, identifier in subject_keys(credential)],
            )
        )
        if len(self.pending) >= INSERT_BATCH:
            self.flush()
        return url, hashlib.sha256(content).hexdigest(), envelope

    def flush(self) -> None:
        """Insert the queued credentials in one transaction."""
        if not self.pending:
            return
        self.issued += self.store.put_credentials(self.pending)
        self.advance(len(self.pending))
        self.pending = []


def _require_valid(credential: dict[str, Any]) -> None:
    errors = [
        finding
        for finding in validate_credential(credential)
        if finding.severity is not Severity.INFO
    ]
    if errors:
        lines = "\n".join(f"  {f.code} at {f.path}: {f.message}" for f in errors[:10])
        raise SystemExit(
            f"the generated {credential['type'][0]} {credential['id']} failed validation; "
            f"fix the generator:\n{lines}"
        )


def _link(url: str, digest: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "linkURL": url,
        "linkName": name,
        "linkType": LINK_TYPES + kind,
        "hashDigest": digest,
        "hashMethod": "SHA-256",
    }


def _classification(code: str, name: str) -> dict[str, Any]:
    return {
        "type": ["Classification"],
        "id": f"https://unstats.un.org/unsd/classifications/Econ/cpc/{code}",
        "code": code,
        "name": name,
        "schemeID": "https://unstats.un.org/unsd/classifications/Econ/cpc/",
        "schemeName": "UN Central Product Classification (CPC)",
    }


def _criterion() -> dict[str, Any]:
    return {
        "type": ["Criterion"],
        "id": ORGANIC_CRITERION,
        "name": "Organic production",
        "description": "Seed cotton grown without synthetic pesticides or fertilisers.",
        "conformityTopic": ORGANIC_TOPIC,
        "status": "active",
    }


def _identity_subject(organisation: Organisation) -> dict[str, Any]:
    return {
        "type": ["RegisteredIdentity"],
        "id": organisation.did,
        "name": organisation.name,
        "registeredId": organisation.registered_id,
        "registerType": "Business",
        "registrationScopeList": [f"https://register.{DOMAIN}/scopes/business"],
    }


def _facility_subject(organisation: Organisation) -> dict[str, Any]:
    return {
        "type": ["FacilityRecord"],
        "facility": {
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
        },
    }


def _attestation_subject(
    certifier: Organisation, farms: Sequence[Organisation], now: datetime
) -> dict[str, Any]:
    return {
        "type": ["ConformityAttestation", "Attestation"],
        "id": f"https://certifier.{DOMAIN}/attestations/bench-organic",
        "name": "Organic cotton production certificate",
        "assessorLevel": "3rdParty",
        "assessmentLevel": "Accredited",
        "attestationType": "certification",
        "description": "Certification of organic seed cotton production on the farms' plots.",
        "issuedToParty": farms[0].party(),
        "assessment": [
            {
                "type": ["ConformityAssessment", "Declaration"],
                "id": f"https://certifier.{DOMAIN}/assessments/bench-organic/1",
                "name": "Organic production of seed cotton",
                "assessmentDate": (now - timedelta(days=120)).date().isoformat(),
                "assessmentCriteria": [_criterion()],
                "conformance": True,
                "conformityTopic": ORGANIC_TOPIC,
                # A GTIN without lot covers every lot of the farm's seed cotton.
                "assessedProduct": [
                    {
                        "product": {
                            "id": product_link(ITEM_REFERENCES[farm.slug]),
                            "name": f"Seed cotton of {farm.name}",
                        },
                        "IDverifiedByCAB": True,
                    }
                    for farm in farms
                ],
                "assessedFacility": [
                    {"facility": farm.facility_reference_object(), "IDverifiedByCAB": True}
                    for farm in farms
                ],
            }
        ],
    }


@dataclass(frozen=True)
class _Product:
    index: int
    maker: Organisation
    identifier: str
    lot: str
    name: str
    mass_kg: float
    inputs: tuple[int, ...]


def _event_subject(
    product: _Product, inputs: Sequence[_Product], event_time: str
) -> list[dict[str, Any]]:
    maker = product.maker
    output = {"type": ["Item"], "id": product.identifier, "name": product.name}
    output_quantity = {
        "productId": product.identifier,
        "productName": product.name,
        "quantity": product.mass_kg,
        "uom": "KGM",
    }
    common = {
        "eventTime": event_time,
        "action": "add",
        "disposition": CBV + "Disp-active",
        "bizStep": CBV + "BizStep-commissioning",
        "bizLocation": maker.facility_id,
    }
    if not inputs:
        return [
            {
                "type": ["ObjectEvent", "Event"],
                "id": f"https://events.{DOMAIN}/bench/harvest-{product.index}",
                "processType": "Harvesting",
                **common,
                "epcList": [output],
                "quantityList": [output_quantity],
            }
        ]
    return [
        {
            "type": ["TransformationEvent", "Event"],
            "id": f"https://events.{DOMAIN}/bench/blend-{product.index}",
            "processType": "Blending",
            **common,
            "inputEPCList": [
                {"type": ["Item"], "id": item.identifier, "name": item.name} for item in inputs
            ],
            "inputQuantityList": [
                {
                    "productId": item.identifier,
                    "productName": item.name,
                    "quantity": item.mass_kg,
                    "uom": "KGM",
                }
                for item in inputs
            ],
            "outputEPCList": [output],
            "outputQuantityList": [output_quantity],
        }
    ]


def _passport_subject(
    product: _Product, event_link: dict[str, Any], claim: dict[str, Any] | None
) -> dict[str, Any]:
    maker = product.maker
    process = "Harvesting" if not product.inputs else "Blending"
    subject: dict[str, Any] = {
        "type": ["ProductPassport"],
        "id": f"{product.identifier}#passport",
        "product": {
            "type": ["Product"],
            "id": product.identifier,
            "name": product.name,
            "registeredId": gtin(ITEM_REFERENCES[maker.slug]),
            "batchNumber": product.lot,
            "productCategory": [_classification(*CPC_COTTON)],
            "producedByParty": maker.party(),
            "producedAtFacility": maker.facility_reference_object(),
            "countryOfProduction": maker.country,
            "dimensions": {"weight": {"value": product.mass_kg, "unit": "KGM"}},
        },
        "granularityLevel": "batch",
        "materialsProvenance": [
            {
                "name": "Organic cotton",
                "originCountry": "IN",
                "materialType": _classification(*CPC_COTTON),
                "massFraction": 1.0,
                "recycledMassFraction": 0.0,
                "hazardous": False,
            }
        ],
        "traceabilityInformation": [
            {"valueChainProcess": process, "verifiedRatio": 1.0, "traceabilityEvent": [event_link]}
        ],
    }
    if claim is not None:
        subject["conformityClaim"] = [claim]
    return subject


def _organic_claim(product: _Product, dcc_link: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": ["Claim", "Declaration"],
        "id": f"{product.identifier}#claim-organic",
        "description": "Made of certified organic cotton",
        "assessmentCriteria": [_criterion()],
        "conformance": True,
        "conformityTopic": ORGANIC_TOPIC,
        "conformityEvidence": dcc_link,
    }


def _plan_products(count: int, organisations: dict[str, Organisation]) -> list[_Product]:
    """Lay out a heap-ordered full binary tree: the inputs of product i are 2i+1 and 2i+2."""

    def inputs_of(index: int) -> tuple[int, ...]:
        return tuple(child for child in (2 * index + 1, 2 * index + 2) if child < count)

    masses = [LEAF_MASS_KG] * count
    for index in range(count - 1, -1, -1):
        children = inputs_of(index)
        if children:
            masses[index] = round(sum(masses[child] for child in children) * BLEND_YIELD, 3)
    products: list[_Product] = []
    for index in range(count):
        children = inputs_of(index)
        maker = organisations[(MILLS if children else FARMS)[index % 3]]
        lot = f"B{index:07d}"
        name = "Blended organic cotton lint" if children else f"Seed cotton of {maker.name}"
        products.append(
            _Product(
                index=index,
                maker=maker,
                identifier=product_link(ITEM_REFERENCES[maker.slug], lot),
                lot=lot,
                name=name,
                mass_kg=masses[index],
                inputs=children,
            )
        )
    return products


def generate_chain(
    store: Store, credentials: int, now: datetime, console: Console
) -> GeneratedChain:
    """Issue, sign and store a chain of about ``credentials`` credentials in ``store``.

    Shows a progress bar on ``console``. Raises SystemExit when a generated credential is
    invalid.
    """
    organisations = _organisations()
    register = organisations["register"]
    certifier = organisations["certifier"]
    resolver = Resolver(store)
    products = _plan_products(product_count(credentials), organisations)
    total = 2 * len(products) + fixed_credential_count()
    chain = GeneratedChain(
        root_product=products[0].identifier,
        trusted_dids=[register.did],
        products=len(products),
        credentials=total,
        depth=tree_depth(len(products)),
    )

    with _progress(console) as progress:
        task = progress.add_task("signing and storing credentials", total=total)
        issuer = _Issuer(store, now, lambda count: progress.advance(task, count))

        for organisation in organisations.values():
            dia_url = None
            if organisation is not register:
                dia_url, _, _ = issuer.issue(
                    register,
                    "dia",
                    f"dia-{organisation.slug}",
                    _identity_subject(organisation),
                    shape="dia",
                )
            document = build_did_web_document(
                organisation.did, [("key-1", organisation.key.public_key)], dia_url=dia_url
            )
            store.put_did_document(organisation.did, document)
            if organisation.facility_id is None:
                continue
            dfr_url, _, _ = issuer.issue(
                organisation,
                "dfr",
                f"dfr-{organisation.slug}",
                _facility_subject(organisation),
                shape="dfr",
            )
            resolver.register(
                organisation.facility_id,
                LINK_TYPES + "dfr",
                dfr_url,
                title=f"Facility record of {organisation.facility_name}",
                media_type="application/vc",
            )

        farms = [organisations[slug] for slug in FARMS]
        attestation = _attestation_subject(certifier, farms, now)
        dcc_url, dcc_digest, _ = issuer.issue(
            certifier, "dcc", "dcc-organic", attestation, shape="dcc"
        )
        dcc_link = _link(dcc_url, dcc_digest, "Organic cotton certificate", "dcc")

        event_time = _timestamp(now - timedelta(days=30))
        for product in products:
            inputs = [products[child] for child in product.inputs]
            kind_of_node = "inner" if inputs else "leaf"
            dte_url, dte_digest, _ = issuer.issue(
                product.maker,
                "dte",
                f"dte-{product.index}",
                _event_subject(product, inputs, event_time),
                shape=f"dte-{kind_of_node}",
            )
            event_name = "Blending event" if inputs else "Harvest event"
            event_link = _link(dte_url, dte_digest, event_name, "dte")
            claim = _organic_claim(product, dcc_link) if product.index == 0 or not inputs else None
            dpp_url, _, envelope = issuer.issue(
                product.maker,
                "dpp",
                f"dpp-{product.index}",
                _passport_subject(product, event_link, claim),
                shape=f"dpp-{kind_of_node}",
            )
            resolver.register(
                product.identifier,
                LINK_TYPES + "dpp",
                dpp_url,
                title=f"Product passport of lot {product.lot}",
                media_type="application/vc",
                default=True,
            )
            if product.index == 0:
                decoded = decode_envelope(envelope)
                chain.sample_public_key = product.maker.key.public_key
                chain.sample_signing_input = decoded.signing_input
                chain.sample_signature = decoded.signature
        issuer.flush()

    if issuer.issued != total:
        raise SystemExit(f"the generator stored {issuer.issued} credentials, expected {total}")
    return chain


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


# -- measurements --------------------------------------------------------------------------------


@dataclass
class WalkMeasurement:
    """One timed walk, run in a fresh process so that its peak memory is its own."""

    seconds: float
    credentials: int
    verified: bool
    errors: list[str] = field(default_factory=list)
    rss_before_kib: int = 0
    rss_peak_kib: int = 0


def _walk_options(chain: GeneratedChain) -> dict[str, Any]:
    # Each tier adds two steps (DPP to DTE, DTE to input DPP), and anchors add two more.
    return {
        "trusted_dids": chain.trusted_dids,
        "max_depth": max(DEFAULT_MAX_DEPTH, 2 * chain.depth + 4),
    }


def _run_walk(store_path: str, root: str, at: datetime, options: dict[str, Any]) -> Report:
    with Store.open(store_path) as store:
        return verify_chain(root, Sources(store=store), at=at, **options)


def _timed_walk(
    store_path: str, root: str, at: datetime, options: dict[str, Any]
) -> WalkMeasurement:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = _run_walk(store_path, root, at, options)
    seconds = time.perf_counter() - start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    errors = [_describe(f) for f in report.findings if f.severity is Severity.ERROR]
    return WalkMeasurement(
        seconds=seconds,
        credentials=len(report.credentials),
        verified=report.verified,
        errors=errors[:20],
        rss_before_kib=rss_before,
        rss_peak_kib=rss_peak,
    )


def _describe(finding: Finding) -> str:
    return f"{finding.code} in {finding.credential} at {finding.path}: {finding.message}"


def measure_walk(store_path: Path, chain: GeneratedChain, at: datetime) -> WalkMeasurement:
    """Walk the chain once in a fresh process and return its time and peak memory."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
        future = executor.submit(
            _timed_walk, str(store_path), chain.root_product, at, _walk_options(chain)
        )
        return future.result()


def _bare_verify_worker(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    seconds: float,
    barrier: Barrier,
    results: Any,
) -> None:
    verify_key = VerifyKey(public_key)
    # Raises BadSignatureError before the clock starts if the sample signature is invalid.
    verify_key.verify(message, signature)
    barrier.wait()
    count = 0
    start = time.perf_counter()
    while True:
        for _ in range(VERIFY_BATCH):
            verify_key.verify(message, signature)
        count += VERIFY_BATCH
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    results.put((count, elapsed))


def measure_bare_rate(chain: GeneratedChain, processes: int, seconds: float) -> float:
    """Return the aggregate PyNaCl Ed25519 verifications per second of ``processes`` processes.

    Every process verifies the root passport's JWS signature for ``seconds`` seconds. A barrier
    starts their clocks together, so the processes compete for the CPUs as a parallel walk
    would.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=_bare_verify_worker,
            args=(
                chain.sample_public_key,
                chain.sample_signing_input,
                chain.sample_signature,
                seconds,
                barrier,
                results,
            ),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        measured = [results.get(timeout=seconds + 120) for _ in workers]
    except queue.Empty:
        for worker in workers:
            worker.terminate()
        raise SystemExit(
            "a bare-rate worker sent no result within the timeout; run with --processes 1 "
            "to see its error"
        ) from None
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise SystemExit(f"a bare-rate worker exited with code {worker.exitcode}")
    return float(sum(count / elapsed for count, elapsed in measured))


def profile_walk(store_path: Path, chain: GeneratedChain, at: datetime) -> None:
    """Walk the chain under cProfile and print the top 25 functions and a breakdown."""
    profiler = cProfile.Profile()
    report = profiler.runcall(
        _run_walk, str(store_path), chain.root_product, at, _walk_options(chain)
    )
    if not report.verified:
        raise SystemExit("the profiled walk did not verify the chain")
    for order, title in (("cumulative", "cumulative time"), ("tottime", "total (own) time")):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(25)
        print(f"\nTop 25 functions by {title}:")
        print(_trim_pstats(stream.getvalue()))
    _print_breakdown(profiler)


def _trim_pstats(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line for line in lines[start:] if line.strip())


def _print_breakdown(profiler: cProfile.Profile) -> None:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    walk_total = max(
        (row[3] for (path, _, name), row in raw.items() if name == "_run_walk"), default=0.0
    )
    if walk_total <= 0:
        return
    print(f"\nShare of the profiled walk ({walk_total:.2f} s under cProfile), cumulative:")
    for label, module, function in PROFILE_BREAKDOWN:
        seconds = sum(
            row[3]
            for (path, _, name), row in raw.items()
            if name == function and path.replace("\\", "/").endswith(module)
        )
        calls = sum(
            row[1]
            for (path, _, name), row in raw.items()
            if name == function and path.replace("\\", "/").endswith(module)
        )
        print(f"  {label:<52} {100 * seconds / walk_total:5.1f} %  {calls:>9} calls")


# -- the command ---------------------------------------------------------------------------------


def _source_version() -> str:
    """Return the git commit of the valuetrace code that ran, marked dirty when changed."""
    package = Path(valuetrace.__file__).resolve().parent
    try:
        completed = subprocess.run(
            ["git", "-C", str(package), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return f"unknown ({package})"
    return f"{completed.stdout.strip()} ({package})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the chain walk on a generated UNTP 0.6.1 chain and compare it "
        "with the bare PyNaCl Ed25519 verify rate."
    )
    parser.add_argument(
        "--credentials",
        type=int,
        default=DEFAULT_CREDENTIALS,
        metavar="N",
        help=f"approximate number of credentials to generate (default {DEFAULT_CREDENTIALS})",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="P",
        help="processes for the bare verify rate; the walk runs in one process (default 1)",
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help="new SQLite file to generate the chain into and keep (default: a temporary folder)",
    )
    parser.add_argument(
        "--bare-seconds",
        type=float,
        default=DEFAULT_BARE_SECONDS,
        metavar="SECONDS",
        help=f"seconds that each bare verify measurement runs (default {DEFAULT_BARE_SECONDS})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        metavar="K",
        help="rounds of walk and bare measurements; the table shows medians "
        f"(default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also walk under cProfile and print the top 25 functions",
    )
    arguments = parser.parse_args(argv)

    if arguments.credentials < 2 * 3 + fixed_credential_count():
        parser.error(f"--credentials must be at least {2 * 3 + fixed_credential_count()}")
    if arguments.processes < 1:
        parser.error("--processes must be at least 1")
    if arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    if arguments.bare_seconds <= 0:
        parser.error("--bare-seconds must be positive")
    if arguments.store is not None and arguments.store.exists():
        parser.error(
            f"--store {arguments.store} already exists: the benchmark needs a fresh store, so "
            "give a new path or delete the file"
        )
    return arguments


@dataclass
class Round:
    """One walk and the bare verify rates measured right after it."""

    walk: WalkMeasurement
    bare_single: float
    bare_parallel: float

    @property
    def walk_rate(self) -> float:
        return self.walk.credentials / self.walk.seconds

    @property
    def ratio(self) -> float:
        return self.walk_rate / self.bare_parallel

    @property
    def ratio_single(self) -> float:
        return self.walk_rate / self.bare_single


def _measure_rounds(
    arguments: argparse.Namespace,
    store_path: Path,
    chain: GeneratedChain,
    at: datetime,
    console: Console,
) -> list[Round] | None:
    """Measure walk and bare rates ``--repeat`` times; return None if a walk failed."""
    rounds: list[Round] = []
    for number in range(1, arguments.repeat + 1):
        console.print(f"round {number}/{arguments.repeat}: walking the chain", highlight=False)
        walk = measure_walk(store_path, chain, at)
        if not walk.verified or walk.credentials != chain.credentials:
            console.print(
                f"FAILED: the walk reported verified={walk.verified} and counted "
                f"{walk.credentials} credentials, expected verified=True and "
                f"{chain.credentials}",
                highlight=False,
            )
            for line in walk.errors:
                console.print(f"  {line}", highlight=False, soft_wrap=True)
            return None
        console.print(
            f"round {number}/{arguments.repeat}: measuring the bare PyNaCl verify rate",
            highlight=False,
        )
        bare_single = measure_bare_rate(chain, 1, arguments.bare_seconds)
        bare_parallel = bare_single
        if arguments.processes > 1:
            bare_parallel = measure_bare_rate(chain, arguments.processes, arguments.bare_seconds)
        rounds.append(Round(walk, bare_single, bare_parallel))
    return rounds


def _spread(values: Sequence[float], unit: str, digits: int = 0) -> str:
    """Format the median of ``values``, with their range when there are several."""
    median = statistics.median(values)
    text = f"{median:,.{digits}f}{unit}"
    if len(values) > 1:
        text += f" (range {min(values):,.{digits}f} to {max(values):,.{digits}f})"
    return text


def _print_table(
    arguments: argparse.Namespace,
    chain: GeneratedChain,
    generation_seconds: float,
    rounds: list[Round],
) -> None:
    processes = arguments.processes
    ratios = [measured.ratio for measured in rounds]
    rows = [
        ("machine", f"{_cpu_model()}, nproc {multiprocessing.cpu_count()}"),
        ("Python", platform.python_version()),
        ("valuetrace", _source_version()),
        (
            "credentials",
            f"{chain.credentials} ({chain.products} DPPs, {chain.products} DTEs, "
            f"{chain.credentials - 2 * chain.products} DIAs, DFRs and DCC; "
            f"{chain.depth + 1} tiers)",
        ),
        ("JWS signing input of the root DPP", f"{len(chain.sample_signing_input)} bytes"),
        ("generation", f"{generation_seconds:.1f} s"),
        ("rounds (median and range)", str(len(rounds))),
        ("walk time, 1 process", _spread([m.walk.seconds for m in rounds], " s", 2)),
        ("walk rate, 1 process", _spread([m.walk_rate for m in rounds], " credentials/s")),
        (
            "walk peak RSS",
            f"{max(m.walk.rss_peak_kib for m in rounds) / 1024:,.0f} MiB (before the walk "
            f"{max(m.walk.rss_before_kib for m in rounds) / 1024:,.0f} MiB)",
        ),
        ("bare PyNaCl verify, 1 process", _spread([m.bare_single for m in rounds], " /s")),
    ]
    if processes > 1:
        rows.append(
            (
                f"bare PyNaCl verify, {processes} processes",
                _spread([m.bare_parallel for m in rounds], " /s"),
            )
        )
        rows.append(
            ("walk rate / bare rate, 1 process", _spread([m.ratio_single for m in rounds], "", 3))
        )
    plural = "es" if processes > 1 else ""
    rows.append((f"walk rate / bare rate, {processes} process{plural}", _spread(ratios, "", 3)))
    verdict = "met" if statistics.median(ratios) >= TARGET_RATIO else "not met"
    rows.append(("target ratio (median)", f">= {TARGET_RATIO}: {verdict}"))

    print()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if processes > 1:
        print(
            f"\nNOTE: the walk runs in one process and the bare rate in {processes}, so this "
            "ratio compares a serial walk with parallel verification."
        )


def _run(arguments: argparse.Namespace, store_path: Path, console: Console) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()
    with Store.open(store_path) as store:
        chain = generate_chain(store, arguments.credentials, now, console)
    generation_seconds = time.perf_counter() - start

    rounds = _measure_rounds(arguments, store_path, chain, now, console)
    if rounds is None:
        return 1
    _print_table(arguments, chain, generation_seconds, rounds)

    if arguments.profile:
        console.print("walking again under cProfile", highlight=False)
        profile_walk(store_path, chain, now)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and return the exit code: 0 done, 1 the walk failed."""
    arguments = _parse_arguments(argv)
    console = Console(stderr=True)
    if arguments.store is not None:
        code = _run(arguments, arguments.store, console)
        console.print(f"kept the store at {arguments.store}", highlight=False)
        return code
    with tempfile.TemporaryDirectory(prefix="valuetrace-bench-") as folder:
        return _run(arguments, Path(folder) / "chain.sqlite", console)


if __name__ == "__main__":
    sys.exit(main())
