"""Guard reasoning: which values make CEL guards true or false.

The decidable fragment of CEL — comparisons, boolean logic, ``?:``,
membership in literal lists, string equality and ``startsWith``/``endsWith``/
``contains``, ``has()`` and ``"key" in map``, integer arithmetic — is
translated to z3.  Field paths of ``event`` and of data (``event.changes.labels``,
``request.role``) are the variables; finite-domain data (``bool``, ``enum``,
``int`` with ``minimum``/``maximum``) is constrained to its domain.

:meth:`GuardReasoner.solve` answers whether some guards can be true while
others are false, with a *witness* (values for the paths, and the event
payload built from them).  Three answers:

* ``SAT`` with a witness — the witness is concrete; the checker still replays
  it through the engine, which has the last word;
* ``UNSAT`` — only when the translation was exact;
* ``UNKNOWN`` — the guards use something outside the fragment (a function
  z3 cannot model, ``now``, a comprehension over a list whose length matters
  for unsatisfiability); the checker then treats each guard as possibly true
  and possibly false.

Lists in the payload are modelled by their first element (``labels.exists(l,
l.title == "x")`` holds for ``[{"title": "x"}]``) and by independent
"contains this constant" facts; a witness found that way is a real payload, but
an "unsatisfiable" verdict is then downgraded to ``UNKNOWN``.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import z3

from autoflow.check.payloads import (
    sample_candidates,
    sample_file,
    sample_values,
    sampled_value,
    typical_value,
    value_at,
)
from autoflow.model.cel import UInt, ast
from autoflow.model.ir import Chart, Data, Expr, walk_states

__all__ = ["Domain", "GuardReasoner", "Solution", "Verdict", "data_domains"]

#: The roots a guard may read that the reasoner models as free paths.
EVENT_ROOT = "event"
_TIMEOUT_MS = 2000
_MAX_CANDIDATES = 6  # realistic values tried per field of a witness


class Verdict(enum.Enum):
    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Solution:
    """The answer of :meth:`GuardReasoner.solve`.

    ``values`` maps dotted paths (``event.object_attributes.status``,
    ``percent``) to the witness values; ``payload`` is the event data built
    from the ``event.*`` paths (None when no guard reads the event).
    """

    verdict: Verdict
    values: dict[str, Any] = field(default_factory=dict)
    payload: Any = None
    decided: frozenset[str] = frozenset()  # ``event`` paths the witness fixes


@dataclass(frozen=True)
class Domain:
    """A finite domain of a data item: its possible values (explored exactly)."""

    values: tuple[Any, ...]


def data_domains(chart: Chart) -> dict[str, Domain]:
    """Data items with a finite declared domain: ``bool``, ``enum``, bounded ``int``.

    Bounded integers larger than 1024 values are not treated as finite.
    """
    items: list[Data] = list(chart.datamodel)
    for state in walk_states(chart.states):
        items.extend(state.datamodel)
    domains: dict[str, Domain] = {}
    for item in items:
        if item.enum is not None:
            domains[item.id] = Domain(tuple(item.enum))
        elif item.type in ("bool", "boolean"):
            domains[item.id] = Domain((False, True))
        elif (
            item.type in ("int", "uint", "integer")
            and item.minimum is not None
            and item.maximum is not None
            and item.maximum - item.minimum <= 1024
        ):
            domains[item.id] = Domain(tuple(range(item.minimum, item.maximum + 1)))
    return domains


class _Undecidable(Exception):
    """The expression leaves the fragment the reasoner translates."""


@dataclass(frozen=True)
class _Path:
    """A free variable: a field path (``("event", "user", "username")``); ``0`` is
    the first element of a list."""

    parts: tuple[str | int, ...]

    @property
    def name(self) -> str:
        return ".".join(str(p) if isinstance(p, str) else "[0]" for p in self.parts)


@dataclass(frozen=True)
class _Const:
    """A value known now: a literal, or data substituted concretely."""

    value: Any


_Term: TypeAlias = Any  # a z3 expression, a _Path or a _Const


class _Translation:
    """Translates CEL ASTs to z3 terms, recording the variables it made."""

    def __init__(
        self,
        reasoner: GuardReasoner,
        data: Mapping[str, Any] | None,
        nullable: frozenset[str] = frozenset(),
        event: str | None = None,
    ) -> None:
        self.reasoner = reasoner
        self.data = data
        self.event = event  # the event's name: its webhook body says the fields' types
        self.nullable = nullable  # paths some guard compares with null
        self.exact = True
        self.vars: dict[str, tuple[_Path, z3.ExprRef]] = {}
        self.contains: dict[tuple[str, Any], tuple[_Path, Any, z3.BoolRef]] = {}
        self.fields: set[tuple[str, Any]] = set()  # contains facts that are map keys
        self.field_reads: set[tuple[str, Any]] = set()  # map keys a guard tests (has())
        self.nulls: dict[str, tuple[_Path, z3.BoolRef]] = {}  # "this path is null"
        self.present: list[tuple[_Path, str]] = []  # paths a key reads, with their use
        self.sizes: dict[str, tuple[_Path, z3.ArithRef]] = {}
        self.domain_constraints: list[z3.BoolRef] = []

    # -- variables -------------------------------------------------------

    def var(self, path: _Path, sort: z3.SortRef) -> z3.ExprRef:
        name = path.name
        known = self.vars.get(name)
        if known is not None:
            if known[1].sort() != sort:
                if {known[1].sort(), sort} <= {z3.IntSort(), z3.RealSort()}:
                    return z3.ToReal(known[1]) if sort == z3.RealSort() else known[1]
                raise _Undecidable(f"{name} used as two types")
            return known[1]
        variable = z3.Const(name, sort)
        self.vars[name] = (path, variable)
        root = path.parts[0]
        domain = (
            self.reasoner.domains.get(root)
            if len(path.parts) == 1 and isinstance(root, str)
            else None
        )
        if domain is not None and isinstance(root, str):
            options = [_literal(v, sort) for v in domain.values]
            options = [o for o in options if o is not None]
            if options:
                self.domain_constraints.append(z3.Or([variable == o for o in options]))
        return variable

    def null_var(self, path: _Path) -> z3.BoolRef:
        """``path == null``: in CEL that needs the field present (a missing one is an
        error), so "null" implies "present"; "not null" is witnessed by a value."""
        if len(path.parts) < 2:
            raise _Undecidable("comparison of a whole root with null")
        known = self.nulls.get(path.name)
        if known is None:
            variable = z3.Bool(f"{path.name} is null")
            for n in range(1, len(path.parts)):  # the field and the maps around it
                if isinstance(path.parts[n], str):
                    present = self.contains_var(_Path(path.parts[:n]), path.parts[n], field=True)
                    self.domain_constraints.append(z3.Implies(variable, present))
            known = (path, variable)
            self.nulls[path.name] = known
        return known[1]

    def contains_var(self, path: _Path, key: Any, *, field: bool = False) -> z3.BoolRef:
        index = (path.name, key)
        if field:
            self.fields.add(index)
        known = self.contains.get(index)
        if known is None:
            variable = z3.Bool(f"{path.name} contains {key!r}")
            known = (path, key, variable)
            self.contains[index] = known
        return known[2]

    # -- terms -----------------------------------------------------------

    def term(self, node: ast.Node, scope: Mapping[str, _Term]) -> _Term:
        match node:
            case ast.Literal(value=value):
                if isinstance(value, UInt):
                    return _Const(int(value))
                return _Const(value)
            case ast.Ident(name=name):
                if name in scope:
                    return scope[name]
                return self.root(name)
            case ast.Select(operand=operand, field=name):
                return self.select(self.term(operand, scope), name)
            case ast.Index(operand=operand, index=index):
                key = self.term(index, scope)
                if not isinstance(key, _Const) or not isinstance(key.value, str | int):
                    raise _Undecidable("computed index")
                return self.select(self.term(operand, scope), key.value)
            case ast.ListLit(elements=elements):
                values = [self.term(e, scope) for e in elements]
                if all(isinstance(v, _Const) for v in values):
                    return _Const([v.value for v in values if isinstance(v, _Const)])
                raise _Undecidable("list of non-constants")
            case ast.Unary(op="!", operand=operand):
                return z3.Not(self.boolean(operand, scope))
            case ast.Unary(op="-", operand=operand):
                inner = self.term(operand, scope)
                if isinstance(inner, _Const) and isinstance(inner.value, int | float):
                    return _Const(-inner.value)
                return -self.arith(inner)
            case ast.Binary(op="&&" | "||" as op, left=left, right=right):
                parts = [self.boolean(left, scope), self.boolean(right, scope)]
                return z3.And(parts) if op == "&&" else z3.Or(parts)
            case ast.Binary(op="==" | "!=" as op, left=left, right=right):
                equal = self.equal(self.term(left, scope), self.term(right, scope))
                return equal if op == "==" else z3.Not(equal)
            case ast.Binary(op="<" | "<=" | ">" | ">=" as op, left=left, right=right):
                a, b = self.comparable(self.term(left, scope), self.term(right, scope))
                return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
            case ast.Binary(op="in", left=left, right=right):
                return self.member(self.term(left, scope), self.term(right, scope))
            case ast.Binary(op="+" | "-" | "*" as op, left=left, right=right):
                return self.arithmetic(op, self.term(left, scope), self.term(right, scope))
            case ast.Conditional(condition=condition, then=then, otherwise=otherwise):
                c = self.boolean(condition, scope)
                a, b = self.unify(self.term(then, scope), self.term(otherwise, scope))
                return z3.If(c, a, b)
            case ast.Has(operand=operand, field=name):
                return self.has(self.term(operand, scope), name)
            case ast.Comprehension(macro="exists" | "all" as macro, range=rng, variable=v):
                assert node.predicate is not None
                return self.quantifier(macro, self.term(rng, scope), v, node.predicate, scope)
            case ast.Call(function="size", args=(arg,), target=None):
                return self.size(self.term(arg, scope))
            case ast.Call(function="size", args=(), target=target) if target is not None:
                return self.size(self.term(target, scope))
            case ast.Call(
                function="startsWith" | "endsWith" | "contains" as fn, args=(arg,), target=target
            ) if target is not None:
                text = self.string(self.term(target, scope))
                other = self.string(self.term(arg, scope))
                if fn == "startsWith":
                    return z3.PrefixOf(other, text)
                if fn == "endsWith":
                    return z3.SuffixOf(other, text)
                return z3.Contains(text, other)
            case _:
                raise _Undecidable(type(node).__name__)

    def root(self, name: str) -> _Term:
        if name == EVENT_ROOT:
            return _Path((EVENT_ROOT,))
        if name not in self.reasoner.declared:
            raise _Undecidable(f"reads {name}")
        if self.data is not None and name in self.data:
            value = self.data[name]
            if name in self.reasoner.domains or _plain(value):
                return _Const(value)
        return _Path((name,))

    def select(self, operand: _Term, name: str | int) -> _Term:
        if isinstance(operand, _Path):
            return _Path((*operand.parts, name))
        if isinstance(operand, _Const):
            value = operand.value
            if isinstance(value, Mapping) and name in value:
                return _Const(value[name])
            if isinstance(value, list) and isinstance(name, int) and 0 <= name < len(value):
                return _Const(value[name])
        raise _Undecidable("selection on a value")

    def has(self, operand: _Term, name: str) -> z3.BoolRef:
        if isinstance(operand, _Const):
            return z3.BoolVal(isinstance(operand.value, Mapping) and name in operand.value)
        if isinstance(operand, _Path):
            self.field_reads.add((operand.name, name))
            return self.contains_var(operand, name, field=True)
        raise _Undecidable("has() on a computed value")

    def boolean(self, node: ast.Node, scope: Mapping[str, _Term]) -> z3.BoolRef:
        value = self.term(node, scope)
        if isinstance(value, _Path):
            return self.var(value, z3.BoolSort())
        if isinstance(value, _Const):
            if isinstance(value.value, bool):
                return z3.BoolVal(value.value)
            raise _Undecidable("not a boolean")
        if not z3.is_bool(value):
            raise _Undecidable("not a boolean")
        return value

    def scalar(self, value: _Term, sort: z3.SortRef | None) -> z3.ExprRef:
        if isinstance(value, _Path):
            return self.var(value, sort if sort is not None else z3.IntSort())
        if isinstance(value, _Const):
            result = _literal(value.value, sort)
            if result is None:
                raise _Undecidable(f"value {value.value!r}")
            return result
        return value

    def unify(
        self, a: _Term, b: _Term, fallback: z3.SortRef | None = None
    ) -> tuple[z3.ExprRef, z3.ExprRef]:
        sort = _sort_of(a)
        if sort is None:
            sort = _sort_of(b)
        if sort is None:
            sort = fallback
        x, y = self.scalar(a, sort), self.scalar(b, sort)
        if x.sort() != y.sort():
            if {x.sort(), y.sort()} <= {z3.IntSort(), z3.RealSort()}:
                return _real(x), _real(y)
            raise _Undecidable("comparison of different types")
        return x, y

    def equal(self, a: _Term, b: _Term) -> z3.BoolRef:
        if isinstance(a, _Const) and isinstance(b, _Const):
            return z3.BoolVal(bool(a.value == b.value))
        for one, other in ((a, b), (b, a)):
            if isinstance(one, _Const) and one.value is None:
                if isinstance(other, _Path):
                    return self.null_var(other)
                raise _Undecidable("comparison with null")
            if isinstance(one, _Const) and isinstance(one.value, list | dict):
                raise _Undecidable("comparison with a collection")
        x, y = self.unify(a, b, self.sampled_sort(a, b))
        # a path compared with null elsewhere equals a value only when it is not null
        nulls = [
            z3.Not(self.null_var(p))
            for p in (a, b)
            if isinstance(p, _Path) and p.name in self.nullable
        ]
        return z3.And(*nulls, x == y) if nulls else x == y

    def sampled_sort(self, a: _Term, b: _Term) -> z3.SortRef | None:
        """For ``event.a == event.b``: the sort of the values GitLab's webhook bodies
        have for them (a branch name compares as a string, not as a number)."""
        if not (isinstance(a, _Path) and isinstance(b, _Path)):
            return None
        if a.name in self.vars or b.name in self.vars:
            return None  # a sort is known already
        for path in (a, b):
            if path.parts[0] == EVENT_ROOT:
                value = sampled_value(path.parts[1:], "any", self.event)
                sort = _sort_of(_Const(value)) if value is not None else None
                if sort is not None:
                    return sort
        return None

    def comparable(self, a: _Term, b: _Term) -> tuple[z3.ExprRef, z3.ExprRef]:
        x, y = self.unify(a, b)
        if x.sort() not in (z3.IntSort(), z3.RealSort()):
            raise _Undecidable("ordering of non-numbers")
        return x, y

    def arith(self, value: _Term) -> z3.ArithRef:
        result = self.scalar(value, z3.IntSort())
        if not isinstance(result, z3.ArithRef):
            raise _Undecidable("arithmetic on a non-number")
        return result

    def string(self, value: _Term) -> z3.SeqRef:
        result = self.scalar(value, z3.StringSort())
        if not isinstance(result, z3.SeqRef):
            raise _Undecidable("not a string")
        return result

    def arithmetic(self, op: str, a: _Term, b: _Term) -> _Term:
        if isinstance(a, _Const) and isinstance(b, _Const):
            raise _Undecidable("constant arithmetic")  # rare; keep the fragment small
        x, y = self.unify(a, b)
        if x.sort() == z3.StringSort() and op == "+":
            return z3.Concat(x, y)
        if x.sort() not in (z3.IntSort(), z3.RealSort()):
            raise _Undecidable("arithmetic on non-numbers")
        return {"+": x + y, "-": x - y, "*": x * y}[op]

    def member(self, item: _Term, collection: _Term) -> z3.BoolRef:
        if isinstance(collection, _Const):
            values = collection.value
            if isinstance(values, Mapping):
                values = list(values.keys())
            if not isinstance(values, list):
                raise _Undecidable("membership in a non-collection")
            if isinstance(item, _Const):
                return z3.BoolVal(item.value in values)
            return z3.Or([self.equal(item, _Const(v)) for v in values] or [z3.BoolVal(False)])
        if isinstance(collection, _Path) and isinstance(item, _Const):
            if not isinstance(item.value, str | int | bool):
                raise _Undecidable("membership of a collection")
            return self.contains_var(collection, item.value)
        raise _Undecidable("membership in a computed collection")

    def size(self, value: _Term) -> z3.ArithRef:
        if isinstance(value, _Const):
            if isinstance(value.value, str | list | dict):
                return z3.IntVal(len(value.value))
            raise _Undecidable("size of a non-collection")
        if isinstance(value, _Path):
            self.exact = False
            known = self.sizes.get(value.name)
            if known is None:
                variable = z3.Int(f"size({value.name})")
                self.domain_constraints.append(variable >= 0)
                known = (value, variable)
                self.sizes[value.name] = known
            return known[1]
        raise _Undecidable("size of a computed value")

    def quantifier(
        self,
        macro: str,
        rng: _Term,
        variable: str,
        predicate: ast.Node,
        scope: Mapping[str, _Term],
    ) -> z3.BoolRef:
        if isinstance(rng, _Const):
            items = rng.value
            if isinstance(items, Mapping):
                items = list(items.keys())
            if not isinstance(items, list):
                raise _Undecidable("comprehension over a non-collection")
            parts = [self.boolean(predicate, {**scope, variable: _Const(i)}) for i in items]
            if macro == "exists":
                return z3.Or(parts) if parts else z3.BoolVal(False)
            return z3.And(parts) if parts else z3.BoolVal(True)
        if isinstance(rng, _Path):
            # a free list, modelled by its first element: witnesses stay real,
            # "unsatisfiable" does not (the list could have other elements)
            self.exact = False
            return self.boolean(predicate, {**scope, variable: _Path((*rng.parts, 0))})
        raise _Undecidable("comprehension over a computed value")


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _sort_of(value: _Term) -> z3.SortRef | None:
    if isinstance(value, _Path):
        return None
    if isinstance(value, _Const):
        v = value.value
        if isinstance(v, bool):
            return z3.BoolSort()
        if isinstance(v, int):
            return z3.IntSort()
        if isinstance(v, float):
            return z3.RealSort()
        if isinstance(v, str):
            return z3.StringSort()
        return None
    return value.sort()


def _literal(value: Any, sort: z3.SortRef | None) -> z3.ExprRef | None:
    if isinstance(value, bool):
        return z3.BoolVal(value) if sort in (None, z3.BoolSort()) else None
    if isinstance(value, int):
        if sort == z3.RealSort():
            return z3.RealVal(value)
        return z3.IntVal(value) if sort in (None, z3.IntSort()) else None
    if isinstance(value, float):
        return z3.RealVal(value) if sort in (None, z3.RealSort(), z3.IntSort()) else None
    if isinstance(value, str):
        return z3.StringVal(value) if sort in (None, z3.StringSort()) else None
    return None


def _real(value: z3.ExprRef) -> z3.ExprRef:
    return z3.ToReal(value) if value.sort() == z3.IntSort() else value


def _python(value: z3.ExprRef) -> Any:
    if z3.is_true(value):
        return True
    if z3.is_false(value):
        return False
    if z3.is_int_value(value):
        return value.as_long()
    if z3.is_rational_value(value):
        fraction = value.as_fraction()
        return float(fraction.numerator) / float(fraction.denominator)
    if z3.is_string_value(value):
        return value.as_string()
    return None


def _place(payload: dict[str, Any], parts: Sequence[str | int], value: Any) -> dict[str, Any]:
    """Put ``value`` at ``parts`` inside the nested ``payload`` (lists for index 0)."""

    def put(node: Any, rest: Sequence[str | int]) -> Any:
        head = rest[0]
        if isinstance(head, int):
            items = node if isinstance(node, list) else []
            if not items or not isinstance(items[0], dict | list):
                items = [None, *items[1:]] if items else [None]
            items[0] = value if len(rest) == 1 else put(items[0], rest[1:])
            return items
        mapping = node if isinstance(node, dict) else {}
        if len(rest) == 1:
            if head not in mapping or not isinstance(value, dict) or value:
                mapping[head] = value
        else:
            mapping[head] = put(mapping.get(head), rest[1:])
        return mapping

    result = put(payload, list(parts))
    assert isinstance(result, dict)
    return result


class GuardReasoner:
    """Satisfiability of guard combinations of one chart, with witnesses."""

    def __init__(self, chart: Chart) -> None:
        self.domains = data_domains(chart)
        declared = {d.id for d in chart.datamodel}
        for state in walk_states(chart.states):
            declared.update(d.id for d in state.datamodel)
        self.declared = frozenset(declared)
        self._cache: dict[tuple[Any, ...], Solution] = {}

    def translatable(self, expr: Expr) -> bool:
        """Whether ``expr`` lies in the fragment (with every variable free)."""
        try:
            _Translation(self, None).boolean(expr.program.ast, {})
        except _Undecidable:
            return False
        return True

    def solve(
        self,
        true: Sequence[Expr] = (),
        false: Sequence[Expr] = (),
        *,
        data: Mapping[str, Any] | None = None,
        present: Sequence[Expr] = (),
        event: str | None = None,
    ) -> Solution:
        """Can every guard of ``true`` be true and every one of ``false`` false?

        ``data`` substitutes the current values of the datamodel (plain values
        only; finite-domain data always); without it data is free within its
        domain.  ``present``: expressions whose paths the payload must contain
        (a trigger's ``key``), filled with typical values.  ``event``: the name
        of the event the payload is for; for a GitLab event the witness keeps
        the values of GitLab's webhook body wherever the guards allow them
        (:mod:`autoflow.check.payloads`).
        """
        file = sample_file(event)
        key = (
            tuple(e.source for e in true),
            tuple(e.source for e in false),
            tuple(e.source for e in present),
            None if data is None else _freeze(data),
            file,
        )
        cached = self._cache.get(key)
        if cached is None:
            cached = self._solve(true, false, data, present, event)
            self._cache[key] = cached
        return cached

    def _solve(
        self,
        true: Sequence[Expr],
        false: Sequence[Expr],
        data: Mapping[str, Any] | None,
        present: Sequence[Expr],
        event: str | None,
    ) -> Solution:
        nullable: frozenset[str] = frozenset()
        while True:
            translation = _Translation(self, data, nullable, event)
            try:
                constraints = [translation.boolean(e.program.ast, {}) for e in true]
                constraints += [z3.Not(translation.boolean(e.program.ast, {})) for e in false]
                for expr in present:
                    collect_event_paths(expr.program.ast, translation.present, None)
            except _Undecidable:
                return Solution(Verdict.UNKNOWN)
            if set(translation.nulls) <= nullable:
                break
            nullable = frozenset(translation.nulls)  # again, knowing which paths may be null
        solver = z3.Solver()
        solver.set("timeout", _TIMEOUT_MS)
        solver.add(*constraints, *translation.domain_constraints)
        answer = solver.check()
        if answer == z3.unsat:
            return Solution(Verdict.UNSAT if translation.exact else Verdict.UNKNOWN)
        if answer != z3.sat:
            return Solution(Verdict.UNKNOWN)
        constraints += translation.domain_constraints
        model = solver.model()
        overrides = _realistic_values(model, z3.And(constraints), translation, event)
        return self._witness(translation, _Model(model, overrides))

    def _witness(self, translation: _Translation, model: _Model) -> Solution:
        event = translation.event
        values: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        reads_event = False

        def absent(path: _Path) -> bool:
            """A guard tests (``has()``) a map key on ``path`` that the witness leaves out."""
            for n in range(1, len(path.parts)):
                key = (_Path(path.parts[:n]).name, path.parts[n])
                known = translation.contains.get(key)
                if (
                    key in translation.field_reads
                    and known is not None
                    and not z3.is_true(model.value(known[2], model_completion=True))
                ):
                    return True
            return False

        nulls = {
            name: z3.is_true(model.value(variable, model_completion=True))
            for name, (_, variable) in translation.nulls.items()
        }
        for name, (path, variable) in sorted(translation.vars.items()):
            value = _python(model.value(variable, model_completion=True))
            if value is None and variable.sort() == z3.StringSort():
                value = ""
            if nulls.get(name):
                value = None
            values[name] = value
            if path.parts[0] == EVENT_ROOT:
                reads_event = True
                if len(path.parts) > 1 and not absent(path):
                    payload = _place(payload, path.parts[1:], value)
        for name, (path, _) in sorted(translation.nulls.items()):
            if name in translation.vars:
                continue
            # null, or a value that is not null (the field must be there either way)
            value = None if nulls[name] else typical_value(path.parts[1:], "any", event)
            if not nulls[name] and absent(path):
                continue
            values[name] = value
            if path.parts[0] == EVENT_ROOT:
                reads_event = True
                payload = _place(payload, path.parts[1:], value)
        for name, (_, variable) in sorted(translation.sizes.items()):
            values[f"size({name})"] = _python(model.value(variable, model_completion=True))
        for (_, key), (path, _, variable) in sorted(
            translation.contains.items(), key=lambda item: (item[0][0], repr(item[0][1]))
        ):
            holds = z3.is_true(model.value(variable, model_completion=True))
            values[f"{path.name} contains {key!r}"] = holds
            if path.parts[0] != EVENT_ROOT:
                continue
            reads_event = True
            if not holds:
                continue
            if (
                len(path.parts) == 1
                or (path.name, key) in translation.fields
                or isinstance(value_at(payload, path.parts[1:]), dict)
            ):
                if isinstance(key, str):
                    payload = _place(payload, (*path.parts[1:], key), {})
            else:
                payload = _append(payload, path.parts[1:], key)
        for name, (path, _) in translation.sizes.items():
            if path.parts[0] == EVENT_ROOT and len(path.parts) > 1:
                reads_event = True
                wanted = values[f"size({name})"] or 0
                current = value_at(payload, path.parts[1:])
                if isinstance(current, list):
                    current.extend([None] * max(0, wanted - len(current)))
                elif isinstance(current, str | type(None)):
                    payload = _place(payload, path.parts[1:], "x" * min(wanted, 1024))
        for path, use in translation.present:
            reads_event = True
            if value_at(payload, path.parts[1:]) is None:
                payload = _place(payload, path.parts[1:], typical_value(path.parts[1:], use, event))
        decided = {path.name for path, _ in translation.vars.values()}
        decided.update(translation.nulls)
        decided.update(
            f"{path.name}.{key}" for (_, key), (path, _, _) in translation.contains.items()
        )
        return Solution(Verdict.SAT, values, payload if reads_event else None, frozenset(decided))


class _Model:
    """A z3 model with some variables given other values (that still satisfy the
    constraints): what a witness is read from."""

    def __init__(self, model: z3.ModelRef, overrides: list[tuple[z3.ExprRef, z3.ExprRef]]) -> None:
        self.model = model
        self.overrides = overrides

    def value(self, expr: z3.ExprRef, model_completion: bool = True) -> z3.ExprRef:
        if self.overrides:
            expr = z3.substitute(expr, *self.overrides)
        return self.model.eval(expr, model_completion=model_completion)


def _realistic_values(
    model: z3.ModelRef, constraints: z3.BoolRef, translation: _Translation, event: str | None
) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    """Values for the event's fields, instead of ``model``'s, that GitLab's webhook body
    for ``event`` has, wherever ``constraints`` stay true with them: a witness then
    differs from the real body only where a guard needs it to.  Where a guard rules
    the body's value out, another value GitLab's bodies use for a field of that name
    (a pipeline ``status`` of ``skipped``) when one fits.  No solving: each choice is
    checked by evaluating the constraints, all the body's values at once first, then
    field by field."""
    file = sample_file(event)
    if file is None:
        return []
    sampled = sample_values(file)
    choices: list[tuple[z3.ExprRef, list[z3.ExprRef]]] = []
    for name, (path, variable) in sorted(translation.vars.items()):
        if path.parts[0] != EVENT_ROOT or len(path.parts) < 2:
            continue
        values = [sampled[name]] if name in sampled else []
        if variable.sort() == z3.StringSort():  # names and states: other bodies' values
            values += [v for v in sample_candidates(str(path.parts[-1])) if v not in values]
        options = [
            literal
            for literal in (_literal(v, variable.sort()) for v in values[:_MAX_CANDIDATES])
            if literal is not None and literal.sort() == variable.sort()
        ]
        if options:
            choices.append((variable, options))
    if not choices:
        return []

    def holds(pairs: list[tuple[z3.ExprRef, z3.ExprRef]]) -> bool:
        return bool(
            z3.is_true(model.eval(z3.substitute(constraints, *pairs), model_completion=True))
        )

    firsts = [(variable, options[0]) for variable, options in choices]
    if holds(firsts):
        return firsts
    chosen: list[tuple[z3.ExprRef, z3.ExprRef]] = []
    for variable, options in choices:
        for option in options:
            if holds([*chosen, (variable, option)]):
                chosen.append((variable, option))
                break
    return chosen


_STRING_METHODS = frozenset(
    {
        "startsWith",
        "endsWith",
        "contains",
        "matches",
        "lowerAscii",
        "upperAscii",
        "split",
        "trim",
        "replace",
        "substring",
        "charAt",
        "indexOf",
        "lastIndexOf",
    }
)


def _use(node: ast.Node, parent: ast.Node | None) -> str:
    """How ``parent`` uses its operand ``node`` (one of :data:`payloads.USES`)."""
    match parent:
        case ast.Call(function="int" | "uint" | "double"):
            return "int"  # int("x") is an error
        case ast.Call(function="timestamp"):
            return "time"
        case ast.Call(function=fn, target=target) if target is node and fn in _STRING_METHODS:
            return "str"
        case ast.Comprehension(range=rng) if rng is node:
            return "list"
        case ast.Index(operand=operand, index=ast.Literal(value=int())) if operand is node:
            return "list"
        case ast.Index(operand=operand) if operand is node:
            return "map"
        case ast.Has(operand=operand) if operand is node:
            return "map"
        case ast.Binary(op="in", left=left, right=right) if right is node:
            # "key" in m is a map test as well; anything else a list membership
            textual = isinstance(left, ast.Literal) and isinstance(left.value, str)
            return "any" if textual else "list"
        case ast.Binary(op="&&" | "||") | ast.Unary(op="!"):
            return "bool"
        case ast.Conditional(condition=condition) if condition is node:
            return "bool"
        case ast.Binary(left=left, right=right):
            other = right if left is node else left
            if isinstance(other, ast.Literal):
                value = other.value
                if isinstance(value, bool):
                    return "bool"
                if isinstance(value, int | float):
                    return "int"
                if isinstance(value, str):
                    return "str"
    return "any"


def collect_event_paths(
    node: ast.Node,
    found: list[tuple[_Path, str]],
    parent: ast.Node | None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    include_event: bool = True,
) -> None:
    """The ``event.a.b`` chains ``node`` reads, each with how it is used (:func:`_use`).

    ``aliases`` maps data names assigned a part of the event (``milestone:
    event.object_attributes``) to that part, so ``milestone.title`` counts too.
    """
    chain: list[str] = []
    cursor: ast.Node = node
    while isinstance(cursor, ast.Select):
        chain.append(cursor.field)
        cursor = cursor.operand
    if chain and isinstance(cursor, ast.Ident):
        prefix: tuple[str, ...] | None = None
        if cursor.name == EVENT_ROOT and include_event:
            prefix = ()
        elif aliases is not None and cursor.name in aliases:
            prefix = aliases[cursor.name]
        if prefix is not None:
            parts = (EVENT_ROOT, *prefix, *reversed(chain))
            found.append((_Path(parts), _use(node, parent)))
            return
    for child in ast.children(node):
        collect_event_paths(child, found, node, aliases, include_event)


def _append(payload: dict[str, Any], parts: Sequence[str | int], item: Any) -> dict[str, Any]:
    current = value_at(payload, parts)
    items = list(current) if isinstance(current, list) else []
    if item not in items:
        items.append(item)
    return _place(payload, parts, items)


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(repr(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def event_paths(
    exprs: Sequence[Expr], aliases: Mapping[str, tuple[str, ...]], *, include_event: bool = True
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every ``event`` field path the expressions read (through ``aliases`` too), with
    how it is used (the first use that says a type); the longest paths first."""
    found: list[tuple[_Path, str]] = []
    for expr in exprs:
        try:
            tree = expr.program.ast
        except Exception:
            continue
        collect_event_paths(tree, found, None, aliases, include_event)
    return unique_paths(found)


def unique_paths(found: Sequence[tuple[_Path, str]]) -> list[tuple[tuple[str | int, ...], str]]:
    """``found`` without repeated paths (a path's use: the first that is not ``any``),
    the longest paths first."""
    unique: dict[tuple[str | int, ...], str] = {}
    for path, use in found:
        if unique.get(path.parts[1:], "any") == "any":
            unique[path.parts[1:]] = use
    return sorted(unique.items(), key=lambda item: -len(item[0]))


def fill_payload(
    payload: Any,
    paths: Sequence[tuple[tuple[str | int, ...], str]],
    decided: frozenset[str],
    event: str | None = None,
) -> Any:
    """``payload`` with every path in ``paths`` that the witness leaves open filled in
    with the value :func:`~autoflow.check.payloads.typical_value` gives it for ``event``."""
    if payload is not None and not isinstance(payload, dict):
        return payload
    result: dict[str, Any] = copy.deepcopy(payload) if payload else {}
    for parts, use in paths:
        names = [
            ".".join(str(p) for p in (EVENT_ROOT, *parts[:n])) for n in range(1, len(parts) + 1)
        ]
        if any(name in decided for name in names):
            continue
        node: Any = result
        blocked = False
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if node is not None and not isinstance(node, dict):
                blocked = True
                break
        if blocked or value_at(result, parts) is not None:
            continue
        result = _place(result, parts, typical_value(parts, use, event))
    return result
