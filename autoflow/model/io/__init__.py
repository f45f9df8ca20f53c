"""Readers and writers of model files, chosen by file extension (one registry).

``load(path)`` returns a :class:`~autoflow.model.ir.Chart` for statechart formats
and a :class:`~autoflow.model.net.Net` for Petri nets.  A python-statemachine
class is named ``module:ClassName`` (or ``path/to/file.py:ClassName``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoflow.errors import SourceError
from autoflow.model.span import Span

#: Largest model file autoflow reads (bytes); larger ones are rejected unread.
MAX_MODEL_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    reader: str  # "module:function" taking (path: str) and returning the model

    def load(self, path: str) -> Any:
        module_name, _, function = self.reader.partition(":")
        read: Callable[[str], Any] = getattr(importlib.import_module(module_name), function)
        return read(path)


FORMATS: tuple[Format, ...] = (
    Format("yaml", (".yaml", ".yml"), "autoflow.model.io.yaml_reader:read_yaml_file"),
    Format("scxml", (".scxml", ".scxml.xml"), "autoflow.model.io.scxml:read_scxml_file"),
    Format("pnml", (".pnml",), "autoflow.model.io.pnml:read_pnml_file"),
)


def format_for(path: str) -> Format | None:
    """The format of ``path`` by its extension, or None."""
    lower = path.lower()
    for fmt in FORMATS:
        if lower.endswith(fmt.extensions):
            return fmt
    return None


def is_class_reference(target: str) -> bool:
    """``module:Class`` or ``file.py:Class`` (a python-statemachine class)."""
    head, sep, tail = target.rpartition(":")
    return bool(sep) and tail.isidentifier() and not Path(target).exists() and bool(head)


def check_size(path: str) -> None:
    """Reject files over :data:`MAX_MODEL_BYTES` before reading them."""
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}", Span(path)) from exc
    if size > MAX_MODEL_BYTES:
        raise SourceError(
            f"file is {size} bytes, over the {MAX_MODEL_BYTES}-byte limit for model files",
            Span(path),
            hint="split the workflow into blocks (see docs/format.md, 'use:')",
        )


def load(target: str) -> Any:
    """Load one model: a file by extension, or a python-statemachine ``module:Class``."""
    if is_class_reference(target):
        from autoflow.model.io.statemachine import read_statemachine_class

        return read_statemachine_class(target)
    fmt = format_for(target)
    if fmt is None:
        raise SourceError(
            "unknown model format",
            Span(target),
            hint="autoflow reads .yaml/.yml workflows, .scxml charts, .pnml Petri nets "
            "and python-statemachine classes given as module:ClassName",
        )
    check_size(target)
    return fmt.load(target)


def discover(paths: list[str]) -> list[str]:
    """Expand directories into the model files below them (sorted); keep files as given."""
    found: list[str] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if candidate.is_file() and format_for(str(candidate)) is not None:
                    found.append(str(candidate))
        else:
            found.append(item)
    return found
