"""What samconfig.toml points SAM at exists and is what the functions accept."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model, EventBridgeModel

from infra.app import stack_name
from tray_agent.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_samconfig_names_files_that_exist_and_the_synthesized_template() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    assert config["local_invoke"]["parameters"]["env_vars"] == "local-env.json"
    assert (ROOT / "local-env.json").is_file()
    for command in ("validate", "local_invoke", "local_start_api", "deploy"):
        assert config[command]["parameters"]["template_file"] == f"cdk.out/{stack_name()}.template.json"


def test_local_env_sets_only_real_settings() -> None:
    values = json.loads((ROOT / "local-env.json").read_text())["Parameters"]
    fields = {f"TRAY_AGENT_{name.upper()}" for name in Settings.model_fields}
    ours = {k for k in values if k.startswith("TRAY_AGENT_")}
    assert ours and ours <= fields, ours - fields


def test_sample_events_parse_as_what_each_handler_receives() -> None:
    events = ROOT / "events"
    parse(json.loads((events / "api_get_reviews.json").read_text()), model=APIGatewayProxyEventV2Model)
    parse(json.loads((events / "monitor_tick.json").read_text()), model=EventBridgeModel)
    parse(json.loads((events / "po_intake_object_created.json").read_text()), model=EventBridgeModel)
