"""The CEL abstract syntax tree: what the parser produces and the checker reads.

Every node remembers where it came from as character offsets into the
expression source (``offset`` inclusive, ``end`` exclusive); offsets take no
part in equality, so two parses of ``a+b`` and ``a + b`` compare equal.
Macros (``has``, ``all``, ``exists``, ``exists_one``, ``map``, ``filter``) are
expanded by the parser into :class:`Has` and :class:`Comprehension` nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class _Base:
    offset: int = field(default=0, compare=False, repr=False, kw_only=True)
    end: int = field(default=0, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(_Base):
    """A constant: int, uint (:class:`~autoflow.model.cel.values.UInt`), double,
    string, bytes, bool or null (``None``)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Ident(_Base):
    """A name: a variable of the activation, a comprehension variable or a type name."""

    name: str


@dataclass(frozen=True, slots=True)
class Select(_Base):
    """Field selection ``operand.field`` (on a map: the value at key ``field``)."""

    operand: Node
    field: str


@dataclass(frozen=True, slots=True)
class Index(_Base):
    """Indexing ``operand[index]`` of a list or a map."""

    operand: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Call(_Base):
    """A call ``function(args...)``, or with a ``target``, ``target.function(args...)``."""

    function: str
    args: tuple[Node, ...]
    target: Node | None = None


@dataclass(frozen=True, slots=True)
class ListLit(_Base):
    """A list literal ``[a, b, c]``."""

    elements: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit(_Base):
    """A map literal ``{k: v, ...}``."""

    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Unary(_Base):
    """``!operand`` or ``-operand``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(_Base):
    """A binary operator: ``|| && == != < <= > >= in + - * / %``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(_Base):
    """``condition ? then : otherwise``."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Has(_Base):
    """The ``has(operand.field)`` macro: is ``field`` present in the map ``operand``."""

    operand: Node
    field: str


@dataclass(frozen=True, slots=True)
class Comprehension(_Base):
    """A macro over a list (its elements) or a map (its keys).

    ``macro`` is one of ``all``, ``exists``, ``exists_one``, ``filter`` (which
    use ``predicate``) and ``map`` (which uses ``transform`` and, in its
    three-argument form, ``predicate`` as a filter).  ``variable`` is bound
    inside ``predicate`` and ``transform`` only.
    """

    macro: str
    range: Node
    variable: str
    predicate: Node | None = None
    transform: Node | None = None


Node: TypeAlias = (
    Literal
    | Ident
    | Select
    | Index
    | Call
    | ListLit
    | MapLit
    | Unary
    | Binary
    | Conditional
    | Has
    | Comprehension
)


def children(node: Node) -> Iterator[Node]:
    """The direct sub-expressions of ``node``, in source order."""
    match node:
        case Literal() | Ident():
            return
        case Select(operand=operand) | Has(operand=operand) | Unary(operand=operand):
            yield operand
        case Index(operand=operand, index=index):
            yield operand
            yield index
        case Call(target=target, args=args):
            if target is not None:
                yield target
            yield from args
        case ListLit(elements=elements):
            yield from elements
        case MapLit(entries=entries):
            for key, value in entries:
                yield key
                yield value
        case Binary(left=left, right=right):
            yield left
            yield right
        case Conditional(condition=condition, then=then, otherwise=otherwise):
            yield condition
            yield then
            yield otherwise
        case Comprehension(range=range_, predicate=predicate, transform=transform):
            yield range_
            if predicate is not None:
                yield predicate
            if transform is not None:
                yield transform


def walk(node: Node) -> Iterator[Node]:
    """``node`` and all its descendants, depth first, in source order."""
    yield node
    for child in children(node):
        yield from walk(child)
