"""The diagram graph: one picture-neutral view of a model that every renderer draws.

A :class:`DiagramGraph` says *what* to draw (states and their nesting, parallel
regions, initial and final markers, history, labelled transitions, Petri-net
places and transitions) and *how it is marked* by overlays (active states, a
numbered path, uncovered transitions, diff colours).  Renderers
(:mod:`autoflow.render.mermaid`, :mod:`autoflow.render.dot`) only decide the
syntax.

Transition identifiers
    Every transition of a statechart has a stable id ``SOURCE#INDEX``: the id of
    the state it is written in and its 0-based position among that state's
    transitions in document order (``review#0`` is the first transition of
    ``review``).  Coverage files and traces name transitions this way.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from autoflow.model.durations import format_duration, parse_duration
from autoflow.model.ir import (
    Call,
    Chart,
    Join,
    JoinKind,
    Raise,
    Send,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
    TransitionKind,
    walk_actions,
)

#: Longest guard or expression text shown in a label before it is cut with "…".
MAX_EXPRESSION = 40
#: Most effects named in one label; the rest are counted ("+2").
MAX_EFFECTS = 3


class NodeKind(enum.Enum):
    ATOMIC = "atomic"
    COMPOUND = "compound"
    PARALLEL = "parallel"
    FINAL = "final"
    HISTORY_SHALLOW = "history"
    HISTORY_DEEP = "deep-history"
    PLACE = "place"  # a Petri-net place
    NET_TRANSITION = "net-transition"  # a Petri-net transition


class Change(enum.Enum):
    """How a node or edge differs from the other version (``--diff``)."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class DiagramNode:
    """A state (or a Petri-net place or transition).

    ``details`` are short lines drawn inside the state: entry/exit effects,
    invocations and targetless transitions.  ``initial`` are the targets of the
    compound's initial transition.  ``region`` is true for the children of a
    parallel state, ``in_parallel`` for every state below one.
    """

    id: str
    kind: NodeKind
    label: str
    children: tuple[DiagramNode, ...] = ()
    initial: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    region: bool = False
    in_parallel: bool = False
    tokens: int = 0
    # overlays
    active: bool = False
    uncovered: bool = False
    change: Change | None = None

    @property
    def is_container(self) -> bool:
        return bool(self.children)


@dataclass(frozen=True)
class DiagramEdge:
    """One arrow: a transition to one of its targets (or a Petri-net arc).

    ``id`` is the transition's stable id (``SOURCE#INDEX``); a transition with
    several targets gives several edges with the same id.
    """

    id: str
    source: str
    target: str
    event: str = ""
    guard: str = ""
    effects: tuple[str, ...] = ()
    internal: bool = False
    weight: int = 1  # Petri-net arc weight
    # overlays
    steps: tuple[int, ...] = ()  # positions in a trace (1-based)
    uncovered: bool = False
    change: Change | None = None

    @property
    def label(self) -> str:
        """``event [guard] / effects``, each part only when present."""
        parts = []
        if self.event:
            parts.append(self.event)
        if self.guard:
            parts.append(f"[{self.guard}]")
        if self.effects:
            parts.append("/ " + ", ".join(self.effects))
        return " ".join(parts)


@dataclass(frozen=True)
class DiagramGraph:
    """A whole diagram: top-level nodes (nested inside), every edge, the initial targets."""

    name: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    initial: tuple[str, ...] = ()
    kind: str = "statechart"  # or "petri-net"
    description: str | None = None

    def walk(self) -> list[DiagramNode]:
        """Every node, in document order (pre-order)."""
        result: list[DiagramNode] = []
        stack = list(reversed(self.nodes))
        while stack:
            node = stack.pop()
            result.append(node)
            stack.extend(reversed(node.children))
        return result

    def node_index(self) -> dict[str, DiagramNode]:
        return {node.id: node for node in self.walk()}

    def parents(self) -> dict[str, str | None]:
        """The parent id of every node (None at the top level)."""
        result: dict[str, str | None] = {}

        def visit(node: DiagramNode, parent: str | None) -> None:
            result[node.id] = parent
            for child in node.children:
                visit(child, node.id)

        for top in self.nodes:
            visit(top, None)
        return result

    def map_nodes(self, change: Any) -> DiagramGraph:
        """A copy with ``change(node) -> node`` applied to every node (children first)."""

        def visit(node: DiagramNode) -> DiagramNode:
            children = tuple(visit(child) for child in node.children)
            updated: DiagramNode = change(replace(node, children=children))
            return updated

        return replace(self, nodes=tuple(visit(node) for node in self.nodes))


# --------------------------------------------------------------------------- labels


def shorten(text: str, limit: int = MAX_EXPRESSION) -> str:
    """One line of at most ``limit`` characters ("…" marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


_DURATION_LITERAL = re.compile(r'^\s*duration\(\s*["\']([^"\']+)["\']\s*\)\s*$')
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


def constant_seconds(source: str) -> float | None:
    """Seconds of a constant duration expression, or None when it depends on data.

    Recognises what readers write for literal durations (``duration("172800s")``,
    a number of seconds); other constant expressions are evaluated with CEL when
    they read no variables.
    """
    match = _DURATION_LITERAL.match(source)
    if match:
        try:
            return parse_duration(match.group(1))
        except ValueError:
            return None
    if _NUMBER.match(source):
        return float(source)
    return _evaluate_constant(source)


def _evaluate_constant(source: str) -> float | None:
    from autoflow.errors import AutoflowError
    from autoflow.model.cel import compile_expression
    from autoflow.model.span import NO_SPAN

    try:
        program = compile_expression(source, NO_SPAN)
    except AutoflowError:
        return None
    if not program.is_constant:
        return None
    value = program.constant_value
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def ancestors(parents: Mapping[str, str | None], node_id: str) -> list[str]:
    """Proper ancestors of ``node_id``, innermost first.

    ``parents`` is :meth:`DiagramGraph.parents`.
    """
    result = []
    current = parents.get(node_id)
    while current is not None:
        result.append(current)
        current = parents.get(current)
    return result


def timer_label(timer: Timer) -> str:
    """``after 2d`` for constant durations, ``after <expr>`` or ``at <expr>`` otherwise."""
    if timer.kind is TimerKind.AFTER:
        seconds = constant_seconds(timer.expr.source)
        text = format_duration(seconds) if seconds is not None else shorten(timer.expr.source)
        return f"after {text}"
    return f"at {shorten(timer.expr.source)}"


def _join_label(join: Join) -> str:
    """``join all``, ``join 3 of them``, with ``or after 7d`` when it has a timeout."""
    if join.kind is JoinKind.COUNT and join.count is not None:
        text = f"join {shorten(join.count.source)} of them"
    else:
        text = f"join {join.kind.value}"
    if join.timeout is not None:
        seconds = constant_seconds(join.timeout.source)
        when = format_duration(seconds) if seconds is not None else shorten(join.timeout.source)
        text += f" or after {when}"
    return text


def effect_names(actions: tuple[Any, ...]) -> tuple[str, ...]:
    """Short names of what actions make happen: effect calls, raised and sent events."""
    names: list[str] = []
    for action in walk_actions(actions):
        if isinstance(action, Call):
            name = action.effect
        elif isinstance(action, Raise):
            name = f"raise {action.event}"
        elif isinstance(action, Send):
            name = f"send {action.event or 'event'}"
        else:
            continue
        if name not in names:
            names.append(name)
    if len(names) > MAX_EFFECTS:
        hidden = len(names) - MAX_EFFECTS
        names = [*names[:MAX_EFFECTS], f"+{hidden}"]
    return tuple(names)


def event_label(transition: Transition) -> str:
    if transition.timer is not None:
        return timer_label(transition.timer)
    return " ".join(transition.events)


def transition_id(source: str, index: int) -> str:
    """The stable id of the ``index``-th transition (0-based) written in ``source``."""
    return f"{source}#{index}"


# --------------------------------------------------------------------------- build


def build_graph(model: Any) -> DiagramGraph:
    """The diagram of a statechart :class:`Chart` or of a Petri net."""
    if isinstance(model, Chart):
        return chart_graph(model)
    from autoflow.model.net import Net
    from autoflow.render.net import net_graph

    if isinstance(model, Net):
        return net_graph(model)
    raise TypeError(f"cannot draw a {type(model).__name__}")


def chart_graph(chart: Chart) -> DiagramGraph:
    """The diagram of a statechart."""
    edges: list[DiagramEdge] = []

    def node(state: State, *, region: bool, in_parallel: bool) -> DiagramNode:
        kind = _node_kind(state)
        details: list[str] = []
        for actions in state.on_entry:
            details.extend(f"entry / {name}" for name in effect_names(actions))
        for actions in state.on_exit:
            details.extend(f"exit / {name}" for name in effect_names(actions))
        for invoke in state.invokes:
            what = invoke.id or invoke.src or (invoke.chart.name if invoke.chart else "child")
            if invoke.foreach is not None:
                details.append(
                    f"foreach {invoke.item or 'item'} in {shorten(invoke.foreach.source)}"
                )
                if invoke.join is not None:
                    details.append(_join_label(invoke.join))
            else:
                details.append(f"invoke {what}")
        for index, transition in enumerate(state.transitions):
            edge = _edge(state.id, index, transition)
            if not transition.targets:
                details.append(edge.label or "(targetless)")
                continue
            for target in transition.targets:
                edges.append(replace(edge, target=target))
        child_in_parallel = in_parallel or state.kind is StateKind.PARALLEL
        children = tuple(
            node(
                child,
                region=state.kind is StateKind.PARALLEL,
                in_parallel=child_in_parallel,
            )
            for child in state.children
        )
        initial = state.initial.targets if state.initial is not None else ()
        return DiagramNode(
            id=state.id,
            kind=kind,
            label=state.id,
            children=children,
            initial=initial if kind is NodeKind.COMPOUND else (),
            details=tuple(details),
            region=region,
            in_parallel=in_parallel,
        )

    nodes = tuple(node(state, region=False, in_parallel=False) for state in chart.states)
    return DiagramGraph(
        name=chart.name,
        nodes=nodes,
        edges=tuple(edges),
        initial=chart.initial.targets,
        description=chart.description,
    )


def _node_kind(state: State) -> NodeKind:
    if state.kind is StateKind.HISTORY:
        return (
            NodeKind.HISTORY_DEEP
            if state.history is not None and state.history.value == "deep"
            else NodeKind.HISTORY_SHALLOW
        )
    if state.kind is StateKind.COMPOUND and not state.children:
        return NodeKind.ATOMIC
    if state.kind is StateKind.ATOMIC and state.children:
        return NodeKind.COMPOUND
    return NodeKind(state.kind.value)


def _edge(source: str, index: int, transition: Transition) -> DiagramEdge:
    return DiagramEdge(
        id=transition_id(source, index),
        source=source,
        target=source,
        event=event_label(transition),
        guard=shorten(transition.guard.source) if transition.guard is not None else "",
        effects=effect_names(transition.actions),
        internal=transition.kind is TransitionKind.INTERNAL,
    )
