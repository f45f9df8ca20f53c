"""The effects a workflow can ``call``, with their arguments.

An effect is a request to the outside world (a GitLab API call, an HTTP
request, a notification, a human task).  The engine emits it as a record; an
adapter of the runtime (or a stub of the simulator) performs it, and the
result comes back as ``done.effect.<id>`` or ``error.effect.<id>``.

The list is closed: readers reject an unknown effect name, a missing required
argument and an unknown argument, with a hint, so that a typo cannot silently
turn into an effect nothing performs.  ``http.request`` is the escape hatch for
anything not listed.  docs/format.md renders this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EffectSpec:
    """One effect: its name, what it does, and its arguments."""

    name: str
    description: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def arguments(self) -> tuple[str, ...]:
        return self.required + self.optional


_ISSUE = ("project_id", "issue_iid")
_MR = ("project_id", "merge_request_iid")

EFFECTS: dict[str, EffectSpec] = {
    spec.name: spec
    for spec in (
        EffectSpec(
            "gitlab.issues.create",
            "Create an issue; the result is the new issue (id, iid, web_url, ...).",
            required=("project_id", "title"),
            optional=(
                "description",
                "labels",
                "assignee_ids",
                "assignees",
                "milestone_id",
                "due_date",
                "confidential",
                "issue_type",
            ),
        ),
        EffectSpec(
            "gitlab.issues.update",
            "Change an issue's fields.",
            required=_ISSUE,
            optional=(
                "title",
                "description",
                "labels",
                "add_labels",
                "remove_labels",
                "assignee_ids",
                "assignees",
                "milestone_id",
                "state_event",
                "due_date",
                "confidential",
            ),
        ),
        EffectSpec("gitlab.issues.close", "Close an issue.", required=_ISSUE),
        EffectSpec(
            "gitlab.issues.add_labels",
            "Add labels to an issue (others are kept).",
            required=(*_ISSUE, "labels"),
        ),
        EffectSpec(
            "gitlab.issues.remove_labels",
            "Remove labels from an issue.",
            required=(*_ISSUE, "labels"),
        ),
        EffectSpec(
            "gitlab.issues.add_note",
            "Comment on an issue.",
            required=(*_ISSUE, "body"),
            optional=("internal",),
        ),
        EffectSpec(
            "gitlab.issues.list",
            "List issues of a project or group; the result is the list.",
            optional=(
                "project_id",
                "group_id",
                "labels",
                "state",
                "milestone",
                "assignee_username",
                "author_username",
                "search",
                "iids",
            ),
        ),
        EffectSpec(
            "gitlab.merge_requests.add_note",
            "Comment on a merge request.",
            required=(*_MR, "body"),
            optional=("internal",),
        ),
        EffectSpec(
            "gitlab.merge_requests.approve",
            "Approve a merge request.",
            required=_MR,
            optional=("sha",),
        ),
        EffectSpec(
            "gitlab.members.list",
            "List the members of a group or project; the result is the list.",
            optional=("group_id", "project_id", "include_inherited"),
        ),
        EffectSpec(
            "gitlab.projects.update_settings",
            "Change a project's settings.",
            required=("project_id", "settings"),
        ),
        EffectSpec(
            "gitlab.deployments.create",
            "Record a deployment of a ref to an environment.",
            required=("project_id", "environment"),
            optional=("ref", "sha", "tag", "status", "version"),
        ),
        EffectSpec(
            "gitlab.deployments.rollback",
            "Roll an environment back to its previous successful deployment.",
            required=("project_id", "environment"),
            optional=("deployment_id", "reason"),
        ),
        EffectSpec(
            "http.request",
            "An HTTP request to an allow-listed URL; the result is status, headers and body.",
            required=("method", "url"),
            optional=("headers", "body", "json", "timeout", "secret"),
        ),
        EffectSpec(
            "notify",
            "Send a notification (chat, e-mail) to a person, group or channel.",
            required=("to", "body"),
            optional=("subject", "channel", "severity"),
        ),
        EffectSpec(
            "task.create",
            "Ask a person to do something: a human task with an optional form; "
            "the answers come back as done.effect.<id>.",
            required=("title",),
            optional=(
                "assignee",
                "assignees",
                "description",
                "form",
                "due",
                "project_id",
                "issue_iid",
            ),
        ),
    )
}


def effect_names() -> tuple[str, ...]:
    """Every known effect name, sorted."""
    return tuple(sorted(EFFECTS))
