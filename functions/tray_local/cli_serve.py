"""``tray-agent serve``, ``send`` and ``drop``: run the product locally; talk to it or to a deployed one."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tray_local.cli_common import (
    CommandFailedError,
    add_aws_options,
    add_output_option,
    aws_session,
    print_output,
)
from tray_local.serve import DEFAULT_API_URL, DEFAULT_PORT, INBOX_PREFIX, INFO_FILE, default_state_dir

SERVE_EXAMPLE = """example:
  tray-agent serve                      # API on http://127.0.0.1:8765, state kept between runs
  tray-agent serve --fresh --port 9000  # start empty, on another port
"""
SEND_EXAMPLE = """examples:
  tray-agent send --type lead.created --source hubspot --data '{"email": "ann@smallco.io"}'
  tray-agent send event.json
  cat event.json | tray-agent send -
  tray-agent send --api-url https://abc.execute-api.eu-west-1.amazonaws.com \\
      --signing-secret-name TrayAgentSigning --region eu-west-1 event.json
"""
DROP_EXAMPLE = """examples:
  tray-agent drop po.pdf                 # into the local inbox of `tray-agent serve`
  tray-agent drop order.eml --output json
  tray-agent drop po.pdf --bucket my-po-drops --api-url https://abc.execute-api.eu-west-1.amazonaws.com
"""


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the whole product on 127.0.0.1 (API, AWS in moto, Tray simulator, monitor)",
        description="Run the API, local AWS (moto), the Tray simulator, the PO pipeline and the "
        "scheduled monitor on this machine until Ctrl-C.",
        epilog=SERVE_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"API port (default {DEFAULT_PORT})")
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"where state is kept between runs (default {default_state_dir()})",
    )
    serve.add_argument("--fresh", action="store_true", help="start with empty state")
    serve.add_argument(
        "--aws-port", type=int, default=0, help="port of moto's server for the AWS CLI (default: any free)"
    )
    serve.add_argument(
        "--monitor-every", type=float, default=60.0, metavar="SECONDS", help="monitor tick interval (60)"
    )
    serve.add_argument("--verbose", action="store_true", help="show the handlers' structured logs")
    serve.set_defaults(func=_serve)

    for name, example, summary in (
        ("send", SEND_EXAMPLE, "sign and send an event to the API; print the decision"),
        ("drop", DROP_EXAMPLE, "drop a PO (PDF or .eml) into the inbox; follow it to its outcome"),
    ):
        parser = subparsers.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=example,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument(
            "--api-url",
            default=os.environ.get("TRAY_AGENT_API_URL", DEFAULT_API_URL),
            help=f"the API (default: TRAY_AGENT_API_URL or {DEFAULT_API_URL})",
        )
        add_output_option(parser)
        add_aws_options(parser)
        if name == "send":
            _send_arguments(parser)
        else:
            _drop_arguments(parser)


def _send_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="the event as JSON: a file, or - for stdin")
    parser.add_argument("--id", help="event id (default: a new one)")
    parser.add_argument("--type", help="event type, e.g. lead.created, order.created, ticket.created")
    parser.add_argument("--source", default="cli", help="who sends it (default: cli)")
    parser.add_argument("--customer-id", help="the customer the event is about")
    parser.add_argument("--data", help="the event's data as a JSON object")
    parser.add_argument("--signing-secret-name", help="Secrets Manager secret with the HMAC key (deployed)")
    parser.set_defaults(func=_send)


def _drop_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a PO as PDF, or an e-mail (.eml) with PDF attachments")
    parser.add_argument("--state-dir", type=Path, default=None, help="the serve state dir (local drops)")
    parser.add_argument("--bucket", help="a deployed stack's PO drop bucket (default: the local inbox)")
    parser.add_argument("--wait", type=float, default=120, metavar="SECONDS", help="how long to follow")
    parser.add_argument("--reviewer-tokens-secret-name", help="Secrets Manager secret with reviewer tokens")
    parser.add_argument("--reviewer", help="whose token to use from that secret (default: the first)")
    parser.add_argument(
        "--id-token", help="a signed-in reviewer's Cognito ID token (a stack deployed with reviewer sign-in)"
    )
    parser.set_defaults(func=_drop)


def _serve(args: argparse.Namespace) -> int:
    if not args.verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    from tray_agent.observability import logger
    from tray_local.serve import banner, start_local_product

    if not args.verbose:
        logger.setLevel("WARNING")
    if not 0 <= args.port <= 65535:
        raise CommandFailedError(f"--port {args.port} is not a port number", usage=True)
    print("starting tray-agent (the first start synthesizes the CDK app: ~15 s) …", flush=True)
    try:
        product = start_local_product(
            args.state_dir,
            fresh=args.fresh,
            port=args.port,
            monitor_every_s=args.monitor_every,
            aws_port=args.aws_port,
        )
    except OSError as exc:
        raise CommandFailedError(f"cannot start: {exc.strerror or exc}") from None
    stop = threading.Event()
    # SIGTERM (a service manager, a test) stops as Ctrl-C does: state saved, ports released.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(banner(product), flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping: saving state …", flush=True)
        product.stop()
    return 0


def _credentials(args: argparse.Namespace) -> Any:
    from tray_local.send import Credentials

    return Credentials(
        api_url=args.api_url,
        region=args.region,
        profile=args.profile,
        signing_secret_name=getattr(args, "signing_secret_name", None),
        reviewer_tokens_secret_name=getattr(args, "reviewer_tokens_secret_name", None),
        reviewer=getattr(args, "reviewer", None),
        id_token=getattr(args, "id_token", None),
    )


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandFailedError(f"{what} is not JSON: {exc}", usage=True) from None
    if not isinstance(value, dict):
        raise CommandFailedError(f"{what} must be a JSON object", usage=True)
    return value


def _event_from(args: argparse.Namespace) -> dict[str, Any]:
    from tray_local.serve import new_event_id

    if args.file:
        if args.file == "-":
            event = _json_object(sys.stdin.read(), "stdin")
        else:
            try:
                event = _json_object(Path(args.file).read_text(), args.file)
            except OSError as exc:
                raise CommandFailedError(f"cannot read {args.file}: {exc.strerror}", usage=True) from None
    else:
        if not args.type:
            raise CommandFailedError("give an event file, - for stdin, or at least --type", usage=True)
        event = {"data": _json_object(args.data, "--data") if args.data else {}}
    for key, value in (("id", args.id), ("type", args.type), ("customer_id", args.customer_id)):
        if value:
            event[key] = value
    if not args.file or args.source != "cli":
        event.setdefault("source", args.source)
    event.setdefault("id", new_event_id())
    event.setdefault("occurred_at", datetime.now(UTC).isoformat())
    return event


def _send(args: argparse.Namespace) -> int:
    from tray_local.send import describe_error, post_event

    event = _event_from(args)
    answer = post_event(_credentials(args), event)
    if answer.status >= 400:
        raise CommandFailedError(describe_error(answer))
    body = answer.body if isinstance(answer.body, dict) else {"answer": answer.body}
    print_output(
        args.output,
        body,
        [
            ("event", event["id"]),
            ("action", body.get("action")),
            ("workflow", body.get("workflow")),
            ("execution", body.get("execution_id")),
            ("status", body.get("status")),
            ("reason", body.get("reason")),
            ("decision", body.get("decision_id")),
            ("audit", f"GET {args.api_url.rstrip('/')}/decisions/{body.get('decision_id')}"),
        ],
    )
    return 0


def _local_inbox(args: argparse.Namespace) -> tuple[Path, str]:
    state_dir = (args.state_dir or default_state_dir()).expanduser()
    info_file = state_dir / INFO_FILE
    if not info_file.exists():
        raise CommandFailedError(
            f"no local tray-agent serve found (no {info_file}): start `tray-agent serve`, "
            "or pass --bucket for a deployed stack"
        )
    info = json.loads(info_file.read_text())
    return Path(info["inbox"]), str(info["po_bucket"])


def _drop(args: argparse.Namespace) -> int:
    from tray_local.send import follow_intake

    path: Path = args.file
    if not path.is_file():
        raise CommandFailedError(f"cannot read {path}: no such file", usage=True)
    if path.suffix.lower() not in (".pdf", ".eml"):
        raise CommandFailedError(f"{path.name}: drop a .pdf or an .eml", usage=True)
    key = f"{INBOX_PREFIX}{path.name}"
    credentials = _credentials(args)
    credentials.reviewer_headers_and_prefix()  # no credentials: say so before dropping anything
    if args.bucket:
        bucket = args.bucket
        aws_session(args.region, args.profile).client("s3").upload_file(str(path), bucket, key)
    else:
        inbox, bucket = _local_inbox(args)
        temporary = inbox / f".{path.name}.part"  # the inbox skips dot files: never half a file
        shutil.copyfile(path, temporary)
        temporary.replace(inbox / path.name)
    if args.output == "table":
        print(f"dropped s3://{bucket}/{key}; following it …", flush=True)
    records = follow_intake(credentials, bucket, key, timeout_s=args.wait)
    if args.output == "json":
        print(json.dumps(records, indent=2))
    else:
        for record in records:
            print_output(
                "table",
                record,
                [
                    ("intake", record.get("intake_id")),
                    ("file", record.get("filename")),
                    ("status", record.get("status")),
                    ("po", record.get("po_number")),
                    ("buyer", record.get("buyer")),
                    ("reason", record.get("reason")),
                    ("findings", record.get("findings")),
                    ("review", record.get("review_id")),
                    ("order execution", record.get("order_execution_id")),
                ],
            )
    return 0 if all(r.get("status") != "failed" for r in records) else 1
