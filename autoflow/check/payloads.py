"""Values for the event fields a workflow reads but no guard constrains.

Guard reasoning (:mod:`autoflow.check.guards`) solves for the fields a guard
constrains.  Every other field a workflow reads — in an action, a trigger's
key, a template — still has to be in the payload, or reading it is an error.
This module says what to put there, so that a payload looks like one a user
would recognise:

* a GitLab event (``gitlab.<object_kind>[.<action>]``) takes the value of the
  real webhook body GitLab sends for that hook (the JSON examples of GitLab's
  webhook documentation, ``autoflow/sim/webhooks/``); a field that body lacks
  takes the value the other bodies have under the same name (``labels`` is a
  list of label objects, ``created_at`` a GitLab timestamp), and only a field
  no body has falls back to a plain value;
* any other event gets a plain value of the type the workflow uses the field
  as: a list where it is iterated, a boolean where it is a condition, a
  number for ids and arithmetic, else a string.

The kinds of use (:data:`USES`) come from the expressions that read the field
(``collect_event_paths`` in :mod:`autoflow.check.guards`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "HOOKS",
    "USES",
    "hook_for",
    "plain_value",
    "sample_body",
    "sample_candidates",
    "sample_file",
    "sample_values",
    "sampled_value",
    "typical_value",
]

#: Directory of the real webhook bodies (shared with ``autoflow traces``).
SAMPLES = Path(__file__).parent.parent / "sim" / "webhooks"

#: object_kind -> (X-Gitlab-Event, the body GitLab documents for it)
HOOKS: dict[str, tuple[str, str]] = {
    "issue": ("Issue Hook", "issue.json"),
    "work_item": ("Issue Hook", "issue.json"),
    "merge_request": ("Merge Request Hook", "merge_request.json"),
    "milestone": ("Milestone Hook", "milestone.json"),
    "note": ("Note Hook", "note_issue.json"),
    "pipeline": ("Pipeline Hook", "pipeline.json"),
    "push": ("Push Hook", "push.json"),
    "tag_push": ("Tag Push Hook", "tag_push.json"),
    "deployment": ("Deployment Hook", "deployment.json"),
    "emoji": ("Emoji Hook", "emoji.json"),
}

#: How an expression uses a field: ``any`` (nothing says), or the type it needs
#: (``time``: a string ``timestamp()`` parses).
USES = ("any", "int", "str", "bool", "list", "map", "time")

#: A timestamp where nothing better is known (the simulator's epoch, RFC 3339 as
#: GitLab's issue and merge request hooks write it).
TIMESTAMP = "2026-01-01T00:00:00Z"
_EMPTY_LIST: list[Any] = []
_EMPTY_MAP: dict[str, Any] = {}


def hook_for(event: str | None) -> tuple[str, str] | None:
    """``(X-Gitlab-Event, body file)`` of a ``gitlab.<kind>[.<action>]`` event."""
    if event is None:
        return None
    parts = event.split(".")
    if len(parts) < 2 or parts[0] != "gitlab":
        return None
    return HOOKS.get(parts[1])


def sample_file(event: str | None) -> str | None:
    """The webhook body file of ``event`` (None: not a GitLab event we have one for)."""
    found = hook_for(event)
    return None if found is None else found[1]


@cache
def _load(file: str) -> dict[str, Any]:
    data = json.loads((SAMPLES / file).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def sample_body(file: str) -> dict[str, Any]:
    """The real webhook body ``file`` (a shared object: copy before changing it)."""
    return _load(file)


def _leaves(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) of a body, maps included, lists as leaves."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = (*prefix, str(key))
            yield path, item
            yield from _leaves(item, path)


@cache
def sample_values(file: str) -> dict[str, Any]:
    """The scalar fields of body ``file`` by dotted ``event.`` path (hints for solving)."""
    found: dict[str, Any] = {}

    def visit(value: Any, name: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{name}.{key}")
        elif isinstance(value, list):
            if value:
                visit(value[0], f"{name}.[0]")  # a list is reasoned about by its first item
        elif isinstance(value, str | int | float | bool):
            found[name] = value

    visit(_load(file), "event")
    return found


@cache
def sample_candidates(leaf: str) -> tuple[Any, ...]:
    """The distinct scalar values GitLab's bodies have under the key ``leaf`` anywhere
    (list items included), bodies in file order: other realistic values for a field
    whose own body's value a guard rules out (a pipeline ``status`` of ``skipped``)."""
    found: list[Any] = []

    def visit(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                visit(item, str(name))
        elif isinstance(value, list):
            for item in value:
                visit(item, key)
        elif (
            key == leaf
            and isinstance(value, str | int | float | bool)
            and not any(type(value) is type(v) and value == v for v in found)
        ):
            found.append(value)

    for file in sorted({file for _, file in HOOKS.values()}):
        visit(_load(file), None)
    return tuple(found)


@cache
def _by_suffix() -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Every path suffix of every body (``("labels",)``, ``("project", "id")``) with
    the non-null values found under it, bodies in file order."""
    found: dict[tuple[str, ...], list[Any]] = {}
    for file in sorted({file for _, file in HOOKS.values()}):
        for path, value in _leaves(_load(file)):
            if value is None:
                continue
            for start in range(len(path)):
                found.setdefault(path[start:], []).append(value)
    return {k: tuple(v) for k, v in found.items()}


def _fits(value: Any, use: str) -> bool:
    if use == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if use in ("str", "time"):
        return isinstance(value, str)
    if use == "bool":
        return isinstance(value, bool)
    if use == "list":
        return isinstance(value, list)
    if use == "map":
        return isinstance(value, dict)
    return True


def value_at(body: Any, parts: Sequence[str | int]) -> Any:
    """The value at a field path of a payload (an int part: the list's first item), or None."""
    node = body
    for part in parts:
        if isinstance(part, int):
            node = node[0] if isinstance(node, list) and node else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def _is_id(leaf: str) -> bool:
    return leaf in ("id", "iid") or leaf.endswith(("_id", "_iid"))


def plain_value(parts: Sequence[str | int], use: str = "any") -> Any:
    """A placeholder of the type ``use`` asks for: ``[]``, ``{}``, ``False``, ``1`` for
    numbers and ids, an RFC 3339 timestamp for ``*_at`` and ``timestamp()``, else ``"x"``."""
    leaf = str(parts[-1]) if parts else ""
    if use == "list":
        return []
    if use == "map":
        return {}
    if use == "bool":
        return False
    if use == "int" or (use == "any" and _is_id(leaf)):
        return 1
    if use == "time" or leaf.endswith("_at"):
        return TIMESTAMP
    return "x"


def sampled_value(parts: Sequence[str | int], use: str = "any", event: str | None = None) -> Any:
    """What GitLab's bodies have for field ``parts`` of ``event`` (None: nothing, or
    not a GitLab event): the event's own body's value first, else a value of the type
    the other bodies have under the longest matching path suffix (their scalar; an
    empty list or object for theirs); only values that fit ``use``.  Not a copy."""
    return _sampled(sample_file(event), tuple(parts), use)


def _sampled(file: str | None, parts: tuple[str | int, ...], use: str) -> Any:
    if file is None or not parts or not all(isinstance(p, str) for p in parts):
        return None
    own = value_at(_load(file), parts)
    if own is not None and _fits(own, use):
        return own
    names = tuple(str(p) for p in parts)
    index = _by_suffix()
    for start in range(len(names)):
        for value in index.get(names[start:], ()):
            if not _fits(value, use) or (isinstance(value, dict) and use == "any"):
                continue
            # another hook's list or object: its type, not its content (a pipeline's
            # builds do not belong in an issue event)
            if isinstance(value, list):
                return _EMPTY_LIST
            if isinstance(value, dict):
                return _EMPTY_MAP
            return value
    return None


def typical_value(parts: Sequence[str | int], use: str = "any", event: str | None = None) -> Any:
    """The value to give field ``parts`` of ``event``'s payload when no guard decides it:
    :func:`sampled_value` for a GitLab event, else (or when the bodies have nothing)
    :func:`plain_value`.  Always a fresh copy."""
    found = _typical(sample_file(event), tuple(parts), use)
    return copy.deepcopy(found) if isinstance(found, list | dict) else found


@cache
def _typical(file: str | None, parts: tuple[str | int, ...], use: str) -> Any:
    found = _sampled(file, parts, use)
    return plain_value(parts, use) if found is None else found
