"""The PDF's text layer as positioned words, and pages as images, via pypdfium2.

pypdfium2 was measured against pdfplumber on the shared samples: about 10x faster per page
(pdfplumber's pure-Python pdfminer is below the 20 pages/s target) and lighter at import. It is
imported lazily: the Lambda that never parses a PDF never pays for it.

Coordinates are turned top-down (``top`` grows down the page) and pages are stacked, so a
document is one long sheet: ``top`` of page 2 starts below the bottom of page 1.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import hashlib
import math
import re
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tray_agent.config import Settings
from tray_agent.domain.po.sanitize import REPLACEMENT, clean_text
from tray_agent.errors import (
    CorruptDocumentError,
    DecompressionBombError,
    DocumentTooLargeError,
    EncryptedDocumentError,
    NotFoundError,
)

if TYPE_CHECKING:
    import pypdfium2

# Characters-per-page below which a page counts as having no usable text layer (scans carry
# none, or only a few stray marks from an invisible OCR layer that is empty).
MIN_TEXT_CHARS_PER_PAGE = 20
PAGE_GAP = 20.0  # points inserted between stacked pages, so lines never merge across pages
_PDFIUM_PASSWORD_ERROR = 4


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    page: int

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class PageText:
    index: int
    width: float
    height: float
    offset: float  # top of this page on the stacked sheet
    words: tuple[Word, ...]
    char_count: int


# PDFium is not thread-safe: two documents handled at once in one process can crash it. Lambda
# runs one invocation per process, but local runs (moto executes state machines in threads) and
# any threaded caller do not, so every use of a document holds this lock. Uncontended in Lambda.
_PDFIUM_LOCK = threading.RLock()


@contextmanager
def open_pdf(data: bytes, *, settings: Settings) -> Iterator[pypdfium2.PdfDocument]:
    """Open a PDF within the limits, turning every failure into a named error.

    The caller uses the document only inside the ``with`` block, which holds the PDFium lock.
    """
    with _PDFIUM_LOCK:
        yield from _open_pdf(data, settings=settings)


def _open_pdf(data: bytes, *, settings: Settings) -> Iterator[pypdfium2.PdfDocument]:
    import pypdfium2 as pdfium

    if len(data) > settings.po_max_bytes:
        raise DocumentTooLargeError(
            f"document is {len(data)} bytes, the limit is {settings.po_max_bytes}",
            details={"bytes": len(data), "limit": settings.po_max_bytes},
        )
    if b"%PDF" not in data[:1024]:
        raise CorruptDocumentError("not a PDF: the %PDF header is missing")
    check_inflation(data, limit=settings.po_max_inflated_bytes)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
            raise EncryptedDocumentError("the PDF is password-protected") from exc
        raise CorruptDocumentError(f"the PDF cannot be read: {exc}") from exc
    try:
        pages = len(document)
        if pages == 0:
            raise CorruptDocumentError("the PDF has no pages")
        if pages > settings.po_max_pages:
            raise DocumentTooLargeError(
                f"document has {pages} pages, the limit is {settings.po_max_pages}",
                details={"pages": pages, "limit": settings.po_max_pages},
            )
        yield document
    finally:
        document.close()


# -- decompression bombs ---------------------------------------------------------------------------
# PDFium decodes a stream whole, in memory, when it needs it: a 500 KB stream of zeros that
# inflates to 1 GB takes the process down (an abort, not an exception). Every stream with a
# decodable filter chain (Flate, LZW, RunLength, ASCIIHex, ASCII85, in any order and nesting)
# is therefore decoded here first, through bounded streaming decoders that hand on at most
# ``_DECODE_STEP`` bytes at a time and drop them once counted, so memory stays flat and the
# document is refused by name as soon as the total passes the limit. Every stage of a chain
# counts (PDFium holds each stage's output in turn). Image-only filters (DCT, JPX, JBIG2,
# CCITT) end a chain: PDFium decodes them only to render, never for the text layer.
#
# Why in-process, not a bounded child process: a Lambda runs one invocation per process with a
# fixed memory size, so the bounded decoders keep the Parse function within it at no start-up
# cost; a forked child would double the cold path (a new interpreter and PDFium per document),
# fork a runtime that has threads (boto3, the Powertools flush), and RLIMIT_AS bounds address
# space, not memory, so its limit would have to be guessed per platform. A refusal is a named
# error the state machine records, never a crash.
_STREAM = re.compile(rb"stream[ \t]*(?:\r\n|\n|\r)")  # not "endstream": see check_inflation
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>()]+|\d+\s+\d+\s+R)")
_NAME = re.compile(rb"/([^\s/\[\]<>()]+)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_EARLY_CHANGE_0 = re.compile(rb"/EarlyChange\s+0(?!\d)")
_DECODE_STEP = 1 << 20  # the most output a decoder hands on at once
_INPUT_STEP = 1 << 16
_DICTIONARY_REACH = 1 << 16  # how far back from ``stream`` its dictionary is looked for
_READ_ALLOWANCE = 16 << 20  # stream bytes read on top of four times the file's size
_FILTERS = {
    b"FlateDecode": "flate",
    b"Fl": "flate",
    b"LZWDecode": "lzw",
    b"LZW": "lzw",
    b"RunLengthDecode": "runlength",
    b"RL": "runlength",
    b"ASCIIHexDecode": "hex",
    b"AHx": "hex",
    b"ASCII85Decode": "a85",
    b"A85": "a85",
}
_CHECKED: dict[bytes, int] = {}  # the last document that passed (digest and limit): its total


def check_inflation(data: bytes, *, limit: int) -> int:
    """The bytes the document's encoded streams decode to; ``DecompressionBombError`` past ``limit``.

    One parse opens the document up to three times (attachments, page count, text): a document
    that passed is remembered by digest, which costs a fraction of decoding it again.
    """
    digest = hashlib.blake2b(data, digest_size=16).digest() + limit.to_bytes(8, "big")
    if digest in _CHECKED:
        return _CHECKED[digest]
    total = read = 0
    # Decoders read on to their own end marker, past a stream's end if it has none: streams
    # that all run on to the end of the file would make this check quadratic, so the reading
    # is bounded too (a real document's streams are read about once).
    read_limit = 4 * len(data) + _READ_ALLOWANCE
    view = memoryview(data)
    resolved: dict[bytes, list[bytes]] = {}
    for match in _STREAM.finditer(data):
        if data[match.start() - 3 : match.start()] == b"end":
            continue  # checked here: a look-behind in the pattern would slow its search tenfold
        start = match.end()
        for chain in _filter_chains(data, match.start(), start, resolved):
            size, used = _decoded_size(view, start, chain, limit - total)
            total, read = total + size, read + used
            if total > limit:
                raise DecompressionBombError(
                    f"the document inflates to more than {limit} bytes (a decompression bomb?); "
                    f"it is {len(data)} bytes compressed",
                    details={"bytes": len(data), "inflated_limit": limit},
                )
            if read > read_limit:
                raise DecompressionBombError(
                    "the document's streams overlap (each runs on to the end of the file): "
                    "measuring what they inflate to would take too long",
                    details={"bytes": len(data), "read_limit": read_limit},
                )
    _CHECKED.clear()
    _CHECKED[digest] = total
    return total


def _filter_chains(
    data: bytes, stream_keyword: int, start: int, resolved: dict[bytes, list[bytes]]
) -> list[tuple[str, ...]]:
    """The decodable filter chains the stream before ``stream_keyword`` may have.

    Every ``/Filter`` in its dictionary counts (a nested dictionary could carry a decoy), an
    indirect ``/Filter`` is looked up under each of its definitions, and a stream that names no
    decodable filter but starts like zlib data is measured as Flate anyway: it may be the
    stream's own, hidden behind an indirect ``/Length`` or a dictionary too long to search.
    """
    begin = data.rfind(b"obj", max(0, stream_keyword - _DICTIONARY_REACH), stream_keyword)
    head = data[begin + 3 if begin >= 0 else max(0, stream_keyword - _DICTIONARY_REACH) : stream_keyword]
    early = 0 if _EARLY_CHANGE_0.search(head) else 1
    chains: set[tuple[str, ...]] = set()
    for value in _FILTER.findall(head):
        for names in _filter_values(data, value, resolved):
            chain: list[str] = []
            for raw in _NAME.findall(names):
                kind = _FILTERS.get(_NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw))
                if kind is None:
                    break  # an image filter or one PDFium does not know: the chain ends here
                chain.append(f"lzw{early}" if kind == "lzw" else kind)
            if chain:
                chains.add(tuple(chain))
    if not chains and _zlib_header(data[start : start + 2]):
        chains.add(("flate",))
    return sorted(chains)


def _zlib_header(head: bytes) -> bool:
    """Whether ``head`` opens a zlib stream (deflate, a window PDFium accepts, a valid check)."""
    return len(head) == 2 and head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and int.from_bytes(head) % 31 == 0


def _filter_values(data: bytes, value: bytes, resolved: dict[bytes, list[bytes]]) -> list[bytes]:
    """A direct ``/Filter`` value, or every definition of the object an indirect one names
    (looked up once per document: a thousand streams naming it cost one search)."""
    if not value.endswith(b"R"):
        return [value]
    number, generation = value.split()[:2]
    key = number + b" " + generation
    if key not in resolved:
        definition = re.compile(
            rb"\b" + number + rb"\s+" + generation + rb"\s+obj\s*(\[[^\]]*\]|/[^\s/\[\]<>()]+)"
        )
        resolved[key] = definition.findall(data)
    return resolved[key]


def _decoded_size(view: memoryview, start: int, chain: tuple[str, ...], budget: int) -> tuple[int, int]:
    """The bytes every stage of ``chain`` produces from the data at ``start``, stopping once past
    ``budget`` (each decoder stops at its own end marker, as PDFium's do), and the bytes read."""
    stages = [_DECODERS[name]() for name in chain]
    size = 0

    def push(stage: int, chunk: bytes) -> bool:
        """Feed ``chunk`` to ``stage`` and on down the chain; False once over budget."""
        nonlocal size
        for out in stages[stage].feed(chunk):
            size += len(out)
            if size > budget:
                return False
            if stage + 1 < len(stages) and out and not push(stage + 1, out):
                return False
        return True

    position = start
    while position < len(view) and not stages[0].done:
        if not push(0, bytes(view[position : position + _INPUT_STEP])):
            break
        position += _INPUT_STEP
    return size, min(position, len(view)) - start - stages[0].unused


class _Decoder:
    done = False  # its end marker was read (or data it cannot decode)
    unused = 0  # bytes of the last chunk after its end marker

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        raise NotImplementedError


class _Flate(_Decoder):
    def __init__(self) -> None:
        self._inflater = zlib.decompressobj()

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        try:
            yield self._inflater.decompress(chunk, _DECODE_STEP)
            while self._inflater.unconsumed_tail and not self._inflater.eof:
                yield self._inflater.decompress(self._inflater.unconsumed_tail, _DECODE_STEP)
        except zlib.error:
            self.done = True  # damaged or encrypted: PDFium makes of it what it can, no more
            return
        self.done = self._inflater.eof
        self.unused = len(self._inflater.unused_data)


class _Lzw(_Decoder):
    """LZW as PDF writes it (codes of 9 to 12 bits, most significant bit first, 256 clears the
    table, 257 ends); a table entry is at most 4 KB, so the table stays under 16 MB."""

    def __init__(self, early: int) -> None:
        self._early = early
        self._bits = 0
        self._count = 0
        self._reset()

    def _reset(self) -> None:
        self._table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
        self._width = 9
        self._previous: bytes | None = None

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        out: list[bytes] = []
        pending = 0
        for index, byte in enumerate(chunk):
            self._bits = (self._bits << 8) | byte
            self._count += 8
            while self._count >= self._width and not self.done:
                self._count -= self._width
                code = self._bits >> self._count
                self._bits &= (1 << self._count) - 1
                entry = self._code(code)
                if entry:
                    out.append(entry)
                    pending += len(entry)
                    if pending >= _DECODE_STEP:
                        yield b"".join(out)
                        out, pending = [], 0
            if self.done:
                self.unused = len(chunk) - index - 1
                break
        yield b"".join(out)

    def _code(self, code: int) -> bytes | None:
        table = self._table
        if code == 256:
            self._reset()
            return None
        if code == 257:
            self.done = True
            return None
        previous = self._previous
        if code < len(table):
            entry = table[code]
            if previous is not None and len(table) < 4096:
                table.append(previous + entry[:1])
        elif code == len(table) and previous is not None:
            entry = previous + previous[:1]
            if len(table) < 4096:
                table.append(entry)
        else:
            self.done = True  # a code the table cannot have: the data ends here
            return None
        self._previous = entry
        if len(table) + self._early >= 1 << self._width and self._width < 12:
            self._width += 1
        return entry


class _RunLength(_Decoder):
    def __init__(self) -> None:
        self._literal = 0  # bytes still to copy from the current literal run
        self._repeat = 0  # the count for a repeat run whose byte is in the next chunk

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        out: list[bytes] = []
        pending = 0
        index, length = 0, len(chunk)
        while index < length and not self.done:
            if self._literal:
                piece = chunk[index : index + self._literal]
                self._literal -= len(piece)
                index += len(piece)
            elif self._repeat:
                piece = chunk[index : index + 1] * self._repeat
                self._repeat = 0
                index += 1
            else:
                run = chunk[index]
                index += 1
                if run == 128:
                    self.done, self.unused = True, length - index
                elif run < 128:
                    self._literal = run + 1
                else:
                    self._repeat = 257 - run
                continue
            out.append(piece)
            pending += len(piece)
            if pending >= _DECODE_STEP:
                yield b"".join(out)
                out, pending = [], 0
        yield b"".join(out)


class _AsciiHex(_Decoder):
    def __init__(self) -> None:
        self._odd = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        end = chunk.find(b">")
        if end >= 0:
            self.done, self.unused = True, len(chunk) - end
            chunk = chunk[:end]
        digits = self._odd + chunk.translate(None, _NOT_HEX)  # PDFium skips what is not a digit
        if self.done and len(digits) % 2:
            digits += b"0"
        self._odd = digits[len(digits) - len(digits) % 2 :]
        yield bytes.fromhex(digits[: len(digits) - len(self._odd)].decode("ascii"))


class _Ascii85(_Decoder):
    def __init__(self) -> None:
        self._rest = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        end = chunk.find(b"~")
        if end >= 0:
            self.done, self.unused = True, len(chunk) - end
            chunk = chunk[:end]
        # "z" is four zero bytes, as "!!!!!" is: spelt out, every group is five characters.
        text = self._rest + chunk.translate(None, b" \t\r\n\f\x00").replace(b"z", b"!!!!!")
        whole = len(text) if self.done else len(text) - len(text) % 5
        self._rest = text[whole:]
        try:
            yield base64.a85decode(text[:whole])
        except ValueError:
            self.done = True  # a character outside the alphabet: PDFium stops there too


_NOT_HEX = bytes(b for b in range(256) if b not in b"0123456789abcdefABCDEF")
_DECODERS: dict[str, Any] = {
    "flate": _Flate,
    "lzw0": lambda: _Lzw(0),
    "lzw1": lambda: _Lzw(1),
    "runlength": _RunLength,
    "hex": _AsciiHex,
    "a85": _Ascii85,
}


def embedded_files(data: bytes, *, settings: Settings) -> list[tuple[str, bytes]]:
    """The files embedded in the PDF (Factur-X/ZUGFeRD XML among them), as ``(name, bytes)``."""
    import pypdfium2.raw as pdfium_c

    with open_pdf(data, settings=settings) as document:
        files: list[tuple[str, bytes]] = []
        for index in range(document.count_attachments()):
            try:
                attachment = document.get_attachment(index)
                name = _attachment_name(attachment, pdfium_c)
                files.append((name, bytes(attachment.get_data())))
            except Exception:  # noqa: S112 -- a damaged attachment is skipped; the page text remains
                continue
        return files


def _attachment_name(attachment: Any, pdfium_c: Any) -> str:
    length = pdfium_c.FPDFAttachment_GetName(attachment.raw, None, 0)
    if length <= 2:
        return ""
    buffer = ctypes.create_string_buffer(length)
    pdfium_c.FPDFAttachment_GetName(
        attachment.raw, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)), length
    )
    return clean_text(buffer.raw[: length - 2].decode("utf-16-le", errors="replace"))


def page_count(data: bytes, *, settings: Settings) -> int:
    with open_pdf(data, settings=settings) as document:
        return len(document)


def extract_pages(data: bytes, *, settings: Settings, only: Sequence[int] | None = None) -> list[PageText]:
    """Every page's words with positions (or only the pages numbered in ``only``, 0-based,
    negative from the end; the others still count for the stacked offsets)."""
    with open_pdf(data, settings=settings) as document:
        pages: list[PageText] = []
        offset = 0.0
        count = len(document)
        wanted = None if only is None else {i % count for i in only if -count <= i < count}
        for index in range(count):
            try:
                page = document[index]
                width, height = page.get_size()
                if wanted is not None and index not in wanted:
                    offset += height + PAGE_GAP
                    continue
                words, char_count = _page_words(page, height, offset, index)
            except Exception as exc:  # pdfium raises bare errors on damaged page trees
                raise CorruptDocumentError(f"page {index + 1} cannot be read: {exc}") from exc
            pages.append(
                PageText(
                    index=index,
                    width=width,
                    height=height,
                    offset=offset,
                    words=tuple(words),
                    char_count=char_count,
                )
            )
            offset += height + PAGE_GAP
        return pages


def render_pages_png(data: bytes, *, settings: Settings) -> list[bytes]:
    """The first pages as grayscale PNG images for a vision model (scans carry no text layer)."""
    with open_pdf(data, settings=settings) as document:
        images: list[bytes] = []
        for index in range(min(len(document), settings.po_vision_max_pages)):
            page = document[index]
            bitmap = page.render(scale=_render_scale(page, settings.po_vision_dpi), grayscale=True)
            if bitmap.n_channels != 1:
                raise CorruptDocumentError(f"page {index + 1} did not render to a grayscale bitmap")
            rows = bytes(bitmap.buffer)
            images.append(_png_gray(bitmap.width, bitmap.height, bitmap.stride, rows))
        return images


def render_page_png(data: bytes, page: int, *, settings: Settings, dpi: int) -> tuple[bytes, int]:
    """One page (1-based) as a grayscale PNG, for a person to read beside the parsed fields,
    and the document's page count (so a viewer asks for no page that is not there)."""
    with open_pdf(data, settings=settings) as document:
        if not 1 <= page <= len(document):
            raise NotFoundError(f"the document has {len(document)} page(s), there is no page {page}")
        shown = document[page - 1]
        bitmap = shown.render(scale=_render_scale(shown, dpi), grayscale=True)
        if bitmap.n_channels != 1:
            raise CorruptDocumentError(f"page {page} did not render to a grayscale bitmap")
        return _png_gray(bitmap.width, bitmap.height, bitmap.stride, bytes(bitmap.buffer)), len(document)


# The most pixels a page is rendered to (a 40 MB grayscale bitmap; an A4 page at 300 dpi is 8.7
# million): a page may declare itself 200 inches square, which at 110 dpi would be a 484 MB bitmap
# and as much again for its PNG. Such a page is rendered smaller instead, never refused: the
# image is for reading, and 40 million pixels are plenty for that.
_MAX_RENDER_PIXELS = 40_000_000


def _render_scale(page: Any, dpi: int) -> float:
    width, height = page.get_size()
    scale = dpi / 72
    area = abs(width * height) * scale * scale
    return scale if area <= _MAX_RENDER_PIXELS else scale * math.sqrt(_MAX_RENDER_PIXELS / area)


def _png_gray(width: int, height: int, stride: int, pixels: bytes) -> bytes:
    """A minimal 8-bit grayscale PNG: saves shipping Pillow in the Lambda just to encode pages."""
    raw = b"".join(b"\x00" + pixels[y * stride : y * stride + width] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


@functools.cache
def _fast_text_functions() -> tuple[Any, Any, Any]:
    """``FPDFText_GetUnicode``, ``FPDFText_GetLooseCharBox`` and ``FPDFText_GetCharOrigin``
    without argument types.

    pypdfium2's bindings convert and check every argument on every call, which costs more than
    the C functions themselves (about 3x over a page's characters). The hot loop passes exactly
    the C types (the text page handle, a Python int for the index, ``byref`` buffers), so the
    checks are dropped by calling the same C functions through prototypes without ``argtypes``.
    """
    import pypdfium2.raw as pdfium_c

    def untyped(function: Any, restype: Any) -> Any:
        address = ctypes.cast(function, ctypes.c_void_p).value
        if not address:  # a bound symbol is never null; calling one would crash the process
            raise RuntimeError(f"pdfium has no {function.__name__}")
        return ctypes.CFUNCTYPE(restype)(address)

    return (
        untyped(pdfium_c.FPDFText_GetUnicode, ctypes.c_uint),
        untyped(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_int),
        untyped(pdfium_c.FPDFText_GetCharOrigin, ctypes.c_int),
    )


def _page_words(  # noqa: PLR0912, PLR0915 -- one flat loop: helper calls per character cost time
    page: Any, page_height: float, offset: float, page_index: int
) -> tuple[list[Word], int]:
    """The page's words and its count of non-blank characters, in one pass over the characters.

    This loop is the text layer's hot path (every character of every page): PDFium's functions
    are bound to locals, the box and origin buffers are allocated once, whitespace costs no
    call beyond its code point, and words are grouped as the characters come (no object per
    character). A space, a line change or a gap wider than a space ends a word.
    """
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        raw = textpage.raw
        count = pdfium_c.FPDFText_CountChars(raw)
        get_unicode, get_loose_box, get_origin = _fast_text_functions()
        get_font_size = pdfium_c.FPDFText_GetFontSize  # rare: the typed binding (a double result)
        box = pdfium_c.FS_RECTF()
        box_ref = ctypes.byref(box)
        origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
        origin_x_ref, origin_y_ref = ctypes.byref(origin_x), ctypes.byref(origin_y)
        sheet_top = offset + page_height
        words: list[Word] = []
        visible = 0
        parts: list[str] = []  # the current word's characters
        x0 = x1 = top = bottom = size = 0.0  # the current word's extent
        last_x1 = last_bottom = last_size = 0.0  # its last character's
        pending_high: int | None = None
        for i in range(count):
            code = get_unicode(raw, i)
            if 0xD800 <= code < 0xE000:
                # Text is UTF-16 code units: an emoji is a surrogate pair over two "characters".
                # The pair becomes its character on the low half; a lone low half becomes U+FFFD.
                if code < 0xDC00:
                    pending_high = code
                    continue
                text = (
                    chr(0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00))
                    if pending_high is not None
                    else REPLACEMENT
                )
                pending_high = None
            elif code in (0, 2, 0xFFFE, 0xFFFF):  # 2: pdfium's soft-hyphen marker
                continue
            else:
                pending_high = None  # a high half with no low half carries no character: dropped
                text = chr(code)
                if text.isspace():  # line breaks included
                    if parts:
                        words.append(Word("".join(parts), x0, x1, top, bottom, size, page_index))
                        parts = []
                    continue
            visible += 1
            # Loose boxes span the advance width and the font's ascent/descent: tight glyph
            # boxes would split "1" (narrow glyph, wide bearings) off its neighbours.
            get_loose_box(raw, i, box_ref)
            left, right = box.left, box.right
            # The loose box height is the rendered size; the nominal font size is often 1 when a
            # text matrix does the scaling.
            char_size = (box.top - box.bottom) or get_font_size(raw, i)
            # Vertical extent from the baseline and font size: loose boxes of a large heading
            # would reach into the small-print lines beside it.
            get_origin(raw, i, origin_x_ref, origin_y_ref)
            baseline = sheet_top - origin_y.value
            char_top = baseline - 0.75 * char_size
            char_bottom = baseline + 0.2 * char_size
            if parts:
                larger = last_size if last_size >= char_size else char_size
                gap = left - last_x1
                if (
                    not abs(char_bottom - last_bottom) < larger * 0.5
                    or gap > larger * 0.25
                    or gap < -last_size
                ):
                    words.append(Word("".join(parts), x0, x1, top, bottom, size, page_index))
                    parts = []
            if parts:
                parts.append(text)
                # Comparisons, not min() and max(): a call each per character shows in the
                # profile. Strict ones keep the first of equal values, as min() and max() do.
                if left < x0:  # noqa: PLR1730
                    x0 = left
                if right > x1:  # noqa: PLR1730
                    x1 = right
                if char_top < top:  # noqa: PLR1730
                    top = char_top
                if char_bottom > bottom:  # noqa: PLR1730
                    bottom = char_bottom
                if char_size > size:  # noqa: PLR1730
                    size = char_size
            else:
                parts = [text]
                x0, x1, top, bottom, size = left, right, char_top, char_bottom, char_size
            last_x1, last_bottom, last_size = right, char_bottom, char_size
        if parts:
            words.append(Word("".join(parts), x0, x1, top, bottom, size, page_index))
        return words, visible
    finally:
        textpage.close()
