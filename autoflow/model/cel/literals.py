"""Python values to CEL source text: what readers use to turn YAML literals into expressions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from autoflow.model.cel.functions import format_duration, format_timestamp
from autoflow.model.cel.values import UInt

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str) -> str:
    """``text`` as a double-quoted CEL string literal."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif not char.isprintable() or 0xD800 <= ord(char) <= 0xDFFF:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def quote_bytes(data: bytes) -> str:
    """``data`` as a CEL bytes literal ``b"..."``."""
    out = []
    for byte in data:
        char = chr(byte)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return 'b"' + "".join(out) + '"'


def cel_literal(value: Any) -> str:
    """CEL source that evaluates to ``value`` (a plain Python value as CEL sees it).

    >>> cel_literal({"labels": ["workflow::backlog"], "weight": 3})
    '{"labels": ["workflow::backlog"], "weight": 3}'
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is UInt:
        return f"{int(value)}u"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'double("NaN")'
        if math.isinf(value):
            return 'double("inf")' if value > 0 else 'double("-inf")'
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bytes):
        return quote_bytes(value)
    if isinstance(value, datetime):
        return f'timestamp("{format_timestamp(value)}")'
    if isinstance(value, timedelta):
        return f'duration("{format_duration(value)}")'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cel_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        entries = (f"{cel_literal(key)}: {cel_literal(item)}" for key, item in value.items())
        return "{" + ", ".join(entries) + "}"
    raise TypeError(f"no CEL literal for a value of type {type(value).__name__}")
