// The search box of the file browser: a name search (SMH API 8.2, search-fs) in the current
// directory or the whole space, results with their directory, and "load more" following
// nextMarker. A library without enableSearch answers 400 SearchNotEnabled: the results panel
// says so (with the way to turn it on) instead of an error notice.

import { ApiError, apiURL, business, encodePath } from "./api.js";
import { t } from "./i18n.js";
import { $, clearError, currentEpoch, el, formatBytes, guarded } from "./ui.js";

// host is the file browser: its view ({lib, space, dir}), spaceHash(lib, space, dir) and
// reveal(dir, name), which opens a directory with one entry picked out.
let host = null;

// The search shown: its request body (without marker) and the next page's marker.
const current = { body: null, marker: "", epoch: 0 };

// A page of results; the API allows 1–100.
const searchPage = 50;

export function wireSearch(browser) {
  host = browser;
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    startSearch();
  });
  $("search-more").addEventListener("click", () => guarded(() => searchPageOf(true)));
  $("search-close").addEventListener("click", closeSearch);
}

function searchURL() {
  const lib = encodeURIComponent(host.view.lib.libraryId);
  const space = encodeURIComponent(host.view.space);
  return `/api/v1/search/${lib}/${space}/search-fs`;
}

// keywordsOf splits the typed text into keywords (spaces separate them; the API ORs them).
function keywordsOf(text) {
  return [...new Set(text.split(/\s+/).filter(Boolean))].slice(0, 100);
}

async function startSearch() {
  const keywords = keywordsOf($("search-input").value);
  if (keywords.length === 0) {
    $("search-input").focus();
    return;
  }
  clearError();
  // scope: a directory path from the space's root, "" = the root (decision 22).
  const scope = $("search-scope").value === "here" ? host.view.dir : "";
  current.body = { type: "filename", keywords, scope };
  current.marker = "";
  current.epoch = currentEpoch();
  $("search-results").hidden = false;
  $("search-table").tBodies[0].replaceChildren();
  $("search-more").hidden = true;
  setStatus("running", t("searching"));
  await guarded(() => searchPageOf(false));
}

function setStatus(state, text) {
  $("search-results").dataset.state = state;
  $("search-status").replaceChildren(text);
}

// searchPageOf asks for the first page of the search, or its next one when more is set.
async function searchPageOf(more) {
  const body = { ...current.body };
  if (more && current.marker) {
    body.marker = current.marker;
  }
  const epoch = current.epoch;
  let data;
  try {
    data = await business(host.view.lib.libraryId, "POST", searchURL(),
      { query: { limit: String(searchPage) }, body });
  } catch (err) {
    if (epoch !== currentEpoch()) {
      return;
    }
    if (err instanceof ApiError && err.code === "SearchNotEnabled") {
      showNotEnabled();
      return;
    }
    setStatus("error", t("searchFailed"));
    throw err;
  }
  if (epoch !== currentEpoch() || epoch !== current.epoch) {
    return;
  }
  const rows = [];
  for (const item of data?.contents || []) {
    rows.push(await resultRow(item));
  }
  const tbody = $("search-table").tBodies[0];
  tbody.append(...rows);
  // nextMarker may be a number or a string; absent or empty means no more (8.2).
  const next = data?.nextMarker;
  current.marker = next === undefined || next === null ? "" : String(next);
  $("search-more").hidden = current.marker === "";
  const n = tbody.rows.length;
  $("search-table-wrap").hidden = n === 0;
  if (n === 0 && current.marker === "") {
    setStatus("empty", t("searchNone"));
  } else {
    setStatus("results", current.marker ? t("searchSomeMore", { n }) : n === 1 ? t("searchOne") : t("searchN", { n }));
  }
}

// showNotEnabled explains a 400 SearchNotEnabled and links to the library's settings.
function showNotEnabled() {
  $("search-table-wrap").hidden = true;
  $("search-more").hidden = true;
  $("search-results").dataset.state = "disabled";
  const settings = `#/library/${encodeURIComponent(host.view.lib.libraryId)}/settings`;
  $("search-status").replaceChildren(t("searchNotEnabled"), " ",
    el("a", { href: settings, id: "search-enable" }, t("searchEnableIt")));
}

// pathOf answers an item's path from the space's root. Items carry path (8.1: the entry's own
// name last; a string or an array of segments; docs/console.md): the name is added when the
// path names only the directory.
export function pathOf(item) {
  const raw = Array.isArray(item.path) ? item.path.join("/") : String(item.path ?? "");
  const parts = raw.split("/").filter(Boolean);
  if (parts.length > 0 && parts[parts.length - 1] === item.name) {
    return parts.join("/");
  }
  return [...parts, item.name].join("/");
}

function parentOf(path) {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

async function resultRow(item) {
  const path = pathOf(item);
  const dir = parentOf(path);
  const isDir = item.type === "dir";
  const id = host.view.lib.libraryId;
  const space = host.view.space;
  const icon = el("span", { class: "icon", "aria-hidden": "true" }, isDir ? "DIR" : "FILE");
  const open = el("button", { type: "button", class: "entry-open", dataset: { action: "open" }, "aria-label": `${t("openEntry")}: ${path}`,
    onclick: () => (isDir ? host.go(path) : host.reveal(dir, item.name)) }, item.name);
  const actions = [];
  if (!isDir) {
    const href = await apiURL(id, `/api/v1/file/${encodeURIComponent(id)}/${encodeURIComponent(space)}/${encodePath(path)}`,
      { content_disposition: "attachment" });
    actions.push(el("a", { class: "button ghost", href, download: item.name, dataset: { action: "download" },
      "aria-label": `${t("download")}: ${path}` }, t("download")));
  }
  actions.push(el("button", { type: "button", class: "ghost", dataset: { action: "open-dir" }, "aria-label": `${t("openFolder")}: /${dir}`,
    onclick: () => host.reveal(dir, item.name) }, t("openFolder")));
  return el("tr", { dataset: { path, name: item.name, kind: isDir ? "dir" : "file" } },
    el("td", { "data-label": t("colName") }, el("div", { class: "entry" }, icon, open)),
    el("td", { class: "sr-dir", "data-label": t("colFolder") }, `/${dir}`),
    el("td", { "data-label": t("colSize") }, isDir ? t("kindDir") : formatBytes(item.size)),
    el("td", { "data-label": t("colActions") }, el("div", { class: "actions" }, ...actions)));
}

function closeSearch() {
  current.epoch = -1;
  $("search-results").hidden = true;
  $("search-results").dataset.state = "";
  $("search-table").tBodies[0].replaceChildren();
  $("search-status").replaceChildren();
}

// clearSearch hides the results (another library or space is shown); the typed words stay.
export function clearSearch() {
  closeSearch();
}
