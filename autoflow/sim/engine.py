"""The semantics of autoflow: one pure step function.

The engine implements the W3C SCXML 1.0 interpretation algorithm (Appendix D
of the recommendation) over the statechart IR (:mod:`autoflow.model.ir`):
macrosteps made of microsteps, the optimal enabled transition set in document
order with conflict resolution across parallel regions, exit and entry order,
eventless transitions until the configuration is stable, the internal queue
before external events, ``done.state.<id>`` after a final state's onentry,
parallel completion, shallow and deep history, internal/external/targetless
transitions, ``In()`` and ``error.execution`` when an expression fails (the
instance keeps running).

It is **pure**: no clock (``now`` is an argument), no I/O, no randomness.  A
:class:`Snapshot` is an immutable value; :func:`step` returns a new one plus
the :class:`Effect` records the outside world must carry out and the
:class:`MicroStep` trace::

    result = start(chart, now)
    result = step(chart, result.snapshot, Event("approve"), now)
    result.snapshot.configuration       # ('review', 'approved', ...)
    next_due(result.snapshot)           # earliest pending timer, or None
    fire_due(chart, result.snapshot, when)   # deliver every timer due by `when`

One call of :func:`step` processes the given external event and then every
event that became pending without time passing (sends to the instance itself
without delay, events between parent and invoked child sessions) until all
queues are empty: between calls the queues are always empty, so a snapshot
holds no queue.

Speed: per-chart tables (states as ints, cached selections, conflict
resolutions and microstep plans per configuration) are built once and kept
on the chart.  :func:`step` first tries a *fast path* that builds no sessions:
for a (configuration, event name) it knows the candidate transitions; when the
macrostep is one microstep whose only content is guards and assignments, with
nothing to run on exit or entry and no eventless transition enabled after it,
it evaluates those expressions and copies the snapshot.  It reuses what the
general algorithm computed and gives up whenever anything else could happen
(an expression error, a cache not yet filled, ...), so both paths give equal
results (``tests/sim/test_fast_path.py``); ``benchmarks/engine`` measures it.

Names the engine chooses
------------------------
* ``after``/``at`` transitions: when the source state is entered the engine
  starts a timer whose event is ``autoflow.timer.<state id>.<n>`` (``n`` is the
  transition's index among the state's transitions); leaving the state cancels
  it (a fan-out's join timeout: ``autoflow.timer.join.<invoke id>``).  Only that
  transition reacts to that event (``*`` descriptors match it
  as well, as they would match a delayed ``<send>``).
* Effects: a ``Call`` becomes ``Effect(id=f"{session}:{seq}:{k}", ...)``; its
  result comes back as ``done.effect.<stem>`` or ``error.effect.<stem>``
  (``stem`` = the call's ``id``, else its effect name), with the result as the
  event's data; on ``done.effect.<stem>`` a call's ``result`` location is
  assigned before transitions are selected.  A result event whose ``sendid``
  is the effect id of an invoked child session is routed to that child.
* An external ``<send>`` (a target that is not one of the SCXML special
  targets) becomes ``Effect(effect="send", args={"target", "type", "event",
  "data"})``.
* Session ids: the instance's ``_sessionid`` is the ``instance`` argument; an
  invoked child's is ``<parent session>/<invoke id>``, a fan-out child's
  ``<parent session>/<invoke id>/<index>``.
* Generated send ids (``idlocation``, or no ``id``): ``send.<seq>.<k>``;
  generated invoke ids: ``<state id>.invoke<n>``.
* A completed instance keeps the configuration it completed in (top-level
  final state included) and ``done=True``; the onexit handlers have run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from autoflow.errors import EvaluationError, ModelError, SimulationError
from autoflow.model.events import normalise_descriptor
from autoflow.model.ir import (
    Action,
    Assign,
    Call,
    Cancel,
    Chart,
    Data,
    DoneData,
    Expr,
    Foreach,
    If,
    Invoke,
    JoinKind,
    Log,
    Raise,
    Send,
    State,
    StateKind,
    TimerKind,
    TransitionKind,
)
from autoflow.model.ir import Transition as IRTransition

if TYPE_CHECKING:
    from autoflow.model.cel import Program

__all__ = [
    "SNAPSHOT_FORMAT",
    "ChildSession",
    "Effect",
    "Event",
    "FanOut",
    "MicroStep",
    "RaisedError",
    "Snapshot",
    "SnapshotError",
    "StepResult",
    "Timer",
    "active_atomic",
    "chart_hash",
    "fire_due",
    "next_due",
    "start",
    "step",
    "trigger_activation",
]

SNAPSHOT_FORMAT = 1
MAX_MICROSTEPS = 10_000  # per macrostep: beyond this the chart loops (SimulationError)
MAX_EVENTS = 10_000  # per step() call, events exchanged without time passing
SCXML_PROCESSOR = "http://www.w3.org/TR/scxml/#SCXMLEventProcessor"
_SCXML_TYPES = frozenset({SCXML_PROCESSOR, "scxml"})
_INVOKE_TYPES = frozenset({"http://www.w3.org/TR/scxml/", "scxml", SCXML_PROCESSOR})
TIMER_PREFIX = "autoflow.timer."
_SYSTEM_VARIABLES = frozenset({"_event", "_sessionid", "_name", "_ioprocessors", "_x"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# frozen dataclasses are slow to build field by field (one object.__setattr__ each):
# the engine builds its own values by giving them a complete __dict__ at once
_object_new = object.__new__
_object_setattr = object.__setattr__


class SnapshotError(SimulationError):
    """A snapshot cannot be restored (wrong format, other chart, malformed)."""


# --------------------------------------------------------------------------- public values


@dataclass(frozen=True)
class Event:
    """An SCXML event (the ``_event`` system variable)."""

    name: str
    data: Any = None
    type: str = "external"  # "platform" | "internal" | "external"
    sendid: str | None = None
    origin: str | None = None
    origintype: str | None = None
    invokeid: str | None = None


@dataclass(frozen=True)
class Effect:
    """Something the outside world must do; ``id`` is its idempotency key."""

    id: str
    effect: str
    args: dict[str, Any]
    result_event: str | None = None


@dataclass(frozen=True)
class Timer:
    """A pending delayed event, delivered by :func:`fire_due` at ``due``.

    ``target`` None: the event goes to ``session`` (None: the instance itself);
    otherwise it is a ``<send>`` to that target once due.  ``session`` is the
    session that owns the timer (for ``<cancel>``, and dropped with it).
    """

    id: str
    due: datetime
    event: Event
    target: str | None = None
    session: str | None = None


@dataclass(frozen=True)
class MicroStep:
    """One microstep: the event it processed (None: eventless) and what changed."""

    event: Event | None
    transitions: tuple[str, ...]
    exited: tuple[str, ...]
    entered: tuple[str, ...]
    session: str | None = None  # None: the instance; else the child session id


@dataclass(frozen=True)
class ChildSession:
    """An invoked child statechart running inside its parent's snapshot.

    ``state``/``index`` locate the ``Invoke`` in the parent chart; ``item`` is
    the fan-out index (None for a plain invoke).
    """

    invokeid: str
    state: str
    index: int
    item: int | None
    snapshot: Snapshot
    autoforward: bool = False


@dataclass(frozen=True)
class FanOut:
    """Bookkeeping of a ``foreach`` invoke: how many children, outputs so far."""

    invokeid: str
    state: str
    index: int
    total: int
    needed: int
    outputs: tuple[tuple[int, Any], ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """Everything about one instance between two macrosteps (immutable)."""

    chart_hash: str
    instance: str
    configuration: tuple[str, ...]
    datamodel: dict[str, Any]
    history: dict[str, tuple[str, ...]]
    timers: tuple[Timer, ...]
    seq: int
    done: bool
    children: tuple[ChildSession, ...] = ()
    fanouts: tuple[FanOut, ...] = ()
    initialized: tuple[str, ...] = ()  # states whose data is bound (late binding)
    parent: str | None = None  # session id of the invoking session
    donedata: Any = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``json.dumps``-able) with ``"format": 1``."""
        return _snapshot_json(self, {"format": SNAPSHOT_FORMAT})

    @classmethod
    def from_json(cls, chart: Chart, data: Mapping[str, Any]) -> Snapshot:
        """Restore a snapshot for ``chart``; runs no actions.

        Raises :class:`SnapshotError` on another format version, a chart whose
        content hash differs, or malformed data.
        """
        if type(data) is not dict and not isinstance(data, Mapping):
            raise SnapshotError("a snapshot must be a JSON object")
        version = data.get("format")
        if version != SNAPSHOT_FORMAT:
            raise SnapshotError(
                f"unsupported snapshot format {version!r} (this autoflow reads format "
                f"{SNAPSHOT_FORMAT})"
            )
        try:
            return _snapshot_from_json(chart, data)
        except SnapshotError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise SnapshotError(f"malformed snapshot: {exc!r}") from exc


@dataclass(frozen=True)
class RaisedError:
    """An error event the engine raised during a step (``error.execution``, ...).

    Reported whether or not a transition took it, so that a driver can show every
    failed expression and send even when the chart does not handle them.
    """

    event: Event
    session: str | None = None  # None: the instance; else the child session id


@dataclass(frozen=True)
class StepResult:
    snapshot: Snapshot
    effects: tuple[Effect, ...]
    microsteps: tuple[MicroStep, ...]
    errors: tuple[RaisedError, ...] = ()


# --------------------------------------------------------------------------- chart tables


class _Tr:
    """A transition, compiled: ints instead of ids."""

    __slots__ = (
        "actions",
        "domain",
        "eventless",
        "events",
        "fast",
        "guard",
        "has_history",
        "index",
        "internal",
        "ir",
        "label",
        "number",
        "source",
        "targets",
        "timer_event",
    )

    def __init__(self) -> None:
        self.number = 0
        self.source = 0
        self.index = 0
        self.events: tuple[str, ...] = ()
        self.eventless = False
        self.guard: Expr | None = None
        self.targets: tuple[int, ...] = ()
        self.internal = False
        self.actions: tuple[Action, ...] = ()
        self.label = ""
        self.has_history = False
        self.domain: int | None = -2  # -2: not static, compute per microstep
        self.timer_event: str | None = None
        self.ir: IRTransition | None = None
        # for the fast path (see _fast_transition): None not computed yet, False not
        # eligible, else (guard or None, ((location, expression), ...)), as _Readers
        self.fast: tuple[_Reader | None, tuple[tuple[str, _Reader], ...]] | bool | None = None


ROOT = 0


class _Tables:
    """Per-chart lookups computed once (charts are frozen)."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.hash = hashlib.sha256(repr(chart).encode()).hexdigest()
        ids: list[str] = ["<scxml>"]
        states: list[State | None] = [None]
        parent: list[int] = [-1]

        def visit(state: State, parent_index: int) -> None:
            ids.append(state.id)
            states.append(state)
            parent.append(parent_index)
            me = len(ids) - 1
            for child in state.children:
                visit(child, me)

        for top in chart.states:
            visit(top, ROOT)
        n = len(ids)
        self.n = n
        self.ids = ids
        self.index = {state_id: i for i, state_id in enumerate(ids)}
        self.states = states
        self.parent = parent
        kinds = [StateKind.COMPOUND] + [s.kind for s in states[1:] if s is not None]
        self.kind = kinds
        self.is_atomic = [k in (StateKind.ATOMIC, StateKind.FINAL) for k in kinds]
        self.is_final = [k is StateKind.FINAL for k in kinds]
        self.is_compound = [k is StateKind.COMPOUND for k in kinds]
        self.is_parallel = [k is StateKind.PARALLEL for k in kinds]
        self.is_history = [k is StateKind.HISTORY for k in kinds]
        self.is_atomic[ROOT] = False
        ancestors: list[tuple[int, ...]] = []
        for i in range(n):
            chain = []
            p = parent[i]
            while p >= 0:
                chain.append(p)
                p = parent[p]
            ancestors.append(tuple(chain))
        self.ancestors = ancestors  # innermost first, root included
        self.anc_set = [frozenset(a) for a in ancestors]
        children: list[list[int]] = [[] for _ in range(n)]
        history_children: list[list[int]] = [[] for _ in range(n)]
        for i in range(1, n):
            if kinds[i] is StateKind.HISTORY:
                history_children[parent[i]].append(i)
            else:
                children[parent[i]].append(i)
        self.children = [tuple(c) for c in children]
        self.history_children = [tuple(c) for c in history_children]
        self.deep_history = [
            states[i] is not None
            and states[i].history is not None  # type: ignore[union-attr]
            and states[i].history.value == "deep"  # type: ignore[union-attr]
            for i in range(n)
        ]
        # transitions
        self.transitions: list[_Tr] = []
        self.state_transitions: list[tuple[_Tr, ...]] = [() for _ in range(n)]
        self.initial: list[_Tr | None] = [None] * n
        self.history_default: list[_Tr | None] = [None] * n
        self.timer_transitions: list[tuple[_Tr, ...]] = [() for _ in range(n)]
        self.timer_event: dict[str, _Tr] = {}
        self.initial[ROOT] = self._compile(chart.initial, ROOT, -1)
        for i in range(1, n):
            state = states[i]
            assert state is not None
            if state.kind is StateKind.HISTORY:
                if state.transitions:
                    self.history_default[i] = self._compile(state.transitions[0], i, -1)
                continue
            if state.initial is not None and state.kind is StateKind.COMPOUND:
                self.initial[i] = self._compile(state.initial, i, -1)
            compiled = []
            timers = []
            for k, transition in enumerate(state.transitions):
                tr = self._compile(transition, i, k)
                compiled.append(tr)
                if transition.timer is not None:
                    tr.timer_event = f"{TIMER_PREFIX}{state.id}.{k}"
                    self.timer_event[tr.timer_event] = tr
                    timers.append(tr)
            self.state_transitions[i] = tuple(compiled)
            self.timer_transitions[i] = tuple(timers)
        for tr in self.transitions:
            if tr.targets and not tr.has_history:
                tr.domain = self.domain_for(tr, tr.targets)
            elif not tr.targets:
                tr.domain = None
        # data
        self.root_data: tuple[Data, ...] = chart.datamodel
        self.state_data: list[tuple[Data, ...]] = [()] + [
            s.datamodel if s is not None else () for s in states[1:]
        ]
        declared = {d.id for d in chart.datamodel}
        for s in states[1:]:
            if s is not None:
                declared.update(d.id for d in s.datamodel)
        self.declared = frozenset(declared)
        self.invokes: list[tuple[Invoke, ...]] = [()] + [
            s.invokes if s is not None else () for s in states[1:]
        ]
        self.has_invokes = any(self.invokes)
        self.results: dict[str, list[str]] = {}
        self._collect_results()
        self.on_entry: list[tuple[tuple[Action, ...], ...]] = [()] + [
            s.on_entry if s is not None else () for s in states[1:]
        ]
        self.on_exit: list[tuple[tuple[Action, ...], ...]] = [()] + [
            s.on_exit if s is not None else () for s in states[1:]
        ]
        self.donedata: list[DoneData | None] = [
            None,
            *(s.donedata if s is not None else None for s in states[1:]),
        ]
        # states with something to do on exit / on entry besides changing the configuration
        self.exit_busy = [
            bool(self.on_exit[i] or self.timer_transitions[i] or self.invokes[i]) for i in range(n)
        ]
        late = chart.binding == "late"
        self.entry_busy = [
            bool(
                self.on_entry[i]
                or self.timer_transitions[i]
                or self.is_final[i]
                or (late and self.state_data[i])
                or (self.initial[i] is not None and self.initial[i].actions)  # type: ignore[union-attr]
            )
            for i in range(n)
        ]
        # caches for the fast path
        self.match_cache: dict[tuple[int, str | None], tuple[_Tr, ...]] = {}
        self.select_cache: dict[tuple[frozenset[int], str | None], tuple[_Tr, ...]] = {}
        self.plan_cache: dict[tuple[frozenset[int], tuple[_Tr, ...]], _Plan] = {}
        self.config_cache: dict[tuple[str, ...], frozenset[int]] = {}
        self.config_ids: dict[frozenset[int], tuple[str, ...]] = {}
        self.needs_history = any(self.history_children)
        # conflict resolution of an enabled set (no history targets) in a configuration
        self.conflict_cache: dict[tuple[frozenset[int], tuple[_Tr, ...]], tuple[_Tr, ...]] = {}
        self.fast: dict[tuple[frozenset[int], str | None], _FastEntry | bool] = {}
        self.in_functions: dict[frozenset[int], dict[str, Callable[..., Any]]] = {}
        self.atomic_cache: dict[frozenset[int], tuple[int, ...]] = {}

    def _compile(self, transition: IRTransition, source: int, k: int) -> _Tr:
        tr = _Tr()
        tr.number = len(self.transitions)
        tr.source = source
        tr.index = k
        tr.ir = transition
        tr.events = tuple(normalise_descriptor(e) for e in transition.events)
        tr.eventless = not transition.events and transition.timer is None
        tr.guard = transition.guard
        try:
            tr.targets = tuple(self.index[t] for t in transition.targets)
        except KeyError as exc:
            raise ModelError(
                f"transition of {self.ids[source]!r} targets unknown state {exc.args[0]!r}",
                transition.span,
            ) from None
        tr.internal = transition.kind is TransitionKind.INTERNAL
        tr.actions = transition.actions
        tr.has_history = any(self.kind[t] is StateKind.HISTORY for t in tr.targets)
        src = self.ids[source] if source != ROOT else "<scxml>"
        if tr.targets:
            tr.label = f"{src} -> {' '.join(transition.targets)}"
        else:
            tr.label = f"{src} #{k}"
        self.transitions.append(tr)
        return tr

    def domain_for(self, tr: _Tr, targets: Sequence[int]) -> int:
        """The transition domain (SCXML getTransitionDomain) for these targets."""
        if tr.source == ROOT:
            return ROOT
        if (
            tr.internal
            and self.is_compound[tr.source]
            and all(tr.source in self.anc_set[t] for t in targets)
        ):
            return tr.source
        return self.lcca(tr.source, targets)

    def lcca(self, head: int, tail: Iterable[int]) -> int:
        tail = tuple(tail)
        for anc in self.ancestors[head]:
            if (anc == ROOT or self.is_compound[anc]) and all(anc in self.anc_set[s] for s in tail):
                return anc
        return ROOT

    def _collect_results(self) -> None:
        def visit(actions: Iterable[Action]) -> None:
            for action in actions:
                if isinstance(action, Call) and action.result:
                    stem = action.id or action.effect
                    self.results.setdefault(stem, [])
                    if action.result not in self.results[stem]:
                        self.results[stem].append(action.result)
                elif isinstance(action, If):
                    for branch in action.branches:
                        visit(branch.actions)
                elif isinstance(action, Foreach):
                    visit(action.actions)

        for tr in self.transitions:
            visit(tr.actions)
        for s in self.states[1:]:
            if s is None:
                continue
            for block in (*s.on_entry, *s.on_exit):
                visit(block)
            for inv in s.invokes:
                visit(inv.finalize)

    def configuration(self, key: frozenset[int]) -> tuple[str, ...]:
        """The snapshot's ``configuration`` (sorted document order) of a set of states."""
        return self.canonical(key)[1]

    def canonical(self, key: frozenset[int]) -> tuple[frozenset[int], tuple[str, ...]]:
        """One shared set of states and its ``configuration`` (snapshots share both)."""
        configuration = self.config_ids.get(key)
        if configuration is None:
            configuration = tuple(self.ids[s] for s in sorted(key))
            if len(self.config_ids) < 100_000:
                self.config_ids[key] = configuration
                self.config_cache[configuration] = key
            return key, configuration
        return self.config_cache.get(configuration, key), configuration

    def atomic_states(self, key: frozenset[int]) -> tuple[int, ...]:
        """The atomic states of a configuration in document order."""
        found = self.atomic_cache.get(key)
        if found is None:
            found = tuple(s for s in sorted(key) if self.is_atomic[s])
            if len(self.atomic_cache) < 100_000:
                self.atomic_cache[key] = found
        return found

    def functions(self, key: frozenset[int]) -> dict[str, Callable[..., Any]]:
        """``In()`` for a configuration that does not change while it is used."""
        found = self.in_functions.get(key)
        if found is None:
            index = self.index

            def in_state(state_id: Any) -> bool:
                return isinstance(state_id, str) and index.get(state_id, -1) in key

            found = {"In": in_state}
            if len(self.in_functions) < 10_000:
                self.in_functions[key] = found
        return found

    def matching(self, state: int, name: str | None) -> tuple[_Tr, ...]:
        key = (state, name)
        found = self.match_cache.get(key)
        if found is None:
            if name is None:
                found = tuple(t for t in self.state_transitions[state] if t.eventless)
            else:
                found = tuple(
                    t
                    for t in self.state_transitions[state]
                    if t.timer_event == name or _matches(t.events, name)
                )
            if len(self.match_cache) < 100_000:
                self.match_cache[key] = found
        return found


class _Plan:
    """The static part of a microstep (cached when no history is entered)."""

    __slots__ = (
        "default_entry",
        "entered_ids",
        "entry",
        "exit",
        "exited_ids",
        "fast",
        "history_content",
        "history_records",
        "new_config",
    )

    def __init__(self) -> None:
        self.exit: list[int] = []
        self.entry: list[int] = []
        self.default_entry: set[int] = set()
        self.history_content: dict[int, _Tr] = {}
        self.history_records: list[tuple[int, tuple[int, ...]]] = []
        self.new_config: frozenset[int] = frozenset()
        self.exited_ids: tuple[str, ...] = ()
        self.entered_ids: tuple[str, ...] = ()
        # the fast path's outcome of this microstep (see _fast_outcome); None: not
        # computed yet; False: the microstep does more than the fast path can do
        self.fast: _Outcome | bool | None = None


def _matches(descriptors: tuple[str, ...], name: str) -> bool:
    """:func:`descriptor_matches` for descriptors already normalised (the hot path)."""
    for d in descriptors:
        if d == "*" or d == name or (name.startswith(d) and name[len(d)] == "."):
            return True
    return False


_TABLES_ATTR = "_autoflow_engine_tables"


def _tables(chart: Chart) -> _Tables:
    tables = chart.__dict__.get(_TABLES_ATTR)
    if tables is None:
        tables = _Tables(chart)
        chart.__dict__[_TABLES_ATTR] = tables
    return tables


def chart_hash(chart: Chart) -> str:
    """Content hash of a chart (spans excluded): sha256 hex."""
    return _tables(chart).hash


# --------------------------------------------------------------------------- sessions


class _Aborted(Exception):
    """Stop the current block of executable content (after error.execution)."""


class _Session:
    """The mutable working copy of one session during a step."""

    def __init__(self, world: _World, tables: _Tables, snap: Snapshot) -> None:
        self.world = world
        self.t = tables
        self.id = snap.instance
        self.snap = snap
        # the configuration, and the same as a frozenset while it does not change
        self.frozen: frozenset[int] | None = _config_ints(tables, snap)
        self.config: set[int] = set(self.frozen)
        self.data = snap.datamodel
        self.data_owned = False
        self.history: dict[int, tuple[int, ...]] = {
            tables.index[h]: tuple(tables.index[s] for s in v) for h, v in snap.history.items()
        }
        self.history_dirty = False
        self.seq = snap.seq
        self.done = snap.done
        self.donedata = snap.donedata
        self.parent = snap.parent
        self.initialized = set(snap.initialized)
        self.internal: deque[Event] = deque()
        self.current: Event | None = None
        self.effect_index = 0
        self.send_index = 0
        self.to_invoke: set[int] = set()
        self.children: dict[str, _Child] = {}
        for child in snap.children:
            restored = _Child.restore(world, self, child)
            self.children[restored.key] = restored
        self.fanouts: dict[str, FanOut] = {f.invokeid: f for f in snap.fanouts}
        self.activation: dict[str, Any] | None = None
        self._functions: dict[str, Callable[..., Any]] | None = None
        self.sending: str | None = None
        self.changed = False

    # -- datamodel --------------------------------------------------------

    def own_data(self) -> dict[str, Any]:
        if not self.data_owned:
            self.data = dict(self.data)
            self.data_owned = True
        self.activation = None
        self.changed = True
        return self.data

    def build_activation(self) -> dict[str, Any]:
        act = dict(self.data)
        act.update(_system_variables(self.current, self.world.now, self.id, self.t.chart.name))
        self.activation = act
        return act

    def evaluate(self, expr: Expr) -> Any:
        """Evaluate; on failure queue error.execution and raise _Aborted."""
        act = self.activation
        if act is None:
            act = self.build_activation()
        try:
            return expr.program.evaluate(act, self.functions())
        except (EvaluationError, ModelError) as exc:
            self.error("error.execution", str(exc))
            raise _Aborted from None
        except (ArithmeticError, TypeError, ValueError, KeyError, IndexError) as exc:
            self.error("error.execution", f"{expr.source}: {exc}")
            raise _Aborted from None

    def functions(self) -> dict[str, Callable[..., Any]]:
        if self._functions is None:
            index = self.t.index

            def in_state(state_id: Any) -> bool:
                return isinstance(state_id, str) and index.get(state_id, -1) in self.config

            self._functions = {"In": in_state}
        return self._functions

    def error(self, name: str, message: str, sendid: str | None = None) -> None:
        event = Event(name, {"message": message}, type="platform", sendid=sendid or self.sending)
        self.internal.append(event)
        world = self.world
        world.errors.append(RaisedError(event, None if self is world.top else self.id))

    def assign(self, location: str, value: Any) -> None:
        parts = location.split(".")
        root = parts[0]
        if root in _SYSTEM_VARIABLES or (root not in self.t.declared and root not in self.data):
            self.error("error.execution", f"cannot assign to {location!r}: not a declared location")
            raise _Aborted
        if not all(_IDENT.fullmatch(p) for p in parts):
            self.error("error.execution", f"cannot assign to {location!r}: invalid location")
            raise _Aborted
        data = self.own_data()
        if len(parts) == 1:
            data[root] = value
            return
        container = data.get(root)
        if not isinstance(container, dict):
            self.error("error.execution", f"cannot assign to {location!r}: {root} is not a map")
            raise _Aborted
        top = dict(container)
        data[root] = top
        node = top
        for part in parts[1:-1]:
            inner = node.get(part)
            if not isinstance(inner, dict):
                self.error("error.execution", f"cannot assign to {location!r}: not a map")
                raise _Aborted
            inner = dict(inner)
            node[part] = inner
            node = inner
        node[parts[-1]] = value

    def init_data(self, items: Iterable[Data], overrides: Mapping[str, Any] | None = None) -> None:
        for d in items:
            if overrides is not None and d.id in overrides:
                value = overrides[d.id]
            elif d.expr is not None:
                try:
                    value = self.evaluate(d.expr)
                except _Aborted:
                    value = None
            else:
                if d.src is not None:
                    self.error("error.execution", f"data {d.id!r}: src cannot be loaded")
                value = None
            self.own_data()[d.id] = value

    # -- executable content -----------------------------------------------

    def run_block(self, actions: tuple[Action, ...]) -> None:
        with contextlib.suppress(_Aborted):
            self.execute(actions)

    def execute(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Assign):
                self.assign(action.location, self.evaluate(action.expr))
            elif isinstance(action, Raise):
                self.internal.append(Event(action.event, type="internal"))
            elif isinstance(action, Send):
                self.send(action)
            elif isinstance(action, If):
                for branch in action.branches:
                    if branch.cond is None or self.condition(branch.cond, strict=True):
                        self.execute(branch.actions)
                        break
            elif isinstance(action, Log):
                if action.expr is not None:
                    self.evaluate(action.expr)
            elif isinstance(action, Cancel):
                sendid = action.sendid
                if action.sendidexpr is not None:
                    sendid = _to_str(self.evaluate(action.sendidexpr))
                self.world.cancel_timer(self.id, sendid)
            elif isinstance(action, Foreach):
                self.foreach(action)
            elif isinstance(action, Call):
                self.call(action)
            else:  # pragma: no cover - the IR has no other actions
                raise SimulationError(f"unknown action {action!r}")

    def condition(self, expr: Expr, *, strict: bool = False) -> bool:
        value = self.evaluate(expr)
        if isinstance(value, bool):
            return value
        self.error("error.execution", f"{expr.source}: not a boolean ({value!r})")
        if strict:
            raise _Aborted
        return False

    def guard(self, expr: Expr) -> bool:
        try:
            return self.condition(expr)
        except _Aborted:
            return False

    def foreach(self, action: Foreach) -> None:
        array = self.evaluate(action.array)
        if isinstance(array, dict):
            items = list(array.values())
        elif isinstance(array, list | tuple):
            items = list(array)
        else:
            self.error("error.execution", f"foreach: {action.array.source} is not a list")
            raise _Aborted
        for name in (action.item, action.index):
            if name is not None and (not _IDENT.fullmatch(name) or name in _SYSTEM_VARIABLES):
                self.error("error.execution", f"foreach: invalid location {name!r}")
                raise _Aborted
        for i, item in enumerate(items):
            data = self.own_data()
            data[action.item] = item
            if action.index is not None:
                data[action.index] = i
            self.execute(action.actions)

    def call(self, action: Call) -> None:
        args = {p.name: self.evaluate(p.expr) for p in action.args}
        effect_id = f"{self.id}:{self.seq}:{self.effect_index}"
        self.effect_index += 1
        self.world.effects.append(
            Effect(effect_id, action.effect, args, result_event=action.id or action.effect)
        )

    def send(self, action: Send) -> None:
        sendid = action.id
        if sendid is None:
            sendid = f"send.{self.seq}.{self.send_index}"
            self.send_index += 1
            if action.idlocation is not None:
                self.assign(action.idlocation, sendid)
        self.sending = sendid if (action.id or action.idlocation) else None
        try:
            self._send(action, sendid)
        finally:
            self.sending = None

    def _send(self, action: Send, sendid: str) -> None:
        name = action.event
        if action.eventexpr is not None:
            name = _to_str(self.evaluate(action.eventexpr))
        target = action.target
        if action.targetexpr is not None:
            target = _to_str(self.evaluate(action.targetexpr))
        send_type = action.type
        if action.typeexpr is not None:
            send_type = _to_str(self.evaluate(action.typeexpr))
        delay = 0.0
        if action.delay is not None:
            seconds = _seconds(self.evaluate(action.delay))
            if seconds is None:
                self.error("error.execution", f"send: invalid delay {action.delay.source}")
                raise _Aborted
            delay = seconds
        data: Any = None
        if action.namelist or action.params:
            payload: dict[str, Any] = {}
            for var in action.namelist:
                if var not in self.data and var not in self.t.declared:
                    self.error("error.execution", f"send: namelist variable {var!r} undeclared")
                    raise _Aborted
                payload[var] = self.data.get(var)
            for param in action.params:
                payload[param.name] = self.evaluate(param.expr)
            data = payload
        elif action.content is not None:
            data = self.evaluate(action.content)
        if send_type is not None and send_type not in _SCXML_TYPES:
            self.error("error.execution", f"send: unsupported type {send_type!r}")
            raise _Aborted
        if name is None:
            self.error("error.execution", "send: no event name")
            raise _Aborted
        if target is not None and target == "#_internal" and delay <= 0:
            self.internal.append(Event(name, data, type="internal", sendid=action.id))
            return
        if target is not None and not self.world.valid_target(self, target):
            self.error("error.execution", f"send: invalid target {target!r}")
            raise _Aborted
        event = Event(
            name,
            data,
            type="external",
            sendid=sendid if (action.id is not None or action.idlocation is not None) else None,
            origin=f"#_scxml_{self.id}",
            origintype=SCXML_PROCESSOR,
        )
        if delay > 0:
            self.world.add_timer(
                Timer(
                    sendid,
                    self.world.now + timedelta(seconds=delay),
                    event,
                    target,
                    None if self.world.top is self else self.id,
                )
            )
        else:
            self.world.dispatch(self, target, event)

    # -- the algorithm ----------------------------------------------------

    def select(self, name: str | None) -> tuple[_Tr, ...]:
        t = self.t
        frozen = self.frozen
        if frozen is None:
            frozen = self.frozen = frozenset(self.config)
        key = (frozen, name)
        cached = t.select_cache.get(key)
        if cached is not None:
            return cached
        enabled: list[_Tr] = []
        seen: set[int] = set()
        has_guard = False
        for s in t.atomic_states(frozen):
            found = None
            for state in (s, *t.ancestors[s]):
                for tr in t.matching(state, name):
                    if tr.guard is not None:
                        has_guard = True
                        if not self.guard(tr.guard):
                            continue
                    found = tr
                    break
                if found is not None:
                    break
            if found is not None and found.number not in seen:
                seen.add(found.number)
                enabled.append(found)
        if len(enabled) > 1:
            result = self.remove_conflicts(enabled)
            if not any(tr.has_history for tr in enabled) and len(t.conflict_cache) < 100_000:
                t.conflict_cache[(key[0], tuple(enabled))] = result
        else:
            result = tuple(enabled)
        if not has_guard and len(t.select_cache) < 100_000:
            t.select_cache[key] = result
        return result

    def remove_conflicts(self, enabled: list[_Tr]) -> tuple[_Tr, ...]:
        filtered: list[_Tr] = []
        exit_sets: dict[int, set[int]] = {}
        anc_set = self.t.anc_set
        for t1 in enabled:
            preempted = False
            to_remove = []
            e1 = exit_sets.setdefault(t1.number, self.exit_set((t1,)))
            for t2 in filtered:
                e2 = exit_sets[t2.number]
                if e1 & e2:
                    if t2.source in anc_set[t1.source]:
                        to_remove.append(t2)
                    else:
                        preempted = True
                        break
            if not preempted:
                for t2 in to_remove:
                    filtered.remove(t2)
                filtered.append(t1)
        return tuple(filtered)

    def domain(self, tr: _Tr) -> int | None:
        if tr.domain != -2:
            return tr.domain
        targets = self.effective_targets(tr)
        if not targets:
            return None
        return self.t.domain_for(tr, targets)

    def effective_targets(self, tr: _Tr) -> list[int]:
        result: list[int] = []
        for s in tr.targets:
            if self.t.is_history[s]:
                if s in self.history:
                    result.extend(x for x in self.history[s] if x not in result)
                else:
                    default = self.t.history_default[s]
                    if default is not None:
                        result.extend(x for x in self.effective_targets(default) if x not in result)
            elif s not in result:
                result.append(s)
        return result

    def exit_set(self, transitions: Iterable[_Tr]) -> set[int]:
        result: set[int] = set()
        anc_set = self.t.anc_set
        for tr in transitions:
            if tr.targets:
                domain = self.domain(tr)
                if domain is None:
                    continue
                for s in self.config:
                    if domain in anc_set[s]:
                        result.add(s)
        return result

    def plan(self, transitions: tuple[_Tr, ...]) -> _Plan:
        t = self.t
        config = self.frozen
        if config is None:
            config = self.frozen = frozenset(self.config)
        key = (config, transitions)
        cached = t.plan_cache.get(key)
        if cached is not None:
            return cached
        plan = _Plan()
        exit_states = self.exit_set(transitions)
        plan.exit = sorted(exit_states, reverse=True)
        anc_set = t.anc_set
        for s in plan.exit:
            for h in t.history_children[s]:
                if t.deep_history[h]:
                    value = tuple(x for x in sorted(config) if t.is_atomic[x] and s in anc_set[x])
                else:
                    value = tuple(x for x in sorted(config) if t.parent[x] == s)
                plan.history_records.append((h, value))
        uses_history = False
        to_enter: set[int] = set()
        default_entry: set[int] = set()
        history_content: dict[int, _Tr] = {}
        # history recorded on this exit is visible to the entry of the same microstep
        history = self.history
        if plan.history_records:
            history = dict(history)
            history.update(plan.history_records)

        def add_descendants(state: int) -> None:
            nonlocal uses_history
            if t.is_history[state]:
                uses_history = True
                p = t.parent[state]
                if state in history:
                    for s in history[state]:
                        add_descendants(s)
                    for s in history[state]:
                        add_ancestors(s, p)
                else:
                    default = t.history_default[state]
                    if default is not None:
                        history_content[p] = default
                        for s in default.targets:
                            add_descendants(s)
                        for s in default.targets:
                            add_ancestors(s, p)
                return
            to_enter.add(state)
            if t.is_compound[state]:
                default_entry.add(state)
                initial = t.initial[state]
                if initial is not None:
                    for s in initial.targets:
                        add_descendants(s)
                    for s in initial.targets:
                        add_ancestors(s, state)
            elif t.is_parallel[state]:
                for child in t.children[state]:
                    if not any(child in anc_set[s] or s == child for s in to_enter):
                        add_descendants(child)

        def add_ancestors(state: int, ancestor: int | None) -> None:
            for anc in t.ancestors[state]:
                if anc in (ancestor, ROOT):
                    break
                to_enter.add(anc)
                if t.is_parallel[anc]:
                    for child in t.children[anc]:
                        if not any(child in anc_set[s] or s == child for s in to_enter):
                            add_descendants(child)

        for tr in transitions:
            for s in tr.targets:
                add_descendants(s)
            domain = self.domain(tr) if tr.source != ROOT else ROOT
            if tr.has_history:
                uses_history = True
            for s in self.effective_targets(tr) if tr.has_history else tr.targets:
                add_ancestors(s, domain)
        plan.entry = sorted(to_enter)
        plan.exited_ids = tuple(t.ids[s] for s in plan.exit)
        plan.entered_ids = tuple(t.ids[s] for s in plan.entry)
        plan.default_entry = default_entry
        plan.history_content = history_content
        plan.new_config = (config - exit_states) | to_enter
        if not uses_history and len(t.plan_cache) < 100_000:
            t.plan_cache[key] = plan
        return plan

    def microstep(self, transitions: tuple[_Tr, ...], event: Event | None) -> None:
        t = self.t
        plan = self.plan(transitions)
        world = self.world
        self.frozen = None
        # exit
        if plan.history_records:
            for h, value in plan.history_records:
                self.history[h] = value
            self.history_dirty = True
        ids = t.ids
        config = self.config
        if t.has_invokes:
            self.to_invoke.difference_update(plan.exit)
        exit_busy = t.exit_busy
        for s in plan.exit:
            if exit_busy[s] or self.fanouts:
                for block in t.on_exit[s]:
                    self.run_block(block)
                if t.timer_transitions[s]:
                    for tr in t.timer_transitions[s]:
                        world.cancel_timer(self.id, tr.timer_event, internal=True)
                if (t.invokes[s] and self.children) or self.fanouts:
                    self.cancel_invokes(s)
            config.discard(s)
        # transition content
        for tr in transitions:
            if tr.actions:
                self.run_block(tr.actions)
        # entry
        late = t.chart.binding == "late"
        entry_busy = t.entry_busy
        history_content = plan.history_content
        if t.has_invokes:
            self.to_invoke.update(plan.entry)
        for s in plan.entry:
            config.add(s)
            if not entry_busy[s] and not history_content:
                continue
            if late and t.state_data[s] and ids[s] not in self.initialized:
                self.initialized.add(ids[s])
                self.init_data(t.state_data[s])
            for block in t.on_entry[s]:
                self.run_block(block)
            if t.timer_transitions[s]:
                self.start_timers(s)
            if s in plan.default_entry:
                initial = t.initial[s]
                if initial is not None and initial.actions:
                    self.run_block(initial.actions)
            content = history_content.get(s)
            if content is not None and content.actions:
                self.run_block(content.actions)
            if t.is_final[s]:
                p = t.parent[s]
                if p == ROOT:
                    self.done = True
                    self.donedata = self.done_data(s)
                else:
                    self.internal.append(
                        Event(f"done.state.{ids[p]}", self.done_data(s), type="internal")
                    )
                    g = t.parent[p]
                    if (
                        g != ROOT
                        and t.is_parallel[g]
                        and all(self.in_final(c) for c in t.children[g])
                    ):
                        self.internal.append(Event(f"done.state.{ids[g]}", type="internal"))
        world.microsteps.append(
            MicroStep(
                event,
                tuple(tr.label for tr in transitions),
                plan.exited_ids,
                plan.entered_ids,
                None if world.top is self else self.id,
            )
        )
        self.frozen = plan.new_config
        self.changed = True

    def in_final(self, state: int) -> bool:
        t = self.t
        if t.is_compound[state]:
            return any(t.is_final[c] and c in self.config for c in t.children[state])
        if t.is_parallel[state]:
            return all(self.in_final(c) for c in t.children[state])
        return False

    def done_data(self, state: int) -> Any:
        dd = self.t.donedata[state]
        if dd is None:
            return None
        try:
            if dd.content is not None:
                return self.evaluate(dd.content)
            return {p.name: self.evaluate(p.expr) for p in dd.params}
        except _Aborted:
            return None

    def start_timers(self, state: int) -> None:
        for tr in self.t.timer_transitions[state]:
            timer = tr.ir.timer if tr.ir is not None else None
            assert timer is not None
            assert tr.timer_event is not None
            try:
                value = self.evaluate(timer.expr)
            except _Aborted:
                continue
            if timer.kind is TimerKind.AT:
                if not isinstance(value, datetime):
                    self.error("error.execution", f"at: {timer.expr.source} is not a timestamp")
                    continue
                due = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            else:
                seconds = _seconds(value)
                if seconds is None:
                    self.error("error.execution", f"after: {timer.expr.source} is not a duration")
                    continue
                due = self.world.now + timedelta(seconds=seconds)
            self.world.add_timer(
                Timer(
                    tr.timer_event,
                    due,
                    Event(tr.timer_event, type="platform"),
                    None,
                    None if self.world.top is self else self.id,
                )
            )

    def enter_initial(self) -> None:
        initial = self.t.initial[ROOT]
        assert initial is not None
        self.microstep((initial,), None)

    def stabilise(self) -> None:
        """Eventless transitions and internal events until stable; then invokes."""
        budget = MAX_MICROSTEPS
        while True:
            while True:
                if self.done:
                    break
                budget -= 1
                if budget < 0:
                    raise SimulationError(
                        f"chart {self.t.chart.name!r}: more than {MAX_MICROSTEPS} microsteps in "
                        "one macrostep (eventless transitions or raised events in a loop?); "
                        f"configuration {sorted(self.t.ids[s] for s in self.config)}"
                    )
                enabled = self.select(None)
                if not enabled:
                    if not self.internal:
                        break
                    event = self.internal.popleft()
                    self.current = event
                    self.activation = None
                    enabled = self.select(event.name)
                    if enabled:
                        self.microstep(enabled, event)
                else:
                    self.microstep(enabled, None)
            if self.done:
                break
            if self.to_invoke:
                for s in sorted(self.to_invoke):
                    for k, invoke in enumerate(self.t.invokes[s]):
                        self.invoke(s, k, invoke)
                self.to_invoke.clear()
            if not self.internal:
                break
        if self.done:
            self.internal.clear()
            self.finish()

    def finish(self) -> None:
        """The top-level final state was reached: run onexit, cancel everything."""
        t = self.t
        for s in sorted(self.config, reverse=True):
            for block in t.on_exit[s]:
                self.run_block(block)
            if t.invokes[s]:
                self.cancel_invokes(s)
        self.internal.clear()
        self.world.drop_session_timers(self.id, include_children=True)
        self.world.session_done(self)

    def process_external(self, event: Event) -> None:
        if self.done:
            return
        self.seq += 1
        self.effect_index = 0
        self.send_index = 0
        self.current = event
        self.activation = None
        self.changed = True
        if event.invokeid is not None and event.name == f"{TIMER_PREFIX}join.{event.invokeid}":
            # a fan-out's join timeout: complete it with the outputs so far
            if event.invokeid in self.fanouts:
                self.fanout_complete(event.invokeid)
            self.stabilise()
            return
        if event.invokeid is not None and self.t.has_invokes:
            finalize = self.finalize_of(event.invokeid)
            if finalize:
                self.run_block(finalize)
        for child in list(self.children.values()):
            if child.autoforward and not child.session.done:
                self.world.enqueue(child.session, event)
        if event.name.startswith("done.effect."):
            stem = event.name[len("done.effect.") :]
            for location in self.t.results.get(stem, ()):
                with contextlib.suppress(_Aborted):
                    self.assign(location, event.data)
        enabled = self.select(event.name)
        if enabled:
            self.microstep(enabled, event)
        self.stabilise()

    # -- invoke -------------------------------------------------------------

    def invoke(self, state: int, k: int, invoke: Invoke) -> None:
        t = self.t
        invokeid = invoke.id
        if invokeid is None:
            invokeid = f"{t.ids[state]}.invoke{k}"
            if invoke.idlocation is not None:
                try:
                    self.assign(invoke.idlocation, invokeid)
                except _Aborted:
                    return
        try:
            invoke_type = invoke.type
            if invoke.typeexpr is not None:
                invoke_type = _to_str(self.evaluate(invoke.typeexpr))
            if invoke_type is not None and invoke_type not in _INVOKE_TYPES:
                self.error("error.execution", f"invoke: unsupported type {invoke_type!r}")
                return
            if invoke.srcexpr is not None:
                self.evaluate(invoke.srcexpr)
                self.error("error.execution", "invoke: srcexpr cannot be resolved at run time")
                return
            if invoke.chart is None:
                self.error("error.execution", f"invoke {invokeid!r}: no child chart")
                return
            values: dict[str, Any] = {}
            for var in invoke.namelist:
                if var not in self.data and var not in t.declared:
                    self.error("error.execution", f"invoke: namelist variable {var!r} undeclared")
                    return
                values[var] = self.data.get(var)
            for param in invoke.params:
                values[param.name] = self.evaluate(param.expr)
            if invoke.foreach is not None:
                items = self.evaluate(invoke.foreach)
                if not isinstance(items, list | tuple):
                    self.error("error.execution", f"invoke: {invoke.foreach.source} is not a list")
                    return
                needed = len(items)
                join = invoke.join
                if join is not None and join.kind is JoinKind.ANY:
                    needed = min(1, len(items))
                elif join is not None and join.kind is JoinKind.COUNT and join.count is not None:
                    count = self.evaluate(join.count)
                    if not isinstance(count, int) or isinstance(count, bool):
                        self.error("error.execution", "join count is not an int")
                        return
                    needed = max(0, min(count, len(items)))
                timeout = None
                if join is not None and join.timeout is not None:
                    timeout = _seconds(self.evaluate(join.timeout))
                    if timeout is None:
                        self.error("error.execution", "join timeout is not a duration")
                        return
                self.fanouts[invokeid] = FanOut(invokeid, t.ids[state], k, len(items), needed)
                self.changed = True
                if timeout is not None:
                    name = f"{TIMER_PREFIX}join.{invokeid}"
                    self.world.add_timer(
                        Timer(
                            name,
                            self.world.now + timedelta(seconds=timeout),
                            Event(name, invokeid=invokeid, type="platform"),
                            None,
                            None if self.world.top is self else self.id,
                        )
                    )
                if needed == 0:
                    self.fanout_complete(invokeid)
                    return
                item_name = invoke.item or "item"
                for i, item in enumerate(items):
                    self.start_child(
                        invoke, invokeid, state, k, i, {**values, item_name: item}, f"/{i}"
                    )
                    fan = self.fanouts.get(invokeid)
                    if fan is None:
                        break
            else:
                self.start_child(invoke, invokeid, state, k, None, values, "")
        except _Aborted:
            return

    def start_child(
        self,
        invoke: Invoke,
        invokeid: str,
        state: int,
        k: int,
        item: int | None,
        values: dict[str, Any],
        suffix: str,
    ) -> None:
        assert invoke.chart is not None
        tables = _tables(invoke.chart)
        session_id = f"{self.id}/{invokeid}{suffix}"
        key = invokeid if item is None else f"{invokeid}/{item}"
        child = _Child(key, invokeid, self.t.ids[state], k, item, invoke.autoforward)
        self.children[key] = child
        self.changed = True
        child.session = self.world.new_session(tables, session_id, self.id, values)
        item_name = (invoke.item or "item") if item is not None else None
        initialise(child.session, values, extra=item_name)

    def finalize_of(self, invokeid: str) -> tuple[Action, ...]:
        """The <finalize> of the active invoke with this id (events from the child)."""
        t = self.t
        for s in sorted(self.config):
            for k, invoke in enumerate(t.invokes[s]):
                if invoke.finalize and (invoke.id or f"{t.ids[s]}.invoke{k}") == invokeid:
                    return invoke.finalize
        return ()

    def cancel_invokes(self, state: int) -> None:
        name = self.t.ids[state]
        for key, child in list(self.children.items()):
            if child.state == name:
                self.world.cancel_session(child.session)
                del self.children[key]
                self.changed = True
        for invokeid, fan in list(self.fanouts.items()):
            if fan.state == name:
                del self.fanouts[invokeid]
                self.world.cancel_timer(self.id, f"{TIMER_PREFIX}join.{invokeid}", internal=True)
                self.changed = True

    def child_done(self, child: _Child) -> None:
        """A child session reached its top-level final state."""
        session = child.session
        del self.children[child.key]
        self.changed = True
        if child.item is None:
            self.world.enqueue(
                self,
                Event(
                    f"done.invoke.{child.invokeid}",
                    session.donedata,
                    type="external",
                    invokeid=child.invokeid,
                ),
                origin=session.id,
            )
            return
        fan = self.fanouts.get(child.invokeid)
        if fan is None:
            return
        outputs = (*fan.outputs, (child.item, session.donedata))
        fan = FanOut(fan.invokeid, fan.state, fan.index, fan.total, fan.needed, outputs)
        self.fanouts[child.invokeid] = fan
        if len(outputs) >= fan.needed:
            self.fanout_complete(child.invokeid)

    def fanout_complete(self, invokeid: str) -> None:
        fan = self.fanouts.pop(invokeid)
        self.changed = True
        self.world.cancel_timer(self.id, f"{TIMER_PREFIX}join.{invokeid}", internal=True)
        for key, child in list(self.children.items()):
            if child.invokeid == invokeid:
                self.world.cancel_session(child.session)
                del self.children[key]
        results = dict(fan.outputs)
        outputs = [results.get(i) for i in range(fan.total)]
        data = {
            "outputs": outputs,
            "completed": sorted(results),
            "timed_out": len(results) < fan.needed,
        }
        self.world.enqueue(
            self, Event(f"done.invoke.{invokeid}", data, type="external", invokeid=invokeid)
        )

    # -- snapshot -------------------------------------------------------------

    def freeze(self) -> Snapshot:
        if not self.changed and not any(c.session.changed for c in self.children.values()):
            return self.snap
        t = self.t
        key, configuration = t.canonical(self.frozen or frozenset(self.config))
        if self.history_dirty:
            history = {
                t.ids[h]: tuple(t.ids[s] for s in v) for h, v in sorted(self.history.items())
            }
        else:
            history = self.snap.history
        # the fields of Snapshot in order, and the configuration as state numbers
        fields = {
            "chart_hash": self.snap.chart_hash if self.snap.chart_hash else t.hash,
            "instance": self.id,
            "configuration": configuration,
            "datamodel": self.data,
            "history": history,
            "timers": self.world.timers_of(self) if self.world.top is self else (),
            "seq": self.seq,
            "done": self.done,
            "children": tuple(c.freeze() for c in self.children.values()) if self.children else (),
            "fanouts": tuple(self.fanouts.values()) if self.fanouts else (),
            "initialized": tuple(sorted(self.initialized)) if self.initialized else (),
            "parent": self.parent,
            "donedata": self.donedata,
            "_config": key,
        }
        snap = _object_new(Snapshot)
        _object_setattr(snap, "__dict__", fields)
        return snap


class _Child:
    def __init__(
        self, key: str, invokeid: str, state: str, index: int, item: int | None, autoforward: bool
    ) -> None:
        self.key = key
        self.invokeid = invokeid
        self.state = state
        self.index = index
        self.item = item
        self.autoforward = autoforward
        self.session: _Session = None  # type: ignore[assignment]

    @classmethod
    def restore(cls, world: _World, parent: _Session, child: ChildSession) -> _Child:
        key = child.invokeid if child.item is None else f"{child.invokeid}/{child.item}"
        me = cls(key, child.invokeid, child.state, child.index, child.item, child.autoforward)
        invoke = parent.t.invokes[parent.t.index[child.state]][child.index]
        assert invoke.chart is not None
        me.session = world.restore_session(_tables(invoke.chart), child.snapshot)
        return me

    def freeze(self) -> ChildSession:
        return ChildSession(
            self.invokeid,
            self.state,
            self.index,
            self.item,
            self.session.freeze(),
            self.autoforward,
        )


class _World:
    """All sessions of one instance during one call, and the queue between them."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.effects: list[Effect] = []
        self.microsteps: list[MicroStep] = []
        self.errors: list[RaisedError] = []
        self.timers: list[Timer] = []
        self.timers_changed = False
        self.sessions: dict[str, _Session] = {}
        self.queue: deque[tuple[_Session, Event, str | None]] = deque()
        self.top: _Session = None  # type: ignore[assignment]

    def restore_session(self, tables: _Tables, snap: Snapshot) -> _Session:
        session = _Session(self, tables, snap)
        self.sessions[session.id] = session
        return session

    def new_session(
        self, tables: _Tables, session_id: str, parent: str | None, values: Mapping[str, Any]
    ) -> _Session:
        snap = Snapshot(tables.hash, session_id, (), {}, {}, (), 0, False, parent=parent)
        session = self.restore_session(tables, snap)
        session.changed = True
        return session

    def cancel_session(self, session: _Session) -> None:
        for child in list(session.children.values()):
            self.cancel_session(child.session)
        session.children.clear()
        self.drop_session_timers(session.id, include_children=True)
        self.sessions.pop(session.id, None)
        session.done = True
        self.queue = deque(
            (s, e, origin)
            for s, e, origin in self.queue
            if s is not session and origin != session.id
        )

    def session_done(self, session: _Session) -> None:
        if session.parent is None or session is self.top:
            return
        parent = self.sessions.get(session.parent)
        if parent is None:
            return
        for child in list(parent.children.values()):
            if child.session is session:
                self.sessions.pop(session.id, None)
                parent.child_done(child)
                return

    # -- timers ---------------------------------------------------------------

    def add_timer(self, timer: Timer) -> None:
        self.timers = [
            t for t in self.timers if not (t.id == timer.id and t.session == timer.session)
        ]
        self.timers.append(timer)
        self.timers_changed = True

    def cancel_timer(
        self, session_id: str, timer_id: str | None, *, internal: bool = False
    ) -> None:
        owner = None if session_id == self.top.id else session_id
        before = len(self.timers)
        self.timers = [t for t in self.timers if not (t.id == timer_id and t.session == owner)]
        if len(self.timers) != before:
            self.timers_changed = True

    def drop_session_timers(self, session_id: str, *, include_children: bool) -> None:
        if session_id == self.top.id:
            if self.timers:
                self.timers = []
                self.timers_changed = True
            return
        prefix = session_id + "/"
        before = len(self.timers)
        self.timers = [
            t
            for t in self.timers
            if not (
                t.session == session_id
                or (include_children and t.session is not None and t.session.startswith(prefix))
            )
        ]
        if len(self.timers) != before:
            self.timers_changed = True

    def timers_of(self, session: _Session) -> tuple[Timer, ...]:
        if not self.timers_changed:
            return session.snap.timers
        return tuple(sorted(self.timers, key=_timer_key))

    # -- routing --------------------------------------------------------------

    def valid_target(self, session: _Session, target: str) -> bool:
        if target in ("#_internal", "#_parent") or target.startswith("#_scxml_"):
            return True
        if target.startswith("#_"):
            return True
        return ":" in target or "/" in target

    def dispatch(self, session: _Session, target: str | None, event: Event) -> None:
        if target is None:
            self.enqueue(session, event)
            return
        if target == "#_internal":
            session.internal.append(event)
            return
        if target == "#_parent":
            parent = self.sessions.get(session.parent) if session.parent else None
            if parent is None or parent.done:
                self.external_send(session, target, event)
                return
            invokeid = _invokeid_of(parent, session)
            self.enqueue(
                parent,
                Event(
                    event.name,
                    event.data,
                    "external",
                    event.sendid,
                    event.origin,
                    event.origintype,
                    invokeid,
                ),
                origin=session.id,
            )
            return
        if target.startswith("#_scxml_"):
            other = self.sessions.get(target[len("#_scxml_") :])
            if other is None or other.done:
                session.error("error.communication", f"send: unreachable target {target!r}")
                return
            self.enqueue(other, event, origin=session.id)
            return
        if target.startswith("#_"):
            invokeid = target[2:]
            child = session.children.get(invokeid)
            if child is None or child.session.done:
                session.error("error.communication", f"send: no invoked session {invokeid!r}")
                return
            self.enqueue(child.session, event)
            return
        self.external_send(session, target, event)

    def external_send(self, session: _Session, target: str, event: Event) -> None:
        effect_id = f"{session.id}:{session.seq}:{session.effect_index}"
        session.effect_index += 1
        self.effects.append(
            Effect(
                effect_id,
                "send",
                {
                    "target": target,
                    "type": SCXML_PROCESSOR,
                    "event": event.name,
                    "data": event.data,
                },
            )
        )

    def enqueue(self, session: _Session, event: Event, origin: str | None = None) -> None:
        self.queue.append((session, event, origin))

    def run(self) -> None:
        budget = MAX_EVENTS
        while self.queue:
            budget -= 1
            if budget < 0:
                raise SimulationError(
                    f"more than {MAX_EVENTS} events without time passing "
                    "(sessions sending each other events in a loop?)"
                )
            session, event, _origin = self.queue.popleft()
            if session.done or self.sessions.get(session.id) is not session:
                continue
            session.process_external(event)

    def fire(self, timer: Timer) -> None:
        owner = self.top if timer.session is None else self.sessions.get(timer.session)
        if owner is None:
            return
        if timer.target is None or timer.target == "#_internal":
            self.enqueue(owner, timer.event)
        else:
            self.dispatch(owner, timer.target, timer.event)


def _invokeid_of(parent: _Session, session: _Session) -> str | None:
    for child in parent.children.values():
        if child.session is session:
            return child.invokeid
    return None


def _timer_key(timer: Timer) -> tuple[datetime, str, str]:
    return (timer.due, timer.id, timer.session or "")


def _system_variables(
    event: Event | None, now: datetime, session_id: str, chart_name: str
) -> dict[str, Any]:
    """What an expression sees besides the datamodel (it hides data of the same name)."""
    return {
        "_event": None if event is None else _event_value(event),
        "event": None if event is None else event.data,
        "now": now,
        "_sessionid": session_id,
        "_name": chart_name,
        "_ioprocessors": {
            SCXML_PROCESSOR: {"location": f"#_scxml_{session_id}"},
            "scxml": {"location": f"#_scxml_{session_id}"},
        },
    }


def trigger_activation(event: Event, now: datetime) -> dict[str, Any]:
    """What a trigger's ``filter`` and ``key`` read: the event and the time (no
    datamodel: they decide which instance, if any, the event belongs to)."""
    return {"event": event.data, "_event": _event_value(event), "now": now}


def _event_value(event: Event) -> dict[str, Any]:
    return {
        "name": event.name,
        "type": event.type,
        "sendid": event.sendid,
        "origin": event.origin,
        "origintype": event.origintype,
        "invokeid": event.invokeid,
        "data": event.data,
    }


def _to_str(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _seconds(value: Any) -> float | None:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?", text)
        if m:
            number = float(m.group(1))
            factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}[m.group(2)]
            return number * factor
    return None


def _config_ints(tables: _Tables, snap: Snapshot) -> frozenset[int]:
    cached = snap.__dict__.get("_config")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    key = tables.config_cache.get(snap.configuration)
    if key is None:
        try:
            key = frozenset(tables.index[s] for s in snap.configuration)
        except KeyError as exc:
            raise SnapshotError(f"snapshot names unknown state {exc.args[0]!r}") from None
    snap.__dict__["_config"] = key
    return key


# --------------------------------------------------------------------------- public functions


def initialise(
    session: _Session, values: Mapping[str, Any] | None, *, extra: str | None = "*"
) -> None:
    """Bind the datamodel and take the initial macrostep.

    ``values`` override declared data; undeclared names are added when ``extra``
    is ``"*"`` (a new instance's input) or equal to the name (a fan-out item) and
    ignored otherwise (SCXML: an invoke's params the child does not declare).
    """
    t = session.t
    late = t.chart.binding == "late"
    session.data = {}
    session.data_owned = True
    for name in sorted(t.declared):
        session.data[name] = None
    session.init_data(t.root_data, values)
    if not late:
        for s in range(1, t.n):
            if t.state_data[s]:
                session.init_data(t.state_data[s], values)
    if values:
        data = session.own_data()
        for name, value in values.items():
            if name not in t.declared and extra in ("*", name):
                data[name] = value
    session.enter_initial()
    session.stabilise()


def start(
    chart: Chart,
    now: datetime,
    *,
    instance: str = "instance",
    data: Mapping[str, Any] | None = None,
    event: Event | None = None,
) -> StepResult:
    """The initial macrostep of a new instance: bind data, enter the initial states."""
    tables = _tables(chart)
    world = _World(now)
    snap = Snapshot(tables.hash, instance, (), {}, {}, (), 0, False)
    session = _Session(world, tables, snap)
    session.changed = True
    world.top = session
    world.sessions[instance] = session
    world.timers_changed = True
    if event is not None:
        session.current = event
    initialise(session, data)
    world.run()
    return _result(world)


def _result(world: _World) -> StepResult:
    result = StepResult(
        world.top.freeze(), tuple(world.effects), tuple(world.microsteps), tuple(world.errors)
    )
    # break the reference cycles between the world and its sessions, so that they
    # are freed at once rather than by the garbage collector
    for session in world.sessions.values():
        session._functions = None
    world.sessions.clear()
    world.top = None  # type: ignore[assignment]
    return result


def _resume(chart: Chart, snapshot: Snapshot, now: datetime) -> _World:
    tables = _tables(chart)
    if snapshot.chart_hash != tables.hash:
        raise SnapshotError(
            f"snapshot of instance {snapshot.instance!r} was taken with another version of "
            f"chart {chart.name!r} (hash {snapshot.chart_hash[:12]} != {tables.hash[:12]})"
        )
    world = _World(now)
    world.timers = list(snapshot.timers)
    session = _Session.__new__(_Session)
    world.top = session
    session.__init__(world, tables, snapshot)  # type: ignore[misc]
    world.sessions[session.id] = session
    return world


# --------------------------------------------------------------------------- the fast path
#
# Most steps of most charts are one microstep whose only executable content is
# guards and assignments, with nothing to run on exit or entry.  The fast path
# takes such steps without building sessions.  It has no semantics of its own:
# it reuses what the general algorithm computed and cached for the
# configuration (conflict resolution, microstep plans), evaluates the same
# expressions on the same values, and gives up (returns None) whenever
# anything else could happen -- an expression error, a non-boolean guard, an
# enabled eventless transition, a cache the general path has not filled yet --
# after which the general path runs from the same snapshot (everything is
# pure, so nothing needs undoing).  tests/sim/test_fast_path.py compares both.


class _FastEntry:
    """One (configuration, event name): the candidate transitions of each atomic state.

    ``chains[i]`` lists, in the order the general ``select`` tries them, the
    transitions one active atomic state could take, up to and including the first
    unguarded one (the ones after it can never be selected).
    """

    __slots__ = (
        "always",
        "chains",
        "functions",
        "guarded",
        "outcome",
        "outcomes",
        "selected",
        "stay",
    )

    def __init__(
        self, chains: tuple[tuple[_Tr, ...], ...], functions: dict[str, Callable[..., Any]]
    ) -> None:
        self.chains = chains
        self.functions = functions  # In() for the guards
        self.guarded = any(tr.guard is not None for chain in chains for tr in chain)
        # some chain ends with an unguarded transition: something is always enabled
        self.always = any(chain[-1].guard is None for chain in chains)
        # without guards: the selection (before conflict resolution), and its outcome
        self.selected: tuple[_Tr, ...] = ()
        if not self.guarded:
            self.selected = _first_of_each(chains)
        self.outcome: _Outcome | None = None
        self.stay: _Outcome | bool | None = None  # the outcome when nothing is enabled
        # with guards: the outcome of each enabled set met so far
        self.outcomes: dict[tuple[_Tr, ...], _Outcome] = {}


class _Outcome:
    """The result of one selection in one configuration, for the fast path."""

    __slots__ = (
        "after",
        "assigns",
        "configuration",
        "functions",
        "microstep",
        "new_functions",
        "new_key",
    )

    def __init__(self) -> None:
        self.new_key: frozenset[int] = frozenset()
        self.configuration: tuple[str, ...] = ()
        # (transition labels, exited ids, entered ids); None: no microstep
        self.microstep: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = None
        self.assigns: tuple[tuple[str, _Reader], ...] = ()  # the transitions' content, in order
        self.functions: dict[str, Callable[..., Any]] | None = None  # In() during the content
        # the guarded eventless transitions of the new configuration (all must be false)
        self.after: _FastEntry | None = None
        self.new_functions: dict[str, Callable[..., Any]] | None = None


def _first_of_each(chains: Iterable[tuple[_Tr, ...]]) -> tuple[_Tr, ...]:
    selected: list[_Tr] = []
    for chain in chains:
        if chain[0] not in selected:
            selected.append(chain[0])
    return tuple(selected)


# What an expression sees besides the datamodel (it hides data of the same name).
_ACTIVATION_SYSTEM = frozenset({"_event", "event", "now", "_sessionid", "_name", "_ioprocessors"})


class _Reader:
    """A compiled expression and the names it reads: its activation holds only those.

    The activation of the general path holds the whole datamodel and every system
    variable; an expression looks up only its free variables, so both give the
    same value (a name it reads that is not defined is missing from both).
    """

    __slots__ = ("data", "program", "system")

    def __init__(self, program: Program) -> None:
        self.program = program
        reads = sorted(program.free_variables)
        self.data = tuple(name for name in reads if name not in _ACTIVATION_SYSTEM)
        self.system = tuple(name for name in reads if name in _ACTIVATION_SYSTEM)

    def evaluate(
        self,
        data: Mapping[str, Any],
        event: Event,
        now: datetime,
        snapshot: Snapshot,
        t: _Tables,
        functions: Mapping[str, Callable[..., Any]] | None,
    ) -> Any:
        activation = {}
        for name in self.data:
            if name in data:
                activation[name] = data[name]
        for name in self.system:
            if name == "event":
                activation[name] = event.data
            elif name == "now":
                activation[name] = now
            else:
                system = _system_variables(event, now, snapshot.instance, t.chart.name)
                activation[name] = system[name]
        return self.program.evaluate(activation, functions)


def _fast_transition(
    t: _Tables, tr: _Tr
) -> tuple[_Reader | None, tuple[tuple[str, _Reader], ...]] | bool:
    """(guard, assignments) of a transition the fast path can take, else False."""
    if tr.has_history:
        return False
    try:
        guard = _Reader(tr.guard.program) if tr.guard is not None else None
        assigns = []
        for action in tr.actions:
            if type(action) is not Assign:
                return False
            location = action.location
            if (
                location in _SYSTEM_VARIABLES
                or location not in t.declared
                or not _IDENT.fullmatch(location)
            ):
                return False
            assigns.append((location, _Reader(action.expr.program)))
    except ModelError:  # it does not compile: the general path reports it
        return False
    return guard, tuple(assigns)


def _fast_entry(t: _Tables, key: frozenset[int], name: str | None) -> _FastEntry | bool:
    found = t.fast.get((key, name))
    if found is not None:
        return found
    entry = _build_fast_entry(t, key, name)
    if len(t.fast) < 100_000:
        t.fast[(key, name)] = entry
    return entry


def _build_fast_entry(t: _Tables, key: frozenset[int], name: str | None) -> _FastEntry | bool:
    if name is not None and t.results and name.startswith("done.effect."):
        return False  # assigns call results before selecting transitions
    chains = []
    for s in t.atomic_states(key):
        chain: list[_Tr] = []
        for state in (s, *t.ancestors[s]):
            chain.extend(t.matching(state, name))
        for k, tr in enumerate(chain):
            if tr.fast is None:
                tr.fast = _fast_transition(t, tr)
            if tr.fast is False:
                return False
            if tr.guard is None:
                del chain[k + 1 :]
                break
        if chain:
            chains.append(tuple(chain))
    return _FastEntry(tuple(chains), t.functions(key))


def _fast_enabled(
    chains: tuple[tuple[_Tr, ...], ...],
    data: Mapping[str, Any],
    event: Event,
    now: datetime,
    snapshot: Snapshot,
    t: _Tables,
    functions: Mapping[str, Callable[..., Any]] | None,
) -> tuple[_Tr, ...] | None:
    """The enabled transitions (before conflict resolution); None: a guard is not a bool.

    Expression errors propagate (the caller falls back to the general path).
    """
    enabled: list[_Tr] = []
    for chain in chains:
        for tr in chain:
            if tr.guard is not None:
                guard = tr.fast[0]  # type: ignore[index]
                value = guard.evaluate(data, event, now, snapshot, t, functions)  # type: ignore[union-attr]
                if value is not True:
                    if value is False:
                        continue
                    return None
            if tr not in enabled:
                enabled.append(tr)
            break
    return tuple(enabled)


def _fast_outcome(
    t: _Tables, key: frozenset[int], entry: _FastEntry, enabled: tuple[_Tr, ...]
) -> _Outcome | None:
    """The outcome of an enabled set; None: the general path must take this step."""
    if not enabled:
        stay = entry.stay
        if stay is None:
            stay = entry.stay = _make_outcome(t, key, key, None, (), ())
        return None if stay is False else stay  # type: ignore[return-value]
    if len(enabled) > 1:
        selected = t.conflict_cache.get((key, enabled))
        if selected is None:
            return None
    else:
        selected = enabled
    plan = t.plan_cache.get((key, selected))
    if plan is None:
        return None
    outcome = plan.fast
    if outcome is None:
        outcome = plan.fast = _plan_outcome(t, key, selected, plan)
    return None if outcome is False else outcome  # type: ignore[return-value]


def _plan_outcome(
    t: _Tables, key: frozenset[int], selected: tuple[_Tr, ...], plan: _Plan
) -> _Outcome | bool:
    if plan.history_records or plan.history_content:
        return False
    late = t.chart.binding == "late"
    for s in plan.exit:
        if t.on_exit[s] or t.timer_transitions[s] or t.invokes[s]:
            return False
    for s in plan.entry:
        if t.on_entry[s] or t.timer_transitions[s] or t.invokes[s] or t.is_final[s]:
            return False
        if late and t.state_data[s]:
            return False
        if s in plan.default_entry:
            initial = t.initial[s]
            if initial is not None and initial.actions:
                return False
    ids = t.ids
    microstep = (
        tuple(tr.label for tr in selected),
        tuple(ids[s] for s in plan.exit),
        tuple(ids[s] for s in plan.entry),
    )
    assigns = tuple(a for tr in selected for a in tr.fast[1])  # type: ignore[index]
    return _make_outcome(t, plan.new_config, key - set(plan.exit), microstep, assigns, selected)


def _make_outcome(
    t: _Tables,
    new_key: frozenset[int],
    during: frozenset[int],
    microstep: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None,
    assigns: tuple[tuple[str, _Reader], ...],
    selected: tuple[_Tr, ...],
) -> _Outcome | bool:
    after = _fast_entry(t, new_key, None)
    if after is False or after.always:  # type: ignore[union-attr]
        return False
    assert isinstance(after, _FastEntry)
    outcome = _Outcome()
    outcome.new_key = new_key
    outcome.configuration = t.configuration(new_key)
    outcome.microstep = microstep
    outcome.assigns = assigns
    if assigns:
        outcome.functions = t.functions(during)
    if after.chains:
        outcome.after = after
        outcome.new_functions = t.functions(new_key)
    return outcome


def _fast_step(t: _Tables, snapshot: Snapshot, event: Event, now: datetime) -> StepResult | None:
    """The step without sessions, or None when the general path must take it."""
    fields = snapshot.__dict__
    key = fields.get("_config")
    if key is None:
        return None
    entry: Any = t.fast.get((key, event.name))  # _FastEntry | False (not a bool then)
    if entry is None:
        entry = _fast_entry(t, key, event.name)
    if entry is False:
        return None
    data = fields["datamodel"]
    outcome = entry.outcome
    if outcome is None:
        if entry.guarded:
            try:
                enabled = _fast_enabled(
                    entry.chains, data, event, now, snapshot, t, entry.functions
                )
            except Exception:  # the general path reports it
                return None
            if enabled is None:
                return None
            outcome = entry.outcomes.get(enabled)
            if outcome is None:
                outcome = _fast_outcome(t, key, entry, enabled)
                if outcome is None:
                    return None
                entry.outcomes[enabled] = outcome
        else:
            outcome = _fast_outcome(t, key, entry, entry.selected)
            if outcome is None:
                return None
            entry.outcome = outcome
    assigns = outcome.assigns
    after = outcome.after
    if assigns or after is not None:
        try:
            if assigns:
                data = dict(data)
                functions = outcome.functions
                for location, reader in assigns:
                    data[location] = reader.evaluate(data, event, now, snapshot, t, functions)
            if after is not None:
                functions = outcome.new_functions
                if _fast_enabled(after.chains, data, event, now, snapshot, t, functions) != ():
                    return None
        except Exception:  # the general path reports it
            return None
    # frozen dataclasses are slow to build field by field: copy the old one's fields
    # (its __dict__ holds the fields and "_config", nothing else)
    new_fields = fields.copy()
    new_fields["configuration"] = outcome.configuration
    new_fields["seq"] = fields["seq"] + 1
    new_fields["datamodel"] = data
    new_fields["_config"] = outcome.new_key
    new = _object_new(Snapshot)
    _object_setattr(new, "__dict__", new_fields)
    micro = outcome.microstep
    microsteps: tuple[MicroStep, ...] = ()
    if micro is not None:
        done = _object_new(MicroStep)
        _object_setattr(
            done,
            "__dict__",
            {
                "event": event,
                "transitions": micro[0],
                "exited": micro[1],
                "entered": micro[2],
                "session": None,
            },
        )
        microsteps = (done,)
    result = _object_new(StepResult)
    _object_setattr(result, "__dict__", {"snapshot": new, "effects": (), "microsteps": microsteps})
    return result


def step(chart: Chart, snapshot: Snapshot, event: Event, now: datetime) -> StepResult:
    """One external event: the macrostep it causes, and everything it sets off."""
    tables = chart.__dict__.get(_TABLES_ATTR)
    if tables is None:
        tables = _tables(chart)
    if (
        event.sendid is None
        and event.invokeid is None
        and not tables.has_invokes
        and not snapshot.done
        and not snapshot.children
        and snapshot.chart_hash == tables.hash
    ):
        fast = _fast_step(tables, snapshot, event, now)
        if fast is not None:
            return fast
    return _general_step(chart, snapshot, event, now)


def _general_step(chart: Chart, snapshot: Snapshot, event: Event, now: datetime) -> StepResult:
    """:func:`step` through sessions: the whole algorithm, whatever the chart does."""
    world = _resume(chart, snapshot, now)
    top = world.top
    if top.done:
        return StepResult(snapshot, (), ())
    target = top
    if event.sendid is not None and ":" in event.sendid:
        owner = world.sessions.get(event.sendid.rsplit(":", 2)[0])
        if owner is not None:
            target = owner
    world.enqueue(target, event)
    world.run()
    return _result(world)


def next_due(snapshot: Snapshot) -> datetime | None:
    """The due time of the earliest pending timer (None when there is none)."""
    return snapshot.timers[0].due if snapshot.timers else None


def fire_due(chart: Chart, snapshot: Snapshot, now: datetime) -> StepResult:
    """Deliver every timer due at or before ``now``, each at its own due time."""
    effects: list[Effect] = []
    microsteps: list[MicroStep] = []
    errors: list[RaisedError] = []
    while snapshot.timers and snapshot.timers[0].due <= now and not snapshot.done:
        timer = snapshot.timers[0]
        world = _resume(chart, snapshot, timer.due)
        world.timers = list(snapshot.timers[1:])
        world.timers_changed = True
        world.fire(timer)
        world.run()
        result = _result(world)
        effects.extend(result.effects)
        microsteps.extend(result.microsteps)
        errors.extend(result.errors)
        snapshot = result.snapshot
    return StepResult(snapshot, tuple(effects), tuple(microsteps), tuple(errors))


def active_atomic(snapshot: Snapshot, chart: Chart) -> tuple[str, ...]:
    """Sorted ids of the active atomic (and final) states."""
    tables = _tables(chart)
    return tuple(
        sorted(s for s in snapshot.configuration if tables.is_atomic[tables.index.get(s, 0)])
    )


# --------------------------------------------------------------------------- JSON


_TAG = "$autoflow"


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if type(value) is not int:
            return {_TAG: "uint", "v": int(value)}
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {_TAG: "float", "v": repr(value)}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: _encode(v) for k, v in value.items()}
        return {_TAG: "map", "v": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, datetime):
        return {_TAG: "timestamp", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "duration", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, bytes):
        return {_TAG: "bytes", "v": value.hex()}
    raise SnapshotError(f"cannot store a value of type {type(value).__name__} in a snapshot")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag is None:
            return {k: _decode(v) for k, v in value.items()}
        raw = value["v"]
        if tag == "uint":
            from autoflow.model.cel.values import UInt

            return UInt(raw)
        if tag == "float":
            return float(raw)
        if tag == "map":
            return {_decode(k): _decode(v) for k, v in raw}
        if tag == "timestamp":
            return datetime.fromisoformat(raw)
        if tag == "duration":
            return timedelta(days=raw[0], seconds=raw[1], microseconds=raw[2])
        if tag == "bytes":
            return bytes.fromhex(raw)
        raise SnapshotError(f"unknown tagged value {tag!r} in snapshot")
    return value


def _event_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"name": event.name, "type": event.type}
    if event.data is not None:
        out["data"] = _encode(event.data)
    for key in ("sendid", "origin", "origintype", "invokeid"):
        value = getattr(event, key)
        if value is not None:
            out[key] = value
    return out


def _event_from_json(data: Mapping[str, Any]) -> Event:
    return Event(
        data["name"],
        _decode(data.get("data")),
        data.get("type", "external"),
        data.get("sendid"),
        data.get("origin"),
        data.get("origintype"),
        data.get("invokeid"),
    )


_PLAIN = frozenset({str, bool, int, type(None)})  # JSON as they are (exact types: not UInt)


def _encode_data(data: Mapping[str, Any]) -> dict[str, Any]:
    plain = _PLAIN
    return {k: v if type(v) in plain else _encode(v) for k, v in data.items()}


def _timer_json(t: Timer) -> dict[str, Any]:
    out = {"id": t.id, "due": t.due.isoformat(), "event": _event_json(t.event)}
    if t.target is not None:
        out["target"] = t.target
    if t.session is not None:
        out["session"] = t.session
    return out


def _snapshot_json(snap: Snapshot, out: dict[str, Any] | None = None) -> dict[str, Any]:
    if out is None:
        out = {}
    out["chart"] = snap.chart_hash
    out["instance"] = snap.instance
    out["seq"] = snap.seq
    out["done"] = snap.done
    out["configuration"] = list(snap.configuration)
    out["datamodel"] = _encode_data(snap.datamodel) if snap.datamodel else {}
    out["history"] = {k: list(v) for k, v in snap.history.items()} if snap.history else {}
    out["timers"] = [_timer_json(t) for t in snap.timers] if snap.timers else []
    if snap.children:
        out["children"] = [
            {
                "invokeid": c.invokeid,
                "state": c.state,
                "index": c.index,
                "item": c.item,
                "autoforward": c.autoforward,
                "snapshot": _snapshot_json(c.snapshot),
            }
            for c in snap.children
        ]
    if snap.fanouts:
        out["fanouts"] = [
            {
                "invokeid": f.invokeid,
                "state": f.state,
                "index": f.index,
                "total": f.total,
                "needed": f.needed,
                "outputs": [[i, _encode(v)] for i, v in f.outputs],
            }
            for f in snap.fanouts
        ]
    if snap.initialized:
        out["initialized"] = list(snap.initialized)
    if snap.parent is not None:
        out["parent"] = snap.parent
    if snap.donedata is not None:
        out["donedata"] = _encode(snap.donedata)
    return out


def _snapshot_from_json(chart: Chart, data: Mapping[str, Any]) -> Snapshot:
    tables = _tables(chart)
    chart_hash = data["chart"]
    if chart_hash != tables.hash:
        raise SnapshotError(
            f"snapshot of instance {data.get('instance')!r} was taken with another version of "
            f"chart {chart.name!r}: content hash {str(chart_hash)[:12]}… does not match "
            f"{tables.hash[:12]}…",
        )
    configuration = tuple(data["configuration"])
    key = tables.config_cache.get(configuration)
    if key is None:
        for state_id in configuration:
            if state_id not in tables.index:
                raise SnapshotError(f"snapshot names unknown state {state_id!r}")
        key = tables.canonical(frozenset(tables.index[s] for s in configuration))[0]
    children: tuple[ChildSession, ...] = ()
    if data.get("children"):
        children = tuple(_child_from_json(tables, c) for c in data["children"])
    timers: tuple[Timer, ...] = ()
    if data["timers"]:
        timers = tuple(sorted(map(_timer_from_json, data["timers"]), key=_timer_key))
    fanouts: tuple[FanOut, ...] = ()
    if data.get("fanouts"):
        fanouts = tuple(
            FanOut(
                f["invokeid"],
                f["state"],
                f["index"],
                f["total"],
                f["needed"],
                tuple((int(i), _decode(v)) for i, v in f["outputs"]),
            )
            for f in data["fanouts"]
        )
    history = data["history"]
    datamodel = data["datamodel"]
    donedata = data.get("donedata")
    initialized = data.get("initialized")
    fields = {
        "chart_hash": chart_hash,
        "instance": data["instance"],
        "configuration": configuration,
        "datamodel": _decode_data(datamodel) if datamodel else {},
        "history": {k: tuple(v) for k, v in history.items()} if history else {},
        "timers": timers,
        "seq": int(data["seq"]),
        "done": bool(data["done"]),
        "children": children,
        "fanouts": fanouts,
        "initialized": tuple(sorted(set(initialized))) if initialized else (),
        "parent": data.get("parent"),
        "donedata": None if donedata is None else _decode(donedata),
        "_config": key,
    }
    snapshot = _object_new(Snapshot)
    _object_setattr(snapshot, "__dict__", fields)
    return snapshot


_DECODED = frozenset({str, bool, int, float, type(None)})  # JSON values as they are


def _decode_data(data: Mapping[str, Any]) -> dict[str, Any]:
    plain = _DECODED
    return {k: v if type(v) in plain else _decode(v) for k, v in data.items()}


def _timer_from_json(t: Mapping[str, Any]) -> Timer:
    return Timer(
        t["id"],
        datetime.fromisoformat(t["due"]),
        _event_from_json(t["event"]),
        t.get("target"),
        t.get("session"),
    )


def _child_from_json(tables: _Tables, c: Mapping[str, Any]) -> ChildSession:
    state = tables.index[c["state"]]
    invoke = tables.invokes[state][c["index"]]
    if invoke.chart is None:
        raise SnapshotError(f"invoke {c['invokeid']!r} has no child chart")
    return ChildSession(
        c["invokeid"],
        c["state"],
        c["index"],
        c["item"],
        _snapshot_from_json(invoke.chart, c["snapshot"]),
        c.get("autoforward", False),
    )
