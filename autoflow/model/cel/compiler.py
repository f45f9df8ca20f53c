"""From AST to nested Python closures, checked once and evaluated many times.

Each node becomes a function ``(activation, functions) -> value``.  Building
these closures once per expression text, instead of walking the tree on each
evaluation, is what makes evaluation fast (see ``benchmarks/cel_bench.py``).

Errors follow CEL: an error is raised as :class:`EvaluationError`, and ``&&``,
``||``, ``all`` and ``exists`` absorb an error when another operand decides
the result on its own (``error && false`` is ``false``).  Sub-expressions
without variables are folded to constants at compile time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from autoflow.errors import EvaluationError
from autoflow.model.cel import ast
from autoflow.model.cel.functions import FUNCTIONS, compile_regex
from autoflow.model.cel.lexer import SyntaxProblem
from autoflow.model.cel.values import (
    _MISSING,
    INT64_MAX,
    INT64_MIN,
    TYPE_IDENTIFIERS,
    TYPES,
    UINT64_MAX,
    UInt,
    check_int,
    check_uint,
    compare,
    equal,
    kind,
    map_get,
    no_overload,
    type_name,
)

Functions: TypeAlias = Mapping[str, Callable[..., Any]] | None
Closure: TypeAlias = Callable[[Mapping[str, Any], Functions], Any]

# Errors that the logical operators may absorb: CEL errors, and Python errors that
# escape from a function on values it did not expect.
ABSORBABLE = (EvaluationError, TypeError, ValueError, ArithmeticError, LookupError)

MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
_NO_CONSTANT: Any = object()
_EMPTY: Mapping[str, Any] = {}
# Conversions whose literal arguments are checked at compile time, so that
# duration("2d") is reported where it is written and not at run time.
_CHECKED_AT_COMPILE_TIME = frozenset({"duration", "timestamp", "matches"})


class Compiled:
    """The result of compiling one node: its closure and, if it has one, its constant value."""

    __slots__ = ("constant", "fn")

    def __init__(self, fn: Closure, constant: Any = _NO_CONSTANT) -> None:
        self.fn = fn
        self.constant = constant

    @property
    def is_constant(self) -> bool:
        return self.constant is not _NO_CONSTANT


def fresh(value: Any) -> Any:
    """A copy of a constant list or map, so that callers cannot change the constant."""
    if type(value) is list:
        return [fresh(item) for item in value]
    if type(value) is dict:
        return {key: fresh(item) for key, item in value.items()}
    return value


def _constant(value: Any) -> Compiled:
    if type(value) in (list, dict):

        def mutable_constant(act: Mapping[str, Any], fns: Functions) -> Any:
            return fresh(value)

        return Compiled(mutable_constant, value)

    def constant(act: Mapping[str, Any], fns: Functions) -> Any:
        return value

    return Compiled(constant, value)


class Compiler:
    """Compiles one AST; collects the free variables and function names on the way."""

    def __init__(self, external_functions: Iterable[str]) -> None:
        self.external_functions = frozenset(external_functions)
        self.free_variables: set[str] = set()
        self.function_names: set[str] = set()

    def compile(self, node: ast.Node, bound: frozenset[str] = frozenset()) -> Compiled:
        compiled = self._compile(node, bound)
        if compiled.is_constant or isinstance(node, ast.Literal | ast.Ident):
            return compiled
        if all(self._is_constant_child(child) for child in ast.children(node)):
            return self._fold(node, compiled)
        return compiled

    # Constant-ness of children is recorded as they are compiled.
    def _is_constant_child(self, child: ast.Node) -> bool:
        return id(child) in self._constants

    _constants: set[int]

    def compile_root(self, node: ast.Node) -> Compiled:
        self._constants = set()
        return self.compile(node)

    def _fold(self, node: ast.Node, compiled: Compiled) -> Compiled:
        if isinstance(node, ast.Call) and node.function in self.external_functions:
            return compiled
        try:
            value = compiled.fn(_EMPTY, None)
        except ABSORBABLE as exc:
            if isinstance(node, ast.Call) and node.function in _CHECKED_AT_COMPILE_TIME:
                raise SyntaxProblem(str(exc), node.offset, node.end) from exc
            return compiled
        self._constants.add(id(node))
        return _constant(value)

    def _compile(self, node: ast.Node, bound: frozenset[str]) -> Compiled:
        match node:
            case ast.Literal(value=value):
                self._constants.add(id(node))
                return _constant(value)
            case ast.Ident(name=name):
                if name not in bound and name in TYPE_IDENTIFIERS:
                    self._constants.add(id(node))
                    return _constant(TYPES[name])
                if name not in bound:
                    self.free_variables.add(name)
                return Compiled(_ident(name))
            case ast.Select(operand=operand, field=field):
                qualified = _qualified_name(node)
                if qualified in TYPES and qualified.split(".")[0] not in bound:
                    self._constants.add(id(node))
                    return _constant(TYPES[qualified])
                return Compiled(_select(self.compile(operand, bound).fn, field))
            case ast.Has(operand=operand, field=field):
                return Compiled(_has(self.compile(operand, bound).fn, field))
            case ast.Index(operand=operand, index=index):
                return Compiled(
                    _index(self.compile(operand, bound).fn, self.compile(index, bound).fn)
                )
            case ast.ListLit(elements=elements):
                return Compiled(_list([self.compile(e, bound).fn for e in elements]))
            case ast.MapLit(entries=entries):
                pairs = [
                    (self.compile(key, bound).fn, self.compile(value, bound).fn)
                    for key, value in entries
                ]
                return Compiled(_map(pairs))
            case ast.Unary(op=op, operand=operand):
                inner = self.compile(operand, bound).fn
                return Compiled(_not(inner) if op == "!" else _negate(inner))
            case ast.Binary(op=op, left=left, right=right):
                return self._binary(op, self.compile(left, bound), self.compile(right, bound))
            case ast.Conditional(condition=condition, then=then, otherwise=otherwise):
                return Compiled(
                    _conditional(
                        self.compile(condition, bound).fn,
                        self.compile(then, bound).fn,
                        self.compile(otherwise, bound).fn,
                    )
                )
            case ast.Comprehension():
                return self._comprehension(node, bound)
            case ast.Call():
                return self._call(node, bound)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    # ------------------------------------------------------------------ calls

    def _call(self, node: ast.Call, bound: frozenset[str]) -> Compiled:
        name = node.function
        target = node.target
        arity = len(node.args)
        function = FUNCTIONS.get(name)
        if function is None and name in self.external_functions and target is None:
            self.function_names.add(name)
            args = [self.compile(arg, bound).fn for arg in node.args]
            return Compiled(_external(name, args))
        if function is None:
            raise self._unknown_function(node)
        allowed = function.method_arities if target is not None else function.global_arities
        if arity not in allowed:
            raise self._bad_arity(node, allowed, function.global_arities, function.method_arities)
        self.function_names.add(name)
        args = [self.compile(arg, bound).fn for arg in node.args]
        if target is not None:
            args.insert(0, self.compile(target, bound).fn)
        if name == "matches":
            pattern_node = node.args[-1]
            if isinstance(pattern_node, ast.Literal) and type(pattern_node.value) is str:
                try:
                    compiled_pattern = compile_regex(pattern_node.value)
                except EvaluationError as exc:
                    raise SyntaxProblem(
                        str(exc),
                        pattern_node.offset,
                        pattern_node.end,
                        hint="matches() uses Python regular expressions (RE2 subset)",
                    ) from exc
                return Compiled(_matches_constant(args[0], compiled_pattern))
        return Compiled(_builtin(function.impl, args))

    def _unknown_function(self, node: ast.Call) -> SyntaxProblem:
        name = node.function
        candidates = sorted({*FUNCTIONS, *self.external_functions, *MACROS})
        close = difflib.get_close_matches(name, candidates, n=1)
        if name in MACROS:
            hint = {
                "has": "write has(object.field)",
            }.get(name, f"write list.{name}(x, <expression using x>)")
            return SyntaxProblem(
                f"wrong use of the macro {name}()", node.offset, node.end, hint=hint
            )
        if name in self.external_functions:
            return SyntaxProblem(
                f"{name}() is a function, not a method",
                node.offset,
                node.end,
                hint=f"write {name}(...)",
            )
        hint = f"did you mean {close[0]}()?" if close else "see docs/expressions.md for functions"
        return SyntaxProblem(f"unknown function '{name}'", node.offset, node.end, hint=hint)

    def _bad_arity(
        self,
        node: ast.Call,
        allowed: frozenset[int],
        global_arities: frozenset[int],
        method_arities: frozenset[int],
    ) -> SyntaxProblem:
        name = node.function
        if node.target is not None and not method_arities:
            return SyntaxProblem(
                f"{name}() is a function, not a method",
                node.offset,
                node.end,
                hint=f"write {name}(value) instead of value.{name}()",
            )
        if node.target is None and not global_arities:
            return SyntaxProblem(
                f"{name}() is a method",
                node.offset,
                node.end,
                hint=f"write value.{name}(...) instead of {name}(value, ...)",
            )
        counts = " or ".join(str(count) for count in sorted(allowed))
        return SyntaxProblem(
            f"{name}() takes {counts} argument(s), not {len(node.args)}",
            node.offset,
            node.end,
        )

    # ------------------------------------------------------------------ macros

    def _comprehension(self, node: ast.Comprehension, bound: frozenset[str]) -> Compiled:
        range_fn = self.compile(node.range, bound).fn
        inner = bound | {node.variable}
        predicate = self.compile(node.predicate, inner).fn if node.predicate is not None else None
        transform = self.compile(node.transform, inner).fn if node.transform is not None else None
        variable = node.variable
        if node.macro == "all":
            assert predicate is not None
            return Compiled(_quantifier("all", False, range_fn, variable, predicate))
        if node.macro == "exists":
            assert predicate is not None
            return Compiled(_quantifier("exists", True, range_fn, variable, predicate))
        if node.macro == "exists_one":
            assert predicate is not None
            return Compiled(_exists_one(range_fn, variable, predicate))
        if node.macro == "filter":
            assert predicate is not None
            return Compiled(_map_filter(range_fn, variable, predicate, None))
        assert transform is not None
        return Compiled(_map_filter(range_fn, variable, predicate, transform))

    # ------------------------------------------------------------------ operators

    def _binary(self, op: str, left: Compiled, right: Compiled) -> Compiled:
        lf, rf = left.fn, right.fn
        if op == "&&":
            return Compiled(_and(lf, rf))
        if op == "||":
            return Compiled(_or(lf, rf))
        if op == "in" and right.is_constant:
            return Compiled(_in_constant(lf, right.constant))
        if op in _RELATION_TESTS and right.is_constant and type(right.constant) in (int, str):
            return Compiled(_relation_constant(op, lf, right.constant))
        return Compiled(_BINARY[op](lf, rf))


def _qualified_name(node: ast.Node) -> str | None:
    """``a.b.c`` for a chain of field selections on an identifier, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Select):
        parts.append(node.field)
        node = node.operand
    if not isinstance(node, ast.Ident):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))


# --------------------------------------------------------------------------- closures
# Each factory below returns the closure for one kind of node.  They are plain
# functions (not methods) so the closures reference only local cells.


def _ident(name: str) -> Closure:
    def ident(act: Mapping[str, Any], fns: Functions) -> Any:
        try:
            return act[name]
        except KeyError:
            raise EvaluationError(f"no such variable: {name}") from None

    return ident


def _select(operand: Closure, field: str) -> Closure:
    def select(act: Mapping[str, Any], fns: Functions) -> Any:
        value = operand(act, fns)
        if type(value) is dict:
            try:
                return value[field]
            except KeyError:
                raise EvaluationError(f"no such key: {field}") from None
        if isinstance(value, Mapping):
            if field in value:
                return value[field]
            raise EvaluationError(f"no such key: {field}")
        raise EvaluationError(
            f"cannot select field '{field}' from a value of type {type_name(value)}"
        )

    return select


def _has(operand: Closure, field: str) -> Closure:
    def has(act: Mapping[str, Any], fns: Functions) -> bool:
        value = operand(act, fns)
        if isinstance(value, Mapping):
            return field in value
        raise EvaluationError(
            f"has() cannot test field '{field}' of a value of type {type_name(value)}"
        )

    return has


def _index(operand: Closure, index: Closure) -> Closure:
    def index_(act: Mapping[str, Any], fns: Functions) -> Any:
        container = operand(act, fns)
        key = index(act, fns)
        container_type = type(container)
        if container_type is list or container_type is tuple:
            position = _list_position(key)
            if 0 <= position < len(container):
                return container[position]
            raise EvaluationError(
                f"index {position} out of range for a list of size {len(container)}"
            )
        if isinstance(container, Mapping):
            if kind(key) not in ("string", "int", "uint", "bool", "double"):
                raise EvaluationError(f"unsupported map key type {type_name(key)}")
            value = map_get(container, key)
            if value is _MISSING:
                raise EvaluationError(f"no such key: {key!r}")
            return value
        raise no_overload("_[_]", container, key)

    return index_


def _list_position(key: Any) -> int:
    key_type = type(key)
    if key_type is int or key_type is UInt:
        return int(key)
    if key_type is float and key == int(key):
        return int(key)
    raise EvaluationError(f"list index must be an int, not {type_name(key)}")


def _list(elements: list[Closure]) -> Closure:
    def list_(act: Mapping[str, Any], fns: Functions) -> list[Any]:
        return [element(act, fns) for element in elements]

    return list_


def _map(pairs: list[tuple[Closure, Closure]]) -> Closure:
    def map_(act: Mapping[str, Any], fns: Functions) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_fn, value_fn in pairs:
            key = key_fn(act, fns)
            if type(key) not in (str, int, UInt, bool):
                raise EvaluationError(f"unsupported map key type {type_name(key)}")
            if key in result:
                if map_get(result, key) is not _MISSING:
                    raise EvaluationError(f"repeated key in map literal: {key!r}")
                raise EvaluationError(
                    f"map keys {key!r} and {_colliding_key(result, key)!r} cannot be in one map "
                    "(they are the same key in Python)"
                )
            result[key] = value_fn(act, fns)
        return result

    return map_


def _colliding_key(mapping: dict[Any, Any], key: Any) -> Any:
    return next(stored for stored in mapping if stored == key)


def _not(operand: Closure) -> Closure:
    def not_(act: Mapping[str, Any], fns: Functions) -> bool:
        value = operand(act, fns)
        if value is True:
            return False
        if value is False:
            return True
        raise no_overload("!_", value)

    return not_


def _negate(operand: Closure) -> Closure:
    def negate(act: Mapping[str, Any], fns: Functions) -> Any:
        value = operand(act, fns)
        value_type = type(value)
        if value_type is int:
            return check_int(-value)
        if value_type is float:
            return -value
        if value_type is timedelta:
            return -value
        raise no_overload("-_", value)

    return negate


def _conditional(condition: Closure, then: Closure, otherwise: Closure) -> Closure:
    def conditional(act: Mapping[str, Any], fns: Functions) -> Any:
        value = condition(act, fns)
        if value is True:
            return then(act, fns)
        if value is False:
            return otherwise(act, fns)
        raise no_overload("_?_:_", value)

    return conditional


def _and(left: Closure, right: Closure) -> Closure:
    def and_(act: Mapping[str, Any], fns: Functions) -> bool:
        try:
            lhs = left(act, fns)
        except ABSORBABLE as error:
            rhs = right(act, fns)
            if rhs is False:
                return False
            raise _as_evaluation_error(error) from None
        if lhs is False:
            return False
        rhs = right(act, fns)
        if lhs is True:
            if rhs is True or rhs is False:
                return rhs
            raise no_overload("_&&_", lhs, rhs)
        if rhs is False:
            return False
        raise no_overload("_&&_", lhs, rhs)

    return and_


def _or(left: Closure, right: Closure) -> Closure:
    def or_(act: Mapping[str, Any], fns: Functions) -> bool:
        try:
            lhs = left(act, fns)
        except ABSORBABLE as error:
            rhs = right(act, fns)
            if rhs is True:
                return True
            raise _as_evaluation_error(error) from None
        if lhs is True:
            return True
        rhs = right(act, fns)
        if lhs is False:
            if rhs is True or rhs is False:
                return rhs
            raise no_overload("_||_", lhs, rhs)
        if rhs is True:
            return True
        raise no_overload("_||_", lhs, rhs)

    return or_


def _as_evaluation_error(error: BaseException) -> EvaluationError:
    if isinstance(error, EvaluationError):
        return error
    return EvaluationError(f"{type(error).__name__}: {error}")


def _builtin(impl: Callable[..., Any], args: list[Closure]) -> Closure:
    if len(args) == 1:
        (only,) = args

        def call1(act: Mapping[str, Any], fns: Functions) -> Any:
            return impl(only(act, fns))

        return call1
    if len(args) == 2:
        first, second = args

        def call2(act: Mapping[str, Any], fns: Functions) -> Any:
            return impl(first(act, fns), second(act, fns))

        return call2

    def call(act: Mapping[str, Any], fns: Functions) -> Any:
        return impl(*[arg(act, fns) for arg in args])

    return call


def _matches_constant(text: Closure, pattern: Any) -> Closure:
    search = pattern.search

    def matches(act: Mapping[str, Any], fns: Functions) -> bool:
        value = text(act, fns)
        if type(value) is not str:
            raise no_overload("matches", value)
        return search(value) is not None

    return matches


def _external(name: str, args: list[Closure]) -> Closure:
    def external(act: Mapping[str, Any], fns: Functions) -> Any:
        function = fns.get(name) if fns is not None else None
        if function is None:
            raise EvaluationError(f"function {name}() is not available here")
        values = [arg(act, fns) for arg in args]
        try:
            return function(*values)
        except EvaluationError:
            raise
        except Exception as exc:
            raise EvaluationError(f"{name}() failed: {exc}") from exc

    return external


def _range(value: Any, macro: str) -> Iterable[Any]:
    if type(value) is list or type(value) is tuple:
        return value
    if isinstance(value, Mapping):
        return list(value)
    raise EvaluationError(f"{macro}() needs a list or a map, not {type_name(value)}")


def _quantifier(
    macro: str, decisive: bool, range_fn: Closure, variable: str, predicate: Closure
) -> Closure:
    """``all`` (decided by the first false) and ``exists`` (by the first true).

    Errors of the predicate are absorbed when an item decides the result, as CEL's
    commutative ``&&`` / ``||`` absorb them; otherwise the last error is raised.
    """

    undecided = not decisive

    def quantify(act: Mapping[str, Any], fns: Functions) -> bool:
        scope = dict(act)
        error: BaseException | None = None
        for item in _range(range_fn(act, fns), macro):
            scope[variable] = item
            try:
                value = predicate(scope, fns)
            except ABSORBABLE as exc:
                error = exc
                continue
            if value is decisive:
                return not undecided
            if value is not undecided:
                error = no_overload(macro, value)
        if error is not None:
            raise _as_evaluation_error(error)
        return undecided

    return quantify


def _exists_one(range_fn: Closure, variable: str, predicate: Closure) -> Closure:
    def exists_one(act: Mapping[str, Any], fns: Functions) -> bool:
        scope = dict(act)
        count = 0
        for item in _range(range_fn(act, fns), "exists_one"):
            scope[variable] = item
            value = predicate(scope, fns)
            if value is True:
                count += 1
            elif value is not False:
                raise no_overload("exists_one", value)
        return count == 1

    return exists_one


def _map_filter(
    range_fn: Closure, variable: str, predicate: Closure | None, transform: Closure | None
) -> Closure:
    macro = "map" if transform is not None else "filter"

    def map_filter(act: Mapping[str, Any], fns: Functions) -> list[Any]:
        scope = dict(act)
        result = []
        for item in _range(range_fn(act, fns), macro):
            scope[variable] = item
            if predicate is not None:
                keep = predicate(scope, fns)
                if keep is False:
                    continue
                if keep is not True:
                    raise no_overload(macro, keep)
            result.append(transform(scope, fns) if transform is not None else item)
        return result

    return map_filter


# --------------------------------------------------------------------------- operators


def _equals(left: Closure, right: Closure) -> Closure:
    def equals(act: Mapping[str, Any], fns: Functions) -> bool:
        return equal(left(act, fns), right(act, fns))

    return equals


def _not_equals(left: Closure, right: Closure) -> Closure:
    def not_equals(act: Mapping[str, Any], fns: Functions) -> bool:
        return not equal(left(act, fns), right(act, fns))

    return not_equals


_FAST_ORDERED = (int, float, str)

_RELATION_TESTS: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c == -1,
    "<=": lambda c: c in (-1, 0),
    ">": lambda c: c == 1,
    ">=": lambda c: c in (1, 0),
}


def _relation(op: str) -> Callable[[Closure, Closure], Closure]:
    test = _RELATION_TESTS[op]
    fast: Callable[[Any, Any], bool] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }[op]

    def factory(left: Closure, right: Closure) -> Closure:
        def relation(act: Mapping[str, Any], fns: Functions) -> bool:
            lhs = left(act, fns)
            rhs = right(act, fns)
            if type(lhs) is type(rhs) and type(lhs) in _FAST_ORDERED:
                return fast(lhs, rhs)
            return test(compare(lhs, rhs))

        return relation

    return factory


def _relation_constant(op: str, left: Closure, constant: Any) -> Closure:
    """A relation against a constant int or string, such as ``a > 3``."""
    test = _RELATION_TESTS[op]
    constant_type = type(constant)
    if op == "<":

        def less(act: Mapping[str, Any], fns: Functions) -> bool:
            value = left(act, fns)
            if type(value) is constant_type:
                return bool(value < constant)
            return test(compare(value, constant))

        return less
    if op == "<=":

        def less_equal(act: Mapping[str, Any], fns: Functions) -> bool:
            value = left(act, fns)
            if type(value) is constant_type:
                return bool(value <= constant)
            return test(compare(value, constant))

        return less_equal
    if op == ">":

        def greater(act: Mapping[str, Any], fns: Functions) -> bool:
            value = left(act, fns)
            if type(value) is constant_type:
                return bool(value > constant)
            return test(compare(value, constant))

        return greater

    def greater_equal(act: Mapping[str, Any], fns: Functions) -> bool:
        value = left(act, fns)
        if type(value) is constant_type:
            return bool(value >= constant)
        return test(compare(value, constant))

    return greater_equal


def _in(left: Closure, right: Closure) -> Closure:
    def in_(act: Mapping[str, Any], fns: Functions) -> bool:
        return contains(right(act, fns), left(act, fns))

    return in_


def contains(container: Any, item: Any) -> bool:
    """CEL ``item in container`` for a list (any element equal) or a map (a key)."""
    if type(container) is list or type(container) is tuple:
        return any(equal(item, element) for element in container)
    if isinstance(container, Mapping):
        if kind(item) not in ("string", "int", "uint", "bool", "double"):
            return False
        return map_get(container, item) is not _MISSING
    raise no_overload("@in", item, container)


def _in_constant(left: Closure, container: Any) -> Closure:
    """``x in [literal, ...]``: a set lookup when every element has the same simple type."""
    if type(container) is list and container:
        element_type = type(container[0])
        if element_type in (str, int) and all(type(e) is element_type for e in container):
            members = frozenset(container)

            def in_set(act: Mapping[str, Any], fns: Functions) -> bool:
                value = left(act, fns)
                if type(value) is element_type:
                    return value in members
                return contains(container, value)

            return in_set

    def in_constant(act: Mapping[str, Any], fns: Functions) -> bool:
        return contains(container, left(act, fns))

    return in_constant


def _arithmetic(
    op: str, operation: Callable[[Any, Any], Any]
) -> Callable[[Closure, Closure], Closure]:
    def factory(left: Closure, right: Closure) -> Closure:
        def arithmetic(act: Mapping[str, Any], fns: Functions) -> Any:
            return operation(left(act, fns), right(act, fns))

        return arithmetic

    return factory


def add(left: Any, right: Any) -> Any:
    """CEL ``+`` on numbers of one type, strings, bytes, lists, timestamps and durations."""
    left_type = type(left)
    right_type = type(right)
    if left_type is int and right_type is int:
        result = left + right
        if INT64_MIN <= result <= INT64_MAX:
            return result
        raise EvaluationError("int overflow in addition")
    if left_type is right_type:
        if left_type is float or left_type is str or left_type is bytes:
            return left + right
        if left_type is UInt:
            return check_uint(int(left) + int(right))
        if left_type is timedelta:
            return _checked_time(lambda: left + right)
    if _is_list(left) and _is_list(right):
        return [*left, *right]
    if left_type is datetime and right_type is timedelta:
        return _checked_time(lambda: left + right)
    if left_type is timedelta and right_type is datetime:
        return _checked_time(lambda: right + left)
    raise no_overload("_+_", left, right)


def subtract(left: Any, right: Any) -> Any:
    """CEL ``-`` on numbers of one type, timestamps and durations."""
    left_type = type(left)
    right_type = type(right)
    if left_type is int and right_type is int:
        result = left - right
        if INT64_MIN <= result <= INT64_MAX:
            return result
        raise EvaluationError("int overflow in subtraction")
    if left_type is right_type:
        if left_type is float:
            return left - right
        if left_type is UInt:
            return check_uint(int(left) - int(right))
        if left_type is timedelta or left_type is datetime:
            return _checked_time(lambda: left - right)
    if left_type is datetime and right_type is timedelta:
        return _checked_time(lambda: left - right)
    raise no_overload("_-_", left, right)


def multiply(left: Any, right: Any) -> Any:
    """CEL ``*`` on two numbers of the same type."""
    left_type = type(left)
    if left_type is int and type(right) is int:
        return check_int(left * right)
    if left_type is type(right):
        if left_type is float:
            return left * right
        if left_type is UInt:
            return check_uint(int(left) * int(right))
    raise no_overload("_*_", left, right)


def divide(left: Any, right: Any) -> Any:
    """CEL ``/``: integer division truncates toward zero; a double divides by zero to ±inf."""
    left_type = type(left)
    if left_type is type(right):
        if left_type is float:
            if right == 0.0:
                if left == 0.0 or left != left:
                    return float("nan")
                sign = (left < 0) != (str(right).startswith("-"))
                return float("-inf") if sign else float("inf")
            return left / right
        if left_type is int or left_type is UInt:
            if right == 0:
                raise EvaluationError("division by zero")
            quotient = abs(left) // abs(right)
            if (left < 0) != (right < 0):
                quotient = -quotient
            return check_int(quotient) if left_type is int else UInt(quotient)
    raise no_overload("_/_", left, right)


def modulo(left: Any, right: Any) -> Any:
    """CEL ``%`` on ints or uints; the result has the sign of the dividend."""
    left_type = type(left)
    if left_type is type(right) and (left_type is int or left_type is UInt):
        if right == 0:
            raise EvaluationError("modulus by zero")
        remainder = abs(left) % abs(right)
        result = -remainder if left < 0 else remainder
        return result if left_type is int else UInt(result)
    raise no_overload("_%_", left, right)


def _is_list(value: Any) -> bool:
    return type(value) is list or type(value) is tuple


def _checked_time(operation: Callable[[], Any]) -> Any:
    try:
        return operation()
    except OverflowError:
        raise EvaluationError("timestamp or duration out of range") from None


_BINARY: dict[str, Callable[[Closure, Closure], Closure]] = {
    "==": _equals,
    "!=": _not_equals,
    "<": _relation("<"),
    "<=": _relation("<="),
    ">": _relation(">"),
    ">=": _relation(">="),
    "in": _in,
    "+": _arithmetic("+", add),
    "-": _arithmetic("-", subtract),
    "*": _arithmetic("*", multiply),
    "/": _arithmetic("/", divide),
    "%": _arithmetic("%", modulo),
}

__all__ = ["UINT64_MAX", "Compiled", "Compiler", "add", "contains", "divide", "fresh"]
