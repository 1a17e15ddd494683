"""The deployable stack: lint and security findings on the template the CDK CLI synthesizes.

Figures: ``cfn_lint_errors``, ``cfn_lint_unacknowledged_warnings`` (0 each, ignored checks
carry their reason in .cfnlintrc), ``checkov_unsuppressed_failures`` (0; suppressions carry
their reason in the template's metadata), and ``api_asset_mb``: the API function's asset as
bundled for Lambda (arm64 wheels + the package; no PDF engine, no model client, no boto3).
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def run() -> dict[str, float]:
    from infra.app import stack_name
    from infra.template_checks import cfn_lint, checkov_failures
    from tests.infra.conftest import cli_synth  # first: it quiets jsii's Node-version notices

    with tempfile.TemporaryDirectory() as out:
        template = cli_synth(Path(out)) / f"{stack_name()}.template.json"
        lint = cfn_lint(template)
        failures = checkov_failures(template)
        api = Path(out) / "api-asset"
        from infra.bundling import copy_package, install_dependencies, role_requirements

        install_dependencies(api, role_requirements("api"))
        copy_package(api)
        size = sum(f.stat().st_size for f in api.rglob("*") if f.is_file())
    return {
        "api_asset_mb": round(size / 1_000_000, 1),
        "cfn_lint_errors": float(len(lint.errors)),
        "cfn_lint_unacknowledged_warnings": float(len(lint.unacknowledged_warnings)),
        "checkov_unsuppressed_failures": float(len(failures)),
    }
