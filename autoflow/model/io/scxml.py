"""SCXML (W3C SCXML 1.0) import and export, with autoflow's extensions namespace.

``read_scxml_file(path)`` and ``read_scxml_text(text, path)`` turn an SCXML
document into a :class:`~autoflow.model.ir.Chart`; ``write_scxml(chart)`` turns a
chart back into SCXML text such that reading it again gives an equal chart.

Parsing goes through defusedxml's SAX driver over expat: entity declarations
("billion laughs") and external entities are refused before anything is
expanded, and every element keeps its line and column.  Attribute values are
located in the raw text so that a bad CEL expression is reported at the exact
character inside the attribute.

What SCXML cannot say (timers, effects, triggers, data domains, fan-out joins,
descriptions) lives in the namespace ``https://autoflow.dev/scxml`` (prefix
``af``); see docs/scxml.md.
"""

from __future__ import annotations

import bisect
import contextvars
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl, InputSource, Locator

from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.expatreader import create_parser

from autoflow.errors import (
    ExpressionError,
    ModelError,
    ModelErrors,
    ModelReferenceError,
    SchemaError,
    SourceError,
    UnsupportedError,
)
from autoflow.model.cel import cel_literal
from autoflow.model.durations import UNITS, duration_cel
from autoflow.model.ir import (
    Action,
    Assign,
    Branch,
    Call,
    Cancel,
    Chart,
    Data,
    DoneData,
    Expr,
    Foreach,
    HistoryKind,
    If,
    Invoke,
    Join,
    JoinKind,
    Log,
    Param,
    Raise,
    Send,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
    TransitionKind,
    Trigger,
    walk_states,
)
from autoflow.model.span import Span, register_source

SCXML_NS = "http://www.w3.org/2005/07/scxml"
AF_NS = "https://autoflow.dev/scxml"

__all__ = ["AF_NS", "SCXML_NS", "read_scxml_file", "read_scxml_text", "write_scxml"]

_SCRIPT_HINT = (
    "autoflow never runs scripts; use <assign>, <if> and CEL expressions, or an "
    "<af:call> effect for work outside the chart"
)

# Attributes allowed on each element: (SCXML/no-namespace attributes, af: attributes).
_ATTRIBUTES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "scxml": (frozenset({"initial", "name", "version", "datamodel", "binding"}), frozenset()),
    "state": (frozenset({"id", "initial"}), frozenset()),
    "parallel": (frozenset({"id"}), frozenset()),
    "final": (frozenset({"id"}), frozenset()),
    "history": (frozenset({"id", "type"}), frozenset()),
    "initial": (frozenset({"id"}), frozenset()),
    "transition": (frozenset({"event", "cond", "target", "type"}), frozenset({"after", "at"})),
    "onentry": (frozenset(), frozenset()),
    "onexit": (frozenset(), frozenset()),
    "datamodel": (frozenset(), frozenset()),
    "data": (
        frozenset({"id", "src", "expr"}),
        frozenset({"type", "enum", "minimum", "maximum"}),
    ),
    "assign": (frozenset({"location", "expr"}), frozenset()),
    "raise": (frozenset({"event"}), frozenset()),
    "send": (
        frozenset(
            {
                "event",
                "eventexpr",
                "target",
                "targetexpr",
                "type",
                "typeexpr",
                "id",
                "idlocation",
                "delay",
                "delayexpr",
                "namelist",
            }
        ),
        frozenset(),
    ),
    "cancel": (frozenset({"sendid", "sendidexpr"}), frozenset()),
    "log": (frozenset({"label", "expr"}), frozenset()),
    "if": (frozenset({"cond"}), frozenset()),
    "elseif": (frozenset({"cond"}), frozenset()),
    "else": (frozenset(), frozenset()),
    "foreach": (frozenset({"array", "item", "index"}), frozenset()),
    "param": (frozenset({"name", "expr", "location"}), frozenset()),
    "content": (frozenset({"expr"}), frozenset()),
    "donedata": (frozenset(), frozenset()),
    "invoke": (
        frozenset(
            {"type", "typeexpr", "src", "srcexpr", "id", "idlocation", "namelist", "autoforward"}
        ),
        frozenset({"foreach", "item", "join", "count", "timeout"}),
    ),
    "finalize": (frozenset(), frozenset()),
    "script": (frozenset({"src"}), frozenset()),
}
# Elements of the af: namespace and their (unprefixed) attributes.
_AF_ELEMENTS: dict[str, frozenset[str]] = {
    "call": frozenset({"effect", "id", "result"}),
    "trigger": frozenset({"event", "filter", "key", "start"}),
    "description": frozenset(),
}
_STATE_TAGS = frozenset({"state", "parallel", "final", "history"})
_ACTION_TAGS = frozenset(
    {"assign", "raise", "send", "cancel", "log", "if", "foreach", "script", "af:call"}
)
# Children each container element may have (besides af:description where noted).
_CHILDREN: dict[str, frozenset[str]] = {
    "scxml": frozenset(
        {"state", "parallel", "final", "datamodel", "script", "af:trigger", "af:description"}
    ),
    "state": frozenset(
        {
            "onentry",
            "onexit",
            "transition",
            "initial",
            "state",
            "parallel",
            "final",
            "history",
            "datamodel",
            "invoke",
            "af:description",
        }
    ),
    "parallel": frozenset(
        {
            "onentry",
            "onexit",
            "transition",
            "state",
            "parallel",
            "history",
            "datamodel",
            "invoke",
            "af:description",
        }
    ),
    "final": frozenset({"onentry", "onexit", "donedata", "af:description"}),
    "history": frozenset({"transition", "af:description"}),
    "initial": frozenset({"transition"}),
    "datamodel": frozenset({"data"}),
    "donedata": frozenset({"content", "param"}),
    "invoke": frozenset({"param", "finalize", "content"}),
    "send": frozenset({"param", "content"}),
    "af:call": frozenset({"param"}),
    "transition": _ACTION_TAGS,
    "onentry": _ACTION_TAGS,
    "onexit": _ACTION_TAGS,
    "finalize": _ACTION_TAGS,
    "foreach": _ACTION_TAGS,
    "if": _ACTION_TAGS | {"elseif", "else"},
}

_CSS2_TIME = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|w)\s*")

# Invoke src files being loaded right now, to refuse cycles (a.scxml invokes a.scxml).
_loading: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "autoflow_scxml_loading", default=()
)


# =========================================================================== reading


def read_scxml_file(path: str) -> Chart:
    """Read the SCXML document at ``path`` (size checked, entities refused)."""
    from autoflow.model.io import check_size

    check_size(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}", Span(path)) from exc
    text = data.decode("utf-8", errors="replace")
    return _Reader(path, text).read(_parse(path, data, text, encoding=None))


def read_scxml_text(text: str, path: str = "<string>") -> Chart:
    """Read SCXML from a string; ``path`` names it in errors (and resolves ``src``)."""
    register_source(path, text)
    return _Reader(path, text).read(_parse(path, text.encode("utf-8"), text, encoding="utf-8"))


# --------------------------------------------------------------------------- XML tree


@dataclass
class _Node:
    """One XML element with its position; ``tag`` is ``name`` or ``af:name``."""

    tag: str
    foreign: bool
    attrs: dict[str, str]  # "name" for unprefixed, "af:name" for af attributes
    line: int
    col: int
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    text_line: int = 0
    text_col: int = 0
    foreign_attrs: list[str] = field(default_factory=list)

    def elements(self) -> Iterator[_Node]:
        return (child for child in self.children if not child.foreign)

    @property
    def body(self) -> str:
        return "".join(self.text)


class _TreeBuilder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.locator: Locator | None = None
        self.stack: list[_Node] = []
        self.root: _Node | None = None
        self.default_ns: str | None = SCXML_NS

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def position(self) -> tuple[int, int]:
        if self.locator is None:
            return (0, 0)
        return (self.locator.getLineNumber() or 0, (self.locator.getColumnNumber() or 0) + 1)

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        uri, local = name
        line, col = self.position()
        if self.root is None and uri is None:
            # A document without xmlns: accept it as SCXML (a common slip).
            self.default_ns = None
        if uri == self.default_ns:
            tag, foreign = local, False
        elif uri == AF_NS:
            tag, foreign = f"af:{local}", False
        else:
            tag, foreign = f"{{{uri}}}{local}", True
        values: dict[str, str] = {}
        foreign_attrs: list[str] = []
        for (attr_uri, attr_local), value in attrs.items():
            if attr_uri is None:
                values[attr_local] = value
            elif attr_uri == AF_NS:
                values[f"af:{attr_local}"] = value
            else:
                foreign_attrs.append(attr_local)
        node = _Node(tag, foreign, values, line, col, foreign_attrs=foreign_attrs)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            node = self.stack[-1]
            if not node.text:
                node.text_line, node.text_col = self.position()
            node.text.append(content)


def _parse(path: str, data: bytes, text: str, *, encoding: str | None) -> _Node:
    parser = create_parser()
    parser.setFeature(feature_namespaces, True)
    builder = _TreeBuilder()
    parser.setContentHandler(builder)
    source = InputSource(path)
    source.setByteStream(io.BytesIO(data))
    if encoding is not None:
        source.setEncoding(encoding)
    try:
        parser.parse(source)
    except SAXParseException as exc:
        message = exc.getMessage()
        raise SourceError(
            f"malformed XML: {message}",
            Span(path, exc.getLineNumber() or 0, (exc.getColumnNumber() or 0) + 1),
            hint="check that every element is closed and attribute values are quoted",
        ) from exc
    except (EntitiesForbidden, ExternalReferenceForbidden, DTDForbidden) as exc:
        line, col = builder.position()
        what = (
            "external entity reference"
            if isinstance(exc, ExternalReferenceForbidden)
            else ("entity declaration")
        )
        name = getattr(exc, "name", None)
        found = _find_on_line(text, line, "<!ENTITY")
        if found is not None and not isinstance(exc, ExternalReferenceForbidden):
            col = found
        raise SourceError(
            f"{what}{f' {name!r}' if name else ''} refused: autoflow does not expand XML "
            "entities (they allow 'billion laughs' and external-file attacks)",
            Span(path, line, col),
            hint="remove the <!DOCTYPE ...> entity declarations and write the text out",
        ) from exc
    except DefusedXmlException as exc:  # pragma: no cover - other defusedxml refusals
        line, col = builder.position()
        raise SourceError(f"unsafe XML refused: {exc}", Span(path, line, col)) from exc
    if builder.root is None:  # pragma: no cover - expat reports "no element found"
        raise SourceError("empty XML document", Span(path, 1, 1))
    return builder.root


def _find_on_line(text: str, line: int, needle: str) -> int | None:
    lines = text.splitlines()
    if 0 < line <= len(lines):
        index = lines[line - 1].find(needle)
        if index >= 0:
            return index + 1
    return None


# --------------------------------------------------------------------------- positions


class _Positions:
    """Maps elements' attribute values to file positions (line, col per character)."""

    _ATTR = re.compile(r"\s+([^\s=/>]+)\s*=\s*(\"([^\"]*)\"|'([^']*)')")
    _NAME = re.compile(r"<[^\s/>]+")
    _REF = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);")

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0]
        for match in re.finditer("\n", text):
            self.line_starts.append(match.end())

    def offset(self, line: int, col: int) -> int:
        if line <= 0 or line > len(self.line_starts):
            return -1
        return self.line_starts[line - 1] + col - 1

    def line_col(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return (index + 1, offset - self.line_starts[index] + 1)

    def attribute(self, node: _Node, qname: str) -> tuple[int, list[int], int] | None:
        """Raw offset of the value of ``qname``, the raw offset of each decoded char of
        the value, and the raw offset of the attribute's name."""
        start = self.offset(node.line, node.col)
        if start < 0 or self.text[start : start + 1] != "<":
            return None
        name = self._NAME.match(self.text, start)
        if name is None:
            return None
        position = name.end()
        while True:
            match = self._ATTR.match(self.text, position)
            if match is None:
                return None
            group = 3 if match.group(3) is not None else 4
            raw_name = match.group(1)
            if raw_name == qname or (
                qname.startswith("af:") and raw_name.partition(":")[2] == qname[3:]
            ):
                value_start = match.start(group)
                offsets = self._decoded_offsets(match.group(group), value_start)
                return value_start, offsets, match.start(1)
            position = match.end()

    def _decoded_offsets(self, raw: str, base: int) -> list[int]:
        offsets: list[int] = []
        index = 0
        while index < len(raw):
            ref = self._REF.match(raw, index)
            if ref is not None:
                offsets.append(base + index)
                index = ref.end()
            elif raw.startswith("\r\n", index):
                offsets.append(base + index)
                index += 2
            else:
                offsets.append(base + index)
                index += 1
        offsets.append(base + len(raw))
        return offsets


# --------------------------------------------------------------------------- reader


@dataclass
class _PendingExpr:
    expr: Expr
    offsets: list[int] | None


class _Reader:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.positions = _Positions(text)
        self.errors: list[ModelError] = []
        self.pending: list[_PendingExpr] = []

    # ------------------------------------------------------------------ entry

    def read(self, root: _Node) -> Chart:
        if root.foreign or root.tag != "scxml":
            self.fail(
                SchemaError,
                f"expected the root element <scxml>, found <{root.tag}>",
                root,
                hint=f'an SCXML document starts with <scxml xmlns="{SCXML_NS}" version="1.0">',
            )
        try:
            chart = self.chart(root, default_name=_stem(self.path))
        except ModelError as exc:  # it stops the reading: report it after those collected
            if not self.errors:
                raise
            self.errors.append(exc)
            raise ModelErrors(self.errors) from None
        self.compile_expressions()
        if self.errors:
            if len(self.errors) == 1:
                raise self.errors[0]
            raise ModelErrors(self.errors)
        return chart

    # ------------------------------------------------------------------ errors, spans

    def span(self, node: _Node) -> Span:
        return Span(self.path, node.line, node.col)

    def attr_span(self, node: _Node, name: str, *, at_name: bool = False) -> Span:
        """Where the value of attribute ``name`` starts (or the name, with ``at_name``)."""
        located = self.positions.attribute(node, name)
        if located is None:
            return self.span(node)
        line, col = self.positions.line_col(located[2] if at_name else located[0])
        return Span(self.path, line, col)

    def fail(
        self,
        kind: type[ModelError],
        message: str,
        node: _Node,
        *,
        attr: str | None = None,
        hint: str | None = None,
    ) -> NoReturn:
        span = self.attr_span(node, attr) if attr else self.span(node)
        raise kind(message, span, hint=hint)

    def report(
        self,
        kind: type[ModelError],
        message: str,
        node: _Node,
        *,
        attr: str | None = None,
        hint: str | None = None,
        at_name: bool = False,
    ) -> None:
        span = self.attr_span(node, attr, at_name=at_name) if attr else self.span(node)
        self.errors.append(kind(message, span, hint=hint))

    def check_element(self, node: _Node) -> None:
        """Reject unknown attributes and children of a known element."""
        if node.tag.startswith("af:"):
            allowed = _AF_ELEMENTS[node.tag[3:]]
            for name in node.attrs:
                if name not in allowed:
                    self.report(
                        SchemaError,
                        f"unknown attribute {name!r} on <{node.tag}>",
                        node,
                        attr=name,
                        at_name=True,
                        hint=f"<{node.tag}> takes: {', '.join(sorted(allowed)) or 'no attributes'}",
                    )
        else:
            plain, extended = _ATTRIBUTES[node.tag]
            for name in node.attrs:
                if name.startswith("af:"):
                    if name[3:] not in extended:
                        self.report(
                            SchemaError,
                            f"unknown autoflow attribute {name!r} on <{node.tag}>",
                            node,
                            attr=name,
                            at_name=True,
                            hint="see docs/scxml.md for the af: extensions"
                            + (
                                f"; <{node.tag}> takes af:{', af:'.join(sorted(extended))}"
                                if extended
                                else ""
                            ),
                        )
                elif name not in plain:
                    self.report(
                        SchemaError,
                        f"unknown attribute {name!r} on <{node.tag}>",
                        node,
                        attr=name,
                        at_name=True,
                        hint=f"<{node.tag}> takes: {', '.join(sorted(plain)) or 'no attributes'}",
                    )
        if node.tag == "content":
            return  # its markup is checked where <content> is read
        allowed_children = _CHILDREN.get(node.tag, frozenset())
        for child in node.elements():
            if child.tag == "script":  # collected: the rest of the file is still read
                self.report(UnsupportedError, "<script> is not supported", child, hint=_SCRIPT_HINT)
            if child.tag.startswith("af:") and child.tag[3:] not in _AF_ELEMENTS:
                self.fail(
                    SchemaError,
                    f"unknown autoflow element <{child.tag}>",
                    child,
                    hint="autoflow's extensions are <af:call>, <af:trigger> and "
                    "<af:description> (see docs/scxml.md)",
                )
            if not child.tag.startswith("af:") and child.tag not in _ATTRIBUTES:
                self.fail(
                    UnsupportedError,
                    f"unsupported SCXML element <{child.tag}>",
                    child,
                    hint="autoflow reads the SCXML 1.0 elements listed in docs/scxml.md",
                )
            if child.tag not in allowed_children:
                self.fail(
                    SchemaError,
                    f"<{child.tag}> is not allowed inside <{node.tag}>",
                    child,
                    hint=f"<{node.tag}> may contain: "
                    + (", ".join(f"<{tag}>" for tag in sorted(allowed_children)) or "nothing"),
                )

    def require(self, node: _Node, name: str) -> str:
        value = node.attrs.get(name)
        if value is None:
            self.fail(SchemaError, f"<{node.tag}> needs a {name!r} attribute", node)
        return value

    def exclusive(self, node: _Node, *names: str, required: bool = False) -> str | None:
        present = [name for name in names if name in node.attrs]
        if len(present) > 1:
            self.fail(
                SchemaError,
                f"<{node.tag}> takes only one of {', '.join(repr(n) for n in names)}",
                node,
                attr=present[1],
            )
        if required and not present:
            self.fail(
                SchemaError,
                f"<{node.tag}> needs one of {', '.join(repr(n) for n in names)}",
                node,
            )
        return present[0] if present else None

    # ------------------------------------------------------------------ expressions

    def expr(self, node: _Node, name: str) -> Expr:
        """The CEL expression in attribute ``name`` (compiled after reading)."""
        value = node.attrs[name]
        located = self.positions.attribute(node, name)
        if located is None:
            result = Expr(value, self.span(node))
            self.pending.append(_PendingExpr(result, None))
            return result
        line, col = self.positions.line_col(located[0])
        result = Expr(value, Span(self.path, line, col))
        offsets = located[1] if len(located[1]) == len(value) + 1 else None
        self.pending.append(_PendingExpr(result, offsets))
        return result

    def optional_expr(self, node: _Node, name: str) -> Expr | None:
        return self.expr(node, name) if name in node.attrs else None

    def literal(self, node: _Node) -> Expr:
        """Inline content: JSON is read as that value, other text as a string."""
        text = node.body.strip()
        try:
            value = json.loads(text)
        except ValueError:
            source = cel_literal(" ".join(text.split()))
        else:
            source = cel_literal(value)
        line = node.text_line or node.line
        col = node.text_col or node.col
        return Expr(source, Span(self.path, line, col))

    def compile_expressions(self) -> None:
        for pending in self.pending:
            try:
                pending.expr.program  # noqa: B018 - compiling is the point
            except ExpressionError as exc:
                self.errors.append(self._remap(exc, pending))

    def _remap(self, exc: ExpressionError, pending: _PendingExpr) -> ExpressionError:
        """Point an error inside an attribute value at the right raw character."""
        base = pending.expr.span
        where = exc.span
        if pending.offsets is None or where is None or where.line != base.line:
            return exc
        offset = where.col - base.col
        if not 0 <= offset < len(pending.offsets) or offset == 0:
            return exc
        line, col = self.positions.line_col(pending.offsets[offset])
        if (line, col) == (where.line, where.col):
            return exc
        remapped = ExpressionError(exc.message, Span(self.path, line, col), hint=exc.hint)
        remapped.__cause__ = exc
        return remapped

    # ------------------------------------------------------------------ chart

    def chart(self, node: _Node, default_name: str) -> Chart:
        self.check_element(node)
        datamodel_kind = node.attrs.get("datamodel", "cel")
        if datamodel_kind not in ("cel", "null"):
            self.fail(
                UnsupportedError,
                f"datamodel {datamodel_kind!r} is not supported",
                node,
                attr="datamodel",
                hint='autoflow evaluates CEL: use datamodel="cel" (or "null") and write '
                "conditions and values as CEL expressions",
            )
        binding = node.attrs.get("binding", "early")
        if binding not in ("early", "late"):
            self.fail(
                SchemaError,
                f"binding must be 'early' or 'late', not {binding!r}",
                node,
                attr="binding",
            )
        version = node.attrs.get("version")
        if version is not None and version != "1.0":
            self.report(
                SchemaError,
                f"unsupported SCXML version {version!r}",
                node,
                attr="version",
                hint='write version="1.0"',
            )
        ids = _explicit_ids(node)
        namer = _IdMaker(ids)
        states = tuple(
            self.state(child, namer, (index,))
            for index, child in enumerate(_state_children(node), start=1)
        )
        if not states:
            self.fail(
                SchemaError,
                "<scxml> has no states",
                node,
                hint="add at least one <state>, <parallel> or <final>",
            )
        datamodel = self.datamodels(node)
        triggers = tuple(
            self.trigger(child) for child in node.elements() if child.tag == "af:trigger"
        )
        initial = self.initial_attr(node, states)
        chart = Chart(
            name=node.attrs.get("name", default_name),
            states=states,
            initial=initial,
            datamodel=datamodel,
            datamodel_kind=datamodel_kind,
            binding=binding,
            triggers=triggers,
            description=self.description(node),
            span=self.span(node),
        )
        self.check_references(chart, node)
        return chart

    def description(self, node: _Node) -> str | None:
        found = [child for child in node.elements() if child.tag == "af:description"]
        if not found:
            return None
        if len(found) > 1:
            self.report(SchemaError, "only one <af:description> is allowed here", found[1])
        self.check_element(found[0])
        return found[0].body

    def datamodels(self, node: _Node) -> tuple[Data, ...]:
        result: list[Data] = []
        for child in node.elements():
            if child.tag == "datamodel":
                self.check_element(child)
                result.extend(self.data(item) for item in child.elements())
        return tuple(result)

    def data(self, node: _Node) -> Data:
        self.check_element(node)
        data_id = self.require(node, "id")
        if "expr" in node.attrs and "src" in node.attrs:
            self.fail(SchemaError, "<data> takes only one of 'expr' and 'src'", node, attr="src")
        expr = self.optional_expr(node, "expr")
        if expr is None and node.body.strip():
            if "src" in node.attrs:
                self.fail(SchemaError, "<data> takes either 'src' or content, not both", node)
            expr = self.literal(node)
        if "src" in node.attrs:
            # Loaded now, so that running the chart needs no I/O (the engine is pure).
            expr = self.data_src(node, node.attrs["src"])
        enum: tuple[Any, ...] | None = None
        if "af:enum" in node.attrs:
            try:
                values = json.loads(node.attrs["af:enum"])
            except ValueError as exc:
                self.fail(
                    SchemaError,
                    f"af:enum is not a JSON list: {exc}",
                    node,
                    attr="af:enum",
                    hint="""write it as JSON, e.g. af:enum='["open", "closed"]'""",
                )
            if not isinstance(values, list):
                self.fail(SchemaError, "af:enum must be a JSON list", node, attr="af:enum")
            enum = tuple(values)
        return Data(
            id=data_id,
            expr=expr,
            type=node.attrs.get("af:type"),
            enum=enum,
            minimum=self.integer(node, "af:minimum"),
            maximum=self.integer(node, "af:maximum"),
            span=self.span(node),
        )

    def data_src(self, node: _Node, src: str) -> Expr:
        """The value of ``<data src>``: the file's JSON value, or its text as a string."""
        from autoflow.model.io import MAX_MODEL_BYTES

        resolved = self.resolve(src)
        try:
            with Path(resolved).open("rb") as handle:
                raw = handle.read(MAX_MODEL_BYTES + 1)
        except OSError as exc:
            self.fail(
                ModelReferenceError,
                f"data src {src!r}: cannot read {resolved!r} ({exc.strerror})",
                node,
                attr="src",
                hint="src is resolved relative to this file",
            )
        if len(raw) > MAX_MODEL_BYTES:
            self.fail(
                SourceError,
                f"data src {src!r} is over the {MAX_MODEL_BYTES}-byte limit",
                node,
                attr="src",
            )
        text = raw.decode("utf-8", errors="replace").strip()
        try:
            value = json.loads(text)
        except ValueError:
            return Expr(cel_literal(text), self.span(node))
        return Expr(cel_literal(value), self.span(node))

    def resolve(self, src: str) -> str:
        """A ``src`` path (``file:`` prefix optional) relative to this document."""
        location = src.removeprefix("file:")
        base = Path(self.path).parent if not self.path.startswith("<") else Path()
        return str(base / location)

    def integer(self, node: _Node, name: str) -> int | None:
        if name not in node.attrs:
            return None
        try:
            return int(node.attrs[name])
        except ValueError:
            self.fail(
                SchemaError, f"{name} must be an integer, not {node.attrs[name]!r}", node, attr=name
            )

    def trigger(self, node: _Node) -> Trigger:
        self.check_element(node)
        start = node.attrs.get("start", "false")
        if start not in ("true", "false"):
            self.fail(
                SchemaError, f"start must be 'true' or 'false', not {start!r}", node, attr="start"
            )
        return Trigger(
            events=tuple(self.require(node, "event").split()),
            filter=self.optional_expr(node, "filter"),
            key=self.optional_expr(node, "key"),
            start=start == "true",
            span=self.span(node),
        )

    # ------------------------------------------------------------------ states

    def state(self, node: _Node, namer: _IdMaker, position: tuple[int, ...]) -> State:
        self.check_element(node)
        state_id = node.attrs.get("id") or namer.make(node.tag, position)
        span = self.span(node)
        children = tuple(
            self.state(child, namer, (*position, index))
            for index, child in enumerate(_state_children(node), start=1)
        )
        on_entry = tuple(self.block(child) for child in node.elements() if child.tag == "onentry")
        on_exit = tuple(self.block(child) for child in node.elements() if child.tag == "onexit")
        transitions = tuple(
            self.transition(child) for child in node.elements() if child.tag == "transition"
        )
        description = self.description(node)
        if node.tag == "history":
            kind = node.attrs.get("type", "shallow")
            if kind not in ("shallow", "deep"):
                self.fail(
                    SchemaError,
                    f"history type must be 'shallow' or 'deep', not {kind!r}",
                    node,
                    attr="type",
                )
            if len(transitions) > 1:
                self.fail(SchemaError, "a <history> has at most one default <transition>", node)
            for transition, child in zip(
                transitions, [c for c in node.elements() if c.tag == "transition"], strict=True
            ):
                if transition.events or transition.guard is not None or transition.timer:
                    self.fail(
                        SchemaError,
                        "the default transition of a <history> has no event or condition",
                        child,
                    )
            return State(
                id=state_id,
                kind=StateKind.HISTORY,
                transitions=transitions,
                history=HistoryKind(kind),
                description=description,
                span=span,
            )
        datamodel = self.datamodels(node)
        if node.tag == "final":
            donedata_nodes = [child for child in node.elements() if child.tag == "donedata"]
            if len(donedata_nodes) > 1:
                self.fail(SchemaError, "a <final> has at most one <donedata>", donedata_nodes[1])
            return State(
                id=state_id,
                kind=StateKind.FINAL,
                on_entry=on_entry,
                on_exit=on_exit,
                donedata=self.donedata(donedata_nodes[0]) if donedata_nodes else None,
                description=description,
                span=span,
            )
        invokes = tuple(self.invoke(child) for child in node.elements() if child.tag == "invoke")
        if node.tag == "parallel":
            return State(
                id=state_id,
                kind=StateKind.PARALLEL,
                children=children,
                transitions=transitions,
                on_entry=on_entry,
                on_exit=on_exit,
                datamodel=datamodel,
                invokes=invokes,
                description=description,
                span=span,
            )
        initial_nodes = [child for child in node.elements() if child.tag == "initial"]
        proper = [child for child in children if child.kind is not StateKind.HISTORY]
        initial: Transition | None = None
        if initial_nodes and "initial" in node.attrs:
            self.fail(
                SchemaError,
                "a <state> takes an 'initial' attribute or an <initial> element, not both",
                initial_nodes[0],
            )
        if len(initial_nodes) > 1:
            self.fail(SchemaError, "a <state> has at most one <initial>", initial_nodes[1])
        if (initial_nodes or "initial" in node.attrs) and not proper:
            self.fail(
                SchemaError,
                "an atomic state cannot have an initial state",
                node,
                attr="initial" if "initial" in node.attrs else None,
            )
        if children and not proper:
            self.fail(SchemaError, "a compound state needs a child state besides <history>", node)
        if initial_nodes:
            initial = self.initial_element(initial_nodes[0])
        elif proper:
            initial = self.initial_attr(node, proper)
        return State(
            id=state_id,
            kind=StateKind.COMPOUND if proper else StateKind.ATOMIC,
            children=children,
            initial=initial,
            transitions=transitions,
            on_entry=on_entry,
            on_exit=on_exit,
            datamodel=datamodel,
            invokes=invokes,
            description=description,
            span=span,
        )

    def initial_attr(self, node: _Node, children: tuple[State, ...] | list[State]) -> Transition:
        if "initial" in node.attrs:
            targets = tuple(node.attrs["initial"].split())
            if not targets:
                self.fail(SchemaError, "'initial' names no state", node, attr="initial")
            return Transition(targets=targets, span=self.attr_span(node, "initial"))
        return Transition(targets=(children[0].id,), span=self.span(node))

    def initial_element(self, node: _Node) -> Transition:
        self.check_element(node)
        transitions = [child for child in node.elements() if child.tag == "transition"]
        if len(transitions) != 1:
            self.fail(SchemaError, "<initial> must contain exactly one <transition>", node)
        transition = self.transition(transitions[0])
        if transition.events or transition.guard is not None or transition.timer is not None:
            self.fail(
                SchemaError,
                "the <transition> of an <initial> has no event or condition",
                transitions[0],
            )
        if not transition.targets:
            self.fail(
                SchemaError, "the <transition> of an <initial> needs a target", transitions[0]
            )
        return transition

    def transition(self, node: _Node) -> Transition:
        self.check_element(node)
        kind = node.attrs.get("type", "external")
        if kind not in ("external", "internal"):
            self.fail(
                SchemaError,
                f"transition type must be 'external' or 'internal', not {kind!r}",
                node,
                attr="type",
            )
        timer_attr = self.exclusive(node, "af:after", "af:at")
        timer: Timer | None = None
        if timer_attr is not None:
            if "event" in node.attrs:
                self.fail(
                    SchemaError,
                    f"a timer transition ({timer_attr}) has no 'event'",
                    node,
                    attr="event",
                    hint="the timer's expiry is the transition's trigger",
                )
            timer = Timer(
                TimerKind.AFTER if timer_attr == "af:after" else TimerKind.AT,
                self.expr(node, timer_attr),
                span=self.attr_span(node, timer_attr),
            )
        return Transition(
            events=tuple(node.attrs.get("event", "").split()),
            guard=self.optional_expr(node, "cond"),
            targets=tuple(node.attrs.get("target", "").split()),
            kind=TransitionKind(kind),
            actions=self.actions(node),
            timer=timer,
            span=self.span(node),
        )

    def donedata(self, node: _Node) -> DoneData:
        self.check_element(node)
        contents = [child for child in node.elements() if child.tag == "content"]
        params = tuple(self.param(child) for child in node.elements() if child.tag == "param")
        if contents and params:
            self.fail(SchemaError, "<donedata> takes <content> or <param>s, not both", node)
        if len(contents) > 1:
            self.fail(SchemaError, "<donedata> takes one <content>", contents[1])
        return DoneData(
            content=self.content(contents[0]) if contents else None,
            params=params,
            span=self.span(node),
        )

    def content(self, node: _Node) -> Expr:
        self.check_element(node)
        if any(True for _ in node.elements()) or any(child.foreign for child in node.children):
            self.fail(
                UnsupportedError,
                "XML markup inside <content> is only supported for an "
                "inline <scxml> of an <invoke>",
                node,
                hint="give the value as a CEL expression: <content expr='...'/>",
            )
        if "expr" in node.attrs:
            if node.body.strip():
                self.fail(SchemaError, "<content> takes 'expr' or a body, not both", node)
            return self.expr(node, "expr")
        return self.literal(node)

    def param(self, node: _Node) -> Param:
        self.check_element(node)
        name = self.require(node, "name")
        which = self.exclusive(node, "expr", "location", required=True)
        assert which is not None
        return Param(name, self.expr(node, which), span=self.span(node))

    def invoke(self, node: _Node) -> Invoke:
        self.check_element(node)
        for pair in (("type", "typeexpr"), ("src", "srcexpr"), ("id", "idlocation")):
            self.exclusive(node, *pair)
        invoke_type = node.attrs.get("type")
        if invoke_type is not None and invoke_type.rstrip("/") not in (
            "scxml",
            "http://www.w3.org/TR/scxml",
        ):
            self.fail(
                UnsupportedError,
                f"invoke type {invoke_type!r} is not supported",
                node,
                attr="type",
                hint="autoflow invokes SCXML charts only: omit the type",
            )
        autoforward = node.attrs.get("autoforward", "false")
        if autoforward not in ("true", "false"):
            self.fail(
                SchemaError,
                f"autoforward must be 'true' or 'false', not {autoforward!r}",
                node,
                attr="autoforward",
            )
        contents = [child for child in node.elements() if child.tag == "content"]
        params = tuple(self.param(child) for child in node.elements() if child.tag == "param")
        finalizes = [child for child in node.elements() if child.tag == "finalize"]
        if len(contents) > 1 or len(finalizes) > 1:
            self.fail(
                SchemaError,
                "<invoke> takes at most one <content> and one <finalize>",
                (contents[1:] or finalizes[1:])[0],
            )
        chart: Chart | None = None
        src = node.attrs.get("src")
        if contents:
            content = contents[0]
            self.check_element(content)
            if src is not None or "srcexpr" in node.attrs:
                self.fail(
                    SchemaError, "<invoke> takes 'src' or inline <content>, not both", content
                )
            inner = list(content.elements())
            if "expr" in content.attrs or len(inner) != 1 or inner[0].tag != "scxml":
                self.fail(
                    UnsupportedError,
                    "the <content> of an <invoke> must be one inline <scxml> chart",
                    content,
                    hint="write the child chart inside <content>, or name its file with src",
                )
            chart = self.chart(inner[0], default_name=node.attrs.get("id", "child"))
        elif src is not None:
            chart = self.load_src(node, src)
        join: Join | None = None
        join_kind = node.attrs.get("af:join")
        if join_kind is not None:
            if join_kind not in ("all", "any", "count"):
                self.fail(
                    SchemaError,
                    f"af:join must be 'all', 'any' or 'count', not {join_kind!r}",
                    node,
                    attr="af:join",
                )
            count = self.optional_expr(node, "af:count")
            if (join_kind == "count") != (count is not None):
                self.fail(
                    SchemaError,
                    "af:count goes with af:join='count' (and only with it)",
                    node,
                    attr="af:count" if count is not None else "af:join",
                )
            join = Join(
                JoinKind(join_kind),
                count,
                self.optional_expr(node, "af:timeout"),
                span=self.attr_span(node, "af:join"),
            )
        elif "af:count" in node.attrs or "af:timeout" in node.attrs:
            self.fail(
                SchemaError,
                "af:count and af:timeout need af:join",
                node,
                attr="af:count" if "af:count" in node.attrs else "af:timeout",
            )
        if ("af:foreach" in node.attrs) != ("af:item" in node.attrs):
            self.fail(
                SchemaError,
                "af:foreach and af:item go together",
                node,
                attr="af:foreach" if "af:foreach" in node.attrs else "af:item",
            )
        return Invoke(
            id=node.attrs.get("id"),
            idlocation=node.attrs.get("idlocation"),
            type=invoke_type,
            typeexpr=self.optional_expr(node, "typeexpr"),
            src=src,
            srcexpr=self.optional_expr(node, "srcexpr"),
            chart=chart,
            params=params,
            namelist=tuple(node.attrs.get("namelist", "").split()),
            autoforward=autoforward == "true",
            finalize=self.block(finalizes[0]) if finalizes else (),
            foreach=self.optional_expr(node, "af:foreach"),
            item=node.attrs.get("af:item"),
            join=join,
            span=self.span(node),
        )

    def load_src(self, node: _Node, src: str) -> Chart:
        from autoflow.model.io import load

        resolved = self.resolve(src)
        loading = (*_loading.get(), self.path)
        if str(Path(resolved).resolve()) in {str(Path(item).resolve()) for item in loading}:
            self.fail(
                ModelReferenceError,
                f"invoke src {src!r} invokes itself (a cycle)",
                node,
                attr="src",
            )
        if not Path(resolved).is_file():
            self.fail(
                ModelReferenceError,
                f"invoke src {src!r}: no such file {resolved!r}",
                node,
                attr="src",
                hint="src is resolved relative to this file",
            )
        token = _loading.set(loading)
        try:
            model = load(resolved)
        finally:
            _loading.reset(token)
        if not isinstance(model, Chart):
            self.fail(SchemaError, f"invoke src {src!r} is not a statechart", node, attr="src")
        return model

    # ------------------------------------------------------------------ actions

    def block(self, node: _Node) -> tuple[Action, ...]:
        """The actions of an <onentry>, <onexit> or <finalize>."""
        self.check_element(node)
        return self.actions(node)

    def actions(self, node: _Node) -> tuple[Action, ...]:
        return tuple(
            self.action(child)
            for child in node.elements()
            if child.tag in _ACTION_TAGS and child.tag != "script"  # reported, never run
        )

    def action(self, node: _Node) -> Action:
        reader: Callable[[_Node], Action] = {
            "assign": self.assign,
            "raise": self.raise_,
            "send": self.send,
            "cancel": self.cancel,
            "log": self.log,
            "if": self.if_,
            "foreach": self.foreach,
            "af:call": self.call,
        }[node.tag]
        return reader(node)

    def assign(self, node: _Node) -> Action:
        self.check_element(node)
        location = self.require(node, "location")
        if "expr" in node.attrs:
            if node.body.strip():
                self.fail(SchemaError, "<assign> takes 'expr' or a body, not both", node)
            value = self.expr(node, "expr")
        elif node.body.strip():
            value = self.literal(node)
        else:
            self.fail(SchemaError, "<assign> needs an 'expr' attribute", node)
        return Assign(location, value, span=self.span(node))

    def raise_(self, node: _Node) -> Action:
        self.check_element(node)
        return Raise(self.require(node, "event"), span=self.span(node))

    def send(self, node: _Node) -> Action:
        self.check_element(node)
        for pair in (
            ("event", "eventexpr"),
            ("target", "targetexpr"),
            ("type", "typeexpr"),
            ("id", "idlocation"),
            ("delay", "delayexpr"),
        ):
            self.exclusive(node, *pair)
        contents = [child for child in node.elements() if child.tag == "content"]
        params = tuple(self.param(child) for child in node.elements() if child.tag == "param")
        if contents and (params or "namelist" in node.attrs):
            self.fail(SchemaError, "<send> takes <content> or namelist/<param>, not both", node)
        if len(contents) > 1:
            self.fail(SchemaError, "<send> takes one <content>", contents[1])
        if not contents and "event" not in node.attrs and "eventexpr" not in node.attrs:
            self.fail(SchemaError, "<send> needs 'event', 'eventexpr' or <content>", node)
        delay: Expr | None = None
        if "delay" in node.attrs:
            seconds = _css2_seconds(node.attrs["delay"])
            if seconds is None:
                self.fail(
                    SchemaError,
                    f"invalid delay {node.attrs['delay']!r}",
                    node,
                    attr="delay",
                    hint="write a CSS2 time such as 500ms or 2s (autoflow "
                    "also accepts m, h, d, w), or use delayexpr with a CEL duration",
                )
            delay = Expr(duration_cel(seconds), self.attr_span(node, "delay"))
        elif "delayexpr" in node.attrs:
            delay = self.expr(node, "delayexpr")
        return Send(
            event=node.attrs.get("event"),
            eventexpr=self.optional_expr(node, "eventexpr"),
            target=node.attrs.get("target"),
            targetexpr=self.optional_expr(node, "targetexpr"),
            type=node.attrs.get("type"),
            typeexpr=self.optional_expr(node, "typeexpr"),
            id=node.attrs.get("id"),
            idlocation=node.attrs.get("idlocation"),
            delay=delay,
            namelist=tuple(node.attrs.get("namelist", "").split()),
            params=params,
            content=self.content(contents[0]) if contents else None,
            span=self.span(node),
        )

    def cancel(self, node: _Node) -> Action:
        self.check_element(node)
        self.exclusive(node, "sendid", "sendidexpr", required=True)
        return Cancel(
            sendid=node.attrs.get("sendid"),
            sendidexpr=self.optional_expr(node, "sendidexpr"),
            span=self.span(node),
        )

    def log(self, node: _Node) -> Action:
        self.check_element(node)
        return Log(node.attrs.get("label"), self.optional_expr(node, "expr"), span=self.span(node))

    def if_(self, node: _Node) -> Action:
        self.check_element(node)
        branches: list[Branch] = []
        cond: Expr | None = self.expr(node, "cond") if "cond" in node.attrs else None
        if cond is None:
            self.fail(SchemaError, "<if> needs a 'cond' attribute", node)
        head = node
        actions: list[Action] = []
        seen_else = False
        for child in node.elements():
            if child.tag in ("elseif", "else"):
                self.check_element(child)
                if seen_else:
                    self.fail(
                        SchemaError,
                        f"<{child.tag}> after <else>",
                        child,
                        hint="<else> must be the last branch of an <if>",
                    )
                branches.append(Branch(cond, tuple(actions), span=self.span(head)))
                actions = []
                head = child
                if child.tag == "elseif":
                    cond = self.expr(child, "cond") if "cond" in child.attrs else None
                    if cond is None:
                        self.fail(SchemaError, "<elseif> needs a 'cond' attribute", child)
                else:
                    cond, seen_else = None, True
            elif child.tag != "script":  # reported, never run
                actions.append(self.action(child))
        branches.append(Branch(cond, tuple(actions), span=self.span(head)))
        return If(tuple(branches), span=self.span(node))

    def foreach(self, node: _Node) -> Action:
        self.check_element(node)
        self.require(node, "array")
        body = self.actions(node)
        return Foreach(
            array=self.expr(node, "array"),
            item=self.require(node, "item"),
            index=node.attrs.get("index"),
            actions=body,
            span=self.span(node),
        )

    def call(self, node: _Node) -> Action:
        self.check_element(node)
        return Call(
            effect=self.require(node, "effect"),
            args=tuple(self.param(child) for child in node.elements() if child.tag == "param"),
            id=node.attrs.get("id"),
            result=node.attrs.get("result"),
            span=self.span(node),
        )

    # ------------------------------------------------------------------ references

    def check_references(self, chart: Chart, node: _Node) -> None:
        """Duplicate ids, unknown targets, initial states outside their parent."""
        seen: dict[str, State] = {}
        for state in walk_states(chart.states):
            if state.id in seen:
                self.errors.append(
                    ModelReferenceError(
                        f"duplicate state id {state.id!r} (first defined at {seen[state.id].span})",
                        state.span,
                        hint="state ids are unique across the whole chart",
                    )
                )
            else:
                seen[state.id] = state

        def check(transition: Transition, owner: State | None) -> None:
            for target in transition.targets:
                if target not in seen:
                    known = ", ".join(sorted(seen)) if len(seen) <= 12 else "see the state ids"
                    self.errors.append(
                        ModelReferenceError(
                            f"unknown target state {target!r}",
                            transition.span,
                            hint=f"known states: {known}",
                        )
                    )

        check(chart.initial, None)
        for state in walk_states(chart.states):
            for transition in state.transitions:
                check(transition, state)
            if state.initial is not None:
                check(state.initial, state)
                descendants = {child.id for child in walk_states(state.children)}
                for target in state.initial.targets:
                    if target in seen and target not in descendants:
                        self.errors.append(
                            ModelReferenceError(
                                f"initial state {target!r} is not inside {state.id!r}",
                                state.initial.span,
                                hint="the initial state of a compound state is one of its "
                                "descendants",
                            )
                        )


class _IdMaker:
    """Ids for states written without one: ``_<tag>_<path>`` (``_state_2_1`` is the
    first child of the second top-level state), made unique against explicit ids."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def make(self, tag: str, position: tuple[int, ...]) -> str:
        candidate = f"_{tag}_{'_'.join(str(index) for index in position)}"
        while candidate in self.taken:
            candidate += "_"
        self.taken.add(candidate)
        return candidate


def _explicit_ids(root: _Node) -> set[str]:
    ids: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag in _STATE_TAGS and "id" in node.attrs:
            ids.add(node.attrs["id"])
        # Inline child charts have their own id space.
        stack.extend(child for child in node.elements() if child.tag != "invoke")
    return ids


def _state_children(node: _Node) -> list[_Node]:
    return [child for child in node.elements() if child.tag in _STATE_TAGS]


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in (".scxml.xml", ".scxml", ".xml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name.strip("<>") or "chart"


def _css2_seconds(text: str) -> float | None:
    match = _CSS2_TIME.fullmatch(text)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "ms" else number * UNITS[unit]


# --------------------------------------------------------------------------- CEL literals


# =========================================================================== writing


@dataclass
class _El:
    tag: str
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list[_El] = field(default_factory=list)
    text: str | None = None

    def set(self, name: str, value: str | None) -> _El:
        if value is not None:
            self.attrs.append((name, value))
        return self

    def add(self, child: _El) -> _El:
        self.children.append(child)
        return child


def write_scxml(chart: Chart) -> str:
    """SCXML text for ``chart``; :func:`read_scxml_text` of it gives an equal chart.

    Raises :class:`~autoflow.errors.UnsupportedError` for the few IR shapes SCXML
    cannot hold (a chart-level initial transition with actions, a final state
    with transitions).
    """
    root = _Writer().chart(chart)
    uses_af = _uses_af(root)
    root.attrs.insert(0, ("xmlns", SCXML_NS))
    if uses_af:
        root.attrs.insert(1, ("xmlns:af", AF_NS))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    _serialize(root, 0, lines)
    return "\n".join(lines) + "\n"


def _uses_af(element: _El) -> bool:
    if element.tag.startswith("af:") or any(name.startswith("af:") for name, _ in element.attrs):
        return True
    return any(_uses_af(child) for child in element.children)


def _escape_text(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _quote_attr(value: str) -> str:
    escaped = (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )
    if '"' in escaped and "'" not in escaped:
        return f"'{escaped}'"
    return '"' + escaped.replace('"', "&quot;") + '"'


def _serialize(element: _El, depth: int, lines: list[str]) -> None:
    indent = "  " * depth
    attrs = "".join(f" {name}={_quote_attr(value)}" for name, value in element.attrs)
    if element.text is not None:
        lines.append(f"{indent}<{element.tag}{attrs}>{_escape_text(element.text)}</{element.tag}>")
    elif not element.children:
        lines.append(f"{indent}<{element.tag}{attrs}/>")
    else:
        lines.append(f"{indent}<{element.tag}{attrs}>")
        for child in element.children:
            _serialize(child, depth + 1, lines)
        lines.append(f"{indent}</{element.tag}>")


class _Writer:
    def chart(self, chart: Chart) -> _El:
        root = _El("scxml").set("version", "1.0").set("name", chart.name)
        root.set("datamodel", chart.datamodel_kind)
        if chart.binding != "early":
            root.set("binding", chart.binding)
        initial = chart.initial
        if (
            initial.actions
            or initial.events
            or initial.guard is not None
            or initial.timer is not None
            or initial.kind is not TransitionKind.EXTERNAL
        ):
            raise UnsupportedError(
                "SCXML cannot express a chart-level initial transition with actions, events, "
                "a guard, a timer or type internal",
                chart.span,
            )
        if not chart.states or initial.targets != (chart.states[0].id,):
            root.set("initial", " ".join(initial.targets))
        self.description(root, chart.description)
        for trigger in chart.triggers:
            element = root.add(_El("af:trigger")).set("event", " ".join(trigger.events))
            element.set("filter", _source(trigger.filter)).set("key", _source(trigger.key))
            if trigger.start:
                element.set("start", "true")
        self.datamodel(root, chart.datamodel)
        for state in chart.states:
            root.add(self.state(state))
        return root

    def description(self, parent: _El, text: str | None) -> None:
        if text is not None:
            parent.add(_El("af:description", text=text))

    def datamodel(self, parent: _El, datamodel: tuple[Data, ...]) -> None:
        if not datamodel:
            return
        container = parent.add(_El("datamodel"))
        for data in datamodel:
            element = container.add(_El("data")).set("id", data.id)
            element.set("expr", _source(data.expr)).set("src", data.src)
            element.set("af:type", data.type)
            if data.enum is not None:
                element.set("af:enum", json.dumps(list(data.enum), ensure_ascii=False))
            if data.minimum is not None:
                element.set("af:minimum", str(data.minimum))
            if data.maximum is not None:
                element.set("af:maximum", str(data.maximum))

    def state(self, state: State) -> _El:
        tag = {
            StateKind.ATOMIC: "state",
            StateKind.COMPOUND: "state",
            StateKind.PARALLEL: "parallel",
            StateKind.FINAL: "final",
            StateKind.HISTORY: "history",
        }[state.kind]
        element = _El(tag).set("id", state.id)
        if state.kind is StateKind.HISTORY and state.history is HistoryKind.DEEP:
            element.set("type", "deep")
        if state.kind is StateKind.FINAL and (state.transitions or state.children):
            raise UnsupportedError(
                f"final state {state.id!r} has transitions or children, which SCXML cannot express",
                state.span,
            )
        self.description(element, state.description)
        self.datamodel(element, state.datamodel)
        if state.kind is StateKind.COMPOUND and state.initial is not None:
            self.initial(element, state)
        for block in state.on_entry:
            self.actions(element.add(_El("onentry")), block)
        for block in state.on_exit:
            self.actions(element.add(_El("onexit")), block)
        for transition in state.transitions:
            element.add(self.transition(transition))
        for child in state.children:
            element.add(self.state(child))
        for invoke in state.invokes:
            element.add(self.invoke(invoke))
        if state.donedata is not None:
            donedata = element.add(_El("donedata"))
            if state.donedata.content is not None:
                donedata.add(_El("content").set("expr", state.donedata.content.source))
            self.params(donedata, state.donedata.params)
        return element

    def initial(self, element: _El, state: State) -> None:
        initial = state.initial
        assert initial is not None
        proper = [child for child in state.children if child.kind is not StateKind.HISTORY]
        simple = (
            not initial.actions
            and not initial.events
            and initial.guard is None
            and initial.timer is None
            and initial.kind is TransitionKind.EXTERNAL
        )
        if simple and proper and initial.targets == (proper[0].id,):
            return
        if simple and initial.targets:
            element.set("initial", " ".join(initial.targets))
            return
        element.add(_El("initial")).add(self.transition(initial))

    def transition(self, transition: Transition) -> _El:
        element = _El("transition")
        if transition.events:
            element.set("event", " ".join(transition.events))
        element.set("cond", _source(transition.guard))
        if transition.targets:
            element.set("target", " ".join(transition.targets))
        if transition.kind is TransitionKind.INTERNAL:
            element.set("type", "internal")
        if transition.timer is not None:
            element.set(f"af:{transition.timer.kind.value}", transition.timer.expr.source)
        self.actions(element, transition.actions)
        return element

    def params(self, parent: _El, params: tuple[Param, ...]) -> None:
        for param in params:
            parent.add(_El("param")).set("name", param.name).set("expr", param.expr.source)

    def invoke(self, invoke: Invoke) -> _El:
        element = _El("invoke")
        element.set("id", invoke.id).set("idlocation", invoke.idlocation)
        element.set("type", invoke.type).set("typeexpr", _source(invoke.typeexpr))
        element.set("src", invoke.src).set("srcexpr", _source(invoke.srcexpr))
        if invoke.namelist:
            element.set("namelist", " ".join(invoke.namelist))
        if invoke.autoforward:
            element.set("autoforward", "true")
        element.set("af:foreach", _source(invoke.foreach)).set("af:item", invoke.item)
        if invoke.join is not None:
            element.set("af:join", invoke.join.kind.value)
            element.set("af:count", _source(invoke.join.count))
            element.set("af:timeout", _source(invoke.join.timeout))
        self.params(element, invoke.params)
        if invoke.finalize:
            self.actions(element.add(_El("finalize")), invoke.finalize)
        if invoke.chart is not None and invoke.src is None:
            element.add(_El("content")).add(self.chart(invoke.chart))
        return element

    def actions(self, parent: _El, actions: tuple[Action, ...]) -> None:
        for action in actions:
            parent.add(self.action(action))

    def action(self, action: Action) -> _El:
        if isinstance(action, Assign):
            return _El("assign").set("location", action.location).set("expr", action.expr.source)
        if isinstance(action, Raise):
            return _El("raise").set("event", action.event)
        if isinstance(action, Send):
            return self.send(action)
        if isinstance(action, Cancel):
            element = _El("cancel").set("sendid", action.sendid)
            return element.set("sendidexpr", _source(action.sendidexpr))
        if isinstance(action, Log):
            return _El("log").set("label", action.label).set("expr", _source(action.expr))
        if isinstance(action, If):
            return self.if_(action)
        if isinstance(action, Foreach):
            element = _El("foreach").set("array", action.array.source).set("item", action.item)
            element.set("index", action.index)
            self.actions(element, action.actions)
            return element
        element = _El("af:call").set("effect", action.effect)
        element.set("id", action.id).set("result", action.result)
        self.params(element, action.args)
        return element

    def send(self, send: Send) -> _El:
        element = _El("send").set("event", send.event).set("eventexpr", _source(send.eventexpr))
        element.set("target", send.target).set("targetexpr", _source(send.targetexpr))
        element.set("type", send.type).set("typeexpr", _source(send.typeexpr))
        element.set("id", send.id).set("idlocation", send.idlocation)
        if send.delay is not None:
            constant = _constant_delay(send.delay.source)
            if constant is not None:
                element.set("delay", constant)
            else:
                element.set("delayexpr", send.delay.source)
        if send.namelist:
            element.set("namelist", " ".join(send.namelist))
        self.params(element, send.params)
        if send.content is not None:
            element.add(_El("content").set("expr", send.content.source))
        return element

    def if_(self, action: If) -> _El:
        if not action.branches or action.branches[0].cond is None:
            raise UnsupportedError("an <if> starts with a conditional branch", action.span)
        element = _El("if").set("cond", action.branches[0].cond.source)
        self.actions(element, action.branches[0].actions)
        for index, branch in enumerate(action.branches[1:], start=1):
            if branch.cond is None:
                if index != len(action.branches) - 1:
                    raise UnsupportedError("<else> must be the last branch", branch.span)
                element.add(_El("else"))
            else:
                element.add(_El("elseif").set("cond", branch.cond.source))
            self.actions(element, branch.actions)
        return element


def _source(expr: Expr | None) -> str | None:
    return None if expr is None else expr.source


_DURATION_LITERAL = re.compile(r'duration\("(\d+(?:\.\d+)?)s"\)')


def _constant_delay(source: str) -> str | None:
    """``duration("2s")`` written as ``delay="2s"`` when that reads back identically."""
    match = _DURATION_LITERAL.fullmatch(source)
    if match is None:
        return None
    seconds = float(match.group(1))
    if duration_cel(seconds) != source:
        return None
    return f"{match.group(1)}s"
