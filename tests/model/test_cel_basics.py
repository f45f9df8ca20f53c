"""Smoke tests of the CEL public API: compile, evaluate, free variables, error positions."""

import pytest

from autoflow.errors import EvaluationError, ExpressionError
from autoflow.model.cel import compile_expression
from autoflow.model.span import Span

SPAN = Span("flow.yaml", 10, 7)


def test_guard_evaluates_against_activation() -> None:
    program = compile_expression('a > 3 && b in ["x", "y"]', SPAN)
    assert program.evaluate({"a": 4, "b": "x"}) is True
    assert program.evaluate({"a": 4, "b": "z"}) is False
    assert program.free_variables == frozenset({"a", "b"})


def test_missing_variable_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="no such variable: a"):
        compile_expression("a + 1", SPAN).evaluate({})


def test_syntax_error_points_at_the_column() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("(a + 1", SPAN)
    assert caught.value.span is not None
    assert (caught.value.span.line, caught.value.span.col) == (10, 13)
    assert "expected ')' but found end of expression" in caught.value.message
