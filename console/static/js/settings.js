// The configure page: the mutable settings of a library (a PATCH of what changed) and the fixed
// ones shown read-only.

import { admin, libraryPath } from "./api.js";
import { t } from "./i18n.js";
import { $, currentEpoch, el, guarded, showError } from "./ui.js";

let loaded = null; // the library as the page was filled from it

// The number fields with their ranges (proto/smh/library/v1/library.proto).
const numbers = {
  autoRemoveRecycledDays: [0, 1095],
  fileHistoryCount: [1, 999],
  fileHistoryExpireDay: [0, 999],
  maxDirFileNameLength: [1, 255],
};
const switches = ["isPublicRead", "useRecycleBin", "enableSearch", "enableFileHistory", "denyOnQuotaLessThanUsage"];
const lists = ["allowPhotoExtname", "allowVideoExtname", "allowFileExtname"];

export function wireSettings() {
  $("settings-form").addEventListener("submit", save);
  $("set-useRecycleBin").addEventListener("change", syncDependents);
  $("set-enableFileHistory").addEventListener("change", syncDependents);
}

export async function showSettings(libraryId) {
  setResult("", "");
  clearErrors();
  const epoch = currentEpoch();
  const lib = await guarded(() => admin("GET", libraryPath(libraryId)));
  if (epoch !== currentEpoch()) {
    return;
  }
  if (!lib) {
    $("settings-form").hidden = true;
    return;
  }
  $("settings-form").hidden = false;
  loaded = lib;
  const ext = lib.libraryExtension || {};
  $("settings-title").textContent = t("settingsTitle", { name: lib.name });
  $("set-name").value = lib.name;
  $("set-remark").value = lib.remark || "";
  for (const k of switches) {
    $(`set-${k}`).checked = Boolean(ext[k]);
  }
  for (const k of Object.keys(numbers)) {
    $(`set-${k}`).value = ext[k] ?? "";
  }
  for (const k of lists) {
    $(`set-${k}`).value = (ext[k] || []).join(", ");
  }
  $("set-corsAllowedOrigins").value = (ext.corsAllowedOrigins || []).join("\n");
  $("set-libraryQuota").value = ext.libraryQuota ?? "";
  // What does not apply to this library is shown disabled or not at all.
  $("set-isPublicRead").disabled = Boolean(ext.isMultiSpace);
  $("public-read-hint").hidden = !ext.isMultiSpace;
  for (const e of document.querySelectorAll("#settings-form .media-only")) {
    e.hidden = Boolean(ext.isFileLibrary);
  }
  for (const e of document.querySelectorAll("#settings-form .file-only")) {
    e.hidden = !ext.isFileLibrary;
  }
  $("quota-fields").hidden = !ext.enableQuota;
  syncDependents();
  const yesNo = (v) => (v ? t("enabled") : t("disabled"));
  const facts = [
    [t("fixedId"), lib.libraryId],
    [t("fixedDomain"), lib.accessDomain],
    [t("fixedType"), ext.isFileLibrary ? t("typeFileLong") : t("typeMediaLong")],
    [t("fixedMultiTenant"), yesNo(ext.isMultiSpace)],
    [t("fixedMultiAlbum"), yesNo(ext.isMultiAlbum)],
    [t("fixedQuota"), yesNo(ext.enableQuota)],
  ];
  $("settings-fixed").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v || "\u2014")]));
}

// syncDependents enables the fields that only matter when their switch is on.
function syncDependents() {
  $("set-autoRemoveRecycledDays").disabled = !$("set-useRecycleBin").checked;
  $("set-fileHistoryCount").disabled = !$("set-enableFileHistory").checked;
  $("set-fileHistoryExpireDay").disabled = !$("set-enableFileHistory").checked;
}

function setResult(state, text) {
  $("settings-result").dataset.state = state;
  $("settings-result").textContent = text;
}

function clearErrors() {
  for (const p of document.querySelectorAll("#settings-form [data-error-for]")) {
    p.textContent = "";
    $(`set-${p.dataset.errorFor}`)?.removeAttribute("aria-invalid");
  }
}

function fieldError(field, message) {
  const p = document.querySelector(`#settings-form [data-error-for="${field}"]`);
  p.textContent = message;
  $(`set-${field}`).setAttribute("aria-invalid", "true");
}

function splitList(text, sep) {
  return text.split(sep).map((s) => s.trim()).filter(Boolean);
}

function sameList(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// patchFromForm answers the fields that differ from the loaded library, or null after marking
// the fields that are not valid.
function patchFromForm() {
  const ext = loaded.libraryExtension || {};
  const patch = {};
  const extPatch = {};
  let bad = false;
  const name = $("set-name").value.trim();
  if (!name || [...name].length > 50) {
    fieldError("name", name ? t("nameTooLong", { n: 50 }) : t("nameRequired"));
    bad = true;
  } else if (name !== loaded.name) {
    patch.name = name;
  }
  const remark = $("set-remark").value.trim();
  if (remark !== (loaded.remark || "")) {
    patch.remark = remark;
  }
  for (const k of switches) {
    const input = $(`set-${k}`);
    if (!input.disabled && !input.closest("[hidden]") && input.checked !== Boolean(ext[k])) {
      extPatch[k] = input.checked;
    }
  }
  for (const [k, [min, max]] of Object.entries(numbers)) {
    const input = $(`set-${k}`);
    if (input.disabled || input.value === "") {
      continue;
    }
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < min || v > max) {
      fieldError(k, t("numberRange", { min, max }));
      bad = true;
    } else if (v !== ext[k]) {
      extPatch[k] = v;
    }
  }
  for (const k of lists) {
    const input = $(`set-${k}`);
    if (input.closest("[hidden]")) {
      continue;
    }
    const v = splitList(input.value, ",").map((s) => s.replace(/^\./, "").toLowerCase());
    if (!sameList(v, ext[k] || [])) {
      extPatch[k] = v;
    }
  }
  const origins = splitList($("set-corsAllowedOrigins").value, /\n/);
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) {
      fieldError("corsAllowedOrigins", t("badOrigin", { value: o }));
      bad = true;
    }
  }
  if (!sameList(origins, ext.corsAllowedOrigins || [])) {
    extPatch.corsAllowedOrigins = origins;
  }
  if (!$("quota-fields").hidden && $("set-libraryQuota").value !== "") {
    const q = Number($("set-libraryQuota").value);
    if (!Number.isInteger(q) || q < 1) {
      fieldError("libraryQuota", t("numberRange", { min: 1, max: Number.MAX_SAFE_INTEGER }));
      bad = true;
    } else if (String(q) !== String(ext.libraryQuota ?? "")) {
      extPatch.libraryQuota = q;
    }
  }
  if (bad) {
    return null;
  }
  if (Object.keys(extPatch).length > 0) {
    patch.libraryExtension = extPatch;
  }
  return patch;
}

async function save(e) {
  e.preventDefault();
  clearErrors();
  setResult("", "");
  const patch = patchFromForm();
  if (!patch) {
    setResult("error", t("fixInput"));
    return;
  }
  $("settings-save").disabled = true;
  try {
    const lib = await admin("PATCH", libraryPath(loaded.libraryId), patch);
    await showSettings(lib?.libraryId || loaded.libraryId);
    setResult("ok", t("saved"));
  } catch (err) {
    const reason = `${err.code || ""} ${err.message || ""}`.trim() + (err.requestId ? ` (${t("requestId")}: ${err.requestId})` : "");
    setResult("error", t("saveFailed", { reason }));
    showError(err);
  } finally {
    $("settings-save").disabled = false;
  }
}
