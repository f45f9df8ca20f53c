"""The engine's own behaviour beyond the W3C suite: timers, effects, fan-out, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autoflow.errors import SimulationError
from autoflow.model.ir import (
    Assign,
    Call,
    Chart,
    Data,
    Expr,
    Invoke,
    Join,
    JoinKind,
    Param,
    Raise,
    Send,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
)
from autoflow.sim import engine
from autoflow.sim.engine import Event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def atomic(name: str, *transitions: Transition, **kw: object) -> State:
    return State(name, StateKind.ATOMIC, transitions=transitions, **kw)  # type: ignore[arg-type]


def chart(*states: State, data: tuple[Data, ...] = ()) -> Chart:
    return Chart("t", states, Transition(targets=(states[0].id,)), datamodel=data)


def on(event: str, target: str | None = None, **kw: object) -> Transition:
    return Transition(events=(event,), targets=(target,) if target else (), **kw)  # type: ignore[arg-type]


def after(expr: str, target: str) -> Transition:
    return Transition(timer=Timer(TimerKind.AFTER, Expr(expr)), targets=(target,))


def test_after_timer_starts_on_entry_and_fires_when_due() -> None:
    c = chart(atomic("wait", after('duration("48h")', "late")), atomic("late"))
    snap = engine.start(c, T0).snapshot
    assert engine.next_due(snap) == T0 + timedelta(days=2)
    assert snap.timers[0].event.name == "autoflow.timer.wait.0"
    early = engine.fire_due(c, snap, T0 + timedelta(days=1))
    assert early.snapshot.configuration == ("wait",)
    result = engine.fire_due(c, snap, T0 + timedelta(days=3))
    assert result.snapshot.configuration == ("late",)
    assert result.microsteps[0].transitions == ("wait -> late",)
    assert result.snapshot.timers == ()


def test_leaving_the_state_cancels_its_timer() -> None:
    c = chart(
        atomic("wait", after("3600", "late"), on("answer", "done")), atomic("late"), atomic("done")
    )
    snap = engine.start(c, T0).snapshot
    snap = engine.step(c, snap, Event("answer"), T0).snapshot
    assert snap.timers == ()
    assert engine.fire_due(c, snap, T0 + timedelta(hours=2)).snapshot.configuration == ("done",)


def test_at_timer_uses_the_deadline() -> None:
    c = chart(
        atomic(
            "wait",
            Transition(
                timer=Timer(TimerKind.AT, Expr('timestamp("2026-03-09T09:00:00Z")')),
                targets=("monday",),
            ),
        ),
        atomic("monday"),
    )
    snap = engine.start(c, T0).snapshot
    assert engine.next_due(snap) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_call_effect_ids_and_result_assignment() -> None:
    c = chart(
        atomic(
            "open",
            on("done.effect.issue", "opened"),
            on_entry=(
                (
                    Call(
                        "gitlab.issues.create", (Param("title", Expr("'Retro'")),), "issue", "made"
                    ),
                    Call("notify", (Param("to", Expr("'sre'")),)),
                ),
            ),
        ),
        atomic("opened"),
        data=(Data("made"),),
    )
    result = engine.start(c, T0, instance="retro-1")
    assert [(e.id, e.effect, e.args, e.result_event) for e in result.effects] == [
        ("retro-1:0:0", "gitlab.issues.create", {"title": "Retro"}, "issue"),
        ("retro-1:0:1", "notify", {"to": "sre"}, "notify"),
    ]
    snap = engine.step(c, result.snapshot, Event("done.effect.issue", {"iid": 7}), T0).snapshot
    assert snap.configuration == ("opened",)
    assert snap.datamodel["made"] == {"iid": 7}


def test_failed_expression_raises_error_execution_and_keeps_running() -> None:
    c = chart(
        atomic(
            "s",
            on("go", "t", actions=(Assign("x", Expr("1 / 0")), Assign("y", Expr("2")))),
        ),
        atomic("t", on("error.execution", "caught")),
        atomic("caught"),
        data=(Data("x", Expr("0")), Data("y", Expr("0"))),
    )
    snap = engine.step(c, engine.start(c, T0).snapshot, Event("go"), T0).snapshot
    assert snap.configuration == ("caught",)
    assert snap.datamodel == {"x": 0, "y": 0}  # the block stopped at the failing action


def test_internal_events_before_external_ones() -> None:
    c = chart(
        atomic(
            "s",
            on("go", "a", actions=(Send(event="ext"), Raise("int"))),
        ),
        atomic("a", on("int", "b"), on("ext", "wrong")),
        atomic("b", on("ext", "c")),
        atomic("c"),
        atomic("wrong"),
    )
    snap = engine.step(c, engine.start(c, T0).snapshot, Event("go"), T0).snapshot
    assert snap.configuration == ("c",)


def test_completed_instance_keeps_its_configuration() -> None:
    c = chart(atomic("s", on("finish", "end")), State("end", StateKind.FINAL))
    snap = engine.step(c, engine.start(c, T0).snapshot, Event("finish"), T0).snapshot
    assert snap.done
    assert snap.configuration == ("end",)
    assert engine.active_atomic(snap, c) == ("end",)
    assert engine.step(c, snap, Event("finish"), T0).snapshot is snap


def test_eventless_loop_is_reported_not_hung() -> None:
    c = chart(
        atomic("a", Transition(targets=("b",))),
        atomic("b", Transition(targets=("a",))),
    )
    with pytest.raises(SimulationError, match="microsteps in one macrostep"):
        engine.start(c, T0)


def _fan_out(join: Join) -> Chart:
    child = Chart(
        "task",
        (
            atomic(
                "open",
                on("closed", "answered", guard=Expr("event.who == who")),
                on_entry=((Call("task.create", (Param("assignee", Expr("who")),), "task"),),),
            ),
            State("answered", StateKind.FINAL),
        ),
        Transition(targets=("open",)),
    )
    return chart(
        State(
            "collect",
            StateKind.ATOMIC,
            invokes=(
                Invoke(
                    id="forms",
                    chart=child,
                    foreach=Expr("members"),
                    item="who",
                    autoforward=True,
                    join=join,
                ),
            ),
            transitions=(
                on("done.invoke.forms", "report", actions=(Assign("result", Expr("event")),)),
            ),
        ),
        atomic("report"),
        data=(Data("members", Expr("['ann', 'bob', 'cy']")), Data("result")),
    )


def test_fan_out_all_joins_when_every_child_is_done() -> None:
    c = _fan_out(Join(JoinKind.ALL))
    result = engine.start(c, T0, instance="r")
    assert [e.args for e in result.effects] == [
        {"assignee": "ann"},
        {"assignee": "bob"},
        {"assignee": "cy"},
    ]
    assert [e.id for e in result.effects] == ["r/forms/0:0:0", "r/forms/1:0:0", "r/forms/2:0:0"]
    snap = result.snapshot
    for who in ("bob", "ann"):
        snap = engine.step(c, snap, Event("closed", {"who": who}), T0).snapshot
        assert snap.configuration == ("collect",)
    snap = engine.step(c, snap, Event("closed", {"who": "cy"}), T0).snapshot
    assert snap.configuration == ("report",)
    assert snap.datamodel["result"] == {
        "outputs": [None, None, None],
        "completed": [0, 1, 2],
        "timed_out": False,
    }
    assert snap.children == ()


def test_fan_out_count_and_timeout() -> None:
    c = _fan_out(Join(JoinKind.COUNT, count=Expr("2"), timeout=Expr('duration("168h")')))
    snap = engine.start(c, T0).snapshot
    snap = engine.step(c, snap, Event("closed", {"who": "cy"}), T0).snapshot
    assert snap.configuration == ("collect",)
    snap = engine.fire_due(c, snap, T0 + timedelta(days=8)).snapshot
    assert snap.configuration == ("report",)
    assert snap.datamodel["result"]["timed_out"] is True
    assert snap.datamodel["result"]["completed"] == [2]
    assert snap.children == ()
    assert snap.timers == ()


def test_fan_out_any() -> None:
    c = _fan_out(Join(JoinKind.ANY))
    snap = engine.start(c, T0).snapshot
    snap = engine.step(c, snap, Event("closed", {"who": "bob"}), T0).snapshot
    assert snap.configuration == ("report",)
    assert snap.datamodel["result"]["completed"] == [1]


def test_effect_result_is_routed_to_the_child_that_asked() -> None:
    child = Chart(
        "child",
        (
            atomic(
                "ask",
                on("done.effect.lookup", "got"),
                on_entry=((Call("http.request", (), "lookup"),),),
            ),
            State("got", StateKind.FINAL),
        ),
        Transition(targets=("ask",)),
    )
    c = chart(
        State(
            "parent",
            StateKind.ATOMIC,
            invokes=(Invoke(id="kid", chart=child),),
            transitions=(on("done.invoke.kid", "end"),),
        ),
        atomic("end"),
    )
    result = engine.start(c, T0, instance="p")
    (effect,) = result.effects
    assert effect.id == "p/kid:0:0"
    snap = engine.step(
        c, result.snapshot, Event("done.effect.lookup", {"ok": True}, sendid=effect.id), T0
    ).snapshot
    assert snap.configuration == ("end",)
