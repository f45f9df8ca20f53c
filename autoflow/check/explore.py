"""Explore the reachable configurations of a statechart, driving the real engine.

The successor function *is* :mod:`autoflow.sim.engine` (``start``, ``step``,
``fire_due``), so ``check`` and ``simulate`` cannot disagree on what a
workflow does.  Breadth-first search from the initial configuration(s) keeps
the parent of every node, which gives each finding the shortest trace.

The abstraction
---------------
Two snapshots are the same *abstract state* when they agree on

* the active configuration (and history values, invoked children, fan-outs,
  whether the instance is done);
* the values of **finite-domain data** — ``bool``, ``enum`` and ``int`` with
  ``minimum``/``maximum`` declared in ``data:`` — which are explored exactly;
* the pending timers, as (event, time left until due);
* the effects whose results the active states wait for.

Other data (strings, maps, unbounded counters) is carried along on the first
path that reached the abstract state but is not part of it.  Consequence:
two paths that differ only in such data are merged, so a guard over untracked
data is evaluated with the values of one path; declare a finite domain when a
verdict depends on that data.

Inputs offered in each abstract state:

* every external event a transition of an active state takes (in a workflow
  with triggers: the trigger events those transitions take; an event no
  trigger delivers is never offered — ``unknown-event`` reports it);
* for every effect the active states wait on: ``done.effect.<stem>`` (with
  the simulator's realistic default result) and ``error.effect.<stem>``;
* "time passes until the next timer is due" (events happen either right
  after the previous one or when a timer fires).

Each event comes with payloads from guard reasoning
(:mod:`autoflow.check.guards`): one per transition on it that makes that
transition's guard true (and earlier ones false), one making all false.  A
guard the reasoner cannot decide is treated as possibly true: the explorer
runs a copy of the chart where that guard also accepts an "assumed" flag in
the payload, and marks trace steps that rely on it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from autoflow.check.diagnostics import TraceStep
from autoflow.check.guards import (
    GuardReasoner,
    Verdict,
    collect_event_paths,
    data_domains,
    event_paths,
    fill_payload,
    unique_paths,
)
from autoflow.errors import AutoflowError, SimulationError
from autoflow.model.durations import format_duration
from autoflow.model.events import descriptor_matches
from autoflow.model.ir import Chart, Expr, State, Transition, Trigger, walk_states
from autoflow.sim import engine
from autoflow.sim.clock import DEFAULT_EPOCH
from autoflow.sim.simulator import default_result, to_jsonable, trigger_key

__all__ = ["Node", "StateSpace", "Step", "explore", "transition_id"]

DEFAULT_MAX_STATES = 20_000
ASSUME_PREFIX = "__autoflow_assume_"
_INTERNAL_PREFIXES = ("done.state.", "done.invoke.", "error.", "done.effect.", "autoflow.timer.")
_MAX_VECTOR_GUARDS = 8
MAX_EDGES_KEPT = 8  # per state and transition in StateSpace.entered_by / fired_by


def transition_id(state: State, index: int) -> str:
    """The id the simulator's coverage uses: ``<source state id>#<index>``."""
    return f"{state.id}#{index}"


@dataclass(frozen=True)
class Step:
    """How a node was reached from its parent: an event (or a timer) after ``elapsed``."""

    kind: str  # "start" | "event" | "result" | "timer"
    event: str | None
    data: Any = None
    elapsed: timedelta = timedelta(0)
    sendid: str | None = None
    assumed: tuple[str, ...] = ()  # transition ids whose undecided guard was assumed true


@dataclass
class Node:
    index: int
    snapshot: engine.Snapshot
    now: datetime
    pending: dict[tuple[str, str], engine.Effect]
    parent: int | None
    step: Step | None
    depth: int


@dataclass
class StateSpace:
    """The explored abstract state space of one chart."""

    chart: Chart
    nodes: list[Node] = field(default_factory=list)
    successors: dict[int, list[tuple[int, Step]]] = field(default_factory=dict)
    roots: list[int] = field(default_factory=list)
    fired: dict[str, int] = field(default_factory=dict)  # transition id -> first node after it
    entered: dict[str, int] = field(default_factory=dict)  # state id -> first node it is in
    # the edges (node before, step; None: a start) on which each transition fired and
    # each state was entered, in the order found (the first ends the shortest path that
    # covers it; at most MAX_EDGES_KEPT each)
    fired_by: dict[str, list[tuple[int | None, Step]]] = field(default_factory=dict)
    entered_by: dict[str, list[tuple[int | None, Step]]] = field(default_factory=dict)
    # macrosteps the engine aborted (eventless loops): (node, step; node None: at start)
    loops: list[tuple[int | None, Step, str]] = field(default_factory=list)
    # loops kept going by a guard that fails to evaluate: position in ``loops`` ->
    # (eventless transition id, the evaluation error)
    guard_errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    assumed: set[str] = field(default_factory=set)  # transition ids with undecided guards
    instance_key: dict[int, str] = field(default_factory=dict)  # root -> instance id
    truncated: bool = False
    stopped: bool = False  # ``explore(stop=...)`` ended the search early
    partial: set[int] = field(default_factory=set)  # expanded, but successors dropped
    expanded: set[int] = field(default_factory=set)
    max_states: int = DEFAULT_MAX_STATES
    seconds: float = 0.0
    reasoner: GuardReasoner | None = None
    # fills a payload of an event (name, payload, fields decided) with the fields read
    fill: Callable[[str, Any, frozenset[str]], Any] | None = None

    def trace(self, index: int | None, extra: Step | None = None) -> tuple[TraceStep, ...]:
        """The shortest trace to node ``index`` (and ``extra`` after it), as trace lines.

        Pure time passing becomes a step with ``event`` None; the first event
        of a workflow with start triggers starts the instance, later ones name
        it (``instance``) so that ``autoflow simulate`` routes them there.
        """
        steps = self.steps_to(index, extra)
        root = self.root_of(index)
        key = self.instance_key.get(root) if root is not None else None
        result: list[TraceStep] = []
        for position, step in enumerate(steps):
            if step.kind == "start" and step.event is None:
                continue
            data = _clean(step.data)
            instance = key if (position > 0 and step.event is not None) else None
            result.append(TraceStep(format_offset(step.elapsed), step.event, data, instance))
        return tuple(result)

    def assumptions(self, index: int | None, extra: Step | None = None) -> tuple[str, ...]:
        """Undecided guards the trace to ``index`` assumes (transition ids)."""
        found: list[str] = []
        for step in self.steps_to(index, extra):
            for item in step.assumed:
                if item not in found:
                    found.append(item)
        return tuple(found)

    def assumed_outcomes(
        self, index: int | None, extra: Step | None = None
    ) -> tuple[tuple[str, bool], ...]:
        """The undecided guards the trace to ``index`` relies on, each as (transition
        id, the outcome assumed): the exploration forced them, the engine replaying
        the trace evaluates them itself and may decide otherwise."""
        flags = {ASSUME_PREFIX + _flag(tid): tid for tid in self.assumed}
        found: dict[str, bool] = {}
        for item in self.assumptions(index, extra):
            name, forced, value = item.partition("=")
            tid = flags.get(name, name)
            found.setdefault(tid, value == "True" if forced else True)
        return tuple(found.items())

    @property
    def complete(self) -> bool:
        """Every reachable abstract state was expanded: no ``--max-states`` cut and no
        macrostep the engine had to abort (an eventless loop hides what lies beyond)."""
        return not self.truncated and not self.loops and not self.stopped

    @property
    def edges(self) -> int:
        return sum(len(v) for v in self.successors.values())

    def path(self, index: int | None) -> list[Node]:
        """The nodes from a root to ``index`` (the shortest path)."""
        result: list[Node] = []
        cursor: int | None = index
        while cursor is not None:
            node = self.nodes[cursor]
            result.append(node)
            cursor = node.parent
        return list(reversed(result))

    def steps_to(self, index: int | None, extra: Step | None = None) -> list[Step]:
        steps = [n.step for n in self.path(index) if n.step is not None]
        return steps + ([extra] if extra is not None else [])

    def root_of(self, index: int | None) -> int | None:
        return self.path(index)[0].index if index is not None else None

    def active(self, index: int) -> tuple[str, ...]:
        """Sorted active atomic and final states of a node."""
        return engine.active_atomic(self.nodes[index].snapshot, self.chart)

    def is_final(self, index: int) -> bool:
        return self.nodes[index].snapshot.done


def _keep(
    edges: dict[str, list[tuple[int | None, Step]]], key: str, parent: int | None, step: Step
) -> None:
    kept = edges.setdefault(key, [])
    alike = sum(1 for p, s in kept if p == parent and s.event == step.event)
    if len(kept) < MAX_EDGES_KEPT and alike < 2:  # keep a variety of events
        kept.append((parent, step))


def _freeze(value: Any) -> Hashable:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


class _Explorer:
    def __init__(
        self,
        chart: Chart,
        max_states: int,
        progress: Callable[[int, int], None] | None,
        stop: Callable[[StateSpace], bool] | None = None,
    ) -> None:
        self.chart = chart
        self.stop = stop
        self.reasoner = GuardReasoner(chart)
        self.tracked = sorted(data_domains(chart))
        self.progress = progress
        self.space = StateSpace(chart, max_states=max_states)
        self.space.reasoner = self.reasoner
        self.states = walk_states(chart.states)
        self.ids_of_transition: dict[int, str] = {}
        self.labels: dict[str, list[tuple[str, Transition]]] = {}
        self.runtime = self._exploration_chart()
        self.eventless_event_guards = [
            t.guard
            for s in self.states
            for t in s.transitions
            if not t.events
            and t.timer is None
            and t.guard is not None
            and "event" in t.guard.free_variables
            and not self._undecidable(t.guard)
        ]
        self.seen: dict[Hashable, int] = {}
        self._tolerant: Chart | None = None
        self.initial_data = _constant_data(chart)
        exprs = list(_expressions(chart))
        self.read_paths = _scoped_event_paths(chart)
        self._paths_for: dict[str, list[tuple[tuple[str | int, ...], str]]] = {}
        self._filled: dict[tuple[str, int, frozenset[str]], tuple[Any, Any]] = {}
        self.space.fill = self.fill
        self.result_paths = {
            stem: event_paths(exprs, {location: ()}, include_event=False)
            for stem, location in _result_locations(chart).items()
        }

    # -- payload fields no guard decides ---------------------------------

    def paths_for(self, name: str) -> list[tuple[tuple[str | int, ...], str]]:
        """The event fields read where event ``name`` can be the current event: by a
        trigger or transition on it, or by anything not bound to an event (entry and
        exit actions, eventless transitions), with how they are used."""
        found = self._paths_for.get(name)
        if found is None:
            found = unique_paths(
                [
                    (path, use)
                    for scope, path, use in self.read_paths
                    if scope is None or any(descriptor_matches(d, name) for d in scope)
                ]
            )
            self._paths_for[name] = found
        return found

    def fill(self, name: str, payload: Any, decided: frozenset[str] = frozenset()) -> Any:
        """``payload`` of event ``name`` with every field read but not in ``decided``
        filled in (:func:`autoflow.check.guards.fill_payload`); memoised on the identity
        of ``payload`` (the reasoner's witnesses are cached, nothing changes them)."""
        key = (name, id(payload), decided)
        found = self._filled.get(key)
        if found is None or found[0] is not payload:
            if len(self._filled) > 4096:
                self._filled.clear()
            found = (payload, fill_payload(payload, self.paths_for(name), decided, name))
            self._filled[key] = found
        return found[1]

    # -- the chart the explorer runs ------------------------------------

    def _exploration_chart(self) -> Chart:
        """The chart, with undecidable event guards made overridable by a payload flag."""
        for state in self.states:
            for index, t in enumerate(state.transitions):
                tid = transition_id(state, index)
                self.ids_of_transition[id(t)] = tid
                label = (
                    f"{state.id} -> {' '.join(t.targets)}" if t.targets else f"{state.id} #{index}"
                )
                self.labels.setdefault(label, []).append((tid, t))
        changed: dict[str, State] = {}
        self.eventless_flags: list[str] = []
        for state in self.states:
            new_transitions = []
            touched = False
            for index, t in enumerate(state.transitions):
                eventless = not t.events and t.timer is None
                if t.guard is not None and (
                    (t.events and self._undecidable(t.guard)) or (eventless and self._open(t.guard))
                ):
                    tid = transition_id(state, index)
                    self.space.assumed.add(tid)
                    flag = ASSUME_PREFIX + _flag(tid)
                    if eventless:
                        self.eventless_flags.append(flag)
                    source = (
                        f"(type(event) == map && has(event.{flag})) ? event.{flag} == true "
                        f": ({t.guard.source})"
                    )
                    t = replace(t, guard=Expr(source, t.guard.span))
                    touched = True
                new_transitions.append(t)
            if touched:
                changed[state.id] = replace(state, transitions=tuple(new_transitions))
        if not changed:
            return self.chart

        def rebuild(state: State) -> State:
            base = changed.get(state.id, state)
            if not state.children:
                return base
            return replace(base, children=tuple(rebuild(c) for c in state.children))

        return replace(self.chart, states=tuple(rebuild(s) for s in self.chart.states))

    def _open(self, guard: Expr) -> bool:
        """Eventless guards whose outcome depends on untracked data, time or an
        undecidable event condition: explored both ways."""
        allowed = set(self.reasoner.domains) | {"event"}
        return bool(guard.free_variables - allowed) or self._undecidable(guard)

    def _undecidable(self, guard: Expr) -> bool:
        """Event guards outside the fragment z3 reasons about."""
        return not self.reasoner.translatable(guard)

    # -- keys --------------------------------------------------------------

    def key(self, snap: engine.Snapshot, now: datetime, pending: Mapping[Any, Any]) -> Hashable:
        return (
            snap.configuration,
            snap.done,
            tuple(_freeze(snap.datamodel.get(name)) for name in self.tracked),
            tuple(
                sorted(
                    (t.event.name, t.target or "", t.session or "", (t.due - now).total_seconds())
                    for t in snap.timers
                )
            ),
            tuple(sorted(snap.history.items())),
            tuple(
                sorted(
                    (c.invokeid, c.snapshot.configuration, c.snapshot.done) for c in snap.children
                )
            ),
            tuple(sorted((f.invokeid, f.total, f.needed, len(f.outputs)) for f in snap.fanouts)),
            tuple(sorted(pending)),
        )

    # -- search ----------------------------------------------------------------

    def run(self) -> StateSpace:
        began = time.perf_counter()
        queue: deque[int] = deque()
        for step, result in self.initial():
            index, new = self.add(None, step, result, DEFAULT_EPOCH)
            if new:
                self.space.roots.append(index)
                queue.append(index)
                key = self.instance_key(step)
                if key is not None:
                    self.space.instance_key[index] = key
        while queue:
            index = queue.popleft()
            node = self.space.nodes[index]
            self.space.successors[index] = []
            self.space.expanded.add(index)
            if node.snapshot.done:
                continue
            for step, result, now in self.successors(node):
                if len(self.space.nodes) >= self.space.max_states and (
                    self.key(result.snapshot, now, self.pending_after(node, result, step))
                    not in self.seen
                ):
                    self.space.truncated = True
                    self.space.partial.add(index)
                    continue
                target, new = self.add(index, step, result, now)
                self.space.successors[index].append((target, step))
                if new:
                    queue.append(target)
            if self.progress is not None and len(self.space.nodes) % 1000 == 0:
                self.progress(len(self.space.nodes), self.space.edges)
            if self.stop is not None and queue and self.stop(self.space):
                self.space.stopped = True
                break
        if self.space.truncated or self.space.stopped:
            # nodes left in the queue were never expanded
            for index in queue:
                self.space.successors.setdefault(index, [])
        self.space.seconds = time.perf_counter() - began
        return self.space

    def pending_after(
        self, node: Node | None, result: engine.StepResult, step: Step | None = None
    ) -> dict[tuple[str, str], engine.Effect]:
        """The effects still awaiting their result after ``step`` led to ``result``.

        A result is delivered once: the effect ``step`` answered (``done.effect.*``
        or ``error.effect.*``) is no longer pending, so neither result is offered
        again for it.
        """
        pending = dict(node.pending) if node is not None else {}
        if step is not None and step.kind == "result" and step.sendid is not None:
            pending = {k: e for k, e in pending.items() if e.id != step.sendid}
        for effect in result.effects:
            if effect.result_event is None:
                continue
            session = effect.id.rsplit(":", 2)[0]
            pending[(effect.result_event, session)] = effect
        snap = result.snapshot
        if snap.done:
            return {}
        children = {c.invokeid for c in snap.children}
        waiting = self.result_events(snap)
        kept = {}
        for (stem, session), effect in pending.items():
            if session != snap.instance:
                if any(f"/{c}" in session for c in children):
                    kept[(stem, session)] = effect
            elif f"done.effect.{stem}" in waiting or f"error.effect.{stem}" in waiting:
                kept[(stem, session)] = effect
        return kept

    def active_states(self, snap: engine.Snapshot) -> Iterator[State]:
        """The chart's states active in ``snap``, in document order."""
        index = self.chart.index
        order = index.order
        for state_id in sorted(snap.configuration, key=lambda s: order.get(s, 0)):
            state = index.states.get(state_id)
            if state is not None:
                yield state

    def result_events(self, snap: engine.Snapshot) -> set[str]:
        names: set[str] = set()
        for state in self.active_states(snap):
            for t in state.transitions:
                for d in t.events:
                    if d.startswith(("done.effect.", "error.effect.")):
                        names.add(d.removesuffix(".*"))
        return names

    def add(
        self, parent: int | None, step: Step, result: engine.StepResult, now: datetime
    ) -> tuple[int, bool]:
        parent_node = self.space.nodes[parent] if parent is not None else None
        pending = self.pending_after(parent_node, result, step)
        key = self.key(result.snapshot, now, pending)
        known = self.seen.get(key)
        if known is not None:
            self.note_fired(result, step, known, parent)
            return known, False
        index = len(self.space.nodes)
        self.seen[key] = index
        depth = 0 if parent_node is None else parent_node.depth + 1
        self.space.nodes.append(Node(index, result.snapshot, now, pending, parent, step, depth))
        self.note_fired(result, step, index, parent)
        for state in result.snapshot.configuration:
            self.space.entered.setdefault(state, index)
            _keep(self.space.entered_by, state, parent, step)
        return index, True

    def note_fired(
        self, result: engine.StepResult, step: Step, index: int, parent: int | None
    ) -> None:
        for micro in result.microsteps:
            if micro.session is not None:
                continue
            for state in micro.entered:
                self.space.entered.setdefault(state, index)
                _keep(self.space.entered_by, state, parent, step)
            for label in micro.transitions:
                for tid in self.resolve(label, micro.event):
                    self.space.fired.setdefault(tid, index)
                    _keep(self.space.fired_by, tid, parent, step)

    def resolve(self, label: str, event: engine.Event | None) -> list[str]:
        """Transition ids a microstep label can stand for (several when ambiguous)."""
        candidates = self.labels.get(label, [])
        name = None if event is None else event.name
        result = []
        for tid, t in candidates:
            if t.timer is not None:
                if (
                    name is not None
                    and name.startswith(engine.TIMER_PREFIX)
                    and name.endswith("." + tid.rsplit("#", 1)[1])
                ):
                    result.append(tid)
                continue
            if name is None or not t.events:
                if (name is None) == (not t.events) or not t.events:
                    result.append(tid)
                continue
            if any(descriptor_matches(d, name) for d in t.events):
                result.append(tid)
        return result or [tid for tid, _ in candidates]

    # -- inputs -------------------------------------------------------------

    def initial(self) -> Iterator[tuple[Step, engine.StepResult]]:
        starters = [t for t in self.chart.triggers if t.start]
        if not starters:
            step = Step("start", None)
            try:
                yield step, self.start(None)
            except SimulationError as exc:
                self.loop(None, step, exc, lambda chart: self.start(None, chart))
            return
        for trigger in starters:
            for name in trigger.events:
                if "*" in name:
                    continue
                filters = [trigger.filter] if trigger.filter is not None else []
                present = [trigger.key] if trigger.key is not None else []
                for payload, assumed in self.start_payloads(name, filters, present):
                    step = Step("start", name, payload, assumed=assumed)
                    event = engine.Event(name, payload)
                    try:
                        result = self.start(event)
                    except SimulationError as exc:
                        self.loop(None, step, exc, partial(self.rerun_start, event))
                        continue
                    yield step, result

    def start_payloads(
        self, name: str, filters: list[Expr], present: list[Expr]
    ) -> Iterator[tuple[Any, tuple[str, ...]]]:
        """Payloads of a starting event: with data free, then with the declared
        constant values (entry actions may change data before eventless guards
        read it, so neither alone is certain to reach every guard outcome)."""
        seen: set[Hashable] = set()
        forced: list[tuple[Any, tuple[str, ...]]] = []
        for data in (None, self.initial_data) if self.initial_data else (None,):
            for payload, assumed in self.payloads(
                name, [], filters, data, present, self.eventless_event_guards
            ):
                frozen = _freeze((payload, assumed))
                if frozen in seen:
                    continue
                seen.add(frozen)
                if any("=" in item for item in assumed):
                    forced.append((payload, assumed))  # after those that need no assumption
                else:
                    yield payload, assumed
        yield from forced

    def instance_key(self, step: Step) -> str | None:
        """The instance id the simulator gives an instance started by ``step``."""
        if step.event is None:
            return None
        event = engine.Event(step.event, _clean(step.data))
        for trigger in self.chart.triggers:
            if not trigger.start:
                continue
            try:
                takes, key = trigger_key(trigger, event, DEFAULT_EPOCH)
            except AutoflowError:
                return "instance"
            if takes:
                return "instance" if key is None else key
        return "instance"

    def start(self, event: engine.Event | None, chart: Chart | None = None) -> engine.StepResult:
        return engine.start(chart or self.runtime, DEFAULT_EPOCH, event=event)

    def rerun_start(self, event: engine.Event, chart: Chart) -> engine.StepResult:
        return self.start(event, chart)

    def offered(self, snap: engine.Snapshot) -> list[tuple[str, list[Expr]]]:
        """External event names the active states take, with the trigger filters for each."""
        found: dict[str, list[Expr]] = {}
        for state in self.active_states(snap):
            for t in state.transitions:
                for d in t.events:
                    if d == "*" or d.startswith(_INTERNAL_PREFIXES) or d in ("error", "done"):
                        continue
                    for name, filters in self.deliverable(d):
                        found.setdefault(name, []).extend(filters)
        return sorted(found.items())

    def deliverable(self, descriptor: str) -> list[tuple[str, list[Expr]]]:
        descriptor = descriptor.removesuffix(".*")
        if not self.chart.triggers:
            return [(descriptor, [])]
        result = []
        for trigger in self.chart.triggers:
            for name in trigger.events:
                name = name.removesuffix(".*")
                filters = [trigger.filter] if trigger.filter is not None else []
                if descriptor_matches(descriptor, name) and "*" not in name:
                    result.append((name, filters))
                elif descriptor_matches(name, descriptor):
                    result.append((descriptor, filters))
        return result

    def guards_for(self, snap: engine.Snapshot, name: str) -> list[tuple[str, Expr]]:
        """Guarded transitions of the active states on ``name``, in document order."""
        found = []
        for state in self.active_states(snap):
            for k, t in enumerate(state.transitions):
                if t.guard is not None and any(descriptor_matches(d, name) for d in t.events):
                    found.append((transition_id(state, k), t.guard))
        return found

    def payloads(
        self,
        name: str,
        guarded: list[tuple[str, Expr]],
        filters: list[Expr],
        data: Mapping[str, Any] | None,
        present: list[Expr],
        extra: list[Expr],
        base: Any = None,
    ) -> Iterator[tuple[Any, tuple[str, ...]]]:
        """Payloads that make each guard win in turn, and one that makes all false."""
        seen: set[Hashable] = set()
        forced: list[tuple[Any, tuple[str, ...]]] = []
        guards = [g for _, g in guarded][:_MAX_VECTOR_GUARDS]
        ids = [tid for tid, _ in guarded][:_MAX_VECTOR_GUARDS]
        extras = extra[:_MAX_VECTOR_GUARDS]
        vectors: list[tuple[list[Expr], list[Expr], tuple[str, ...]]] = []
        for i, guard in enumerate(guards):
            vectors.append(([guard], guards[:i], (ids[i],)))
        vectors.append(([], guards, ()))
        for true, false, winner in vectors:
            options: list[tuple[list[Expr], list[Expr]]] = (
                [([], [])] + [([g], []) for g in extras] + [([], [g]) for g in extras]
            )
            for more_true, more_false in options:
                solution = self.reasoner.solve(
                    [*filters, *true, *more_true],
                    [*false, *more_false],
                    data=data,
                    present=present,
                    event=name,
                )
                assumed: tuple[str, ...] = ()
                if solution.verdict is Verdict.UNSAT:
                    continue
                payload = _merge(base, solution.payload)
                if base is None:
                    payload = self.fill(name, payload, solution.decided)
                if solution.verdict is Verdict.UNKNOWN:
                    if not winner or winner[0] not in self.space.assumed:
                        if more_true or more_false:
                            continue
                        payload = _merge(base, None)
                    else:
                        assumed = winner
                        flag = {ASSUME_PREFIX + _flag(winner[0]): True}
                        payload = _merge(payload if isinstance(payload, dict) else {}, flag)
                for variant, more in self.flag_variants(payload):
                    if more:  # after every payload that needs no forced outcome
                        forced.append((variant, assumed + more))
                        continue
                    frozen = _freeze(variant)
                    if frozen in seen:
                        continue
                    seen.add(frozen)
                    yield variant, assumed
        # breadth-first search keeps the first way to a state: a trace that needs an
        # assumption is then shown only where no payload reaches the state without one
        for variant, assumed in forced:
            frozen = _freeze(variant)
            if frozen not in seen:
                seen.add(frozen)
                yield variant, assumed

    def flag_variants(self, payload: Any) -> Iterator[tuple[Any, tuple[str, ...]]]:
        """``payload``, and copies forcing each open eventless guard true or false."""
        yield payload, ()
        if payload is not None and not isinstance(payload, dict):
            return
        for flag in self.eventless_flags[:_MAX_VECTOR_GUARDS]:
            for value in (True, False):
                yield {**(payload or {}), flag: value}, (f"{flag}={value}",)

    def successors(self, node: Node) -> Iterator[tuple[Step, engine.StepResult, datetime]]:
        snap = node.snapshot
        data = snap.datamodel
        for name, filters in self.offered(snap):
            guarded = self.guards_for(snap, name)
            for payload, assumed in self.payloads(
                name, guarded, filters, data, [], self.eventless_event_guards
            ):
                step = Step("event", name, payload, assumed=assumed)
                result = self.run_step(node, step, engine.Event(name, payload), node.now)
                if result is not None:
                    yield step, result, node.now
        serial = node.index
        for (stem, _session), effect in sorted(node.pending.items()):
            for outcome in ("done", "error"):
                name = f"{outcome}.effect.{stem}"
                if outcome == "done":
                    base = to_jsonable(default_result(effect.effect, effect.args, node.now, serial))
                else:
                    base = {"status": 500, "message": f"simulated failure of {effect.effect}"}
                if outcome == "done" and stem in self.result_paths:
                    base = fill_payload(base, self.result_paths[stem], frozenset())
                guarded = self.guards_for(snap, name)
                for payload, assumed in self.payloads(name, guarded, [], data, [], [], base):
                    step = Step("result", name, payload, sendid=effect.id, assumed=assumed)
                    event = engine.Event(name, payload, sendid=effect.id)
                    result = self.run_step(node, step, event, node.now)
                    if result is not None:
                        yield step, result, node.now
        due = engine.next_due(snap)
        if due is not None:
            when = max(due, node.now)
            step = Step("timer", None, elapsed=when - node.now)
            try:
                result = engine.fire_due(self.runtime, snap, when)
            except SimulationError as exc:
                self.loop(
                    node,
                    step,
                    exc,
                    lambda chart: engine.fire_due(chart, _rehash(snap, chart), when),
                )
            else:
                yield step, result, when

    def run_step(
        self, node: Node, step: Step, event: engine.Event, now: datetime
    ) -> engine.StepResult | None:
        try:
            return engine.step(self.runtime, node.snapshot, event, now)
        except SimulationError as exc:
            self.loop(
                node,
                step,
                exc,
                lambda chart: engine.step(chart, _rehash(node.snapshot, chart), event, now),
            )
            return None

    # -- macrosteps the engine aborted ---------------------------------------

    def loop(
        self,
        node: Node | None,
        step: Step,
        exc: SimulationError,
        rerun: Callable[[Chart], engine.StepResult],
    ) -> None:
        """Record an aborted macrostep, and whether a failing guard keeps it going."""
        self.space.loops.append((None if node is None else node.index, step, str(exc)))
        cause = self.guard_error(node, step, rerun)
        if cause is not None:
            self.space.guard_errors[len(self.space.loops) - 1] = cause

    def guard_error(
        self,
        node: Node | None,
        step: Step,
        rerun: Callable[[Chart], engine.StepResult],
    ) -> tuple[str, str] | None:
        """``(transition id, error)`` when an eventless guard that fails to evaluate
        keeps the macrostep going: each failure raises ``error.execution``, after
        which eventless transitions are selected again, and the guard fails again.

        Found by running the macrostep again on a chart whose eventless guards are
        false while ``error.execution`` is processed: if that ends, the loop was the
        guard's; the guards of the configuration it ends in are then evaluated.
        """
        try:
            result = rerun(self.tolerant_chart())
        except SimulationError:
            return None
        snap = result.snapshot
        payload = _clean(step.data)
        now = node.now if node is not None else DEFAULT_EPOCH
        for state in self.active_states(snap):
            for k, t in enumerate(state.transitions):
                if t.events or t.timer is not None or t.guard is None:
                    continue
                tid = transition_id(state, k)
                if any(item.split("=")[0] == ASSUME_PREFIX + _flag(tid) for item in step.assumed):
                    continue  # its outcome was forced
                error_data = {"message": "(the previous failure)"}
                for name, data in ((step.event, payload), ("error.execution", error_data)):
                    problem = _evaluation_error(t.guard, snap, name, data, now, self.chart.name)
                    if problem is not None:
                        return tid, problem
        return None

    def tolerant_chart(self) -> Chart:
        """The exploration chart, with every eventless guard false while an
        ``error.execution`` event is the current event."""
        if self._tolerant is not None:
            return self._tolerant

        def rebuild(state: State) -> State:
            transitions = tuple(
                replace(
                    t,
                    guard=Expr(
                        '(type(_event) == map && _event.name == "error.execution") ? false '
                        f": ({t.guard.source})",
                        t.guard.span,
                    ),
                )
                if t.guard is not None and not t.events and t.timer is None
                else t
                for t in state.transitions
            )
            children = tuple(rebuild(c) for c in state.children)
            return replace(state, transitions=transitions, children=children)

        self._tolerant = replace(
            self.runtime, states=tuple(rebuild(s) for s in self.runtime.states)
        )
        return self._tolerant


def _expressions(value: Any) -> Iterator[Expr]:
    """Every CEL expression inside an IR value (charts, states, actions, invokes)."""
    if isinstance(value, Expr):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _expressions(item)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            if name != "span":
                yield from _expressions(getattr(value, name))


Scope = tuple[str, ...] | None  # the event descriptors an expression is bound to; None: any


def _scoped(value: Any, scope: Scope) -> Iterator[tuple[Scope, Expr]]:
    """Every CEL expression inside an IR value with the events it may see as ``event``:
    a trigger's or an evented transition's own events; anything else any event."""
    if isinstance(value, Expr):
        yield scope, value
    elif isinstance(value, tuple):
        for item in value:
            yield from _scoped(item, scope)
    elif hasattr(value, "__dataclass_fields__"):
        if isinstance(value, Trigger) or (isinstance(value, Transition) and value.events):
            scope = value.events
        for name in value.__dataclass_fields__:
            if name != "span":
                yield from _scoped(getattr(value, name), scope)


def _aliases(chart: Chart) -> dict[str, list[tuple[tuple[str, ...], Scope]]]:
    """Data assigned a part of the event (``milestone: ${{ event.object_attributes }}``),
    with the events it may be assigned from."""
    from autoflow.model.cel import ast
    from autoflow.model.ir import Assign, walk_actions

    found: dict[str, list[tuple[tuple[str, ...], Scope]]] = {}
    for state in walk_states(chart.states):
        blocks: list[tuple[Scope, tuple[Any, ...]]] = [
            *((None, block) for block in (*state.on_entry, *state.on_exit)),
            *((t.events or None, t.actions) for t in state.transitions),
        ]
        for scope, block in blocks:
            for action in walk_actions(block):
                if not isinstance(action, Assign) or "." in action.location:
                    continue
                try:
                    node = action.expr.program.ast
                except AutoflowError:
                    continue
                chain: list[str] = []
                while isinstance(node, ast.Select):
                    chain.append(node.field)
                    node = node.operand
                if isinstance(node, ast.Ident) and node.name == "event":
                    entry = (tuple(reversed(chain)), scope)
                    if entry not in found.setdefault(action.location, []):
                        found[action.location].append(entry)
    return found


def _scoped_event_paths(chart: Chart) -> list[tuple[Scope, Any, str]]:
    """Every event field the chart reads — directly, or through data assigned a part of
    the event — with the events it is read for and how it is used."""
    aliases = _aliases(chart)
    result: list[tuple[Scope, Any, str]] = []
    for scope, expr in _scoped(chart, None):
        try:
            tree = expr.program.ast
        except AutoflowError:
            continue
        found: list[Any] = []
        collect_event_paths(tree, found, None)
        result.extend((scope, path, use) for path, use in found)
        for location, assigned in aliases.items():
            if location not in expr.free_variables:
                continue
            for prefix, where in assigned:
                found = []
                collect_event_paths(tree, found, None, {location: prefix}, include_event=False)
                result.extend((where, path, use) for path, use in found)
    return result


def _result_locations(chart: Chart) -> dict[str, str]:
    """Effect stem -> the data name its result is assigned to (``result:``)."""
    from autoflow.model.ir import Call, walk_actions

    found: dict[str, str] = {}
    for state in walk_states(chart.states):
        blocks = [*state.on_entry, *state.on_exit, *(t.actions for t in state.transitions)]
        for block in blocks:
            for action in walk_actions(block):
                if isinstance(action, Call) and action.result is not None:
                    found[action.id or action.effect] = action.result.split(".")[0]
    return found


def _constant_data(chart: Chart) -> dict[str, Any]:
    """Data declared with a constant value (or none), as a new instance binds it."""
    items = list(chart.datamodel)
    if chart.binding != "late":
        items += [d for s in walk_states(chart.states) for d in s.datamodel]
    values: dict[str, Any] = {}
    for item in items:
        if item.src is not None:
            continue
        if item.expr is None:
            values[item.id] = None
            continue
        try:
            if item.expr.free_variables:
                continue
            values[item.id] = item.expr.program.evaluate({})
        except AutoflowError:
            continue
    return values


def _rehash(snapshot: engine.Snapshot, chart: Chart) -> engine.Snapshot:
    """``snapshot`` as if taken with ``chart`` (a variant of the chart it was taken with)."""
    return replace(snapshot, chart_hash=engine.chart_hash(chart))


def _evaluation_error(
    guard: Expr,
    snap: engine.Snapshot,
    event: str | None,
    data: Any,
    now: datetime,
    chart_name: str,
) -> str | None:
    """Why ``guard`` fails to give a boolean in ``snap`` with ``event`` current (None: it does)."""
    activation = {
        **snap.datamodel,
        "_event": None if event is None else {"name": event, "data": data},
        "event": data,
        "now": now,
        "_sessionid": snap.instance,
        "_name": chart_name,
    }
    configuration = set(snap.configuration)
    functions = {"In": lambda state: state in configuration}
    try:
        value = guard.program.evaluate(activation, functions)
    except AutoflowError as exc:
        return str(exc)
    if not isinstance(value, bool):
        return f"not a boolean ({value!r})"
    return None


def _clean(data: Any) -> Any:
    """Payload without the explorer's assumption flags."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not str(k).startswith(ASSUME_PREFIX)}
    return data


def _flag(tid: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in tid)


def _merge(base: Any, extra: Any) -> Any:
    """``extra`` deep-merged over ``base`` (maps only; otherwise ``extra`` wins when given)."""
    if extra is None:
        return base
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for k, v in extra.items():
            merged[k] = _merge(merged.get(k), v)
        return merged
    return extra


def explore(
    chart: Chart,
    *,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Callable[[int, int], None] | None = None,
    stop: Callable[[StateSpace], bool] | None = None,
) -> StateSpace:
    """Explore ``chart``'s reachable abstract states (at most ``max_states``).

    ``stop`` is asked after each expanded node; when it answers true the search
    ends there (``space.stopped``; the space is then not :attr:`~StateSpace.complete`).
    """
    return _Explorer(chart, max_states, progress, stop).run()


def format_offset(elapsed: timedelta) -> str:
    return "+" + format_duration(elapsed.total_seconds())
