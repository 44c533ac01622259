// The public share routes (SMH API 13.8-13.11) and the visitor's share access token.
// The token and the extraction code typed live in this module's memory only: never in
// localStorage, sessionStorage, a cookie or the URL bar (docs/shares.md, "The visitor page").

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

// busy counts the calls in flight; #busy shows it (and tests wait for it to reach 0).
let busy = 0;
function track(delta) {
  busy += delta;
  document.getElementById("busy").dataset.busy = busy > 0 ? "1" : "0";
}

async function request(method, url, body) {
  track(1);
  try {
    let resp;
    try {
      resp = await fetch(url, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
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
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!resp.ok) {
      throw new ApiError(resp.status, data?.code || `HTTP${resp.status}`, data?.message || "", data?.requestId || resp.headers.get("X-SMH-Request-Id") || "");
    }
    return data;
  } finally {
    track(-1);
  }
}

// The share this page shows, and what verify gave.
const share = { code: "", extractionCode: "", token: "", until: 0 };

// A share access token lives 10 minutes (13.0); the page verifies again a minute before that.
const tokenLife = 10 * 60 * 1000;
const renewBefore = 60 * 1000;

export function setShareCode(code) {
  share.code = code;
}

function codePath() {
  return encodeURIComponent(share.code);
}

// urlDetail answers the share's public facts (13.8).
export function urlDetail() {
  return request("GET", `/api/v1/share/url-detail/${codePath()}`);
}

// verify trades the extraction code ("" when the share has none) for a share access token
// (13.9), and keeps both in memory so that an expired token is renewed without asking again.
export async function verify(extractionCode) {
  const answer = await request("POST", `/api/v1/share/verify/${codePath()}`, { extractionCode });
  share.extractionCode = extractionCode;
  share.token = answer.accessToken;
  // Trust the server's expiry unless the two clocks disagree so much that it looks wrong.
  const left = Date.parse(answer.expireTime) - Date.now();
  share.until = Date.now() + (left > 2 * renewBefore && left <= tokenLife + renewBefore ? left : tokenLife) - renewBefore;
}

async function accessToken() {
  if (!share.token || Date.now() >= share.until) {
    await verify(share.extractionCode);
  }
  return share.token;
}

// chainPath is the inode chain from the share root as one path segment (13.10: the SDK sends
// it URL-encoded, "/" as %2F).
function chainPath(chain) {
  return `/api/v1/share/file/${codePath()}/${encodeURIComponent(chain.join("/"))}`;
}

// fileURL answers a preview, download or zip URL of the entry at the end of chain (zip: a
// folder, or the whole share for []), with a fresh share access token in its query (for <img>,
// <video> and download links). ?zip is OpenSMH's folder download (docs/shares.md).
export async function fileURL(chain, flag, extra = {}) {
  const q = new URLSearchParams({ [flag]: "", ...extra, access_token: await accessToken() });
  return `${chainPath(chain)}?${q}`;
}

// list answers one page of the directory at the end of chain (13.10; [] is the share root).
// A token the server no longer takes (it expired early, or the server restarted) is renewed
// once with the code kept in memory.
export async function list(chain, marker, limit) {
  for (let attempt = 0; ; attempt++) {
    const q = new URLSearchParams({ list: "", limit: String(limit), access_token: await accessToken() });
    if (marker) {
      q.set("marker", marker);
    }
    try {
      return await request("GET", `${chainPath(chain)}?${q}`);
    } catch (err) {
      if (attempt === 0 && err instanceof ApiError && err.code === "InvalidAccessToken") {
        share.token = "";
        continue;
      }
      throw err;
    }
  }
}
