"""cfn-lint and checkov on a synthesized template: what `make test` and `make bench` count.

cfn-lint runs from the project venv with the repo's ``.cfnlintrc`` (ignored checks carry their
reason there). checkov runs from its own tool venv (``.tools/checkov``, built by ``make tools``):
it pins boto3 exactly, packaging < 24 and networkx < 2.7, which would downgrade what the project
and its tests use if installed beside them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
CHECKOV_VERSION = "3.3.30"


@dataclass(frozen=True)
class LintReport:
    errors: list[str]
    unacknowledged_warnings: list[str]


def cfn_lint(template: Path) -> LintReport:
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "cfnlint", "--format", "json", str(template)],
        cwd=ROOT,  # reads .cfnlintrc
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    describe = [f"{f['Rule']['Id']} {f['Location']['Path']}: {f['Message']}" for f in findings]
    errors = [d for f, d in zip(findings, describe, strict=True) if f["Level"] == "Error"]
    warnings = [d for f, d in zip(findings, describe, strict=True) if f["Level"] == "Warning"]
    return LintReport(errors=errors, unacknowledged_warnings=warnings)


def checkov_failures(template: Path) -> list[str]:
    """Failed checks not suppressed in the template metadata (``Metadata.checkov.skip``)."""
    if not CHECKOV.exists():
        raise RuntimeError(f"checkov is not installed at {CHECKOV}: run `make tools`")
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [
            *(str(CHECKOV), "-f", str(template), "--framework", "cloudformation"),
            *("--quiet", "--compact", "-o", "json", "--skip-download"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for r in reports
        for check in r.get("results", {}).get("failed_checks", [])
    ]
