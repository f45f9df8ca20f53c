"""Events per second through autoflow's step function and three peer libraries.

The chart: two parallel regions, a 3-state cycle on ``tick`` and a 2-state
toggle on ``ping``, fed ``tick, tick, tick, ping`` repeatedly.  Also measured:
snapshot + restore (to JSON text and back) per second, the same chart with CEL
guards and assignments on every transition, new instances per second, and the
memory of one idle instance snapshot.

Every measurement is taken ``--runs`` times, the engines interleaved so that a
change of machine load hits all of them alike; the best and the median are
reported, as a plain table and as Markdown for docs/benchmarks.md::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/engine/bench.py [--events 40000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata

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


def bench_start(n: int) -> float:
    chart = two_regions()

    def run(count: int) -> None:
        start = engine.start
        for i in range(count):
            start(chart, NOW, instance=f"instance-{i}")

    return rate(n, run)


def bench_snapshot(n: int) -> float:
    chart = two_regions()
    snapshot = engine.step(chart, engine.start(chart, NOW).snapshot, engine.Event("tick"), NOW)
    snap = snapshot.snapshot

    def run(count: int) -> None:
        for _ in range(count):
            engine.Snapshot.from_json(chart, json.loads(json.dumps(snap.to_json())))

    return rate(n, run)


def snapshot_memory() -> tuple[float, int]:
    """Bytes of Python heap per idle snapshot (1000 instances), and its JSON size."""
    chart = two_regions()
    engine.start(chart, NOW)  # the chart's tables are not part of an instance
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    snapshots = [engine.start(chart, NOW, instance=f"instance-{i}").snapshot for i in range(1000)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    size = len(json.dumps(snapshots[0].to_json()))
    return (after - before) / len(snapshots), size


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
    from sismic.interpreter import Interpreter  # type: ignore[import-untyped]
    from sismic.io import import_from_yaml  # type: ignore[import-untyped]

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


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


PEERS: dict[str, Callable[[int], float]] = {
    "python-statemachine": bench_python_statemachine,
    "sismic": bench_sismic,
    "transitions": bench_transitions,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000, help="events per autoflow run")
    parser.add_argument("--runs", type=int, default=3, help="runs of every measurement")
    args = parser.parse_args()
    n = args.events
    peer_events = max(n // 10, 2000)
    rows: dict[str, list[float]] = {}
    missing: list[str] = []
    load_before = _load()
    for _ in range(args.runs):
        rows.setdefault("autoflow step()", []).append(bench_autoflow(n, two_regions()))
        rows.setdefault("autoflow step(), CEL guards + assignments", []).append(
            bench_autoflow(n, cel_chart(), {"weight": 1})
        )
        for name, fn in PEERS.items():
            if name in missing:
                continue
            try:
                rows.setdefault(name, []).append(fn(peer_events))
            except ImportError:
                missing.append(name)
                rows.pop(name, None)
        rows.setdefault("autoflow snapshot + restore (JSON text)", []).append(
            bench_snapshot(n // 2)
        )
        rows.setdefault("autoflow start() (new instance)", []).append(bench_start(n // 4))
    per_snapshot, json_size = snapshot_memory()
    load_after = _load()

    best = {name: max(values) for name, values in rows.items()}
    median = {name: statistics.median(values) for name, values in rows.items()}
    peers = [name for name in PEERS if name in rows]
    # the ratio to the fastest peer within each run (same load), then its best and median
    fastest = [max(rows[p][i] for p in peers) if peers else 0.0 for i in range(args.runs)]
    ratios = {
        name: [v / f for v, f in zip(values, fastest, strict=True) if f]
        for name, values in rows.items()
    }

    def versus(name: str) -> str:
        if not ratios[name]:
            return "n/a"
        return f"{max(ratios[name]):.1f}× / {statistics.median(ratios[name]):.1f}×"

    units = {
        "autoflow snapshot + restore (JSON text)": "snapshots/s",
        "autoflow start() (new instance)": "instances/s",
    }
    header = [
        f"date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"machine: {_cpu()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"python: {platform.python_implementation()} {platform.python_version()}",
        "versions: " + ", ".join(f"{p} {_version(p)}" for p in ("autoflow", *PEERS)),
        f"load average (1, 5, 15 min): {load_before} before, {load_after} after",
        f"runs: {args.runs}; events per run: autoflow {n:,}, peers {peer_events:,}",
    ]
    print("\n".join(header))
    print()
    print(f"{'measurement':44} {'best':>12} {'median':>12}  {'unit':12} {'vs fastest peer':>16}")
    for name in rows:
        unit = units.get(name, "events/s")
        vs = ""
        if unit == "events/s":
            vs = versus(name)
        print(f"{name:44} {best[name]:12,.0f} {median[name]:12,.0f}  {unit:12} {vs:>16}")
    for name in missing:
        print(f"{name:44} {'not installed':>12}")
    print(f"idle instance snapshot: {per_snapshot:,.0f} bytes of Python heap, ", end="")
    print(f"{json_size} bytes of JSON")

    step = "autoflow step()"
    targets = [
        (f"{step} ≥ 200,000 events/s", median[step] >= 200_000),
        (
            f"{step} ≥ 10× the fastest peer",
            bool(ratios[step]) and statistics.median(ratios[step]) >= 10,
        ),
        (
            "snapshot + restore ≥ 50,000/s",
            median["autoflow snapshot + restore (JSON text)"] >= 50_000,
        ),
    ]
    print()
    for label, met in targets:
        print(f"target (median): {label}: {'met' if met else 'NOT met'}")

    print()
    print("Markdown (docs/benchmarks.md):")
    print()
    for line in header:
        print(f"- {line}")
    print()
    print("| measurement | best | median | unit | vs fastest peer in the run: best / median |")
    print("|---|---:|---:|---|---:|")
    for name in rows:
        unit = units.get(name, "events/s")
        vs = ""
        if unit == "events/s":
            vs = versus(name)
        print(f"| {name} | {best[name]:,.0f} | {median[name]:,.0f} | {unit} | {vs} |")
    for name in missing:
        print(f"| {name} | not installed | | | |")
    print(
        f"| idle instance snapshot (tracemalloc, 1000 instances) | {per_snapshot:,.0f} | | "
        f"bytes of Python heap ({json_size} bytes as JSON) | |"
    )


if __name__ == "__main__":
    main()
