"""Durations as people write them in workflows: ``90s``, ``15m``, ``2h``, ``2d``, ``1d12h``."""

from __future__ import annotations

import re

UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ``ValueError`` with a readable message.

    Accepts one or more ``<number><unit>`` parts with units s, m, h, d, w
    (``1d12h``); a bare number is not accepted, so ``after: 2`` is not silently
    two seconds.
    """
    compact = text.strip().replace(" ", "")
    if not compact or not _WHOLE.fullmatch(compact):
        raise ValueError(
            f"invalid duration {text!r}: expected a number and a unit "
            "(s, m, h, d, w), for example 90s, 15m, 2h, 2d, 1w or 1d12h"
        )
    return sum(float(number) * UNITS[unit] for number, unit in _PART.findall(compact))


def format_duration(seconds: float) -> str:
    """The shortest readable form: 172800 -> '2d', 5400 -> '1h30m'."""
    if seconds <= 0:
        return "0s"
    if seconds != int(seconds):
        return f"{seconds:g}s"
    remaining = int(seconds)
    parts = []
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def duration_cel(seconds: float) -> str:
    """CEL source for a constant duration: ``duration("172800s")``."""
    text = f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds:g}s"
    return f'duration("{text}")'
