// Share links on the owner side (SMH API 13): "Share…" on the selected entries creates a
// share (13.1) and shows its link with a copy button; the shares view lists the library's shares
// (13.4) with enable/disable (13.6) and delete (13.2). docs/console.md, "Share links", says what
// the console decides (which shares it lists, which switch it turns).

import { business } from "./api.js";
import { selected } from "./batch.js";
import { t } from "./i18n.js";
import { $, clearError, confirmAction, el, formatTime, guarded } from "./ui.js";

// host is the file browser: its view ({lib, space, dir}).
let host = null;

const pageSize = 50;
const state = { marker: "" };

export function wireShares(browser) {
  host = browser;
  $("batch-share").addEventListener("click", openShareDialog);
  $("share-permanent").addEventListener("change", () => {
    $("share-expire-row").hidden = $("share-permanent").checked;
  });
  $("share-form").addEventListener("submit", (e) => {
    e.preventDefault();
    createShare();
  });
  $("share-cancel").addEventListener("click", () => $("share-dialog").close());
  $("share-done").addEventListener("click", () => $("share-dialog").close());
  $("share-copy").addEventListener("click", () => copyLink($("share-link").value, $("share-copied")));
  $("shares-open").addEventListener("click", () => {
    if ($("shares").hidden) {
      openShares();
    } else {
      closeShares();
    }
  });
  $("shares-close").addEventListener("click", closeShares);
  $("shares-refresh").addEventListener("click", () => { clearError(); guarded(() => listShares(false)); });
  $("shares-more").addEventListener("click", () => guarded(() => listShares(true)));
}

function sharesURL(rest) {
  return `/api/v1/share/${encodeURIComponent(host.view.lib.libraryId)}/${rest}`;
}

// The entries the dialog shares: their paths from the space's root, taken when it opens.
let sharing = [];

function openShareDialog() {
  sharing = selected();
  if (sharing.length === 0) {
    return;
  }
  const names = sharing.map((it) => it.name);
  $("share-title").textContent = sharing.length === 1 ? t("shareOneTitle", { name: names[0] }) : t("shareNTitle", { n: sharing.length });
  $("share-items").textContent = names.slice(0, 5).join(", ") + (names.length > 5 ? ", …" : "");
  $("share-name").value = sharing.length === 1 ? names[0] : t("shareDefaultName", { name: names[0], n: sharing.length - 1 });
  $("share-code").value = "";
  $("share-permanent").checked = true;
  $("share-expire-row").hidden = true;
  // A week from now, in the local time a datetime-local field shows.
  const week = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  week.setSeconds(0, 0);
  $("share-expire").value = new Date(week.getTime() - week.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  $("share-can-preview").checked = true;
  $("share-can-download").checked = true;
  $("share-can-save").checked = false;
  $("share-error").textContent = "";
  $("share-result").hidden = true;
  $("share-link").value = "";
  $("share-copied").textContent = "";
  $("share-copied").dataset.state = "";
  $("share-ok").hidden = false;
  $("share-cancel").hidden = false;
  $("share-done").hidden = true;
  for (const id of ["share-name", "share-code", "share-permanent", "share-expire", "share-can-preview", "share-can-download", "share-can-save"]) {
    $(id).disabled = false;
  }
  $("share-dialog").showModal();
  $("share-name").focus();
  $("share-name").select();
}

// shareConfig reads the dialog's fields into a create body's config, or throws a message.
function shareConfig() {
  const config = {
    isPermanent: $("share-permanent").checked,
    canPreview: $("share-can-preview").checked,
    canDownload: $("share-can-download").checked,
    canSaveToNetdisk: $("share-can-save").checked,
  };
  const code = $("share-code").value.trim();
  if (code.length > 6) {
    throw new Error(t("badExtractionCode"));
  }
  if (code) {
    config.extractionCode = code;
  }
  if (!config.isPermanent) {
    const at = new Date($("share-expire").value);
    if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
      throw new Error(t("badExpiry"));
    }
    config.expireTime = at.toISOString();
  }
  return config;
}

async function createShare() {
  const error = $("share-error");
  error.textContent = "";
  const name = $("share-name").value.trim();
  let config;
  try {
    if (!name) {
      throw new Error(t("shareNameRequired"));
    }
    config = shareConfig();
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  const space = encodeURIComponent(host.view.space);
  let created;
  $("share-ok").disabled = true;
  try {
    created = await business(host.view.lib.libraryId, "POST", sharesURL(space), {
      body: { name, filePath: sharing.map((it) => it.path), config },
    });
  } catch (err) {
    error.textContent = err.code ? `${err.code}: ${err.message}${err.requestId ? ` (${t("requestId")}: ${err.requestId})` : ""}` : String(err);
    return;
  } finally {
    $("share-ok").disabled = false;
  }
  for (const id of ["share-name", "share-code", "share-permanent", "share-expire", "share-can-preview", "share-can-download", "share-can-save"]) {
    $(id).disabled = true;
  }
  $("share-link").value = created.endpoint || linkOf(created.code);
  $("share-result").hidden = false;
  $("share-ok").hidden = true;
  $("share-cancel").hidden = true;
  $("share-done").hidden = false;
  $("share-copy").focus();
  if (!$("shares").hidden) {
    await guarded(() => listShares(false));
  }
}

// linkOf answers a share's link where the API gave none (the list, 13.4): the console's own
// origin, which is the gateway's.
function linkOf(code) {
  return `${location.origin}/s/${encodeURIComponent(code)}`;
}

// copyLink puts a link on the clipboard and says so in status (data-state "ok"); where the
// browser refuses, the link is selected for the operator to copy (data-state "manual").
async function copyLink(link, status, field) {
  try {
    await navigator.clipboard.writeText(link);
    status.dataset.state = "ok";
    status.textContent = t("linkCopied");
  } catch {
    (field || $("share-link")).select?.();
    status.dataset.state = "manual";
    status.textContent = t("copyManually");
  }
}

function openShares() {
  $("shares").hidden = false;
  $("shares-open").setAttribute("aria-expanded", "true");
  $("shares-status").textContent = "";
  guarded(() => listShares(false));
  $("shares").scrollIntoView({ block: "nearest" });
}

function closeShares() {
  $("shares").hidden = true;
  $("shares-open").setAttribute("aria-expanded", "false");
}

// clearShares hides the view when the browser leaves the space.
export function clearShares() {
  closeShares();
  $("shares-table").tBodies[0].replaceChildren();
}

// listShares lists the library's shares, newest first, or the next page when more is set.
async function listShares(more) {
  const query = { limit: String(pageSize), orderBy: "createTime", orderByType: "desc" };
  if (more && state.marker) {
    query.marker = state.marker;
  }
  const data = await business(host.view.lib.libraryId, "GET", sharesURL("list"), { query });
  const rows = (data?.contents || []).map(shareRow);
  const body = $("shares-table").tBodies[0];
  if (more) {
    body.append(...rows);
  } else {
    body.replaceChildren(...rows);
  }
  state.marker = data?.hasMore ? data.marker || "" : "";
  $("shares-more").hidden = state.marker === "";
  $("shares-none").hidden = body.rows.length > 0;
}

function shareState(item) {
  if (!item.adminEnabled) {
    return ["off-admin", t("shareOffAdmin")];
  }
  if (!item.ownerEnabled) {
    return ["off-owner", t("shareOffOwner")];
  }
  if (!item.isPermanent && item.expireTime && Date.parse(item.expireTime) <= Date.now()) {
    return ["expired", t("shareExpired")];
  }
  return ["on", t("shareOn")];
}

function shareRow(item) {
  const link = linkOf(item.code);
  const [stateKey, stateText] = shareState(item);
  const enabled = item.adminEnabled && item.ownerEnabled;
  const status = el("span", { class: "copied", role: "status" });
  const label = (key) => `${t(key)}: ${item.name}`;
  return el("tr", { dataset: { shareId: item.id, code: item.code, state: stateKey, enabled: enabled ? "1" : "0" } },
    el("td", { "data-label": t("colName") }, item.name),
    el("td", { "data-label": t("colLink") }, el("a", { class: "share-link", href: link, target: "_blank", rel: "noopener noreferrer" }, link)),
    el("td", { "data-label": t("colCreator") }, item.creatorId || ""),
    el("td", { "data-label": t("colExpires") }, item.isPermanent ? t("never") : el("time", { datetime: item.expireTime }, formatTime(item.expireTime))),
    el("td", { "data-label": t("colState"), class: "share-state" }, stateText),
    el("td", { "data-label": t("colActions") }, el("div", { class: "actions" },
      el("button", { type: "button", class: "ghost", dataset: { action: "copy" }, "aria-label": label("copyLink"),
        onclick: () => copyLink(link, status) }, t("copyLink")),
      el("button", { type: "button", class: "ghost", dataset: { action: enabled ? "disable" : "enable" },
        "aria-label": label(enabled ? "disableShare" : "enableShare"), onclick: () => setEnabled(item, !enabled) },
      t(enabled ? "disableShare" : "enableShare")),
      el("button", { type: "button", class: "danger", dataset: { action: "delete" }, "aria-label": label("delete"),
        onclick: () => deleteShare(item) }, t("delete")),
      status)));
}

// setEnabled turns a share off with the admin switch (its creator cannot turn it back on), and
// on with both switches (the admin may set the creator's too, 13.6).
async function setEnabled(item, on) {
  const body = on ? { adminEnabled: true, ownerEnabled: true } : { adminEnabled: false };
  const done = await guarded(() => business(host.view.lib.libraryId, "POST", sharesURL(encodeURIComponent(item.id)), {
    query: { setEnabled: "" }, body }));
  if (done !== undefined) {
    $("shares-status").textContent = t(on ? "shareEnabled" : "shareDisabled", { name: item.name });
    await guarded(() => listShares(false));
  }
}

async function deleteShare(item) {
  const ok = await confirmAction(t("deleteShareTitle", { name: item.name }), t("deleteShareText", { name: item.name }));
  if (!ok) {
    return;
  }
  const done = await guarded(() => business(host.view.lib.libraryId, "DELETE", sharesURL(encodeURIComponent(item.id))));
  if (done !== undefined) {
    $("shares-status").textContent = t("shareDeleted", { name: item.name });
    await guarded(() => listShares(false));
  }
}
