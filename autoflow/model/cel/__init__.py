"""autoflow's CEL: the Common Expression Language for guards, values, delays and keys.

>>> from autoflow.model.span import Span
>>> program = compile_expression('a > 3 && b in ["x", "y"]', Span("flow.yaml", 12, 11))
>>> sorted(program.free_variables)
['a', 'b']
>>> program.evaluate({"a": 4, "b": "x"})
True

:func:`compile_expression` parses and checks an expression once (syntax,
function names and argument counts) and raises
:class:`~autoflow.errors.ExpressionError` pointing at the exact line and
column in the user's file.  :meth:`Program.evaluate` runs it against an
activation (variable name -> plain Python value) and raises
:class:`~autoflow.errors.EvaluationError`.  The supported language and how it
differs from full CEL are described in ``docs/expressions.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from autoflow.errors import EvaluationError, ExpressionError
from autoflow.model.cel import ast
from autoflow.model.cel.compiler import Closure, Compiler, fresh
from autoflow.model.cel.functions import FUNCTIONS, format_duration, format_timestamp
from autoflow.model.cel.lexer import SyntaxProblem
from autoflow.model.cel.literals import cel_literal, quote
from autoflow.model.cel.parser import parse
from autoflow.model.cel.values import CelType, UInt
from autoflow.model.span import Span

__all__ = [
    "BUILTIN_FUNCTIONS",
    "EXTERNAL_FUNCTIONS",
    "CelType",
    "Program",
    "UInt",
    "ast",
    "cel_literal",
    "compile_expression",
    "format_duration",
    "format_timestamp",
    "quote",
    "span_of",
]

EXTERNAL_FUNCTIONS: frozenset[str] = frozenset({"In"})
"""Functions an expression may call that the caller supplies at evaluation time.

The engine passes their implementations with ``Program.evaluate(...,
functions={"In": ...})``; any other unknown name is a compile-time error.
Pass ``external_functions=`` to :func:`compile_expression` to allow others.
"""

BUILTIN_FUNCTIONS: frozenset[str] = frozenset(FUNCTIONS)
"""Every function autoflow's CEL provides itself (standard, strings extension, autoflow)."""


class Program:
    """A compiled CEL expression: its AST, what it reads, and a fast evaluator."""

    __slots__ = (
        "_constant",
        "_fn",
        "ast",
        "free_variables",
        "function_names",
        "is_constant",
        "source",
    )

    def __init__(
        self,
        source: str,
        tree: ast.Node,
        fn: Closure,
        free_variables: frozenset[str],
        function_names: frozenset[str],
        constant: tuple[Any] | None,
    ) -> None:
        self.source = source
        self.ast = tree
        self._fn = fn
        self.free_variables = free_variables
        """Root identifiers the expression reads (``a.b.c`` reads ``a``), without
        comprehension variables and type names."""
        self.function_names = function_names
        """Functions called by name (``size``, ``In``, ...), not operators or macros."""
        self.is_constant = constant is not None
        """True if the expression needs no variables or functions: its value is known now."""
        self._constant = constant

    @property
    def constant_value(self) -> Any:
        """The value of a constant expression (``duration("172800s")`` -> timedelta)."""
        if self._constant is None:
            raise ValueError(f"{self.source!r} is not a constant expression")
        return fresh(self._constant[0])

    def evaluate(
        self,
        activation: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> Any:
        """The value of the expression for ``activation``; raises EvaluationError."""
        try:
            return self._fn(activation, functions)
        except EvaluationError:
            raise
        except RecursionError as exc:
            raise EvaluationError("expression too deeply nested to evaluate") from exc
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise EvaluationError(f"{type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return f"Program({self.source!r})"


def compile_expression(
    source: str,
    span: Span,
    *,
    external_functions: Iterable[str] = EXTERNAL_FUNCTIONS,
) -> Program:
    """Parse and check ``source``; ``span`` is where ``source`` starts in the user's file.

    Raises :class:`ExpressionError` whose span is the line and column of the
    problem itself, for multi-line sources too.  Programs are cached by
    source text, so compiling the same text twice is cheap.
    """
    externals = frozenset(external_functions)
    try:
        return _compile_cached(source, externals)
    except SyntaxProblem as problem:
        raise ExpressionError(
            problem.message, _problem_span(source, span, problem), hint=problem.hint
        ) from None


@lru_cache(maxsize=4096)
def _compile_cached(source: str, externals: frozenset[str]) -> Program:
    if not source.strip():
        raise SyntaxProblem("empty expression", 0, hint="write a CEL expression, e.g. true")
    try:
        tree = parse(source)
        compiler = Compiler(externals)
        compiled = compiler.compile_root(tree)
    except RecursionError:
        raise SyntaxProblem(
            "expression too complex",
            0,
            len(source),
            hint="split it into smaller expressions (for example with intermediate data)",
        ) from None
    constant = (compiled.constant,) if compiled.is_constant else None
    return Program(
        source,
        tree,
        compiled.fn,
        frozenset(compiler.free_variables),
        frozenset(compiler.function_names),
        constant,
    )


def offset_span(source: str, span: Span, offset: int, end: int | None = None) -> Span:
    """The span of character ``offset`` of ``source``, which starts at ``span``."""
    line_index = source.count("\n", 0, offset)
    line_start = source.rfind("\n", 0, offset) + 1
    column = offset - line_start
    start = span.shifted(line_index, column)
    if end is None or end <= offset or "\n" in source[offset:end]:
        return start
    return Span(start.path, start.line, start.col, start.line, start.col + (end - offset))


def _problem_span(source: str, span: Span, problem: SyntaxProblem) -> Span:
    offset = min(problem.offset, len(source))
    return offset_span(source, span, offset, problem.end)


def span_of(program: Program, node: ast.Node, span: Span) -> Span:
    """Where ``node`` of ``program`` is in the user's file (``span``: where the source starts)."""
    return offset_span(program.source, span, node.offset, node.end)
