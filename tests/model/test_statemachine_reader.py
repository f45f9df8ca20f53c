"""python-statemachine classes load into the same IR as YAML and SCXML."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.model.io import load
from autoflow.model.io.scxml import read_scxml_text, write_scxml
from autoflow.model.ir import Chart, Data, Expr, HistoryKind, State, StateKind, Transition
from autoflow.model.ir import TransitionKind as Kind

ROOT = Path(__file__).resolve().parents[2]
MACHINES = Path(__file__).parent / "data" / "machines.py"
MODULE = "tests.model.data.machines"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _run_from_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    # module:Class references are imported like `python -m`: from the current directory
    monkeypatch.chdir(ROOT)


def line_of(text: str, path: Path = MACHINES) -> int:
    return path.read_text().splitlines().index(text) + 1


TRAFFIC_LIGHT = Chart(
    name="TrafficLight",
    description="A traffic light that cycles on a timer.",
    datamodel=(
        Data("count", Expr("0"), type="int"),
        Data("ready", Expr("true"), type="bool"),
        Data("blocked", Expr("false"), type="bool"),
    ),
    initial=Transition(targets=("green",)),
    states=(
        State(
            "green",
            StateKind.ATOMIC,
            transitions=(
                Transition(events=("cycle",), targets=("yellow",)),
                Transition(events=("shutdown",), guard=Expr("count >= 3"), targets=("off",)),
            ),
        ),
        State(
            "yellow",
            StateKind.ATOMIC,
            transitions=(
                Transition(events=("cycle",), guard=Expr("ready"), targets=("red",)),
                # internal self-transition of an atomic state: actions only, no exit/entry
                Transition(events=("retry",)),
            ),
        ),
        State(
            "red",
            StateKind.ATOMIC,
            transitions=(
                Transition(events=("cycle",), guard=Expr("!blocked"), targets=("green",)),
                Transition(events=("shutdown",), guard=Expr("ready && !blocked"), targets=("off",)),
            ),
        ),
        State("off", StateKind.FINAL),
    ),
)

JOURNEY = Chart(
    name="Journey",
    initial=Transition(targets=("shire",)),
    states=(
        State(
            "shire",
            StateKind.COMPOUND,
            initial=Transition(targets=("bag_end",)),
            transitions=(
                Transition(events=("leave",), targets=("war",)),
                Transition(events=("regroup",), targets=("shire",), kind=Kind.INTERNAL),
            ),
            children=(
                State(
                    "bag_end",
                    StateKind.ATOMIC,
                    transitions=(Transition(events=("visit",), targets=("green_dragon",)),),
                ),
                State("green_dragon", StateKind.ATOMIC),
                State(
                    "back",
                    StateKind.HISTORY,
                    history=HistoryKind.DEEP,
                    transitions=(Transition(targets=("bag_end",)),),
                ),
            ),
        ),
        State(
            "war",
            StateKind.PARALLEL,
            transitions=(
                Transition(events=("done_state_war", "done.state.war"), targets=("road",)),
            ),
            children=(
                State(
                    "frodo",
                    StateKind.COMPOUND,
                    initial=Transition(targets=("walking",)),
                    children=(
                        State(
                            "walking",
                            StateKind.ATOMIC,
                            transitions=(Transition(events=("arrive",), targets=("mordor",)),),
                        ),
                        State("mordor", StateKind.FINAL),
                    ),
                ),
                State(
                    "sam",
                    StateKind.COMPOUND,
                    initial=Transition(targets=("cooking",)),
                    children=(
                        State(
                            "cooking",
                            StateKind.ATOMIC,
                            transitions=(Transition(events=("eat",), targets=("fed",)),),
                        ),
                        State("fed", StateKind.FINAL),
                    ),
                ),
            ),
        ),
        State("road", StateKind.FINAL),
    ),
)


@pytest.mark.parametrize(
    ("name", "expected"), [("TrafficLight", TRAFFIC_LIGHT), ("Journey", JOURNEY)]
)
def test_class_maps_to_the_expected_chart(name: str, expected: Chart) -> None:
    assert load(f"{MODULE}:{name}") == expected
    assert load(f"tests/model/data/machines.py:{name}") == expected


def test_spans_point_at_the_class_source() -> None:
    chart = load(f"{MODULE}:TrafficLight")
    assert chart.span.path == str(MACHINES)
    assert chart.span.line == line_of("class TrafficLight(StateMachine):")
    yellow = chart.states[1]
    assert (yellow.span.line, yellow.span.col) == (line_of("    yellow = State()"), 5)
    guard = yellow.transitions[0].guard
    assert guard is not None
    cycle = next(line for line in MACHINES.read_text().splitlines() if "cycle = " in line)
    assert guard.span.line == line_of(cycle)


@pytest.mark.parametrize("name", ["TrafficLight", "Journey"])
def test_class_charts_export_to_scxml_and_back(name: str) -> None:
    chart = load(f"{MODULE}:{name}")
    assert read_scxml_text(write_scxml(chart), f"{name}.scxml") == chart


def test_validate_accepts_a_class_reference() -> None:
    result = runner.invoke(app, ["validate", f"{MODULE}:Journey"])
    assert result.exit_code == 0, result.output
    assert "Journey: 12 states, 7 transitions" in result.stdout


def cli_error(target: str) -> str:
    result = runner.invoke(app, ["validate", target])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_callable_condition_is_reported_with_class_and_transition() -> None:
    stderr = cli_error(f"{MODULE}:LambdaGuard")
    line = line_of("    go = start.to(stop, cond=lambda: True)")
    assert (
        f"{MACHINES}:{line}:5: LambdaGuard: transition start -> stop on go: condition "
        "'LambdaGuard.<lambda>' is Python code autoflow cannot translate to CEL"
    ) in stderr
    assert "hint: autoflow translates conditions that read data" in stderr


def test_condition_naming_a_method_is_reported() -> None:
    stderr = cli_error(f"{MODULE}:MethodGuard")
    line = line_of('    go = start.to(stop, cond="is_ready")')
    assert (
        f"{MACHINES}:{line}:5: MethodGuard: transition start -> stop on go: condition "
        "'is_ready' is the method is_ready"
    ) in stderr


def test_not_a_statemachine_class() -> None:
    stderr = cli_error(f"{MODULE}:NotAMachine")
    line = line_of("class NotAMachine:")
    assert (
        f"{MACHINES}:{line}:1: {MODULE}:NotAMachine is not a python-statemachine class"
    ) in stderr
    assert "hint: statechart classes in the module: Journey, LambdaGuard" in stderr


def test_missing_class() -> None:
    stderr = cli_error(f"{MODULE}:Nope")
    assert f"{MACHINES}: module '{MODULE}' has no class 'Nope'" in stderr


def test_missing_module() -> None:
    stderr = cli_error("tests.model.data.nothing_here:Machine")
    assert (
        "tests.model.data.nothing_here:Machine: cannot import module "
        "'tests.model.data.nothing_here': no module named 'tests.model.data.nothing_here'"
    ) in stderr
    assert "hint: run autoflow from the directory that contains the package" in stderr


def test_missing_file(tmp_path: Path) -> None:
    stderr = cli_error(f"{tmp_path}/absent.py:Machine")
    assert f"{tmp_path}/absent.py: cannot import '{tmp_path}/absent.py': no such file" in stderr


def test_syntax_error_in_the_module(tmp_path: Path) -> None:
    module = tmp_path / "broken.py"
    module.write_text("from statemachine import State\n\nclass Broken(\n    x = 1\n")
    stderr = cli_error(f"{module}:Broken")
    assert f"{module}:3:" in stderr
    assert f"cannot import module '{module}'" in stderr


def test_exception_while_importing(tmp_path: Path) -> None:
    module = tmp_path / "raises.py"
    module.write_text("import os\n\nraise RuntimeError('no config')\n")
    stderr = cli_error(f"{module}:Machine")
    assert f"{module}:3:1: cannot import module '{module}': RuntimeError: no config" in stderr


def test_invalid_definition_from_python_statemachine(tmp_path: Path) -> None:
    module = tmp_path / "invalid.py"
    module.write_text(
        "from statemachine import State, StateMachine\n\n"
        "class TwoInitials(StateMachine):\n"
        "    a = State(initial=True)\n"
        "    b = State(initial=True)\n"
        "    go = a.to(b)\n"
    )
    stderr = cli_error(f"{module}:TwoInitials")
    assert f"{module}:3:1: python-statemachine rejects a class in '{module}'" in stderr
    assert "one and only one initial state" in stderr


def test_untranslatable_condition_expression(tmp_path: Path) -> None:
    module = tmp_path / "arith.py"
    module.write_text(
        "from statemachine import State, StateMachine\n\n"
        "class Arith(StateMachine):\n"
        "    a = State(initial=True)\n"
        "    b = State(final=True)\n"
        '    go = a.to(b, cond="count + 1")\n'
        "    count = 0\n"
    )
    stderr = cli_error(f"{module}:Arith")
    assert (
        f"{module}:6:5: Arith: transition a -> b on go: condition 'count + 1' uses "
        "'count + 1', which autoflow cannot translate to CEL"
    ) in stderr
