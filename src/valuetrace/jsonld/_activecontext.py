"""JSON-LD 1.1 active contexts: context processing and IRI expansion, without the network.

This follows the Context Processing and Create Term Definition algorithms of JSON-LD 1.1
Processing Algorithms and API (W3C Recommendation, 16 July 2020, sections 4.1 to 4.3) far enough
to decide which keys and types JSON-LD expansion keeps. Remote contexts come only from the bundled
documents. Language, direction and base IRI settings are read but not modelled, because they never
decide whether a term is defined.

Processed contexts are cached on the context they were derived from, so a set of contexts is
processed once per process and later lookups are dictionary hits.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from valuetrace.findings import Severity
from valuetrace.jsonld._contexts import UNTP_CONTEXT_URLS, load_context

KEYWORDS: Final = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)
_CONTEXT_KEYWORDS: Final = frozenset(
    {
        "@base",
        "@direction",
        "@import",
        "@language",
        "@propagate",
        "@protected",
        "@version",
        "@vocab",
    }
)
_TERM_DEFINITION_KEYS: Final = frozenset(
    {
        "@container",
        "@context",
        "@direction",
        "@id",
        "@index",
        "@language",
        "@nest",
        "@prefix",
        "@protected",
        "@reverse",
        "@type",
    }
)
_VALID_CONTAINERS: Final = frozenset(
    {"@list", "@set", "@index", "@language", "@graph", "@id", "@type"}
)
_MAP_CONTAINERS: Final = frozenset({"@index", "@language", "@id", "@type"})
_KEYWORD_FORM: Final = re.compile(r"^@[a-zA-Z]+$")
_ABSOLUTE_IRI: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):\S*$")
_GEN_DELIM_END: Final = re.compile(r"[:/?#\[\]@]$")

# Cache limits. The five bundled samples together fill about 200 cache entries. The
# limits bound memory when documents bring their own inline contexts, type lists or random keys:
# past them, contexts are processed again on every use instead of being cached.
_MAX_CACHED_CONTEXTS: Final = 4096  # Derived contexts in all caches together, about 20 kB each.
_MAX_CACHED_KEYS: Final = 8192  # Resolved keys, and resolved types, per active context.


class _CacheBudget:
    """The number of derived contexts that may still be cached, shared by all contexts."""

    remaining = _MAX_CACHED_CONTEXTS

    @classmethod
    def take(cls) -> bool:
        # Without a lock two threads may both take the last slot, which costs one extra entry.
        if cls.remaining <= 0:
            return False
        cls.remaining -= 1
        return True


# Kinds of a resolved key, which tell the term check what to do with its value.
DROPPED: Final = 0  # Expansion drops the key: an undefined term.
PROPERTY: Final = 1  # A property: check its value.
JSON_LITERAL: Final = 2  # A property typed @json: its value is data, not terms.
MAP_PROPERTY: Final = 3  # A property with an index, id, type or language map container.
FOREIGN_VOCAB: Final = 4  # A property defined only by a @vocab set outside the UNTP contexts.
TYPE_KEYWORD: Final = 5  # @type or an alias of it: check the type values.
DATA_KEYWORD: Final = 6  # @id, @value, @language, @context …: no terms inside.
NODE_KEYWORD: Final = 7  # @graph, @included or @reverse: their values are node objects.
LIST_KEYWORD: Final = 8  # @list or @set: values belong to the enclosing property.
NEST_KEYWORD: Final = 9  # @nest: the nested object's keys belong to this node.

_KEYWORD_KINDS: Final = {
    "@type": TYPE_KEYWORD,
    "@graph": NODE_KEYWORD,
    "@included": NODE_KEYWORD,
    "@reverse": NODE_KEYWORD,
    "@list": LIST_KEYWORD,
    "@set": LIST_KEYWORD,
    "@nest": NEST_KEYWORD,
}

Issue = tuple[str, Severity, str]
"""A problem found while processing a context: finding code, severity and message."""


@dataclass(frozen=True, slots=True, eq=False)
class TermDefinition:
    """A term definition of an active context.

    ``iri`` is the expanded IRI or keyword, or ``None`` for a term mapped to null. ``trusted``
    marks definitions that come from a bundled UNTP context, which matters for ``@vocab``
    mappings inside their scoped contexts.
    """

    iri: str | None
    protected: bool = False
    prefix: bool = False
    reverse: bool = False
    type_mapping: str | None = None
    container: frozenset[str] = frozenset()
    has_local_context: bool = False
    local_context: Any = None
    options: tuple[tuple[str, Any], ...] = ()
    trusted: bool = False

    def same_as(self, other: TermDefinition) -> bool:
        """Return whether both definitions are equal apart from the protected flag."""
        return (
            self.iri == other.iri
            and self.prefix == other.prefix
            and self.reverse == other.reverse
            and self.type_mapping == other.type_mapping
            and self.container == other.container
            and self.has_local_context == other.has_local_context
            and self.local_context == other.local_context
            and self.options == other.options
        )


KeyInfo = tuple[int, TermDefinition | None]
"""A resolved key: its kind (``PROPERTY`` …) and its term definition, if it has one."""

Derived = tuple["ActiveContext", tuple[Issue, ...], tuple[str, ...]]
"""A processed context: the new active context, the issues met and the context URLs missing."""


class ActiveContext:
    """A JSON-LD active context. Only its caches change once :meth:`finish` has run."""

    __slots__ = (
        "_derived",
        "id_keys",
        "keys",
        "previous",
        "property_scoped",
        "terms",
        "type_keys",
        "type_scoped",
        "type_sets",
        "types",
        "value_keys",
        "vocab",
        "vocab_trusted",
    )

    def __init__(
        self,
        terms: dict[str, TermDefinition],
        vocab: str | None,
        vocab_trusted: bool,
        previous: ActiveContext | None,
    ) -> None:
        self.terms = terms
        self.vocab = vocab
        self.vocab_trusted = vocab_trusted
        self.previous = previous
        self.type_keys: tuple[str, ...] = ()
        self.value_keys: tuple[str, ...] = ()
        self.id_keys: frozenset[str] = frozenset()
        # Caches, filled on first use. The term check reads the public ones directly to save
        # method calls on its hot path.
        self.keys: dict[str, KeyInfo] = {}
        self.property_scoped: dict[TermDefinition, Derived] = {}
        self.type_scoped: dict[TermDefinition, Derived] = {}
        self.types: dict[str, tuple[str | None, bool]] = {}
        self.type_sets: dict[Any, tuple[Derived, bool]] = {}
        self._derived: dict[Any, tuple[Any, Derived]] = {}

    def copy(self) -> ActiveContext:
        """Return an unfinished copy to change during context processing."""
        return ActiveContext(dict(self.terms), self.vocab, self.vocab_trusted, self.previous)

    def finish(self) -> ActiveContext:
        """Compute the keyword alias tables once processing has finished."""
        aliases: dict[str, list[str]] = {"@type": ["@type"], "@value": ["@value"], "@id": ["@id"]}
        for term, definition in self.terms.items():
            if definition.iri in aliases and not definition.reverse:
                aliases[definition.iri].append(term)
        self.type_keys = tuple(aliases["@type"])
        self.value_keys = tuple(aliases["@value"])
        self.id_keys = frozenset(aliases["@id"])
        return self

    def has_protected_terms(self) -> bool:
        """Return whether any term of this context is protected."""
        return any(definition.protected for definition in self.terms.values())

    def resolve_key(self, key: str) -> KeyInfo:
        """Expand ``key`` as a property of a node object (IRI expansion with vocab = true)."""
        info = self.keys.get(key)
        if info is None:
            info = self._resolve_key(key)
            if len(self.keys) < _MAX_CACHED_KEYS:
                self.keys[key] = info
        return info

    def _resolve_key(self, key: str) -> KeyInfo:
        if key in KEYWORDS:
            return (_KEYWORD_KINDS.get(key, DATA_KEYWORD), None)
        if _KEYWORD_FORM.match(key):
            return (DROPPED, None)

        definition = self.terms.get(key)
        if definition is not None:
            iri = definition.iri
            if iri is None:
                return (DROPPED, definition)
            if iri in KEYWORDS:
                return (_KEYWORD_KINDS.get(iri, DATA_KEYWORD), definition)
            if ":" not in iri:
                return (DROPPED, definition)
            if definition.type_mapping == "@json":
                return (JSON_LITERAL, definition)
            if not definition.container.isdisjoint(_MAP_CONTAINERS):
                return (MAP_PROPERTY, definition)
            return (PROPERTY, definition)

        if self._expand_prefixed(key) is not None:
            return (PROPERTY, None)
        if self.vocab is not None and ":" in self.vocab + key:
            return (PROPERTY if self.vocab_trusted else FOREIGN_VOCAB, None)
        return (DROPPED, None)

    def resolve_type(self, value: str) -> tuple[str | None, bool]:
        """Expand a ``@type`` value and return the IRI (``None`` unless absolute) and a flag.

        The flag is true when only a ``@vocab`` mapping set outside the bundled UNTP contexts
        defines the value.
        """
        result = self.types.get(value)
        if result is None:
            result = self._resolve_type(value)
            if len(self.types) < _MAX_CACHED_KEYS:
                self.types[value] = result
        return result

    def derive_for_types(self, type_value: Any) -> tuple[Derived, bool]:
        """Apply the type-scoped contexts of a node's ``type`` value, in lexicographic order.

        Returns the processed context and whether every type is defined without a foreign
        ``@vocab``, so that the caller can skip checking the types one by one.
        """
        key = tuple(type_value) if isinstance(type_value, list) else type_value
        try:
            cached = self.type_sets.get(key)
        except TypeError:  # An unhashable entry, such as an object inside the type list.
            key, cached = None, None
        if cached is not None:
            return cached

        names = [type_value] if isinstance(type_value, str) else type_value
        if not isinstance(names, list):
            names = []
        strings = sorted(name for name in names if isinstance(name, str))
        ctx = self
        issues: list[Issue] = []
        missing: list[str] = []
        for name in strings:
            definition = self.terms.get(name)
            if definition is not None and definition.has_local_context:
                ctx, sub_issues, sub_missing = ctx.derive_type_scoped(definition)
                issues.extend(sub_issues)
                missing.extend(sub_missing)
        clean = len(strings) == len(names) and all(
            self.resolve_type(name)[0] is not None and not self.resolve_type(name)[1]
            for name in strings
        )
        result = ((ctx, tuple(issues), tuple(missing)), clean)
        if key is not None and not missing and _CacheBudget.take():
            self.type_sets[key] = result
        return result

    def _resolve_type(self, value: str) -> tuple[str | None, bool]:
        if value in KEYWORDS:
            return (value, False)
        if _KEYWORD_FORM.match(value):
            return (None, False)
        definition = self.terms.get(value)
        if definition is not None:
            iri = definition.iri
            if iri is not None and (iri in KEYWORDS or _ABSOLUTE_IRI.match(iri)):
                return (iri, False)
            return (None, False)
        expanded = self._expand_prefixed(value)
        if expanded is not None:
            return (expanded, False)
        if self.vocab is not None:
            iri = self.vocab + value
            if _ABSOLUTE_IRI.match(iri):
                return (iri, not self.vocab_trusted)
        # A relative IRI: expansion would resolve it against the document's base, which
        # a credential does not have, so it does not name a defined type.
        return (None, False)

    def _expand_prefixed(self, value: str) -> str | None:
        """Expand a compact IRI, blank node identifier or absolute IRI, else return ``None``."""
        colon = value.find(":")
        if colon <= 0:
            return None
        prefix = value[:colon]
        suffix = value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        prefix_definition = self.terms.get(prefix)
        if (
            prefix_definition is not None
            and prefix_definition.iri is not None
            and prefix_definition.prefix
        ):
            return prefix_definition.iri + suffix
        if _ABSOLUTE_IRI.match(value):
            return value
        return None

    def derive(self, local: Any, *, trusted: bool = False) -> Derived:
        """Process an inline or referenced ``@context`` value found in a document."""
        key: Any
        if isinstance(local, str):
            key = local
        elif isinstance(local, list) and all(isinstance(item, str) for item in local):
            key = tuple(local)
        else:
            try:
                key = ("json", json.dumps(local, sort_keys=True))
            except (TypeError, ValueError):
                key = None
        if key is not None:
            cached = self._derived.get((key, trusted))
            if cached is not None:
                return cached[1]
        derived = process_context(self, local, trusted=trusted)
        # A result with missing contexts is not kept: a context registered later must be used.
        if key is not None and not derived[2] and _CacheBudget.take():
            self._derived[(key, trusted)] = (local, derived)
        return derived

    def derive_property_scoped(self, definition: TermDefinition) -> Derived:
        """Apply the property-scoped context of ``definition`` (may override protected terms)."""
        return self._derive_scoped(self.property_scoped, definition, override_protected=True)

    def derive_type_scoped(self, definition: TermDefinition) -> Derived:
        """Apply the type-scoped context of ``definition``, which does not propagate by default."""
        return self._derive_scoped(self.type_scoped, definition, propagate=False)

    def _derive_scoped(
        self,
        cache: dict[TermDefinition, Derived],
        definition: TermDefinition,
        *,
        override_protected: bool = False,
        propagate: bool = True,
    ) -> Derived:
        derived = cache.get(definition)
        if derived is None:
            derived = process_context(
                self,
                definition.local_context,
                override_protected=override_protected,
                propagate=propagate,
                trusted=definition.trusted,
            )
            # A result with missing contexts is not kept: a context registered later must be used.
            if not derived[2] and _CacheBudget.take():
                cache[definition] = derived
        return derived


EMPTY_CONTEXT: Final = ActiveContext({}, None, False, None).finish()
"""The initial active context, from which every document's context is derived."""


def keeps_type_scope(ctx: ActiveContext, node: Mapping[str, Any]) -> bool:
    """Return whether a node keeps its parent's type scope: a value object, or only an @id."""
    for key in ctx.value_keys:
        if key in node:
            return True
    if len(node) == 1:
        return next(iter(node)) in ctx.id_keys
    return False


def process_context(
    active: ActiveContext,
    local: Any,
    *,
    override_protected: bool = False,
    propagate: bool = True,
    trusted: bool = False,
    remote_seen: frozenset[str] = frozenset(),
) -> Derived:
    """Process a local context against ``active`` (JSON-LD 1.1 Context Processing algorithm).

    Problems do not raise: the result carries them as issues, and processing keeps the previous
    definition of a term that could not be redefined.
    """
    issues: list[Issue] = []
    missing: list[str] = []

    if isinstance(local, dict) and "@propagate" in local:
        if isinstance(local["@propagate"], bool):
            propagate = local["@propagate"]
        else:
            issues.append(
                _invalid_context(f"@propagate must be true or false, not {local['@propagate']!r}")
            )

    result = active.copy()
    if not propagate and result.previous is None:
        result.previous = active

    for item in local if isinstance(local, list) else [local]:
        if item is None:
            if not override_protected and result.has_protected_terms():
                issues.append(
                    (
                        "jsonld.protected_redefinition",
                        Severity.ERROR,
                        "A null @context would clear protected terms; JSON-LD 1.1 processors "
                        "reject this. Remove the null context.",
                    )
                )
                continue
            previous = result.previous if not propagate else None
            result = ActiveContext({}, None, False, previous)
        elif isinstance(item, str):
            if item in remote_seen:
                issues.append(_invalid_context(f"context {item!r} includes itself"))
                continue
            document = load_context(item)
            if document is None:
                missing.append(item)
                continue
            loaded, sub_issues, sub_missing = process_context(
                result,
                document.get("@context", {}),
                trusted=item in UNTP_CONTEXT_URLS,
                remote_seen=remote_seen | {item},
            )
            result = loaded.copy()
            issues.extend(sub_issues)
            missing.extend(sub_missing)
        elif isinstance(item, dict):
            _apply_context_object(
                result, item, override_protected, trusted, remote_seen, issues, missing
            )
        else:
            issues.append(
                _invalid_context(f"a context must be an object, a URL or null, not {item!r}")
            )

    return (result.finish(), tuple(issues), tuple(missing))


def _apply_context_object(
    result: ActiveContext,
    context: dict[str, Any],
    override_protected: bool,
    trusted: bool,
    remote_seen: frozenset[str],
    issues: list[Issue],
    missing: list[str],
) -> None:
    if "@import" in context:
        imported_url = context["@import"]
        imported = load_context(imported_url) if isinstance(imported_url, str) else None
        if imported is None:
            missing.append(str(imported_url))
            return
        imported_context = imported.get("@context")
        if not isinstance(imported_context, dict) or "@import" in imported_context:
            issues.append(_invalid_context(f"@import {imported_url!r} is not a single context"))
            return
        context = {**imported_context, **context}
        del context["@import"]

    _check_context_members(context, issues)

    if "@vocab" in context:
        vocab = context["@vocab"]
        if vocab is None:
            result.vocab = None
        elif isinstance(vocab, str):
            # Without a document base, a relative @vocab value stays as written.
            result.vocab = _expand_iri(result, vocab, context, {}, trusted, issues)
            result.vocab_trusted = trusted
        else:
            issues.append(_invalid_context(f"@vocab must be a string or null, not {vocab!r}"))

    defined: dict[str, bool] = {}
    protected_default = context.get("@protected") is True
    for term in context:
        if term not in _CONTEXT_KEYWORDS:
            _create_term_definition(
                result,
                context,
                term,
                defined,
                protected_default,
                override_protected,
                trusted,
                issues,
            )


def _check_context_members(context: dict[str, Any], issues: list[Issue]) -> None:
    """Check the context-wide members that JSON-LD 1.1 restricts to certain values."""
    if "@version" in context and context["@version"] != 1.1:
        issues.append(_invalid_context(f"@version must be 1.1, not {context['@version']!r}"))
    if "@base" in context and not (context["@base"] is None or isinstance(context["@base"], str)):
        issues.append(_invalid_context(f"@base must be a string or null, not {context['@base']!r}"))
    if "@direction" in context and context["@direction"] not in (None, "ltr", "rtl"):
        issues.append(
            _invalid_context(
                f"@direction must be 'ltr', 'rtl' or null, not {context['@direction']!r}"
            )
        )
    if "@language" in context and not (
        context["@language"] is None or isinstance(context["@language"], str)
    ):
        issues.append(
            _invalid_context(f"@language must be a string or null, not {context['@language']!r}")
        )


def _term_definition_problem(term: str, value: dict[str, Any]) -> str | None:
    """Return why the members of an expanded term definition are invalid, or ``None``.

    These are the value rules of the JSON-LD 1.1 Create Term Definition algorithm that do not
    depend on other terms.
    """
    if "@reverse" in value:
        if "@id" in value or "@nest" in value:
            return f"term {term!r} has @reverse together with @id or @nest"
        containers = value.get("@container")
        if containers not in (None, "@set", "@index"):
            return f"reverse term {term!r} can have only a @set or @index container"
    if "@language" in value and not (
        value["@language"] is None or isinstance(value["@language"], str)
    ):
        return f"@language of term {term!r} must be a string or null"
    if "@direction" in value and value["@direction"] not in (None, "ltr", "rtl"):
        return f"@direction of term {term!r} must be 'ltr', 'rtl' or null"
    if "@prefix" in value and not isinstance(value["@prefix"], bool):
        return f"@prefix of term {term!r} must be true or false"
    if "@nest" in value:
        nest = value["@nest"]
        if not isinstance(nest, str) or (nest != "@nest" and nest.startswith("@")):
            return f"@nest of term {term!r} must be '@nest' or a term, not {nest!r}"
    if "@index" in value:
        raw_container = value.get("@container")
        containers = raw_container if isinstance(raw_container, list) else [raw_container]
        index = value["@index"]
        if "@index" not in containers:
            return f"term {term!r} has @index but no @index container"
        if not isinstance(index, str) or index.startswith("@"):
            return f"@index of term {term!r} must be a property name, not {index!r}"
    return None


def _create_term_definition(
    active: ActiveContext,
    local: dict[str, Any],
    term: str,
    defined: dict[str, bool],
    protected_default: bool,
    override_protected: bool,
    trusted: bool,
    issues: list[Issue],
) -> None:
    if term in defined:
        if not defined[term]:
            issues.append(_invalid_context(f"the definition of term {term!r} refers to itself"))
        return
    defined[term] = False
    value = local[term]

    if term == "@type" and isinstance(value, dict):
        # JSON-LD 1.1 lets a context mark @type as a protected @set container. It stays a keyword.
        if value.get("@container") != "@set" or set(value) - {"@container", "@protected"}:
            issues.append(
                _invalid_context(
                    "@type can be redefined only as {'@container': '@set'}, optionally with "
                    "'@protected'"
                )
            )
            return
        defined[term] = True
        return
    if term in KEYWORDS:
        issues.append(_invalid_context(f"keyword {term!r} cannot be redefined"))
        return
    if _KEYWORD_FORM.match(term):
        return  # Reserved for future keywords: expansion ignores it.
    if term == "":
        issues.append(_invalid_context("a term cannot be the empty string"))
        return

    previous = active.terms.pop(term, None)
    simple = False
    if value is None or isinstance(value, str):
        simple = True
        value = {"@id": value}
    if not isinstance(value, dict):
        issues.append(_invalid_context(f"term {term!r} has a definition that is not an object"))
        return
    unknown = set(value) - _TERM_DEFINITION_KEYS
    if unknown:
        issues.append(
            _invalid_context(f"term {term!r} has invalid definition keys {sorted(unknown)!r}")
        )
        return
    problem = _term_definition_problem(term, value)
    if problem is not None:
        issues.append(_invalid_context(problem))
        return

    iri: str | None
    reverse = False
    prefix = False
    term_has_colon = term.find(":") > 0
    if "@reverse" in value:
        reverse = True
        iri = _expand_iri(active, value["@reverse"], local, defined, trusted, issues)
        if iri is None or not _ABSOLUTE_IRI.match(iri):
            issues.append(_invalid_context(f"@reverse of term {term!r} is not an absolute IRI"))
            return
    elif "@id" in value and value["@id"] != term:
        raw_id = value["@id"]
        if raw_id is None:
            iri = None
        elif not isinstance(raw_id, str):
            issues.append(_invalid_context(f"@id of term {term!r} must be a string"))
            return
        elif raw_id not in KEYWORDS and _KEYWORD_FORM.match(raw_id):
            if previous is not None:
                active.terms[term] = previous
            return
        else:
            iri = _expand_iri(active, raw_id, local, defined, trusted, issues)
            if iri is None or not (iri in KEYWORDS or _ABSOLUTE_IRI.match(iri)):
                issues.append(
                    _invalid_context(f"@id of term {term!r} does not expand to an absolute IRI")
                )
                return
            if iri == "@context":
                issues.append(_invalid_context("@context cannot be aliased"))
                return
            if (term.find(":") > 0 or "/" in term) and not _maps_to_itself(
                active, local, term, iri, defined, trusted
            ):
                issues.append(
                    _invalid_context(
                        f"term {term!r} looks like an IRI but is mapped to {iri!r}, another IRI"
                    )
                )
                return
            prefix = (
                simple
                and not term_has_colon
                and "/" not in term
                and (iri.startswith("_:") or bool(_GEN_DELIM_END.search(iri)))
            )
    elif term_has_colon:
        term_prefix, suffix = term.split(":", 1)
        if term_prefix in local:
            _create_term_definition(
                active,
                local,
                term_prefix,
                defined,
                protected_default,
                override_protected,
                trusted,
                issues,
            )
        prefix_definition = active.terms.get(term_prefix)
        if prefix_definition is not None and prefix_definition.iri is not None:
            iri = prefix_definition.iri + suffix
        else:
            iri = term
    elif active.vocab is not None:
        iri = active.vocab + term
    else:
        issues.append(_invalid_context(f"term {term!r} has no @id and the context sets no @vocab"))
        return

    type_mapping: str | None = None
    if "@type" in value:
        raw_type = value["@type"]
        if not isinstance(raw_type, str):
            issues.append(_invalid_context(f"@type of term {term!r} must be a string"))
            return
        if raw_type in ("@id", "@json", "@none", "@vocab"):
            type_mapping = raw_type
        else:
            type_mapping = _expand_iri(active, raw_type, local, defined, trusted, issues)
            if (
                type_mapping is None
                or type_mapping.startswith("_:")
                or not _ABSOLUTE_IRI.match(type_mapping)
            ):
                issues.append(
                    _invalid_context(f"@type of term {term!r} does not expand to an absolute IRI")
                )
                return

    container: frozenset[str] = frozenset()
    if "@container" in value:
        raw_container = value["@container"]
        items = raw_container if isinstance(raw_container, list) else [raw_container]
        if not all(isinstance(item, str) and item in _VALID_CONTAINERS for item in items):
            issues.append(
                _invalid_context(f"@container of term {term!r} is invalid: {raw_container!r}")
            )
            return
        container = frozenset(items)
        if "@type" in container and type_mapping is None:
            type_mapping = "@id"

    if "@prefix" in value:
        prefix = value["@prefix"] is True

    options = tuple(
        sorted(
            (key, json.dumps(value[key], sort_keys=True))
            for key in ("@direction", "@index", "@language", "@nest")
            if key in value
        )
    )
    if "@context" in value and not _scoped_context_valid(active, term, value, trusted, issues):
        return
    definition = TermDefinition(
        iri=iri,
        protected=value.get("@protected", protected_default) is True,
        prefix=prefix,
        reverse=reverse,
        type_mapping=type_mapping,
        container=container,
        has_local_context="@context" in value,
        local_context=value.get("@context"),
        options=options,
        trusted=trusted,
    )

    if previous is not None and previous.protected and not override_protected:
        if not definition.same_as(previous):
            issues.append(
                (
                    "jsonld.protected_redefinition",
                    Severity.ERROR,
                    f"A context redefines the protected term {term!r}, which JSON-LD 1.1 "
                    "processors reject. Remove the redefinition or use another term name.",
                )
            )
        definition = previous
    active.terms[term] = definition
    defined[term] = True


_validating = threading.local()


def _scoped_context_valid(
    active: ActiveContext,
    term: str,
    value: dict[str, Any],
    trusted: bool,
    issues: list[Issue],
) -> bool:
    """Validate a term's scoped context where the term is defined, as JSON-LD 1.1 requires.

    A broken scoped context is then an error even when no document uses the term; it is
    applied when a document does. A scoped context that includes itself, directly or through
    remote contexts, is validated once.
    """
    scoped = value["@context"]
    key = json.dumps(scoped, sort_keys=True, default=str)
    in_progress: set[str] = getattr(_validating, "keys", set())
    if key in in_progress:
        return True
    _validating.keys = in_progress | {key}
    try:
        _, scoped_issues, _ = process_context(
            active, scoped, override_protected=True, trusted=trusted
        )
    finally:
        _validating.keys = in_progress
    invalid = [issue for issue in scoped_issues if issue[0] == "jsonld.invalid_context"]
    if not invalid:
        return True
    issues.append(_invalid_context(f"the scoped context of term {term!r} is invalid"))
    issues.extend(invalid)
    return False


def _maps_to_itself(
    active: ActiveContext,
    local: dict[str, Any],
    term: str,
    iri: str,
    defined: dict[str, bool],
    trusted: bool,
) -> bool:
    """Check that a term shaped like an IRI expands to its own mapping, as JSON-LD requires."""
    defined[term] = True
    try:
        return _expand_iri(active, term, local, defined, trusted, []) == iri
    finally:
        defined[term] = False


def _expand_iri(
    active: ActiveContext,
    value: Any,
    local: dict[str, Any],
    defined: dict[str, bool],
    trusted: bool,
    issues: list[Issue],
) -> str | None:
    """Expand ``value`` with vocab = true while ``local`` is being processed."""
    if not isinstance(value, str):
        return None
    if value in KEYWORDS:
        return value
    if _KEYWORD_FORM.match(value):
        return None
    if value in local and not defined.get(value):
        protected_default = local.get("@protected") is True
        _create_term_definition(
            active, local, value, defined, protected_default, False, trusted, issues
        )
    definition = active.terms.get(value)
    if definition is not None:
        return definition.iri

    colon = value.find(":")
    if colon > 0:
        prefix = value[:colon]
        suffix = value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        if prefix in local and not defined.get(prefix):
            protected_default = local.get("@protected") is True
            _create_term_definition(
                active, local, prefix, defined, protected_default, False, trusted, issues
            )
        prefix_definition = active.terms.get(prefix)
        if (
            prefix_definition is not None
            and prefix_definition.iri is not None
            and prefix_definition.prefix
        ):
            return prefix_definition.iri + suffix
        if _ABSOLUTE_IRI.match(value):
            return value

    if active.vocab is not None:
        return active.vocab + value
    return value


def _invalid_context(problem: str) -> Issue:
    return (
        "jsonld.invalid_context",
        Severity.ERROR,
        f"Invalid JSON-LD context: {problem}. Fix the context so that JSON-LD 1.1 processors "
        "accept it.",
    )
