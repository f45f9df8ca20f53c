"""The seven example workflows: each checks clean, and a seeded defect in a copy of
each is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autoflow.check import check_paths

MODELS = Path(__file__).resolve().parents[2] / "models"
EXAMPLES = sorted(p.name for p in MODELS.glob("*.yaml"))


# example -> (text to replace, replacement, the rule that must catch it, state it names)
SEEDS = {
    "access-request.yaml": (
        "      done.effect.grant_access: recording\n",
        "      done.effect.grant_acess: recording\n",  # typo in the result event
        "unknown-event",
        "granting",
    ),
    "change-lock-approval.yaml": (
        "      - target: deploying\n",
        "",  # no way out when no change lock is active
        "deadlock",
        "deploy_requested",
    ),
    "deployment-rollout.yaml": (
        "        after:\n          8h: aborting\n",
        "",  # a paused rollout waits for SRE forever
        "wait-without-timeout",
        "paused",
    ),
    "group-labels.yaml": (
        "      - target: already_labelled\n",
        "      - target: received\n",  # the else-branch re-enters its own state
        "eventless-cycle",
        "received",
    ),
    "milestone-labels.yaml": (
        "      - target: unplanned\n",
        "      - target: received\n",
        "eventless-cycle",
        "received",
    ),
    "project-compliance.yaml": (
        "      done.effect.apply_settings: applied\n",
        "      done.effect.apply_setting: applied\n",
        "unknown-event",
        "applying",
    ),
    "retro-bot.yaml": (
        "  summarize:\n",
        "  orphan:\n    after:\n      1h: failed\n  summarize:\n",  # nothing enters it
        "unreachable-state",
        "orphan",
    ),
}


def test_there_are_seven_examples_and_a_seed_for_each() -> None:
    assert len(EXAMPLES) == 7
    assert set(SEEDS) == set(EXAMPLES)


def test_examples_check_clean() -> None:
    reports = check_paths([str(MODELS / name) for name in EXAMPLES])
    found = {(Path(r.path).name, f.rule) for r in reports for f in r.findings}
    assert found == set()
    for report in reports:
        assert report.stats["truncated"] is False
        assert report.stats["states"] >= 1


@pytest.mark.parametrize("name", EXAMPLES)
def test_seeded_defect_is_caught(tmp_path: Path, name: str) -> None:
    shutil.copytree(MODELS, tmp_path / "models")
    model = tmp_path / "models" / name
    old, new, rule, state = SEEDS[name]
    text = model.read_text()
    assert text.count(old) == 1
    model.write_text(text.replace(old, new))
    [report] = check_paths([str(model)])
    caught = [f for f in report.findings if f.rule == rule]
    assert caught, [f.rule for f in report.findings]
    assert any(state in f.states for f in caught)
    assert all(f.span.path == str(model) and f.span.line > 0 for f in caught)
