"""Output formats of ``autoflow check``: each a pure function of the reports.

* ``json`` — autoflow's own stable format (docs/check.md);
* ``sarif`` — SARIF 2.1.0, for code-scanning dashboards;
* ``gitlab`` — GitLab Code Quality JSON, whose fingerprints stay stable when
  lines move (they hash the rule, file, states and message, not the line).

The text format is a Rich table and lives with the CLI command.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from autoflow import __version__
from autoflow.check.diagnostics import Diagnostic, ModelReport, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def to_json(reports: Sequence[ModelReport]) -> str:
    return json.dumps({"models": [report.to_json() for report in reports]}, indent=2) + "\n"


def fingerprint(path: str, finding: Diagnostic) -> str:
    """Stable identity of a finding: independent of line numbers and of trace details."""
    key = "\x1f".join([path, finding.rule, ",".join(finding.states), finding.message])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _path(report: ModelReport, finding: Diagnostic) -> str:
    """The file a finding is in: the model's, or a block's that the model uses."""
    return finding.span.path if finding.span.path and finding.span.line else report.path


def to_sarif(reports: Sequence[ModelReport], rule_descriptions: dict[str, str]) -> str:
    rules_used = sorted({f.rule for report in reports for f in report.findings})
    results: list[dict[str, Any]] = []
    for report in reports:
        for finding in report.findings:
            region: dict[str, int] = {}
            if finding.span.line > 0:
                region = {"startLine": finding.span.line, "startColumn": max(finding.span.col, 1)}
            location: dict[str, Any] = {"artifactLocation": {"uri": _path(report, finding)}}
            if region:
                location["region"] = region
            result: dict[str, Any] = {
                "ruleId": finding.rule,
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": [{"physicalLocation": location}],
                "partialFingerprints": {"autoflow/v1": fingerprint(report.path, finding)},
            }
            if finding.trace:
                result["properties"] = {"trace": [step.to_json() for step in finding.trace]}
            results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "autoflow",
                        "version": __version__,
                        "informationUri": "https://gitlab.com/autoflow/autoflow",
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": rule_descriptions.get(rule, rule)},
                            }
                            for rule in rules_used
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def to_gitlab(reports: Sequence[ModelReport]) -> str:
    issues = [
        {
            "description": f"{finding.rule}: {finding.message}",
            "check_name": finding.rule,
            "fingerprint": fingerprint(report.path, finding),
            "severity": _GITLAB_SEVERITY[finding.severity],
            "location": {
                "path": _path(report, finding),
                "lines": {"begin": max(finding.span.line, 1)},
            },
        }
        for report in reports
        for finding in report.findings
    ]
    return json.dumps(issues, indent=2) + "\n"


Formatter = Callable[[Sequence[ModelReport]], str]
