"""The semantics of autoflow: one pure step function (W3C SCXML 1.0, Appendix D).

Work in progress: the public names below are the contract (see the module
docstring once complete for the timer event names of ``after``/``at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from autoflow.model.ir import Chart

__all__ = [
    "Effect",
    "Event",
    "MicroStep",
    "Snapshot",
    "StepResult",
    "Timer",
    "active_atomic",
    "chart_hash",
    "fire_due",
    "next_due",
    "start",
    "step",
]


@dataclass(frozen=True)
class Event:
    """An SCXML event (the ``_event`` system variable)."""

    name: str
    data: Any = None
    type: str = "external"  # "platform" | "internal" | "external"
    sendid: str | None = None
    origin: str | None = None
    origintype: str | None = None
    invokeid: str | None = None


@dataclass(frozen=True)
class Effect:
    """Something the outside world must do; ``id`` is its idempotency key."""

    id: str
    effect: str
    args: dict[str, Any]
    result_event: str | None = None


@dataclass(frozen=True)
class Timer:
    """A pending delayed event, delivered by :func:`fire_due` at ``due``."""

    id: str
    due: datetime
    event: Event
    target: str | None = None


@dataclass(frozen=True)
class MicroStep:
    event: Event | None
    transitions: tuple[str, ...]
    exited: tuple[str, ...]
    entered: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    chart_hash: str
    instance: str
    configuration: tuple[str, ...]
    datamodel: dict[str, Any]
    history: dict[str, tuple[str, ...]]
    timers: tuple[Timer, ...]
    seq: int
    done: bool
    children: tuple[Any, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_json(cls, chart: Chart, data: dict[str, Any]) -> Snapshot:
        raise NotImplementedError


@dataclass(frozen=True)
class StepResult:
    snapshot: Snapshot
    effects: tuple[Effect, ...]
    microsteps: tuple[MicroStep, ...]


def chart_hash(chart: Chart) -> str:
    raise NotImplementedError


def start(
    chart: Chart,
    now: datetime,
    *,
    instance: str = "instance",
    data: Mapping[str, Any] | None = None,
    event: Event | None = None,
) -> StepResult:
    raise NotImplementedError


def step(chart: Chart, snapshot: Snapshot, event: Event, now: datetime) -> StepResult:
    raise NotImplementedError


def next_due(snapshot: Snapshot) -> datetime | None:
    return snapshot.timers[0].due if snapshot.timers else None


def fire_due(chart: Chart, snapshot: Snapshot, now: datetime) -> StepResult:
    raise NotImplementedError


def active_atomic(snapshot: Snapshot, chart: Chart) -> tuple[str, ...]:
    raise NotImplementedError
