from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")


@pytest.fixture(scope="session")
def synthesized() -> Any:
    """The real app (cdk-nag included), synthesized once, with Lambda bundling skipped."""
    from aws_cdk.assertions import Template

    from infra.app import build_app

    app, stack = build_app(context={"aws:cdk:bundling-stacks": []})
    assembly = app.synth()  # raises if cdk-nag finds an unacknowledged violation
    return Template.from_stack(stack), assembly
