"""``deadlock``: a reachable, non-final configuration nothing can ever leave."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.rules.common import finding
from autoflow.model.ir import Chart

ID = "deadlock"
SEVERITY = Severity.ERROR
DESCRIPTION = (
    "A reachable configuration that is not final and that no event, timer or eventless "
    "transition can leave."
)


def stuck_nodes(space: StateSpace) -> list[int]:
    """Fully expanded, not completed nodes whose every successor is themselves."""
    found = []
    for node in space.nodes:
        if node.snapshot.done or node.index not in space.expanded or node.index in space.partial:
            continue
        if all(target == node.index for target, _ in space.successors.get(node.index, [])):
            found.append(node.index)
    return found


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    reported: set[tuple[str, ...]] = set()
    for index in stuck_nodes(space):  # BFS order: the first of each is the shortest
        active = space.active(index)
        if active in reported:
            continue
        reported.add(active)
        state = model.index.states.get(active[0]) if active else None
        yield finding(
            ID,
            SEVERITY,
            f"the workflow gets stuck in {', '.join(active)}: no event, timer or eventless "
            "transition can leave this configuration and it is not final",
            space,
            index,
            span_of=state,
            states_involved=active,
        )
