"""``unknown-event`` (warning): in a workflow that declares its triggers, a transition
on an event that no trigger, ``send``, ``raise`` or effect result can produce.

An SCXML chart declares no triggers: its external events are its interface, so
this rule reports nothing there."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.check.rules.common import INTERNAL_PREFIXES, matches, overlap, transitions
from autoflow.model.ir import Call, Chart, Raise, Send, walk_actions, walk_states

ID = "unknown-event"
SEVERITY = Severity.WARNING
DESCRIPTION = "A transition on an event nothing can produce (workflows with triggers)."


def produced(chart: Chart) -> tuple[set[str], set[str]]:
    """Event names raised or sent inside the chart, and effect stems it calls."""
    events: set[str] = set()
    stems: set[str] = set()

    def visit(c: Chart) -> None:
        for state in walk_states(c.states):
            blocks = [*state.on_entry, *state.on_exit, *(t.actions for t in state.transitions)]
            if state.initial is not None:
                blocks.append(state.initial.actions)
            for invoke in state.invokes:
                blocks.append(invoke.finalize)
                if invoke.chart is not None:
                    visit(invoke.chart)
            for block in blocks:
                for action in walk_actions(block):
                    name = _event_name(action)
                    if name is not None:
                        events.add(name)
                    elif isinstance(action, Send):
                        events.add("*")  # eventexpr: could be anything
                    elif isinstance(action, Call):
                        stems.add(action.id or action.effect)

    visit(chart)
    return events, stems


def _event_name(action: object) -> str | None:
    if isinstance(action, Raise | Send):
        return action.event
    return None


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if not model.triggers:
        return
    events, stems = produced(model)
    if "*" in events:
        return
    trigger_events = tuple(e for trigger in model.triggers for e in trigger.events)
    for state, _, t, tid in transitions(model):
        for descriptor in t.events:
            d = descriptor.removesuffix(".*")
            if d == "*" or d.startswith(INTERNAL_PREFIXES) or d in ("done", "error"):
                continue
            if d.startswith(("done.effect.", "error.effect.")):
                stem = d.split(".", 2)[2]
                if any(matches(d, f"{d.split('.', 2)[0]}.effect.{s}") for s in stems) or (
                    stem in stems
                ):
                    continue
                source = "no call has this id or effect name"
            elif overlap((d,), trigger_events) or any(matches(d, e) for e in events):
                continue
            else:
                source = "no trigger, send or raise produces it"
            yield finding_for(space, state.id, t, tid, descriptor, source)


def finding_for(
    space: StateSpace, state_id: str, t: object, tid: str, descriptor: str, source: str
) -> Diagnostic:
    from autoflow.check.rules.common import finding

    return finding(
        ID,
        SEVERITY,
        f"transition {tid} waits for {descriptor!r}, which never reaches this workflow: {source}",
        space,
        space.entered.get(state_id),
        span_of=t,  # type: ignore[arg-type]
        states_involved=(state_id,),
    )
