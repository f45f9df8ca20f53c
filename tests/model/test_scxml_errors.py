"""Bad SCXML input through the CLI: exit 2, `path:line:col: message`, excerpt, hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app

runner = CliRunner()
NS = 'xmlns="http://www.w3.org/2005/07/scxml" xmlns:af="https://autoflow.dev/scxml"'


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``needle``."""
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def validate(tmp_path: Path, text: str, name: str = "chart.scxml") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return path, result.stderr


def chart(body: str, attrs: str = "") -> str:
    return f'<?xml version="1.0"?>\n<scxml {NS} version="1.0" {attrs}>\n{body}\n</scxml>\n'


# (case id, document, text marking the reported position, message, hint fragment)
CASES = [
    (
        "script",
        chart('<state id="a">\n  <onentry><script>x = 1</script></onentry>\n</state>'),
        "<script>",
        "<script> is not supported",
        "autoflow never runs scripts",
    ),
    (
        "script-at-top",
        chart('<script src="lib.js"/>\n<state id="a"/>'),
        "<script",
        "<script> is not supported",
        "CEL expressions",
    ),
    (
        "unknown-element",
        chart('<state id="a">\n  <onentry><sendd event="x"/></onentry>\n</state>'),
        "<sendd",
        "unsupported SCXML element <sendd>",
        "docs/scxml.md",
    ),
    (
        "misplaced-element",
        chart('<state id="a">\n  <raise event="x"/>\n</state>'),
        "<raise",
        "<raise> is not allowed inside <state>",
        "<state> may contain",
    ),
    (
        "unknown-attribute",
        chart('<state id="a" colour="red"/>'),
        "colour=",
        "unknown attribute 'colour' on <state>",
        "<state> takes: id, initial",
    ),
    (
        "unknown-af-attribute",
        chart('<state id="a"><transition af:afterr="duration(\'1s\')" target="a"/></state>'),
        "af:afterr",
        "unknown autoflow attribute 'af:afterr' on <transition>",
        "af:after, af:at",
    ),
    (
        "unknown-af-element",
        chart('<state id="a"><onentry><af:calll effect="notify"/></onentry></state>'),
        "<af:calll",
        "unknown autoflow element <af:calll>",
        "<af:call>",
    ),
    (
        "ecmascript",
        chart('<state id="a"/>', attrs='datamodel="ecmascript"'),
        "ecmascript",
        "datamodel 'ecmascript' is not supported",
        "autoflow evaluates CEL",
    ),
    (
        "xpath",
        chart('<state id="a"/>', attrs='datamodel="xpath"'),
        "xpath",
        "datamodel 'xpath' is not supported",
        "autoflow evaluates CEL",
    ),
    (
        "malformed",
        '<scxml xmlns="http://www.w3.org/2005/07/scxml">\n  <state id="a">\n</scxml>\n',
        "scxml>",
        "malformed XML: mismatched tag",
        "every element is closed",
    ),
    (
        "billion-laughs",
        '<?xml version="1.0"?>\n<!DOCTYPE scxml [\n  <!ENTITY lol "lol">\n'
        '  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
        f"<scxml {NS}><state id='a'><onentry><log label='&lol2;'/></onentry></state></scxml>\n",
        "<!ENTITY lol ",
        "entity declaration 'lol' refused",
        "remove the <!DOCTYPE",
    ),
    (
        "external-entity",
        '<?xml version="1.0"?>\n<!DOCTYPE scxml [\n'
        '  <!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
        f"<scxml {NS}><state id='a'><onentry><log label='&secret;'/></onentry></state></scxml>\n",
        "<!ENTITY secret",
        "entity declaration 'secret' refused",
        "write the text out",
    ),
    (
        "bad-cel",
        chart(
            '<state id="a">\n  <transition event="go" cond="x &lt; &amp;&amp; y" target="a"/>\n'
            "</state>"
        ),
        "&amp;&amp; y",
        "expected an expression",
        None,
    ),
    (
        "unknown-target",
        chart('<state id="a">\n  <transition event="go" target="nowhere"/>\n</state>'),
        "<transition",
        "unknown target state 'nowhere'",
        "known states: a",
    ),
    (
        "duplicate-id",
        chart('<state id="a"/>\n<final id="a"/>'),
        '<final id="a"',
        "duplicate state id 'a'",
        "unique across the whole chart",
    ),
    (
        "bad-delay",
        chart('<state id="a"><onentry><send event="e" delay="soon"/></onentry></state>'),
        "soon",
        "invalid delay 'soon'",
        "CSS2 time",
    ),
    (
        "bad-enum",
        chart('<datamodel><data id="s" expr="\'a\'" af:enum="a, b"/></datamodel><state id="a"/>'),
        "a, b",
        "af:enum is not a JSON list",
        "write it as JSON",
    ),
    (
        "else-not-last",
        chart(
            '<state id="a"><onentry><if cond="true"><else/><log expr="1"/>'
            '<elseif cond="false"/></if></onentry></state>'
        ),
        "<elseif",
        "<elseif> after <else>",
        "must be the last branch",
    ),
    (
        "initial-outside",
        chart('<state id="p" initial="q"><state id="c"/></state>\n<state id="q"/>'),
        'q"><state',
        "initial state 'q' is not inside 'p'",
        "one of its descendants",
    ),
    (
        "wrong-root",
        '<?xml version="1.0"?>\n<workflow/>\n',
        "<workflow",
        "expected the root element <scxml>, found <workflow>",
        "an SCXML document starts with",
    ),
    (
        "missing-attribute",
        chart('<state id="a"><onentry><raise/></onentry></state>'),
        "<raise",
        "<raise> needs a 'event' attribute",
        None,
    ),
    (
        "timer-with-event",
        chart('<state id="a"><transition event="x" af:after="duration(\'1s\')"/></state>'),
        'x" af:after',
        "a timer transition (af:after) has no 'event'",
        "the timer's expiry",
    ),
    (
        "data-missing-src",
        chart('<datamodel><data id="v" src="file:missing.json"/></datamodel><state id="a"/>'),
        "file:missing.json",
        "data src 'file:missing.json': cannot read",
        "relative to this file",
    ),
    (
        "invoke-missing-src",
        chart('<state id="a"><invoke id="i" src="missing.scxml"/></state>'),
        "missing.scxml",
        "invoke src 'missing.scxml': no such file",
        "relative to this file",
    ),
]


@pytest.mark.parametrize(
    ("document", "marker", "message", "hint"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_scxml_is_reported_at_its_position(
    tmp_path: Path, document: str, marker: str, message: str, hint: str | None
) -> None:
    path, stderr = validate(tmp_path, document)
    line, col = position(document, marker)
    assert f"{path}:{line}:{col}: {message}" in stderr
    # the offending line is shown under the message
    assert document.splitlines()[line - 1].strip()[:30] in stderr
    if hint is not None:
        assert f"hint: {hint}" in stderr or hint in stderr


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    """A billion-laughs document fails fast at the declaration, nothing is expanded."""
    levels = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    ]
    document = (
        '<?xml version="1.0"?>\n<!DOCTYPE scxml [\n' + "\n".join(levels) + "\n]>\n"
        f"<scxml {NS}><state id='a'><onentry><log label='&l9;'/></onentry></state></scxml>\n"
    )
    path, stderr = validate(tmp_path, document)
    assert f"{path}:3:1: entity declaration 'l0' refused" in stderr
    assert "lollol" not in stderr


def test_several_errors_are_all_reported(tmp_path: Path) -> None:
    document = chart(
        '<state id="a" colour="red">\n  <transition event="go" cond="1 +" target="b"/>\n</state>'
    )
    path, stderr = validate(tmp_path, document)
    line, col = position(document, "colour")
    assert f"{path}:{line}:{col}: unknown attribute 'colour'" in stderr
    line, _ = position(document, "<transition")
    assert f"{path}:{line}:" in stderr
    assert "unknown target state 'b'" in stderr


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    from autoflow.model.io import MAX_MODEL_BYTES

    padding = "<!-- " + "x" * MAX_MODEL_BYTES + " -->\n"
    path, stderr = validate(tmp_path, chart(padding + '<state id="a"/>'))
    assert f"{path}: file is " in stderr
    assert f"over the {MAX_MODEL_BYTES}-byte limit" in stderr


def test_valid_scxml_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.scxml"
    path.write_text(
        chart('<state id="a"><transition event="go" target="b"/></state><final id="b"/>')
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 states, 1 transitions" in result.stdout


def test_data_src_is_loaded_when_the_chart_is_read(tmp_path: Path) -> None:
    from autoflow.model.io.scxml import read_scxml_file

    (tmp_path / "values.json").write_text('{"labels": ["a", "b"]}\n')
    (tmp_path / "note.txt").write_text("plain text\n")
    path = tmp_path / "c.scxml"
    path.write_text(
        chart(
            '<datamodel><data id="v" src="file:values.json"/><data id="t" src="note.txt"/>'
            '</datamodel><state id="a"/>'
        )
    )
    data = {item.id: item for item in read_scxml_file(str(path)).datamodel}
    assert data["v"].expr is not None
    assert data["v"].expr.program.evaluate({}) == {"labels": ["a", "b"]}
    assert data["t"].expr is not None
    assert data["t"].expr.program.evaluate({}) == "plain text"
