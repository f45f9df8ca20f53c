"""The rules of ``autoflow check``, one module each, run in this order.

Each module has ``ID`` (stable), ``SEVERITY`` (default), ``DESCRIPTION`` and
``check(model, space) -> Iterator[Diagnostic]``; ``space`` is the explored
:class:`~autoflow.check.explore.StateSpace`.
"""

from __future__ import annotations

from types import ModuleType

from autoflow.check.rules import (
    dead_transition,
    deadlock,
    eventless_cycle,
    livelock,
    nondeterminism,
    state_limit,
    undefined_variable,
    unknown_event,
    unreachable_state,
    unused_data,
    wait_without_timeout,
)

RULES: tuple[ModuleType, ...] = (
    state_limit,
    undefined_variable,
    unreachable_state,
    deadlock,
    livelock,
    eventless_cycle,
    dead_transition,
    nondeterminism,
    wait_without_timeout,
    unknown_event,
    unused_data,
)

DESCRIPTIONS: dict[str, str] = {rule.ID: rule.DESCRIPTION for rule in RULES}
DESCRIPTIONS.update(
    {
        "unbounded-place": "A place of the Petri net can hold unboundedly many tokens.",
        "dead-marking": "A reachable marking of the Petri net in which no transition is enabled.",
        "unsound": "The workflow net is not sound.",
    }
)
