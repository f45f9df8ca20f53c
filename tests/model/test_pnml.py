"""The PNML reader and writer: real nets, round trips, and bad input through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.errors import SchemaError
from autoflow.model.io import load
from autoflow.model.io.pnml import read_pnml_file, read_pnml_text, write_pnml
from autoflow.model.net import (
    Arc,
    Net,
    NetTransition,
    Place,
    is_workflow_net,
    sink_place,
    source_place,
)

DATA = Path(__file__).resolve().parent / "data" / "pnml"
runner = CliRunner()
HEAD = '<?xml version="1.0"?>\n<pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">\n'
PT = 'type="http://www.pnml.org/version-2009/grammar/ptnet"'

SIZES = [
    ("M1", 40, 39),
    ("M2", 34, 34),
    ("ML4", 36, 33),
    ("M7", 65, 62),
    ("ML2", 165, 177),
    ("Angiogenesis-PT-01", 39, 64),
    ("Kanban-PT-02000", 16, 16),
    ("DiscoveryGPU-PT-15a", 153, 211),
]


def document(body: str, net_attrs: str = PT) -> str:
    return f'{HEAD}<net id="n" {net_attrs}>\n<page id="pg">\n{body}\n</page>\n</net>\n</pnml>\n'


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``needle``."""
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


@pytest.mark.parametrize(("name", "places", "transitions"), SIZES)
def test_reads_the_benchmark_nets(name: str, places: int, transitions: int) -> None:
    net = load(str(DATA / f"{name}.pnml"))
    assert isinstance(net, Net)
    assert (len(net.places), len(net.transitions)) == (places, transitions)
    assert read_pnml_text(write_pnml(net), "again.pnml") == net


def test_initial_markings_names_and_workflow_shape_of_a_prom_net() -> None:
    net = read_pnml_file(str(DATA / "M1.pnml"))
    assert net.initial_marking == {"n40": 1}
    assert net.name == "M1.tpn"
    assert is_workflow_net(net)
    source, sink = source_place(net), sink_place(net)
    assert source is not None
    assert sink is not None
    assert source.id == "n40"
    assert net.transitions[0].label == "A"
    assert net.places[0].span.line > 0


def test_kanban_initial_marking_and_not_a_workflow_net() -> None:
    net = read_pnml_file(str(DATA / "Kanban-PT-02000.pnml"))
    assert net.initial_marking == {"P1": 2000, "P2": 2000, "P3": 2000, "P4": 2000}
    assert not is_workflow_net(net)


def test_weights_pages_references_and_prom_style_weights() -> None:
    text = (
        f'{HEAD}<net id="n" {PT}><name><text>demo</text></name>\n'
        '<page id="outer">\n'
        '  <place id="p"><name><text>input</text></name>'
        "<initialMarking><text> 3 </text></initialMarking></place>\n"
        '  <page id="inner">\n'
        '    <transition id="t"><name><text>move</text></name></transition>\n'
        '    <referencePlace id="q_ref" ref="q"/>\n'
        '    <arc id="a1" source="p" target="t"><inscription><text>2</text></inscription></arc>\n'
        '    <arc id="a2" source="t" target="q_ref"><name><text>5</text></name></arc>\n'
        "  </page>\n"
        "</page>\n"
        '<page id="second"><place id="q"/></page>\n'
        "</net></pnml>\n"
    )
    net = read_pnml_text(text, "demo.pnml")
    assert net.name == "demo"
    assert [(p.id, p.name, p.initial) for p in net.places] == [("p", "input", 3), ("q", None, 0)]
    assert net.pre("t") == {"p": 2}
    assert net.post("t") == {"q": 5}
    assert read_pnml_text(write_pnml(net), "again.pnml") == net


def test_writer_output_reads_back_to_an_equal_net() -> None:
    net = Net(
        "w&<net>",
        (Place("a", "start & go", 2), Place("b")),
        (NetTransition("t", 'say "hi"'), NetTransition("u")),
        (Arc("a", "t", 3), Arc("t", "b"), Arc("b", "u", 2), Arc("u", "a")),
        name="round <trip>",
    )
    text = write_pnml(net)
    assert "<inscription><text>3</text></inscription>" in text
    assert read_pnml_text(text, "rt.pnml") == net


def test_parallel_arcs_add_up() -> None:
    net = read_pnml_text(
        document(
            '<place id="p"/><transition id="t"/>'
            '<arc id="a" source="p" target="t"/><arc id="b" source="p" target="t"/>'
        ),
        "parallel.pnml",
    )
    assert net.pre("t") == {"p": 2}


def test_read_pnml_text_errors_point_into_the_text() -> None:
    text = document('<place id="p"><initialMarking><text>x</text></initialMarking></place>')
    with pytest.raises(SchemaError) as info:
        read_pnml_text(text, "inline.pnml")
    line, col = position(text, "<text>x")
    assert str(info.value).startswith(f"inline.pnml:{line}:{col}: ")
    assert "<text>x</text>" in info.value.render()


# --------------------------------------------------------------------------- bad input via the CLI

BOMB = (
    '<?xml version="1.0"?>\n'
    "<!DOCTYPE pnml [\n"
    ' <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
    ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
    "]>\n"
    "<pnml><net><name><text>&b;</text></name></net></pnml>\n"
)

# (case id, document, text marking the reported position, message fragment)
CASES = [
    (
        "malformed-xml",
        document('<place id="p">\n</transition>'),
        "transition>",  # expat points after the "</"
        "malformed XML: mismatched tag",
    ),
    (
        "unknown-arc-target",
        document('<place id="p"/>\n<arc id="a" source="p" target="nowhere"/>'),
        '<arc id="a"',
        "arc 'a': unknown target 'nowhere'",
    ),
    (
        "negative-weight",
        document(
            '<place id="p"/><transition id="t"/>\n'
            '<arc id="a" source="p" target="t"><inscription><text>-2</text></inscription></arc>'
        ),
        "<text>-2",
        "arc weight must be at least 1, found -2",
    ),
    (
        "zero-weight",
        document(
            '<place id="p"/><transition id="t"/>\n'
            '<arc id="a" source="p" target="t"><inscription><text>0</text></inscription></arc>'
        ),
        "<text>0",
        "arc weight must be at least 1, found 0",
    ),
    (
        "fractional-marking",
        document('<place id="p">\n  <initialMarking><text>1.5</text></initialMarking></place>'),
        "<text>1.5",
        "initial marking must be a whole number of tokens, found '1.5'",
    ),
    (
        "negative-marking",
        document('<place id="p">\n  <initialMarking><text>-1</text></initialMarking></place>'),
        "<text>-1",
        "initial marking must be zero or more, found -1",
    ),
    ("entity-bomb", BOMB, '"aaaa', "XML entity declarations are not allowed (entity 'a')"),
    (
        "place-to-place",
        document('<place id="p"/><place id="q"/>\n<arc id="a" source="p" target="q"/>'),
        '<arc id="a"',
        "arc 'a' connects two places",
    ),
    (
        "duplicate-id",
        document('<place id="p"/>\n<transition id="p"/>'),
        '<transition id="p"',
        "duplicate id 'p'",
    ),
    (
        "coloured-net",
        document('<place id="p"/>', 'type="http://www.pnml.org/version-2009/grammar/symmetricnet"'),
        '<net id="n"',
        "unsupported net type",
    ),
    (
        "inhibitor-arc",
        document(
            '<place id="p"/><transition id="t"/>\n'
            '<arc id="a" source="p" target="t"><arctype><text>inhibitor</text></arctype></arc>'
        ),
        "<text>inhibitor",
        "inhibitor arcs are not supported",
    ),
    ("not-pnml", '<?xml version="1.0"?>\n<scxml/>\n', "<scxml", "expected a <pnml> document"),
    ("no-net", f"{HEAD}</pnml>\n", "<pnml", "<pnml> contains no <net>"),
]


@pytest.mark.parametrize(
    ("text", "needle", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_pnml_is_reported_with_its_location(
    tmp_path: Path, text: str, needle: str, message: str
) -> None:
    path = tmp_path / "net.pnml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line, col = position(text, needle)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{line}:{col}: "), first
    assert message in first


def test_a_valid_net_validates(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(DATA / "M1.pnml")])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_oversized_text_is_refused_unread() -> None:
    from autoflow.errors import SourceError
    from autoflow.model.io import MAX_MODEL_BYTES

    text = document("<!--" + "x" * MAX_MODEL_BYTES + "-->")
    with pytest.raises(SourceError, match="over the"):
        read_pnml_text(text, "huge.pnml")


def test_workflow_net_needs_every_node_on_a_source_sink_path() -> None:
    connected = Net(
        "wf",
        (Place("i"), Place("o")),
        (NetTransition("t"),),
        (Arc("i", "t"), Arc("t", "o")),
    )
    assert is_workflow_net(connected)
    # An extra transition that only feeds the sink is not reachable from the source.
    stray = Net(
        "wf",
        connected.places,
        (*connected.transitions, NetTransition("u")),
        (*connected.arcs, Arc("u", "o")),
    )
    assert not is_workflow_net(stray)
    with pytest.raises(KeyError, match="nowhere"):
        connected.with_initial_marking({"nowhere": 1})
