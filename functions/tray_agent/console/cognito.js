// Deployed sign-in: the Cognito hosted UI, authorization code with PKCE (no client secret in a
// browser). The ID token it returns names the reviewer (email, cognito:groups) and is what API
// Gateway's JWT authorizer verifies; it is kept for this tab only, like a typed token locally.

const VERIFIER_KEY = "tray-agent.pkce-verifier";
const STATE_KEY = "tray-agent.pkce-state";

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

// The app client's callback URL: this very page, without query or hash.
export function redirectUri() {
  return location.origin + location.pathname;
}

export async function startSignIn(config) {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: "openid email profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${config.domain_url}/oauth2/authorize?${query}`);
}

// Back from the hosted UI with ?code=&state=: the ID token, or null when this is no such return.
export async function finishSignIn(config) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return null;
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  history.replaceState(null, "", redirectUri() + location.hash); // the code is single-use: drop it
  if (!verifier || params.get("state") !== expected) throw new Error("the sign-in answer does not match this tab; sign in again");
  const response = await fetch(`${config.domain_url}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.client_id,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  if (!response.ok) throw new Error(`the identity provider refused the sign-in (HTTP ${response.status})`);
  const tokens = await response.json();
  return tokens.id_token || null;
}

export function signOutUrl(config) {
  const query = new URLSearchParams({ client_id: config.client_id, logout_uri: redirectUri() });
  return `${config.domain_url}/logout?${query}`;
}
