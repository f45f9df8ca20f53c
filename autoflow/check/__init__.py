"""``autoflow check``: verify statecharts and Petri nets (docs/check.md).

Public functions (the CLI is a thin layer over them):

* :func:`check_model` — one loaded model (a :class:`~autoflow.model.ir.Chart` or a
  :class:`~autoflow.model.net.Net`) → a :class:`ModelReport`;
* :func:`check_paths` — files and directories → one report per model file.

A statechart is explored with the engine as successor function
(:mod:`autoflow.check.explore`) and then every rule of
:data:`autoflow.check.rules.RULES` runs over the state space in order.  A Petri
net gets the analysis of :mod:`autoflow.check.petri`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autoflow.check.diagnostics import Diagnostic, ModelReport, Severity, TraceStep
from autoflow.check.explore import DEFAULT_MAX_STATES

__all__ = [
    "DEFAULT_MAX_STATES",
    "Diagnostic",
    "ModelReport",
    "Severity",
    "TraceStep",
    "check_model",
    "check_paths",
    "is_block_file",
]

Progress = Callable[[str, int, int], None]
"""``progress(path, states, edges)`` during long explorations."""

_BLOCK = re.compile(r"^block\s*:", re.MULTILINE)


def is_block_file(path: str) -> bool:
    """A YAML block (``block:`` at the top level): checked where workflows use it."""
    if not path.lower().endswith((".yaml", ".yml")):
        return False
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(_BLOCK.search(text))


def check_model(
    model: Any,
    path: str,
    *,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Progress | None = None,
) -> ModelReport:
    """Check one loaded model; ``path`` names it in the report."""
    from autoflow.model.ir import Chart

    if isinstance(model, Chart):
        return _check_chart(model, path, max_states, progress)
    return _check_net(model, path, max_states, progress)


def check_paths(
    paths: Sequence[str],
    *,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Progress | None = None,
    skipped: list[str] | None = None,
) -> list[ModelReport]:
    """Check every model file in ``paths`` (directories are searched).

    Block files are skipped (appended to ``skipped`` when given): a block's
    parameters are placeholders until a workflow uses it, and the workflow's
    check covers the expanded block.  Raises
    :class:`~autoflow.errors.AutoflowError` for a file that does not load.
    """
    from autoflow.model.io import discover, load

    reports = []
    for path in discover(list(paths)):
        if is_block_file(path):
            if skipped is not None:
                skipped.append(path)
            continue
        model = load(path)
        reports.append(check_model(model, path, max_states=max_states, progress=progress))
    return reports


def _check_chart(chart: Any, path: str, max_states: int, progress: Progress | None) -> ModelReport:
    from autoflow.check.explore import explore
    from autoflow.check.rules import RULES

    def report_progress(states: int, edges: int) -> None:
        if progress is not None:
            progress(path, states, edges)

    space = explore(chart, max_states=max_states, progress=report_progress)
    findings: list[Diagnostic] = []
    for rule in RULES:
        findings.extend(rule.check(chart, space))
    stats = {
        "states": len(space.nodes),
        "edges": space.edges,
        "seconds": round(space.seconds, 3),
        "truncated": space.truncated,
        "assumed_guards": sorted(space.assumed),
    }
    return ModelReport(path, "statechart", stats, findings)


def _check_net(net: Any, path: str, max_states: int, progress: Progress | None) -> ModelReport:
    from autoflow.check import petri
    from autoflow.model.net import is_workflow_net, sink_place

    def report_progress(explored: int, discovered: int) -> None:
        if progress is not None:
            progress(path, discovered, explored)

    space = petri.explore(net, max_states=max_states, progress=report_progress)
    stats: dict[str, Any] = space.figures()
    stats["sound"] = None
    findings: list[Diagnostic] = []
    if space.unbounded is not None:
        witness = space.unbounded
        findings.append(
            Diagnostic(
                "unbounded-place",
                Severity.ERROR,
                f"place(s) {', '.join(witness.places)} can hold unboundedly many tokens: "
                f"after {_sequence(witness.prefix)}, the loop {_sequence(witness.loop)} can "
                "repeat forever, adding tokens each time",
                _span_of_place(net, witness.places[0]),
                witness.places,
                _firings(witness.firing_sequence),
            )
        )
    workflow = is_workflow_net(net)
    sink = sink_place(net) if workflow else None
    shown = 0
    for dead in space.dead_markings:
        if sink is not None and dict(dead.marking) == {sink.id: 1}:
            continue  # the proper end of a workflow net
        if shown == 10:
            break
        shown += 1
        marking = ", ".join(f"{p}: {n}" for p, n in sorted(dead.marking.items()))
        findings.append(
            Diagnostic(
                "dead-marking",
                Severity.WARNING,
                f"no transition is enabled in the reachable marking {{{marking}}}",
                net.span,
                tuple(sorted(dead.marking)),
                _firings(dead.firing_sequence),
            )
        )
    if workflow:
        verdict = petri.soundness(net, max_states=max_states)
        stats["sound"] = verdict.sound
        if verdict.sound is False:
            findings.append(
                Diagnostic(
                    "unsound",
                    Severity.ERROR,
                    f"the workflow net is not sound: {verdict.reason}",
                    net.span,
                    verdict.dead_transitions,
                    _firings(verdict.counterexample or ()),
                )
            )
    if space.truncated:
        findings.append(
            Diagnostic(
                "state-limit",
                Severity.WARNING,
                f"exploration stopped at {max_states} markings (--max-states): the figures "
                "describe the explored part only",
                net.span,
            )
        )
    return ModelReport(path, "petri-net", stats, findings)


def _sequence(ids: Sequence[str]) -> str:
    return "[" + " ".join(ids) + "]" if ids else "[] (nothing)"


def _firings(ids: Sequence[str]) -> tuple[TraceStep, ...]:
    return tuple(TraceStep("+0s", transition) for transition in ids)


def _span_of_place(net: Any, place_id: str) -> Any:
    for place in net.places:
        if place.id == place_id:
            return place.span
    return net.span
