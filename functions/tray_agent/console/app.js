// The reviewer and operator console: a hash router and one function per screen. Every read and
// every action is a call to the API's JSON routes (api.js); the console keeps no state of its own.

import { api, ApiError, setRoutePrefix, setToken, signInConfig, token } from "./api.js";
import { finishSignIn, signOutUrl, startSignIn } from "./cognito.js";
import { failureRateChart, outcomeChart } from "./charts.js";
import { badge, clear, h, json, table, when } from "./dom.js";
import { purchaseOrderPanel } from "./po.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const flashBox = document.getElementById("flash");

function flash(message, kind = "ok") {
  clear(flashBox, message ? h("div", { class: `flash flash-${kind}` }, message) : null);
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

async function route() {
  const { parts, query } = parseHash();
  nav.hidden = !token();
  if (!token()) return signIn();
  for (const a of nav.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === parts[0]);
  clear(view, h("p", { class: "muted" }, "Loading…"));
  try {
    switch (parts[0]) {
      case "review":
        return await reviewDetail(parts[1]);
      case "decision":
        return await decisionAudit(parts[1]);
      case "customer":
        return await customerDecisions(parts[1]);
      case "work":
        return await workAndIncidents(query);
      case "summary":
        return await summary(parts[1]);
      default:
        return await reviewQueue(query);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setToken(null);
      flash("Your reviewer token was refused; sign in again.", "error");
      return signIn();
    }
    clear(view, h("p", { class: "error" }, describe(error)));
  }
}

function describe(error) {
  return error instanceof ApiError ? `${error.status}: ${error.message}` : String(error.message || error);
}

// --- sign in ---------------------------------------------------------------------------------

// How this deployment signs reviewers in: set once at start (see the wiring below).
let signInMode = { mode: "tokens" };

function signIn() {
  nav.hidden = true;
  if (signInMode.mode === "jwt") return hostedUiSignIn();
  const input = h("input", { type: "password", name: "token", id: "token", autocomplete: "off", required: true });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "card signin", id: "signin" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Your reviewer token names you on everything you approve or reject. It is kept for this tab only."),
    h("label", { for: "token" }, "Reviewer token"),
    input,
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    try {
      await api("GET", "/reviews?status=pending"); // the same check every reviewer route makes
    } catch (e) {
      setToken(null);
      error.textContent = e instanceof ApiError && e.status === 401 ? "That token is not a reviewer's token." : describe(e);
      return;
    }
    flash("");
    go(location.hash && !location.hash.startsWith("#/signin") ? location.hash : "#/reviews");
  });
  clear(view, form);
  input.focus();
}

// Deployed: the identity provider's hosted UI signs the reviewer in and returns here.
function hostedUiSignIn() {
  const button = h("button", { type: "button", id: "hosted-sign-in" }, "Sign in");
  button.addEventListener("click", () => startSignIn(signInMode).catch((e) => flash(describe(e), "error")));
  clear(
    view,
    h(
      "div",
      { class: "card signin", id: "signin" },
      h("h1", {}, "Sign in"),
      h("p", { class: "muted" }, "Sign in with your organisation's reviewer account; your name is recorded on everything you approve or reject."),
      button,
    ),
  );
  button.focus();
}

// --- review queue ----------------------------------------------------------------------------

async function reviewQueue(query) {
  const status = query.get("status") || "pending";
  const kind = query.get("kind") || "";
  const customer = query.get("customer") || "";
  const items = await api("GET", `/reviews?status=${encodeURIComponent(status)}`);
  const shown = items.filter(
    (i) => (!kind || i.kind === kind) && (!customer || (i.customer_id || "").toLowerCase().includes(customer.toLowerCase())),
  );
  const select = (name, value, options) =>
    h("select", { name, "aria-label": name }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
  const filters = h(
    "form",
    { class: "filters", id: "review-filters" },
    h("label", {}, "Status ", select("status", status, [["pending", "pending"], ["approved", "approved"], ["rejected", "rejected"]])),
    h("label", {}, "Kind ", select("kind", kind, [["", "all"], ["purchase_order", "purchase order"], ["decision", "decision"], ["recovery", "recovery"]])),
    h("label", {}, "Customer ", h("input", { name: "customer", value: customer, placeholder: "any" })),
    h("button", { type: "submit" }, "Filter"),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(new FormData(filters));
    for (const [k, v] of [...params]) if (!v) params.delete(k);
    go(`#/reviews?${params}`);
  });
  filters.addEventListener("change", (event) => {
    if (event.target.tagName === "SELECT") filters.requestSubmit();
  });
  clear(
    view,
    h("h1", {}, "Review queue"),
    filters,
    h("p", { class: "muted" }, `${shown.length} of ${items.length} ${status} item${items.length === 1 ? "" : "s"}`),
    table(
      [
        ["Filed", (i) => when(i.created_at)],
        ["Kind", (i) => badge(i.kind.replace("_", " "), i.kind)],
        ["What", (i) => h("a", { href: `#/review/${encodeURIComponent(i.review_id)}`, class: "review-link" }, i.title)],
        ["Customer", (i) => i.customer_id || "–"],
        ["Findings", (i) => String(i.findings.length)],
        ["Status", (i) => badge(i.status)],
      ],
      shown,
      "No review items match.",
    ),
  );
}

// --- one review item -------------------------------------------------------------------------

async function reviewDetail(reviewId) {
  const item = await api("GET", `/reviews/${encodeURIComponent(reviewId)}`);
  const pending = item.status === "pending";
  const findings = item.findings.length
    ? h("ol", { class: "findings" }, item.findings.map((f) => h("li", { class: "finding" }, f)))
    : h("p", { class: "muted" }, "No findings.");

  let body;
  let editedPayload = () => null;
  if (item.kind === "purchase_order") {
    const panel = purchaseOrderPanel(item, { editable: pending });
    body = panel.element;
    editedPayload = panel.editedPayload;
  } else {
    const calls = item.payload.calls || [];
    const original = JSON.stringify(item.payload, null, 2);
    const editor = h("textarea", { name: "payload", rows: Math.min(24, original.split("\n").length + 1), disabled: !pending, spellcheck: "false" }, original);
    editedPayload = () => {
      if (editor.value === original) return null;
      return JSON.parse(editor.value); // a SyntaxError is shown; nothing is sent
    };
    body = h(
      "div",
      { class: "held" },
      calls.length
        ? h("div", {}, h("h3", {}, "Proposed"), h("ul", {}, calls.map((c) => h("li", {}, h("strong", {}, c.workflow), c.retry_of ? ` (retry of ${c.retry_of})` : ""))))
        : null,
      h("h3", {}, pending ? "Proposed input (edit before approving if needed)" : "Proposed input"),
      editor,
    );
  }

  const note = h("input", { name: "note", placeholder: "note (optional)", disabled: !pending });
  const reason = h("input", { name: "reason", placeholder: "why (required to reject)", disabled: !pending });
  const approve = h("button", { type: "button", id: "approve", class: "approve", disabled: !pending }, "Approve");
  const reject = h("button", { type: "button", id: "reject", class: "reject", disabled: !pending }, "Reject");
  approve.addEventListener("click", async () => {
    let edited;
    try {
      edited = editedPayload();
    } catch (error) {
      return flash(`The edited input is not valid JSON: ${error.message}`, "error");
    }
    const request = {};
    if (edited) request.edited_payload = edited;
    if (note.value.trim()) request.note = note.value.trim();
    await act(approve, `/reviews/${encodeURIComponent(reviewId)}/approve`, request, edited ? "Approved with your edits." : "Approved.");
  });
  reject.addEventListener("click", async () => {
    if (!reason.value.trim()) {
      reason.focus();
      return flash("Say why you reject it.", "error");
    }
    await act(reject, `/reviews/${encodeURIComponent(reviewId)}/reject`, { reason: reason.value.trim() }, "Rejected.");
  });

  const resolution = pending
    ? null
    : h(
        "p",
        { class: "resolution" },
        `${item.status} by ${item.resolved_by || "?"} at ${when(item.resolved_at)}`,
        item.resolution_note ? ` — “${item.resolution_note}”` : "",
      );
  clear(
    view,
    h("p", {}, h("a", { href: "#/reviews" }, "← Review queue")),
    h("h1", {}, item.title, " ", badge(item.status)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Kind"), h("dd", {}, item.kind.replace("_", " ")),
      h("dt", {}, "Filed"), h("dd", {}, when(item.created_at)),
      h("dt", {}, "Customer"), h("dd", {}, item.customer_id ? h("a", { href: `#/customer/${encodeURIComponent(item.customer_id)}` }, item.customer_id) : "–"),
      h("dt", {}, "Reason"), h("dd", { class: "reason" }, item.reason),
      item.decision_id ? [h("dt", {}, "Decision"), h("dd", {}, h("a", { href: `#/decision/${encodeURIComponent(item.decision_id)}` }, "audit trail"))] : null,
      item.work_id ? [h("dt", {}, "Work"), h("dd", {}, item.work_id)] : null,
    ),
    h("h2", {}, "Findings"),
    findings,
    body,
    resolution,
    h("div", { class: "actions" }, note, approve, reason, reject),
  );
}

async function act(button, path, body, done) {
  button.disabled = true;
  try {
    await api("POST", path, body);
    flash(done);
    route();
  } catch (error) {
    button.disabled = false;
    flash(describe(error), "error");
  }
}

// --- the decision audit trail ----------------------------------------------------------------

async function decisionAudit(decisionId) {
  const record = await api("GET", `/decisions/${encodeURIComponent(decisionId)}`);
  const d = record.decision;
  const usage = d.usage;
  clear(
    view,
    h("h1", {}, `Decision ${record.decision_id}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Event"), h("dd", {}, `${record.event_type} from ${record.source} (${record.event_id})`),
      h("dt", {}, "Customer"), h("dd", {}, record.customer_id ? h("a", { href: `#/customer/${encodeURIComponent(record.customer_id)}` }, record.customer_id) : "–"),
      h("dt", {}, "Decided"), h("dd", {}, when(record.created_at)),
      h("dt", {}, "Brain"), h("dd", {}, `${d.brain}${d.rule ? ` (rule ${d.rule})` : ""}${d.fallback_reason ? ` — fell back: ${d.fallback_reason}` : ""}`),
      h("dt", {}, "Action"), h("dd", {}, `${d.action}, confidence ${Number(d.confidence).toFixed(2)}`),
      h("dt", {}, "Reason"), h("dd", {}, d.reason),
      record.guardrail ? [h("dt", {}, "Held because"), h("dd", {}, record.guardrail)] : null,
      h("dt", {}, "Outcome"), h("dd", { id: "outcome" }, badge(record.outcome)),
      record.resolved_by ? [h("dt", {}, "Resolved"), h("dd", {}, `by ${record.resolved_by} at ${when(record.resolved_at)}`)] : null,
      record.review_id ? [h("dt", {}, "Review"), h("dd", {}, h("a", { href: `#/review/${encodeURIComponent(record.review_id)}` }, record.review_id))] : null,
      record.error ? [h("dt", {}, "Error"), h("dd", { class: "error" }, record.error)] : null,
    ),
    h("h2", {}, "Inputs"),
    json(record.inputs),
    h("h2", {}, "Planned workflow calls"),
    table([["Workflow", (c) => c.workflow], ["Input", (c) => json(c.input)], ["Retry of", (c) => c.retry_of || "–"]], d.calls, "No workflow calls."),
    h("h2", {}, "Tool calls"),
    table(
      [["Tool", (t) => t.name], ["Arguments", (t) => json(t.arguments)], ["OK", (t) => (t.ok ? "yes" : "no")], ["Result", (t) => h("pre", { class: "json" }, t.result)]],
      d.tool_calls,
      "No tool calls (the policy brain decides without a model).",
    ),
    h("h2", {}, "Tokens and cost"),
    usage
      ? h("p", {}, `${usage.model}: ${usage.requests} request(s), ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens, about $${Number(usage.estimated_cost_usd).toFixed(4)}`)
      : h("p", { class: "muted" }, "No model was asked: no tokens, no cost."),
    h("h2", {}, "Tray executions"),
    table([["Workflow", (e) => e.workflow], ["Execution", (e) => e.execution_id || "–"], ["HTTP", (e) => String(e.status_code)]], record.executions, "Nothing ran in Tray."),
  );
}

async function customerDecisions(customerId) {
  const records = await api("GET", `/customers/${encodeURIComponent(customerId)}/decisions`);
  clear(
    view,
    h("h1", {}, `Customer ${customerId}`),
    table(
      [
        ["When", (r) => when(r.created_at)],
        ["Event", (r) => r.event_type],
        ["Action", (r) => r.decision.action],
        ["Outcome", (r) => badge(r.outcome)],
        ["Decision", (r) => h("a", { href: `#/decision/${encodeURIComponent(r.decision_id)}` }, r.decision_id)],
      ],
      records,
      "No decisions for this customer.",
    ),
  );
}

// --- held work and incidents -----------------------------------------------------------------

const WORK_STATES = ["held", "in_review", "failed", "acting", "decided", "received"];

async function workAndIncidents(query) {
  const state = query.get("state") || "held";
  const [items, incidents] = await Promise.all([api("GET", `/work?state=${encodeURIComponent(state)}`), api("GET", "/incidents")]);
  const stateSelect = h("select", { name: "state", "aria-label": "work state" }, WORK_STATES.map((s) => h("option", { value: s, selected: s === state }, s)));
  stateSelect.addEventListener("change", () => go(`#/work?state=${stateSelect.value}`));
  const actions = (w) => {
    const release = h("button", { type: "button", class: "small" }, "Release");
    release.addEventListener("click", () => act(release, `/work/${encodeURIComponent(w.work_id)}/release`, undefined, `Released ${w.work_id}.`));
    const reason = h("input", { class: "small", placeholder: "reason to cancel", "aria-label": "reason to cancel" });
    const cancel = h("button", { type: "button", class: "small reject" }, "Cancel");
    cancel.addEventListener("click", () => {
      if (!reason.value.trim()) return flash("Say why you cancel it.", "error");
      return act(cancel, `/work/${encodeURIComponent(w.work_id)}/cancel`, { reason: reason.value.trim() }, `Cancelled ${w.work_id}.`);
    });
    return ["held", "failed"].includes(w.state) ? h("span", { class: "row-actions" }, release, reason, cancel) : "–";
  };
  clear(
    view,
    h("h1", {}, "Held work and incidents"),
    h("h2", {}, "Open incidents"),
    table(
      [
        ["Kind", (i) => badge(i.kind)],
        ["What", (i) => i.key],
        ["Reason", (i) => i.reason],
        ["Opened", (i) => when(i.opened_at)],
        ["Next probe", (i) => when(i.next_probe_at)],
        ["Probes", (i) => String(i.probes)],
        ["Holding", (i) => String(i.held_items)],
      ],
      incidents,
      "No open incidents.",
    ),
    h("h2", {}, "Work ", stateSelect),
    table(
      [
        ["Since", (w) => when(w.updated_at)],
        ["Work", (w) => w.work_id],
        ["Event", (w) => w.event_type || w.kind],
        ["Customer", (w) => w.customer_id || "–"],
        ["Reason", (w) => w.reason || "–"],
        ["Attempts", (w) => String(w.attempts.length)],
        [
          "Links",
          (w) => [
            w.decision_id ? h("a", { href: `#/decision/${encodeURIComponent(w.decision_id)}` }, "audit") : null,
            w.review_id ? [" ", h("a", { href: `#/review/${encodeURIComponent(w.review_id)}` }, "review")] : null,
          ],
        ],
        ["", actions],
      ],
      items,
      `No ${state} work.`,
    ),
  );
}

// --- today's summary -------------------------------------------------------------------------

async function summary(day) {
  const today = new Date().toISOString().slice(0, 10);
  day = day || today;
  const data = await api("GET", `/summary/${encodeURIComponent(day)}`);
  const picker = h("input", { type: "date", name: "day", value: day, "aria-label": "day" });
  picker.addEventListener("change", () => picker.value && go(`#/summary/${picker.value}`));
  const cards = Object.entries(data.totals).map(([kind, count]) => h("div", { class: "card stat" }, h("div", { class: "stat-value" }, String(count)), h("div", { class: "muted" }, kind)));
  if (data.held_work !== null && data.held_work !== undefined) cards.push(h("div", { class: "card stat" }, h("div", { class: "stat-value" }, String(data.held_work)), h("div", { class: "muted" }, "held work now")));
  const workflows = [...data.workflows].sort((a, b) => a.workflow.localeCompare(b.workflow));
  clear(
    view,
    h("h1", {}, day === today ? "Today's summary " : `Summary of ${day} `, picker),
    h("div", { class: "stats" }, cards),
    h("h2", {}, "Failure rate per workflow"),
    workflows.some((w) => w.total > 0) ? failureRateChart(workflows) : h("p", { class: "muted" }, "No workflow activity on this day."),
    h("h2", {}, "Outcomes per workflow"),
    workflows.some((w) => w.total > 0) ? outcomeChart(workflows) : null,
    h("h2", {}, "Flags"),
    data.flags.length ? h("ul", { class: "flags" }, data.flags.map((f) => h("li", {}, f))) : h("p", { class: "muted" }, "Nothing flagged."),
    data.open_incidents.length ? [h("h2", {}, "Open incidents"), h("ul", {}, data.open_incidents.map((i) => h("li", {}, i)))] : null,
    h("h2", {}, "Notes"),
    table([["At", (n) => when(n.at)], ["Kind", (n) => n.kind], ["Workflow", (n) => n.workflow || "–"], ["Outcome", (n) => n.outcome], ["Note", (n) => n.note]], data.notes, "No notes."),
  );
}

// --- wiring ----------------------------------------------------------------------------------

document.getElementById("sign-out").addEventListener("click", () => {
  setToken(null);
  if (signInMode.mode === "jwt") return location.assign(signOutUrl(signInMode)); // ends the hosted UI session too
  flash("Signed out.");
  go("#/signin");
});
document.getElementById("decision-lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = document.getElementById("decision-id").value.trim();
  if (id) go(`#/decision/${encodeURIComponent(id)}`);
});
window.addEventListener("hashchange", () => {
  flashBoxClearOnNavigate();
  route();
});

let lastHash = location.hash;
function flashBoxClearOnNavigate() {
  // A message belongs to the screen it was shown on (an action re-renders the same screen).
  if (location.hash !== lastHash) flash("");
  lastHash = location.hash;
}

async function start() {
  signInMode = await signInConfig();
  if (signInMode.mode === "jwt") {
    setRoutePrefix(signInMode.api_prefix);
    try {
      const idToken = await finishSignIn(signInMode);
      if (idToken) setToken(idToken);
    } catch (error) {
      flash(describe(error), "error");
    }
  }
  route();
}

start();
