// The media library page: the table with its pages, the new-library dialog, the secret dialog
// and deletion.

import { admin, forgetToken, libraryPath } from "./api.js";
import { t } from "./i18n.js";
import { $, clearError, confirmAction, currentEpoch, el, formatTime, guarded, showError } from "./ui.js";

export const pageSize = 10;
// The limits of docs/architecture.md, "The admin API".
const maxName = 50;
const maxRemark = 250;

let currentPage = 1;

// showLibraries renders page n of the table (newest first).
export async function showLibraries(page) {
  currentPage = Math.max(1, page || 1);
  const epoch = currentEpoch();
  const data = await guarded(() => admin("GET", `/admin/v1/libraries?page=${currentPage}&page_size=${pageSize}`));
  if (!data || epoch !== currentEpoch()) {
    return;
  }
  const total = data.totalCount || 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (currentPage > pages) {
    // The last page emptied (a delete): show the one before.
    location.hash = `#/libraries?page=${pages}`;
    return;
  }
  $("libraries-empty").hidden = total > 0;
  $("library-list").hidden = total === 0;
  $("new-library").hidden = total === 0;
  const body = $("library-table").tBodies[0];
  body.replaceChildren(...(data.list || []).map(libraryRow));
  renderPager(total, pages);
}

function typeLabel(ext) {
  if (ext.isFileLibrary) {
    return t("typeFile");
  }
  return ext.isMultiAlbum ? t("typeMediaAlbums") : t("typeMedia");
}

function libraryRow(lib) {
  const ext = lib.libraryExtension || {};
  const name = lib.name;
  const open = `#/library/${encodeURIComponent(lib.libraryId)}`;
  return el("tr", { dataset: { libraryId: lib.libraryId } },
    el("td", { class: "lib-id", "data-label": t("colIdName") },
      el("a", { class: "lib-name-link lib-name", href: open }, name),
      el("code", {}, lib.libraryId)),
    el("td", { class: "lib-remark", "data-label": t("colRemark") }, lib.remark || "\u2014"),
    el("td", { class: "lib-type", "data-label": t("colType"), dataset: { type: ext.isFileLibrary ? "file" : "media" } },
      el("span", { class: ext.isFileLibrary ? "badge" : "badge media" }, typeLabel(ext)),
      ext.isMultiSpace ? el("span", { class: "muted" }, ` \u00b7 ${t("multiTenantBadge")}`) : null),
    el("td", { class: "lib-created", "data-label": t("colCreated") },
      el("time", { datetime: lib.creationTime }, formatTime(lib.creationTime))),
    el("td", { "data-label": t("colActions") },
      el("div", { class: "actions" },
        el("button", { type: "button", class: "ghost", dataset: { action: "open" }, "aria-label": `${t("open")}: ${name}`,
          onclick: () => { location.hash = open; } }, t("open")),
        el("button", { type: "button", class: "ghost", dataset: { action: "secret" }, "aria-label": `${t("viewSecret")}: ${name}`,
          onclick: () => openSecret(lib) }, t("viewSecret")),
        el("button", { type: "button", class: "ghost", dataset: { action: "configure" }, "aria-label": `${t("configure")}: ${name}`,
          onclick: () => { location.hash = `${open}/settings`; } }, t("configure")),
        el("button", { type: "button", class: "danger", dataset: { action: "delete" }, "aria-label": `${t("delete")}: ${name}`,
          onclick: () => deleteLibrary(lib) }, t("delete")))));
}

function renderPager(total, pages) {
  const count = $("total-count");
  count.dataset.total = String(total);
  count.textContent = total === 1 ? t("totalCountOne") : t("totalCount", { n: total });
  const info = $("page-info");
  info.dataset.page = String(currentPage);
  info.dataset.pages = String(pages);
  info.textContent = t("pageInfo", { page: currentPage, pages });
  $("page-prev").disabled = currentPage <= 1;
  $("page-next").disabled = currentPage >= pages;
  const numbers = [];
  for (const n of pageWindow(currentPage, pages)) {
    numbers.push(n === 0
      ? el("span", { class: "muted", "aria-hidden": "true" }, "\u2026")
      : el("button", { type: "button", class: "ghost", dataset: { page: String(n) }, "aria-label": t("pageN", { n }),
        "aria-current": n === currentPage ? "page" : null, onclick: () => goPage(n) }, String(n)));
  }
  $("page-numbers").replaceChildren(...numbers);
}

// pageWindow answers the page numbers to show: the first, the last and two around the current
// one, with 0 for a gap.
function pageWindow(page, pages) {
  const shown = [];
  for (let n = 1; n <= pages; n++) {
    if (n === 1 || n === pages || Math.abs(n - page) <= 2) {
      shown.push(n);
    } else if (shown[shown.length - 1] !== 0) {
      shown.push(0);
    }
  }
  return shown;
}

function goPage(n) {
  location.hash = `#/libraries?page=${n}`;
}

export function wireLibraries() {
  $("page-prev").addEventListener("click", () => goPage(currentPage - 1));
  $("page-next").addEventListener("click", () => goPage(currentPage + 1));
  $("new-library").addEventListener("click", openCreate);
  $("create-first").addEventListener("click", openCreate);
  $("create-cancel").addEventListener("click", () => $("create-dialog").close());
  $("create-form").addEventListener("submit", submitCreate);
  for (const id of ["lib-multispace", "lib-type-file", "lib-type-media"]) {
    $(id).addEventListener("change", syncCreateForm);
  }
  $("lib-name").addEventListener("input", () => setFieldError("lib-name", ""));
  $("secret-close").addEventListener("click", () => $("secret-dialog").close());
  $("secret-reveal").addEventListener("click", revealSecret);
  $("secret-copy").addEventListener("click", copySecret);
  $("secret-reset").addEventListener("click", resetSecret);
}

// The create dialog.

function openCreate() {
  $("create-form").reset();
  setFieldError("lib-name", "");
  setFieldError("lib-remark", "");
  syncCreateForm();
  $("create-dialog").showModal();
  $("lib-name").focus();
}

// syncCreateForm offers multi-album mode only where it applies: single-tenant media libraries.
function syncCreateForm() {
  const albums = $("lib-type-media").checked && !$("lib-multispace").checked;
  $("lib-multialbum-row").hidden = !albums;
  if (!albums) {
    $("lib-multialbum").checked = false;
  }
}

function setFieldError(id, message) {
  $(`${id}-error`).textContent = message;
  if (message) {
    $(id).setAttribute("aria-invalid", "true");
  } else {
    $(id).removeAttribute("aria-invalid");
  }
}

async function submitCreate(e) {
  e.preventDefault();
  const name = $("lib-name").value.trim();
  const remark = $("lib-remark").value.trim();
  let bad = false;
  if (!name) {
    setFieldError("lib-name", t("nameRequired"));
    bad = true;
  } else if ([...name].length > maxName) {
    setFieldError("lib-name", t("nameTooLong", { n: maxName }));
    bad = true;
  }
  if ([...remark].length > maxRemark) {
    setFieldError("lib-remark", t("remarkTooLong"));
    bad = true;
  }
  if (bad) {
    $(($("lib-name-error").textContent ? "lib-name" : "lib-remark")).focus();
    return;
  }
  const isFileLibrary = $("lib-type-file").checked;
  const isMultiSpace = $("lib-multispace").checked;
  const libraryExtension = { isFileLibrary, isMultiSpace };
  if (!isFileLibrary && !isMultiSpace) {
    libraryExtension.isMultiAlbum = $("lib-multialbum").checked;
  }
  $("create-ok").disabled = true;
  try {
    await admin("POST", "/admin/v1/libraries", { name, remark, libraryExtension });
    $("create-dialog").close();
    clearError();
    if (location.hash === "#/libraries?page=1" || location.hash === "#/libraries") {
      await showLibraries(1);
    } else {
      location.hash = "#/libraries?page=1";
    }
  } catch (err) {
    // Field problems stay beside the field; anything else goes to the notice.
    if (err.status === 400 && /name/i.test(err.message)) {
      setFieldError("lib-name", `${err.code}: ${err.message}`);
    } else {
      showError(err);
    }
  } finally {
    $("create-ok").disabled = false;
  }
}

// The secret dialog.

let secretOf = null;

function openSecret(lib) {
  secretOf = lib;
  $("secret-library").textContent = `${lib.name} (${lib.libraryId})`;
  $("secret-value").textContent = "\u2022".repeat(8);
  $("secret-value").dataset.revealed = "0";
  $("secret-status").textContent = "";
  $("secret-dialog").showModal();
  $("secret-reveal").focus();
}

async function revealSecret() {
  const data = await guarded(() => admin("GET", libraryPath(secretOf.libraryId, "/secret")));
  if (data) {
    showSecret(data.librarySecret);
  }
}

function showSecret(secret) {
  $("secret-value").textContent = secret;
  $("secret-value").dataset.revealed = "1";
}

async function copySecret() {
  if ($("secret-value").dataset.revealed !== "1") {
    await revealSecret();
  }
  try {
    await navigator.clipboard.writeText($("secret-value").textContent);
    $("secret-status").textContent = t("copied");
  } catch {
    $("secret-status").textContent = t("copyFailed");
    const range = document.createRange();
    range.selectNodeContents($("secret-value"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
}

async function resetSecret() {
  const lib = secretOf;
  const dialog = $("secret-dialog");
  dialog.close();
  // Signing everyone out is the default: a reset usually answers a leak, and tokens minted with a
  // leaked secret would otherwise live on for as long as they are used (sliding expiry).
  const revoke = $("secret-revoke-tokens");
  revoke.checked = true;
  const ok = await confirmAction(t("resetTitle"), t("resetText", { name: lib.name }), $("confirm-revoke-row"));
  dialog.showModal();
  if (!ok) {
    return;
  }
  const body = { revokeTokens: revoke.checked };
  const data = await guarded(() => admin("POST", libraryPath(lib.libraryId, "/secret:reset"), body));
  if (data) {
    forgetToken(lib.libraryId);
    showSecret(data.librarySecret);
    $("secret-status").textContent = t(body.revokeTokens ? "resetDoneRevoked" : "resetDone");
  }
}

async function deleteLibrary(lib) {
  const ok = await confirmAction(t("deleteTitle"), t("deleteText", { name: lib.name, id: lib.libraryId }));
  if (!ok) {
    return;
  }
  const done = await guarded(() => admin("DELETE", libraryPath(lib.libraryId)));
  if (done !== undefined) {
    forgetToken(lib.libraryId);
    await showLibraries(currentPage);
  }
}
