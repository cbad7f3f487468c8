"""Offline JSON-LD support: the bundled contexts and the check for undefined terms.

UNTP credentials may use only terms that their JSON-LD contexts define. :func:`check_terms`
resolves the contexts itself, with no network access and without pyld, and reports each key or
type that JSON-LD 1.1 expansion would drop. :func:`pyld_document_loader` lets pyld expand
credentials offline against the same bundled contexts.
"""

from valuetrace.jsonld._contexts import BUNDLED_CONTEXTS, load_context, pyld_document_loader
from valuetrace.jsonld._terms import check_terms

__all__ = ["BUNDLED_CONTEXTS", "check_terms", "load_context", "pyld_document_loader"]
