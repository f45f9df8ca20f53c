"""``dead-transition``: a transition that can never fire.

Its source state is unreachable, an earlier transition of the same state on
the same events (with no guard) always takes priority, its guard is
unsatisfiable, or — on a complete exploration — no reachable configuration
fires it.
"""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.guards import Verdict
from autoflow.check.rules.common import finding, matches, transitions
from autoflow.model.ir import Chart, Transition

ID = "dead-transition"
SEVERITY = Severity.WARNING
DESCRIPTION = "A transition that can never fire."


def _covers(earlier: Transition, later: Transition) -> bool:
    """``earlier`` (no guard) takes every event ``later`` takes."""
    if earlier.guard is not None or earlier.timer is not None or later.timer is not None:
        return False
    if not earlier.events or not later.events:
        return not earlier.events and not later.events
    return all(any(matches(e, d.removesuffix(".*")) for e in earlier.events) for d in later.events)


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    for state, index, t, tid in transitions(model):
        if tid in space.fired:
            continue
        where = space.entered.get(state.id)
        label = f"transition {tid} ({_describe(t)})"
        shadow = next((k for k, e in enumerate(state.transitions[:index]) if _covers(e, t)), None)
        if shadow is not None:
            earlier = state.transitions[shadow]
            yield finding(
                ID,
                SEVERITY,
                f"{label} can never fire: the earlier transition {state.id}#{shadow} at line "
                f"{earlier.span.line} takes the same events without a guard and always wins",
                space,
                where,
                span_of=t,
                states_involved=(state.id,),
            )
            continue
        if t.guard is not None and space.reasoner is not None:
            solution = space.reasoner.solve([t.guard])
            if solution.verdict is Verdict.UNSAT:
                yield finding(
                    ID,
                    SEVERITY,
                    f"{label} can never fire: its guard is unsatisfiable",
                    space,
                    where,
                    span_of=t,
                    states_involved=(state.id,),
                )
                continue
        if not space.complete:
            continue
        if where is None:
            yield finding(
                ID,
                SEVERITY,
                f"{label} can never fire: its source state {state.id!r} is never active",
                space,
                None,
                span_of=t,
                states_involved=(state.id,),
            )
        else:
            yield finding(
                ID,
                SEVERITY,
                f"{label} never fires in any reachable configuration (another transition always "
                "takes priority, or its event or guard outcome never occurs there)",
                space,
                where,
                span_of=t,
                states_involved=(state.id,),
            )


def _describe(t: Transition) -> str:
    if t.timer is not None:
        what = f"{t.timer.kind.value} {t.timer.expr.source}"
    elif t.events:
        what = "on " + " ".join(t.events)
    else:
        what = "eventless"
    if t.guard is not None:
        what += " if " + " ".join(t.guard.source.split())
    return what
