"""The sources of the chain walk: credentials and DID documents from files, the store and the web.

The walk never reaches the network itself. It reads through a :class:`Sources` object, which
looks in the credentials handed over on the command line first and in the store second. Only a
:class:`Sources` given a :class:`~valuetrace.fetch.Fetcher` goes on to the web, and only for what
the files and the store do not have. Every lookup is a read: the walk never writes to the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from valuetrace.chain._graph import as_list, gs1_link, nested_id
from valuetrace.did import did_key_document
from valuetrace.did._didweb import DID_WEB_PREFIX
from valuetrace.did._resolve import DIDResolutionError, resolve_did_document
from valuetrace.errors import DIDError, DigitalLinkError, EnvelopeError, InputError
from valuetrace.fetch import Fetcher, FetchError, FetchFailed
from valuetrace.findings import Finding, Severity
from valuetrace.resolver import DigitalLink, Resolver, parse_digital_link
from valuetrace.store import Store
from valuetrace.vc import decode_envelope, is_enveloped

__all__ = ["LoadedDocument", "Sources", "load_credential_files", "subject_keys"]

LOGGER = logging.getLogger(__name__)

UNTP_LINK_TYPE = "https://test.uncefact.org/vocabulary/linkTypes/"
STATUS_LIST_TYPE = "BitstringStatusListCredential"
LINKSET_MEDIA_TYPE = "application/linkset+json"

# Advice per failure code, appended to the finding's message. A refused fetch needs none,
# because the fetcher's reason names the setting that allows it.
_ADVICE = {
    "fetch.not_cached": "run once with --online to fill the cache",
    "fetch.too_large": "raise --fetch-max-bytes if the document is expected to be this large",
    "fetch.timeout": "try again later, or raise --fetch-timeout",
    "fetch.failed": "check that the document is published at this URL",
    "did.document_mismatch": "the DID's owner must publish its own document at this URL; "
    "pass the right document with --credentials if you have it",
    "did.document_invalid": "the DID's owner must publish a JSON DID document at this URL; "
    "pass the right document with --credentials if you have it",
    "did.invalid": "a did:web DID must name a domain; pass the DID document with --credentials",
}


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """The exact bytes of a credential and where they came from."""

    ref: str
    content: bytes
    origin: str  # "file", "store" or "web"


@dataclass(slots=True)
class _FileCredential:
    path: str
    content: bytes
    plain: dict[str, Any] | None


def _plain_credential(document: dict[str, Any]) -> dict[str, Any] | None:
    """Return the plain credential of a document, decoding an envelope without verifying it."""
    if is_enveloped(document):
        try:
            return decode_envelope(document).payload
        except EnvelopeError:
            return None
    return document


def _iter_files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in (".json", ".jsonld", ".jwt"):
                yield child
    else:
        yield path


def load_credential_files(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    """Read every credential file under ``paths`` (files or folders).

    Raises :class:`InputError` naming the path when a given path does not exist.
    """
    loaded: list[tuple[str, bytes]] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"credentials path not found: {path}; give an existing file or folder")
        for file in _iter_files(path):
            loaded.append((str(file), file.read_bytes()))
    return loaded


def _is_did_document(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("id"), str)
        and str(document["id"]).startswith("did:")
        and "verificationMethod" in document
    )


def _subject_list(credential: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in as_list(credential.get("credentialSubject")) if isinstance(item, dict)]


def _types(value: Any) -> list[str]:
    return [item for item in as_list(value) if isinstance(item, str)]


def _identifier_candidates(identifier: str) -> list[str]:
    """Return ``identifier`` and, for a GS1 Digital Link, its canonical and less specific forms."""
    candidates = [identifier]
    try:
        link = parse_digital_link(identifier)
    except DigitalLinkError:
        return candidates
    for form in [link, *link.ancestors()]:
        key = _gs1_key(form)
        if key not in candidates:
            candidates.append(key)
    return candidates


def _gs1_key(link: DigitalLink) -> str:
    """Return a host-independent key for a Digital Link (``gs1:/01/…/10/…``)."""
    return "gs1:" + link.path


def subject_keys(plain: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the ``(kind, identifier)`` keys a credential is found by.

    A DPP is found by its product, a DFR by its facility and a DIA by the DID it anchors. GS1
    Digital Link identifiers are also indexed by their host-independent key, so that
    ``https://id.gs1.org/01/…`` and ``https://id.example/01/…`` find the same passport.
    """
    types = _types(plain.get("type"))
    keys: list[tuple[str, str]] = []
    for subject in _subject_list(plain):
        if "DigitalProductPassport" in types:
            product_id = nested_id(subject, "product")
            if product_id:
                keys += [("dpp", candidate) for candidate in _identifier_candidates(product_id)[:2]]
        elif "DigitalFacilityRecord" in types:
            facility_id = nested_id(subject, "facility")
            if facility_id:
                keys += [
                    ("dfr", candidate) for candidate in _identifier_candidates(facility_id)[:2]
                ]
        elif "DigitalIdentityAnchor" in types and isinstance(subject.get("id"), str):
            keys.append(("dia", str(subject["id"])))
    return keys


@dataclass
class Sources:
    """Credential, DID document and link lookups for one walk: files, the store, then the web.

    Without ``fetcher`` nothing is fetched. With it, credentials, status lists and DID documents
    that the files and the store do not have are fetched by URL, and products and facilities
    without local links are looked up at their GS1 Digital Link resolver. Fetch failures become
    findings, collected by :meth:`take_findings`.
    """

    store: Store | None = None
    fetcher: Fetcher | None = None
    _files_by_ref: dict[str, _FileCredential] = field(default_factory=dict)
    _files_by_id: dict[str, _FileCredential] = field(default_factory=dict)
    _by_subject: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _did_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    _resolver: Resolver | None = None
    _did_cache: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _found: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _auxiliary: set[str] = field(default_factory=set)
    _prefetched: dict[str, bytes | None] = field(default_factory=dict)
    _web: _WebSource | None = None

    def __post_init__(self) -> None:
        if self.store is not None:
            self._resolver = Resolver(self.store)
        if self.fetcher is not None:
            self._web = _WebSource(self.fetcher)

    # -- loading -------------------------------------------------------------------------------

    def add_files(self, files: Iterable[tuple[str, bytes]]) -> list[str]:
        """Index credentials and DID documents read from files; return the refs of credentials.

        A file that is not JSON is still indexed by its path, so that the walk reports it as
        malformed when it is reached.
        """
        refs: list[str] = []
        for path, content in files:
            try:
                document = json.loads(content)
            except (ValueError, UnicodeDecodeError):
                document = None
            if _is_did_document(document):
                self._did_documents[str(document["id"])] = document
                continue
            plain = _plain_credential(document) if isinstance(document, dict) else None
            entry = _FileCredential(path=path, content=content, plain=plain)
            self._files_by_ref[path] = entry
            if plain is not None and STATUS_LIST_TYPE in _types(plain.get("type")):
                # A status list serves the status checks of other credentials; it is no
                # credential of the chain to walk.
                self._auxiliary.add(path)
            else:
                refs.append(path)
            if plain is not None:
                self._index_plain(path, plain)
                credential_id = plain.get("id")
                if isinstance(credential_id, str):
                    self._files_by_id.setdefault(credential_id, entry)
        return refs

    def _index_plain(self, ref: str, plain: dict[str, Any]) -> None:
        for key in subject_keys(plain):
            refs = self._by_subject.setdefault(key, [])
            if ref not in refs:
                refs.append(ref)

    # -- lookups -------------------------------------------------------------------------------

    def is_prefetched(self, ref: str) -> bool:
        """Check whether loading ``ref`` needs no query: read ahead, a given file, or no store."""
        return (
            self.store is None
            or ref in self._prefetched
            or ref in self._files_by_ref
            or ref in self._files_by_id
        )

    def prefetch(self, refs: list[str]) -> None:
        """Read the stored bytes of many refs in few queries, for later :meth:`load` calls."""
        if self.store is None:
            return
        wanted = [
            ref
            for ref in dict.fromkeys(refs)
            if ref not in self._prefetched
            and ref not in self._files_by_ref
            and ref not in self._files_by_id
        ]
        if not wanted:
            return
        found = self.store.get_credentials(wanted)
        for ref in wanted:
            stored = found.get(ref)
            self._prefetched[ref] = None if stored is None else stored.content

    def load(self, ref: str) -> LoadedDocument | None:
        """Return the bytes at ``ref``: a given file, the store, then the web if fetching is on."""
        entry = self._files_by_ref.get(ref) or self._files_by_id.get(ref)
        if entry is not None:
            return LoadedDocument(ref=entry.path, content=entry.content, origin="file")
        if ref in self._prefetched:
            content = self._prefetched.pop(ref)
            if content is not None:
                return LoadedDocument(ref=ref, content=content, origin="store")
        elif self.store is not None:
            stored = self.store.get_credential(ref)
            if stored is not None:
                return LoadedDocument(ref=ref, content=stored.content, origin="store")
        if self._web is not None:
            fetched = self._web.document(ref)
            if fetched is not None:
                return LoadedDocument(ref=ref, content=fetched, origin="web")
        return None

    def find_product_passports(self, product_id: str) -> list[str]:
        """Return refs of DPPs for a product: given files, then resolver links, then the store."""
        return self._find("dpp", product_id, "DigitalProductPassport")

    def prefetch_product_passports(self, product_ids: list[str]) -> None:
        """Resolve the 'dpp' links of many products in few queries."""
        if self.store is None:
            return
        paths: dict[str, str] = {}
        for product_id in product_ids:
            if ("dpp", product_id) in self._found:
                continue
            if any(("dpp", c) in self._by_subject for c in _identifier_candidates(product_id)):
                continue
            try:
                paths[product_id] = parse_digital_link(product_id).path
            except DigitalLinkError:
                continue
        if not paths:
            return
        by_path = self.store.get_links_by_paths(list(paths.values()))
        link_type = UNTP_LINK_TYPE + "dpp"
        for product_id, path in paths.items():
            hrefs = [link.href for link in by_path.get(path, []) if link.link_type == link_type]
            if hrefs:
                self._found[("dpp", product_id)] = hrefs

    def find_facility_records(self, facility_id: str) -> list[str]:
        """Return refs of DFRs for a facility: given files, then resolver links, then the store."""
        return self._find("dfr", facility_id, "DigitalFacilityRecord")

    def find_identity_anchors(self, did: str) -> list[str]:
        """Return refs of DIAs whose subject is ``did``, from given files and the store."""
        refs = list(self._by_subject.get(("dia", did), []))
        if self.store is not None:
            for stored in self.store.find_credentials(
                credential_type="DigitalIdentityAnchor", subject_id=did
            ):
                if stored.uri not in refs:
                    refs.append(stored.uri)
        return refs

    def _find(self, kind: str, identifier: str, credential_type: str) -> list[str]:
        key = (kind, identifier)
        if key not in self._found:
            self._found[key] = self._find_uncached(kind, identifier, credential_type)
        return list(self._found[key])

    def _find_uncached(self, kind: str, identifier: str, credential_type: str) -> list[str]:
        refs = self._find_local(kind, identifier, credential_type)
        if not refs and self._web is not None:
            refs = self._web.linked(identifier, UNTP_LINK_TYPE + kind)
        return refs

    def _find_local(self, kind: str, identifier: str, credential_type: str) -> list[str]:
        for candidate in _identifier_candidates(identifier):
            refs = self._by_subject.get((kind, candidate))
            if refs:
                return list(refs)
        if self._resolver is not None:
            try:
                links = self._resolver.links(identifier, UNTP_LINK_TYPE + kind)
            except DigitalLinkError:
                links = []
            if links:
                return [link.href for link in links]
        if self.store is not None:
            for candidate in _identifier_candidates(identifier):
                found = self.store.find_credentials(
                    credential_type=credential_type, subject_id=candidate
                )
                if found:
                    return [stored.uri for stored in found]
        return []

    def resolve_did(self, did: str) -> dict[str, Any] | None:
        """Return the DID document of ``did``: given files, the store, derived for did:key,
        then fetched for did:web if fetching is on.

        Results are cached for the life of this object, which is one walk.
        """
        if did in self._did_cache:
            return self._did_cache[did]
        document = self._resolve_did_uncached(did)
        self._did_cache[did] = document
        return document

    def _resolve_did_uncached(self, did: str) -> dict[str, Any] | None:
        document = self._did_documents.get(did)
        if document is not None:
            return document
        if self.store is not None:
            document = self.store.get_did_document(did)
            if document is not None:
                return document
        if did.startswith("did:key:"):
            try:
                return did_key_document(did)
            except DIDError:
                LOGGER.info("cannot derive a DID document for %s", did)
                return None
        if self._web is not None and did.startswith(DID_WEB_PREFIX):
            return self._web.did_document(did)
        return None

    def file_refs(self) -> list[str]:
        """Return the refs of every credential file given to the walk, status lists aside."""
        return [ref for ref in self._files_by_ref if ref not in self._auxiliary]

    def take_findings(self) -> list[Finding]:
        """Return the findings of failed fetches since the last call, and forget them."""
        if self._web is None:
            return []
        findings, self._web.findings = self._web.findings, []
        return findings


class _WebSource:
    """Documents and links fetched for one walk: each URL once, every failure a finding.

    Bodies are kept for the walk, also those served with ``no-store``: the fetcher's cache
    follows the HTTP headers across runs, but within one walk no URL is fetched twice.
    """

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._documents: dict[str, bytes | None] = {}
        self._linksets: dict[str, _Linkset | None] = {}
        self.findings: list[Finding] = []

    def document(self, url: str) -> bytes | None:
        """Return the body at ``url``, or None if ``url`` names no document or fetching failed."""
        if url in self._documents:
            return self._documents[url]
        content: bytes | None = None
        if _is_document_url(url):
            try:
                content = self._fetcher.fetch(url).content
            except FetchError as error:
                self._add_fetch_finding(error)
        self._documents[url] = content
        return content

    def linked(self, identifier: str, link_type: str) -> list[str]:
        """Return the targets of ``link_type`` links of a Digital Link from its resolver."""
        link = gs1_link(identifier)
        if link is None or urlsplit(link.base).scheme not in ("http", "https"):
            return []
        url = link.base + link.path
        if url not in self._linksets:
            self._linksets[url] = self._fetch_linkset(url)
        linkset = self._linksets[url]
        if linkset is None:
            return []
        return linkset.targets(link, link_type)

    def did_document(self, did: str) -> dict[str, Any] | None:
        """Return the fetched and checked DID document of a did:web DID, or None."""
        try:
            return resolve_did_document(did, self._fetcher)
        except DIDResolutionError as error:
            where = f" at {error.url}" if error.url else ""
            fetch_failed = error.code.startswith("fetch.")
            self.findings.append(
                Finding(
                    error.code,
                    Severity.WARNING if fetch_failed else Severity.ERROR,
                    _with_advice(
                        f"the DID document of {did}{where} "
                        f"{'could not be fetched' if fetch_failed else 'was rejected'}: "
                        f"{error.reason}",
                        error.code,
                    ),
                    error.url or did,
                )
            )
            return None

    def _fetch_linkset(self, url: str) -> _Linkset | None:
        try:
            result = self._fetcher.fetch(url, accept=LINKSET_MEDIA_TYPE)
        except FetchFailed as error:
            if error.status == 404:
                # A resolver returns 404 for an identifier it has no links for.
                LOGGER.info("the resolver has no links for %s", url)
            else:
                self._add_fetch_finding(error)
            return None
        except FetchError as error:
            self._add_fetch_finding(error)
            return None
        try:
            linkset = json.loads(result.content)
        except (ValueError, UnicodeDecodeError):
            linkset = None
        if not isinstance(linkset, dict) or not isinstance(linkset.get("linkset"), list):
            self.findings.append(
                Finding(
                    "linkset.invalid",
                    Severity.WARNING,
                    f"the resolver at {url} did not return a JSON linkset (RFC 9264) when asked "
                    f"for {LINKSET_MEDIA_TYPE}, so its links cannot be followed; register the "
                    "links in the store or pass the credentials with --credentials",
                    url,
                )
            )
            return None
        return _Linkset(base=result.final_url, contexts=linkset["linkset"])

    def _add_fetch_finding(self, error: FetchError) -> None:
        self.findings.append(
            Finding(error.code, Severity.WARNING, _with_advice(str(error), error.code), error.url)
        )


def _with_advice(message: str, code: str) -> str:
    advice = _ADVICE.get(code)
    return message if advice is None else f"{message}; {advice}"


def _is_document_url(url: str) -> bool:
    """Check whether ``url`` names a document to fetch.

    A GS1 Digital Link without a ``linkType`` names a product or a place, not a credential, so
    it is looked up in its resolver's linkset instead.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    link = gs1_link(url)
    return link is None or "linkType" in link.query


@dataclass(frozen=True, slots=True)
class _Linkset:
    """The link contexts of an RFC 9264 JSON linkset and the URL it was served from."""

    base: str
    contexts: list[Any]

    def targets(self, link: DigitalLink, link_type: str) -> list[str]:
        """Return the targets of ``link_type`` in the contexts that describe ``link``.

        A context counts when it has no anchor, or its anchor is ``link`` or a less specific
        form of it (the GTIN of a lot), since resolvers fall back to those. Relative targets
        are resolved against ``base``.
        """
        targets: list[str] = []
        for context in self.contexts:
            if not isinstance(context, dict):
                continue
            anchor = context.get("anchor")
            if anchor is not None:
                anchor_link = gs1_link(anchor) if isinstance(anchor, str) else None
                if anchor_link is None or not anchor_link.covers(link):
                    continue
            for target in as_list(context.get(link_type)):
                if isinstance(target, dict) and isinstance(target.get("href"), str):
                    href = urljoin(self.base, target["href"])
                    if href not in targets:
                        targets.append(href)
        return targets
