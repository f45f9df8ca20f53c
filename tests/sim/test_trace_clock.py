"""The virtual clock and trace times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autoflow.sim.clock import ClockError, VirtualClock, format_instant, parse_when

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_clock_moves_forward_and_refuses_to_go_back() -> None:
    clock = VirtualClock(T0)
    clock.advance_by(timedelta(hours=2))
    clock.advance_to(T0 + timedelta(hours=2))  # standing still is fine
    assert clock.time == T0 + timedelta(hours=2)
    with pytest.raises(ClockError, match="cannot go backwards"):
        clock.advance_to(T0)
    with pytest.raises(ClockError):
        clock.advance_by(timedelta(seconds=-1))
    assert clock.time == T0 + timedelta(hours=2)


def test_naive_times_are_utc() -> None:
    clock = VirtualClock(datetime(2026, 3, 2, 9, 0))
    assert clock.time == T0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2h", T0 + timedelta(hours=2)),
        ("+1d12h", T0 + timedelta(days=1, hours=12)),
        ("+1w", T0 + timedelta(weeks=1)),
        ("+90s", T0 + timedelta(seconds=90)),
        ("2026-03-05T10:00:00Z", datetime(2026, 3, 5, 10, tzinfo=UTC)),
        ("2026-03-05T10:00:00+02:00", datetime(2026, 3, 5, 8, tzinfo=UTC)),
        ("2026-03-05T10:00:00", datetime(2026, 3, 5, 10, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, T0) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("+", "invalid duration"),
        ("+2", "invalid duration"),
        ("soon", "invalid time"),
        ("-2h", "negative offset"),
    ],
)
def test_parse_when_rejects(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_when(text, T0)


def test_format_instant_is_utc_with_z() -> None:
    assert format_instant(datetime(2026, 3, 5, 10, tzinfo=UTC)) == "2026-03-05T10:00:00Z"
    assert format_instant(parse_when("2026-03-05T12:30:00+02:00", T0)) == "2026-03-05T10:30:00Z"
