"""``tray-agent parse-po FILE [--json]``: read a purchase order from a PDF or a raw .eml message.

``tray-agent po rerun ID``: re-run a failed PO from its original document (a new execution),
against the intake table and state machine named by ``TRAY_AGENT_PO_INTAKE_TABLE`` and
``TRAY_AGENT_PO_STATE_MACHINE_ARN`` with the AWS credentials in the environment (the deployed
stack), or moto inside the local environment and tests. The API's ``POST /po/intake/{id}/rerun``
does the same with a reviewer token.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tray_agent.config import get_settings
from tray_agent.domain.po.parsing import extract_pdfs_from_email, parse_purchase_order
from tray_agent.domain.po.parsing.email_intake import extract_xml_from_email, xml_beside
from tray_agent.errors import NotAPurchaseOrderError, TrayAgentError
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.observability import logger
from tray_local.cli_common import add_aws_options, add_output_option, apply_aws_options

EML_SUFFIXES = (".eml", ".mime", ".msg")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "parse-po",
        help="read a purchase order from a PDF or a raw email (.eml, as SES stores it)",
        description="Print the purchase order in FILE: a PDF, or an email whose PDF attachments are read.",
        epilog="examples:\n  tray-agent parse-po examples/po-acme-0412.pdf\n"
        "  tray-agent parse-po examples/po-brightline-77812.eml --output json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # before --output json
    add_output_option(parser)
    parser.add_argument(
        "--parser",
        choices=("auto", "layout", "llm", "vision", "embedded-xml"),
        default="auto",
        help="auto: structured data (XML in or beside the PDF) first, then layout when the PDF has "
        "text, the model when that is not confident (default); layout: the text layer only; "
        "embedded-xml: the structured data only",
    )
    parser.set_defaults(func=_run)

    po = subparsers.add_parser("po", help="operate on purchase orders in the pipeline")
    po_commands = po.add_subparsers(dest="po_command", required=True)
    rerun = po_commands.add_parser(
        "rerun",
        help="re-run a failed PO from its original document",
        description="Start a new execution for a failed PO intake (409-like refusal unless it failed).",
        epilog="example:\n  tray-agent po rerun po-5f99…7abc --by ann --region eu-west-1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rerun.add_argument("intake_id", help="the intake id (GET /po/intake/... shows it)")
    rerun.add_argument("--by", default=None, help="who asks (recorded on the intake; default: cli:$USER)")
    add_aws_options(rerun)
    rerun.set_defaults(func=_rerun)


def _run(args: argparse.Namespace) -> int:
    logger.setLevel("WARNING")  # structured INFO logs would interleave with the printed order
    # Whatever a document holds, printing it never fails: parsed text is already clean (lone
    # surrogates replaced), and a file name from the file system may not be; a pipe's encoding
    # may not be UTF-8 at all.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        settings = get_settings()
        raw = args.file.read_bytes()
        xmls: list[tuple[str, bytes]] = []
        if _is_email(args.file, raw):
            documents = extract_pdfs_from_email(raw, max_bytes=2 * settings.po_max_bytes)
            if not documents:
                raise NotAPurchaseOrderError(f"{args.file.name} has no PDF attachment")
            xmls = extract_xml_from_email(raw, max_bytes=2 * settings.po_max_bytes)
        else:
            documents = [(args.file.name, raw)]
        orders = [
            (
                name,
                parse_purchase_order(
                    pdf,
                    settings=settings,
                    prefer=args.parser,
                    beside=xml_beside(name, len(documents), xmls),
                ),
            )
            for name, pdf in documents
        ]
    except OSError as exc:
        print(f"parse-po: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except TrayAgentError as exc:
        print(f"parse-po: {exc.__class__.__name__}: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        payloads = [order.model_dump(mode="json") for _, order in orders]
        print(json.dumps(payloads[0] if len(payloads) == 1 else payloads, indent=2, ensure_ascii=False))
    else:
        for name, order in orders:
            print(_describe(name, order, settings.review_confidence_threshold))
    return 0


def _is_email(path: Path, raw: bytes) -> bool:
    if path.suffix.lower() in EML_SUFFIXES:
        return True
    head = raw[:2048].lstrip()
    return not head.startswith(b"%PDF") and b"MIME-Version:" in head


def _describe(name: str, order: PurchaseOrder, threshold: float) -> str:
    currency = order.currency or ""
    rows = [
        f"== {name}  (parser: {order.parser}"
        + (f" [{order.source_format}]" if order.source_format else "")
        + f", confidence {order.overall_confidence:.2f}, "
        f"{'NEEDS REVIEW' if order.needs_review(threshold) else 'ok'})",
        f"PO number:     {order.po_number or '-'}",
        f"Order date:    {order.order_date or '-'}    Delivery date: {order.delivery_date or '-'}",
        f"Buyer:         {order.buyer.name or '-'}"
        + (f" <{order.buyer.email}>" if order.buyer.email else ""),
        f"Vendor:        {order.vendor.name or '-'}",
        f"Ship to:       {order.ship_to or '-'}",
        f"Payment terms: {order.payment_terms or '-'}",
        "",
        f"{'#':>3}  {'SKU':<14} {'Description':<44} {'Qty':>9} {'Unit price':>12} {'Amount':>13}",
    ]
    for number, line in enumerate(order.lines, start=1):
        description = (line.description or "")[:44]
        rows.append(
            f"{number:>3}  {(line.sku or '')[:14]:<14} {description:<44} {line.quantity!s:>9} "
            f"{_money(line.unit_price):>12} {_money(line.amount):>13}"
        )
    for label, value in (("Subtotal", order.subtotal), ("Tax", order.tax), ("Shipping", order.shipping)):
        if value is not None:
            rows.append(f"{label:>86} {_money(value):>13}")
    rows.append(f"{'Total ' + currency:>86} {_money(order.total):>13}")
    rows += [f"warning: {warning}" for warning in order.warnings]
    rows += [f"cross-check: {note}" for note in order.cross_check]
    rows += [f"correction applied: {note}" for note in order.corrections_applied]
    return "\n".join(rows)


def _money(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def _rerun(args: argparse.Namespace) -> int:
    import getpass

    from tray_agent.domain.po.rerun import build_rerun_service

    apply_aws_options(args)
    logger.setLevel("WARNING")
    requested_by = args.by or f"cli:{getpass.getuser()}"
    try:
        answer = build_rerun_service(get_settings()).rerun(args.intake_id, requested_by=requested_by)
    except TrayAgentError as exc:
        print(f"po rerun: {exc.__class__.__name__}: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps(answer.model_dump(mode="json"), indent=2))
    return 0
