"""Helpers the rules share: locations, traces, state lookups."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace, Step, transition_id
from autoflow.model.ir import Chart, State, StateKind, Transition, walk_states

#: Event names the engine produces itself: never external inputs.
INTERNAL_PREFIXES = ("done.state.", "done.invoke.", "error.execution", "error.communication",
                     "error.platform", "autoflow.timer.")  # fmt: skip


def states(chart: Chart) -> list[State]:
    """Every state but history pseudo-states, in document order."""
    return [s for s in walk_states(chart.states) if s.kind is not StateKind.HISTORY]


def transitions(chart: Chart) -> Iterator[tuple[State, int, Transition, str]]:
    for state in states(chart):
        for index, t in enumerate(state.transitions):
            yield state, index, t, transition_id(state, index)


def matches(descriptor: str, name: str) -> bool:
    descriptor = descriptor.removesuffix(".*")
    return descriptor == "*" or name == descriptor or name.startswith(descriptor + ".")


def overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Can one event be taken by a descriptor of ``a`` and one of ``b``?"""
    return any(matches(x, y) or matches(y, x) for x in a for y in b)


def finding(
    rule: str,
    severity: Severity,
    message: str,
    space: StateSpace,
    node: int | None,
    *,
    span_of: State | Transition | None,
    states_involved: tuple[str, ...] = (),
    extra: Step | None = None,
    witness: dict[str, object] | None = None,
) -> Diagnostic:
    """A diagnostic with the shortest trace to ``node`` (when given)."""
    trace = space.trace(node, extra) if node is not None or extra is not None else ()
    if node is not None or extra is not None:
        assumed = space.assumed_outcomes(node, extra)
        if assumed:
            outcomes = "; ".join(
                f"the guard of {tid} (`{_guard_source(space.chart, tid)}`) is "
                f"{'true' if value else 'false'}"
                for tid, value in assumed
            )
            message += (
                f" (this trace needs an assumption the checker cannot decide: {outcomes}; "
                "replayed as is, the guard is evaluated for real and may decide otherwise)"
            )
    span = span_of.span if span_of is not None else space.chart.span
    reached = space.active(node) if node is not None and extra is None else ()
    return Diagnostic(rule, severity, message, span, states_involved, trace, witness, reached)


def _guard_source(chart: Chart, tid: str) -> str:
    source, _, number = tid.rpartition("#")
    state = chart.index.states.get(source)
    if state is None or not number.isdigit() or int(number) >= len(state.transitions):
        return "?"
    guard = state.transitions[int(number)].guard
    return " ".join(guard.source.split()) if guard is not None else "?"


def reachable_or_unknown(space: StateSpace, state_id: str) -> bool:
    return state_id in space.entered or space.truncated
