"""Purchase-order parsing: PDF (or email) in, ``PurchaseOrder`` out, always reconciled."""

from tray_agent.domain.po.parsing.email_intake import extract_pdfs_from_email
from tray_agent.domain.po.parsing.service import parse_purchase_order

__all__ = ["extract_pdfs_from_email", "parse_purchase_order"]
