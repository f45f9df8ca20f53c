"""Trace generation speed (issue 6): cover-transitions and random walks.

* cover-transitions for the largest example workflow (by states and transitions),
  from loading to the last trace simulated — target: under 2 s;
* random walks: input events (event and webhook lines, timers) generated per
  second, each walk run by the engine as it is drawn and its expectations taken
  from that run — target: at least 10,000/s; also with the files' JSON text, and
  engine steps per second (call answers included); the one-off exploration of
  the state space is reported separately, and the load average around the runs
  (the machine is shared).

Each figure is the best and the median of ``--runs`` runs::

    .venv/bin/python benchmarks/traces/bench.py [--runs 5] [--walks 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from autoflow.model.io import load
from autoflow.model.ir import Chart, walk_states
from autoflow.sim import generate as gen

ROOT = Path(__file__).resolve().parents[2]


def largest_example() -> tuple[Path, Chart]:
    best: tuple[int, Path, Chart] | None = None
    for path in sorted((ROOT / "models").glob("*.yaml")):
        if not (ROOT / "traces" / path.stem).is_dir():
            continue
        chart = load(str(path))
        assert isinstance(chart, Chart)
        size = sum(1 + len(s.transitions) for s in walk_states(chart.states))
        if best is None or size > best[0]:
            best = (size, path, chart)
    assert best is not None
    return best[1], best[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--walks", type=int, default=300)
    options = parser.parse_args()
    path, _ = largest_example()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"largest example: {path.relative_to(ROOT)}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    cover: list[float] = []
    for _ in range(options.runs):
        gen._WALKERS.clear()
        began = time.perf_counter()
        chart = load(str(path))
        assert isinstance(chart, Chart)
        generation = gen.generate(chart, "cover-transitions")
        cover.append(time.perf_counter() - began)
    print(
        f"cover-transitions: {len(generation.traces)} traces, "
        f"{len(generation.covered)}/{len(generation.targets)} transitions; "
        f"best {min(cover):.2f} s, median {statistics.median(cover):.2f} s (target < 2 s)"
    )

    gen._WALKERS.clear()
    chart = load(str(path))
    assert isinstance(chart, Chart)
    began = time.perf_counter()
    walker = gen.walker_for(chart)
    explored = time.perf_counter() - began
    rates: list[float] = []
    step_rates: list[float] = []
    text_rates: list[float] = []
    events = steps = instances = 0
    for run in range(options.runs):
        began = time.perf_counter()
        generation = gen.generate(chart, "random", count=options.walks, seed=run)
        seconds = time.perf_counter() - began
        for trace in generation.traces:
            trace.text()  # the files' JSON text, as `autoflow traces` writes it
        with_text = time.perf_counter() - began
        # inputs: event and webhook lines and timers; steps: every macrostep the engine
        # ran for the walks: one per expect line (the input or timer before it) and one
        # per stub line (a call answered in that chain)
        events = sum(t.events for t in generation.traces)
        steps = sum(
            sum(1 for line in t.lines if "expect" in line or "stub" in line)
            for t in generation.traces
        )
        instances = sum(
            sum(1 for line in t.lines if "expect" in line and line["expect"].get("completed"))
            for t in generation.traces
        )
        rates.append(events / seconds)
        step_rates.append(steps / seconds)
        text_rates.append(events / with_text)
    print(
        f"random walks: {options.walks} walks, {events} input events (event and webhook "
        f"lines, timers), {steps} engine steps (call answers included), "
        f"{instances} completed instances per run"
    )
    print(
        f"  input events/s: best {max(rates):,.0f}, median {statistics.median(rates):,.0f} "
        "(target >= 10,000)"
    )
    print(
        f"  with the files' JSON text: best {max(text_rates):,.0f}, "
        f"median {statistics.median(text_rates):,.0f} input events/s"
    )
    print(
        f"  engine steps/s: best {max(step_rates):,.0f}, "
        f"median {statistics.median(step_rates):,.0f}"
    )
    print(f"  exploration once: {explored:.2f} s, {len(walker.space.nodes)} states")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok = min(cover) < 2.0 and max(rates) >= 10_000
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
