"""Random statecharts for the engine's property tests, as IR and as SCXML text.

One random tree is turned into both an autoflow :class:`Chart` (built directly,
no reader involved) and an SCXML document with the ``python`` datamodel for
python-statemachine.  Expressions are kept to the common subset of CEL and
Python (``n < 2``, ``n + 1``, ``In('s3')``), so one source serves both.

Transitions of a state inside a region of a parallel state stay inside that
region, so that transitions of different regions never conflict (python-statemachine
resolves such conflicts in configuration order rather than document order; see
docs/conformance.md).  Eventless transitions are always guarded by ``n < 3``
and increment ``n``, so a macrostep cannot loop forever; some event transitions reset ``n`` to 0.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from autoflow.model.ir import (
    Assign,
    Chart,
    Data,
    Expr,
    HistoryKind,
    State,
    StateKind,
    Transition,
    TransitionKind,
)

EVENTS = ("a", "b", "c")


@dataclass
class Node:
    id: str
    kind: StateKind
    children: list[Node] = field(default_factory=list)
    transitions: list[dict[str, object]] = field(default_factory=list)
    history: HistoryKind | None = None


def random_tree(rnd: random.Random) -> list[Node]:
    counter = itertools.count(1)

    def state(depth: int, force_compound: bool = False) -> Node:
        r = rnd.random()
        node_id = f"s{next(counter)}"
        if force_compound or (depth < 2 and r < 0.35):
            node = Node(node_id, StateKind.COMPOUND)
            node.children = [state(depth + 1) for _ in range(2)]
            if rnd.random() < 0.2:
                node.children.append(Node(f"s{next(counter)}", StateKind.FINAL))
            if rnd.random() < 0.35:
                kind = rnd.choice([HistoryKind.SHALLOW, HistoryKind.DEEP])
                node.children.append(Node(f"h{next(counter)}", StateKind.HISTORY, history=kind))
            return node
        if depth < 2 and r < 0.5:
            node = Node(node_id, StateKind.PARALLEL)
            node.children = [state(depth + 1, force_compound=True) for _ in range(2)]
            return node
        return Node(node_id, StateKind.ATOMIC)

    top = [state(0) for _ in range(2)]
    everything = [n for t in top for n in _walk(t)]
    region_of = _regions(top)
    for node in everything:
        if node.kind in (StateKind.HISTORY, StateKind.FINAL):
            continue
        region = region_of.get(node.id)
        if region is node:
            continue  # a region's own external transitions would leave the parallel state
        pool = _walk(region)[1:] if region is not None else everything
        ids = [n.id for n in pool]
        state_ids = [n.id for n in everything if n.kind is not StateKind.HISTORY]
        for _ in range(rnd.choice([0, 1, 1, 2, 2, 3])):
            eventless = rnd.random() < 0.15
            events: tuple[str, ...] = () if eventless else (rnd.choice(EVENTS),)
            guard = None
            actions: list[tuple[str, str]] = []
            if eventless:
                guard = "n < 3"
                actions.append(("n", "n + 1"))
            else:
                g = rnd.random()
                if g < 0.15:
                    guard = "n < 2"
                elif g < 0.25:
                    guard = "n % 2 == 0"
                elif g < 0.32:
                    guard = f"In('{rnd.choice(state_ids)}')"
                a = rnd.random()
                if a < 0.2:
                    actions.append(("n", "n + 1"))
                elif a < 0.3:
                    actions.append(("n", "0"))
            targets: tuple[str, ...] = () if rnd.random() < 0.1 else (rnd.choice(ids),)
            internal = False
            if node.kind is StateKind.COMPOUND and rnd.random() < 0.3:
                # internal transitions target a proper descendant of their source
                internal = True
                targets = (rnd.choice([n.id for n in _walk(node)[1:]]),)
            if any(t.startswith("h") for t in targets):
                # python-statemachine runs the actions of a transition to a history
                # state twice (docs/conformance.md); keep such transitions action-free
                actions = [] if not eventless else actions
                if eventless:
                    targets = ()
                    internal = False
            node.transitions.append(
                {
                    "events": events,
                    "guard": guard,
                    "targets": targets,
                    "internal": internal,
                    "actions": actions,
                }
            )
    # history defaults: a sibling (shallow) or any descendant of the parent (deep)
    for t in top:
        for parent in _walk(t):
            for child in parent.children:
                if child.kind is StateKind.HISTORY:
                    siblings = [c for c in parent.children if c.kind is not StateKind.HISTORY]
                    if child.history is HistoryKind.DEEP:
                        pool = [
                            n
                            for s in siblings
                            for n in _walk(s)
                            if n.kind in (StateKind.ATOMIC, StateKind.FINAL)
                        ]
                    else:
                        pool = siblings
                    child.transitions = [
                        {
                            "events": (),
                            "guard": None,
                            "targets": (rnd.choice(pool).id,),
                            "internal": False,
                            "actions": [],
                        }
                    ]
    return top


def _regions(top: list[Node]) -> dict[str, Node]:
    """The innermost region (child of a parallel state) each state is in, or itself."""
    found: dict[str, Node] = {}

    def visit(node: Node, region: Node | None) -> None:
        if region is not None:
            found[node.id] = region
        for child in node.children:
            visit(child, child if node.kind is StateKind.PARALLEL else region)

    for t in top:
        visit(t, None)
    return found


def _walk(node: Node) -> list[Node]:
    out = [node]
    for c in node.children:
        out.extend(_walk(c))
    return out


def _first(node: Node) -> str:
    return next(c.id for c in node.children if c.kind is not StateKind.HISTORY)


def to_chart(top: list[Node]) -> Chart:
    def transition(spec: dict[str, object]) -> Transition:
        return Transition(
            events=spec["events"],  # type: ignore[arg-type]
            guard=Expr(spec["guard"]) if spec["guard"] else None,  # type: ignore[arg-type]
            targets=spec["targets"],  # type: ignore[arg-type]
            kind=TransitionKind.INTERNAL if spec["internal"] else TransitionKind.EXTERNAL,
            actions=tuple(Assign(loc, Expr(e)) for loc, e in spec["actions"]),  # type: ignore[attr-defined]
        )

    def state(node: Node) -> State:
        initial = None
        if node.kind is StateKind.COMPOUND:
            initial = Transition(targets=(_first(node),))
        return State(
            node.id,
            node.kind,
            children=tuple(state(c) for c in node.children),
            initial=initial,
            transitions=tuple(transition(t) for t in node.transitions),
            history=node.history,
        )

    return Chart(
        "random",
        tuple(state(t) for t in top),
        Transition(targets=(top[0].id,)),
        datamodel=(Data("n", Expr("0")),),
    )


def to_scxml(top: list[Node], datamodel: str = "python") -> str:
    lines = [
        '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" '
        f'datamodel="{datamodel}" initial="{top[0].id}">',
        '<datamodel><data id="n" expr="0"/></datamodel>',
    ]

    def transition(spec: dict[str, object]) -> str:
        attrs = []
        if spec["events"]:
            attrs.append(f'event="{" ".join(spec["events"])}"')  # type: ignore[arg-type]
        if spec["guard"]:
            attrs.append(f"cond={quoteattr(str(spec['guard']))}")
        if spec["targets"]:
            attrs.append(f'target="{" ".join(spec["targets"])}"')  # type: ignore[arg-type]
        if spec["internal"]:
            attrs.append('type="internal"')
        body = "".join(
            f'<assign location="{loc}" expr={quoteattr(e)}/>'
            for loc, e in spec["actions"]  # type: ignore[attr-defined]
        )
        return f"<transition {' '.join(attrs)}>{body}</transition>"

    def state(node: Node) -> None:
        if node.kind is StateKind.HISTORY:
            assert node.history is not None
            lines.append(f'<history id="{node.id}" type="{node.history.value}">')
            lines.extend(transition(t) for t in node.transitions)
            lines.append("</history>")
            return
        tag = {StateKind.PARALLEL: "parallel", StateKind.FINAL: "final"}.get(node.kind, "state")
        initial = f' initial="{_first(node)}"' if node.kind is StateKind.COMPOUND else ""
        lines.append(f'<{tag} id="{node.id}"{initial}>')
        lines.extend(transition(t) for t in node.transitions)
        for c in node.children:
            state(c)
        lines.append(f"</{tag}>")

    for t in top:
        state(t)
    lines.append("</scxml>")
    return "\n".join(lines)
