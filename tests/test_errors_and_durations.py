"""Error rendering (path:line:col, excerpt, hint) and duration parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoflow.errors import ModelError, ModelErrors, SchemaError, TraceError
from autoflow.model.durations import duration_cel, format_duration, parse_duration
from autoflow.model.span import Span, register_source


def test_model_error_renders_location_excerpt_and_hint(tmp_path: Path) -> None:
    source = tmp_path / "w.yaml"
    source.write_text("workflow: x\nstates:\n  a: {on: {go: nowhere}}\n")
    error = SchemaError(
        "unknown target 'nowhere'", Span(str(source), 3, 15), hint="did you mean 'a'?"
    )
    text = error.render()
    assert text.splitlines() == [
        f"{source}:3:15: unknown target 'nowhere'",
        "   3 |   a: {on: {go: nowhere}}",
        "                     ^",
        "hint: did you mean 'a'?",
    ]


def test_registered_in_memory_source_is_excerpted() -> None:
    register_source("<memory>", "first\nsecond line\n")
    assert ModelError("bad", Span("<memory>", 2, 8)).render().splitlines()[1:] == [
        "   2 | second line",
        "              ^",
    ]


def test_span_without_line_prints_the_path_only() -> None:
    assert ModelError("oops", Span("f.yaml")).render() == "f.yaml: oops"


def test_several_errors_render_one_after_another() -> None:
    errors = ModelErrors([ModelError("one", Span("a", 1, 1)), ModelError("two", Span("a", 2, 3))])
    assert str(errors) == "a:1:1: one\na:2:3: two"


def test_trace_error_names_line_and_field() -> None:
    assert str(TraceError("not a time", "t.jsonl", 4, "at")) == "t.jsonl:4: field 'at': not a time"


def test_trace_error_about_the_whole_file_has_no_line() -> None:
    assert str(TraceError("cannot read it", "t.jsonl", 0)) == "t.jsonl: cannot read it"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("2d", 172800), ("1w", 604800), ("1d12h", 129600)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "2", "2 days", "d2", "2x", "-1d"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_format_and_cel() -> None:
    assert format_duration(5400) == "1h30m"
    assert duration_cel(172800) == 'duration("172800s")'
