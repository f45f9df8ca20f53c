"""Every construct of the YAML format maps to the expected IR (spans checked where they matter)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.model.io import discover, load
from autoflow.model.io.yaml_reader import read_yaml_file, read_yaml_text
from autoflow.model.ir import (
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
    walk_states,
)

DATA = Path(__file__).parent / "data" / "yaml"
MODELS = Path(__file__).parents[2] / "models"


def read(text: str, path: str = "test.yaml") -> Chart:
    return read_yaml_text(textwrap.dedent(text).lstrip("\n"), path)


def state(chart: Chart, state_id: str) -> State:
    return chart.index.states[state_id]


def test_minimal_workflow() -> None:
    chart = read(
        """
        workflow: hello
        description: says hello
        states:
          start:
            on:
              go: done
          done:
            type: final
        """
    )
    assert chart == Chart(
        name="hello",
        description="says hello",
        states=(
            State(
                "start",
                StateKind.ATOMIC,
                transitions=(Transition(events=("go",), targets=("done",)),),
            ),
            State("done", StateKind.FINAL),
        ),
        initial=Transition(targets=("start",)),
    )
    start = chart.states[0]
    assert (start.span.path, start.span.line, start.span.col) == ("test.yaml", 4, 3)
    assert (start.transitions[0].span.line, start.transitions[0].span.col) == (6, 7)


def test_triggers() -> None:
    chart = read(
        """
        workflow: t
        triggers:
          - on: gitlab.issue.update
            if: has(event.object_attributes.milestone_id)
            start: true
            key: string(event.object_attributes.id)
          - on: [gitlab.issue.close, gitlab.note]
        states: {a: {}}
        """
    )
    assert chart.triggers == (
        Trigger(
            events=("gitlab.issue.update",),
            filter=Expr("has(event.object_attributes.milestone_id)"),
            key=Expr("string(event.object_attributes.id)"),
            start=True,
        ),
        Trigger(events=("gitlab.issue.close", "gitlab.note")),
    )
    assert chart.triggers[0].filter is not None
    assert chart.triggers[0].filter.free_variables == {"event"}


def test_data_literals_and_declarations() -> None:
    chart = read(
        """
        workflow: d
        data:
          approvals: 0
          ratio: 0.5
          answers: []
          labels: ["workflow::backlog", "x"]
          config: {retries: 3, on: true, none: null}
          title: "Retro ${{ approvals }}"
          status:
            value: pending
            enum: [pending, approved, rejected]
          reminders:
            value: 0
            type: int
            minimum: 0
            maximum: 3
          deadline:
            expr: now + duration("48h")
          declared:
            type: string
        states: {a: {}}
        """
    )
    assert chart.datamodel == (
        Data("approvals", Expr("0")),
        Data("ratio", Expr("0.5")),
        Data("answers", Expr("[]")),
        Data("labels", Expr('["workflow::backlog", "x"]')),
        Data("config", Expr('{"retries": 3, "on": true, "none": null}')),
        Data("title", Expr('"Retro " + string(approvals)')),
        Data("status", Expr('"pending"'), enum=("pending", "approved", "rejected")),
        Data("reminders", Expr("0"), type="int", minimum=0, maximum=3),
        Data("deadline", Expr('now + duration("48h")')),
        Data("declared", None, type="string"),
    )


def test_transition_shapes_and_order() -> None:
    chart = read(
        """
        workflow: t
        states:
          waiting:
            at:
              - when: timestamp("2030-01-01T00:00:00Z")
                target: done
            after:
              2d: reminded
              1d12h:
                target: done
                if: approvals > 1
            always:
              - if: approvals >= 2
                target: done
            on:
              approve: done
              gitlab.issue.update:
                - if: event.object_attributes.state == "closed"
                  target: done
                  do:
                    - assign: {approvals: "${{ approvals + 1 }}"}
                - target: waiting
                  type: internal
              ping:
                do: [{log: "${{ 'pinged' }}"}]
              "a b.*": [done]
              multi:
                target: [done, reminded]
          reminded: {}
          done: {type: final}
        """
    )
    waiting = state(chart, "waiting")
    assert waiting.transitions == (
        Transition(events=("approve",), targets=("done",)),
        Transition(
            events=("gitlab.issue.update",),
            guard=Expr('event.object_attributes.state == "closed"'),
            targets=("done",),
            actions=(Assign("approvals", Expr("approvals + 1")),),
        ),
        Transition(
            events=("gitlab.issue.update",),
            targets=("waiting",),
            kind=TransitionKind.INTERNAL,
        ),
        Transition(events=("ping",), actions=(Log(expr=Expr("'pinged'")),)),
        Transition(events=("a", "b.*"), targets=("done",)),
        Transition(events=("multi",), targets=("done", "reminded")),
        Transition(guard=Expr("approvals >= 2"), targets=("done",)),
        Transition(
            targets=("reminded",),
            timer=Timer(TimerKind.AFTER, Expr('duration("172800s")')),
        ),
        Transition(
            targets=("done",),
            guard=Expr("approvals > 1"),
            timer=Timer(TimerKind.AFTER, Expr('duration("129600s")')),
        ),
        Transition(
            targets=("done",),
            timer=Timer(TimerKind.AT, Expr('timestamp("2030-01-01T00:00:00Z")')),
        ),
    )


def test_compound_parallel_history_and_initial() -> None:
    chart = read(
        """
        workflow: nest
        initial: parent
        states:
          both:
            parallel: true
            states:
              left:
                states:
                  l1: {on: {go: l2}}
                  l2: {}
              right:
                states:
                  r1: {}
          parent:
            initial: b
            states:
              hist:
                type: history
                history: deep
              a: {on: {go: b}}
              b: {type: final}
              shallow:
                type: history
                target: a
        """
    )
    assert chart.initial == Transition(targets=("parent",))
    both = state(chart, "both")
    assert both.kind is StateKind.PARALLEL
    assert both.initial is None
    assert [child.id for child in both.children] == ["left", "right"]
    assert state(chart, "left").initial == Transition(targets=("l1",))
    parent = state(chart, "parent")
    assert parent.kind is StateKind.COMPOUND
    assert parent.initial == Transition(targets=("b",))
    assert state(chart, "hist") == State(
        "hist",
        StateKind.HISTORY,
        history=HistoryKind.DEEP,
        transitions=(Transition(targets=("b",)),),  # defaults to the parent's initial
    )
    assert state(chart, "shallow") == State(
        "shallow",
        StateKind.HISTORY,
        history=HistoryKind.SHALLOW,
        transitions=(Transition(targets=("a",)),),
    )


def test_compound_initial_defaults_to_first_non_history_child() -> None:
    chart = read(
        """
        workflow: c
        states:
          p:
            states:
              h: {type: history}
              first: {}
              second: {}
        """
    )
    assert state(chart, "p").initial == Transition(targets=("first",))


def test_actions() -> None:
    chart = read(
        """
        workflow: acts
        data: {items: [1, 2], n: 0}
        states:
          a:
            entry:
              - assign: {n: 1, config.retries: "${{ n + 1 }}"}
              - raise: internal.ping
              - send: {event: remind, to: "#_internal", delay: 2h, id: reminder,
                       data: {who: alice}}
              - send: external.plain
              - send: {event: "${{ 'ev.' + string(n) }}", data: "${{ items }}"}
              - cancel: reminder
              - cancel: "${{ 'r' + string(n) }}"
              - log: "${{ n }}"
                label: count
              - if: n > 1
                then: [{raise: big}]
                elif:
                  - if: n == 1
                    then: [{raise: one}]
                else: [{raise: small}]
              - foreach: items
                as: it
                index: i
                do: [{log: "item ${{ it }} at ${{ i }}"}]
              - call: gitlab.issues.create
                id: create_issue
                result: issue
                with:
                  project_id: 42
                  title: "Retro ${{ n }}"
                  labels: ["workflow::backlog"]
            exit:
              - raise: leaving
        """
    )
    a = state(chart, "a")
    assert len(a.on_entry) == 1
    assert a.on_entry[0] == (
        Assign("n", Expr("1")),
        Assign("config.retries", Expr("n + 1")),
        Raise("internal.ping"),
        Send(
            event="remind",
            target="#_internal",
            delay=Expr('duration("7200s")'),
            id="reminder",
            params=(Param("who", Expr('"alice"')),),
        ),
        Send(event="external.plain"),
        Send(eventexpr=Expr("'ev.' + string(n)"), content=Expr("items")),
        Cancel(sendid="reminder"),
        Cancel(sendidexpr=Expr("'r' + string(n)")),
        Log(label="count", expr=Expr("n")),
        If(
            (
                Branch(Expr("n > 1"), (Raise("big"),)),
                Branch(Expr("n == 1"), (Raise("one"),)),
                Branch(None, (Raise("small"),)),
            )
        ),
        Foreach(
            Expr("items"),
            "it",
            "i",
            (Log(expr=Expr('"item " + string(it) + " at " + string(i)')),),
        ),
        Call(
            "gitlab.issues.create",
            (
                Param("project_id", Expr("42")),
                Param("title", Expr('"Retro " + string(n)')),
                Param("labels", Expr('["workflow::backlog"]')),
            ),
            id="create_issue",
            result="issue",
        ),
    )
    assert a.on_exit == ((Raise("leaving"),),)


def test_no_entry_and_empty_entry_are_the_same() -> None:
    chart = read("workflow: e\nstates:\n  a: {entry: []}\n  b: {}\n  c:\n")
    assert state(chart, "a").on_entry == ()
    assert state(chart, "a") == State("a", StateKind.ATOMIC)
    assert state(chart, "c") == State("c", StateKind.ATOMIC)


def test_final_output_is_donedata() -> None:
    chart = read(
        """
        workflow: f
        data: {approvals: 2}
        states:
          done:
            type: final
            output:
              result: ${{ approvals }}
              kind: plain
          other:
            type: final
            output: ${{ approvals * 2 }}
        """
    )
    assert state(chart, "done").donedata == DoneData(
        params=(Param("result", Expr("approvals")), Param("kind", Expr('"plain"')))
    )
    assert state(chart, "other").donedata == DoneData(content=Expr("approvals * 2"))


def test_foreach_fanout_is_an_invoke() -> None:
    chart = read(
        """
        workflow: fan
        data: {members: []}
        states:
          fanout:
            foreach: members
            as: member
            autoforward: true
            with:
              project: 7
            workflow:
              data: {answer: ""}
              states:
                asking:
                  on: {answered: answered}
                answered:
                  type: final
                  output: {who: "${{ member.username }}"}
            join: {count: 3}
            timeout: 7d
            on:
              done.invoke.fanout: next
          next: {type: final}
        """
    )
    fanout = state(chart, "fanout")
    assert fanout.kind is StateKind.ATOMIC
    (invoke,) = fanout.invokes
    assert invoke.id == "fanout"
    assert invoke.foreach == Expr("members")
    assert invoke.item == "member"
    assert invoke.autoforward is True
    assert invoke.params == (Param("project", Expr("7")),)
    assert invoke.join == Join(JoinKind.COUNT, count=Expr("3"), timeout=Expr('duration("604800s")'))
    assert invoke.chart == Chart(
        name="fanout",
        states=(
            State(
                "asking",
                StateKind.ATOMIC,
                transitions=(Transition(events=("answered",), targets=("answered",)),),
            ),
            State(
                "answered",
                StateKind.FINAL,
                donedata=DoneData(params=(Param("who", Expr("member.username")),)),
            ),
        ),
        initial=Transition(targets=("asking",)),
        datamodel=(Data("answer", Expr('""')),),
    )


@pytest.mark.parametrize(("join", "kind"), [("all", JoinKind.ALL), ("any", JoinKind.ANY)])
def test_join_kinds(join: str, kind: JoinKind) -> None:
    chart = read(
        f"""
        workflow: j
        states:
          f:
            foreach: "[1, 2]"
            join: {join}
            workflow: {{states: {{x: {{type: final}}}}}}
        """
    )
    (invoke,) = state(chart, "f").invokes
    assert invoke.join == Join(kind)
    assert invoke.item == "item"


def test_child_state_ids_are_a_separate_namespace() -> None:
    chart = read(
        """
        workflow: ns
        states:
          done:
            foreach: "[1]"
            workflow:
              states:
                done: {type: final}
        """
    )
    (invoke,) = state(chart, "done").invokes
    assert invoke.chart is not None
    assert invoke.chart.states[0].id == "done"


def test_block_expansion_prefixes_ids_and_substitutes_params() -> None:
    chart = read_yaml_file(str(DATA / "uses-reminder.yaml"))
    review = state(chart, "review")
    assert review.kind is StateKind.COMPOUND
    assert [child.id for child in review.children] == [
        "review_waiting",
        "review_reminded",
        "review_acknowledged",
    ]
    assert review.initial == Transition(targets=("review_waiting",))
    waiting = state(chart, "review_waiting")
    assert waiting.transitions == (
        Transition(events=("ack",), targets=("review_acknowledged",)),
        Transition(
            targets=("review_reminded",),
            timer=Timer(TimerKind.AFTER, Expr('duration("86400s")')),
        ),
    )
    reminded = state(chart, "review_reminded")
    assert reminded.on_entry == (
        (
            Call(
                "notify",
                (
                    Param("to", Expr("owner")),
                    Param("body", Expr('"@" + string(owner) + " " + string("please have a look")')),
                ),
            ),
        ),
    )
    # In("waiting") names the block-local state; a duration parameter is a CEL duration
    assert reminded.transitions[0].guard == Expr(
        'In("review_waiting") || duration("86400s") > duration("1h")'
    )
    assert state(chart, "review_acknowledged").donedata == DoneData(
        params=(Param("by", Expr("owner")),)
    )
    assert review.transitions == (Transition(events=("done.state.review",), targets=("closed",)),)
    # spans of block states point into the block file
    assert waiting.span.path.endswith("blocks/reminder.yaml")
    assert waiting.span.line == 9


def test_block_validated_on_its_own_uses_defaults_and_placeholders() -> None:
    chart = read_yaml_file(str(DATA / "blocks" / "reminder.yaml"))
    assert chart.name == "reminder"
    assert [s.id for s in walk_states(chart.states)] == ["waiting", "reminded", "acknowledged"]
    waiting = state(chart, "waiting")
    assert waiting.transitions[1].timer == Timer(TimerKind.AFTER, Expr('duration("7200s")'))
    assert state(chart, "acknowledged").donedata == DoneData(params=(Param("by", Expr('"<who>"')),))


def test_values_keep_yaml_types() -> None:
    chart = read(
        """
        workflow: v
        data:
          on_key: {on: yes}
          quoted: "42"
          number: 42
          octal: 0o17
          date: 2024-01-01
          negative: -3
          big: 1e3
          text: |
            line one
            line "two"
        states: {a: {}}
        """
    )
    sources = {data.id: data.expr.source for data in chart.datamodel if data.expr}
    assert sources == {
        "on_key": '{"on": "yes"}',
        "quoted": '"42"',
        "number": "42",
        "octal": "15",
        "date": '"2024-01-01"',
        "negative": "-3",
        "big": "1000.0",
        "text": '"line one\\nline \\"two\\"\\n"',  # a literal block keeps its last newline
    }


def test_template_inside_cel_condition_is_accepted() -> None:
    chart = read(
        """
        workflow: c
        data: {n: 1}
        states:
          a:
            always:
              - if: ${{ n > 0 }}
                target: b
              - if: n == ${{ n }} && true
                target: b
          b: {}
        """
    )
    guards = [t.guard for t in state(chart, "a").transitions]
    assert guards == [Expr("n > 0"), Expr("n == n && true")]


def test_expression_spans_point_inside_the_scalar() -> None:
    chart = read(
        """
        workflow: s
        data: {n: 1}
        states:
          a:
            entry:
              - log: "value ${{ n }}"
              - log: ${{ n }}
        """
    )
    (_, whole) = state(chart, "a").on_entry[0]
    assert isinstance(whole, Log)
    assert whole.expr is not None
    assert (whole.expr.span.line, whole.expr.span.col) == (7, 18)  # the `n` after ${{


def test_every_example_model_loads() -> None:
    files = discover([str(MODELS)])
    assert len(files) >= 7
    for path in files:
        chart = load(path)
        assert isinstance(chart, Chart)
        assert chart.states


def test_validate_command_on_the_examples() -> None:
    result = CliRunner().invoke(app, ["validate", str(MODELS)])
    assert result.exit_code == 0, result.stderr
    assert "file(s) valid" in result.stdout
