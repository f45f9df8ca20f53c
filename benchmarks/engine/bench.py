"""Events per second through autoflow's step function and three peer libraries.

The chart: two parallel regions, a 3-state cycle on ``tick`` and a 2-state
toggle on ``ping``, fed ``tick, tick, tick, ping`` repeatedly.  Also measured:
snapshot + restore (to JSON text and back) per second, a chart with CEL guards
and assignments, and the memory of one idle instance snapshot.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/engine/bench.py [--events 40000]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

from autoflow.model.ir import (
    Assign,
    Chart,
    Data,
    Expr,
    State,
    StateKind,
    Transition,
)
from autoflow.sim import engine

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PATTERN = ("tick", "tick", "tick", "ping")


def _cycle(ids: list[str], event: str) -> tuple[State, ...]:
    return tuple(
        State(s, StateKind.ATOMIC, transitions=(Transition(events=(event,), targets=(nxt,)),))
        for s, nxt in zip(ids, [*ids[1:], ids[0]], strict=True)
    )


def two_regions() -> Chart:
    a = State(
        "a", StateKind.COMPOUND, _cycle(["a1", "a2", "a3"], "tick"), Transition(targets=("a1",))
    )
    b = State("b", StateKind.COMPOUND, _cycle(["b1", "b2"], "ping"), Transition(targets=("b1",)))
    return Chart("bench", (State("p", StateKind.PARALLEL, (a, b)),), Transition(targets=("p",)))


def cel_chart() -> Chart:
    """The same shape with a guard and an assignment on every transition."""

    def cycle(ids: list[str], event: str) -> tuple[State, ...]:
        return tuple(
            State(
                s,
                StateKind.ATOMIC,
                transitions=(
                    Transition(
                        events=(event,),
                        guard=Expr("count >= 0 && event.weight < 10"),
                        targets=(nxt,),
                        actions=(Assign("count", Expr("count + event.weight")),),
                    ),
                ),
            )
            for s, nxt in zip(ids, [*ids[1:], ids[0]], strict=True)
        )

    a = State(
        "a", StateKind.COMPOUND, cycle(["a1", "a2", "a3"], "tick"), Transition(targets=("a1",))
    )
    b = State("b", StateKind.COMPOUND, cycle(["b1", "b2"], "ping"), Transition(targets=("b1",)))
    return Chart(
        "bench-cel",
        (State("p", StateKind.PARALLEL, (a, b)),),
        Transition(targets=("p",)),
        datamodel=(Data("count", Expr("0")),),
    )


def rate(n: int, run: Callable[[int], None]) -> float:
    run(min(n, 1000))  # warm up
    gc.collect()
    start = time.perf_counter()
    run(n)
    return n / (time.perf_counter() - start)


def bench_autoflow(n: int, chart: Chart, data: object = None) -> float:
    events = [engine.Event(name, data) for name in PATTERN]

    def run(count: int) -> None:
        snapshot = engine.start(chart, NOW).snapshot
        step = engine.step
        for i in range(count):
            snapshot = step(chart, snapshot, events[i & 3], NOW).snapshot

    return rate(n, run)


def bench_snapshot(n: int) -> float:
    chart = two_regions()
    snapshot = engine.step(chart, engine.start(chart, NOW).snapshot, engine.Event("tick"), NOW)
    snap = snapshot.snapshot

    def run(count: int) -> None:
        for _ in range(count):
            engine.Snapshot.from_json(chart, json.loads(json.dumps(snap.to_json())))

    return rate(n, run)


def snapshot_memory() -> tuple[int, int]:
    """Bytes of Python heap per idle snapshot (1000 instances), and its JSON size."""
    chart = two_regions()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    snapshots = [engine.start(chart, NOW, instance=f"instance-{i}").snapshot for i in range(1000)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    size = len(json.dumps(snapshots[0].to_json()))
    return (after - before) // len(snapshots), size


SCXML = """<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" initial="p">
<parallel id="p">
 <state id="a" initial="a1">
  <state id="a1"><transition event="tick" target="a2"/></state>
  <state id="a2"><transition event="tick" target="a3"/></state>
  <state id="a3"><transition event="tick" target="a1"/></state>
 </state>
 <state id="b" initial="b1">
  <state id="b1"><transition event="ping" target="b2"/></state>
  <state id="b2"><transition event="ping" target="b1"/></state>
 </state>
</parallel>
</scxml>"""


def bench_python_statemachine(n: int) -> float:
    from statemachine.io import load

    cls = load(SCXML, format="scxml")

    def run(count: int) -> None:
        machine = cls()
        for i in range(count):
            machine.send(PATTERN[i & 3])

    return rate(n, run)


SISMIC = """
statechart:
  name: bench
  root state:
    name: root
    initial: p
    states:
      - name: p
        parallel states:
          - name: a
            initial: a1
            states:
              - name: a1
                transitions: [{target: a2, event: tick}]
              - name: a2
                transitions: [{target: a3, event: tick}]
              - name: a3
                transitions: [{target: a1, event: tick}]
          - name: b
            initial: b1
            states:
              - name: b1
                transitions: [{target: b2, event: ping}]
              - name: b2
                transitions: [{target: b1, event: ping}]
"""


def bench_sismic(n: int) -> float:
    from sismic.interpreter import Interpreter
    from sismic.io import import_from_yaml

    statechart = import_from_yaml(SISMIC)

    def run(count: int) -> None:
        interpreter = Interpreter(statechart)
        interpreter.execute_once()
        for i in range(count):
            interpreter.queue(PATTERN[i & 3])
            interpreter.execute_once()

    return rate(n, run)


def bench_transitions(n: int) -> float:
    from transitions.extensions import HierarchicalMachine

    states = [
        {
            "name": "p",
            "parallel": [
                {"name": "a", "children": ["a1", "a2", "a3"], "initial": "a1"},
                {"name": "b", "children": ["b1", "b2"], "initial": "b1"},
            ],
        }
    ]
    moves = [
        ["tick", "p_a_a1", "p_a_a2"],
        ["tick", "p_a_a2", "p_a_a3"],
        ["tick", "p_a_a3", "p_a_a1"],
        ["ping", "p_b_b1", "p_b_b2"],
        ["ping", "p_b_b2", "p_b_b1"],
    ]

    def run(count: int) -> None:
        machine = HierarchicalMachine(states=states, transitions=moves, initial="p")
        for i in range(count):
            machine.trigger(PATTERN[i & 3])

    return rate(n, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000)
    n = parser.parse_args().events
    rows = [("autoflow step()", bench_autoflow(n, two_regions()))]
    rows.append(
        ("autoflow step(), CEL guards+assign", bench_autoflow(n, cel_chart(), {"weight": 1}))
    )
    for name, fn in (
        ("python-statemachine", bench_python_statemachine),
        ("sismic", bench_sismic),
        ("transitions", bench_transitions),
    ):
        try:
            rows.append((name, fn(max(n // 10, 2000))))
        except ImportError as exc:
            rows.append((f"{name} (not installed: {exc.name})", 0.0))
    print(f"{'engine':40} {'events/s':>12}")
    for name, value in rows:
        print(f"{name:40} {value:12,.0f}")
    print(f"{'snapshot+restore (JSON text) per s':40} {bench_snapshot(n // 2):12,.0f}")
    per, size = snapshot_memory()
    print(f"idle snapshot: {per} bytes of Python heap, {size} bytes of JSON")


if __name__ == "__main__":
    main()
