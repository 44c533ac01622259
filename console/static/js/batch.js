// Multi-select in the file browser and the batch calls on the selection (SMH API 10): move
// and copy into a directory, delete. A small batch answers at once (200 every item done, 207 with
// per-item results in request order); a large one answers 202 {taskId} and runs as a task that
// the task view polls (7.3) until it ends. docs/console.md says how the console uses them.

import { business } from "./api.js";
import { t } from "./i18n.js";
import { binOn } from "./lifecycle.js";
import { $, askText, clearError, confirmAction, el, guarded, validName } from "./ui.js";

// host is the file browser: its view ({lib, space, dir}) and what to do after the tree changed.
let host = null;

// How often the task view asks for the task's state.
const pollEvery = 500;

// Each batch started gets a number: a newer batch (or leaving the space) makes an older
// poll stop touching the view.
let run = 0;

export function wireBatch(browser) {
  host = browser;
  $("select-all").addEventListener("change", (e) => {
    for (const box of rowBoxes()) {
      box.checked = e.target.checked;
    }
    selectionChanged();
  });
  $("file-table").tBodies[0].addEventListener("change", (e) => {
    if (e.target.matches("input.row-select")) {
      selectionChanged();
    }
  });
  $("batch-clear").addEventListener("click", () => {
    for (const box of rowBoxes()) {
      box.checked = false;
    }
    selectionChanged();
  });
  $("batch-move").addEventListener("click", () => transfer("move"));
  $("batch-copy").addEventListener("click", () => transfer("copy"));
  $("batch-delete").addEventListener("click", deleteSelected);
  $("batch-dismiss").addEventListener("click", hideTask);
}

// rowSelect answers the checkbox cell of a file row.
export function rowSelect(name) {
  return el("td", { class: "sel", "data-label": t("select") },
    el("input", { type: "checkbox", class: "row-select", "aria-label": t("selectEntry", { name }) }));
}

function rowBoxes() {
  return [...$("file-table").tBodies[0].querySelectorAll("input.row-select")];
}

// selected answers the rows checked now: their name, path and kind.
export function selected() {
  return rowBoxes().filter((b) => b.checked).map((b) => {
    const row = b.closest("tr");
    const name = row.dataset.name;
    return { name, path: host.view.dir ? `${host.view.dir}/${name}` : name, isDir: row.dataset.kind === "dir" };
  });
}

// selectionChanged updates the select-all box and the batch bar after a change of the checks
// (or of the rows: a new listing starts with nothing selected).
export function selectionChanged() {
  const boxes = rowBoxes();
  const n = boxes.filter((b) => b.checked).length;
  const all = $("select-all");
  all.checked = n > 0 && n === boxes.length;
  all.indeterminate = n > 0 && n < boxes.length;
  all.disabled = boxes.length === 0;
  $("batch-bar").hidden = n === 0;
  $("batch-count").dataset.count = String(n);
  $("batch-count").textContent = n === 1 ? t("selectedOne") : t("selectedN", { n });
}

function batchURL() {
  return `/api/v1/batch/${encodeURIComponent(host.view.lib.libraryId)}/${encodeURIComponent(host.view.space)}`;
}

// normalDir answers a typed directory path without surrounding slashes, or null when a segment
// is not a valid name.
function normalDir(text) {
  const parts = text.trim().split("/").filter((p) => p !== "");
  return parts.every(validName) ? parts.join("/") : null;
}

// askTarget opens the target dialog and answers the directory typed (relative to the root), or
// null on cancel.
function askTarget(title) {
  return askText("target", title, host.view.dir, normalDir, t("badTarget"));
}

// transfer moves or copies the selection into a directory the operator names. Each entry keeps
// its name there; the conflict defaults of the single calls apply (rename for files, ask for
// directories, decision 17).
async function transfer(op) {
  const items = selected();
  if (items.length === 0) {
    return;
  }
  const target = await askTarget(op === "move" ? t("moveTitle", { n: items.length }) : t("copyTitle", { n: items.length }));
  if (target === null) {
    return;
  }
  const to = (name) => (target ? `${target}/${name}` : name);
  const body = op === "move"
    ? items.map((it) => ({ from: it.path, to: to(it.name) }))
    : items.map((it) => ({ copyFrom: it.path, to: to(it.name) }));
  await runBatch(op, body, items);
}

async function deleteSelected() {
  const items = selected();
  if (items.length === 0) {
    return;
  }
  const bin = binOn(host.view.lib);
  const ok = await confirmAction(t("batchDeleteTitle", { n: items.length }),
    bin ? t("batchDeleteTextBin", { n: items.length }) : t("batchDeleteText", { n: items.length }));
  if (!ok) {
    return;
  }
  await runBatch("delete", items.map((it) => ({ path: it.path })), items);
}

// The words of each operation (t() with literal keys, so that the i18n test sees them).
function words(op, n) {
  switch (op) {
    case "move":
      return { running: t("batchRunningMove", { n }), done: t("batchDoneMove"), allOk: t("batchAllOkMove", { n }) };
    case "copy":
      return { running: t("batchRunningCopy", { n }), done: t("batchDoneCopy"), allOk: t("batchAllOkCopy", { n }) };
    default:
      return { running: t("batchRunningDelete", { n }), done: t("batchDoneDelete"), allOk: t("batchAllOkDelete", { n }) };
  }
}

// The per-item result field of a task's typed result (7.3).
const resultField = { move: "batchMoveResults", copy: "batchCopyResults", delete: "batchDeleteResults" };

// runBatch sends one batch call and shows what it did: at once for 200/207, through the task
// view for 202. The file list is read again afterwards whatever happened.
async function runBatch(op, body, items) {
  clearError();
  const mine = ++run;
  const answer = await guarded(() => business(host.view.lib.libraryId, "POST", batchURL(), { query: { [op]: "" }, body }));
  if (answer === undefined || mine !== run) {
    return;
  }
  if (answer?.taskId !== undefined && answer?.taskId !== null) {
    await followTask(op, String(answer.taskId), items, mine);
  } else {
    showOutcome(op, 0, Array.isArray(answer?.result) ? answer.result : [], items, "");
  }
  await host.refresh();
}

// followTask shows the task view and polls the task until it ends.
async function followTask(op, taskId, items, mine) {
  const box = $("batch-task");
  box.hidden = false;
  box.dataset.taskId = taskId;
  box.dataset.state = "running";
  $("batch-task-title").textContent = words(op, items.length).running;
  $("batch-progress").hidden = false;
  $("batch-progress").removeAttribute("value");
  $("batch-summary").textContent = t("taskRunning", { id: taskId });
  $("batch-failures-wrap").hidden = true;
  $("batch-dismiss").hidden = true;
  const lib = encodeURIComponent(host.view.lib.libraryId);
  const space = encodeURIComponent(host.view.space);
  for (;;) {
    const task = await guarded(() => business(host.view.lib.libraryId, "GET", `/api/v1/task-result/${lib}/${space}/${encodeURIComponent(taskId)}`));
    if (mine !== run) {
      return;
    }
    if (task === undefined) {
      // The query failed (its error is shown): the task may still run; say so and stop.
      box.dataset.state = "unknown";
      $("batch-progress").hidden = true;
      $("batch-summary").textContent = t("taskUnknown", { id: taskId });
      $("batch-dismiss").hidden = false;
      return;
    }
    if (task?.status !== 202) {
      if (task?.status === 500) {
        box.dataset.state = "failed";
        $("batch-progress").hidden = true;
        $("batch-task-title").textContent = words(op, 0).done;
        $("batch-summary").textContent = t("taskFailed", { id: taskId, code: task.code || "", message: task.message || "" });
        $("batch-dismiss").hidden = false;
        return;
      }
      const results = task?.[resultField[op]];
      showOutcome(op, task?.status, Array.isArray(results) ? results : [], items, taskId);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollEvery));
  }
}

// showOutcome shows what a batch did: how many items succeeded and, item by item in request
// order, the ones that failed with their status and error code.
function showOutcome(op, taskStatus, results, items, taskId) {
  const box = $("batch-task");
  const failures = [];
  results.forEach((r, i) => {
    if (Number(r?.status) >= 300) {
      failures.push({ item: items[i], result: r });
    }
  });
  const ok = results.length - failures.length;
  box.hidden = false;
  box.dataset.taskId = taskId;
  box.dataset.state = failures.length === 0 ? "done" : ok === 0 ? "failed" : "partial";
  box.dataset.ok = String(ok);
  box.dataset.failed = String(failures.length);
  $("batch-progress").hidden = true;
  $("batch-task-title").textContent = words(op, 0).done;
  $("batch-summary").textContent = failures.length === 0
    ? words(op, ok).allOk
    : t("batchSomeFailed", { ok, failed: failures.length });
  const rows = failures.map(({ item, result }) => {
    const shown = item ? item.path : Array.isArray(result.path) ? result.path.join("/") : "";
    return el("tr", { dataset: { path: shown, status: String(result.status), code: result.code || "" } },
      el("td", { "data-label": t("colItem") }, `/${shown}`),
      el("td", { "data-label": t("colStatus") }, String(result.status)),
      el("td", { "data-label": t("colError") }, [result.code, result.message].filter(Boolean).join(": ")));
  });
  $("batch-failures").tBodies[0].replaceChildren(...rows);
  $("batch-failures-wrap").hidden = rows.length === 0;
  $("batch-dismiss").hidden = false;
}

function hideTask() {
  const box = $("batch-task");
  box.hidden = true;
  box.dataset.state = "";
  box.dataset.taskId = "";
  $("batch-failures").tBodies[0].replaceChildren();
}

// clearBatch forgets the selection and the task view (the page changed); a poll still running
// stops at its next answer.
export function clearBatch() {
  run++;
  hideTask();
  $("batch-bar").hidden = true;
  $("select-all").checked = false;
  $("select-all").indeterminate = false;
  if ($("target-dialog").open) {
    $("target-dialog").close();
  }
}
