"""The CLI as people know it: --version, help with examples, one-line errors with exit 2 or 1."""

from __future__ import annotations

import pytest

from tests.serve.conftest import tray_agent


def test_version_and_help_name_every_command_with_an_example() -> None:
    version = tray_agent("--version")
    assert version.returncode == 0 and version.stdout.startswith("tray-agent ")
    for command in (["serve"], ["send"], ["drop"], ["monitor"], ["catalog", "load"], ["tools", "sync"]):
        shown = tray_agent(*command, "--help")
        assert shown.returncode == 0
        assert "example" in shown.stdout, command


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["catalog", "load", "functions/tray_local/demo_catalog.csv"], 2, "no AWS region"),
        (["catalog", "load", "no-such.csv", "--region", "eu-west-1"], 2, "cannot read no-such.csv"),
        (["tools", "sync"], 2, "no Tray token"),
        (["send"], 2, "give an event file"),
        (["send", "--type", "lead.created", "--data", "[1]"], 2, "--data must be a JSON object"),
        (["send", "--api-url", "https://api.example.com", "--type", "x"], 2, "no signing secret"),
        (["send", "--api-url", "http://127.0.0.1:9", "--type", "lead.created"], 1, "cannot reach"),
        (["drop", "README.md"], 2, "drop a .pdf or an .eml"),
        (["drop", "examples/po-acme-0412.pdf", "--state-dir", "/nonexistent"], 1, "no local tray-agent"),
        (["no-such-command"], 2, "invalid choice"),
    ],
)
def test_expected_failures_are_one_line_on_stderr(args: list[str], code: int, says: str) -> None:
    result = tray_agent(*args)
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # argparse adds its usage line
