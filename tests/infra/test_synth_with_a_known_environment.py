"""`cdk synth` / `cdk deploy` know the region (the CLI sets CDK_DEFAULT_REGION, us-east-1 when none
is configured) and, with credentials, the account; the session fixture leaves both to deploy time.
cdk-nag names resources differently in the two cases, so every acknowledgement must hold in both:
a synth with a known environment passes cdk-nag too (cli_synth fails on any unacknowledged finding)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.infra.conftest import cli_synth


def test_a_synth_with_a_known_region_and_account_passes_cdk_nag(tmp_path: Path) -> None:
    from infra.app import stack_name

    out = cli_synth(tmp_path, {"CDK_DEFAULT_REGION": "eu-west-1", "CDK_DEFAULT_ACCOUNT": "123456789012"})
    template = json.loads((out / f"{stack_name()}.template.json").read_text())
    policies = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert "arn:aws:scheduler:eu-west-1:123456789012:schedule/tray-agent-followups/*" in policies
