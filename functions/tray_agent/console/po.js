// A purchase order under review: its PDF pages beside the parsed fields, each finding marked on
// the field it is about, every field editable. Approval sends the edited PO through
// POST /reviews/{id}/approve (edited_payload): the same route a JSON client uses. A large order
// shows its summary and flagged lines, and sends only the changed fields (line_edits).

import { apiImage } from "./api.js";
import { h } from "./dom.js";

const HEADER_FIELDS = [
  ["po_number", "PO number"],
  ["order_date", "Order date"],
  ["delivery_date", "Delivery date"],
  ["currency", "Currency"],
  ["buyer.name", "Buyer"],
  ["buyer.email", "Buyer e-mail"],
  ["buyer.address", "Buyer address"],
  ["vendor.name", "Vendor"],
  ["ship_to", "Ship to"],
  ["payment_terms", "Payment terms"],
];
const LINE_FIELDS = [
  ["sku", "SKU"],
  ["description", "Description"],
  ["quantity", "Qty"],
  ["unit", "Unit"],
  ["unit_price", "Unit price"],
  ["amount", "Amount"],
];
const TOTAL_FIELDS = [
  ["subtotal", "Subtotal"],
  ["tax", "Tax"],
  ["shipping", "Shipping"],
  ["total", "Total"],
];

function get(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function set(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] == null) o[k] = {};
    o = o[k];
  }
  o[keys.at(-1)] = value;
}

// Which field a finding is about. Line findings read "Line N (SKU): …" (domain/po/validation.py).
export function findingTargets(message) {
  const line = /^Line (\d+)\b[^:]*: (.*)$/s.exec(message);
  if (line) {
    const index = Number(line[1]) - 1;
    const text = line[2];
    let field = "unit_price";
    if (/line amount says/.test(text)) field = "amount";
    else if (/quantity/.test(text)) field = "quantity";
    else if (/ordered per/.test(text)) field = "unit";
    else if (/SKU|inactive/.test(text)) field = "sku";
    return [`lines.${index}.${field}`];
  }
  if (/already ordered|PO number/.test(message)) return ["po_number"];
  if (/currency/.test(message)) return ["currency"];
  if (/subtotal says/.test(message)) return ["subtotal"];
  if (/Subtotal, tax and shipping/.test(message)) return ["total"];
  return [];
}

function decimalText(value) {
  return value === null || value === undefined ? "" : String(value);
}

// A large PO (e.g. 2,000 lines) is reviewed by reference (domain/po/review.py): the item holds a
// summary and the lines with findings, and approval sends partial edits by line number.
function isByReference(payload) {
  return payload.order_ref !== undefined && payload.lines === undefined;
}

export function purchaseOrderPanel(item, { editable }) {
  const payload = item.payload || {};
  const large = isByReference(payload);
  const marks = new Map(); // field path → [finding numbers]
  item.findings.forEach((finding, i) => {
    for (const target of findingTargets(finding)) marks.set(target, [...(marks.get(target) || []), i + 1]);
  });
  const inputs = [];
  const valueOf = (path) => {
    const m = /^lines\.(\d+)\.(.+)$/.exec(path);
    if (!large || !m) return get(payload, path);
    const row = (payload.flagged_lines || []).find((line) => line.line === Number(m[1]) + 1);
    return row ? row[m[2]] : undefined;
  };

  function field(path, label, { wide = false } = {}) {
    const original = decimalText(valueOf(path));
    const flagged = marks.get(path);
    const input = h("input", {
      value: original,
      name: path,
      "aria-label": label,
      disabled: !editable,
      class: flagged ? "flagged" : "",
      title: flagged ? flagged.map((n) => `finding ${n}: ${item.findings[n - 1]}`).join("\n") : undefined,
      dataset: { path },
    });
    input.addEventListener("input", () => input.classList.toggle("edited", input.value !== original));
    inputs.push({ input, path, original });
    const marker = flagged ? h("span", { class: "marker" }, flagged.map((n) => `#${n}`).join(" ")) : null;
    return { input, cell: h("span", { class: wide ? "field wide" : "field" }, input, marker) };
  }

  const summary = payload.summary || {};
  const header = large
    ? h(
        "div",
        { class: "po-header" },
        h(
          "p",
          { class: "muted large-order" },
          `A large order: ${summary.line_count} lines, ${summary.lines_with_findings} with findings` +
            (payload.flagged_lines_omitted ? ` (${payload.flagged_lines_omitted} not shown)` : "") +
            `. PO ${summary.po_number || "?"}, buyer ${summary.buyer || "?"}, vendor ${summary.vendor || "?"}, ` +
            `total ${summary.total || "?"} ${summary.currency || ""}. Only the lines below can be edited here.`,
        ),
      )
    : h(
        "div",
        { class: "po-header" },
        HEADER_FIELDS.map(([path, label]) => h("label", {}, h("span", { class: "caption" }, label), field(path, label).cell)),
      );

  // Rows as [line number, line]; a large order shows only its flagged lines, under their own numbers.
  const numbered = large
    ? (payload.flagged_lines || []).map((line) => [line.line, line])
    : (payload.lines || []).map((line, index) => [index + 1, line]);
  const lineRows = numbered.map(([number]) => {
    const index = number - 1;
    const cells = {};
    const row = h(
      "tr",
      { class: LINE_FIELDS.some(([f]) => marks.has(`lines.${index}.${f}`)) ? "flagged-row" : "", dataset: { line: index + 1 } },
      h("td", { class: "num" }, String(index + 1)),
      LINE_FIELDS.map(([f, label]) => {
        cells[f] = field(`lines.${index}.${f}`, `Line ${index + 1} ${label}`);
        return h("td", {}, cells[f].cell);
      }),
    );
    // Editing a quantity or a price recomputes the line amount (the reviewer may still override it).
    for (const f of ["quantity", "unit_price"]) {
      cells[f].input.addEventListener("input", () => {
        const q = Number(cells.quantity.input.value);
        const p = Number(cells.unit_price.input.value);
        if (cells.quantity.input.value && cells.unit_price.input.value && Number.isFinite(q) && Number.isFinite(p)) {
          cells.amount.input.value = (q * p).toFixed(2);
          cells.amount.input.dispatchEvent(new Event("input"));
        }
      });
    }
    return row;
  });
  const linesTable = h(
    "table",
    { class: "grid lines" },
    h("thead", {}, h("tr", {}, h("th", {}, "#"), LINE_FIELDS.map(([, label]) => h("th", {}, label)))),
    h("tbody", {}, lineRows),
  );
  const totals = large ? null : h(
    "div",
    { class: "po-totals" },
    TOTAL_FIELDS.map(([path, label]) => h("label", {}, h("span", { class: "caption" }, label), field(path, label).cell)),
  );
  const confidence = payload.confidence && payload.confidence.overall !== undefined
    ? h("p", { class: "muted" }, `Parsed by the ${payload.parser || "layout"} parser, confidence ${Number(payload.confidence.overall).toFixed(2)}`)
    : null;

  const pages = h("div", { class: "po-pages" }, h("p", { class: "muted" }, "Loading the document…"));
  loadPages(pages, intakeIdOf(item.review_id));

  const panel = h(
    "div",
    { class: "po-review" },
    pages,
    h("div", { class: "po-fields" }, confidence, header, h("h3", {}, "Lines"), linesTable, totals),
  );

  // The edited PO: the item's payload with only the fields the reviewer changed replaced, so
  // every masked value ("[redacted:…]") stays where it was and the pipeline restores it.
  function editedPayload() {
    const changed = inputs.filter(({ input, original }) => input.value !== original);
    if (!changed.length) return null;
    if (large) {
      const lineEdits = {};
      for (const { input, path } of changed) {
        const [, index, name] = /^lines\.(\d+)\.(.+)$/.exec(path);
        const number = String(Number(index) + 1);
        lineEdits[number] = { ...(lineEdits[number] || {}), [name]: input.value.trim() === "" ? null : input.value.trim() };
      }
      return { line_edits: lineEdits };
    }
    const edited = structuredClone(payload);
    for (const { input, path } of changed) set(edited, path, input.value.trim() === "" ? null : input.value.trim());
    return edited;
  }

  return { element: panel, editedPayload };
}

// A PO review is named after its execution: the intake id, plus "-r<n>" for a re-run.
function intakeIdOf(reviewId) {
  return reviewId.replace(/-r\d+$/, "");
}

async function loadPages(container, intakeId) {
  const path = (n) => `/po/intake/${encodeURIComponent(intakeId)}/pages/${n}.png`;
  try {
    const first = await apiImage(path(1));
    const images = [h("img", { src: first.url, alt: "Page 1 of the purchase order", class: "page" })];
    for (let n = 2; n <= Math.min(first.pages, 10); n++) {
      const next = await apiImage(path(n));
      images.push(h("img", { src: next.url, alt: `Page ${n} of the purchase order`, class: "page" }));
    }
    container.replaceChildren(
      h("p", { class: "muted" }, `The document: ${first.pages} page${first.pages === 1 ? "" : "s"}`),
      ...images,
    );
  } catch (error) {
    container.replaceChildren(h("p", { class: "error" }, `The document cannot be shown: ${error.message}`));
  }
}
