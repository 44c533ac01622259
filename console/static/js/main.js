// The console's shell: sign-in and sign-out, the language switch, and the hash router that
// shows one page at a time.

import { admin, ApiError, operatorKey, setOperatorKey } from "./api.js";
import { clearBrowser, showDetail, wireBrowser } from "./browser.js";
import { preferredLanguage, setLanguage, t } from "./i18n.js";
import { showLibraries, wireLibraries } from "./libraries.js";
import { showSettings, wireSettings } from "./settings.js";
import { $, clearError, newEpoch, showError } from "./ui.js";

// The language choice is not a secret: it is kept in localStorage (the operator key is not).
const languageSlot = "opensmh.language";

const pages = ["libraries-page", "settings-page", "detail-page"];

function showPage(id) {
  for (const p of pages) {
    $(p).hidden = p !== id;
  }
}

function signedIn(yes) {
  $("signin-screen").hidden = yes;
  $("app").hidden = !yes;
  $("signout").hidden = !yes;
}

// route shows the page the hash names. Segments are percent-encoded; the space and directory
// path of the file browser follow the library id.
async function route() {
  if (!operatorKey()) {
    signedIn(false);
    $("signin-key").focus();
    return;
  }
  signedIn(true);
  newEpoch();
  const hash = location.hash.replace(/^#\/?/, "");
  const [pathPart, queryPart = ""] = hash.split("?");
  const parts = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(queryPart);
  if (parts[0] === "library" && parts[1]) {
    const libraryId = parts[1];
    if (parts[2] === "settings") {
      showPage("settings-page");
      await showSettings(libraryId);
      return;
    }
    showPage("detail-page");
    clearBrowser();
    if (parts[2] === "space" && parts[3]) {
      await showDetail(libraryId, parts[3], parts.slice(4).join("/"));
    } else {
      await showDetail(libraryId, null, "");
    }
    return;
  }
  showPage("libraries-page");
  await showLibraries(Number(query.get("page")) || 1);
}

async function signIn(e) {
  e.preventDefault();
  const key = $("signin-key").value.trim();
  const error = $("signin-error");
  error.textContent = "";
  if (!key) {
    error.textContent = t("keyRequired");
    return;
  }
  // Check the key with a cheap admin call before keeping it.
  setOperatorKey(key);
  try {
    await admin("GET", "/admin/v1/libraries?page=1&page_size=1");
  } catch (err) {
    setOperatorKey("");
    if (err instanceof ApiError && err.status === 401) {
      error.textContent = t("keyWrong");
    } else {
      error.textContent = err instanceof ApiError ? `${err.code} ${err.message} (${t("requestId")}: ${err.requestId})` : String(err);
    }
    $("signin-key").select();
    return;
  }
  $("signin-key").value = "";
  await route();
}

function signOut() {
  setOperatorKey("");
  for (const d of document.querySelectorAll("dialog[open]")) {
    d.close();
  }
  clearError();
  location.hash = "#/libraries";
  signedIn(false);
  $("signin-key").focus();
}

function start() {
  const lang = localStorage.getItem(languageSlot) || preferredLanguage();
  $("lang").value = lang;
  setLanguage(lang);
  $("lang").addEventListener("change", () => {
    localStorage.setItem(languageSlot, $("lang").value);
    setLanguage($("lang").value);
    // Re-render the page so the words made by scripts change too.
    route();
  });
  $("signin").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  wireLibraries();
  wireSettings();
  wireBrowser();
  window.addEventListener("hashchange", route);
  // A key the server refuses later (rotated) signs the console out.
  window.addEventListener("unhandledrejection", (e) => {
    if (e.reason instanceof ApiError && e.reason.status === 401) {
      signOut();
    } else {
      showError(e.reason);
    }
  });
  route();
}

start();
