// The console's only way to the API: the same JSON routes every client uses, with the
// reviewer's bearer token (typed at sign-in, kept for this tab only in sessionStorage).

const TOKEN_KEY = "tray-agent.reviewer-token";

// The API sits where the console does, minus "/console/…" (a named stage keeps its prefix).
export const apiBase = location.pathname.replace(/\/console(\/.*)?$/, "");

// Deployed with Cognito, every call goes under the prefix API Gateway's JWT authorizer guards.
let routePrefix = "";

export function setRoutePrefix(prefix) {
  routePrefix = prefix || "";
}

// How this deployment signs reviewers in (GET /console/sign-in): "tokens" or "jwt" (Cognito).
export async function signInConfig() {
  try {
    const response = await fetch(apiBase + "/console/sign-in", { cache: "no-store" });
    if (response.ok) return await response.json();
  } catch {
    // an older API without the route: typed tokens, as before
  }
  return { mode: "tokens" };
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && (body.message || body.error)) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.body = body;
  }
}

function headers(json) {
  const h = { Authorization: `Bearer ${token() || ""}`, Accept: "application/json" };
  if (json) h["Content-Type"] = "application/json";
  return h;
}

export async function api(method, path, body) {
  const response = await fetch(apiBase + routePrefix + path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A binary resource (a PO page image) as an object URL: <img src> cannot send the token.
export async function apiImage(path) {
  const response = await fetch(apiBase + routePrefix + path, { headers: headers(false) });
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw new ApiError(response.status, data);
  }
  const pages = Number(response.headers.get("X-Page-Count") || "1");
  return { url: URL.createObjectURL(await response.blob()), pages };
}
