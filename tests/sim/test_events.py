"""The GitLab webhook -> event mapping, checked against real payloads."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from autoflow.model.events import HOOK_KINDS, WebhookError, webhook_to_event

WEBHOOKS = Path(__file__).parent / "data" / "webhooks"


def _index() -> list[tuple[str, str, str, str]]:
    """(path, header, object_kind, action column) rows of INDEX.md."""
    rows = []
    for line in (WEBHOOKS / "INDEX.md").read_text().splitlines():
        if not line.startswith("- "):
            continue
        path, header, kind, action, _source = (part.strip() for part in line[2:].split("|"))
        rows.append((path, header, kind, action))
    return rows


def _load(path: str) -> Any:
    return json.loads((WEBHOOKS / path).read_text())


ROWS = _index()


def test_index_lists_every_fixture() -> None:
    files = {str(p.relative_to(WEBHOOKS)) for p in WEBHOOKS.rglob("*.json")}
    assert files == {row[0] for row in ROWS}


@pytest.mark.parametrize(("path", "header", "kind", "action"), ROWS, ids=[r[0] for r in ROWS])
def test_real_payload_maps_to_the_documented_name(
    path: str, header: str, kind: str, action: str
) -> None:
    body = _load(path)
    top_level = re.fullmatch(r"\(top-level action: (\w+)\)", action)
    suffix = top_level.group(1) if top_level else action
    expected = f"gitlab.{kind}" if suffix == "-" else f"gitlab.{kind}.{suffix}"

    name, data = webhook_to_event({"X-Gitlab-Event": header}, body)

    assert name == expected
    assert data == body


def test_header_name_is_case_insensitive() -> None:
    body = _load("gitlab-docs/issue.json")
    name, _ = webhook_to_event({"x-gitlab-event": "Issue Hook"}, body)
    assert name == "gitlab.issue.open"


def test_object_attributes_action_wins_over_top_level_action() -> None:
    body = _load("zulip/issue_hook__issue_closed.json")
    body = {**body, "action": "something_else"}
    assert webhook_to_event({"X-Gitlab-Event": "Issue Hook"}, body)[0] == "gitlab.issue.close"


def test_member_hook_uses_event_name() -> None:
    body = {"event_name": "user_add_to_group", "group_id": 78, "user_username": "johndoe"}
    name, _ = webhook_to_event({"X-Gitlab-Event": "Member Hook"}, body)
    assert name == "gitlab.member.user_add_to_group"


def test_every_known_hook_is_mapped() -> None:
    # Each header in the table accepts a body of its own kind.
    for header, kinds in HOOK_KINDS.items():
        if isinstance(kinds, str):
            body: dict[str, Any] = {"event_name": "created"}
            expected = f"gitlab.{kinds}.created"
        else:
            kind = min(kinds) if kinds else "project_create"
            body = {"object_kind": kind}
            expected = f"gitlab.{kind}"
        assert webhook_to_event({"X-Gitlab-Event": header}, body)[0] == expected


@pytest.mark.parametrize(
    ("headers", "body", "field", "words"),
    [
        ({}, {"object_kind": "issue"}, "headers.X-Gitlab-Event", "missing header"),
        ({"X-Gitlab-Event": "Isue Hook"}, {"object_kind": "issue"}, "headers.X-Gitlab-Event",
         "unknown hook 'Isue Hook'"),
        ({"X-Gitlab-Event": "Issue Hook"}, [1, 2], "body", "expected a JSON object, got an array"),
        ({"X-Gitlab-Event": "Issue Hook"}, {"object_attributes": {}}, "body.object_kind",
         "missing"),
        ({"X-Gitlab-Event": "Issue Hook"}, {"object_kind": "push"}, "body.object_kind",
         "'push' does not belong to a 'Issue Hook'"),
        ({"X-Gitlab-Event": "Issue Hook"}, {"object_kind": 7}, "body.object_kind",
         "expected a string, got a number"),
        ({"X-Gitlab-Event": "Issue Hook"},
         {"object_kind": "issue", "object_attributes": {"action": "re open"}},
         "body.object_attributes.action", "not a valid event name part"),
        ({"X-Gitlab-Event": "Milestone Hook"}, {"object_kind": "milestone", "action": ["x"]},
         "body.action", "expected a string, got an array"),
        ({"X-Gitlab-Event": "Member Hook"}, {"group_id": 1}, "body.event_name", "missing"),
    ],
)  # fmt: skip
def test_malformed_hooks_name_the_field(
    headers: dict[str, str], body: Any, field: str, words: str
) -> None:
    with pytest.raises(WebhookError) as caught:
        webhook_to_event(headers, body)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_mapping_does_not_modify_the_body() -> None:
    body = _load("gitlab-docs/merge_request.json")
    before = copy.deepcopy(body)
    webhook_to_event({"X-Gitlab-Event": "Merge Request Hook"}, body)
    assert body == before


@pytest.mark.parametrize(
    ("descriptor", "name", "expected"),
    [
        ("*", "anything", True),
        ("gitlab.issue", "gitlab.issue", True),
        ("gitlab.issue", "gitlab.issue.close", True),
        ("gitlab.issue.*", "gitlab.issue.close", True),
        ("gitlab.issue.", "gitlab.issue.close", True),
        ("gitlab.issue", "gitlab.issues", False),
        ("gitlab.issue.close", "gitlab.issue", False),
        ("done.state.a", "done.state.ab", False),
    ],
)
def test_descriptor_matching_is_scxml_token_prefix(
    descriptor: str, name: str, expected: bool
) -> None:
    from autoflow.model.events import descriptor_matches

    assert descriptor_matches(descriptor, name) is expected
