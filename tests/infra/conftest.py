from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

ROOT = Path(__file__).resolve().parents[2]


def cli_synth(outdir: Path, environment: dict[str, str] | None = None, **context: object) -> Path:
    """Synthesize the way ``cdk synth`` / ``cdk deploy`` do: cdk.json's ``app`` command, run with
    cdk.json's context plus the CLI's own defaults in CDK_CONTEXT_JSON and CDK_OUTDIR set.

    The one difference: Lambda bundling (a pip download of every asset) is skipped through the
    same ``aws:cdk:bundling-stacks`` context the CLI uses for ``--exclusively``; the asset
    metadata and hashes are those of the sources either way.
    """
    from infra.app import CLI_CONTEXT, cdk_json_context

    app_command = json.loads((ROOT / "cdk.json").read_text())["app"].split()
    assert app_command[1:] == ["infra/app.py"], "cdk.json runs infra/app.py with the venv's python"
    full_context = {**cdk_json_context(), **CLI_CONTEXT, "aws:cdk:bundling-stacks": [], **context}
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(full_context),
        "CDK_OUTDIR": str(outdir),
        **(environment or {}),
    }
    result = subprocess.run(
        [sys.executable, "infra/app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    # cdk-nag findings that are not acknowledged fail the synth (exit 1) with the rule named.
    assert result.returncode == 0, result.stderr[-4000:]
    return outdir


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_synth(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template_json(cdk_out: Path) -> dict[str, Any]:
    from infra.app import stack_name

    template: dict[str, Any] = json.loads((cdk_out / f"{stack_name()}.template.json").read_text())
    return template


@pytest.fixture(scope="session")
def synthesized(cdk_out: Path, template_json: dict[str, Any]) -> Any:
    """The real app (cdk-nag included) as the CLI synthesizes it: the template and the assembly."""
    from aws_cdk import cx_api
    from aws_cdk.assertions import Template

    return Template.from_json(template_json), cx_api.CloudAssembly(str(cdk_out))
