"""Trace files: what happens to a workflow, line by line, in virtual time.

A trace is JSON Lines (``.jsonl``): one JSON object per line, in time order;
blank lines are skipped.  Each line is exactly one of

``event``      ``{"at": "+2h", "event": "approve", "data": {...}}``
``webhook``    ``{"at": ..., "webhook": {"headers": {"X-Gitlab-Event": "Issue Hook"},
               "body": {...}}}`` (or ``"body_file": "x.json"`` relative to the trace,
               optionally with ``"merge": {...}`` deep-merged into it), mapped to an
               event by :func:`autoflow.model.events.webhook_to_event`
``stub``       ``{"stub": {"effect": "gitlab.members.list", "match": {...}, "result": ...}}``
               (or ``"error": ...`` or ``"hold": true``; ``"times": N | "all"``)
``policy``     ``{"policy": {"gitlab.*": "succeed" | "fail" | "hold"}}``
``expect``     ``{"expect": {"active": [...], "configuration": [...], "effects": [...],
               "data": {...}, "completed": true, "instances": 1, "instance": "key"}}``

Every line may carry ``at`` (an ISO 8601 instant, or ``+<duration>`` after the
previous line; without it, the previous line's time) and ``comment`` (ignored);
a line with only a ``comment`` is skipped.
The first line's time defaults to :data:`~autoflow.sim.clock.DEFAULT_EPOCH`.
Every error is a :class:`~autoflow.errors.TraceError` naming the file, the line
and the field.  docs/traces.md is the user's guide.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

from autoflow.errors import TraceError
from autoflow.model.events import WebhookError, webhook_to_event
from autoflow.sim.clock import DEFAULT_EPOCH, format_instant, parse_when

__all__ = [
    "MAX_TRACE_BYTES",
    "EffectPattern",
    "EventLine",
    "ExpectLine",
    "PolicyLine",
    "StubLine",
    "Trace",
    "TraceLine",
    "discover_traces",
    "parse_trace",
    "read_trace",
]

#: Largest trace file (and webhook body file) autoflow reads, in bytes.
MAX_TRACE_BYTES = 32 * 1024 * 1024

Mode: TypeAlias = Literal["succeed", "fail", "hold"]
MODES: tuple[Mode, ...] = ("succeed", "fail", "hold")
KINDS = ("event", "webhook", "stub", "policy", "expect")


@dataclass(frozen=True, kw_only=True)
class EventLine:
    """An event delivered at ``at`` (from an ``event`` line or a mapped ``webhook``)."""

    line: int
    at: datetime
    name: str
    data: Any = None
    instance: str | None = None
    webhook: str | None = None  # the X-Gitlab-Event header when it came from a webhook


@dataclass(frozen=True, kw_only=True)
class StubLine:
    """The result for the next ``times`` emitted effects matching ``effect`` and ``match``."""

    line: int
    at: datetime
    effect: str  # an effect name or a glob (``gitlab.issues.*``)
    match: Mapping[str, Any] = field(default_factory=dict)
    outcome: Mode = "succeed"
    result: Any = None  # the data of done.effect.* (succeed) or error.effect.* (fail)
    times: int | None = 1  # None: every matching effect from here on


@dataclass(frozen=True, kw_only=True)
class PolicyLine:
    """Default outcomes for effects no stub matches; later lines take precedence."""

    line: int
    at: datetime
    rules: tuple[tuple[str, Mode], ...]


@dataclass(frozen=True)
class EffectPattern:
    """An expected effect: its name (or glob) and a subset of its arguments."""

    effect: str
    args: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ExpectLine:
    """Checks at ``at``; every field left None is not checked."""

    line: int
    at: datetime
    active: tuple[str, ...] | None = None
    inactive: tuple[str, ...] | None = None
    configuration: tuple[str, ...] | None = None
    effects: tuple[EffectPattern, ...] | None = None
    data: Mapping[str, Any] | None = None
    completed: bool | None = None
    instances: int | None = None
    instance: str | None = None


TraceLine: TypeAlias = EventLine | StubLine | PolicyLine | ExpectLine


@dataclass(frozen=True)
class Trace:
    path: str
    lines: tuple[TraceLine, ...]

    @property
    def start(self) -> datetime:
        return self.lines[0].at if self.lines else DEFAULT_EPOCH

    @property
    def end(self) -> datetime:
        return self.lines[-1].at if self.lines else DEFAULT_EPOCH


def discover_traces(paths: list[str]) -> list[str]:
    """Files as given; directories expanded to the ``*.jsonl`` files below them, sorted."""
    found: list[str] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob("*.jsonl")) if p.is_file())
        else:
            found.append(item)
    return found


def read_trace(path: str) -> Trace:
    """Read and check a trace file; raises :class:`TraceError`."""
    text = _read_text(path, path, 0, None)
    return parse_trace(text, path)


def parse_trace(text: str, path: str = "<trace>") -> Trace:
    """Parse trace text (``path`` is used in messages and to resolve ``body_file``)."""
    reader = _Reader(path)
    lines: list[TraceLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parsed = reader.line(number, raw)
        if parsed is not None:
            lines.append(parsed)
    return Trace(path, tuple(lines))


# --------------------------------------------------------------------------- reading


def _read_text(path: str, trace: str, line: int, field_name: str | None) -> str:
    try:
        file = Path(path)
        size = file.stat().st_size
        if size > MAX_TRACE_BYTES:
            raise TraceError(
                f"{path} is {size} bytes, over the {MAX_TRACE_BYTES}-byte limit",
                trace,
                line,
                field_name,
            )
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror}", trace, line, field_name) from exc
    except UnicodeDecodeError as exc:
        raise TraceError(f"{path} is not UTF-8 text", trace, line, field_name) from exc


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.time: datetime | None = None

    def fail(self, number: int, message: str, field_name: str | None = None) -> TraceError:
        return TraceError(message, self.path, number, field_name)

    def line(self, number: int, raw: str) -> TraceLine | None:
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise self.fail(number, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise self.fail(number, "each line must be a JSON object")
        if set(obj) == {"comment"}:
            return None  # a comment line
        kinds = [key for key in KINDS if key in obj]
        if len(kinds) != 1:
            found = " and ".join(repr(k) for k in kinds) if kinds else "none"
            raise self.fail(
                number,
                f"a line has exactly one of {', '.join(repr(k) for k in KINDS)}; found {found}",
            )
        kind = kinds[0]
        allowed = {"at", "comment", kind} | _EXTRA_KEYS[kind]
        for key in obj:
            if key not in allowed:
                raise self.fail(
                    number,
                    f"unknown field in {kind!r} line",
                    key,
                )
        at = self.when(number, obj)
        parse = getattr(self, f"parse_{kind}")
        result: TraceLine = parse(number, at, obj)
        return result

    def when(self, number: int, obj: dict[str, Any]) -> datetime:
        previous = self.time if self.time is not None else DEFAULT_EPOCH
        if "at" not in obj:
            at = previous
        else:
            text = obj["at"]
            if not isinstance(text, str):
                raise self.fail(number, "expected a string such as '+2h' or an ISO instant", "at")
            try:
                at = parse_when(text, previous)
            except ValueError as exc:
                raise self.fail(number, str(exc), "at") from None
            if at < previous and self.time is not None:
                raise self.fail(
                    number,
                    f"{format_instant(at)} is before the previous line "
                    f"({format_instant(previous)}): a trace is in time order",
                    "at",
                )
        self.time = at
        return at

    # ------------------------------------------------------------------ kinds

    def parse_event(self, number: int, at: datetime, obj: dict[str, Any]) -> EventLine:
        name = obj["event"]
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise self.fail(number, "expected an event name such as 'approve'", "event")
        return EventLine(
            line=number,
            at=at,
            name=name,
            data=obj.get("data"),
            instance=self.instance(number, obj, "instance"),
        )

    def parse_webhook(self, number: int, at: datetime, obj: dict[str, Any]) -> EventLine:
        hook = obj["webhook"]
        if not isinstance(hook, dict):
            raise self.fail(number, "expected an object with 'headers' and 'body'", "webhook")
        for key in hook:
            if key not in ("headers", "body", "body_file", "merge"):
                raise self.fail(number, "unknown field", f"webhook.{key}")
        headers = hook.get("headers")
        if not isinstance(headers, dict):
            raise self.fail(number, "expected an object of HTTP headers", "webhook.headers")
        if ("body" in hook) == ("body_file" in hook):
            raise self.fail(number, "give exactly one of 'body' and 'body_file'", "webhook.body")
        body = hook["body"] if "body" in hook else self.body_file(number, hook["body_file"])
        if "merge" in hook:
            if not isinstance(hook["merge"], dict) or not isinstance(body, dict):
                raise self.fail(
                    number, "expected an object to merge into the body", "webhook.merge"
                )
            body = deep_merge(body, hook["merge"])
        try:
            name, data = webhook_to_event(headers, body)
        except WebhookError as exc:
            message = exc.message if exc.hint is None else f"{exc.message} (hint: {exc.hint})"
            raise self.fail(number, message, f"webhook.{exc.field}") from None
        header = next(str(v) for k, v in headers.items() if str(k).lower() == "x-gitlab-event")
        return EventLine(
            line=number,
            at=at,
            name=name,
            data=data,
            instance=self.instance(number, obj, "instance"),
            webhook=header,
        )

    def body_file(self, number: int, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            raise self.fail(number, "expected a path to a JSON file", "webhook.body_file")
        base = Path(self.path).parent
        target = (base / value) if not Path(value).is_absolute() else Path(value)
        text = _read_text(str(target), self.path, number, "webhook.body_file")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.fail(
                number,
                f"{target} is not valid JSON: {exc.msg} (line {exc.lineno})",
                "webhook.body_file",
            ) from None

    def parse_stub(self, number: int, at: datetime, obj: dict[str, Any]) -> StubLine:
        stub = obj["stub"]
        if not isinstance(stub, dict):
            raise self.fail(number, "expected an object with 'effect' and 'result'", "stub")
        for key in stub:
            if key not in ("effect", "match", "result", "error", "hold", "times"):
                raise self.fail(number, "unknown field", f"stub.{key}")
        effect = stub.get("effect")
        if not isinstance(effect, str) or not effect:
            raise self.fail(
                number, "expected an effect name such as 'gitlab.issues.create'", "stub.effect"
            )
        match = stub.get("match", {})
        if not isinstance(match, dict):
            raise self.fail(number, "expected an object: a subset of the arguments", "stub.match")
        outcomes = [key for key in ("result", "error", "hold") if key in stub]
        if len(outcomes) != 1:
            raise self.fail(
                number, "give exactly one of 'result', 'error' and 'hold'", "stub.result"
            )
        outcome: Mode
        if outcomes[0] == "hold":
            if stub["hold"] is not True:
                raise self.fail(number, "expected true", "stub.hold")
            outcome, result = "hold", None
        elif outcomes[0] == "error":
            outcome, result = "fail", stub["error"]
        else:
            outcome, result = "succeed", stub["result"]
        times_value = stub.get("times", 1)
        times: int | None
        if times_value == "all":
            times = None
        elif isinstance(times_value, int) and not isinstance(times_value, bool) and times_value > 0:
            times = times_value
        else:
            raise self.fail(number, "expected a positive integer or 'all'", "stub.times")
        return StubLine(
            line=number,
            at=at,
            effect=effect,
            match=match,
            outcome=outcome,
            result=result,
            times=times,
        )

    def parse_policy(self, number: int, at: datetime, obj: dict[str, Any]) -> PolicyLine:
        policy = obj["policy"]
        if not isinstance(policy, dict) or not policy:
            raise self.fail(number, 'expected an object such as {"gitlab.*": "succeed"}', "policy")
        rules: list[tuple[str, Mode]] = []
        for pattern, mode in policy.items():
            if mode not in MODES:
                raise self.fail(
                    number, f"expected one of {', '.join(MODES)}, got {mode!r}", f"policy.{pattern}"
                )
            rules.append((pattern, mode))
        return PolicyLine(line=number, at=at, rules=tuple(rules))

    def parse_expect(self, number: int, at: datetime, obj: dict[str, Any]) -> ExpectLine:
        expect = obj["expect"]
        if not isinstance(expect, dict) or not expect:
            raise self.fail(number, "expected an object of checks", "expect")
        checks = (
            "active",
            "inactive",
            "configuration",
            "effects",
            "data",
            "completed",
            "instances",
        )
        for key in expect:
            if key not in (*checks, "instance"):
                raise self.fail(
                    number,
                    "unknown field; checks are " + ", ".join(checks),
                    f"expect.{key}",
                )
        if not any(key in expect for key in checks):
            raise self.fail(
                number, "nothing to check: give at least one of " + ", ".join(checks), "expect"
            )
        completed = expect.get("completed")
        if completed is not None and not isinstance(completed, bool):
            raise self.fail(number, "expected true or false", "expect.completed")
        instances = expect.get("instances")
        if instances is not None and (
            isinstance(instances, bool) or not isinstance(instances, int) or instances < 0
        ):
            raise self.fail(
                number, "expected a number of instances (0 or more)", "expect.instances"
            )
        data = expect.get("data")
        if data is not None and not isinstance(data, dict):
            raise self.fail(number, "expected an object of data values", "expect.data")
        return ExpectLine(
            line=number,
            at=at,
            active=self.names(number, expect, "active"),
            inactive=self.names(number, expect, "inactive"),
            configuration=self.names(number, expect, "configuration"),
            effects=self.effect_patterns(number, expect),
            data=data,
            completed=completed,
            instances=instances,
            instance=self.instance(number, expect, "expect.instance", key="instance"),
        )

    # ------------------------------------------------------------------ pieces

    def names(self, number: int, obj: dict[str, Any], key: str) -> tuple[str, ...] | None:
        if key not in obj:
            return None
        value = obj[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(number, "expected a list of state ids", f"expect.{key}")
        return tuple(value)

    def effect_patterns(
        self, number: int, expect: dict[str, Any]
    ) -> tuple[EffectPattern, ...] | None:
        if "effects" not in expect:
            return None
        value = expect["effects"]
        if not isinstance(value, list):
            raise self.fail(number, "expected a list of {effect, args}", "expect.effects")
        patterns: list[EffectPattern] = []
        for index, item in enumerate(value):
            where = f"expect.effects[{index}]"
            if isinstance(item, str):
                patterns.append(EffectPattern(item))
                continue
            if not isinstance(item, dict):
                raise self.fail(number, "expected an effect name or {effect, args}", where)
            for key in item:
                if key not in ("effect", "args"):
                    raise self.fail(number, "unknown field", f"{where}.{key}")
            effect = item.get("effect")
            if not isinstance(effect, str) or not effect:
                raise self.fail(number, "expected an effect name", f"{where}.effect")
            args = item.get("args")
            if args is not None and not isinstance(args, dict):
                raise self.fail(
                    number, "expected an object: a subset of the arguments", f"{where}.args"
                )
            patterns.append(EffectPattern(effect, args))
        return tuple(patterns)

    def instance(
        self, number: int, obj: dict[str, Any], field_name: str, *, key: str = "instance"
    ) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(number, "expected an instance key (a string)", field_name)
        return str(value)


_EXTRA_KEYS: dict[str, set[str]] = {
    "event": {"data", "instance"},
    "webhook": {"instance"},
    "stub": set(),
    "policy": set(),
    "expect": set(),
}


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in: objects recursively, everything else replaced."""
    merged = dict(base)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
