"""The SCXML reader: every construct maps to the IR as docs/scxml.md says."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoflow.errors import ModelReferenceError
from autoflow.model.io import load
from autoflow.model.io.scxml import read_scxml_file, read_scxml_text, write_scxml
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

DATA = Path(__file__).parent / "data" / "scxml"
NS = 'xmlns="http://www.w3.org/2005/07/scxml" xmlns:af="https://autoflow.dev/scxml"'


def scxml(body: str, attrs: str = "") -> str:
    return f'<scxml {NS} version="1.0" datamodel="cel" {attrs}>\n{body}\n</scxml>\n'


def E(source: str) -> Expr:
    return Expr(source)


CHILD = Chart(
    name="child",
    states=(
        State(
            "done",
            StateKind.FINAL,
            on_entry=((Send(event="finished", target="#_parent"),),),
        ),
    ),
    initial=Transition(targets=("done",)),
)

ASK = Chart(
    name="ask",
    states=(
        State(
            "_state_1",
            StateKind.ATOMIC,
            transitions=(Transition(events=("answer",), targets=("answered",)),),
        ),
        State("answered", StateKind.FINAL, donedata=DoneData(content=E("_event.data"))),
    ),
    initial=Transition(targets=("_state_1",)),
)

EXPECTED_FULL = Chart(
    name="review",
    description="A review with a reminder.",
    binding="late",
    triggers=(
        Trigger(
            events=("gitlab.merge_request.open",),
            filter=E("event.object_attributes.draft == false"),
            key=E("string(event.object_attributes.iid)"),
            start=True,
        ),
    ),
    datamodel=(
        Data("approvals", E("0"), type="int", minimum=0, maximum=2),
        Data("status", E('"pending"'), enum=("pending", "approved")),
        Data("reviewers", E('["ana", "bo"]')),
    ),
    initial=Transition(targets=("open",)),
    states=(
        State(
            "open",
            StateKind.ATOMIC,
            on_entry=(
                (Log("opened", E("approvals")),),
                (
                    Send(
                        event="remind",
                        delay=E('duration("1.5s")'),
                        id="reminder",
                        target="#_internal",
                    ),
                ),
            ),
            on_exit=((Cancel(sendid="reminder"),),),
            transitions=(
                Transition(
                    events=("approve", "gitlab.note.*"),
                    guard=E("approvals < 2"),
                    kind=TransitionKind.INTERNAL,
                    actions=(
                        Assign("approvals", E("approvals + 1")),
                        If(
                            (
                                Branch(E("approvals == 2"), (Raise("enough"),)),
                                Branch(E("approvals == 1"), (Log(None, E('"one more"')),)),
                                Branch(
                                    None,
                                    (
                                        Foreach(
                                            E("reviewers"),
                                            "who",
                                            "i",
                                            (
                                                Call(
                                                    "notify",
                                                    (Param("to", E("who")),),
                                                    id="ping",
                                                    result="pinged",
                                                ),
                                            ),
                                        ),
                                    ),
                                ),
                            )
                        ),
                    ),
                ),
                Transition(events=("enough",), targets=("approved",)),
                Transition(
                    targets=("approved",),
                    timer=Timer(TimerKind.AFTER, E('duration("172800s")')),
                ),
                Transition(events=("*",)),
            ),
        ),
        State(
            "approved",
            StateKind.PARALLEL,
            children=(
                State(
                    "left",
                    StateKind.COMPOUND,
                    children=(State("left_done", StateKind.FINAL),),
                    initial=Transition(targets=("left_done",)),
                ),
                State(
                    "right",
                    StateKind.COMPOUND,
                    initial=Transition(
                        targets=("right_done",),
                        actions=(
                            Send(
                                eventexpr=E('"ev"'),
                                targetexpr=E('"#_parent"'),
                                delay=E('duration("3s")'),
                                namelist=("approvals", "status"),
                            ),
                        ),
                    ),
                    children=(
                        State("right_done", StateKind.FINAL),
                        State(
                            "right_history",
                            StateKind.HISTORY,
                            history=HistoryKind.DEEP,
                            transitions=(Transition(targets=("right_done",)),),
                        ),
                    ),
                ),
            ),
            invokes=(
                Invoke(
                    id="fanout",
                    chart=ASK,
                    params=(Param("who", E("reviewer")),),
                    autoforward=True,
                    finalize=(Assign("status", E('"approved"')),),
                    foreach=E("reviewers"),
                    item="reviewer",
                    join=Join(JoinKind.COUNT, E("1"), E('duration("3600s")')),
                ),
                Invoke(id="child", src="invoke/child.scxml", chart=CHILD),
            ),
        ),
        State(
            "closed",
            StateKind.FINAL,
            donedata=DoneData(params=(Param("count", E("approvals")),)),
        ),
    ),
)


def test_full_document_maps_to_the_expected_ir() -> None:
    chart = read_scxml_file(str(DATA / "full.scxml"))
    assert chart == EXPECTED_FULL


def test_registry_loads_scxml_by_extension() -> None:
    assert load(str(DATA / "full.scxml")) == EXPECTED_FULL


def test_spans_point_at_elements_and_attributes() -> None:
    chart = read_scxml_file(str(DATA / "full.scxml"))
    path = str(DATA / "full.scxml")
    opened = chart.states[0]
    assert (opened.span.path, opened.span.line, opened.span.col) == (path, 13, 3)
    guard = opened.transitions[0].guard
    assert guard is not None
    # cond="approvals &lt; 2" on line 23: the value starts after cond="
    line = (DATA / "full.scxml").read_text().splitlines()[22]
    assert (guard.span.line, guard.span.col) == (23, line.index("approvals &lt;") + 1)
    assert chart.initial.span.line == 4  # the initial="open" attribute


def test_expressions_are_compiled_and_expose_free_variables() -> None:
    chart = read_scxml_file(str(DATA / "full.scxml"))
    guard = chart.states[0].transitions[0].guard
    assert guard is not None
    assert guard.free_variables == frozenset({"approvals"})


def test_states_without_id_get_document_order_ids() -> None:
    chart = read_scxml_text(
        scxml("<state><state/><state id='b'/><parallel><state/></parallel></state><final/>")
    )
    top = chart.states[0]
    assert top.id == "_state_1"
    assert [child.id for child in top.children] == ["_state_1_1", "b", "_parallel_1_3"]
    assert top.children[2].children[0].id == "_state_1_3_1"
    assert chart.states[1].id == "_final_2"
    assert top.initial == Transition(targets=("_state_1_1",))


def test_generated_ids_avoid_explicit_ones() -> None:
    chart = read_scxml_text(scxml("<state/><state id='_state_1'/>"))
    assert [state.id for state in chart.states] == ["_state_1_", "_state_1"]


def test_initial_attribute_with_several_targets_and_default() -> None:
    chart = read_scxml_text(
        scxml(
            """<state id="p" initial="a b">
                 <parallel id="q"><state id="a"/><state id="b"/></parallel>
               </state>
               <state id="r"><state id="r1"/><state id="r2"/></state>""",
            attrs='initial="r"',
        )
    )
    assert chart.initial == Transition(targets=("r",))
    assert chart.states[0].initial == Transition(targets=("a", "b"))
    assert chart.states[1].initial == Transition(targets=("r1",))


def test_event_descriptors_are_kept_as_written() -> None:
    chart = read_scxml_text(
        scxml('<state id="s"><transition event="a.b.* c. *  d" target="s"/></state>')
    )
    assert chart.states[0].transitions[0].events == ("a.b.*", "c.", "*", "d")


@pytest.mark.parametrize(
    ("delay", "cel"),
    [
        ("2s", 'duration("2s")'),
        ("500ms", 'duration("0.5s")'),
        (".25s", 'duration("0.25s")'),
        ("2d", 'duration("172800s")'),
    ],
)
def test_send_delay_becomes_a_cel_duration(delay: str, cel: str) -> None:
    chart = read_scxml_text(
        scxml(f'<state id="s"><onentry><send event="e" delay="{delay}"/></onentry></state>')
    )
    (send,) = chart.states[0].on_entry[0]
    assert send == Send(event="e", delay=E(cel))


def test_inline_content_json_or_text() -> None:
    chart = read_scxml_text(
        scxml(
            """<datamodel><data id="n">{"a": [1, 2.5, true, null]}</data>
                          <data id="t">  hello
                            world </data></datamodel>
               <state id="s"><onentry>
                 <send event="e"><content>123</content></send>
                 <assign location="n">"x"</assign>
               </onentry></state>"""
        )
    )
    assert chart.datamodel == (
        Data("n", E('{"a": [1, 2.5, true, null]}')),
        Data("t", E('"hello world"')),
    )
    send, assign = chart.states[0].on_entry[0]
    assert send == Send(event="e", content=E("123"))
    assert assign == Assign("n", E('"x"'))


def test_document_without_namespace_is_read_as_scxml() -> None:
    chart = read_scxml_text('<scxml version="1.0"><final id="f"/></scxml>', "plain.scxml")
    assert chart.name == "plain"
    assert chart.states == (State("f", StateKind.FINAL),)


def test_foreign_namespace_elements_and_attributes_are_ignored() -> None:
    chart = read_scxml_text(
        scxml(
            '<x:meta xmlns:x="urn:example"><x:any/></x:meta>'
            '<state id="s" xmlns:x="urn:example" x:color="red"/>'
        )
    )
    assert chart.states == (State("s", StateKind.ATOMIC),)


def test_invoke_src_cycle_is_reported(tmp_path: Path) -> None:
    loop = tmp_path / "loop.scxml"
    loop.write_text(scxml('<state id="s"><invoke id="again" src="loop.scxml"/></state>'))
    with pytest.raises(ModelReferenceError, match="invokes itself") as info:
        read_scxml_file(str(loop))
    assert info.value.span is not None
    line = loop.read_text().splitlines()[1]
    assert (info.value.span.line, info.value.span.col) == (2, line.index("loop.scxml") + 1)


def test_written_scxml_reads_back_equal() -> None:
    chart = read_scxml_file(str(DATA / "full.scxml"))
    text = write_scxml(chart)
    # src is resolved relative to the file, so read the text "as" a file in the same folder
    assert read_scxml_text(text, str(DATA / "written.scxml")) == chart
    assert write_scxml(read_scxml_text(text, str(DATA / "written.scxml"))) == text


def test_writer_output_is_plain_scxml_without_extensions_when_none_are_used() -> None:
    chart = read_scxml_text(
        scxml('<state id="a"><transition event="go" target="b"/></state><final id="b"/>')
    )
    text = write_scxml(chart)
    assert "xmlns:af" not in text
    assert '<transition event="go" target="b"/>' in text


def test_invoke_typeexpr_is_read_written_and_evaluated_when_entered() -> None:
    from datetime import UTC, datetime

    from autoflow.sim.engine import start

    def document(kind: str) -> str:
        return scxml(
            '<datamodel><data id="kind" expr="' + kind + '"/></datamodel>'
            '<state id="s"><invoke id="child" typeexpr="kind"><content>'
            '<scxml version="1.0" datamodel="cel"><final id="f"/></scxml>'
            "</content></invoke>"
            '<transition event="done.invoke.child" target="ok"/>'
            '<transition event="error.execution" target="bad"/></state>'
            '<final id="ok"/><final id="bad"/>'
        )

    chart = read_scxml_text(document("'scxml'"), "typeexpr.scxml")
    invoke = chart.states[0].invokes[0]
    assert invoke.typeexpr == E("kind")
    assert read_scxml_text(write_scxml(chart), "typeexpr.scxml") == chart
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert start(chart, now).snapshot.configuration[-1] == "ok"
    unknown = read_scxml_text(document("'http://example.com/bpmn'"), "typeexpr.scxml")
    assert start(unknown, now).snapshot.configuration[-1] == "bad"
