"""``wait-without-timeout`` (warning): in a workflow, a state that only waits for
external or human events (webhooks, a human task's answer) with no timer and no
eventless way out: if nobody acts, the instance waits forever."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.rules.common import INTERNAL_PREFIXES, finding, states
from autoflow.model.ir import Call, Chart, StateKind, walk_actions, walk_states

ID = "wait-without-timeout"
SEVERITY = Severity.WARNING
DESCRIPTION = "A state that only waits for external or human events, with no timer."

HUMAN_EFFECTS = ("task.create",)


def _human_stems(chart: Chart) -> set[str]:
    stems = set()
    for state in walk_states(chart.states):
        blocks = [*state.on_entry, *state.on_exit, *(t.actions for t in state.transitions)]
        for block in blocks:
            for action in walk_actions(block):
                if isinstance(action, Call) and action.effect in HUMAN_EFFECTS:
                    stems.add(action.id or action.effect)
    return stems


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if not model.triggers:
        return  # an SCXML chart's external events are its interface
    human = _human_stems(model)
    for state in states(model):
        if state.kind is not StateKind.ATOMIC or state.invokes:
            continue
        if state.id not in space.entered and not space.truncated:
            continue
        chain = [state, *(model.index.states[a] for a in model.index.ancestors(state.id))]
        waits = [t for s in chain for t in s.transitions]
        if any(t.timer is not None or (not t.events) for t in waits):
            continue
        if any(s.invokes for s in chain):
            continue
        external = []
        machine = False
        for t in waits:
            for d in t.events:
                if d.startswith(("done.effect.", "error.effect.")):
                    stem = d.split(".", 2)[2]
                    if stem in human:
                        external.append(d)
                    else:
                        machine = True
                elif not d.startswith(INTERNAL_PREFIXES):
                    external.append(d)
                else:
                    machine = True
        if not external or machine:
            continue
        yield finding(
            ID,
            SEVERITY,
            f"state {state.id!r} waits only for {', '.join(sorted(set(external)))} with no "
            "timer: if nobody acts, the instance waits forever (add `after:`)",
            space,
            space.entered.get(state.id),
            span_of=state,
            states_involved=(state.id,),
        )
