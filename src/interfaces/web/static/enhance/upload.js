// The upload page, enhanced (the form works as it is without a script):
// - files dropped on the drop zone, or chosen and sent, go one request per file
//   (XMLHttpRequest, for its upload progress), each with its own progress bar, the form's
//   shared fields, the CSRF token in the X-CSRF-Token header, and JSON asked for;
// - each file then shows what became of it: stored (a link), already here (a link to the
//   document with the same content) or refused and why;
// - a stored file's processing state (thumbnail, OCR) is asked for again every few seconds
//   from /documents/{id}/processing.json until nothing is pending, here and in the table a
//   page without a script shows after a post.
// Every text comes from the form's data attributes, translated by the page.

const PARALLEL = 2;
const POLL_MS = 2000;
const POLL_LIMIT = 150; // five minutes

function json(text, fallback) {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function link(href, text) {
  const a = element("a", "", text);
  a.href = href;
  return a;
}

class Labels {
  constructor(form) {
    const d = form.dataset;
    this.d = d;
    this.refusals = json(d.refusals, {});
    this.kinds = json(d.kinds, {});
    this.states = json(d.states, {});
  }

  text(name) {
    return this.d[name] || "";
  }
}

// The processing states of one stored document, shown in `list` (a <ul>) until done.
function watchProcessing(list, url, labels) {
  let asked = 0;
  const show = (processing) => {
    const kinds = Object.keys(processing).sort();
    const items = kinds.map((kind) => {
      const state = processing[kind].state;
      return element(
        "li",
        `upload-state upload-state--${state}`,
        `${labels.kinds[kind] || kind}: ${labels.states[state] || state}`,
      );
    });
    if (items.length === 0) {
      items.push(element("li", "", labels.text("labelNothing")));
    }
    list.replaceChildren(...items);
  };
  const ask = async () => {
    asked += 1;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        return; // not readable (any more): stop asking
      }
      const state = await response.json();
      show(state.processing);
      if (!state.done && asked < POLL_LIMIT) {
        window.setTimeout(ask, POLL_MS);
      }
    } catch {
      if (asked < POLL_LIMIT) {
        window.setTimeout(ask, POLL_MS);
      }
    }
  };
  ask();
}

// One file's line in the live list: its name, progress bar and outcome.
function fileItem(file, labels) {
  const item = element("li", "upload-item");
  const name = element("span", "upload-item__name", file.name);
  const progress = element("progress", "upload-item__progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", labels.text("labelProgress").replace("{name}", file.name));
  const outcome = element("p", "upload-item__outcome", labels.text("labelWaiting"));
  const processing = element("ul", "upload-processing");
  processing.setAttribute("aria-live", "polite");
  item.append(name, progress, outcome, processing);
  return { item, progress, outcome, processing };
}

function showOutcome(line, result, labels) {
  line.progress.value = 100;
  const out = line.outcome;
  out.replaceChildren();
  line.item.classList.add(`upload-item--${result.outcome}`);
  if (result.outcome === "stored") {
    out.append(element("span", "upload-status upload-status--stored", labels.text("labelStored")), " ");
    out.append(link(result.url, result.title || result.filename));
    if (result.processing_url) {
      watchProcessing(line.processing, result.processing_url, labels);
    }
  } else if (result.outcome === "duplicate") {
    out.append(element("span", "upload-status upload-status--duplicate", labels.text("labelDuplicate")), " ");
    out.append(link(result.url, labels.text("labelOpenDuplicate")));
  } else {
    const kind = labels.refusals[result.code] || labels.text("labelRefused");
    out.append(element("span", "upload-status upload-status--refused", kind), " ");
    out.append(element("span", "upload-reason", result.reason || ""));
  }
}

function showFailure(line, labels, detail) {
  line.item.classList.add("upload-item--refused");
  line.outcome.replaceChildren(
    element("span", "upload-status upload-status--refused", labels.text("labelFailed")),
  );
  if (detail) {
    line.outcome.append(" ", element("span", "upload-reason", detail));
  }
}

// Sends one file with the form's shared fields; resolves when its outcome is shown.
function send(form, file, line, labels) {
  return new Promise((resolve) => {
    const body = new FormData(form);
    body.delete("file");
    body.delete("_csrf_token"); // sent as the header
    body.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRF-Token", form.elements._csrf_token.value);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        line.progress.value = Math.round((event.loaded / event.total) * 100);
      }
    });
    line.outcome.textContent = labels.text("labelUploading");
    request.addEventListener("load", () => {
      const answer = json(request.responseText, null);
      const result = answer && answer.files && answer.files[0];
      if (result) {
        showOutcome(line, result, labels);
      } else {
        const errors = answer && answer.errors ? Object.values(answer.errors).join(" ") : "";
        showFailure(line, labels, errors || `HTTP ${request.status}`);
      }
      resolve();
    });
    request.addEventListener("error", () => {
      showFailure(line, labels, "");
      resolve();
    });
    request.send(body);
  });
}

export function enhanceUpload(root) {
  const form = root.querySelector("form[data-upload]");
  const live = root.querySelector("[data-upload-live]");
  const list = root.querySelector("[data-upload-list]");
  if (!form || !live || !list || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  const labels = new Labels(form);
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector("[data-dropzone]");

  const uploadAll = async (files) => {
    if (files.length === 0) {
      return;
    }
    live.hidden = false;
    const lines = files.map((file) => {
      const line = fileItem(file, labels);
      list.append(line.item);
      return { file, line };
    });
    const queue = [...lines];
    const worker = async () => {
      while (queue.length > 0) {
        const next = queue.shift();
        await send(form, next.file, next.line, labels);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  };

  form.addEventListener("submit", (event) => {
    if (!input.files || input.files.length === 0) {
      return; // the browser says the field is required
    }
    event.preventDefault();
    const files = Array.from(input.files);
    input.value = "";
    uploadAll(files);
  });

  if (zone) {
    zone.classList.add("upload-drop--enhanced");
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("upload-drop--over");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("upload-drop--over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("upload-drop--over");
      uploadAll(Array.from(event.dataTransfer ? event.dataTransfer.files : []));
    });
  }

  // The table of a page posted without a script: its stored files' processing goes on.
  for (const processing of root.querySelectorAll("ul[data-processing-url]")) {
    watchProcessing(processing, processing.dataset.processingUrl, labels);
  }
}

enhanceUpload(document);
