"""``livelock``: reachable configurations from which no final state can be reached."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.rules.common import finding
from autoflow.check.rules.deadlock import stuck_nodes
from autoflow.model.ir import Chart, StateKind

ID = "livelock"
SEVERITY = Severity.ERROR
DESCRIPTION = (
    "Reachable configurations from which no final state can be reached (cycles with no exit)."
)


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if not space.complete or not any(s.kind is StateKind.FINAL for s in model.states):
        return  # incomplete, or a chart that is meant to run forever
    predecessors: dict[int, list[int]] = {}
    for source, edges in space.successors.items():
        for target, _ in edges:
            predecessors.setdefault(target, []).append(source)
    can_finish = {n.index for n in space.nodes if n.snapshot.done}
    stack = list(can_finish)
    while stack:
        for source in predecessors.get(stack.pop(), []):
            if source not in can_finish:
                can_finish.add(source)
                stack.append(source)
    stuck = set(stuck_nodes(space))
    trapped = [n.index for n in space.nodes if n.index not in can_finish]
    reported: set[frozenset[str]] = set()
    for index in trapped:  # BFS order: entry points first
        if index in stuck:
            continue
        parent = space.nodes[index].parent
        if parent is not None and parent not in can_finish:
            continue  # not where the trap is entered
        nodes, region = _region(space, index)
        if nodes & stuck:
            continue  # it ends in a deadlock, reported as such
        if region & {a for r in reported for a in r}:
            continue
        reported.add(frozenset(region))
        active = space.active(index)
        state = model.index.states.get(active[0]) if active else None
        yield finding(
            ID,
            SEVERITY,
            f"after this trace no final state can be reached: the workflow keeps cycling through "
            f"{', '.join(sorted(region))}",
            space,
            index,
            span_of=state,
            states_involved=tuple(sorted(region)),
        )


def _region(space: StateSpace, start: int) -> tuple[set[int], set[str]]:
    seen = {start}
    stack = [start]
    states: set[str] = set()
    while stack:
        index = stack.pop()
        states.update(space.active(index))
        for target, _ in space.successors.get(index, []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen, states
