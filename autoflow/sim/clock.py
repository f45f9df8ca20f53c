"""Virtual time for the simulator: a clock that only moves forward.

Like sismic's ``SimulatedClock``: the simulator sets the time explicitly, so a
week of workflow time takes no wall-clock time at all, and setting it back is
an error instead of a silently reordered trace.

Times in trace files are written as an absolute ISO 8601 instant
(``2026-03-02T09:00:00Z``; without an offset it is UTC) or as an offset from
the previous line (``+2h``, ``+1d12h``; units s, m, h, d, w).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autoflow.errors import SimulationError
from autoflow.model.durations import parse_duration

__all__ = ["DEFAULT_EPOCH", "ClockError", "VirtualClock", "format_instant", "parse_when"]

#: Where a trace's time starts when its first line has no absolute ``at``.
DEFAULT_EPOCH = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


class ClockError(SimulationError):
    """The clock was asked to go backwards."""


class VirtualClock:
    """The current virtual time; :meth:`advance_to` never goes backwards."""

    def __init__(self, start: datetime = DEFAULT_EPOCH) -> None:
        self._time = _aware(start)

    @property
    def time(self) -> datetime:
        return self._time

    def advance_to(self, when: datetime) -> None:
        """Move to ``when``; raises :class:`ClockError` when it is earlier than now."""
        when = _aware(when)
        if when < self._time:
            raise ClockError(
                f"time cannot go backwards: {format_instant(when)} is before "
                f"{format_instant(self._time)}"
            )
        self._time = when

    def advance_by(self, delta: timedelta) -> None:
        """Move forward by ``delta`` (which must not be negative)."""
        self.advance_to(self._time + delta)

    def __repr__(self) -> str:
        return f"VirtualClock({format_instant(self._time)})"


def parse_when(text: str, previous: datetime) -> datetime:
    """The instant ``text`` names: ISO 8601, or ``+<duration>`` after ``previous``.

    Raises ``ValueError`` with a readable message.
    """
    stripped = text.strip()
    if stripped.startswith("+"):
        return previous + timedelta(seconds=parse_duration(stripped[1:]))
    if stripped.startswith("-"):
        raise ValueError(f"negative offset {text!r}: time in a trace only moves forward")
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: expected an ISO 8601 instant such as "
            "2026-03-02T09:00:00Z or an offset such as +2h, +1d12h"
        ) from None
    return _aware(parsed)


def format_instant(when: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2026-03-02T09:00:00Z``."""
    text = when.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
