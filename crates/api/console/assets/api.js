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

// Browsers refuse storage to pages framed by another site; the console then acts signed out
// (and app.js offers to open it in a window of its own) instead of failing.
export function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export const session = {
  get token() {
    return storage()?.getItem(TOKEN_KEY) ?? null;
  },
  set token(value) {
    if (value) storage()?.setItem(TOKEN_KEY, value);
    else storage()?.removeItem(TOKEN_KEY);
  },
};

// Keeps only the newest of overlapping requests, for search as you type: `next()` aborts the
// previous request and gives the new one's signal; `isLatest(signal)` tells a late answer to
// stay away from the page.
export function latestRequest() {
  let controller = null;
  return {
    next() {
      controller?.abort();
      controller = new AbortController();
      return controller.signal;
    },
    isLatest(signal) {
      return controller !== null && controller.signal === signal;
    },
  };
}

// The ApiError for an answer that was not ok: the server's code and message when its body is
// the API's error shape, a generic sentence otherwise. Used by `api` and by the upload dialog,
// which sends with XMLHttpRequest to see upload progress.
export function errorFromAnswer(status, bodyText) {
  let code = "error";
  let message = `The server answered ${status}.`;
  try {
    const answer = JSON.parse(bodyText);
    if (answer && answer.error) {
      code = answer.error.code;
      message = answer.error.message;
    }
  } catch {
    // Not JSON: keep the generic message.
  }
  return new ApiError(status, code, message);
}

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
    throw errorFromAnswer(response.status, await response.text().catch(() => ""));
  }
  if (options.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}
