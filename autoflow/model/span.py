"""Source locations: every model node remembers where in the user's file it came from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    """A position in a source file; ``line`` and ``col`` are 1-based.

    ``end_line``/``end_col`` are optional and only used to underline more than
    one character.  Spans never take part in model equality (see ``ir``).
    """

    path: str
    line: int = 0
    col: int = 0
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{max(self.col, 1)}"

    def shifted(self, line_offset: int, col_offset: int) -> Span:
        """The span ``line_offset`` lines and ``col_offset`` columns further on.

        Used to point into an expression embedded in a larger file: the column
        offset only applies on the expression's first line.
        """
        if line_offset == 0:
            return Span(self.path, self.line, self.col + col_offset)
        return Span(self.path, self.line + line_offset, col_offset + 1)

    def excerpt(self) -> str:
        """The offending source line with a caret under the column, or ''."""
        if self.line <= 0:
            return ""
        text = _source_lines(self.path)
        if text is None or self.line > len(text):
            return ""
        line = text[self.line - 1].rstrip("\n").expandtabs(1)
        gutter = f"{self.line:>4} | "
        caret = " " * (len(gutter) + max(self.col, 1) - 1) + "^"
        if self.end_col is not None and (self.end_line in (None, self.line)):
            width = max(1, self.end_col - max(self.col, 1))
            caret += "~" * (width - 1)
        return f"{gutter}{line}\n{caret}"


NO_SPAN = Span("<unknown>")

# Sources that live in memory (strings loaded with a virtual path), by path.
_registered: dict[str, tuple[str, ...]] = {}


def register_source(path: str, text: str) -> None:
    """Make ``text`` the source shown in excerpts for ``path`` (for in-memory models)."""
    _registered[path] = tuple(text.splitlines(keepends=True))


def _source_lines(path: str) -> tuple[str, ...] | None:
    if path in _registered:
        return _registered[path]
    return _file_lines(path)


@lru_cache(maxsize=64)
def _file_lines(path: str) -> tuple[str, ...] | None:
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            return tuple(handle.readlines())
    except OSError:
        return None
