// The REST API client every page uses. It holds the session token, turns error answers into
// ApiError with the server's code and message, and sends the browser to sign-in on a 401.

const TOKEN_KEY = "berth.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

// Path segments are percent-encoded once, as the API expects (`team/app` → `team%2Fapp`).
export function seg(value) {
  return encodeURIComponent(value);
}

export function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

// `api("/workspaces")` → parsed JSON. Options: method, body (JSON), headers, signal,
// raw (return the Response), allowSignedOut (do not redirect on 401).
export async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let body = options.body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== "string") {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: options.method || "GET",
      headers,
      body,
      signal: options.signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "Berth could not be reached. Check your connection and try again.");
  }
  if (response.status === 401 && !options.allowSignedOut) {
    session.token = null;
    const back = location.pathname + location.search;
    location.assign(`/login${query({ next: back === "/login" ? "" : back })}`);
    throw new ApiError(401, "unauthorized", "Your session has ended. Sign in again.");
  }
  if (!response.ok) {
    let code = "error";
    let message = `The server answered ${response.status}.`;
    try {
      const answer = await response.json();
      if (answer && answer.error) {
        code = answer.error.code;
        message = answer.error.message;
      }
    } catch {
      // Not JSON: keep the generic message.
    }
    throw new ApiError(response.status, code, message);
  }
  if (options.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}
