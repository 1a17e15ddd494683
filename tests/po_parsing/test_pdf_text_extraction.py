"""The fast text-layer loop in ``pdf_text`` gives exactly the words of the plain reference below
(the straightforward per-character reading it replaced: pypdfium2's checked bindings, one object
per character, words grouped afterwards), on generated orders in every layout, a text layer with
surrogates and soft hyphens, and the real samples when ``shared/`` is beside the repository."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.po_corpus.generator import build_corpus
from tests.po_parsing.hostile_pdfs import surrogate_po
from tray_agent.config import Settings
from tray_agent.domain.po.parsing.pdf_text import PAGE_GAP, extract_pages
from tray_agent.domain.po.sanitize import REPLACEMENT

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
_Char = tuple[str, float, float, float, float, float]  # text, x0, x1, top, bottom, size


def _reference_chars(page: Any, page_height: float, offset: float) -> list[_Char]:
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        box = pdfium_c.FS_RECTF()
        origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
        chars: list[_Char] = []
        pending_high: int | None = None
        for i in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
            if code in (0, 2, 0xFFFE, 0xFFFF):
                continue
            if 0xD800 <= code < 0xDC00:
                pending_high = code
                continue
            if 0xDC00 <= code < 0xE000:
                high = pending_high
                pair = None if high is None else 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                text = REPLACEMENT if pair is None else chr(pair)
                pending_high = None
            else:
                pending_high = None
                text = chr(code)
            if text.isspace():
                chars.append((" ", 0, 0, 0, 0, 0))
                continue
            pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, i, box)
            size = (box.top - box.bottom) or pdfium_c.FPDFText_GetFontSize(textpage.raw, i)
            pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, origin_x, origin_y)
            baseline = offset + page_height - origin_y.value
            chars.append((text, box.left, box.right, baseline - 0.75 * size, baseline + 0.2 * size, size))
        return chars
    finally:
        textpage.close()


def _reference_words(chars: list[_Char], page: int) -> list[tuple[Any, ...]]:
    words: list[tuple[Any, ...]] = []
    current: list[_Char] = []

    def flush() -> None:
        if current:
            words.append(
                (
                    "".join(c[0] for c in current),
                    min(c[1] for c in current),
                    max(c[2] for c in current),
                    min(c[3] for c in current),
                    max(c[4] for c in current),
                    max(c[5] for c in current),
                    page,
                )
            )
            current.clear()

    for char in chars:
        if char[0] == " ":
            flush()
            continue
        if current:
            last = current[-1]
            larger = max(last[5], char[5])
            gap = char[1] - last[2]
            if not abs(char[4] - last[4]) < larger * 0.5 or gap > larger * 0.25 or gap < -last[5]:
                flush()
        current.append(char)
    flush()
    return words


def _reference(data: bytes) -> list[tuple[Any, ...]]:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        pages: list[tuple[Any, ...]] = []
        offset = 0.0
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            chars = _reference_chars(page, height, offset)
            visible = sum(1 for c in chars if c[0] != " ")
            pages.append((index, width, height, offset, visible, _reference_words(chars, index)))
            offset += height + PAGE_GAP
        return pages
    finally:
        document.close()


def _fast(data: bytes) -> list[tuple[Any, ...]]:
    return [
        (
            p.index,
            p.width,
            p.height,
            p.offset,
            p.char_count,
            [(w.text, w.x0, w.x1, w.top, w.bottom, w.size, w.page) for w in p.words],
        )
        for p in extract_pages(data, settings=Settings())
    ]


def _documents() -> list[tuple[str, bytes]]:
    documents = [(d.name, d.pdf) for d in build_corpus(seed=11, per_layout=1)]
    documents.append(("surrogates", surrogate_po()))
    documents += [(p.name, p.read_bytes()) for p in sorted(SHARED.glob("samples/**/*.pdf"))]
    documents += [(p.name, p.read_bytes()) for p in sorted(SHARED.glob("corpus/zugferd-v2/**/*.pdf"))[::8]]
    return documents


@pytest.mark.parametrize(("name", "data"), _documents(), ids=lambda v: v if isinstance(v, str) else "")
def test_fast_text_layer_equals_the_reference_reading(name: str, data: bytes) -> None:
    reference = _reference(data)
    assert sum(len(page[5]) for page in reference) > 0, name  # the document has words to compare
    assert _fast(data) == reference
