// Charts drawn as inline SVG: no chart library, no CDN, nothing the page loads from elsewhere.

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

const OUTCOME_CLASSES = ["succeeded", "triggered", "ordered", "ignored", "retried", "held", "in_review", "rejected", "failed"];

function outcomeClass(outcome) {
  return OUTCOME_CLASSES.includes(outcome) ? `o-${outcome}` : "o-other";
}

// One horizontal bar per workflow: its failure rate today (failed / all it saw), labelled.
export function failureRateChart(workflows, { threshold = 0.1 } = {}) {
  const rows = workflows.filter((w) => w.total > 0);
  const rowH = 26;
  const labelW = 190;
  const barW = 360;
  const height = rows.length * rowH + 34;
  const svg = s("svg", {
    viewBox: `0 0 ${labelW + barW + 90} ${height}`,
    class: "chart",
    role: "img",
    "aria-label": "Failure rate per workflow",
  });
  const x = (rate) => labelW + rate * barW;
  svg.append(s("line", { x1: x(threshold), x2: x(threshold), y1: 0, y2: rows.length * rowH, class: "threshold" }));
  svg.append(s("text", { x: x(threshold) + 3, y: rows.length * rowH + 14, class: "axis" }, `${Math.round(threshold * 100)} % (default alert threshold)`));
  svg.append(s("text", { x: labelW, y: rows.length * rowH + 28, class: "axis" }, "0 %"));
  svg.append(s("text", { x: labelW + barW - 30, y: rows.length * rowH + 28, class: "axis" }, "100 %"));
  rows.forEach((w, i) => {
    const failed = w.by_outcome.failed || 0;
    const rate = failed / w.total;
    const y = i * rowH;
    svg.append(s("text", { x: labelW - 8, y: y + 17, class: "label", "text-anchor": "end" }, w.workflow));
    svg.append(s("rect", { x: labelW, y: y + 5, width: barW, height: 16, class: "track" }));
    const bar = s("rect", { x: labelW, y: y + 5, width: Math.max(rate * barW, rate > 0 ? 2 : 0), height: 16, class: rate > threshold ? "bar bar-alert" : "bar" });
    bar.append(s("title", {}, `${w.workflow}: ${failed} of ${w.total} failed`));
    svg.append(bar);
    svg.append(s("text", { x: labelW + barW + 8, y: y + 17, class: "value" }, `${(rate * 100).toFixed(1)} % (${failed}/${w.total})`));
  });
  return svg;
}

// One stacked bar per workflow: what became of everything it saw today, by outcome.
export function outcomeChart(workflows) {
  const rows = workflows.filter((w) => w.total > 0);
  const max = Math.max(1, ...rows.map((w) => w.total));
  const rowH = 26;
  const labelW = 190;
  const barW = 360;
  const outcomes = [...new Set(rows.flatMap((w) => Object.keys(w.by_outcome)))].sort();
  const legendH = 22;
  const svg = s("svg", {
    viewBox: `0 0 ${labelW + barW + 60} ${rows.length * rowH + legendH + 8}`,
    class: "chart",
    role: "img",
    "aria-label": "Outcomes per workflow",
  });
  rows.forEach((w, i) => {
    const y = i * rowH;
    svg.append(s("text", { x: labelW - 8, y: y + 17, class: "label", "text-anchor": "end" }, w.workflow));
    let offset = labelW;
    for (const outcome of outcomes) {
      const count = w.by_outcome[outcome] || 0;
      if (!count) continue;
      const width = (count / max) * barW;
      const seg = s("rect", { x: offset, y: y + 5, width, height: 16, class: `seg ${outcomeClass(outcome)}` });
      seg.append(s("title", {}, `${w.workflow}: ${count} ${outcome}`));
      svg.append(seg);
      offset += width;
    }
    svg.append(s("text", { x: offset + 6, y: y + 17, class: "value" }, String(w.total)));
  });
  let lx = labelW;
  const ly = rows.length * rowH + 8;
  for (const outcome of outcomes) {
    svg.append(s("rect", { x: lx, y: ly, width: 10, height: 10, class: `seg ${outcomeClass(outcome)}` }));
    svg.append(s("text", { x: lx + 14, y: ly + 9, class: "axis" }, outcome));
    lx += 24 + outcome.length * 7;
  }
  return svg;
}
