"""The CEL parser: AST shape and precedence, literals, and error positions in the user's file."""

from __future__ import annotations

import pytest

from autoflow.errors import ExpressionError
from autoflow.model.cel import ast, compile_expression
from autoflow.model.cel.parser import parse
from autoflow.model.cel.values import UInt
from autoflow.model.span import Span, register_source

SPAN = Span("flow.yaml", 10, 7)


def error_of(source: str, span: Span = SPAN) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, span)
    return caught.value


def position(source: str, span: Span = SPAN) -> tuple[int, int]:
    error = error_of(source, span)
    assert error.span is not None
    return error.span.line, error.span.col


# --------------------------------------------------------------------------- AST shape


def test_multiplication_binds_tighter_than_addition() -> None:
    assert parse("1 + 2 * 3") == ast.Binary(
        "+", ast.Literal(1), ast.Binary("*", ast.Literal(2), ast.Literal(3))
    )


def test_operators_are_left_associative() -> None:
    assert parse("a - b - c") == ast.Binary(
        "-", ast.Binary("-", ast.Ident("a"), ast.Ident("b")), ast.Ident("c")
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "a || b && c",
            ast.Binary("||", ast.Ident("a"), ast.Binary("&&", ast.Ident("b"), ast.Ident("c"))),
        ),
        (
            "a && b == c",
            ast.Binary("&&", ast.Ident("a"), ast.Binary("==", ast.Ident("b"), ast.Ident("c"))),
        ),
        (
            "a < b + c",
            ast.Binary("<", ast.Ident("a"), ast.Binary("+", ast.Ident("b"), ast.Ident("c"))),
        ),
        (
            "x in l && y",
            ast.Binary("&&", ast.Binary("in", ast.Ident("x"), ast.Ident("l")), ast.Ident("y")),
        ),
        ("!a.b", ast.Unary("!", ast.Select(ast.Ident("a"), "b"))),
        ("-a[0]", ast.Unary("-", ast.Index(ast.Ident("a"), ast.Literal(0)))),
    ],
)
def test_precedence(source: str, expected: ast.Node) -> None:
    assert parse(source) == expected


def test_conditional_is_right_associative_and_lowest() -> None:
    assert parse("a ? b : c ? d : e || f") == ast.Conditional(
        ast.Ident("a"),
        ast.Ident("b"),
        ast.Conditional(
            ast.Ident("c"), ast.Ident("d"), ast.Binary("||", ast.Ident("e"), ast.Ident("f"))
        ),
    )


def test_method_call_select_and_index_chain() -> None:
    assert parse('a.b["k"].size()') == ast.Call(
        "size", (), ast.Index(ast.Select(ast.Ident("a"), "b"), ast.Literal("k"))
    )


def test_macros_become_comprehensions_and_has() -> None:
    assert parse("l.all(x, x > 0)") == ast.Comprehension(
        "all", ast.Ident("l"), "x", predicate=ast.Binary(">", ast.Ident("x"), ast.Literal(0))
    )
    assert parse("l.map(x, x > 0, x * 2)") == ast.Comprehension(
        "map",
        ast.Ident("l"),
        "x",
        predicate=ast.Binary(">", ast.Ident("x"), ast.Literal(0)),
        transform=ast.Binary("*", ast.Ident("x"), ast.Literal(2)),
    )
    assert parse("has(a.b.c)") == ast.Has(ast.Select(ast.Ident("a"), "b"), "c")


def test_nodes_carry_offsets() -> None:
    tree = parse("foo &&  bar.baz")
    assert isinstance(tree, ast.Binary)
    assert (tree.left.offset, tree.left.end) == (0, 3)
    assert (tree.right.offset, tree.right.end) == (8, 15)
    assert [type(node).__name__ for node in ast.walk(tree)] == [
        "Binary",
        "Ident",
        "Select",
        "Ident",
    ]


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("42", 42),
        ("0x1F", 31),
        ("-9223372036854775808", -(2**63)),
        ("7u", UInt(7)),
        ("0xFFu", UInt(255)),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("2.5e-1", 0.25),
        ("true", True),
        ("false", False),
        ("null", None),
        ('"a\\tb"', "a\tb"),
        ("'it\\'s'", "it's"),
        ('"\\u00e9\\U0001F600"', "é😀"),
        ('"\\x41\\101"', "AA"),
        ('r"a\\d+"', "a\\d+"),
        ("R'\\n'", "\\n"),
        ('"""line one\nline "two\\""""', 'line one\nline "two"'),
        ("'''x'''", "x"),
        ('b"\\xff\\x00"', b"\xff\x00"),
        ('b"é"', "é".encode()),
        ("br'\\x'", b"\\x"),
    ],
)
def test_literals(source: str, value: object) -> None:
    program = compile_expression(source, SPAN)
    assert program.is_constant
    result = program.constant_value
    assert result == value
    assert type(result) is type(value)


def test_comments_and_newlines_are_whitespace() -> None:
    program = compile_expression("a // the count\n  + 1 // plus one", SPAN)
    assert program.evaluate({"a": 2}) == 3


# --------------------------------------------------------------------------- error positions


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("(a + 1", 13, "expected ')' but found end of expression"),
        ("a +", 10, "expected an expression but found end of expression"),
        ("a = 1", 9, "unexpected character '='"),
        ("a == = 1", 12, "unexpected character '='"),
        ("(a + ) = 1", 12, "expected an expression but found ')'"),
        ("[1, 2", 12, "expected ']' but found end of expression"),
        ("{'a' 1}", 12, "expected ':' but found int literal 1"),
        ("a b", 9, "unexpected identifier 'b' after the end of the expression"),
        ("a)", 8, "unexpected ')' after the end of the expression"),
        ("a ? b", 12, "expected ':' but found end of expression"),
        ("a.+", 9, "expected a field or method name after '.'"),
        ("a.1", 8, "unexpected double literal .1"),
        ('"abc', 7, "unterminated string literal"),
        ('"a\\qb"', 9, "invalid escape sequence \\q"),
        ("9223372036854775808", 7, "int literal out of range"),
        ("18446744073709551616u", 7, "uint literal out of range"),
        ("a # b", 9, "unexpected character '#'"),
        ("if > 1", 7, "'if' is a reserved word"),
        ("foo(1)", 7, "unknown function 'foo'"),
        ("x.sise()", 7, "unknown function 'sise'"),
        ("size(1, 2)", 7, "size() takes 1 argument(s), not 2"),
        ("'a'.contains()", 7, "contains() takes 1 argument(s), not 0"),
        ("[1].all(1, true)", 15, "the first argument of all() must be a variable name"),
        ("has(a)", 11, "has() needs a field selection"),
        ("a && duration('2d')", 12, "duration('2d')"),
        ("timestamp('2024-02-30T00:00:00Z')", 7, "day is out of range for month"),
        ("'x'.matches('(')", 19, "invalid regular expression"),
        ("Foo{a: 1}", 10, "message construction is not supported"),
        ("", 7, "empty expression"),
    ],
)
def test_error_column(source: str, column: int, message: str) -> None:
    error = error_of(source)
    assert error.span is not None
    assert (error.span.line, error.span.col) == (10, column)
    assert message in error.message


def test_error_on_a_later_line_of_a_multi_line_expression() -> None:
    source = "a &&\n  (b ||\n   c"
    assert position(source) == (12, 5)
    assert "expected ')'" in error_of(source).message


def test_error_inside_a_multi_line_string_literal_expression() -> None:
    source = "'''first\nsecond''' + \n  foo()"
    assert position(source) == (12, 3)


def test_every_error_has_a_hint_where_one_helps() -> None:
    assert error_of("a = 1").hint == "use '==' to compare; CEL has no assignment"
    assert error_of("x.sise()").hint == "did you mean size()?"
    assert "48h" in str(error_of("duration('2d')").message)


def test_error_renders_with_the_source_line_and_caret() -> None:
    register_source("inline.yaml", "states:\n  a:\n    if: count >> 2\n")
    error = error_of("count >> 2", Span("inline.yaml", 3, 9))
    rendered = error.render()
    assert rendered.splitlines()[0] == ("inline.yaml:3:16: expected an expression but found '>'")
    assert "   3 |     if: count >> 2" in rendered
    caret_line = rendered.splitlines()[2]
    assert caret_line.index("^") == len("   3 | ") + 15


def test_errors_are_reported_right_even_when_the_text_was_cached_elsewhere() -> None:
    compile_expression("ok_var", Span("one.yaml", 1, 1))
    assert position("ok_var +", Span("two.yaml", 5, 3)) == (5, 11)
    assert position("ok_var +", Span("three.yaml", 8, 20)) == (8, 28)


def test_compilation_is_cached_by_source() -> None:
    first = compile_expression("cache_me + 1", Span("a.yaml", 1, 1))
    second = compile_expression("cache_me + 1", Span("b.yaml", 9, 9))
    assert first is second


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    error = error_of("(" * 400 + "1" + ")" * 400)
    assert "nested too deeply" in error.message
    assert "too complex" in error_of(" + ".join(["1"] * 3000)).message
    assert compile_expression("(" * 40 + "1" + ")" * 40, SPAN).constant_value == 1


def test_external_functions_are_allowed_only_when_declared() -> None:
    assert compile_expression("In('a')", SPAN).function_names == frozenset({"In"})
    assert "unknown function 'Custom'" in error_of("Custom(1)").message
    program = compile_expression("Custom(1)", SPAN, external_functions={"Custom"})
    assert program.evaluate({}, {"Custom": lambda x: x + 1}) == 2
