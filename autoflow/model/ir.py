"""The statechart IR: one format-neutral model that every reader produces.

Frozen dataclasses with tuples, no mutation after load.  Every node carries a
:class:`Span` pointing into the user's file; spans are excluded from equality
(``compare=False``), so two charts read from different formats compare equal
when they mean the same thing ("format parity").

Conventions shared by readers, engine, checker and renderer:

* A :class:`Chart` is the SCXML ``<scxml>`` element: its ``states`` are the
  top-level states and ``initial`` its initial transition (always filled in by
  the readers, defaulting to the first child in document order).
* A compound state's ``initial`` is likewise always filled in.  Atomic,
  parallel, final and history states have ``initial=None``.
* A history state keeps its default transition as its single entry in
  ``transitions``.
* Expressions are CEL source text (:class:`Expr`), compiled at load time.
  Literal values from YAML are turned into CEL literal text by the reader.
* Durations (``after``) are CEL expressions that evaluate to a CEL duration
  (``duration("172800s")``) or a number of seconds; deadlines (``at``)
  evaluate to a timestamp.
* Event names of effects' results: ``done.effect.<id>`` and
  ``error.effect.<id>``; of timers made by ``after``/``at``: see the engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias

from autoflow.model.span import NO_SPAN, Span

if TYPE_CHECKING:
    from autoflow.model.cel import Program


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=False)
class Expr:
    """A CEL expression as written (or generated from a literal by a reader)."""

    source: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @cached_property
    def program(self) -> Program:
        """The compiled expression; raises :class:`~autoflow.errors.ExpressionError`."""
        from autoflow.model.cel import compile_expression

        return compile_expression(self.source, self.span)

    @property
    def free_variables(self) -> frozenset[str]:
        """Root identifiers the expression reads (``a.b.c`` reads ``a``)."""
        return self.program.free_variables


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Param:
    """A named value: ``<param name expr>``, a ``with:`` argument of a call."""

    name: str
    expr: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Assign:
    """``location = expr``; ``location`` is a data id or a dotted path into one."""

    location: str
    expr: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Raise:
    """Put ``event`` on the internal queue."""

    event: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Send:
    """SCXML ``<send>``: an event to an external/internal target, possibly delayed.

    Exactly one of ``event``/``eventexpr`` (unless ``content`` is given), at most one
    of ``target``/``targetexpr``, ``id``/``idlocation``, ``delay``/``delayexpr``
    (``delay`` here is already an :class:`Expr`; a literal ``"2s"`` becomes
    ``duration("2s")``).
    """

    event: str | None = None
    eventexpr: Expr | None = None
    target: str | None = None
    targetexpr: Expr | None = None
    type: str | None = None
    typeexpr: Expr | None = None
    id: str | None = None
    idlocation: str | None = None
    delay: Expr | None = None
    namelist: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    content: Expr | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Cancel:
    """Cancel a delayed send by id."""

    sendid: str | None = None
    sendidexpr: Expr | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Log:
    label: str | None = None
    expr: Expr | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Branch:
    """One arm of an :class:`If`; ``cond`` is None for ``else``."""

    cond: Expr | None
    actions: tuple[Action, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class If:
    branches: tuple[Branch, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Foreach:
    """Run ``actions`` once per item of ``array`` (SCXML ``<foreach>``)."""

    array: Expr
    item: str
    index: str | None
    actions: tuple[Action, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Call:
    """Ask the outside world to do something: an *effect*.

    ``effect`` names the operation: ``gitlab.<resource>.<verb>`` (for example
    ``gitlab.issues.create``), ``http.request``, ``notify``, ``task.create`` (a
    human task; its form is the ``form`` argument).  The engine emits an effect
    record; its result comes back as ``done.effect.<id>`` or ``error.effect.<id>``
    where ``<id>`` is ``id`` when given, else the effect name.  ``result`` names a
    data location the engine assigns the result's data to on ``done.effect``.
    """

    effect: str
    args: tuple[Param, ...] = ()
    id: str | None = None
    result: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Action: TypeAlias = Assign | Raise | Send | Cancel | Log | If | Foreach | Call


# --------------------------------------------------------------------------- data, triggers


@dataclass(frozen=True)
class Data:
    """A datamodel variable.

    ``type``/``enum``/``minimum``/``maximum`` are optional declarations that let
    the checker explore finite domains exactly; the engine ignores them.
    """

    id: str
    expr: Expr | None = None
    src: str | None = None
    type: str | None = None
    enum: tuple[Any, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class DoneData:
    """``<donedata>`` of a final state: either ``content`` or ``params``."""

    content: Expr | None = None
    params: tuple[Param, ...] = ()
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Trigger:
    """Which events reach instances of a workflow.

    ``start``: a matching event (passing ``filter``) with no running instance of
    the same ``key`` starts a new instance.  Otherwise the event goes to the
    running instance whose key (computed from its start event) equals ``key``
    evaluated on this event.  Without ``key`` every running instance gets it.
    """

    events: tuple[str, ...]
    filter: Expr | None = None
    key: Expr | None = None
    start: bool = False
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# --------------------------------------------------------------------------- timers, invokes


class TimerKind(enum.Enum):
    AFTER = "after"  # a duration after the source state is entered
    AT = "at"  # an absolute timestamp, evaluated when the source state is entered


@dataclass(frozen=True)
class Timer:
    kind: TimerKind
    expr: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


class JoinKind(enum.Enum):
    ALL = "all"
    ANY = "any"
    COUNT = "count"


@dataclass(frozen=True)
class Join:
    """When a fan-out is complete: all children, any one, or ``count`` of them,
    or when ``timeout`` has elapsed, whichever first."""

    kind: JoinKind = JoinKind.ALL
    count: Expr | None = None
    timeout: Expr | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Invoke:
    """A child statechart run while the invoking state is active.

    ``chart`` is the inline child (or the one ``src`` resolved to at load time);
    with ``foreach`` the state spawns one child per item of the list (bound to
    ``item`` inside the child) and ``join`` says when the fan-out is done; its
    ``done.invoke.<id>`` carries the children's donedata as a list.
    """

    id: str | None = None
    idlocation: str | None = None
    type: str | None = None
    typeexpr: Expr | None = None
    src: str | None = None
    srcexpr: Expr | None = None
    chart: Chart | None = None
    params: tuple[Param, ...] = ()
    namelist: tuple[str, ...] = ()
    autoforward: bool = False
    finalize: tuple[Action, ...] = ()
    foreach: Expr | None = None
    item: str | None = None
    join: Join | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# --------------------------------------------------------------------------- states


class StateKind(enum.Enum):
    ATOMIC = "atomic"
    COMPOUND = "compound"
    PARALLEL = "parallel"
    FINAL = "final"
    HISTORY = "history"


class HistoryKind(enum.Enum):
    SHALLOW = "shallow"
    DEEP = "deep"


class TransitionKind(enum.Enum):
    EXTERNAL = "external"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Transition:
    """A transition in document order within its source state.

    ``events`` empty and ``timer`` None: eventless (``always:``).  ``timer`` set:
    fired by the timer the engine starts when the source state is entered.
    ``targets`` empty: targetless (actions only, no state change).
    """

    events: tuple[str, ...] = ()
    guard: Expr | None = None
    targets: tuple[str, ...] = ()
    kind: TransitionKind = TransitionKind.EXTERNAL
    actions: tuple[Action, ...] = ()
    timer: Timer | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class State:
    """Any state; ``kind`` says which, the other fields apply as noted."""

    id: str
    kind: StateKind
    children: tuple[State, ...] = ()
    initial: Transition | None = None
    transitions: tuple[Transition, ...] = ()
    on_entry: tuple[tuple[Action, ...], ...] = ()
    on_exit: tuple[tuple[Action, ...], ...] = ()
    datamodel: tuple[Data, ...] = ()
    invokes: tuple[Invoke, ...] = ()
    history: HistoryKind | None = None
    donedata: DoneData | None = None
    description: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Chart:
    """A whole statechart (an SCXML document or one YAML workflow)."""

    name: str
    states: tuple[State, ...]
    initial: Transition
    datamodel: tuple[Data, ...] = ()
    datamodel_kind: str = "cel"  # "cel" or "null"
    binding: str = "early"  # "early" or "late"
    triggers: tuple[Trigger, ...] = ()
    description: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @cached_property
    def index(self) -> ChartIndex:
        """Lookups by id, parents and document order (computed once)."""
        return ChartIndex.build(self)


# --------------------------------------------------------------------------- index


@dataclass
class ChartIndex:
    """Derived lookups over a chart; not part of the IR's value."""

    states: dict[str, State]
    parent: dict[str, str | None]
    order: dict[str, int]  # document order of each state

    @classmethod
    def build(cls, chart: Chart) -> ChartIndex:
        states: dict[str, State] = {}
        parent: dict[str, str | None] = {}
        order: dict[str, int] = {}

        def visit(state: State, parent_id: str | None) -> None:
            states[state.id] = state
            parent[state.id] = parent_id
            order[state.id] = len(order)
            for child in state.children:
                visit(child, state.id)

        for top in chart.states:
            visit(top, None)
        return cls(states, parent, order)

    def ancestors(self, state_id: str) -> list[str]:
        """Proper ancestors, innermost first."""
        result = []
        current = self.parent[state_id]
        while current is not None:
            result.append(current)
            current = self.parent[current]
        return result


def walk_states(states: tuple[State, ...]) -> list[State]:
    """All states in document order (pre-order)."""
    result: list[State] = []
    stack = list(reversed(states))
    while stack:
        state = stack.pop()
        result.append(state)
        stack.extend(reversed(state.children))
    return result


def walk_actions(actions: tuple[Action, ...]) -> list[Action]:
    """Every action, nested ones (if-branches, foreach bodies) included, in order."""
    result: list[Action] = []
    for action in actions:
        result.append(action)
        if isinstance(action, If):
            for branch in action.branches:
                result.extend(walk_actions(branch.actions))
        elif isinstance(action, Foreach):
            result.extend(walk_actions(action.actions))
    return result
