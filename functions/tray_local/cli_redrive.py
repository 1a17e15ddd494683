"""``tray-agent redrive``: list dead letters, or re-submit them to the functions they failed in.

Uses the queues and functions named by ``TRAY_AGENT_FAILED_INVOCATIONS_QUEUE``,
``TRAY_AGENT_UNDELIVERED_EVENTS_QUEUE``, ``TRAY_AGENT_PO_INTAKE_FUNCTION_NAME`` and
``TRAY_AGENT_MONITOR_FUNCTION_NAME`` (the stack's outputs) with the AWS credentials in the
environment, or moto's queues and our in-process handlers inside the local environment and tests.
The same domain code as ``POST /dead-letters/redrive``: a message leaves its queue only once
Lambda accepted the re-submission.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tray_local.cli_common import add_aws_options, add_output_option, apply_aws_options


def register(subparsers: Any) -> None:
    from tray_agent.models.dead_letters import DeadLetterQueue

    parser = subparsers.add_parser(
        "redrive",
        help="re-submit dead letters (failed async invocations, undelivered EventBridge events)",
        description="Re-submit dead letters to the functions they failed in; --list only shows them.",
        epilog="examples:\n  tray-agent redrive --list --region eu-west-1\n"
        "  tray-agent redrive --queue failed_invocations --message-id 3f2a… --output json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", action="store_true", help="only list what is waiting; change nothing")
    parser.add_argument(
        "--queue", choices=[q.value for q in DeadLetterQueue], default=None, help="one queue (default: both)"
    )
    parser.add_argument(
        "--message-id",
        action="append",
        dest="message_ids",
        default=None,
        help="only this message (repeatable)",
    )
    parser.add_argument(
        "--limit", type=int, default=100, help="read at most this many messages (default 100)"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # before --output json
    add_output_option(parser)
    add_aws_options(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    apply_aws_options(args)
    from pydantic import ValidationError

    from tray_agent.config import get_settings
    from tray_agent.domain.redrive import build_dead_letter_service
    from tray_agent.errors import TrayAgentError
    from tray_agent.models.dead_letters import DeadLetterQueue, RedriveRequest, RedriveStatus

    queue = DeadLetterQueue(args.queue) if args.queue else None
    try:
        service = build_dead_letter_service(get_settings())
        if args.list:
            listing = service.list_letters(queue, min(args.limit, 100))
            if args.json:
                print(listing.model_dump_json(indent=2))
            else:
                for entry in listing.queues:
                    print(f"{entry.queue.value}: {entry.waiting} waiting")
                    for letter in entry.letters:
                        note = f"  [cannot redrive: {letter.problem}]" if letter.problem else ""
                        print(f"  {letter.message_id}  {letter.function or '-'}  {letter.reason}{note}")
            return 0
        request = RedriveRequest(queue=queue, message_ids=args.message_ids, limit=args.limit)
        report = service.redrive(request, requested_by="cli")
    except ValidationError as exc:
        print(f"redrive: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
        return 2
    except TrayAgentError as exc:
        print(f"redrive: {exc.message}")
        return 2
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        for result in report.results:
            where = result.queue.value if result.queue else "-"
            line = f"{result.status.value:<9} {where}  {result.message_id}  {result.function or '-'}"
            print(line + (f"  ({result.reason})" if result.reason else ""))
        print(f"{report.redriven} redriven, {report.failed} failed")
    return 1 if any(r.status is RedriveStatus.FAILED for r in report.results) else 0
