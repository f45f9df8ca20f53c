"""The CEL parser: tokens to an AST, with macros expanded.

A recursive-descent parser following the grammar and precedence of the CEL
language definition::

    Expr           = ConditionalOr ["?" ConditionalOr ":" Expr]
    ConditionalOr  = [ConditionalOr "||"] ConditionalAnd
    ConditionalAnd = [ConditionalAnd "&&"] Relation
    Relation       = [Relation Relop] Addition          Relop = < <= >= > == != in
    Addition       = [Addition ("+" | "-")] Multiplication
    Multiplication = [Multiplication ("*" | "/" | "%")] Unary
    Unary          = Member | "!" {"!"} Member | "-" {"-"} Member
    Member         = Primary | Member "." IDENT ["(" [ExprList] ")"] | Member "[" Expr "]"
    Primary        = ["."] IDENT ["(" [ExprList] ")"] | "(" Expr ")"
                   | "[" [ExprList] [","] "]" | "{" [MapInits] [","] "}" | Literal
"""

from __future__ import annotations

from autoflow.model.cel import ast
from autoflow.model.cel.lexer import RESERVED, SyntaxProblem, Token, tokenize
from autoflow.model.cel.values import INT64_MAX

_RELATIONS = frozenset({"<", "<=", ">", ">=", "==", "!=", "in"})
_MACROS = {"all": 2, "exists": 2, "exists_one": 2, "filter": 2}
MAX_DEPTH = 60
"""Nesting limit; deeper expressions are rejected instead of overflowing the stack."""


def _describe(token: Token) -> str:
    if token.kind == "eof":
        return "end of expression"
    if token.kind in ("int", "uint", "double", "string", "bytes"):
        return f"{token.kind} literal {token.text}"
    if token.kind == "ident":
        return f"identifier '{token.text}'"
    return f"'{token.text}'"


class Parser:
    """Parses one expression; use :func:`parse`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    # ------------------------------------------------------------------ helpers

    @property
    def token(self) -> Token:
        token = self.tokens[self.index]
        if token.kind == "error":
            raise token.value
        return token

    def advance(self) -> Token:
        token = self.token
        if token.kind != "eof":
            self.index += 1
        return token

    def accept(self, kind: str) -> Token | None:
        if self.token.kind == kind:
            return self.advance()
        return None

    def expect(self, kind: str, hint: str | None = None) -> Token:
        token = self.token
        if token.kind != kind:
            raise SyntaxProblem(
                f"expected '{kind}' but found {_describe(token)}",
                token.offset,
                max(token.end, token.offset + 1),
                hint=hint,
            )
        return self.advance()

    def unexpected(self, what: str = "an expression") -> SyntaxProblem:
        token = self.token
        hint = None
        if token.kind == "eof":
            hint = "the expression ends too early"
        elif token.kind == "ident" and token.text in RESERVED:
            hint = f"'{token.text}' is a reserved word in CEL"
        return SyntaxProblem(
            f"expected {what} but found {_describe(token)}",
            token.offset,
            max(token.end, token.offset + 1),
            hint=hint,
        )

    # ------------------------------------------------------------------ grammar

    def parse(self) -> ast.Node:
        node = self.expr()
        if self.token.kind != "eof":
            token = self.token
            hint = None
            if token.kind == "=":
                hint = "use '==' to compare"
            elif token.kind in (")", "]", "}"):
                hint = f"unbalanced '{token.kind}'"
            elif token.kind == "double" and token.text.startswith("."):
                hint = f"to index a list write [{token.text[1:]}]"
            else:
                hint = "combine expressions with an operator such as &&, || or +"
            raise SyntaxProblem(
                f"unexpected {_describe(token)} after the end of the expression",
                token.offset,
                token.end,
                hint=hint,
            )
        return node

    def expr(self) -> ast.Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SyntaxProblem("expression nested too deeply", self.token.offset)
        try:
            condition = self.conditional_or()
            if not self.accept("?"):
                return condition
            then = self.conditional_or()
            self.expect(":", hint="a conditional is written 'condition ? then : else'")
            otherwise = self.expr()
            return ast.Conditional(
                condition, then, otherwise, offset=condition.offset, end=otherwise.end
            )
        finally:
            self.depth -= 1

    def conditional_or(self) -> ast.Node:
        node = self.conditional_and()
        while self.accept("||"):
            right = self.conditional_and()
            node = ast.Binary("||", node, right, offset=node.offset, end=right.end)
        return node

    def conditional_and(self) -> ast.Node:
        node = self.relation()
        while self.accept("&&"):
            right = self.relation()
            node = ast.Binary("&&", node, right, offset=node.offset, end=right.end)
        return node

    def relation(self) -> ast.Node:
        node = self.addition()
        while self.token.kind in _RELATIONS:
            op = self.advance().kind
            right = self.addition()
            node = ast.Binary(op, node, right, offset=node.offset, end=right.end)
        return node

    def addition(self) -> ast.Node:
        node = self.multiplication()
        while self.token.kind in ("+", "-"):
            op = self.advance().kind
            right = self.multiplication()
            node = ast.Binary(op, node, right, offset=node.offset, end=right.end)
        return node

    def multiplication(self) -> ast.Node:
        node = self.unary()
        while self.token.kind in ("*", "/", "%"):
            op = self.advance().kind
            right = self.unary()
            node = ast.Binary(op, node, right, offset=node.offset, end=right.end)
        return node

    def unary(self) -> ast.Node:
        token = self.token
        if token.kind == "!":
            self.advance()
            operand = self.unary()
            return ast.Unary("!", operand, offset=token.offset, end=operand.end)
        if token.kind == "-":
            self.advance()
            following = self.token
            if following.kind in ("int", "double") and self._literal_is_whole_operand():
                self.advance()
                value = -following.value
                literal = ast.Literal(value, offset=token.offset, end=following.end)
                return self.member_suffix(literal)
            operand = self.unary()
            return ast.Unary("-", operand, offset=token.offset, end=operand.end)
        return self.member()

    def _literal_is_whole_operand(self) -> bool:
        """``-1`` is a negative literal unless a member suffix follows (``-1.foo``)."""
        return self.tokens[self.index + 1].kind not in (".", "[")

    def member(self) -> ast.Node:
        return self.member_suffix(self.primary())

    def member_suffix(self, node: ast.Node) -> ast.Node:
        self._check_int_literal(node)
        while True:
            if self.accept("."):
                name = self.token
                if name.kind != "ident":
                    raise self.unexpected("a field or method name after '.'")
                self.advance()
                if self.accept("("):
                    args = self.expr_list(")")
                    close = self.expect(")", hint="close the argument list with ')'")
                    node = self.make_call(name, args, node, close.end)
                else:
                    node = ast.Select(node, name.text, offset=node.offset, end=name.end)
            elif self.accept("["):
                index = self.expr()
                close = self.expect("]", hint="close the index with ']'")
                node = ast.Index(node, index, offset=node.offset, end=close.end)
            elif self.token.kind == "{" and isinstance(node, ast.Ident | ast.Select):
                raise SyntaxProblem(
                    "message construction is not supported",
                    self.token.offset,
                    hint="autoflow's CEL has no protobuf messages; use a map {'key': value}",
                )
            else:
                return node

    def _check_int_literal(self, node: ast.Node) -> None:
        if isinstance(node, ast.Literal) and type(node.value) is int and node.value > INT64_MAX:
            raise SyntaxProblem(
                "int literal out of range",
                node.offset,
                node.end,
                hint="int is 64 bits; use a double (1e19)",
            )

    def primary(self) -> ast.Node:
        token = self.token
        kind = token.kind
        if kind in ("int", "uint", "double", "string", "bytes"):
            self.advance()
            return ast.Literal(token.value, offset=token.offset, end=token.end)
        if kind in ("true", "false"):
            self.advance()
            return ast.Literal(kind == "true", offset=token.offset, end=token.end)
        if kind == "null":
            self.advance()
            return ast.Literal(None, offset=token.offset, end=token.end)
        if kind == "." and self.tokens[self.index + 1].kind == "ident":
            self.advance()
            return self.identifier_or_call(self.advance(), token.offset)
        if kind == "ident":
            self.advance()
            return self.identifier_or_call(token, token.offset)
        if kind == "(":
            self.advance()
            inner = self.expr()
            self.expect(")", hint="close the parenthesis opened here earlier")
            return inner
        if kind == "[":
            self.advance()
            elements = self.expr_list("]")
            close = self.expect("]", hint="close the list with ']'")
            return ast.ListLit(tuple(elements), offset=token.offset, end=close.end)
        if kind == "{":
            self.advance()
            entries: list[tuple[ast.Node, ast.Node]] = []
            while self.token.kind != "}":
                key = self.expr()
                self.expect(":", hint="map entries are written key: value")
                value = self.expr()
                entries.append((key, value))
                if not self.accept(","):
                    break
            close = self.expect("}", hint="close the map with '}'")
            return ast.MapLit(tuple(entries), offset=token.offset, end=close.end)
        raise self.unexpected()

    def identifier_or_call(self, name: Token, offset: int) -> ast.Node:
        if name.text in RESERVED:
            raise SyntaxProblem(
                f"'{name.text}' is a reserved word and cannot be used as a name",
                name.offset,
                name.end,
            )
        if self.accept("("):
            args = self.expr_list(")")
            close = self.expect(")", hint="close the argument list with ')'")
            return self.make_call(name, args, None, close.end, offset)
        return ast.Ident(name.text, offset=offset, end=name.end)

    def expr_list(self, closing: str) -> list[ast.Node]:
        items: list[ast.Node] = []
        while self.token.kind != closing:
            items.append(self.expr())
            if not self.accept(","):
                break
        return items

    # ------------------------------------------------------------------ macros

    def make_call(
        self,
        name: Token,
        args: list[ast.Node],
        target: ast.Node | None,
        end: int,
        offset: int | None = None,
    ) -> ast.Node:
        function = name.text
        start = target.offset if target is not None else (offset if offset is not None else 0)
        if target is None and function == "has" and len(args) == 1:
            (argument,) = args
            if not isinstance(argument, ast.Select):
                raise SyntaxProblem(
                    "has() needs a field selection",
                    argument.offset,
                    argument.end,
                    hint="write has(object.field); for a key that is not a name use 'key' in map",
                )
            return ast.Has(argument.operand, argument.field, offset=start, end=end)
        if target is not None:
            if function in _MACROS and len(args) == 2:
                variable = self.macro_variable(function, args[0])
                return ast.Comprehension(
                    function, target, variable, predicate=args[1], offset=start, end=end
                )
            if function == "map" and len(args) in (2, 3):
                variable = self.macro_variable(function, args[0])
                if len(args) == 2:
                    return ast.Comprehension(
                        "map", target, variable, transform=args[1], offset=start, end=end
                    )
                return ast.Comprehension(
                    "map",
                    target,
                    variable,
                    predicate=args[1],
                    transform=args[2],
                    offset=start,
                    end=end,
                )
        return ast.Call(function, tuple(args), target, offset=start, end=end)

    def macro_variable(self, macro: str, node: ast.Node) -> str:
        if not isinstance(node, ast.Ident):
            raise SyntaxProblem(
                f"the first argument of {macro}() must be a variable name",
                node.offset,
                node.end,
                hint=f"for example list.{macro}(x, x > 0)",
            )
        return node.name


def parse(source: str) -> ast.Node:
    """The AST of ``source``; raises :class:`SyntaxProblem` with offsets into ``source``."""
    return Parser(source).parse()
