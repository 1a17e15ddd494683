# ruff: noqa: E501 -- PDF content operators read best one text row per line
"""Hand-built PDFs for hostile-input tests: text whose font maps to UTF-16 surrogates, and
decompression bombs (a small Flate stream that inflates to hundreds of megabytes)."""

from __future__ import annotations

import zlib


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (object 1 is the catalog), with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def surrogate_po() -> bytes:
    """A purchase order whose buyer address carries an emoji (a surrogate pair in the text layer)
    and a lone high surrogate, as a damaged font map yields: ``A`` maps to U+D83D alone, ``B`` to
    the pair D83D DE00 (U+1F600)."""
    cmap = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Emoji def /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfchar <41> <D83D> <42> <D83DDE00> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""
    rows = [
        (50, 790, b"/F1 16 Tf", b"(PURCHASE ORDER) Tj"),
        (50, 760, b"/F1 10 Tf", b"(PO Number: PO-SURR-1) Tj"),
        (50, 745, b"/F1 10 Tf", b"(Order Date: 11/02/2026) Tj"),
        (50, 720, b"/F1 10 Tf", b"(Buyer: Acme Manufacturing Inc.) Tj"),
        (50, 705, b"/F1 10 Tf", b"(1200 Industrial Way ) Tj /F2 10 Tf (BA) Tj /F1 10 Tf ( Springfield) Tj"),
        (
            50,
            670,
            b"/F1 10 Tf",
            b"(SKU) Tj 80 0 Td (Description) Tj 200 0 Td (Qty) Tj 60 0 Td (Unit Price) Tj 80 0 Td (Amount) Tj",
        ),
        (
            50,
            655,
            b"/F1 10 Tf",
            b"(WID-1001) Tj 80 0 Td (Steel widget) Tj 200 0 Td (200) Tj 60 0 Td (12.50) Tj 80 0 Td (2,500.00) Tj",
        ),
        (50, 620, b"/F1 10 Tf", b"(Total) Tj 420 0 Td (2,500.00) Tj"),
    ]
    content = b"\n".join(b"BT %s %d %d Td %s ET" % (font, x, y, text) for x, y, font, text in rows)
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
            _stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 7 0 R >>",
            _stream(cmap),
        ]
    )


def _deflated_zeros(size: int) -> bytes:
    """``size`` bytes of spaces as one zlib stream, built in a fraction of a second: one 1 MiB
    deflate block, full-flushed (so it depends on nothing before it), repeated, then the final
    block and the Adler-32 of the whole, so the stream is valid to the last byte."""
    chunk = b" " * (1 << 20)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = raw.compress(chunk) + raw.flush(zlib.Z_FULL_FLUSH)
    count = size >> 20
    checksum = 1
    for _ in range(count):
        checksum = zlib.adler32(chunk, checksum)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return b"\x78\xda" + block * count + final + checksum.to_bytes(4, "big")


def bomb_pdf(inflated_bytes: int) -> bytes:
    """One page whose content stream is ~``inflated_bytes / 1000`` compressed, ``inflated_bytes``
    inflated (a 512 MB bomb is a 500 KB file)."""
    data = _deflated_zeros(inflated_bytes)
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            _stream(data, b"/Filter /FlateDecode"),
        ]
    )


# -- bombs in the other filters ---------------------------------------------------------------------


class _LzwWriter:
    """Codes packed as PDF's LZWDecode reads them (EarlyChange 1): the width grows by mirroring
    the decoder's own table size, so any reader that follows the specification decodes them."""

    def __init__(self) -> None:
        self.bits = 0
        self.count = 0
        self.out = bytearray()
        self.width = 9
        self.decoder_table = 258
        self.after_clear = True

    def code(self, code: int) -> None:
        self.bits = (self.bits << self.width) | code
        self.count += self.width
        while self.count >= 8:
            self.count -= 8
            self.out.append((self.bits >> self.count) & 0xFF)
        self.bits &= (1 << self.count) - 1
        if code == 256:
            self.width, self.decoder_table, self.after_clear = 9, 258, True
            return
        if not self.after_clear and self.decoder_table < 4096:
            self.decoder_table += 1
        self.after_clear = False
        if self.decoder_table + 1 >= 1 << self.width and self.width < 12:
            self.width += 1

    def finish(self) -> bytes:
        self.code(257)
        if self.count:
            self.out.append((self.bits << (8 - self.count)) & 0xFF)
        return bytes(self.out)


def lzw_encode(data: bytes) -> bytes:
    """PDF LZW of ``data`` (a plain encoder, for small real content)."""
    writer = _LzwWriter()
    writer.code(256)
    table = {bytes([i]): i for i in range(256)}
    word = b""
    for byte in data:
        grown = word + bytes([byte])
        if grown in table:
            word = grown
            continue
        writer.code(table[word])
        if len(table) + 2 < 4000:
            table[grown] = len(table) + 2
        word = bytes([byte])
    if word:
        writer.code(table[word])
    return writer.finish()


def lzw_zeros(size: int) -> bytes:
    """PDF LZW of ``size`` zero bytes, written directly: code 0, then each new code is the last
    string plus one zero (258, 259, ...), a clear when the table is nearly full."""
    writer = _LzwWriter()
    written = 0
    while written < size:
        writer.code(256)
        writer.code(0)
        written += 1
        for run, code in enumerate(range(258, 4000), start=2):
            if written + run > size:
                break
            writer.code(code)
            written += run
    return writer.finish()


def runlength_zeros(size: int) -> bytes:
    """RunLengthDecode of ``size`` zero bytes: two bytes per 128."""
    return b"\x81\x00" * (size // 128) + b"\x80"


def filtered_page_pdf(content: bytes, filters: bytes, *, pad: int = 0, indirect: bool = False) -> bytes:
    """One page whose content stream is ``content`` (already encoded) under ``/Filter filters``;
    ``pad`` bytes of a dummy entry before the filter, or the filter as an indirect object."""
    padding = b"/Padding (%s) " % (b"x" * pad) if pad else b""
    dictionary = padding + (b"/Filter 6 0 R" if indirect else b"/Filter " + filters)
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content, dictionary),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            filters,
        ]
    )
