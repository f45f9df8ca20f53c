"""CEL evaluation: every operator, macro and function, error semantics, free variables."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from autoflow.errors import EvaluationError
from autoflow.model.cel import CelType, Program, UInt, compile_expression
from autoflow.model.span import Span

SPAN = Span("flow.yaml", 1, 1)
T0 = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)  # a Monday


def run(source: str, activation: dict[str, Any] | None = None, **functions: Any) -> Any:
    return compile_expression(source, SPAN).evaluate(activation or {}, functions or None)


def fails(source: str, activation: dict[str, Any] | None = None) -> str:
    with pytest.raises(EvaluationError) as caught:
        run(source, activation)
    return str(caught.value)


VARS: dict[str, Any] = {
    "n": 5,
    "u": UInt(7),
    "d": 2.5,
    "s": "Hello",
    "b": b"ab",
    "ok": True,
    "nothing": None,
    "items": [3, 1, 2],
    "names": ["ann", "bob"],
    "m": {"a": 1, "b": {"c": "deep"}, "list": [1, 2]},
    "event": {"object_attributes": {"state": "closed", "labels": ["bug", "p1"]}},
    "t": T0,
    "dur": timedelta(hours=1, minutes=30),
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # arithmetic
        ("n + 2", 7),
        ("n - 7", -2),
        ("n * 3", 15),
        ("7 / 2", 3),
        ("-7 / 2", -3),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7 % -3", 1),
        ("u + 1u", UInt(8)),
        ("u / 2u", UInt(3)),
        ("u % 4u", UInt(3)),
        ("u * 2u", UInt(14)),
        ("u - 7u", UInt(0)),
        ("d * 2.0", 5.0),
        ("d / 2.0", 1.25),
        ("d - 0.5", 2.0),
        ("1.0 / 0.0", math.inf),
        ("-1.0 / 0.0", -math.inf),
        ("-n", -5),
        ("-d", -2.5),
        ("--n", 5),
        ("s + ' world'", "Hello world"),
        ("b + b'c'", b"abc"),
        ("items + [4]", [3, 1, 2, 4]),
        ("[] + []", []),
        # comparison
        ("n == 5", True),
        ("n != 5", False),
        ("n < 6 && n <= 5 && n > 4 && n >= 5", True),
        ("u > 3u", True),
        ("d < 3.0", True),
        ("'abc' < 'abd'", True),
        ("b'a' < b'b'", True),
        ("false < true", True),
        ("[1, 2] == [1, 2]", True),
        ("[1, 2] == [2, 1]", False),
        ("{'a': 1} == {'a': 1}", True),
        ("{'a': 1} != {'a': 2}", True),
        ("null == null", True),
        ("nothing == null", True),
        ("m.b == {'c': 'deep'}", True),
        # heterogeneous numbers (current CEL spec)
        ("1 == 1.0", True),
        ("1u == 1", True),
        ("2 < 2.5", True),
        ("3u >= 2", True),
        # values of different types are not equal
        ("1 == true", False),
        ("'1' == 1", False),
        ("null == 0", False),
        ("[1] == [true]", False),
        ("0.0 / 0.0 == 0.0 / 0.0", False),
        # logic
        ("true && false", False),
        ("true || false", True),
        ("!ok", False),
        ("!!ok", True),
        ("ok ? 'yes' : 'no'", "yes"),
        ("!ok ? 1 : 2", 2),
        # membership
        ("3 in items", True),
        ("4 in items", False),
        ("'a' in m", True),
        ("'z' in m", False),
        ("'bug' in event.object_attributes.labels", True),
        ("s in ['Hello', 'x']", True),
        ("n in [1, 5]", True),
        ("5.0 in [1, 5]", True),
        ("true in [1, 5]", False),
        # selection and indexing
        ("m.a", 1),
        ("m.b.c", "deep"),
        ("m['b']['c']", "deep"),
        ("m.list[1]", 2),
        ("items[0]", 3),
        ("items[2u]", 2),
        ("event.object_attributes.state == 'closed'", True),
        ("{1: 'one', 'x': 'yes'}[1]", "one"),
        ("{true: 'yes'}[true]", "yes"),
        ("1 in {true: 'yes'}", False),
        ("true in {1: 'one'}", False),
        ("{1: 'one'}[1.0]", "one"),
        ("[[1, 2], [3]][0][1]", 2),
        # has
        ("has(m.a)", True),
        ("has(m.z)", False),
        ("has(m.b.c)", True),
        ("has(event.object_attributes.milestone_id)", False),
        # macros
        ("items.all(x, x > 0)", True),
        ("items.all(x, x > 1)", False),
        ("items.exists(x, x == 2)", True),
        ("items.exists(x, x > 5)", False),
        ("items.exists_one(x, x > 2)", True),
        ("items.exists_one(x, x > 1)", False),
        ("items.map(x, x * 10)", [30, 10, 20]),
        ("items.map(x, x > 1, x * 10)", [30, 20]),
        ("items.filter(x, x != 1)", [3, 2]),
        ("m.filter(k, k != 'a')", ["b", "list"]),
        ("m.all(k, size(k) >= 1)", True),
        ("[].all(x, false)", True),
        ("[].exists(x, true)", False),
        ("names.map(n, n.upperAscii())", ["ANN", "BOB"]),
        ("[[1, 2], [3]].map(l, l.map(x, x * 2))", [[2, 4], [6]]),
        ("[1, 2].all(n, n < 3) && n == 5", True),
        ("[1, 2].exists(x, [x].exists(y, y == 2))", True),
        # size & strings
        ("size(s)", 5),
        ("s.size()", 5),
        ("size(items)", 3),
        ("size(m)", 3),
        ("size(b)", 2),
        ("size('héllo')", 5),
        ("s.contains('ell')", True),
        ("s.startsWith('He')", True),
        ("s.endsWith('lo')", True),
        ("s.matches('^H.l+o$')", True),
        ("matches(s, 'l{2}')", True),
        ("s.matches('xyz')", False),
        ("'a1'.matches(r'\\d')", True),
        ("s.lowerAscii()", "hello"),
        ("'ÄbC'.upperAscii()", "ÄBC"),
        ("'  x  '.trim()", "x"),
        ("'a,b,c'.split(',')", ["a", "b", "c"]),
        ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
        ("'a,b'.split(',', 0)", []),
        ("names.join(', ')", "ann, bob"),
        ("['x', 'y'].join()", "xy"),
        ("'aaa'.replace('a', 'b')", "bbb"),
        ("'aaa'.replace('a', 'b', 2)", "bba"),
        ("s.indexOf('l')", 2),
        ("s.indexOf('l', 3)", 3),
        ("s.indexOf('z')", -1),
        ("s.lastIndexOf('l')", 3),
        ("s.substring(1)", "ello"),
        ("s.substring(1, 3)", "el"),
        ("s.charAt(1)", "e"),
        # conversions
        ("int('42')", 42),
        ("int(2.9)", 2),
        ("int(-2.9)", -2),
        ("int(u)", 7),
        ("int(timestamp('1970-01-01T00:01:00Z'))", 60),
        ("uint(5)", UInt(5)),
        ("uint('5')", UInt(5)),
        ("uint(2.5)", UInt(2)),
        ("double(n)", 5.0),
        ("double('1e3')", 1000.0),
        ("double(u)", 7.0),
        ("string(n)", "5"),
        ("string(u)", "7"),
        ("string(1.5)", "1.5"),
        ("string(100.0)", "100"),
        ("string(1e20)", "1e+20"),
        ("string(true)", "true"),
        ("string(b)", "ab"),
        ("string(t)", "2024-05-06T08:00:00Z"),
        ("string(dur)", "5400s"),
        ("string(duration('1.5s'))", "1.5s"),
        ("string(int)", "int"),
        ("bool('true')", True),
        ("bool('f')", False),
        ("bytes('é')", "é".encode()),
        ("dyn(n) + 1", 6),
        ("type(n) == int", True),
        ("type(u) == uint", True),
        ("type(d) == double", True),
        ("type(s) == string", True),
        ("type(b) == bytes", True),
        ("type(ok) == bool", True),
        ("type(nothing) == null_type", True),
        ("type(items) == list", True),
        ("type(m) == map", True),
        ("type(int) == type", True),
        ("type(t) == google.protobuf.Timestamp", True),
        ("type(dur) == google.protobuf.Duration", True),
        ("type(1) == type(2)", True),
        ("type(1) != type('a')", True),
        # time
        ("t + dur", datetime(2024, 5, 6, 9, 30, tzinfo=UTC)),
        ("dur + t", datetime(2024, 5, 6, 9, 30, tzinfo=UTC)),
        ("t - dur", datetime(2024, 5, 6, 6, 30, tzinfo=UTC)),
        ("t - timestamp('2024-05-06T00:00:00Z')", timedelta(hours=8)),
        ("dur + duration('30m')", timedelta(hours=2)),
        ("dur - duration('30m')", timedelta(hours=1)),
        ("-dur", -timedelta(minutes=90)),
        ("t > timestamp('2024-01-01T00:00:00Z')", True),
        ("dur < duration('2h')", True),
        ("duration('1h30m') == dur", True),
        ("duration('1.5h')", timedelta(minutes=90)),
        ("duration('-2m')", -timedelta(minutes=2)),
        ("duration('300ms')", timedelta(milliseconds=300)),
        ("duration('2us')", timedelta(microseconds=2)),
        ("duration('0')", timedelta(0)),
        ("timestamp('2024-05-06T10:00:00+02:00') == t", True),
        ("timestamp('2024-05-06T08:00:00.250Z') - t", timedelta(milliseconds=250)),
        ("timestamp(0)", datetime(1970, 1, 1, tzinfo=UTC)),
        ("t.getFullYear()", 2024),
        ("t.getMonth()", 4),
        ("t.getDayOfMonth()", 5),
        ("t.getDate()", 6),
        ("t.getDayOfWeek()", 1),
        ("t.getDayOfYear()", 126),
        ("t.getHours()", 8),
        ("t.getHours('Europe/Berlin')", 10),
        ("t.getHours('-05:00')", 3),
        ("t.getMinutes()", 0),
        ("t.getSeconds()", 0),
        ("t.getMilliseconds()", 0),
        ("timestamp('2024-01-01T00:30:00Z').getDayOfWeek('America/New_York')", 0),
        ("dur.getHours()", 1),
        ("dur.getMinutes()", 90),
        ("dur.getSeconds()", 5400),
        ("duration('1.5s').getMilliseconds()", 1500),
        # autoflow extension
        (
            "next_weekday(t, 'monday', '09:00', 'Europe/Berlin')",
            datetime(2024, 5, 13, 7, 0, tzinfo=UTC),
        ),
        (
            "next_weekday(t, 'monday', '11:00', 'Europe/Berlin')",
            datetime(2024, 5, 6, 9, 0, tzinfo=UTC),
        ),
        ("next_weekday(t, 'friday', '17:30')", datetime(2024, 5, 10, 17, 30, tzinfo=UTC)),
        ("next_weekday(t, 'Mon', '08:00')", datetime(2024, 5, 13, 8, 0, tzinfo=UTC)),
    ],
)
def test_evaluates(source: str, expected: Any) -> None:
    result = run(source, VARS)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing + 1", "no such variable: missing"),
        ("m.z", "no such key: z"),
        ("m['z']", "no such key: 'z'"),
        ("items[3]", "index 3 out of range"),
        ("items[-1]", "index -1 out of range"),
        ("items['a']", "list index must be an int"),
        ("s.a", "cannot select field 'a' from a value of type string"),
        ("has(s.a)", "has() cannot test field 'a'"),
        ("n + 1.0", "no such overload: _+_ applied to (int, double)"),
        ("n + u", "no such overload"),
        ("s + 1", "no such overload"),
        ("n / 0", "division by zero"),
        ("n % 0", "modulus by zero"),
        ("1.5 % 1.0", "no such overload"),
        ("9223372036854775807 + 1", "int overflow"),
        ("-9223372036854775807 - 2", "int overflow"),
        ("9223372036854775807 * 2", "int overflow"),
        ("-9223372036854775808 / -1", "int overflow"),
        ("-(-9223372036854775808)", "int overflow"),
        ("0u - 1u", "uint overflow"),
        ("18446744073709551615u + 1u", "uint overflow"),
        ("-u", "no such overload"),
        ("!n", "no such overload"),
        ("n ? 1 : 2", "no such overload"),
        ("n && true", "no such overload"),
        ("n < 'a'", "no such overload"),
        ("items < items", "no such overload"),
        ("1 in 2", "no such overload"),
        ("size(n)", "no such overload: size"),
        ("int('x')", "not an integer"),
        ("int(1e19)", "out of range"),
        ("int(9223372036854775807u + 1u)", "int overflow"),
        ("uint(-1)", "negative"),
        ("double('one')", "not a number"),
        ("bool('yes')", "not a boolean"),
        ("string(b'\\xff')", "not valid UTF-8"),
        ("duration(s)", "duration('Hello')"),
        ("timestamp(s)", "not an RFC 3339 timestamp"),
        ("{1: 'one'}[true]", "no such key: True"),
        ("{1: 'one', true: 'yes'}", "map keys True and 1 cannot be in one map"),
        ("t + t", "no such overload"),
        ("t.getHours('Mars/Olympus')", "unknown time zone"),
        ("s.matches(s + '(')", "invalid regular expression"),
        ("s.substring(2, 1)", "out of bounds"),
        ("s.substring(9)", "out of bounds"),
        ("[1, 2].join(',')", "join: list element is int"),
        ("{'a': 1, 'a': 2}", "repeated key in map literal"),
        ("{[1]: 2}", "unsupported map key type list"),
        ("n.all(x, true)", "all() needs a list or a map"),
        ("items.all(x, x)", "no such overload"),
        ("items.map(x, x / 0)", "division by zero"),
        ("items.exists_one(x, x / 0 == 1)", "division by zero"),
        ("items.filter(x, 1)", "no such overload"),
        ("next_weekday(t, 'someday', '09:00')", "unknown weekday"),
        ("next_weekday(t, 'monday', '9am')", "not HH:MM"),
        ("next_weekday(t, 'monday', '25:00')", "out of range"),
        ("In('a')", "function In() is not available here"),
    ],
)
def test_evaluation_errors(source: str, message: str) -> None:
    assert message in fails(source, VARS)


# --------------------------------------------------------------------------- error semantics


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("missing && false", False),
        ("false && missing", False),
        ("missing || true", True),
        ("true || missing", True),
        ("(1 / 0 == 1) && false", False),
        ("false && (1 / 0 == 1)", False),
        ("(1 / 0 == 1) || true", True),
        ("'a' && false", False),
        ("true || 'a'", True),
        ("[1, 0].exists(x, 1 / x == 1)", True),
        ("[0, 1].exists(x, 1 / x == 1)", True),
        ("[0, 2].all(x, 1 / x == 1)", False),
        ("[2, 0].all(x, 1 / x == 1)", False),
        ("false ? missing : 1", 1),
        ("true ? 1 : missing", 1),
    ],
)
def test_logical_operators_absorb_errors_commutatively(source: str, expected: Any) -> None:
    assert run(source) is expected if isinstance(expected, bool) else run(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "missing && true",
        "true && missing",
        "missing || false",
        "false || missing",
        "(1 / 0 == 1) && (2 / 0 == 1)",
        "[0, 1].all(x, 1 / x == 1)",
        "[0, 2].exists(x, 1 / x == 1)",
    ],
)
def test_logical_operators_keep_an_error_that_decides(source: str) -> None:
    with pytest.raises(EvaluationError):
        run(source)


# ------------------------------------------------------------------ free variables, constants


@pytest.mark.parametrize(
    ("source", "free"),
    [
        ("a.b.c", {"a"}),
        ("a[b].c", {"a", "b"}),
        ("items.all(x, x > limit)", {"items", "limit"}),
        ("items.map(x, x.y)", {"items"}),
        ("x + items.map(x, x)[0]", {"x", "items"}),
        ("[1].all(y, [2].all(z, y < z && z < w))", {"w"}),
        ("has(event.object_attributes.milestone_id)", {"event"}),
        ("type(v) == int", {"v"}),
        ("In('review') && now > deadline", {"now", "deadline"}),
        ("{'k': v}.k", {"v"}),
        ("1 + 2", set()),
        (".root.field", {"root"}),
        ("c ? t : e", {"c", "t", "e"}),
    ],
)
def test_free_variables(source: str, free: set[str]) -> None:
    assert compile_expression(source, SPAN).free_variables == frozenset(free)


def test_function_names_exclude_macros_and_operators() -> None:
    program = compile_expression(
        "size(l) > 0 && l.all(x, x.startsWith('a')) && In('s') && has(m.f)", SPAN
    )
    assert program.function_names == frozenset({"size", "startsWith", "In"})


def test_constant_expressions_are_folded() -> None:
    program = compile_expression('duration("172800s")', SPAN)
    assert program.is_constant
    assert program.constant_value == timedelta(days=2)
    assert compile_expression("[1, 2 + 3, {'a': 'b'}]", SPAN).constant_value == [1, 5, {"a": "b"}]
    assert not compile_expression("now + duration('1h')", SPAN).is_constant
    assert not compile_expression("In('a')", SPAN).is_constant
    assert not compile_expression("1 / 0", SPAN).is_constant
    with pytest.raises(ValueError, match="not a constant"):
        _ = compile_expression("x", SPAN).constant_value


def test_constant_lists_cannot_be_changed_through_a_result() -> None:
    program = compile_expression("['a', 'b']", SPAN)
    first = program.evaluate({})
    first.append("c")
    assert program.evaluate({}) == ["a", "b"]
    assert program.constant_value == ["a", "b"]


def test_comprehension_variable_shadows_and_then_restores() -> None:
    assert run("[1, 2].map(x, x * 10) + [x]", {"x": 7}) == [10, 20, 7]


def test_activation_may_be_any_mapping_and_values_tuples() -> None:
    from types import MappingProxyType

    activation = MappingProxyType({"l": (1, 2), "m": MappingProxyType({"k": "v"})})
    assert run("size(l) == 2 && l[1] == 2 && m.k == 'v' && 'k' in m", activation) is True  # type: ignore[arg-type]


# --------------------------------------------------------------------------- external functions


def test_external_function_In_is_called_with_its_arguments() -> None:
    active = {"review"}
    program: Program = compile_expression("In('review') && !In('done')", SPAN)
    assert program.evaluate({}, {"In": lambda state: state in active}) is True
    active.add("done")
    assert program.evaluate({}, {"In": lambda state: state in active}) is False


def test_failure_inside_an_external_function_is_an_evaluation_error() -> None:
    def broken(state: str) -> bool:
        raise RuntimeError("store unavailable")

    with pytest.raises(EvaluationError, match="In\\(\\) failed: store unavailable"):
        run("In('x')", In=broken)


def test_unsupported_python_values_are_evaluation_errors() -> None:
    with pytest.raises(EvaluationError, match="unsupported value of Python type object"):
        run("x == 1", {"x": object()})


def test_type_values_print_their_names() -> None:
    assert repr(run("type(1)")) == "int"
    assert run("type(1)") == CelType("int")


# --------------------------------------------------------------------------- helpers for readers


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        -(2**63),
        UInt(2**64 - 1),
        -0.0,
        1e-7,
        math.inf,
        'quote " backslash \\ newline \n tab \t bell \a emoji 😀',
        b'\x00\xff"\\',
        [1, [2, {"k": None}]],
        {"labels": ["workflow::backlog"], 1: "one"},
        datetime(2024, 5, 6, 8, 0, 0, 250000, tzinfo=UTC),
        timedelta(days=2, microseconds=5),
        -timedelta(minutes=90),
    ],
)
def test_cel_literal_round_trips(value: Any) -> None:
    from autoflow.model.cel import cel_literal

    result = run(cel_literal(value))
    assert result == value
    assert type(result) is type(value)


def test_cel_literal_rejects_values_cel_cannot_hold() -> None:
    from autoflow.model.cel import cel_literal

    with pytest.raises(TypeError, match="no CEL literal"):
        cel_literal(object())


def test_span_of_a_node_points_into_the_file() -> None:
    from autoflow.model.cel import ast, span_of

    program = compile_expression("a &&\n  b.c > 1", Span("f.yaml", 3, 9))
    node = next(n for n in ast.walk(program.ast) if isinstance(n, ast.Select))
    span = span_of(program, node, Span("f.yaml", 3, 9))
    assert (span.line, span.col, span.end_col) == (4, 3, 6)


def test_error_span_underlines_the_offending_token() -> None:
    from autoflow.errors import ExpressionError

    with pytest.raises(ExpressionError) as caught:
        compile_expression("size(x) + sise(y)", Span("f.yaml", 2, 5))
    span = caught.value.span
    assert span is not None
    assert (span.line, span.col, span.end_col) == (2, 15, 22)
