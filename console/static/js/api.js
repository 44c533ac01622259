// Calls to the admin API (operator key) and the business API (tokens the console mints for the
// operator with the library secret), with the SMH error body turned into an ApiError.

// The operator key lives in sessionStorage: it survives a reload of the tab and ends with the
// browser session; it never goes to localStorage or into a URL.
const keySlot = "opensmh.operatorKey";

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

export function operatorKey() {
  return sessionStorage.getItem(keySlot) || "";
}

export function setOperatorKey(key) {
  if (key) {
    sessionStorage.setItem(keySlot, key);
  } else {
    sessionStorage.removeItem(keySlot);
  }
  tokens.clear();
}

// busy counts the calls in flight; #busy shows it (and tests wait for it to reach 0).
let busy = 0;
function track(delta) {
  busy += delta;
  document.getElementById("busy").dataset.busy = busy > 0 ? "1" : "0";
}

// request sends one call and answers its parsed JSON body (null when empty).
async function request(method, url, { body, headers = {} } = {}) {
  track(1);
  try {
    let resp;
    try {
      resp = await fetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiError(0, "NetworkError", "", "");
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!resp.ok) {
      const requestId = data?.requestId || resp.headers.get("X-SMH-Request-Id") || "";
      throw new ApiError(resp.status, data?.code || `HTTP${resp.status}`, data?.message || text.slice(0, 200), requestId);
    }
    return data;
  } finally {
    track(-1);
  }
}

// libraryPath answers the admin API path of a library, with rest ("/secret", ...) after it.
export function libraryPath(libraryId, rest = "") {
  return `/admin/v1/libraries/${encodeURIComponent(libraryId)}${rest}`;
}

// admin calls the admin API with the operator key.
export function admin(method, path, body) {
  return request(method, path, { body, headers: { Authorization: `Bearer ${operatorKey()}` } });
}

// tokens caches one access token per library, minted with the library's secret.
const tokens = new Map();

// tokenFor answers an admin access token for the library, minting one when none is cached or
// the cached one is near its end. The token acts for the operator (user "opensmh-console").
export async function tokenFor(libraryId) {
  const cached = tokens.get(libraryId);
  if (cached && cached.until > Date.now()) {
    return cached.token;
  }
  const { librarySecret } = await admin("GET", libraryPath(libraryId, "/secret"));
  const q = new URLSearchParams({
    library_id: libraryId,
    library_secret: librarySecret,
    grant: "admin",
    user_id: "opensmh-console",
    period: "3600",
  });
  const minted = await request("POST", `/api/v1/token?${q}`);
  // Every use renews the token; renewing it ourselves a while before the period ends is simpler.
  tokens.set(libraryId, { token: minted.accessToken, until: Date.now() + Math.max(60, minted.expiresIn - 300) * 1000 });
  return minted.accessToken;
}

// forgetToken drops the cached token of a library (after a secret reset or a delete).
export function forgetToken(libraryId) {
  tokens.delete(libraryId);
}

// encodePath encodes each segment of a slash-separated path (SMH API 12.3).
export function encodePath(path) {
  return path.split("/").filter(Boolean).map(encodeURIComponent).join("/");
}

// apiURL answers a business-API URL with the library's token in the query.
export async function apiURL(libraryId, path, query = {}) {
  const token = await tokenFor(libraryId);
  const q = new URLSearchParams({ ...query, access_token: token });
  return `${path}?${q}`;
}

// business calls the business API of a library with its token.
export async function business(libraryId, method, path, { query = {}, body } = {}) {
  return request(method, await apiURL(libraryId, path, query), { body });
}

// putBytes sends a file to an upload ticket's target with its headers, reporting progress
// (XMLHttpRequest, because fetch reports no upload progress).
export function putBytes(ticket, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `${location.protocol}//${ticket.domain}${ticket.path}`);
    for (const [k, v] of Object.entries(ticket.headers || {})) {
      xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        onProgress(e.loaded, e.total);
      }
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve();
        return;
      }
      // The data endpoint answers COS-style XML errors.
      const doc = new DOMParser().parseFromString(xhr.responseText || "<Error/>", "application/xml");
      const pick = (tag) => doc.getElementsByTagName(tag)[0]?.textContent || "";
      reject(new ApiError(xhr.status, pick("Code") || `HTTP${xhr.status}`, pick("Message"), pick("RequestId") || xhr.getResponseHeader("X-SMH-Request-Id") || ""));
    };
    xhr.onerror = () => reject(new ApiError(0, "NetworkError", "", ""));
    track(1);
    xhr.onloadend = () => track(-1);
    xhr.send(file);
  });
}
