"""CEL values as plain Python values, and the few helpers every operator needs.

=====================  ===========================================
CEL type               Python value
=====================  ===========================================
``int``                ``int`` (never ``bool``), range int64
``uint``               :class:`UInt` (an ``int`` subclass), range uint64
``double``             ``float``
``bool``               ``bool``
``string``             ``str``
``bytes``              ``bytes``
``null_type``          ``None``
``list``               ``list`` (``tuple`` accepted as input)
``map``                ``dict`` (any ``Mapping`` accepted as input)
``timestamp``          ``datetime`` (tz-aware, UTC)
``duration``           ``timedelta``
``type``               :class:`CelType`
=====================  ===========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from autoflow.errors import EvaluationError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1


class UInt(int):
    """A CEL ``uint``: an ``int`` that remembers it is unsigned (``1u``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class CelType:
    """A CEL type value, the result of ``type(x)`` and of the names ``int``, ``string``, ..."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("CelType", self.name))


TYPES: dict[str, CelType] = {
    name: CelType(name)
    for name in (
        "int",
        "uint",
        "double",
        "bool",
        "string",
        "bytes",
        "null_type",
        "list",
        "map",
        "type",
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
    )
}
"""Type values by name; the identifiers ``int``, ``uint``, ... evaluate to these."""

TYPE_IDENTIFIERS = frozenset(name for name in TYPES if "." not in name)

_KIND_BY_TYPE: dict[type, str] = {
    bool: "bool",
    int: "int",
    UInt: "uint",
    float: "double",
    str: "string",
    bytes: "bytes",
    type(None): "null_type",
    list: "list",
    tuple: "list",
    dict: "map",
    datetime: "google.protobuf.Timestamp",
    timedelta: "google.protobuf.Duration",
    CelType: "type",
}


def kind(value: Any) -> str:
    """The CEL type name of a Python value; raises for values CEL cannot represent."""
    try:
        return _KIND_BY_TYPE[type(value)]
    except KeyError:
        pass
    if isinstance(value, Mapping):
        return "map"
    for python_type, name in _KIND_BY_TYPE.items():
        if isinstance(value, python_type):
            return name
    raise EvaluationError(f"unsupported value of Python type {type(value).__name__}")


def check_int(value: int) -> int:
    """``value`` if it fits int64, else an overflow error."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise EvaluationError("int overflow: result does not fit in 64 bits")


def check_uint(value: int) -> UInt:
    """``value`` as a :class:`UInt` if it fits uint64, else an overflow error."""
    if 0 <= value <= UINT64_MAX:
        return UInt(value)
    raise EvaluationError("uint overflow: result does not fit in 64 bits unsigned")


_NUMERIC = ("int", "uint", "double")


def equal(left: Any, right: Any) -> bool:
    """CEL ``==``: numbers compare by value across int/uint/double, other types must match.

    Values of different (non-numeric) types are simply not equal, as in the
    current CEL specification (heterogeneous equality).
    """
    left_type = type(left)
    if left_type is type(right) and left_type in (str, int, bool, float, bytes):
        return bool(left == right)
    left_kind = kind(left)
    right_kind = kind(right)
    if left_kind != right_kind:
        if left_kind in _NUMERIC and right_kind in _NUMERIC:
            return bool(left == right)
        return False
    if left_kind == "list":
        return len(left) == len(right) and all(map(equal, left, right))
    if left_kind == "map":
        if len(left) != len(right):
            return False
        for key, value in left.items():
            other = map_get(right, key)
            if other is _MISSING or not equal(value, other):
                return False
        return True
    return bool(left == right)


_MISSING: Any = object()
_NUMBER_KEYS = (bool, int, UInt, float)


def map_get(mapping: Mapping[Any, Any], key: Any) -> Any:
    """The value at ``key`` or ``_MISSING``, keeping ``true`` and ``1`` apart."""
    try:
        value = mapping[key]
    except KeyError:
        return _MISSING
    except TypeError as exc:
        raise EvaluationError(f"unsupported map key type {kind(key)}") from exc
    if type(key) in _NUMBER_KEYS:
        # Python treats True and 1 as the same key; CEL does not.
        key_is_bool = type(key) is bool
        for stored in mapping:
            if (type(stored) is bool) == key_is_bool and stored == key:
                return mapping[stored]
        return _MISSING
    return value


def compare(left: Any, right: Any) -> int:
    """-1, 0 or 1 for CEL ordering (``< <= > >=``); numbers compare across types."""
    left_kind = kind(left)
    right_kind = kind(right)
    if left_kind != right_kind and not (left_kind in _NUMERIC and right_kind in _NUMERIC):
        raise no_overload("ordering", left, right)
    if left_kind not in _ORDERED:
        raise no_overload("ordering", left, right)
    if (type(left) is float and math.isnan(left)) or (type(right) is float and math.isnan(right)):
        return 2  # unordered: every relation but != is false
    if left < right:
        return -1
    if left > right:
        return 1
    return 0


_ORDERED = frozenset(
    (*_NUMERIC, "bool", "string", "bytes", "google.protobuf.Timestamp", "google.protobuf.Duration")
)


def no_overload(operator: str, *values: Any) -> EvaluationError:
    """The error for an operator or function applied to types it is not defined on."""
    types = ", ".join(_type_name(value) for value in values)
    return EvaluationError(f"no such overload: {operator} applied to ({types})")


def _type_name(value: Any) -> str:
    try:
        name = kind(value)
    except EvaluationError:
        return type(value).__name__
    return {"google.protobuf.Timestamp": "timestamp", "google.protobuf.Duration": "duration"}.get(
        name, name
    )


def type_name(value: Any) -> str:
    """The short CEL type name of ``value`` for messages: ``int``, ``timestamp``, ..."""
    return _type_name(value)
