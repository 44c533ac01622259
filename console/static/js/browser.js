// The library detail page: usage, the spaces of a multi-tenant library, and a file browser for a
// space, all through the business API with a token minted for the operator.

import { admin, ApiError, apiURL, business, encodePath, libraryPath, putBytes } from "./api.js";
import { clearBatch, rowSelect, selectionChanged, wireBatch } from "./batch.js";
import { clearFavorites, starButton, wireFavorites } from "./favorites.js";
import { t } from "./i18n.js";
import { afterDelete, binOn, hideLifecycle, openVersions, showLifecycle, showQuota, wireLifecycle } from "./lifecycle.js";
import { clearSearch, wireSearch } from "./search.js";
import { clearShares, wireShares } from "./shares.js";
import { $, askName, clearError, confirmAction, currentEpoch, el, formatBytes, formatCount, formatTime, guarded, showError } from "./ui.js";

// The page's state: which library, space and directory it shows.
const view = { lib: null, space: null, dir: "", marker: "" };

const listLimit = 100;

// reveal is the entry to pick out once its directory is listed (after "open" in the search
// results or the favorites view): {dir, name}, or null.
let reveal = null;

// host is what the search, batch and favorites views use of the browser.
const host = {
  view,
  refresh: () => refresh(),
  // go opens a directory of the space shown.
  go: (dir) => { location.hash = spaceHash(view.lib.libraryId, view.space, dir); },
  // reveal opens a directory with one of its entries picked out (scrolled to and focused).
  reveal: (dir, name) => {
    reveal = { dir, name };
    const hash = spaceHash(view.lib.libraryId, view.space, dir);
    if (location.hash === hash) {
      pickOut();
    } else {
      location.hash = hash;
    }
  },
};

function libPath(lib) {
  return `#/library/${encodeURIComponent(lib.libraryId)}`;
}

// spaceHash answers the route of a directory of a space.
function spaceHash(libraryId, space, dir) {
  const rest = dir ? `/${encodePath(dir)}` : "";
  return `#/library/${encodeURIComponent(libraryId)}/space/${encodeURIComponent(space)}${rest}`;
}

function join(dir, name) {
  return dir ? `${dir}/${name}` : name;
}

export function wireBrowser() {
  $("mkdir").addEventListener("click", makeDirectory);
  $("upload-input").addEventListener("change", uploadChosen);
  $("upload-label").addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      $("upload-input").click();
    }
  });
  $("browser-more").addEventListener("click", () => guarded(() => listDirectory(true)));
  $("new-space").addEventListener("click", createSpace);
  wireLifecycle();
  wireSearch(host);
  wireBatch(host);
  wireFavorites(host);
  wireShares(host);
}

// showDetail renders the detail page of a library at a space and directory (space null: the
// single-tenant space, or the space list of a multi-tenant library).
export async function showDetail(libraryId, space, dir) {
  const epoch = currentEpoch();
  const lib = await guarded(() => admin("GET", libraryPath(libraryId)));
  if (epoch !== currentEpoch()) {
    return;
  }
  if (!lib) {
    $("detail-page").dataset.state = "error";
    return;
  }
  const ext = lib.libraryExtension || {};
  view.lib = lib;
  view.space = space ?? (ext.isMultiSpace ? null : "-");
  view.dir = dir || "";
  $("detail-title").textContent = lib.name;
  $("detail-settings").href = `${libPath(lib)}/settings`;
  showUsage(lib);
  $("spaces").hidden = !ext.isMultiSpace;
  if (ext.isMultiSpace) {
    await guarded(listSpaces);
  }
  $("browser").hidden = view.space === null;
  if (view.space !== null) {
    // Directories exist in file libraries; a multi-album library has albums at its root only.
    $("mkdir").hidden = !(ext.isFileLibrary || albumLevel());
    $("mkdir").textContent = albumLevel() ? t("newAlbum") : t("newDirectory");
    renderCrumbs();
    await guarded(() => listDirectory(false));
    await showLifecycle(lib, view.space, refresh);
  }
  $("detail-page").dataset.state = "ready";
}

// showUsage shows a library's usage figures (raw numbers in data-value).
function showUsage(lib) {
  setUsage("usage-size", lib.size, formatBytes(lib.size));
  setUsage("usage-dirs", lib.dirNum, formatCount(lib.dirNum));
  setUsage("usage-files", lib.fileNum, formatCount(lib.fileNum));
}

function setUsage(id, raw, text) {
  $(id).dataset.value = String(raw ?? 0);
  $(id).textContent = text;
}

// albumLevel: the root of a multi-album library holds albums.
function albumLevel() {
  return Boolean(view.lib.libraryExtension?.isMultiAlbum) && view.dir === "";
}

async function listSpaces() {
  const id = view.lib.libraryId;
  const data = await business(id, "GET", `/api/v1/space/${encodeURIComponent(id)}/list`, { query: { limit: "1000" } });
  const spaces = data?.list || [];
  $("spaces-empty").hidden = spaces.length > 0;
  $("space-list").replaceChildren(...spaces.map((s) =>
    el("button", { type: "button", class: "ghost", dataset: { spaceId: s.spaceId }, "aria-pressed": String(s.spaceId === view.space),
      onclick: () => { location.hash = spaceHash(id, s.spaceId, ""); } }, s.spaceId)));
}

async function createSpace() {
  const id = view.lib.libraryId;
  const data = await guarded(() => business(id, "POST", `/api/v1/space/${encodeURIComponent(id)}`));
  if (data?.spaceId) {
    location.hash = spaceHash(id, data.spaceId, "");
  }
}

function renderCrumbs() {
  const id = view.lib.libraryId;
  const parts = view.dir ? view.dir.split("/") : [];
  const crumbs = [el("a", { href: spaceHash(id, view.space, ""), dataset: { path: "" } },
    view.lib.libraryExtension?.isMultiAlbum ? t("rootAlbums") : t("root"))];
  parts.forEach((p, i) => {
    const path = parts.slice(0, i + 1).join("/");
    crumbs.push(el("span", { class: "sep", "aria-hidden": "true" }, "/"),
      el("a", { href: spaceHash(id, view.space, path), dataset: { path }, "aria-current": i === parts.length - 1 ? "page" : null }, p));
  });
  $("crumbs").replaceChildren(...crumbs);
}

function dirURL(path) {
  const lib = encodeURIComponent(view.lib.libraryId);
  const space = encodeURIComponent(view.space);
  return `/api/v1/directory/${lib}/${space}/${encodePath(path)}`;
}

function fileURL(path) {
  const lib = encodeURIComponent(view.lib.libraryId);
  const space = encodeURIComponent(view.space);
  return `/api/v1/file/${lib}/${space}/${encodePath(path)}`;
}

// listDirectory shows the current directory, or its next page when more is set.
async function listDirectory(more) {
  const query = { "by-marker": "1", limit: String(listLimit), with_favorite_status: "1" };
  if (more && view.marker) {
    query.marker = view.marker;
  }
  const epoch = currentEpoch();
  const data = await business(view.lib.libraryId, "GET", dirURL(view.dir), { query });
  const rows = [];
  for (const item of data?.contents || []) {
    rows.push(await entryRow(item));
  }
  if (epoch !== currentEpoch()) {
    return;
  }
  const body = $("file-table").tBodies[0];
  if (more) {
    body.append(...rows);
  } else {
    body.replaceChildren(...rows);
  }
  view.marker = data?.nextMarker || "";
  $("browser-more").hidden = !view.marker;
  $("browser-empty").hidden = body.rows.length > 0;
  selectionChanged();
  pickOut();
}

// pickOut marks the entry reveal names when its directory is the one listed.
function pickOut() {
  if (!reveal || reveal.dir !== view.dir) {
    return;
  }
  const { name } = reveal;
  reveal = null;
  const body = $("file-table").tBodies[0];
  for (const row of body.rows) {
    delete row.dataset.highlight;
  }
  const row = [...body.rows].find((r) => r.dataset.name === name);
  if (row) {
    row.dataset.highlight = "1";
    row.scrollIntoView({ block: "center" });
    row.querySelector("button, a")?.focus({ preventScroll: true });
  }
}

async function entryRow(item) {
  const path = join(view.dir, item.name);
  const isDir = item.type === "dir";
  const id = view.lib.libraryId;
  let visual;
  if (isDir) {
    visual = el("span", { class: "icon", "aria-hidden": "true" }, "DIR");
  } else if (item.type === "image" || item.type === "video" || /^(image|video)\//.test(item.contentType || "")) {
    // The preview answers a 302 to a signed thumbnail (a video's cover needs ffmpeg on the
    // server; without it the original comes back and the icon stands in).
    const src = await apiURL(id, fileURL(path), { preview: "", size: "80" });
    visual = el("img", { class: "thumb", src, alt: "", loading: "lazy", width: "40", height: "40",
      onerror: (e) => e.target.replaceWith(el("span", { class: "icon", "aria-hidden": "true" }, item.contentType?.startsWith("video/") || item.type === "video" ? "VID" : "IMG")) });
  } else {
    const ext = item.name.includes(".") ? item.name.split(".").pop().slice(0, 4).toUpperCase() : "FILE";
    visual = el("span", { class: "icon", "aria-hidden": "true" }, ext);
  }
  const name = isDir
    ? el("button", { type: "button", class: "entry-open", onclick: () => { location.hash = spaceHash(id, view.space, path); } }, item.name)
    : el("span", { class: "name" }, item.name);
  const actions = [];
  if (!isDir) {
    const href = await apiURL(id, fileURL(path), { content_disposition: "attachment" });
    actions.push(el("a", { class: "button ghost", href, download: item.name, dataset: { action: "download" },
      "aria-label": `${t("download")}: ${item.name}` }, t("download")),
    // Versions stay listed after history is switched off (9.3 purges them), so the action is
    // always there.
    el("button", { type: "button", class: "ghost", dataset: { action: "versions" }, "aria-label": `${t("versions")}: ${item.name}`,
      onclick: () => openVersions(path, item.name) }, t("versions")));
  }
  actions.push(
    el("button", { type: "button", class: "ghost", dataset: { action: "rename" }, "aria-label": `${t("rename")}: ${item.name}`,
      onclick: () => renameEntry(item, path, isDir) }, t("rename")),
    el("button", { type: "button", class: "danger", dataset: { action: "delete" }, "aria-label": `${t("delete")}: ${item.name}`,
      onclick: () => deleteEntry(item, path, isDir) }, t("delete")));
  const kindText = isDir ? (albumLevel() ? t("kindAlbum") : t("kindDir")) : formatBytes(item.size);
  return el("tr", { dataset: { name: item.name, kind: isDir ? "dir" : "file", type: item.type, favorite: item.isFavorite ? "1" : "0" } },
    rowSelect(item.name),
    el("td", { "data-label": t("colName") }, el("div", { class: "entry" }, visual, name, starButton(item.name, path, item.isFavorite))),
    el("td", { "data-label": t("colSize") }, kindText),
    el("td", { "data-label": t("colModified") }, el("time", { datetime: item.modificationTime }, formatTime(item.modificationTime))),
    el("td", { "data-label": t("colActions") }, el("div", { class: "actions" }, ...actions)));
}

async function refresh() {
  clearError();
  await guarded(() => listDirectory(false));
  // Usage changed too.
  const lib = await guarded(() => admin("GET", libraryPath(view.lib.libraryId)));
  if (lib) {
    showUsage(lib);
  }
  await guarded(showQuota);
}

async function makeDirectory() {
  const album = albumLevel();
  const created = await askName(album ? t("newAlbum") : t("newDirectory"), album ? t("albumName") : t("dirName"), "",
    (name) => business(view.lib.libraryId, "PUT", dirURL(join(view.dir, name))));
  if (created !== null) {
    await refresh();
  }
}

async function renameEntry(item, path, isDir) {
  const renamed = await askName(t("renameTitle", { name: item.name }), t("newName"), item.name, async (name) => {
    if (name === item.name) {
      return;
    }
    const target = join(view.dir, name);
    await business(view.lib.libraryId, "PUT", isDir ? dirURL(target) : fileURL(target), { body: { from: path } });
  });
  if (renamed !== null) {
    await refresh();
  }
}

async function deleteEntry(item, path, isDir) {
  // With the recycle bin on the entry can be restored: the dialog says so (5.10).
  const bin = binOn(view.lib);
  const text = isDir
    ? (bin ? t("deleteDirTextBin", { name: item.name }) : t("deleteDirText", { name: item.name }))
    : (bin ? t("deleteFileTextBin", { name: item.name }) : t("deleteFileText", { name: item.name }));
  const ok = await confirmAction(t("deleteEntryTitle", { name: item.name }), text);
  if (!ok) {
    return;
  }
  const done = await guarded(async () => {
    const answer = await business(view.lib.libraryId, "DELETE", isDir ? dirURL(path) : fileURL(path));
    // A directory over the async threshold is deleted by a task (202 {"taskId"}, decision 7).
    if (answer?.taskId) {
      await waitForTask(answer.taskId);
    }
    return answer;
  });
  if (done !== undefined) {
    await refresh();
    await afterDelete(item.name, done);
  }
}

// waitForTask polls the task query (7.1) until the task ends; a failed task throws its error.
async function waitForTask(taskId) {
  const lib = encodeURIComponent(view.lib.libraryId);
  const space = encodeURIComponent(view.space);
  for (;;) {
    const [task] = await business(view.lib.libraryId, "GET", `/api/v1/task/${lib}/${space}/${taskId}`);
    if (task.status !== 202) {
      if (task.status >= 400) {
        throw new ApiError(task.status, task.code || `HTTP${task.status}`, task.message || "", "");
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

// uploadChosen uploads the chosen files one after another into the current directory: begin
// (a ticket), the bytes to the data endpoint with progress, confirm. A name taken already gets
// a new one (conflict strategy rename), as a drop into a folder would.
async function uploadChosen(e) {
  const files = [...e.target.files];
  e.target.value = "";
  if (files.length === 0) {
    return;
  }
  const bar = $("upload-progress");
  const status = $("upload-status");
  const total = files.reduce((n, f) => n + f.size, 0) || 1;
  let before = 0;
  bar.hidden = false;
  bar.value = 0;
  bar.dataset.state = "running";
  clearError();
  for (const [i, file] of files.entries()) {
    status.textContent = t("uploading", { name: file.name, done: i + 1, total: files.length });
    try {
      await uploadOne(file, (sent) => { bar.value = Math.floor(((before + sent) / total) * 100); });
    } catch (err) {
      bar.dataset.state = "error";
      status.textContent = t("uploadFailed", { name: file.name });
      showError(err);
      await guarded(() => listDirectory(false));
      return;
    }
    before += file.size;
  }
  bar.value = 100;
  bar.dataset.state = "done";
  status.textContent = t("uploaded", { n: files.length });
  await refresh();
}

// Files from multipartFrom bytes on go in parts of partSize (3.2): a failed part is sent again
// instead of the whole file, and sizes beyond a simple upload's 5 GiB work.
const multipartFrom = 64 << 20;
const partSize = 16 << 20;
const partAttempts = 3;

async function uploadOne(file, onProgress) {
  const id = view.lib.libraryId;
  const path = join(view.dir, file.name);
  const query = { conflict_resolution_strategy: "rename", filesize: String(file.size) };
  if (file.size < multipartFrom) {
    const ticket = await business(id, "PUT", fileURL(path), { query });
    await putBytes(ticket, file, onProgress);
    await confirm(id, ticket.confirmKey);
  } else {
    await uploadParts(id, path, file, query, onProgress);
  }
}

async function uploadParts(id, path, file, query, onProgress) {
  let ticket = await business(id, "POST", fileURL(path), { query: { ...query, multipart: "" } });
  const confirmKey = ticket.confirmKey;
  try {
    const parts = Math.ceil(file.size / partSize);
    for (let n = 1; n <= parts; n++) {
      const start = (n - 1) * partSize;
      const blob = file.slice(start, Math.min(file.size, start + partSize));
      for (let attempt = 1; ; attempt++) {
        // The ticket's signature expires; renew it a while before (3.5).
        if (ticket.expiration && Date.parse(ticket.expiration) - Date.now() < 5 * 60 * 1000) {
          ticket = { ...(await business(id, "POST", fileURL(confirmKey), { query: { renew: "" } })), confirmKey };
        }
        const target = { ...ticket, path: `${ticket.path}?partNumber=${n}&uploadId=${encodeURIComponent(ticket.uploadId)}` };
        try {
          await putBytes(target, blob, (sent) => onProgress(start + sent));
          break;
        } catch (err) {
          if (attempt >= partAttempts || (err.status >= 400 && err.status < 500)) {
            throw err;
          }
        }
      }
    }
    await confirm(id, confirmKey);
  } catch (err) {
    // Leave nothing half-uploaded behind (3.7); the error that stopped it is what the operator sees.
    await business(id, "DELETE", fileURL(confirmKey), { query: { upload: "" } }).catch(() => {});
    throw err;
  }
}

function confirm(id, confirmKey) {
  return business(id, "POST", fileURL(confirmKey), { query: { confirm: "" } });
}

export function clearBrowser() {
  $("file-table").tBodies[0].replaceChildren();
  $("space-list").replaceChildren();
  $("upload-progress").hidden = true;
  $("upload-progress").dataset.state = "";
  $("upload-status").textContent = "";
  hideLifecycle();
  clearSearch();
  clearBatch();
  clearFavorites();
  clearShares();
  delete $("detail-page").dataset.state;
}
