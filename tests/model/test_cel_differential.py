"""Differential test: autoflow's CEL and cel-python (celpy) agree on a corpus and on
generated expressions.

Each expression is evaluated by both; both must produce the same value (same
CEL type, same value) or both must fail.  Where the two deliberately differ
(newer CEL spec rules that celpy 0.5 predates, or celpy bugs), the case is in
``DOCUMENTED_DIFFERENCES`` with autoflow's expected result instead, and
``docs/expressions.md`` lists it.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoflow.errors import EvaluationError
from autoflow.model.cel import UInt, cel_literal, compile_expression
from autoflow.model.span import Span

celpy = pytest.importorskip("celpy")
celtypes = pytest.importorskip("celpy.celtypes")

SPAN = Span("differential.cel")
ERROR = ("error",)


def to_celpy(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, UInt):
        return celtypes.UintType(int(value))
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, bytes):
        return celtypes.BytesType(value)
    if isinstance(value, list):
        return celtypes.ListType([to_celpy(item) for item in value])
    if isinstance(value, dict):
        return celtypes.MapType({to_celpy(k): to_celpy(v) for k, v in value.items()})
    if isinstance(value, datetime):
        return celtypes.TimestampType(value)
    if isinstance(value, timedelta):
        return celtypes.DurationType(value)
    raise TypeError(type(value))


def from_celpy(value: Any) -> Any:
    """celpy's result as autoflow's plain Python value, keeping the CEL type."""
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.UintType):
        return UInt(int(value))
    if isinstance(value, celtypes.IntType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.BytesType):
        return bytes(value)
    if isinstance(value, celtypes.TimestampType):
        return datetime.fromtimestamp(value.timestamp(), UTC).replace(microsecond=value.microsecond)
    if isinstance(value, celtypes.DurationType):
        return timedelta(seconds=value.total_seconds())
    if isinstance(value, list):
        return [from_celpy(item) for item in value]
    if isinstance(value, dict):
        return {from_celpy(k): from_celpy(v) for k, v in value.items()}
    if isinstance(value, bool | int | float | str | bytes):  # celpy sometimes returns these
        return value
    raise TypeError(f"unexpected celpy value {value!r}")


def tagged(value: Any) -> Any:
    """A comparable form of a value that keeps CEL types apart (1, 1u, 1.0, true) and NaN."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, UInt):
        return ("uint", int(value))
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("double", "nan" if math.isnan(value) else value)
    if isinstance(value, list):
        return ("list", [tagged(item) for item in value])
    if isinstance(value, dict):
        return ("map", sorted((repr(tagged(k)), tagged(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def ours(source: str, activation: dict[str, Any]) -> Any:
    try:
        return tagged(compile_expression(source, SPAN).evaluate(activation))
    except EvaluationError:
        return ERROR


_ENVIRONMENT = celpy.Environment()


def theirs(source: str, activation: dict[str, Any]) -> Any:
    program = _ENVIRONMENT.program(_ENVIRONMENT.compile(source))
    try:
        result = program.evaluate({name: to_celpy(v) for name, v in activation.items()})
    except (celpy.CELEvalError, ArithmeticError, ValueError):
        # celpy lets some Python errors escape (int(NaN)); CEL calls them errors.
        return ERROR
    if isinstance(result, celpy.CELEvalError):
        return ERROR
    return tagged(from_celpy(result))


ACTIVATION: dict[str, Any] = {
    "n": 5,
    "neg": -3,
    "u": UInt(4),
    "d": 2.5,
    "s": "Hello, World",
    "ok": True,
    "items": [3, 1, 2],
    "names": ["ann", "bob", "cy"],
    "m": {"a": 1, "b": {"c": "deep"}},
    "event": {"object_attributes": {"state": "closed", "iid": 42, "labels": ["bug"]}},
    "t": datetime(2024, 5, 6, 8, 0, tzinfo=UTC),
    "dur": timedelta(minutes=90),
}

CORPUS = [
    "n + 2 * 3 - 1",
    "(n + 2) * 3",
    "n / 2",
    "neg / 2",
    "neg % 2",
    "n % neg",
    "n / 0",
    "n % 0",
    "9223372036854775807 + 1",
    "-9223372036854775808 - 1",
    "9223372036854775807 * 2",
    "-9223372036854775808",
    "u + 1u",
    "u - 5u",
    "u * 3u",
    "u / 3u",
    "d * 2.0 + 0.5",
    "d / 0.0",
    "1.0 / 3.0",
    "-d",
    "-neg",
    "n == 5 && n != 4",
    "n < 6 && n <= 5 && n > 4 && n >= 5",
    "u < 5u",
    "d >= 2.5",
    "s < 'Zebra'",
    "'abc' + 'def' == 'abcdef'",
    "b'abc' < b'abd'",
    "false < true",
    "ok && !ok",
    "ok || !ok",
    "!ok ? 1 : 2",
    "ok ? 'yes' : 'no'",
    "n > 3 && s.startsWith('Hell')",
    "n > 10 || s.endsWith('World')",
    "s.contains(', ')",
    "s.matches('^H[a-z]+, W')",
    "size(s)",
    "s.size() + size(items) + size(m)",
    "size(b'\\x00\\xff')",
    "size('héllo')",
    "3 in items",
    "7 in items",
    "'a' in m",
    "'z' in m",
    "'bob' in names",
    "items == [3, 1, 2]",
    "items + [4] == [3, 1, 2, 4]",
    "m == {'a': 1, 'b': {'c': 'deep'}}",
    "m.a + 1",
    "m.b.c",
    "m['b']['c']",
    "m.z",
    "items[0] + items[2]",
    "items[5]",
    "has(m.a)",
    "has(m.z)",
    "has(m.b.c)",
    "event.object_attributes.state == 'closed' && event.object_attributes.iid > 40",
    "has(event.object_attributes.milestone_id)",
    "'bug' in event.object_attributes.labels",
    "items.all(x, x > 0)",
    "items.all(x, x > 1)",
    "items.exists(x, x == 2)",
    "items.exists(x, x > 9)",
    "items.exists_one(x, x > 2)",
    "items.exists_one(x, x > 1)",
    "items.map(x, x * x)",
    "items.filter(x, x % 2 == 1)",
    "names.map(n, n + '!')",
    "names.filter(x, x.startsWith('b'))",
    "m.all(k, k in ['a', 'b'])",
    "[1, 2, 3].map(x, [x, x * 2])",
    "[[1], [2, 3]].exists(l, l.all(x, x > 1))",
    "[0, 1].exists(x, 1 / x == 1)",
    "[0, 2].all(x, 1 / x == 1)",
    "missing && false",
    "false && missing",
    "missing || true",
    "true || missing",
    "missing && true",
    "(1 / 0 == 1) || false",
    "int('42') + 1",
    "int('x')",
    "int(2.9)",
    "int(-2.9)",
    "int(u)",
    "uint(7)",
    "uint(-1)",
    "double(n) / 2.0",
    "double('2.5')",
    "string(n) + string(u)",
    "string(1.5)",
    "string(b'abc')",
    "bool('true')",
    "bytes('abc')",
    "dyn(n) + 1",
    "type(n) == int",
    "type(s) == string",
    "type(items) == list",
    "type(m) == map",
    "type(ok) == bool",
    "type(u) == uint",
    "type(d) == double",
    "type(null) == null_type",
    "t + dur > t",
    "t - dur < t",
    "t - timestamp('2024-05-06T00:00:00Z')",
    "dur + duration('30m')",
    "dur - duration('30m') == duration('1h')",
    "duration('1h30m') == dur",
    "duration('-1.5h')",
    "duration('250ms') < duration('1s')",
    "timestamp('2024-05-06T10:00:00+02:00') == t",
    "t.getFullYear()",
    "t.getMonth()",
    "t.getDayOfMonth()",
    "t.getDate()",
    "t.getDayOfWeek()",
    "t.getDayOfYear()",
    "t.getHours()",
    "t.getHours('Europe/Berlin')",
    "t.getMinutes('America/New_York')",
    "t.getSeconds()",
    "dur.getHours()",
    "dur.getMinutes()",
    "dur.getSeconds()",
    "duration('1.5s').getMilliseconds()",
    "'a\\tb\\u00e9\\x41\\101'",
    'r\'a\\d\' + """x y"""',
    "{'k': [1, 2], 'j': {'x': null}}",
    "[1, 'two', 3.0, true, null, b'x']",
    "-(-9223372036854775807)",
    "0x10 + 0x1 == 17",
    "0x10u + 0x1u == 17u",
    "n + d",
]


@pytest.mark.parametrize("source", CORPUS)
def test_corpus_agrees_with_celpy(source: str) -> None:
    assert ours(source, ACTIVATION) == theirs(source, ACTIVATION)


# Where autoflow follows the current CEL specification (or cel-go) and celpy 0.5 does not.
DOCUMENTED_DIFFERENCES: list[tuple[str, Any]] = [
    ("1 == 1.0", True),  # heterogeneous numeric equality: celpy raises no-overload
    ("1u == 1", True),
    ("2 < 2.5", True),  # cross-type numeric ordering
    ("1 == true", False),  # different types are unequal: celpy raises no-overload
    ("'1' == 1", False),
    ("string(100.0)", "100"),  # cel-go %g formatting: celpy prints "100.0"
    ("string(duration('1.5s'))", "1.5s"),  # celpy drops the fraction ("1s")
    ("string(timestamp('2024-01-01T00:00:00.120Z'))", "2024-01-01T00:00:00.12Z"),
    ("string(true)", "true"),  # celpy prints Python's "True"
    ('"""x\ny"""', "x\ny"),  # celpy drops the newline of a triple-quoted string
    ("0x10 + 0x1u", ERROR),  # no int + uint overload: celpy adds them
    ("0.0 / 0.0", math.nan),  # IEEE 754: celpy says inf
    ("('a' + 'b').contains('a')", True),  # celpy: no method on a computed string
]


@pytest.mark.parametrize(("source", "expected"), DOCUMENTED_DIFFERENCES)
def test_documented_differences(source: str, expected: Any) -> None:
    want = expected if expected is ERROR else tagged(expected)
    assert ours(source, {}) == want
    assert theirs(source, {}) != want


# --------------------------------------------------------------------------- generated


def _int_literals() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-20, max_value=20),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ).map(lambda value: f"({value})")


def _double_literals() -> st.SearchStrategy[str]:
    return st.floats(allow_nan=False, allow_infinity=False, width=64).map(
        lambda value: f"({cel_literal(value)})"
    )


def _string_literals() -> st.SearchStrategy[str]:
    alphabet = st.characters(codec="utf-8", exclude_categories=["Cs"])
    return st.text(alphabet=alphabet, max_size=6).map(cel_literal)


def expressions() -> st.SearchStrategy[str]:
    """Well-typed bool, int, double and string expressions, nested up to three levels."""
    return typed("bool", 3) | typed("int", 3) | typed("double", 3) | typed("string", 3)


@functools.cache
def typed(kind: str, depth: int) -> st.SearchStrategy[str]:
    """Expressions of CEL type ``kind`` with operators nested up to ``depth`` deep."""
    leaf = {
        "int": _int_literals(),
        "double": _double_literals(),
        "string": _string_literals(),
        "bool": st.sampled_from(["true", "false"]),
    }[kind]
    if depth == 0:
        return leaf
    ints, doubles = typed("int", depth - 1), typed("double", depth - 1)
    strings, bools = typed("string", depth - 1), typed("bool", depth - 1)
    same = typed(kind, depth - 1)

    def infix(left: st.SearchStrategy[str], ops: list[str], right: st.SearchStrategy[str]):
        return st.builds(lambda a, op, b: f"({a} {op} {b})", left, st.sampled_from(ops), right)

    conditional = st.builds(lambda c, a, b: f"({c} ? {a} : {b})", bools, same, same)
    options: list[st.SearchStrategy[str]] = [leaf, conditional]
    if kind == "int":
        options += [
            infix(ints, ["+", "-", "*", "/", "%"], ints),
            ints.map(lambda e: f"(-{e})"),
            strings.map(lambda e: f"size({e})"),
            doubles.map(lambda e: f"int({e})"),
        ]
    elif kind == "double":
        options += [
            infix(doubles, ["+", "-", "*"], doubles),
            # Divisors are non-zero literals: celpy says 0.0 / 0.0 is inf (it is NaN).
            infix(
                doubles, ["/"], _double_literals().filter(lambda text: float(text.strip("()")) != 0)
            ),
            doubles.map(lambda e: f"(-{e})"),
            ints.map(lambda e: f"double({e})"),
        ]
    elif kind == "string":
        options += [infix(strings, ["+"], strings), ints.map(lambda e: f"string({e})")]
    else:
        options += [
            infix(bools, ["&&", "||", "==", "!="], bools),
            bools.map(lambda e: f"(!{e})"),
            infix(ints, ["<", "<=", ">", ">=", "==", "!="], ints),
            infix(doubles, ["<", "<=", ">", ">=", "==", "!="], doubles),
            infix(strings, ["<", "<=", ">", ">=", "==", "!="], strings),
            # Receivers are literals: celpy cannot call methods on a computed string.
            st.builds(
                lambda a, f, b: f"({a}.{f}({b}))",
                _string_literals(),
                st.sampled_from(["contains", "startsWith", "endsWith"]),
                strings,
            ),
            st.builds(
                lambda a, items: f"({a} in [{', '.join(items)}])", ints, st.lists(ints, max_size=3)
            ),
            st.builds(lambda a, b: f"({a} in [{b}, 'x'])", strings, strings),
        ]
    return st.one_of(options)


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_generated_expressions_agree_with_celpy(source: str) -> None:
    assert ours(source, {}) == theirs(source, {}), source


_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.integers(min_value=0, max_value=2**64 - 1).map(UInt),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.binary(max_size=8),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=4), children, max_size=4),
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(_VALUES)
def test_literals_of_values_agree_with_celpy(value: Any) -> None:
    source = cel_literal(value)
    assert ours(source, {}) == theirs(source, {}) == tagged(value)
