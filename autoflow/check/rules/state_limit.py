"""``state-limit``: the exploration reached ``--max-states`` and stopped.

Never a silent truncation: rules whose verdict needs the whole state space
(unreachable-state, livelock, the "never fires" case of dead-transition) say
nothing on a truncated exploration; deadlocks found are still real."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.model.ir import Chart

ID = "state-limit"
SEVERITY = Severity.WARNING
DESCRIPTION = "The exploration stopped at --max-states; some rules were skipped."


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if space.truncated:
        yield Diagnostic(
            ID,
            SEVERITY,
            f"exploration stopped at {space.max_states} states (--max-states): "
            "unreachable-state, livelock and dead-transition verdicts that need the whole "
            "state space are skipped; raise --max-states to check completely",
            model.span,
        )
