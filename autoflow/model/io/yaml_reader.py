"""Read autoflow's native YAML workflow format (docs/format.md) into the statechart IR.

``read_yaml_file(path)`` reads a workflow (``workflow:``) or a block
(``block:``, validated on its own with default or placeholder parameters) and
returns a :class:`~autoflow.model.ir.Chart`.  Every problem found is collected
(as many as one pass can find) and raised together: one
:class:`~autoflow.errors.ModelError`, or :class:`~autoflow.errors.ModelErrors`
for several, each pointing at the exact key or value — inside an expression
for CEL errors, inside the block file (and naming the use site) for blocks.

Canonical IR, so that the same chart read from SCXML compares equal:

* transitions of a state in this order: ``on:`` entries in file order (a list
  in file order), then ``always:``, then ``after:`` timers, then ``at:``
  deadlines — whatever the order of those keys in the file;
* ``entry:``/``exit:`` lists become one block each (``on_entry=((...),)``);
  absent or empty lists become ``()``;
* literals become CEL literal text, ``${{ e }}`` becomes ``e``,
  interpolation becomes ``"text " + string(e)``; ``after: 2d`` becomes
  ``duration("172800s")``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from autoflow.errors import (
    AutoflowError,
    ExpressionError,
    ModelError,
    ModelErrors,
    ModelReferenceError,
    SchemaError,
    SourceError,
)
from autoflow.model.cel import cel_literal
from autoflow.model.cel import quote as cel_string
from autoflow.model.durations import duration_cel, parse_duration
from autoflow.model.effects import EFFECTS
from autoflow.model.io.yaml_blocks import (
    PARAM_TYPES,
    BlockScope,
    ParamDecl,
    bind_params,
    find_block_file,
    placeholder,
    rename_in_calls,
)
from autoflow.model.io.yaml_nodes import YEntry, YMap, YNode, YScalar, YSeq, kind_name, parse_yaml
from autoflow.model.io.yaml_values import (
    ExprPart,
    TemplateError,
    TextPart,
    has_template,
    split_template,
)
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
)
from autoflow.model.span import Span, register_source

__all__ = ["did_you_mean", "read_yaml_file", "read_yaml_text"]

STATE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOCATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
EVENT = re.compile(r"^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$")
SIMPLE_CEL = re.compile(r'^([A-Za-z_][A-Za-z0-9_.]*|-?[0-9.]+|"[^"\\]*")$')

WORKFLOW_KEYS = ("workflow", "description", "triggers", "data", "states", "initial")
BLOCK_KEYS = ("block", "description", "params", "data", "states", "initial")
BODY_KEYS = ("description", "data", "states", "initial", "use", "with")
TRIGGER_KEYS = ("on", "if", "key", "start")
DATA_DECL_KEYS = ("value", "expr", "type", "enum", "minimum", "maximum", "description")
DATA_TYPES = (
    "bool",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "list",
    "map",
    "timestamp",
    "duration",
    "null",
)
PARAM_KEYS = ("description", "required", "default", "type")
TRANSITION_KEYS = ("target", "if", "do", "type")
AT_KEYS = ("when", *TRANSITION_KEYS)
STATE_KEYS = (
    "description",
    "type",
    "initial",
    "states",
    "parallel",
    "entry",
    "exit",
    "on",
    "always",
    "after",
    "at",
    "use",
    "with",
    "foreach",
    "as",
    "workflow",
    "join",
    "timeout",
    "autoforward",
    "invoke",
)
FINAL_KEYS = ("description", "type", "entry", "exit", "output")
HISTORY_KEYS = ("description", "type", "history", "target")
FANOUT_KEYS = ("foreach", "as", "workflow", "join", "timeout", "autoforward")
INVOKE_KEYS = ("id", "workflow", "with", "autoforward", "finalize")
ACTION_MODIFIERS: dict[str, tuple[str, ...]] = {
    "assign": (),
    "raise": (),
    "send": (),
    "cancel": (),
    "log": ("label",),
    "if": ("then", "elif", "else"),
    "foreach": ("as", "index", "do"),
    "call": ("with", "id", "result"),
}
SEND_KEYS = ("event", "to", "type", "delay", "id", "data")


def did_you_mean(word: str | None, candidates: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest candidate, or None."""
    if not word:
        return None
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


# --------------------------------------------------------------------------- entry points


def read_yaml_file(path: str) -> Chart:
    """Read a workflow or block file; raises ModelError/ModelErrors on bad input."""
    from autoflow.model.io import check_size

    check_size(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"file is not UTF-8 text (byte {exc.start})", Span(path), hint="save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}", Span(path)) from exc
    return read_yaml_text(text, path)


def read_yaml_text(text: str, path: str) -> Chart:
    """Read workflow or block text; ``path`` names it in messages (and anchors ``use:``)."""
    register_source(path, text)
    root, errors = parse_yaml(text, path)
    reader = _Reader(errors)
    chart = reader.document(root, path)
    reader.raise_errors()
    if chart is None:  # pragma: no cover - an error was always recorded
        raise SchemaError("not a workflow", Span(path))
    return chart


# --------------------------------------------------------------------------- context


@dataclass
class _ChartScope:
    """Names of one chart: state ids are global within it and must be unique."""

    ids: dict[str, Span] = field(default_factory=dict)
    data_ids: dict[str, Span] = field(default_factory=dict)
    refs: list[tuple[str, Span, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class _Ctx:
    """Where the reader is: file, chart, block expansion (prefix, renames, use site)."""

    path: str
    chart: _ChartScope
    prefix: str = ""
    rename: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    stack: tuple[str, ...] = ()

    def state_id(self, local: str) -> str:
        return self.rename.get(local, local)


@dataclass(frozen=True)
class _Body:
    """What a workflow body or a block contributes: states, initial, data."""

    states: tuple[State, ...]
    initial: Transition | None
    data: tuple[Data, ...]


class _Reader:
    def __init__(self, errors: list[ModelError]) -> None:
        self.errors: list[ModelError] = list(errors)
        self.block_trees: dict[str, YNode | None] = {}

    # ------------------------------------------------------------------ errors

    def error(
        self,
        ctx: _Ctx,
        message: str,
        span: Span,
        hint: str | None = None,
        cls: type[ModelError] = SchemaError,
    ) -> None:
        if ctx.note:
            message = f"{message} ({ctx.note})"
        self.errors.append(cls(message, span, hint=hint))

    def raise_errors(self) -> None:
        unique: dict[tuple[str, int, int, str], ModelError] = {}
        for error in self.errors:
            span = error.span
            key = (
                span.path if span else "",
                span.line if span else 0,
                span.col if span else 0,
                error.message,
            )
            unique.setdefault(key, error)
        errors = sorted(unique.values(), key=_error_order)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ModelErrors(errors)

    # ------------------------------------------------------------------ typed access

    def keys(
        self,
        ctx: _Ctx,
        mapping: YMap,
        allowed: Collection[str],
        what: str,
        required: Collection[str] = (),
    ) -> None:
        for entry in mapping:
            if entry.key not in allowed:
                hint = did_you_mean(entry.key, allowed) or "allowed keys: " + ", ".join(allowed)
                self.error(ctx, f"unknown key {entry.key!r} in {what}", entry.key_span, hint)
        for key in required:
            if mapping.get(key) is None:
                self.error(ctx, f"{what} is missing the required key {key!r}", mapping.span, None)

    def as_map(self, ctx: _Ctx, node: YNode | None, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        if node is not None:
            self.error(ctx, f"{what} must be a mapping, found {kind_name(node)}", node.span)
        return None

    def as_list(self, ctx: _Ctx, node: YNode | None, what: str) -> tuple[YNode, ...] | None:
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return ()
        if isinstance(node, YSeq):
            return node.items
        self.error(
            ctx,
            f"{what} must be a list, found {kind_name(node)}",
            node.span,
            hint="start each item on its own line with '- '",
        )
        return None

    def as_str(self, ctx: _Ctx, node: YNode | None, what: str) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, str):
            return node.value
        if node is not None:
            self.error(ctx, f"{what} must be a string, found {kind_name(node)}", node.span)
        return None

    def as_bool(self, ctx: _Ctx, node: YNode | None, what: str) -> bool | None:
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        if node is not None:
            self.error(
                ctx,
                f"{what} must be true or false, found {kind_name(node)}",
                node.span,
            )
        return None

    def as_strings(self, ctx: _Ctx, node: YNode, what: str) -> list[YScalar] | None:
        """A string or a list of strings, as scalars."""
        items: tuple[YNode, ...] = node.items if isinstance(node, YSeq) else (node,)
        result: list[YScalar] = []
        for item in items:
            if isinstance(item, YScalar) and isinstance(item.value, str):
                result.append(item)
            else:
                self.error(
                    ctx,
                    f"{what} must be a string or a list of strings, found {kind_name(item)}",
                    item.span,
                )
                return None
        if not result:
            self.error(ctx, f"{what} must not be empty", node.span)
            return None
        return result

    # ------------------------------------------------------------------ CEL

    def compile_at(self, ctx: _Ctx, source: str, scalar: YScalar, offset: int) -> bool:
        """Compile ``source`` found at value ``offset`` of ``scalar``; report errors there."""
        from autoflow.model.cel import compile_expression

        try:
            compile_expression(source, Span(ctx.path, 1, 1))
        except ExpressionError as exc:
            where = exc.span or Span(ctx.path, 1, 1)
            position = _offset_of(source, where.line, where.col)
            length = 0
            if where.end_col is not None and where.end_line in (None, where.line):
                length = where.end_col - where.col
            span = scalar.span_at_value(offset + position, length)
            self.error(ctx, exc.message, span, exc.hint, cls=ExpressionError)
            return False
        return True

    def finish_cel(self, ctx: _Ctx, source: str, scalar: YScalar, offset: int) -> str | None:
        """Block parameters and renamed ids substituted into CEL that already compiled."""
        if scalar.scope is not None:
            result = scalar.scope.substitute(source)
            for message, position, length, hint in result.problems:
                span = scalar.span_at_value(offset + position, length)
                self.error(ctx, message, span, hint, cls=ModelReferenceError)
            if result.problems:
                return None
            source = result.text
        return rename_in_calls(source, ctx.rename)

    def expr(self, ctx: _Ctx, source: str, span: Span) -> Expr | None:
        """The final Expr, compiled (it only fails if substitution broke it)."""
        expression = Expr(source, span)
        try:
            expression.program  # noqa: B018 - compile at load time
        except ExpressionError as exc:
            self.error(
                ctx,
                f"{exc.message} (in {source!r})",
                span,
                exc.hint,
                cls=ExpressionError,
            )
            return None
        return expression

    def cel(self, ctx: _Ctx, node: YNode | None, what: str) -> Expr | None:
        """A CEL context (``if:``, ``key:``, ``foreach:``, ``when:``, ``expr:``).

        Plain CEL; a ``${{ e }}`` inside is accepted and means ``(e)`` (so block
        parameters can be written the same way everywhere).
        """
        if node is None:
            return None
        if not isinstance(node, YScalar) or node.value is None:
            self.error(
                ctx,
                f"{what} must be a CEL expression (a string), found {kind_name(node)}",
                node.span,
            )
            return None
        if not isinstance(node.value, str):
            return self.expr(ctx, cel_literal(node.value), node.span)
        text = node.value
        start_span = node.span_at_value(_leading_space(text))
        if not text.strip():
            self.error(ctx, f"{what} is empty", node.span, "write a CEL expression")
            return None
        parts: list[TextPart | ExprPart] = [TextPart(text)]
        if has_template(text):
            split = split_template(text)
            if isinstance(split, TemplateError):
                self.error(ctx, split.message, node.span_at_value(split.offset), split.hint)
                return None
            parts = split
        # Positions stay exact: ${{ and }} become same-length padding for compiling.
        padded = "".join(
            part.text
            if isinstance(part, TextPart)
            else "("
            + " " * (part.offset - _open_offset(text, part) - 1)
            + part.source
            + " " * _close_gap(text, part)
            + ")"
            for part in parts
        )
        if len(padded) == len(text):
            if not self.compile_at(ctx, padded, node, 0):
                return None
        else:  # pragma: no cover - padding keeps the length
            padded = text
        if len(parts) == 1 and isinstance(parts[0], ExprPart):
            source = parts[0].source
            start_span = node.span_at_value(parts[0].offset)
        else:
            source = "".join(
                part.text if isinstance(part, TextPart) else _paren(part.source) for part in parts
            ).strip()
        finished = self.finish_cel(ctx, source, node, 0)
        if finished is None:
            return None
        return self.expr(ctx, finished, start_span)

    def value_cel(self, ctx: _Ctx, node: YNode) -> str | None:
        """CEL text for a value under the value rule (literal, template, interpolation)."""
        if isinstance(node, YMap):
            items: list[str] = []
            for entry in node:
                value = self.value_cel(ctx, entry.value)
                if value is None:
                    return None
                items.append(f"{cel_string(entry.key)}: {value}")
            return "{" + ", ".join(items) + "}"
        if isinstance(node, YSeq):
            elements: list[str] = []
            for item in node:
                value = self.value_cel(ctx, item)
                if value is None:
                    return None
                elements.append(value)
            return "[" + ", ".join(elements) + "]"
        if not isinstance(node.value, str) or not has_template(node.value):
            return cel_literal(node.value)
        split = split_template(node.value)
        if isinstance(split, TemplateError):
            self.error(ctx, split.message, node.span_at_value(split.offset), split.hint)
            return None
        pieces: list[str] = []
        for part in split:
            if isinstance(part, TextPart):
                pieces.append(cel_string(part.text))
                continue
            if not self.compile_at(ctx, part.source, node, part.offset):
                return None
            finished = self.finish_cel(ctx, part.source, node, part.offset)
            if finished is None:
                return None
            pieces.append(finished if len(split) == 1 else f"string({finished})")
        return " + ".join(pieces)

    def value(self, ctx: _Ctx, node: YNode | None) -> Expr | None:
        """An Expr for a value under the value rule."""
        if node is None:
            return None
        source = self.value_cel(ctx, node)
        if source is None:
            return None
        span = node.span
        if isinstance(node, YScalar) and isinstance(node.value, str):
            split = split_template(node.value)
            if isinstance(split, list) and len(split) == 1 and isinstance(split[0], ExprPart):
                span = node.span_at_value(split[0].offset)
        return self.expr(ctx, source, span)

    def text_or_expr(
        self, ctx: _Ctx, node: YNode, what: str
    ) -> tuple[str | None, Expr | None] | None:
        """A name that may be computed: plain text, or ``${{ }}`` -> an expression."""
        if not isinstance(node, YScalar) or not isinstance(node.value, str):
            self.error(ctx, f"{what} must be a string, found {kind_name(node)}", node.span)
            return None
        if has_template(node.value):
            expression = self.value(ctx, node)
            return None if expression is None else (None, expression)
        return node.value, None

    def duration(self, ctx: _Ctx, node: YNode, what: str) -> Expr | None:
        """``2d`` -> ``duration("172800s")``; ``${{ e }}`` -> ``e``."""
        if isinstance(node, YScalar) and isinstance(node.value, str):
            if has_template(node.value):
                split = split_template(node.value)
                if not (
                    isinstance(split, list) and len(split) == 1 and isinstance(split[0], ExprPart)
                ):
                    self.error(
                        ctx,
                        f"{what} must be a duration like 2d or one ${{{{ expression }}}}",
                        node.span,
                    )
                    return None
                return self.value(ctx, node)
            try:
                seconds = parse_duration(node.value)
            except ValueError as exc:
                self.error(ctx, f"{what}: {exc}", node.span)
                return None
            return Expr(duration_cel(seconds), node.span)
        shown = "" if not isinstance(node, YScalar) else f" {node.text}"
        hint = (
            "add a unit: s, m, h, d or w (for example 30s)"
            if isinstance(node, YScalar) and isinstance(node.value, int | float)
            else None
        )
        self.error(
            ctx,
            f"{what} must be a duration like 2d, found {kind_name(node)}{shown}",
            node.span,
            hint,
        )
        return None

    # ------------------------------------------------------------------ documents

    def document(self, root: YNode | None, path: str) -> Chart | None:
        ctx = _Ctx(path, _ChartScope())
        if root is None:
            self.error(
                ctx,
                "empty file: expected a workflow (workflow: NAME, states: ...)",
                Span(path, 1, 1),
            )
            return None
        mapping = self.as_map(ctx, root, "a workflow file")
        if mapping is None:
            return None
        if mapping.get("block") is not None and mapping.get("workflow") is None:
            return self.standalone_block(ctx, mapping)
        if mapping.get("workflow") is None:
            self.error(
                ctx,
                "expected a workflow (a 'workflow:' key with its name) or a block ('block:')",
                mapping.span,
                hint="start the file with 'workflow: my-workflow'",
            )
            return None
        return self.workflow(ctx, mapping)

    def workflow(self, ctx: _Ctx, mapping: YMap) -> Chart | None:
        self.keys(ctx, mapping, WORKFLOW_KEYS, "a workflow", required=("workflow", "states"))
        name_node = mapping.value("workflow")
        name = self.as_str(ctx, name_node, "'workflow' (the name)") or ""
        if isinstance(name_node, YScalar) and isinstance(name_node.value, str) and not name.strip():
            self.error(ctx, "the workflow name must not be empty", name_node.span)
        description = self.description(ctx, mapping)
        triggers = self.triggers(ctx, mapping.value("triggers"))
        body = self.body(ctx, mapping, "the workflow")
        self.check_refs(ctx)
        if body is None or body.initial is None:
            return None
        return Chart(
            name=name,
            states=body.states,
            initial=body.initial,
            datamodel=body.data,
            triggers=triggers,
            description=description,
            span=mapping.span,
        )

    def description(self, ctx: _Ctx, mapping: YMap) -> str | None:
        node = mapping.value("description")
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return None
        return self.as_str(ctx, node, "'description'")

    def body(self, ctx: _Ctx, mapping: YMap, what: str) -> _Body | None:
        """``data``, ``states`` and ``initial`` of a workflow, block or child workflow."""
        data = self.data(ctx, mapping.value("data"))
        states_entry = mapping.get("states")
        if states_entry is None:
            return None
        states = self.states(ctx, states_entry, "chart")
        initial = self.initial(ctx, mapping, states, what, states_entry.key_span)
        return _Body(tuple(states), initial, data)

    def check_refs(self, ctx: _Ctx) -> None:
        for target, span, note in ctx.chart.refs:
            if target not in ctx.chart.ids:
                message = f"unknown target state {target!r}"
                if note:
                    message = f"{message} ({note})"
                self.errors.append(
                    ModelReferenceError(
                        message,
                        span,
                        hint=did_you_mean(target, ctx.chart.ids)
                        or "a target is the id of a state anywhere in this workflow",
                    )
                )

    # ------------------------------------------------------------------ triggers, data

    def triggers(self, ctx: _Ctx, node: YNode | None) -> tuple[Trigger, ...]:
        items = self.as_list(ctx, node, "'triggers'")
        result: list[Trigger] = []
        for item in items or ():
            mapping = self.as_map(ctx, item, "a trigger")
            if mapping is None:
                continue
            self.keys(ctx, mapping, TRIGGER_KEYS, "a trigger", required=("on",))
            on = mapping.value("on")
            events = self.events(ctx, on) if on is not None else None
            start = mapping.value("start")
            start_value = self.as_bool(ctx, start, "'start'") if start is not None else False
            result.append(
                Trigger(
                    events=tuple(events or ()),
                    filter=self.cel(ctx, mapping.value("if"), "'if'"),
                    key=self.cel(ctx, mapping.value("key"), "'key'"),
                    start=bool(start_value),
                    span=mapping.span,
                )
            )
        return tuple(result)

    def events(self, ctx: _Ctx, node: YNode) -> list[str] | None:
        scalars = self.as_strings(ctx, node, "'on'")
        if scalars is None:
            return None
        names: list[str] = []
        for scalar in scalars:
            names.extend(self.event_descriptors(ctx, scalar.text, scalar.span))
        return names

    def event_descriptors(self, ctx: _Ctx, text: str, span: Span) -> list[str]:
        """Space-separated event descriptors, checked, block-local ids renamed."""
        names: list[str] = []
        for name in text.split():
            if not EVENT.match(name):
                self.error(
                    ctx,
                    f"invalid event name {name!r}",
                    span,
                    "event names are dot-separated words (letters, digits, _ and -), "
                    "optionally ending in .* , or * for any event",
                )
                continue
            tokens = name.split(".")
            if len(tokens) >= 3 and tokens[0] == "done" and tokens[1] in ("state", "invoke"):
                rest = ".".join(tokens[2:])
                name = f"done.{tokens[1]}.{ctx.state_id(rest)}"
            names.append(name)
        if not text.split():
            self.error(ctx, "an event name must not be empty", span)
        return names

    def data(self, ctx: _Ctx, node: YNode | None) -> tuple[Data, ...]:
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return ()
        mapping = self.as_map(ctx, node, "'data'")
        if mapping is None:
            return ()
        result: list[Data] = []
        for entry in mapping:
            item = self.data_item(ctx, entry)
            if item is not None:
                result.append(item)
        return tuple(result)

    def data_item(self, ctx: _Ctx, entry: YEntry) -> Data | None:
        name = entry.key
        if not IDENTIFIER.match(name):
            self.error(
                ctx,
                f"invalid data name {name!r}",
                entry.key_span,
                "data names are CEL identifiers: letters, digits and _, not starting with a digit",
            )
            return None
        first = ctx.chart.data_ids.get(name)
        if first is not None:
            self.error(
                ctx,
                f"duplicate data name {name!r} (first declared at {first})",
                entry.key_span,
                cls=ModelReferenceError,
            )
            return None
        ctx.chart.data_ids[name] = entry.key_span
        node = entry.value
        declaration = isinstance(node, YMap) and any(
            node.get(key) is not None for key in ("value", "expr", "type", "enum")
        )
        if not isinstance(node, YMap) or not declaration:
            return Data(name, expr=self.value(ctx, node), span=entry.key_span)
        self.keys(ctx, node, DATA_DECL_KEYS, f"the declaration of data {name!r}")
        value_node, expr_node = node.value("value"), node.value("expr")
        if value_node is not None and expr_node is not None:
            self.error(
                ctx,
                f"data {name!r} has both 'value' and 'expr'",
                node.span,
                "'value' is a literal, 'expr' a CEL expression; keep one",
            )
        expr = (
            self.cel(ctx, expr_node, "'expr'")
            if expr_node is not None
            else self.value(ctx, value_node)
        )
        type_name = None
        type_node = node.value("type")
        if type_node is not None:
            type_name = self.as_str(ctx, type_node, "'type'")
            if type_name is not None and type_name not in DATA_TYPES:
                self.error(
                    ctx,
                    f"unknown data type {type_name!r}",
                    type_node.span,
                    did_you_mean(type_name, DATA_TYPES) or "types: " + ", ".join(DATA_TYPES),
                )
                type_name = None
        enum: tuple[object, ...] | None = None
        enum_node = node.value("enum")
        if enum_node is not None:
            enum = self.enum(ctx, enum_node)
            if (
                enum is not None
                and isinstance(value_node, YScalar)
                and not has_template(value_node.text)
                and value_node.value not in enum
            ):
                self.error(
                    ctx,
                    f"initial value {value_node.text!r} of {name!r} is not one of its enum values",
                    value_node.span,
                )
        bounds: list[int | None] = []
        for key in ("minimum", "maximum"):
            bound = node.value(key)
            if bound is None:
                bounds.append(None)
            elif isinstance(bound, YScalar) and type(bound.value) is int:
                bounds.append(bound.value)
            else:
                self.error(ctx, f"'{key}' must be an integer, found {kind_name(bound)}", bound.span)
                bounds.append(None)
        return Data(
            name,
            expr=expr,
            type=type_name,
            enum=enum,
            minimum=bounds[0],
            maximum=bounds[1],
            span=entry.key_span,
        )

    def enum(self, ctx: _Ctx, node: YNode) -> tuple[object, ...] | None:
        items = self.as_list(ctx, node, "'enum'")
        if items is None:
            return None
        values: list[object] = []
        for item in items:
            if not isinstance(item, YScalar) or (
                isinstance(item.value, str) and has_template(item.value)
            ):
                self.error(ctx, "enum values must be literal scalars", item.span)
                return None
            values.append(item.value)
        if not values:
            self.error(ctx, "'enum' must list at least one value", node.span)
            return None
        return tuple(values)

    # ------------------------------------------------------------------ states

    def states(self, ctx: _Ctx, entry: YEntry, parent: str) -> list[State]:
        """The states of a ``states:`` mapping; ``parent`` is chart/compound/parallel."""
        mapping = self.as_map(ctx, entry.value, "'states'")
        if mapping is None:
            return []
        if not mapping.entries:
            self.error(ctx, "'states' must define at least one state", entry.key_span)
            return []
        result: list[State] = []
        for state_entry in mapping:
            state = self.state(ctx, state_entry, parent)
            if state is not None:
                result.append(state)
        return result

    def register(self, ctx: _Ctx, local: str, span: Span) -> str | None:
        if not STATE_ID.match(local):
            hint = (
                "dots are not allowed in state ids: done.state.<id> events are matched "
                "by dot-separated prefix; use _ or -"
                if "." in local
                else "state ids start with a letter or _ and contain letters, digits, _ and -"
            )
            self.error(ctx, f"invalid state id {local!r}", span, hint)
            return None
        state_id = ctx.prefix + local
        first = ctx.chart.ids.get(state_id)
        if first is not None:
            renamed = f" (block state {local!r} renamed {state_id!r})" if ctx.prefix else ""
            self.error(
                ctx,
                f"duplicate state id {state_id!r}{renamed}, first defined at {first}",
                span,
                "state ids are global in a workflow and must be unique",
                cls=ModelReferenceError,
            )
            return None
        ctx.chart.ids[state_id] = span
        return state_id

    def state(self, ctx: _Ctx, entry: YEntry, parent: str) -> State | None:
        state_id = self.register(ctx, entry.key, entry.key_span)
        if state_id is None:
            return None
        span = entry.key_span
        node = entry.value
        if isinstance(node, YScalar) and node.value is None:
            return State(state_id, StateKind.ATOMIC, span=span)
        mapping = self.as_map(ctx, node, f"state {entry.key!r}")
        if mapping is None:
            return None
        kind_node = mapping.value("type")
        kind = None
        if kind_node is not None:
            kind = self.as_str(ctx, kind_node, "'type'")
            if kind not in (None, "final", "history"):
                hint = (
                    "a parallel state is written 'parallel: true'"
                    if kind == "parallel"
                    else did_you_mean(kind, ("final", "history")) or "use final or history"
                )
                self.error(ctx, f"unknown state type {kind!r}", kind_node.span, hint)
                return None
        if kind == "final":
            return self.final_state(ctx, state_id, mapping, span)
        if kind == "history":
            return self.history_state(ctx, state_id, mapping, span, parent)
        return self.normal_state(ctx, state_id, mapping, span)

    def final_state(self, ctx: _Ctx, state_id: str, mapping: YMap, span: Span) -> State:
        for entry in mapping:
            if entry.key not in FINAL_KEYS:
                if entry.key in STATE_KEYS:
                    message = f"a final state cannot have {entry.key!r}"
                    if entry.key in ("states", "use", "parallel"):
                        message = "a final state cannot have children"
                    self.error(
                        ctx,
                        message,
                        entry.key_span,
                        "a final state ends its parent; it has only entry, exit and output",
                    )
                else:
                    self.keys(ctx, YMap((entry,), mapping.span), FINAL_KEYS, "a final state")
        donedata = None
        output = mapping.get("output")
        if output is not None:
            donedata = self.donedata(ctx, output)
        return State(
            state_id,
            StateKind.FINAL,
            on_entry=self.action_block(ctx, mapping.value("entry"), "'entry'"),
            on_exit=self.action_block(ctx, mapping.value("exit"), "'exit'"),
            donedata=donedata,
            description=self.description(ctx, mapping),
            span=span,
        )

    def donedata(self, ctx: _Ctx, entry: YEntry) -> DoneData | None:
        node = entry.value
        if isinstance(node, YMap):
            return DoneData(params=self.params(ctx, node), span=entry.key_span)
        content = self.value(ctx, node)
        return None if content is None else DoneData(content=content, span=entry.key_span)

    def history_state(
        self, ctx: _Ctx, state_id: str, mapping: YMap, span: Span, parent: str
    ) -> State:
        self.keys(ctx, mapping, HISTORY_KEYS, "a history state")
        if parent == "chart":
            self.error(
                ctx,
                "a history state must be inside a compound or parallel state",
                span,
                "move it into the 'states' of the state whose history it remembers",
            )
        kind = HistoryKind.SHALLOW
        kind_node = mapping.value("history")
        if kind_node is not None:
            text = self.as_str(ctx, kind_node, "'history'")
            if text in ("shallow", "deep"):
                kind = HistoryKind(text)
            elif text is not None:
                self.error(
                    ctx,
                    f"unknown history kind {text!r}",
                    kind_node.span,
                    "use shallow (the default) or deep",
                )
        transitions: tuple[Transition, ...] = ()
        target = mapping.get("target")
        if target is not None:
            targets = self.targets(ctx, target.value)
            if targets is not None:
                transitions = (Transition(targets=targets, span=target.key_span),)
        return State(
            state_id,
            StateKind.HISTORY,
            transitions=transitions,
            history=kind,
            description=self.description(ctx, mapping),
            span=span,
        )

    def normal_state(self, ctx: _Ctx, state_id: str, mapping: YMap, span: Span) -> State:
        misplaced = {"output": "a final state (type: final)", "history": "a history state"}
        misplaced["target"] = misplaced["history"]
        for entry in mapping:
            if entry.key in misplaced:
                self.error(
                    ctx,
                    f"{entry.key!r} is only allowed on {misplaced[entry.key]}",
                    entry.key_span,
                    "transitions go under 'on:' (event: target)" if entry.key == "target" else None,
                )
        self.keys(
            ctx,
            YMap(tuple(e for e in mapping if e.key not in misplaced), mapping.span),
            STATE_KEYS,
            f"state {state_id!r}",
        )
        has = {key: mapping.get(key) is not None for key in STATE_KEYS}
        exclusive = [key for key in ("states", "use", "foreach") if has[key]]
        if len(exclusive) > 1:
            self.error(
                ctx,
                f"a state cannot have both {exclusive[0]!r} and {exclusive[1]!r}",
                mapping.get(exclusive[1]).key_span,  # type: ignore[union-attr]
            )
        for key in FANOUT_KEYS[1:]:
            fanout_entry = mapping.get(key)
            if fanout_entry is not None and not has["foreach"]:
                self.error(
                    ctx, f"{key!r} belongs to a fan-out state (foreach:)", fanout_entry.key_span
                )
        with_entry = mapping.get("with")
        if with_entry is not None and not has["use"] and not has["foreach"]:
            self.error(
                ctx,
                "'with' gives parameters to a block (use:) or to fan-out children (foreach:)",
                with_entry.key_span,
            )
        children: tuple[State, ...] = ()
        initial: Transition | None = None
        datamodel: tuple[Data, ...] = ()
        invokes: list[Invoke] = []
        parallel = False
        parallel_node = mapping.value("parallel")
        if parallel_node is not None:
            parallel = bool(self.as_bool(ctx, parallel_node, "'parallel'"))
        states_entry = mapping.get("states")
        if states_entry is not None and not has["use"]:
            children = tuple(self.states(ctx, states_entry, "parallel" if parallel else "compound"))
        elif has["use"] and not has["states"]:
            block = self.use_block(ctx, state_id + "_", mapping)
            if block is not None:
                children, initial, datamodel = block.states, block.initial, block.data
        if parallel and not children and not (states_entry is None and has["use"]):
            where = mapping.get("parallel")
            self.error(
                ctx,
                "a parallel state needs at least one child state (its regions)",
                where.key_span if where else span,
                "list the regions under 'states:'",
            )
        if has["foreach"] and not has["states"]:
            fanout = self.fanout(ctx, state_id, mapping)
            if fanout is not None:
                invokes.append(fanout)
        invoke_node = mapping.value("invoke")
        if invoke_node is not None:
            invokes.extend(self.invokes(ctx, state_id, invoke_node))
        kind = StateKind.ATOMIC
        if children:
            kind = StateKind.PARALLEL if parallel else StateKind.COMPOUND
        if kind is StateKind.COMPOUND and initial is None:
            initial = self.initial(ctx, mapping, list(children), f"state {state_id!r}", span)
        elif mapping.get("initial") is not None:
            initial_entry = mapping.get("initial")
            assert initial_entry is not None
            self.error(
                ctx,
                "'initial' cannot be combined with 'use' (the block decides)"
                if has["use"]
                else "'initial' is only allowed on a state with children (not parallel)",
                initial_entry.key_span,
            )
        if initial is not None and kind is StateKind.COMPOUND:
            children = self.default_histories(children, initial)
        return State(
            state_id,
            kind,
            children=children,
            initial=initial if kind is StateKind.COMPOUND else None,
            transitions=self.transitions(ctx, mapping),
            on_entry=self.action_block(ctx, mapping.value("entry"), "'entry'"),
            on_exit=self.action_block(ctx, mapping.value("exit"), "'exit'"),
            datamodel=datamodel,
            invokes=tuple(invokes),
            description=self.description(ctx, mapping),
            span=span,
        )

    def default_histories(
        self, children: tuple[State, ...], initial: Transition
    ) -> tuple[State, ...]:
        """History states without ``target:`` default to the parent's initial state."""
        return tuple(
            replace(
                child,
                transitions=(Transition(targets=initial.targets, span=child.span),),
            )
            if child.kind is StateKind.HISTORY and not child.transitions
            else child
            for child in children
        )

    def initial(
        self, ctx: _Ctx, mapping: YMap, children: list[State], what: str, span: Span
    ) -> Transition | None:
        """The initial transition: ``initial:`` (a direct child) or the first child."""
        candidates = [child for child in children if child.kind is not StateKind.HISTORY]
        entry = mapping.get("initial")
        if entry is not None:
            local = self.as_str(ctx, entry.value, "'initial'")
            if local is None:
                return None
            target = ctx.state_id(local) if local not in [c.id for c in children] else local
            if target not in {child.id for child in candidates}:
                local_names = [_local_name(ctx, child.id) for child in candidates]
                self.error(
                    ctx,
                    f"initial state {local!r} is not a child of {what}",
                    entry.value.span,
                    did_you_mean(local, local_names) or "children: " + ", ".join(local_names),
                    cls=ModelReferenceError,
                )
                return None
            return Transition(targets=(target,), span=entry.value.span)
        if not candidates:
            if children:
                self.error(ctx, f"{what} has only history states; add a state", span)
            return None
        return Transition(targets=(candidates[0].id,), span=candidates[0].span)

    # ------------------------------------------------------------------ blocks

    def load_block(self, ctx: _Ctx, path: Path, use_span: Span) -> YMap | None:
        key = str(path)
        if key not in self.block_trees:
            self.block_trees[key] = None
            from autoflow.model.io import check_size

            try:
                check_size(key)
                text = path.read_text(encoding="utf-8")
                register_source(key, text)
                tree, errors = parse_yaml(text, key)
            except (SourceError, OSError, UnicodeDecodeError) as exc:
                reason = exc.render() if isinstance(exc, AutoflowError) else str(exc)
                self.error(
                    ctx,
                    f"cannot read block file {key}: {reason}",
                    use_span,
                    cls=ModelReferenceError,
                )
                return None
            for error in errors:
                self.errors.append(
                    type(error)(
                        f"{error.message} (in block used at {use_span})",
                        error.span,
                        hint=error.hint,
                    )
                )
            self.block_trees[key] = tree
        tree = self.block_trees[key]
        if tree is None:
            return None
        if not isinstance(tree, YMap) or tree.get("block") is None:
            self.error(
                ctx,
                f"{key} is not a block (it has no 'block:' key)",
                use_span,
                "a block file starts with 'block: NAME' and has 'states:'",
                cls=ModelReferenceError,
            )
            return None
        return tree

    def param_decls(self, ctx: _Ctx, block: YMap) -> dict[str, ParamDecl]:
        decls: dict[str, ParamDecl] = {}
        params = self.as_map(ctx, block.value("params"), "'params'")
        for entry in params or ():
            if not IDENTIFIER.match(entry.key):
                self.error(ctx, f"invalid parameter name {entry.key!r}", entry.key_span)
                continue
            node = entry.value
            description: str | None = None
            required = False
            default: YNode | None = None
            type_name = "any"
            if isinstance(node, YMap):
                self.keys(ctx, node, PARAM_KEYS, f"parameter {entry.key!r}")
                if node.value("description") is not None:
                    description = self.as_str(ctx, node.value("description"), "'description'")
                if node.value("required") is not None:
                    required = bool(self.as_bool(ctx, node.value("required"), "'required'"))
                default = node.value("default")
                type_node = node.value("type")
                if type_node is not None:
                    text = self.as_str(ctx, type_node, "'type'")
                    if text is not None and text not in PARAM_TYPES:
                        self.error(
                            ctx,
                            f"unknown parameter type {text!r}",
                            type_node.span,
                            did_you_mean(text, PARAM_TYPES) or "types: " + ", ".join(PARAM_TYPES),
                        )
                    elif text is not None:
                        type_name = text
            elif not (isinstance(node, YScalar) and node.value is None):
                self.error(
                    ctx,
                    f"parameter {entry.key!r} must be a mapping "
                    "(description, required, default, type)",
                    node.span,
                )
            decls[entry.key] = ParamDecl(
                entry.key, description, required, default, type_name, entry
            )
        return decls

    def check_param_value(self, ctx: _Ctx, decl: ParamDecl, node: YNode) -> bool:
        """Literal values must match a declared parameter type (templates are not checked)."""
        if isinstance(node, YScalar) and isinstance(node.value, str) and has_template(node.value):
            return True
        kind = decl.type
        ok = True
        if kind == "duration":
            return self.duration(ctx, node, f"parameter {decl.name!r}") is not None
        if kind == "string":
            ok = isinstance(node, YScalar) and isinstance(node.value, str)
        elif kind == "integer":
            ok = isinstance(node, YScalar) and type(node.value) is int
        elif kind == "number":
            ok = isinstance(node, YScalar) and type(node.value) in (int, float)
        elif kind == "boolean":
            ok = isinstance(node, YScalar) and isinstance(node.value, bool)
        elif kind == "list":
            ok = isinstance(node, YSeq)
        elif kind == "map":
            ok = isinstance(node, YMap)
        if not ok:
            self.error(
                ctx,
                f"parameter {decl.name!r} must be a {kind}, found {kind_name(node)}",
                node.span,
            )
        return ok

    def param_cel(self, ctx: _Ctx, decl: ParamDecl, node: YNode) -> str | None:
        if decl.type == "duration" and isinstance(node, YScalar) and not has_template(node.text):
            duration = self.duration(ctx, node, f"parameter {decl.name!r}")
            return None if duration is None else duration.source
        text = self.value_cel(ctx, node)
        if text is None:
            return None
        return text if SIMPLE_CEL.match(text) or _is_string_literal(text) else f"({text})"

    def use_block(self, ctx: _Ctx, prefix: str, mapping: YMap) -> _Body | None:
        """Expand ``use:`` into the children of the using state."""
        use_entry = mapping.get("use")
        assert use_entry is not None
        reference = self.as_str(ctx, use_entry.value, "'use'")
        if reference is None:
            return None
        use_span = use_entry.value.span
        path = find_block_file(reference, ctx.path)
        if path is None:
            base = Path(ctx.path).parent
            self.error(
                ctx,
                f"block file {reference!r} not found",
                use_span,
                f"looked in {base / reference} and {base / 'blocks' / reference}",
                cls=ModelReferenceError,
            )
            return None
        key = str(path)
        if key in ctx.stack or len(ctx.stack) > 16:
            self.error(
                ctx,
                f"block {reference!r} uses itself (cycle: {' -> '.join((*ctx.stack, key))})",
                use_span,
                cls=ModelReferenceError,
            )
            return None
        block = self.load_block(ctx, path, use_span)
        if block is None:
            return None
        name = block.value("block")
        block_name = name.text if isinstance(name, YScalar) else reference
        note = f"in block {block_name!r} used at {use_span}"
        if ctx.note:
            note = f"{note}, {ctx.note}"
        block_ctx = _Ctx(key, ctx.chart, note=note, stack=(*ctx.stack, key))
        self.keys(block_ctx, block, BLOCK_KEYS, "a block", required=("block", "states"))
        decls = self.param_decls(block_ctx, block)
        given: dict[str, YNode] = {}
        values: dict[str, str] = {}
        with_node = mapping.value("with")
        with_map = self.as_map(ctx, with_node, "'with'") if with_node is not None else None
        for entry in with_map or ():
            decl = decls.get(entry.key)
            if decl is None:
                self.error(
                    ctx,
                    f"block {block_name!r} has no parameter {entry.key!r}",
                    entry.key_span,
                    did_you_mean(entry.key, decls)
                    or ("parameters: " + ", ".join(decls) if decls else "it takes none"),
                    cls=ModelReferenceError,
                )
                continue
            if not self.check_param_value(ctx, decl, entry.value):
                continue
            cel = self.param_cel(ctx, decl, entry.value)
            if cel is not None:
                given[entry.key] = entry.value
                values[entry.key] = cel
        for decl in decls.values():
            if decl.name in given or (with_map is not None and with_map.get(decl.name)):
                continue
            if decl.default is not None:
                cel = self.param_cel(block_ctx, decl, decl.default)
                if cel is not None:
                    given[decl.name] = decl.default
                    values[decl.name] = cel
            elif decl.required:
                self.error(
                    ctx,
                    f"block {block_name!r} needs the parameter {decl.name!r}",
                    use_entry.key_span,
                    "add it under 'with:'" + (f" ({decl.description})" if decl.description else ""),
                    cls=ModelReferenceError,
                )
            else:
                given[decl.name] = YScalar(None, None, decl.entry.key_span, "", 0, 0)
                values[decl.name] = "null"
        scope = BlockScope(block_name, key, tuple(decls), values)
        body = bind_params(block, scope, given)
        assert isinstance(body, YMap)
        local_ids = _collect_ids(body.value("states"))
        rename = {**ctx.rename, **{local: prefix + local for local in local_ids}}
        inner = replace(block_ctx, prefix=prefix, rename=rename)
        return self.body(inner, body, f"block {block_name!r}")

    def standalone_block(self, ctx: _Ctx, block: YMap) -> Chart | None:
        """Validate a block file on its own: defaults, or placeholders of the declared type."""
        self.keys(ctx, block, BLOCK_KEYS, "a block", required=("block", "states"))
        name = self.as_str(ctx, block.value("block"), "'block' (the name)") or ""
        decls = self.param_decls(ctx, block)
        given: dict[str, YNode] = {}
        values: dict[str, str] = {}
        for decl in decls.values():
            node = decl.default if decl.default is not None else placeholder(decl)
            cel = self.param_cel(ctx, decl, node)
            if cel is not None:
                given[decl.name] = node
                values[decl.name] = cel
        scope = BlockScope(name, ctx.path, tuple(decls), values)
        body_node = bind_params(block, scope, given)
        assert isinstance(body_node, YMap)
        body = self.body(ctx, body_node, f"block {name!r}")
        self.check_refs(ctx)
        if body is None or body.initial is None:
            return None
        return Chart(
            name=name,
            states=body.states,
            initial=body.initial,
            datamodel=body.data,
            description=self.description(ctx, block),
            span=block.span,
        )

    # ------------------------------------------------------------------ invokes

    def child_chart(self, ctx: _Ctx, state_id: str, node: YNode | None, span: Span) -> Chart | None:
        """An inline child workflow (``states``/``data``/``initial``) or ``use:`` of a block."""
        if node is None:
            self.error(ctx, "a fan-out needs 'workflow:' (the child's states, or use:)", span)
            return None
        mapping = self.as_map(ctx, node, "'workflow'")
        if mapping is None:
            return None
        self.keys(ctx, mapping, BODY_KEYS, "a child workflow")
        child_ctx = _Ctx(ctx.path, _ChartScope(), note=ctx.note, stack=ctx.stack)
        if mapping.get("use") is not None:
            if mapping.get("states") is not None:
                self.error(
                    ctx,
                    "a child workflow has either 'states' or 'use', not both",
                    mapping.span,
                )
                return None
            body = self.use_block(child_ctx, "", mapping)
        else:
            if mapping.get("states") is None:
                self.error(ctx, "a child workflow needs 'states' (or 'use')", mapping.span)
                return None
            body = self.body(child_ctx, mapping, "the child workflow")
        self.check_refs(child_ctx)
        if body is None or body.initial is None:
            return None
        return Chart(
            name=state_id,
            states=body.states,
            initial=body.initial,
            datamodel=body.data,
            description=self.description(ctx, mapping),
            span=mapping.span,
        )

    def fanout(self, ctx: _Ctx, state_id: str, mapping: YMap) -> Invoke | None:
        entry = mapping.get("foreach")
        assert entry is not None
        items = self.cel(ctx, entry.value, "'foreach'")
        item = "item"
        as_node = mapping.value("as")
        if as_node is not None:
            text = self.as_str(ctx, as_node, "'as'")
            if text is not None and not IDENTIFIER.match(text):
                self.error(ctx, f"'as' must be a CEL identifier, found {text!r}", as_node.span)
            elif text is not None:
                item = text
        kind = JoinKind.ALL
        count: Expr | None = None
        join_node = mapping.value("join")
        join_span = join_node.span if join_node is not None else entry.key_span
        if isinstance(join_node, YScalar) and join_node.value in ("all", "any"):
            kind = JoinKind(join_node.value)
        elif isinstance(join_node, YMap):
            self.keys(ctx, join_node, ("count",), "'join'", required=("count",))
            count_node = join_node.value("count")
            if count_node is not None:
                kind = JoinKind.COUNT
                count = self.cel(ctx, count_node, "'count'")
        elif join_node is not None:
            self.error(
                ctx,
                f"'join' must be all, any or {{count: N}}, found {kind_name(join_node)}"
                + (f" {join_node.text}" if isinstance(join_node, YScalar) else ""),
                join_node.span,
            )
        timeout = None
        timeout_node = mapping.value("timeout")
        if timeout_node is not None:
            timeout = self.duration(ctx, timeout_node, "'timeout'")
        autoforward = False
        if mapping.value("autoforward") is not None:
            autoforward = bool(self.as_bool(ctx, mapping.value("autoforward"), "'autoforward'"))
        with_node = mapping.value("with")
        params: tuple[Param, ...] = ()
        if with_node is not None:
            with_map = self.as_map(ctx, with_node, "'with'")
            params = self.params(ctx, with_map) if with_map is not None else ()
        chart = self.child_chart(ctx, state_id, mapping.value("workflow"), entry.key_span)
        if items is None or chart is None:
            return None
        return Invoke(
            id=state_id,
            chart=chart,
            params=params,
            autoforward=autoforward,
            foreach=items,
            item=item,
            join=Join(kind=kind, count=count, timeout=timeout, span=join_span),
            span=entry.key_span,
        )

    def invokes(self, ctx: _Ctx, state_id: str, node: YNode) -> list[Invoke]:
        items: tuple[YNode, ...] = node.items if isinstance(node, YSeq) else (node,)
        result: list[Invoke] = []
        for index, item in enumerate(items):
            mapping = self.as_map(ctx, item, "'invoke'")
            if mapping is None:
                continue
            self.keys(ctx, mapping, INVOKE_KEYS, "'invoke'", required=("workflow",))
            invoke_id = state_id if len(items) == 1 else f"{state_id}_{index + 1}"
            if mapping.value("id") is not None:
                invoke_id = self.as_str(ctx, mapping.value("id"), "'id'") or invoke_id
            params: tuple[Param, ...] = ()
            with_map = self.as_map(ctx, mapping.value("with"), "'with'")
            if with_map is not None:
                params = self.params(ctx, with_map)
            autoforward = False
            if mapping.value("autoforward") is not None:
                autoforward = bool(self.as_bool(ctx, mapping.value("autoforward"), "'autoforward'"))
            finalize = self.actions(ctx, mapping.value("finalize"), "'finalize'")
            if mapping.value("workflow") is None:
                continue
            chart = self.child_chart(ctx, invoke_id, mapping.value("workflow"), mapping.span)
            if chart is None:
                continue
            result.append(
                Invoke(
                    id=invoke_id,
                    chart=chart,
                    params=params,
                    autoforward=autoforward,
                    finalize=finalize,
                    span=mapping.span,
                )
            )
        return result

    # ------------------------------------------------------------------ transitions

    def transitions(self, ctx: _Ctx, mapping: YMap) -> tuple[Transition, ...]:
        result: list[Transition] = []
        on = mapping.get("on")
        if on is not None:
            on_map = self.as_map(ctx, on.value, "'on'")
            for entry in on_map or ():
                events = self.event_descriptors(ctx, entry.key, entry.key_span)
                for node, span in self.transition_items(ctx, entry):
                    transition = self.transition(ctx, node, span, events=tuple(events))
                    if transition is not None:
                        result.append(transition)
        always = mapping.get("always")
        if always is not None:
            for node, span in self.transition_items(ctx, always):
                transition = self.transition(ctx, node, span)
                if transition is not None:
                    result.append(transition)
        after = mapping.get("after")
        if after is not None:
            after_map = self.as_map(ctx, after.value, "'after'")
            for entry in after_map or ():
                delay = self.duration(ctx, entry.key_node, "a timer ('after' key)")
                for node, span in self.transition_items(ctx, entry):
                    timer = Timer(TimerKind.AFTER, delay, span=entry.key_span) if delay else None
                    transition = self.transition(ctx, node, span, timer=timer)
                    if transition is not None and timer is not None:
                        result.append(transition)
        at = mapping.get("at")
        if at is not None:
            for item in self.as_list(ctx, at.value, "'at'") or ():
                at_map = self.as_map(ctx, item, "an 'at' deadline")
                if at_map is None:
                    continue
                self.keys(ctx, at_map, AT_KEYS, "an 'at' deadline", required=("when",))
                when = self.cel(ctx, at_map.value("when"), "'when'")
                deadline = YMap(
                    tuple(entry for entry in at_map if entry.key != "when"), at_map.span
                )
                timer = Timer(TimerKind.AT, when, span=at_map.span) if when else None
                transition = self.transition(ctx, deadline, at_map.span, timer=timer)
                if transition is not None and timer is not None:
                    result.append(transition)
        return tuple(result)

    def transition_items(self, ctx: _Ctx, entry: YEntry) -> list[tuple[YNode, Span]]:
        """A transition value: target string, mapping, or a list of those."""
        node = entry.value
        if isinstance(node, YSeq):
            if not node.items:
                self.error(ctx, "an empty list of transitions", node.span)
            return [(item, item.span) for item in node.items]
        return [(node, entry.key_span)]

    def transition(
        self,
        ctx: _Ctx,
        node: YNode,
        span: Span,
        events: tuple[str, ...] = (),
        timer: Timer | None = None,
    ) -> Transition | None:
        if isinstance(node, YScalar):
            if not isinstance(node.value, str):
                self.error(
                    ctx,
                    f"a transition is a target state id or a mapping, found {kind_name(node)}",
                    node.span,
                    "write a target (done) or a mapping ({target: done, if: ..., do: [...]})",
                )
                return None
            simple = self.targets(ctx, node)
            if simple is None:
                return None
            return Transition(events=events, targets=simple, timer=timer, span=span)
        mapping = self.as_map(ctx, node, "a transition")
        if mapping is None:
            return None
        self.keys(ctx, mapping, TRANSITION_KEYS, "a transition")
        targets: tuple[str, ...] | None = ()
        target = mapping.value("target")
        if target is not None:
            targets = self.targets(ctx, target)
        kind = TransitionKind.EXTERNAL
        kind_node = mapping.value("type")
        if kind_node is not None:
            text = self.as_str(ctx, kind_node, "'type'")
            if text in ("internal", "external"):
                kind = TransitionKind(text)
            elif text is not None:
                self.error(
                    ctx,
                    f"unknown transition type {text!r}",
                    kind_node.span,
                    "use internal or external (the default)",
                )
        guard = self.cel(ctx, mapping.value("if"), "'if'")
        actions = self.actions(ctx, mapping.value("do"), "'do'")
        if targets is None:
            return None
        return Transition(
            events=events,
            guard=guard,
            targets=targets,
            kind=kind,
            actions=actions,
            timer=timer,
            span=span,
        )

    def targets(self, ctx: _Ctx, node: YNode) -> tuple[str, ...] | None:
        scalars = self.as_strings(ctx, node, "'target'")
        if scalars is None:
            return None
        result: list[str] = []
        for scalar in scalars:
            for name in scalar.text.split():
                target = ctx.state_id(name)
                ctx.chart.refs.append((target, scalar.span, ctx.note))
                result.append(target)
        return tuple(result)

    # ------------------------------------------------------------------ actions

    def action_block(
        self, ctx: _Ctx, node: YNode | None, what: str
    ) -> tuple[tuple[Action, ...], ...]:
        actions = self.actions(ctx, node, what)
        return (actions,) if actions else ()

    def actions(self, ctx: _Ctx, node: YNode | None, what: str) -> tuple[Action, ...]:
        items = self.as_list(ctx, node, what)
        result: list[Action] = []
        for item in items or ():
            result.extend(self.action(ctx, item))
        return tuple(result)

    def action(self, ctx: _Ctx, node: YNode) -> list[Action]:
        mapping = self.as_map(ctx, node, "an action")
        if mapping is None:
            return []
        kinds = [entry for entry in mapping if entry.key in ACTION_MODIFIERS]
        if not kinds:
            first = mapping.entries[0] if mapping.entries else None
            self.error(
                ctx,
                f"unknown action {first.key!r}" if first else "an empty action",
                first.key_span if first else mapping.span,
                (did_you_mean(first.key, ACTION_MODIFIERS) if first else None)
                or "actions: " + ", ".join(ACTION_MODIFIERS),
            )
            return []
        if len(kinds) > 1:
            self.error(
                ctx,
                f"one action per list item: found {kinds[0].key!r} and {kinds[1].key!r}",
                kinds[1].key_span,
                "start the second action on its own line with '- '",
            )
            return []
        kind = kinds[0]
        self.keys(ctx, mapping, (kind.key, *ACTION_MODIFIERS[kind.key]), f"a {kind.key!r} action")
        span = kind.key_span
        if kind.key == "assign":
            return list(self.assign(ctx, kind.value))
        if kind.key == "raise":
            return self.raise_(ctx, kind.value, span)
        if kind.key == "send":
            return self.send(ctx, kind.value, span)
        if kind.key == "cancel":
            result = self.text_or_expr(ctx, kind.value, "'cancel' (a send id)")
            if result is None:
                return []
            return [Cancel(sendid=result[0], sendidexpr=result[1], span=span)]
        if kind.key == "log":
            label = None
            if mapping.value("label") is not None:
                label = self.as_str(ctx, mapping.value("label"), "'label'")
            return [Log(label=label, expr=self.value(ctx, kind.value), span=span)]
        if kind.key == "if":
            return self.if_(ctx, mapping, span)
        if kind.key == "foreach":
            return self.foreach(ctx, mapping, span)
        return self.call(ctx, mapping, span)

    def assign(self, ctx: _Ctx, node: YNode) -> list[Action]:
        mapping = self.as_map(ctx, node, "'assign'")
        result: list[Action] = []
        for entry in mapping or ():
            if not LOCATION.match(entry.key):
                self.error(
                    ctx,
                    f"invalid assignment location {entry.key!r}",
                    entry.key_span,
                    "a location is a data name or a dotted path into one (a.b.c)",
                )
                continue
            expression = self.value(ctx, entry.value)
            if expression is not None:
                result.append(Assign(entry.key, expression, span=entry.key_span))
        if mapping is not None and not mapping.entries:
            self.error(ctx, "'assign' needs at least one location: value", mapping.span)
        return result

    def raise_(self, ctx: _Ctx, node: YNode, span: Span) -> list[Action]:
        name = self.as_str(ctx, node, "'raise' (an event name)")
        if name is None:
            return []
        events = self.event_descriptors(ctx, name, node.span)
        if len(events) != 1 or "*" in events[0]:
            if events:
                self.error(ctx, "'raise' takes exactly one event name", node.span)
            return []
        return [Raise(events[0], span=span)]

    def send(self, ctx: _Ctx, node: YNode, span: Span) -> list[Action]:
        if isinstance(node, YScalar):
            result = self.text_or_expr(ctx, node, "'send' (an event name)")
            if result is None:
                return []
            return [Send(event=result[0], eventexpr=result[1], span=span)]
        mapping = self.as_map(ctx, node, "'send'")
        if mapping is None:
            return []
        self.keys(ctx, mapping, SEND_KEYS, "'send'", required=("event",))
        event: tuple[str | None, Expr | None] | None = (None, None)
        if mapping.value("event") is not None:
            event = self.text_or_expr(ctx, mapping.value("event"), "'event'")  # type: ignore[arg-type]
        target: tuple[str | None, Expr | None] | None = (None, None)
        if mapping.value("to") is not None:
            target = self.text_or_expr(ctx, mapping.value("to"), "'to'")  # type: ignore[arg-type]
        type_name = None
        if mapping.value("type") is not None:
            type_name = self.as_str(ctx, mapping.value("type"), "'type'")
        delay = None
        if mapping.value("delay") is not None:
            delay = self.duration(ctx, mapping.value("delay"), "'delay'")  # type: ignore[arg-type]
        send_id = None
        if mapping.value("id") is not None:
            send_id = self.as_str(ctx, mapping.value("id"), "'id'")
        params: tuple[Param, ...] = ()
        content = None
        data = mapping.value("data")
        if isinstance(data, YMap):
            params = self.params(ctx, data)
        elif data is not None:
            content = self.value(ctx, data)
        if event is None or target is None:
            return []
        return [
            Send(
                event=event[0],
                eventexpr=event[1],
                target=target[0],
                targetexpr=target[1],
                type=type_name,
                id=send_id,
                delay=delay,
                params=params,
                content=content,
                span=span,
            )
        ]

    def if_(self, ctx: _Ctx, mapping: YMap, span: Span) -> list[Action]:
        branches = [
            Branch(
                self.cel(ctx, mapping.value("if"), "'if'"),
                self.actions(ctx, mapping.value("then"), "'then'"),
                span=span,
            )
        ]
        for item in self.as_list(ctx, mapping.value("elif"), "'elif'") or ():
            arm = self.as_map(ctx, item, "an 'elif' arm")
            if arm is None:
                continue
            self.keys(ctx, arm, ("if", "then"), "an 'elif' arm", required=("if",))
            branches.append(
                Branch(
                    self.cel(ctx, arm.value("if"), "'if'"),
                    self.actions(ctx, arm.value("then"), "'then'"),
                    span=arm.span,
                )
            )
        else_entry = mapping.get("else")
        if else_entry is not None:
            branches.append(
                Branch(
                    None, self.actions(ctx, else_entry.value, "'else'"), span=else_entry.key_span
                )
            )
        conditional = branches[: len(branches) - 1] if else_entry is not None else branches
        if any(branch.cond is None for branch in conditional):
            return []  # an 'if' that did not compile; already reported
        return [If(tuple(branches), span=span)]

    def foreach(self, ctx: _Ctx, mapping: YMap, span: Span) -> list[Action]:
        array = self.cel(ctx, mapping.value("foreach"), "'foreach'")
        item = "item"
        index = None
        for key in ("as", "index"):
            node = mapping.value(key)
            if node is None:
                continue
            text = self.as_str(ctx, node, f"{key!r}")
            if text is not None and not IDENTIFIER.match(text):
                self.error(ctx, f"{key!r} must be a CEL identifier, found {text!r}", node.span)
            elif text is not None and key == "as":
                item = text
            elif text is not None:
                index = text
        actions = self.actions(ctx, mapping.value("do"), "'do'")
        if array is None:
            return []
        return [Foreach(array, item, index, actions, span=span)]

    def call(self, ctx: _Ctx, mapping: YMap, span: Span) -> list[Action]:
        node = mapping.value("call")
        name = self.as_str(ctx, node, "'call' (an effect name)")
        if name is None or node is None:
            return []
        spec = EFFECTS.get(name)
        if spec is None:
            self.error(
                ctx,
                f"unknown effect {name!r}",
                node.span,
                did_you_mean(name, EFFECTS)
                or "known effects are listed in docs/format.md; use http.request for others",
                cls=ModelReferenceError,
            )
        args: tuple[Param, ...] = ()
        with_entry = mapping.get("with")
        if with_entry is not None:
            with_map = self.as_map(ctx, with_entry.value, "'with'")
            if with_map is not None:
                args = self.params(ctx, with_map)
                if spec is not None:
                    for entry in with_map:
                        if entry.key not in spec.arguments:
                            self.error(
                                ctx,
                                f"effect {name!r} has no argument {entry.key!r}",
                                entry.key_span,
                                did_you_mean(entry.key, spec.arguments)
                                or "arguments: " + ", ".join(spec.arguments),
                            )
        if spec is not None:
            given = {param.name for param in args}
            if with_entry is not None and isinstance(with_entry.value, YMap):
                given = set(with_entry.value.keys())
            missing = [arg for arg in spec.required if arg not in given]
            if missing:
                where = with_entry.key_span if with_entry is not None else span
                self.error(
                    ctx,
                    f"effect {name!r} needs the argument(s) {', '.join(map(repr, missing))}",
                    where,
                    "required: " + ", ".join(spec.required),
                )
        call_id = None
        if mapping.value("id") is not None:
            call_id = self.as_str(ctx, mapping.value("id"), "'id'")
            if call_id is not None and not STATE_ID.match(call_id):
                self.error(
                    ctx,
                    f"invalid effect id {call_id!r}",
                    mapping.value("id").span,  # type: ignore[union-attr]
                    "it becomes part of the event names done.effect.<id>: letters, digits, _ and -",
                )
        result = None
        if mapping.value("result") is not None:
            result = self.as_str(ctx, mapping.value("result"), "'result'")
            if result is not None and not LOCATION.match(result):
                self.error(
                    ctx,
                    f"invalid result location {result!r}",
                    mapping.value("result").span,  # type: ignore[union-attr]
                    "a data name or a dotted path into one",
                )
        return [Call(name, args, id=call_id, result=result, span=span)]

    def params(self, ctx: _Ctx, mapping: YMap) -> tuple[Param, ...]:
        result: list[Param] = []
        for entry in mapping:
            expression = self.value(ctx, entry.value)
            if expression is not None:
                result.append(Param(entry.key, expression, span=entry.key_span))
        return tuple(result)


# --------------------------------------------------------------------------- helpers


def _error_order(error: ModelError) -> tuple[str, int, int]:
    span = error.span
    if span is None:
        return ("", 0, 0)
    return (span.path, span.line, span.col)


def _offset_of(source: str, line: int, col: int) -> int:
    """Offset in ``source`` of 1-based ``line``/``col`` (relative to a start at 1:1)."""
    lines = source.split("\n")
    offset = sum(len(text) + 1 for text in lines[: max(0, line - 1)])
    return min(len(source), offset + max(0, col - 1))


def _leading_space(text: str) -> int:
    return len(text) - len(text.lstrip())


def _open_offset(text: str, part: ExprPart) -> int:
    """Offset of the ``${{`` that opens ``part``."""
    return text.rfind("${{", 0, part.offset)


def _close_gap(text: str, part: ExprPart) -> int:
    """Characters between the end of ``part``'s source and the end of its ``}}``, minus one."""
    end = part.offset + len(part.source)
    close = text.find("}}", end)
    return close + 2 - end - 1


def _paren(source: str) -> str:
    return source if SIMPLE_CEL.match(source) else f"({source})"


def _is_string_literal(text: str) -> bool:
    if len(text) < 2 or not text.startswith('"') or not text.endswith('"'):
        return False
    import json

    try:
        return isinstance(json.loads(text), str)
    except ValueError:
        return False


def _local_name(ctx: _Ctx, state_id: str) -> str:
    return (
        state_id[len(ctx.prefix) :] if ctx.prefix and state_id.startswith(ctx.prefix) else state_id
    )


def _collect_ids(node: YNode | None) -> set[str]:
    """State ids defined in a ``states:`` tree (not inside child workflows)."""
    found: set[str] = set()
    if not isinstance(node, YMap):
        return found
    for entry in node:
        found.add(entry.key)
        if isinstance(entry.value, YMap):
            found |= _collect_ids(entry.value.value("states"))
    return found
