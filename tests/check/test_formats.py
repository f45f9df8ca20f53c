"""Output formats of ``autoflow check`` (SARIF 2.1.0, GitLab Code Quality, JSON) and the
CI files that run it (pre-commit hook, GitLab CI/CD component)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from autoflow.check import check_paths, formats
from autoflow.check.rules import DESCRIPTIONS
from autoflow.cli import app

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def sarif_of(*paths: Path) -> dict[str, object]:
    result = runner.invoke(app, ["check", *map(str, paths), "--format", "sarif"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_sarif_has_the_required_fields() -> None:
    document = sarif_of(DATA / "deadlock.yaml", DATA / "nondeterminism.yaml")
    assert document["version"] == "2.1.0"
    assert str(document["$schema"]).endswith("sarif-2.1.0.json")
    [run] = document["runs"]  # type: ignore[misc]
    driver = run["tool"]["driver"]
    assert driver["name"] == "autoflow"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert "deadlock" in rule_ids
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    assert run["results"]
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith(".yaml")
        assert physical["region"]["startLine"] >= 1
        assert physical["region"]["startColumn"] >= 1
    deadlock = next(r for r in run["results"] if r["ruleId"] == "deadlock")
    assert deadlock["level"] == "error"
    assert [s["event"] for s in deadlock["properties"]["trace"]] == [
        "ticket.open",
        "ticket.approve",
    ]


def test_gitlab_code_quality_shape() -> None:
    result = runner.invoke(app, ["check", str(DATA / "deadlock.yaml"), "--format", "gitlab"])
    issues = json.loads(result.stdout)
    assert isinstance(issues, list)
    assert issues
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
        assert issue["location"]["path"].endswith("deadlock.yaml")
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_stay_when_lines_move(tmp_path: Path) -> None:
    model = tmp_path / "deadlock.yaml"
    text = (DATA / "deadlock.yaml").read_text()
    model.write_text(text)
    before = json.loads(formats.to_gitlab(check_paths([str(model)])))
    model.write_text("\n\n\n" + text)
    after = json.loads(formats.to_gitlab(check_paths([str(model)])))
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["lines"]["begin"] + 3 for i in before] == [
        i["location"]["lines"]["begin"] for i in after
    ]


def test_fingerprints_differ_between_findings_and_files(tmp_path: Path) -> None:
    reports = check_paths([str(DATA / "dead-transition.yaml")])
    prints = [formats.fingerprint(reports[0].path, f) for f in reports[0].findings]
    assert len(prints) == len(set(prints)) > 1
    copy = tmp_path / "other.yaml"
    copy.write_text((DATA / "dead-transition.yaml").read_text())
    [other] = check_paths([str(copy)])
    assert formats.fingerprint(other.path, other.findings[0]) not in prints


def test_sarif_and_json_are_pure_functions_of_the_reports() -> None:
    reports = check_paths([str(DATA / "livelock.yaml")])
    assert formats.to_sarif(reports, DESCRIPTIONS) == formats.to_sarif(reports, DESCRIPTIONS)
    document = json.loads(formats.to_json(reports))
    assert document["models"][0]["findings"][0]["rule"] == "livelock"


def test_pre_commit_hook_file_parses() -> None:
    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [check] = [h for h in hooks if h["id"] == "autoflow-check"]
    assert check["entry"] == "autoflow check"
    assert check["language"] == "python"
    assert re.search(check["files"], "models/retro-bot.yaml")
    assert re.search(check["files"], "charts/x.scxml")
    assert not re.search(check["exclude"], "models/retro-bot.yaml")
    assert re.search(check["exclude"], ".gitlab-ci.yml")


def test_gitlab_component_template_has_spec_inputs_and_the_report() -> None:
    text = (ROOT / "templates" / "autoflow-check.yml").read_text()
    header, _, body = text.partition("\n---\n")
    spec = YAML(typ="safe").load(header)["spec"]
    inputs = spec["inputs"]
    assert {"paths", "stage"} <= set(inputs)
    assert inputs["fail-on"]["options"] == ["error", "warning"]
    # autoflow is not on PyPI: what to install has no default, the user must say it
    assert "default" not in inputs["package"]
    job = YAML(typ="safe").load(body)["autoflow-check"]
    assert job["stage"] == "$[[ inputs.stage ]]"
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    script = " ".join(job["script"])
    assert "--format gitlab" in script
    assert "$[[ inputs.paths ]]" in script
    used = set(re.findall(r"\$\[\[ inputs\.([a-z-]+) \]\]", body))
    assert used <= set(inputs)
