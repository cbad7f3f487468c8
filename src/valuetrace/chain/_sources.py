"""The sources of the chain walk: credentials and DID documents from files and the store.

The walk never reaches the network itself. It reads through a :class:`Sources` object, which
looks in the credentials handed over on the command line first and in the store second. Every
lookup is a read: the walk never writes to the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valuetrace.chain._graph import as_list, nested_id
from valuetrace.did import did_key_document
from valuetrace.errors import DIDError, DigitalLinkError, EnvelopeError, InputError
from valuetrace.resolver import DigitalLink, Resolver, parse_digital_link
from valuetrace.store import Store
from valuetrace.vc import decode_envelope, is_enveloped

__all__ = ["LoadedDocument", "Sources", "load_credential_files", "subject_keys"]

LOGGER = logging.getLogger(__name__)

UNTP_LINK_TYPE = "https://test.uncefact.org/vocabulary/linkTypes/"
STATUS_LIST_TYPE = "BitstringStatusListCredential"


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """The exact bytes of a credential and where they came from."""

    ref: str
    content: bytes
    origin: str  # "file", "store"


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
    """Credential, DID document and link lookups for one walk: files first, then the store."""

    store: Store | None = None
    _files_by_ref: dict[str, _FileCredential] = field(default_factory=dict)
    _files_by_id: dict[str, _FileCredential] = field(default_factory=dict)
    _by_subject: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _did_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    _resolver: Resolver | None = None
    _did_cache: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _found: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _auxiliary: set[str] = field(default_factory=set)
    _prefetched: dict[str, bytes | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.store is not None:
            self._resolver = Resolver(self.store)

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
        """Return the bytes at ``ref``: a file given on the command line, then the store."""
        entry = self._files_by_ref.get(ref) or self._files_by_id.get(ref)
        if entry is not None:
            return LoadedDocument(ref=entry.path, content=entry.content, origin="file")
        if ref in self._prefetched:
            content = self._prefetched.pop(ref)
            return (
                None
                if content is None
                else LoadedDocument(ref=ref, content=content, origin="store")
            )
        if self.store is not None:
            stored = self.store.get_credential(ref)
            if stored is not None:
                return LoadedDocument(ref=ref, content=stored.content, origin="store")
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
        """Return the DID document of ``did``: given files, the store, or derived for did:key.

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
        return None

    def file_refs(self) -> list[str]:
        """Return the refs of every credential file given to the walk, status lists aside."""
        return [ref for ref in self._files_by_ref if ref not in self._auxiliary]
