// Notes on the pages of the version shown (`annotations`): loaded from the API, drawn over the
// pages as markers (a note at a point) or tinted boxes (a highlight), listed in the side panel;
// added at a point the reader clicks (or the top of the page shown, for the keyboard), saved with
// fetch and the CSRF token, deleted by their author. Stored apart from the file: the PDF is
// never changed. Places are fractions of the unrotated page, so they hold at any zoom.

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
  const labels = panel.dataset;
  let notes = [];
  let place = null; // {page, x, y} of the note being written

  function drawPage(number) {
    const pageDiv = container.querySelector(`.page[data-page-number="${number}"]`);
    if (!pageDiv) return;
    pageDiv.querySelector(".note-layer")?.remove();
    const onPage = notes.filter((note) => note.page === number);
    const pending = place && place.page === number;
    if (!onPage.length && !pending) return;
    const rotation = viewer.pagesRotation || 0;
    const layer = document.createElement("div");
    layer.className = "note-layer";
    for (const note of onPage) {
      const [x0, y0] = toScreen([note.rect[0], note.rect[1]], rotation);
      const [x1, y1] = toScreen([note.rect[2], note.rect[3]], rotation);
      if (note.kind === "highlight") {
        const box = document.createElement("div");
        box.className = "note-highlight";
        box.style.left = percent(Math.min(x0, x1));
        box.style.top = percent(Math.min(y0, y1));
        box.style.width = percent(Math.abs(x1 - x0));
        box.style.height = percent(Math.abs(y1 - y0));
        box.style.backgroundColor = note.colour;
        box.title = note.text;
        layer.append(box);
        continue;
      }
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
      const body = document.createElement("span");
      body.className = "note-text";
      body.dir = "auto";
      body.textContent = note.text || labels.highlightLabel;
      const meta = document.createElement("span");
      meta.className = "note-meta";
      meta.textContent = `${note.author} · ${note.visibility === "shared" ? labels.sharedLabel : labels.privateLabel}`;
      item.append(go, " ", body, " ", meta);
      if (note.own) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "note-delete";
        remove.textContent = labels.deleteLabel;
        remove.setAttribute("aria-label", `${labels.deleteLabel}: ${note.text}`);
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

  addButton.addEventListener("click", () => {
    if (place) { closeForm(); return; }
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
    const response = await fetch(listUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
    });
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
