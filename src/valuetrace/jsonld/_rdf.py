"""JSON-LD 1.1 to RDF, offline and in one pass over the document.

The conversion follows the Expansion, Node Map Generation and Deserialize JSON-LD to RDF
algorithms of JSON-LD 1.1 Processing Algorithms and API (W3C Recommendation, 16 July 2020).
It does not build the expanded document: each node object writes its quads as soon as its
subject is known. Contexts come from :mod:`valuetrace.jsonld._activecontext`, so they are the
bundled or registered documents and are processed once per process.

The conversion runs in "safe mode". Where JSON-LD would drop data silently (an undefined term,
a relative IRI without a base, a free-floating value), it raises :class:`JsonLdError` instead,
because a signature over the RDF would not cover the dropped data.

Number and string handling matches jsonld.js, the implementation that produced the W3C Data
Integrity test vectors. An integral JSON number such as ``1.0`` is an ``xsd:integer``, and a
string typed ``xsd:double`` is rewritten in canonical double form. Language tags are lowercased,
and ``@direction`` is ignored (``rdfDirection`` unset).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from valuetrace.errors import InputError
from valuetrace.findings import json_path
from valuetrace.jsonld._activecontext import (
    DATA_KEYWORD,
    DROPPED,
    EMPTY_CONTEXT,
    FOREIGN_VOCAB,
    JSON_LITERAL,
    KEYWORDS,
    LIST_KEYWORD,
    MAP_PROPERTY,
    NEST_KEYWORD,
    PROPERTY,
    TYPE_KEYWORD,
    ActiveContext,
    Derived,
    TermDefinition,
    keeps_type_scope,
)
from valuetrace.jsonld._contexts import load_context

__all__ = ["JsonLdError", "Quad", "jsonld_to_nquads", "jsonld_to_quads", "quads_to_nquads"]

Quad = tuple[str, str, str, str]
"""Subject, predicate, object and graph name in N-Quads syntax. The graph name ``""`` is the
default graph."""

_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
_RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XSD_STRING: Final = _XSD + "string"
_XSD_BOOLEAN: Final = _XSD + "boolean"
_XSD_INTEGER: Final = _XSD + "integer"
_XSD_DOUBLE: Final = _XSD + "double"
_RDF_TYPE: Final = f"<{_RDF}type>"
_RDF_FIRST: Final = f"<{_RDF}first>"
_RDF_REST: Final = f"<{_RDF}rest>"
_RDF_NIL: Final = f"<{_RDF}nil>"
_RDF_LANGSTRING: Final = _RDF + "langString"
_RDF_JSON: Final = _RDF + "JSON"

_ABSOLUTE_IRI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:\S*$")
_KEYWORD_FORM: Final = re.compile(r"^@[a-zA-Z]+$")
# Characters that N-Quads does not allow unescaped in an IRI. An IRI that contains one is
# rejected, so that no value can end the IRI early and add quads of its own.
_IRI_FORBIDDEN: Final = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGUAGE_TAG: Final = re.compile(r"^[a-zA-Z]+(-[a-zA-Z0-9]+)*$")
# The prefix that ECMAScript parseFloat reads, after leading white space.
_JS_FLOAT_PREFIX: Final = re.compile(
    r"[+-]?(?:Infinity|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)
# ECMAScript prints numbers from 1e21 on in exponent form, and JSON-LD 1.1 writes them as
# doubles.
_MAX_INTEGER_FORM: Final = 1e21
# Doubles represent every integer up to 2**53 exactly; larger ones are rounded.
_MAX_EXACT_INTEGER: Final = 2**53

# Keywords allowed in a value object, after alias expansion.
_VALUE_OBJECT_KEYS: Final = frozenset(
    {"@value", "@type", "@language", "@direction", "@index", "@context"}
)
_GRAPH_OBJECT_KEYS: Final = frozenset({"@graph", "@id", "@index", "@context"})

# Checked IRIs and their N-Quads terms. Credentials of one kind share most of their IRIs, and
# the limit bounds memory when documents bring many distinct ones.
_iri_terms: dict[str, str] = {}
_MAX_CACHED_IRIS: Final = 65536

# A JSON path under construction: ``(parent, key or index)``, or ``None`` for the document root.
_Path = tuple[Any, str | int] | None


class JsonLdError(InputError):
    """A JSON-LD document that cannot be converted to RDF without losing or guessing data.

    ``code`` is a finding code such as ``jsonld.undefined_term`` and ``path`` the JSON path of
    the offending value (``$`` for the whole document).
    """

    def __init__(self, code: str, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.code = code
        self.path = path


class _List:
    """An RDF collection (a JSON-LD list object) whose quads are written when it is used."""

    __slots__ = ("items",)

    def __init__(self, items: list[_Item]) -> None:
        self.items = items


_Item = str | _List
"""An RDF object in N-Quads syntax, or a list still to be written."""


def jsonld_to_quads(document: Mapping[str, Any]) -> list[Quad]:
    """Convert a JSON-LD document to RDF quads, with contexts from the bundled documents only.

    Blank nodes are labelled ``_:b0``, ``_:b1`` … in document order, so the same document
    always gives the same quads. Duplicate quads appear once. Raises :class:`JsonLdError` where
    JSON-LD would drop data or a context is not available, and ``TypeError`` when
    ``document`` is not a mapping.
    """
    if not isinstance(document, Mapping):
        raise TypeError(
            f"the JSON-LD document must be a JSON object (a mapping), not {type(document).__name__}"
        )
    converter = _Converter()
    converter.convert_root(document)
    return list(converter.quads)


def quads_to_nquads(quads: list[Quad]) -> str:
    """Serialize quads as N-Quads, one line per quad, in the order given."""
    lines = []
    for subject, predicate, obj, graph in quads:
        if graph:
            lines.append(f"{subject} {predicate} {obj} {graph} .\n")
        else:
            lines.append(f"{subject} {predicate} {obj} .\n")
    return "".join(lines)


def jsonld_to_nquads(document: Mapping[str, Any]) -> str:
    """Convert a JSON-LD document to N-Quads (not canonical) with :func:`jsonld_to_quads`."""
    return quads_to_nquads(jsonld_to_quads(document))


class _Converter:
    """The state of one conversion: the quads written so far and the blank node labels."""

    __slots__ = ("blank_count", "blank_labels", "quads")

    def __init__(self) -> None:
        self.quads: dict[Quad, None] = {}
        # Blank node identifiers from the document are relabelled with fresh labels, so they
        # cannot collide with generated ones.
        self.blank_labels: dict[str, str] = {}
        self.blank_count = 0

    # --- terms ------------------------------------------------------------------------------

    def fresh_blank_node(self) -> str:
        label = f"_:b{self.blank_count}"
        self.blank_count += 1
        return label

    def iri_term(self, iri: str, path: _Path, role: str) -> str:
        """Return the N-Quads term of an expanded IRI or blank node identifier.

        ``role`` names the IRI in error messages, such as "type" or "node identifier".
        """
        term = _iri_terms.get(iri)
        if term is not None:
            return term
        if iri.startswith("_:"):
            label = self.blank_labels.get(iri)
            if label is None:
                label = self.fresh_blank_node()
                self.blank_labels[iri] = label
            return label
        if not _ABSOLUTE_IRI.match(iri):
            raise JsonLdError(
                "jsonld.relative_iri",
                f"The {role} {iri!r} is not an absolute IRI, and without a base IRI JSON-LD "
                "drops it from the RDF. Write an absolute IRI such as 'https://…' or "
                "'urn:uuid:…', or define the term in a context.",
                _render(path),
            )
        if _IRI_FORBIDDEN.search(iri):
            raise JsonLdError(
                "jsonld.invalid_iri",
                f"The {role} {iri!r} contains a space, a control character or one of "
                '<>"{}|^`\\, which an RDF IRI cannot contain. Percent-encode the character.',
                _render(path),
            )
        term = f"<{iri}>"
        if len(_iri_terms) < _MAX_CACHED_IRIS:
            _iri_terms[iri] = term
        return term

    def add(self, subject: str, predicate: str, obj: _Item, graph: str) -> None:
        if isinstance(obj, _List):
            obj = self.write_list(obj, graph)
        self.quads[(subject, predicate, obj, graph)] = None

    def write_list(self, value: _List, graph: str) -> str:
        """Write the rdf:first/rdf:rest chain of a list and return its head."""
        if not value.items:
            return _RDF_NIL
        nodes = [self.fresh_blank_node() for _ in value.items]
        for index, item in enumerate(value.items):
            self.add(nodes[index], _RDF_FIRST, item, graph)
            following = nodes[index + 1] if index + 1 < len(nodes) else _RDF_NIL
            self.quads[(nodes[index], _RDF_REST, following, graph)] = None
        return nodes[0]

    # --- the document and its elements ------------------------------------------------------

    def convert_root(self, document: Mapping[str, Any]) -> None:
        ctx = EMPTY_CONTEXT
        if "@context" in document:
            ctx = _use(ctx.derive(document["@context"]), (None, "@context"))
            _check_default_language(document["@context"], (None, "@context"))
        keys = {_keyword_of(ctx, key) for key in document}
        if keys <= {"@graph", "@context"} and "@graph" in keys:
            # A document that contains only @graph describes the default graph.
            for key, value in document.items():
                if _keyword_of(ctx, key) == "@graph":
                    self.expand_element(ctx, "@graph", None, value, "", (None, key))
            return
        self.expand_element(EMPTY_CONTEXT, None, None, document, "", None)

    def expand_element(
        self,
        ctx: ActiveContext,
        key: str | None,
        definition: TermDefinition | None,
        element: Any,
        graph: str,
        path: _Path,
        *,
        from_map: bool = False,
        injected_id: str | None = None,
        in_list: bool = False,
    ) -> tuple[list[_Item], bool]:
        """Convert the value of property ``key`` and return its RDF objects.

        ``key`` is ``None`` at the top level and ``"@graph"`` inside a graph. The flag is true
        when the element was an array or a ``@set`` object. Inside a list (``in_list``, or a
        ``@list`` container) such an array becomes a nested list, as jsonld.js and pyld do.
        """
        if element is None:
            return [], False
        element_type = type(element)
        if element_type is list:
            in_list = in_list or (definition is not None and "@list" in definition.container)
            items: list[_Item] = []
            for index, member in enumerate(element):
                expanded, is_array = self.expand_element(
                    ctx,
                    key,
                    definition,
                    member,
                    graph,
                    (path, index),
                    from_map=from_map,
                    injected_id=injected_id,
                    in_list=in_list,
                )
                if in_list and is_array:
                    items.append(_List(expanded))
                else:
                    items.extend(expanded)
            return items, True
        if isinstance(element, Mapping):
            return self.expand_object(
                ctx, key, definition, element, graph, path, from_map, injected_id
            )
        return [self.expand_scalar(ctx, key, definition, element, path)], False

    def expand_scalar(
        self,
        ctx: ActiveContext,
        key: str | None,
        definition: TermDefinition | None,
        value: Any,
        path: _Path,
    ) -> str:
        if key is None or key == "@graph":
            raise JsonLdError(
                "jsonld.dropped_value",
                f"The value {value!r} is not the value of a property, so JSON-LD drops it. "
                "Put it under a property.",
                _render(path),
            )
        if definition is not None and definition.has_local_context:
            ctx = _use(ctx.derive_property_scoped(definition), path)
            definition = ctx.terms.get(key, definition)
        type_mapping = definition.type_mapping if definition is not None else None
        if isinstance(value, str):
            if type_mapping == "@id":
                return self.iri_term(_expand_document_iri(ctx, value, path), path, "IRI")
            if type_mapping == "@vocab":
                return self.iri_term(_expand_vocab_iri(ctx, value), path, "IRI")
        datatype = None
        language = None
        if type_mapping is not None and type_mapping not in ("@id", "@vocab", "@none"):
            datatype = type_mapping
        elif isinstance(value, str) and definition is not None:
            language = _option(definition, "@language")
        return self.literal(value, datatype, language, path)

    def expand_object(
        self,
        ctx: ActiveContext,
        key: str | None,
        definition: TermDefinition | None,
        element: Mapping[str, Any],
        graph: str,
        path: _Path,
        from_map: bool,
        injected_id: str | None,
    ) -> tuple[list[_Item], bool]:
        # A type-scoped context does not reach nested node objects. Value objects and
        # objects that contain only an @id still use it.
        if ctx.previous is not None and not from_map and not keeps_type_scope(ctx, element):
            ctx = ctx.previous
        if definition is not None and definition.has_local_context:
            ctx = _use(ctx.derive_property_scoped(definition), path)
        if "@context" in element:
            _check_default_language(element["@context"], (path, "@context"))
            ctx = _use(ctx.derive(element["@context"]), (path, "@context"))

        type_ctx = ctx
        ctx = self.apply_type_scopes(ctx, element, path)

        keywords: dict[str, str] = {}
        for name in element:
            keyword = _keyword_of(ctx, name)
            if (
                keyword in keywords
                and keyword in KEYWORDS
                and keyword not in ("@type", "@included", "@nest")
            ):
                raise _invalid(f"{keywords[keyword]!r} and {name!r} are both {keyword}", path)
            keywords[keyword] = name
        if "@value" in keywords:
            if key is None or key == "@graph":
                raise JsonLdError(
                    "jsonld.dropped_value",
                    "A value object is not the value of a property, so JSON-LD drops it. "
                    "Put it under a property.",
                    _render(path),
                )
            return [self.value_object(ctx, type_ctx, element, path)], False
        if "@list" in keywords:
            if key is None or key == "@graph":
                raise JsonLdError(
                    "jsonld.dropped_value",
                    "A list object is not the value of a property, so JSON-LD drops it. "
                    "Put it under a property.",
                    _render(path),
                )
            extra = set(keywords) - {"@list", "@index", "@context"}
            if extra:
                raise _invalid(f"a list object cannot contain {sorted(extra)!r}", path)
            list_key = keywords["@list"]
            items, _ = self.expand_element(
                ctx, key, definition, element[list_key], graph, (path, list_key), in_list=True
            )
            return [_List(items)], False
        if "@set" in keywords:
            extra = set(keywords) - {"@set", "@index", "@context"}
            if extra:
                raise _invalid(f"a set object cannot contain {sorted(extra)!r}", path)
            set_key = keywords["@set"]
            items, _ = self.expand_element(
                ctx, key, definition, element[set_key], graph, (path, set_key)
            )
            return items, True
        subject = self.node(ctx, type_ctx, element, graph, path, injected_id)
        return [subject], False

    def apply_type_scopes(
        self, ctx: ActiveContext, element: Mapping[str, Any], path: _Path
    ) -> ActiveContext:
        """Apply the type-scoped contexts of the element's types, in lexicographic order."""
        type_keys = [name for name in ctx.type_keys if name in element]
        if not type_keys:
            return ctx
        if len(type_keys) == 1:
            value = element[type_keys[0]]
        else:
            # NOTE: JSON-LD sorts the type values key by key, and this sorts them all together,
            # as the term check does. The order matters only if two type-scoped contexts
            # define the same term.
            value = []
            for name in sorted(type_keys):
                found = element[name]
                value.extend(found if type(found) is list else [found])
        derived, _ = ctx.derive_for_types(value)
        return _use(derived, path)

    # --- value objects and literals ---------------------------------------------------------

    def value_object(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        element: Mapping[str, Any],
        path: _Path,
    ) -> str:
        value: Any = None
        datatype: str | None = None
        language: str | None = None
        for key, item in element.items():
            keyword = _keyword_of(type_ctx if key in type_ctx.type_keys else ctx, key)
            if keyword not in _VALUE_OBJECT_KEYS:
                raise _invalid(
                    f"a value object can contain only {sorted(_VALUE_OBJECT_KEYS)}, not {key!r}",
                    (path, key),
                )
            if keyword == "@value":
                value = item
            elif keyword == "@type":
                if not isinstance(item, str):
                    raise _invalid("the @type of a value object must be a single string", path)
                datatype = "@json" if item == "@json" else _expand_type(type_ctx, item, path)
                if datatype.startswith("_:"):
                    raise _invalid(
                        f"the datatype {item!r} is a blank node, not an IRI", (path, key)
                    )
            elif keyword == "@language":
                if not isinstance(item, str):
                    raise _invalid("@language must be a string", (path, key))
                language = item
            elif keyword == "@index" and not isinstance(item, str):
                raise _invalid("@index must be a string", (path, key))
        if value is None and datatype != "@json":
            raise JsonLdError(
                "jsonld.dropped_value",
                "A value object with a null @value has no value, so JSON-LD drops it. Remove "
                "the object or give it a value.",
                _render(path),
            )
        if datatype is not None and language is not None:
            raise _invalid("a value object cannot have both @type and @language", path)
        if datatype != "@json" and isinstance(value, (list, dict)):
            raise _invalid("@value must be a string, number, boolean or null", path)
        if language is not None and not isinstance(value, str):
            raise _invalid("a value object with @language must have a string @value", path)
        return self.literal(value, datatype, language, path)

    def literal(self, value: Any, datatype: str | None, language: str | None, path: _Path) -> str:
        """Write a JSON-LD value as an RDF literal (Object to RDF Conversion)."""
        if datatype == "@json":
            return _literal_text(_json_literal(value, path), _RDF_JSON)
        if datatype is not None:
            self.iri_term(datatype, path, "datatype")
        if value is True or value is False:
            return _literal_text("true" if value else "false", datatype or _XSD_BOOLEAN)
        if isinstance(value, (int, float)):
            return self.number(value, datatype, path)
        if not isinstance(value, str):
            raise _invalid(f"the value {value!r} is not a JSON string, number or boolean", path)
        if datatype == _XSD_DOUBLE:
            # jsonld.js reads a string typed xsd:double with parseFloat and writes the number
            # in canonical form, so "0.25" becomes "2.5E-1".
            return _literal_text(_canonical_double(_js_parse_float(value)), _XSD_DOUBLE)
        if language is not None:
            if not _LANGUAGE_TAG.match(language):
                raise JsonLdError(
                    "jsonld.invalid_language",
                    f"The language tag {language!r} is not a well-formed BCP 47 tag, so JSON-LD "
                    "drops the value. Use a tag such as 'en' or 'de-CH'.",
                    _render(path),
                )
            return _literal_text(value, _RDF_LANGSTRING, language.lower())
        return _literal_text(value, datatype or _XSD_STRING)

    def number(self, value: float, datatype: str | None, path: _Path) -> str:
        """Write a JSON number as jsonld.js does: an ``xsd:double`` or an ``xsd:integer``."""
        if isinstance(value, float) and not math.isfinite(value):
            raise _invalid(f"the number {value!r} is not a JSON number", path)
        if datatype == _XSD_DOUBLE or _is_js_double(value):
            try:
                double = float(value)
            except OverflowError as exc:
                raise _invalid(f"the number {value!r} is too large for a double", path) from exc
            return _literal_text(_canonical_double(double), datatype or _XSD_DOUBLE)
        if isinstance(value, int) and abs(value) > _MAX_EXACT_INTEGER:
            # JSON.parse reads a large integer as the nearest double, so jsonld.js writes that.
            return _literal_text(str(int(float(value))), datatype or _XSD_INTEGER)
        if isinstance(value, int) or value.is_integer():
            return _literal_text(str(int(value)), datatype or _XSD_INTEGER)
        # jsonld.js (checked with 9.0.0) writes a number as an integer unless ECMAScript prints
        # it with a decimal point, so 1e-7 becomes "0" (and -1e-7 "-0"), where JSON-LD 1.1 and
        # pyld write a double. Signatures made with jsonld.js need its form.
        return _literal_text("-0" if value < 0 else "0", datatype or _XSD_INTEGER)

    # --- node objects -----------------------------------------------------------------------

    def node(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        element: Mapping[str, Any],
        graph: str,
        path: _Path,
        injected_id: str | None,
    ) -> str:
        """Write the quads of a node object and return its subject."""
        subject: str | None = None
        for key in ctx.id_keys:
            if key in element:
                raw_id = element[key]
                if not isinstance(raw_id, str):
                    raise _invalid(f"@id must be a string, not {raw_id!r}", (path, key))
                iri = _expand_document_iri(ctx, raw_id, (path, key))
                subject = self.iri_term(iri, (path, key), "node identifier")
        if subject is None:
            subject = injected_id if injected_id is not None else self.fresh_blank_node()

        self.properties(ctx, type_ctx, element, subject, graph, path)
        return subject

    def types(
        self, type_ctx: ActiveContext, values: Any, subject: str, graph: str, path: _Path
    ) -> None:
        for index, type_name in enumerate(values if type(values) is list else [values]):
            type_path = path if type(values) is not list else (path, index)
            if not isinstance(type_name, str):
                raise _invalid("a type must be a string", type_path)
            type_iri = _expand_type(type_ctx, type_name, type_path)
            self.add(subject, _RDF_TYPE, self.iri_term(type_iri, type_path, "type"), graph)

    def properties(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        element: Mapping[str, Any],
        subject: str,
        graph: str,
        path: _Path,
    ) -> None:
        """Write the types and properties of a node object, and of its ``@nest`` objects."""
        for key, value in element.items():
            kind, definition = ctx.resolve_key(key)
            key_path = (path, key)
            if kind in (PROPERTY, FOREIGN_VOCAB, JSON_LITERAL, MAP_PROPERTY):
                self.property(ctx, key, definition, value, subject, graph, key_path)
            elif kind == TYPE_KEYWORD:
                self.types(type_ctx, value, subject, graph, key_path)
            elif kind == DROPPED:
                raise JsonLdError(
                    "jsonld.undefined_term",
                    f"Term {key!r} is not defined by the document's JSON-LD contexts, so "
                    "JSON-LD expansion drops it and a proof would not cover it. Define it in "
                    "a context or remove it.",
                    _render(key_path),
                )
            elif kind == NEST_KEYWORD:
                self.nest(ctx, type_ctx, definition, value, subject, graph, key_path)
            else:
                keyword = definition.iri if definition is not None and definition.iri else key
                self.keyword_entry(ctx, kind, keyword, value, subject, graph, key_path)

    def nest(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        definition: TermDefinition | None,
        value: Any,
        subject: str,
        graph: str,
        path: _Path,
    ) -> None:
        """Write the entries of ``@nest`` objects as entries of the node that contains them."""
        if definition is not None and definition.has_local_context:
            ctx = _use(ctx.derive_property_scoped(definition), path)
        for index, nested in enumerate(value if type(value) is list else [value]):
            nested_path = path if type(value) is not list else (path, index)
            if not isinstance(nested, Mapping) or any(
                _keyword_of(ctx, key) == "@value" for key in nested
            ):
                raise _invalid("@nest must contain node objects without @value", nested_path)
            self.properties(ctx, type_ctx, nested, subject, graph, nested_path)

    def keyword_entry(
        self,
        ctx: ActiveContext,
        kind: int,
        keyword: str,
        value: Any,
        subject: str,
        graph: str,
        path: _Path,
    ) -> None:
        if kind == DATA_KEYWORD:
            if keyword in ("@id", "@context"):
                return
            if keyword == "@index":
                if not isinstance(value, str):
                    raise _invalid("@index must be a string", path)
                return
            raise _invalid(f"{keyword} is not allowed in a node object", path)
        if kind == LIST_KEYWORD:
            raise _invalid(f"{keyword} is not allowed in a node object", path)
        if keyword == "@graph":
            self.expand_element(ctx, "@graph", None, value, subject, path)
        elif keyword == "@included":
            items, _ = self.expand_element(ctx, None, None, value, graph, path)
            if any(not _is_node_term(item) for item in items):
                raise _invalid("@included must contain node objects", path)
        elif keyword == "@reverse":
            if not isinstance(value, Mapping):
                raise _invalid("@reverse must be a JSON object", path)
            for key, reverse_value in value.items():
                kind_, definition = ctx.resolve_key(key)
                if kind_ == DROPPED:
                    raise JsonLdError(
                        "jsonld.undefined_term",
                        f"Term {key!r} is not defined by the document's JSON-LD contexts, so "
                        "JSON-LD expansion drops it. Define it in a context or remove it.",
                        _render((path, key)),
                    )
                if kind_ not in (PROPERTY, FOREIGN_VOCAB, MAP_PROPERTY):
                    raise _invalid(f"{key!r} in @reverse is not a property", (path, key))
                predicate = self.predicate(ctx, key, definition, (path, key))
                items, _ = self.expand_element(
                    ctx, key, definition, reverse_value, graph, (path, key)
                )
                reverse = definition is not None and definition.reverse
                for item in items:
                    node = _require_node(item, "a reverse property value must be a node", path)
                    if reverse:
                        self.add(subject, predicate, node, graph)
                    else:
                        self.add(node, predicate, subject, graph)

    def predicate(
        self, ctx: ActiveContext, key: str, definition: TermDefinition | None, path: _Path
    ) -> str:
        iri = definition.iri if definition is not None else None
        if iri is None:
            iri = _expand_vocab_iri(ctx, key)
        if iri.startswith("_:"):
            raise JsonLdError(
                "jsonld.blank_node_property",
                f"Property {key!r} expands to the blank node {iri!r}, and RDF has no blank node "
                "properties, so JSON-LD drops it. Map the term to an IRI.",
                _render(path),
            )
        return self.iri_term(iri, path, "property")

    def property(
        self,
        ctx: ActiveContext,
        key: str,
        definition: TermDefinition | None,
        value: Any,
        subject: str,
        graph: str,
        path: _Path,
    ) -> None:
        """Write the quads of one property and its values."""
        predicate = self.predicate(ctx, key, definition, path)
        container = definition.container if definition is not None else frozenset()
        items: list[_Item]

        if definition is not None and definition.type_mapping == "@json":
            items = [_literal_text(_json_literal(value, path), _RDF_JSON)]
        elif value is None:
            return
        elif definition is not None and "@language" in container and isinstance(value, Mapping):
            items = self.language_map(ctx, definition, value, path)
        elif (
            definition is not None
            and container & {"@index", "@id", "@type"}
            and isinstance(value, Mapping)
        ):
            items = self.index_map(ctx, key, definition, value, graph, path)
        elif "@graph" in container and not container & {"@id", "@index"}:
            items = self.graph_container(ctx, key, definition, value, graph, path)
        else:
            items, is_array = self.expand_element(ctx, key, definition, value, graph, path)
            if "@list" in container and (
                is_array or len(items) != 1 or not isinstance(items[0], _List)
            ):
                items = [_List(items)]

        if definition is not None and definition.reverse:
            for item in items:
                node = _require_node(
                    item, f"the values of reverse property {key!r} must be nodes", path
                )
                self.add(node, predicate, subject, graph)
            return
        for item in items:
            self.add(subject, predicate, item, graph)

    def language_map(
        self,
        ctx: ActiveContext,
        definition: TermDefinition,
        value: Mapping[str, Any],
        path: _Path,
    ) -> list[_Item]:
        items: list[_Item] = []
        for language, strings in value.items():
            tag = None if _expand_vocab_iri(ctx, language) == "@none" else language
            for index, text in enumerate(strings if type(strings) is list else [strings]):
                if text is None:
                    continue
                if not isinstance(text, str):
                    raise _invalid("the values of a language map must be strings", (path, language))
                items.append(self.literal(text, None, tag, ((path, language), index)))
        return items

    def index_map(
        self,
        ctx: ActiveContext,
        key: str,
        definition: TermDefinition,
        value: Mapping[str, Any],
        graph: str,
        path: _Path,
    ) -> list[_Item]:
        """Write an index, id or type map (with or without @graph) and return its values."""
        container = definition.container
        index_property = _option(definition, "@index")
        items: list[_Item] = []
        for index, member in value.items():
            member_path = (path, index)
            expanded_index = _expand_vocab_iri(ctx, index)
            is_none = expanded_index == "@none"
            map_ctx = ctx
            if container & {"@id", "@type"}:
                map_ctx = ctx.previous or ctx
            if "@type" in container:
                type_definition = map_ctx.terms.get(index)
                if type_definition is not None and type_definition.has_local_context:
                    map_ctx = _use(map_ctx.derive_type_scoped(type_definition), member_path)

            injected_id = None
            if "@id" in container and not is_none:
                iri = _expand_document_iri(ctx, index, member_path)
                injected_id = self.iri_term(iri, member_path, "map key")

            if "@graph" in container:
                member_items = self.graph_values(
                    map_ctx, key, definition, member, graph, member_path, injected_id, True
                )
            else:
                member_items, _ = self.expand_element(
                    map_ctx,
                    key,
                    definition,
                    member,
                    graph,
                    member_path,
                    from_map=True,
                    injected_id=injected_id,
                )

            for item in member_items:
                if "@type" in container and not is_none:
                    node = _require_node(
                        item, "the values of a type map must be nodes", member_path
                    )
                    type_term = self.iri_term(expanded_index, member_path, "type")
                    self.add(node, _RDF_TYPE, type_term, graph)
                if index_property is not None and "@index" in container and not is_none:
                    self.property_index(ctx, index_property, index, item, graph, member_path)
            items.extend(member_items)
        return items

    def property_index(
        self,
        ctx: ActiveContext,
        index_property: str,
        index: str,
        item: _Item,
        graph: str,
        path: _Path,
    ) -> None:
        """Add a property-valued index: the map key becomes a value of ``index_property``."""
        node = _require_node(item, "the values of a property-valued index map must be nodes", path)
        kind, definition = ctx.resolve_key(index_property)
        if kind not in (PROPERTY, FOREIGN_VOCAB):
            raise _invalid(f"the @index property {index_property!r} is not a property", path)
        predicate = self.predicate(ctx, index_property, definition, path)
        value = self.expand_scalar(ctx, index_property, definition, index, path)
        self.add(node, predicate, value, graph)

    def graph_container(
        self,
        ctx: ActiveContext,
        key: str,
        definition: TermDefinition | None,
        value: Any,
        graph: str,
        path: _Path,
    ) -> list[_Item]:
        """Write each value of a @graph container into a graph of its own."""
        items: list[_Item] = []
        for member, member_path in _flatten_sets(ctx, value, path):
            items.extend(
                self.graph_values(ctx, key, definition, member, graph, member_path, None, False)
            )
        return items

    def graph_values(
        self,
        ctx: ActiveContext,
        key: str,
        definition: TermDefinition | None,
        member: Any,
        graph: str,
        path: _Path,
        graph_name: str | None,
        from_map: bool,
    ) -> list[_Item]:
        """Write one member of a graph container and return the graph names to link to."""
        names: list[_Item] = []
        members = member if type(member) is list else [member]
        for index, single in enumerate(members):
            single_path = path if type(member) is not list else (path, index)
            if from_map and isinstance(single, Mapping) and _is_graph_object(ctx, single):
                # A graph object in a map is used as it is, and an id map supplies its name.
                items, _ = self.expand_element(
                    ctx,
                    key,
                    definition,
                    single,
                    graph,
                    single_path,
                    from_map=True,
                    injected_id=graph_name,
                )
                names.extend(items)
                continue
            name = graph_name or self.fresh_blank_node()
            contents, _ = self.expand_element(
                ctx, key, definition, single, name, single_path, from_map=from_map
            )
            if any(not _is_node_term(item) for item in contents):
                raise JsonLdError(
                    "jsonld.dropped_value",
                    f"The value of {key!r} is a graph, and a graph can contain only node "
                    "objects, so JSON-LD drops this value. Use a node object.",
                    _render(single_path),
                )
            names.append(name)
        return names


# --- helpers ----------------------------------------------------------------------------------


def _use(derived: Derived, path: _Path) -> ActiveContext:
    """Return a processed context, or raise for its first issue or missing context URL."""
    ctx, issues, missing = derived
    if missing:
        raise JsonLdError(
            "jsonld.context_unavailable",
            f"JSON-LD context {missing[0]!r} is neither bundled with valuetrace nor registered, "
            "and contexts are never fetched. Register the context document with "
            "valuetrace.jsonld.register_context.",
            _render(path),
        )
    if issues:
        code, _, message = issues[0]
        raise JsonLdError(code, message, _render(path))
    return ctx


def _keyword_of(ctx: ActiveContext, key: str) -> str:
    """Return the keyword that ``key`` stands for, or ``key`` itself if it is no keyword."""
    if key in KEYWORDS:
        return key
    definition = ctx.terms.get(key)
    if definition is not None and definition.iri in KEYWORDS:
        return definition.iri
    return key


def _is_graph_object(ctx: ActiveContext, element: Mapping[str, Any]) -> bool:
    keywords = {_keyword_of(ctx, key) for key in element}
    return "@graph" in keywords and keywords <= _GRAPH_OBJECT_KEYS


def _is_node_term(item: _Item) -> bool:
    return isinstance(item, str) and item[0] in "<_"


def _require_node(item: _Item, problem: str, path: _Path) -> str:
    """Return ``item`` if it is an IRI or blank node, else raise for a value that is no node."""
    if isinstance(item, str) and item[0] in "<_":
        return item
    raise _invalid(problem, path)


def _flatten_sets(ctx: ActiveContext, value: Any, path: _Path) -> list[tuple[Any, _Path]]:
    """Return the members of an array or ``@set`` object, each with its path."""
    if type(value) is list:
        members: list[tuple[Any, _Path]] = []
        for index, member in enumerate(value):
            members.extend(_flatten_sets(ctx, member, (path, index)))
        return members
    if isinstance(value, Mapping):
        for key in value:
            if _keyword_of(ctx, key) == "@set":
                return _flatten_sets(ctx, value[key], (path, key))
    if value is None:
        return []
    return [(value, path)]


def _option(definition: TermDefinition, name: str) -> Any:
    for option, encoded in definition.options:
        if option == name:
            return json.loads(encoded)
    return None


def _expand_vocab_iri(ctx: ActiveContext, value: str) -> str:
    """IRI expansion with vocab = true, which keys, types and @vocab-typed values use."""
    if value in KEYWORDS:
        return value
    definition = ctx.terms.get(value)
    if definition is not None:
        return definition.iri if definition.iri is not None else value
    expanded = _expand_compact_iri(ctx, value)
    if expanded is not None:
        return expanded
    if ctx.vocab is not None:
        return ctx.vocab + value
    return value


def _expand_document_iri(ctx: ActiveContext, value: str, path: _Path) -> str:
    """IRI expansion with document-relative = true and vocab = false, as @id values use."""
    if _KEYWORD_FORM.match(value):
        raise _invalid(f"the identifier {value!r} has the form of a keyword", path)
    expanded = _expand_compact_iri(ctx, value)
    return expanded if expanded is not None else value


def _expand_compact_iri(ctx: ActiveContext, value: str) -> str | None:
    """Expand a compact IRI, blank node identifier or absolute IRI, else return ``None``."""
    colon = value.find(":")
    if colon <= 0:
        return None
    prefix = value[:colon]
    suffix = value[colon + 1 :]
    if prefix == "_" or suffix.startswith("//"):
        return value
    definition = ctx.terms.get(prefix)
    if definition is not None and definition.iri is not None and definition.prefix:
        return definition.iri + suffix
    if _ABSOLUTE_IRI.match(value):
        return value
    return None


def _expand_type(type_ctx: ActiveContext, value: str, path: _Path) -> str:
    iri, _ = type_ctx.resolve_type(value)
    if iri is None:
        raise JsonLdError(
            "jsonld.undefined_term",
            f"Type {value!r} is not defined by the document's JSON-LD contexts, so it does not "
            "expand to an absolute IRI and JSON-LD drops it. Define it in a context or remove "
            "it.",
            _render(path),
        )
    return iri


def _literal_text(value: str, datatype: str, language: str | None = None) -> str:
    """Write a literal in N-Quads syntax, escaping only what N-Quads requires."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    if language is not None:
        return f'"{escaped}"@{language}'
    if datatype == _XSD_STRING:
        return f'"{escaped}"'
    return f'"{escaped}"^^<{datatype}>'


def _json_literal(value: Any, path: _Path) -> str:
    """Serialize an @json value with RFC 8785, as JSON-LD 1.1 requires for rdf:JSON literals."""
    from valuetrace.vc._jcs import canonicalize

    try:
        return canonicalize(value).decode("utf-8")
    except (TypeError, ValueError) as exc:
        raise _invalid(f"the @json value cannot be canonicalized: {exc}", path) from exc


def _is_js_double(value: float) -> bool:
    """Return whether jsonld.js writes a JSON number as a double rather than an integer."""
    if abs(value) >= _MAX_INTEGER_FORM:
        return True
    if isinstance(value, int):
        return False
    from valuetrace.vc._jcs import serialize_number

    return "." in serialize_number(value)


def _canonical_double(number: float) -> str:
    """Write a double as JSON-LD does: ECMAScript ``toExponential(15)`` without extra zeros."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    mantissa, exponent = f"{number:.15e}".split("e")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def _js_parse_float(text: str) -> float:
    """Read a number as ECMAScript ``parseFloat`` does: the longest numeric prefix, or NaN."""
    match = _JS_FLOAT_PREFIX.match(text.lstrip())
    if match is None:
        return math.nan
    return float(match.group())


def _check_default_language(local: Any, path: _Path) -> None:
    """Reject contexts that set a default language, which this converter does not model."""
    if _sets_default_language(local, frozenset()):
        # NOTE: a context-wide "@language" changes the RDF of every plain string. The active
        # context processor does not track it, so such documents are rejected, not guessed.
        raise JsonLdError(
            "jsonld.unsupported",
            "A JSON-LD context of this document sets a default @language, which valuetrace "
            "cannot convert to RDF. Tag the strings with @language value objects instead.",
            _render(path),
        )


_language_by_url: dict[str, bool] = {}


def _sets_default_language(local: Any, seen: frozenset[str]) -> bool:
    if isinstance(local, str):
        known = _language_by_url.get(local)
        if known is not None:
            return known
        if local in seen:
            return False
        document = load_context(local)
        if document is None:
            return False
        found = _sets_default_language(document.get("@context"), seen | {local})
        _language_by_url[local] = found
        return found
    if isinstance(local, list):
        return any(_sets_default_language(item, seen) for item in local)
    if not isinstance(local, Mapping):
        return False
    if local.get("@language") is not None:
        return True
    imported = local.get("@import")
    if isinstance(imported, str) and _sets_default_language(imported, seen):
        return True
    for term, definition in local.items():
        if term.startswith("@") or not isinstance(definition, Mapping):
            continue
        if "@context" in definition and _sets_default_language(definition["@context"], seen):
            return True
    return False


def _invalid(problem: str, path: _Path) -> JsonLdError:
    return JsonLdError(
        "jsonld.invalid",
        f"Invalid JSON-LD: {problem}. Fix the document so that JSON-LD 1.1 processors accept it.",
        _render(path),
    )


def _render(path: _Path) -> str:
    parts: list[str | int] = []
    while path is not None:
        path, part = path
        parts.append(part)
    parts.reverse()
    return json_path(parts)
