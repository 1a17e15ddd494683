"""``tray-agent llm check`` and ``tray-agent eval decisions``: is the model set up, and does it
decide well enough to be trusted?

Both use the usual settings (``OPENAI_MODEL``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
``TRAY_AGENT_LLM_PROVIDER``, ...). ``llm check`` exits 0 when everything the agent needs works,
1 otherwise. ``eval decisions`` exits 0 when no unsafe action was proposed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    llm = subparsers.add_parser("llm", help="the model endpoint")
    commands = llm.add_subparsers(dest="llm_command", required=True)
    check = commands.add_parser("check", help="auth, model, tools, structured output, vision: one line each")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=_check)

    evaluate = subparsers.add_parser("eval", help="evaluate the agent on labelled data")
    what = evaluate.add_subparsers(dest="eval_command", required=True)
    decisions = what.add_parser("decisions", help="score a brain on the labelled decision set")
    decisions.add_argument(
        "--brain",
        choices=("policy", "model", "both"),
        default="policy",
        help="which brain decides (default policy)",
    )
    decisions.add_argument(
        "--cases", type=Path, default=None, help="labelled cases (default: the bundled set)"
    )
    decisions.add_argument("--limit", type=int, default=None, help="only the first N cases")
    decisions.add_argument("--json", action="store_true", help="print the report as JSON")
    decisions.set_defaults(func=_eval_decisions)


def _api_key(settings: Any) -> str:
    if settings.openai_api_key_secret_name and not settings.openai_api_key:
        from tray_agent.data.secrets import read_secret

        return str(read_secret(settings.openai_api_key_secret_name))
    return str(settings.openai_api_key)


def _check(args: argparse.Namespace) -> int:
    from tray_agent.config import settings_from_env
    from tray_agent.llm_check import run_check

    settings = settings_from_env()
    report = run_check(settings, _api_key(settings))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(f"profile: {report.profile}")
        for line in report.lines:
            print(line)
        print("model ready" if report.ok else "model NOT ready")
    return 0 if report.ok else 1


def _eval_decisions(args: argparse.Namespace) -> int:
    from tray_agent.config import settings_from_env
    from tray_local.eval_decisions import DEFAULT_CASES, BrainName, evaluate, load_cases

    settings = settings_from_env()
    cases = load_cases(args.cases or DEFAULT_CASES)[: args.limit]
    brains: list[BrainName] = ["policy", "model"] if args.brain == "both" else [args.brain]
    reports = [evaluate(cases, settings, brain=brain, api_key=_api_key(settings)) for brain in brains]
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        for report in reports:
            print(report.render())
    return 0 if all(r.unsafe == 0 for r in reports) else 1
