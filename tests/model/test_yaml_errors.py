"""Bad YAML workflows: every error names the file, line and column, with an excerpt, via the CLI.

Each case is a small workflow with one mistake; the test checks the exit code
(2), the ``path:line:col: message`` line, the excerpt, and that no traceback
leaks.  Lines and columns are 1-based and point at the offending key, value or
character inside an expression.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.errors import ModelError, ModelErrors
from autoflow.model.io import MAX_MODEL_BYTES
from autoflow.model.io.yaml_reader import read_yaml_file, read_yaml_text

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "yaml"


def validate(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", str(path)])
    return result.exit_code, result.stderr


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    col: int
    message: str
    hint: str | None = None


CASES = [
    Case(
        "malformed-yaml",
        """
        workflow: w
        states:
          a:
            on: {go: b
          b: {}
        """,
        5,
        4,
        "malformed YAML: expected ',' or '}', but got ':'",
    ),
    Case(
        "unknown-top-level-key",
        """
        workflow: w
        stats:
          a: {}
        """,
        2,
        1,
        "unknown key 'stats' in a workflow",
        "did you mean 'states'?",
    ),
    Case(
        "unknown-state-key",
        """
        workflow: w
        states:
          a:
            entyr: []
        """,
        4,
        5,
        "unknown key 'entyr' in state 'a'",
        "did you mean 'entry'?",
    ),
    Case(
        "wrong-type-states-list",
        """
        workflow: w
        states:
          - a
          - b
        """,
        3,
        3,
        "'states' must be a mapping, found a list",
    ),
    Case(
        "missing-states",
        """
        workflow: w
        description: nothing else
        """,
        1,
        1,
        "a workflow is missing the required key 'states'",
    ),
    Case(
        "not-a-workflow",
        """
        name: w
        """,
        1,
        1,
        "expected a workflow (a 'workflow:' key with its name) or a block",
    ),
    Case(
        "unknown-target",
        """
        workflow: w
        states:
          a:
            on:
              go: dnoe
          done: {type: final}
        """,
        5,
        11,
        "unknown target state 'dnoe'",
        "did you mean 'done'?",
    ),
    Case(
        "duplicate-state-id",
        """
        workflow: w
        states:
          a:
            states:
              x: {}
          x: {}
        """,
        6,
        3,
        "duplicate state id 'x', first defined at {path}:5:7",
    ),
    Case(
        "duplicate-key",
        """
        workflow: w
        states:
          a: {}
        states:
          b: {}
        """,
        4,
        1,
        "duplicate key 'states' (first defined at {path}:2:1)",
    ),
    Case(
        "bad-duration",
        """
        workflow: w
        states:
          a:
            after:
              2 days: b
          b: {}
        """,
        5,
        7,
        "a timer ('after' key): invalid duration '2 days'",
    ),
    Case(
        "duration-without-unit",
        """
        workflow: w
        states:
          a:
            after:
              "30": b
          b: {}
        """,
        5,
        7,
        "a timer ('after' key): invalid duration '30': expected a number and a unit",
    ),
    Case(
        "bad-cel-guard",
        """
        workflow: w
        states:
          a:
            on:
              go:
                if: approvals >= = 2
                target: a
        """,
        6,
        26,
        "",
    ),
    Case(
        "bad-cel-in-template",
        """
        workflow: w
        states:
          a:
            entry:
              - log: "count: ${{ approvals + }}"
        """,
        5,
        37,
        "",
    ),
    Case(
        "bad-cel-folded-second-line",
        """
        workflow: w
        states:
          a:
            always:
              - if: >-
                  a == 1
                  && b ==
                target: a
        """,
        7,
        18,
        "expected an expression but found end of expression",
    ),
    Case(
        "unknown-effect",
        """
        workflow: w
        states:
          a:
            entry:
              - call: gitlab.issues.crate
                with: {project_id: 1, title: x}
        """,
        5,
        15,
        "unknown effect 'gitlab.issues.crate'",
        "did you mean 'gitlab.issues.create'?",
    ),
    Case(
        "missing-effect-argument",
        """
        workflow: w
        states:
          a:
            entry:
              - call: gitlab.issues.close
                with:
                  project_id: 1
        """,
        6,
        9,
        "effect 'gitlab.issues.close' needs the argument(s) 'issue_iid'",
    ),
    Case(
        "unknown-effect-argument",
        """
        workflow: w
        states:
          a:
            entry:
              - call: gitlab.issues.add_note
                with:
                  project_id: 1
                  issue_iid: 2
                  bdy: hi
        """,
        9,
        11,
        "effect 'gitlab.issues.add_note' has no argument 'bdy'",
        "did you mean 'body'?",
    ),
    Case(
        "final-with-children",
        """
        workflow: w
        states:
          a:
            type: final
            states:
              b: {}
        """,
        5,
        5,
        "a final state cannot have children",
    ),
    Case(
        "final-with-transitions",
        """
        workflow: w
        states:
          a:
            type: final
            on: {go: a}
        """,
        5,
        5,
        "a final state cannot have 'on'",
    ),
    Case(
        "parallel-without-children",
        """
        workflow: w
        states:
          a:
            parallel: true
        """,
        4,
        5,
        "a parallel state needs at least one child state",
    ),
    Case(
        "history-at-top-level",
        """
        workflow: w
        states:
          a: {}
          h:
            type: history
        """,
        4,
        3,
        "a history state must be inside a compound or parallel state",
    ),
    Case(
        "initial-not-a-child",
        """
        workflow: w
        states:
          a:
            initial: c
            states:
              b: {}
          c: {}
        """,
        4,
        14,
        "initial state 'c' is not a child of state 'a'",
    ),
    Case(
        "unknown-state-type",
        """
        workflow: w
        states:
          a:
            type: parallel
            states: {b: {}}
        """,
        4,
        11,
        "unknown state type 'parallel'",
        "a parallel state is written 'parallel: true'",
    ),
    Case(
        "anchors-and-aliases",
        """
        workflow: w
        states:
          a:
            entry: &hello
              - log: hi
          b:
            entry: *hello
        """,
        4,
        12,
        "YAML anchors and aliases (&name, *name) are not allowed",
    ),
    Case(
        "non-string-key",
        """
        workflow: w
        states:
          a:
            after:
              30: a
        """,
        5,
        7,
        "mapping keys must be strings, found an integer key 30",
    ),
    Case(
        "multiple-documents",
        """
        workflow: w
        states: {a: {}}
        ---
        workflow: v
        states: {b: {}}
        """,
        3,
        1,
        "a workflow file holds exactly one YAML document",
    ),
    Case(
        "yaml-tag",
        """
        workflow: w
        states:
          a: !include other.yaml
        """,
        3,
        6,
        "YAML tag '!include' is not supported",
    ),
    Case(
        "empty-file",
        """
        # only a comment
        """,
        1,
        1,
        "empty file",
    ),
    Case(
        "unterminated-template",
        """
        workflow: w
        states:
          a:
            entry:
              - log: "total ${{ a + 1"
        """,
        5,
        21,
        "unterminated ${{",
    ),
    Case(
        "dotted-state-id",
        """
        workflow: w
        states:
          a.b: {}
        """,
        3,
        3,
        "invalid state id 'a.b'",
    ),
    Case(
        "unknown-action",
        """
        workflow: w
        states:
          a:
            entry:
              - asign: {x: 1}
        """,
        5,
        9,
        "unknown action 'asign'",
        "did you mean 'assign'?",
    ),
    Case(
        "two-actions-in-one-item",
        """
        workflow: w
        states:
          a:
            entry:
              - raise: x
                log: y
        """,
        6,
        9,
        "one action per list item: found 'raise' and 'log'",
    ),
    Case(
        "wrong-type-boolean",
        """
        workflow: w
        triggers:
          - on: gitlab.push
            start: maybe
        states:
          a: {}
        """,
        4,
        12,
        "'start' must be true or false, found a string",
    ),
    Case(
        "invalid-event-name",
        """
        workflow: w
        states:
          a:
            on:
              "gitlab..push": a
        """,
        5,
        7,
        "invalid event name 'gitlab..push'",
    ),
    Case(
        "entry-not-a-list",
        """
        workflow: w
        states:
          a:
            entry:
              log: hi
        """,
        5,
        7,
        "'entry' must be a list, found a mapping",
    ),
    Case(
        "transition-target-on-state",
        """
        workflow: w
        states:
          a:
            target: b
          b: {}
        """,
        4,
        5,
        "'target' is only allowed on a history state",
    ),
    Case(
        "bad-join",
        """
        workflow: w
        data: {xs: []}
        states:
          a:
            foreach: xs
            join: most
            workflow:
              states: {x: {type: final}}
        """,
        6,
        11,
        "'join' must be all, any or {count: N}",
    ),
    Case(
        "initial-on-atomic-state",
        """
        workflow: w
        states:
          a:
            initial: b
          b: {}
        """,
        4,
        5,
        "'initial' is only allowed on a state with children (not parallel)",
    ),
    Case(
        "enum-value-not-in-enum",
        """
        workflow: w
        data:
          status:
            value: pending
            enum: [approved, rejected]
        states:
          a: {}
        """,
        4,
        12,
        "initial value 'pending' of 'status' is not one of its enum values",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_points_at_line_and_column(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "workflow.yaml"
    path.write_text(textwrap.dedent(case.text).lstrip("\n"), encoding="utf-8")
    code, stderr = validate(path)
    assert code == 2
    assert "Traceback" not in stderr
    message = case.message.replace("{path}", str(path))
    expected = f"{path}:{case.line}:{case.col}: {message}"
    assert expected in stderr, stderr
    # the excerpt shows the offending line with a caret
    source_line = path.read_text(encoding="utf-8").splitlines()[case.line - 1]
    if source_line.strip():
        assert f"{case.line:>4} | {source_line}" in stderr
    if case.hint:
        assert f"hint: {case.hint}" in stderr


def test_cel_error_message_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "workflow: w\nstates:\n  a:\n    always:\n      - if: x ==\n        target: a\n"
    )
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}:5:" in stderr
    first = stderr.splitlines()[0]
    assert len(first) > len(f"{path}:5:13: ")


def test_several_errors_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            workflow: w
            states:
              a:
                on:
                  go: nowhere
                after:
                  soon: a
              b:
                entyr: []
            """
        )
    )
    with pytest.raises(ModelErrors) as caught:
        read_yaml_file(str(path))
    found = {(error.span.line, error.span.col) for error in caught.value.errors if error.span}
    assert found == {(5, 11), (7, 7), (9, 5)}
    code, stderr = validate(path)
    assert code == 2
    assert stderr.count(str(path) + ":") == 3


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    filler = "# " + "x" * 98 + "\n"
    path.write_text("workflow: w\nstates: {a: {}}\n" + filler * (MAX_MODEL_BYTES // 100 + 1))
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}: file is" in stderr
    assert "byte limit" in stderr
    assert "Traceback" not in stderr


def test_alias_bomb_is_rejected_before_expansion(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for index in range(1, 12):
        prev = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}:1:4: YAML anchors and aliases" in stderr


def test_deep_nesting_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("workflow: w\ndata:\n  x: " + "[" * 200 + "]" * 200 + "\nstates: {a: {}}\n")
    code, stderr = validate(path)
    assert code == 2
    assert "nesting is deeper than" in stderr
    assert "Traceback" not in stderr


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("workflow: caf\xe9\nstates: {a: {}}\n".encode("latin-1"))
    code, stderr = validate(path)
    assert code == 2
    assert "not UTF-8" in stderr


def test_in_memory_text_gets_an_excerpt() -> None:
    with pytest.raises(ModelError) as caught:
        read_yaml_text("workflow: w\nstates:\n  a: {on: {go: b}}\n", "memory.yaml")
    rendered = caught.value.render()
    assert rendered.startswith("memory.yaml:3:16: unknown target state 'b'")
    assert "   3 |   a: {on: {go: b}}" in rendered


# --------------------------------------------------------------------------- blocks


def write_block_case(tmp_path: Path, block: str, workflow: str) -> Path:
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "b.yaml").write_text(textwrap.dedent(block).lstrip("\n"))
    path = tmp_path / "w.yaml"
    path.write_text(textwrap.dedent(workflow).lstrip("\n"))
    return path


WORKFLOW_USING_B = """
workflow: w
states:
  step:
    use: blocks/b.yaml
    with:
      wait: 2h
    on:
      done.state.step: end
  end: {type: final}
"""


def test_missing_block_file(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("workflow: w\nstates:\n  a:\n    use: blocks/nope.yaml\n")
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}:4:10: block file 'blocks/nope.yaml' not found" in stderr


def test_error_inside_block_points_into_the_block_and_names_the_use_site(tmp_path: Path) -> None:
    path = write_block_case(
        tmp_path,
        """
        block: b
        params:
          wait: {default: 1h}
        states:
          waiting:
            after:
              ${{ params.wait }}: finished
            entyr: []
          finished: {type: final}
        """,
        WORKFLOW_USING_B,
    )
    code, stderr = validate(path)
    assert code == 2
    block_path = tmp_path / "blocks" / "b.yaml"
    assert (
        f"{block_path}:8:5: unknown key 'entyr' in state 'step_waiting' "
        f"(in block 'b' used at {path}:4:10)"
    ) in stderr
    assert "   8 |     entyr: []" in stderr


def test_unknown_and_missing_block_parameters(tmp_path: Path) -> None:
    path = write_block_case(
        tmp_path,
        """
        block: b
        params:
          delay: {required: true, description: how long}
        states:
          waiting: {type: final}
        """,
        WORKFLOW_USING_B,
    )
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}:6:7: block 'b' has no parameter 'wait'" in stderr
    assert f"{path}:4:5: block 'b' needs the parameter 'delay'" in stderr
    assert "hint: add it under 'with:' (how long)" in stderr


def test_unknown_parameter_reference_inside_a_block(tmp_path: Path) -> None:
    path = write_block_case(
        tmp_path,
        """
        block: b
        params:
          wait: {default: 1h}
        states:
          waiting:
            always:
              - if: params.wiat == "2h"
                target: finished
          finished: {type: final}
        """,
        WORKFLOW_USING_B,
    )
    code, stderr = validate(path)
    assert code == 2
    block_path = tmp_path / "blocks" / "b.yaml"
    assert f"{block_path}:7:20: unknown parameter 'wiat' of block 'b'" in stderr
    assert "did you mean 'wait'?" in stderr


def test_bad_duration_given_to_a_duration_parameter_points_at_the_use_site(
    tmp_path: Path,
) -> None:
    path = write_block_case(
        tmp_path,
        """
        block: b
        params:
          wait: {type: duration, default: 1h}
        states:
          waiting:
            after:
              ${{ params.wait }}: finished
          finished: {type: final}
        """,
        WORKFLOW_USING_B.replace("wait: 2h", "wait: two hours"),
    )
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}:6:13: parameter 'wait': invalid duration 'two hours'" in stderr


def test_block_that_uses_itself(tmp_path: Path) -> None:
    path = write_block_case(
        tmp_path,
        """
        block: b
        states:
          again:
            use: b.yaml
        """,
        "workflow: w\nstates:\n  step:\n    use: blocks/b.yaml\n",
    )
    code, stderr = validate(path)
    assert code == 2
    assert "uses itself (cycle:" in stderr


def test_block_file_validated_alone_reports_its_own_errors(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("block: b\nstates:\n  a:\n    on: {go: nowhere}\n")
    code, stderr = validate(path)
    assert code == 2
    assert f"{path}:4:14: unknown target state 'nowhere'" in stderr


def test_fixture_files_fail_where_expected() -> None:
    code, stderr = validate(DATA / "bad-target.yaml")
    assert code == 2
    assert f"{DATA / 'bad-target.yaml'}:9:17: unknown target state 'reviewd'" in stderr
