"""``tray-agent tools sync``: check the workflows file against Tray's workflows (GraphQL).

Uses the usual settings (``TRAY_AGENT_TRAY_USER_TOKEN``, ``TRAY_AGENT_TRAY_REGION`` or
``TRAY_AGENT_TRAY_API_BASE_URL``). Exit code 0 when in sync, 1 when something differs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tray_local.cli_common import CommandFailedError, add_output_option


def register(subparsers: Any) -> None:
    tools = subparsers.add_parser("tools", help="the agent's tools (the workflows file)")
    commands = tools.add_subparsers(dest="tools_command", required=True)
    sync = commands.add_parser(
        "sync",
        help="report workflows missing from the file, disabled or changed",
        description="Compare the workflows file with Tray's workflows (GraphQL); exit 1 on drift.",
        epilog="examples:\n  TRAY_AGENT_TRAY_USER_TOKEN=… tray-agent tools sync\n"
        "  tray-agent tools sync --tray-url http://127.0.0.1:8766 --output json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument("--workflows", type=Path, default=None, help="workflows file (default: from settings)")
    sync.add_argument("--tray-url", default=None, help="Tray API base URL (default: the region's)")
    sync.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # before --output json
    add_output_option(sync)
    sync.set_defaults(func=_sync)


def _sync(args: argparse.Namespace) -> int:
    from tray_agent.config import settings_from_env
    from tray_agent.domain.agent.tools_sync import compare
    from tray_agent.models.workflows import load_workflows_file
    from tray_agent.tray import build_tray_clients

    settings = settings_from_env()
    if not (settings.tray_user_token or settings.tray_token_secret_name):
        raise CommandFailedError(
            "no Tray token: set TRAY_AGENT_TRAY_USER_TOKEN (or TRAY_AGENT_TRAY_TOKEN_SECRET_NAME)", usage=True
        )
    updates: dict[str, Any] = {}
    if args.workflows:
        updates["workflows_file"] = args.workflows
    if args.tray_url:
        updates["tray_api_base_url"] = args.tray_url
        updates["tray_webhook_base_url"] = args.tray_url
    settings = settings.model_validate({**settings.model_dump(), **updates}) if updates else settings
    clients = build_tray_clients(settings)
    try:
        report = compare(
            load_workflows_file(settings.workflows_file).workflows,
            clients.graphql.list_workflows(),
            clients.endpoints,
        )
    finally:
        clients.close()
    if args.json or args.output == "json":
        print(report.model_dump_json(indent=2))
        return 0 if report.clean else 1
    print(f"workflows file: {settings.workflows_file}")
    print(f"in sync: {len(report.in_sync)} tool(s)")
    for workflow in report.missing_from_file:
        state = "enabled" if workflow.enabled else "disabled"
        print(f"  missing from file: {workflow.name} (id {workflow.id}, {state})")
    for name in report.disabled:
        print(f"  disabled in Tray:  {name}")
    for name in report.absent_in_tray:
        print(f"  not found in Tray: {name}")
    for change in report.changed:
        print(f"  changed {change.field}: {change.tool}: file {change.in_file!r} != Tray {change.in_tray!r}")
    print("all in sync" if report.clean else "differences found")
    return 0 if report.clean else 1
