"""A dropped PO's pages as images, for the reviewer console (the PDF beside the parsed fields).

Rendered on request from the dropped document itself (an email's n-th PDF attachment, read as
the Extract step reads it), so nothing is precomputed or stored twice. pypdfium2 is already in
the Lambda for parsing; the browser gets a plain PNG and needs no PDF viewer of its own.
"""

from __future__ import annotations

from tray_agent.config import Settings
from tray_agent.data.po_documents import DocumentStore
from tray_agent.domain.po.queries import build_intake_queries
from tray_agent.errors import NotFoundError
from tray_agent.models.po_pipeline import DocumentKind

# Legible on a laptop screen beside the form, and a page stays around 100-200 KB as a PNG.
PAGE_DPI = 110


class PageImages:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def page_png(self, intake_id: str, page: int) -> tuple[bytes, int]:
        """The page as a PNG, and how many pages the document has."""
        # Parsing and pypdfium2 load on the first page asked for, never at the API's cold start.
        from tray_agent.domain.po.parsing import extract_pdfs_from_email
        from tray_agent.domain.po.parsing.pdf_text import render_page_png

        record = build_intake_queries(self._settings).get(intake_id)
        document = record.document
        if document is None:
            raise NotFoundError(f"PO intake {intake_id!r} does not say where its document is")
        limit = self._settings.po_max_bytes
        data = DocumentStore(document.bucket).read(document.key, max_bytes=limit)
        if document.kind is DocumentKind.EMAIL:
            pdfs = extract_pdfs_from_email(data, max_bytes=limit)
            index = document.attachment_index or 0
            if index >= len(pdfs):
                raise NotFoundError(f"the email has no PDF attachment number {index + 1}")
            data = pdfs[index][1]
        return render_page_png(data, page, settings=self._settings, dpi=PAGE_DPI)
