"""``undefined-variable`` (error): a CEL expression reads data the workflow never
declares (or an action assigns to it)."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.model.cel import ast, span_of
from autoflow.model.ir import (
    Action,
    Assign,
    Call,
    Chart,
    Expr,
    Foreach,
    If,
    Send,
    walk_states,
)
from autoflow.model.span import Span

ID = "undefined-variable"
SEVERITY = Severity.ERROR
DESCRIPTION = "A CEL expression reads data the workflow never declares."

SYSTEM = frozenset({"event", "_event", "now", "_sessionid", "_name", "_ioprocessors", "_x"})


def _declared(chart: Chart) -> set[str]:
    names = {d.id for d in chart.datamodel}
    for state in walk_states(chart.states):
        names.update(d.id for d in state.datamodel)
    return names


def _problems(chart: Chart, extra: frozenset[str]) -> Iterator[tuple[str, Span, str]]:
    declared = _declared(chart) | SYSTEM | extra

    def expr(e: Expr | None, scope: frozenset[str]) -> Iterator[tuple[str, Span, str]]:
        if e is None:
            return
        try:
            program = e.program
        except Exception:
            return
        for name in sorted(program.free_variables - declared - scope):
            node = next(
                (n for n in ast.walk(program.ast) if isinstance(n, ast.Ident) and n.name == name),
                None,
            )
            where = span_of(program, node, e.span) if node is not None else e.span
            yield name, where, "reads"

    def actions(
        block: tuple[Action, ...], scope: frozenset[str]
    ) -> Iterator[tuple[str, Span, str]]:
        for action in block:
            if isinstance(action, Assign):
                root = action.location.split(".")[0]
                if root not in declared and root not in scope:
                    yield root, action.span, "assigns"
                yield from expr(action.expr, scope)
            elif isinstance(action, If):
                for branch in action.branches:
                    yield from expr(branch.cond, scope)
                    yield from actions(branch.actions, scope)
            elif isinstance(action, Foreach):
                yield from expr(action.array, scope)
                inner = scope | {action.item} | ({action.index} if action.index else set())
                yield from actions(action.actions, frozenset(inner))
            elif isinstance(action, Call):
                for param in action.args:
                    yield from expr(param.expr, scope)
                if action.result is not None:
                    root = action.result.split(".")[0]
                    if root not in declared:
                        yield root, action.span, "assigns"
            elif isinstance(action, Send):
                for e in (action.eventexpr, action.targetexpr, action.delay, action.content):
                    yield from expr(e, scope)
                for param in action.params:
                    yield from expr(param.expr, scope)
            else:
                for name in ("expr", "sendidexpr"):
                    value = getattr(action, name, None)
                    if isinstance(value, Expr):
                        yield from expr(value, scope)

    empty: frozenset[str] = frozenset()
    for state in walk_states(chart.states):
        for block in (*state.on_entry, *state.on_exit):
            yield from actions(block, empty)
        for t in state.transitions:
            yield from expr(t.guard, empty)
            if t.timer is not None:
                yield from expr(t.timer.expr, empty)
            yield from actions(t.actions, empty)
        if state.initial is not None:
            yield from actions(state.initial.actions, empty)
        if state.donedata is not None:
            yield from expr(state.donedata.content, empty)
            for param in state.donedata.params:
                yield from expr(param.expr, empty)
        for invoke in state.invokes:
            yield from expr(invoke.foreach, empty)
            for param in invoke.params:
                yield from expr(param.expr, empty)
            if invoke.join is not None:
                yield from expr(invoke.join.count, empty)
                yield from expr(invoke.join.timeout, empty)
            yield from actions(invoke.finalize, empty)
            if invoke.chart is not None:
                inner = {p.name for p in invoke.params} | set(invoke.namelist)
                if invoke.item:
                    inner.add(invoke.item)
                yield from _problems(invoke.chart, frozenset(inner))
    for data in chart.datamodel:
        yield from expr(data.expr, empty)
    for trigger in chart.triggers:
        yield from expr(trigger.filter, empty)
        yield from expr(trigger.key, empty)


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    seen: set[tuple[str, str, int, int]] = set()
    for name, span, verb in _problems(model, frozenset()):
        key = (name, span.path, span.line, span.col)
        if key in seen:
            continue
        seen.add(key)
        yield Diagnostic(
            ID,
            SEVERITY,
            f"{verb} {name!r}, which the workflow never declares (add it under `data:`)",
            span,
        )
