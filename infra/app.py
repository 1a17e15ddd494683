"""The CDK app: ``cdk synth`` / ``cdk deploy`` read cdk.json, whose ``app`` runs this file.

One stack per stage: ``-c stage=prod`` deploys ``TrayAgent-prod`` beside ``TrayAgent-dev`` in the
same account; every resource is tagged with its stage and every name that must be unique in an
account (dashboard, alarms) carries it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":
    # Run as a script by the CDK CLI: Python put infra/ first on the path, where infra/constructs
    # would shadow the `constructs` library. The repo root and functions/ take its place.
    sys.path[:1] = [str(ROOT), str(ROOT / "functions")]

from aws_cdk import App, Aspects, Environment, Tags, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.checkov import CheckovSuppressions  # noqa: E402
from infra.stack import TrayAgentStack  # noqa: E402

STACK_BASE_NAME = "TrayAgent"
DEFAULT_STAGE = "dev"
# What the CDK CLI adds to the context of every synth (asset metadata is what SAM reads to find
# each function's code); tests add the same so they synthesize what `cdk deploy` would.
CLI_CONTEXT: dict[str, object] = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def stack_name(stage: str = DEFAULT_STAGE) -> str:
    return f"{STACK_BASE_NAME}-{stage}"


STACK_NAME = stack_name(DEFAULT_STAGE)  # the default stage's stack (tray_local's PO demo reads it)


def cdk_json_context() -> dict[str, object]:
    """cdk.json's context (feature flags, stage, Tray region ...), as the CLI passes it."""
    context: dict[str, object] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def build_app(
    context: dict[str, object] | None = None, outdir: str | None = None
) -> tuple[App, TrayAgentStack]:
    app = App(context=context, outdir=outdir)
    stage = str(app.node.try_get_context("stage") or DEFAULT_STAGE)
    stack = TrayAgentStack(
        app,
        stack_name(stage),
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
        description=f"tray-agent ({stage}): an AI operations agent on top of Tray.ai workflows",
    )
    Tags.of(stack).add("tray-agent:stage", stage)
    Tags.of(stack).add("tray-agent:service", "tray-agent")
    Aspects.of(stack).add(CheckovSuppressions())
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    # Under the CLI the context arrives through CDK_CONTEXT_JSON, which App() reads itself.
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR"))
    app.synth()


if __name__ == "__main__":
    main()
