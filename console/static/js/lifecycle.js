// The data lifecycle views of a library's detail page, for the space being browsed: the recycle
// bin (SMH API 5), a file's history versions (9) and the space's quota with its usage (6, 2.9).
// docs/lifecycle.md says how the server keeps them.

import { apiURL, ApiError, business, encodePath } from "./api.js";
import { t } from "./i18n.js";
import { $, clearError, confirmAction, currentEpoch, el, formatBytes, formatTime, guarded } from "./ui.js";

// The space shown: its library (the admin API's object), space id and what to do after a change
// that moves entries back into the tree (the file browser lists again).
const scope = { lib: null, space: null, treeChanged: async () => {}, marker: "" };

// A bin page: the API allows 100 at most (5.1).
const binPage = 50;
const versionPage = 50;

function enc(s) {
  return encodeURIComponent(s);
}

function recycledURL(id) {
  const base = `/api/v1/recycled/${enc(scope.lib.libraryId)}/${enc(scope.space)}`;
  return id === undefined ? base : `${base}/${enc(String(id))}`;
}

export function wireLifecycle() {
  $("recycle-refresh").addEventListener("click", () => { clearError(); guarded(() => listBin(false)); });
  $("recycle-more").addEventListener("click", () => guarded(() => listBin(true)));
  $("recycle-empty").addEventListener("click", emptyBin);
  $("versions-close").addEventListener("click", () => $("versions-dialog").close());
  $("versions-more").addEventListener("click", () => guarded(() => listVersions(true)));
  $("quota-set").addEventListener("click", editQuota);
}

// binOn answers whether deletes in the library go to the recycle bin.
export function binOn(lib) {
  return Boolean(lib?.libraryExtension?.useRecycleBin);
}

// showLifecycle shows the quota and, when the library keeps one, the recycle bin of a space.
// treeChanged runs after a restore (the restored entry appears in the file browser).
export async function showLifecycle(lib, space, treeChanged) {
  scope.lib = lib;
  scope.space = space;
  scope.treeChanged = treeChanged;
  $("quota").hidden = false;
  $("recycle").hidden = !binOn(lib);
  await guarded(showQuota);
  if (binOn(lib)) {
    await guarded(() => listBin(false));
  }
}

export function hideLifecycle() {
  $("quota").hidden = true;
  $("recycle").hidden = true;
  $("recycle-table").tBodies[0].replaceChildren();
  $("recycle-status").textContent = "";
  $("browser-status").textContent = "";
  if ($("versions-dialog").open) {
    $("versions-dialog").close();
  }
}

// afterDelete tells what a delete from the file browser did: with the bin on the answer carries
// the new item's id (5.10) and the bin is listed again.
export async function afterDelete(name, answer) {
  if (answer && answer.recycledItemId !== undefined) {
    $("browser-status").textContent = t("movedToBin", { name });
    await guarded(() => listBin(false));
  } else {
    $("browser-status").textContent = t("deletedForGood", { name });
  }
}

// ---- Recycle bin ----

// listBin lists the bin, newest removal first (the server's default order, decision 23), or
// its next page when more is set.
async function listBin(more) {
  const epoch = currentEpoch();
  const query = { "by-marker": "1", limit: String(binPage) };
  if (more && scope.marker) {
    query.marker = scope.marker;
  }
  const data = await business(scope.lib.libraryId, "GET", recycledURL(), { query });
  if (epoch !== currentEpoch()) {
    return;
  }
  const rows = (data?.contents || []).map(binRow);
  const body = $("recycle-table").tBodies[0];
  if (more) {
    body.append(...rows);
  } else {
    body.replaceChildren(...rows);
  }
  scope.marker = data?.nextMarker || "";
  $("recycle-more").hidden = !scope.marker;
  $("recycle-none").hidden = body.rows.length > 0;
  $("recycle-empty").disabled = body.rows.length === 0;
}

// originalLocation shows where an item was: its path at deletion from the space's root, its own
// name last (as the API's originalPath has it).
function originalLocation(item) {
  const parts = Array.isArray(item.originalPath) ? item.originalPath : [];
  return `/${parts.join("/")}`;
}

function daysLeft(days) {
  const n = Number(days);
  if (n < 0) {
    return t("keptForever");
  }
  return n === 1 ? t("oneDayLeft") : t("daysLeft", { n });
}

function binRow(item) {
  const id = String(item.recycledItemId);
  const isDir = item.type === "dir";
  return el("tr", { dataset: { recycledId: id, name: item.name, kind: isDir ? "dir" : "file" } },
    el("td", { class: "rb-name", "data-label": t("colName") },
      el("div", { class: "entry" }, el("span", { class: "icon", "aria-hidden": "true" }, isDir ? "DIR" : "FILE"), el("span", { class: "name" }, item.name))),
    el("td", { class: "rb-path", "data-label": t("colOriginalPath") }, originalLocation(item)),
    el("td", { class: "rb-size", "data-label": t("colSize"), dataset: { value: String(item.size ?? "0") } }, formatBytes(item.size)),
    el("td", { class: "rb-removed", "data-label": t("colRemoved") }, el("time", { datetime: item.removalTime }, formatTime(item.removalTime))),
    el("td", { class: "rb-days", "data-label": t("colDaysLeft"), dataset: { days: String(item.remainingTime ?? "") } }, daysLeft(item.remainingTime)),
    el("td", { "data-label": t("colActions") }, el("div", { class: "actions" },
      el("button", { type: "button", class: "ghost", dataset: { action: "restore" }, "aria-label": `${t("restore")}: ${item.name}`,
        onclick: () => restoreItem(item) }, t("restore")),
      el("button", { type: "button", class: "danger", dataset: { action: "purge" }, "aria-label": `${t("purge")}: ${item.name}`,
        onclick: () => purgeItem(item) }, t("purge")))));
}

// restoreItem puts an item back where it was; a name taken there meanwhile gets a new one
// (rename), as the operator cannot answer the API's "ask" from here.
async function restoreItem(item) {
  clearError();
  const answer = await guarded(() => business(scope.lib.libraryId, "POST", recycledURL(item.recycledItemId),
    { query: { restore: "", conflict_resolution_strategy: "rename" } }));
  if (answer === undefined) {
    return;
  }
  const path = Array.isArray(answer?.path) ? answer.path.join("/") : item.name;
  $("recycle-status").textContent = t("restoredTo", { name: item.name, path: `/${path}` });
  await guarded(() => listBin(false));
  await scope.treeChanged();
}

async function purgeItem(item) {
  const ok = await confirmAction(t("purgeTitle", { name: item.name }), t("purgeText", { name: item.name }));
  if (!ok) {
    return;
  }
  clearError();
  const done = await guarded(() => business(scope.lib.libraryId, "DELETE", recycledURL(item.recycledItemId)));
  if (done === undefined) {
    return;
  }
  $("recycle-status").textContent = t("purged", { name: item.name });
  await guarded(() => listBin(false));
  // Purged bytes no longer count.
  await scope.treeChanged();
}

async function emptyBin() {
  const ok = await confirmAction(t("emptyBinTitle"), t("emptyBinText"));
  if (!ok) {
    return;
  }
  clearError();
  const done = await guarded(() => business(scope.lib.libraryId, "DELETE", recycledURL()));
  if (done === undefined) {
    return;
  }
  $("recycle-status").textContent = t("binEmptied");
  await guarded(() => listBin(false));
  await scope.treeChanged();
}

// ---- History versions ----

// The file whose versions the dialog shows.
const versions = { path: "", name: "", marker: "" };

function historyBase() {
  return `/api/v1/directory-history/${enc(scope.lib.libraryId)}/${enc(scope.space)}`;
}

function fileURL(path) {
  return `/api/v1/file/${enc(scope.lib.libraryId)}/${enc(scope.space)}/${encodePath(path)}`;
}

// openVersions opens the version list of the file at path (in the space shown).
export async function openVersions(path, name) {
  versions.path = path;
  versions.name = name;
  versions.marker = "";
  $("versions-title").textContent = t("versionsTitle", { name });
  $("versions-status").textContent = "";
  $("versions-table").tBodies[0].replaceChildren();
  $("versions-none").hidden = true;
  $("versions-more").hidden = true;
  const dialog = $("versions-dialog");
  if (!dialog.open) {
    dialog.showModal();
  }
  await guarded(() => listVersions(false));
  $("versions-close").focus();
}

async function listVersions(more) {
  const query = { limit: String(versionPage) };
  if (more && versions.marker) {
    query.marker = versions.marker;
  }
  const data = await business(scope.lib.libraryId, "GET", `${historyBase()}/history-list/${encodePath(versions.path)}`, { query });
  const rows = [];
  for (const v of data?.contents || []) {
    rows.push(await versionRow(v));
  }
  const body = $("versions-table").tBodies[0];
  if (more) {
    body.append(...rows);
  } else {
    body.replaceChildren(...rows);
  }
  versions.marker = data?.hasMore === false ? "" : data?.nextMarker || "";
  $("versions-more").hidden = !versions.marker;
  // The latest version is always listed first; "none" means no earlier one.
  $("versions-none").hidden = [...body.rows].some((r) => r.dataset.latest !== "1");
}

async function versionRow(v) {
  const latest = Boolean(v.isLatestVersion) || v.id === undefined || v.id === null;
  const id = latest ? "" : String(v.id);
  const label = latest ? t("versionLatest", { n: v.version }) : t("versionN", { n: v.version });
  const query = { content_disposition: "attachment" };
  if (!latest) {
    query.history_id = id;
  }
  const href = await apiURL(scope.lib.libraryId, fileURL(versions.path), query);
  const actions = [el("a", { class: "button ghost", href, download: versions.name, dataset: { action: "download-version" },
    "aria-label": `${t("download")}: ${label}` }, t("download"))];
  if (!latest) {
    actions.push(
      el("button", { type: "button", class: "ghost", dataset: { action: "restore-version" }, "aria-label": `${t("restoreVersion")}: ${label}`,
        onclick: () => restoreVersion(v, label) }, t("restoreVersion")),
      el("button", { type: "button", class: "danger", dataset: { action: "delete-version" }, "aria-label": `${t("delete")}: ${label}`,
        onclick: () => deleteVersion(v, label) }, t("delete")));
  }
  return el("tr", { dataset: { version: String(v.version ?? ""), historyId: id, latest: latest ? "1" : "0" } },
    el("td", { class: "v-version", "data-label": t("colVersion") }, label),
    el("td", { class: "v-size", "data-label": t("colSize"), dataset: { value: String(v.size ?? 0) } }, formatBytes(v.size)),
    el("td", { class: "v-created", "data-label": t("colCreated") }, el("time", { datetime: v.creationTime }, formatTime(v.creationTime))),
    el("td", { class: "v-by", "data-label": t("colCreatedBy") }, v.createdBy || ""),
    el("td", { "data-label": t("colActions") }, el("div", { class: "actions" }, ...actions)));
}

// restoreVersion makes a version the file's content; the content it replaces becomes a version
// itself (9.6), so nothing is lost and no confirmation is asked.
async function restoreVersion(v, label) {
  const done = await guarded(() => business(scope.lib.libraryId, "POST", `${historyBase()}/latest-version/${enc(String(v.id))}`));
  if (done === undefined) {
    return;
  }
  await guarded(() => listVersions(false));
  $("versions-status").textContent = t("versionRestored", { version: label });
  await scope.treeChanged();
}

async function deleteVersion(v, label) {
  const ok = await confirmAction(t("deleteVersionTitle", { version: label }), t("deleteVersionText", { version: label, name: versions.name }));
  if (!ok) {
    return;
  }
  const done = await guarded(() => business(scope.lib.libraryId, "POST", `${historyBase()}/delete`, { body: [String(v.id)] }));
  if (done === undefined) {
    return;
  }
  await guarded(() => listVersions(false));
  $("versions-status").textContent = t("versionDeleted", { version: label });
  // A deleted version's bytes no longer count.
  await scope.treeChanged();
}

// ---- Quota ----

// The quota of the space shown: null when it has none.
let quota = null;

// showQuota reads the space's quota (6.4; 404 NoQuota: none) and its usage (2.9: live files, the
// bin and versions) and draws the bar.
export async function showQuota() {
  if (!scope.lib) {
    return;
  }
  const epoch = currentEpoch();
  const id = scope.lib.libraryId;
  let found = null;
  try {
    found = await business(id, "GET", `/api/v1/space-quota/${enc(id)}/${enc(scope.space)}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) {
      throw err;
    }
  }
  const usage = await business(id, "GET", `/api/v1/usage/${enc(id)}/${enc(scope.space)}`);
  if (epoch !== currentEpoch()) {
    return;
  }
  const mine = (Array.isArray(usage) ? usage : []).find((u) => u.spaceId === scope.space) || {};
  const used = String(mine.size ?? mine.fileSize ?? "0");
  quota = found && found.capacity !== undefined && found.capacity !== null ? found : null;
  const bar = $("quota-bar");
  bar.dataset.used = used;
  $("quota").dataset.state = quota ? "quota" : "none";
  $("quota-set").textContent = quota ? t("changeQuota") : t("setQuota");
  if (!quota) {
    bar.hidden = true;
    bar.dataset.capacity = "";
    $("quota-text").textContent = t("noQuota", { used: formatBytes(used) });
    return;
  }
  const capacity = String(quota.capacity);
  const share = Number(capacity) > 0 ? Number(used) / Number(capacity) : 1;
  bar.hidden = false;
  bar.dataset.capacity = capacity;
  bar.value = Math.round(Math.min(1, share) * 1000);
  bar.classList.toggle("over", share >= 1);
  $("quota-text").textContent = t("quotaUsed", { used: formatBytes(used), capacity: formatBytes(capacity), percent: Math.floor(share * 100) });
}

// editQuota sets a quota on the space, or changes the one it has (6.1, 6.3). The quota only
// checks writes: nothing is ever deleted for it (removeWhenExceed false).
async function editQuota() {
  const dialog = $("quota-dialog");
  const input = $("quota-capacity");
  const unit = $("quota-unit");
  const error = $("quota-error");
  $("quota-dialog-title").textContent = quota ? t("changeQuota") : t("setQuota");
  error.textContent = "";
  input.removeAttribute("aria-invalid");
  if (quota) {
    const bytes = Number(quota.capacity);
    const shift = [40, 30, 20].find((s) => bytes >= 2 ** s && bytes % 2 ** s === 0) ?? 20;
    unit.value = String(shift);
    input.value = String(bytes / 2 ** shift);
  } else {
    input.value = "";
  }
  const id = scope.lib.libraryId;
  const multi = Boolean(scope.lib.libraryExtension?.isMultiSpace);
  const saved = await new Promise((resolve) => {
    const finish = (value) => {
      $("quota-form").onsubmit = null;
      $("quota-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) {
        dialog.close();
      }
      resolve(value);
    };
    $("quota-form").onsubmit = async (e) => {
      e.preventDefault();
      const amount = Number(input.value);
      const bytes = Math.round(amount * 2 ** Number(unit.value));
      if (!input.value.trim() || !Number.isFinite(amount) || bytes < 1) {
        error.textContent = t("quotaInvalid");
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      try {
        if (quota) {
          await business(id, "PUT", `/api/v1/quota/${enc(id)}/${enc(scope.space)}`, { body: { capacity: String(bytes) } });
        } else {
          const body = { capacity: String(bytes), removeWhenExceed: false, removeAfterDays: 0 };
          if (multi) {
            body.spaces = [scope.space];
          }
          await business(id, "POST", `/api/v1/quota/${enc(id)}`, { body });
        }
        finish(true);
      } catch (err) {
        error.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
        if (err instanceof ApiError && err.requestId) {
          error.textContent += ` (${t("requestId")}: ${err.requestId})`;
        }
        input.setAttribute("aria-invalid", "true");
      }
    };
    $("quota-cancel").onclick = () => finish(false);
    dialog.onclose = () => {
      if (!dialog.open) {
        finish(false);
      }
    };
    dialog.showModal();
    input.focus();
  });
  if (saved) {
    await guarded(showQuota);
  }
}
