"""Trace generation speed (issue 6): cover-transitions and random walks.

* cover-transitions for the largest example workflow (by states and transitions),
  from loading to the last trace simulated — target: under 2 s;
* random walks: generated events per second (each walk replayed through the
  engine and simulated for its expectations) — target: at least 10,000/s;
  the one-off exploration of the state space is reported separately.

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
    events = steps = 0
    for run in range(options.runs):
        began = time.perf_counter()
        generation = gen.generate(chart, "random", count=options.walks, seed=run)
        seconds = time.perf_counter() - began
        events = sum(t.events for t in generation.traces)
        # every step the engine ran for the traces: events, timers and effect answers
        steps = sum(sum(1 for line in t.lines if "expect" in line) for t in generation.traces)
        rates.append(events / seconds)
        step_rates.append(steps / seconds)
    print(
        f"random walks: {options.walks} walks, {events} input events "
        f"(events, webhooks, timers), {steps} checked steps per run; "
        f"best {max(rates):,.0f} input events/s (median {statistics.median(rates):,.0f}), "
        f"best {max(step_rates):,.0f} checked steps/s (target >= 10,000 events/s); "
        f"exploration once: {explored:.2f} s, {len(walker.space.nodes)} states"
    )
    ok = min(cover) < 2.0 and max(rates) >= 10_000
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
