// The cutkit page: pick or drop photos, send each to POST /v1/remove (two at a time), show progress and a
// before/after slider per photo, download one result or all of them as a ZIP.
// Form field names are the option names of cutkit/options.py (model, bg, blur_sigma, format); an uploaded
// background goes in the multipart field `bg_file`, the API key in the X-API-Key header.

import { initCompare } from "/static/slider.js";
import { sendWithRetry, TaskQueue } from "/static/upload.js";
import { makeZip } from "/static/zip.js";

const CONCURRENCY = 2; // requests in flight from this page
const REMOVE_URL = "/v1/remove";
const MODELS_URL = "/v1/models";
const EXTENSIONS = { "image/png": "png", "image/webp": "webp", "image/jpeg": "jpg", "image/tiff": "tif" };
const STATE_TEXT = {
  queued: "queued",
  uploading: "uploading",
  processing: "processing",
  waiting: "server busy",
  done: "done",
  failed: "failed",
};

const $ = (selector) => document.querySelector(selector);
const queue = new TaskQueue(CONCURRENCY);
const items = new Set();

// ---- settings -------------------------------------------------------------------------------------

function apiHeaders() {
  const key = $("#api-key").value.trim();
  return key ? { "X-API-Key": key } : {};
}

function backgroundKind() {
  return document.querySelector('input[name="bg-kind"]:checked').value;
}

/** The request's form fields and background file as chosen now; throws when a choice is incomplete. */
function currentSettings() {
  const fields = [["format", $("#format").value]];
  if ($("#model").value) fields.push(["model", $("#model").value]);
  const kind = backgroundKind();
  let bgFile = null;
  if (kind === "color") fields.push(["bg", $("#bg-color").value]);
  if (kind === "blur") fields.push(["bg", "blur"]);
  // Until the slider is moved the server's own default applies: the page repeats no option default.
  const sigma = $("#blur-sigma");
  if (kind === "blur" && sigma.dataset.touched) fields.push(["blur_sigma", sigma.value]);
  if (kind === "image") {
    bgFile = $("#bg-file").files[0] || null;
    if (!bgFile) throw new Error("Choose a background image first (or pick another background).");
  }
  return { fields, bgFile, format: $("#format").value };
}

function showBackgroundDetail() {
  const kind = backgroundKind();
  for (const detail of document.querySelectorAll(".bg-detail")) detail.hidden = detail.dataset.for !== kind;
}

function showFormError(message) {
  const box = $("#form-error");
  box.textContent = message;
  box.hidden = !message;
}

// ---- models ---------------------------------------------------------------------------------------

let modelsKey = null; // the API key the model list was last asked with

async function loadModels() {
  const key = $("#api-key").value.trim();
  if (key === modelsKey) return; // "change" fires on every blur, too
  modelsKey = key;
  const select = $("#model");
  const status = $("#model-status");
  status.textContent = "loading models…";
  try {
    const response = await fetch(MODELS_URL, { headers: apiHeaders() });
    if (response.status === 401 || response.status === 403) {
      status.textContent = key ? "the server refused this API key" : "enter the API key to list the models";
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    fillModels(select, await response.json());
    status.textContent = "";
  } catch (error) {
    modelsKey = null; // a later "change" tries again
    status.textContent = `could not list models (${error.message}); the server default is used`;
  }
}

function fillModels(select, listing) {
  select.replaceChildren();
  for (const model of listing.models) {
    const option = document.createElement("option");
    option.value = model.name;
    const size = Array.isArray(model.input_size) ? ` · ${model.input_size.join("×")}` : "";
    const missing = model.available ? "" : " (weights not on the server yet)";
    option.textContent = `${model.name}${size}${missing}`;
    option.title = model.description || "";
    option.selected = model.name === listing.default;
    select.append(option);
  }
}

// ---- one photo --------------------------------------------------------------------------------------

function stem(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function addItem(file, settings) {
  const node = $("#item-template").content.firstElementChild.cloneNode(true);
  const item = { file, settings, node, state: "queued", blob: null, resultUrl: null };
  item.originalUrl = URL.createObjectURL(file);
  node.querySelector(".name").textContent = file.name;
  node.querySelector(".before").src = item.originalUrl;
  node.querySelector(".before").alt = `Original: ${file.name}`;
  node.querySelector(".cutout").alt = `Cutout: ${file.name}`;
  node.querySelector(".again").addEventListener("click", () => redo(item));
  node.querySelector(".remove").addEventListener("click", () => dropItem(item));
  $("#results").append(node);
  items.add(item);
  submit(item);
}

function setState(item, state, detail) {
  item.state = state;
  const node = item.node;
  node.dataset.state = state;
  let text = STATE_TEXT[state];
  if (state === "uploading") text += ` ${Math.round(detail * 100)}%`;
  if (state === "waiting") text += `, retrying in ${Math.ceil(detail)} s`;
  node.querySelector(".state").textContent = text;
  const bar = node.querySelector(".progress");
  bar.hidden = state === "done" || state === "failed";
  if (state === "uploading") bar.value = Math.round(detail * 90); // the last tenth is the server's work
  if (state === "processing" || state === "waiting") bar.removeAttribute("value"); // indeterminate
  const busy = !(state === "done" || state === "failed");
  node.querySelector(".again").disabled = busy;
  node.querySelector(".remove").disabled = busy;
  updateSummary();
}

function formFor(item) {
  const form = new FormData();
  form.append("file", item.file, item.file.name);
  for (const [name, value] of item.settings.fields) form.append(name, value);
  if (item.settings.bgFile) form.append("bg_file", item.settings.bgFile, item.settings.bgFile.name);
  return form;
}

function submit(item) {
  setState(item, "queued");
  item.node.querySelector(".message").hidden = true;
  const job = {
    url: REMOVE_URL,
    makeBody: () => formFor(item),
    headers: apiHeaders,
    onState: (state, detail) => setState(item, state, detail),
  };
  queue.add(() => sendWithRetry(job)).then(
    (blob) => showResult(item, blob),
    (error) => showFailure(item, error),
  );
}

function showResult(item, blob) {
  if (!items.has(item)) return;
  if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
  item.blob = blob;
  item.resultUrl = URL.createObjectURL(blob);
  item.resultName = `${stem(item.file.name)}.${EXTENSIONS[blob.type] || item.settings.format}`;
  const node = item.node;
  const compare = node.querySelector(".compare");
  compare.hidden = false;
  node.querySelector(".cutout").src = item.resultUrl;
  initCompare(compare, `Before/after divider for ${item.file.name}`);
  const link = node.querySelector(".download");
  link.href = item.resultUrl;
  link.download = item.resultName;
  link.textContent = "Download";
  link.setAttribute("aria-label", `Download ${item.resultName}`);
  link.hidden = false;
  setState(item, "done");
}

function showFailure(item, error) {
  if (!items.has(item)) return;
  const message = item.node.querySelector(".message");
  message.textContent = error.status ? `${error.message} (HTTP ${error.status})` : error.message;
  message.hidden = false;
  setState(item, "failed");
}

function redo(item) {
  try {
    item.settings = currentSettings();
  } catch (error) {
    showFormError(error.message);
    return;
  }
  showFormError("");
  item.node.querySelector(".download").hidden = true;
  item.blob = null;
  submit(item);
}

function dropItem(item) {
  items.delete(item);
  item.node.remove();
  URL.revokeObjectURL(item.originalUrl);
  if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
  updateSummary();
}

// ---- many photos ------------------------------------------------------------------------------------

function addFiles(fileList) {
  let settings;
  try {
    settings = currentSettings();
  } catch (error) {
    showFormError(error.message);
    return;
  }
  const files = Array.from(fileList);
  // A type the browser knows and that is not an image is skipped; an unknown type goes to the server,
  // which says precisely what is wrong with it.
  const skipped = files.filter((f) => f.type && !f.type.startsWith("image/"));
  showFormError(skipped.length ? `Skipped (not images): ${skipped.map((f) => f.name).join(", ")}` : "");
  for (const file of files) if (!skipped.includes(file)) addItem(file, settings);
}

function updateSummary() {
  const counts = { done: 0, failed: 0, busy: 0 };
  for (const item of items) {
    if (item.state === "done") counts.done++;
    else if (item.state === "failed") counts.failed++;
    else counts.busy++;
  }
  const parts = [];
  if (counts.busy) parts.push(`${counts.busy} in progress`);
  if (counts.done) parts.push(`${counts.done} done`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  $("#summary").textContent = parts.join(", ");
  $("#download-all").disabled = counts.done === 0;
  $("#clear").disabled = items.size === 0 || counts.busy > 0;
}

/** Names unique within the archive: a second "cat.png" becomes "cat-2.png". */
function uniqueName(name, taken) {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${stem(name)}-${n}${name.slice(stem(name).length)}`;
  taken.add(candidate);
  return candidate;
}

async function downloadAll() {
  const taken = new Set();
  const files = [];
  for (const item of items) {
    if (item.state !== "done") continue;
    const data = new Uint8Array(await item.blob.arrayBuffer());
    files.push({ name: uniqueName(item.resultName, taken), data });
  }
  const url = URL.createObjectURL(makeZip(files));
  const link = document.createElement("a");
  link.href = url;
  link.download = "cutkit-results.zip";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // the download has started long before
}

function clearAll() {
  for (const item of Array.from(items)) if (item.state === "done" || item.state === "failed") dropItem(item);
}

// ---- wiring -----------------------------------------------------------------------------------------

function wireDropZone() {
  const zone = $("#drop-zone");
  // Outside the zone a dropped file would make the browser navigate away from the page.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  zone.addEventListener("dragenter", () => zone.classList.add("over"));
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("over");
  });
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("over");
    addFiles(event.dataTransfer.files);
  });
}

function wire() {
  $("#files").addEventListener("change", (event) => {
    addFiles(event.target.files);
    event.target.value = ""; // picking the same files again must fire "change" again
  });
  for (const radio of document.querySelectorAll('input[name="bg-kind"]')) {
    radio.addEventListener("change", showBackgroundDetail);
  }
  $("#blur-sigma").addEventListener("input", (event) => {
    event.target.dataset.touched = "yes";
    $("#blur-sigma-value").value = `${event.target.value} % of the long side`;
  });
  $("#api-key").addEventListener("change", loadModels);
  $("#settings").addEventListener("submit", (event) => event.preventDefault());
  $("#download-all").addEventListener("click", () =>
    downloadAll().catch((error) => showFormError(`Could not build the ZIP: ${error.message}`)),
  );
  $("#clear").addEventListener("click", clearAll);
  wireDropZone();
  showBackgroundDetail();
  loadModels();
}

wire();
