"""Overlays for reviews: what the tools found, drawn on top of a diagram.

* :func:`highlight` marks a configuration (``--highlight`` or a snapshot file).
* :func:`number_path` numbers the transitions a trace takes (``--trace``);
  :func:`trace_path` finds them from the trace's events (and, when the trace
  has them, the configurations after each step, as ``simulate --format json``
  writes).
* :func:`mark_coverage` draws what no trace covered (``--coverage``).

Files are read by :func:`read_configuration`, :func:`read_trace` and
:func:`read_coverage`; a malformed file raises :class:`OverlayError` naming the
file and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autoflow.errors import AutoflowError
from autoflow.model.events import descriptor_matches
from autoflow.model.ir import Chart, State, StateKind, Transition, TransitionKind
from autoflow.render.graph import DiagramGraph, DiagramNode, NodeKind, transition_id

#: Eventless transitions followed after one step before giving up (a cycle).
MAX_EVENTLESS = 100


class OverlayError(AutoflowError):
    """An overlay file or option is wrong (missing file, bad JSON, unknown state)."""


# --------------------------------------------------------------------------- files


def _read_json_file(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise OverlayError(f"{path}: cannot read file: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        # JSON Lines: one object per line (trace files)
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number == 1 and first.lineno > 1:
                    break
                raise OverlayError(f"{path}:{number}:{exc.colno}: not JSON: {exc.msg}") from exc
        else:
            return items
        raise OverlayError(f"{path}:{first.lineno}:{first.colno}: not JSON: {first.msg}") from first


def read_configuration(path: str) -> list[str]:
    """Active states of a snapshot file: ``{"configuration": [...]}``."""
    data = _read_json_file(path)
    if isinstance(data, dict) and "snapshot" in data and isinstance(data["snapshot"], dict):
        data = data["snapshot"]
    if not isinstance(data, dict) or "configuration" not in data:
        raise OverlayError(
            f'{path}: a snapshot file needs a "configuration" field (a list of state ids)'
        )
    configuration = data["configuration"]
    if not isinstance(configuration, list) or not all(isinstance(s, str) for s in configuration):
        raise OverlayError(f"{path}: field 'configuration' must be a list of state ids")
    return configuration


@dataclass(frozen=True)
class TraceStep:
    """One step of a trace: an event (None when only time passes) and, when known,
    the active atomic states after it."""

    event: str | None
    configuration: tuple[str, ...] | None = None
    transitions: tuple[str, ...] | None = None  # ids, when the trace says which fired


def read_trace(path: str) -> list[TraceStep]:
    """The steps of a trace file, a check counterexample or simulate's JSON output.

    Accepted: JSON Lines (lines with ``"event"``; other lines such as expectations
    are skipped), a JSON list of ``{"event": ...}`` steps, an object with
    ``"trace"`` or ``"steps"``, or simulate's ``{"traces": [{"steps": [...]}]}``
    (the first trace).
    """
    data = _read_json_file(path)
    if isinstance(data, dict):
        if isinstance(data.get("traces"), list) and data["traces"]:
            data = data["traces"][0]
        if isinstance(data, dict):
            for key in ("steps", "trace"):
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
    if not isinstance(data, list):
        raise OverlayError(
            f"{path}: expected a trace: JSON Lines of events, a list of "
            '{"event": ...} steps, or simulate\'s JSON output'
        )
    steps: list[TraceStep] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise OverlayError(f"{path}: step {number} is not an object")
        event = item.get("event")
        if event is not None and not isinstance(event, str):
            raise OverlayError(f"{path}: step {number}: field 'event' must be a string")
        configuration = item.get("configuration")
        if configuration is not None and not (
            isinstance(configuration, list) and all(isinstance(s, str) for s in configuration)
        ):
            raise OverlayError(f"{path}: step {number}: field 'configuration' must list state ids")
        transitions = item.get("transitions")
        if transitions is not None and not (
            isinstance(transitions, list) and all(isinstance(t, str) for t in transitions)
        ):
            raise OverlayError(f"{path}: step {number}: field 'transitions' must list ids")
        if event is None and configuration is None and transitions is None:
            continue  # an expectation, a stubbed result, a webhook: not a step of the path
        steps.append(
            TraceStep(
                event,
                tuple(configuration) if configuration is not None else None,
                tuple(transitions) if transitions is not None else None,
            )
        )
    return steps


@dataclass(frozen=True)
class Coverage:
    states: frozenset[str]
    transitions: frozenset[str]


def read_coverage(path: str) -> Coverage:
    """Covered states and transitions (ids ``SOURCE#INDEX``) from simulate's JSON output.

    The coverage of every trace in the file is united; a file that is just
    ``{"coverage": {...}}`` or ``{"states": [...], "transitions": [...]}`` works too.
    """
    data = _read_json_file(path)
    blocks: list[Any] = []
    if isinstance(data, dict) and isinstance(data.get("traces"), list):
        blocks = [trace.get("coverage") for trace in data["traces"] if isinstance(trace, dict)]
    elif isinstance(data, dict) and "coverage" in data:
        blocks = [data["coverage"]]
    elif isinstance(data, dict):
        blocks = [data]
    states: set[str] = set()
    transitions: set[str] = set()
    found = False
    for block in blocks:
        if not isinstance(block, dict):
            continue
        found = True
        states.update(_ids(path, "states", block.get("states", [])))
        transitions.update(_ids(path, "transitions", block.get("transitions", [])))
    if not found:
        raise OverlayError(
            f'{path}: no "coverage" found (expected simulate --format json output with '
            '"coverage": {"states": [...], "transitions": [...]})'
        )
    return Coverage(frozenset(states), frozenset(transitions))


def _ids(path: str, field: str, value: Any) -> list[str]:
    if isinstance(value, dict):  # {"covered": [...], ...}
        value = value.get("covered", [])
    if not isinstance(value, list):
        raise OverlayError(f"{path}: field 'coverage.{field}' must be a list")
    result = []
    for item in value:
        if isinstance(item, dict) and "id" in item:
            item = item["id"]
        if not isinstance(item, str):
            raise OverlayError(f"{path}: field 'coverage.{field}' must list ids as strings")
        result.append(item)
    return result


# --------------------------------------------------------------------------- overlays


def _check_known(graph: DiagramGraph, state_ids: Iterable[str], what: str) -> None:
    known = graph.node_index()
    unknown = [state for state in state_ids if state not in known]
    if unknown:
        names = ", ".join(sorted(known)[:12]) + (", …" if len(known) > 12 else "")
        raise OverlayError(
            f"{what}: unknown state(s) {', '.join(unknown)} in {graph.name}\n"
            f"hint: the states are {names}"
        )


def highlight(
    graph: DiagramGraph, state_ids: Sequence[str], what: str = "--highlight"
) -> DiagramGraph:
    """Mark ``state_ids`` and their ancestors active."""
    _check_known(graph, state_ids, what)
    parents = graph.parents()
    active: set[str] = set()
    for state in state_ids:
        current: str | None = state
        while current is not None:
            active.add(current)
            current = parents[current]

    def mark(node: DiagramNode) -> DiagramNode:
        return replace(node, active=True) if node.id in active else node

    return graph.map_nodes(mark)


def number_path(graph: DiagramGraph, path: Sequence[str]) -> DiagramGraph:
    """Number the edges of the transitions in ``path`` (ids, in the order taken).

    Ids the diagram does not draw (the chart's initial transition) are left out
    of the numbering.
    """
    drawn = {edge.id for edge in graph.edges}
    steps: dict[str, list[int]] = {}
    for position, identifier in enumerate((i for i in path if i in drawn), start=1):
        steps.setdefault(identifier, []).append(position)
    edges = tuple(
        replace(edge, steps=tuple(steps[edge.id])) if edge.id in steps else edge
        for edge in graph.edges
    )
    return replace(graph, edges=edges)


def mark_coverage(graph: DiagramGraph, coverage: Coverage) -> DiagramGraph:
    """Mark states and transitions that no trace covered (history defaults are not counted)."""
    nodes = graph.node_index()
    history = {NodeKind.HISTORY_SHALLOW, NodeKind.HISTORY_DEEP}
    edges = tuple(
        replace(edge, uncovered=edge.id not in coverage.transitions)
        if nodes.get(edge.source) is None or nodes[edge.source].kind not in history
        else edge
        for edge in graph.edges
    )

    def mark(node: DiagramNode) -> DiagramNode:
        if node.kind in history:
            return node
        return replace(node, uncovered=node.id not in coverage.states)

    marked = graph.map_nodes(mark) if coverage.states else graph
    return replace(marked, edges=edges)


# --------------------------------------------------------------------------- trace → path


def event_matches(descriptors: Sequence[str], event: str) -> bool:
    """Whether any of ``descriptors`` matches ``event`` (SCXML event matching)."""
    return any(descriptor_matches(descriptor, event) for descriptor in descriptors)


class _Walker:
    """Follows a trace through a chart, guessing undecidable guards from the trace.

    This is not the engine: it does not evaluate data.  Among the transitions an
    event could take (document order, innermost first), it takes the first whose
    targets agree with the configuration the trace says came next; without
    configurations, the first one.
    """

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.index = chart.index
        self.active: set[str] = set()

    # state helpers
    def _with_ancestors(self, state_id: str) -> set[str]:
        return {state_id, *self.index.ancestors(state_id)}

    def _complete(self, states: set[str]) -> set[str]:
        """Add the default descendants of every active compound/parallel state."""
        result = set(states)
        changed = True
        while changed:
            changed = False
            for state_id in list(result):
                state = self.index.states[state_id]
                children = {
                    child.id for child in state.children if child.kind is not StateKind.HISTORY
                }
                if state.kind is StateKind.PARALLEL:
                    missing = children - result
                    if missing:
                        result |= missing
                        changed = True
                elif state.kind is StateKind.COMPOUND and not (children & result):
                    targets = state.initial.targets if state.initial else (state.children[0].id,)
                    for target in targets:
                        result |= self._with_ancestors(target)
                    changed = True
        return result

    def _enter(self, targets: Sequence[str]) -> set[str]:
        entered: set[str] = set()
        for target in targets:
            state = self.index.states[target]
            if state.kind is StateKind.HISTORY and state.transitions:
                targets_ = state.transitions[0].targets
                for inner in targets_:
                    entered |= self._with_ancestors(inner)
            else:
                entered |= self._with_ancestors(target)
        return entered

    def start(self) -> None:
        self.active = self._complete(self._enter(self.chart.initial.targets))

    def _atomic(self, states: set[str]) -> list[str]:
        atomic = [
            s
            for s in states
            if not (
                self.index.states[s].children
                and any(child.id in states for child in self.index.states[s].children)
            )
        ]
        return sorted(atomic, key=self.index.order.__getitem__)

    def _expected(self, configuration: tuple[str, ...] | None) -> set[str] | None:
        if configuration is None:
            return None
        expected: set[str] = set()
        for state in configuration:
            if state in self.index.states:
                expected |= self._with_ancestors(state)
        return expected

    def _result(self, source: str, transition: Transition) -> set[str]:
        """The configuration after taking ``transition`` from ``source``."""
        if not transition.targets:
            return set(self.active)
        targets = list(transition.targets)
        domain = self._domain(source, targets, transition.kind)
        exited = {s for s in self.active if domain is None or domain in self.index.ancestors(s)}
        remaining = self.active - exited
        return self._complete(remaining | self._enter(targets))

    def _domain(self, source: str, targets: list[str], kind: TransitionKind) -> str | None:
        """The innermost compound state containing source and targets (None: the chart)."""
        candidates = (
            [source]
            if kind is TransitionKind.INTERNAL
            and all(source in self.index.ancestors(t) for t in targets)
            else self.index.ancestors(source)
        )
        for ancestor in candidates:
            state = self.index.states[ancestor]
            if (state.kind is StateKind.COMPOUND or ancestor == source) and all(
                ancestor in self.index.ancestors(t) for t in targets
            ):
                return ancestor
        return None

    def _candidates(self, accept: Any) -> list[tuple[str, int, Transition]]:
        found: list[tuple[str, int, Transition]] = []
        seen: set[tuple[str, int]] = set()
        for atomic in self._atomic(self.active):
            for state_id in [atomic, *self.index.ancestors(atomic)]:
                state: State = self.index.states[state_id]
                for number, transition in enumerate(state.transitions):
                    if accept(transition) and (state_id, number) not in seen:
                        seen.add((state_id, number))
                        found.append((state_id, number, transition))
        return found

    def _choose(
        self, candidates: list[tuple[str, int, Transition]], expected: set[str] | None
    ) -> tuple[str, int, Transition] | None:
        if not candidates:
            return None
        if expected is None:
            unguarded = [c for c in candidates if c[2].guard is None]
            return (unguarded or candidates)[0]
        for candidate in candidates:
            targets = candidate[2].targets
            if targets and self._enter(targets) <= expected:
                return candidate
            if not targets and self._atomic(self.active) == self._atomic(expected):
                return candidate
        return None

    def step(self, step: TraceStep) -> list[str]:
        if step.transitions is not None:
            if step.configuration is not None:
                self.active = self._complete(self._expected(step.configuration) or set())
            return list(step.transitions)
        taken: list[str] = []
        expected = self._expected(step.configuration)
        if step.event is not None:
            name = step.event
            chosen = self._choose(
                self._candidates(lambda t: bool(t.events) and event_matches(t.events, name)),
                expected,
            )
        else:
            chosen = None
        if chosen is None and (step.event is None or expected is not None):
            chosen = self._choose(self._candidates(lambda t: t.timer is not None), expected)
        if chosen is not None:
            source, number, transition = chosen
            self.active = self._result(source, transition)
            taken.append(transition_id(source, number))
        for _ in range(MAX_EVENTLESS):
            if expected is not None and self._atomic(self.active) == self._atomic(expected):
                break
            eventless = self._candidates(
                lambda t: not t.events and t.timer is None and bool(t.targets)
            )
            chosen = self._choose(eventless, expected)
            if chosen is None or (expected is None and chosen[2].guard is not None):
                break
            source, number, transition = chosen
            self.active = self._result(source, transition)
            taken.append(transition_id(source, number))
        if expected is not None:
            self.active = self._complete(expected)
        return taken


def trace_path(chart: Chart, steps: Sequence[TraceStep]) -> list[str]:
    """The ids of the transitions a trace takes, in order (see :class:`_Walker`)."""
    walker = _Walker(chart)
    walker.start()
    path: list[str] = []
    for step in steps:
        path.extend(walker.step(step))
    return path
