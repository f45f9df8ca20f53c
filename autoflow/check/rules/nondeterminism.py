"""``nondeterminism``: two transitions of one state on one event whose guards can both
be true.  Document order then silently decides; the witness shows values where it does.

A transition without a guard after guarded ones is an explicit "else" and is not
reported (an unguarded one *before* others is a ``dead-transition``).
"""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.guards import Verdict
from autoflow.check.rules.common import finding, overlap, states
from autoflow.model.ir import Chart

ID = "nondeterminism"
SEVERITY = Severity.WARNING
DESCRIPTION = "Two transitions of one state on one event whose guards can both be true."


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if space.reasoner is None:
        return
    for state in states(model):
        candidates = [
            (k, t)
            for k, t in enumerate(state.transitions)
            if t.guard is not None and t.timer is None
        ]
        for position, (i, first) in enumerate(candidates):
            for j, second in candidates[position + 1 :]:
                assert first.guard is not None
                assert second.guard is not None
                both_eventless = not first.events and not second.events
                if not both_eventless and not overlap(first.events, second.events):
                    continue
                solution = space.reasoner.solve([first.guard, second.guard])
                if solution.verdict is not Verdict.SAT:
                    continue
                event = "eventless" if both_eventless else "on " + " ".join(second.events)
                values = ", ".join(f"{k} = {v!r}" for k, v in solution.values.items())
                yield finding(
                    ID,
                    SEVERITY,
                    f"transitions {state.id}#{i} and {state.id}#{j} ({event}) can both be "
                    f"enabled, e.g. when {values or 'always'}; {state.id}#{i} wins by document "
                    "order",
                    space,
                    space.entered.get(state.id),
                    span_of=second,
                    states_involved=(state.id,),
                    witness=solution.values,
                )
