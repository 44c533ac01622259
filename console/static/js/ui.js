// Small DOM helpers shared by the pages: element building, the error notice, the confirm and
// name dialogs, and formatting.

import { ApiError } from "./api.js";
import { language, t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

// el builds an element: el("button", {type: "button", class: "ghost", dataset: {action: "x"}}, "text", child...).
export function el(tag, attrs = {}, ...children) {
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

// showError puts an API error (its SMH code and request id) or any other error in the notice.
export function showError(err) {
  const notice = $("notice");
  notice.replaceChildren();
  const text = el("div", { class: "err-text" });
  if (err instanceof ApiError) {
    const message = err.code === "NetworkError" ? t("networkError") : err.message;
    text.append(el("span", { class: "err-code" }, err.code), " ", el("span", { class: "err-message" }, message));
    if (err.requestId) {
      text.append(" (", t("requestId"), ": ", el("span", { class: "err-request-id" }, err.requestId), ")");
    }
  } else {
    text.append(el("span", { class: "err-message" }, String(err?.message || err)));
  }
  notice.append(text, el("button", { type: "button", class: "ghost", onclick: clearError }, t("dismiss")));
  notice.hidden = false;
}

export function clearError() {
  $("notice").hidden = true;
  $("notice").replaceChildren();
}

// The router starts a new epoch for every page it shows. Work started for an earlier page may
// finish after the next one is shown: its results and errors are dropped instead of landing on
// the wrong page.
let epoch = 0;

export function newEpoch() {
  epoch++;
  clearError();
  return epoch;
}

export function currentEpoch() {
  return epoch;
}

// guarded runs fn and shows its error instead of letting it escape (unless the page changed
// meanwhile); it answers fn's result, or undefined after an error.
export async function guarded(fn) {
  const started = epoch;
  try {
    return await fn();
  } catch (err) {
    if (started === epoch) {
      showError(err);
    }
    return undefined;
  }
}

// confirmAction opens the confirm dialog and answers whether OK was chosen. options, when given,
// is an element of the dialog (hidden otherwise) shown while it is open: the caller reads it after.
export function confirmAction(title, text, options) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  if (options) {
    options.hidden = false;
  }
  return new Promise((resolve) => {
    const done = (ok) => {
      if (options) {
        options.hidden = true;
      }
      $("confirm-ok").onclick = null;
      $("confirm-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) {
        dialog.close();
      }
      resolve(ok);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    // Esc closes the dialog: that is a cancel. The close event of an earlier close() can arrive
    // after the dialog was opened again (a frame later): then the dialog is open and it is not
    // this one's cancel.
    dialog.onclose = () => {
      if (!dialog.open) {
        done(false);
      }
    };
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

// askName opens the name dialog; submit(name) runs on OK and may throw to keep it open with
// the error shown beside the field. It answers the accepted name, or null on cancel.
export function askName(title, label, initial, submit) {
  $("name-label").textContent = label;
  return askText("name", title, initial, (text) => {
    const name = text.trim();
    return validName(name) ? name : null;
  }, t("badName"), submit);
}

// askText opens the one-field dialog whose ids start with prefix (<prefix>-dialog, -form,
// -title, -input, -error, -cancel). check(text) answers the value, or null for invalidText;
// submit(value) runs on OK and may throw to keep the dialog open with the error beside the
// field. It answers the accepted value, or null on cancel.
export function askText(prefix, title, initial, check, invalidText, submit = async () => {}) {
  const dialog = $(`${prefix}-dialog`);
  const form = $(`${prefix}-form`);
  const cancel = $(`${prefix}-cancel`);
  const input = $(`${prefix}-input`);
  const error = $(`${prefix}-error`);
  $(`${prefix}-title`).textContent = title;
  input.value = initial;
  error.textContent = "";
  input.removeAttribute("aria-invalid");
  return new Promise((resolve) => {
    const finish = (value) => {
      form.onsubmit = null;
      cancel.onclick = null;
      dialog.onclose = null;
      if (dialog.open) {
        dialog.close();
      }
      resolve(value);
    };
    form.onsubmit = async (e) => {
      e.preventDefault();
      const value = check(input.value);
      if (value === null) {
        error.textContent = invalidText;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      try {
        await submit(value);
        finish(value);
      } catch (err) {
        error.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
        if (err instanceof ApiError && err.requestId) {
          error.textContent += ` (${t("requestId")}: ${err.requestId})`;
        }
        input.setAttribute("aria-invalid", "true");
      }
    };
    cancel.onclick = () => finish(null);
    // As in confirmAction: a late close event of an earlier close() must not cancel this one.
    dialog.onclose = () => {
      if (!dialog.open) {
        finish(null);
      }
    };
    dialog.showModal();
    input.focus();
    input.select();
  });
}

// validName is the client-side check of a directory or file name; the server has the last word.
export function validName(name) {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/");
}

export function formatBytes(n) {
  n = Number(n) || 0;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatTime(iso) {
  if (!iso) {
    return "";
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  return d.toLocaleString(language(), { dateStyle: "medium", timeStyle: "short" });
}

export function formatCount(n) {
  return (Number(n) || 0).toLocaleString(language());
}
