// Notes on the pages of the version shown (`annotations`): loaded from the API, drawn over the
// pages as markers (a note at a point) or tinted boxes (a highlight), listed in the side panel;
// a note is added at a point the reader clicks (or the top of the page shown, for the keyboard),
// a highlight over the text selected in pdf.js's text layer (its boxes, one a line, and the text
// they cover); saved with fetch and the CSRF token, changed and deleted by their author. Stored
// apart from the file: the PDF is never changed. Places are fractions of the unrotated page (PDF
// page coordinates over the page's size), so they hold at any zoom and rotation.

const panel = document.getElementById("notes-panel");
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

function toPage([u, v], rotation) {
  // A point on the page as shown (rotated) to the page's own, unrotated, coordinates.
  switch (rotation) {
    case 90: return [v, 1 - u];
    case 180: return [1 - u, 1 - v];
    case 270: return [1 - v, u];
    default: return [u, v];
  }
}

function toScreen([x, y], rotation) {
  switch (rotation) {
    case 90: return [1 - y, x];
    case 180: return [1 - x, 1 - y];
    case 270: return [y, 1 - x];
    default: return [x, y];
  }
}

function percent(value) {
  return `${(value * 100).toFixed(3)}%`;
}

// The server takes at most this many boxes for one highlight (annotations.actions.MAX_RECTS).
const MAX_BOXES = 200;

function mergeLines(boxes) {
  // The selection's client rectangles (one a text span, some nested in others) joined into one
  // box a line: those that overlap vertically by half their height and touch horizontally.
  const sorted = [...boxes].sort((a, b) => a.top - b.top || a.left - b.left);
  const lines = [];
  for (const box of sorted) {
    const line = lines.find((other) => {
      const overlap = Math.min(other.bottom, box.bottom) - Math.max(other.top, box.top);
      const height = Math.min(other.bottom - other.top, box.bottom - box.top);
      const gap = Math.max(other.left, box.left) - Math.min(other.right, box.right);
      return overlap >= height / 2 && gap <= height;
    });
    if (line) {
      line.left = Math.min(line.left, box.left);
      line.right = Math.max(line.right, box.right);
      line.top = Math.min(line.top, box.top);
      line.bottom = Math.max(line.bottom, box.bottom);
    } else {
      lines.push({ ...box });
    }
  }
  return lines;
}

export function bindAnnotations({ viewer, eventBus, container }) {
  if (!panel) return;
  const listUrl = panel.dataset.url;
  const detailBase = panel.dataset.detailBase;
  const list = document.getElementById("note-list");
  const empty = document.getElementById("notes-empty");
  const form = document.getElementById("note-form");
  const where = document.getElementById("note-where");
  const text = document.getElementById("note-text");
  const shared = document.getElementById("note-shared");
  const error = document.getElementById("note-error");
  const addButton = document.getElementById("add-note");
  const highlightButton = document.getElementById("highlight-selection");
  const highlightForm = document.getElementById("highlight-form");
  const highlightWhere = document.getElementById("highlight-where");
  const highlightQuote = document.getElementById("highlight-quote");
  const highlightText = document.getElementById("highlight-text");
  const highlightShared = document.getElementById("highlight-shared");
  const labels = panel.dataset;
  let notes = [];
  let place = null; // {page, x, y} of the note being written
  let selected = null; // {page, rects, quote} of the highlight being made
  let editing = null; // the note or highlight being changed

  function drawPage(number) {
    const pageDiv = container.querySelector(`.page[data-page-number="${number}"]`);
    if (!pageDiv) return;
    pageDiv.querySelector(".note-layer")?.remove();
    const onPage = notes.filter((note) => note.page === number);
    const pending = place && place.page === number;
    const pendingHighlight = selected && selected.page === number;
    if (!onPage.length && !pending && !pendingHighlight) return;
    const rotation = viewer.pagesRotation || 0;
    const layer = document.createElement("div");
    layer.className = "note-layer";
    const tint = (rect, colour) => {
      const [x0, y0] = toScreen([rect[0], rect[1]], rotation);
      const [x1, y1] = toScreen([rect[2], rect[3]], rotation);
      const box = document.createElement("div");
      box.className = "note-highlight";
      box.style.left = percent(Math.min(x0, x1));
      box.style.top = percent(Math.min(y0, y1));
      box.style.width = percent(Math.abs(x1 - x0));
      box.style.height = percent(Math.abs(y1 - y0));
      box.style.backgroundColor = colour;
      layer.append(box);
      return box;
    };
    for (const note of onPage) {
      if (note.kind === "highlight") {
        for (const rect of note.rects.length ? note.rects : [note.rect]) {
          const box = tint(rect, note.colour);
          box.dataset.annotation = note.id;
          box.title = [note.quote, note.text].filter(Boolean).join(" — ");
        }
        continue;
      }
      const [x0, y0] = toScreen([note.rect[0], note.rect[1]], rotation);
      const marker = document.createElement("button");
      marker.type = "button";
      marker.className = "note-marker";
      marker.dataset.annotation = note.id;
      marker.style.left = percent(x0);
      marker.style.top = percent(y0);
      marker.style.backgroundColor = note.colour;
      marker.title = `${note.author}: ${note.text}`;
      marker.setAttribute("aria-label", `${labels.markerLabel} ${note.page}: ${note.text}`);
      marker.addEventListener("click", (event) => {
        event.stopPropagation();
        document.getElementById(`note-${note.id}`)?.scrollIntoView({ block: "nearest" });
        document.getElementById(`note-${note.id}`)?.focus();
      });
      layer.append(marker);
    }
    if (pendingHighlight) {
      for (const rect of selected.rects) tint(rect, chosenColour()).classList.add("pending");
    }
    if (pending) {
      const [x, y] = toScreen([place.x, place.y], rotation);
      const spot = document.createElement("span");
      spot.className = "note-marker pending";
      spot.style.left = percent(x);
      spot.style.top = percent(y);
      layer.append(spot);
    }
    pageDiv.append(layer);
  }

  function drawAll() {
    for (const pageDiv of container.querySelectorAll(".page[data-page-number]")) {
      drawPage(Number(pageDiv.dataset.pageNumber));
    }
  }

  function renderList() {
    list.replaceChildren();
    empty.hidden = notes.length > 0;
    const ordered = [...notes].sort((a, b) => a.page - b.page || a.created_at.localeCompare(b.created_at));
    for (const note of ordered) {
      const item = document.createElement("li");
      item.id = `note-${note.id}`;
      item.tabIndex = -1;
      item.dataset.annotation = note.id;
      const go = document.createElement("button");
      go.type = "button";
      go.className = "link";
      go.textContent = `${labels.pageLabel} ${note.page}`;
      go.addEventListener("click", () => { viewer.currentPageNumber = note.page; });
      item.append(go, " ");
      if (note.kind === "highlight") {
        const swatch = document.createElement("span");
        swatch.className = "highlight-swatch";
        swatch.style.backgroundColor = note.colour;
        swatch.title = labels.highlightLabel;
        const quote = document.createElement("q");
        quote.className = "note-quote";
        quote.dir = "auto";
        quote.textContent = note.quote || labels.highlightLabel;
        item.append(swatch, " ", quote, " ");
      }
      if (note.kind !== "highlight" || note.text) {
        const body = document.createElement("span");
        body.className = "note-text";
        body.dir = "auto";
        body.textContent = note.text;
        item.append(body, " ");
      }
      const meta = document.createElement("span");
      meta.className = "note-meta";
      meta.textContent = `${note.author} · ${note.visibility === "shared" ? labels.sharedLabel : labels.privateLabel}`;
      item.append(meta);
      const what = note.kind === "highlight" ? note.quote || note.text : note.text;
      if (note.own && note.kind === "highlight") {
        const edit = document.createElement("button");
        edit.type = "button";
        edit.className = "note-edit";
        edit.textContent = labels.editLabel;
        edit.setAttribute("aria-label", `${labels.editLabel}: ${what}`);
        edit.addEventListener("click", () => openHighlightForm({ note }));
        item.append(" ", edit);
      }
      if (note.own) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "note-delete";
        remove.textContent = labels.deleteLabel;
        remove.setAttribute("aria-label", `${labels.deleteLabel}: ${what}`);
        remove.addEventListener("click", () => deleteNote(note));
        item.append(" ", remove);
      }
      list.append(item);
    }
    panel.dataset.count = String(notes.length);
  }

  async function problemText(response) {
    try {
      const problem = await response.json();
      return problem.detail || problem.title || String(response.status);
    } catch {
      return String(response.status);
    }
  }

  async function load() {
    const response = await fetch(`${listUrl}?page_size=500`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      error.textContent = await problemText(response);
      return;
    }
    notes = (await response.json()).results;
    renderList();
    drawAll();
    panel.dataset.loaded = "true";
  }

  function openForm(page, x, y) {
    place = { page, x, y };
    form.hidden = false;
    error.textContent = "";
    where.textContent = `${labels.pageLabel} ${page}`;
    addButton.setAttribute("aria-pressed", "true");
    container.classList.add("placing-note");
    drawAll();
    text.focus();
  }

  function closeForm() {
    place = null;
    form.hidden = true;
    text.value = "";
    shared.checked = false;
    addButton.setAttribute("aria-pressed", "false");
    container.classList.remove("placing-note");
    drawAll();
  }

  async function deleteNote(note) {
    const response = await fetch(`${detailBase}${note.id}`, {
      method: "DELETE", credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
    });
    if (response.status !== 204) {
      error.textContent = await problemText(response);
      return;
    }
    notes = notes.filter((other) => other.id !== note.id);
    renderList();
    drawAll();
  }

  function chosenColour() {
    return highlightForm.querySelector("input[name='highlight-colour']:checked")?.value || "#ffd400";
  }

  function selectedText() {
    // The text selected in one page's text layer: its boxes as fractions of the unrotated page
    // (so they hold at any zoom), one a line, and the text itself; or why there is none.
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return { why: labels.selectFirst };
    const range = selection.getRangeAt(0);
    if (!container.contains(range.commonAncestorContainer)) return { why: labels.selectFirst };
    const pages = [...container.querySelectorAll(".page[data-page-number]")].filter(
      (pageDiv) => range.intersectsNode(pageDiv),
    );
    if (pages.length !== 1) return { why: pages.length ? labels.onePage : labels.selectFirst };
    const pageDiv = pages[0];
    const frame = pageDiv.getBoundingClientRect();
    const left = frame.left + pageDiv.clientLeft;
    const top = frame.top + pageDiv.clientTop;
    const width = pageDiv.clientWidth;
    const height = pageDiv.clientHeight;
    const clamp = (n) => Math.min(1, Math.max(0, n));
    const boxes = [];
    for (const rect of range.getClientRects()) {
      // Empty boxes (line ends), and boxes of whole blocks (pdf.js stretches its end-of-content
      // marker over the page while a selection is made), are not text.
      if (rect.width < 1 || rect.height < 1 || rect.height > height * 0.15) continue;
      boxes.push({
        left: clamp((rect.left - left) / width),
        right: clamp((rect.right - left) / width),
        top: clamp((rect.top - top) / height),
        bottom: clamp((rect.bottom - top) / height),
      });
    }
    const rotation = viewer.pagesRotation || 0;
    const rects = mergeLines(boxes).slice(0, MAX_BOXES).map((box) => {
      const [ax, ay] = toPage([box.left, box.top], rotation);
      const [bx, by] = toPage([box.right, box.bottom], rotation);
      return [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)];
    });
    const quote = selection.toString().replace(/\s+/g, " ").trim();
    if (!rects.length || !quote) return { why: labels.noTextLayer };
    return { page: Number(pageDiv.dataset.pageNumber), rects, quote };
  }

  function openHighlightForm({ note = null, selection = null }) {
    if (place) closeForm();
    editing = note;
    selected = selection;
    const source = note || selection;
    highlightForm.hidden = false;
    error.textContent = "";
    highlightWhere.textContent = `${labels.pageLabel} ${source.page}`;
    highlightQuote.textContent = note ? note.quote || "" : selection.quote;
    highlightQuote.hidden = !highlightQuote.textContent;
    highlightText.value = note ? note.text : "";
    highlightShared.checked = note ? note.visibility === "shared" : false;
    const colour = note ? note.colour : "#ffd400";
    for (const radio of highlightForm.querySelectorAll("input[name='highlight-colour']")) {
      radio.checked = radio.value === colour;
    }
    drawAll();
    highlightText.focus();
  }

  function closeHighlightForm() {
    editing = null;
    selected = null;
    highlightForm.hidden = true;
    highlightText.value = "";
    drawAll();
  }

  // Pressing the button must not take the selection away before it is read.
  highlightButton.addEventListener("mousedown", (event) => event.preventDefault());
  highlightButton.addEventListener("click", () => {
    const selection = selectedText();
    if (selection.why) {
      error.textContent = selection.why;
      return;
    }
    openHighlightForm({ selection });
    document.getSelection().removeAllRanges();
  });
  document.getElementById("highlight-cancel").addEventListener("click", closeHighlightForm);
  highlightForm.addEventListener("change", (event) => {
    if (event.target.name === "highlight-colour") drawAll();
  });
  highlightForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = {
      text: highlightText.value,
      colour: chosenColour(),
      visibility: highlightShared.checked ? "shared" : "private",
    };
    const changing = editing;
    const response = changing
      ? await send(`${detailBase}${changing.id}`, "PATCH", fields)
      : await send(listUrl, "POST", { ...fields, kind: "highlight", ...selected });
    if (response.status !== (changing ? 200 : 201)) {
      error.textContent = await problemText(response);
      return;
    }
    const saved = await response.json();
    notes = changing ? notes.map((other) => (other.id === saved.id ? saved : other)) : [...notes, saved];
    closeHighlightForm();
    renderList();
    drawAll();
    panel.dataset.saved = saved.id;
  });

  function send(url, method, body) {
    return fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
    });
  }

  addButton.addEventListener("click", () => {
    if (place) { closeForm(); return; }
    closeHighlightForm();
    // Until the reader clicks where it goes: near the top left corner of the page shown.
    openForm(viewer.currentPageNumber || 1, 0.05, 0.05);
  });
  document.getElementById("note-cancel").addEventListener("click", closeForm);
  container.addEventListener("click", (event) => {
    if (!place) return;
    const pageDiv = event.target.closest(".page[data-page-number]");
    if (!pageDiv) return;
    const box = pageDiv.getBoundingClientRect();
    const u = (event.clientX - box.left - pageDiv.clientLeft) / pageDiv.clientWidth;
    const v = (event.clientY - box.top - pageDiv.clientTop) / pageDiv.clientHeight;
    const clamp = (n) => Math.min(1, Math.max(0, n));
    const [x, y] = toPage([clamp(u), clamp(v)], viewer.pagesRotation || 0);
    openForm(Number(pageDiv.dataset.pageNumber), x, y);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!place) return;
    const body = {
      page: place.page,
      rect: [place.x, place.y, place.x, place.y],
      text: text.value,
      kind: "note",
      visibility: shared.checked ? "shared" : "private",
    };
    const response = await send(listUrl, "POST", body);
    if (response.status !== 201) {
      error.textContent = await problemText(response);
      return;
    }
    notes.push(await response.json());
    closeForm();
    renderList();
  });
  eventBus.on("pagerendered", ({ pageNumber }) => drawPage(pageNumber));
  eventBus.on("rotationchanging", () => setTimeout(drawAll, 0));
  load().catch((exc) => { error.textContent = String(exc); });
}
