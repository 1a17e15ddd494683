"""Any input: surrogates in the text layer through the CLI into a pipe, decompression bombs
refused by name within the Parse function's memory (1,536 MB), never an abort."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.po_parsing.hostile_pdfs import bomb_pdf, filtered_page_pdf, lzw_zeros, surrogate_po
from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.domain.po.parsing.email_intake import extract_pdfs_from_email
from tray_agent.domain.po.sanitize import clean_text
from tray_agent.errors import DecompressionBombError

ROOT = Path(__file__).resolve().parents[2]
PARSE_FUNCTION_MEMORY = 1536 * 1024 * 1024  # infra: the Parse Lambda's memory_size


def _cli(*args: str, memory: int | None = None) -> subprocess.CompletedProcess[bytes]:
    """``tray-agent parse-po`` in a child process, its output to a pipe (not a terminal)."""

    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    env.pop("PYTHONIOENCODING", None)
    return subprocess.run(
        [sys.executable, "-m", "tray_local.cli", "parse-po", *args],
        capture_output=True,
        env=env,
        preexec_fn=limit,
        timeout=120,
        check=False,
    )


def test_clean_text_joins_pairs_and_replaces_lone_halves() -> None:
    assert clean_text("a\ud83d\ude00b") == "a\U0001f600b"
    assert clean_text("x\ud83dy\ude00") == "x\ufffdy\ufffd"
    assert clean_text("tab\tok\x00") == "tab\tok\ufffd"
    clean_text("\ud800" * 3).encode("utf-8")  # encodable, whatever came in


@pytest.mark.parametrize("as_json", [False, True])
def test_surrogates_in_an_address_through_the_cli_to_a_pipe(tmp_path: Path, as_json: bool) -> None:
    path = tmp_path / "surrogate.pdf"
    path.write_bytes(surrogate_po())
    result = _cli(str(path), *(["--json", "--parser", "layout"] if as_json else ["--parser", "layout"]))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = result.stdout.decode("utf-8")  # valid UTF-8: nothing half-encoded reached the pipe
    assert "PO-SURR-1" in out
    if as_json:
        order = json.loads(out)
        assert order["po_number"] == "PO-SURR-1"
        json.dumps(order).encode("utf-8")


def test_parsed_order_never_carries_a_surrogate() -> None:
    order = parse_purchase_order(surrogate_po(), settings=Settings(), prefer="layout")
    order.model_dump_json().encode("utf-8")
    text = json.dumps(order.model_dump(mode="json"), ensure_ascii=False)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def test_email_attachment_name_with_undecodable_bytes_is_cleaned() -> None:
    raw = (
        b"From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b'--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="PO-\xff\xfe.pdf"\r\n'  # noqa: E501
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n"
    )
    ((name, _),) = extract_pdfs_from_email(raw)
    name.encode("utf-8")


@pytest.mark.parametrize("inflated_mb", [512, 1024])
def test_decompression_bomb_is_refused_by_name_within_the_parse_functions_memory(
    tmp_path: Path, inflated_mb: int
) -> None:
    path = tmp_path / f"bomb-{inflated_mb}.pdf"
    path.write_bytes(bomb_pdf(inflated_mb << 20))
    assert path.stat().st_size < 1100 * 1024  # a small file...
    result = _cli(str(path), memory=PARSE_FUNCTION_MEMORY)
    # ...refused by name with the CLI's exit code for bad input, not killed by a signal or an abort.
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert b"DecompressionBombError" in result.stderr


def test_bomb_check_raises_before_pdfium_sees_the_document() -> None:
    with pytest.raises(DecompressionBombError, match="inflates to more than"):
        parse_purchase_order(bomb_pdf(64 << 20), settings=Settings(po_max_inflated_bytes=32 << 20))
    # Under the limit, the same document opens (it is a page of blanks: no order in it).
    order = parse_purchase_order(bomb_pdf(8 << 20), settings=Settings(po_max_inflated_bytes=32 << 20))
    assert order.lines == []


def test_lzw_bomb_is_refused_by_name_within_the_parse_functions_memory(tmp_path: Path) -> None:
    # 1 GB of zeros in LZW is a 1 MB file; the check decodes it in bounded steps, never whole.
    path = tmp_path / "bomb-lzw.pdf"
    path.write_bytes(filtered_page_pdf(lzw_zeros(1 << 30), b"/LZWDecode"))
    assert path.stat().st_size < 1300 * 1024
    result = _cli(str(path), memory=PARSE_FUNCTION_MEMORY)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert b"DecompressionBombError" in result.stderr
