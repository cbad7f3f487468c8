"""The term check: find every key and type that JSON-LD expansion would not keep.

The walk follows the JSON-LD 1.1 Expansion algorithm (JSON-LD 1.1 Processing Algorithms and API,
section 5.1.2) and changes the active context of a node object in the same order. First it
reverts a type-scoped context that does not propagate. Then it applies the property-scoped
context of the property that led to the node, the node's embedded ``@context``, and the
type-scoped contexts of the node's types in lexicographic order. Keys expand against the result,
and types against the context as it was before the type-scoped contexts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valuetrace.findings import Finding, Severity, json_path
from valuetrace.jsonld._activecontext import (
    DATA_KEYWORD,
    DROPPED,
    EMPTY_CONTEXT,
    FOREIGN_VOCAB,
    JSON_LITERAL,
    LIST_KEYWORD,
    MAP_PROPERTY,
    NEST_KEYWORD,
    NODE_KEYWORD,
    PROPERTY,
    TYPE_KEYWORD,
    ActiveContext,
    Derived,
    TermDefinition,
    keeps_type_scope,
)
from valuetrace.jsonld._contexts import BUNDLED_CONTEXTS

__all__ = ["check_terms"]

# A JSON path under construction: ``(parent, key or index)``, or ``None`` for the document root.
# Paths are only turned into strings when a finding needs one.
_Path = tuple[Any, str | int] | None


def check_terms(document: Mapping[str, Any], *, credential: str | None = None) -> list[Finding]:
    """Check that the document's JSON-LD contexts define every key and every ``type`` value.

    Returns these findings:

    - ``jsonld.undefined_term`` (error) for a key that JSON-LD 1.1 expansion would drop, or a
      type that would stay a relative IRI.
    - ``jsonld.vocab_term`` (warning) for a key or type defined only by a ``@vocab`` mapping
      that no bundled UNTP context set.
    - ``jsonld.context_unavailable`` (error) once per context URL that is not bundled. The part
      of the document under that context is not checked.
    - ``jsonld.protected_redefinition`` or ``jsonld.invalid_context`` (error) for contexts that
      JSON-LD processors reject.

    Contexts are never fetched from the network.
    """
    if not isinstance(document, Mapping):
        raise TypeError(
            f"check_terms expects a JSON object (a mapping), not {type(document).__name__}"
        )
    walker = _TermWalker(credential)
    walker.walk_node(EMPTY_CONTEXT, None, document, None)
    return walker.findings


class _TermWalker:
    __slots__ = ("credential", "findings", "reported_urls")

    def __init__(self, credential: str | None) -> None:
        self.credential = credential
        self.findings: list[Finding] = []
        self.reported_urls: set[str] = set()

    def walk_node(
        self,
        ctx: ActiveContext,
        property_definition: TermDefinition | None,
        node: Mapping[str, Any],
        path: _Path,
        from_type_map: bool = False,
    ) -> None:
        """Check one JSON object reached through the property ``property_definition``."""
        # A type-scoped context does not reach into nested node objects. Value objects and
        # objects that contain only an @id still use it.
        if ctx.previous is not None and not from_type_map and not keeps_type_scope(ctx, node):
            ctx = ctx.previous

        if property_definition is not None and property_definition.has_local_context:
            derived = ctx.property_scoped.get(property_definition)
            if derived is None:
                derived = ctx.derive_property_scoped(property_definition)
            if derived[1] or derived[2]:
                scoped = self._use(derived, path)
                if scoped is None:
                    return
                ctx = scoped
            else:
                ctx = derived[0]

        if "@context" in node:
            embedded = self._use(ctx.derive(node["@context"]), (path, "@context"))
            if embedded is None:
                return
            ctx = embedded

        # Types expand against the context before any type-scoped context is applied.
        type_ctx = ctx
        types_clean = False
        type_key = None
        for key in type_ctx.type_keys:
            if key in node:
                if type_key is not None:
                    type_key = ""  # Several aliases of @type in one object.
                    break
                type_key = key
        if type_key:
            type_value = node[type_key]
            try:
                cached = type_ctx.type_sets.get(
                    tuple(type_value) if type(type_value) is list else type_value
                )
            except TypeError:  # An unhashable entry, such as an object in the type list.
                cached = None
            derived, types_clean = cached or type_ctx.derive_for_types(type_value)
            if derived[1] or derived[2]:
                type_scoped = self._use(derived, path)
                if type_scoped is None:
                    return
                ctx = type_scoped
            else:
                ctx = derived[0]
        elif type_key is not None:
            # NOTE: JSON-LD sorts the type values key by key, and this sorts them all together.
            # The order matters only if two type-scoped contexts define the same term.
            combined: list[Any] = []
            for key in sorted(key for key in type_ctx.type_keys if key in node):
                value = node[key]
                combined.extend(value if type(value) is list else [value])
            type_scoped = self._use(type_ctx.derive_for_types(combined)[0], path)
            if type_scoped is None:
                return
            ctx = type_scoped

        self.walk_properties(ctx, type_ctx, property_definition, node, path, types_clean)

    def walk_properties(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        property_definition: TermDefinition | None,
        node: Mapping[str, Any],
        path: _Path,
        types_clean: bool = False,
    ) -> None:
        """Check the keys of a node object, and of the ``@nest`` objects inside it."""
        known_keys = ctx.keys
        for key, value in node.items():
            info = known_keys.get(key)
            if info is None:
                info = ctx.resolve_key(key)
            kind, definition = info

            if kind == PROPERTY:
                value_type = type(value)
                if value_type is dict:
                    self.walk_node(ctx, definition, value, (path, key))
                elif value_type is list:
                    self.walk_array(ctx, definition, value, (path, key))
            elif kind == TYPE_KEYWORD:
                if not types_clean:
                    self._check_types(type_ctx, value, path, key)
            elif kind in (DATA_KEYWORD, JSON_LITERAL):
                continue
            elif kind == DROPPED:
                self._undefined_key(key, (path, key))
            elif kind == FOREIGN_VOCAB:
                self._foreign_vocab_term(key, ctx.vocab, (path, key))
                self.walk_value(ctx, None, value, (path, key))
            elif kind == MAP_PROPERTY and definition is not None:
                if isinstance(value, Mapping):
                    self._walk_map(ctx, definition, value, (path, key))
                else:
                    self.walk_value(ctx, definition, value, (path, key))
            elif kind == NODE_KEYWORD:
                self.walk_value(ctx, None, value, (path, key))
            elif kind == LIST_KEYWORD:
                self.walk_value(ctx, property_definition, value, (path, key))
            elif kind == NEST_KEYWORD:
                self._walk_nest(ctx, type_ctx, property_definition, value, (path, key))

    def walk_value(
        self,
        ctx: ActiveContext,
        property_definition: TermDefinition | None,
        value: Any,
        path: _Path,
    ) -> None:
        """Check a property value: an object, an array, or a scalar (nothing to check)."""
        if isinstance(value, Mapping):
            self.walk_node(ctx, property_definition, value, path)
        elif type(value) is list:
            self.walk_array(ctx, property_definition, value, path)

    def walk_array(
        self,
        ctx: ActiveContext,
        property_definition: TermDefinition | None,
        values: list[Any],
        path: _Path,
    ) -> None:
        """Check the objects and nested arrays of an array value."""
        for index, item in enumerate(values):
            item_type = type(item)
            if item_type is dict:
                self.walk_node(ctx, property_definition, item, (path, index))
            elif item_type is list:
                self.walk_array(ctx, property_definition, item, (path, index))

    def _walk_nest(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        property_definition: TermDefinition | None,
        value: Any,
        path: _Path,
    ) -> None:
        if type(value) is list:
            for index, nested in enumerate(value):
                if isinstance(nested, Mapping):
                    self.walk_properties(ctx, type_ctx, property_definition, nested, (path, index))
        elif isinstance(value, Mapping):
            self.walk_properties(ctx, type_ctx, property_definition, value, path)

    def _walk_map(
        self,
        ctx: ActiveContext,
        definition: TermDefinition,
        value: Mapping[str, Any],
        path: _Path,
    ) -> None:
        """Check a language, index, id or type map, whose keys are data and not properties."""
        if "@language" in definition.container:
            return
        for map_key, item in value.items():
            if "@type" in definition.container:
                type_definition = ctx.terms.get(map_key)
                item_ctx = ctx
                if type_definition is not None and type_definition.has_local_context:
                    scoped = self._use(ctx.derive_type_scoped(type_definition), (path, map_key))
                    if scoped is None:
                        continue
                    item_ctx = scoped
                items = item if type(item) is list else [item]
                for index, member in enumerate(items):
                    member_path = (
                        (path, map_key) if type(item) is not list else ((path, map_key), index)
                    )
                    if isinstance(member, Mapping):
                        self.walk_node(item_ctx, definition, member, member_path, True)
            else:
                self.walk_value(ctx, definition, item, (path, map_key))

    def _check_types(self, type_ctx: ActiveContext, value: Any, path: _Path, key: str) -> None:
        known_types = type_ctx.types
        if type(value) is list:
            for index, type_name in enumerate(value):
                if isinstance(type_name, str):
                    resolved = known_types.get(type_name) or type_ctx.resolve_type(type_name)
                    if resolved[0] is None or resolved[1]:
                        self._report_type(type_ctx, type_name, resolved, ((path, key), index))
        elif isinstance(value, str):
            resolved = known_types.get(value) or type_ctx.resolve_type(value)
            if resolved[0] is None or resolved[1]:
                self._report_type(type_ctx, value, resolved, (path, key))

    def _report_type(
        self,
        type_ctx: ActiveContext,
        type_name: str,
        resolved: tuple[str | None, bool],
        path: _Path,
    ) -> None:
        if resolved[0] is None:
            self._add(
                "jsonld.undefined_term",
                Severity.ERROR,
                f"Type {type_name!r} is not defined by the document's JSON-LD contexts, so it "
                "does not expand to an absolute IRI. Define it in a context or remove it.",
                path,
            )
        else:
            self._foreign_vocab_term(type_name, type_ctx.vocab, path)

    def _use(self, derived: Derived, path: _Path) -> ActiveContext | None:
        """Report a processed context's issues and return it, or ``None`` if a URL is missing."""
        ctx, issues, missing = derived
        for code, severity, message in issues:
            self._add(code, severity, message, path)
        if not missing:
            return ctx
        for url in missing:
            if url not in self.reported_urls:
                self.reported_urls.add(url)
                self._add(
                    "jsonld.context_unavailable",
                    Severity.ERROR,
                    f"JSON-LD context {url!r} is not bundled with valuetrace, and contexts are "
                    "never fetched, so the terms under it could not be checked. Use the bundled "
                    f"contexts ({', '.join(sorted(BUNDLED_CONTEXTS))}).",
                    path,
                )
        return None

    def _undefined_key(self, key: str, path: _Path) -> None:
        self._add(
            "jsonld.undefined_term",
            Severity.ERROR,
            f"Term {key!r} is not defined by the document's JSON-LD contexts, so JSON-LD "
            "expansion drops it. Define it in a context or remove it.",
            path,
        )

    def _foreign_vocab_term(self, term: str, vocab: str | None, path: _Path) -> None:
        self._add(
            "jsonld.vocab_term",
            Severity.WARNING,
            f"Term {term!r} is defined only by the @vocab mapping {vocab!r}, which no bundled "
            "UNTP context sets. Define the term explicitly in a context.",
            path,
        )

    def _add(self, code: str, severity: Severity, message: str, path: _Path) -> None:
        self.findings.append(Finding(code, severity, message, self.credential, _render(path)))


def _render(path: _Path) -> str:
    parts: list[str | int] = []
    while path is not None:
        path, part = path
        parts.append(part)
    parts.reverse()
    return json_path(parts)
