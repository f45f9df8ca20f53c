"""CEL's standard functions, the cel-go strings extension, and autoflow's extensions.

Each function is listed in :data:`FUNCTIONS` with the argument counts it
accepts as a global call (``size(x)``) and as a method call (``x.size()``,
where the receiver comes first in the Python call).  The compiler checks
names and argument counts against this table at compile time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autoflow.errors import EvaluationError
from autoflow.model.cel.values import (
    TYPES,
    UINT64_MAX,
    CelType,
    UInt,
    check_int,
    kind,
    no_overload,
    type_name,
)


@dataclass(frozen=True, slots=True)
class Function:
    """A built-in function: its implementation and the argument counts it accepts."""

    name: str
    impl: Callable[..., Any]
    global_arities: frozenset[int] = frozenset()
    method_arities: frozenset[int] = frozenset()
    """Arguments besides the receiver, for ``receiver.name(args)``."""
    pure: bool = True


FUNCTIONS: dict[str, Function] = {}


def _register(
    name: str,
    global_arities: tuple[int, ...] = (),
    method_arities: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(impl: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = Function(name, impl, frozenset(global_arities), frozenset(method_arities))
        return impl

    return decorate


# --------------------------------------------------------------------------- size & strings


@_register("size", (1,), (0,))
def cel_size(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple | Mapping):
        return len(value)
    raise no_overload("size", value)


def _strings(name: str, *values: Any) -> None:
    for value in values:
        if type(value) is not str:
            raise no_overload(name, *values)


@_register("contains", (), (1,))
def cel_contains(text: Any, part: Any) -> bool:
    _strings("contains", text, part)
    return bool(part in text)


@_register("startsWith", (), (1,))
def cel_starts_with(text: Any, prefix: Any) -> bool:
    _strings("startsWith", text, prefix)
    return bool(text.startswith(prefix))


@_register("endsWith", (), (1,))
def cel_ends_with(text: Any, suffix: Any) -> bool:
    _strings("endsWith", text, suffix)
    return bool(text.endswith(suffix))


@lru_cache(maxsize=256)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled with Python's ``re``; raises EvaluationError if invalid."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise EvaluationError(f"invalid regular expression {pattern!r}: {exc}") from exc


@_register("matches", (2,), (1,))
def cel_matches(text: Any, pattern: Any) -> bool:
    _strings("matches", text, pattern)
    return compile_regex(pattern).search(text) is not None


@_register("lowerAscii", (), (0,))
def cel_lower_ascii(text: Any) -> str:
    _strings("lowerAscii", text)
    return "".join(c.lower() if c.isascii() else c for c in text)


@_register("upperAscii", (), (0,))
def cel_upper_ascii(text: Any) -> str:
    _strings("upperAscii", text)
    return "".join(c.upper() if c.isascii() else c for c in text)


@_register("trim", (), (0,))
def cel_trim(text: Any) -> str:
    _strings("trim", text)
    return str(text.strip())


@_register("split", (), (1, 2))
def cel_split(text: Any, separator: Any, limit: Any = -1) -> list[str]:
    _strings("split", text, separator)
    if type(limit) is not int:
        raise no_overload("split", text, separator, limit)
    if limit == 0:
        return []
    if separator == "":
        parts = list(text)
        if limit > 0 and len(parts) > limit:
            parts = [*parts[: limit - 1], "".join(parts[limit - 1 :])]
        return parts
    return list(text.split(separator, limit - 1 if limit > 0 else -1))


@_register("join", (), (0, 1))
def cel_join(items: Any, separator: Any = "") -> str:
    if not isinstance(items, list | tuple) or type(separator) is not str:
        raise no_overload("join", items, separator)
    for item in items:
        if type(item) is not str:
            raise EvaluationError(f"join: list element is {type_name(item)}, not string")
    return str(separator.join(items))


@_register("replace", (), (2, 3))
def cel_replace(text: Any, old: Any, new: Any, count: Any = -1) -> str:
    _strings("replace", text, old, new)
    if type(count) is not int:
        raise no_overload("replace", text, old, new, count)
    return str(text.replace(old, new, count))


@_register("indexOf", (), (1, 2))
def cel_index_of(text: Any, part: Any, start: Any = 0) -> int:
    _strings("indexOf", text, part)
    if type(start) is not int:
        raise no_overload("indexOf", text, part, start)
    if start < 0 or start > len(text):
        raise EvaluationError(f"indexOf: index {start} out of range")
    return int(text.find(part, start))


@_register("lastIndexOf", (), (1, 2))
def cel_last_index_of(text: Any, part: Any, end: Any = None) -> int:
    _strings("lastIndexOf", text, part)
    if end is None:
        return int(text.rfind(part))
    if type(end) is not int:
        raise no_overload("lastIndexOf", text, part, end)
    if end < 0 or end > len(text):
        raise EvaluationError(f"lastIndexOf: index {end} out of range")
    return int(text.rfind(part, 0, end + len(part)))


@_register("substring", (), (1, 2))
def cel_substring(text: Any, start: Any, end: Any = None) -> str:
    _strings("substring", text)
    stop = len(text) if end is None else end
    if type(start) is not int or type(stop) is not int:
        raise no_overload("substring", text, start, stop)
    if not 0 <= start <= stop <= len(text):
        raise EvaluationError(
            f"substring: range [{start}, {stop}) out of bounds for a string of length {len(text)}"
        )
    return str(text[start:stop])


@_register("charAt", (), (1,))
def cel_char_at(text: Any, index: Any) -> str:
    _strings("charAt", text)
    if type(index) is not int:
        raise no_overload("charAt", text, index)
    if not 0 <= index <= len(text):
        raise EvaluationError(f"charAt: index {index} out of range")
    return str(text[index : index + 1])


# --------------------------------------------------------------------------- conversions


@_register("int", (1,))
def cel_int(value: Any) -> int:
    value_type = type(value)
    if value_type is int:
        return int(value)
    if value_type is UInt:
        return check_int(int(value))
    if value_type is float:
        if math.isnan(value) or not (-(2.0**63) <= value < 2.0**63):
            raise EvaluationError(f"int({value!r}): out of range")
        return int(value)
    if value_type is str:
        try:
            return check_int(int(value, 10))
        except ValueError:
            raise EvaluationError(f"int({value!r}): not an integer") from None
    if value_type is datetime:
        return int(value.timestamp() // 1)
    raise no_overload("int", value)


@_register("uint", (1,))
def cel_uint(value: Any) -> UInt:
    value_type = type(value)
    if value_type is UInt:
        return UInt(value)
    if value_type is int:
        if value < 0:
            raise EvaluationError(f"uint({value}): negative")
        return UInt(value)
    if value_type is float:
        if math.isnan(value) or not (0 <= value < 2.0**64):
            raise EvaluationError(f"uint({value!r}): out of range")
        return UInt(int(value))
    if value_type is str:
        try:
            result = int(value, 10)
        except ValueError:
            raise EvaluationError(f"uint({value!r}): not an unsigned integer") from None
        if not 0 <= result <= UINT64_MAX:
            raise EvaluationError(f"uint({value!r}): out of range")
        return UInt(result)
    raise no_overload("uint", value)


_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE
)


@_register("double", (1,))
def cel_double(value: Any) -> float:
    value_type = type(value)
    if value_type is float:
        return float(value)
    if value_type is int or value_type is UInt:
        return float(value)
    if value_type is str:
        if not _DOUBLE_TEXT.fullmatch(value):
            raise EvaluationError(f"double({value!r}): not a number")
        return float(value)
    raise no_overload("double", value)


def format_double(value: float) -> str:
    """A double as ``string()`` prints it, like cel-go (Go ``%g``): ``1.5``, ``100``, ``1e+20``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len("".join(map(str, digit_tuple))) - len(digits)
    point = len(digits) + exponent  # digits before the decimal point
    scientific = point - 1
    prefix = "-" if sign else ""
    if scientific < -4 or scientific >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if scientific < 0 else '+'}{abs(scientific):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


@_register("string", (1,))
def cel_string(value: Any) -> str:
    value_type = type(value)
    if value_type is str:
        return str(value)
    if value_type is bool:
        return "true" if value else "false"
    if value_type is int or value_type is UInt:
        return str(int(value))
    if value_type is float:
        return format_double(value)
    if value_type is bytes:
        try:
            return str(value.decode("utf-8"))
        except UnicodeDecodeError:
            raise EvaluationError("string(bytes): not valid UTF-8") from None
    if value_type is datetime:
        return format_timestamp(value)
    if value_type is timedelta:
        return format_duration(value)
    if value_type is CelType:
        return str(value.name)
    raise no_overload("string", value)


@_register("bool", (1,))
def cel_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is str:
        if value in ("true", "True", "TRUE", "t", "1"):
            return True
        if value in ("false", "False", "FALSE", "f", "0"):
            return False
        raise EvaluationError(f"bool({value!r}): not a boolean")
    raise no_overload("bool", value)


@_register("bytes", (1,))
def cel_bytes(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    if type(value) is str:
        return value.encode("utf-8")
    raise no_overload("bytes", value)


@_register("type", (1,))
def cel_type(value: Any) -> CelType:
    return TYPES[kind(value)]


@_register("dyn", (1,))
def cel_dyn(value: Any) -> Any:
    return value


# --------------------------------------------------------------------------- time

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
MIN_TIMESTAMP = datetime(1, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp as a UTC datetime (sub-microsecond digits are dropped)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise EvaluationError(
            f"timestamp({text!r}): not an RFC 3339 timestamp such as '2024-05-01T09:00:00Z'"
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "").ljust(6, "0")[:6]
    if match.group(8):
        zone = UTC
    else:
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        zone = timezone(-offset if match.group(9) == "-" else offset)
    try:
        local = datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=zone)
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise EvaluationError(f"timestamp({text!r}): {exc}") from None


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` and no trailing zeros in the fraction."""
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")
_DURATION_UNITS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}
MAX_DURATION = timedelta(seconds=315576000000)


def parse_duration(text: str) -> timedelta:
    """A CEL/Go duration string (``1h30m``, ``-2.5s``, ``300ms``) as a timedelta."""
    body = text
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return timedelta(0)
    position = 0
    micros = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None:
            hint = ""
            if re.fullmatch(r"[\d.]+[dw]", body[position:]):
                hint = " (CEL durations have no days or weeks: write 48h for 2 days)"
            raise EvaluationError(
                f"duration({text!r}): expected numbers with units h, m, s, ms, us, ns "
                f"such as '1h30m'{hint}"
            )
        number, unit = match.groups()
        micros += round(float(number) * _DURATION_UNITS[unit] * 1_000_000)
        position = match.end()
    if not body:
        raise EvaluationError(f"duration({text!r}): empty duration")
    result = timedelta(microseconds=sign * micros)
    if abs(result) > MAX_DURATION:
        raise EvaluationError(f"duration({text!r}): out of range")
    return result


def format_duration(value: timedelta) -> str:
    """A duration as CEL prints it: seconds with a fraction if needed (``5400s``, ``1.5s``)."""
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    if fraction:
        return f"{sign}{seconds}.{f'{fraction:06d}'.rstrip('0')}s"
    return f"{sign}{seconds}s"


@_register("timestamp", (1,))
def cel_timestamp(value: Any) -> datetime:
    if type(value) is datetime:
        return value
    if type(value) is str:
        return parse_timestamp(value)
    if type(value) is int:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (ValueError, OverflowError, OSError):
            raise EvaluationError(f"timestamp({value}): out of range") from None
    raise no_overload("timestamp", value)


@_register("duration", (1,))
def cel_duration(value: Any) -> timedelta:
    if type(value) is timedelta:
        return value
    if type(value) is str:
        return parse_duration(value)
    raise no_overload("duration", value)


@lru_cache(maxsize=128)
def _zone(name: str) -> Any:
    offset = re.fullmatch(r"([+-])?(\d{1,2}):(\d{2})", name)
    if offset:
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        return timezone(-delta if offset.group(1) == "-" else delta)
    if name in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EvaluationError(f"unknown time zone {name!r}") from None


def _local(value: Any, zone: Any, getter: str) -> datetime:
    if type(value) is not datetime:
        raise no_overload(getter, value)
    if zone is None:
        return value.astimezone(UTC)
    if type(zone) is not str:
        raise no_overload(getter, value, zone)
    return value.astimezone(_zone(zone))


def _total_micros(value: timedelta) -> int:
    return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds


def _time_getter(
    name: str, of_timestamp: Callable[[datetime], int], of_duration: Callable[[int], int] | None
) -> None:
    def getter(value: Any, zone: Any = None) -> int:
        if type(value) is timedelta and of_duration is not None and zone is None:
            return of_duration(_total_micros(value))
        return of_timestamp(_local(value, zone, name))

    FUNCTIONS[name] = Function(name, getter, frozenset(), frozenset((0, 1)))


def _truncate(micros: int, unit: int) -> int:
    """``micros // unit`` rounded toward zero."""
    quotient = abs(micros) // unit
    return -quotient if micros < 0 else quotient


_time_getter("getFullYear", lambda d: d.year, None)
_time_getter("getMonth", lambda d: d.month - 1, None)
_time_getter("getDate", lambda d: d.day, None)
_time_getter("getDayOfMonth", lambda d: d.day - 1, None)
_time_getter("getDayOfYear", lambda d: d.timetuple().tm_yday - 1, None)
_time_getter("getDayOfWeek", lambda d: (d.weekday() + 1) % 7, None)
_time_getter("getHours", lambda d: d.hour, lambda us: _truncate(us, 3_600_000_000))
_time_getter("getMinutes", lambda d: d.minute, lambda us: _truncate(us, 60_000_000))
_time_getter("getSeconds", lambda d: d.second, lambda us: _truncate(us, 1_000_000))
_time_getter(
    "getMilliseconds",
    lambda d: d.microsecond // 1000,
    lambda us: _truncate(us, 1000),
)


# --------------------------------------------------------------------------- autoflow extensions

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@_register("next_weekday", (3, 4))
def next_weekday(after: Any, weekday: Any, clock: Any, zone: Any = "UTC") -> datetime:
    """The first moment strictly after ``after`` that is ``weekday`` at ``clock`` in ``zone``.

    ``next_weekday(now, "monday", "09:00", "Europe/Berlin")``: next Monday 09:00
    Berlin time, as a UTC timestamp.  If ``after`` is Monday 08:00 in Berlin,
    that is the same day; at 09:00 or later, a week on.
    """
    if type(after) is not datetime or type(weekday) is not str or type(clock) is not str:
        raise no_overload("next_weekday", after, weekday, clock, zone)
    if type(zone) is not str:
        raise no_overload("next_weekday", after, weekday, clock, zone)
    name = weekday.strip().lower()
    matches = [index for index, day in enumerate(_WEEKDAYS) if day.startswith(name[:3])]
    if len(name) < 3 or not matches or not _WEEKDAYS[matches[0]].startswith(name):
        raise EvaluationError(
            f"next_weekday: unknown weekday {weekday!r}; use monday, tuesday, ... sunday"
        )
    target_day = matches[0]
    time_match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", clock.strip())
    if time_match is None:
        raise EvaluationError(f"next_weekday: time {clock!r} is not HH:MM")
    hour, minute = int(time_match.group(1)), int(time_match.group(2))
    second = int(time_match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise EvaluationError(f"next_weekday: time {clock!r} is out of range")
    tz = _zone(zone)
    local = after.astimezone(tz)
    days_ahead = (target_day - local.weekday()) % 7
    for extra in (0, 7, 14):
        day = local.date() + timedelta(days=days_ahead + extra)
        candidate = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)
        result = candidate.astimezone(UTC)
        if result > after:
            return result
    raise EvaluationError("next_weekday: no future occurrence found")  # pragma: no cover
