"""Learn from reviewers: a correction made once for a customer is applied to its next orders.

When a reviewer approves a PO after changing a line's SKU (the customer printed its own part
number, or ours mistyped) or a party's name, the Record step remembers it for that customer:
customer part number → our SKU, name as read → name as corrected. The next order from the same
customer gets them applied at Parse, each one listed in ``corrections_applied`` so the result
says what was changed and why; validation then checks the corrected order as usual.
"""

from __future__ import annotations

from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.redaction import contains_marker


def learn(original: PurchaseOrder, approved: PurchaseOrder) -> tuple[dict[str, str], dict[str, str]]:
    """(customer part number → SKU, name as read → corrected name) from one reviewed order."""
    skus: dict[str, str] = {}
    if len(original.lines) == len(approved.lines):
        for before, after in zip(original.lines, approved.lines, strict=True):
            printed = (before.buyer_sku or before.sku or "").strip()
            corrected = (after.sku or "").strip()
            changed = corrected.upper() != (before.sku or "").strip().upper()
            if printed and corrected and changed and not contains_marker(corrected):
                skus[printed.upper()] = corrected
    names: dict[str, str] = {}
    for before_name, after_name in (
        (original.buyer.name, approved.buyer.name),
        (original.vendor.name, approved.vendor.name),
    ):
        if (
            before_name
            and after_name
            and before_name.strip() != after_name.strip()
            and not contains_marker(after_name)
        ):
            names[before_name.strip()] = after_name.strip()
    return skus, names


def apply(order: PurchaseOrder, skus: dict[str, str], names: dict[str, str]) -> PurchaseOrder:
    """``order`` with the customer's remembered corrections applied and listed."""
    if not skus and not names:
        return order
    applied: list[str] = []
    lines = []
    for number, line in enumerate(order.lines, start=1):
        printed = (line.buyer_sku or line.sku or "").strip()
        target = skus.get(printed.upper())
        if target and target != line.sku:
            applied.append(
                f"line {number}: customer part {printed} is our SKU {target} (a reviewer's correction)"
            )
            lines.append(line.model_copy(update={"sku": target, "buyer_sku": line.buyer_sku or line.sku}))
        else:
            lines.append(line)
    update: dict[str, object] = {"lines": lines}
    for field, party in (("buyer", order.buyer), ("vendor", order.vendor)):
        name = (party.name or "").strip()
        if name in names and names[name] != name:
            applied.append(f"{field} name {name!r} is {names[name]!r} (a reviewer's correction)")
            update[field] = party.model_copy(update={"name": names[name]})
    if not applied:
        return order
    update["corrections_applied"] = [*order.corrections_applied, *applied]
    return order.model_copy(update=update)
