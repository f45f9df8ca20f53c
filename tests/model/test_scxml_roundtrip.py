"""Property: every chart survives SCXML export and import unchanged.

``read_scxml_text(write_scxml(chart)) == chart`` for random IR charts: nesting,
parallel regions, history, transitions with events, guards, targets, timers and
every kind of action, data declarations, triggers, invokes with inline children
and fan-out joins.  Equality ignores spans.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoflow.model.io.scxml import read_scxml_text, write_scxml
from autoflow.model.ir import (
    Action,
    Assign,
    Branch,
    Call,
    Cancel,
    Chart,
    Data,
    DoneData,
    Expr,
    Foreach,
    HistoryKind,
    If,
    Invoke,
    Join,
    JoinKind,
    Log,
    Param,
    Raise,
    Send,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
    TransitionKind,
    Trigger,
)

# Valid CEL whose text exercises XML escaping: < > & quotes, newlines and tabs.
EXPRESSIONS = [
    "x",
    "x + 1",
    "x < 2 && y > 3",
    "a.b['c'] == \"d\"",
    "'it\\'s' + \"q\"",
    "items.exists(i, i > 0) ||\n\ttrue",
    '{"k": [1, 2.5, null, true]}',
    'duration("2s")',
    "size(event.object_attributes.labels) >= 1",
    'In("s0")',
    "'tab\\tand\\nnewline'",
]
exprs = st.sampled_from(EXPRESSIONS).map(Expr)
names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
locations = st.from_regex(r"[a-z_][a-z0-9_]{0,4}(\.[a-z_][a-z0-9_]{0,4}){0,2}", fullmatch=True)
events = st.sampled_from(["go", "a.b", "gitlab.issue.*", "*", "done.state.s1", "x.", "error"])
# Free text for labels and descriptions: anything XML 1.0 can carry.
texts = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufffe\uffff",
    )
    | st.sampled_from("\n\t\r<>&\"'"),
    max_size=20,
)
params = st.lists(st.builds(Param, names, exprs), max_size=2).map(tuple)


@functools.cache
def actions(depth: int = 2) -> st.SearchStrategy[tuple[Action, ...]]:
    leaf: list[st.SearchStrategy[Any]] = [
        st.builds(Assign, locations, exprs),
        st.builds(Raise, events),
        sends(),
        st.builds(Cancel, sendid=names) | st.builds(Cancel, sendidexpr=exprs),
        st.builds(Log, st.none() | texts, st.none() | exprs),
        st.builds(
            Call,
            st.sampled_from(["gitlab.issues.create", "notify", "http.request"]),
            params,
            st.none() | names,
            st.none() | locations,
        ),
    ]
    if depth > 0:
        inner = actions(depth - 1)
        branches = st.tuples(
            st.builds(Branch, exprs, inner),
            st.lists(st.builds(Branch, exprs, inner), max_size=2),
            st.none() | st.builds(Branch, st.none(), inner),
        ).map(lambda parts: (parts[0], *parts[1], *([parts[2]] if parts[2] else [])))
        leaf.append(st.builds(If, branches))
        leaf.append(st.builds(Foreach, exprs, names, st.none() | names, inner))
    return st.lists(st.one_of(leaf), max_size=2).map(tuple)


@st.composite
def sends(draw: st.DrawFn) -> Send:
    content = draw(st.none() | exprs)
    event_choice = draw(st.sampled_from(["event", "eventexpr"] + (["none"] if content else [])))
    delay = draw(st.sampled_from([None, 'duration("2s")', 'duration("0.5s")', "x"]))
    return Send(
        event=draw(events) if event_choice == "event" else None,
        eventexpr=draw(exprs) if event_choice == "eventexpr" else None,
        target=draw(st.sampled_from([None, "#_internal", "#_parent", "#_scxml_s1", "#_child"])),
        type=draw(st.none() | st.just("http://www.w3.org/TR/scxml/#SCXMLEventProcessor")),
        id=draw(st.none() | names),
        delay=None if delay is None else Expr(delay),
        namelist=() if content else draw(st.lists(names, max_size=2).map(tuple)),
        params=() if content else draw(params),
        content=content,
    )


datas = st.lists(
    st.builds(
        Data,
        names,
        st.none() | exprs,
        st.none(),
        st.none() | st.sampled_from(["int", "bool", "string"]),
        st.none()
        | st.lists(st.none() | st.booleans() | st.integers(-5, 5) | names, max_size=3).map(tuple),
        st.none() | st.integers(-3, 0),
        st.none() | st.integers(1, 9),
    ),
    max_size=2,
).map(tuple)


@st.composite
def transitions(draw: st.DrawFn, ids: list[str]) -> Transition:
    timer = draw(st.none() | st.builds(Timer, st.sampled_from(TimerKind), exprs))
    return Transition(
        events=() if timer else draw(st.lists(events, max_size=2).map(tuple)),
        guard=draw(st.none() | exprs),
        targets=draw(st.lists(st.sampled_from(ids), max_size=2).map(tuple)),
        kind=draw(st.sampled_from(TransitionKind)),
        actions=draw(actions(1)),
        timer=timer,
    )


@st.composite
def charts(draw: st.DrawFn, invoke_depth: int = 1, depth: int = 2) -> Chart:
    counter = itertools.count()

    # 1. the shape: (kind, children) trees with fresh ids
    def shape(depth: int, in_parallel: bool = False) -> dict[str, Any]:
        # SCXML has no <final> directly inside a <parallel>
        kinds = ["atomic"] + ([] if in_parallel else ["final"])
        kinds += ["compound", "parallel"] if depth > 0 else []
        kind = draw(st.sampled_from(kinds))
        node: dict[str, Any] = {
            "id": f"{draw(st.sampled_from(['s', 'a.b', 'x-y', '_q']))}{next(counter)}",
            "kind": kind,
            "children": [],
        }
        if kind in ("compound", "parallel"):
            node["children"] = [
                shape(depth - 1, kind == "parallel") for _ in range(draw(st.integers(1, 2)))
            ]
            if kind == "compound" and draw(st.booleans()):
                node["children"].append(
                    {"id": f"h{next(counter)}", "kind": "history", "children": []}
                )
        return node

    tops = [shape(depth) for _ in range(draw(st.integers(1, 2)))]

    def all_ids(nodes: list[dict[str, Any]]) -> list[str]:
        return [i for n in nodes for i in [n["id"], *all_ids(n["children"])]]

    ids = all_ids(tops)

    # 2. fill in behaviour
    def build(node: dict[str, Any]) -> State:
        children = tuple(build(child) for child in node["children"])
        kind = node["kind"]
        common: dict[str, Any] = {
            "description": draw(st.none() | texts),
        }
        if kind == "history":
            return State(
                node["id"],
                StateKind.HISTORY,
                transitions=draw(
                    st.lists(
                        st.builds(Transition, targets=st.sampled_from(ids).map(lambda t: (t,))),
                        max_size=1,
                    ).map(tuple)
                ),
                history=draw(st.sampled_from(HistoryKind)),
                **common,
            )
        entry_exit = {
            "on_entry": draw(st.lists(actions(1), max_size=2).map(tuple)),
            "on_exit": draw(st.lists(actions(1), max_size=1).map(tuple)),
        }
        if kind == "final":
            donedata = draw(
                st.none() | st.builds(DoneData, content=exprs) | st.builds(DoneData, params=params)
            )
            return State(node["id"], StateKind.FINAL, donedata=donedata, **entry_exit, **common)
        rest: dict[str, Any] = {
            "transitions": draw(st.lists(transitions(ids), max_size=2).map(tuple)),
            "datamodel": draw(datas),
            "invokes": draw(st.lists(invokes(invoke_depth), max_size=1).map(tuple))
            if invoke_depth > 0
            else (),
        }
        if kind == "atomic":
            return State(node["id"], StateKind.ATOMIC, **entry_exit, **rest, **common)
        if kind == "parallel":
            return State(
                node["id"], StateKind.PARALLEL, children=children, **entry_exit, **rest, **common
            )
        proper = [c for c in children if c.kind is not StateKind.HISTORY]
        descendants = all_ids([c for c in node["children"] if c["kind"] != "history"])
        initial = Transition(
            targets=(draw(st.sampled_from(descendants)) if draw(st.booleans()) else proper[0].id,),
            actions=draw(actions(0)),
        )
        return State(
            node["id"],
            StateKind.COMPOUND,
            children=children,
            initial=initial,
            **entry_exit,
            **rest,
            **common,
        )

    states = tuple(build(top) for top in tops)
    return Chart(
        name=draw(texts),
        states=states,
        initial=Transition(targets=(draw(st.sampled_from(ids)),)),
        datamodel=draw(datas),
        datamodel_kind=draw(st.sampled_from(["cel", "null"])),
        binding=draw(st.sampled_from(["early", "late"])),
        triggers=draw(
            st.lists(
                st.builds(
                    Trigger,
                    st.lists(events, min_size=1, max_size=2).map(tuple),
                    st.none() | exprs,
                    st.none() | exprs,
                    st.booleans(),
                ),
                max_size=2,
            ).map(tuple)
        ),
        description=draw(st.none() | texts),
    )


@st.composite
def invokes(draw: st.DrawFn, depth: int) -> Invoke:
    fanout = draw(st.booleans())
    join_kind = draw(st.sampled_from(JoinKind))
    join = Join(
        join_kind,
        Expr("2") if join_kind is JoinKind.COUNT else None,
        draw(st.none() | exprs),
    )
    with_id = draw(st.booleans())
    return Invoke(
        id=draw(names) if with_id else None,
        idlocation=None if with_id else draw(st.none() | locations),
        type=draw(st.none() | st.just("scxml")),
        chart=draw(charts(invoke_depth=depth - 1, depth=1)),
        params=draw(params),
        namelist=draw(st.lists(names, max_size=2).map(tuple)),
        autoforward=draw(st.booleans()),
        finalize=draw(actions(0)),
        foreach=draw(exprs) if fanout else None,
        item=draw(names) if fanout else None,
        join=draw(st.none() | st.just(join)) if fanout else None,
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(charts())
def test_scxml_round_trip_gives_an_equal_chart(chart: Chart) -> None:
    text = write_scxml(chart)
    assert read_scxml_text(text, "roundtrip.scxml") == chart
