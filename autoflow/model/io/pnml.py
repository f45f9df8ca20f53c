"""PNML (ISO/IEC 15909-2) reader and writer for place/transition nets.

Reads what P/T-net tools write (the Model Checking Contest, TAPAAL, ProM,
pm4py, PIPE): ``<pnml><net><page>…`` with places, transitions and arcs,
initial markings in ``<initialMarking><text>``, arc weights in
``<inscription><text>`` (ProM also writes them as the arc's ``<name>``), names,
nested pages (flattened) and PNML reference nodes (resolved to the node they
refer to).  Graphics and tool-specific data are ignored.

Parsing is hardened: defusedxml's expat parser refuses entity declarations
(the "billion laughs" bomb) and external references, and every error carries
``path:line:col``.
"""

from __future__ import annotations

import xml.sax
import xml.sax.handler
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import defusedxml.sax
from defusedxml import DefusedXmlException, EntitiesForbidden

from autoflow.errors import ModelReferenceError, SchemaError, SourceError, UnsupportedError
from autoflow.model.io import MAX_MODEL_BYTES, check_size
from autoflow.model.net import Arc, Net, NetTransition, Place
from autoflow.model.span import Span, register_source

#: The PNML namespace of the 2009 grammar, used when writing.
PNML_NAMESPACE = "http://www.pnml.org/version-2009/grammar/pnml"
#: The net type of P/T nets, used when writing.
PTNET_TYPE = "http://www.pnml.org/version-2009/grammar/ptnet"

# Net types accepted on input: P/T nets under their usual type URIs.  ProM writes
# "pnmlcoremodel" for its (P/T) nets.
_PT_TYPES = ("ptnet", "pnmlcoremodel", "pt_net", "p/t")
_ARC_TYPES_OK = ("", "normal", "regular")


# ------------------------------------------------------------------ XML tree with positions


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    span: Span
    children: list[_Node] = field(default_factory=list)
    text: str = ""

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def text_of(self, tag: str) -> tuple[str, Span] | None:
        """The ``<text>`` inside child ``tag`` (PNML's labels), stripped, with its span."""
        label = self.child(tag)
        if label is None:
            return None
        inner = label.child("text")
        if inner is None:
            return None
        return inner.text.strip(), inner.span


class _TreeBuilder(xml.sax.handler.ContentHandler):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.locator: xml.sax.xmlreader.Locator | None = None
        self.stack: list[_Node] = []
        self.root: _Node | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self.locator = locator

    def here(self) -> Span:
        if self.locator is None:
            return Span(self.path)
        line, col = self.locator.getLineNumber() or 0, self.locator.getColumnNumber() or 0
        return Span(self.path, line, col + 1)

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        node = _Node(name.rpartition(":")[2], dict(attrs), self.here())
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name: str) -> None:
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text += content


def _parse_xml(text: str, path: str) -> _Node:
    builder = _TreeBuilder(path)
    try:
        defusedxml.sax.parseString(
            text.encode("utf-8"),
            builder,
            forbid_dtd=False,
            forbid_entities=True,
            forbid_external=True,
        )
    except xml.sax.SAXParseException as exc:
        span = Span(path, exc.getLineNumber() or 0, (exc.getColumnNumber() or 0) + 1)
        raise SourceError(f"malformed XML: {exc.getMessage()}", span) from exc
    except EntitiesForbidden as exc:
        raise SourceError(
            f"XML entity declarations are not allowed (entity {exc.name!r})",
            builder.here(),
            hint="PNML needs no DTD; remove the <!DOCTYPE …> block",
        ) from exc
    except DefusedXmlException as exc:
        raise SourceError(
            f"XML external references and DTDs are not allowed ({type(exc).__name__})",
            builder.here(),
            hint="PNML needs no DTD; remove the <!DOCTYPE …> block",
        ) from exc
    if builder.root is None:  # pragma: no cover - expat rejects empty documents itself
        raise SourceError("empty document", Span(path))
    return builder.root


# --------------------------------------------------------------------------- reading


def read_pnml_file(path: str) -> Net:
    """Read a ``.pnml`` file into a :class:`Net`; raise ``ModelError`` with path:line:col."""
    check_size(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}", Span(path)) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"file is not UTF-8 ({exc.reason})", Span(path)) from exc
    return _read(text, path)


def read_pnml_text(text: str, path: str = "<pnml>") -> Net:
    """Read PNML from a string; ``path`` names it in errors (and its excerpts show ``text``)."""
    if len(text.encode("utf-8")) > MAX_MODEL_BYTES:
        raise SourceError(f"PNML text is over the {MAX_MODEL_BYTES}-byte limit", Span(path))
    register_source(path, text)
    return _read(text, path)


def _read(text: str, path: str) -> Net:
    root = _parse_xml(text, path)
    if root.tag != "pnml":
        raise SchemaError(f"expected a <pnml> document, found <{root.tag}>", root.span)
    nets = [child for child in root.children if child.tag == "net"]
    if not nets:
        raise SchemaError("<pnml> contains no <net>", root.span)
    if len(nets) > 1:
        raise UnsupportedError(
            "this file holds several nets; autoflow reads one net per file",
            nets[1].span,
            hint="split the file, one <net> each",
        )
    return _read_net(nets[0])


def _read_net(element: _Node) -> Net:
    net_type = element.attrs.get("type", "")
    if net_type and not any(net_type.lower().rstrip("/").endswith(t) for t in _PT_TYPES):
        raise UnsupportedError(
            f"unsupported net type {net_type!r}; autoflow reads place/transition nets",
            element.span,
            hint=f"use type={PTNET_TYPE!r}",
        )
    net_id = element.attrs.get("id") or "net"
    name = element.text_of("name")

    places: list[Place] = []
    transitions: list[NetTransition] = []
    arc_nodes: list[_Node] = []
    references: dict[str, tuple[str, Span]] = {}
    node_spans: dict[str, Span] = {}

    def declare(node: _Node) -> str:
        node_id = node.attrs.get("id")
        if not node_id:
            raise SchemaError(f"<{node.tag}> has no id attribute", node.span)
        if node_id in node_spans:
            raise ModelReferenceError(
                f"duplicate id {node_id!r} (first defined at {node_spans[node_id]})", node.span
            )
        node_spans[node_id] = node.span
        return node_id

    def visit(container: _Node) -> None:
        for node in container.children:
            if node.tag == "page":
                declare(node)
                visit(node)
            elif node.tag == "place":
                places.append(_read_place(node, declare(node)))
            elif node.tag == "transition":
                node_id = declare(node)
                label = node.text_of("name")
                transitions.append(NetTransition(node_id, label[0] if label else None, node.span))
            elif node.tag in ("referencePlace", "referenceTransition"):
                node_id = declare(node)
                ref = node.attrs.get("ref")
                if not ref:
                    raise SchemaError(f"<{node.tag}> has no ref attribute", node.span)
                references[node_id] = (ref, node.span)
            elif node.tag == "arc":
                declare(node)
                arc_nodes.append(node)

    visit(element)

    place_ids = {place.id for place in places}
    transition_ids = {transition.id for transition in transitions}
    aliases = _resolver(references, place_ids | transition_ids)
    arcs = tuple(_read_arc(node, aliases, place_ids, transition_ids) for node in arc_nodes)
    return Net(
        net_id,
        tuple(places),
        tuple(transitions),
        arcs,
        name[0] if name else None,
        element.span,
    )


def _read_place(node: _Node, place_id: str) -> Place:
    label = node.text_of("name")
    initial = 0
    marking = node.text_of("initialMarking")
    if marking is not None and marking[0]:
        initial = _natural(marking[0], marking[1], "initial marking", allow_zero=True)
    return Place(place_id, label[0] if label else None, initial, node.span)


def _resolver(references: dict[str, tuple[str, Span]], nodes: set[str]) -> dict[str, str]:
    """Map every reference node to the place or transition it finally refers to."""
    resolved: dict[str, str] = {}
    for start, (_, span) in references.items():
        seen = {start}
        target = references[start][0]
        while target in references:
            if target in seen:
                raise ModelReferenceError(f"reference node {start!r} refers to itself", span)
            seen.add(target)
            target = references[target][0]
        if target not in nodes:
            raise ModelReferenceError(
                f"reference node {start!r} refers to unknown node {target!r}", span
            )
        resolved[start] = target
    return resolved


def _read_arc(
    node: _Node, aliases: dict[str, str], place_ids: set[str], transition_ids: set[str]
) -> Arc:
    arc_id = node.attrs["id"]
    ends: list[str] = []
    for end in ("source", "target"):
        value = node.attrs.get(end)
        if not value:
            raise SchemaError(f"arc {arc_id!r} has no {end} attribute", node.span)
        value = aliases.get(value, value)
        if value not in place_ids and value not in transition_ids:
            raise ModelReferenceError(
                f"arc {arc_id!r}: unknown {end} {value!r}",
                node.span,
                hint="an arc's source and target must be ids of places or transitions of this net",
            )
        ends.append(value)
    source, target = ends
    if (source in place_ids) == (target in place_ids):
        kind = "places" if source in place_ids else "transitions"
        raise SchemaError(
            f"arc {arc_id!r} connects two {kind} ({source!r} → {target!r})",
            node.span,
            hint="arcs go from a place to a transition or from a transition to a place",
        )
    arc_type = node.text_of("arctype") or node.text_of("type")
    if arc_type is not None and arc_type[0].lower() not in _ARC_TYPES_OK:
        raise UnsupportedError(
            f"{arc_type[0]} arcs are not supported; autoflow reads place/transition nets",
            arc_type[1],
        )
    weight = 1
    inscription = node.text_of("inscription")
    if inscription is None:
        # ProM writes the weight as the arc's name.
        label = node.text_of("name")
        if label is not None and label[0].lstrip("-").isdigit():
            inscription = label
    if inscription is not None and inscription[0]:
        weight = _natural(inscription[0], inscription[1], "arc weight", allow_zero=False)
    return Arc(source, target, weight, arc_id, node.span)


def _natural(text: str, span: Span, what: str, *, allow_zero: bool) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SchemaError(
            f"{what} must be a whole number of tokens, found {text!r}",
            span,
            hint="P/T nets count tokens: write 0, 1, 2, …",
        ) from None
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "at least 1"
        raise SchemaError(f"{what} must be {bound}, found {value}", span)
    return value


# --------------------------------------------------------------------------- writing


def write_pnml(net: Net) -> str:
    """The net as PNML 2009 P/T-net text (names, initial markings, arc weights)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<pnml xmlns={quoteattr(PNML_NAMESPACE)}>",
        f"  <net id={quoteattr(net.id)} type={quoteattr(PTNET_TYPE)}>",
    ]
    if net.name is not None:
        lines.append(f"    <name><text>{escape(net.name)}</text></name>")
    lines.append('    <page id="page0">')
    for place in net.places:
        lines.append(f"      <place id={quoteattr(place.id)}>")
        if place.name is not None:
            lines.append(f"        <name><text>{escape(place.name)}</text></name>")
        if place.initial:
            lines.append(f"        <initialMarking><text>{place.initial}</text></initialMarking>")
        lines.append("      </place>")
    for transition in net.transitions:
        if transition.name is None:
            lines.append(f"      <transition id={quoteattr(transition.id)}/>")
        else:
            lines.append(f"      <transition id={quoteattr(transition.id)}>")
            lines.append(f"        <name><text>{escape(transition.name)}</text></name>")
            lines.append("      </transition>")
    used = {place.id for place in net.places} | {t.id for t in net.transitions}
    for number, arc in enumerate(net.arcs):
        arc_id = arc.id or f"arc{number}"
        while arc_id in used:
            arc_id += "_"
        used.add(arc_id)
        head = f"      <arc id={quoteattr(arc_id)} source={quoteattr(arc.source)} " + (
            f"target={quoteattr(arc.target)}"
        )
        if arc.weight == 1:
            lines.append(head + "/>")
        else:
            lines.append(head + ">")
            lines.append(f"        <inscription><text>{arc.weight}</text></inscription>")
            lines.append("      </arc>")
    lines += ["    </page>", "  </net>", "</pnml>", ""]
    return "\n".join(lines)
