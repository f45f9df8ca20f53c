"""Generated traces: the model itself says which event sequences matter.

``autoflow traces`` (and :func:`generate`) writes trace files
(docs/traces.md) for a statechart, by one of four strategies:

``cover-states`` / ``cover-transitions``
    a small set of shortest event paths that together enter every reachable
    state / fire every reachable transition, with timers advanced exactly to
    their due times (as XState's graph utilities do for its machines);
``random``
    seeded random walks with realistic inter-event times (minutes to hours
    for events and human answers, no delay for API results), reproducible
    from the seed;
``boundary``
    for every timer, the same event just before (``due - 1s``) and just after
    (``due + 1s``) its deadline.

Nothing here explores the state space a second time: the paths come from the
checker's exploration (:func:`autoflow.check.explore.explore`, which drives the
real engine breadth-first, so a node's parent chain is a shortest path), and
the event payloads from its guard reasoning (z3 witnesses that make each guard
branch win in turn).  GitLab events become ``webhook`` lines built from real
webhook bodies (``autoflow/sim/webhooks/``, copied next to the traces) with
only the fields the guards read merged in.

Each path is replayed through the engine to learn the effects it makes; the
outcome of every effect the path answers becomes a ``stub`` (the answer the
exploration chose), every other effect is held (``{"policy": {"*": "hold"}}``)
and, when the path answers it later, its result is an ``event`` line.  Every
step's outcome is written as an ``expect`` line — the configuration reached,
the effects made, completion — so that ``autoflow simulate CHANGED_MODEL DIR``
names the first step where a changed workflow behaves differently.  The cover
and boundary strategies take these outcomes from a simulator run of the lines
(which also says what each trace covers); a random walk takes them from the
engine run that drew it, which is what the simulator would do with the lines
(:meth:`_TraceBuilder.faithful` checks it, else the walk is simulated too), so
that walks are cheap: ``generate(..., simulate=True)`` gives the same files.

A random walk is a stretch of the workflow's life: inputs drawn from the
explored graph at realistic times (:meth:`Walker.walk`), and — for a workflow
with start triggers — a new instance after each one completes.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from autoflow.check.explore import ASSUME_PREFIX, Node, StateSpace, Step, explore
from autoflow.check.guards import Verdict, event_paths, fill_payload
from autoflow.check.payloads import HOOKS, SAMPLES, sample_body
from autoflow.errors import AutoflowError, SimulationError
from autoflow.model.cel import ast, cel_literal, compile_expression
from autoflow.model.events import WebhookError, descriptor_matches, webhook_to_event
from autoflow.model.ir import Assign, Chart, Expr, If, StateKind, walk_actions, walk_states
from autoflow.sim import engine
from autoflow.sim.clock import DEFAULT_EPOCH, format_instant
from autoflow.sim.simulator import (
    StepRecord,
    TraceResult,
    simulate_trace,
    subset_match,
    to_jsonable,
    trigger_key,
)
from autoflow.sim.trace import (
    EventLine,
    ExpectLine,
    PolicyLine,
    StubLine,
    Trace,
    TraceLine,
    deep_merge,
)

__all__ = [
    "STRATEGIES",
    "GeneratedTrace",
    "Generation",
    "Walker",
    "generate",
    "reachable",
    "walker_for",
    "webhook_payload",
    "write_generation",
]

_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps(..., ensure_ascii=False)
STRATEGIES = ("cover-states", "cover-transitions", "random", "boundary")
DEFAULT_HORIZON = timedelta(days=30)
#: Events one random walk makes at most.
MAX_WALK_EVENTS = 40
#: Start instants a cover strategy tries for one path (the first is the default epoch).
MAX_SHIFTS = 4
#: Payload fields dropped at most when looking for one that takes the explored path.
MAX_SEARCH = 24
#: Directory, next to the traces, holding the webhook bodies they load.
WEBHOOK_DIR = "webhooks"

_PAYLOADS = SAMPLES
# object_kind -> (X-Gitlab-Event, base payload file)
_HOOKS = HOOKS
_API_PREFIXES = ("gitlab.", "http.", "notify")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GeneratedTrace:
    """One generated trace file: its name (without ``.jsonl``) and its JSON lines."""

    name: str
    lines: tuple[dict[str, Any], ...]
    states: tuple[str, ...] = ()  # covered when simulated
    transitions: tuple[str, ...] = ()
    events: int = 0  # event, webhook and timer steps it makes

    def text(self) -> str:
        encode = _ENCODER.encode
        return "".join(encode(line) + "\n" for line in self.lines)


@dataclass(frozen=True)
class Generation:
    """What :func:`generate` made: the traces, and for the cover strategies what they cover."""

    chart: Chart
    strategy: str
    traces: tuple[GeneratedTrace, ...]
    webhooks: tuple[str, ...] = ()  # base payload files the traces load (``webhooks/<file>``)
    targets: tuple[str, ...] = ()  # reachable states or transitions the strategy aims at
    missed: tuple[str, ...] = ()  # targets no trace covered when simulated
    explored: int = 0  # abstract states the exploration visited
    seconds: float = 0.0

    @property
    def covered(self) -> tuple[str, ...]:
        return tuple(t for t in self.targets if t not in set(self.missed))


def reachable(space: StateSpace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The states entered and the transitions fired in an exploration, sorted."""
    return tuple(sorted(space.entered_by)), tuple(sorted(space.fired_by))


# --------------------------------------------------------------------------- moves


@dataclass(frozen=True, slots=True)
class _Move:
    """One input of a trace at an absolute time."""

    kind: str  # "start" | "event" | "result" | "timer"
    at: datetime
    event: str | None = None
    data: Any = None
    answers: str | None = None  # result: the explorer's id of the effect it answers
    target: tuple[str, ...] | None = None  # the configuration the exploration reached
    webhook: tuple[str, str, dict[str, Any]] | None = None  # header, base file, merge
    assumed: tuple[str, ...] = ()  # guards the exploration assumed (see explore.Step)
    wanted: str | None = None  # the transition this move is meant to fire


def _with(move: _Move, *, at: datetime | None = None, answers: str | None = None) -> _Move:
    """``move`` at another time or answering another call (``replace``, faster)."""
    return _Move(
        move.kind,
        move.at if at is None else at,
        move.event,
        move.data,
        move.answers if answers is None else answers,
        move.target,
        move.webhook,
        move.assumed,
        move.wanted,
    )


@dataclass(slots=True)
class _Replayed:
    """A move after the engine ran it: the effects it made (ids as the exploration's)."""

    move: _Move
    effects: tuple[engine.Effect, ...] = ()
    answer: engine.Effect | None = None  # result moves: the effect answered
    snapshot: engine.Snapshot | None = None  # the instance after the move
    due: datetime | None = None  # the earliest timer pending before the move


def _clean(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items() if not str(k).startswith(ASSUME_PREFIX)}
    return data


_JSON: dict[int, tuple[Any, Any]] = {}


def _json_of(value: Any) -> Any:
    """:func:`to_jsonable`, memoised on the identity of ``value`` (explored payloads and
    webhook merges, delivered again and again; nothing changes them)."""
    if value is None or isinstance(value, str | int | float):
        return value
    found = _JSON.get(id(value))
    if found is None or found[0] is not value:
        if len(_JSON) > 8192:
            _JSON.clear()
        found = _JSON[id(value)] = (value, to_jsonable(value))
    return found[1]


def _is_api(effect: str) -> bool:
    return effect.startswith(_API_PREFIXES)


def _is_child(effect_id: str) -> bool:
    """Whether ``effect_id`` (``<session>:<seq>:<k>``) is a call of an invoked child."""
    return "/" in effect_id.rsplit(":", 2)[0]


def _base_payload(file: str) -> dict[str, Any]:
    return sample_body(file)


def _get(payload: Any, parts: Sequence[str]) -> Any:
    node = payload
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _realistic(overlay: Any, base: Any, prefix: tuple[str, ...] = ()) -> Any:
    """``overlay`` without what the base payload has already (the merge a trace shows:
    only what differs from GitLab's body)."""
    if not isinstance(overlay, dict):
        return overlay
    result: dict[str, Any] = {}
    for key, value in overlay.items():
        path = (*prefix, key)
        real = _get(base, path)
        if isinstance(value, dict):
            value = _realistic(value, base, path)
            if not value and isinstance(real, dict):
                continue
        elif real is not None and type(value) is type(real) and value == real:
            continue
        result[key] = value
    return result


def webhook_payload(name: str, data: Any) -> Any:
    """The body of a real webhook for ``gitlab.*`` event ``name`` with ``data`` merged in
    (placeholders left to the real payload); other events: ``data`` unchanged."""
    options = _webhook(name, _clean(data))
    return options[0][3] if options else _clean(data)


def _webhook(name: str, data: Any) -> list[tuple[str, str, dict[str, Any], Any]]:
    """Ways to deliver ``gitlab.<kind>[.<action>]`` as a real webhook: (header, file,
    merge, body), the realistic one (placeholders left to the real payload) first."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "gitlab" or parts[1] not in _HOOKS:
        return []
    if data is not None and not isinstance(data, dict):
        return []
    kind = parts[1]
    action = ".".join(parts[2:]) or None
    header, file = _HOOKS[kind]
    base = _base_payload(file)
    fixed: dict[str, Any] = {"object_kind": kind}
    if kind == "milestone":
        fixed["action"] = action
    elif action is not None or isinstance(_get(base, ("object_attributes", "action")), str):
        fixed["object_attributes"] = {"action": action}
    found = []
    variants = [_realistic(data or {}, base), data or {}]
    for index, overlay in enumerate(variants):
        if index and overlay == variants[0]:
            continue
        merge = deep_merge(overlay, fixed)
        if merge.get("object_kind") == base.get("object_kind"):
            del merge["object_kind"]
        body = deep_merge(base, merge)
        try:
            mapped, _ = webhook_to_event({"X-Gitlab-Event": header}, body)
        except WebhookError:
            continue
        if mapped == name:
            found.append((header, file, merge, body))
    return found


_WEBHOOKS: dict[tuple[str, int], tuple[Any, list[tuple[str, str, dict[str, Any], Any]]]] = {}


def _webhook_cached(name: str, data: Any) -> list[tuple[str, str, dict[str, Any], Any]]:
    """:func:`_webhook`, memoised on the identity of ``data`` (walks deliver the same
    explored payload objects again and again; the engine does not change event data)."""
    key = (name, id(data))
    found = _WEBHOOKS.get(key)
    if found is None or found[0] is not data:
        if len(_WEBHOOKS) > 4096:
            _WEBHOOKS.clear()
        found = (data, _webhook(name, data))
        _WEBHOOKS[key] = found
    return found[1]


# --------------------------------------------------------------------------- guards


def specialise(expr: Expr, data: Mapping[str, Any]) -> Expr:
    """``expr`` with every sub-expression that reads only data replaced by its value.

    ``approvers.filter(a, a != requester)`` is outside what the guard reasoner
    decides; with the instance's data it is the literal ``["anna", "ben"]``, and
    the guard around it becomes decidable.
    """
    try:
        tree = expr.program.ast
    except AutoflowError:
        return expr
    source = expr.source
    names = set(data)
    edits: list[tuple[int, int, str]] = []

    def visit(node: ast.Node) -> None:
        if not isinstance(node, ast.Literal | ast.Ident | ast.Select) and node.end > node.offset:
            try:
                program = compile_expression(source[node.offset : node.end], expr.span)
                free = program.free_variables
                if free and free <= names:
                    value = program.evaluate({k: data[k] for k in free})
                    edits.append((node.offset, node.end, f"({cel_literal(value)})"))
                    return
            except (AutoflowError, ValueError, TypeError):
                pass
        for child in ast.children(node):
            visit(child)

    visit(tree)
    if not edits:
        return expr
    for offset, end, text in sorted(edits, reverse=True):
        source = source[:offset] + text + source[end:]
    try:
        compile_expression(source, expr.span)
    except AutoflowError:
        return expr
    return Expr(source, expr.span)


def _event_path(expr: Expr) -> str | None:
    """``event.a.b`` for an expression that is just ``event.a.b`` (or ``event``)."""
    try:
        return _event_path_of(expr.program.ast)
    except AutoflowError:
        return None


def _event_path_of(node: ast.Node) -> str | None:
    chain: list[str] = []
    while isinstance(node, ast.Select):
        chain.append(node.field)
        node = node.operand
    if isinstance(node, ast.Ident) and node.name == "event":
        return ".".join(["event", *reversed(chain)])
    return None


def _over_event(expr: Expr, aliases: Mapping[str, str]) -> Expr | None:
    """``expr`` with the data names in ``aliases`` replaced by the event paths they were
    assigned from; None unless it then reads the event and nothing else."""
    try:
        free = expr.program.free_variables
        tree = expr.program.ast
    except AutoflowError:
        return None
    if not free or not free <= {*aliases, "event"}:
        return None
    edits: list[tuple[int, int, str]] = []

    def visit(node: ast.Node) -> None:
        if isinstance(node, ast.Ident) and node.name in aliases:
            edits.append((node.offset, node.end, aliases[node.name]))
            return
        for child in ast.children(node):
            visit(child)

    visit(tree)
    source = expr.source
    for offset, end, text in sorted(edits, reverse=True):
        source = source[:offset] + text + source[end:]
    try:
        program = compile_expression(source, expr.span)
    except AutoflowError:
        return None
    if program.free_variables != {"event"}:
        return None
    return Expr(source, expr.span)


class _Solver:
    """Payloads for moves whose guards the exploration had to assume."""

    def __init__(self, chart: Chart, space: StateSpace) -> None:
        self.chart = chart
        self.reasoner = space.reasoner
        self.fill = space.fill
        self.templates: dict[str, Any] = {}
        self.flags: dict[str, tuple[str, Expr]] = {}
        self.guards: dict[str, Expr] = {}
        for state in walk_states(chart.states):
            for index, t in enumerate(state.transitions):
                tid = f"{state.id}#{index}"
                if t.guard is not None:
                    self.guards[tid] = t.guard
                    flag = ASSUME_PREFIX + "".join(c if c.isalnum() else "_" for c in tid)
                    self.flags[flag] = (tid, t.guard)

    @functools.cached_property
    def entry_conditions(self) -> tuple[Expr, ...]:
        """The conditions of the ``if`` actions that read only the event — directly, or
        through data an action assigned from it (``proposal: ${{ event }}``) — rewritten
        over ``event``: what a payload decides about the actions an input sets off."""
        aliases: dict[str, str] = {}
        for state in walk_states(self.chart.states):
            for block in (*state.on_entry, *(t.actions for t in state.transitions)):
                for action in walk_actions(block):
                    if isinstance(action, Assign) and "." not in action.location:
                        path = _event_path(action.expr)
                        if path is not None:
                            aliases[action.location] = path
        found: list[Expr] = []
        for state in walk_states(self.chart.states):
            for block in (*state.on_entry, *(t.actions for t in state.transitions)):
                for action in walk_actions(block):
                    if not isinstance(action, If):
                        continue
                    for branch in action.branches:
                        rewritten = (
                            None if branch.cond is None else _over_event(branch.cond, aliases)
                        )
                        if rewritten is not None and rewritten.source not in {
                            e.source for e in found
                        }:
                            found.append(rewritten)
        return tuple(found)

    @functools.cached_property
    def field_tests(self) -> tuple[Expr, ...]:
        """The ``"field" in event.path`` tests inside :attr:`entry_conditions`."""
        found: dict[str, Expr] = {}
        for condition in self.entry_conditions:

            def visit(node: ast.Node, condition: Expr = condition) -> None:
                if (
                    isinstance(node, ast.Binary)
                    and node.op == "in"
                    and isinstance(node.left, ast.Literal)
                    and isinstance(node.left.value, str)
                    and _event_path_of(node.right) is not None
                ):
                    text = condition.source[node.offset : node.end]
                    found.setdefault(text, Expr(text, condition.span))
                    return
                for child in ast.children(node):
                    visit(child)

            visit(condition.program.ast)
        return tuple(found.values())

    def quiet(self, move: _Move) -> Any:
        """A payload for ``move`` that makes every :attr:`entry_conditions` false (the
        input sets off no conditional action: a settings change that breaks no rule),
        with the fields the conditions read present; None when there is none."""
        conditions = self.entry_conditions
        if self.reasoner is None or not conditions or move.event is None:
            return None
        true = [
            t.filter
            for t in self.chart.triggers
            if move.kind == "start"
            and t.start
            and t.filter is not None
            and any(descriptor_matches(d, move.event) for d in t.events)
        ]
        # the fields the conditions test for are there (``"f" in event.x``), so that the
        # payload says what the change is, not only what it leaves out
        true += [c for c in self.field_tests if c.source not in {t.source for t in true}]
        solution = self.reasoner.solve(true, conditions, present=conditions, event=move.event)
        if solution.verdict is not Verdict.SAT or not isinstance(solution.payload, dict):
            return None
        base = move.data if isinstance(move.data, dict) else {}
        return deep_merge(base, solution.payload)

    def solve(
        self, move: _Move, snapshot: engine.Snapshot | None, data: Mapping[str, Any] | None
    ) -> Any:
        if self.reasoner is None or data is None:
            return None
        plain = {k: v for k, v in data.items() if not k.startswith("_")}
        known = {**plain, "now": move.at}
        true: list[Expr] = []
        false: list[Expr] = []
        for item in move.assumed:
            name, _, value = item.partition("=")
            if name in self.flags:
                guard = self.flags[name][1]
                (true if value == "True" else false).append(specialise(guard, known))
            elif item in self.guards:
                true.append(specialise(self.guards[item], known))
                false.extend(specialise(g, known) for g in self.earlier(item, move))
        if move.wanted is not None and move.wanted not in move.assumed:
            if move.wanted in self.guards:
                true.append(specialise(self.guards[move.wanted], known))
            false.extend(specialise(g, known) for g in self.earlier(move.wanted, move))
        if move.kind == "start" and move.event is not None:
            true.extend(
                t.filter
                for t in self.chart.triggers
                if t.start
                and t.filter is not None
                and any(descriptor_matches(d, move.event) for d in t.events)
            )
        if not true and not false:
            return None
        solution = self.reasoner.solve(true, false, data=plain, event=move.event)
        if solution.verdict is not Verdict.SAT or not isinstance(solution.payload, dict):
            return None
        base = move.data if isinstance(move.data, dict) else {}
        payload = deep_merge(base, solution.payload)
        # "the event has no such field": the witness may still carry a value for it
        for fact, holds in solution.values.items():
            head, found, key = fact.partition(" contains ")
            if found and holds is False and head.startswith("event.") and "[0]" not in head:
                parts = (*head.split(".")[1:], key.strip("'\""))
                payload = _set_null(payload, parts)
        return payload

    def template(self, event: str | None) -> Any:
        """The fields the exploration fills into a payload of ``event`` when no guard
        decides them, with the values it gives them."""
        if event is None or self.fill is None:
            return {}
        found = self.templates.get(event)
        if found is None:
            found = self.templates[event] = self.fill(event, {}, frozenset())
        return found

    def earlier(self, tid: str, move: _Move) -> list[Expr]:
        """Guards of transitions before ``tid`` in its state on the same event."""
        source, _, index = tid.rpartition("#")
        state = self.chart.index.states.get(source)
        if state is None:
            return []
        mine = state.transitions[int(index)]

        def alike(t: Any) -> bool:
            if not mine.events and mine.timer is None:
                return not t.events and t.timer is None
            return any(descriptor_matches(d, move.event or "") for d in t.events)

        return [
            t.guard for t in state.transitions[: int(index)] if t.guard is not None and alike(t)
        ]


# --------------------------------------------------------------------------- replay


class _Replay:
    """The engine run of a sequence of moves, one at a time (lockstep with a path)."""

    def __init__(self, chart: Chart, solver: _Solver | None = None) -> None:
        self.chart = chart
        self.solver = solver
        self.snapshot: engine.Snapshot | None = None
        self.now = DEFAULT_EPOCH
        self.done: list[_Replayed] = []
        self.effects: dict[str, engine.Effect] = {}
        self.emitted: dict[str, int] = {}  # effect id -> position of the move that made it
        self.answered: set[str] = set()
        self.unanswered: dict[str, engine.Effect] = {}  # calls made and not answered yet
        self.instances: list[str] = []  # ids of the instances started, as the simulator's

    def copy_state(self) -> tuple[Any, ...]:
        """A copy of everything, to :meth:`restore` into this or another replay."""
        return (
            self.snapshot,
            self.now,
            list(self.done),
            dict(self.effects),
            dict(self.emitted),
            set(self.answered),
            dict(self.unanswered),
            list(self.instances),
        )

    def restore(self, state: tuple[Any, ...]) -> None:
        snapshot, now, done, effects, emitted, answered, unanswered, instances = state
        self.snapshot, self.now = snapshot, now
        self.done, self.effects = list(done), dict(effects)
        self.emitted, self.answered = dict(emitted), set(answered)
        self.unanswered = dict(unanswered)
        self.instances = list(instances)

    def checkpoint(self) -> tuple[engine.Snapshot | None, datetime, int]:
        """A point to :meth:`rollback` to (cheap: moves are only ever appended)."""
        return self.snapshot, self.now, len(self.done)

    def rollback(self, point: tuple[engine.Snapshot | None, datetime, int]) -> None:
        """Undo the moves applied since ``point``."""
        self.snapshot, self.now, length = point
        while len(self.done) > length:
            item = self.done.pop()
            for effect in item.effects:
                self.effects.pop(effect.id, None)
                self.emitted.pop(effect.id, None)
                self.unanswered.pop(effect.id, None)
            if item.answer is not None:
                self.answered.discard(item.answer.id)
                self.unanswered[item.answer.id] = item.answer
            if item.move.kind == "start":
                self.instances.pop()

    def effect(self, effect_id: str | None) -> engine.Effect | None:
        """The call ``effect_id`` names: one of this replay's, or the exploration's id of
        a call of the running instance (the exploration's instance is ``instance``)."""
        if effect_id is None:
            return None
        found = self.effects.get(effect_id)
        if found is None and self.snapshot is not None and effect_id.startswith("instance"):
            found = self.effects.get(self.snapshot.instance + effect_id.removeprefix("instance"))
        return found

    def first_quick_call(self) -> str | None:
        """The first unanswered API or child-session call made since the last input that
        was not an answer (the simulator answers a chain's stubbed calls in this order)."""
        chain = len(self.done) - 1
        while chain > 0 and self.done[chain].move.kind == "result":
            chain -= 1
        for item in self.done[chain:]:
            for effect in item.effects:
                if effect.id not in self.answered and (
                    _is_api(effect.effect) or _is_child(effect.id)
                ):
                    return effect.id
        return None

    def immediate(self, effect_id: str, at: datetime) -> bool:
        """Whether an answer to ``effect_id`` at ``at`` follows the move that made it with
        nothing but other answers in between and no time passing: the trace gives it as
        a ``stub`` (delivered in the simulator's chain), not as a later ``event`` line."""
        origin = self.emitted.get(effect_id)
        if origin is None or self.done[origin].move.at != at:
            return False
        return all(r.move.kind == "result" for r in self.done[origin + 1 :])

    def apply(self, move: _Move) -> bool:
        """Run ``move``; False (and nothing changed) when the engine refuses it."""
        answer: engine.Effect | None = None
        try:
            if move.kind == "start":
                if self.snapshot is not None and not self.snapshot.done:
                    return False  # one instance at a time
                event = None if move.event is None else engine.Event(move.event, move.data)
                key: str | None = None
                if event is not None:
                    starts, key = _starter(self.chart, event, move.at)
                    if not starts:
                        return False
                elif self.instances:
                    return False  # a chart without start triggers has one instance
                base = "instance" if key is None else key
                instance = base
                serial = 2
                while instance in self.instances:
                    instance, serial = f"{base}#{serial}", serial + 1
                result = engine.start(self.chart, move.at, instance=instance, event=event)
                self.instances.append(instance)
            elif self.snapshot is None or self.snapshot.done:
                return False
            elif move.kind == "timer":
                if engine.next_due(self.snapshot) is None:
                    return False
                result = engine.fire_due(self.chart, self.snapshot, move.at)
            elif move.kind == "result":
                answer = self.effect(move.answers)
                if answer is None or answer.id in self.answered or move.event is None:
                    return False
                # as the simulator delivers it: a stubbed answer (immediate, or to a child
                # session's call) carries the call's id; a later one is an event line
                stubbed = _is_child(answer.id) or self.immediate(answer.id, move.at)
                sendid = answer.id if stubbed else None
                event = engine.Event(move.event, move.data, sendid=sendid)
                result = engine.step(self.chart, self.snapshot, event, move.at)
            else:
                assert move.event is not None
                result = engine.step(
                    self.chart, self.snapshot, engine.Event(move.event, move.data), move.at
                )
        except (SimulationError, AutoflowError):
            return False
        if answer is not None:
            self.answered.add(answer.id)
            self.unanswered.pop(answer.id, None)
        due = None if self.snapshot is None else engine.next_due(self.snapshot)
        self.snapshot = result.snapshot
        self.now = move.at
        for effect in result.effects:
            self.effects[effect.id] = effect
            self.emitted[effect.id] = len(self.done)
            if effect.result_event is not None:
                self.unanswered[effect.id] = effect
        self.done.append(_Replayed(move, result.effects, answer, result.snapshot, due))
        return True

    def apply_move(self, move: _Move) -> bool:
        """Run ``move``; a payload the exploration could not decide is solved again
        with the data the instance has at this point."""
        if (move.assumed or move.wanted) and self.solver is not None and move.kind != "timer":
            saved = self.checkpoint()
            data = self.snapshot.datamodel if self.snapshot is not None else None
            if data is None and self.apply(move):  # a start: the data it binds
                data = self.snapshot.datamodel if self.snapshot is not None else None
                self.rollback(saved)
            payload = self.solver.solve(move, self.snapshot, data)
            if payload is not None:
                candidate = replace(move, data=payload)
                if self.apply_event(candidate) if move.kind != "result" else self.apply(candidate):
                    if move.target is None or (
                        self.snapshot is not None and self.snapshot.configuration == move.target
                    ):
                        return True
                    self.rollback(saved)
            if move.target is not None and isinstance(move.data, dict):
                # guards read through data that entry actions compute: first a payload
                # that sets off none of the conditional actions, then fewer fields
                quiet = self.solver.quiet(move) if move.kind != "result" else None
                if quiet is not None and self.apply_event(
                    replace(move, data=quiet, assumed=(), wanted=None)
                ):
                    if self.snapshot is not None and self.snapshot.configuration == move.target:
                        return True
                    self.rollback(saved)
                found = self.search(move)
                if found:
                    return True
        return self.apply_event(move) if move.kind != "result" else self.apply(move)

    def search(self, move: _Move) -> bool:
        """Drop placeholder fields of the payload, one at a time, until the move reaches
        the configuration the exploration reached (guards read through data that
        entry actions compute are beyond the guard reasoner)."""
        saved = self.checkpoint()
        data = move.data
        for _ in range(MAX_SEARCH):
            improved = False
            filled = self.solver.template(move.event) if self.solver is not None else {}
            for path in _placeholder_paths(data, filled):
                candidate = replace(move, data=_without(data, path), assumed=(), wanted=None)
                ok = self.apply_event(candidate) if move.kind != "result" else self.apply(candidate)
                if not ok:
                    continue
                if self.snapshot is not None and self.snapshot.configuration == move.target:
                    return True
                self.rollback(saved)
                data = candidate.data
                improved = True
                break
            if not improved:
                break
        self.rollback(saved)
        return False

    def apply_event(self, move: _Move) -> bool:
        """Run an event or start move, delivered as a real webhook when it is a GitLab
        event and that reaches the configuration the exploration reached."""
        options = _webhook_cached(move.event, move.data) if move.event is not None else []
        saved = self.checkpoint()
        for header, file, merge, body in options:
            candidate = replace(move, data=body, webhook=(header, file, merge))
            if self.apply(candidate):
                if (
                    move.target is None
                    or self.snapshot is None
                    or self.snapshot.configuration == move.target
                ):
                    return True
                self.rollback(saved)
        return self.apply(move)


# --------------------------------------------------------------------------- trace lines


def _time_text(at: datetime, previous: datetime | None) -> str:
    if previous is None:
        return format_instant(at)
    return _offset_text((at - previous).total_seconds())


@cache
def _offset_text(seconds: float) -> str:
    from autoflow.model.durations import format_duration

    return "+" + format_duration(seconds)


@dataclass(slots=True)
class _Line:
    at: datetime
    body: dict[str, Any]
    input: bool = False  # an event the simulator records steps for
    placeholder: bool = False  # an expect line that only makes timers due by then fire
    event: tuple[str, Any] | None = None  # input lines: the event name and its full data
    position: int | None = None  # input and placeholder lines: the replayed move


class _TraceBuilder:
    """Trace lines for replayed moves, and their expectations: from the replay itself
    when the simulator would run the trace exactly as the replay did, else from a
    simulator run."""

    def __init__(self, chart: Chart, keyed: bool) -> None:
        self.chart = chart
        self.keyed = keyed  # later events name their instance (workflows with triggers)
        self.anchor: list[int] = []  # per replayed move: the move whose line starts its chain
        self.stubbed: dict[int, list[_Replayed]] = {}  # anchor -> its stubs, in line order
        self.stubs: dict[int, dict[str, Any]] = {}  # id of an answer -> its stub
        self.args: dict[int, tuple[Any, Any]] = {}  # id of call arguments -> their JSON

    def lines(self, replayed: Sequence[_Replayed]) -> list[_Line]:
        if not replayed:
            return []
        start = replayed[0].move.at
        lines = [_Line(start, {"policy": {"*": "hold"}})]
        emitted_at: dict[str, int] = {}
        for position, item in enumerate(replayed):
            for effect in item.effects:
                emitted_at[effect.id] = position
        # answers given right after the step that made the call (nothing but other
        # answers in between, no time passing) are stubs; later ones are events
        # a stub must come before the line whose step chain makes the call: the line
        # of the input that started the chain (its anchor)
        stubbed: dict[int, list[tuple[int, int, _Replayed]]] = {}
        held: set[int] = set()
        anchor: list[int] = []
        for position, item in enumerate(replayed):
            anchor.append(position)
            if item.answer is None:
                continue
            origin = emitted_at.get(item.answer.id, 0)
            immediate = item.move.at == replayed[origin].move.at and all(
                r.move.kind == "result" for r in replayed[origin + 1 : position]
            )
            if immediate or _is_child(item.answer.id):
                anchor[position] = anchor[origin]
                order = (origin, _effect_order(replayed[origin].effects, item.answer))
                stubbed.setdefault(anchor[origin], []).append((*order, item))
            else:
                held.add(position)
        self.anchor = anchor
        self.stubbed = {
            key: [answered for _, _, answered in sorted(items, key=lambda s: s[:2])]
            for key, items in stubbed.items()
        }
        previous_time = start
        for position, item in enumerate(replayed):
            move = item.move
            stub_time = move.at if move.kind != "timer" else previous_time
            for answered in self.stubbed.get(position, []):
                lines.append(_Line(stub_time, {"stub": self.stub(answered)}))
            if move.kind == "start":
                if move.event is None:
                    lines.append(
                        _Line(
                            move.at,
                            {"expect": {"inactive": []}},
                            placeholder=True,
                            position=position,
                        )
                    )
                else:
                    lines.append(self.input_line(move, None, position))
            elif move.kind == "timer":
                lines.append(
                    _Line(
                        move.at, {"expect": {"inactive": []}}, placeholder=True, position=position
                    )
                )
            elif move.kind == "result":
                if position in held:
                    lines.append(self.input_line(move, self.instance(item), position))
                else:
                    continue
            else:
                lines.append(self.input_line(move, self.instance(item), position))
            previous_time = move.at
        return lines

    def stub(self, item: _Replayed) -> dict[str, Any]:
        """The ``stub`` of an answer (made once per trace)."""
        found = self.stubs.get(id(item))
        if found is None:
            found = self.stubs[id(item)] = _stub(item, self.json)
        return found

    def json(self, args: Any) -> Any:
        """The JSON of a call's arguments (once per call: expect and stub lines share it)."""
        found = self.args.get(id(args))
        if found is None or found[0] is not args:
            found = self.args[id(args)] = (args, to_jsonable(args))
        return found[1]

    def instance(self, item: _Replayed) -> str | None:
        """The instance an input line names: the one the replay ran it in."""
        return item.snapshot.instance if self.keyed and item.snapshot is not None else None

    def faithful(self, replayed: Sequence[_Replayed]) -> bool:
        """Whether the simulator runs the lines of ``replayed`` step for step as the replay
        did, so that the replay's own outcomes are the trace's expectations.

        The simulator fires a timer at its due time before any later line, answers
        the calls of a line's chain from the pending stubs (the oldest matching stub,
        in the order the calls are made) breadth first, and delivers every other
        input as its own line; a replay that did anything else (an input at or after
        a due timer, answers in another order, a stub that another call would take)
        is simulated instead.
        """
        anchor = self.anchor
        previous_untimed: datetime | None = None
        for position, item in enumerate(replayed):
            move = item.move
            if move.kind == "timer":
                if item.due != move.at:
                    return False
            elif anchor[position] == position and item.due is not None and item.due <= move.at:
                return False
            if anchor[position] != position:
                continue
            # two lines without their own step record at one instant share one group
            untimed = move.kind == "timer" or (move.kind == "start" and move.event is None)
            if untimed and previous_untimed == move.at:
                return False
            previous_untimed = move.at if untimed else None
            if not self.chain_faithful(replayed, position):
                return False
        return True

    def chain_faithful(self, replayed: Sequence[_Replayed], position: int) -> bool:
        """The chain of the line of move ``position``: the simulator's stub matching and
        breadth-first answers give exactly the replay's answers, in its order."""
        stubs = list(self.stubbed.get(position, []))
        pending = [(self.stub(item), item) for item in stubs]
        queue: list[str] = []
        current = position
        while True:
            item = replayed[current]
            for effect in item.effects:
                if effect.result_event is None:
                    continue
                for index, (stub, answered) in enumerate(pending):
                    assert answered.answer is not None
                    if answered.answer is effect or (
                        fnmatch.fnmatchcase(effect.effect, stub["effect"])
                        and subset_match(stub.get("match", {}), effect.args)
                    ):
                        if answered.answer.id != effect.id:
                            return False
                        queue.append(effect.id)
                        del pending[index]
                        break
            if item.snapshot is None or item.snapshot.done:
                break
            if not queue:
                break
            current += 1
            if current >= len(replayed) or self.anchor[current] != position:
                return False
            answered = replayed[current]
            answer = answered.answer
            if answer is None or answer.id != queue.pop(0):
                return False
            event = answered.move.event or ""
            if event.split(".", 1)[0] not in ("done", "error") or event.split(".", 2)[2:] != [
                answer.result_event
            ]:
                return False
            # the stub's JSON result is what the simulator delivers
            stub = self.stub(answered)
            if stub.get("error", stub.get("result")) != answered.move.data:
                return False
        # every stub bound to its call, no answer of this chain left out, and no timer
        # due by the line's time (the simulator would fire it before the expect line)
        following = current + 1
        last = replayed[current].snapshot
        due = None if last is None or last.done else engine.next_due(last)
        return (
            not pending
            and (following >= len(replayed) or self.anchor[following] != position)
            and (due is None or due > replayed[position].move.at)
        )

    def expectations(self, lines: list[_Line], replayed: Sequence[_Replayed]) -> list[_Line]:
        """``lines`` with an ``expect`` line after every input and in place of every
        placeholder: what the replay reached at the end of that line's chain."""
        chains: dict[int, list[_Replayed]] = {}
        for position, item in enumerate(replayed):
            chains.setdefault(self.anchor[position], []).append(item)
        states = self.chart.index.states
        final: list[_Line] = []
        for line in lines:
            if line.position is None:
                final.append(line)
                continue
            chain = chains[line.position]
            snapshot = chain[-1].snapshot
            assert snapshot is not None
            configuration = sorted(
                s
                for s in snapshot.configuration
                if s in states and states[s].kind in (StateKind.ATOMIC, StateKind.FINAL)
            )
            expect: dict[str, Any] = {"configuration": configuration}
            effects = [
                {"effect": e.effect, "args": self.json(e.args)}
                for item in chain
                for e in item.effects
            ]
            if effects:
                expect["effects"] = effects
            if snapshot.done:
                expect["completed"] = True
            if not line.placeholder:
                final.append(line)
            final.append(_Line(line.at, {"expect": expect}))
        return final

    def input_line(self, move: _Move, instance: str | None, position: int) -> _Line:
        assert move.event is not None
        body = self.event_line(move, instance)
        return _Line(move.at, body, input=True, event=(move.event, move.data), position=position)

    def event_line(self, move: _Move, instance: str | None) -> dict[str, Any]:
        body: dict[str, Any]
        if move.webhook is not None:
            header, file, merge = move.webhook
            hook: dict[str, Any] = {
                "headers": {"X-Gitlab-Event": header},
                "body_file": f"{WEBHOOK_DIR}/{file}",
            }
            if merge:
                hook["merge"] = _json_of(merge)
            body = {"webhook": hook}
        else:
            assert move.event is not None
            body = {"event": move.event}
            if move.data is not None:
                body["data"] = _json_of(move.data)
        if instance is not None:
            body["instance"] = instance
        return body


def _effect_order(effects: Sequence[engine.Effect], effect: engine.Effect | None) -> int:
    for index, candidate in enumerate(effects):
        if effect is not None and candidate.id == effect.id:
            return index
    return len(effects)


def _stub(item: _Replayed, json_of: Callable[[Any], Any] = to_jsonable) -> dict[str, Any]:
    assert item.answer is not None
    assert item.move.event is not None
    stub: dict[str, Any] = {"effect": item.answer.effect}
    if item.answer.args:
        stub["match"] = json_of(item.answer.args)
    data = _json_of(item.move.data)  # moves carry no assumption flags (see Walker.move)
    if item.move.event.startswith("error."):
        stub["error"] = data
    else:
        stub["result"] = data
    return stub


def _render(lines: Sequence[_Line], comment: str | None) -> tuple[list[dict[str, Any]], list[int]]:
    """The JSON objects of the trace file, and the file line number of each line."""
    out: list[dict[str, Any]] = []
    numbers: list[int] = []
    if comment:
        out.append({"comment": comment})
    previous: datetime | None = None
    for line in lines:
        obj: dict[str, Any] = {}
        if previous is None or line.at != previous:
            obj["at"] = _time_text(line.at, previous)
        obj.update(line.body)
        previous = line.at
        out.append(obj)
        numbers.append(len(out))
    return out, numbers


def _trace_of(lines: Sequence[_Line], numbers: Sequence[int], path: str) -> Trace:
    """The :class:`Trace` the reader would make of the rendered lines (without re-reading
    the webhook bodies: input lines carry their event)."""
    parsed: list[TraceLine] = []
    for line, number in zip(lines, numbers, strict=True):
        body = line.body
        if line.event is not None:
            hook = body.get("webhook")
            parsed.append(
                EventLine(
                    line=number,
                    at=line.at,
                    name=line.event[0],
                    data=line.event[1],
                    instance=body.get("instance"),
                    webhook=None if hook is None else hook["headers"]["X-Gitlab-Event"],
                )
            )
        elif "policy" in body:
            rules = tuple((k, v) for k, v in body["policy"].items())
            parsed.append(PolicyLine(line=number, at=line.at, rules=rules))
        elif "stub" in body:
            stub = body["stub"]
            failed = "error" in stub
            parsed.append(
                StubLine(
                    line=number,
                    at=line.at,
                    effect=stub["effect"],
                    match=stub.get("match", {}),
                    outcome="fail" if failed else "succeed",
                    result=stub["error"] if failed else stub["result"],
                )
            )
        else:
            parsed.append(ExpectLine(line=number, at=line.at, inactive=()))
    return Trace(path, tuple(parsed))


def _expectations(lines: list[_Line], numbers: list[int], result: TraceResult) -> list[_Line]:
    """``lines`` with an ``expect`` line after every step the simulator made."""
    by_number = {number: index for index, number in enumerate(numbers)}
    groups: list[tuple[int | None, datetime, list[StepRecord]]] = []
    for record in result.steps:
        key = by_number.get(record.line) if record.line is not None else None
        if groups and groups[-1][0] == key and (key is not None or groups[-1][1] == record.at):
            groups[-1][2].append(record)
        else:
            groups.append((key, record.at, [record]))
    inserted: dict[int, list[_Line]] = {}  # before line index -> expect lines
    after: dict[int, dict[str, Any]] = {}
    configuration: tuple[str, ...] | None = None
    completed = False
    placeholders = [i for i, line in enumerate(lines) if line.placeholder]
    used: set[int] = set()
    for key, at, records in groups:
        effects: list[dict[str, Any]] = []
        for record in records:
            if record.kind != "ignored":
                configuration = record.configuration
                completed = record.completed
            effects.extend(
                {"effect": e.effect, "args": to_jsonable(e.args)} for e in record.effects
            )
        expect: dict[str, Any]
        if configuration is None:
            expect = {"instances": 0}
        else:
            expect = {"configuration": list(configuration)}
            if effects:
                expect["effects"] = effects
            if completed:
                expect["completed"] = True
        if key is not None:
            after[key] = expect
            continue
        slot = next((i for i in placeholders if i not in used and lines[i].at == at), None)
        if slot is not None:
            used.add(slot)
            after[slot] = expect
            continue
        before = next(
            (
                i
                for i, line in enumerate(lines)
                if line.at > at or (line.placeholder and line.at >= at and i not in used)
            ),
            len(lines),
        )
        inserted.setdefault(before, []).append(_Line(at, {"expect": expect}))
    final: list[_Line] = []
    for index, line in enumerate(lines):
        final.extend(inserted.get(index, []))
        if line.placeholder:
            if index in after:
                final.append(_Line(line.at, {"expect": after[index]}))
            continue
        final.append(line)
        if index in after:
            final.append(_Line(line.at, {"expect": after[index]}))
    final.extend(inserted.get(len(lines), []))
    return final


# --------------------------------------------------------------------------- the generator


class _Chooser(Protocol):
    def index(self, n: int) -> int: ...
    def weighted(self, weights: Sequence[float]) -> int: ...
    def delay(self, low: float, high: float) -> float: ...
    def stop(self) -> bool: ...


class _RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def index(self, n: int) -> int:
        return self.rng.randrange(n)

    def weighted(self, weights: Sequence[float]) -> int:
        return self.rng.choices(range(len(weights)), weights)[0]

    def delay(self, low: float, high: float) -> float:
        if high <= low:
            return max(0.0, high)
        return round(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def stop(self) -> bool:
        return self.rng.random() < 0.03


class Walker:
    """Trace building over one chart's explored state space (shared by the strategies
    and by the hypothesis strategies of :mod:`autoflow.testing`)."""

    def __init__(self, chart: Chart, *, complete: bool = True) -> None:
        self.chart = chart
        if complete:
            self.space = explore(chart)
        else:
            states = {s.id for s in walk_states(chart.states) if s.kind is not StateKind.HISTORY}
            transitions = sum(
                len(s.transitions)
                for s in walk_states(chart.states)
                if s.kind is not StateKind.HISTORY
            )

            def everything(space: StateSpace) -> bool:
                return len(space.fired_by) >= transitions and states <= set(space.entered_by)

            self.space = explore(chart, stop=everything)
        self.keyed = bool(chart.triggers)
        self.starts = any(t.start for t in chart.triggers)
        # root -> (started?, the replay after it, the start move as applied)
        self.started: dict[int, tuple[bool, tuple[Any, ...], _Move]] = {}
        self.by_configuration: dict[tuple[str, ...], list[int]] = {}
        self.moves: dict[tuple[int | None, int, int | None], tuple[Step, _Move]] = {}
        self.exceptions: dict[tuple[tuple[str, ...], str | None], bool] = {}
        # node -> its moves (the node reached, the call a result answers); last the timer
        self.explored_options: dict[
            int, list[tuple[_Move | None, Node | None, engine.Effect | None, float]]
        ] = {}
        self.solver = _Solver(chart, self.space)
        # fields the start triggers' keys read: a start payload without them starts nothing
        keys = [t.key for t in chart.triggers if t.start and t.key is not None]
        self.key_paths = event_paths(keys, {}) if keys else []

    # -- paths -----------------------------------------------------------------

    def target_of(self, parent: int | None, step: Step) -> Node | None:
        if parent is None:
            return next(
                (self.space.nodes[r] for r in self.space.roots if self.space.nodes[r].step is step),
                None,
            )
        for target, candidate in self.space.successors.get(parent, []):
            if candidate is step:
                return self.space.nodes[target]
        return None

    def moves_to(self, parent: int | None, step: Step) -> list[_Move]:
        """The moves of the shortest path ending with ``step`` taken in node ``parent``."""
        edges: list[tuple[Node | None, Step, Node | None]] = []
        nodes = self.space.path(parent) if parent is not None else []
        for node in nodes:
            if node.step is not None:
                before = None if node.parent is None else self.space.nodes[node.parent]
                edges.append((before, node.step, node))
        last_before = None if parent is None else self.space.nodes[parent]
        edges.append((last_before, step, self.target_of(parent, step)))
        return [self.move(before, s, after) for before, s, after in edges]

    def moves_firing(self, target: str, parent: int | None, step: Step) -> list[_Move]:
        moves = self.moves_to(parent, step)
        if "#" in target and moves[-1].kind != "timer":
            moves[-1] = replace(moves[-1], wanted=target)
        return moves

    def move(self, before: Node | None, step: Step, after: Node | None) -> _Move:
        """The move of ``step`` from ``before`` to ``after`` (memoised: walks ask often)."""
        key = (
            None if before is None else before.index,
            id(step),
            None if after is None else after.index,
        )
        found = self.moves.get(key)
        if found is None or found[0] is not step:
            found = (step, self.make_move(before, step, after))
            self.moves[key] = found
        return found[1]

    def make_move(self, before: Node | None, step: Step, after: Node | None) -> _Move:
        now = DEFAULT_EPOCH if before is None else before.now
        target = None if after is None else after.snapshot.configuration
        data = _clean(step.data)
        if step.kind == "timer":
            return _Move("timer", now + step.elapsed, target=target)
        if step.kind == "result":
            return _Move(
                "result",
                now,
                step.event,
                data,
                answers=step.sendid,
                target=target,
                assumed=step.assumed,
            )
        if step.kind == "start" and self.key_paths and (data is None or isinstance(data, dict)):
            data = fill_payload(data, self.key_paths, frozenset(), step.event)
        return _Move(step.kind, now, step.event, data, target=target, assumed=step.assumed)

    # -- realising moves as a trace ---------------------------------------------

    def replay(self, moves: Iterable[_Move]) -> _Replay:
        replay = _Replay(self.chart, self.solver)
        for move in moves:
            replay.apply_move(move)
        return replay

    def realise(
        self,
        name: str,
        replay: _Replay,
        comment: str | None,
        *,
        expectations: bool = True,
        simulate: bool = True,
    ) -> GeneratedTrace | None:
        """The trace of ``replay``.  Its expectations come from a simulator run of its
        lines, or with ``simulate=False`` from the replay itself when the simulator would
        run the lines step for step as the replay did (:meth:`_TraceBuilder.faithful`;
        else from a simulator run all the same).  Only simulated traces say which
        states and transitions they cover."""
        done = replay.done
        if not done or done[0].move.kind != "start":
            return None
        builder = _TraceBuilder(self.chart, self.keyed)
        lines = builder.lines(done)
        # inputs: event and webhook lines (answers given later included) and timers
        events = sum(1 for line in lines if line.input) + sum(
            1 for r in done if r.move.kind == "timer"
        )
        if not simulate and (not expectations or builder.faithful(done)):
            if expectations:
                lines = builder.expectations(lines, done)
            else:
                lines = [line for line in lines if not line.placeholder]
            body, _ = _render(lines, comment)
            return GeneratedTrace(name, tuple(body), events=events)
        _, numbers = _render(lines, comment)
        trace = _trace_of(lines, numbers, self.trace_path(name))
        result = simulate_trace(self.chart, trace)
        if expectations:
            lines = _expectations(lines, numbers, result)
        else:
            lines = [line for line in lines if not line.placeholder]
        body, _ = _render(lines, comment)
        return GeneratedTrace(
            name,
            tuple(body),
            result.states_covered,
            result.transitions_covered,
            events,
        )

    def trace_path(self, name: str) -> str:
        """A path for parsing generated text: its ``webhooks/<file>`` bodies resolve to
        the package's copies."""
        return str(_PAYLOADS.parent / f"{name}.jsonl")

    # -- strategies -------------------------------------------------------------

    def cover(self, kind: str) -> tuple[list[GeneratedTrace], tuple[str, ...], tuple[str, ...]]:
        """Shortest paths, deepest target first, until every target is covered."""
        edges = self.space.entered_by if kind == "states" else self.space.fired_by
        targets = tuple(sorted(edges))

        def depth(target: str) -> int:
            parent = edges[target][0][0]
            return -1 if parent is None else self.space.nodes[parent].depth

        order = sorted(targets, key=lambda t: (-depth(t), t))
        covered: set[str] = set()
        traces: list[GeneratedTrace] = []
        missed: list[str] = []
        noun = "state" if kind == "states" else "transition"
        for target in order:
            if target in covered:
                continue
            name = f"{noun}-{len(traces) + 1:02d}"
            verb = "enters" if kind == "states" else "fires"
            found: GeneratedTrace | None = None
            fallback: GeneratedTrace | None = None
            # the shortest path first; when the engine does not follow it (a guard the
            # exploration assumed), other paths, and the same paths started at the
            # instants the workflow's data names (a change-freeze window, ...)
            for wanted, parent, step in self.ways(kind, target):
                moves = self.moves_firing(wanted, parent, step)
                for shift in self.shifts(moves):
                    shifted = [replace(m, at=m.at + shift) for m in moves]
                    comment = f"shortest path that {verb} {target}"
                    trace = self.realise(name, self.replay(shifted), comment)
                    if trace is None:
                        continue
                    got = set(trace.states if kind == "states" else trace.transitions)
                    if target in got:
                        found = trace
                        break
                    if fallback is None and got - covered:
                        fallback = trace
                if found is not None:
                    break
            chosen = found or fallback
            if found is None:
                missed.append(target)
            if chosen is not None:
                got = set(chosen.states if kind == "states" else chosen.transitions)
                if got - covered:
                    traces.append(chosen)
                    covered |= got
        missed = [t for t in missed if t not in covered]
        return traces, targets, tuple(sorted(missed))

    def ways(self, kind: str, target: str) -> list[tuple[str, int | None, Step]]:
        """Edges that cover ``target``; for a state, then those of the transitions into it."""
        if kind == "transitions":
            return [(target, p, s) for p, s in self.space.fired_by.get(target, [])]
        ways = [(target, p, s) for p, s in self.space.entered_by.get(target, [])]
        for state in walk_states(self.chart.states):
            for index, t in enumerate(state.transitions):
                tid = f"{state.id}#{index}"
                if target in t.targets:
                    ways.extend((tid, p, s) for p, s in self.space.fired_by.get(tid, []))
        return ways

    def shifts(self, moves: Sequence[_Move]) -> list[timedelta]:
        """Offsets to try for a path: none, then each instant in the initial data."""
        result = [timedelta(0)]
        if not moves:
            return result
        replay = _Replay(self.chart)
        if not replay.apply(moves[0]) or replay.snapshot is None:
            return result
        for instant in sorted(set(_instants(replay.snapshot.datamodel))):
            if instant > moves[0].at and len(result) < MAX_SHIFTS:
                result.append(instant - moves[0].at)
        return result

    def boundary(self) -> list[GeneratedTrace]:
        """For each timer transition: an input just before and just after its deadline."""
        traces: list[GeneratedTrace] = []
        timers = sorted(
            (tid, edges[0])
            for tid, edges in self.space.fired_by.items()
            if edges[0][1].kind == "timer"
        )
        for tid, (parent, step) in timers:
            if parent is None:
                continue
            moves = self.moves_to(parent, step)
            prefix, timer = moves[:-1], moves[-1]
            node = self.space.nodes[parent]
            competing = [s for _, s in self.space.successors.get(parent, []) if s.kind != "timer"]
            second = timedelta(seconds=1)
            for side in ("before", "after"):
                if competing:
                    base = self.move(node, competing[0], None)
                    at = timer.at - second if side == "before" else timer.at + second
                    tail = [replace(base, at=at)]
                    if side == "after":
                        tail.insert(0, timer)
                    what = f"{competing[0].event} {'1s before' if side == 'before' else '1s after'}"
                else:
                    at = timer.at - second if side == "before" else timer.at + second
                    tail = [replace(timer, at=at)] if side == "after" else []
                    what = f"time {'1s before' if side == 'before' else '1s after'}"
                replay = self.replay(prefix + tail)
                comment = f"timer {tid}: {what} its deadline ({format_instant(timer.at)})"
                lines_name = f"boundary-{_slug(tid)}-{side}"
                trace = self.realise(lines_name, replay, comment)
                if trace is None:
                    continue
                if not competing and side == "before":
                    trace = _with_wait(trace, timer.at - second)
                traces.append(trace)
        return traces

    def walk(
        self, chooser: _Chooser, *, horizon: timedelta, max_events: int = MAX_WALK_EVENTS
    ) -> _Replay:
        """A random walk over the explored graph, run by the engine as it goes.

        Each step takes one of the inputs the exploration found in the abstract state
        the instance is in: an event (minutes to hours after the previous input, and
        before the next timer is due), the answer to a pending call (at once for API
        calls, mostly a success), or the next timer at its due time.  When the
        instance completes and the workflow has start triggers, the walk goes on with
        a new instance (a later start event) — a workflow's life is a series of
        instances — until ``max_events`` inputs or the ``horizon`` end it.
        """
        space = self.space
        replay = _Replay(self.chart, self.solver)
        if not space.roots:
            return replay
        end = DEFAULT_EPOCH + horizon
        made = 0
        while made < max_events:
            roots = [space.nodes[r] for r in space.roots]
            starts = Counter(r.step.event if r.step else None for r in roots)
            root = roots[
                chooser.weighted(
                    [_weight(r.step, r) / starts[r.step.event if r.step else None] for r in roots]
                )
            ]
            if not self.start(replay, root, chooser, end):
                break
            made += 1
            node: Node | None = root
            while made < max_events and node is not None:
                snapshot = replay.snapshot
                if snapshot is None or snapshot.done or chooser.stop():
                    break
                node = self.synced(node, snapshot)
                if node is None:
                    break
                options, weights = self.options(node, replay)
                if not options:
                    break
                move, target, answers = options[chooser.weighted(weights)]
                if answers is not None:
                    move = _with(move, answers=answers)
                due = engine.next_due(snapshot)
                if move.kind != "timer":
                    if due is not None and due <= replay.now:
                        move, target = _Move("timer", due), None
                    elif move.kind == "result" and (
                        _is_api(self.pending_name(replay, move)) or _is_child(move.answers or "")
                    ):
                        move = _with(move, at=replay.now)
                    else:
                        room = (due - replay.now).total_seconds() - 1 if due else 86_400.0
                        delay = chooser.delay(30.0, min(room, 4 * 3600.0))
                        move = _with(move, at=replay.now + timedelta(seconds=delay))
                if move.at > end:
                    return replay
                made += 1
                if replay.apply_move(move) and target is not None:
                    node = target
            snapshot = replay.snapshot
            if not self.starts or snapshot is None or not snapshot.done or chooser.stop():
                break
        return replay

    def start(self, replay: _Replay, root: Node, chooser: _Chooser, end: datetime) -> bool:
        """Start an instance by ``root``'s start step: at the epoch in a new walk (its
        engine run cached per root), later a realistic gap after the last one ended."""
        assert root.step is not None
        move = self.move(None, root.step, root)
        if replay.snapshot is None:
            cached = self.started.get(root.index)
            if cached is None:
                ok = replay.apply_move(move)
                applied = replay.done[0].move if ok else move
                self.started[root.index] = cached = (ok, replay.copy_state(), applied)
            replay.restore(cached[1])
            return cached[0]
        gap = chooser.delay(600.0, 3 * 86_400.0)  # ten minutes to three days
        at = replay.now + timedelta(seconds=gap)
        if at > end:
            return False
        # the payload the first instance was started with (solved, as a webhook)
        first = self.started.get(root.index)
        if first is not None and first[0] and replay.apply(replace(first[2], at=at)):
            return True
        return replay.apply_move(replace(move, at=at))

    def synced(self, node: Node, snapshot: engine.Snapshot) -> Node | None:
        """An explored node in the configuration the instance is in: ``node`` when the
        engine followed the explored path, else (a guard decided by data the exploration
        abstracts) the first explored node in that configuration."""
        if node.snapshot.configuration == snapshot.configuration:
            return node
        if not self.by_configuration:
            for candidate in self.space.nodes:
                key = candidate.snapshot.configuration
                self.by_configuration.setdefault(key, []).append(candidate.index)
        found = self.by_configuration.get(snapshot.configuration)
        return None if not found else self.space.nodes[found[0]]

    def options(
        self, node: Node, replay: _Replay
    ) -> tuple[list[tuple[_Move, Node | None, str | None]], list[float]]:
        """The inputs the walk may give next, with their weights: ``node``'s events, the
        answers to the calls the instance has pending (by call, as the exploration
        answered them), and the next timer — each with the explored node it leads to
        (None: not known) and, for an answer, the id of the instance's call."""
        explored = self.explored_options.get(node.index)
        if explored is None:
            explored = self.explore_options(node)
        options: list[tuple[_Move, Node | None, str | None]] = []
        weights: list[float] = []
        first_quick: str | None = ""  # not looked up yet
        for move, after, explored_call, weight in explored:
            if move is None:  # the timer
                snapshot = replay.snapshot
                if snapshot is not None and snapshot.timers:
                    due = snapshot.timers[0].due
                    options.append((_Move("timer", max(due, replay.now)), after, None))
                    rare = self.exceptional(
                        node.snapshot.configuration, snapshot.timers[0].event.name
                    )
                    weights.append(_weight(None, after, rare))
                continue
            answers = None
            if explored_call is not None:
                call = self.call_of(node, explored_call, replay)
                if call is None:
                    continue
                answers = call.id
                # answers at once (API calls, a child session's calls) come as stubs in
                # the chain of the line that made the call, in the order the calls were
                # made (as the simulator answers them); a child session's call gets no
                # other kind of answer
                quick = _is_api(call.effect) or _is_child(call.id)
                if quick and replay.immediate(call.id, replay.now):
                    if first_quick == "":
                        first_quick = replay.first_quick_call()
                    if call.id != first_quick:
                        continue
                elif _is_child(call.id):
                    continue
            options.append((move, after, answers))
            weights.append(weight)
        return options, weights

    def explore_options(
        self, node: Node
    ) -> list[tuple[_Move | None, Node | None, engine.Effect | None, float]]:
        """``node``'s moves with the node each reaches, the call a result answers and
        its weight; last the timer (its move and weight depend on the instance)."""
        entries: list[tuple[_Move, Node, engine.Effect | None]] = []
        timer: Node | None = None
        for target, step in self.space.successors.get(node.index, []):
            after = self.space.nodes[target]
            if step.kind == "timer":
                timer = after
                continue
            call = None
            if step.kind == "result":
                call = next((e for e in node.pending.values() if e.id == step.sendid), None)
                if call is None:
                    continue
            entries.append((self.move(node, step, after), after, call))
        # each event equally likely, whatever number of payloads the exploration found
        # for it (one per guard branch)
        variants = Counter((m.kind, m.event) for m, _, _ in entries)
        configuration = node.snapshot.configuration
        explored: list[tuple[_Move | None, Node | None, engine.Effect | None, float]] = [
            (
                move,
                after,
                call,
                _weight(move, after, self.exceptional(configuration, move.event))
                / variants[move.kind, move.event],
            )
            for move, after, call in entries
        ]
        explored.append((None, timer, None, 0.0))
        self.explored_options[node.index] = explored
        return explored

    def exceptional(self, configuration: tuple[str, ...], event: str | None) -> bool:
        """Whether ``event`` interrupts the normal flow in ``configuration``: a timeout (a
        timer of a state that also waits for inputs of its own, or of an enclosing
        state) or an event that only an enclosing state takes (an anomaly signal for a
        whole stage).  What the active leaf states wait for is the normal flow."""
        key = (configuration, event)
        found = self.exceptions.get(key)
        if found is not None:
            return found
        states = self.chart.index.states
        leaves = [
            states[s]
            for s in configuration
            if s in states and states[s].kind in (StateKind.ATOMIC, StateKind.FINAL)
        ]
        if event is None:
            found = False
        elif event.startswith(engine.TIMER_PREFIX):
            source = states.get(event.removeprefix(engine.TIMER_PREFIX).rpartition(".")[0])
            found = (
                source is None
                or source.kind is not StateKind.ATOMIC
                or any(t.events for t in source.transitions)
            )
        else:
            found = not any(
                descriptor_matches(d, event)
                for leaf in leaves
                for t in leaf.transitions
                for d in t.events
            )
        self.exceptions[key] = found
        return found

    def call_of(self, node: Node, explored: engine.Effect, replay: _Replay) -> engine.Effect | None:
        """The instance's pending call that answers to the exploration's call ``explored``:
        the latest unanswered call of the same session with the same result name."""
        if replay.snapshot is None:
            return None
        session = explored.id.rsplit(":", 2)[0]
        session = replay.snapshot.instance + session.removeprefix(node.snapshot.instance)
        for effect in reversed(replay.unanswered.values()):
            if effect.result_event == explored.result_event and (
                effect.id.rsplit(":", 2)[0] == session
            ):
                return effect
        return None

    def pending_name(self, replay: _Replay, move: _Move) -> str:
        effect = replay.effect(move.answers)
        return "" if effect is None else effect.effect


def _weight(move: _Move | Step | None, after: Node | None, exceptional: bool = False) -> float:
    """How likely a walk takes ``move``: calls mostly succeed (an error answer is one
    choice in ten of a success); most runs of a workflow go the distance, so an input
    that completes the instance, and an ``exceptional`` one (see
    :meth:`Walker.exceptional`), is one choice in four of one that keeps it going."""
    failed = move is not None and move.kind == "result" and (move.event or "").startswith("error.")
    weight = 0.1 if failed else 1.0
    if after is not None and after.snapshot.done:
        weight *= 0.25
    if exceptional:
        weight *= 0.25
    return weight


def _instants(value: Any) -> Iterable[datetime]:
    if isinstance(value, datetime):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _instants(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _instants(item)


def _set_null(data: dict[str, Any], parts: Sequence[str]) -> dict[str, Any]:
    if not parts:
        return data
    head, rest = parts[0], parts[1:]
    if not rest:
        return {**data, head: None} if head in data else data
    inner = data.get(head)
    if not isinstance(inner, dict):
        return data
    return {**data, head: _set_null(inner, rest)}


def _placeholder_paths(
    data: Any, filled: Any, prefix: tuple[str, ...] = ()
) -> Iterable[tuple[str, ...]]:
    """Paths of the values the exploration filled in without a guard asking for them:
    those equal to what it fills in (``filled``, :meth:`_Solver.template`)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict):
                yield from _placeholder_paths(value, filled, (*prefix, key))
                continue
            given = _get(filled, (*prefix, key))
            if given is not None and type(value) is type(given) and value == given:
                yield (*prefix, key)


def _without(data: Any, path: tuple[str, ...]) -> Any:
    if not isinstance(data, dict) or not path:
        return data
    if len(path) == 1:
        return {k: v for k, v in data.items() if k != path[0]}
    return {k: (_without(v, path[1:]) if k == path[0] else v) for k, v in data.items()}


def _starter(chart: Chart, event: engine.Event, now: datetime) -> tuple[bool, str | None]:
    """Whether ``event`` starts an instance of ``chart`` (no instance running), and the
    key it gets: as the simulator routes it, the first start trigger whose ``if``
    holds and whose key evaluates."""
    if not any(trigger.start for trigger in chart.triggers):
        return True, None
    for trigger in chart.triggers:
        if not trigger.start:
            continue
        try:
            takes, key = trigger_key(trigger, event, now)
        except AutoflowError:
            continue
        if takes:
            return True, key
    return False, None


_WALKERS: dict[tuple[int, bool], tuple[Chart, Walker]] = {}


def walker_for(chart: Chart, *, complete: bool = True) -> Walker:
    """The (cached) walker of ``chart``: its state space is explored once per process,
    and guard witnesses are cached with it, so the same call gives the same traces."""
    key = (id(chart), complete)
    cached = _WALKERS.get(key)
    if cached is None or cached[0] is not chart:
        if len(_WALKERS) > 32:
            _WALKERS.clear()
        cached = (chart, Walker(chart, complete=complete))
        _WALKERS[key] = cached
    return cached[1]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def _with_wait(trace: GeneratedTrace, at: datetime) -> GeneratedTrace:
    """``trace`` plus an expect line at ``at``: still in the same configuration."""
    last = next((line["expect"] for line in reversed(trace.lines) if "expect" in line), None)
    if last is None or "configuration" not in last:
        return trace
    times: list[datetime] = []
    current = DEFAULT_EPOCH
    from autoflow.sim.clock import parse_when

    for line in trace.lines:
        if "at" in line:
            current = parse_when(line["at"], current)
        times.append(current)
    if at <= times[-1]:
        return trace
    wait = {"at": _time_text(at, times[-1]), "expect": {"configuration": last["configuration"]}}
    return replace(trace, lines=(*trace.lines, wait))


# --------------------------------------------------------------------------- entry points


def generate(
    chart: Chart,
    strategy: str = "cover-transitions",
    *,
    count: int = 10,
    seed: int = 0,
    horizon: timedelta = DEFAULT_HORIZON,
    progress: Callable[[int], None] | None = None,
    simulate: bool = False,
) -> Generation:
    """Generate traces for ``chart`` by ``strategy`` (one of :data:`STRATEGIES`).

    Random walks take their expectations from the engine run that drew them;
    ``simulate=True`` takes them from a simulator run of each file instead (slower;
    the files are the same — a test holds the two to it).
    """
    import time

    began = time.perf_counter()
    if strategy not in STRATEGIES:
        raise AutoflowError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    cover = strategy.startswith("cover-")
    walker = walker_for(chart, complete=not cover)
    targets: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    if cover:
        traces, targets, missed = walker.cover(strategy.removeprefix("cover-"))
    elif strategy == "boundary":
        traces = walker.boundary()
    else:
        traces = []
        for index in range(count):
            rng = random.Random(seed * 1_000_003 + index)
            replay = walker.walk(_RandomChooser(rng), horizon=horizon)
            comment = f"random walk {index + 1} of {count} (seed {seed})"
            trace = walker.realise(f"random-{index + 1:03d}", replay, comment, simulate=simulate)
            if trace is not None:
                traces.append(trace)
            if progress is not None:
                progress(index + 1)
    files = sorted(
        {
            line["webhook"]["body_file"].removeprefix(WEBHOOK_DIR + "/")
            for trace in traces
            for line in trace.lines
            if "webhook" in line
        }
    )
    return Generation(
        chart,
        strategy,
        tuple(traces),
        tuple(files),
        targets,
        missed,
        len(walker.space.nodes),
        time.perf_counter() - began,
    )


def write_generation(generation: Generation, directory: Path) -> list[Path]:
    """Write the traces (``<name>.jsonl``) and the webhook bodies they load into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if generation.webhooks:
        hooks = directory / WEBHOOK_DIR
        hooks.mkdir(exist_ok=True)
        for file in generation.webhooks:
            target = hooks / file
            target.write_bytes((_PAYLOADS / file).read_bytes())
    for trace in generation.traces:
        target = directory / f"{trace.name}.jsonl"
        target.write_text(trace.text(), encoding="utf-8")
        written.append(target)
    return written
