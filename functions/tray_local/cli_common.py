"""What every ``tray-agent`` command shares: expected failures, ``--output``, AWS options.

An expected failure is one line on stderr and an exit code, never a traceback: 2 for a usage
problem (a bad flag, a missing setting), 1 for a failure (refused, unreachable, drift).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

EXIT_FAILED = 1
EXIT_USAGE = 2


class CommandFailedError(Exception):
    """An expected failure of a command: its message is the one line the user sees."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.exit_code = EXIT_USAGE if usage else EXIT_FAILED


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        "-o",
        choices=("table", "json"),
        default="table",
        help="table (for people, the default) or json (for scripts)",
    )


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION / your profile's)")
    parser.add_argument("--profile", default=None, help="AWS named profile (default: AWS_PROFILE)")


def aws_session(region: str | None, profile: str | None) -> Any:
    """A boto3 session for the deployed stack; a missing region or profile is a one-line error."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(region_name=region, profile_name=profile)
    except ProfileNotFound:
        message = f"AWS profile {profile!r} not found (see ~/.aws/config)"
        raise CommandFailedError(message, usage=True) from None
    if not session.region_name:
        raise CommandFailedError("no AWS region: pass --region or set AWS_REGION", usage=True)
    return session


def apply_aws_options(args: argparse.Namespace) -> None:
    """Make ``--region`` / ``--profile`` the defaults of every boto3 client this command makes."""
    import os

    region, profile = getattr(args, "region", None), getattr(args, "profile", None)
    if profile:
        os.environ["AWS_PROFILE"] = profile
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    aws_session(region, profile)  # fail now, in one line, rather than at the first call


def print_output(output: str, value: Any, rows: Sequence[tuple[str, Any]] | None = None) -> None:
    """``json``: the value as JSON; ``table``: the given (label, value) rows, aligned."""
    if output == "json" or rows is None:
        print(json.dumps(value, indent=2, default=str))
        return
    width = max((len(label) for label, _ in rows), default=0)
    for label, item in rows:
        if item is None or item in ("", []):
            continue
        shown = ", ".join(map(str, item)) if isinstance(item, list) else item
        print(f"{label.ljust(width)}  {shown}")


def print_table(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Records as a table with the given columns (missing values empty)."""
    cells = [list(columns)] + [
        [str(record.get(c)) if record.get(c) is not None else "" for c in columns] for record in records
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
