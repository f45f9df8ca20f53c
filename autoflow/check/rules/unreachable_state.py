"""``unreachable-state``: no reachable configuration contains the state."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.rules.common import finding, states
from autoflow.model.ir import Chart

ID = "unreachable-state"
SEVERITY = Severity.WARNING
DESCRIPTION = "A state that no reachable configuration contains."


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if not space.complete:
        return  # an incomplete exploration proves nothing unreachable
    for state in states(model):
        if state.id not in space.entered:
            yield finding(
                ID,
                SEVERITY,
                f"state {state.id!r} is never active: no event, timer or guard outcome leads to it",
                space,
                None,
                span_of=state,
                states_involved=(state.id,),
            )
