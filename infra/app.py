"""The CDK app (``cdk synth`` / ``cdk deploy`` read cdk.json, which runs this module)."""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import TrayAgentStack

STACK_NAME = "TrayAgent"


def build_app(
    context: dict[str, object] | None = None, outdir: str | None = None
) -> tuple[App, TrayAgentStack]:
    app = App(context=context, outdir=outdir)
    stack = TrayAgentStack(
        app,
        STACK_NAME,
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
        description="tray-agent: an AI operations agent on top of Tray.ai workflows",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()
