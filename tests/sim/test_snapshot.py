"""Snapshots: JSON round-trips that change nothing, and clear errors for wrong ones."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from engine_charts import EVENTS, random_tree, to_chart
from hypothesis import given, settings
from hypothesis import strategies as st

from autoflow.model.ir import (
    Assign,
    Call,
    Cancel,
    Chart,
    Data,
    Expr,
    Invoke,
    Join,
    JoinKind,
    Param,
    Send,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
)
from autoflow.sim import engine
from autoflow.sim.engine import Event, Snapshot, SnapshotError

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _roundtrip(chart: Chart, snapshot: Snapshot) -> Snapshot:
    return Snapshot.from_json(chart, json.loads(json.dumps(snapshot.to_json())))


def _trace(chart: Chart, inputs: list[str], *, restore: bool) -> list[object]:
    """Run ``inputs`` (event names, or "+1h" to let time pass); record everything."""
    result = engine.start(chart, START, instance="i-1")
    snapshot, now = result.snapshot, START
    trace: list[object] = [result]
    for item in inputs:
        if restore:
            snapshot = _roundtrip(chart, snapshot)
        if item.startswith("+"):
            now += timedelta(hours=int(item[1:-1]))
            result = engine.fire_due(chart, snapshot, now)
        else:
            result = engine.step(chart, snapshot, Event(item, {"k": item}), now)
        snapshot = result.snapshot
        trace.append(result)
    return trace


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32),
    st.lists(st.sampled_from((*EVENTS, "+1h")), max_size=15),
)
def test_restoring_between_steps_gives_the_same_trace(seed: int, inputs: list[str]) -> None:
    chart = _with_timers(to_chart(random_tree(random.Random(seed))))
    assert _trace(chart, inputs, restore=True) == _trace(chart, inputs, restore=False)


def _with_timers(chart: Chart) -> Chart:
    """The random chart plus a top-level wrapper with an ``after`` timer and a delayed send."""
    wrapper = State(
        "main",
        StateKind.COMPOUND,
        children=chart.states,
        initial=chart.initial,
        transitions=(
            Transition(
                timer=Timer(TimerKind.AFTER, Expr('duration("2h")')),
                targets=("main",),
                actions=(Assign("n", Expr("n + 1")),),
            ),
            Transition(events=("ping",), actions=(Assign("n", Expr("n + 10")),)),
        ),
        on_entry=((Send(event="ping", delay=Expr('duration("1h")'), id="p"),),),
    )
    return Chart("timed", (wrapper,), Transition(targets=("main",)), datamodel=chart.datamodel)


def _workflow() -> Chart:
    """Timers, effects, a fan-out and data of every JSON-tricky type."""
    child = Chart(
        "child",
        (
            State(
                "work",
                StateKind.ATOMIC,
                transitions=(Transition(events=("finish",), targets=("done",)),),
                on_entry=((Call("notify", (Param("who", Expr("item")),), id="hello"),),),
            ),
            State("done", StateKind.FINAL),
        ),
        Transition(targets=("work",)),
    )
    return Chart(
        "workflow",
        (
            State(
                "waiting",
                StateKind.ATOMIC,
                transitions=(
                    Transition(events=("go",), targets=("fan",)),
                    Transition(events=("stop",), actions=(Cancel(sendid="later"),)),
                ),
                on_entry=(
                    (
                        Send(event="late", delay=Expr('duration("3h")'), id="later"),
                        Assign("stamp", Expr("now")),
                    ),
                ),
            ),
            State(
                "fan",
                StateKind.ATOMIC,
                invokes=(
                    Invoke(
                        id="each",
                        chart=child,
                        foreach=Expr("['a', 'b']"),
                        item="item",
                        autoforward=True,
                        join=Join(JoinKind.ALL, timeout=Expr('duration("24h")')),
                    ),
                ),
                transitions=(
                    Transition(
                        events=("done.invoke.each",),
                        targets=("end",),
                        actions=(Assign("outputs", Expr("event")),),
                    ),
                ),
            ),
            State("end", StateKind.FINAL),
        ),
        Transition(targets=("waiting",)),
        datamodel=(
            Data("stamp"),
            Data("outputs"),
            Data("blob", Expr("b'xyz'")),
            Data("span", Expr('duration("90s")')),
            Data("weird", Expr("{1: 'int key', 'x': [1.5, null, true]}")),
        ),
    )


def test_workflow_roundtrip_keeps_timers_children_and_values() -> None:
    chart = _workflow()
    inputs = ["stop", "go", "+1h", "finish", "+30h"]
    assert _trace(chart, inputs, restore=True) == _trace(chart, inputs, restore=False)


def test_snapshot_json_is_plain_and_versioned() -> None:
    chart = _workflow()
    snapshot = engine.start(chart, START, instance="i-1").snapshot
    data = json.loads(json.dumps(snapshot.to_json()))
    assert data["format"] == 1
    assert data["chart"] == engine.chart_hash(chart)
    assert data["configuration"] == ["waiting"]
    assert [t["id"] for t in data["timers"]] == ["later"]
    assert data["timers"][0]["due"] == "2026-03-02T12:00:00+00:00"


def test_restore_runs_no_actions() -> None:
    chart = _workflow()
    snapshot = engine.start(chart, START).snapshot
    restored = _roundtrip(chart, snapshot)
    assert restored == snapshot
    assert restored.seq == snapshot.seq
    assert restored.timers == snapshot.timers


def test_restore_rejects_another_chart() -> None:
    chart = _workflow()
    data = engine.start(chart, START).snapshot.to_json()
    other = Chart("other", (State("x", StateKind.ATOMIC),), Transition(targets=("x",)))
    with pytest.raises(SnapshotError, match="another version of chart 'other'"):
        Snapshot.from_json(other, data)


def test_restore_rejects_another_format() -> None:
    chart = _workflow()
    data = engine.start(chart, START).snapshot.to_json()
    data["format"] = 2
    with pytest.raises(SnapshotError, match="unsupported snapshot format 2"):
        Snapshot.from_json(chart, data)


def test_restore_rejects_malformed_data() -> None:
    chart = _workflow()
    data = engine.start(chart, START).snapshot.to_json()
    del data["timers"]
    with pytest.raises(SnapshotError, match="malformed snapshot"):
        Snapshot.from_json(chart, data)


def test_step_rejects_snapshot_of_another_chart() -> None:
    snapshot = engine.start(_workflow(), START).snapshot
    other = Chart("other", (State("x", StateKind.ATOMIC),), Transition(targets=("x",)))
    with pytest.raises(SnapshotError):
        engine.step(other, snapshot, Event("go"), START)
