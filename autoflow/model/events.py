"""GitLab webhooks as statechart events: one mapping for the simulator and the runtime.

A webhook delivery is the ``X-Gitlab-Event`` header plus a JSON body.  autoflow
names the event ``gitlab.<object_kind>[.<action>]``:

* ``object_kind`` comes from the body (``issue``, ``merge_request``, ``note``,
  ``pipeline``, ``work_item``, ...); it must be one the header announces (an
  ``Issue Hook`` carries ``issue`` or ``work_item``, never ``push``);
* ``action`` comes from ``object_attributes.action`` or, when that is absent,
  the top-level ``action`` (milestone hooks put it there); hooks without an
  action (push, pipeline, deployment, older note hooks) get no suffix.

So ``Issue Hook`` + ``{"object_kind": "issue", "object_attributes": {"action":
"close"}}`` is ``gitlab.issue.close``, and a pipeline hook is
``gitlab.pipeline``.  Because SCXML event descriptors match by token prefix, a
transition on ``gitlab.issue`` takes every issue event and one on ``gitlab.note``
takes notes with or without the ``create`` action newer GitLab versions send.

Hooks whose body has no ``object_kind`` (member, project and subgroup hooks)
use a fixed kind and their ``event_name`` as the action:
``gitlab.member.user_add_to_group``.  System hooks use ``object_kind`` or, when
absent, ``event_name`` as the kind.

The event's data is the body, unchanged.  Everything here is pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from autoflow.errors import AutoflowError

__all__ = ["HOOK_KINDS", "WebhookError", "webhook_to_event"]

#: ``X-Gitlab-Event`` header values and the ``object_kind`` values each may carry.
#: An empty set: any kind (system hooks).  ``None``: the body has no ``object_kind``;
#: the paired name is the kind and ``event_name`` the action.
HOOK_KINDS: dict[str, frozenset[str] | str] = {
    "Push Hook": frozenset({"push"}),
    "Tag Push Hook": frozenset({"tag_push"}),
    "Issue Hook": frozenset({"issue", "work_item"}),
    "Confidential Issue Hook": frozenset({"issue", "work_item"}),
    "Note Hook": frozenset({"note"}),
    "Confidential Note Hook": frozenset({"note"}),
    "Merge Request Hook": frozenset({"merge_request"}),
    "Wiki Page Hook": frozenset({"wiki_page"}),
    "Pipeline Hook": frozenset({"pipeline"}),
    "Job Hook": frozenset({"build"}),
    "Deployment Hook": frozenset({"deployment"}),
    "Feature Flag Hook": frozenset({"feature_flag"}),
    "Release Hook": frozenset({"release"}),
    "Milestone Hook": frozenset({"milestone"}),
    "Emoji Hook": frozenset({"emoji"}),
    "Vulnerability Hook": frozenset({"vulnerability"}),
    "Resource Access Token Hook": frozenset({"access_token"}),
    "Member Hook": "member",
    "Project Hook": "project",
    "Subgroup Hook": "subgroup",
    "System Hook": frozenset(),
}

_TOKEN = re.compile(r"[A-Za-z0-9_]+")


class WebhookError(AutoflowError):
    """A webhook delivery autoflow cannot map to an event.

    ``field`` names the offending part: ``headers.X-Gitlab-Event``,
    ``body.object_kind``, ``body.object_attributes.action``, ...
    """

    def __init__(self, message: str, field: str, *, hint: str | None = None) -> None:
        self.message = message
        self.field = field
        self.hint = hint
        text = f"{field}: {message}"
        super().__init__(text if hint is None else f"{text} (hint: {hint})")


def normalise_descriptor(descriptor: str) -> str:
    """An event descriptor without its optional trailing ``.*`` or ``.`` (SCXML 3.12.1)."""
    if descriptor.endswith(".*"):
        descriptor = descriptor[:-2]
    return descriptor.rstrip(".") or "*"


def descriptor_matches(descriptor: str, name: str) -> bool:
    """SCXML event matching: ``*``, or a descriptor that is a token prefix of the name
    (``gitlab.issue`` matches ``gitlab.issue.close`` but not ``gitlab.issues``)."""
    stem = normalise_descriptor(descriptor)
    return stem == "*" or name == stem or name.startswith(stem + ".")


def webhook_to_event(headers: Mapping[str, Any], body: Any) -> tuple[str, Any]:
    """The event ``(name, data)`` for one GitLab webhook delivery.

    ``headers`` are matched case-insensitively.  Raises :class:`WebhookError`
    for a missing or unknown ``X-Gitlab-Event``, a body that is not a JSON
    object, a missing or mismatched ``object_kind`` or a malformed action.
    """
    hook = _header(headers, "X-Gitlab-Event")
    if hook is None:
        raise WebhookError(
            "missing header",
            "headers.X-Gitlab-Event",
            hint="GitLab sends it with every webhook, for example 'Issue Hook'",
        )
    if not isinstance(hook, str) or hook not in HOOK_KINDS:
        raise WebhookError(
            f"unknown hook {hook!r}",
            "headers.X-Gitlab-Event",
            hint="one of " + ", ".join(repr(name) for name in HOOK_KINDS),
        )
    if not isinstance(body, Mapping):
        raise WebhookError(f"expected a JSON object, got {_type_name(body)}", "body")

    kinds = HOOK_KINDS[hook]
    if isinstance(kinds, str):
        kind = kinds
        event_name = _token(body.get("event_name"), "body.event_name", required=True)
        return f"gitlab.{kind}.{event_name}", body

    raw_kind = body.get("object_kind")
    if raw_kind is None and not kinds:
        raw_kind = body.get("event_name")
        kind = _token(raw_kind, "body.event_name", required=True)
    else:
        kind = _token(raw_kind, "body.object_kind", required=True)
    if kinds and kind not in kinds:
        raise WebhookError(
            f"{kind!r} does not belong to a {hook!r}",
            "body.object_kind",
            hint=f"a {hook!r} carries " + " or ".join(repr(k) for k in sorted(kinds)),
        )

    action: str | None = None
    attributes = body.get("object_attributes")
    if isinstance(attributes, Mapping) and attributes.get("action") is not None:
        action = _token(attributes["action"], "body.object_attributes.action")
    elif body.get("action") is not None:
        action = _token(body["action"], "body.action")
    name = f"gitlab.{kind}" if action is None else f"gitlab.{kind}.{action}"
    return name, body


def _header(headers: Mapping[str, Any], name: str) -> Any:
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


def _token(value: Any, field: str, *, required: bool = False) -> str:
    if value is None and required:
        raise WebhookError("missing", field)
    if not isinstance(value, str):
        raise WebhookError(f"expected a string, got {_type_name(value)}", field)
    if not _TOKEN.fullmatch(value):
        raise WebhookError(
            f"{value!r} is not a valid event name part",
            field,
            hint="letters, digits and underscores only",
        )
    return value


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, label in names.items():
        if isinstance(value, kind):
            return label
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__
