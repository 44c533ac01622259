// Favorites (SMH API 11) of the space being browsed: the star on each entry of the file list
// (the listing asks with_favorite_status=1, 4.2), and the favorites view (11.3 with with_path).
// Favorites belong to the token's user: the console's tokens act for the user
// "opensmh-console" (api.js), so these are the operator's own favorites (docs/console.md).

import { ApiError, business } from "./api.js";
import { t } from "./i18n.js";
import { $, clearError, currentEpoch, el, formatTime, guarded } from "./ui.js";

// host is the file browser: its view, go(dir) and reveal(dir, name).
let host = null;

const favoritePage = 50;
const state = { marker: "" };

export function wireFavorites(browser) {
  host = browser;
  $("favorites-open").addEventListener("click", () => {
    if ($("favorites").hidden) {
      openFavorites();
    } else {
      closeFavorites();
    }
  });
  $("favorites-close").addEventListener("click", closeFavorites);
  $("favorites-refresh").addEventListener("click", () => { clearError(); guarded(() => listFavorites(false)); });
  $("favorites-more").addEventListener("click", () => guarded(() => listFavorites(true)));
}

function base() {
  return `/api/v1/favorite/${encodeURIComponent(host.view.lib.libraryId)}/${encodeURIComponent(host.view.space)}`;
}

async function openFavorites() {
  $("favorites").hidden = false;
  $("favorites-open").setAttribute("aria-expanded", "true");
  $("favorites-status").textContent = "";
  await guarded(() => listFavorites(false));
  $("favorites").scrollIntoView({ block: "nearest" });
}

function closeFavorites() {
  $("favorites").hidden = true;
  $("favorites-open").setAttribute("aria-expanded", "false");
}

// favoritesShown answers whether the favorites view is open (a star change lists it again).
function favoritesShown() {
  return !$("favorites").hidden;
}

// listFavorites lists the favorites, most recent first (the API's default order), or the next
// page when more is set.
async function listFavorites(more) {
  const epoch = currentEpoch();
  const query = { limit: String(favoritePage), with_path: "true" };
  if (more && state.marker) {
    query.marker = state.marker;
  }
  const data = await business(host.view.lib.libraryId, "GET", `${base()}/list`, { query });
  if (epoch !== currentEpoch()) {
    return;
  }
  const rows = (data?.contents || []).map(favoriteRow);
  const body = $("favorites-table").tBodies[0];
  if (more) {
    body.append(...rows);
  } else {
    body.replaceChildren(...rows);
  }
  const next = data?.nextMarker;
  state.marker = next === undefined || next === null ? "" : String(next);
  $("favorites-more").hidden = state.marker === "";
  $("favorites-none").hidden = body.rows.length > 0;
}

// favoriteRow shows one favorite. A deleted target stays listed with an empty name (11.3): it
// can only be removed.
function favoriteRow(item) {
  const parts = favoritePath(item);
  const gone = !item.name;
  const isDir = item.type === "dir";
  // with_path answers the entry's own path (its name last).
  const path = parts.join("/");
  const dir = parts.slice(0, -1).join("/");
  const actions = [];
  if (!gone) {
    actions.push(el("button", { type: "button", class: "ghost", dataset: { action: "open" }, "aria-label": `${t("openEntry")}: ${item.name}`,
      onclick: () => (isDir ? host.go(path) : host.reveal(dir, item.name)) }, t("openEntry")));
  }
  actions.push(el("button", { type: "button", class: "danger", dataset: { action: "unfavorite" },
    "aria-label": `${t("unfavorite")}: ${gone ? t("deletedEntry") : item.name}`,
    onclick: () => removeFavorite(item) }, t("unfavorite")));
  return el("tr", { dataset: { inode: String(item.inode ?? ""), name: item.name || "", path, kind: gone ? "gone" : isDir ? "dir" : "file" } },
    el("td", { "data-label": t("colName") }, el("div", { class: "entry" },
      el("span", { class: "icon", "aria-hidden": "true" }, gone ? "—" : isDir ? "DIR" : "FILE"),
      el("span", { class: "name" }, gone ? t("deletedEntry") : item.name))),
    el("td", { class: "fav-path", "data-label": t("colPath") }, gone ? "" : `/${path}`),
    el("td", { "data-label": t("colFavorited") }, el("time", { datetime: item.favoriteTime }, formatTime(item.favoriteTime))),
    el("td", { "data-label": t("colActions") }, el("div", { class: "actions" }, ...actions)));
}

// removeFavorite cancels a favorite from the view by inode (it follows a moved entry, and a
// deleted one has no path any more).
async function removeFavorite(item) {
  clearError();
  const done = await guarded(async () => {
    try {
      await business(host.view.lib.libraryId, "POST", base(), { query: { cancel: "" }, body: { inode: String(item.inode) } });
    } catch (err) {
      // Already gone (another tab): what the operator wanted.
      if (!(err instanceof ApiError && err.code === "FavoriteIdNotFound")) {
        throw err;
      }
    }
    return true;
  });
  if (!done) {
    return;
  }
  $("favorites-status").textContent = t("unfavorited", { name: item.name || t("deletedEntry") });
  await guarded(() => listFavorites(false));
  const parts = favoritePath(item);
  if (!item.name || parts.length === 0 || parts.slice(0, -1).join("/") !== host.view.dir) {
    return;
  }
  // The entry is in the directory shown: its star goes out too.
  const row = [...$("file-table").tBodies[0].rows].find((r) => r.dataset.name === item.name);
  const star = row?.querySelector('[data-action="favorite"]');
  if (star) {
    setStar(star, false);
  }
}

// favoritePath answers the segments of a favorite's path (with_path: the entry's own name last).
function favoritePath(item) {
  return Array.isArray(item.path) ? item.path.filter(Boolean) : String(item.path ?? "").split("/").filter(Boolean);
}

// starButton answers the star of an entry of the file list: pressed when it is a favorite.
export function starButton(name, path, isFavorite) {
  const button = el("button", { type: "button", class: "star", dataset: { action: "favorite" }, "aria-pressed": String(Boolean(isFavorite)),
    "aria-label": `${t("favorite")}: ${name}`, title: t("favorite") }, isFavorite ? "★" : "☆");
  button.addEventListener("click", () => toggle(button, name, path));
  return button;
}

// toggle adds or cancels the entry's favorite (by path) and shows the new state. An answer
// saying it already was in the state asked for (409 DuplicateFavoriteRecord, 404
// FavoriteIdNotFound, decision 8) counts as done.
async function toggle(button, name, path) {
  const was = button.getAttribute("aria-pressed") === "true";
  clearError();
  const done = await guarded(async () => {
    try {
      await business(host.view.lib.libraryId, "POST", base(), { query: was ? { cancel: "" } : {}, body: { path } });
    } catch (err) {
      const settled = err instanceof ApiError && (was ? err.code === "FavoriteIdNotFound" : err.code === "DuplicateFavoriteRecord");
      if (!settled) {
        throw err;
      }
    }
    return true;
  });
  if (!done) {
    return;
  }
  setStar(button, !was);
  $("browser-status").textContent = was ? t("unfavorited", { name }) : t("favorited", { name });
  if (favoritesShown()) {
    await guarded(() => listFavorites(false));
  }
}

function setStar(button, on) {
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "★" : "☆";
  const row = button.closest("tr");
  if (row) {
    row.dataset.favorite = on ? "1" : "0";
  }
}

export function clearFavorites() {
  closeFavorites();
  $("favorites-table").tBodies[0].replaceChildren();
  $("favorites-status").textContent = "";
  state.marker = "";
}
