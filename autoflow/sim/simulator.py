"""Run a workflow against a trace in virtual time.

The simulator is a driver of :mod:`autoflow.sim.engine`, exactly as the runtime
is: it starts instances, routes events to them, fires their timers when the
virtual clock passes the timers' due times, and answers the effects they emit.

* **Instances.**  A chart with ``start`` triggers starts an instance for each
  matching event (passing the trigger's ``if``) whose ``key`` has no running
  instance; the start event is consumed by the start (bound to ``event`` while
  the instance initialises).  Later events go to the running instance with the
  same key, or to every running instance when the trigger has no key.  Events
  no trigger takes are recorded as ignored.  A chart without start triggers
  gets one instance, started when the trace reaches its first line that is not
  a ``stub`` or ``policy``; without any triggers every event goes to it.  An
  event line with ``"instance": KEY`` goes straight to that instance.
* **Time.**  Before each line the clock moves to the line's time; every timer
  due on the way fires at its own due time, in order.  ``until`` moves the clock
  on after the last line.
* **Effects.**  Each emitted effect gets an outcome: the oldest pending ``stub``
  that matches it, else the newest ``policy`` rule that matches its name, else
  the default policy (:data:`DEFAULT_POLICY`: GitLab, HTTP and notifications
  succeed with realistic responses, everything else is held).  A success is
  delivered as ``done.effect.<id>``, a failure as ``error.effect.<id>``, right
  after the step that emitted it; a held effect waits for the trace to send its
  result event itself.
* **Records.**  Every macrostep becomes a :class:`StepRecord`; expectations are
  checked at their line's time; coverage collects the states entered and the
  transitions taken (ids ``<source state id>#<index in source.transitions>``).
* **Errors.**  An expression that fails makes the engine skip the action and
  raise ``error.execution`` (the message in its data); the engine reports every
  error it raised in :attr:`StepResult.errors`, handled by a transition or not,
  and the simulator records the instance's own in :attr:`StepRecord.errors`.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from autoflow.errors import AutoflowError, SimulationError, TraceError
from autoflow.model.events import descriptor_matches
from autoflow.model.ir import Chart, StateKind, Trigger, walk_states
from autoflow.sim import engine
from autoflow.sim.clock import VirtualClock, format_instant, parse_when
from autoflow.sim.trace import (
    EffectPattern,
    EventLine,
    ExpectLine,
    Mode,
    PolicyLine,
    StubLine,
    Trace,
)

__all__ = [
    "DEFAULT_POLICY",
    "EffectRecord",
    "Failure",
    "StepRecord",
    "TimerRecord",
    "TraceResult",
    "default_result",
    "simulate_trace",
    "subset_match",
    "to_jsonable",
]

#: Outcomes of effects no stub or policy line decides; the first matching rule wins.
DEFAULT_POLICY: tuple[tuple[str, Mode], ...] = (
    ("gitlab.*", "succeed"),
    ("http.*", "succeed"),
    ("notify", "succeed"),
    ("*", "hold"),
)

#: Result events one trace line may cause in a chain before the simulator gives up.
MAX_CHAINED_STEPS = 10_000


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class EffectRecord:
    """An emitted effect and what the simulated world did with it."""

    id: str
    effect: str
    args: Mapping[str, Any]
    outcome: str  # "succeed" | "fail" | "hold" | "none" (no result expected)
    decided_by: str  # "policy", "default policy" or "stub (line N)"
    instance: str = "instance"


@dataclass(frozen=True)
class TimerRecord:
    id: str
    due: datetime
    event: str


@dataclass(frozen=True)
class StepRecord:
    """One macrostep of one instance (or an event nobody took)."""

    at: datetime
    event: str | None  # None: an instance started without an event
    kind: str  # "start" | "event" | "webhook" | "timer" | "result" | "ignored"
    instance: str | None
    line: int | None = None
    transitions: tuple[str, ...] = ()
    configuration: tuple[str, ...] = ()
    effects: tuple[EffectRecord, ...] = ()
    timers: tuple[TimerRecord, ...] = ()
    completed: bool = False
    note: str | None = None
    errors: tuple[tuple[str, str], ...] = ()  # (error event, message) raised in the step


@dataclass(frozen=True)
class Failure:
    """An unmet expectation."""

    line: int
    at: datetime
    check: str  # "active", "effects", "data", ... of the expect line
    message: str
    after_step: int = 0  # how many steps had been recorded when it was checked


@dataclass(frozen=True)
class TraceResult:
    trace: str
    chart: str
    steps: tuple[StepRecord, ...]
    completed: bool
    passed: int
    failures: tuple[Failure, ...]
    states_covered: tuple[str, ...]
    transitions_covered: tuple[str, ...]
    states_total: tuple[str, ...] = ()
    transitions_total: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)


# --------------------------------------------------------------------------- running


@dataclass
class _Instance:
    id: str
    key: str | None
    snapshot: engine.Snapshot
    configuration: tuple[str, ...] = ()  # all active states; when done, the completing one


@dataclass
class _Stub:
    line: StubLine
    remaining: int | None


@dataclass
class _Run:
    chart: Chart
    trace: Trace
    clock: VirtualClock
    instances: list[_Instance] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    passed: int = 0
    stubs: list[_Stub] = field(default_factory=list)
    policy: list[tuple[str, Mode, str]] = field(default_factory=list)
    unchecked_effects: list[EffectRecord] = field(default_factory=list)
    states_covered: set[str] = field(default_factory=set)
    transitions_covered: set[str] = field(default_factory=set)
    counters: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def simulate_trace(chart: Chart, trace: Trace, *, until: str | None = None) -> TraceResult:
    """Run ``chart`` against ``trace``; ``until`` (ISO or ``+10d``) runs the clock on after it.

    Raises :class:`TraceError` for expectations naming unknown states and
    :class:`SimulationError` when the run cannot go on.
    """
    began = time.perf_counter()
    _check_expectations(chart, trace)
    end: datetime | None = None
    if until is not None:
        try:
            end = parse_when(until, trace.end)
        except ValueError as exc:
            raise SimulationError(f"--until: {exc}") from None
        if end < trace.end:
            raise SimulationError(
                f"--until {until}: {format_instant(end)} is before the trace's last line "
                f"({format_instant(trace.end)})"
            )
    run = _Run(chart, trace, VirtualClock(trace.start))
    single = not any(trigger.start for trigger in chart.triggers)
    for line in trace.lines:
        if single and not run.instances and not isinstance(line, StubLine | PolicyLine):
            _start(run, None, None, None)
        _advance(run, line.at)
        if isinstance(line, EventLine):
            _deliver(run, line)
        elif isinstance(line, StubLine):
            run.stubs.append(_Stub(line, line.times))
        elif isinstance(line, PolicyLine):
            run.policy[:0] = [
                (pattern, mode, f"policy (line {line.line})") for pattern, mode in line.rules
            ]
        else:
            _expect(run, line)
    if single and not run.instances:
        _start(run, None, None, None)
    if end is not None:
        _advance(run, end)

    states_total = tuple(s.id for s in walk_states(chart.states) if s.kind is not StateKind.HISTORY)
    transitions_total = tuple(
        f"{s.id}#{i}"
        for s in walk_states(chart.states)
        if s.kind is not StateKind.HISTORY
        for i in range(len(s.transitions))
    )
    return TraceResult(
        trace=trace.path,
        chart=chart.name,
        steps=tuple(run.steps),
        completed=bool(run.instances) and all(i.snapshot.done for i in run.instances),
        passed=run.passed,
        failures=tuple(run.failures),
        states_covered=tuple(s for s in states_total if s in run.states_covered),
        transitions_covered=tuple(t for t in transitions_total if t in run.transitions_covered),
        states_total=states_total,
        transitions_total=transitions_total,
        seconds=time.perf_counter() - began,
    )


def _check_expectations(chart: Chart, trace: Trace) -> None:
    known = chart.index.states
    for line in trace.lines:
        if not isinstance(line, ExpectLine):
            continue
        for name in ("active", "inactive", "configuration"):
            for state in getattr(line, name) or ():
                if state not in known:
                    raise TraceError(
                        f"no state {state!r} in workflow {chart.name!r}",
                        trace.path,
                        line.line,
                        f"expect.{name}",
                    )


# ------------------------------------------------------------------ time


def _advance(run: _Run, to: datetime) -> None:
    """Fire every timer due up to ``to``, each at its due time, then set the clock to ``to``."""
    while True:
        dues = [
            (due, index)
            for index, inst in enumerate(run.instances)
            if not inst.snapshot.done and (due := engine.next_due(inst.snapshot)) is not None
        ]
        if not dues:
            break
        due = min(d for d, _ in dues)
        if due > to:
            break
        run.clock.advance_to(max(due, run.clock.time))
        for d, index in dues:
            if d != due:
                continue
            inst = run.instances[index]
            fired = [t.event.name for t in inst.snapshot.timers if t.due <= run.clock.time]
            result = engine.fire_due(run.chart, inst.snapshot, run.clock.time)
            _apply(run, inst, result, event=", ".join(fired), kind="timer", line=None)
    run.clock.advance_to(to)


# ------------------------------------------------------------------ instances and events


def _start(
    run: _Run, key: str | None, line: EventLine | None, event: engine.Event | None
) -> _Instance:
    base = key if key is not None else "instance"
    taken = {inst.id for inst in run.instances}
    instance_id = base
    for n in itertools.count(2):
        if instance_id not in taken:
            break
        instance_id = f"{base}#{n}"
    result = engine.start(run.chart, run.clock.time, instance=instance_id, event=event)
    inst = _Instance(instance_id, key, result.snapshot)
    run.instances.append(inst)
    _apply(
        run,
        inst,
        result,
        event=None if event is None else event.name,
        kind="start",
        line=None if line is None else line.line,
    )
    return inst


def _deliver(run: _Run, line: EventLine) -> None:
    event = engine.Event(line.name, line.data)
    kind = "webhook" if line.webhook is not None else "event"
    if line.instance is not None:
        targets = [
            i for i in run.instances if line.instance in (i.key, i.id) and not i.snapshot.done
        ]
        if not targets:
            _ignored(run, line, f"no running instance {line.instance!r}")
            return
        targets = targets[-1:]
    elif not run.chart.triggers:
        targets = [i for i in run.instances if not i.snapshot.done]
    else:
        notes: list[str] = []
        routed = _route(run, line, event, notes)
        if routed is None:
            return
        targets = routed
        if not targets:
            _ignored(run, line, "; ".join(notes) or "no trigger takes this event")
            return
    for inst in targets:
        result = engine.step(run.chart, inst.snapshot, event, run.clock.time)
        _apply(run, inst, result, event=line.name, kind=kind, line=line.line)


def _route(
    run: _Run, line: EventLine, event: engine.Event, notes: list[str]
) -> list[_Instance] | None:
    """The running instances the chart's triggers send ``event`` to; None when it started one."""
    running = [i for i in run.instances if not i.snapshot.done]
    targets: list[_Instance] = []
    starter: tuple[Trigger, str | None] | None = None
    for trigger in run.chart.triggers:
        try:
            takes, key = trigger_key(trigger, event, run.clock.time)
        except AutoflowError as exc:
            notes.append(f"trigger at {trigger.span}: {exc}")
            continue
        if not takes:
            continue
        matched = running if key is None else [i for i in running if i.key == key]
        targets.extend(i for i in matched if i not in targets)
        if not matched and trigger.start and starter is None:
            starter = (trigger, key)
    if not targets and starter is not None:
        _start(run, starter[1], line, event)
        return None
    return targets


def trigger_key(trigger: Trigger, event: engine.Event, now: datetime) -> tuple[bool, str | None]:
    """Whether ``trigger`` takes ``event`` (a descriptor matches and the filter holds),
    and the correlation key it computes (None without ``key``).

    Raises :class:`AutoflowError` when the filter or the key cannot be evaluated.
    """
    if not any(descriptor_matches(d, event.name) for d in trigger.events):
        return False, None
    activation = engine.trigger_activation(event, now)
    if trigger.filter is not None and trigger.filter.program.evaluate(activation) is not True:
        return False, None
    if trigger.key is None:
        return True, None
    value = trigger.key.program.evaluate(activation)
    return True, value if isinstance(value, str) else str(to_jsonable(value))


def _ignored(run: _Run, line: EventLine, note: str) -> None:
    run.steps.append(
        StepRecord(
            at=run.clock.time,
            event=line.name,
            kind="ignored",
            instance=None,
            line=line.line,
            note=note,
        )
    )


# ------------------------------------------------------------------ steps and effects


def _apply(
    run: _Run,
    inst: _Instance,
    result: engine.StepResult,
    *,
    event: str | None,
    kind: str,
    line: int | None,
) -> None:
    """Record a step, then deliver the results of its effects (breadth first).

    Each result event is stepped when its turn comes, against the snapshot left
    by the step before it, so results of one step reach every child session.
    """
    replies: deque[engine.Event] = deque()
    chained = 0
    current: engine.StepResult | None = result
    while current is not None:
        replies.extend(_record(run, inst, current, event=event, kind=kind, line=line))
        current = None
        while replies and current is None:
            reply = replies.popleft()
            if inst.snapshot.done:
                continue
            chained += 1
            if chained > MAX_CHAINED_STEPS:
                raise SimulationError(
                    f"more than {MAX_CHAINED_STEPS} effect results in a row at "
                    f"{format_instant(run.clock.time)}: the workflow loops on its own effects"
                )
            current = engine.step(run.chart, inst.snapshot, reply, run.clock.time)
            event, kind = reply.name, "result"


def _record(
    run: _Run,
    inst: _Instance,
    result: engine.StepResult,
    *,
    event: str | None,
    kind: str,
    line: int | None,
) -> list[engine.Event]:
    """Record one step of ``inst``; the result events its effects' outcomes call for."""
    inst.snapshot = result.snapshot
    # A completed instance keeps the configuration it completed in (engine contract).
    inst.configuration = tuple(result.snapshot.configuration)
    transitions = tuple(
        _transition_id(run.chart, label, micro.event)
        for micro in result.microsteps
        if micro.session is None
        for label in micro.transitions
    )
    errors = tuple(
        (error.event.name, _error_message(error.event.data))
        for error in result.errors
        if error.session is None
    )
    run.transitions_covered.update(transitions)
    run.states_covered.update(inst.configuration)
    for micro in result.microsteps:
        if micro.session is None:
            run.states_covered.update(micro.entered)
    decisions = [_decide(run, inst, effect) for effect in result.effects]
    effects = tuple(record for record, _ in decisions)
    run.unchecked_effects.extend(effects)
    run.steps.append(
        StepRecord(
            at=run.clock.time,
            event=event,
            kind=kind,
            instance=inst.id,
            line=line,
            transitions=transitions,
            configuration=_atomic(run.chart, inst),
            effects=effects,
            timers=tuple(TimerRecord(t.id, t.due, t.event.name) for t in result.snapshot.timers),
            completed=result.snapshot.done,
            errors=errors,
        )
    )
    replies: list[engine.Event] = []
    for (record, stub), effect in zip(decisions, result.effects, strict=True):
        if record.outcome not in ("succeed", "fail") or effect.result_event is None:
            continue
        data = stub.result if stub is not None else _default_data(run, record, effect)
        prefix = "done" if record.outcome == "succeed" else "error"
        name = f"{prefix}.effect.{effect.result_event}"
        replies.append(engine.Event(name, data, sendid=effect.id))
    return replies


def _error_message(data: Any) -> str:
    message = data.get("message") if isinstance(data, Mapping) else None
    if isinstance(message, str):
        return message
    return "" if data is None else _short(data)


def _atomic(chart: Chart, inst: _Instance) -> tuple[str, ...]:
    states = chart.index.states
    return tuple(
        sorted(
            s
            for s in inst.configuration
            if s in states and states[s].kind in (StateKind.ATOMIC, StateKind.FINAL)
        )
    )


_LABEL_WITH_INDEX = re.compile(r"^(?P<source>\S+?)\s*#(?P<index>\d+)")


def _transition_id(chart: Chart, label: str, event: engine.Event | None) -> str:
    """``<source>#<index>`` for the engine's transition label.

    The engine labels a targetless transition ``source #k`` and others
    ``source -> target ...``; for those, the index is that of the first
    transition of ``source`` with those targets that the microstep's event
    could have taken (its timer's event names the index directly).
    """
    numbered = _LABEL_WITH_INDEX.match(label)
    if numbered:
        return f"{numbered['source']}#{numbered['index']}"
    source, _, rest = label.partition("->")
    source = source.strip()
    targets = tuple(rest.split())
    state = chart.index.states.get(source)
    if state is None:
        return label
    name = None if event is None else event.name
    timer_prefix = f"autoflow.timer.{source}."
    if name is not None and name.startswith(timer_prefix):
        return f"{source}#{name.removeprefix(timer_prefix)}"
    candidates = [i for i, t in enumerate(state.transitions) if t.targets == targets]
    for index in candidates:
        transition = state.transitions[index]
        if name is None and not transition.events and transition.timer is None:
            return f"{source}#{index}"
        if name is not None and any(descriptor_matches(d, name) for d in transition.events):
            return f"{source}#{index}"
    return f"{source}#{candidates[0]}" if candidates else label


def _decide(
    run: _Run, inst: _Instance, effect: engine.Effect
) -> tuple[EffectRecord, StubLine | None]:
    """The outcome of ``effect``, and the stub that decided it (if one did)."""

    def record(outcome: str, decided_by: str) -> tuple[EffectRecord, None]:
        return EffectRecord(
            effect.id, effect.effect, effect.args, outcome, decided_by, inst.id
        ), None

    if effect.result_event is None:
        return record("none", "no result expected")
    for stub in run.stubs:
        if stub.remaining == 0:
            continue
        if fnmatch.fnmatchcase(effect.effect, stub.line.effect) and subset_match(
            stub.line.match, effect.args
        ):
            if stub.remaining is not None:
                stub.remaining -= 1
            decided = EffectRecord(
                effect.id,
                effect.effect,
                effect.args,
                stub.line.outcome,
                f"stub (line {stub.line.line})",
                inst.id,
            )
            return decided, stub.line
    for pattern, mode, source in (
        *run.policy,
        *((p, m, "default policy") for p, m in DEFAULT_POLICY),
    ):
        if fnmatch.fnmatchcase(effect.effect, pattern):
            return record(mode, source)
    return record("hold", "default policy")


def _default_data(run: _Run, record: EffectRecord, effect: engine.Effect) -> Any:
    if record.outcome == "fail":
        return {
            "status": 500,
            "message": f"500 Internal Server Error (simulated failure of {effect.effect})",
        }
    return default_result(effect.effect, effect.args, run.clock.time, next(run.counters))


# ------------------------------------------------------------------ expectations


def _expect(run: _Run, line: ExpectLine) -> None:
    def check(name: str, ok: bool, message: str) -> None:
        if ok:
            run.passed += 1
        else:
            run.failures.append(Failure(line.line, run.clock.time, name, message, len(run.steps)))

    if line.instances is not None:
        started = len(run.instances)
        check(
            "instances",
            started == line.instances,
            f"{started} instance(s) started, expected {line.instances}",
        )
    inst = _select(run, line.instance)
    if inst is None and any(
        v is not None
        for v in (line.active, line.inactive, line.configuration, line.data, line.completed)
    ):
        who = (
            "no instance has started" if line.instance is None else f"no instance {line.instance!r}"
        )
        for name in ("active", "inactive", "configuration", "data", "completed"):
            if getattr(line, name) is not None:
                check(name, False, who)
    elif inst is not None:
        active = set(inst.configuration)
        if line.active is not None:
            missing = [s for s in line.active if s not in active]
            check(
                "active",
                not missing,
                f"not active: {', '.join(missing)} (active: {_list(_atomic(run.chart, inst))})",
            )
        if line.inactive is not None:
            present = [s for s in line.inactive if s in active]
            check("inactive", not present, f"active but expected inactive: {', '.join(present)}")
        if line.configuration is not None:
            actual = _atomic(run.chart, inst)
            check(
                "configuration",
                tuple(sorted(line.configuration)) == actual,
                f"configuration is {_list(actual)}, expected {_list(sorted(line.configuration))}",
            )
        if line.data is not None:
            for key, expected in line.data.items():
                if key not in inst.snapshot.datamodel:
                    check("data", False, f"no data {key!r}")
                    continue
                actual_value = to_jsonable(inst.snapshot.datamodel[key])
                check(
                    "data",
                    subset_match(expected, actual_value),
                    f"data {key!r} is {_short(actual_value)}, expected {_short(expected)}",
                )
        if line.completed is not None:
            done = inst.snapshot.done
            check(
                "completed",
                done == line.completed,
                "the instance has completed" if done else "the instance has not completed",
            )
    if line.effects is not None:
        emitted = [
            e
            for e in run.unchecked_effects
            if line.instance is None or inst is None or e.instance == inst.id
        ]
        for pattern in line.effects:
            found = _take_effect(pattern, emitted)
            emitted_names = ", ".join(e.effect for e in emitted) or "none"
            check(
                "effects",
                found,
                f"no effect {pattern.effect}"
                + ("" if pattern.args is None else f" with args {_short(pattern.args)}")
                + f" since the previous effects check (emitted, unchecked: {emitted_names})",
            )
        run.unchecked_effects.clear()


def _take_effect(pattern: EffectPattern, emitted: list[EffectRecord]) -> bool:
    for index, record in enumerate(emitted):
        if fnmatch.fnmatchcase(record.effect, pattern.effect) and (
            pattern.args is None or subset_match(pattern.args, to_jsonable(record.args))
        ):
            del emitted[index]
            return True
    return False


def _select(run: _Run, key: str | None) -> _Instance | None:
    if key is None:
        return run.instances[-1] if run.instances else None
    matching = [i for i in run.instances if key in (i.key, i.id)]
    return matching[-1] if matching else None


def _list(items: Iterable[str]) -> str:
    text = ", ".join(items)
    return text or "none"


def _short(value: Any, limit: int = 120) -> str:
    import json

    text = json.dumps(to_jsonable(value), sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- values


def subset_match(expected: Any, actual: Any) -> bool:
    """``expected`` is contained in ``actual``: objects by their listed keys (recursively),
    lists element by element with equal lengths, scalars by equality (``true`` is not ``1``)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and subset_match(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(subset_match(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(actual, datetime | timedelta):
        actual = to_jsonable(actual)
    return bool(expected == actual)


def to_jsonable(value: Any) -> Any:
    """Plain JSON for CEL values: timestamps as ISO with ``Z``, durations as ``"90s"``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [to_jsonable(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------- default results


_HOST = "https://gitlab.example.com"


def default_result(effect: str, args: Mapping[str, Any], now: datetime, serial: int) -> Any:
    """A realistic response for a successful effect (the shapes of GitLab's REST API).

    ``serial`` makes ids and iids unique within a run; values the workflow passed
    in (project, iid, title, labels) are echoed back.
    """
    stamp = format_instant(now)
    project_id = args.get("project_id", args.get("id", 1))
    project_path = args.get("project_path", f"group/project-{project_id}")
    user = {"id": 1, "username": "autoflow-bot", "name": "autoflow bot", "state": "active"}

    def issue(iid: Any, state: str = "opened") -> dict[str, Any]:
        return {
            "id": 1000 + serial,
            "iid": iid,
            "project_id": project_id,
            "title": args.get("title", f"Issue {iid}"),
            "description": args.get("description"),
            "state": state,
            "labels": list(args.get("labels", [])),
            "assignees": [],
            "author": user,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": stamp if state == "closed" else None,
            "web_url": f"{_HOST}/{project_path}/-/issues/{iid}",
        }

    def note(noteable_type: str, iid: Any) -> dict[str, Any]:
        return {
            "id": 5000 + serial,
            "body": args.get("body", ""),
            "author": user,
            "created_at": stamp,
            "updated_at": stamp,
            "system": False,
            "noteable_type": noteable_type,
            "noteable_iid": iid,
            "project_id": project_id,
        }

    issue_iid = args.get("issue_iid", args.get("iid", serial))
    mr_iid = args.get("merge_request_iid", args.get("iid", serial))
    match effect:
        case "gitlab.issues.create":
            return issue(100 + serial)
        case "gitlab.issues.update" | "gitlab.issues.add_labels" | "gitlab.issues.remove_labels":
            return issue(issue_iid, "closed" if args.get("state_event") == "close" else "opened")
        case "gitlab.issues.close":
            return issue(issue_iid, "closed")
        case "gitlab.issues.list":
            return []
        case "gitlab.issues.add_note":
            return note("Issue", issue_iid)
        case "gitlab.merge_requests.add_note":
            return note("MergeRequest", mr_iid)
        case "gitlab.merge_requests.approve":
            return {
                "id": 2000 + serial,
                "iid": mr_iid,
                "project_id": project_id,
                "approved": True,
                "approvals_required": 1,
                "approvals_left": 0,
                "approved_by": [{"user": user}],
                "updated_at": stamp,
            }
        case "gitlab.members.list":
            return [
                {"id": 11, "username": "alice", "name": "Alice Doe", "state": "active",
                 "access_level": 40, "web_url": f"{_HOST}/alice", "expires_at": None},
                {"id": 12, "username": "bob", "name": "Bob Roe", "state": "active",
                 "access_level": 30, "web_url": f"{_HOST}/bob", "expires_at": None},
                {"id": 13, "username": "carol", "name": "Carol Poe", "state": "active",
                 "access_level": 30, "web_url": f"{_HOST}/carol", "expires_at": None},
            ]  # fmt: skip
        case "gitlab.projects.update_settings":
            return {
                "id": project_id,
                "path_with_namespace": project_path,
                "web_url": f"{_HOST}/{project_path}",
                "last_activity_at": stamp,
                **{k: v for k, v in args.items() if k not in ("project_id", "id")},
            }
        case "gitlab.deployments.create" | "gitlab.deployments.rollback":
            return {
                "id": 3000 + serial,
                "iid": serial,
                "ref": args.get("ref", "main"),
                "sha": args.get("sha", f"{serial:040x}"),
                "status": args.get("status", "created"),
                "environment": {"id": 7, "name": args.get("environment", "production")},
                "created_at": stamp,
                "updated_at": stamp,
            }
        case "http.request":
            return {"status": 200, "headers": {"content-type": "application/json"}, "body": {}}
        case "notify":
            return {"delivered": True, "at": stamp}
        case _:
            return {}
