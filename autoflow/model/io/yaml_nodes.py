"""A typed YAML tree with exact source positions, built from ruamel.yaml's event stream.

ruamel.yaml's composed objects are loosely typed; the reader works on this small
tree instead: :class:`YMap`, :class:`YSeq` and :class:`YScalar`, each with a
:class:`~autoflow.model.span.Span`.  Building it from parser *events* (rather
than from composed nodes) lets us refuse what a workflow file must not contain
at the exact place it occurs:

* anchors and aliases (``&x`` / ``*x``) — the classic "billion laughs" bomb
  works by expanding aliases; autoflow rejects them outright;
* explicit tags (``!foo``), merge keys (``<<``), non-string keys;
* duplicate keys (both locations are reported);
* more than one document in a file;
* nesting deeper than :data:`MAX_DEPTH`.

Scalars are resolved with the YAML 1.2 core schema (``on:``/``yes:`` stay
strings, as GitLab CI authors expect); timestamps stay strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode

from autoflow.errors import ModelError, SchemaError, SourceError
from autoflow.model.span import Span

if TYPE_CHECKING:
    from autoflow.model.io.yaml_blocks import BlockScope

#: Deepest nesting of mappings and sequences accepted in a model file.
MAX_DEPTH = 64

Scalar: TypeAlias = str | int | float | bool | None

_TAG = "tag:yaml.org,2002:"
_STANDARD_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq")}


class _Mark(Protocol):
    line: int
    column: int
    index: int


@dataclass(frozen=True)
class YScalar:
    """A scalar: its resolved value, and where its text sits in the source.

    ``raw`` is the exact source text of the scalar (quotes and block indicators
    included), starting at 0-based ``line0``/``col0``; it lets the reader point
    at an expression *inside* a scalar.  ``scope`` is the block whose
    parameters apply to CEL written in this scalar (None outside blocks).
    """

    value: Scalar
    style: str | None
    span: Span
    raw: str = field(repr=False)
    line0: int = field(repr=False)
    col0: int = field(repr=False)
    scope: BlockScope | None = field(default=None, repr=False, compare=False)

    @property
    def is_str(self) -> bool:
        return isinstance(self.value, str)

    @property
    def text(self) -> str:
        """The value as text (``str`` values unchanged, others as YAML wrote them)."""
        if isinstance(self.value, str):
            return self.value
        if self.value is None:
            return "null"
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    def content_start(self) -> int:
        """Index in ``raw`` of the first character of the value."""
        if self.style in ("'", '"'):
            return 1
        if self.style in ("|", ">"):
            newline = self.raw.find("\n")
            if newline < 0:
                return len(self.raw)
            index = newline + 1
            while index < len(self.raw) and self.raw[index] in " \t":
                index += 1
            return index
        return 0

    def span_at_raw(self, index: int, length: int = 0) -> Span:
        """The span of ``raw[index:]`` (``length`` characters underlined when on one line)."""
        before = self.raw[: max(0, min(index, len(self.raw)))]
        lines = before.count("\n")
        col0 = len(before) - before.rfind("\n") - 1 if lines else self.col0 + len(before)
        line = self.line0 + lines + 1
        end = col0 + 1 + length if length > 0 else None
        return Span(self.span.path, line, col0 + 1, line if end else None, end)

    def raw_index(self, offset: int) -> int:
        """Index in ``raw`` of the character at ``offset`` in the value.

        Aligns the value with its source text, skipping what YAML removed:
        quotes, escapes, indentation and folded line breaks.  Exact for the
        usual plain, quoted and block scalars.
        """
        value = self.text
        raw = self.raw
        j = self.content_start()
        for char in value[: max(0, offset)]:
            while j < len(raw):
                if raw[j] == char:
                    j += 1
                    break
                if self.style == '"' and raw[j] == "\\":
                    j += _escape_length(raw, j)
                    break
                j += 1
        if offset < len(value) and not value[offset].isspace():
            while j < len(raw) and raw[j] in " \t\r\n" and raw[j] != value[offset]:
                j += 1
        return min(j, len(raw))

    def span_at_value(self, offset: int, length: int = 0) -> Span:
        """The span of the character at ``offset`` in the value."""
        if not self.raw:  # a synthetic scalar (block parameter placeholder)
            return self.span
        return self.span_at_raw(self.raw_index(offset), length)


def _escape_length(raw: str, index: int) -> int:
    """Length of the double-quoted escape sequence starting at ``raw[index]``."""
    kind = raw[index + 1 : index + 2]
    return {"x": 4, "u": 6, "U": 10}.get(kind, 2)


@dataclass(frozen=True)
class YEntry:
    """One ``key: value`` pair of a mapping."""

    key_node: YScalar
    value: YNode

    @property
    def key(self) -> str:
        return self.key_node.text

    @property
    def key_span(self) -> Span:
        return self.key_node.span


@dataclass(frozen=True)
class YMap:
    entries: tuple[YEntry, ...]
    span: Span
    flow: bool = False

    def get(self, key: str) -> YEntry | None:
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None

    def value(self, key: str) -> YNode | None:
        entry = self.get(key)
        return None if entry is None else entry.value

    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]

    def __iter__(self) -> Iterator[YEntry]:
        return iter(self.entries)


@dataclass(frozen=True)
class YSeq:
    items: tuple[YNode, ...]
    span: Span

    def __iter__(self) -> Iterator[YNode]:
        return iter(self.items)


YNode: TypeAlias = YMap | YSeq | YScalar


def kind_name(node: YNode) -> str:
    """How a user would call the node's type in a message."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    value = node.value
    if value is None:
        return "null (nothing)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    return "a string"


# --------------------------------------------------------------------------- parsing


def _span(path: str, start: _Mark, end: _Mark | None = None) -> Span:
    if end is not None and end.line == start.line and end.column > start.column:
        return Span(path, start.line + 1, start.column + 1, start.line + 1, end.column + 1)
    return Span(path, start.line + 1, start.column + 1)


def _resolve_scalar(value: str, tag: str) -> Scalar:
    """The Python value of a scalar whose (resolved) tag is ``tag``."""
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "bool":
        return value.lower() == "true"
    if tag == _TAG + "int":
        digits = value.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-")
        for prefix, base in (("0o", 8), ("0x", 16), ("0b", 2)):
            if digits.lower().startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits, 10)
    if tag == _TAG + "float":
        text = value.replace("_", "").lower()
        if text.lstrip("+-") in (".inf", "inf"):
            return -math.inf if text.startswith("-") else math.inf
        if text in (".nan", "nan"):
            return math.nan
        return float(text)
    return value


class _Builder:
    """Turns the event stream of one document into a tree, collecting errors."""

    def __init__(self, path: str, text: str, events: Iterator[Event]) -> None:
        self.path = path
        self.text = text
        self.events = events
        self.errors: list[ModelError] = []
        self.resolver = YAML(typ="rt").resolver
        self.keys: list[str | None] = []  # the keys whose values are being built

    def next(self) -> Event:
        return next(self.events)

    def error(self, message: str, span: Span, hint: str | None = None) -> None:
        self.errors.append(SchemaError(message, span, hint=hint))

    def build(self, event: Event, depth: int) -> YNode:
        if depth > MAX_DEPTH:
            raise SourceError(
                f"nesting is deeper than {MAX_DEPTH} levels",
                _span(self.path, event.start_mark),
                hint="flatten the structure or move a part into a block",
            )
        anchor = getattr(event, "anchor", None)
        if isinstance(event, AliasEvent) or anchor:
            raise SourceError(
                "YAML anchors and aliases (&name, *name) are not allowed in workflow files",
                _span(self.path, event.start_mark),
                hint="write the value out, or move repeated states into a block (use:)",
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            tag = str(tag)
            if tag not in _STANDARD_TAGS:
                raise SourceError(
                    f"YAML tag {tag!r} is not supported",
                    _span(self.path, event.start_mark),
                    hint="remove the tag; values are plain strings, numbers, booleans, "
                    "lists and mappings",
                )
        if isinstance(event, ScalarEvent):
            return self.scalar(event, tag)
        if isinstance(event, SequenceStartEvent):
            items: list[YNode] = []
            while True:
                item = self.next()
                if isinstance(item, SequenceEndEvent):
                    break
                items.append(self.build(item, depth + 1))
            return YSeq(tuple(items), _span(self.path, event.start_mark))
        if isinstance(event, MappingStartEvent):
            return self.mapping(event, depth)
        raise SourceError(  # pragma: no cover - the parser only yields the above here
            f"unexpected YAML event {type(event).__name__}", _span(self.path, event.start_mark)
        )

    def scalar(self, event: ScalarEvent, tag: str | None) -> YScalar:
        value: str = event.value
        if event.style == ">":  # ruamel's round-trip scanner marks fold points with BEL
            value = value.replace("\a", "")
        if tag is None:
            implicit = event.implicit
            plain = bool(implicit and implicit[0]) and event.style is None
            tag = str(self.resolver.resolve(ScalarNode, value, (plain, not plain)))
        start: _Mark = event.start_mark
        end: _Mark = event.end_mark
        return YScalar(
            value=_resolve_scalar(value, tag),
            style=event.style,
            span=_span(self.path, start, end),
            raw=self.text[start.index : end.index],
            line0=start.line,
            col0=start.column,
        )

    def mapping(self, event: MappingStartEvent, depth: int) -> YMap:
        entries: list[YEntry] = []
        seen: dict[str, Span] = {}
        while True:
            key_event = self.next()
            if isinstance(key_event, MappingEndEvent):
                break
            key = self.build(key_event, depth + 1)
            self.keys.append(
                key.value if isinstance(key, YScalar) and isinstance(key.value, str) else None
            )
            try:
                value = self.build(self.next(), depth + 1)
            finally:
                self.keys.pop()
            if not isinstance(key, YScalar) or not isinstance(key.value, str):
                where = key.span
                shown = key.text if isinstance(key, YScalar) else kind_name(key)
                hint = f"quote the key: '{shown}'" if isinstance(key, YScalar) else None
                number = isinstance(key, YScalar) and isinstance(key.value, int | float)
                if number and self.keys and self.keys[-1] == "after":
                    # a duration: quoting alone gives "30", which is no duration either
                    hint = f"a duration needs a unit: {shown}s, {shown}m, {shown}h or {shown}d"
                self.error(
                    f"mapping keys must be strings, found {kind_name(key)} key {shown!s}",
                    where,
                    hint=hint,
                )
                continue
            if key.value == "<<" and key.style is None:
                self.error(
                    "YAML merge keys (<<) are not allowed in workflow files",
                    key.span,
                    hint="write the keys out, or use a block (use:)",
                )
                continue
            if key.value in seen:
                self.errors.append(
                    SchemaError(
                        f"duplicate key {key.value!r} (first defined at {seen[key.value]})",
                        key.span,
                        hint="each key may appear once in a mapping; merge the two entries",
                    )
                )
                continue
            seen[key.value] = key.span
            entries.append(YEntry(key, value))
        return YMap(
            tuple(entries),
            _span(self.path, event.start_mark),
            flow=bool(event.flow_style),
        )


def parse_yaml(text: str, path: str) -> tuple[YNode | None, list[ModelError]]:
    """Parse one YAML document into a tree.

    Returns the tree (None for an empty document) and the recoverable errors
    (duplicate keys, non-string keys).  Unrecoverable problems — malformed
    YAML, aliases, tags, several documents, excessive nesting — raise
    :class:`~autoflow.errors.SourceError`.
    """
    yaml = YAML(typ="rt")
    events = iter(yaml.parse(text))
    builder = _Builder(path, text, events)
    root: YNode | None = None
    documents = 0
    try:
        for event in events:
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SourceError(
                        "a workflow file holds exactly one YAML document; found a second one here",
                        _span(path, event.start_mark),
                        hint="put each workflow in its own file",
                    )
                continue
            if isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent | AliasEvent):
                root = builder.build(event, 1)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = _span(path, mark) if mark is not None else Span(path)
        problem = exc.problem or exc.context or "malformed YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise SourceError(
            f"malformed YAML: {problem}{context}",
            span,
            hint="check the indentation and quoting around this position",
        ) from exc
    except RecursionError as exc:
        raise SourceError("malformed YAML: nesting too deep", Span(path, 1, 1)) from exc
    if isinstance(root, YScalar) and root.value is None:
        root = None
    return root, builder.errors
