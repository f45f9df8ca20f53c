"""``eventless-cycle``: eventless transitions that can loop forever inside one macrostep.

Found two ways: the engine gives up on a macrostep during exploration (a real,
reachable loop, with its trace), and structurally — a cycle of eventless
transitions without guards, reported even where exploration did not reach it.
"""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace, Step
from autoflow.check.rules.common import finding, states
from autoflow.model.ir import Chart, State, StateKind, Transition

ID = "eventless-cycle"
SEVERITY = Severity.ERROR
DESCRIPTION = "Eventless transitions that can loop forever inside one macrostep."


def _entered(chart: Chart, target: str) -> list[str]:
    """``target`` and the states its default entry goes through."""
    result = [target]
    state = chart.index.states.get(target)
    while state is not None and state.kind is StateKind.COMPOUND and state.initial is not None:
        if not state.initial.targets:
            break
        target = state.initial.targets[0]
        result.append(target)
        state = chart.index.states.get(target)
    return result


def _static_cycles(chart: Chart) -> list[tuple[list[str], Transition, State]]:
    graph: dict[str, list[tuple[str, Transition, State]]] = {}
    for state in states(chart):
        for t in state.transitions:
            if t.events or t.timer is not None or t.guard is not None or not t.targets:
                continue
            for target in t.targets:
                for entered in _entered(chart, target):
                    graph.setdefault(state.id, []).append((entered, t, state))
                    # a compound source is left from any descendant
    cycles: list[tuple[list[str], Transition, State]] = []
    seen: set[frozenset[str]] = set()
    for start in graph:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for target, t, source in graph.get(node, []):
                if target == start:
                    key = frozenset(path)
                    if key not in seen:
                        seen.add(key)
                        cycles.append((path, t, source))
                elif target not in path and len(path) < 50:
                    stack.append((target, [*path, target]))
    return cycles


def _guard_error(
    model: Chart,
    space: StateSpace,
    index: int | None,
    step: Step,
    cause: tuple[str, str],
    when: str,
) -> Diagnostic:
    """A loop of evaluation errors: the guard is the culprit, not the transitions."""
    tid, error = cause
    source_id, number = tid.rsplit("#", 1)
    source = model.index.states[source_id]
    transition = source.transitions[int(number)]
    guard = " ".join(transition.guard.source.split()) if transition.guard is not None else ""
    return finding(
        ID,
        SEVERITY,
        f"the guard of eventless transition {tid} (`{guard}`) fails to evaluate {when}: "
        f"{error}; each failure raises error.execution, after which eventless transitions "
        "are tried again and the guard fails again, forever (make the guard safe to "
        "evaluate, e.g. with has(), or handle error.execution)",
        space,
        index,
        span_of=transition,
        states_involved=(source_id,),
        extra=step,
    )


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    cycles = _static_cycles(model)
    merged: set[int] = set()
    reported: set[str] = set()
    for position, (index, step, message) in enumerate(space.loops):
        if any("=" in a for a in step.assumed):
            continue  # forced by an assumed eventless guard outcome: not evidence
        active = space.active(index) if index is not None else ()
        key = ",".join(active) + "|" + (step.event or "")
        if key in reported:
            continue
        reported.add(key)
        what = "the next timer" if step.event is None else f"event {step.event}"
        where = f" in {', '.join(active)}" if active else " (the start)"
        cause = space.guard_errors.get(position)
        if cause is not None:
            yield _guard_error(model, space, index, step, cause, f"after {what}{where}")
            continue
        # the structural cycle the engine was caught in, when there is one
        cycle = next(
            (k for k, (path, _, _) in enumerate(cycles) if any(f"'{s}'" in message for s in path)),
            None,
        )
        if cycle is not None:
            merged.add(cycle)
            path, transition, _ = cycles[cycle]
            yield finding(
                ID,
                SEVERITY,
                f"eventless transitions loop forever after {what}{where}: "
                + " -> ".join([*path, path[0]]),
                space,
                index,
                span_of=transition,
                states_involved=tuple(path),
                extra=step,
            )
            continue
        state = model.index.states.get(active[0]) if active else None
        yield finding(
            ID,
            SEVERITY,
            f"eventless transitions loop forever after {what}{where} ({message})",
            space,
            index,
            span_of=state,
            states_involved=active,
            extra=step,
        )
    for k, (path, transition, _) in enumerate(cycles):
        if k in merged:
            continue
        yield finding(
            ID,
            SEVERITY,
            "eventless transitions without guards form a cycle: "
            + " -> ".join([*path, path[0]])
            + "; entering it loops forever",
            space,
            space.entered.get(path[0]),
            span_of=transition,
            states_involved=tuple(path),
        )
