"""Both views of one workflow agree: the engine's statechart and the translated net.

The chart view is explored with the real engine (:mod:`autoflow.sim.engine`),
under the same control-flow abstraction the translation makes:

* every guard is replaced by ``"<key>" in _af_guards`` and, before each step,
  the explorer chooses which guards hold (every subset of at most two of the
  guards that can matter in that step, and all of them);
* every event some transition reacts to is offered, to the workflow and to
  each child session on its own; every pending timer may fire (time is
  abstracted: a timer's duration does not matter, only that it is pending);
* a ``foreach`` spawns ``fanout_width`` children (the list is replaced by one
  of that length), and data passed to children is dropped.

Agreement, precisely (``C`` = the configurations the engine rests in between
macrosteps, ``M`` = the net's reachable markings; both projected onto the
state places, a completed child counted as "done"):

1. **Simulation** (every chart): ``C ⊆ M``.
2. **No invented behaviour** (charts without history states and without one
   event moving two parallel regions at once): every marking of ``M`` in
   which no *urgent* transition is enabled is in ``C``.  Markings with an
   urgent transition enabled are transient: the engine passes through them
   inside one macrostep.  With history (the net restores any configuration
   history could have recorded) or synchronised regions (the net interleaves
   the regions' moves) only 1. holds; a test shows the extra marking.
3. **Deadlocks**: the configurations of ``C`` that are not final and that no
   event, timer or eventless transition leaves are exactly the dead markings
   of the net (besides ``[o]``).
4. **Soundness**: a workflow all of whose paths can reach a final state gives
   a sound workflow net; controls: a stuck state (a dead marking, no option to
   complete) and an unreachable state (a place never marked).
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from autoflow.check.petri import explore
from autoflow.model.io import load
from autoflow.model.io.yaml_reader import read_yaml_text
from autoflow.model.ir import (
    Chart,
    Data,
    Expr,
    Invoke,
    Join,
    Param,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
)
from autoflow.model.translate import Translation, translate
from autoflow.sim import engine

MODELS = sorted((Path(__file__).resolve().parents[2] / "models").glob("*.yaml"))
NOW = datetime(2024, 1, 1, tzinfo=UTC)
GUARDS = "_af_guards"
WIDTH = 2

Projection = frozenset[tuple[object, int]]


# --------------------------------------------------------------------------- the abstract chart


@dataclass
class Abstraction:
    chart: Chart
    guards: dict[str, list[tuple[str, Transition]]]  # state id -> (key, transition) with guards
    floating: set[str]  # keys of guarded eventless / done.* transitions (fire mid-macrostep)
    events: dict[int, set[str]]  # id(abstract chart) -> event names its transitions take


def abstract(chart: Chart, width: int = WIDTH) -> Abstraction:
    guards: dict[str, list[tuple[str, Transition]]] = {}
    floating: set[str] = set()
    events: dict[int, set[str]] = {}
    counter = itertools.count(1)

    def rewrite_chart(c: Chart) -> Chart:
        names: set[str] = set()
        states = tuple(rewrite_state(s, names) for s in c.states)
        new = replace(
            c,
            states=states,
            datamodel=(*c.datamodel, Data(GUARDS, Expr("[]"))),
        )
        events[id(new)] = names
        return new

    def rewrite_state(s: State, names: set[str]) -> State:
        transitions = []
        for t in s.transitions:
            guard = t.guard
            if guard is not None and s.kind is not StateKind.HISTORY:
                key = f"g{next(counter)}"
                guards.setdefault(s.id, []).append((key, t))
                if not t.events or any(e.startswith(("done.", "error.")) for e in t.events):
                    floating.add(key)
                guard = Expr(f'"{key}" in {GUARDS}')
            timer = t.timer
            if timer is not None:
                timer = Timer(TimerKind.AFTER, Expr('duration("60s")'))
            for e in t.events:
                if not e.startswith(("done.state.", "done.invoke.")):
                    names.add("anything" if e == "*" else e.removesuffix(".*"))
            transitions.append(replace(t, guard=guard, timer=timer))
        invokes = tuple(rewrite_invoke(i) for i in s.invokes)
        children = tuple(rewrite_state(c, names) for c in s.children)
        return replace(s, transitions=tuple(transitions), invokes=invokes, children=children)

    def rewrite_invoke(i: Invoke) -> Invoke:
        chart = rewrite_chart(i.chart) if i.chart is not None else None
        join = i.join
        if join is not None and join.timeout is not None:
            join = Join(join.kind, join.count, Expr('duration("60s")'))
        foreach = Expr("[" + ", ".join(["{}"] * width) + "]") if i.foreach is not None else None
        return replace(
            i,
            chart=chart,
            join=join,
            foreach=foreach,
            params=(Param(GUARDS, Expr(GUARDS)),),
            namelist=(),
        )

    return Abstraction(rewrite_chart(chart), guards, floating, events)


# --------------------------------------------------------------------------- the engine's view


def with_guards(snapshot: engine.Snapshot, chosen: frozenset[str]) -> engine.Snapshot:
    children = tuple(
        replace(child, snapshot=with_guards(child.snapshot, chosen)) for child in snapshot.children
    )
    data = {**snapshot.datamodel, GUARDS: sorted(chosen)}
    return replace(snapshot, datamodel=data, children=children)


def sessions(snapshot: engine.Snapshot) -> Iterator[engine.Snapshot]:
    yield snapshot
    for child in snapshot.children:
        yield from sessions(child.snapshot)


def key(snapshot: engine.Snapshot) -> object:
    """What an abstract state of the engine is: everything but data and exact times."""
    return (
        snapshot.done,
        snapshot.configuration,
        tuple(sorted(snapshot.history.items())),
        tuple(sorted((t.event.name, t.session or "") for t in snapshot.timers)),
        tuple(
            (c.invokeid, c.item, key(c.snapshot))
            for c in sorted(snapshot.children, key=lambda c: (c.invokeid, c.item or 0))
        ),
        tuple(sorted((f.invokeid, f.total, f.needed, len(f.outputs)) for f in snapshot.fanouts)),
    )


def project_chart(tr: Translation, snapshot: engine.Snapshot, scope: str = "") -> Counter[object]:
    """A configuration of the engine as a multiset of places (completed children: "done")."""
    result: Counter[object] = Counter()
    for state_id in snapshot.configuration:
        place = tr.state_places.get((scope, state_id))
        if place is not None:
            result[place] += 1
    infos = {i.invoke: i for i in tr.invokes if i.scope == scope}
    for child in snapshot.children:
        info = infos[child.invokeid]
        child_scope = info.scopes[0] if info.counted else info.scopes[child.item or 0]
        result += project_chart(tr, child.snapshot, child_scope)
    for fan in snapshot.fanouts:
        info = infos[fan.invokeid]
        for item, _ in fan.outputs:
            result[("done", info.scopes[0] if info.counted else info.scopes[item])] += 1
    return result


def freeze(counter: Counter[object]) -> Projection:
    return frozenset((k, v) for k, v in counter.items() if v)


@dataclass
class ChartSpace:
    configurations: set[Projection]
    deadlocks: set[Projection]
    finals: set[Projection]
    entered: set[object]  # places of every state entered, in any microstep
    steps: set[tuple[Projection, str, Projection]]  # (before, input, after) of each macrostep


def scope_of(tr: Translation, session: str | None) -> str | None:
    """The place prefix of a session id (``instance/<invoke>/<item>/...``)."""
    scope = ""
    parts = (session or "").split("/")[1:]
    while parts:
        invoke, parts = parts[0], parts[1:]
        item = 0
        if parts and parts[0].isdigit():
            item, parts = int(parts[0]), parts[1:]
        info = next((i for i in tr.invokes if i.scope == scope and i.invoke == invoke), None)
        if info is None:
            return None
        scope = info.scopes[0] if info.counted else info.scopes[item]
    return scope


def entered_places(tr: Translation, result: engine.StepResult) -> Iterator[object]:
    for micro in result.microsteps:
        scope = scope_of(tr, micro.session)
        for state_id in micro.entered:
            place = tr.state_places.get((scope or "", state_id))
            if place is not None:
                origin = tr.places[place]
                yield ("done", origin.scope) if origin.final and origin.scope else place


def relevant_guards(ab: Abstraction, snapshot: engine.Snapshot) -> list[str]:
    keys = set(ab.floating)
    for session in sessions(snapshot):
        for state_id in session.configuration:
            keys.update(k for k, _ in ab.guards.get(state_id, ()))
    return sorted(keys)


def guard_choices(keys: list[str]) -> list[frozenset[str]]:
    choices = {frozenset(), frozenset(keys)}
    for size in (1, 2):
        choices.update(frozenset(c) for c in itertools.combinations(keys, size))
    return sorted(choices, key=sorted)


def explore_chart(tr: Translation, ab: Abstraction, limit: int = 5000) -> ChartSpace:
    chart = ab.chart
    queue: deque[engine.Snapshot] = deque()
    seen: set[object] = set()
    configurations: set[Projection] = set()
    deadlocks: set[Projection] = set()
    finals: set[Projection] = set()
    entered: set[object] = set()
    steps: set[tuple[Projection, str, Projection]] = set()

    def visit(snapshot: engine.Snapshot) -> None:
        k = key(snapshot)
        if k not in seen:
            seen.add(k)
            queue.append(snapshot)

    for chosen in guard_choices(sorted(ab.floating)):
        started = engine.start(chart, NOW, data={GUARDS: sorted(chosen)})
        entered.update(entered_places(tr, started))
        visit(started.snapshot)
    child_events = {
        info.invoke: events
        for info in tr.invokes
        for invoke_chart in [_invoke_chart(chart, info.state, info.invoke)]
        if invoke_chart is not None
        for events in [ab.events[id(invoke_chart)]]
    }
    while queue:
        assert len(seen) <= limit, "the chart's abstract state space is larger than expected"
        snapshot = queue.popleft()
        projection = freeze(project_chart(tr, snapshot))
        configurations.add(projection)
        if snapshot.done:
            finals.add(projection)
            continue
        moved = False
        for chosen in guard_choices(relevant_guards(ab, snapshot)):
            base = with_guards(snapshot, chosen)
            results = [
                (name, engine.step(chart, base, engine.Event(name), NOW))
                for name in ab.events[id(chart)]
            ]
            for child in _all_children(base):
                for name in child_events.get(child.invokeid, ()):
                    sendid = f"{child.snapshot.instance}:0:0"
                    event = engine.Event(name, sendid=sendid)
                    results.append((name, engine.step(chart, base, event, NOW)))
            for n, timer in enumerate(base.timers):
                others = base.timers[:n] + base.timers[n + 1 :]
                due = replace(base, timers=(replace(timer, due=NOW), *others))
                results.append((timer.event.name, engine.fire_due(chart, due, NOW)))
            for name, result in results:
                if any(m.exited or m.entered for m in result.microsteps):
                    moved = True
                    entered.update(entered_places(tr, result))
                    steps.add((projection, name, freeze(project_chart(tr, result.snapshot))))
                    visit(result.snapshot)
        if not moved:
            deadlocks.add(projection)
    return ChartSpace(configurations, deadlocks, finals, entered, steps)


def _all_children(snapshot: engine.Snapshot) -> Iterator[engine.ChildSession]:
    for child in snapshot.children:
        yield child
        yield from _all_children(child.snapshot)


def _invoke_chart(chart: Chart, state_id: str, invoke_id: str) -> Chart | None:
    state = chart.index.states.get(state_id)
    if state is None:
        return None
    for k, invoke in enumerate(state.invokes):
        if (invoke.id or f"{state_id}.invoke{k}") == invoke_id:
            return invoke.chart
    return None


# --------------------------------------------------------------------------- the net's view


@dataclass
class NetSpace:
    markings: set[Projection]
    resting: set[Projection]  # markings in which no urgent transition is enabled
    dead: set[Projection]
    projections: list[Projection | None]  # per marking number (None: [i] or [o] marked)
    successors: list[list[tuple[str, int]]]  # per marking number: (transition id, target)


def project_marking(tr: Translation, marking: dict[str, int]) -> Projection:
    result: Counter[object] = Counter()
    for place, tokens in marking.items():
        origin = tr.places[place]
        if origin.kind != "state":
            continue
        result[("done", origin.scope) if origin.final and origin.scope else place] += tokens
    return freeze(result)


def explore_net(tr: Translation) -> NetSpace:
    net = tr.net
    space = explore(net, keep_edges=True)
    assert space.complete
    assert space.edge_arrays is not None
    successors: list[list[tuple[str, int]]] = [[] for _ in range(space.states)]
    for a, t, b in zip(*space.edge_arrays, strict=True):
        successors[int(a)].append((net.transitions[int(t)].id, int(b)))
    projections: list[Projection | None] = []
    # A top-level final is where the chart rests when it is done: ``finish`` only marks ``o``.
    urgent = {t for t in tr.urgent if tr.transitions[t].kind != "finish"}
    markings: set[Projection] = set()
    resting: set[Projection] = set()
    dead: set[Projection] = set()
    for n in range(space.states):
        marking = space.marking(n)
        if tr.source in marking or (tr.sink is not None and tr.sink in marking):
            projections.append(None)
            continue
        projection = project_marking(tr, marking)
        projections.append(projection)
        markings.add(projection)
        enabled = [
            t.id
            for t in net.transitions
            if all(marking.get(p, 0) >= w for p, w in net.pre(t.id).items())
        ]
        if not any(t in urgent for t in enabled):
            resting.add(projection)
        if not enabled:
            dead.add(projection)
    return NetSpace(markings, resting, dead, projections, successors)


# --------------------------------------------------------------------------- the charts


def chart_from(text: str, name: str) -> Chart:
    return read_yaml_text(text, f"<{name}>")


HAND_MADE = {
    "compound": """
workflow: compound
states:
  idle:
    on: {go: work}
  work:
    initial: fetch
    on:
      cancel: cancelled
      done.state.work: finished
    after: {1h: timed_out}
    states:
      fetch:
        on:
          fetched: check
      check:
        always:
          - if: ok
            target: ok
          - target: retry
      retry:
        on: {again: fetch, give_up: failed_inner}
      ok: {type: final}
      failed_inner: {type: final}
  cancelled: {type: final}
  timed_out: {type: final}
  finished: {type: final}
""",
    "parallel": """
workflow: parallel
states:
  prepare:
    on: {split: both}
  both:
    parallel: true
    on:
      done.state.both: merged
      abort: aborted
    states:
      build:
        states:
          compiling:
            on: {compiled: testing}
          testing:
            on: {passed: built, failed: compiling}
          built: {type: final}
      review:
        states:
          waiting:
            on: {approve: approved, reject: rejected}
          rejected:
            on: {revise: waiting}
          approved: {type: final}
  merged: {type: final}
  aborted: {type: final}
""",
    "shadowed": """
workflow: shadowed
states:
  a:
    initial: a1
    on:
      next: c           # pre-empted in a1 by a1's own `next`: never taken
    states:
      a1:
        on:
          next: b
      a2: {}            # unreachable
  b:
    always: d           # b is left at once...
    on: {jump: e}       # ...so no event is ever processed in it
  c:
    on: {finish: end}
  d:
    on: {finish: end}
  e:
    on: {finish: end}
  end: {type: final}
""",
}

HISTORY = """
workflow: history
states:
  running:
    initial: step1
    on: {pause: paused}
    states:
      step1: {on: {next: step2}}
      step2: {on: {next: step3}}
      step3: {on: {next: finished}}
      resume:
        type: history
        history: shallow
  paused:
    on: {resume: resume, stop: stopped}
  finished: {type: final}
  stopped: {type: final}
"""

SYNCHRONISED = """
workflow: synchronised
states:
  both:
    parallel: true
    on:
      done.state.both: end
    states:
      left:
        states:
          l1: {on: {go: l2}}
          l2: {type: final}
      right:
        states:
          r1: {on: {go: r2}}
          r2: {type: final}
  end: {type: final}
"""

FANOUT_ANY = """
workflow: fanout_any
states:
  ask:
    foreach: people
    as: person
    join: any
    workflow:
      states:
        asking:
          on: {answer: answered, decline: declined}
          after: {1d: declined}
        answered: {type: final}
        declined: {type: final}
    on:
      done.invoke.ask: decided
      cancel: cancelled
  decided: {type: final}
  cancelled: {type: final}
"""

STUCK = """
workflow: stuck
states:
  waiting:
    on:
      approve: approved
      reject: limbo
  limbo: {}
  approved: {type: final}
"""

UNREACHABLE = """
workflow: unreachable
states:
  waiting:
    on: {approve: approved}
  orphan:
    on: {approve: approved}
  approved: {type: final}
"""


def all_charts() -> list[tuple[str, Chart, bool]]:
    """(name, chart, exact): exact charts satisfy claim 2 as well."""
    charts = [(path.stem, load(str(path)), True) for path in MODELS]
    charts += [(name, chart_from(text, name), True) for name, text in HAND_MADE.items()]
    charts.append(("fanout_any", chart_from(FANOUT_ANY, "fanout_any"), True))
    charts.append(("stuck", chart_from(STUCK, "stuck"), True))
    charts.append(("history", chart_from(HISTORY, "history"), True))
    charts.append(("synchronised", chart_from(SYNCHRONISED, "synchronised"), False))
    return charts


@pytest.fixture(scope="module", params=all_charts(), ids=lambda c: c[0])
def views(request: pytest.FixtureRequest) -> tuple[str, Translation, ChartSpace, NetSpace, bool]:
    name, chart, exact = request.param
    tr = translate(chart, fanout_width=WIDTH)
    ab = abstract(chart)
    return name, tr, explore_chart(tr, ab), explore_net(tr), exact


# --------------------------------------------------------------------------- the claims


def show(projections: set[Projection]) -> list[list[object]]:
    return sorted(sorted((str(k), v) for k, v in p) for p in projections)  # type: ignore[misc]


def test_every_example_is_covered() -> None:
    names = {name for name, _, _ in all_charts()}
    assert {path.stem for path in MODELS} <= names
    assert len(MODELS) == 7


def test_chart_configurations_are_net_markings(views: Any) -> None:
    name, _tr, chart, net, _ = views
    assert chart.configurations, name
    missing = chart.configurations - net.markings
    assert not missing, f"{name}: configurations the net cannot reach: {show(missing)}"


def test_resting_markings_are_chart_configurations(views: Any) -> None:
    name, _tr, chart, net, exact = views
    extra = net.resting - chart.configurations
    if exact:
        assert not extra, f"{name}: markings the chart never rests in: {show(extra)}"
    else:
        assert extra, f"{name}: expected the net to over-approximate"


def test_deadlocks_agree(views: Any) -> None:
    name, _tr, chart, net, _ = views
    stuck = chart.deadlocks
    assert stuck == net.dead, f"{name}: chart {show(stuck)} vs net {show(net.dead)}"


def test_every_state_place_agrees(views: Any) -> None:
    """The places ever marked are exactly the states (and children) the engine enters."""
    name, _tr, chart, net, _ = views
    in_chart = chart.entered
    in_net = {k for p in net.markings for k, _ in p}
    assert in_chart == in_net, name


def reacts_to(tr: Translation, transition_id: str, name: str) -> bool | None:
    """Does a net transition take input ``name``?  None: it takes no input (it is internal:
    eventless, a completion, a join, start or finish)."""
    origin = tr.transitions[transition_id]
    if origin.kind == "timeout":
        return name == f"autoflow.timer.join.{origin.invoke}"
    if origin.kind != "transition":
        return None
    assert origin.state is not None
    assert origin.index is not None
    chart = tr.charts[origin.scope]
    transition = chart.index.states[origin.state].transitions[origin.index]
    if transition.timer is not None:
        return name == f"autoflow.timer.{origin.state}.{origin.index}"
    free = [e for e in transition.events if not e.startswith(("done.state.", "done.invoke."))]
    if not free:
        return None
    return any(e in ("*", name) or name.startswith(e.removesuffix(".*") + ".") for e in free)


def test_every_macrostep_is_a_firing_sequence(views: Any) -> None:
    """Each chart macrostep on input e: the net gets there firing transitions on e and
    internal ones (eventless, completion, join) only."""
    name, tr, chart, net, _ = views
    assert chart.steps or name in ("group-labels", "milestone-labels"), name
    for before, event, after in chart.steps:
        frontier = [n for n, p in enumerate(net.projections) if p == before]
        seen = set(frontier)
        found = False
        while frontier and not found:
            n = frontier.pop()
            for transition, target in net.successors[n]:
                if reacts_to(tr, transition, event) is False:
                    continue
                if net.projections[target] == after:
                    found = True
                    break
                if target in seen:
                    continue
                seen.add(target)
                frontier.append(target)
        assert found, f"{name}: {show({before})} --{event}--> {show({after})} not in the net"
