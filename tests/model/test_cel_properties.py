"""Properties of autoflow's CEL that hold for any input."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from autoflow.errors import EvaluationError, ExpressionError
from autoflow.model.cel import cel_literal, compile_expression
from autoflow.model.cel.values import INT64_MAX, INT64_MIN
from autoflow.model.span import Span

SPAN = Span("prop.yaml", 4, 9)

_CEL_TEXT = st.text(
    alphabet=st.sampled_from(list("abxy019 .,()[]{}!?:<>=&|+-*/%'\"\\\nrbu_")), max_size=30
)


@settings(max_examples=400, deadline=None)
@given(_CEL_TEXT)
def test_any_text_compiles_or_fails_with_a_position_inside_it(text: str) -> None:
    try:
        program = compile_expression(text, SPAN)
    except ExpressionError as error:
        span = error.span
    else:
        with contextlib.suppress(EvaluationError):
            program.evaluate({"a": 1, "b": "x", "x": [1, 2], "y": {"a": True}})
        return
    assert span is not None
    lines = text.split("\n")
    line_index = span.line - SPAN.line
    assert 0 <= line_index < len(lines)
    first_col = SPAN.col if line_index == 0 else 1
    assert first_col <= span.col <= first_col + len(lines[line_index])


@settings(max_examples=200, deadline=None)
@given(_CEL_TEXT)
def test_free_variables_are_identifiers_of_the_source(text: str) -> None:
    try:
        program = compile_expression(text, SPAN)
    except ExpressionError:
        return
    names = set(re.findall(r"[_a-zA-Z][_a-zA-Z0-9]*", text))
    assert program.free_variables <= names


_INT64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)


def _truncating_division(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


@given(_INT64, _INT64, st.sampled_from(["+", "-", "*", "/", "%"]))
def test_int_arithmetic_is_64_bit_with_errors_on_overflow(a: int, b: int, op: str) -> None:
    program = compile_expression(f"a {op} b", SPAN)
    if op in "/%" and b == 0:
        expected: Any = EvaluationError
    elif op == "/":
        expected = _truncating_division(a, b)
    elif op == "%":
        expected = a - b * _truncating_division(a, b)
    else:
        expected = {"+": a + b, "-": a - b, "*": a * b}[op]
    if expected is not EvaluationError and not INT64_MIN <= expected <= INT64_MAX:
        expected = EvaluationError
    if expected is EvaluationError:
        try:
            program.evaluate({"a": a, "b": b})
        except EvaluationError:
            return
        raise AssertionError(f"{a} {op} {b} should fail")
    assert program.evaluate({"a": a, "b": b}) == expected


_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        _INT64,
        st.floats(allow_nan=False),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(_JSON)
def test_literal_text_of_a_value_evaluates_to_the_value(value: Any) -> None:
    program = compile_expression(cel_literal(value), SPAN)
    assert program.is_constant
    assert program.evaluate({}) == value
    assert compile_expression("x == " + cel_literal(value), SPAN).evaluate({"x": value})


@given(_JSON, _JSON)
def test_equality_is_symmetric_and_in_agrees_with_equality(a: Any, b: Any) -> None:
    equal = compile_expression("a == b", SPAN).evaluate({"a": a, "b": b})
    assert compile_expression("b == a", SPAN).evaluate({"a": a, "b": b}) is equal
    assert compile_expression("a != b", SPAN).evaluate({"a": a, "b": b}) is (not equal)
    assert compile_expression("a in [b]", SPAN).evaluate({"a": a, "b": b}) is equal


@given(st.lists(_INT64, max_size=6), _INT64)
def test_macros_match_python(items: list[int], limit: int) -> None:
    activation = {"items": items, "limit": limit}

    def run(source: str) -> Any:
        return compile_expression(source, SPAN).evaluate(activation)

    assert run("items.all(x, x > limit)") is all(x > limit for x in items)
    assert run("items.exists(x, x > limit)") is any(x > limit for x in items)
    assert run("items.exists_one(x, x > limit)") is (sum(x > limit for x in items) == 1)
    assert run("items.filter(x, x > limit)") == [x for x in items if x > limit]
    assert run("items.map(x, x > limit, x == limit)") == [x == limit for x in items if x > limit]
    assert run("size(items)") == len(items)
