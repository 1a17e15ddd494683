"""Decompression bombs in every filter PDFium decodes for the text layer, not only Flate: LZW,
RunLength, ASCIIHex and ASCII85, chained in filter arrays, under abbreviated or #-escaped names,
behind an indirect ``/Filter`` or a dictionary padded past where a short look-back would reach.
Each is refused by name before PDFium opens the document; the same construction under the
limit opens, and the bounded decoders count exactly what PDFium reads from real content."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable

import pytest

from tests.po_parsing.hostile_pdfs import (
    _deflated_zeros,
    filtered_page_pdf,
    lzw_encode,
    lzw_zeros,
    runlength_zeros,
)
from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.domain.po.parsing.pdf_text import check_inflation, extract_pages
from tray_agent.errors import DecompressionBombError

LIMIT = 4 << 20
SETTINGS = Settings(po_max_inflated_bytes=LIMIT)


def _a85(data: bytes) -> bytes:
    return base64.a85encode(data) + b"~>"


def _hex(data: bytes) -> bytes:
    return data.hex().encode() + b">"


def _rle(data: bytes) -> bytes:
    return (
        b"".join(bytes([len(data[i : i + 128]) - 1]) + data[i : i + 128] for i in range(0, len(data), 128))
        + b"\x80"
    )


# name -> (the PDF carrying a stream of ``size`` zero bytes in that encoding)
BOMBS: dict[str, Callable[[int], bytes]] = {
    "lzw": lambda size: filtered_page_pdf(lzw_zeros(size), b"/LZWDecode"),
    "runlength": lambda size: filtered_page_pdf(runlength_zeros(size), b"/RunLengthDecode"),
    "ascii85-flate-chain": lambda size: filtered_page_pdf(
        _a85(_deflated_zeros(size)), b"[/ASCII85Decode /FlateDecode]"
    ),
    "hex-lzw-abbreviated": lambda size: filtered_page_pdf(_hex(lzw_zeros(size)), b"[/AHx /LZW]"),
    "escaped-name": lambda size: filtered_page_pdf(_deflated_zeros(size), b"/Fl#61teDecode"),
    "indirect-filter": lambda size: filtered_page_pdf(runlength_zeros(size), b"[/RL]", indirect=True),
    "padded-dictionary": lambda size: filtered_page_pdf(_deflated_zeros(size), b"/FlateDecode", pad=4000),
}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_bomb_is_refused_by_name_and_the_same_under_the_limit_opens(kind: str) -> None:
    bomb = BOMBS[kind](2 * LIMIT)
    assert len(bomb) < LIMIT // 20  # small on disk, twice the limit inflated
    with pytest.raises(DecompressionBombError, match="inflates to more than"):
        parse_purchase_order(bomb, settings=SETTINGS)
    with pytest.raises(DecompressionBombError):
        parse_purchase_order(bomb, settings=SETTINGS, prefer="layout")
    # Under the limit the same construction opens (a page of nothing: no order in it).
    order = parse_purchase_order(BOMBS[kind](LIMIT // 2), settings=SETTINGS, prefer="layout")
    assert order.lines == []


CONTENT = b"BT /F1 12 Tf 50 780 Td (PURCHASE ORDER PO-CHAIN-1 widget widget widget) Tj ET\n" * 30


@pytest.mark.parametrize(
    ("filters", "stages"),
    [
        (b"/LZWDecode", [lzw_encode]),
        (b"/RunLengthDecode", [_rle]),
        (b"/ASCIIHexDecode", [_hex]),
        (b"[/ASCII85Decode /LZWDecode]", [lzw_encode, _a85]),
        (b"[/A85 /Fl /RL]", [_rle, zlib.compress, _a85]),
    ],
)
def test_bounded_decoders_count_what_pdfium_reads(
    filters: bytes, stages: list[Callable[[bytes], bytes]]
) -> None:
    encoded = [CONTENT]
    for stage in stages:  # innermost first: the last filter in the array is applied first
        encoded.append(stage(encoded[-1]))
    pdf = filtered_page_pdf(encoded[-1], filters)
    (page,) = extract_pages(pdf, settings=Settings())
    assert "PO-CHAIN-1" in [w.text for w in page.words]  # PDFium decoded the chain we wrote
    # Every stage's output is counted: what each decoder hands on, ending with the content.
    expected = sum(len(data) for data in encoded[:-1])
    assert check_inflation(pdf, limit=1 << 30) == expected


def test_streams_that_all_run_to_the_end_of_the_file_are_refused_not_measured_forever() -> None:
    # Thousands of hex streams with no ">" end marker: each decoder reads on to the end of the
    # file (quadratic work) while little inflates (few characters of the filler are hex digits).
    pdf = filtered_page_pdf(b"", b"/FlateDecode") + b"/Filter /AHx stream\n" * 3000
    with pytest.raises(DecompressionBombError, match="overlap"):
        parse_purchase_order(pdf, settings=Settings(po_max_inflated_bytes=64 << 20), prefer="layout")


def test_a_page_declared_huge_is_rendered_smaller_not_to_a_bitmap_past_the_memory() -> None:
    from tests.po_parsing.hostile_pdfs import build_pdf
    from tray_agent.domain.po.parsing.pdf_text import render_page_png, render_pages_png

    # 200 inches square (the most PDF allows): 484 million pixels at 110 dpi.
    pdf = build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",
        ]
    )
    (png,) = render_pages_png(pdf, settings=Settings())
    viewed, pages = render_page_png(pdf, 1, settings=Settings(), dpi=150)
    for image in (png, viewed):
        width, height = int.from_bytes(image[16:20]), int.from_bytes(image[20:24])  # IHDR
        assert width == height and 30e6 <= width * height <= 40.1e6  # the cap, give or take rounding
    assert pages == 1
