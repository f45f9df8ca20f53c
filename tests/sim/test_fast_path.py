"""The engine's fast path takes exactly the steps the general algorithm would take.

``step()`` first tries a path without sessions (guards and assignments only,
nothing on exit or entry); whenever that path gives up, the general algorithm
runs.  Here every step is taken both ways from the same snapshot and the
results must be equal: snapshot, effects and microsteps.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from engine_charts import EVENTS, random_tree, to_chart
from hypothesis import given, settings
from hypothesis import strategies as st

from autoflow.model.ir import (
    Assign,
    Chart,
    Data,
    Expr,
    Raise,
    State,
    StateKind,
    Transition,
)
from autoflow.sim import engine
from autoflow.sim.engine import Event

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _compare(chart: Chart, events: list[Event]) -> int:
    """Run ``events`` both ways; return how many steps the fast path took."""
    tables = engine._tables(chart)
    snapshot = engine.start(chart, START, instance="i-1").snapshot
    now = START
    taken = 0
    for event in events:
        now += timedelta(minutes=1)
        fast = engine._fast_step(tables, snapshot, event, now)
        general = engine._general_step(chart, snapshot, event, now)
        if fast is not None:
            taken += 1
            assert fast == general, (event, snapshot)
        # the public function agrees with both (the caches are warm now)
        assert engine.step(chart, snapshot, event, now) == general
        snapshot = general.snapshot
    return taken


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.sampled_from(EVENTS), max_size=30))
def test_random_charts_same_steps_both_ways(seed: int, names: list[str]) -> None:
    chart = to_chart(random_tree(random.Random(seed)))
    _compare(chart, [Event(name, {"k": name}) for name in names])


def test_random_charts_use_the_fast_path() -> None:
    taken = 0
    for seed in range(40):
        rnd = random.Random(seed)
        chart = to_chart(random_tree(rnd))
        taken += _compare(chart, [Event(rnd.choice(EVENTS)) for _ in range(40)])
    assert taken > 200


def _cycle(guard: str | None, assign: str | None, **extra: object) -> Chart:
    """a1 -> a2 -> a1 on ``go`` with the given guard and assignment to ``n``."""

    def tr(target: str) -> Transition:
        return Transition(
            events=("go",),
            guard=Expr(guard) if guard else None,
            targets=(target,),
            actions=(Assign("n", Expr(assign)),) if assign else (),
        )

    states = (
        State("a1", StateKind.ATOMIC, transitions=(tr("a2"),)),
        State("a2", StateKind.ATOMIC, transitions=(tr("a1"),)),
        *extra.get("more", ()),  # type: ignore[misc]
    )
    return Chart(
        "cycle",
        (State("a", StateKind.COMPOUND, states, Transition(targets=("a1",))),),
        Transition(targets=("a",)),
        datamodel=(Data("n", Expr("0")), Data("log", Expr("[]"))),
    )


def _events(*data: object) -> list[Event]:
    return [Event("go", d) for d in data]


def test_guards_and_assignments_are_fast() -> None:
    chart = _cycle("n < 100 && event.w > 0", "n + event.w")
    assert _compare(chart, _events(*({"w": i % 3} for i in range(20)))) >= 15


def test_guard_errors_and_non_booleans_fall_back() -> None:
    # a missing key (error.execution) and a non-boolean guard on some steps
    chart = _cycle("event.w > 0", "n + 1")
    _compare(chart, _events({"w": 1}, {}, {"w": 2}, {"w": 0}, {"x": 1}, {"w": 1}))
    chart = _cycle("event", "n + 1")
    _compare(chart, _events(True, 1, False, "yes", True, None))


def test_assignment_errors_fall_back() -> None:
    chart = _cycle(None, "n / event")
    _compare(chart, _events(1, 0, 2, 0, 1, 1))


def test_in_during_transition_content_sees_the_source_exited() -> None:
    chart = _cycle(None, "In('a1') ? 10 : (In('a2') ? 20 : 30)")
    assert _compare(chart, _events(*range(8))) >= 6


def test_eventless_guards_read_the_new_event_and_time() -> None:
    # an eventless transition whose guard reads the external event: it can become
    # enabled by an event that no transition takes
    out = State(
        "out",
        StateKind.ATOMIC,
        transitions=(Transition(events=("back",), targets=("a1",)),),
    )
    eventless = Transition(guard=Expr("event == 'leave'"), targets=("out",))
    chart = _cycle(None, "n + 1", more=(out,))
    a = chart.states[0]
    a1, a2, out = a.children
    a1 = State("a1", StateKind.ATOMIC, transitions=(*a1.transitions, eventless))
    a = State(a.id, a.kind, (a1, a2, out), a.initial)
    chart = Chart(chart.name, (a,), chart.initial, datamodel=chart.datamodel)
    events = [
        Event("go"),
        Event("go"),
        Event("other", "stay"),
        Event("other", "leave"),  # nothing takes it, but now the eventless one is enabled
        Event("back"),
        Event("go", "leave"),
        Event("go", "leave"),  # back in a1, and out at once
        Event("back"),
        Event("go"),
        Event("go"),
        Event("other", "leave"),
    ]
    assert _compare(chart, events) >= 3


def test_raise_and_undeclared_locations_fall_back() -> None:
    chart = _cycle(None, None)
    a = chart.states[0]
    a1, a2 = a.children
    a1 = State(
        "a1",
        StateKind.ATOMIC,
        transitions=(
            Transition(events=("go",), targets=("a2",), actions=(Raise("noted"),)),
            Transition(events=("set",), actions=(Assign("nope", Expr("1")),)),
        ),
    )
    a2 = State(
        "a2",
        StateKind.ATOMIC,
        transitions=(
            Transition(events=("go",), targets=("a1",)),
            Transition(events=("noted",), actions=(Assign("n", Expr("n + 1")),)),
        ),
    )
    a = State(a.id, a.kind, (a1, a2), a.initial, transitions=a.transitions)
    chart = Chart(chart.name, (a,), chart.initial, datamodel=chart.datamodel)
    _compare(chart, [Event(n) for n in ("go", "go", "set", "go", "noted", "set", "go")])


def test_late_binding_state_data() -> None:
    chart = _cycle(None, "n + 1")
    a = chart.states[0]
    a1, a2 = a.children
    a2 = State(
        "a2", StateKind.ATOMIC, transitions=a2.transitions, datamodel=(Data("m", Expr("n")),)
    )
    a = State(a.id, a.kind, (a1, a2), a.initial)
    chart = Chart(chart.name, (a,), chart.initial, datamodel=chart.datamodel, binding="late")
    _compare(chart, _events(*range(6)))


def test_expressions_read_system_variables_macros_and_shadowed_data() -> None:
    # data named like system variables is hidden by them; macros copy the activation
    chart = _cycle(
        "_event.name == 'go' && _sessionid == 'i-1' && _name == 'cycle' && now > timestamp("
        "'2026-01-01T00:00:00Z') && [1, 2].all(x, x < n + 3) && has(_ioprocessors.scxml)",
        "event.w + size(log) + (has(event.extra) ? 100 : 0)",
    )
    chart = Chart(
        chart.name,
        chart.states,
        chart.initial,
        datamodel=(*chart.datamodel, Data("event", Expr("'shadowed'")), Data("now", Expr("0"))),
    )
    events = _events(*({"w": i, **({"extra": 1} if i % 3 == 0 else {})} for i in range(12)))
    assert _compare(chart, events) >= 9
    # an undefined name is an error both ways (error.execution, then the general path)
    chart = _cycle("undefined_name > 0 || n < 100", "n + 1")
    _compare(chart, _events(*range(5)))
