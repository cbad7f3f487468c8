"""The chain walk: from one product upstream through every linked credential.

The walk is breadth-first over a work list. Each task names a credential to read (a URL, a file,
or a credential id) and how the walk reached it. A credential is read and checked once, however
many links lead to it; the hash of each link is checked on every visit because two links may
carry different digests. Nothing stops the walk but the depth limit: a missing or failing
credential becomes a finding and every other branch goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from valuetrace.chain._accreditation import accreditation_links, check_accreditation
from valuetrace.chain._check import CheckedCredential, check_credential
from valuetrace.chain._graph import as_list, identifier_covers, item_ids, nested_id
from valuetrace.chain._sources import Sources
from valuetrace.chain._status import StatusListLoader
from valuetrace.did import PublicKey, find_dia_urls
from valuetrace.findings import Finding, Severity
from valuetrace.untp import CredentialKind
from valuetrace.vc._statuslist import check_status

__all__ = ["ChainWalk", "EventUse", "WalkOptions", "WalkResult"]

LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_DEPTH = 50

# How many credentials and input products are read from the store in one query.
BATCH_SIZE = 500

INPUT_KEYS = ("inputEPCList", "inputQuantityList")
OUTPUT_KEYS = ("outputEPCList", "outputQuantityList")
OBJECT_KEYS = ("epcList", "quantityList", "childEPCs", "childQuantityList")


@dataclass(frozen=True, slots=True)
class WalkOptions:
    """Settings of one walk."""

    at: datetime
    trusted_dids: frozenset[str] = frozenset()
    max_depth: int = DEFAULT_MAX_DEPTH
    accreditation_bodies: frozenset[str] = frozenset()
    require_accreditation: bool = False


@dataclass(frozen=True, slots=True)
class _Task:
    ref: str
    expected: CredentialKind | None
    depth: int
    link: dict[str, Any] | None = None
    parent: str | None = None  # label of the credential that linked here, for findings
    parent_ref: str | None = None
    path: str = "$"
    product: str | None = None  # the product whose passport led to this event credential
    via: str | None = None  # how the walk reached it, when no link in the parent names it

    def reaches(self, kind: CredentialKind, checked: CheckedCredential) -> bool:
        """Check that the credential is of ``kind``, or of unknown kind where it was expected."""
        return checked.kind is kind or (checked.kind is None and self.expected is kind)


@dataclass(frozen=True, slots=True)
class _PendingInput:
    """An input product of a transformation event whose passport is still to be found."""

    task: _Task
    checked: CheckedCredential
    index: int
    event: dict[str, Any]
    input_id: str


@dataclass(frozen=True, slots=True)
class EventUse:
    """A traceability event that links a product to one of its inputs."""

    dpp_ref: str
    dte_ref: str
    event_id: str | None
    input_product: str
    input_dpp_refs: tuple[str, ...]


@dataclass
class WalkResult:
    """Everything the walk read and found, before the report is assembled."""

    root_ref: str | None
    root_product: str | None
    checked: dict[str, CheckedCredential] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    event_uses: list[EventUse] = field(default_factory=list)
    dia_refs: dict[str, list[str]] = field(default_factory=dict)
    # issuers whose DID document could not be found, so their untp:dia service is unknown
    unresolved_dids: set[str] = field(default_factory=set)
    anchored: dict[str, bool] = field(default_factory=dict)
    # anchoring as the UNTP test suite's trust-graph tier judges it: unsigned DIAs count
    graph_anchored: dict[str, bool] = field(default_factory=dict)
    facility_records: dict[str, list[str]] = field(default_factory=dict)
    # whether each credential (by object id) counts as evidence, filled in after the walk
    trust_memo: dict[int, bool] = field(default_factory=dict)
    # endorsement evidence URL -> ref it was read under, and the accreditation decision per DCC
    accreditation_refs: dict[str, str] = field(default_factory=dict)
    accredited: dict[str, bool] = field(default_factory=dict)

    def credential_findings(self) -> list[Finding]:
        collected: list[Finding] = []
        for checked in self.checked.values():
            collected.extend(checked.findings)
        return collected

    def is_anchored(self, did: str | None) -> bool:
        return did is not None and self.anchored.get(did, False)


class ChainWalk:
    """Walk a value chain from one product and check every credential on the way."""

    def __init__(
        self,
        sources: Sources,
        options: WalkOptions,
        *,
        progress: Callable[[int, str], None] | None = None,
    ) -> None:
        self.sources = sources
        self.options = options
        self.progress = progress
        self._queue: deque[_Task] = deque()
        self._dids_seen: set[str] = set()
        self._dia_refs: dict[str, list[str]] = {}
        self._aliases: dict[str, str] = {}
        self._records_queued: set[str] = set()
        self._pending: list[_PendingInput] = []
        self._accreditation_urls: set[str] = set()
        self._unresolved_dids: set[str] = set()
        self._keys: dict[str, PublicKey] = {}
        self._status_lists = StatusListLoader(sources, at=options.at, key_cache=self._keys)

    # -- entry points --------------------------------------------------------------------------

    def walk_product(self, product_id: str) -> WalkResult:
        """Walk from the passports found for a product identifier (a Digital Link URI)."""
        result = WalkResult(root_ref=None, root_product=product_id)
        refs = self.sources.find_product_passports(product_id)
        if not refs:
            result.findings.append(
                Finding(
                    "credential.missing",
                    Severity.ERROR,
                    f"no Digital Product Passport found for {product_id}: the resolver has no "
                    "'dpp' link for it and no given file or stored credential describes it; "
                    "register the passport's link or pass the passport with --credentials",
                    product_id,
                )
            )
        else:
            result.root_ref = refs[0]
            for ref in refs:
                self._queue.append(_Task(ref, CredentialKind.DPP, 0))
        self._run(result)
        return result

    def walk_credential(self, ref: str) -> WalkResult:
        """Walk from one credential, read from a given file, the store, or its id."""
        result = WalkResult(root_ref=ref, root_product=None)
        self._queue.append(_Task(ref, None, 0))
        self._run(result)
        root = result.checked.get(result.root_ref or ref)
        if root is not None and root.kind is CredentialKind.DPP:
            for subject in root.subjects():
                result.root_product = nested_id(subject, "product")
        elif root is not None and root.subjects():
            subject_id = root.subjects()[0].get("id")
            result.root_product = subject_id if isinstance(subject_id, str) else None
        return result

    # -- the work list -------------------------------------------------------------------------

    def _run(self, result: WalkResult) -> None:
        for ref in self.sources.file_refs():
            self._queue.append(_Task(ref, None, 0, parent=None))
        while self._queue or self._pending:
            if self._pending and (not self._queue or len(self._pending) >= BATCH_SIZE):
                self._resolve_inputs(result)
                continue
            task = self._queue.popleft()
            self._visit(task, result)
        result.findings.extend(self.sources.take_findings())
        if result.root_ref is not None:
            result.root_ref = self._aliases.get(result.root_ref, result.root_ref)
        for did, refs in self._dia_refs.items():
            self._dia_refs[did] = list(dict.fromkeys(self._aliases.get(ref, ref) for ref in refs))
        for facility, refs in result.facility_records.items():
            result.facility_records[facility] = [self._aliases.get(ref, ref) for ref in refs]
        self._resolve_anchors(result)
        if self.options.require_accreditation:
            result.accreditation_refs = {
                url: self._aliases.get(url, url) for url in self._accreditation_urls
            }
            result.accredited = check_accreditation(
                result.checked, result.accreditation_refs, self.options.accreditation_bodies
            )

    def _visit(self, task: _Task, result: WalkResult) -> None:
        # A credential reached by its URL may be served from a given file, whose path is then
        # its key: every credential is checked once, however it is named.
        key = self._aliases.get(task.ref, task.ref)
        checked = result.checked.get(key)
        first_visit = False
        if checked is None:
            if not self.sources.is_prefetched(task.ref):
                upcoming = [task.ref]
                for queued in self._queue:
                    if len(upcoming) >= BATCH_SIZE:
                        break
                    if queued.ref not in self._aliases:
                        upcoming.append(queued.ref)
                self.sources.prefetch(upcoming)
            loaded = self.sources.load(task.ref)
            if loaded is None:
                result.findings.append(self._missing(task))
                return
            key = self._aliases[task.ref] = loaded.ref
            checked = result.checked.get(key)
            if checked is None:
                first_visit = True
                checked = check_credential(
                    loaded,
                    resolve_did=self.sources.resolve_did,
                    at=self.options.at,
                    key_cache=self._keys,
                )
                result.checked[key] = checked
                if self.progress is not None:
                    self.progress(len(result.checked), key)
        if key != task.ref:
            task = dataclasses.replace(task, ref=key)

        if task.link is not None:
            self._check_link_hash(task, checked, result)
        if (
            task.expected is not None
            and checked.kind is not None
            and checked.kind is not task.expected
        ):
            result.findings.append(
                Finding(
                    "link.type_mismatch",
                    Severity.ERROR,
                    f"the link at {task.path} leads to a {checked.kind.credential_type}, "
                    f"expected a {task.expected.credential_type}",
                    task.parent,
                    task.path,
                )
            )
        if checked.credential is None:
            return

        if task.reaches(CredentialKind.DTE, checked) and task.product is not None:
            self._follow_events(task, checked, result)
        if not first_visit:
            return
        if task.depth >= self.options.max_depth:
            result.findings.append(
                Finding(
                    "chain.depth_limit",
                    Severity.WARNING,
                    f"the walk stopped at depth {task.depth} (limit {self.options.max_depth}); "
                    "credentials beyond this one were not checked; raise --max-depth to go on",
                    checked.label,
                )
            )
            return

        if "credentialStatus" in checked.credential:
            checked.findings.extend(
                check_status(checked.credential, self._status_lists, credential_ref=checked.label)
            )
        self._enqueue_issuer(checked, task.depth)
        if self.options.require_accreditation and checked.kind is CredentialKind.DCC:
            self._enqueue_accreditations(checked, task.depth)
        if checked.kind is CredentialKind.DPP:
            self._follow_passport(task, checked, result)

    def _missing(self, task: _Task) -> Finding:
        what = task.expected.credential_type if task.expected else "credential"
        where = f" linked at {task.path}" if task.parent else ""
        if task.via:
            where = f" ({task.via})"
        return Finding(
            "credential.missing",
            Severity.ERROR,
            f"the {what} {task.ref}{where} was not found in the given files or the store "
            "(or fetched, with --online); publish it, or pass it with --credentials",
            task.parent or task.ref,
            task.path,
        )

    # -- link integrity ------------------------------------------------------------------------

    def _check_link_hash(self, task: _Task, checked: CheckedCredential, result: WalkResult) -> None:
        assert task.link is not None
        digest = task.link.get("hashDigest")
        if not isinstance(digest, str) or not digest:
            return
        method = str(task.link.get("hashMethod") or "").upper().replace("_", "-")
        if not method:
            method = "SHA-1" if len(digest) == 40 else "SHA-256"
        if method in ("SHA-256", "SHA256"):
            actual = hashlib.sha256(checked.content).hexdigest()
        elif method in ("SHA-1", "SHA1"):
            actual = hashlib.sha1(checked.content, usedforsecurity=False).hexdigest()
            result.findings.append(
                Finding(
                    "link.weak_hash",
                    Severity.WARNING,
                    f"the link to {task.ref} is secured with SHA-1, which no longer resists "
                    "collisions; the issuer should use SHA-256",
                    task.parent,
                    task.path + ".hashMethod",
                )
            )
        else:
            result.findings.append(
                Finding(
                    "link.hash_unsupported",
                    Severity.WARNING,
                    f"hash method {task.link.get('hashMethod')!r} of the link to {task.ref} is "
                    "not supported (SHA-256 and SHA-1 are); the link's integrity was not checked",
                    task.parent,
                    task.path + ".hashMethod",
                )
            )
            return
        if actual == digest.lower():
            return
        if checked.origin == "file" and not checked.enveloped:
            result.findings.append(
                Finding(
                    "link.hash_unchecked",
                    Severity.WARNING,
                    f"the credential linked at {task.path} was taken from the unsigned file "
                    f"{checked.ref}, whose bytes are not the ones the link's hash covers",
                    task.parent,
                    task.path + ".hashDigest",
                )
            )
            return
        result.findings.append(
            Finding(
                "link.hash_mismatch",
                Severity.ERROR,
                f"the {method} digest of {task.ref} is {actual}, but the link declares "
                f"{digest}: the credential changed after the link was made",
                task.parent,
                task.path + ".hashDigest",
            )
        )

    # -- following links -----------------------------------------------------------------------

    def _enqueue_issuer(self, checked: CheckedCredential, depth: int) -> None:
        did = checked.issuer
        if did is None or did in self._dids_seen:
            return
        self._dids_seen.add(did)
        refs: list[str] = []
        document = self.sources.resolve_did(did)
        if document is not None:
            refs.extend(find_dia_urls(document))
        else:
            self._unresolved_dids.add(did)
        for ref in self.sources.find_identity_anchors(did):
            if ref not in refs:
                refs.append(ref)
        self._dia_refs[did] = refs
        for ref in refs:
            self._queue.append(
                _Task(
                    ref,
                    CredentialKind.DIA,
                    depth + 1,
                    parent=checked.label,
                    path="$.issuer",
                    via=f"the identity anchor of {did}",
                )
            )

    def _enqueue_accreditations(self, checked: CheckedCredential, depth: int) -> None:
        for path, url in accreditation_links(checked):
            self._accreditation_urls.add(url)
            self._queue.append(
                _Task(
                    url,
                    CredentialKind.DCC,
                    depth + 1,
                    parent=checked.label,
                    path=path + ".endorsementEvidence",
                    via=f"the accreditation of {checked.issuer}",
                )
            )

    def _follow_passport(self, task: _Task, checked: CheckedCredential, result: WalkResult) -> None:
        for subject in checked.subjects():
            product_id = nested_id(subject, "product")
            for i, info in enumerate(as_list(subject.get("traceabilityInformation"))):
                if not isinstance(info, dict):
                    continue
                for j, link in enumerate(as_list(info.get("traceabilityEvent"))):
                    self._enqueue_link(
                        link,
                        CredentialKind.DTE,
                        task,
                        checked,
                        f"$.credentialSubject.traceabilityInformation[{i}].traceabilityEvent[{j}]",
                        product=product_id or "",
                    )
            for i, claim in enumerate(as_list(subject.get("conformityClaim"))):
                if isinstance(claim, dict) and isinstance(claim.get("conformityEvidence"), dict):
                    self._enqueue_link(
                        claim["conformityEvidence"],
                        CredentialKind.DCC,
                        task,
                        checked,
                        f"$.credentialSubject.conformityClaim[{i}].conformityEvidence",
                    )
            facility_id = nested_id(subject, "product", "producedAtFacility")
            if facility_id:
                refs = self.sources.find_facility_records(facility_id)
                result.facility_records[facility_id] = refs
                if not refs:
                    result.findings.append(
                        Finding(
                            "facility.unrecorded",
                            Severity.WARNING,
                            f"no Digital Facility Record found for the producing facility "
                            f"{facility_id}; its location and country cannot back the "
                            "passport's claims",
                            checked.label,
                            "$.credentialSubject.product.producedAtFacility",
                        )
                    )
                for ref in refs:
                    if ref in self._records_queued:
                        continue  # many passports name the same facility; check its record once
                    self._records_queued.add(ref)
                    self._queue.append(
                        _Task(
                            ref,
                            CredentialKind.DFR,
                            task.depth + 1,
                            parent=checked.label,
                            path="$.credentialSubject.product.producedAtFacility",
                        )
                    )

    def _enqueue_link(
        self,
        link: Any,
        expected: CredentialKind,
        task: _Task,
        checked: CheckedCredential,
        path: str,
        *,
        product: str | None = None,
    ) -> None:
        if not isinstance(link, dict) or not isinstance(link.get("linkURL"), str):
            return
        self._queue.append(
            _Task(
                link["linkURL"],
                expected,
                task.depth + 1,
                link=link,
                parent=checked.label,
                parent_ref=task.ref,
                path=path,
                product=product,
            )
        )

    def _follow_events(self, task: _Task, checked: CheckedCredential, result: WalkResult) -> None:
        """Relate the events of a DTE to the product whose passport linked it."""
        assert task.product is not None
        for index, event in enumerate(checked.subjects()):
            types = as_list(event.get("type"))
            outputs = list(item_ids(event, *OUTPUT_KEYS))
            objects = list(item_ids(event, *OBJECT_KEYS))
            parent_id = event.get("parentID")
            named = outputs + objects + ([parent_id] if isinstance(parent_id, str) else [])
            related = not task.product or any(
                identifier_covers(item, task.product) or identifier_covers(task.product, item)
                for item in named
            )
            if not related:
                result.findings.append(
                    Finding(
                        "event.unrelated",
                        Severity.WARNING,
                        f"event {event.get('id', index)} does not name the product "
                        f"{task.product} among its outputs or objects, so it does not trace it",
                        checked.label,
                        f"$.credentialSubject[{index}]",
                    )
                )
                continue
            if "TransformationEvent" not in types:
                continue
            for input_id in dict.fromkeys(item_ids(event, *INPUT_KEYS)):
                self._pending.append(_PendingInput(task, checked, index, event, input_id))

    def _resolve_inputs(self, result: WalkResult) -> None:
        """Find the passports of the input products collected from transformation events.

        Inputs are looked up in batches, so that one store query returns many of them.
        """
        pending, self._pending = self._pending, []
        self.sources.prefetch_product_passports([item.input_id for item in pending])
        for item in pending:
            refs = self.sources.find_product_passports(item.input_id)
            event_id = item.event.get("id")
            result.event_uses.append(
                EventUse(
                    dpp_ref=item.task.parent_ref or "",
                    dte_ref=item.task.ref,
                    event_id=event_id if isinstance(event_id, str) else None,
                    input_product=item.input_id,
                    input_dpp_refs=tuple(refs),
                )
            )
            path = f"$.credentialSubject[{item.index}]"
            if not refs:
                result.findings.append(
                    Finding(
                        "credential.missing",
                        Severity.ERROR,
                        f"no Digital Product Passport found for the input {item.input_id} of "
                        f"event {event_id or item.index}; its upstream chain cannot be "
                        "verified; register the passport's link or pass it with --credentials",
                        item.checked.label,
                        path,
                    )
                )
            for ref in refs:
                self._queue.append(
                    _Task(
                        ref,
                        CredentialKind.DPP,
                        item.task.depth + 1,
                        parent=item.checked.label,
                        path=path,
                    )
                )

    # -- issuer anchoring ----------------------------------------------------------------------

    def _resolve_anchors(self, result: WalkResult) -> None:
        result.dia_refs = dict(self._dia_refs)
        result.unresolved_dids = set(self._unresolved_dids)
        trusted = self.options.trusted_dids
        result.anchored, reasons = resolve_anchors(
            result, trusted, lambda dia: dia.intact, "failed verification"
        )
        result.graph_anchored, _ = resolve_anchors(
            result, trusted, lambda dia: dia.intact_ignoring_proof, "failed verification"
        )
        # A trusted accreditation body is trusted for what it issues. This is set after the
        # anchors are decided, so identity anchors that it issues anchor no other issuer.
        for did in self.options.accreditation_bodies:
            result.anchored[did] = True
            result.graph_anchored[did] = True

        if not trusted:
            result.findings.append(
                Finding(
                    "trust.no_roots",
                    Severity.ERROR,
                    "no trusted register was given, so no issuer can be anchored; pass the DID "
                    "of a register you trust with --trust-did or list it in a trust file",
                    None,
                )
            )
            return
        for checked in result.checked.values():
            if checked.issuer is None or checked.credential is None:
                continue
            if not result.anchored.get(checked.issuer, False):
                checked.findings.append(
                    Finding(
                        "issuer.unanchored",
                        Severity.ERROR,
                        f"the issuer {checked.issuer} is not anchored to a trusted DID: "
                        f"{reasons.get(checked.issuer, 'unknown reason')}",
                        checked.label,
                        "$.issuer",
                    )
                )


def resolve_anchors(
    result: WalkResult,
    trusted: frozenset[str],
    usable: Callable[[CheckedCredential], bool],
    unusable_reason: str,
) -> tuple[dict[str, bool], dict[str, str]]:
    """Decide for every issuer whether a path of identity anchors leads to a trusted DID.

    A DID is anchored when it is trusted, or when a DIA that ``usable`` accepts names it as its
    subject and was issued by an anchored DID. Returns the decision per DID and, for the DIDs
    that are not anchored, the reason in words.
    """
    anchored: dict[str, bool] = {}
    reasons: dict[str, str] = {}

    def decide(did: str, path: tuple[str, ...]) -> bool:
        if did in trusted:
            anchored[did] = True
            return True
        if did in anchored:
            return anchored[did]
        if did in path:
            reasons[did] = "its identity anchors form a loop: " + " -> ".join((*path, did))
            return False
        refs = result.dia_refs.get(did, [])
        if not refs:
            where = (
                "its DID document could not be resolved"
                if did in result.unresolved_dids
                else "its DID document has no untp:dia service"
            )
            reasons[did] = (
                f"no Digital Identity Anchor names it: {where}, and no given or stored DIA "
                "has it as subject"
            )
            anchored[did] = False
            return False
        failures: list[str] = []
        for ref in refs:
            dia = result.checked.get(ref)
            if dia is None or dia.credential is None:
                failures.append(f"the DIA {ref} could not be read")
                continue
            if not any(subject.get("id") == did for subject in dia.subjects()):
                failures.append(f"the DIA {dia.label} anchors another subject")
                continue
            if not usable(dia):
                unsigned = dia.intact_ignoring_proof and not dia.intact
                failures.append(
                    f"the DIA {dia.label} is not signed"
                    if unsigned
                    else f"the DIA {dia.label} {unusable_reason}"
                )
                continue
            if dia.issuer is None:
                failures.append(f"the DIA {dia.label} has no issuer")
                continue
            if decide(dia.issuer, (*path, did)):
                anchored[did] = True
                return True
            failures.append(
                f"the register {dia.issuer} that issued {dia.label} is not anchored "
                f"({reasons.get(dia.issuer, 'not trusted')})"
            )
        reasons[did] = "; ".join(failures)
        anchored[did] = False
        return False

    for checked in list(result.checked.values()):
        if checked.issuer is not None:
            decide(checked.issuer, ())
    return anchored, reasons
