"""Reusable blocks: parametrised sub-statecharts expanded at load time.

A state written ``use: blocks/approval.yaml`` with ``with: {...}`` becomes a
compound state whose children are the block's states.  This module holds the
mechanism that does not depend on the rest of the reader:

* finding the block file (relative to the using file, or in a ``blocks/``
  directory beside it);
* the block's parameter declarations (``params:``);
* :class:`BlockScope`, which substitutes parameters into CEL text
  (``params.NAME`` becomes the parameter's value, in parentheses) and renames
  block-local state ids inside ``In("...")``;
* :func:`bind_params`, the node pass that replaces a value written exactly
  ``${{ params.NAME }}`` by the value given at the use site (so a parameter can
  be a duration, an event name, a list or a mapping, not only an expression).

Block-local state ids are prefixed with the using state's id and ``_``:
state ``waiting`` of a block used by state ``approval`` is ``approval_waiting``.
An underscore rather than a dot, because SCXML matches event descriptors by
dot-separated prefix: with dots, ``done.state.approval`` would also match
``done.state.approval.waiting``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from autoflow.model.io.yaml_nodes import YEntry, YMap, YNode, YScalar, YSeq
from autoflow.model.io.yaml_values import code_spans

#: Parameter types a block may declare, and the placeholder used when a block is
#: validated on its own and a parameter has no default.
PARAM_TYPES: dict[str, str | int | float | bool | list[object] | dict[str, object]] = {
    "any": "placeholder",
    "string": "placeholder",
    "integer": 1,
    "number": 1.0,
    "boolean": False,
    "duration": "1h",
    "list": [],
    "map": {},
}

_WHOLE_REF = re.compile(r"^\$\{\{\s*params\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_REF = re.compile(r"(?<![\w.])params\b(\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?")
_IN_CALL = re.compile(r"""\bIn\(\s*(["'])([A-Za-z_][A-Za-z0-9_-]*)\1\s*\)""")


@dataclass(frozen=True)
class ParamDecl:
    """One entry of a block's ``params:``."""

    name: str
    description: str | None
    required: bool
    default: YNode | None
    type: str
    entry: YEntry


@dataclass(frozen=True)
class Substitution:
    """The result of :meth:`BlockScope.substitute`: new text and problems found."""

    text: str
    problems: tuple[tuple[str, int, int, str | None], ...] = ()  # message, offset, len, hint


@dataclass(eq=False)
class BlockScope:
    """The parameters of one expansion of a block (or of a block validated alone)."""

    name: str
    path: str
    declared: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)  # parameter -> CEL text (in parens)

    def substitute(self, cel: str) -> Substitution:
        """Replace ``params.NAME`` in CEL code (not inside string literals)."""
        pieces: list[str] = []
        problems: list[tuple[str, int, int, str | None]] = []
        position = 0
        for start, end in code_spans(cel):
            for match in _REF.finditer(cel, start, end):
                name = match.group(2)
                pieces.append(cel[position : match.start()])
                position = match.end()
                if name is None:
                    problems.append(
                        (
                            "'params' must be used as params.NAME",
                            match.start(),
                            len("params"),
                            self._declared_hint(),
                        )
                    )
                    pieces.append(match.group(0))
                elif name not in self.values:
                    problems.append(
                        (
                            f"unknown parameter {name!r} of block {self.name!r}",
                            match.start(2),
                            len(name),
                            self._declared_hint(name),
                        )
                    )
                    pieces.append(match.group(0))
                else:
                    pieces.append(self.values[name])  # parenthesised when not simple
        pieces.append(cel[position:])
        return Substitution("".join(pieces), tuple(problems))

    def _declared_hint(self, name: str | None = None) -> str:
        from autoflow.model.io.yaml_reader import did_you_mean

        if not self.declared:
            return f"block {self.name!r} declares no parameters (params:)"
        close = did_you_mean(name, self.declared) if name else None
        listed = ", ".join(self.declared)
        return f"{close}; declared: {listed}" if close else f"declared parameters: {listed}"


def rename_in_calls(cel: str, rename: dict[str, str]) -> str:
    """Rename block-local state ids in ``In("id")`` calls."""
    if not rename:
        return cel

    def swap(match: re.Match[str]) -> str:
        quote, name = match.group(1), match.group(2)
        if name not in rename:
            return match.group(0)
        return f"In({quote}{rename[name]}{quote})"

    return _IN_CALL.sub(swap, cel)


def whole_param_ref(node: YNode) -> str | None:
    """``NAME`` when ``node`` is exactly ``${{ params.NAME }}``."""
    if isinstance(node, YScalar) and isinstance(node.value, str):
        match = _WHOLE_REF.match(node.value.strip())
        if match:
            return match.group(1)
    return None


def bind_params(node: YNode, scope: BlockScope, given: dict[str, YNode]) -> YNode:
    """The block body with ``scope`` attached and whole parameter references replaced.

    A value (or key) written exactly ``${{ params.NAME }}`` becomes the node
    given at the use site (or the default); that node keeps its own position
    and scope, so errors in it point at the use site.  Unknown names are left
    alone here and reported when the CEL is read.
    """
    name = whole_param_ref(node)
    if name is not None and name in given:
        return given[name]
    if isinstance(node, YScalar):
        return replace(node, scope=scope)
    if isinstance(node, YSeq):
        return YSeq(tuple(bind_params(item, scope, given) for item in node.items), node.span)
    entries: list[YEntry] = []
    for entry in node.entries:
        key: YNode = bind_params(entry.key_node, scope, given)
        key_node = key if isinstance(key, YScalar) and isinstance(key.value, str) else None
        if key_node is None:
            key_node = replace(entry.key_node, scope=scope)
        entries.append(YEntry(key_node, bind_params(entry.value, scope, given)))
    return YMap(tuple(entries), node.span, node.flow)


def placeholder(decl: ParamDecl) -> YNode:
    """A stand-in value of the declared type, for validating a block on its own."""
    value = PARAM_TYPES.get(decl.type, "placeholder")
    span = decl.entry.key_span
    key = decl.entry.key_node
    if isinstance(value, list):
        return YSeq((), span)
    if isinstance(value, dict):
        return YMap((), span)
    text = f"<{decl.name}>" if value == "placeholder" else value
    return YScalar(text, None, span, raw="", line0=key.line0, col0=key.col0)


def find_block_file(reference: str, using_file: str) -> Path | None:
    """The block file ``reference`` names, seen from ``using_file``.

    Tried in order: relative to the using file's directory, then in a
    ``blocks/`` directory beside it, then (from a file inside ``blocks/``) in
    the directory above; each with the name as written and with ``.yaml``
    appended.
    """
    base = Path(using_file).parent
    names = [reference]
    if not reference.endswith((".yaml", ".yml")):
        names += [reference + ".yaml", reference + ".yml"]
    directories = [base, base / "blocks"]
    if base.name == "blocks":
        directories.append(base.parent)
    for directory in directories:
        for name in names:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None
