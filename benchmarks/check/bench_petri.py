"""Petri-net analysis benchmark: autoflow side by side with pm4py, in one run.

Run from the repository root (pm4py comes with the ``bench`` extra)::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/check/bench_petri.py            # everything, ~10 minutes
    .venv/bin/python benchmarks/check/bench_petri.py --quick    # skip pm4py's slow cases

What it measures (each measurement in a fresh process, so peak memory is its own):

1. States per second on M7 and ML2: ``autoflow.check.petri.explore`` against
   pm4py's ``construct_reachability_graph`` and against a plain BFS loop over
   pm4py's firing rule (the same reachable markings).
2. Soundness verdicts on M1, M2, ML4, M7 and ML2: ``autoflow.check.petri.soundness``
   against pm4py's Woflan, each with a timeout (Woflan does not finish ML4).
3. Kanban with N = 5 (2,546,432 states, 24,460,016 edges): time, peak resident
   memory of the process, and bytes per state.

The figures are checked, not only timed: a wrong state count fails the run.
Results are printed as Markdown tables and written to ``benchmarks/check/results.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NETS = ROOT / "tests" / "model" / "data" / "pnml"
RESULTS = Path(__file__).resolve().parent / "results.json"

KNOWN_STATES = {"M1": 144, "M2": 230, "ML4": 1_154, "M7": 36_740, "ML2": 82_939}
KANBAN_5 = (2_546_432, 24_460_016)


# --------------------------------------------------------------------------- measured jobs
# Each job runs in a child process and returns a dict; the parent applies the timeout.


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def autoflow_explore(name: str) -> dict[str, Any]:
    from autoflow.check.petri import explore
    from autoflow.model.io.pnml import read_pnml_file

    net = read_pnml_file(str(NETS / f"{name}.pnml"))
    started = time.perf_counter()
    space = explore(net)
    seconds = time.perf_counter() - started
    return {"states": space.states, "edges": space.edges, "seconds": seconds}


def pm4py_reachability(name: str) -> dict[str, Any]:
    import pm4py
    from pm4py.objects.petri_net.utils import reachability_graph

    net, initial, _ = pm4py.read_pnml(str(NETS / f"{name}.pnml"))
    started = time.perf_counter()
    graph = reachability_graph.construct_reachability_graph(net, initial)
    seconds = time.perf_counter() - started
    return {"states": len(graph.states), "edges": len(graph.transitions), "seconds": seconds}


def pm4py_search_loop(name: str) -> dict[str, Any]:
    """A plain BFS over pm4py's own firing rule (its semantics module), no graph objects."""
    from collections import deque

    import pm4py
    from pm4py.objects.petri_net import semantics

    net, initial, _ = pm4py.read_pnml(str(NETS / f"{name}.pnml"))
    rule = semantics.ClassicSemantics()
    started = time.perf_counter()
    seen = {initial}
    queue = deque([initial])
    edges = 0
    while queue:
        marking = queue.popleft()
        for transition in rule.enabled_transitions(net, marking):
            edges += 1
            successor = rule.execute(transition, net, marking)
            if successor not in seen:
                seen.add(successor)
                queue.append(successor)
    seconds = time.perf_counter() - started
    return {"states": len(seen), "edges": edges, "seconds": seconds}


def autoflow_soundness(name: str) -> dict[str, Any]:
    from autoflow.check.petri import soundness
    from autoflow.model.io.pnml import read_pnml_file

    net = read_pnml_file(str(NETS / f"{name}.pnml"))
    started = time.perf_counter()
    result = soundness(net)
    seconds = time.perf_counter() - started
    return {"sound": result.sound, "states": result.space.states, "seconds": seconds}


def pm4py_woflan(name: str) -> dict[str, Any]:
    import pm4py
    from pm4py.algo.analysis.woflan import algorithm as woflan
    from pm4py.objects.petri_net.obj import Marking

    net, initial, _ = pm4py.read_pnml(str(NETS / f"{name}.pnml"))
    # The M-nets carry no final marking: it is one token in the single sink place.
    sink = next(place for place in net.places if not place.out_arcs)
    final = Marking({sink: 1})
    started = time.perf_counter()
    verdict = woflan.apply(
        net,
        initial,
        final,
        parameters={"print_diagnostics": False, "return_diagnostics": False},
    )
    seconds = time.perf_counter() - started
    return {"sound": bool(verdict), "seconds": seconds}


def autoflow_kanban(n: int) -> dict[str, Any]:
    from autoflow.check.petri import explore
    from autoflow.model.io.pnml import read_pnml_file

    net = read_pnml_file(str(NETS / "Kanban-PT-02000.pnml"))
    net = net.with_initial_marking(dict.fromkeys(net.initial_marking, n))
    baseline = _peak_rss_bytes()
    started = time.perf_counter()
    space = explore(net)
    seconds = time.perf_counter() - started
    stored = space.markings.nbytes + space.states * (4 + 4 + 4 + 8 + 8)  # see docs/petri-nets.md
    return {
        "states": space.states,
        "edges": space.edges,
        "max_tokens_place": space.max_tokens_place,
        "max_tokens_marking": space.max_tokens_marking,
        "seconds": seconds,
        "peak_rss": _peak_rss_bytes(),
        "rss_before": baseline,
        "stored_bytes_per_state": stored / space.states,
    }


def _child(job: Callable[..., dict[str, Any]], arg: Any, queue: Any) -> None:
    try:
        queue.put(job(arg))
    except Exception as exc:  # reported, not raised: the benchmark goes on
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run(job: Callable[..., dict[str, Any]], arg: Any, timeout: float) -> dict[str, Any]:
    """Run ``job(arg)`` in a fresh process; ``{"timeout": seconds}`` if it takes too long."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(job, arg, queue))
    started = time.perf_counter()
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        process.join()
        return {"timeout": timeout}
    result: dict[str, Any] = queue.get() if not queue.empty() else {"error": "no result"}
    result.setdefault("wall", time.perf_counter() - started)
    return result


# --------------------------------------------------------------------------- report


def _seconds(result: dict[str, Any]) -> str:
    if "timeout" in result:
        return f"> {result['timeout']:.0f} s (timeout)"
    if "error" in result:
        return f"error: {result['error']}"
    return f"{result['seconds']:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="per pm4py job (s)")
    parser.add_argument("--quick", action="store_true", help="skip pm4py's Woflan on ML4/M7/ML2")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{mp.cpu_count()} CPUs, Python {platform.python_version()}",
        "explore": {},
        "soundness": {},
    }
    failures: list[str] = []
    print(f"# Petri-net benchmark ({report['machine']})\n")

    print("## States per second (reachability graph)\n")
    print(
        "| net | states | autoflow | pm4py reachability graph | pm4py search loop "
        "| autoflow states/s | speed-up vs graph | speed-up vs loop |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in ("M7", "ML2"):
        ours = run(autoflow_explore, name, args.timeout)
        graph = run(pm4py_reachability, name, args.timeout)
        loop = run(pm4py_search_loop, name, args.timeout)
        report["explore"][name] = {"autoflow": ours, "pm4py_graph": graph, "pm4py_loop": loop}
        if ours.get("states") != KNOWN_STATES[name]:
            failures.append(f"{name}: autoflow found {ours.get('states')} states")
        rate = ours["states"] / ours["seconds"] if "seconds" in ours else 0.0
        ratios = []
        for peer in (graph, loop):
            if "seconds" in peer:
                ratios.append(f"{rate / (peer['states'] / peer['seconds']):.1f}×")
            elif "timeout" in peer:
                # The peer did not finish: it explored fewer than all states in the timeout.
                ratios.append(f"> {rate / (KNOWN_STATES[name] / peer['timeout']):.1f}×")
            else:
                ratios.append("—")
        print(
            f"| {name} | {ours.get('states', '?'):,} | {_seconds(ours)} | {_seconds(graph)} "
            f"| {_seconds(loop)} | {rate:,.0f} | {ratios[0]} | {ratios[1]} |"
        )

    print("\n## Soundness verdicts\n")
    print("| net | states | autoflow verdict | autoflow | pm4py Woflan verdict | pm4py Woflan |")
    print("|---|---|---|---|---|---|")
    for name in ("M1", "M2", "ML4", "M7", "ML2"):
        ours = run(autoflow_soundness, name, args.timeout)
        if args.quick and name in ("ML4", "M7", "ML2"):
            theirs: dict[str, Any] = {"skipped": True}
        else:
            theirs = run(pm4py_woflan, name, args.timeout)
        report["soundness"][name] = {"autoflow": ours, "pm4py": theirs}
        if ours.get("sound") is not True:
            failures.append(f"{name}: autoflow says sound={ours.get('sound')}")
        verdict = "skipped" if "skipped" in theirs else str(theirs.get("sound", "—"))
        pm_time = "skipped" if "skipped" in theirs else _seconds(theirs)
        print(
            f"| {name} | {ours.get('states', '?'):,} | {ours.get('sound')} | {_seconds(ours)} "
            f"| {verdict} | {pm_time} |"
        )

    print("\n## Kanban, N = 5\n")
    kanban = run(autoflow_kanban, 5, 600)
    report["kanban5"] = kanban
    if (kanban.get("states"), kanban.get("edges")) != KANBAN_5:
        failures.append(f"Kanban N=5: {kanban.get('states')} states, {kanban.get('edges')} edges")
    if "seconds" in kanban:
        print("| states | edges | max/place | max/marking | time | peak RSS | bytes/state |")
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {kanban['states']:,} | {kanban['edges']:,} | {kanban['max_tokens_place']} "
            f"| {kanban['max_tokens_marking']} | {kanban['seconds']:.1f} s "
            f"| {kanban['peak_rss'] / 2**20:,.0f} MiB "
            f"| {kanban['stored_bytes_per_state']:.0f} stored, "
            f"{kanban['peak_rss'] / kanban['states']:.0f} peak RSS |"
        )
    else:
        print(_seconds(kanban))

    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nraw results: {RESULTS.relative_to(ROOT)}")
    for failure in failures:
        print(f"WRONG FIGURE: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
