// The share visitor page: what a share link <public URL>/s/<share code> opens. It reads the code
// from the path, asks the public link info (13.8), asks for the extraction code when the share
// has one, verifies it (13.9) and shows the shared tree level by level (13.10) with previews in
// <img>/<video> and downloads (13.11). docs/shares.md, "The visitor page", says what it decides.

import { ApiError, fileURL, list, setShareCode, urlDetail, verify } from "./api.js";
import { language, preferredLanguage, setLanguage, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

// The language choice is not a secret: it is kept in localStorage (the share token is not).
const languageSlot = "opensmh.share.language";

const pageSize = 50;
// Thumbnails are asked this many pixels wide (the list shows them at 48 CSS pixels).
const thumbSize = 96;

// What the page shows: the share's public facts, the folder chain from the share root
// ([{inode, name}]), and the marker of the next page of the folder listed.
const view = { detail: null, chain: [], marker: "", listing: 0 };

// Photo and video extensions the page shows in place; anything else is only downloaded.
const imageExt = new Set(["jpg", "jpeg", "png", "gif", "webp", "avif", "bmp"]);
const videoExt = new Set(["mp4", "m4v", "webm", "mov", "ogv"]);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k === "dataset") {
      Object.assign(node.dataset, v);
    } else if (k === "class") {
      node.className = v;
    } else if (k.startsWith("on")) {
      node.addEventListener(k.slice(2), v);
    } else {
      node.setAttribute(k, v === true ? "" : v);
    }
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

function formatBytes(n) {
  n = Number(n) || 0;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

function formatTime(iso) {
  const d = new Date(iso || "");
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(language(), { dateStyle: "medium", timeStyle: "short" });
}

// showState shows one of the page's states: "loading", "code", "ready", or a problem
// ("notfound", "disabled", "expired", "rejected", "login-required", "empty", "error") with its text.
function showState(state, text) {
  $("share").dataset.state = state;
  const box = $("state");
  box.hidden = state === "ready" || state === "code";
  box.dataset.kind = state === "loading" ? "" : "problem";
  $("state-text").textContent = text ?? t("loading");
  $("code-form").hidden = state !== "code";
  $("tree").hidden = state !== "ready";
}

function describe(err) {
  if (err instanceof ApiError) {
    if (err.code === "NetworkError") {
      return t("networkError");
    }
    return t("problem", { code: err.code, message: err.requestId ? `${err.message} (${err.requestId})` : err.message });
  }
  return String(err?.message || err);
}

// problemState answers the state a refusal of the share itself means, or "" for other errors.
// The codes the spec names for these cases are partly UNCONFIRMED, so the names are read loosely.
function problemState(err) {
  if (!(err instanceof ApiError)) {
    return "";
  }
  const code = err.code;
  if (code === "ShareNotFound") {
    return "notfound";
  }
  if (code === "ShareFileEmpty") {
    return "empty";
  }
  if (/Expired/i.test(code)) {
    return "expired";
  }
  if (/Disabled|NotEnabled|Banned/i.test(code)) {
    return "disabled";
  }
  if (/LoginRequired|Anonymous/i.test(code)) {
    return "login-required";
  }
  return "";
}

const stateText = {
  notfound: "notFound",
  disabled: "disabled",
  expired: "expired",
  rejected: "rejected",
  "login-required": "loginRequired",
  empty: "nothingLeft",
};

function showProblem(state) {
  showState(state, t(stateText[state]));
}

function notify(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

async function start() {
  const lang = localStorage.getItem(languageSlot) || preferredLanguage();
  $("lang").value = lang;
  setLanguage(lang);
  $("lang").addEventListener("change", () => {
    localStorage.setItem(languageSlot, $("lang").value);
    setLanguage($("lang").value);
    rerender();
  });
  $("code-form").addEventListener("submit", submitCode);
  $("more").addEventListener("click", () => listFolder(true));
  $("zip-here").addEventListener("click", () => download(view.chain.map((c) => c.inode), "zip"));
  $("viewer-close").addEventListener("click", () => $("viewer").close());
  // The close event of an earlier close() can arrive after the viewer was opened again: then it
  // is open and showing the next file, which must stay.
  $("viewer").addEventListener("close", () => {
    if (!$("viewer").open) {
      clearViewer();
    }
  });

  const code = decodeURIComponent(location.pathname.split("/")[2] || "");
  setShareCode(code);
  try {
    view.detail = await urlDetail();
  } catch (err) {
    const state = problemState(err);
    if (state) {
      showProblem(state);
    } else {
      showState("error", describe(err));
    }
    return;
  }
  showFacts();
  const d = view.detail;
  if (d.isExpired) {
    showProblem("expired");
  } else if (!d.enabled) {
    showProblem("disabled");
  } else if (d.status === 3) {
    showProblem("rejected");
  } else if (d.allowAnonymousUser === false) {
    // The page has no sign-in: such a share is opened in the app it was shared from.
    showProblem("login-required");
  } else if (d.needExtractionCode) {
    showState("code");
    $("code-input").focus();
  } else {
    await openWith("");
  }
}

// showFacts shows the share's name and what the page knows about it.
function showFacts() {
  const d = view.detail;
  if (!d) {
    return;
  }
  document.title = d.name ? `${d.name} · ${t("brand")}` : t("brand");
  $("share-title").textContent = d.name || "";
  const facts = [];
  if (d.userId) {
    facts.push(t("sharedBy", { user: d.userId }));
  }
  if (d.expireTime && !d.isPermanent) {
    facts.push(t("expires", { time: formatTime(d.expireTime) }));
  }
  $("share-facts").textContent = facts.join(" · ");
}

async function submitCode(e) {
  e.preventDefault();
  const input = $("code-input");
  const error = $("code-error");
  error.textContent = "";
  input.removeAttribute("aria-invalid");
  const code = input.value.trim();
  if (!code) {
    error.textContent = t("codeRequired");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  $("code-submit").disabled = true;
  try {
    await openWith(code);
  } finally {
    $("code-submit").disabled = false;
  }
}

// openWith verifies the extraction code and shows the share's root.
async function openWith(code) {
  try {
    await verify(code);
  } catch (err) {
    if (err instanceof ApiError && err.code === "ExtractionCodeInvalid") {
      $("code-error").textContent = t("codeWrong");
      $("code-input").setAttribute("aria-invalid", "true");
      $("code-input").select();
      return;
    }
    const state = problemState(err);
    if (state) {
      showProblem(state);
    } else if ($("code-form").hidden) {
      showState("error", describe(err));
    } else {
      $("code-error").textContent = describe(err);
    }
    return;
  }
  $("code-input").value = "";
  showState("ready");
  view.chain = [];
  await listFolder(false);
}

function canPreview(item) {
  return Boolean(item?.canPreview ?? view.detail?.canPreview);
}

function canDownload(item) {
  return Boolean(item?.canDownload ?? view.detail?.canDownload);
}

// listFolder shows the folder at the end of the chain, or its next page when more is set.
async function listFolder(more) {
  const run = ++view.listing;
  const chain = view.chain.map((c) => c.inode);
  notify("");
  let data;
  try {
    data = await list(chain, more ? view.marker : "", pageSize);
  } catch (err) {
    const state = problemState(err);
    if (state) {
      showProblem(state);
    } else {
      notify(describe(err));
    }
    return;
  }
  const rows = [];
  for (const item of data?.contents || []) {
    rows.push(await entryRow(item, chain));
  }
  if (run !== view.listing) {
    return;
  }
  renderCrumbs();
  if (more) {
    $("entries").append(...rows);
  } else {
    $("entries").replaceChildren(...rows);
  }
  view.marker = data?.hasMore ? data.marker || "" : "";
  $("more").hidden = !view.marker;
  $("empty").hidden = $("entries").children.length > 0;
  // The whole share (at its root) or the folder shown, as one zip.
  $("zip-here").hidden = !canDownload(view.chain.at(-1)?.item);
  if (!more && !view.detail?.canPreview && !view.detail?.canDownload) {
    notify(t("noAccess"));
  }
}

function renderCrumbs() {
  const crumbs = [el("button", { type: "button", dataset: { depth: "0" }, "aria-current": view.chain.length === 0 ? "page" : null,
    onclick: () => goTo(0) }, t("root"))];
  view.chain.forEach((c, i) => {
    const depth = i + 1;
    crumbs.push(el("span", { class: "sep", "aria-hidden": "true" }, "/"),
      el("button", { type: "button", dataset: { depth: String(depth) }, "aria-current": depth === view.chain.length ? "page" : null,
        onclick: () => goTo(depth) }, c.name));
  });
  $("crumbs").replaceChildren(...crumbs);
}

function goTo(depth) {
  if (depth === view.chain.length) {
    return;
  }
  view.chain = view.chain.slice(0, depth);
  listFolder(false);
}

function descend(item) {
  view.chain = [...view.chain, { inode: String(item.inode), name: item.name, item }];
  listFolder(false);
}

async function entryRow(item, chain) {
  const isDir = item.type === "dir";
  const path = [...chain, String(item.inode)];
  const ext = extension(item.name);
  const media = isDir ? "" : imageExt.has(ext) ? "image" : videoExt.has(ext) ? "video" : "";
  let visual = el("span", { class: "icon", "aria-hidden": "true" }, isDir ? "DIR" : (ext || "file").slice(0, 4).toUpperCase());
  if (media && canPreview(item)) {
    // A small thumbnail (a video's is its cover frame, 13.11 preview as 3.11).
    const src = await fileURL(path, "preview", { size: String(thumbSize) });
    const icon = visual;
    visual = el("img", { class: "thumb", src, alt: "", loading: "lazy", width: "48", height: "48",
      onerror: (e) => e.target.replaceWith(icon) });
  }
  const name = isDir
    ? el("button", { type: "button", class: "entry-open", onclick: () => descend(item) }, item.name)
    : el("span", { class: "name" }, item.name);
  const meta = isDir ? t("kindDir") : [formatBytes(item.size), formatTime(item.updateTime)].filter(Boolean).join(" · ");
  const actions = [];
  const label = (key) => `${t(key)}: ${item.name}`;
  if (media === "image" && canPreview(item)) {
    actions.push(el("button", { type: "button", class: "ghost", dataset: { action: "preview" }, "aria-label": label("preview"),
      onclick: () => openViewer(item, path, "image") }, t("preview")));
  }
  // A video plays from the download route: its preview is the cover frame. Without download
  // rights the cover is what the visitor may see.
  if (media === "video" && canDownload(item)) {
    actions.push(el("button", { type: "button", class: "ghost", dataset: { action: "play" }, "aria-label": label("play"),
      onclick: () => openViewer(item, path, "video") }, t("play")));
  } else if (media === "video" && canPreview(item)) {
    actions.push(el("button", { type: "button", class: "ghost", dataset: { action: "preview" }, "aria-label": label("preview"),
      onclick: () => openViewer(item, path, "image") }, t("preview")));
  }
  if (canDownload(item)) {
    actions.push(isDir
      ? el("button", { type: "button", class: "ghost", dataset: { action: "zip" }, "aria-label": label("downloadZip"),
        onclick: () => download(path, "zip") }, t("downloadZip"))
      : el("button", { type: "button", class: "ghost", dataset: { action: "download" }, "aria-label": label("download"),
        onclick: () => download(path, "download") }, t("download")));
  }
  return el("li", { dataset: { name: item.name, kind: isDir ? "dir" : "file", inode: String(item.inode), media } },
    el("div", { class: "visual" }, visual),
    el("div", { class: "entry-main" }, name, el("span", { class: "meta" }, meta)),
    el("div", { class: "actions" }, ...actions));
}

// download makes the browser save a file (13.11 download) or a folder as a zip. The link is
// made at the click, so its share access token is fresh; the answer is an attachment, so the
// browser saves it and the page stays.
async function download(path, what) {
  notify("");
  let href;
  try {
    href = await fileURL(path, what);
  } catch (err) {
    notify(describe(err));
    return;
  }
  const a = el("a", { href, download: "", hidden: true, rel: "noopener noreferrer" });
  document.body.append(a);
  a.click();
  a.remove();
}

// openViewer shows an image or plays a video IN the page: the element's source is the preview
// route (an image: the picture itself) or the download route (a video), which answer a redirect
// to the bytes on the data endpoint; nothing the visitor opens is ever a page on our origin.
async function openViewer(item, path, kind) {
  const viewer = $("viewer");
  clearViewer();
  $("viewer-title").textContent = item.name;
  let src;
  try {
    src = await fileURL(path, kind === "video" ? "download" : "preview");
  } catch (err) {
    notify(describe(err));
    return;
  }
  const media = kind === "image" ? $("viewer-img") : $("viewer-video");
  media.onerror = () => { $("viewer-error").textContent = t("previewFailed"); };
  media.src = src;
  if (kind === "image") {
    media.alt = item.name;
  }
  media.hidden = false;
  const dl = $("viewer-download");
  dl.hidden = !canDownload(item);
  dl.onclick = () => download(path, "download");
  viewer.showModal();
}

function clearViewer() {
  const img = $("viewer-img");
  const video = $("viewer-video");
  video.pause();
  for (const m of [img, video]) {
    m.onerror = null;
    m.removeAttribute("src");
    m.hidden = true;
  }
  video.load();
  $("viewer-error").textContent = "";
}

// rerender redraws what scripts wrote after a language switch.
function rerender() {
  const state = $("share").dataset.state;
  showFacts();
  if (stateText[state]) {
    showProblem(state);
  } else if (state === "ready") {
    listFolder(false);
  }
}

start();
