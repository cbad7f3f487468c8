"""Offline JSON-LD support: the bundled contexts, the check for undefined terms, and RDF.

UNTP credentials may use only terms that their JSON-LD contexts define. :func:`check_terms`
resolves the contexts itself, with no network access and without pyld, and reports each key or
type that JSON-LD 1.1 expansion would drop. :func:`pyld_document_loader` lets pyld expand
credentials offline against the same bundled contexts, and :func:`register_context` adds
contexts that are not bundled. :func:`jsonld_to_quads` converts a document to RDF with the same
contexts, and :func:`canonicalize_jsonld` returns its RDFC-1.0 canonical N-Quads.
"""

from valuetrace.jsonld._contexts import (
    BUNDLED_CONTEXTS,
    load_context,
    pyld_document_loader,
    register_context,
)
from valuetrace.jsonld._rdf import JsonLdError, jsonld_to_nquads, jsonld_to_quads
from valuetrace.jsonld._rdfc import (
    CanonicalizationError,
    canonicalize_jsonld,
    canonicalize_nquads,
)
from valuetrace.jsonld._terms import check_terms

__all__ = [
    "BUNDLED_CONTEXTS",
    "CanonicalizationError",
    "JsonLdError",
    "canonicalize_jsonld",
    "canonicalize_nquads",
    "check_terms",
    "jsonld_to_nquads",
    "jsonld_to_quads",
    "load_context",
    "pyld_document_loader",
    "register_context",
]
