"""The value rule of the YAML format: literals and ``${{ cel }}`` templates become CEL text.

Every value that is not a condition (``with:`` arguments, ``assign:`` values,
``output:``, ``data:`` literals, ``send`` data, block parameters) is a YAML
literal; a string written ``${{ expr }}`` is that expression's value (of any
type), and ``"text ${{ expr }} text"`` is string interpolation.  This module
holds the pure text side of that rule: splitting a
string into literal and expression parts, and a small CEL scanner that skips
string literals (used to substitute block parameters).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

OPEN = "${{"
CLOSE = "}}"


@dataclass(frozen=True)
class TextPart:
    """Literal text of a template."""

    text: str


@dataclass(frozen=True)
class ExprPart:
    """``${{ source }}``: ``offset`` is where ``source`` starts in the whole string."""

    source: str
    offset: int


@dataclass(frozen=True)
class TemplateError:
    message: str
    offset: int
    hint: str | None = None


def has_template(text: str) -> bool:
    return OPEN in text


def split_template(text: str) -> list[TextPart | ExprPart] | TemplateError:
    """Split ``text`` into literal and ``${{ }}`` parts (empty text parts dropped)."""
    parts: list[TextPart | ExprPart] = []
    position = 0
    while True:
        start = text.find(OPEN, position)
        if start < 0:
            if position < len(text):
                parts.append(TextPart(text[position:]))
            return parts
        if start > position:
            parts.append(TextPart(text[position:start]))
        inner_start = start + len(OPEN)
        end = _find_close(text, inner_start)
        if end < 0:
            return TemplateError(
                "unterminated ${{ (no matching }})",
                start,
                hint="close the expression with }}",
            )
        inner = text[inner_start:end]
        stripped = inner.strip()
        if not stripped:
            return TemplateError("empty expression ${{ }}", start)
        leading = len(inner) - len(inner.lstrip())
        parts.append(ExprPart(stripped, inner_start + leading))
        position = end + len(CLOSE)


def _find_close(text: str, start: int) -> int:
    """Index of the ``}}`` closing a template that starts at ``start`` (-1 if none).

    Braces of CEL map literals and string literals inside the expression are
    skipped, so ``${{ {"a": {"b": 1}} }}`` works.
    """
    depth = 0
    for index, char, in_code in _scan(text, start):
        if not in_code:
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0 and text.startswith(CLOSE, index):
                return index
            depth = max(0, depth - 1)
    return -1


def _scan(text: str, start: int = 0) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(index, char, is_code)`` for CEL text, marking string literals as not code."""
    index = start
    length = len(text)
    while index < length:
        char = text[index]
        if char in "\"'":
            raw = index > 0 and text[index - 1] in "rR"
            quote = text[index : index + 3] if text.startswith(char * 3, index) else char
            end = index + len(quote)
            while end < length and not text.startswith(quote, end):
                if text[end] == "\\" and not raw:
                    end += 1
                end += 1
            end = min(length, end + len(quote))
            for position in range(index, end):
                yield position, text[position], False
            index = end
            continue
        yield index, char, True
        index += 1


def code_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` ranges of ``text`` that are CEL code, not string literals."""
    ranges: list[tuple[int, int]] = []
    current: int | None = None
    last = -1
    for index, _char, in_code in _scan(text):
        if in_code:
            if current is None:
                current = index
            last = index
        elif current is not None:
            ranges.append((current, last + 1))
            current = None
    if current is not None:
        ranges.append((current, last + 1))
    return ranges


def interpolation(parts: list[str]) -> str:
    """CEL concatenation of already-CEL parts (text literals and ``string(expr)``)."""
    if not parts:
        return '""'
    return " + ".join(parts)
